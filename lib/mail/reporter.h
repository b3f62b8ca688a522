/*
 * reporter.h - which mail system sent a bounce, in words an owner reads
 *
 * reporter_host() names the system that wrote a notice: the host of its
 * Reporting-MTA (as the classifier found it), else the host named in the
 * "from" clause of its oldest Received header (the first server it went
 * through), else the domain of its From address. reporter_domain() is the
 * domain an owner's allow rule names for such a host: the host without
 * its first label when it has three or more ("mx.example.net" gives
 * "example.net"), else the host itself.
 *
 * Both return a lower-case string the caller frees, or NULL when the
 * message names nothing that looks like a host name.
 */
#ifndef NDRGUARD_REPORTER_H
#define NDRGUARD_REPORTER_H

#include <stddef.h>

/* reporter_host - the reporting system's host; msg may be NULL */
char *reporter_host(const char *msg, size_t len, const char *reporting_mta);
/* reporter_domain - the allow rule's domain for host */
char *reporter_domain(const char *host);
/* reporter_name_ok - 1 when s is a host name ndrguard accepts in a rule:
   1 to 253 bytes of letters, digits, '-' and '.', no empty label, no
   label over 63 bytes */
int reporter_name_ok(const char *s);
/* reporter_rule_value - an allow rule's value for kind ("domain": a host
   name; "recipient": local@host), lower-cased into *value_r (caller
   frees); -1 with *error_r (a static string) when it is not one */
int reporter_rule_value(const char *kind, const char *value, char **value_r,
			const char **error_r);

#endif
