/*
 * test-token.c - capability tokens and the links built from them
 */
#include "autoconfig.h"
#include "token.h"
#include "links.h"

#include <check.h>
#include "check-main.h"
#include <ctype.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[64];
static char path[128];
static struct token_key *key;

static void setup(void)
{
	const char *err = NULL;

	strcpy(dir, "/tmp/ndrguard-token-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/secret", dir);
	ck_assert_msg(token_key_load(path, 1, &key, &err) == 0, "%s", err);
}

static void teardown(void)
{
	char cmd[160];

	token_key_free(&key);
	ck_assert_ptr_null(key);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
}

static int verify(const char *token, const char *action, const char *subject,
		  long long now)
{
	const char *err = NULL;
	int ret = token_verify(key, token, action, subject, now, &err);

	if (ret < 0)
		ck_assert_ptr_nonnull(err);
	return ret;
}

START_TEST(valid_token)
{
	char *t = token_make(key, "item", "42", 2000);

	ck_assert_uint_eq(strlen(t), 54);
	ck_assert(strspn(t, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			 "0123456789-_") == 54);
	ck_assert_int_eq(verify(t, "item", "42", 1000), 0);
	ck_assert_int_eq(verify(t, "item", "42", 2000), 0);
	free(t);
}
END_TEST

START_TEST(forged_token)
{
	char *t = token_make(key, "item", "42", 2000);

	/* every single-character change is refused */
	for (size_t i = 0; i < strlen(t); i++) {
		char saved = t[i];

		t[i] = saved == 'A' ? 'B' : 'A';
		ck_assert_msg(verify(t, "item", "42", 1000) == -1,
			      "accepted with position %zu changed", i);
		t[i] = saved;
	}
	free(t);
}
END_TEST

START_TEST(token_from_another_key)
{
	struct token_key *other = NULL;
	const char *err = NULL;
	char other_path[160];
	char *t;

	snprintf(other_path, sizeof(other_path), "%s/other", dir);
	ck_assert_int_eq(token_key_load(other_path, 1, &other, &err), 0);
	t = token_make(other, "item", "42", 2000);
	ck_assert_int_eq(verify(t, "item", "42", 1000), -1);
	free(t);
	token_key_free(&other);
}
END_TEST

START_TEST(expired_token)
{
	char *t = token_make(key, "item", "42", 2000);
	const char *err = NULL;

	ck_assert_int_eq(token_verify(key, t, "item", "42", 2001, &err), -1);
	ck_assert_str_eq(err, "expired token");
	free(t);
}
END_TEST

START_TEST(wrong_action)
{
	char *t = token_make(key, "mailbox", "alice@example.com", 2000);

	ck_assert_int_eq(verify(t, "mailbox", "alice@example.com", 1000), 0);
	ck_assert_int_eq(verify(t, "settings", "alice@example.com", 1000), -1);
	ck_assert_int_eq(verify(t, "item", "alice@example.com", 1000), -1);
	free(t);
}
END_TEST

START_TEST(wrong_subject)
{
	char *t = token_make(key, "item", "42", 2000);

	ck_assert_int_eq(verify(t, "item", "43", 1000), -1);
	ck_assert_int_eq(verify(t, "item", "420", 1000), -1);
	ck_assert_int_eq(verify(t, "item", "4", 1000), -1);
	free(t);
	/* the separator keeps action and subject apart */
	t = token_make(key, "ab", "c", 2000);
	ck_assert_int_eq(verify(t, "a", "bc", 1000), -1);
	free(t);
}
END_TEST

START_TEST(truncated_token)
{
	char *t = token_make(key, "item", "42", 2000);

	for (size_t len = 0; len < 54; len++) {
		t[len] = '\0';
		ck_assert_int_eq(verify(t, "item", "42", 1000), -1);
		free(t);
		t = token_make(key, "item", "42", 2000);
	}
	free(t);
}
END_TEST

START_TEST(garbage_token)
{
	static const char *const garbage[] = {
		"", "x", "%00", "null",
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"++++++++++++++++++++++++++++++++++++++++++++++++++++++",
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"<script>alert(1)</script>",
	};
	char *t = token_make(key, "item", "42", 2000);
	char longer[128];

	for (size_t i = 0; i < sizeof(garbage) / sizeof(garbage[0]); i++)
		ck_assert_int_eq(verify(garbage[i], "item", "42", 1000), -1);
	ck_assert_int_eq(verify(NULL, "item", "42", 1000), -1);
	snprintf(longer, sizeof(longer), "%sA", t);
	ck_assert_int_eq(verify(longer, "item", "42", 1000), -1);
	/* the last character carries 4 unused bits: only one spelling */
	t[53] = t[53] == 'A' ? 'B' : 'A';
	ck_assert_int_eq(verify(t, "item", "42", 1000), -1);
	free(t);
}
END_TEST

START_TEST(key_file_created_0600)
{
	struct stat st;

	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0600);
	ck_assert_int_eq((int)st.st_size, 32);
}
END_TEST

START_TEST(key_survives_reload)
{
	struct token_key *again = NULL;
	const char *err = NULL;
	char *t = token_make(key, "item", "7", 2000);

	ck_assert_int_eq(token_key_load(path, 0, &again, &err), 0);
	ck_assert_int_eq(token_verify(again, t, "item", "7", 1000, &err), 0);
	token_key_free(&again);
	free(t);
}
END_TEST

START_TEST(key_refused_if_world_writable)
{
	struct token_key *again = NULL;
	const char *err = NULL;

	ck_assert_int_eq(chmod(path, 0602), 0);
	ck_assert_int_eq(token_key_load(path, 0, &again, &err), -1);
	ck_assert_ptr_null(again);
	ck_assert(strstr(err, path) != NULL);
	ck_assert_int_eq(chmod(path, 0604), 0);
	ck_assert_int_eq(token_key_load(path, 0, &again, &err), -1);
	ck_assert_int_eq(chmod(path, 0640), 0);
	ck_assert_int_eq(token_key_load(path, 0, &again, &err), 0);
	token_key_free(&again);
}
END_TEST

START_TEST(key_missing_or_short)
{
	struct token_key *again = NULL;
	const char *err = NULL;
	char p2[160];
	int fd;

	snprintf(p2, sizeof(p2), "%s/absent", dir);
	ck_assert_int_eq(token_key_load(p2, 0, &again, &err), -1);
	ck_assert_int_eq(access(p2, F_OK), -1);
	fd = open(p2, O_WRONLY | O_CREAT, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "short", 5), 5);
	close(fd);
	ck_assert_int_eq(token_key_load(p2, 0, &again, &err), -1);
	ck_assert_ptr_null(again);
}
END_TEST

START_TEST(links_forms)
{
	const char *err = NULL;
	char *u = links_item("https://q.example/", key, 42, 2000);
	char *t = token_make(key, "item", "42", 2000);
	char expect[256];

	snprintf(expect, sizeof(expect), "https://q.example/item/42?t=%s", t);
	ck_assert_str_eq(u, expect);
	free(u);
	free(t);

	u = links_mailbox("https://q.example", key, "a+b@example.com", 2000);
	ck_assert(strncmp(u, "https://q.example/mailbox?m=a%2Bb%40example.com&t=",
			  50) == 0);
	ck_assert_int_eq(token_verify(key, u + 50, "mailbox", "a+b@example.com",
				      1000, &err), 0);
	free(u);
	u = links_settings("http://h:1", key, "x@y", 2000);
	ck_assert(strncmp(u, "http://h:1/settings?m=x%40y&t=", 30) == 0);
	ck_assert_int_eq(token_verify(key, u + 30, "settings", "x@y", 1000,
				      &err), 0);
	free(u);
	u = links_unsubscribe("http://h:1", key, "x@y", 2000);
	ck_assert(strncmp(u, "http://h:1/unsubscribe?m=x%40y&t=", 33) == 0);
	ck_assert_int_eq(token_verify(key, u + 33, "settings", "x@y", 1000,
				      &err), 0);
	free(u);
	u = links_url_encode("a b&c=d/é~");
	ck_assert_str_eq(u, "a%20b%26c%3Dd%2F%C3%A9~");
	free(u);
}
END_TEST

/* the compact form: right, forged, other subject, expired, case folded */
START_TEST(compact_token)
{
	const char *err = NULL;
	int expired = 0;
	char *t = token_make_compact(key, "reply", "abc x@y", 2000);
	char *upper = strdup(t);

	ck_assert_uint_eq(strlen(t), TOKEN_COMPACT_LEN);
	for (char *p = t; *p; p++)
		ck_assert(islower((unsigned char)*p) || (*p >= '2' && *p <= '7'));
	ck_assert_int_eq(token_verify_compact(key, t, "reply", "abc x@y", 1000,
					      &expired, &err), 0);
	for (char *p = upper; *p; p++)
		*p = (char)toupper((unsigned char)*p);
	ck_assert_int_eq(token_verify_compact(key, upper, "reply", "abc x@y",
					      1000, &expired, &err), 0);
	ck_assert_int_eq(token_verify_compact(key, t, "reply", "abd x@y", 1000,
					      &expired, &err), -1);
	ck_assert_int_eq(expired, 0);
	ck_assert_int_eq(token_verify_compact(key, t, "item", "abc x@y", 1000,
					      &expired, &err), -1);
	ck_assert_int_eq(token_verify_compact(key, t, "reply", "abc x@y", 2001,
					      &expired, &err), -1);
	ck_assert_int_eq(expired, 1);
	t[TOKEN_COMPACT_LEN - 1] = t[TOKEN_COMPACT_LEN - 1] == 'a' ? 'b' : 'a';
	ck_assert_int_eq(token_verify_compact(key, t, "reply", "abc x@y", 1000,
					      &expired, &err), -1);
	ck_assert_int_eq(expired, 0);
	ck_assert_int_eq(token_verify_compact(key, "short", "reply", "abc x@y",
					      1000, &expired, &err), -1);
	free(t);
	free(upper);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("token");
	TCase *tc = tcase_create("token");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, valid_token);
	tcase_add_test(tc, forged_token);
	tcase_add_test(tc, token_from_another_key);
	tcase_add_test(tc, expired_token);
	tcase_add_test(tc, wrong_action);
	tcase_add_test(tc, wrong_subject);
	tcase_add_test(tc, truncated_token);
	tcase_add_test(tc, garbage_token);
	tcase_add_test(tc, key_file_created_0600);
	tcase_add_test(tc, key_survives_reload);
	tcase_add_test(tc, key_refused_if_world_writable);
	tcase_add_test(tc, key_missing_or_short);
	tcase_add_test(tc, links_forms);
	tcase_add_test(tc, compact_token);
	suite_add_tcase(s, tc);
	return check_main_run(s);
}
