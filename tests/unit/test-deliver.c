/*
 * test-deliver.c - deliver_message(), deliver_prepare() and
 * deliver_decide() on the real SQLite store in a temporary directory
 *
 * Re-injection goes to "sendmail:" programs written here: one that
 * accepts and counts what it was handed, and /bin/false for a next hop
 * that refuses. The store is read back through its own interface
 * (item_list), as `ndrguard list` does.
 */
#include "autoconfig.h"
#include "deliver.h"
#include "relays.h"
#include "store.h"

#include <check.h>
#include "check-main.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[64];
static char db[128];
static char sendmail[128];	/* "sendmail:DIR/sendmail" */
static char handed[128];	/* one line per message the hop took */

/*
 * A DSN for a message that went out of a relay we know (relay.ours.test)
 * or of one we do not (mx.elsewhere.test): the second is backscatter.
 */
#define BOUNCE(relay) \
	"From: MAILER-DAEMON@mx.remote.test\r\n" \
	"To: alice@example.test\r\n" \
	"Subject: Undelivered Mail Returned to Sender\r\n" \
	"MIME-Version: 1.0\r\n" \
	"Content-Type: multipart/report; report-type=delivery-status;" \
	" boundary=\"B\"\r\n" \
	"\r\n" \
	"--B\r\n" \
	"Content-Type: text/plain\r\n" \
	"\r\n" \
	"Your message could not be delivered.\r\n" \
	"--B\r\n" \
	"Content-Type: message/delivery-status\r\n" \
	"\r\n" \
	"Reporting-MTA: dns; mx.remote.test\r\n" \
	"\r\n" \
	"Final-Recipient: rfc822; nobody@remote.test\r\n" \
	"Action: failed\r\n" \
	"Status: 5.1.1\r\n" \
	"Diagnostic-Code: smtp; 550 5.1.1 user unknown\r\n" \
	"--B\r\n" \
	"Content-Type: message/rfc822\r\n" \
	"\r\n" \
	"Received: from " relay " (" relay " [192.0.2.7])\r\n" \
	"\tby mx.remote.test; Thu, 1 Jan 2026 00:00:00 +0000\r\n" \
	"From: alice@example.test\r\n" \
	"To: nobody@remote.test\r\n" \
	"Subject: hello\r\n" \
	"Message-ID: <m1@" relay ">\r\n" \
	"\r\n" \
	"hello\r\n" \
	"--B--\r\n"

static const char backscatter[] = BOUNCE("mx.elsewhere.test");
static const char legit[] = BOUNCE("relay.ours.test");
static const char plain[] =
	"From: bob@remote.test\r\nTo: alice@example.test\r\n"
	"Subject: lunch\r\n\r\nAt noon?\r\n";
static const char *const alice[] = { "alice@example.test" };

static void setup(void)
{
	FILE *fp;

	strcpy(dir, "/tmp/ndrguard-deliver-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(db, sizeof(db), "%s/q.db", dir);
	snprintf(handed, sizeof(handed), "%s/handed", dir);
	snprintf(sendmail, sizeof(sendmail), "sendmail:%s/sendmail", dir);
	ck_assert_ptr_nonnull(fp = fopen(sendmail + 9, "w"));
	fprintf(fp, "#!/bin/sh\ncat >/dev/null && echo \"$*\" >> %s\n", handed);
	fclose(fp);
	ck_assert_int_eq(chmod(sendmail + 9, 0755), 0);
}

static void teardown(void)
{
	char cmd[160];

	snprintf(cmd, sizeof(cmd), "chmod -R u+w %s; rm -rf %s", dir, dir);
	ck_assert_int_eq(system(cmd), 0);
}

/* env_init - threshold 3 in 10 minutes, re-injecting to our sendmail */
static void env_init(struct deliver_env *env, const struct relays *relays)
{
	memset(env, 0, sizeof(*env));
	env->database = db;
	env->busy_timeout_ms = 200;
	env->reinject = sendmail;
	env->storm.threshold = 3;
	env->storm.window = 600;
	env->storm.cooldown = 3600;
	env->relays = relays;
	env->classify_limit = 1024 * 1024;
}

/* request_for_alice - msg from the null sender to alice at now */
static struct deliver_request request_for_alice(const char *qid,
						const char *msg, long long now)
{
	struct deliver_request req = {
		.queue_id = qid, .sender = "", .recipients = alice,
		.recipient_count = 1, .msg = msg, .len = strlen(msg),
		.now = now,
	};

	return req;
}

/* deliver_one - one message for alice; returns deliver_message()'s value */
static int deliver_one(struct deliver_env *env, const char *qid,
		       const char *msg, long long now,
		       enum deliver_action *action_r)
{
	struct deliver_request req = request_for_alice(qid, msg, now);
	struct deliver_result res;
	const char *error = NULL;
	int ret = deliver_message(env, &req, &res, &error);

	if (action_r != NULL)
		*action_r = res.outcomes[0].action;
	deliver_result_free(&res);
	return ret;
}

/* count_cb - store_record_cb that counts the items listed */
static int count_cb(const struct store_record *r, void *context)
{
	(void)r;
	(*(int *)context)++;
	return 0;
}

/* held_count - the held items, read back through the store interface */
static int held_count(void)
{
	struct store_options opts = { .busy_timeout_ms = 200, .create = 1 };
	struct store_filter filter = { .state = "held" };
	struct store *st = NULL;
	const char *err = NULL;
	int n = 0;

	ck_assert_msg(store_open(db, &opts, &st, &err) == 0, "%s", err);
	ck_assert_msg(store_item_list(st, &filter, count_cb, &n, &err) == 0,
		      "%s", err);
	store_close(&st);
	return n;
}

/* handed_count - how many messages the next hop accepted */
static int handed_count(void)
{
	FILE *fp = fopen(handed, "r");
	int n = 0, c;

	if (fp == NULL)
		return 0;
	while ((c = getc(fp)) != EOF)
		n += c == '\n';
	fclose(fp);
	return n;
}

START_TEST(not_a_bounce_is_passed_on_without_the_store)
{
	struct deliver_env env;
	enum deliver_action a;
	struct stat sb;

	env_init(&env, NULL);
	ck_assert_int_eq(deliver_one(&env, "Q1", plain, 1000, &a), 0);
	ck_assert_int_eq(a, DELIVER_PASS);
	ck_assert_int_eq(handed_count(), 1);
	ck_assert_ptr_null(env.store);
	ck_assert_int_ne(stat(db, &sb), 0);
}
END_TEST

START_TEST(refused_pass_on_is_a_tempfail)
{
	struct deliver_env env;

	env_init(&env, NULL);
	env.reinject = "sendmail:/bin/false";
	ck_assert_int_eq(deliver_one(&env, "Q1", plain, 1000, NULL), -1);
	env.reinject = "smtp:127.0.0.1:1";	/* nothing listens there */
	ck_assert_int_eq(deliver_one(&env, "Q2", backscatter, 1000, NULL),
			 -1);
	store_close(&env.store);
}
END_TEST

START_TEST(storm_threshold_crossed_holds)
{
	struct deliver_env env;
	enum deliver_action a[5];
	char qid[8];

	env_init(&env, NULL);
	for (int i = 0; i < 5; i++) {
		snprintf(qid, sizeof(qid), "Q%d", i);
		ck_assert_int_eq(deliver_one(&env, qid, backscatter,
					     1000 + i, &a[i]), 0);
	}
	store_close(&env.store);
	/* two pass; the third reaches the threshold and is the first held */
	ck_assert_int_eq(a[0], DELIVER_PASS);
	ck_assert_int_eq(a[1], DELIVER_PASS);
	ck_assert_int_eq(a[2], DELIVER_HOLD);
	ck_assert_int_eq(a[4], DELIVER_HOLD);
	ck_assert_int_eq(handed_count(), 2);
	ck_assert_int_eq(held_count(), 3);
}
END_TEST

START_TEST(legit_bounce_is_never_held)
{
	const char *err = NULL;
	struct relays *relays = relays_create("relay.ours.test", NULL, &err);
	struct deliver_env env;
	enum deliver_action a;
	char qid[8];

	ck_assert_msg(relays != NULL, "%s", err);
	env_init(&env, relays);
	for (int i = 0; i < 10; i++) {
		snprintf(qid, sizeof(qid), "Q%d", i);
		ck_assert_int_eq(deliver_one(&env, qid, legit, 1000 + i, &a),
				 0);
		ck_assert_int_eq(a, DELIVER_PASS);
	}
	store_close(&env.store);
	relays_destroy(&relays);
	ck_assert_int_eq(handed_count(), 10);
	ck_assert_int_eq(held_count(), 0);
}
END_TEST

START_TEST(retry_of_a_queue_id_is_stored_once)
{
	struct deliver_env env;
	struct deliver_request req =
		request_for_alice("RETRY", backscatter, 1010);
	struct deliver_result res;
	const char *error = NULL;

	env_init(&env, NULL);
	for (int i = 0; i < 3; i++) {
		char qid[8];

		snprintf(qid, sizeof(qid), "Q%d", i);
		ck_assert_int_eq(deliver_one(&env, qid, backscatter, 1000 + i,
					     NULL), 0);
	}
	ck_assert_int_eq(deliver_message(&env, &req, &res, &error), 0);
	ck_assert_int_eq(res.outcomes[0].action, DELIVER_HOLD);
	ck_assert_int_eq(res.outcomes[0].duplicate, 0);
	deliver_result_free(&res);
	/* Postfix retries the same queue id: found, not stored again */
	ck_assert_int_eq(deliver_message(&env, &req, &res, &error), 0);
	ck_assert_int_eq(res.outcomes[0].action, DELIVER_HOLD);
	ck_assert_int_eq(res.outcomes[0].duplicate, 1);
	deliver_result_free(&res);
	store_close(&env.store);
	ck_assert_int_eq(held_count(), 2);
}
END_TEST

START_TEST(too_big_is_passed_on_unexamined)
{
	struct deliver_env env;
	struct deliver_request req =
		request_for_alice("BIG", backscatter, 1000);
	struct deliver_result res;

	env_init(&env, NULL);
	env.classify_limit = 100;
	env.storm.threshold = 1;	/* examined, it would be held */
	ck_assert_int_eq(deliver_prepare(&env, &req, &res), 0);
	ck_assert_ptr_null(res.classified);
	ck_assert_int_eq(res.outcomes[0].action, DELIVER_PASS);
	deliver_result_free(&res);
	ck_assert_int_eq(deliver_one(&env, "BIG", backscatter, 1000, NULL), 0);
	ck_assert_ptr_null(env.store);
	ck_assert_int_eq(handed_count(), 1);
}
END_TEST

/* bounces to a digest's reply address: never classified, metered, held */
START_TEST(reply_address_is_passed_on_unclassified)
{
	static const char *const rcpt[] = {
		"ndrguard-reply+0123456789ab."
		"abcdefghijklmnopqrstuvwxyz234567@reply.example.test" };
	struct deliver_env env;
	struct deliver_request req =
		request_for_alice("R1", backscatter, 1000);
	struct deliver_result res;

	env_init(&env, NULL);
	env.reply_address = "ndrguard-reply@reply.example.test";
	env.storm.threshold = 1;	/* metered, it would be held */
	req.recipients = rcpt;
	ck_assert_int_eq(deliver_prepare(&env, &req, &res), 0);
	ck_assert_ptr_null(res.classified);
	ck_assert_int_eq(res.outcomes[0].reply, 1);
	ck_assert_int_eq(res.outcomes[0].action, DELIVER_PASS);
	deliver_result_free(&res);
	ck_assert_int_eq(deliver_message(&env, &req, &res, &(const char *){0}),
			 0);
	ck_assert_int_eq(res.outcomes[0].metered, 0);
	deliver_result_free(&res);
	ck_assert_ptr_null(env.store);
	ck_assert_int_eq(handed_count(), 1);
}
END_TEST

START_TEST(store_failure_is_a_tempfail)
{
	struct deliver_env env;
	char path[160];
	FILE *fp;

	env_init(&env, NULL);
	/* a database below a plain file: it cannot be opened */
	snprintf(path, sizeof(path), "%s/plainfile", dir);
	ck_assert_ptr_nonnull(fp = fopen(path, "w"));
	fclose(fp);
	strcat(path, "/q.db");
	env.database = path;
	ck_assert_int_eq(deliver_one(&env, "Q1", backscatter, 1000, NULL), -1);
	/* nothing was passed on either: Postfix keeps the message */
	ck_assert_int_eq(handed_count(), 0);
}
END_TEST

START_TEST(decide_holds_inside_the_callers_transaction)
{
	struct store_options opts = { .busy_timeout_ms = 200, .create = 1 };
	struct deliver_env env;
	struct deliver_request req =
		request_for_alice("T1", backscatter, 1000);
	struct deliver_result res;
	struct store *st = NULL;
	const char *err = NULL;

	env_init(&env, NULL);
	env.storm.threshold = 1;
	ck_assert_int_eq(deliver_prepare(&env, &req, &res), 1);
	ck_assert_msg(store_open(db, &opts, &st, &err) == 0, "%s", err);
	ck_assert_int_eq(store_begin(st, &err), 0);
	ck_assert_msg(deliver_decide(&env, st, &req, &res, &err) == 0, "%s",
		      err);
	ck_assert_int_eq(res.outcomes[0].action, DELIVER_HOLD);
	/* rolled back, the hold never happened */
	store_rollback(st);
	ck_assert_int_eq(held_count(), 0);
	deliver_undecide(&res);
	ck_assert_int_eq(res.outcomes[0].action, DELIVER_PASS);
	ck_assert_int_eq(store_begin(st, &err), 0);
	ck_assert_int_eq(deliver_decide(&env, st, &req, &res, &err), 0);
	ck_assert_int_eq(store_commit(st, &err), 0);
	ck_assert_int_eq(held_count(), 1);
	ck_assert_int_eq(deliver_pass_on(&env, &req, &res, &err), 0);
	ck_assert_int_eq(handed_count(), 0);
	deliver_result_free(&res);
	store_close(&st);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("deliver");
	TCase *tc = tcase_create("deliver");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, not_a_bounce_is_passed_on_without_the_store);
	tcase_add_test(tc, refused_pass_on_is_a_tempfail);
	tcase_add_test(tc, storm_threshold_crossed_holds);
	tcase_add_test(tc, legit_bounce_is_never_held);
	tcase_add_test(tc, retry_of_a_queue_id_is_stored_once);
	tcase_add_test(tc, too_big_is_passed_on_unexamined);
	tcase_add_test(tc, reply_address_is_passed_on_unclassified);
	tcase_add_test(tc, store_failure_is_a_tempfail);
	tcase_add_test(tc, decide_holds_inside_the_callers_transaction);
	suite_add_tcase(s, tc);
	return check_main_run(s);
}
