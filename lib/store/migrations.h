/*
 * migrations.h - the schema migrations embedded at build time
 *
 * migrations[] holds sql/NNNN-*.sql in version order, ending with an
 * entry whose version is 0. Migration N brings a database from
 * user_version N-1 to N.
 */
#ifndef NDRGUARD_MIGRATIONS_H
#define NDRGUARD_MIGRATIONS_H

struct migration {
	int version;
	const char *name;
	const char *sql;
};

extern const struct migration migrations[];

#endif
