/*
 * verdict-bench.c - the inbound verdict with and without the outbound index
 *
 * Runs the deliver path's store step for one bounce, over and over, two
 * ways in alternating rounds: "meter" is what it was before the index
 * (one transaction: the storm meter, commit), "index" is deliver_decide()
 * (the index lookup, then the same meter, commit). The index holds
 * 10,000 records and the bounce's original is not among them, so the
 * meter runs in both (the costlier case: a hit skips the meter). Each
 * message goes to a mailbox of its own, so none is held either way. Both
 * first classify the message (deliver_prepare()), as the path does.
 *
 * usage: verdict-bench DB MESSAGE COUNT ROUNDS
 */
#include "autoconfig.h"
#include "deliver.h"
#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* bench_fill - 10,000 outbound records */
static void bench_fill(struct store *st)
{
	const char *err;
	char id[64];

	if (store_begin(st, &err) < 0)
		exit(1);
	for (int i = 0; i < 10000; i++) {
		snprintf(id, sizeof(id), "m%d.bench@laptop.local", i);
		if (store_outbound_add(st, id, "bob@example.test", 1000 + i,
				       &err) < 0)
			exit(1);
	}
	if (store_commit(st, &err) < 0)
		exit(1);
}

/* bench_one - one message the old way (0) or through deliver_decide (1) */
static void bench_one(struct deliver_env *env, struct deliver_request *req,
		      int with_index)
{
	struct deliver_result res;
	struct store_meter m;
	const char *err;

	deliver_prepare(env, req, &res);
	if (store_begin(env->store, &err) < 0)
		exit(1);
	if (with_index) {
		if (deliver_decide(env, env->store, req, &res, &err) < 0)
			exit(1);
	} else if (store_meter_arrival(env->store, req->recipients[0],
				       req->queue_id, req->now, &env->storm,
				       &m, &err) < 0) {
		exit(1);
	}
	if (store_commit(env->store, &err) < 0)
		exit(1);
	deliver_result_free(&res);
}

int main(int argc, char **argv)
{
	struct store_options opts = { .busy_timeout_ms = 5000, .create = 1 };
	struct deliver_env env = { .storm = { 20, 600, 3600 },
				   .classify_limit = 50 << 20 };
	char mailbox[64];
	const char *rcpt[1] = { mailbox }, *err;
	static char msg[1 << 20];
	FILE *f;

	if (argc != 5 || (f = fopen(argv[2], "r")) == NULL)
		return 64;
	size_t len = fread(msg, 1, sizeof(msg) - 1, f);
	fclose(f);
	int count = atoi(argv[3]), rounds = atoi(argv[4]);
	if (store_open(argv[1], &opts, &env.store, &err) < 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	bench_fill(env.store);
	struct deliver_request req = { .queue_id = NULL, .sender = "",
		.recipients = rcpt, .recipient_count = 1, .msg = msg,
		.len = len, .now = 2000000 };
	for (int r = 0; r < rounds; r++) {
		for (int way = 0; way < 2; way++) {
			double t0 = bench_now();
			for (int i = 0; i < count; i++) {
				req.now++;
				/* a mailbox each, as in no storm: nothing held */
				snprintf(mailbox, sizeof(mailbox),
					 "u%d@example.test", i);
				bench_one(&env, &req, way);
			}
			double us = (bench_now() - t0) * 1e6 / count;
			printf("round %d %s %.1f us/msg\n", r + 1,
			       way ? "index" : "meter", us);
		}
	}
	store_close(&env.store);
	return 0;
}
