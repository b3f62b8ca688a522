/*
 * web-admission.c - who a client is, and what it may hold at once
 *
 * NAME
 *	web_admission_create, web_client_identify, web_admission_enter,
 *	web_admission_reserve, web_buckets_create - the page's admission
 * DESCRIPTION
 *	A client is the peer of the connection, or, when the peer is one
 *	of trusted_proxies, the right-most address of X-Forwarded-For that
 *	is not itself a trusted proxy: a proxy appends the address it saw,
 *	so what a client wrote into the header itself stays to the left
 *	and is never believed. Its network is the /24 (IPv4) or /64 (IPv6)
 *	around that address: one host can pick any of its addresses, and
 *	the limits must not be worth a fresh address.
 *
 *	Counted per address and per network: the connections (or, through
 *	a proxy, the requests) a client has open, against
 *	http_client_connections and http_network_connections; and the
 *	bytes of answers built and not yet sent, against
 *	http_response_memory (a network may take a quarter of it), so that
 *	clients that never read cost bounded memory.
 *
 *	Token buckets by key (web_buckets) meter what is not a connection:
 *	the admin's failed sign-ins per network and per account.
 */
#include "autoconfig.h"
#include "web-private.h"
#include "log.h"
#include "relays.h"
#include "settings.h"
#include "xalloc.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#define WEB_COUNT_SLOTS 1024
#define WEB_BUCKET_SLOTS 1024
/* answers this small are always sent: refusing them saves nothing */
#define WEB_SMALL_ANSWER (16 * 1024)

/* what one address or network holds now; freed when it holds nothing */
struct web_count {
	struct web_count *next;
	unsigned int conns;
	size_t bytes;
	char key[72];
};

struct web_admission {
	pthread_mutex_t lock;
	struct relays *proxies;		/* NULL: no proxy is trusted */
	unsigned int per_address, per_network;	/* 0: no limit */
	size_t memory_limit, memory_used;
	double last_log;		/* when a refusal was last logged */
	unsigned long unlogged;		/* refusals since */
	struct web_count *slots[WEB_COUNT_SLOTS];
};

struct web_bucket {
	char key[72];
	double tokens;
	double last;
};

struct web_buckets {
	pthread_mutex_t lock;
	double per_second, burst;
	struct web_bucket slots[WEB_BUCKET_SLOTS];
};

/* web_admission_now - the monotonic clock in seconds */
static double web_admission_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* web_admission_hash - FNV-1a of a key */
static unsigned int web_admission_hash(const char *key)
{
	unsigned int h = 2166136261u;

	for (const unsigned char *p = (const unsigned char *)key; *p; p++)
		h = (h ^ *p) * 16777619u;
	return h;
}

int web_admission_create(const struct settings *set,
			 struct web_admission **adm_r, const char **error_r)
{
	struct web_admission *adm = xcalloc(1, sizeof(*adm));

	if (set->trusted_proxies != NULL &&
	    (adm->proxies = relays_create(set->trusted_proxies, NULL,
					  error_r)) == NULL) {
		free(adm);
		return -1;
	}
	pthread_mutex_init(&adm->lock, NULL);
	adm->per_address = set->http_client_connections;
	adm->per_network = set->http_network_connections;
	adm->memory_limit = set->http_response_memory;
	*adm_r = adm;
	return 0;
}

void web_admission_destroy(struct web_admission **_adm)
{
	struct web_admission *adm = *_adm;

	if (adm == NULL)
		return;
	*_adm = NULL;
	for (size_t i = 0; i < WEB_COUNT_SLOTS; i++) {
		while (adm->slots[i] != NULL) {
			struct web_count *c = adm->slots[i];

			adm->slots[i] = c->next;
			free(c);
		}
	}
	relays_destroy(&adm->proxies);
	pthread_mutex_destroy(&adm->lock);
	free(adm);
}

/*
 * web_client_parse - one address as text (an X-Forwarded-For element:
 * spaces, "[v6]:port" and "v4:port" allowed) into binary; 0 or -1
 */
static int web_client_parse(const char *s, size_t len, int *family_r,
			    unsigned char addr[16])
{
	char buf[INET6_ADDRSTRLEN + 8];
	char *p = buf, *end;

	while (len > 0 && (*s == ' ' || *s == '\t'))
		s++, len--;
	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	if (len == 0 || len >= sizeof(buf))
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (*p == '[') {
		if ((end = strchr(++p, ']')) == NULL)
			return -1;
		*end = '\0';
	} else if ((end = strchr(p, ':')) != NULL && strchr(end + 1, ':')
		   == NULL) {
		*end = '\0';	/* a.b.c.d:port */
	}
	if (inet_pton(AF_INET, p, addr) == 1) {
		*family_r = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, p, addr) != 1)
		return -1;
	*family_r = AF_INET6;
	/* an IPv4 client of a dual-stack socket is that IPv4 client */
	if (memcmp(addr, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0) {
		memmove(addr, addr + 12, 4);
		*family_r = AF_INET;
	}
	return 0;
}

/* web_client_set - the address and network texts of a binary address */
static void web_client_set(struct web_client *c, int family,
			   const unsigned char addr[16])
{
	unsigned char net[16];
	char text[INET6_ADDRSTRLEN];

	memset(net, 0, sizeof(net));
	inet_ntop(family, addr, c->addr, sizeof(c->addr));
	if (family == AF_INET) {
		memcpy(net, addr, 3);
		inet_ntop(AF_INET, net, text, sizeof(text));
		snprintf(c->net, sizeof(c->net), "%s/24", text);
	} else {
		memcpy(net, addr, 8);
		inet_ntop(AF_INET6, net, text, sizeof(text));
		snprintf(c->net, sizeof(c->net), "%s/64", text);
	}
}

/* web_client_trusted - is the address one of trusted_proxies? */
static int web_client_trusted(const struct web_admission *adm, int family,
			      const unsigned char addr[16])
{
	char text[INET6_ADDRSTRLEN];

	if (adm->proxies == NULL)
		return 0;
	inet_ntop(family, addr, text, sizeof(text));
	return relays_match_ip(adm->proxies, text);
}

int web_client_peer(const struct web_admission *adm,
		    const struct sockaddr *sa, struct web_client *c)
{
	unsigned char addr[16];
	int family = AF_INET;

	memset(c, 0, sizeof(*c));
	memset(addr, 0, sizeof(addr));
	if (sa == NULL || (sa->sa_family != AF_INET &&
			   sa->sa_family != AF_INET6)) {
		snprintf(c->addr, sizeof(c->addr), "local");
		snprintf(c->net, sizeof(c->net), "local");
		return 0;
	}
	if (sa->sa_family == AF_INET) {
		memcpy(addr, &((const struct sockaddr_in *)sa)->sin_addr, 4);
	} else {
		family = AF_INET6;
		memcpy(addr, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
		if (memcmp(addr, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0) {
			memmove(addr, addr + 12, 4);
			family = AF_INET;
		}
	}
	web_client_set(c, family, addr);
	return web_client_trusted(adm, family, addr);
}

int web_client_forwarded(const struct web_admission *adm, const char *xff,
			 struct web_client *c)
{
	size_t end = xff != NULL ? strlen(xff) : 0;

	/* right to left: the proxies' own additions come last */
	while (end > 0) {
		size_t start = end;
		unsigned char addr[16];
		int family;

		while (start > 0 && xff[start - 1] != ',')
			start--;
		if (web_client_parse(xff + start, end - start, &family,
				     addr) < 0)
			return -1;
		if (!web_client_trusted(adm, family, addr) || start == 0) {
			web_client_set(c, family, addr);
			return 0;
		}
		end = start - 1;
	}
	return -1;
}

/* web_count_get - the entry of key, made when create is set; lock held */
static struct web_count *web_count_get(struct web_admission *adm,
				       const char *key, int create)
{
	struct web_count **slot = &adm->slots[web_admission_hash(key) %
					      WEB_COUNT_SLOTS];

	for (struct web_count *c = *slot; c != NULL; c = c->next)
		if (strcmp(c->key, key) == 0)
			return c;
	if (!create)
		return NULL;
	struct web_count *c = xcalloc(1, sizeof(*c));

	snprintf(c->key, sizeof(c->key), "%s", key);
	c->next = *slot;
	*slot = c;
	return c;
}

/* web_count_drop - free key's entry once it holds nothing; lock held */
static void web_count_drop(struct web_admission *adm, struct web_count *c)
{
	struct web_count **p = &adm->slots[web_admission_hash(c->key) %
					   WEB_COUNT_SLOTS];

	if (c->conns > 0 || c->bytes > 0)
		return;
	while (*p != c)
		p = &(*p)->next;
	*p = c->next;
	free(c);
}

/* web_admission_note - log a refusal, at most one line in ten seconds */
static void web_admission_note(struct web_admission *adm, const char *who,
			       const char *what)
{
	double now = web_admission_now();

	if (now - adm->last_log < 10) {
		adm->unlogged++;
		return;
	}
	log_info("http: %s: %s (%lu more refusals in the last 10s not "
		 "logged)", who, what, adm->unlogged);
	adm->last_log = now;
	adm->unlogged = 0;
}

int web_admission_enter(struct web_admission *adm, struct web_client *c)
{
	struct web_count *a, *n;
	int ok;

	pthread_mutex_lock(&adm->lock);
	a = web_count_get(adm, c->addr, 1);
	n = web_count_get(adm, c->net, 1);
	ok = (adm->per_address == 0 || a->conns < adm->per_address) &&
		(adm->per_network == 0 || n->conns < adm->per_network);
	if (ok) {
		a->conns++;
		n->conns++;
		c->counted = 1;
	} else {
		web_admission_note(adm, c->addr, "over "
				   "http_client_connections or "
				   "http_network_connections, refused");
	}
	web_count_drop(adm, a);
	web_count_drop(adm, n);
	pthread_mutex_unlock(&adm->lock);
	return ok ? 0 : -1;
}

void web_admission_leave(struct web_admission *adm, struct web_client *c)
{
	if (!c->counted)
		return;
	c->counted = 0;
	pthread_mutex_lock(&adm->lock);
	for (int i = 0; i < 2; i++) {
		struct web_count *e = web_count_get(adm, i ? c->net : c->addr,
						    0);

		if (e == NULL)
			continue;
		if (e->conns > 0)
			e->conns--;
		web_count_drop(adm, e);
	}
	pthread_mutex_unlock(&adm->lock);
}

int web_admission_reserve(struct web_admission *adm, struct web_client *c,
			  size_t len)
{
	struct web_count *n;
	int ok;

	pthread_mutex_lock(&adm->lock);
	n = web_count_get(adm, c->net, 1);
	ok = len <= WEB_SMALL_ANSWER ||
		(adm->memory_used + len <= adm->memory_limit &&
		 n->bytes + len <= adm->memory_limit / 4);
	if (ok) {
		adm->memory_used += len;
		n->bytes += len;
		c->reserved = len;
	} else {
		web_admission_note(adm, c->addr, "answers not yet read are "
				   "over http_response_memory, 503");
	}
	web_count_drop(adm, n);
	pthread_mutex_unlock(&adm->lock);
	return ok ? 0 : -1;
}

void web_admission_release(struct web_admission *adm, struct web_client *c)
{
	struct web_count *n;

	if (c->reserved == 0)
		return;
	pthread_mutex_lock(&adm->lock);
	adm->memory_used -= c->reserved;
	if ((n = web_count_get(adm, c->net, 0)) != NULL) {
		n->bytes -= n->bytes < c->reserved ? n->bytes : c->reserved;
		web_count_drop(adm, n);
	}
	c->reserved = 0;
	pthread_mutex_unlock(&adm->lock);
}

struct web_buckets *web_buckets_create(double per_minute, double burst)
{
	struct web_buckets *b = xcalloc(1, sizeof(*b));

	pthread_mutex_init(&b->lock, NULL);
	b->per_second = per_minute / 60.0;
	b->burst = burst;
	return b;
}

void web_buckets_destroy(struct web_buckets **_b)
{
	if (*_b == NULL)
		return;
	pthread_mutex_destroy(&(*_b)->lock);
	free(*_b);
	*_b = NULL;
}

/*
 * web_buckets_use - refill key's bucket; then take a token when take is
 * set. 1 if a token was there. Direct-mapped: two keys that share a slot
 * share a bucket, erring on the strict side, until one is a minute quiet.
 */
int web_buckets_use(struct web_buckets *b, const char *key, int take)
{
	struct web_bucket *s = &b->slots[web_admission_hash(key) %
					 WEB_BUCKET_SLOTS];
	double now = web_admission_now();
	int ok;

	pthread_mutex_lock(&b->lock);
	if (strncmp(s->key, key, sizeof(s->key) - 1) != 0 &&
	    (s->key[0] == '\0' || now - s->last > 60 ||
	     s->tokens >= b->burst)) {
		snprintf(s->key, sizeof(s->key), "%s", key);
		s->tokens = b->burst;
		s->last = now;
	}
	s->tokens += (now - s->last) * b->per_second;
	if (s->tokens > b->burst)
		s->tokens = b->burst;
	s->last = now;
	ok = s->tokens >= 1;
	if (ok && take)
		s->tokens -= 1;
	pthread_mutex_unlock(&b->lock);
	return ok;
}
