/*
 * relays.c - our own relays and domains
 *
 * This module implements the `our_relays` / `our_domains` matcher used for
 * the backscatter verdict. Host patterns are matched with fnmatch(3)
 * ignoring case ("*.example.com" also matches deeper names, as "*" crosses
 * dots); networks are kept as address/prefix pairs in network byte order
 * for both families; a domain matches itself and every name below it.
 */
#include "autoconfig.h"
#include "relays.h"
#include "xalloc.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct relays_net {
	int family;
	unsigned char addr[16];
	unsigned int prefix;
};

struct relays {
	char **hosts;
	size_t host_count;
	struct relays_net *nets;
	size_t net_count;
	char **domains;
	size_t domain_count;
};

static __thread char relays_error[320];

/* relays_lower - lower-case s in place */
static void relays_lower(char *s)
{
	for (; *s != '\0'; s++)
		*s = (char)tolower((unsigned char)*s);
}

/* relays_host_valid - only characters a host name or glob may hold */
static int relays_host_valid(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++) {
		if (!isalnum((unsigned char)*s) && strchr(".-_*?", *s) == NULL)
			return 0;
	}
	return 1;
}

/* relays_parse_net - "10.0.0.0/8", "2001:db8::/32" or a bare address */
static int relays_parse_net(const char *tok, struct relays_net *net)
{
	char buf[INET6_ADDRSTRLEN + 8];
	char *slash, *end;
	unsigned long prefix;
	unsigned int max;

	if (strlen(tok) >= sizeof(buf))
		return -1;
	strcpy(buf, tok);
	slash = strchr(buf, '/');
	if (slash != NULL)
		*slash = '\0';
	memset(net, 0, sizeof(*net));
	if (inet_pton(AF_INET, buf, net->addr) == 1) {
		net->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, buf, net->addr) == 1) {
		net->family = AF_INET6;
		max = 128;
	} else
		return -1;
	net->prefix = max;
	if (slash != NULL) {
		prefix = strtoul(slash + 1, &end, 10);
		if (slash[1] == '\0' || *end != '\0' || prefix > max)
			return -1;
		net->prefix = (unsigned int)prefix;
	}
	return 0;
}

/* relays_looks_numeric - does a token claim to be an address or network? */
static int relays_looks_numeric(const char *tok)
{
	return strchr(tok, '/') != NULL || strchr(tok, ':') != NULL ||
		strspn(tok, "0123456789.") == strlen(tok);
}

/* relays_add_relay - one element of our_relays */
static int relays_add_relay(struct relays *r, const char *tok)
{
	struct relays_net net;

	if (relays_looks_numeric(tok)) {
		if (relays_parse_net(tok, &net) < 0)
			return -1;
		r->nets = xrealloc(r->nets, (r->net_count + 1) * sizeof(net));
		r->nets[r->net_count++] = net;
		return 0;
	}
	if (!relays_host_valid(tok))
		return -1;
	r->hosts = xrealloc(r->hosts, (r->host_count + 1) * sizeof(char *));
	r->hosts[r->host_count] = xstrdup(tok);
	relays_lower(r->hosts[r->host_count++]);
	return 0;
}

/* relays_add_domain - one element of our_domains ("@x" and ".x" allowed) */
static int relays_add_domain(struct relays *r, const char *tok)
{
	while (*tok == '@' || *tok == '.')
		tok++;
	if (!relays_host_valid(tok) || strpbrk(tok, "*?") != NULL)
		return -1;
	r->domains = xrealloc(r->domains,
			      (r->domain_count + 1) * sizeof(char *));
	r->domains[r->domain_count] = xstrdup(tok);
	relays_lower(r->domains[r->domain_count++]);
	return 0;
}

/* relays_parse_list - split on white space and commas, add each element */
static int relays_parse_list(struct relays *r, const char *list,
			     int (*add)(struct relays *, const char *),
			     const char *what, const char **error_r)
{
	char *copy, *tok, *save = NULL;
	int ret = 0;

	if (list == NULL)
		return 0;
	copy = xstrdup(list);
	for (tok = strtok_r(copy, " \t\r\n,", &save); tok != NULL;
	     tok = strtok_r(NULL, " \t\r\n,", &save)) {
		if (add(r, tok) < 0) {
			snprintf(relays_error, sizeof(relays_error),
				 "%s: invalid element '%.200s'", what, tok);
			*error_r = relays_error;
			ret = -1;
			break;
		}
	}
	free(copy);
	return ret;
}

struct relays *relays_create(const char *our_relays, const char *our_domains,
			     const char **error_r)
{
	struct relays *r = xcalloc(1, sizeof(*r));

	if (relays_parse_list(r, our_relays, relays_add_relay, "our_relays",
			      error_r) < 0 ||
	    relays_parse_list(r, our_domains, relays_add_domain, "our_domains",
			      error_r) < 0) {
		relays_destroy(&r);
		return NULL;
	}
	return r;
}

void relays_destroy(struct relays **_relays)
{
	struct relays *r = *_relays;

	if (r == NULL)
		return;
	*_relays = NULL;
	for (size_t i = 0; i < r->host_count; i++)
		free(r->hosts[i]);
	for (size_t i = 0; i < r->domain_count; i++)
		free(r->domains[i]);
	free(r->hosts);
	free(r->domains);
	free(r->nets);
	free(r);
}

int relays_is_empty(const struct relays *relays)
{
	return relays == NULL ||
		(relays->host_count == 0 && relays->net_count == 0 &&
		 relays->domain_count == 0);
}

int relays_match_host(const struct relays *relays, const char *host)
{
	if (relays == NULL || host == NULL || *host == '\0')
		return 0;
	for (size_t i = 0; i < relays->host_count; i++) {
		if (fnmatch(relays->hosts[i], host, FNM_CASEFOLD) == 0)
			return 1;
	}
	return 0;
}

/* relays_net_contains - is addr (of family) inside net? */
static int relays_net_contains(const struct relays_net *net, int family,
			       const unsigned char *addr)
{
	unsigned int full = net->prefix / 8, rest = net->prefix % 8;

	if (net->family != family)
		return 0;
	if (memcmp(net->addr, addr, full) != 0)
		return 0;
	if (rest == 0)
		return 1;
	unsigned char mask = (unsigned char)(0xff << (8 - rest));
	return (net->addr[full] & mask) == (addr[full] & mask);
}

int relays_match_ip(const struct relays *relays, const char *ip)
{
	unsigned char addr[16];
	int family;

	if (relays == NULL || ip == NULL)
		return 0;
	if (strncasecmp(ip, "ipv6:", 5) == 0)
		ip += 5;
	if (inet_pton(AF_INET, ip, addr) == 1)
		family = AF_INET;
	else if (inet_pton(AF_INET6, ip, addr) == 1)
		family = AF_INET6;
	else
		return 0;
	for (size_t i = 0; i < relays->net_count; i++) {
		if (relays_net_contains(&relays->nets[i], family, addr))
			return 1;
	}
	return 0;
}

int relays_match_domain(const struct relays *relays, const char *domain)
{
	size_t dlen;

	if (relays == NULL || domain == NULL)
		return 0;
	dlen = strlen(domain);
	while (dlen > 0 && domain[dlen - 1] == '.')
		dlen--;
	for (size_t i = 0; i < relays->domain_count; i++) {
		const char *d = relays->domains[i];
		size_t n = strlen(d);

		if (dlen < n || strncasecmp(domain + dlen - n, d, n) != 0)
			continue;
		if (dlen == n || domain[dlen - n - 1] == '.')
			return 1;
	}
	return 0;
}
