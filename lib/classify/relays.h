/*
 * relays.h - our own relays and domains, for the backscatter verdict
 *
 * A relay set holds host-name patterns (exact, or glob "*.example.com"),
 * IPv4/IPv6 networks in CIDR form, and our mail domains. It is built once
 * from the `our_relays` and `our_domains` config values and then only read,
 * so one set may be shared by many threads.
 *
 * Ownership: relays_create() returns a set the caller frees with
 * relays_destroy(), which NULLs the caller's pointer.
 */
#ifndef NDRGUARD_RELAYS_H
#define NDRGUARD_RELAYS_H

#include <stddef.h>

struct relays;

/*
 * relays_create - parse the config values (lists separated by white space
 * and/or commas; either may be NULL or empty). Returns NULL with *error_r
 * (static or thread-local string) naming the bad element.
 */
struct relays *relays_create(const char *our_relays, const char *our_domains,
			     const char **error_r);
void relays_destroy(struct relays **_relays);

/* relays_is_empty - neither relays nor domains were configured */
int relays_is_empty(const struct relays *relays);
/* relays_match_host - does a host name match one of our relay patterns? */
int relays_match_host(const struct relays *relays, const char *host);
/* relays_match_ip - is a textual IPv4/IPv6 address in one of our networks? */
int relays_match_ip(const struct relays *relays, const char *ip);
/* relays_match_domain - is domain (or a parent of it) one of our domains? */
int relays_match_domain(const struct relays *relays, const char *domain);

#endif
