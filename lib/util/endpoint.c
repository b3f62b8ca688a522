/*
 * endpoint.c - parse, connect to and listen on configured addresses
 */
#include "autoconfig.h"
#include "endpoint.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static __thread char endpoint_error_buf[320];

static int endpoint_parse_hostport(const char *s, struct endpoint *ep,
				   const char **error_r)
{
	const char *colon = strrchr(s, ':');
	size_t hlen;

	if (colon == NULL || colon[1] == '\0') {
		*error_r = "missing :PORT";
		return -1;
	}
	hlen = (size_t)(colon - s);
	if (hlen >= 2 && s[0] == '[' && s[hlen - 1] == ']') {
		s++;
		hlen -= 2;
	}
	if (hlen == 0 || hlen >= sizeof(ep->host)) {
		*error_r = "bad host name";
		return -1;
	}
	if (strlen(colon + 1) >= sizeof(ep->port)
	    || strspn(colon + 1, "0123456789") != strlen(colon + 1)) {
		*error_r = "bad port number";
		return -1;
	}
	memcpy(ep->host, s, hlen);
	ep->host[hlen] = '\0';
	strcpy(ep->port, colon + 1);
	ep->type = ENDPOINT_INET;
	return 0;
}

int endpoint_parse(const char *spec, struct endpoint *ep_r,
		   const char **error_r)
{
	memset(ep_r, 0, sizeof(*ep_r));
	if (strncmp(spec, "unix:", 5) == 0) {
		const char *path = spec + 5;
		if (*path != '/') {
			*error_r = "unix socket path must be absolute";
			return -1;
		}
		if (strlen(path) >= sizeof(ep_r->path)) {
			*error_r = "unix socket path too long (107 bytes at most)";
			return -1;
		}
		strcpy(ep_r->path, path);
		ep_r->type = ENDPOINT_UNIX;
		return 0;
	}
	if (strncmp(spec, "inet:", 5) == 0 || strncmp(spec, "smtp:", 5) == 0)
		return endpoint_parse_hostport(spec + 5, ep_r, error_r);
	*error_r = "expected inet:HOST:PORT, smtp:HOST:PORT or unix:/path";
	return -1;
}

static const char *endpoint_errno(const char *what, const struct endpoint *ep)
{
	int saved = errno;

	if (ep->type == ENDPOINT_UNIX)
		snprintf(endpoint_error_buf, sizeof(endpoint_error_buf),
			 "%s unix:%s: %s", what, ep->path, strerror(saved));
	else
		snprintf(endpoint_error_buf, sizeof(endpoint_error_buf),
			 "%s %s:%s: %s", what, ep->host, ep->port,
			 strerror(saved));
	return endpoint_error_buf;
}

/* endpoint_wait_connect - finish a non-blocking connect within timeout */
static int endpoint_wait_connect(int fd, int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLOUT };
	int err = 0;
	socklen_t len = sizeof(err);
	int n = poll(&pfd, 1, timeout_ms);

	if (n == 0) {
		errno = ETIMEDOUT;
		return -1;
	}
	if (n < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		return -1;
	if (err != 0) {
		errno = err;
		return -1;
	}
	return 0;
}

static int endpoint_connect_addr(const struct sockaddr *sa, socklen_t salen,
				 int timeout_ms)
{
	int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int flags;

	if (fd < 0)
		return -1;
	flags = fcntl(fd, F_GETFL);
	fcntl(fd, F_SETFL, flags | O_NONBLOCK);
	if (connect(fd, sa, salen) < 0
	    && (errno != EINPROGRESS || endpoint_wait_connect(fd, timeout_ms) < 0)) {
		int saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	fcntl(fd, F_SETFL, flags);
	return fd;
}

int endpoint_connect(const struct endpoint *ep, int timeout_ms,
		     const char **error_r)
{
	if (ep->type == ENDPOINT_UNIX) {
		struct sockaddr_un sun = { .sun_family = AF_UNIX };
		strcpy(sun.sun_path, ep->path);
		int fd = endpoint_connect_addr((struct sockaddr *)&sun,
					       sizeof(sun), timeout_ms);
		if (fd < 0)
			*error_r = endpoint_errno("connect to", ep);
		return fd;
	}
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_NUMERICSERV };
	struct addrinfo *res, *ai;
	int rc = getaddrinfo(ep->host, ep->port, &hints, &res);

	if (rc != 0) {
		snprintf(endpoint_error_buf, sizeof(endpoint_error_buf),
			 "look up %s: %s", ep->host, gai_strerror(rc));
		*error_r = endpoint_error_buf;
		return -1;
	}
	int fd = -1;
	for (ai = res; ai != NULL && fd < 0; ai = ai->ai_next)
		fd = endpoint_connect_addr(ai->ai_addr, ai->ai_addrlen,
					   timeout_ms);
	if (fd < 0)
		*error_r = endpoint_errno("connect to", ep);
	freeaddrinfo(res);
	return fd;
}

static int endpoint_listen_unix(const struct endpoint *ep, int backlog,
				const char **error_r)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct stat st;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0) {
		*error_r = endpoint_errno("socket for", ep);
		return -1;
	}
	strcpy(sun.sun_path, ep->path);
	/* a socket left by a crashed predecessor; never remove other files */
	if (lstat(ep->path, &st) == 0 && S_ISSOCK(st.st_mode))
		unlink(ep->path);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0
	    || listen(fd, backlog) < 0) {
		*error_r = endpoint_errno("listen on", ep);
		close(fd);
		return -1;
	}
	return fd;
}

int endpoint_listen(const struct endpoint *ep, int backlog,
		    const char **error_r)
{
	if (ep->type == ENDPOINT_UNIX)
		return endpoint_listen_unix(ep, backlog, error_r);

	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_NUMERICSERV | AI_PASSIVE };
	struct addrinfo *res;
	int rc = getaddrinfo(ep->host, ep->port, &hints, &res);
	int one = 1;

	if (rc != 0) {
		snprintf(endpoint_error_buf, sizeof(endpoint_error_buf),
			 "look up %s: %s", ep->host, gai_strerror(rc));
		*error_r = endpoint_error_buf;
		return -1;
	}
	int fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
				 sizeof(one)) < 0
	    || bind(fd, res->ai_addr, res->ai_addrlen) < 0
	    || listen(fd, backlog) < 0) {
		*error_r = endpoint_errno("listen on", ep);
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return fd;
}
