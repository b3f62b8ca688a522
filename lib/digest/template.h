/*
 * template.h - a small logic-less template renderer (a Mustache subset)
 *
 * SYNTAX
 *	{{name}}		the value of name, escaped for the template's
 *				output (HTML: & < > " ' become entities)
 *	{{{name}}} {{&name}}	the value as it is, never escaped: the explicit
 *				marker for trusted markup (e.g. a URL already
 *				built and checked by the program)
 *	{{#name}}...{{/name}}	a section: rendered once per entry when name
 *				is a list (each entry is the context inside),
 *				once when name is a non-empty string or true,
 *				not at all when absent, false, "" or empty
 *	{{^name}}...{{/name}}	inverted: rendered only when {{#name}} would
 *				not be
 *	{{>key}}		the text of key in the language's message
 *				catalog (template_render_lang()); its
 *				{{name}} placeholders are filled from the
 *				data where the tag stands. The text is plain
 *				words, so in HTML it is escaped like a value
 *	{{>key name}}		a plural: the text of key.one when name's
 *				value is "1", else key.other
 *	{{! comment }}		nothing
 * A name is letters, digits, '_', '-' and '.'. Inside a section a name is
 * looked up in the current list entry, then in the enclosing ones. An
 * absent name renders as nothing. A section, inverted-section, closing
 * or comment tag alone on its line takes the whole line with it, so text
 * templates keep their layout.
 *
 * ESCAPING
 *	Templates are HTML unless told otherwise: {{name}} is escaped.
 *	TEMPLATE_TEXT (plain text, mail subjects) turns the escaping off;
 *	template_load() picks it for file names not ending in ".html".
 *
 * CATALOGS
 *	The markup is one file for every language; the words are in
 *	catalog.h files, one per language. template_check_catalog() tells
 *	whether a catalog holds every key a template names, so a missing
 *	text is found at start-up, not in a mail. Should one still be
 *	missing at render time, the key itself is shown.
 *
 * ERRORS
 *	template_parse() and template_load() fail with "FILE:LINE: what",
 *	e.g. "digest.html:12: {{/item}} closes {{#items}} opened at line 9";
 *	the error text stays valid until the next call in the same thread.
 *	Rendering cannot fail.
 *
 * OWNERSHIP
 *	template_parse()/template_load() return a template freed with
 *	template_free(); it is read-only once built, so one template may be
 *	rendered by several threads at once. template_data_create() returns
 *	a tree freed with template_data_free() (which NULLs the pointer);
 *	every string set into it is copied, and the child returned by
 *	template_data_add() belongs to its parent.
 */
#ifndef NDRGUARD_TEMPLATE_H
#define NDRGUARD_TEMPLATE_H

#include <stddef.h>

struct catalog;
struct strbuf;
struct template;
struct template_data;

enum template_flags {
	TEMPLATE_HTML = 0,	/* default: {{name}} is HTML-escaped */
	TEMPLATE_TEXT = 1,	/* plain text: no escaping */
};

int template_parse(const char *name, const char *text, size_t len,
		   enum template_flags flags, struct template **tpl_r,
		   const char **error_r);
/* template_load - read and parse a file; TEMPLATE_HTML for "*.html" */
int template_load(const char *path, struct template **tpl_r,
		  const char **error_r);
void template_free(struct template **_tpl);
/*
 * template_render - append the output for data (which may be NULL). A
 * template that nests sections over the same lists so deep that its
 * output grows beyond reason (millions of nodes) is cut off there.
 */
void template_render(const struct template *tpl,
		     const struct template_data *data, struct strbuf *out);
/* template_render_lang - template_render() with the words of {{>key}}
   from cat (NULL: every {{>key}} shows its key) */
void template_render_lang(const struct template *tpl,
			  const struct template_data *data,
			  const struct catalog *cat, struct strbuf *out);
/*
 * template_check_catalog - 0 when cat holds every key tpl names (both
 * forms of a plural), else -1 with *error_r "CAT_NAME: missing KEY
 * (TEMPLATE:LINE)" for the first one missing
 */
int template_check_catalog(const struct template *tpl,
			   const struct catalog *cat, const char *cat_name,
			   const char **error_r);
/* template_name - the name given at parse time (the file name) */
const char *template_name(const struct template *tpl);

struct template_data *template_data_create(void);
void template_data_free(struct template_data **_data);
/* template_data_set - name = value (a copy; NULL removes nothing and
   makes the name absent) */
void template_data_set(struct template_data *data, const char *name,
		       const char *value);
void template_data_setf(struct template_data *data, const char *name,
			const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void template_data_set_bool(struct template_data *data, const char *name,
			    int value);
/* template_data_add - append a new empty entry to the list name (the
   list is created on first use) and return it to be filled in */
struct template_data *template_data_add(struct template_data *data,
					const char *name);
/* template_data_set_list - make name an existing (possibly empty) list */
void template_data_set_list(struct template_data *data, const char *name);

/* template_escape_html - append s HTML-escaped (used by the renderer) */
void template_escape_html(struct strbuf *out, const char *s);

#endif
