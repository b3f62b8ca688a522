/*
 * log.c - syslog, and stderr for the foreground and the tests
 */
#include "autoconfig.h"
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

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

static void log_vmsg(int prio, const char *label, const char *fmt, va_list ap)
{
	va_list ap2;

	if (log_stderr) {
		va_copy(ap2, ap);
		fprintf(stderr, "%s: %s", log_ident, label);
		vfprintf(stderr, fmt, ap2);
		fputc('\n', stderr);
		va_end(ap2);
	}
	if (*label) {
		char buf[2048];
		vsnprintf(buf, sizeof(buf), fmt, ap);
		syslog(prio, "%s%s", label, buf);
	} else {
		vsyslog(prio, fmt, ap);
	}
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
