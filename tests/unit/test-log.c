/*
 * test-log.c - the syslog client: what the daemon receives, and a
 * daemon that restarts or is away
 */
#include "autoconfig.h"
#include "log.h"

#include <check.h>
#include "check-main.h"
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static char dir[64], path[128];

/* a syslog daemon: a datagram socket bound at path */
static int daemon_listen(void)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_DGRAM, 0);

	ck_assert_int_ge(fd, 0);
	strcpy(sun.sun_path, path);
	unlink(path);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	return fd;
}

/* daemon_line - the next datagram, "" if none came within 2 s */
static const char *daemon_line(int fd)
{
	static char buf[8192];
	struct pollfd p = { .fd = fd, .events = POLLIN };
	ssize_t n;

	buf[0] = '\0';
	if (poll(&p, 1, 2000) == 1 && (n = recv(fd, buf, sizeof(buf) - 1, 0)) > 0)
		buf[n] = '\0';
	return buf;
}

/* the part after the timestamp: "<PRI>Mmm dd hh:mm:ss " is 16 + PRI */
static void assert_line(const char *got, int prio, const char *rest)
{
	char want_pri[16], want_rest[512];
	const char *after;

	snprintf(want_pri, sizeof(want_pri), "<%d>", prio);
	ck_assert_msg(strncmp(got, want_pri, strlen(want_pri)) == 0,
		      "priority: %s", got);
	after = got + strlen(want_pri) + 16;
	snprintf(want_rest, sizeof(want_rest), "test[%ld]: %s",
		 (long)getpid(), rest);
	ck_assert_str_eq(after, want_rest);
}

START_TEST(lines_reach_the_daemon)
{
	int fd;

	strcpy(dir, "/tmp/ndrguard-log-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/log", dir);
	fd = daemon_listen();
	log_init_at("test", "mail", 0, path);

	log_info("4F3A2: to=<%s>, action=quarantine", "a@x.test");
	assert_line(daemon_line(fd), 2 * 8 + 6,
		    "4F3A2: to=<a@x.test>, action=quarantine");
	log_warning("disk %d%% full", 95);
	assert_line(daemon_line(fd), 2 * 8 + 4, "warning: disk 95% full");

	/* the daemon restarts: a new socket at the same path */
	close(fd);
	fd = daemon_listen();
	log_error("after the restart");
	assert_line(daemon_line(fd), 2 * 8 + 3, "error: after the restart");

	/* no daemon at all: the line is lost, nothing else happens */
	close(fd);
	unlink(path);
	log_info("nobody listens");
	log_info("nobody listens still");

	/* a facility from the config */
	fd = daemon_listen();
	log_init_at("test", "local3", 0, path);
	log_info("on local3");
	assert_line(daemon_line(fd), 19 * 8 + 6, "on local3");
	close(fd);
	unlink(path);
	rmdir(dir);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("log");
	TCase *tc = tcase_create("log");

	tcase_add_test(tc, lines_reach_the_daemon);
	suite_add_tcase(s, tc);
	return check_main_run(s);
}
