/*
 * test-dkim.c - our DKIM header signature on a returned original
 *
 * The keys are made here (as openssl genpkey makes them) and the
 * signature is computed over a canonical form written out by hand, so
 * the check is tested against RFC 6376's text, not against itself.
 */
#include "autoconfig.h"
#include "dkim.h"
#include "check-main.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

static char dir[] = "/tmp/test-dkim-XXXXXX";

/* keygen - a key pair of type (EVP_PKEY_RSA, EVP_PKEY_ED25519) */
static EVP_PKEY *keygen(int type)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_id(type, NULL);
	EVP_PKEY *pkey = NULL;

	ck_assert_ptr_nonnull(ctx);
	ck_assert_int_eq(EVP_PKEY_keygen_init(ctx), 1);
	if (type == EVP_PKEY_RSA)
		EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, 2048);
	ck_assert_int_eq(EVP_PKEY_keygen(ctx, &pkey), 1);
	EVP_PKEY_CTX_free(ctx);
	return pkey;
}

/* write_pub - the public half as PEM at dir/name */
static void write_pub(EVP_PKEY *pkey, const char *name, char *path_r)
{
	sprintf(path_r, "%s/%s", dir, name);
	FILE *f = fopen(path_r, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(PEM_write_PUBKEY(f, pkey), 1);
	fclose(f);
}

/* sign_b64 - b= over data: rsa-sha256, or ed25519 over its SHA-256 */
static void sign_b64(EVP_PKEY *pkey, const char *data, char *b64)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char sig[512], hash[32];
	size_t len = sizeof(sig);

	if (EVP_PKEY_base_id(pkey) == EVP_PKEY_RSA) {
		ck_assert_int_eq(EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, pkey), 1);
		ck_assert_int_eq(EVP_DigestSign(ctx, sig, &len,
			(const unsigned char *)data, strlen(data)), 1);
	} else {
		EVP_Digest(data, strlen(data), hash, NULL, EVP_sha256(), NULL);
		ck_assert_int_eq(EVP_DigestSignInit(ctx, NULL, NULL, NULL, pkey), 1);
		ck_assert_int_eq(EVP_DigestSign(ctx, sig, &len, hash, 32), 1);
	}
	EVP_MD_CTX_free(ctx);
	EVP_EncodeBlock((unsigned char *)b64, sig, (int)len);
}

static int ours(const char *domain, void *context)
{
	(void)context;
	return strcmp(domain, "ours.test") == 0;
}


struct msg {
	const char *names[6];
	char *values[6];
	char sigval[2048];
};

/* build - an original's header fields and our signature over them */
static void build(struct msg *m, EVP_PKEY *pkey, const char *alg,
		  const char *domain)
{
	char tags[512], data[2048], b64[1024];

	snprintf(tags, sizeof(tags), "v=1; a=%s; c=relaxed/relaxed; d=%s;"
		 " s=sel1; bh=47DEQpj8HBSTa+/TImW+5JCeuQeRkm5NMpbWVNvoXhY=;"
		 " h=From:To:Subject:Message-ID; b=", alg, domain);
	/* RFC 6376 3.4.2 by hand: lower-case names, no blanks at the colon */
	snprintf(data, sizeof(data),
		 "from:Bob <bob@ours.test>\r\nto:x@remote.test\r\n"
		 "subject:hello there\r\nmessage-id:<abc@ours.test>\r\n"
		 "dkim-signature:%s", tags);
	sign_b64(pkey, data, b64);
	snprintf(m->sigval, sizeof(m->sigval), "%s%s", tags, b64);
	const char *n[6] = { "DKIM-Signature", "From", "To", "Subject",
			     "Message-ID", "Received" };
	const char *v[6] = { m->sigval, "Bob <bob@ours.test>", "x@remote.test",
			     "hello   there", "<abc@ours.test>", "by mx.ours.test" };
	for (int i = 0; i < 6; i++) {
		m->names[i] = n[i];
		m->values[i] = strdup(v[i]);
	}
}

static void msg_free(struct msg *m)
{
	for (int i = 0; i < 6; i++)
		free(m->values[i]);
}

static enum dkim_result verify(struct dkim_keys *keys, struct msg *m,
			       const char **detail)
{
	return dkim_verify_headers(keys, m->names,
				   (const char *const *)m->values, 6, ours,
				   NULL, detail);
}

/* load - keys from "sel1=PATH" */
static struct dkim_keys *load(const char *path)
{
	char spec[600];
	struct dkim_keys *keys;
	const char *error;

	snprintf(spec, sizeof(spec), "sel1=%s", path);
	ck_assert_int_eq(dkim_keys_load(spec, &keys, &error), 0);
	return keys;
}

static void check_alg(int type, const char *alg)
{
	EVP_PKEY *pkey = keygen(type), *other = keygen(type);
	char path[512], wrong[512];
	struct dkim_keys *keys, *wrong_keys;
	const char *detail;
	struct msg m;

	write_pub(pkey, "pub.pem", path);
	write_pub(other, "other.pem", wrong);
	keys = load(path);
	wrong_keys = load(wrong);

	/* valid, with bh= present and no body at all (it was cut) */
	build(&m, pkey, alg, "ours.test");
	ck_assert_int_eq(verify(keys, &m, &detail), DKIM_PASS);
	ck_assert_str_eq(detail, "our DKIM signature");
	/* signed with another key than ours */
	ck_assert_int_eq(verify(wrong_keys, &m, &detail), DKIM_FAIL);
	/* a signed header changed */
	free(m.values[3]);
	m.values[3] = strdup("hello there!");
	ck_assert_int_eq(verify(keys, &m, &detail), DKIM_FAIL);
	msg_free(&m);

	/* bh= itself changed: it is signed, so this fails too */
	build(&m, pkey, alg, "ours.test");
	char *bh = strstr(m.values[0], "bh=47");
	bh[3] = '5';
	ck_assert_int_eq(verify(keys, &m, &detail), DKIM_FAIL);
	msg_free(&m);

	/* not our domain: not ours to judge, whatever it says */
	build(&m, pkey, alg, "elsewhere.test");
	ck_assert_int_eq(verify(keys, &m, &detail), DKIM_NONE);
	msg_free(&m);

	dkim_keys_free(&keys);
	dkim_keys_free(&wrong_keys);
	ck_assert_ptr_null(keys);
	EVP_PKEY_free(pkey);
	EVP_PKEY_free(other);
}

START_TEST(test_rsa)
{
	check_alg(EVP_PKEY_RSA, "rsa-sha256");
}
END_TEST

START_TEST(test_ed25519)
{
	check_alg(EVP_PKEY_ED25519, "ed25519-sha256");
}
END_TEST

START_TEST(test_malformed)
{
	const char *names[2] = { "DKIM-Signature", "From" };
	const char *bad[] = {
		"v=1; d=ours.test; s=sel1; h=From; b=!!!notbase64",
		"d=ours.test",
		"d=ours.test; s=sel1; a=rsa-sha256; h=From; b=",
		";;;==;d=ours.test;;",
	};
	const char *detail;
	struct dkim_keys *keys;
	const char *error;

	ck_assert_int_eq(dkim_keys_load(NULL, &keys, &error), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *values[2] = { bad[i], "a@ours.test" };
		ck_assert_int_eq(dkim_verify_headers(keys, names, values, 2,
			ours, NULL, &detail), DKIM_FAIL);
	}
	/* a selector we hold no key for is not evidence either way */
	const char *values[2] = { "v=1; a=rsa-sha256; d=ours.test; s=other;"
				  " h=From; b=AAAA", "a@ours.test" };
	ck_assert_int_eq(dkim_verify_headers(keys, names, values, 2, ours,
					     NULL, &detail), DKIM_UNKNOWN);
	dkim_keys_free(&keys);
	ck_assert_int_eq(dkim_keys_load("sel1=/nonexistent.pem", &keys,
					&error), -1);
	ck_assert_int_eq(dkim_keys_load("noequals", &keys, &error), -1);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("dkim");
	TCase *tc = tcase_create("dkim");
	int ret;

	if (mkdtemp(dir) == NULL)
		return 1;
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_rsa);
	tcase_add_test(tc, test_ed25519);
	tcase_add_test(tc, test_malformed);
	suite_add_tcase(s, tc);
	ret = check_main_run(s);
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		ret = 1;
	return ret;
}
