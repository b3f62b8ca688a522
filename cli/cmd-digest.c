/*
 * cmd-digest.c - ndrguard digest: run ndrguard-digest
 *
 * SYNOPSIS
 *	ndrguard [-c FILE] digest [--dry-run] [--mailbox ADDR] [--now]
 *	ndrguard [-c FILE] reply -f SENDER -- RECIPIENT < message
 *
 * DESCRIPTION
 *	The digest engine links libESMTP and OpenSSL, which the pipe agent
 *	(this same binary, started once per message) must not load. So this
 *	verb only execs the digest program with the same arguments and the
 *	configuration file: first the one beside this binary (a build
 *	tree), else the installed $(pkglibexecdir)/ndrguard-digest.
 *
 * DIAGNOSTICS
 *	Those of ndrguard-digest; EX_UNAVAILABLE (69) when it cannot be run.
 */
#include "autoconfig.h"
#include "cli.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#ifndef PKGLIBEXECDIR
#define PKGLIBEXECDIR "/usr/local/libexec/ndrguard"
#endif

/* digest_program - NAME beside /proc/self/exe, else installed */
static const char *digest_program(const char *name, char *buf, size_t size)
{
	ssize_t n = readlink("/proc/self/exe", buf, size - 32);

	if (n > 0) {
		buf[n] = '\0';
		char *slash = strrchr(buf, '/');
		if (slash != NULL) {
			snprintf(slash + 1, 32, "%s", name);
			if (access(buf, X_OK) == 0)
				return buf;
		}
	}
	snprintf(buf, size, "%s/%s", PKGLIBEXECDIR, name);
	return buf;
}

/* digest_exec - exec the helper program NAME with our arguments */
static int digest_exec(const char *name, int argc, char **argv,
		       const struct cli_context *ctx)
{
	char buf[PATH_MAX];
	const char *prog = digest_program(name, buf, sizeof(buf));
	char **args = calloc((size_t)argc + 4, sizeof(char *));
	int n = 0;

	if (args == NULL)
		return EX_TEMPFAIL;
	args[n++] = (char *)prog;
	if (ctx->config_path != NULL) {
		args[n++] = (char *)"-c";
		args[n++] = (char *)ctx->config_path;
	}
	for (int i = 1; i < argc; i++)
		args[n++] = argv[i];
	args[n] = NULL;
	fflush(NULL);
	execv(prog, args);
	fprintf(stderr, "ndrguard %s: cannot run %s: %s\n", argv[0], prog,
		strerror(errno));
	free(args);
	return EX_UNAVAILABLE;
}

/* cmd_digest - ndrguard digest: exec ndrguard-digest */
int cmd_digest(int argc, char **argv, const struct cli_context *ctx)
{
	return digest_exec("ndrguard-digest", argc, argv, ctx);
}

/* cmd_reply - ndrguard reply: exec ndrguard-reply (the same reason: it
   links OpenSSL for the tokens) */
int cmd_reply(int argc, char **argv, const struct cli_context *ctx)
{
	return digest_exec("ndrguard-reply", argc, argv, ctx);
}
