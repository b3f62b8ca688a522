/*
 * endpoint.h - "inet:HOST:PORT", "unix:/path" and "smtp:HOST:PORT" addresses
 *
 * The config names network places the way Postfix does. An endpoint is a
 * plain value (no allocation); endpoint_connect() and endpoint_listen()
 * return a file descriptor the caller closes.
 */
#ifndef NDRGUARD_ENDPOINT_H
#define NDRGUARD_ENDPOINT_H

enum endpoint_type {
	ENDPOINT_INET,
	ENDPOINT_UNIX,
};

struct endpoint {
	enum endpoint_type type;
	char host[256];		/* without [] around IPv6 literals */
	char port[16];
	char path[108];		/* sun_path's size on Linux */
};

/*
 * endpoint_parse - "inet:HOST:PORT", "smtp:HOST:PORT" (both INET) or
 * "unix:PATH". Returns 0, or -1 with *error_r (static string).
 */
int endpoint_parse(const char *spec, struct endpoint *ep_r,
		   const char **error_r);
/*
 * endpoint_connect - connect with a timeout in milliseconds; the socket
 * is left blocking. Returns the fd, or -1 with *error_r (valid until the
 * next call in this thread).
 */
int endpoint_connect(const struct endpoint *ep, int timeout_ms,
		     const char **error_r);
/* endpoint_listen - bind and listen (a stale unix socket is replaced) */
int endpoint_listen(const struct endpoint *ep, int backlog,
		    const char **error_r);

#endif
