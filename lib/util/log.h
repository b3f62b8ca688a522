/*
 * log.h - one line per event to syslog (facility mail by default)
 *
 * Programs call log_init() once; the library itself never logs, it
 * returns what happened and lets the program say it. Lines that concern
 * a message start with the Postfix queue id ("4F3A2: ..."), so grepping
 * the maillog for a queue id shows Postfix's lines and ndrguard's
 * together.
 */
#ifndef NDRGUARD_LOG_H
#define NDRGUARD_LOG_H

/* log_init - ident (copied, at most 63 bytes) and facility name ("mail",
   "local0", ...); when also_stderr is set, every line is written to
   stderr too */
void log_init(const char *ident, const char *facility, int also_stderr);
/* log_init_at - the same, to the syslog socket at path (the tests) */
void log_init_at(const char *ident, const char *facility, int also_stderr,
		 const char *path);
/*
 * log_target - where lines go: "syslog" (the default), "stderr" (no
 * syslog: a foreground daemon, a container), or "file:/path" (appended,
 * a time stamp each, one write(2) per line). Call it after log_init().
 * -1 with *error_r (static) when the file cannot be opened: lines then
 * go to syslog as before.
 */
int log_target(const char *target, const char **error_r);
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warning(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
