/*
 * digest-lang.c - load the digest's markup and its languages' words
 *
 * This module implements digest_langs_load() (digest-private.h). The
 * markup is one set of files at the top of digest_templates:
 * "digest.subject" (one line), "digest.txt" and "digest.html", whose
 * words are {{>key}} tags. Each folder holding a "messages" catalog is
 * a language; it gives those words and, in "reasons", the owner's words
 * for each reason name (catalog.h files both). So a new language is one
 * folder. Everything is read, parsed and checked at start-up - every
 * catalog against every key the markup names - so a broken template or
 * a missing word stops the program with FILE:LINE or the key before
 * any mail is built, never halfway through a run.
 */
#include "autoconfig.h"
#include "digest-private.h"
#include "catalog.h"
#include "template.h"
#include "xalloc.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static __thread char digest_lang_error[1200];

/* digest_langs_free - free the markup and every language */
void digest_langs_free(struct digest_langs **_langs)
{
	struct digest_langs *langs = *_langs;

	if (langs == NULL)
		return;
	*_langs = NULL;
	template_free(&langs->subject);
	template_free(&langs->text);
	template_free(&langs->html);
	for (size_t i = 0; i < langs->count; i++) {
		catalog_free(&langs->v[i].messages);
		catalog_free(&langs->v[i].reasons);
		free(langs->v[i].name);
	}
	free(langs->v);
	free(langs);
}

/* digest_lang_markup - the three markup files of dir */
static int digest_lang_markup(struct digest_langs *langs, const char *dir,
			      const char **error_r)
{
	static const char *const files[] = { "digest.subject", "digest.txt",
					     "digest.html" };
	struct template **slots[] = { &langs->subject, &langs->text,
				      &langs->html };
	char path[4096];

	for (size_t i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		if (template_load(path, slots[i], error_r) < 0)
			return -1;
	}
	return 0;
}

/* digest_lang_load_one - dir/name/messages and reasons, checked against
   the markup */
static int digest_lang_load_one(struct digest_langs *langs,
				struct digest_lang *l, const char *dir,
				const char *name, const char **error_r)
{
	const struct template *markup[] = { langs->subject, langs->text,
					    langs->html };
	char path[4096];

	l->name = xstrdup(name);
	snprintf(path, sizeof(path), "%s/%s/messages", dir, name);
	if (catalog_load(path, &l->messages, error_r) < 0)
		return -1;
	for (size_t i = 0; i < 3; i++)
		if (template_check_catalog(markup[i], l->messages, path,
					   error_r) < 0)
			return -1;
	snprintf(path, sizeof(path), "%s/%s/reasons", dir, name);
	return catalog_load(path, &l->reasons, error_r);
}

/* digest_lang_folders - every folder of dir with a messages file */
static int digest_lang_folders(struct digest_langs *langs, const char *dir,
			       const char **error_r)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char path[4096];
	int ret = 0;

	if (d == NULL) {
		snprintf(digest_lang_error, sizeof(digest_lang_error),
			 "digest_templates %.900s: %s", dir, strerror(errno));
		*error_r = digest_lang_error;
		return -1;
	}
	while (ret == 0 && (de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s/messages", dir, de->d_name);
		if (access(path, F_OK) < 0)
			continue;
		langs->v = xrealloc(langs->v,
				    (langs->count + 1) * sizeof(*langs->v));
		memset(&langs->v[langs->count], 0, sizeof(*langs->v));
		ret = digest_lang_load_one(langs, &langs->v[langs->count++],
					   dir, de->d_name, error_r);
	}
	closedir(d);
	return ret;
}

/* digest_langs_load - the markup, then each language checked against it */
int digest_langs_load(const char *dir, const char *required,
		      struct digest_langs **langs_r, const char **error_r)
{
	struct digest_langs *langs = xcalloc(1, sizeof(*langs));

	*langs_r = NULL;
	if (digest_lang_markup(langs, dir, error_r) < 0
	    || digest_lang_folders(langs, dir, error_r) < 0) {
		digest_langs_free(&langs);
		return -1;
	}
	if (digest_lang_find(langs, required) == NULL) {
		snprintf(digest_lang_error, sizeof(digest_lang_error),
			 "digest_locale %.40s: no %.900s/%.40s/messages",
			 required, dir, required);
		*error_r = digest_lang_error;
		digest_langs_free(&langs);
		return -1;
	}
	*langs_r = langs;
	return 0;
}

/* digest_lang_find - the language called name, or NULL */
const struct digest_lang *digest_lang_find(const struct digest_langs *langs,
					   const char *name)
{
	for (size_t i = 0; name && i < langs->count; i++)
		if (strcmp(langs->v[i].name, name) == 0)
			return &langs->v[i];
	return NULL;
}

/* digest_lang_reason - the catalog's words for reason, else its name */
const char *digest_lang_reason(const struct digest_lang *lang,
			       const char *reason)
{
	const char *text = reason ? catalog_get(lang->reasons, reason) : NULL;

	return text != NULL ? text : reason;
}
