/*
 * log.c - syslog, and stderr for the foreground and the tests
 */
#include "autoconfig.h"
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

static int log_stderr;
static const char *log_ident = "ndrguard";

static int log_facility_code(const char *name)
{
	static const struct { const char *name; int code; } map[] = {
		{ "mail", LOG_MAIL }, { "daemon", LOG_DAEMON },
		{ "user", LOG_USER }, { "local0", LOG_LOCAL0 },
		{ "local1", LOG_LOCAL1 }, { "local2", LOG_LOCAL2 },
		{ "local3", LOG_LOCAL3 }, { "local4", LOG_LOCAL4 },
		{ "local5", LOG_LOCAL5 }, { "local6", LOG_LOCAL6 },
		{ "local7", LOG_LOCAL7 },
	};

	for (size_t i = 0; name && i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(name, map[i].name) == 0)
			return map[i].code;
	return LOG_MAIL;
}

void log_init(const char *ident, const char *facility, int also_stderr)
{
	log_ident = ident;
	log_stderr = also_stderr;
	openlog(ident, LOG_PID | LOG_NDELAY, log_facility_code(facility));
}

/*
 * log_vmsg - one line to syslog, and to stderr when asked. The line is
 * formatted once and written with one write(2): stderr is unbuffered, so
 * piecewise writes from several threads would interleave their lines.
 */
static void log_vmsg(int prio, const char *label, const char *fmt, va_list ap)
{
	char buf[4096];
	size_t ident_len = strlen(log_ident) + 2;
	size_t len;
	int n;

	n = snprintf(buf, sizeof(buf), "%s: %s", log_ident, label);
	len = n < 0 ? 0 : (size_t)n;
	if (len < sizeof(buf) - 1) {
		n = vsnprintf(buf + len, sizeof(buf) - 1 - len, fmt, ap);
		if (n > 0)
			len += (size_t)n;
	}
	if (len > sizeof(buf) - 2)
		len = sizeof(buf) - 2;	/* truncated to what fits */
	if (log_stderr) {
		buf[len] = '\n';
		if (write(STDERR_FILENO, buf, len + 1) < 0) {
			/* nowhere left to say it */
		}
	}
	buf[len] = '\0';
	syslog(prio, "%s", buf + (ident_len < len ? ident_len : len));
}

void log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_INFO, "", fmt, ap);
	va_end(ap);
}

void log_warning(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_WARNING, "warning: ", fmt, ap);
	va_end(ap);
}

void log_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_ERR, "error: ", fmt, ap);
	va_end(ap);
}
