/*
 * catalog.h - a language's message catalog: "key = text" lines
 *
 * SYNTAX
 *	One message a line: a key (letters, digits, '_', '-', '.'), '=',
 *	and the text up to the end of the line, blanks around both cut.
 *	Lines that are empty or start with '#' are comments. A text is
 *	plain UTF-8 (never markup: whoever shows it escapes it) and may
 *	hold {{name}} placeholders that the markup's renderer fills in.
 *	A key given twice, a line without '=', an empty key or text, or a
 *	text that is not UTF-8 is an error: "FILE:LINE: what".
 *
 * OWNERSHIP
 *	catalog_load() returns a catalog freed with catalog_free(), which
 *	NULLs the pointer; it is read-only afterwards, so threads share it.
 *	The strings it returns live as long as the catalog.
 */
#ifndef NDRGUARD_CATALOG_H
#define NDRGUARD_CATALOG_H

#include <stddef.h>

struct catalog;

/* catalog_load - read path; 0, or -1 with *error_r (valid until the
   next call in the same thread) */
int catalog_load(const char *path, struct catalog **cat_r,
		 const char **error_r);
void catalog_free(struct catalog **_cat);
/* catalog_get - the text of key, or NULL when the catalog lacks it */
const char *catalog_get(const struct catalog *cat, const char *key);
/* catalog_count / catalog_key - the keys, sorted */
size_t catalog_count(const struct catalog *cat);
const char *catalog_key(const struct catalog *cat, size_t i);

#endif
