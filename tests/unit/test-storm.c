/*
 * test-storm.c - storm start, hold and end decisions with a test clock
 *
 * The meter is pure: these tests feed it arrival counts the way the
 * store would, from a list of arrival times kept here.
 */
#include "autoconfig.h"
#include "storm.h"

#include <check.h>
#include "check-main.h"
#include <string.h>

#define MAXARR 10000

struct sim {
	struct storm_params p;
	long long arrivals[MAXARR];
	int n;
	int open;
	long long last_seen;
	int storms, ended;
	long long ended_at;
};

/* sim_arrive - one backscatter arrival at time t; returns 1 if held */
static int sim_arrive(struct sim *s, long long t)
{
	struct storm_input in = { .now = t, .open = s->open,
				  .last_seen = s->last_seen };
	struct storm_decision d;
	unsigned int calm = storm_calm_level(&s->p);
	int kept = 0;

	s->arrivals[s->n++] = t;
	for (int i = 0; i < s->n; i++) {
		if (s->arrivals[i] > t - (long long)s->p.window)
			in.window_count++;
		if (s->arrivals[i] >= storm_keep_since(&s->p, t))
			kept++;
	}
	/* calm-th most recent before this one, among those kept */
	if (kept > (int)calm)
		in.calm_anchor = s->arrivals[s->n - 1 - (int)calm];
	storm_decide(&s->p, &in, &d);
	if (d.end_open) {
		s->open = 0;
		s->ended++;
		s->ended_at = d.ended_at;
	}
	if (d.start) {
		s->open = 1;
		s->storms++;
	}
	if (d.hold)
		s->last_seen = t;
	ck_assert(!d.start || d.hold);
	return d.hold;
}

static void sim_init(struct sim *s, unsigned th, unsigned win, unsigned cool)
{
	memset(s, 0, sizeof(*s));
	s->p.threshold = th;
	s->p.window = win;
	s->p.cooldown = cool;
}

START_TEST(threshold_th_message_starts_the_storm)
{
	static struct sim s;
	int held = 0;

	sim_init(&s, 20, 600, 3600);
	for (int i = 0; i < 60; i++)
		held += sim_arrive(&s, 1000 + i);
	/* 19 pass, the 20th reaches the threshold and is the first held */
	ck_assert_int_eq(held, 41);
	ck_assert_int_eq(s.storms, 1);
}
END_TEST

START_TEST(slow_trickle_is_no_storm)
{
	static struct sim s;
	int held = 0;

	sim_init(&s, 20, 600, 3600);
	/* one every 31 s: at most 19 in any 600 s window */
	for (int i = 0; i < 500; i++)
		held += sim_arrive(&s, 1000 + i * 32);
	ck_assert_int_eq(held, 0);
	ck_assert_int_eq(s.storms, 0);
}
END_TEST

START_TEST(storm_does_not_flap_in_waves)
{
	static struct sim s;
	int held = 0;

	sim_init(&s, 20, 600, 3600);
	for (int i = 0; i < 20; i++)
		held += sim_arrive(&s, 1000 + i);
	ck_assert_int_eq(held, 1);
	/* a lull of 30 minutes, then a small wave: still the same storm */
	for (int i = 0; i < 5; i++)
		held += sim_arrive(&s, 1000 + 1800 + i);
	ck_assert_int_eq(held, 6);
	ck_assert_int_eq(s.storms, 1);
	ck_assert_int_eq(s.ended, 0);
}
END_TEST

START_TEST(storm_ends_after_cooldown_of_calm)
{
	static struct sim s;

	sim_init(&s, 20, 600, 3600);
	for (int i = 0; i < 30; i++)
		sim_arrive(&s, 1000 + i);
	/* 30 arrivals ending at t=1029; the calm level is 10: the mailbox
	   is calm once the 10th most recent (t=1020) leaves the window */
	long long calm_at = 1020 + 600;
	ck_assert_int_eq(sim_arrive(&s, calm_at + 3600 - 1), 1);
	ck_assert_int_eq(s.ended, 0);
	/* that arrival itself was the newest: recompute from now on */
	sim_init(&s, 20, 600, 3600);
	for (int i = 0; i < 30; i++)
		sim_arrive(&s, 1000 + i);
	ck_assert_int_eq(sim_arrive(&s, calm_at + 3600 + 1), 0);
	ck_assert_int_eq(s.ended, 1);
	ck_assert_int_eq(s.ended_at, calm_at + 3600);
	ck_assert_int_eq(s.open, 0);
}
END_TEST

START_TEST(storm_ends_after_long_silence)
{
	static struct sim s;

	sim_init(&s, 20, 600, 3600);
	for (int i = 0; i < 25; i++)
		sim_arrive(&s, 1000 + i);
	/* nothing kept: a day later the storm is over */
	ck_assert_int_eq(sim_arrive(&s, 1000 + 86400), 0);
	ck_assert_int_eq(s.ended, 1);
	ck_assert_int_eq(s.ended_at, 1024 + 3600);
}
END_TEST

START_TEST(new_storm_after_end)
{
	static struct sim s;
	int held = 0;

	sim_init(&s, 3, 60, 120);
	for (int i = 0; i < 3; i++)
		held += sim_arrive(&s, 100 + i);
	ck_assert_int_eq(held, 1);
	for (int i = 0; i < 3; i++)
		held += sim_arrive(&s, 10000 + i);
	ck_assert_int_eq(s.ended, 1);
	ck_assert_int_eq(s.storms, 2);
	ck_assert_int_eq(held, 2);
}
END_TEST

START_TEST(threshold_one_holds_everything)
{
	static struct sim s;

	sim_init(&s, 1, 60, 0);
	ck_assert_int_eq(sim_arrive(&s, 5), 1);
	ck_assert_int_eq(sim_arrive(&s, 500), 1);
	ck_assert_int_eq(storm_calm_level(&s.p), 1);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("storm");
	TCase *tc = tcase_create("storm");

	tcase_add_test(tc, threshold_th_message_starts_the_storm);
	tcase_add_test(tc, slow_trickle_is_no_storm);
	tcase_add_test(tc, storm_does_not_flap_in_waves);
	tcase_add_test(tc, storm_ends_after_cooldown_of_calm);
	tcase_add_test(tc, storm_ends_after_long_silence);
	tcase_add_test(tc, new_storm_after_end);
	tcase_add_test(tc, threshold_one_holds_everything);
	suite_add_tcase(s, tc);
	return check_main_run(s);
}
