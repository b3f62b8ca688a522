/*
 * test-config.c - the config table, file parser and printer
 */
#include "autoconfig.h"
#include "config.h"
#include "config-table.h"
#include "strbuf.h"

#include <check.h>
#include "check-main.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int parse(struct settings *set, const char *text, const char **err)
{
	return config_parse_text(set, "test.cf", text, err);
}

START_TEST(defaults_are_valid)
{
	struct settings set;
	const char *err = NULL;

	/* every default passes its own check: parse them back */
	for (const struct config_param *p = config_table; p->name; p++) {
		char line[512];
		snprintf(line, sizeof(line), "%s = %s\n", p->name, p->def);
		ck_assert_msg(parse(&set, line, &err) == 0, "%s: %s", p->name, err);
		settings_free(&set);
	}
	config_defaults(&set);
	ck_assert_uint_eq(set.storm_threshold, 20);
	ck_assert_uint_eq(set.storm_window, 600);
	ck_assert_ptr_null(set.our_relays);
	settings_free(&set);
}
END_TEST

START_TEST(values_comments_continuations)
{
	struct settings set;
	const char *err = NULL;
	const char *text =
		"# a comment\n"
		"\n"
		"database = /var/tmp/q.db\n"
		"storm_threshold=5\n"
		"storm_window = 2h\n"
		"our_relays = mx1.example.com,\n"
		"   # comment inside\n"
		"    192.0.2.0/24\n"
		"message_size_limit = 10m\n"
		"reinject = smtp:127.0.0.1:10025";

	ck_assert_msg(parse(&set, text, &err) == 0, "%s", err);
	ck_assert_str_eq(set.database, "/var/tmp/q.db");
	ck_assert_uint_eq(set.storm_threshold, 5);
	ck_assert_uint_eq(set.storm_window, 7200);
	ck_assert_str_eq(set.our_relays, "mx1.example.com, 192.0.2.0/24");
	ck_assert_uint_eq(set.message_size_limit, 10 * 1024 * 1024);
	ck_assert_str_eq(set.reinject, "smtp:127.0.0.1:10025");
	settings_free(&set);
}
END_TEST

struct bad_case {
	const char *text;
	const char *expect;	/* substring of the error */
};

static const struct bad_case bad_cases[] = {
	{ "no_such_thing = 1\n", "test.cf:1: unknown parameter \"no_such_thing\"" },
	{ "\n\nstorm_threshold = many\n", "test.cf:3: storm_threshold = many: bad number" },
	{ "storm_threshold = 0\n", "out of range" },
	{ "reply_address = r+x@reply.test\n", "must not contain '+'" },
	{ "reply_address = a-very-long-local-part@reply.test\n", "too long" },
	{ "reply_address = nodomain\n", "reply_address = nodomain" },
	{ "storm_threshold = 99999999999999999999\n", "bad number" },
	{ "storm_window = 10x\n", "bad duration" },
	{ "storm_window = -5m\n", "bad duration" },
	{ "storm_window = 31d\n", "out of range" },
	{ "lmtp_listen = tcp:1.2.3.4\n", "test.cf:1: lmtp_listen" },
	{ "lmtp_listen = inet:127.0.0.1\n", "missing :PORT" },
	{ "lmtp_listen = unix:relative/path\n", "absolute" },
	{ "reinject = lmtp:foo\n", "expected sendmail:/path or smtp:HOST:PORT" },
	{ "reinject = sendmail:sendmail\n", "absolute" },
	{ "digest_relay = 127.0.0.1:25\n", "expected smtp:HOST:PORT" },
	{ "  indented = 1\n", "test.cf:1: continuation line without a parameter" },
	{ "database\n", "test.cf:1: missing '='" },
	{ " = 5\nx", "test.cf:1: continuation" },
	{ "= 5\n", "missing parameter name" },
	{ "database =\n", "must not be empty" },
	{ "syslog_facility = kern\n", "unknown syslog facility" },
	{ "our_relays = 10.0.0.0/99\n", "our_relays" },
	{ "batv_untagged = reject\n", "policy service" },
	{ "batv_untagged = drop\n", "expected meter or hold" },
	{ "batv_since = 2026-13-01\n", "expected a date YYYY-MM-DD" },
	{ "batv_since = 2026-1-1\n", "expected a date" },
	{ "batv_since = 2026-01-01x\n", "expected a date" },
	{ "batv_days = 0\n", "out of range" },
	{ "batv_key_file = batv.keys\n", "absolute path" },
	/* values a program would refuse later, or that could never work */
	{ "digest_from = Quarantine <q@example.test\n", "nothing after the '>'" },
	{ "digest_from = Quarantine <q@example.test> x\n", "nothing after" },
	{ "digest_from = Quarantine <q@@example.test>\n", "local@domain" },
	{ "digest_from = Q<x> <q@example.test>\n", "digest_from" },
	{ "digest_from = Q \"uote <q@example.test>\n", "without <, >" },
	{ "digest_from = \xff\xfe <q@example.test>\n", "UTF-8" },
	{ "digest_from = <q@example.test>\n", "UTF-8" },
	{ "digest_from = q@\n", "test.cf:1: digest_from" },
	{ "digest_from = @example.test\n", "local@domain" },
	{ "digest_from = q@example.test.\n", "bad domain" },
	{ "digest_from =\n", "must not be empty" },
	{ "release_notify = a@example.test;b@example.test\n", "release_notify" },
	{ "base_url = javascript:alert(1)\n", "expected http://" },
	{ "base_url = HTTP://q.example.test\n", "expected http://" },
	{ "base_url = http://q.example.test/\"onclick=\"x\n", "quotes" },
	{ "base_url = http://q.example.test/<b>\n", "quotes, <>" },
	{ "base_url = http://q.example.test/\x01\n", "control" },
	{ "base_url = http://q.example.test/\xc3\xa9\n", "base_url" },
	{ "base_url = https:///path\n", "missing host" },
	{ "base_url = http://a@q.example.test/\n", "user name" },
	{ "base_url = http://q.example.test/#x\n", "base_url" },
	{ "admin_user = a:b\nadmin_password_hash = x\n", "admin_user = a:b" },
	{ "admin_password_hash = pbkdf2-sha256$999$"
	  "AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
	  "iteration count" },
	{ "admin_password_hash = pbkdf2-sha256$10000001$"
	  "AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
	  "iteration count" },
	{ "admin_password_hash = pbkdf2-sha256$1000$"
	  "AAAAAAAAAAAAAAAAAAAAAA=$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
	  "salt" },
	{ "admin_password_hash = pbkdf2-sha256$1000$"
	  "AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAA\n", "32 bytes" },
	{ "admin_password_hash = pbkdf2-sha256$1000$AAAA\n", "expected pbkdf2" },
	/* nothing after the prefix, or after the count: read past the end before */
	{ "admin_password_hash = pbkdf2-sha256$\n", "expected pbkdf2" },
	{ "admin_password_hash = pbkdf2-sha256$1000\n", "expected pbkdf2" },
	{ "admin_password_hash = pbkdf2-sha256$$AAAA$AAAA\n", "(not shown)" },
	{ "lmtp_listen = inet:127.0.0.1:65536\n", "bad port number" },
	{ "reinject = smtp:127.0.0.1:0\n", "bad port number (1 to 65535)" },
	{ "digest_relay = smtp:127.0.0.1:123456\n", "bad port number" },
	{ "database = q.db\n", "absolute path" },
	{ "secret_file = secret\n", "absolute path" },
	{ "pid_file = ndrguardd.pid\n", "absolute path" },
	{ "digest_templates = templates\n", "absolute path" },
	/* the rules between parameters */
	{ "admin_user = pm\n", "test.cf: admin_user is set but admin_password_hash is empty" },
	{ "admin_password_hash = pbkdf2-sha256$1000$"
	  "AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
	  "admin_password_hash is set but admin_user is empty" },
	{ "http_listen =\nmetrics_listen = inet:127.0.0.1:9100\n",
	  "metrics_listen is set but http_listen is empty" },
	{ "lmtp_listen = inet:127.0.0.1:8480\n",
	  "lmtp_listen and http_listen are the same address" },
	{ "metrics_listen = inet:127.0.0.1:8480\n",
	  "http_listen and metrics_listen are the same address" },
};

START_TEST(bad_values_name_file_and_line)
{
	struct settings set;
	const char *err = NULL;
	const struct bad_case *c = &bad_cases[_i];

	ck_assert_msg(parse(&set, c->text, &err) == -1, "accepted: %s", c->text);
	ck_assert_msg(strstr(err, c->expect) != NULL, "'%s' gave '%s'",
		      c->text, err);
	settings_free(&set);
}
END_TEST

START_TEST(print_only_changed)
{
	struct settings set;
	struct strbuf out = STRBUF_INIT;
	const char *err;

	ck_assert(parse(&set, "storm_window = 600\nstorm_threshold = 7\n",
			&err) == 0);
	config_print(&set, 1, &out);
	/* 600 s is the default (10m): only the threshold differs */
	ck_assert_str_eq(strbuf_cstr(&out), "storm_threshold = 7\n");
	strbuf_reset(&out);
	config_print(&set, 0, &out);
	ck_assert(strstr(strbuf_cstr(&out), "storm_window = 10m\n") != NULL);
	ck_assert(strstr(strbuf_cstr(&out), "database = ") != NULL);
	strbuf_free(&out);
	settings_free(&set);
}
END_TEST

START_TEST(load_file_errors)
{
	struct settings set;
	const char *err;
	char path[] = "/tmp/ndrguard-test-XXXXXX";
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	ck_assert(write(fd, "storm_threshold = 3\nbogus\n", 26) == 26);
	close(fd);
	ck_assert_int_eq(config_load(&set, path, &err), -1);
	ck_assert(strstr(err, ":2: missing '='") != NULL);
	ck_assert(strncmp(err, path, strlen(path)) == 0);
	settings_free(&set);
	unlink(path);
	ck_assert_int_eq(config_load(&set, path, &err), -1);
	ck_assert(strstr(err, "No such file") != NULL);
	settings_free(&set);
}
END_TEST

/* database names its backend: a path, sqlite:/path or a libpq URI;
   nothing else */
START_TEST(database_forms)
{
	static const char *const good[] = {
		"database = /var/lib/ndrguard/q.db\n",
		"database = sqlite:/var/lib/ndrguard/q.db\n",
		"database = postgresql://ndrguard@/ndrguard?host=/run/postgresql\n",
		"database = postgres://ndrguard@db.example.test/ndrguard\n",
	};
	static const char *const bad[] = {
		"database = q.db\n",
		"database = sqlite:q.db\n",
		"database = mysql://x/y\n",
	};
	struct settings set;
	const char *err = NULL;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		ck_assert_msg(parse(&set, good[i], &err) == 0, "%s: %s",
			      good[i], err);
		settings_free(&set);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(parse(&set, bad[i], &err) == -1, "%s", bad[i]);
		ck_assert(strstr(err, "absolute path") != NULL);
		settings_free(&set);
	}
}
END_TEST

/* check_uri_in - config_check_files() on a config file of mode holding
   database = uri */
static int check_uri_in(const char *uri, mode_t mode, const char **err)
{
	char path[] = "/tmp/ndrguard-test-XXXXXX";
	struct settings set;
	int fd = mkstemp(path), ret;

	ck_assert_int_ge(fd, 0);
	ck_assert(dprintf(fd, "database = %s\n", uri) > 0);
	close(fd);
	ck_assert_int_eq(chmod(path, mode), 0);
	ck_assert_msg(config_load(&set, path, err) == 0, "%s", *err);
	ret = config_check_files(&set, path, err);
	settings_free(&set);
	unlink(path);
	return ret;
}

/* a password in the URI only in a file others cannot read; without one
   (a passfile, or peer authentication) any mode will do */
START_TEST(database_password_needs_private_config)
{
	const char *err = NULL;

	ck_assert_int_eq(check_uri_in("postgresql://nd:secret@/nd?host=/tmp",
				      0644, &err), -1);
	ck_assert_msg(strstr(err, "password") != NULL, "%s", err);
	ck_assert_int_eq(check_uri_in("postgresql:///nd?host=/tmp&password=s",
				      0644, &err), -1);
	ck_assert_int_eq(check_uri_in("postgresql://nd:secret@/nd?host=/tmp",
				      0640, &err), 0);
	ck_assert_int_eq(check_uri_in("postgresql://nd@/nd?passfile=/etc/p",
				      0644, &err), 0);
	ck_assert_int_eq(check_uri_in("postgres://nd@db:5432/nd", 0644,
				      &err), 0);
}
END_TEST

START_TEST(good_values)
{
	static const char *const good[] = {
		"digest_from = postmaster\n",
		"digest_from = q+digest@mail.example.test\n",
		"digest_from = Quarantine <q@example.test>\n",
		"digest_from = \"Quarantine, Mail\" <q@example.test>\n",
		"digest_from = Correo Se\xc3\xb1" "al <q@example.test>\n",
		"digest_from = Postmaster <postmaster>\n",
		"release_notify =\n",
		"base_url = https://q.example.test:8443/quarantine/\n",
		"base_url = http://[::1]:8480\n",
		"admin_user = pm\nadmin_password_hash = pbkdf2-sha256$210000$"
		"AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
		"http_listen = inet:127.0.0.1:0\nmetrics_listen = inet:127.0.0.1:0\n",
		"reinject = smtp:[::1]:10025\n",
		"pid_file =\n",
		"batv_key_file = /etc/ndrguard/batv.keys\n"
		"batv_domains = example.test, mail.example.test\n"
		"batv_days = 14\nbatv_since = 2026-12-01\n"
		"batv_untagged = hold\n",
	};
	struct settings set;
	const char *err = NULL;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		ck_assert_msg(parse(&set, good[i], &err) == 0, "%s: %s",
			      good[i], err);
		settings_free(&set);
	}
}
END_TEST

START_TEST(keep_restart_values)
{
	struct settings running, file;
	struct strbuf changed = STRBUF_INIT;
	const char *err;

	ck_assert(parse(&running, "lmtp_listen = inet:127.0.0.1:1\n"
			"http_threads = 4\nrelease_mode = direct\n"
			"database = /var/tmp/q.db\n", &err) == 0);
	ck_assert(parse(&file, "lmtp_listen = inet:127.0.0.1:2\n"
			"http_threads = 8\nrelease_mode = request\n"
			"database = /var/tmp/other.db\n", &err) == 0);
	ck_assert_uint_eq(config_keep_restart(&file, &running, &changed), 3);
	ck_assert_str_eq(strbuf_cstr(&changed),
		"database (running \"/var/tmp/q.db\", file "
		"\"/var/tmp/other.db\"), lmtp_listen (running "
		"\"inet:127.0.0.1:1\", file \"inet:127.0.0.1:2\"), "
		"http_threads (running \"4\", file \"8\")");
	/* the running values are back; what applies live is the file's */
	ck_assert_str_eq(file.lmtp_listen, "inet:127.0.0.1:1");
	ck_assert_str_eq(file.database, running.database);
	ck_assert_uint_eq(file.http_threads, 4);
	ck_assert_str_eq(file.release_mode, "request");
	strbuf_reset(&changed);
	ck_assert_uint_eq(config_keep_restart(&file, &running, &changed), 0);
	ck_assert_uint_eq(changed.len, 0);
	strbuf_free(&changed);
	settings_free(&running);
	settings_free(&file);
}
END_TEST

START_TEST(durations)
{
	ck_assert_int_eq(config_parse_duration("30s"), 30);
	ck_assert_int_eq(config_parse_duration("30"), 30);
	ck_assert_int_eq(config_parse_duration("10m"), 600);
	ck_assert_int_eq(config_parse_duration("2h"), 7200);
	ck_assert_int_eq(config_parse_duration("14d"), 14 * 86400);
	ck_assert_int_eq(config_parse_duration("1w"), 604800);
	ck_assert_int_eq(config_parse_duration(""), -1);
	ck_assert_int_eq(config_parse_duration("m"), -1);
	ck_assert_int_eq(config_parse_duration("5mm"), -1);
	ck_assert_int_eq(config_parse_duration(" 5"), -1);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("config");

	tcase_add_test(tc, defaults_are_valid);
	tcase_add_test(tc, values_comments_continuations);
	tcase_add_loop_test(tc, bad_values_name_file_and_line, 0,
			    sizeof(bad_cases) / sizeof(bad_cases[0]));
	tcase_add_test(tc, print_only_changed);
	tcase_add_test(tc, load_file_errors);
	tcase_add_test(tc, good_values);
	tcase_add_test(tc, database_forms);
	tcase_add_test(tc, database_password_needs_private_config);
	tcase_add_test(tc, keep_restart_values);
	tcase_add_test(tc, durations);
	suite_add_tcase(s, tc);
	return check_main_run(s);
}
