/*
 * fuzz-lmtp.c - libFuzzer target for ndrguardd's LMTP server side
 *
 * Each input is what a client sends on one connection. It is written
 * into a socketpair, the write side shut, and the real session code
 * (server-conn.c: the connection's buffers; lmtp-session.c: command
 * lines, dot-unstuffing of the message data)
 * with the real command set (lmtp-commands.c: LHLO, MAIL FROM:<..>
 * SIZE= BODY=, RCPT TO:<..>, XFORWARD, ...) and lmtp-deliver.c (the
 * queue id from Received:) runs on the other end until EOF or QUIT.
 * The decision itself (classification, quarantine, re-injection) is
 * stubbed out below: it has targets of its own (fuzz-classify) and
 * would need a database and a next hop.
 *
 * The first input byte picks the limits: the defaults, or the smallest
 * message size, line length and recipient count the config allows, so
 * that the "too big" and "too long" paths are reachable.
 *
 * What is checked besides memory safety: every reply line is CRLF-ended,
 * starts with a three-digit code and a space or dash, and holds no other
 * CR, LF or NUL (a client splits replies on those); and when the session
 * ends, every store_writer_expect() it made was answered by exactly one
 * store_writer_unexpect() or by an announced item of
 * store_writer_decide_many().
 */
#include "autoconfig.h"
#include "config.h"
#include "daemon-config.h"
#include "deliver.h"
#include "lmtp.h"
#include "metrics.h"
#include "store-writer.h"
#include "strbuf.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct daemon_config fuzz_lmtp_cfg[2];
static int fuzz_lmtp_which;

/* --- what ndrguardd's other files would provide --- */

struct daemon_config *daemon_config_get(void)
{
	return &fuzz_lmtp_cfg[fuzz_lmtp_which];
}

void daemon_config_unref(struct daemon_config **_cfg)
{
	*_cfg = NULL;
}

const char *server_hostname(void)
{
	return "mx.example.org";
}

int server_stopping(void)
{
	return 0;	/* the daemon never stops here */
}

void log_info(const char *fmt, ...) { (void)fmt; }
void log_warning(const char *fmt, ...) { (void)fmt; }
void log_error(const char *fmt, ...) { (void)fmt; }
void metrics_count(enum metric_id id) { (void)id; }

/* announcements (store_writer_expect()) not yet answered */
static int fuzz_lmtp_announced;

void store_writer_expect(void)
{
	fuzz_lmtp_announced++;
}

void store_writer_unexpect(void)
{
	if (--fuzz_lmtp_announced < 0) {
		fprintf(stderr, "store_writer_unexpect() without expect\n");
		abort();
	}
}

int deliver_prepare(const struct deliver_env *env,
		    const struct deliver_request *req,
		    struct deliver_result *result_r)
{
	int hold = 0;

	(void)env;
	memset(result_r, 0, sizeof(*result_r));
	result_r->outcomes = calloc(req->recipient_count,
				    sizeof(*result_r->outcomes));
	result_r->outcome_count = req->recipient_count;
	for (size_t i = 0; i < req->recipient_count; i++)
		result_r->outcomes[i].recipient = req->recipients[i];
	/* the message's bytes decide, as a classifier would */
	if (req->len > 0 && req->msg[req->len / 2] == 'H')
		hold = 1;
	return hold;
}

/* the store writer's answer: held, or failed for a message with 'E' */
static void fuzz_lmtp_decide(struct deliver_batch_item *item)
{
	const struct deliver_request *req = item->req;

	if (req->len > 0 && req->msg[0] == 'E') {
		item->status = -1;
		snprintf(item->error, sizeof(item->error),
			 "database is locked\r\n(again)");
		return;
	}
	item->status = 0;
	for (size_t i = 0; i < item->result->outcome_count; i++) {
		item->result->outcomes[i].action = DELIVER_HOLD;
		item->result->outcomes[i].item_id = (long long)i + 1;
	}
}

void store_writer_decide_many(struct deliver_batch_item **items, size_t n,
			      unsigned int announced)
{
	while (announced-- > 0)
		store_writer_unexpect();
	for (size_t i = 0; i < n; i++)
		fuzz_lmtp_decide(items[i]);
}

int deliver_pass_on(const struct deliver_env *env,
		    const struct deliver_request *req,
		    const struct deliver_result *result, const char **error_r)
{
	(void)env;
	(void)result;
	if (req->len > 0 && req->msg[0] == 'F') {
		*error_r = "next hop said\r\nno";
		return -1;
	}
	return 0;
}

void deliver_format_log(const struct deliver_env *env,
			const struct deliver_request *req,
			const struct deliver_result *result,
			const struct deliver_outcome *outcome,
			struct strbuf *out)
{
	(void)env;
	(void)result;
	strbuf_printf(out, "%s: to=<%s>, from=<%s>",
		      req->queue_id ? req->queue_id : "NOQUEUE",
		      outcome->recipient, req->sender);
}

void deliver_env_init(struct deliver_env *env, const struct settings *set,
		      const struct relays *relays)
{
	memset(env, 0, sizeof(*env));
	env->database = set->database;
	env->reinject = set->reinject;
	env->storm.threshold = set->storm_threshold;
	env->relays = relays;
	env->classify_limit = set->message_size_limit;
}

void deliver_result_free(struct deliver_result *result)
{
	free(result->outcomes);
	result->outcomes = NULL;
	result->outcome_count = 0;
}

/* --- the harness --- */

static void fuzz_lmtp_init(void)
{
	struct settings *small = &fuzz_lmtp_cfg[1].set;

	config_defaults(&fuzz_lmtp_cfg[0].set);
	config_defaults(small);
	small->message_size_limit = 1024;
	small->lmtp_line_length_limit = 512;
	small->lmtp_recipient_limit = 2;
	for (int i = 0; i < 2; i++) {
		/* no waiting: the whole input is there, then EOF */
		fuzz_lmtp_cfg[i].set.lmtp_command_timeout = 5;
		fuzz_lmtp_cfg[i].set.lmtp_idle_timeout = 5;
		fuzz_lmtp_cfg[i].refcount = 1;
	}
}

struct fuzz_lmtp_drain {
	int fd;
	struct strbuf out;
};

static void *fuzz_lmtp_drain(void *arg)
{
	struct fuzz_lmtp_drain *d = arg;
	char buf[8192];
	ssize_t n;

	while ((n = read(d->fd, buf, sizeof(buf))) > 0)
		strbuf_append(&d->out, buf, (size_t)n);
	return NULL;
}

/* fuzz_lmtp_check_replies - abort on a reply line a client would misread */
static void fuzz_lmtp_check_replies(const char *p, size_t len)
{
	size_t i = 0;

	while (i < len) {
		const char *line = p + i;
		const char *lf = memchr(line, '\n', len - i);
		size_t n;

		if (lf == NULL || lf == line || lf[-1] != '\r') {
			fprintf(stderr, "reply not CRLF-ended: %.*s\n",
				(int)(len - i > 200 ? 200 : len - i), line);
			abort();
		}
		n = (size_t)(lf - line) - 1;
		if (n < 4 || line[0] < '2' || line[0] > '5' ||
		    line[1] < '0' || line[1] > '9' ||
		    line[2] < '0' || line[2] > '9' ||
		    (line[3] != ' ' && line[3] != '-')) {
			fprintf(stderr, "reply without a code: %.*s\n",
				(int)n, line);
			abort();
		}
		if (memchr(line, '\r', n) != NULL ||
		    memchr(line, '\0', n) != NULL) {
			fprintf(stderr, "CR or NUL inside a reply: %.*s\n",
				(int)n, line);
			abort();
		}
		i += n + 2;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int initialised;
	struct fuzz_lmtp_drain drain = { .fd = -1, .out = STRBUF_INIT };
	struct lmtp_session s;
	static struct server_conn conn;	/* its 16 kB buffer: not on the stack */
	pthread_t thread;
	int sv[2];
	size_t done = 0;

	if (!initialised) {
		fuzz_lmtp_init();
		initialised = 1;
	}
	if (size == 0)
		return 0;
	fuzz_lmtp_which = data[0] & 1;
	data++;
	size--;
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		abort();
	/* inputs are far smaller than a socket buffer: written at once */
	while (done < size) {
		ssize_t n = write(sv[1], data + done, size - done);
		if (n <= 0)
			abort();
		done += (size_t)n;
	}
	shutdown(sv[1], SHUT_WR);
	drain.fd = sv[1];
	if (pthread_create(&thread, NULL, fuzz_lmtp_drain, &drain) != 0)
		abort();

	memset(&s, 0, sizeof(s));
	memset(&conn, 0, sizeof(conn));
	server_conn_init(&conn, sv[0]);
	conn.id = 1;
	conn.context = &s;
	s.conn = &conn;
	s.cfg = daemon_config_get();
	strbuf_init(&s.line);
	strbuf_init(&s.msg);
	lmtp_session_run(&s);
	server_conn_free(&conn);
	if (fuzz_lmtp_announced != 0) {
		fprintf(stderr, "%d store_writer_expect() left unanswered\n",
			fuzz_lmtp_announced);
		abort();
	}
	close(sv[0]);
	pthread_join(thread, NULL);
	close(sv[1]);
	fuzz_lmtp_check_replies(drain.out.data, drain.out.len);
	strbuf_free(&drain.out);
	return 0;
}
