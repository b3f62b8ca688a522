/*
 * fuzz-web.c - libFuzzer target for the release page's HTTP handling
 *
 * The real server (web_server_start(), libmicrohttpd and every page) runs
 * in this process on a loopback port, over a quarantine database with a
 * few held messages, release_mode = request and an admin account. Each
 * input is the raw bytes of one client connection: written, the write
 * side shut, and the answer read to the end. So the fuzzer drives
 * libmicrohttpd's request parsing and, through it, our routing, query
 * arguments, form bodies (urlencoded and the one-click multipart),
 * tokens, Accept-Language, Basic auth, Origin checks and the pages.
 *
 * The key is the one fuzz-token.c uses, and the items are made with
 * fixed ids, so the seeds (fuzz/seeds/web) carry tokens that verify and
 * reach the pages behind them. The admin's password is "fuzz"; its hash
 * has the fewest iterations allowed, to keep each guess cheap.
 *
 * What is checked besides memory safety: an answer, when there is one,
 * is an HTTP/1.x status line; no answer is a 500 (a request must never
 * make the server fail; bad requests are 4xx); and no answer holds the
 * markup "<fz" (http.dict offers it, raw and percent-encoded): nothing
 * of ours writes it, so it would be the request's own bytes reflected
 * unescaped.
 */
#include "autoconfig.h"
#include "config.h"
#include "store.h"
#include "token.h"
#include "web.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#ifndef FUZZ_TOP
#define FUZZ_TOP "."
#endif

/* "fuzz", 1000 iterations, salt "fuzz-salt-16byte" */
#define FUZZ_WEB_HASH "pbkdf2-sha256$1000$ZnV6ei1zYWx0LTE2Ynl0ZQ==$" \
	"qHboZTWr9QGQyrgm0CSeG1FVU0SmrpmlVT6iFXKW/MI="

static struct web_server *fuzz_web_server;
static struct sockaddr_in fuzz_web_addr;

static const char fuzz_web_dsn[] =
	"From: MAILER-DAEMON@mx.example.net\n"
	"To: alice@example.org\n"
	"Subject: Undelivered Mail Returned to Sender\n"
	"Date: Thu, 26 Nov 2026 10:00:00 +0000\n"
	"MIME-Version: 1.0\n"
	"Content-Type: multipart/report; report-type=delivery-status;\n"
	"\tboundary=\"b1\"\n"
	"\n"
	"--b1\n"
	"Content-Type: text/plain\n"
	"\n"
	"<alice@example.org>: host mx.example.com said: 550 5.1.1 no such "
	"user <script>x</script>\n"
	"--b1\n"
	"Content-Type: message/delivery-status\n"
	"\n"
	"Reporting-MTA: dns; mx.example.net\n"
	"\n"
	"Final-Recipient: rfc822; nobody@example.com\n"
	"Action: failed\n"
	"Status: 5.1.1\n"
	"Diagnostic-Code: smtp; 550 5.1.1 no such user\n"
	"--b1\n"
	"Content-Type: message/rfc822\n"
	"\n"
	"From: alice@example.org\n"
	"To: nobody@example.com\n"
	"Subject: =?UTF-8?B?w6lsw6ls?= \"quoted\" & <b>\n"
	"Message-ID: <m1@example.org>\n"
	"\n"
	"body\n"
	"--b1--\n";

static char fuzz_web_dir[64];

/* fuzz_web_cleanup - the database goes with the process */
static void fuzz_web_cleanup(void)
{
	char path[96];

	snprintf(path, sizeof(path), "%s/q.db", fuzz_web_dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/q.db-wal", fuzz_web_dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/q.db-shm", fuzz_web_dir);
	unlink(path);
	rmdir(fuzz_web_dir);
}

static void fuzz_web_die(const char *what, const char *error)
{
	fprintf(stderr, "fuzz-web: %s: %s\n", what, error ? error : "");
	exit(1);
}

/* fuzz_web_store - a fresh database with held messages 1..4 */
static void fuzz_web_store(const char *path)
{
	struct store_options opts = { .busy_timeout_ms = 1000, .create = 1 };
	static const char *const rcpts[] = {
		"alice@example.org", "alice@example.org",
		"alice@example.org", "bob@example.org",
	};
	static const char *const verdicts[] = {
		"backscatter", "legit", "unknown", "backscatter",
	};
	struct store *st;
	const char *error;
	long long now = (long long)time(NULL), id;
	int dup;

	if (store_open(path, &opts, &st, &error) < 0)
		fuzz_web_die("store_open", error);
	for (int i = 0; i < 4; i++) {
		struct store_item item = {
			.queue_id = "4F3A2C1",
			.sender = "",
			.recipient = rcpts[i],
			.arrived = now - 3600 * (i + 1),
			.kind = "dsn",
			.status = "5.1.1",
			.reason = "unknown_user",
			.reporting_mta = "mx.example.net",
			.verdict = verdicts[i],
			.evidence = "no Message-ID of ours",
			.orig_subject = "\"quoted\" & <b>",
			.orig_from = "alice@example.org",
			.orig_message_id = "<m1@example.org>",
			.raw = fuzz_web_dsn,
			.size = sizeof(fuzz_web_dsn) - 1 - (size_t)i,
		};
		if (store_item_add(st, &item, &id, &dup, &error) < 0)
			fuzz_web_die("item_add", error);
	}
	store_close(&st);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static char dir[] = "/tmp/fuzz-web.XXXXXX";
	char db[64], keyfile[64];
	struct token_key *key;
	struct settings set;
	socklen_t len = sizeof(fuzz_web_addr);
	const char *error;
	FILE *fp;
	int fd;

	(void)argc;
	(void)argv;
	signal(SIGPIPE, SIG_IGN);
	if (mkdtemp(dir) == NULL)
		fuzz_web_die("mkdtemp", strerror(errno));
	snprintf(db, sizeof(db), "%s/q.db", dir);
	snprintf(keyfile, sizeof(keyfile), "%s/secret", dir);
	fuzz_web_store(db);
	umask(077);
	fp = fopen(keyfile, "w");
	if (fp == NULL || fputs("0123456789abcdef0123456789ABCDEF", fp) < 0 ||
	    fclose(fp) != 0)
		fuzz_web_die("secret", strerror(errno));
	if (token_key_load(keyfile, 0, &key, &error) < 0)
		fuzz_web_die("token_key_load", error);
	unlink(keyfile);
	snprintf(fuzz_web_dir, sizeof(fuzz_web_dir), "%s", dir);
	atexit(fuzz_web_cleanup);

	if (config_parse_text(&set, "fuzz",
		"database = /dev/null\n"
		"base_url = http://q.example/\n"
		"reinject = smtp:127.0.0.1:9\n"
		"release_mode = request\n"
		"release_notify = postmaster@example.org\n"
		"admin_user = admin\n"
		"admin_password_hash = " FUZZ_WEB_HASH "\n"
		"http_listen = inet:127.0.0.1:0\n"
		"http_threads = 1\n"
		"http_rate_limit = 0\n"
		"http_client_connections = 0\n"
		"http_timeout = 2s\n"
		"busy_timeout = 2s\n"
		"digest_templates = " FUZZ_TOP "/templates\n", &error) < 0)
		fuzz_web_die("config", error);
	free(set.database);
	set.database = strdup(db);
	if ((fd = web_server_listen(&set, &error)) < 0)
		fuzz_web_die("web_server_listen", error);
	if (getsockname(fd, (struct sockaddr *)&fuzz_web_addr, &len) < 0)
		fuzz_web_die("getsockname", strerror(errno));
	if (web_server_start(&set, key, fd, &fuzz_web_server, &error) < 0)
		fuzz_web_die("web_server_start", error);
	settings_free(&set);
	/* the server and the key live as long as the process */
	return 0;
}

/*
 * fuzz_web_complete - whether the last answer in buf looks whole: its
 * header ended, and as many body bytes as its Content-Length says
 */
static int fuzz_web_complete(const char *buf, size_t len)
{
	const char *last = buf, *end, *cl;

	for (const char *p = buf; (p = memmem(p, len - (size_t)(p - buf),
					      "\nHTTP/1.", 8)) != NULL; p++)
		last = p + 1;
	end = memmem(last, len - (size_t)(last - buf), "\r\n\r\n", 4);
	if (end == NULL)
		return 0;
	end += 4;
	cl = strcasestr(last, "\r\nContent-Length:");
	if (cl == NULL || cl > end)
		return 1;
	return (size_t)(buf + len - end) >= strtoull(cl + 17, NULL, 10);
}

/*
 * fuzz_web_exchange - send data, shut the write side, read the answer.
 * libmicrohttpd keeps a half-closed connection open until http_timeout
 * after answering, so the read stops soon after the answer looks whole
 * (50 ms more for pipelined ones), or 500 ms after the last byte when it
 * cannot tell (HEAD, a cut answer).
 */
static void fuzz_web_exchange(const uint8_t *data, size_t size,
			      char *answer, size_t answer_size,
			      size_t *len_r)
{
	struct pollfd pfd;
	size_t done = 0, got = 0;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	*len_r = 0;
	pfd.fd = fd;
	pfd.events = POLLOUT;
	if (fd < 0)
		fuzz_web_die("socket", strerror(errno));
	/* libFuzzer's timer signals interrupt: the connect goes on */
	if (connect(fd, (struct sockaddr *)&fuzz_web_addr,
		    sizeof(fuzz_web_addr)) < 0) {
		int err = errno;
		socklen_t elen = sizeof(err);

		while (err == EINTR && poll(&pfd, 1, 1000) < 0 &&
		       errno == EINTR)
			;
		if (err == EINTR &&
		    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0)
			err = errno;
		if (err != 0)
			fuzz_web_die("connect", strerror(err));
	}
	while (done < size) {
		ssize_t n = send(fd, data + done, size - done, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;	/* the server may close before reading all */
		done += (size_t)n;
	}
	pfd.events = POLLIN;
	/* the end of input as an event of its own, after the server read
	   the bytes: when it comes with them, it goes unnoticed until the
	   connection times out */
	poll(&pfd, 1, 2);
	shutdown(fd, SHUT_WR);
	for (;;) {
		int wait = got == 0 ? 8000
			: fuzz_web_complete(answer, got) ? 50 : 500;
		ssize_t n;
		int rc = poll(&pfd, 1, wait);

		if (rc < 0 && errno == EINTR)
			continue;
		if (rc == 0 && got == 0) {
			/* nothing at all in 8 s (http_timeout is 2 s): a hang */
			fprintf(stderr, "fuzz-web: no answer and no close\n");
			abort();
		}
		if (rc <= 0)
			break;
		if (got + 1 < answer_size) {
			n = read(fd, answer + got, answer_size - 1 - got);
		} else {
			char discard[4096];
			n = read(fd, discard, sizeof(discard));
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (got + 1 < answer_size)
			got += (size_t)n;
		answer[got] = '\0';
	}
	answer[got] = '\0';
	*len_r = got;
	close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char answer[65536];
	size_t len;

	fuzz_web_exchange(data, size, answer, sizeof(answer), &len);
	/* FUZZ_WEB_SHOW=1: print the status lines, to see what seeds reach */
	if (getenv("FUZZ_WEB_SHOW") != NULL)
		for (const char *p = answer; p != NULL && len > 0;
		     p = strstr(p + 1, "\nHTTP/1."))
			fprintf(stderr, "answer: %.*s\n",
				(int)strcspn(p + (*p == '\n'), "\r\n"),
				p + (*p == '\n'));
	if (len == 0)
		return 0;
	if (len < 12 || strncmp(answer, "HTTP/1.", 7) != 0) {
		fprintf(stderr, "fuzz-web: not an HTTP answer: %.100s\n",
			answer);
		abort();
	}
	if (memmem(answer, len, "<fz", 3) != NULL) {
		fprintf(stderr, "fuzz-web: request markup reflected:\n%.4000s\n",
			answer);
		abort();
	}
	/* pipelined requests: every status line on the connection */
	for (const char *p = answer; p != NULL; p = strstr(p + 1, "\nHTTP/1.")) {
		const char *status = strchr(p, ' ');

		if (status != NULL && strncmp(status + 1, "500", 3) == 0) {
			fprintf(stderr, "fuzz-web: a request made the server "
				"fail:\n%.2000s\n", answer);
			abort();
		}
	}
	return 0;
}
