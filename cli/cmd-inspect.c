/*
 * cmd-inspect.c - ndrguard inspect: classify messages, touch nothing
 *
 * SYNOPSIS
 *	ndrguard [-c FILE] inspect [--json] [-f SENDER] [--our-relays LIST]
 *		[--our-domains LIST] FILE...|-
 *
 * DESCRIPTION
 *	Reads each message (- is standard input), classifies it with
 *	classify_message() and prints, with --json, the contract's JSON
 *	object on one line per input, else a short human summary. The own
 *	relays and domains come from the configuration (our_relays,
 *	our_domains); --our-relays/--our-domains override them, which is
 *	how the corpus scorer tries several configurations. -f SENDER is
 *	the envelope sender, as `deliver` is given it ("" for the null
 *	sender); without it each message's Return-Path header stands in.
 *
 * DIAGNOSTICS
 *	A file that cannot be read is reported on stderr and skipped; the
 *	exit status is then EX_NOINPUT (66) after the others were done. A
 *	bad our_relays/our_domains value exits with EX_CONFIG (78).
 */
#include "autoconfig.h"
#include "classify.h"
#include "cli.h"
#include "relays.h"
#include "strbuf.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

/* inspect_read - the whole of fp into sb; -1 on a read error */
static int inspect_read(FILE *fp, struct strbuf *sb)
{
	char buf[65536];
	size_t n;

	while ((n = fread(buf, 1, sizeof(buf), fp)) > 0)
		strbuf_append(sb, buf, n);
	return ferror(fp) ? -1 : 0;
}

/*
 * inspect_load_file - a seekable file read in one go: pread from offset
 * 0 into the buffer's free room (kept from the message before, at
 * least 64 KiB), more while it comes back full; a short read is the
 * end, so that a message costs open, one pread and close, no fstat.
 * 1 if fd cannot be read with pread (a pipe, a socket, a terminal: read
 * it as a stream), -1 on error.
 */
static int inspect_load_file(int fd, struct strbuf *sb)
{
	size_t got = 0, room;
	ssize_t n;

	strbuf_grow(sb, 65535);		/* 64 KiB with its NUL */
	for (;;) {
		room = sb->size - sb->len - 1;
		n = pread(fd, sb->data + sb->len + got, room - got, (off_t)got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && got == 0 && (errno == ESPIPE || errno == EINVAL))
			return 1;
		if (n < 0)
			return -1;
		got += (size_t)n;
		if (n == 0 || got < room)
			break;
		/* full: there may be more */
		strbuf_grow(sb, sb->len + got + (got < 65536 ? 65536 : got));
	}
	sb->len += got;
	sb->data[sb->len] = '\0';
	return 0;
}

/* inspect_load - read a named file or stdin ("-") */
static int inspect_load(const char *path, struct strbuf *sb)
{
	FILE *fp;
	int ret, fd;

	if (strcmp(path, "-") == 0)
		return inspect_read(stdin, sb);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ret = inspect_load_file(fd, sb);
	if (ret <= 0) {
		int saved = errno;

		close(fd);
		errno = saved;
		return ret;
	}
	fp = fdopen(fd, "rb");
	if (fp == NULL) {
		close(fd);
		return -1;
	}
	ret = inspect_read(fp, sb);
	if (fclose(fp) != 0)
		ret = -1;
	return ret;
}

/* inspect_summary - the human form: one line, then one per recipient */
static void inspect_summary(const struct classify_result *res,
			    const char *path, struct strbuf *out)
{
	strbuf_printf(out, "%s: %s", path, classify_kind_name(res->kind));
	if (res->reason != NULL)
		strbuf_printf(out, " (%s)", res->reason);
	strbuf_printf(out, ", verdict %s", classify_verdict_name(res->verdict));
	if (res->evidence != NULL)
		strbuf_printf(out, ": %s", res->evidence);
	strbuf_putc(out, '\n');
	for (size_t i = 0; i < res->recipient_count; i++) {
		const struct classify_recipient *r = &res->recipients[i];

		strbuf_printf(out, "  recipient %s status %s action %s\n",
			      r->address ? r->address : "-",
			      r->status ? r->status : "-",
			      r->action ? r->action : "-");
	}
	if (res->original.message_id != NULL)
		strbuf_printf(out, "  original %s\n", res->original.message_id);
}

/*
 * inspect_one - classify one input and print it; -1 if unreadable. msg
 * and out are the caller's buffers, kept from one message to the next.
 */
static int inspect_one(const char *path, const struct relays *relays,
		       const char *sender, int json, struct strbuf *msg,
		       struct strbuf *out)
{
	struct classify_result *res;
	const char *error;

	strbuf_reset(msg);
	if (inspect_load(path, msg) < 0) {
		fprintf(stderr, "ndrguard inspect: %s: %s\n", path,
			strerror(errno));
		return -1;
	}
	if (classify_message_from(strbuf_cstr(msg), msg->len, relays, sender,
				  &res, &error) < 0) {
		fprintf(stderr, "ndrguard inspect: %s: %s\n", path, error);
		return -1;
	}
	strbuf_reset(out);
	strbuf_grow(out, 4096);		/* most results fit: no regrowth */
	if (json) {
		classify_result_json(res, path, out);
		strbuf_putc(out, '\n');
	} else
		inspect_summary(res, path, out);
	fwrite(strbuf_cstr(out), 1, out->len, stdout);
	classify_result_free(&res);
	return 0;
}

int cmd_inspect(int argc, char **argv, const struct cli_context *ctx)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "sender", required_argument, NULL, 'f' },
		{ "our-relays", required_argument, NULL, 'r' },
		{ "our-domains", required_argument, NULL, 'd' },
		{ NULL, 0, NULL, 0 }
	};
	const char *our_relays = ctx->set != NULL ? ctx->set->our_relays : NULL;
	const char *our_domains = ctx->set != NULL ? ctx->set->our_domains : NULL;
	struct relays *relays;
	struct strbuf msg = STRBUF_INIT, out = STRBUF_INIT;
	const char *error, *sender = NULL;
	int json = 0, c, status = EX_OK;

	optind = 1;
	while ((c = getopt_long(argc, argv, "jf:r:d:", opts, NULL)) != -1) {
		switch (c) {
		case 'j': json = 1; break;
		case 'f': sender = optarg; break;
		case 'r': our_relays = optarg; break;
		case 'd': our_domains = optarg; break;
		default:
			return cli_usage_error("inspect",
				"usage: inspect [--json] [-f SENDER] "
				"[--our-relays LIST] [--our-domains LIST] "
				"FILE...|-");
		}
	}
	if (optind >= argc)
		return cli_usage_error("inspect", "no input: give FILE... or -");
	relays = relays_create(our_relays, our_domains, &error);
	if (relays == NULL) {
		fprintf(stderr, "ndrguard inspect: %s\n", error);
		return EX_CONFIG;
	}
	/*
	 * Many messages in one run: keep freed memory for the next one
	 * rather than giving the top of the heap back to the kernel after
	 * each (and faulting it in again)
	 */
	if (argc - optind > 1) {
		mallopt(M_TRIM_THRESHOLD, 64 * 1024 * 1024);
		/* and write the results in large blocks, not st_blksize */
		static char outbuf[65536];

		if (!isatty(STDOUT_FILENO))
			setvbuf(stdout, outbuf, _IOFBF, sizeof(outbuf));
	}
	for (int i = optind; i < argc; i++) {
		if (inspect_one(argv[i], relays, sender, json, &msg, &out) < 0)
			status = EX_NOINPUT;
	}
	strbuf_free(&msg);
	strbuf_free(&out);
	relays_destroy(&relays);
	if (fflush(stdout) != 0 && status == EX_OK)
		status = EX_IOERR;
	return status;
}
