/*
 * test-digest-store.c - the store's digest functions: covered once, order
 */
#include "autoconfig.h"
#include "store.h"

#include <check.h>
#include "check-main.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[64];
static char path[128];
static struct store *st;

static void setup(void)
{
	struct store_options opts = { .busy_timeout_ms = 200, .create = 1 };
	const char *err = NULL;

	strcpy(dir, "/tmp/ndrguard-dstore-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/q.db", dir);
	ck_assert_msg(store_open(path, &opts, &st, &err) == 0, "%s", err);
}

static void teardown(void)
{
	char cmd[160];

	store_close(&st);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
}

static long long add(const char *rcpt, const char *verdict, long long at,
		     const char *qid)
{
	struct store_item it = {
		.queue_id = qid, .sender = "", .recipient = rcpt,
		.arrived = at, .kind = "ndr_failed", .verdict = verdict,
		.orig_subject = "s", .raw = "x", .size = 1,
	};
	long long id;
	int dup;
	const char *err = NULL;

	ck_assert_msg(store_item_add(st, &it, &id, &dup, &err) == 0, "%s", err);
	return id;
}

struct seen {
	char names[8][64];
	unsigned int counts[8];
	long long ids[16];
	int n;
};

static int mailbox_cb(const char *mailbox, unsigned int count, void *ctx)
{
	struct seen *s = ctx;

	snprintf(s->names[s->n], sizeof(s->names[0]), "%s", mailbox);
	s->counts[s->n++] = count;
	return 0;
}

static int item_cb(const struct store_record *r, void *ctx)
{
	struct seen *s = ctx;

	s->ids[s->n++] = r->id;
	return 0;
}

START_TEST(uncovered_items_by_mailbox_and_verdict)
{
	struct seen s;
	const char *err = NULL;
	long long b1 = add("alice@x.test", "backscatter", 100, "Q1");
	long long u1 = add("Alice@X.test", "unknown", 90, "Q2");
	long long l1 = add("alice@x.test", "legit", 80, "Q3");
	long long b2 = add("alice@x.test", "backscatter", 200, "Q4");

	add("bob@x.test", "backscatter", 100, "Q5");
	memset(&s, 0, sizeof(s));
	ck_assert_int_eq(store_digest_mailboxes(st, NULL, mailbox_cb, &s, &err), 0);
	ck_assert_int_eq(s.n, 2);
	ck_assert_str_eq(s.names[0], "Alice@X.test");
	ck_assert_uint_eq(s.counts[0], 4);
	ck_assert_uint_eq(s.counts[1], 1);

	memset(&s, 0, sizeof(s));
	ck_assert_int_eq(store_digest_items(st, "alice@x.test", item_cb, &s, &err), 0);
	ck_assert_int_eq(s.n, 4);
	ck_assert_int_eq(s.ids[0], l1);
	ck_assert_int_eq(s.ids[1], u1);
	ck_assert_int_eq(s.ids[2], b2);
	ck_assert_int_eq(s.ids[3], b1);
}
END_TEST

START_TEST(covered_once_dropped_uncovers_sent_is_final)
{
	struct seen s;
	const char *err = NULL;
	long long ids[2], id, id2, last;
	struct store_digest dg = {
		.mailbox = "alice@x.test", .message_id = "<1@x>", .created = 5,
		.message = "bytes", .size = 5,
	};

	ids[0] = add("alice@x.test", "backscatter", 100, "Q1");
	ids[1] = add("alice@x.test", "backscatter", 101, "Q2");
	ck_assert_int_eq(store_begin(st, &err), 0);
	ck_assert_int_eq(store_digest_add(st, &dg, ids, 2, &id, &err), 0);
	ck_assert_int_eq(store_commit(st, &err), 0);

	/* nothing left to cover; a second digest of the same item fails */
	memset(&s, 0, sizeof(s));
	store_digest_mailboxes(st, NULL, mailbox_cb, &s, &err);
	ck_assert_int_eq(s.n, 0);
	dg.message_id = "<2@x>";
	dg.mailbox = "carol@x.test";
	ck_assert_int_eq(store_begin(st, &err), 0);
	ck_assert_int_eq(store_digest_add(st, &dg, ids, 1, &id2, &err), -1);
	store_rollback(st);

	/* refused: the items are listed again */
	ck_assert_int_eq(store_digest_drop(st, id, &err), 0);
	memset(&s, 0, sizeof(s));
	store_digest_mailboxes(st, NULL, mailbox_cb, &s, &err);
	ck_assert_int_eq(s.n, 1);
	ck_assert_uint_eq(s.counts[0], 2);

	/* sent: final, dropping it does nothing */
	dg.mailbox = "alice@x.test";
	ck_assert_int_eq(store_digest_add(st, &dg, ids, 2, &id, &err), 0);
	ck_assert_int_eq(store_digest_last_sent(st, "alice@x.test", &last, &err), 0);
	ck_assert_int_eq(last, 0);
	ck_assert_int_eq(store_digest_sent(st, id, 777, &err), 0);
	ck_assert_int_eq(store_digest_drop(st, id, &err), 0);
	ck_assert_int_eq(store_digest_last_sent(st, "ALICE@x.test", &last, &err), 0);
	ck_assert_int_eq(last, 777);
	memset(&s, 0, sizeof(s));
	store_digest_mailboxes(st, NULL, mailbox_cb, &s, &err);
	ck_assert_int_eq(s.n, 0);
}
END_TEST

static int pending_cb(const struct store_digest *dg, void *ctx)
{
	struct seen *s = ctx;

	ck_assert_str_eq(dg->message_id, "<p@x>");
	ck_assert_uint_eq(dg->size, 5);
	ck_assert_int_eq(memcmp(dg->message, "bytes", 5), 0);
	s->counts[s->n++] = dg->attempts;
	return 0;
}

START_TEST(one_pending_digest_per_mailbox)
{
	struct seen s;
	const char *err = NULL;
	long long a = add("alice@x.test", "legit", 1, "Q1");
	long long b = add("alice@x.test", "legit", 2, "Q2");
	long long id, id2;
	struct store_digest dg = {
		.mailbox = "alice@x.test", .message_id = "<p@x>", .created = 5,
		.message = "bytes", .size = 5,
	};

	ck_assert_int_eq(store_digest_add(st, &dg, &a, 1, &id, &err), 0);
	dg.message_id = "<q@x>";
	ck_assert_int_eq(store_digest_add(st, &dg, &b, 1, &id2, &err), -1);
	ck_assert_int_eq(store_digest_attempted(st, id, &err), 0);
	memset(&s, 0, sizeof(s));
	ck_assert_int_eq(store_digest_pending(st, NULL, pending_cb, &s, &err), 0);
	ck_assert_int_eq(s.n, 1);
	ck_assert_uint_eq(s.counts[0], 1);
}
END_TEST

START_TEST(own_digest_time)
{
	const char *err = NULL;
	char t[6];

	ck_assert_int_eq(store_digest_time_get(st, "pat@x.test", t, &err), 0);
	ck_assert_str_eq(t, "");
	ck_assert_int_eq(store_digest_time_set(st, "pat@x.test", "22:30", 1, &err), 0);
	ck_assert_int_eq(store_digest_time_set(st, "PAT@x.test", "05:15", 2, &err), 0);
	ck_assert_int_eq(store_digest_time_get(st, "Pat@X.test", t, &err), 0);
	ck_assert_str_eq(t, "05:15");
	ck_assert_int_eq(store_digest_time_set(st, "pat@x.test", "24:00", 3, &err), -1);
	ck_assert_int_eq(store_digest_time_set(st, "pat@x.test", "7:00", 3, &err), -1);
	ck_assert_int_eq(store_digest_time_set(st, "pat@x.test", NULL, 4, &err), 0);
	ck_assert_int_eq(store_digest_time_get(st, "pat@x.test", t, &err), 0);
	ck_assert_str_eq(t, "");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("digest-store");
	TCase *tc = tcase_create("digest-store");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, uncovered_items_by_mailbox_and_verdict);
	tcase_add_test(tc, covered_once_dropped_uncovers_sent_is_final);
	tcase_add_test(tc, one_pending_digest_per_mailbox);
	tcase_add_test(tc, own_digest_time);
	suite_add_tcase(s, tc);
	return check_main_run(s);
}
