/*
 * test-batv.c - prvs= tags: sign, verify, rotation, expiry, replay
 */
#include "autoconfig.h"
#include "batv.h"

#include <check.h>
#include <ctype.h>
#include "check-main.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DAY 20425LL		/* 2025-12-03 */

static char dir[64];
static char path[128];

/* write_keys - a key file of the given text and mode */
static void write_keys(const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_int_eq(chmod(path, mode), 0);
}

/* load - the keys of text, which must load */
static struct batv_keys *load(const char *text)
{
	struct batv_keys *keys = NULL;
	const char *err = NULL;

	write_keys(text, 0600);
	ck_assert_msg(batv_keys_load(path, &keys, &err) == 0, "%s", err);
	return keys;
}

static void setup(void)
{
	strcpy(dir, "/tmp/ndrguard-batv-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/batv-keys", dir);
}

static void teardown(void)
{
	char cmd[160];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
}

static const char *KEYS1 = "1 first-key-of-sixteen-bytes\n";
static const char *KEYS21 = "# rotated\n2 second-key-sixteen-bytes\n"
	"1 first-key-of-sixteen-bytes\n";

START_TEST(sign_then_verify)
{
	struct batv_keys *keys = load(KEYS1);
	char tagged[600], plain[512];
	const char *err = NULL;

	ck_assert_int_eq(batv_sign(keys, "alice@example.org", DAY, 7, tagged,
				   sizeof(tagged), &err), 0);
	/* prvs=K DDD SSSSSS = address; DDD the expiry day mod 1000 */
	ck_assert_int_eq(strlen(tagged), strlen("prvs=1432abcdef=") +
			 strlen("alice@example.org"));
	ck_assert(strncmp(tagged, "prvs=1432", 9) == 0);
	ck_assert_str_eq(tagged + 16, "alice@example.org");
	ck_assert_int_eq(batv_verify(keys, tagged, DAY, 7, plain,
				     sizeof(plain)), BATV_VALID);
	ck_assert_str_eq(plain, "alice@example.org");
	/* case changed on the way back still verifies */
	for (char *p = tagged; *p; p++)
		*p = (char)toupper((unsigned char)*p);
	ck_assert_int_eq(batv_verify(keys, tagged, DAY + 3, 7, NULL, 0),
			 BATV_VALID);
	batv_keys_free(&keys);
	ck_assert_ptr_null(keys);
}
END_TEST

START_TEST(known_vector)
{
	/* HMAC-SHA1("first-key-of-sixteen-bytes", "1432alice@example.org"),
	   first three bytes, computed with openssl dgst -sha1 -hmac */
	struct batv_keys *keys = load(KEYS1);
	char tagged[600], expect[64];
	const char *err = NULL;
	FILE *p = popen("printf %s 1432alice@example.org | openssl dgst "
			"-sha1 -hmac first-key-of-sixteen-bytes | "
			"sed 's/.*= *//' | cut -c1-6", "r");

	ck_assert_ptr_nonnull(p);
	ck_assert_ptr_nonnull(fgets(expect, sizeof(expect), p));
	pclose(p);
	expect[strcspn(expect, "\n")] = '\0';
	ck_assert_int_eq(batv_sign(keys, "Alice@Example.org", DAY, 7, tagged,
				   sizeof(tagged), &err), 0);
	ck_assert(strncmp(tagged + 9, expect, 6) == 0);
	batv_keys_free(&keys);
}
END_TEST

START_TEST(rotation_old_key_verifies)
{
	struct batv_keys *old = load(KEYS1), *rotated;
	char tagged[600], fresh[600];
	const char *err = NULL;

	ck_assert_int_eq(batv_sign(old, "alice@example.org", DAY, 7, tagged,
				   sizeof(tagged), &err), 0);
	rotated = load(KEYS21);
	ck_assert_int_eq(batv_verify(rotated, tagged, DAY + 5, 7, NULL, 0),
			 BATV_VALID);
	ck_assert_int_eq(batv_sign(rotated, "alice@example.org", DAY, 7,
				   fresh, sizeof(fresh), &err), 0);
	ck_assert(fresh[5] == '2');
	/* the old file does not know key 2 */
	ck_assert_int_eq(batv_verify(old, fresh, DAY, 7, NULL, 0),
			 BATV_UNKNOWN_KEY);
	batv_keys_free(&old);
	batv_keys_free(&rotated);
}
END_TEST

START_TEST(expired_tag)
{
	struct batv_keys *keys = load(KEYS1);
	char tagged[600];
	const char *err = NULL;

	ck_assert_int_eq(batv_sign(keys, "alice@example.org", DAY, 7, tagged,
				   sizeof(tagged), &err), 0);
	ck_assert_int_eq(batv_verify(keys, tagged, DAY + 7, 7, NULL, 0),
			 BATV_VALID);
	ck_assert_int_eq(batv_verify(keys, tagged, DAY + 8, 7, NULL, 0),
			 BATV_EXPIRED);
	/* across the modulo-1000 wrap */
	ck_assert_int_eq(batv_sign(keys, "alice@example.org", 20997, 7,
				   tagged, sizeof(tagged), &err), 0);
	ck_assert(strncmp(tagged, "prvs=1004", 9) == 0);
	ck_assert_int_eq(batv_verify(keys, tagged, 21001, 7, NULL, 0),
			 BATV_VALID);
	ck_assert_int_eq(batv_verify(keys, tagged, 21005, 7, NULL, 0),
			 BATV_EXPIRED);
	batv_keys_free(&keys);
}
END_TEST

START_TEST(replayed_for_another_address)
{
	struct batv_keys *keys = load(KEYS1);
	char tagged[600], replay[600];
	const char *err = NULL;

	ck_assert_int_eq(batv_sign(keys, "alice@example.org", DAY, 7, tagged,
				   sizeof(tagged), &err), 0);
	snprintf(replay, sizeof(replay), "%.16sbob@example.org", tagged);
	ck_assert_int_eq(batv_verify(keys, replay, DAY, 7, NULL, 0),
			 BATV_BAD_SIGNATURE);
	/* a changed day is a bad signature too, not a fresh tag */
	tagged[8] = tagged[8] == '9' ? '0' : (char)(tagged[8] + 1);
	ck_assert_int_eq(batv_verify(keys, tagged, DAY, 7, NULL, 0),
			 BATV_BAD_SIGNATURE);
	batv_keys_free(&keys);
}
END_TEST

START_TEST(malformed_tags)
{
	struct batv_keys *keys = load(KEYS1);
	static const char *bad[] = {
		"prvs=", "prvs=1432abcdef", "prvs=1432abcdef=",
		"prvs=1432abcdef=@example.org", "prvs=1432abcdef=alice@",
		"prvs=143abcdef=alice@example.org",
		"prvs=1432abcdeg=alice@example.org",
		"prvs=x432abcdef=alice@example.org",
		"prvs=1432abcdef-alice@example.org",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(batv_verify(keys, bad[i], DAY, 7, NULL, 0) ==
			      BATV_MALFORMED, "%s", bad[i]);
	ck_assert_int_eq(batv_verify(keys, "alice@example.org", DAY, 7, NULL,
				     0), BATV_UNTAGGED);
	ck_assert_int_eq(batv_verify(keys, "prvs=9432abcdef=a@example.org",
				     DAY, 7, NULL, 0), BATV_UNKNOWN_KEY);
	char huge[2000];

	memset(huge, 'a', sizeof(huge) - 1);
	huge[sizeof(huge) - 1] = '\0';
	memcpy(huge, "prvs=1432abcdef=", 16);
	huge[1000] = '@';
	ck_assert_int_eq(batv_verify(keys, huge, DAY, 7, NULL, 0),
			 BATV_MALFORMED);
	ck_assert_str_eq(batv_result_name(BATV_EXPIRED), "expired tag");
	batv_keys_free(&keys);
}
END_TEST

START_TEST(key_file_checks)
{
	struct batv_keys *keys = NULL;
	const char *err = NULL;

	write_keys(KEYS1, 0644);
	ck_assert_int_eq(batv_keys_load(path, &keys, &err), -1);
	ck_assert_ptr_nonnull(strstr(err, "chmod 600"));
	ck_assert_ptr_null(keys);
	write_keys("1 short\n", 0600);
	ck_assert_int_eq(batv_keys_load(path, &keys, &err), -1);
	ck_assert_ptr_nonnull(strstr(err, "16 to 255"));
	write_keys("1 first-key-of-sixteen-bytes\n1 again-key-of-sixteen\n",
		   0600);
	ck_assert_int_eq(batv_keys_load(path, &keys, &err), -1);
	write_keys("# nothing\n\n", 0600);
	ck_assert_int_eq(batv_keys_load(path, &keys, &err), -1);
	write_keys("k first-key-of-sixteen-bytes\n", 0600);
	ck_assert_int_eq(batv_keys_load(path, &keys, &err), -1);
	ck_assert_int_eq(batv_keys_load("/nonexistent/batv", &keys, &err), -1);
	ck_assert_int_eq(batv_keys_load("", &keys, &err), -1);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("batv");
	TCase *tc = tcase_create("batv");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, sign_then_verify);
	tcase_add_test(tc, known_vector);
	tcase_add_test(tc, rotation_old_key_verifies);
	tcase_add_test(tc, expired_tag);
	tcase_add_test(tc, replayed_for_another_address);
	tcase_add_test(tc, malformed_tags);
	tcase_add_test(tc, key_file_checks);
	suite_add_tcase(s, tc);
	return check_main_run(s);
}
