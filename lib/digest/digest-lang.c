/*
 * digest-lang.c - load the digest's languages: templates and reason texts
 *
 * This module implements digest_langs_load() (digest-private.h). Each
 * folder under digest_templates is one language and holds "subject"
 * (one line), "digest.txt", "digest.html" and "reasons" ("name = text"
 * lines, '#' comments). Everything is read and parsed at start-up, so a
 * broken template stops the program with FILE:LINE before any mail is
 * built, never halfway through a run.
 */
#include "autoconfig.h"
#include "digest-private.h"
#include "template.h"
#include "strbuf.h"
#include "xalloc.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static __thread char digest_lang_error[1024];

static void digest_lang_free_one(struct digest_lang *l)
{
	template_free(&l->subject);
	template_free(&l->text);
	template_free(&l->html);
	for (size_t i = 0; i < l->reason_count; i++) {
		free(l->reason_names[i]);
		free(l->reason_texts[i]);
	}
	free(l->reason_names);
	free(l->reason_texts);
	free(l->name);
}

void digest_langs_free(struct digest_lang **_langs, size_t count)
{
	struct digest_lang *langs = *_langs;

	if (langs == NULL)
		return;
	*_langs = NULL;
	for (size_t i = 0; i < count; i++)
		digest_lang_free_one(&langs[i]);
	free(langs);
}

static char *digest_lang_trim(char *s)
{
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t'
			   || end[-1] == '\n' || end[-1] == '\r'))
		*--end = '\0';
	return s;
}

/* digest_lang_reasons - "name = text" lines */
static int digest_lang_reasons(struct digest_lang *l, const char *path,
			       const char **error_r)
{
	FILE *fp = fopen(path, "r");
	char line[1024];
	unsigned int lineno = 0;

	if (fp == NULL) {
		snprintf(digest_lang_error, sizeof(digest_lang_error),
			 "%.900s: %s", path, strerror(errno));
		*error_r = digest_lang_error;
		return -1;
	}
	while (fgets(line, sizeof(line), fp) != NULL) {
		char *s = digest_lang_trim(line), *eq;
		lineno++;
		if (*s == '\0' || *s == '#')
			continue;
		eq = strchr(s, '=');
		if (eq == NULL) {
			snprintf(digest_lang_error, sizeof(digest_lang_error),
				 "%.900s:%u: expected 'reason = text'", path,
				 lineno);
			*error_r = digest_lang_error;
			fclose(fp);
			return -1;
		}
		*eq = '\0';
		l->reason_names = xrealloc(l->reason_names,
			(l->reason_count + 1) * sizeof(char *));
		l->reason_texts = xrealloc(l->reason_texts,
			(l->reason_count + 1) * sizeof(char *));
		l->reason_names[l->reason_count] =
			xstrdup(digest_lang_trim(s));
		l->reason_texts[l->reason_count++] =
			xstrdup(digest_lang_trim(eq + 1));
	}
	fclose(fp);
	return 0;
}

static int digest_lang_load_one(struct digest_lang *l, const char *dir,
				const char *name, const char **error_r)
{
	static const char *const files[] = { "subject", "digest.txt",
					     "digest.html" };
	struct template **slots[] = { &l->subject, &l->text, &l->html };
	char path[4096];

	memset(l, 0, sizeof(*l));
	l->name = xstrdup(name);
	for (size_t i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s/%s/%s", dir, name, files[i]);
		if (template_load(path, slots[i], error_r) < 0)
			return -1;
	}
	snprintf(path, sizeof(path), "%s/%s/reasons", dir, name);
	return digest_lang_reasons(l, path, error_r);
}

int digest_langs_load(const char *dir, const char *required,
		      struct digest_lang **langs_r, size_t *count_r,
		      const char **error_r)
{
	DIR *d = opendir(dir);
	struct digest_lang *langs = NULL;
	size_t count = 0;
	struct dirent *de;
	char path[4096];

	*langs_r = NULL;
	*count_r = 0;
	if (d == NULL) {
		snprintf(digest_lang_error, sizeof(digest_lang_error),
			 "digest_templates %.900s: %s", dir, strerror(errno));
		*error_r = digest_lang_error;
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s/subject", dir, de->d_name);
		if (access(path, F_OK) < 0)
			continue;
		langs = xrealloc(langs, (count + 1) * sizeof(*langs));
		if (digest_lang_load_one(&langs[count], dir, de->d_name,
					 error_r) < 0) {
			digest_langs_free(&langs, count + 1);
			closedir(d);
			return -1;
		}
		count++;
	}
	closedir(d);
	if (digest_lang_find(langs, count, required) == NULL) {
		snprintf(digest_lang_error, sizeof(digest_lang_error),
			 "digest_locale %.40s: no templates in %.900s/%.40s", required,
			 dir, required);
		*error_r = digest_lang_error;
		digest_langs_free(&langs, count);
		return -1;
	}
	*langs_r = langs;
	*count_r = count;
	return 0;
}

const struct digest_lang *digest_lang_find(const struct digest_lang *langs,
					   size_t count, const char *name)
{
	for (size_t i = 0; name && i < count; i++)
		if (strcmp(langs[i].name, name) == 0)
			return &langs[i];
	return NULL;
}

const char *digest_lang_reason(const struct digest_lang *lang,
			       const char *reason)
{
	for (size_t i = 0; reason && i < lang->reason_count; i++)
		if (strcmp(lang->reason_names[i], reason) == 0)
			return lang->reason_texts[i];
	return reason;
}
