/*
 * test-web.c - the release page's pieces: language, escaping, forms,
 * admin password hashes, and the store's preferences and requests
 */
#include "autoconfig.h"
#include "store.h"
#include "strbuf.h"
#include "web.h"
#include "web-private.h"
#include "settings.h"

#include <check.h>
#include "check-main.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

/* the languages of the repository's templates folder */
static struct web_langs *test_langs(void)
{
	struct web_langs *langs;
	const char *err = NULL;

	ck_assert_msg(web_langs_load(TOP_SRCDIR "/templates", &langs, &err)
		      == 0, "%s", err);
	return langs;
}

#define CODE(h) web_lang_code(web_lang_accept(langs, (h)))

START_TEST(accept_language)
{
	struct web_langs *langs = test_langs();

	ck_assert_str_eq(CODE(NULL), "en");
	ck_assert_str_eq(CODE(""), "en");
	ck_assert_str_eq(CODE("es"), "es");
	ck_assert_str_eq(CODE("es-MX,es;q=0.9,en;q=0.8"), "es");
	ck_assert_str_eq(CODE("en-US,en;q=0.9,es;q=0.8"), "en");
	ck_assert_str_eq(CODE("fr-FR, es;q=0.5, en;q=0.4"), "es");
	ck_assert_str_eq(CODE("es;q=0, en;q=0.1"), "en");
	ck_assert_str_eq(CODE("fr, it;q=0.9"), "en");
	ck_assert_str_eq(CODE("de-AT, en;q=0.9"), "de");
	ck_assert_str_eq(CODE("*;q=0.5, ES-es;q=0.6"), "es");
	ck_assert_str_eq(CODE(";;;,,,q=="), "en");
	ck_assert_ptr_nonnull(web_lang_find(langs, "eS"));
	ck_assert_ptr_null(web_lang_find(langs, "esperanto"));
	ck_assert_ptr_null(web_lang_find(langs, ""));
	web_langs_free(&langs);
	ck_assert_ptr_null(langs);
}
END_TEST

START_TEST(every_text_translated)
{
	struct web_langs *langs = test_langs();

	ck_assert_uint_ge(langs->count, 3);
	for (int id = 0; id < W_COUNT; id++)
		for (size_t i = 0; i < langs->count; i++) {
			const char *t = web_text_get(&langs->langs[i],
						     (enum web_text)id);
			ck_assert_msg(t != NULL && strcmp(t, web_text_key(
				(enum web_text)id)) != 0,
				"%s missing in %s", web_text_key(
					(enum web_text)id), langs->langs[i].code);
		}
	web_langs_free(&langs);
}
END_TEST

/* a catalog without a key the page uses is refused, naming the key */
START_TEST(missing_key_refused)
{
	char dir[] = "/tmp/test-web-langXXXXXX", path[256];
	struct web_langs *langs;
	const char *err = NULL;
	FILE *fp;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/xx", dir);
	ck_assert_int_eq(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/xx/messages", dir);
	ck_assert_ptr_nonnull(fp = fopen(path, "w"));
	fputs("# only one\nweb.site = Site\n", fp);
	fclose(fp);
	ck_assert_int_eq(web_langs_load(dir, &langs, &err), -1);
	ck_assert_ptr_nonnull(strstr(err, "missing"));
	ck_assert_ptr_nonnull(strstr(err, " web.item_title"));
	ck_assert_ptr_null(strstr(err, " web.site "));
	unlink(path);
	snprintf(path, sizeof(path), "%s/xx", dir);
	rmdir(path);
	rmdir(dir);
}
END_TEST

START_TEST(html_escape)
{
	struct strbuf sb = STRBUF_INIT;
	const char in[] = "<script>a&b\"c'd</script>\x01\x1b[0m\ttab\nline\x7f\xc3\xa9";

	web_html_escape_len(&sb, in, sizeof(in) - 1);
	ck_assert_str_eq(strbuf_cstr(&sb),
		"&lt;script&gt;a&amp;b&quot;c&#39;d&lt;/script&gt;[0m\ttab\n"
		"line\xc3\xa9");
	strbuf_reset(&sb);
	web_html_escape(&sb, NULL);
	ck_assert_str_eq(strbuf_cstr(&sb), "");
	strbuf_free(&sb);
}
END_TEST

START_TEST(form_fields)
{
	struct web_request req;
	const char body[] = "csrf=ab-_&id=1&id=22&empty=&flag&q=a+b%20c%3D%26"
		"&bad=%zz%4&nul=%00x&&=v";

	memset(&req, 0, sizeof(req));
	web_request_parse_form(&req, body, sizeof(body) - 1);
	ck_assert_str_eq(web_request_field(&req, "csrf"), "ab-_");
	ck_assert_str_eq(web_request_field(&req, "id"), "1");
	ck_assert_str_eq(web_request_field(&req, "empty"), "");
	ck_assert_str_eq(web_request_field(&req, "flag"), "");
	ck_assert_str_eq(web_request_field(&req, "q"), "a b c=&");
	ck_assert_str_eq(web_request_field(&req, "bad"), "%zz%4");
	ck_assert_str_eq(web_request_field(&req, "nul"), " x");
	ck_assert_str_eq(web_request_field(&req, ""), "v");
	ck_assert_ptr_null(web_request_field(&req, "absent"));
	ck_assert_uint_eq(req.field_count, 9);
	ck_assert_str_eq(req.fields[2].value, "22");
	for (size_t i = 0; i < req.field_count; i++) {
		free(req.fields[i].name);
		free(req.fields[i].value);
	}
	free(req.fields);
}
END_TEST

START_TEST(password_hash)
{
	char *h = web_login_hash("s3cret pass");
	char *h2 = web_login_hash("s3cret pass");

	ck_assert_ptr_nonnull(h);
	ck_assert(strncmp(h, "pbkdf2-sha256$210000$", 21) == 0);
	ck_assert_str_ne(h, h2);
	ck_assert_int_eq(web_login_verify("s3cret pass", h), 1);
	ck_assert_int_eq(web_login_verify("s3cret pass", h2), 1);
	ck_assert_int_eq(web_login_verify("s3cret pasS", h), 0);
	ck_assert_int_eq(web_login_verify("", h), 0);
	ck_assert_int_eq(web_login_verify("s3cret pass", NULL), 0);
	ck_assert_int_eq(web_login_verify("s3cret pass", "plain"), 0);
	ck_assert_int_eq(web_login_verify("x", "pbkdf2-sha256$5$AA==$AA=="), 0);
	ck_assert_int_eq(web_login_verify("x", "pbkdf2-sha256$1000$$"), 0);
	h[strlen(h) - 3] = h[strlen(h) - 3] == 'A' ? 'B' : 'A';
	ck_assert_int_eq(web_login_verify("s3cret pass", h), 0);
	free(h);
	free(h2);
}
END_TEST

static int count_cb(const struct store_request *rq, void *context)
{
	(*(int *)context)++;
	return 0;
}

START_TEST(store_prefs_and_requests)
{
	char dir[] = "/tmp/ndrguard-webunit-XXXXXX", path[64], cmd[96];
	struct store_options opts = { .busy_timeout_ms = 200, .create = 1 };
	struct store_item item = {
		.queue_id = "Q1", .sender = "", .recipient = "a@example.test",
		.arrived = 100, .kind = "ndr_failed", .verdict = "unknown",
		.raw = "x", .size = 1,
	};
	struct store_pref pref;
	struct store_request rq;
	struct store *st;
	const char *err = NULL;
	long long id;
	int dup, created, changed, n = 0;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/q.db", dir);
	ck_assert_msg(store_open(path, &opts, &st, &err) == 0, "%s", err);

	ck_assert_int_eq(store_pref_get(st, "a@example.test", &pref, &err), 0);
	ck_assert_str_eq(pref.digest, "daily");
	ck_assert_str_eq(pref.lang, "");
	strcpy(pref.digest, "storms");
	strcpy(pref.lang, "es");
	ck_assert_int_eq(store_pref_set(st, "a@example.test", &pref, 5, &err), 0);
	strcpy(pref.digest, "never");
	pref.lang[0] = '\0';
	ck_assert_int_eq(store_pref_set(st, "b@example.test", &pref, 5, &err), 0);
	ck_assert_int_eq(store_pref_get(st, "A@Example.TEST", &pref, &err), 0);
	ck_assert_str_eq(pref.digest, "storms");
	ck_assert_str_eq(pref.lang, "es");
	strcpy(pref.digest, "hourly");
	ck_assert_int_eq(store_pref_set(st, "a@example.test", &pref, 6, &err), -1);

	ck_assert_int_eq(store_begin(st, &err), 0);
	ck_assert_int_eq(store_item_add(st, &item, &id, &dup, &err), 0);
	ck_assert_int_eq(store_commit(st, &err), 0);
	ck_assert_int_eq(store_request_get(st, id, &rq, &err), 0);
	ck_assert_int_eq(rq.id, 0);
	ck_assert_int_eq(store_request_add(st, id, "web:1", 10, &created, &err), 0);
	ck_assert_int_eq(created, 1);
	ck_assert_int_eq(store_request_add(st, id, "web:2", 11, &created, &err), 0);
	ck_assert_int_eq(created, 0);
	ck_assert_int_eq(store_request_get(st, id, &rq, &err), 0);
	ck_assert_str_eq(rq.state, "pending");
	ck_assert_str_eq(rq.requested_by, "web:1");
	ck_assert_int_eq(store_request_list(st, "pending", 0, count_cb, &n, &err), 0);
	ck_assert_int_eq(n, 1);
	ck_assert_int_eq(store_request_decide(st, rq.id, "refused", "admin:x", 12,
					      &changed, &err), 0);
	ck_assert_int_eq(changed, 1);
	ck_assert_int_eq(store_request_decide(st, rq.id, "approved", "admin:x", 13,
					      &changed, &err), 0);
	ck_assert_int_eq(changed, 0);
	ck_assert_int_eq(store_request_get(st, id, &rq, &err), 0);
	ck_assert_str_eq(rq.state, "refused");
	ck_assert_str_eq(rq.decided_by, "admin:x");
	ck_assert_int_eq(rq.decided, 12);
	/* refused: the owner may ask again */
	ck_assert_int_eq(store_request_add(st, id, "web:3", 14, &created, &err), 0);
	ck_assert_int_eq(created, 1);
	n = 0;
	ck_assert_int_eq(store_request_list(st, NULL, 0, count_cb, &n, &err), 0);
	ck_assert_int_eq(n, 2);
	store_close(&st);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
}
END_TEST

struct id_page {
	long long ids[8];
	int n;
};

static int page_cb(const struct store_record *rec, void *ctx)
{
	struct id_page *pg = ctx;

	if (pg->n < 8)
		pg->ids[pg->n++] = rec->id;
	return 0;
}

START_TEST(item_list_offset)
{
	char dir[] = "/tmp/ndrguard-webunit-XXXXXX", path[64], cmd[96];
	struct store_options opts = { .busy_timeout_ms = 200, .create = 1 };
	struct store *st;
	const char *err = NULL;
	char qid[16];
	long long id;
	int dup;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/q.db", dir);
	ck_assert_msg(store_open(path, &opts, &st, &err) == 0, "%s", err);
	ck_assert_int_eq(store_begin(st, &err), 0);
	for (int i = 1; i <= 7; i++) {
		struct store_item item = {
			.queue_id = qid, .sender = "", .recipient = "a@x.test",
			.arrived = 100 + i, .kind = "ndr_failed",
			.verdict = "unknown", .raw = "x", .size = 1,
		};
		snprintf(qid, sizeof(qid), "Q%d", i);
		ck_assert_int_eq(store_item_add(st, &item, &id, &dup, &err), 0);
	}
	ck_assert_int_eq(store_commit(st, &err), 0);
	struct id_page pg = { { 0 }, 0 };
	struct store_filter f = { .mailbox = "a@x.test", .limit = 3, .offset = 3 };
	ck_assert_int_eq(store_item_list(st, &f, page_cb, &pg, &err), 0);
	ck_assert_int_eq(pg.n, 3);
	ck_assert_int_eq(pg.ids[0], 4);
	ck_assert_int_eq(pg.ids[2], 2);
	store_close(&st);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
}
END_TEST

/* admission_with - a web_admission for these limits and proxies */
static struct web_admission *admission_with(const char *proxies,
					    unsigned int per_address,
					    unsigned int per_network,
					    unsigned int memory)
{
	struct settings set;
	struct web_admission *adm = NULL;
	const char *err = NULL;

	memset(&set, 0, sizeof(set));
	set.trusted_proxies = (char *)proxies;
	set.http_client_connections = per_address;
	set.http_network_connections = per_network;
	set.http_response_memory = memory;
	ck_assert_msg(web_admission_create(&set, &adm, &err) == 0, "%s", err);
	return adm;
}

START_TEST(client_networks)
{
	struct web_admission *adm = admission_with("127.0.0.1, 10.9.0.0/16, "
						   "2001:db8:1::/48", 0, 0,
						   1 << 20);
	struct sockaddr_in in4 = { .sin_family = AF_INET };
	struct sockaddr_in6 in6 = { .sin6_family = AF_INET6 };
	struct web_client c;

	inet_pton(AF_INET, "192.0.2.77", &in4.sin_addr);
	ck_assert_int_eq(web_client_peer(adm, (struct sockaddr *)&in4, &c), 0);
	ck_assert_str_eq(c.addr, "192.0.2.77");
	ck_assert_str_eq(c.net, "192.0.2.0/24");
	inet_pton(AF_INET, "127.0.0.1", &in4.sin_addr);
	ck_assert_int_eq(web_client_peer(adm, (struct sockaddr *)&in4, &c), 1);
	/* an IPv4 client of a dual-stack socket is that IPv4 client */
	inet_pton(AF_INET6, "::ffff:127.0.0.1", &in6.sin6_addr);
	ck_assert_int_eq(web_client_peer(adm, (struct sockaddr *)&in6, &c), 1);
	ck_assert_str_eq(c.addr, "127.0.0.1");
	inet_pton(AF_INET6, "2001:db8:2:3:4:5:6:7", &in6.sin6_addr);
	ck_assert_int_eq(web_client_peer(adm, (struct sockaddr *)&in6, &c), 0);
	ck_assert_str_eq(c.net, "2001:db8:2:3::/64");
	inet_pton(AF_INET6, "2001:db8:1:3::9", &in6.sin6_addr);
	ck_assert_int_eq(web_client_peer(adm, (struct sockaddr *)&in6, &c), 1);
	ck_assert_int_eq(web_client_peer(adm, NULL, &c), 0);
	ck_assert_str_eq(c.addr, "local");
	web_admission_destroy(&adm);
	ck_assert_ptr_null(adm);
}
END_TEST

START_TEST(forwarded_for)
{
	struct web_admission *adm = admission_with("127.0.0.1 10.9.0.0/16 "
						   "2001:db8:1::/48", 0, 0,
						   1 << 20);
	struct web_client c;

	/* the right-most address that is not a proxy: what the client
	   wrote itself stays on the left */
	ck_assert_int_eq(web_client_forwarded(adm, "192.0.2.1", &c), 0);
	ck_assert_str_eq(c.addr, "192.0.2.1");
	ck_assert_int_eq(web_client_forwarded(adm, "198.51.100.7, 192.0.2.1",
					      &c), 0);
	ck_assert_str_eq(c.addr, "192.0.2.1");
	ck_assert_int_eq(web_client_forwarded(adm, "192.0.2.3,10.9.1.1 , "
					      "127.0.0.1", &c), 0);
	ck_assert_str_eq(c.addr, "192.0.2.3");
	ck_assert_int_eq(web_client_forwarded(adm, "[2001:db8:5::1]:443",
					      &c), 0);
	ck_assert_str_eq(c.addr, "2001:db8:5::1");
	ck_assert_str_eq(c.net, "2001:db8:5::/64");
	ck_assert_int_eq(web_client_forwarded(adm, "192.0.2.9:5555", &c), 0);
	ck_assert_str_eq(c.addr, "192.0.2.9");
	ck_assert_int_eq(web_client_forwarded(adm, "::ffff:192.0.2.4", &c), 0);
	ck_assert_str_eq(c.addr, "192.0.2.4");
	/* only proxies: the one farthest away */
	ck_assert_int_eq(web_client_forwarded(adm, "10.9.0.1, 127.0.0.1",
					      &c), 0);
	ck_assert_str_eq(c.addr, "10.9.0.1");
	/* nothing believable: the caller keeps the peer */
	ck_assert_int_eq(web_client_forwarded(adm, NULL, &c), -1);
	ck_assert_int_eq(web_client_forwarded(adm, "", &c), -1);
	ck_assert_int_eq(web_client_forwarded(adm, "192.0.2.1, unknown", &c),
			 -1);
	ck_assert_int_eq(web_client_forwarded(adm, "192.0.2.1,", &c), -1);
	ck_assert_int_eq(web_client_forwarded(adm, "[::1", &c), -1);
	ck_assert_int_eq(web_client_forwarded(adm, "1.2.3.4.5", &c), -1);
	web_admission_destroy(&adm);
}
END_TEST

START_TEST(connections_per_network)
{
	struct web_admission *adm = admission_with(NULL, 2, 3, 1 << 20);
	struct web_client a1, a2, b;

	memset(&a1, 0, sizeof(a1));
	snprintf(a1.addr, sizeof(a1.addr), "192.0.2.1");
	snprintf(a1.net, sizeof(a1.net), "192.0.2.0/24");
	a2 = a1;
	snprintf(a2.addr, sizeof(a2.addr), "192.0.2.2");
	b = a1;
	snprintf(b.addr, sizeof(b.addr), "198.51.100.1");
	snprintf(b.net, sizeof(b.net), "198.51.100.0/24");
	struct web_client c[4] = { a1, a1, a1, a2 };

	ck_assert_int_eq(web_admission_enter(adm, &c[0]), 0);
	ck_assert_int_eq(web_admission_enter(adm, &c[1]), 0);
	/* the address is full; its network has one place left */
	ck_assert_int_eq(web_admission_enter(adm, &c[2]), -1);
	ck_assert_int_eq(c[2].counted, 0);
	ck_assert_int_eq(web_admission_enter(adm, &c[3]), 0);
	struct web_client a3 = a2;
	snprintf(a3.addr, sizeof(a3.addr), "192.0.2.3");
	ck_assert_int_eq(web_admission_enter(adm, &a3), -1);
	ck_assert_int_eq(web_admission_enter(adm, &b), 0);
	/* leaving gives the place back, once */
	web_admission_leave(adm, &c[0]);
	web_admission_leave(adm, &c[0]);
	ck_assert_int_eq(web_admission_enter(adm, &a3), 0);
	ck_assert_int_eq(web_admission_enter(adm, &c[2]), -1);
	web_admission_leave(adm, &c[2]);
	web_admission_leave(adm, &c[1]);
	web_admission_leave(adm, &c[3]);
	web_admission_leave(adm, &a3);
	web_admission_leave(adm, &b);
	web_admission_destroy(&adm);
}
END_TEST

START_TEST(response_memory)
{
	/* 1 MB in all, a network a quarter of it; 16 kB answers always go */
	struct web_admission *adm = admission_with(NULL, 0, 0, 1 << 20);
	struct web_client n1[6], other, small;

	for (int i = 0; i < 6; i++) {
		memset(&n1[i], 0, sizeof(n1[i]));
		snprintf(n1[i].addr, sizeof(n1[i].addr), "192.0.2.%d", i + 1);
		snprintf(n1[i].net, sizeof(n1[i].net), "192.0.2.0/24");
	}
	other = n1[0];
	snprintf(other.net, sizeof(other.net), "198.51.100.0/24");
	small = n1[5];
	ck_assert_int_eq(web_admission_reserve(adm, &n1[0], 200000), 0);
	ck_assert_int_eq(web_admission_reserve(adm, &n1[1], 100000), -1);
	ck_assert_int_eq(n1[1].reserved, 0);
	ck_assert_int_eq(web_admission_reserve(adm, &small, 16384), 0);
	ck_assert_int_eq(web_admission_reserve(adm, &other, 250000), 0);
	/* sent: the network may hold that much again (with the small one) */
	web_admission_release(adm, &n1[0]);
	ck_assert_int_eq(n1[0].reserved, 0);
	ck_assert_int_eq(web_admission_reserve(adm, &n1[1], 240000), 0);
	/* the whole budget, whatever the networks */
	struct web_client far[3];
	for (int i = 0; i < 3; i++) {
		memset(&far[i], 0, sizeof(far[i]));
		snprintf(far[i].addr, sizeof(far[i].addr), "203.0.%d.1", i);
		snprintf(far[i].net, sizeof(far[i].net), "203.0.%d.0/24", i);
	}
	ck_assert_int_eq(web_admission_reserve(adm, &far[0], 262144), 0);
	ck_assert_int_eq(web_admission_reserve(adm, &far[1], 262144), 0);
	ck_assert_int_eq(web_admission_reserve(adm, &far[2], 262144), -1);
	web_admission_release(adm, &n1[1]);
	web_admission_release(adm, &other);
	ck_assert_int_eq(web_admission_reserve(adm, &far[2], 262144), 0);
	for (int i = 0; i < 3; i++)
		web_admission_release(adm, &far[i]);
	web_admission_release(adm, &small);
	web_admission_destroy(&adm);
}
END_TEST

START_TEST(failure_buckets)
{
	struct web_buckets *b = web_buckets_create(6, 5);

	for (int i = 0; i < 5; i++)
		ck_assert_int_eq(web_buckets_use(b, "192.0.2.0/24", 1), 1);
	ck_assert_int_eq(web_buckets_use(b, "192.0.2.0/24", 0), 0);
	ck_assert_int_eq(web_buckets_use(b, "192.0.2.0/24", 1), 0);
	/* a look without taking leaves the bucket as it is */
	ck_assert_int_eq(web_buckets_use(b, "198.51.100.0/24", 0), 1);
	ck_assert_int_eq(web_buckets_use(b, "198.51.100.0/24", 0), 1);
	web_buckets_destroy(&b);
	ck_assert_ptr_null(b);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("web");
	TCase *tc = tcase_create("web");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, accept_language);
	tcase_add_test(tc, missing_key_refused);
	tcase_add_test(tc, every_text_translated);
	tcase_add_test(tc, html_escape);
	tcase_add_test(tc, form_fields);
	tcase_add_test(tc, password_hash);
	tcase_add_test(tc, store_prefs_and_requests);
	tcase_add_test(tc, item_list_offset);
	tcase_add_test(tc, client_networks);
	tcase_add_test(tc, forwarded_for);
	tcase_add_test(tc, connections_per_network);
	tcase_add_test(tc, response_memory);
	tcase_add_test(tc, failure_buckets);
	suite_add_tcase(s, tc);
	return check_main_run(s);
}
