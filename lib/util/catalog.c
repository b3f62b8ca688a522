/*
 * catalog.c - message catalogs, one file per language
 *
 * This module implements catalog.h. A catalog is read once at start-up
 * (or reload), sorted by key, and looked up by binary search; nothing is
 * allocated per lookup, so the page's threads share it freely.
 */
#include "autoconfig.h"
#include "catalog.h"
#include "xalloc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct catalog_entry {
	char *key;
	char *text;
};

struct catalog {
	struct catalog_entry *entries;
	size_t count;
};

#define CATALOG_LINE_MAX 4096

static __thread char catalog_error[1200];

/* catalog_fail - format *error_r as "FILE:LINE: what"; returns -1 */
static int catalog_fail(const char **error_r, const char *path,
			unsigned int line, const char *what)
{
	if (line > 0)
		snprintf(catalog_error, sizeof(catalog_error), "%.900s:%u: %s",
			 path, line, what);
	else
		snprintf(catalog_error, sizeof(catalog_error), "%.900s: %s",
			 path, what);
	*error_r = catalog_error;
	return -1;
}

/* catalog_trim - s without blanks (and the line end) around it */
static char *catalog_trim(char *s)
{
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' ||
			   end[-1] == '\n' || end[-1] == '\r'))
		*--end = '\0';
	return s;
}

/* catalog_key_ok - 1 if key is made of the characters keys may hold */
static int catalog_key_ok(const char *key)
{
	if (*key == '\0')
		return 0;
	for (const char *p = key; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '_' || *p == '-' ||
		      *p == '.'))
			return 0;
	return 1;
}

/* catalog_utf8_ok - 1 if s is well-formed UTF-8 with no control bytes */
static int catalog_utf8_ok(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		int n = *p < 0x80 ? 0 : (*p & 0xe0) == 0xc0 ? 1 :
			(*p & 0xf0) == 0xe0 ? 2 : (*p & 0xf8) == 0xf0 ? 3 : -1;

		if (n < 0 || (n == 0 && *p < 0x20 && *p != '\t') ||
		    (n == 1 && *p < 0xc2))
			return 0;
		p++;
		for (int i = 0; i < n; i++, p++)
			if ((*p & 0xc0) != 0x80)
				return 0;
	}
	return 1;
}

/* catalog_cmp - order entries by key, for qsort and bsearch */
static int catalog_cmp(const void *a, const void *b)
{
	const struct catalog_entry *x = a, *y = b;

	return strcmp(x->key, y->key);
}

/* catalog_line - one line into cat; 0, or -1 with what it lacks */
static int catalog_line(struct catalog *cat, char *line, const char **what_r)
{
	char *s = catalog_trim(line), *eq, *key, *text;
	struct catalog_entry *e;

	if (*s == '\0' || *s == '#')
		return 0;
	if ((eq = strchr(s, '=')) == NULL) {
		*what_r = "no '=' between key and text";
		return -1;
	}
	*eq = '\0';
	key = catalog_trim(s);
	text = catalog_trim(eq + 1);
	if (!catalog_key_ok(key)) {
		*what_r = "a key is letters, digits, '_', '-' and '.'";
		return -1;
	}
	if (*text == '\0' || !catalog_utf8_ok(text)) {
		*what_r = "the text is empty or not UTF-8";
		return -1;
	}
	cat->entries = xrealloc(cat->entries,
				(cat->count + 1) * sizeof(*cat->entries));
	e = &cat->entries[cat->count++];
	e->key = xstrdup(key);
	e->text = xstrdup(text);
	return 0;
}

/* catalog_sort - sort by key; -1 with the key given twice */
static int catalog_sort(struct catalog *cat, const char **dup_r)
{
	if (cat->count > 1)
		qsort(cat->entries, cat->count, sizeof(*cat->entries),
		      catalog_cmp);
	for (size_t i = 1; i < cat->count; i++)
		if (strcmp(cat->entries[i - 1].key, cat->entries[i].key) == 0) {
			*dup_r = cat->entries[i].key;
			return -1;
		}
	return 0;
}

/* catalog_load - read a catalog file whole, sorted, or fail with FILE:LINE */
int catalog_load(const char *path, struct catalog **cat_r,
		 const char **error_r)
{
	FILE *fp = fopen(path, "r");
	struct catalog *cat;
	char line[CATALOG_LINE_MAX], msg[200];
	const char *what, *dup;
	unsigned int lineno = 0;

	*cat_r = NULL;
	if (fp == NULL)
		return catalog_fail(error_r, path, 0, strerror(errno));
	cat = xcalloc(1, sizeof(*cat));
	while (fgets(line, sizeof(line), fp) != NULL) {
		lineno++;
		if (strchr(line, '\n') == NULL && !feof(fp))
			what = "line too long";
		else if (catalog_line(cat, line, &what) == 0)
			continue;
		fclose(fp);
		catalog_free(&cat);
		return catalog_fail(error_r, path, lineno, what);
	}
	fclose(fp);
	if (catalog_sort(cat, &dup) < 0) {
		snprintf(msg, sizeof(msg), "key %.100s given twice", dup);
		catalog_free(&cat);
		return catalog_fail(error_r, path, 0, msg);
	}
	*cat_r = cat;
	return 0;
}

/* catalog_free - free cat and NULL the caller's pointer */
void catalog_free(struct catalog **_cat)
{
	struct catalog *cat = *_cat;

	if (cat == NULL)
		return;
	*_cat = NULL;
	for (size_t i = 0; i < cat->count; i++) {
		free(cat->entries[i].key);
		free(cat->entries[i].text);
	}
	free(cat->entries);
	free(cat);
}

/* catalog_get - key's text by binary search, or NULL */
const char *catalog_get(const struct catalog *cat, const char *key)
{
	struct catalog_entry probe = { .key = (char *)key }, *e;

	if (cat == NULL || key == NULL || cat->count == 0)
		return NULL;
	e = bsearch(&probe, cat->entries, cat->count, sizeof(*cat->entries),
		    catalog_cmp);
	return e != NULL ? e->text : NULL;
}

/* catalog_count - how many keys */
size_t catalog_count(const struct catalog *cat)
{
	return cat != NULL ? cat->count : 0;
}

/* catalog_key - the i-th key in sorted order */
const char *catalog_key(const struct catalog *cat, size_t i)
{
	return cat != NULL && i < cat->count ? cat->entries[i].key : NULL;
}
