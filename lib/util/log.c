/*
 * log.c - syslog, and stderr for the foreground and the tests
 *
 * Lines go to the syslog daemon's socket (/dev/log) as RFC 3164
 * datagrams, from a client of our own rather than syslog(3): glibc's
 * takes a process-wide lock around every line, which the LMTP daemon's
 * threads queued on, and with no daemon listening it tries to connect
 * again for every line, four system calls each. Here a line is one
 * send(2); a socket that stopped working (the daemon restarted) is
 * replaced at once, and a daemon that is not there is looked for again
 * at most every LOG_RETRY_SECS, its lines lost meanwhile as syslog(3)
 * loses them.
 *
 * `log = stderr` or `log = file:/path` (log_target()) sends the lines
 * there instead, for a machine without a syslog daemon.
 */
#include "autoconfig.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <paths.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#define LOG_RETRY_SECS 10

static int log_stderr;
/* a copy: the settings that named it may be freed by a reload */
static char log_ident[64] = "ndrguard";
static int log_facility = LOG_MAIL;
static const char *log_path = _PATH_LOG;
static pid_t log_pid;
static pthread_once_t log_once = PTHREAD_ONCE_INIT;

/* the socket: its number stays the same once it exists (a new socket
   takes its place with dup2), so that threads sending on it never
   see it closed; log_lock serialises replacing it */
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static int log_fd = -1;
static int log_stream;		/* the daemon's socket is SOCK_STREAM */
static time_t log_retry_at;
/* log = stderr or file:/path: lines go to this descriptor, not syslog */
static int log_out_fd = -1;

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

static void log_after_fork(void)
{
	log_pid = getpid();
}

static void log_register_fork(void)
{
	pthread_atfork(NULL, NULL, log_after_fork);
}

/* log_socket - a socket connected to log_path, or -1 */
static int log_socket(int type)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(log_path) >= sizeof(sun.sun_path))
		return -1;
	strcpy(sun.sun_path, log_path);
	fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		int saved = errno;

		close(fd);
		errno = saved;
		fd = -1;
	}
	return fd;
}

/*
 * log_connect - (log_lock held) connect to the syslog daemon, in place
 * of the socket that failed; a datagram socket first, a stream socket
 * where the daemon listens on one, as syslog(3) does
 */
static int log_connect(void)
{
	int stream = 0;
	int fd = log_socket(SOCK_DGRAM);

	if (fd < 0 && errno == EPROTOTYPE) {
		fd = log_socket(SOCK_STREAM);
		stream = 1;
	}
	if (fd < 0) {
		__atomic_store_n(&log_retry_at, time(NULL) + LOG_RETRY_SECS,
				 __ATOMIC_RELAXED);
		return -1;
	}
	if (log_fd >= 0 && fd != log_fd) {
		if (dup2(fd, log_fd) < 0) {
			close(fd);
			return -1;
		}
		close(fd);
		fd = log_fd;
	}
	log_stream = stream;
	__atomic_store_n(&log_retry_at, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&log_fd, fd, __ATOMIC_RELEASE);
	return fd;
}

void log_init(const char *ident, const char *facility, int also_stderr)
{
	pthread_once(&log_once, log_register_fork);
	if (ident != NULL)
		snprintf(log_ident, sizeof(log_ident), "%s", ident);
	log_stderr = also_stderr;
	log_facility = log_facility_code(facility);
	log_pid = getpid();
	pthread_mutex_lock(&log_lock);
	log_connect();
	pthread_mutex_unlock(&log_lock);
}

void log_init_at(const char *ident, const char *facility, int also_stderr,
		 const char *path)
{
	log_path = path;
	log_init(ident, facility, also_stderr);
}

int log_target(const char *target, const char **error_r)
{
	int fd;

	/* the config checked the form (settings.c); a caller may not have */
	if (target != NULL && strcmp(target, "syslog") != 0 &&
	    strcmp(target, "stderr") != 0 &&
	    (strncmp(target, "file:", 5) != 0 || target[5] != '/')) {
		*error_r = "log takes syslog, stderr or file:/absolute/path";
		return -1;
	}
	if (target == NULL || strcmp(target, "syslog") == 0) {
		log_out_fd = -1;
		return 0;
	}
	if (strcmp(target, "stderr") == 0) {
		log_out_fd = STDERR_FILENO;
		log_stderr = 0;		/* once is enough */
		return 0;
	}
	fd = open(target + 5, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC |
		  O_NOCTTY, 0640);
	if (fd < 0) {
		*error_r = "cannot open the log file; logging to syslog";
		return -1;
	}
	log_out_fd = fd;
	return 0;
}

/* log_file_line - text (no ident) as one stamped line on log_out_fd */
static void log_file_line(const char *text)
{
	char line[4200], stamp[32];
	time_t now = time(NULL);
	struct tm tm;
	int n;

	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
	n = snprintf(line, sizeof(line), "%s %s[%ld]: %s\n", stamp,
		     log_ident, (long)log_pid, text);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line)) {
		n = sizeof(line) - 1;
		line[n - 1] = '\n';
	}
	if (write(log_out_fd, line, (size_t)n) < 0) {
		/* nowhere left to say it */
	}
}

/* log_send - one datagram, or one NUL-terminated record on a stream */
static int log_send(int fd, const char *line, size_t len)
{
	return send(fd, line, len + (log_stream ? 1 : 0), MSG_NOSIGNAL) < 0
		? -1 : 0;
}

/*
 * log_syslog - text (no ident) to the syslog daemon; when that fails,
 * connect and try once more, unless a connection failed less than
 * LOG_RETRY_SECS ago (a daemon that went away for good costs one failed
 * send per line, not a connection attempt per line)
 */
static void log_syslog(int prio, const char *text)
{
	char line[4200], stamp[32];
	time_t now = time(NULL);
	struct tm tm;
	int fd = __atomic_load_n(&log_fd, __ATOMIC_ACQUIRE);
	int n;

	localtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%b %e %H:%M:%S", &tm);
	n = snprintf(line, sizeof(line), "<%d>%s %s[%ld]: %s",
		     log_facility | prio, stamp, log_ident, (long)log_pid, text);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line))
		n = sizeof(line) - 1;
	if (fd >= 0 && log_send(fd, line, (size_t)n) == 0)
		return;
	if (now < __atomic_load_n(&log_retry_at, __ATOMIC_RELAXED))
		return;
	pthread_mutex_lock(&log_lock);
	/* another thread may have connected meanwhile */
	fd = __atomic_load_n(&log_fd, __ATOMIC_ACQUIRE);
	if (fd < 0 || log_send(fd, line, (size_t)n) < 0) {
		fd = log_connect();
		if (fd >= 0)
			log_send(fd, line, (size_t)n);
	}
	pthread_mutex_unlock(&log_lock);
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
	if (log_out_fd >= 0)
		log_file_line(buf + (ident_len < len ? ident_len : len));
	else
		log_syslog(prio, buf + (ident_len < len ? ident_len : len));
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
