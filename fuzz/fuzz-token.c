/*
 * fuzz-token.c - libFuzzer target for the digest links' tokens
 *
 * With a fixed key, each input is used three ways:
 *   1. as a token string, verified for "item" 123, "mailbox" and
 *	"settings" alice@example.org: when one verifies, it must be the
 *	very string token_make() gives for its expiry (one spelling only);
 *   2. split at NUL bytes into action, subject and expiry: the token
 *	token_make() returns verifies for them until it expires, not for
 *	another action or subject, not after expiry, and not once any one
 *	of its characters is changed;
 *   3. the subject as a mailbox in links_mailbox()/links_settings()/
 *	links_unsubscribe() and links_item(): the address decoded from
 *	the link's m= is the mailbox, and its t= verifies.
 * And once, at the start: every string one byte away from a real token
 * (54 positions x 255 other byte values) is refused.
 * The seeds (fuzz/seeds/token) hold real tokens made with this key.
 */
#include "autoconfig.h"
#include "links.h"
#include "token.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_TOKEN_LEN 54
#define FUZZ_TOKEN_NOW 1795000000LL	/* 2026-11-18 */

static const char fuzz_token_b64[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static void fuzz_token_must(int ok, const char *what, const char *token);

/* fuzz_token_every_change - once: each of the 54 x 255 strings one byte
   away from a real token is refused */
static void fuzz_token_every_change(const struct token_key *key)
{
	char *token = token_make(key, "item", "123", FUZZ_TOKEN_NOW + 86400);
	const char *error;

	fuzz_token_must(token_verify(key, token, "item", "123", FUZZ_TOKEN_NOW,
				     &error) == 0, "made but refused", token);
	for (size_t i = 0; i < FUZZ_TOKEN_LEN; i++) {
		char saved = token[i];

		for (int c = 1; c < 256; c++) {
			if ((char)c == saved)
				continue;
			token[i] = (char)c;
			fuzz_token_must(token_verify(key, token, "item", "123",
						     FUZZ_TOKEN_NOW, &error) < 0,
					"valid with one byte changed", token);
		}
		token[i] = saved;
	}
	free(token);
}

static struct token_key *fuzz_token_key(void)
{
	static struct token_key *key;
	char path[] = "/tmp/fuzz-token-key.XXXXXX";
	const char *error;
	int fd;

	if (key != NULL)
		return key;
	if ((fd = mkstemp(path)) < 0 ||
	    write(fd, "0123456789abcdef0123456789ABCDEF", 32) != 32)
		abort();
	close(fd);
	if (token_key_load(path, 0, &key, &error) < 0) {
		fprintf(stderr, "%s\n", error);
		abort();
	}
	unlink(path);
	fuzz_token_every_change(key);
	return key;
}

/* fuzz_token_expiry - the expiry the first 8 bytes of a token carry */
static long long fuzz_token_expiry(const char *token)
{
	uint64_t acc = 0, v = 0;
	int bits = 0, got = 0;

	for (int i = 0; i < FUZZ_TOKEN_LEN && got < 8; i++) {
		acc = acc << 6 | (uint64_t)(strchr(fuzz_token_b64, token[i])
					    - fuzz_token_b64);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			v = v << 8 | ((acc >> bits) & 0xff);
			got++;
		}
	}
	return (long long)v;
}

static void fuzz_token_verify_string(const struct token_key *key,
				     const char *text)
{
	static const char *const pairs[][2] = {
		{ "item", "123" },
		{ "mailbox", "alice@example.org" },
		{ "settings", "alice@example.org" },
	};
	const char *error;

	for (size_t i = 0; i < 3; i++) {
		if (token_verify(key, text, pairs[i][0], pairs[i][1],
				 FUZZ_TOKEN_NOW, &error) < 0)
			continue;
		char *canon = token_make(key, pairs[i][0], pairs[i][1],
					 fuzz_token_expiry(text));
		if (strcmp(canon, text) != 0) {
			fprintf(stderr, "%s verifies, but %s is the token\n",
				text, canon);
			abort();
		}
		free(canon);
	}
}

static void fuzz_token_must(int ok, const char *what, const char *token)
{
	if (!ok) {
		fprintf(stderr, "%s: %s\n", what, token);
		abort();
	}
}

static void fuzz_token_roundtrip(const struct token_key *key,
				 const char *action, const char *subject,
				 long long expires)
{
	char *token = token_make(key, action, subject, expires);
	size_t alen = strlen(action);
	char *other = malloc(alen + 2);
	const char *error;

	fuzz_token_must(strlen(token) == FUZZ_TOKEN_LEN &&
			strspn(token, fuzz_token_b64) == FUZZ_TOKEN_LEN,
			"not 54 URL-safe characters", token);
	fuzz_token_must(token_verify(key, token, action, subject, expires,
				     &error) == 0, "made but refused", token);
	if (expires < INT64_MAX)
		fuzz_token_must(token_verify(key, token, action, subject,
					     expires + 1, &error) < 0,
				"valid after its expiry", token);
	memcpy(other, action, alen);
	memcpy(other + alen, "x", 2);
	fuzz_token_must(token_verify(key, token, other, subject, expires,
				     &error) < 0, "valid for another action",
			token);
	fuzz_token_must(token_verify(key, token, subject, action, expires,
				     &error) < 0 || strcmp(action, subject) == 0,
			"valid with action and subject swapped", token);
	for (size_t i = 0; i < FUZZ_TOKEN_LEN; i++) {
		char saved = token[i];

		/* the next alphabet letter, and the other case of a letter */
		token[i] = fuzz_token_b64[(strchr(fuzz_token_b64, saved) -
					   fuzz_token_b64 + 1) % 64];
		fuzz_token_must(token_verify(key, token, action, subject,
					     expires, &error) < 0,
				"valid with one character changed", token);
		token[i] = saved ^ 0x20;
		fuzz_token_must(token_verify(key, token, action, subject,
					     expires, &error) < 0,
				"valid with one character changed", token);
		token[i] = saved;
	}
	free(other);
	free(token);
}

static int fuzz_token_hex(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F'
		? c - 'A' + 10 : -1;
}

/* fuzz_token_link - check m= and t= of a mailbox link */
static void fuzz_token_link(const struct token_key *key, char *url,
			    const char *action, const char *mailbox,
			    long long expires)
{
	char *m = NULL, *t = NULL, *addr, *o;
	const char *error;

	/* the base URL may hold anything: the last ones are the link's */
	for (char *p = strstr(url, "?m="); p != NULL; p = strstr(p + 1, "?m="))
		m = p;
	for (char *p = strstr(url, "&t="); p != NULL; p = strstr(p + 1, "&t="))
		t = p;
	fuzz_token_must(m != NULL && t != NULL && t > m &&
			strchr(t + 3, '&') == NULL, "link form", url);
	addr = o = calloc(1, (size_t)(t - m));
	for (char *p = m + 3; p < t; p++) {
		fuzz_token_must(*p != '&' && *p != '#' && *p != '?' &&
				*p != '+' && *p != ' ', "bare reserved byte",
				url);
		if (*p == '%') {
			int hi = fuzz_token_hex(p[1]), lo = hi < 0 ? -1
				: fuzz_token_hex(p[2]);
			fuzz_token_must(lo >= 0, "bad percent-encoding", url);
			*o++ = (char)(hi << 4 | lo);
			p += 2;
		} else {
			*o++ = *p;
		}
	}
	fuzz_token_must(strcmp(addr, mailbox) == 0,
			"m= is not the mailbox", url);
	fuzz_token_must(token_verify(key, t + 3, action, mailbox, expires,
				     &error) == 0, "t= refused", url);
	free(addr);
	free(url);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct token_key *key = fuzz_token_key();
	char *copy = malloc(size + 1), *action, *subject, *rest;
	long long expires = 0;
	size_t alen, slen;
	const char *error;

	memcpy(copy, data, size);
	copy[size] = '\0';
	fuzz_token_verify_string(key, copy);

	action = copy;
	alen = strlen(action);
	subject = alen < size ? copy + alen + 1 : copy + size;
	slen = strlen(subject);
	rest = subject + slen < copy + size ? subject + slen + 1 : copy + size;
	for (size_t i = 0; i < 8 && rest + i < copy + size; i++)
		expires = (long long)((uint64_t)expires << 8 | (uint8_t)rest[i]);
	fuzz_token_roundtrip(key, action, subject, expires);

	fuzz_token_link(key, links_mailbox("https://q.example/", key, subject,
					   expires), "mailbox", subject,
			expires);
	fuzz_token_link(key, links_settings("https://q.example", key, subject,
					    expires), "settings", subject,
			expires);
	fuzz_token_link(key, links_unsubscribe(action, key, subject, expires),
			"settings", subject, expires);
	char *item = links_item("", key, expires, FUZZ_TOKEN_NOW + 3600);
	char subj[32], *t = strstr(item, "?t=");
	snprintf(subj, sizeof(subj), "%lld", expires);
	fuzz_token_must(t != NULL && token_verify(key, t + 3, "item", subj,
						  FUZZ_TOKEN_NOW, &error) == 0,
			"item link refused", item);
	free(item);
	free(copy);
	return 0;
}
