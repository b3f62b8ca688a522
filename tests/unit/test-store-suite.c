/*
 * test-store-suite.c - the store, through store.h, on every backend
 *
 * With NDRGUARD_TEST_STORE unset the suite runs on a SQLite file of its
 * own; tests/test-store-pgsql.sh runs the same binary again with it set
 * to a PostgreSQL URI of a private server (tests/pg-fixture.sh). The
 * "sqlite" case checks what only a file has (WAL, file locks, modes).
 */
#include "autoconfig.h"
#include "deliver.h"
#include "store.h"
#include "store-private.h"
#include "storm.h"
#include "migrations.h"

#include <check.h>
#include "check-main.h"
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char dir[64];
static char path[128];
/* the store under test: path (SQLite), or NDRGUARD_TEST_STORE */
static const char *location = path;
static int on_sqlite = 1;

/* wipe_server - an empty database for each test on a server: a fresh
   schema, which store_open() then migrates */
static void wipe_server(void)
{
	char cmd[1200];

	snprintf(cmd, sizeof(cmd), "psql -q -X -v ON_ERROR_STOP=1 '%s' -c"
		 " 'DROP SCHEMA public CASCADE; CREATE SCHEMA public;'"
		 " >/dev/null 2>&1", location);
	ck_assert_int_eq(system(cmd), 0);
}

static void setup(void)
{
	strcpy(dir, "/tmp/ndrguard-store-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/q.db", dir);
	if (!on_sqlite)
		wipe_server();
}

static void teardown(void)
{
	char cmd[160];

	snprintf(cmd, sizeof(cmd), "chmod -R u+w %s; rm -rf %s", dir, dir);
	ck_assert_int_eq(system(cmd), 0);
}

static struct store *open_store(void)
{
	struct store_options opts = { .busy_timeout_ms = 200, .create = 1 };
	struct store *st = NULL;
	const char *err = NULL;

	ck_assert_msg(store_open(location, &opts, &st, &err) == 0, "%s", err);
	return st;
}

/* query_server - one number from the server, read with psql */
static long long query_server(const char *sql)
{
	char cmd[2400];
	long long v = -1;
	FILE *f;

	snprintf(cmd, sizeof(cmd), "psql -X -tA '%s' -c \"%s\"", location,
		 sql);
	f = popen(cmd, "r");
	ck_assert_ptr_nonnull(f);
	if (fscanf(f, "%lld", &v) != 1)
		v = -1;
	pclose(f);
	return v;
}

/* query_int - one number from the store's database, read beside it */
static long long query_int(const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *stmt;
	long long v = -1;

	if (!on_sqlite)
		return query_server(sql);
	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &stmt, NULL), SQLITE_OK);
	if (sqlite3_step(stmt) == SQLITE_ROW)
		v = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	sqlite3_close(db);
	return v;
}

START_TEST(migrate_empty_database)
{
	struct store *st = open_store();

	store_close(&st);
	ck_assert_ptr_null(st);
	ck_assert_int_eq(query_int("PRAGMA user_version"),
			 store_sqlite_schema_version());
	ck_assert_int_ge(store_sqlite_schema_version(), 1);
	ck_assert_int_eq(query_int("SELECT count(*) FROM sqlite_master WHERE name='quarantine'"), 1);
	/* opening again is a no-op */
	st = open_store();
	store_close(&st);
	ck_assert_int_eq(query_int("SELECT count(*) FROM pragma_journal_mode WHERE journal_mode = 'wal'"), 1);
}
END_TEST

/* every older schema version, built from the migrations up to it, is
   brought to the newest by opening the store */
START_TEST(migrate_every_older_version)
{
	int target = _i;
	sqlite3 *db;
	char pragma[64];

	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	for (const struct migration *m = migrations; m->version; m++) {
		if (m->version > target)
			break;
		ck_assert_int_eq(sqlite3_exec(db, m->sql, NULL, NULL, NULL), SQLITE_OK);
	}
	snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d", target);
	ck_assert_int_eq(sqlite3_exec(db, pragma, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);

	struct store *st = open_store();
	store_close(&st);
	ck_assert_int_eq(query_int("PRAGMA user_version"),
			 store_sqlite_schema_version());
}
END_TEST

/* hold one item for alice in st, its id */
static long long hold_one(struct store *st, const char *queue_id)
{
	static const char raw[] = "Message-ID: <m@x>\n\nbody\n";
	struct store_item item = {
		.queue_id = queue_id, .sender = "", .recipient = "alice@example.com",
		.arrived = 1000, .kind = "ndr_failed", .verdict = "legit",
		.raw = raw, .size = sizeof(raw) - 1,
	};
	const char *err = NULL;
	long long id;
	int dup;

	ck_assert(store_begin(st, &err) == 0);
	ck_assert_msg(store_item_add(st, &item, &id, &dup, &err) == 0, "%s", err);
	ck_assert(store_commit(st, &err) == 0);
	return id;
}

/* take - claim an item in its own transaction, as release.c does */
static int take(struct store *st, long long id, const char *owner,
		const char *prev, int force)
{
	struct store_claim c = { .quarantine_id = id, .claimed = 2000,
				 .lease = 2900 };
	const char *err = NULL;
	int taken = -1;

	snprintf(c.owner, sizeof(c.owner), "%s", owner);
	snprintf(c.actor, sizeof(c.actor), "cli:%s", owner);
	ck_assert(store_begin(st, &err) == 0);
	ck_assert_msg(store_claim_take(st, &c, prev, force, &taken, &err) == 0,
		      "%s", err);
	ck_assert(store_commit(st, &err) == 0);
	return taken;
}

static char *state_of(struct store *st, long long id)
{
	static char state[16];
	struct store_record *rec = NULL;
	const char *err = NULL;

	ck_assert(store_item_get(st, id, 0, &rec, &err) == 0);
	ck_assert_ptr_nonnull(rec);
	snprintf(state, sizeof(state), "%s", rec->state);
	store_record_free(&rec);
	return state;
}

/* a claim is taken once; only a claim never handed on is taken over
   without force; the handed mark and the answer go to the owner only */
START_TEST(release_claim_is_taken_once)
{
	struct store *st = open_store();
	long long id = hold_one(st, "C1");
	struct store_claim c;
	const char *err = NULL;
	int changed;

	ck_assert_int_eq(take(st, id, "a", NULL, 0), 1);
	ck_assert_str_eq(state_of(st, id), "releasing");
	ck_assert_int_eq(take(st, id, "b", NULL, 0), 0);
	ck_assert_int_eq(take(st, id, "b", "nobody", 0), 0);
	ck_assert_int_eq(take(st, id, "b", "a", 0), 1);	/* stale, not handed */
	ck_assert(store_claim_update(st, id, "a", 2100, NULL, &changed, &err) == 0);
	ck_assert_int_eq(changed, 0);			/* a lost it */
	ck_assert(store_claim_update(st, id, "b", 2100, NULL, &changed, &err) == 0);
	ck_assert_int_eq(changed, 1);
	ck_assert_int_eq(take(st, id, "c", "b", 0), 0);	/* handed: in doubt */
	ck_assert_int_eq(take(st, id, "c", "b", 1), 1);	/* --resend */
	ck_assert(store_claim_get(st, id, &c, &err) == 0);
	ck_assert_str_eq(c.owner, "c");
	ck_assert_int_eq(c.handed, 0);
	ck_assert(store_claim_drop(st, id, "b", &changed, &err) == 0);
	ck_assert_int_eq(changed, 0);
	ck_assert(store_claim_drop(st, id, "c", &changed, &err) == 0);
	ck_assert_int_eq(changed, 1);
	ck_assert_str_eq(state_of(st, id), "held");
	ck_assert(store_claim_get(st, id, &c, &err) == 0);
	ck_assert_int_eq(c.quarantine_id, 0);
	/* claimed again after a drop; an answer makes the claim final */
	ck_assert_int_eq(take(st, id, "d", NULL, 0), 1);
	ck_assert(store_claim_update(st, id, "d", 2200, "250 2.0.0 Ok", &changed,
				     &err) == 0);
	ck_assert_int_eq(take(st, id, "e", "d", 1), 0);
	ck_assert(store_claim_drop(st, id, "d", &changed, &err) == 0);
	ck_assert_int_eq(changed, 0);
	ck_assert(store_claim_get(st, id, &c, &err) == 0);
	ck_assert_str_eq(c.reply, "250 2.0.0 Ok");
	/* only held items can be claimed, and a releasing one is neither
	   deleted nor expired */
	ck_assert(store_begin(st, &err) == 0);
	ck_assert(store_item_set_state(st, id, "held", "deleted", "x", 2300,
				       &changed, &err) == 0);
	ck_assert_int_eq(changed, 0);
	unsigned int n;
	ck_assert(store_item_expire(st, 999999, 10, 2300, &n, &err) == 0);
	ck_assert_int_eq(n, 0);
	ck_assert(store_commit(st, &err) == 0);
	store_close(&st);
}
END_TEST

/* the mails about requests: cap per mailbox within the window */
START_TEST(request_notices_are_capped)
{
	struct store *st = open_store();
	const char *err = NULL;
	int allowed;

	for (int i = 0; i < 3; i++) {
		ck_assert(store_notice_take(st, "dave@x", 1000, 3, 5, 1000 + i,
					    &allowed, &err) == 0);
		ck_assert_int_eq(allowed, 1);
	}
	ck_assert(store_notice_take(st, "DAVE@x", 1000, 3, 5, 1010, &allowed,
				    &err) == 0);
	ck_assert_int_eq(allowed, 0);
	ck_assert(store_notice_take(st, "eve@x", 1000, 3, 5, 1010, &allowed,
				    &err) == 0);
	ck_assert_int_eq(allowed, 1);
	/* an hour on, the old mails no longer count */
	ck_assert(store_notice_take(st, "dave@x", 1003, 3, 5, 4603, &allowed,
				    &err) == 0);
	ck_assert_int_eq(allowed, 1);
	store_close(&st);
}
END_TEST

/* migration 7 rebuilds the quarantine: held items, their ids and the
   rows that refer to them survive */
START_TEST(migration_keeps_items_and_references)
{
	sqlite3 *db;

	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	for (const struct migration *m = migrations; m->version < 7; m++)
		ck_assert_int_eq(sqlite3_exec(db, m->sql, NULL, NULL, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db, "PRAGMA user_version = 6;"
		"INSERT INTO quarantine (id, sender, recipient, arrived, kind,"
		" verdict, state, state_changed, size, raw) VALUES"
		" (41, '', 'a@x', 1, 'ndr_failed', 'legit', 'held', 1, 3, 'abc'),"
		" (42, '', 'a@x', 1, 'ndr_failed', 'legit', 'released', 2, 3, 'def');"
		"INSERT INTO digest (id, mailbox, message_id, created, item_count)"
		" VALUES (1, 'a@x', '<d@x>', 1, 1);"
		"INSERT INTO digest_item VALUES (41, 1);"
		"INSERT INTO release_request (quarantine_id, requested, requested_by)"
		" VALUES (41, 1, 'web:x');", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);

	struct store *st = open_store();
	ck_assert_str_eq(state_of(st, 41), "held");
	ck_assert_str_eq(state_of(st, 42), "released");
	store_close(&st);
	ck_assert_int_eq(query_int("SELECT count(*) FROM digest_item"
				   " JOIN quarantine ON id = quarantine_id"), 1);
	ck_assert_int_eq(query_int("SELECT count(*) FROM pragma_foreign_key_check"), 0);
	ck_assert_int_eq(query_int("SELECT count(*) FROM sqlite_master WHERE"
				   " tbl_name = 'quarantine' AND type = 'index'"), 3);
}
END_TEST

START_TEST(newer_schema_is_refused)
{
	struct store_options opts = { .busy_timeout_ms = 200, .create = 1 };
	struct store *st = open_store();
	const char *err = NULL;
	sqlite3 *db;

	store_close(&st);
	if (on_sqlite) {
		ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
		sqlite3_exec(db, "PRAGMA user_version = 9999", NULL, NULL,
			     NULL);
		sqlite3_close(db);
	} else {
		ck_assert_int_eq(query_server("UPDATE schema_version SET"
					      " version = 9999 RETURNING 1"),
				 1);
	}
	ck_assert_int_eq(store_open(location, &opts, &st, &err), -1);
	ck_assert(strstr(err, "newer") != NULL);
}
END_TEST

START_TEST(arrivals_and_storms)
{
	struct store *st = open_store();
	const char *err = NULL;
	unsigned int count;
	long long when, id;
	struct store_storm storm;

	ck_assert(store_begin(st, &err) == 0);
	for (int i = 0; i < 5; i++) {
		char qid[16];
		snprintf(qid, sizeof(qid), "Q%d", i);
		ck_assert(st->v->arrival_add(st, "a@x", qid, 100 + i, &err) == 0);
	}
	/* a retry of Q4 is not counted twice */
	ck_assert(st->v->arrival_add(st, "a@x", "Q4", 200, &err) == 0);
	ck_assert(st->v->arrival_add(st, "b@x", NULL, 100, &err) == 0);
	ck_assert(st->v->arrival_count(st, "a@x", 101, 100, &count, &err) == 0);
	ck_assert_uint_eq(count, 3);
	/* counted only as far as asked */
	ck_assert(st->v->arrival_count(st, "a@x", 0, 2, &count, &err) == 0);
	ck_assert_uint_eq(count, 2);
	ck_assert(st->v->arrival_nth_recent(st, "a@x", 2, &when, &err) == 0);
	ck_assert_int_eq(when, 103);
	ck_assert(st->v->arrival_nth_recent(st, "a@x", 9, &when, &err) == 0);
	ck_assert_int_eq(when, 0);
	ck_assert(st->v->arrival_prune(st, "a@x", 103, 100, &err) == 0);
	ck_assert(st->v->arrival_count(st, "a@x", 0, 100, &count, &err) == 0);
	ck_assert_uint_eq(count, 2);
	/* keep only the newest one: 104 stays */
	ck_assert(st->v->arrival_prune(st, "a@x", 0, 1, &err) == 0);
	ck_assert(st->v->arrival_count(st, "a@x", 0, 100, &count, &err) == 0);
	ck_assert_uint_eq(count, 1);
	ck_assert(st->v->arrival_nth_recent(st, "a@x", 1, &when, &err) == 0);
	ck_assert_int_eq(when, 104);
	/* other mailboxes untouched */
	ck_assert(st->v->arrival_count(st, "b@x", 0, 100, &count, &err) == 0);
	ck_assert_uint_eq(count, 1);

	ck_assert(st->v->storm_get_open(st, "a@x", &storm, &err) == 0);
	ck_assert_int_eq(storm.id, 0);
	ck_assert(st->v->storm_start(st, "a@x", 104, &id, &err) == 0);
	ck_assert(st->v->storm_hit(st, id, 105, &err) == 0);
	ck_assert(st->v->storm_get_open(st, "a@x", &storm, &err) == 0);
	ck_assert_int_eq(storm.id, id);
	ck_assert_int_eq(storm.count, 1);
	ck_assert_int_eq(storm.last_seen, 105);
	ck_assert(st->v->storm_end(st, id, 900, &err) == 0);
	ck_assert(st->v->storm_get_open(st, "a@x", &storm, &err) == 0);
	ck_assert_int_eq(storm.id, 0);
	ck_assert(store_commit(st, &err) == 0);
	store_close(&st);
	ck_assert_int_eq(query_int("SELECT ended FROM storm"), 900);
}
END_TEST

static const char meter_ndr[] =
	"From: MAILER-DAEMON@mx.example.org (Mail Delivery System)\n"
	"To: a@x.test\n"
	"Subject: Undelivered Mail Returned to Sender\n"
	"Content-Type: multipart/report; report-type=delivery-status;\n"
	"\tboundary=\"B1\"\n\n"
	"--B1\nContent-Type: text/plain\n\n"
	"<nobody@example.net>: host mx.example.net said: 550 5.1.1 unknown\n\n"
	"--B1\nContent-Type: message/delivery-status\n\n"
	"Reporting-MTA: dns; mx.example.org\n\n"
	"Final-Recipient: rfc822; nobody@example.net\n"
	"Action: failed\nStatus: 5.1.1\n\n"
	"--B1\nContent-Type: message/rfc822\n\n"
	"From: a@x.test\nTo: nobody@example.net\nSubject: hi\n\nhello\n"
	"--B1--\n";

/* meter_arrive - one NDR for a@x.test at now; returns 1 if held */
static int meter_arrive(struct deliver_env *env, struct store *st,
			long long now)
{
	const char *rcpt = "a@x.test", *err = NULL;
	struct deliver_request req = {
		.sender = "", .recipients = &rcpt, .recipient_count = 1,
		.msg = meter_ndr, .len = sizeof(meter_ndr) - 1, .now = now,
	};
	struct deliver_result res;
	int held;

	ck_assert_int_eq(deliver_prepare(env, &req, &res), 1);
	ck_assert(store_begin(st, &err) == 0);
	ck_assert_msg(deliver_decide(env, st, &req, &res, &err) == 0, "%s", err);
	ck_assert(store_commit(st, &err) == 0);
	held = res.outcomes[0].action == DELIVER_HOLD;
	deliver_result_free(&res);
	return held;
}

/* A burst within one second: arrivals that would change none of the
   kept times are not written, and the meter decides as if they were. */
START_TEST(meter_burst_in_one_second)
{
	struct deliver_env env = {
		.database = path, .classify_limit = 1 << 20,
		.storm = { .threshold = 3, .window = 60, .cooldown = 60 },
	};
	struct store *st = open_store();
	int held = 0;

	for (int i = 0; i < 50; i++)
		held += meter_arrive(&env, st, 1000);
	ck_assert_int_eq(held, 48);	/* the third starts the storm */
	/* the newest threshold + 1 arrival times are kept, no more */
	store_close(&st);
	ck_assert_int_eq(query_int("SELECT count(*) FROM arrival"), 4);
	ck_assert_int_eq(query_int("SELECT min(arrived) FROM arrival"), 1000);
	ck_assert_int_eq(query_int("SELECT count FROM storm"), 48);
	st = open_store();
	/* still in the storm a moment before window + cooldown of calm */
	ck_assert_int_eq(meter_arrive(&env, st, 1119), 1);
	/* a new burst second is written: the oldest kept time moves on */
	store_close(&st);
	ck_assert_int_eq(query_int("SELECT max(arrived) FROM arrival"), 1119);
	ck_assert_int_eq(query_int("SELECT count(*) FROM arrival"), 4);
	st = open_store();
	/* calm since 1119: the storm ends, the next one passes */
	ck_assert_int_eq(meter_arrive(&env, st, 1119 + 121), 0);
	store_close(&st);
	ck_assert_int_eq(query_int("SELECT count(*) FROM storm"
				   " WHERE ended IS NOT NULL"), 1);
}
END_TEST

START_TEST(items_held_once_with_audit)
{
	struct store *st = open_store();
	const char *err = NULL;
	static const char raw[] = "From: x\n\nbody\0with NUL\n";
	struct store_item item = {
		.queue_id = "4F3A2", .sender = "", .recipient = "alice@example.com",
		.arrived = 1000, .kind = "ndr_failed", .verdict = "backscatter",
		.orig_subject = "it's \"quoted\"; DROP TABLE quarantine;--",
		.raw = raw, .size = sizeof(raw) - 1,
	};
	long long id1, id2;
	int dup;

	ck_assert(store_begin(st, &err) == 0);
	ck_assert(store_item_add(st, &item, &id1, &dup, &err) == 0);
	ck_assert_int_eq(dup, 0);
	ck_assert(store_item_add(st, &item, &id2, &dup, &err) == 0);
	ck_assert_int_eq(dup, 1);
	ck_assert_int_eq(id1, id2);
	/* a queue id comes back for another message once its queue file
	   is gone: different bytes are a different message */
	static const char raw2[] = "From: y\n\nanother body\n";
	item.raw = raw2;
	item.size = sizeof(raw2) - 1;
	ck_assert(store_item_add(st, &item, &id2, &dup, &err) == 0);
	ck_assert_int_eq(dup, 0);
	ck_assert_int_ne(id1, id2);
	item.raw = raw;
	item.size = sizeof(raw) - 1;
	item.queue_id = NULL;	/* without a queue id nothing can dedupe */
	ck_assert(store_item_add(st, &item, &id2, &dup, &err) == 0);
	ck_assert_int_ne(id1, id2);
	ck_assert(store_commit(st, &err) == 0);
	store_close(&st);
	ck_assert_int_eq(query_int("SELECT count(*) FROM quarantine"), 3);
	ck_assert_int_eq(query_int("SELECT count(*) FROM audit WHERE action='quarantined'"), 3);
	ck_assert_int_eq(query_int("SELECT length(raw) FROM quarantine WHERE id=1"),
			 (long long)sizeof(raw) - 1);
	ck_assert_int_eq(query_int("SELECT count(*) FROM quarantine WHERE orig_subject LIKE '%DROP TABLE%'"), 3);
}
END_TEST

/* what the statistics page and /metrics read back */
struct stats_seen {
	long long buckets[8][2];	/* bucket index, held/released */
	long long audit_quarantined, storms_active, storms_all;
	long long digests_sent, digests_pending, failed_sends, db_bytes;
	long long storm_ids[4];
	unsigned int storm_count;
};

static int stats_series_cb(long long bucket, const char *state,
			   long long count, void *context)
{
	struct stats_seen *seen = context;
	long long i = (bucket - 3600) / 3600;

	ck_assert(i >= 0 && i < 8);
	seen->buckets[i][strcmp(state, "held") == 0 ? 0 : 1] += count;
	return 0;
}

static int stats_totals_cb(const char *group, const char *name, long long n,
			   void *context)
{
	struct stats_seen *seen = context;

	if (strcmp(group, "audit") == 0 && strcmp(name, "quarantined") == 0)
		seen->audit_quarantined = n;
	else if (strcmp(group, "storm") == 0 && strcmp(name, "active") == 0)
		seen->storms_active = n;
	else if (strcmp(group, "storm") == 0 && strcmp(name, "all") == 0)
		seen->storms_all = n;
	else if (strcmp(group, "digest") == 0 && strcmp(name, "sent") == 0)
		seen->digests_sent = n;
	else if (strcmp(group, "digest") == 0 && strcmp(name, "pending") == 0)
		seen->digests_pending = n;
	else if (strcmp(group, "digest") == 0 &&
		 strcmp(name, "failed_sends") == 0)
		seen->failed_sends = n;
	else if (strcmp(group, "database") == 0)
		seen->db_bytes = n;
	return 0;
}

static int stats_storm_cb(const struct store_storm_row *row, void *context)
{
	struct stats_seen *seen = context;

	ck_assert_uint_lt(seen->storm_count, 4);
	seen->storm_ids[seen->storm_count++] = row->id;
	return 0;
}

START_TEST(statistics_series_totals_storms)
{
	struct store *st = open_store();
	struct stats_seen seen;
	const char *err = NULL;
	struct store_item item = {
		.sender = "", .recipient = "a@x", .kind = "ndr_failed",
		.verdict = "backscatter", .raw = "x", .size = 1,
	};
	/* arrival times: two in the first hour from 3600, one in the
	   third, one before the series starts */
	static const long long arrived[] = { 3600, 7199, 3 * 3600 + 5, 100 };
	long long id, s1, s2, s3;
	int dup, changed;
	/* the last storm (6000) goes on at 9000, is over at 20000 */
	const struct store_calm going = { 9000, 3600 }, quiet = { 20000, 3600 };

	memset(&seen, 0, sizeof(seen));
	ck_assert(store_begin(st, &err) == 0);
	for (size_t i = 0; i < 4; i++) {
		item.arrived = arrived[i];
		ck_assert(store_item_add(st, &item, &id, &dup, &err) == 0);
	}
	ck_assert(store_item_set_state(st, id - 1, "held", "released", "t",
				       9000, &changed, &err) == 0);
	ck_assert(st->v->storm_start(st, "a@x", 100, &s1, &err) == 0);
	ck_assert(st->v->storm_end(st, s1, 200, &err) == 0);
	ck_assert(st->v->storm_start(st, "b@x", 5000, &s2, &err) == 0);
	ck_assert(st->v->storm_end(st, s2, 9000, &err) == 0);
	ck_assert(st->v->storm_start(st, "c@x", 6000, &s3, &err) == 0);
	ck_assert(store_commit(st, &err) == 0);

	ck_assert_msg(store_stats_series(st, 3600, 3600, stats_series_cb,
					 &seen, &err) == 0, "%s", err);
	ck_assert_int_eq(seen.buckets[0][0], 2);
	ck_assert_int_eq(seen.buckets[1][0] + seen.buckets[1][1], 0);
	ck_assert_int_eq(seen.buckets[2][1], 1);	/* released */
	ck_assert_int_eq(seen.buckets[2][0], 0);

	ck_assert_msg(store_stats_totals(st, &going, stats_totals_cb, &seen,
					  &err) == 0, "%s", err);
	ck_assert_int_eq(seen.audit_quarantined, 4);
	ck_assert_int_eq(seen.storms_active, 1);
	ck_assert_int_eq(seen.storms_all, 3);
	ck_assert_int_eq(seen.digests_sent + seen.digests_pending, 0);
	ck_assert_int_eq(seen.failed_sends, 0);
	if (on_sqlite)
		ck_assert_int_eq(seen.db_bytes,
				 query_int("SELECT p.page_count * s.page_size"
					   " FROM pragma_page_count() p,"
					   " pragma_page_size() s"));
	else
		ck_assert_int_gt(seen.db_bytes, 0);

	/* ended at or after 1000, or still going: oldest first */
	ck_assert(store_storm_since(st, &going, 1000, 0, stats_storm_cb, &seen,
				     &err) == 0);
	ck_assert_uint_eq(seen.storm_count, 2);
	ck_assert_int_eq(seen.storm_ids[0], s2);
	ck_assert_int_eq(seen.storm_ids[1], s3);
	/* a limit keeps the newest */
	seen.storm_count = 0;
	ck_assert(store_storm_since(st, &going, 0, 1, stats_storm_cb, &seen,
				     &err) == 0);
	ck_assert_uint_eq(seen.storm_count, 1);
	ck_assert_int_eq(seen.storm_ids[0], s3);

	/* c@x's storm, open in the table, quiet for longer than the
	   cooldown: over everywhere, ended at its last message + cooldown */
	memset(&seen, 0, sizeof(seen));
	ck_assert(st->v->stats_totals(st, &quiet, stats_totals_cb, &seen,
				      &err) == 0);
	ck_assert_int_eq(seen.storms_active, 0);
	ck_assert_int_eq(seen.storms_all, 3);
	ck_assert(st->v->storm_since(st, &quiet, 9500, 0, stats_storm_cb,
				     &seen, &err) == 0);
	ck_assert_uint_eq(seen.storm_count, 1);
	ck_assert_int_eq(seen.storm_ids[0], s3);
	seen.storm_count = 0;
	ck_assert(st->v->storm_since(st, &quiet, 9700, 0, stats_storm_cb,
				     &seen, &err) == 0);
	ck_assert_uint_eq(seen.storm_count, 0);
	ck_assert(st->v->storm_list(st, &quiet, 1, 0, stats_storm_cb, &seen,
				    &err) == 0);
	ck_assert_uint_eq(seen.storm_count, 0);
	ck_assert(st->v->storm_list(st, &going, 1, 0, stats_storm_cb, &seen,
				    &err) == 0);
	ck_assert_uint_eq(seen.storm_count, 1);
	store_close(&st);
}
END_TEST

/* the outbound index: idempotent add, one read for several, expiry */
START_TEST(outbound_index_add_find_expire)
{
	struct store *st = open_store();
	const char *err = NULL;
	struct store_outbound rec;
	const char *none[2] = { "nobody@x", "other@y" };
	const char *two[3] = { "nobody@x", "m2@ours.test", "m1@ours.test" };
	unsigned int n;
	int found;

	ck_assert(store_begin(st, &err) == 0);
	ck_assert(store_outbound_add(st, "m1@ours.test", "bob@ours.test",
				     1000, &err) == 0);
	ck_assert(store_outbound_add(st, "m2@ours.test", "", 2000, &err) == 0);
	/* the same Message-ID again (a retry): no error, first record kept */
	ck_assert_msg(store_outbound_add(st, "m1@ours.test", "eve@ours.test",
					 3000, &err) == 0, "%s", err);
	ck_assert(store_commit(st, &err) == 0);

	ck_assert(store_outbound_find(st, none, 2, &rec, &found, &err) == 0);
	ck_assert_int_eq(found, 0);
	ck_assert(store_outbound_find(st, two + 2, 1, &rec, &found, &err) == 0);
	ck_assert_int_eq(found, 1);
	ck_assert_str_eq(rec.message_id, "m1@ours.test");
	ck_assert_str_eq(rec.sender, "bob@ours.test");
	ck_assert_int_eq(rec.sent, 1000);
	ck_assert(store_outbound_find(st, two, 3, &rec, &found, &err) == 0);
	ck_assert_int_eq(found, 1);

	ck_assert(store_begin(st, &err) == 0);
	ck_assert(store_outbound_expire(st, 1500, 100, &n, &err) == 0);
	ck_assert(store_commit(st, &err) == 0);
	ck_assert_uint_eq(n, 1);
	ck_assert(store_outbound_find(st, two + 2, 1, &rec, &found, &err) == 0);
	ck_assert_int_eq(found, 0);
	ck_assert(store_outbound_find(st, two + 1, 1, &rec, &found, &err) == 0);
	ck_assert_int_eq(found, 1);
	ck_assert_str_eq(rec.sender, "");
	store_close(&st);
}
END_TEST

START_TEST(rollback_leaves_nothing)
{
	struct store *st = open_store();
	const char *err = NULL;
	struct store_item item = {
		.sender = "", .recipient = "a@x", .arrived = 1,
		.kind = "ndr_failed", .verdict = "unknown", .raw = "x", .size = 1,
	};
	long long id;
	int dup;

	ck_assert(store_begin(st, &err) == 0);
	ck_assert(store_item_add(st, &item, &id, &dup, &err) == 0);
	store_rollback(st);
	store_close(&st);
	ck_assert_int_eq(query_int("SELECT count(*) FROM quarantine"), 0);
}
END_TEST

START_TEST(locked_database_times_out)
{
	struct store *st = open_store();
	const char *err = NULL;
	sqlite3 *db;

	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
	ck_assert_int_eq(store_begin(st, &err), -1);
	ck_assert_msg(strstr(err, "locked") != NULL, "%s", err);
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_close(db);
	ck_assert(store_begin(st, &err) == 0);
	ck_assert(store_commit(st, &err) == 0);
	store_close(&st);
}
END_TEST

/* one short-lived process after another (each connection the only one,
   as pipe agents are when mail is slow) must not let the WAL grow: each
   such open rebuilds the WAL index from the whole file */
START_TEST(wal_bounded_across_short_lives)
{
	char wal[160], raw[3000], qid[16];
	struct stat sb;
	const char *err = NULL;

	memset(raw, 'x', sizeof(raw));
	snprintf(wal, sizeof(wal), "%s-wal", path);
	for (int i = 0; i < 200; i++) {
		struct store *st = open_store();
		struct store_item item = {
			.queue_id = qid, .sender = "", .arrived = 1000 + i,
			.recipient = "alice@example.com", .kind = "ndr_failed",
			.verdict = "backscatter", .raw = raw, .size = sizeof(raw),
		};
		long long id;
		int dup;

		snprintf(qid, sizeof(qid), "W%d", i);
		raw[i % sizeof(raw)] = 'y';	/* another message each time */
		ck_assert(store_begin(st, &err) == 0);
		ck_assert_msg(store_item_add(st, &item, &id, &dup, &err) == 0,
			      "%s", err);
		ck_assert_msg(store_commit(st, &err) == 0, "%s", err);
		store_close(&st);
	}
	ck_assert_int_eq(query_int("SELECT count(*) FROM quarantine"), 200);
	/* without checkpoints that let it restart, 200 commits of a 3 KB
	   message leave a WAL of several MB */
	if (stat(wal, &sb) == 0)
		ck_assert_int_lt(sb.st_size, 1024 * 1024);
}
END_TEST

START_TEST(unwritable_database_fails_cleanly)
{
	struct store_options opts = { .busy_timeout_ms = 200, .create = 1 };
	struct store *st = open_store();
	const char *err = NULL;

	store_close(&st);
	if (geteuid() == 0)
		return;	/* root writes anyway; the integration test covers it */
	chmod(path, 0444);
	chmod(dir, 0555);
	int rc = store_open(path, &opts, &st, &err);
	if (rc == 0) {
		ck_assert_int_eq(store_begin(st, &err), -1);
		store_close(&st);
	}
	ck_assert_ptr_nonnull(err);
}
END_TEST

START_TEST(missing_directory_is_an_error)
{
	struct store_options opts = { .busy_timeout_ms = 200, .create = 1 };
	struct store *st = NULL;
	const char *err = NULL;

	ck_assert_int_eq(store_open("/nonexistent/dir/q.db", &opts, &st, &err), -1);
	ck_assert(strstr(err, "/nonexistent/dir/q.db") != NULL);
	ck_assert_ptr_null(st);
}
END_TEST

/* "sqlite:/path" is the same file as the path alone */
START_TEST(sqlite_prefix_names_the_file)
{
	struct store_options opts = { .busy_timeout_ms = 200, .create = 1 };
	char prefixed[160];
	struct store *st = NULL;
	const char *err = NULL;

	snprintf(prefixed, sizeof(prefixed), "sqlite:%s", path);
	ck_assert_msg(store_open(prefixed, &opts, &st, &err) == 0, "%s", err);
	hold_one(st, "P1");
	store_close(&st);
	ck_assert_int_eq(query_int("SELECT count(*) FROM quarantine"), 1);
	ck_assert_str_eq(store_location_file(prefixed), path);
	ck_assert_ptr_null(store_location_file("postgresql://u@/db"));
	ck_assert_ptr_null(store_location_file("postgres://h/db"));
}
END_TEST

/* the digest lock: one holder over every connection to the store; the
   next takes it once the first lets go or closes */
START_TEST(digest_lock_is_exclusive)
{
	struct store *a = open_store(), *b = open_store();
	const char *err = NULL;

	ck_assert_int_eq(store_digest_lock(a, &err), 1);
	ck_assert_int_eq(store_digest_lock(b, &err), 0);
	store_digest_unlock(a);
	ck_assert_int_eq(store_digest_lock(b, &err), 1);
	ck_assert_int_eq(store_digest_lock(a, &err), 0);
	store_close(&b);		/* closing lets go too */
	ck_assert_int_eq(store_digest_lock(a, &err), 1);
	store_digest_unlock(a);
	store_digest_unlock(a);		/* not held: a no-op */
	store_close(&a);
}
END_TEST

/* meter_writer - a process of its own metering count arrivals for
   mailbox, one transaction each; exits with how many it held */
static int meter_writer(const char *mailbox, int first, int count,
			const struct storm_params *p)
{
	struct store_options opts = { .busy_timeout_ms = 10000, .create = 1 };
	struct store *st;
	const char *err;
	int held = 0;

	if (store_open(location, &opts, &st, &err) < 0)
		return 200;
	for (int i = 0; i < count; i++) {
		struct store_meter m;
		char qid[32];

		snprintf(qid, sizeof(qid), "M%d", first + i);
		if (store_begin(st, &err) < 0
		    || store_meter_arrival(st, mailbox, qid, 5000, p, &m,
					   &err) < 0
		    || store_commit(st, &err) < 0) {
			fprintf(stderr, "meter: %s\n", err);
			return 201;
		}
		held += m.hold;
	}
	store_close(&st);
	return held;
}

/* several writers metering one mailbox at once: the storm starts at the
   threshold-th arrival of all of them, not of each, so exactly
   threshold - 1 pass */
START_TEST(meter_is_one_step_for_concurrent_writers)
{
	const struct storm_params p = { .threshold = 10, .window = 600,
					.cooldown = 600 };
	enum { WRITERS = 4, EACH = 15 };
	struct store *st = open_store();	/* migrated before the race */
	pid_t pids[WRITERS];
	int held = 0;

	store_close(&st);
	for (int w = 0; w < WRITERS; w++) {
		pids[w] = fork();
		ck_assert_int_ge(pids[w], 0);
		if (pids[w] == 0)
			_exit(meter_writer("carol@x", w * EACH, EACH, &p));
	}
	for (int w = 0; w < WRITERS; w++) {
		int status;

		ck_assert_int_eq(waitpid(pids[w], &status, 0), pids[w]);
		ck_assert(WIFEXITED(status));
		ck_assert_int_le(WEXITSTATUS(status), EACH);
		held += WEXITSTATUS(status);
	}
	ck_assert_int_eq(held, WRITERS * EACH - ((int)p.threshold - 1));
	ck_assert_int_eq(query_int("SELECT count(*) FROM storm"), 1);
	ck_assert_int_eq(query_int("SELECT count FROM storm"), held);
}
END_TEST

int main(void)
{
	const char *server = getenv("NDRGUARD_TEST_STORE");
	Suite *s = suite_create("store");
	TCase *tc = tcase_create("every backend");
	TCase *file = tcase_create("sqlite");

	if (server != NULL && *server != '\0') {
		location = server;
		on_sqlite = 0;
	}
	printf("store suite on %s\n", on_sqlite ? "SQLite" : location);
	tcase_set_timeout(tc, 120);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, release_claim_is_taken_once);
	tcase_add_test(tc, request_notices_are_capped);
	tcase_add_test(tc, arrivals_and_storms);
	tcase_add_test(tc, meter_burst_in_one_second);
	tcase_add_test(tc, items_held_once_with_audit);
	tcase_add_test(tc, statistics_series_totals_storms);
	tcase_add_test(tc, rollback_leaves_nothing);
	tcase_add_test(tc, outbound_index_add_find_expire);
	tcase_add_test(tc, digest_lock_is_exclusive);
	tcase_add_test(tc, meter_is_one_step_for_concurrent_writers);
	tcase_add_test(tc, newer_schema_is_refused);
	suite_add_tcase(s, tc);
	if (!on_sqlite)
		return check_main_run(s);
	tcase_set_timeout(file, 120);
	tcase_add_checked_fixture(file, setup, teardown);
	tcase_add_test(file, migrate_empty_database);
	tcase_add_loop_test(file, migrate_every_older_version, 0,
			    store_sqlite_schema_version());
	tcase_add_test(file, migration_keeps_items_and_references);
	tcase_add_test(file, locked_database_times_out);
	tcase_add_test(file, wal_bounded_across_short_lives);
	tcase_add_test(file, unwritable_database_fails_cleanly);
	tcase_add_test(file, missing_directory_is_an_error);
	tcase_add_test(file, sqlite_prefix_names_the_file);
	suite_add_tcase(s, file);
	return check_main_run(s);
}
