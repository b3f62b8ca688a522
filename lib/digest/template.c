/*
 * template.c - parse and render logic-less templates (see template.h)
 *
 * This module implements a Mustache subset. A template is parsed once
 * into a flat array of nodes; a section node records where its body
 * ends, so rendering is a walk over index ranges with a stack of data
 * contexts. Everything that can be wrong with a template is found by the
 * parser, which is why rendering returns nothing to check.
 */
#include "autoconfig.h"
#include "template.h"
#include "catalog.h"
#include "strbuf.h"
#include "xalloc.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TEMPLATE_MAX_DEPTH 32
/* nodes one render may visit: sections nested over the same list
   multiply, so a few lines of template could otherwise render for hours */
#define TEMPLATE_MAX_STEPS (4UL * 1024 * 1024)
#define TEMPLATE_MAX_SIZE (1024 * 1024)
/* a catalog key as a tag names it, before ".one" or ".other" */
#define TEMPLATE_KEY_MAX 200

enum template_node_type {
	NODE_TEXT,
	NODE_VAR,		/* escaped per the template's flags */
	NODE_RAW,
	NODE_SECTION,
	NODE_INVERTED,
	NODE_WORDS,		/* {{>key}}: a catalog text */
};

struct template_node {
	enum template_node_type type;
	char *text;		/* the text, or the name */
	size_t len;
	char *count;		/* NODE_WORDS of a plural: the number's name */
	size_t end;		/* sections: index after the body */
	unsigned int line;
};

struct template {
	char *name;
	enum template_flags flags;
	struct template_node *nodes;
	size_t count, alloc;
};

enum template_value_type {
	VALUE_STRING,
	VALUE_BOOL,
	VALUE_LIST,
};

struct template_value {
	char *name;
	enum template_value_type type;
	char *str;
	int bool_value;
	struct template_data **items;
	size_t count, alloc;
};

struct template_data {
	struct template_value *values;
	size_t count, alloc;
};

static __thread char template_error_buf[512];

static const char *template_error(const char *name, unsigned int line,
				  const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static const char *template_error(const char *name, unsigned int line,
				  const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(template_error_buf, sizeof(template_error_buf),
			 "%s:%u: ", name, line);

	if (n < 0 || (size_t)n >= sizeof(template_error_buf))
		n = 0;
	va_start(ap, fmt);
	vsnprintf(template_error_buf + n, sizeof(template_error_buf) - n,
		  fmt, ap);
	va_end(ap);
	return template_error_buf;
}

/* template_add_node - append a node, return its index */
static size_t template_add_node(struct template *tpl,
				enum template_node_type type,
				const char *text, size_t len,
				unsigned int line)
{
	struct template_node *n;

	if (tpl->count == tpl->alloc) {
		tpl->alloc = tpl->alloc ? tpl->alloc * 2 : 32;
		tpl->nodes = xrealloc(tpl->nodes,
				      tpl->alloc * sizeof(*tpl->nodes));
	}
	n = &tpl->nodes[tpl->count];
	memset(n, 0, sizeof(*n));
	n->type = type;
	n->text = xstrndup(text, len);
	n->len = len;
	n->line = line;
	return tpl->count++;
}

static int template_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
		|| (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
}

static unsigned int template_count_lines(const char *p, const char *end)
{
	unsigned int n = 0;

	for (; p < end; p++)
		if (*p == '\n')
			n++;
	return n;
}

static int template_blank(const char *p, const char *end)
{
	for (; p < end; p++)
		if (*p != ' ' && *p != '\t')
			return 0;
	return 1;
}

/*
 * template_standalone - is the tag at [tag, tag_end) alone on its line?
 * If so, *from_r is where the line starts and *to_r is after its newline.
 */
static int template_standalone(const char *text, const char *stop,
			       const char *tag, const char *tag_end,
			       const char **from_r, const char **to_r)
{
	const char *from = tag, *to = tag_end;

	while (from > text && from[-1] != '\n')
		from--;
	if (!template_blank(from, tag))
		return 0;
	while (to < stop && (*to == ' ' || *to == '\t'))
		to++;
	if (to < stop && *to == '\r' && to + 1 < stop && to[1] == '\n')
		to += 2;
	else if (to < stop && *to == '\n')
		to++;
	else if (to != stop)
		return 0;
	*from_r = from;
	*to_r = to;
	return 1;
}

void template_free(struct template **_tpl)
{
	struct template *tpl = *_tpl;

	if (tpl == NULL)
		return;
	*_tpl = NULL;
	for (size_t i = 0; i < tpl->count; i++) {
		free(tpl->nodes[i].text);
		free(tpl->nodes[i].count);
	}
	free(tpl->nodes);
	free(tpl->name);
	free(tpl);
}

/* template_words_bad - a {{>..}} body: a key, then maybe blanks and
   the name of a count; 0, or the first character that does not fit */
static const char *template_words_bad(const char *nb, const char *ne)
{
	const char *c = nb;
	int words = 1;

	for (; c < ne; c++) {
		if (*c == ' ' || *c == '\t') {
			if (words == 2)
				return c;
			while (c + 1 < ne && (c[1] == ' ' || c[1] == '\t'))
				c++;
			words++;
		} else if (!template_name_char(*c)) {
			return c;
		}
	}
	return NULL;
}

/* template_add_words - the node of a {{>key}} or {{>key count}} tag
   whose trimmed body is [nb, ne) */
static int template_add_words(struct template *tpl, const char *nb,
			      const char *ne, unsigned int line,
			      const char **error_r)
{
	const char *kend = nb, *cb;
	size_t i;

	while (kend < ne && *kend != ' ' && *kend != '\t')
		kend++;
	if ((size_t)(kend - nb) > TEMPLATE_KEY_MAX) {
		*error_r = template_error(tpl->name, line,
					  "catalog key longer than %d",
					  TEMPLATE_KEY_MAX);
		return -1;
	}
	i = template_add_node(tpl, NODE_WORDS, nb, (size_t)(kend - nb), line);
	for (cb = kend; cb < ne && (*cb == ' ' || *cb == '\t'); cb++)
		;
	if (cb < ne)
		tpl->nodes[i].count = xstrndup(cb, (size_t)(ne - cb));
	return 0;
}

int template_parse(const char *name, const char *text, size_t len,
		   enum template_flags flags, struct template **tpl_r,
		   const char **error_r)
{
	struct template *tpl = xcalloc(1, sizeof(*tpl));
	const char *p = text, *stop = text + len;
	size_t stack[TEMPLATE_MAX_DEPTH];
	unsigned int depth = 0, line = 1;

	tpl->name = xstrdup(name);
	tpl->flags = flags;
	if (memchr(text, '\0', len) != NULL) {
		*error_r = template_error(name, 1 + template_count_lines(
			text, (const char *)memchr(text, '\0', len)),
			"NUL byte in template");
		goto fail;
	}
	while (p < stop) {
		const char *open = memmem(p, (size_t)(stop - p), "{{", 2);
		const char *body, *close, *tag_end, *from, *to;
		unsigned int tag_line;
		char sigil = 0;

		if (open == NULL) {
			template_add_node(tpl, NODE_TEXT, p,
					  (size_t)(stop - p), line);
			break;
		}
		tag_line = line + template_count_lines(p, open);
		body = open + 2;
		if (body < stop && strchr("{&#^/!>", *body) != NULL)
			sigil = *body++;
		close = memmem(body, (size_t)(stop - body),
			       sigil == '{' ? "}}}" : "}}", sigil == '{' ? 3 : 2);
		if (close == NULL) {
			*error_r = template_error(name, tag_line,
						  "'{{' is never closed by '%s'",
						  sigil == '{' ? "}}}" : "}}");
			goto fail;
		}
		tag_end = close + (sigil == '{' ? 3 : 2);
		if (memchr(body, '\n', (size_t)(close - body)) != NULL
		    && sigil != '!') {
			*error_r = template_error(name, tag_line,
						  "a tag must fit on one line");
			goto fail;
		}
		/* trim the name and check it */
		const char *nb = body, *ne = close;
		while (nb < ne && (*nb == ' ' || *nb == '\t'))
			nb++;
		while (ne > nb && (ne[-1] == ' ' || ne[-1] == '\t'))
			ne--;
		if (sigil != '!') {
			if (nb == ne) {
				*error_r = template_error(name, tag_line,
							  "empty tag name");
				goto fail;
			}
			const char *bad = sigil == '>'
				? template_words_bad(nb, ne) : NULL;
			if (bad != NULL) {
				*error_r = template_error(name, tag_line,
					"bad character '%c' in {{>%.*s}}: a key,"
					" then the name of a count", *bad,
					(int)(ne - nb), nb);
				goto fail;
			}
			for (const char *c = nb; sigil != '>' && c < ne; c++) {
				if (!template_name_char(*c)) {
					*error_r = template_error(name, tag_line,
						"bad character '%c' in tag name '%.*s'",
						*c, (int)(ne - nb), nb);
					goto fail;
				}
			}
		}
		/* text before the tag, less the indentation of a
		   standalone block tag */
		int standalone = (sigil == '#' || sigil == '^' || sigil == '/'
				  || sigil == '!')
			&& template_standalone(text, stop, open, tag_end,
					       &from, &to);
		const char *text_end = standalone && from >= p ? from : open;
		if (text_end > p)
			template_add_node(tpl, NODE_TEXT, p,
					  (size_t)(text_end - p), line);
		line = tag_line + template_count_lines(open, tag_end);
		p = tag_end;
		if (standalone) {
			line += template_count_lines(tag_end, to);
			p = to;
		}
		switch (sigil) {
		case '!':
			break;
		case '#':
		case '^':
			if (depth == TEMPLATE_MAX_DEPTH) {
				*error_r = template_error(name, tag_line,
					"sections nested deeper than %d",
					TEMPLATE_MAX_DEPTH);
				goto fail;
			}
			stack[depth++] = template_add_node(tpl,
				sigil == '#' ? NODE_SECTION : NODE_INVERTED,
				nb, (size_t)(ne - nb), tag_line);
			break;
		case '/': {
			if (depth == 0) {
				*error_r = template_error(name, tag_line,
					"{{/%.*s}} closes no open section",
					(int)(ne - nb), nb);
				goto fail;
			}
			struct template_node *sec = &tpl->nodes[stack[depth - 1]];
			if (sec->len != (size_t)(ne - nb)
			    || memcmp(sec->text, nb, sec->len) != 0) {
				*error_r = template_error(name, tag_line,
					"{{/%.*s}} closes {{%c%s}} opened at line %u",
					(int)(ne - nb), nb,
					sec->type == NODE_SECTION ? '#' : '^',
					sec->text, sec->line);
				goto fail;
			}
			sec->end = tpl->count;
			depth--;
			break;
		}
		case '{':
		case '&':
			template_add_node(tpl, NODE_RAW, nb, (size_t)(ne - nb),
					  tag_line);
			break;
		case '>':
			if (template_add_words(tpl, nb, ne, tag_line,
					       error_r) < 0)
				goto fail;
			break;
		default:
			template_add_node(tpl, NODE_VAR, nb, (size_t)(ne - nb),
					  tag_line);
			break;
		}
	}
	if (depth > 0) {
		struct template_node *sec = &tpl->nodes[stack[depth - 1]];
		*error_r = template_error(name, sec->line,
					  "{{%c%s}} is never closed",
					  sec->type == NODE_SECTION ? '#' : '^',
					  sec->text);
		goto fail;
	}
	*tpl_r = tpl;
	return 0;
fail:
	template_free(&tpl);
	*tpl_r = NULL;
	return -1;
}

int template_load(const char *path, struct template **tpl_r,
		  const char **error_r)
{
	FILE *fp = fopen(path, "rb");
	struct strbuf sb = STRBUF_INIT;
	char buf[8192];
	size_t n, plen = strlen(path);
	enum template_flags flags;
	int ret;

	*tpl_r = NULL;
	if (fp == NULL) {
		*error_r = template_error(path, 0, "%s", strerror(errno));
		return -1;
	}
	while ((n = fread(buf, 1, sizeof(buf), fp)) > 0) {
		strbuf_append(&sb, buf, n);
		if (sb.len > TEMPLATE_MAX_SIZE)
			break;
	}
	if (ferror(fp) || sb.len > TEMPLATE_MAX_SIZE) {
		*error_r = template_error(path, 0, "%s", ferror(fp)
					  ? strerror(errno) : "larger than 1 MB");
		fclose(fp);
		strbuf_free(&sb);
		return -1;
	}
	fclose(fp);
	flags = plen >= 5 && strcmp(path + plen - 5, ".html") == 0
		? TEMPLATE_HTML : TEMPLATE_TEXT;
	ret = template_parse(path, strbuf_cstr(&sb), sb.len, flags, tpl_r,
			     error_r);
	strbuf_free(&sb);
	return ret;
}

const char *template_name(const struct template *tpl)
{
	return tpl->name;
}

/* ---- data ---- */

struct template_data *template_data_create(void)
{
	return xcalloc(1, sizeof(struct template_data));
}

void template_data_free(struct template_data **_data)
{
	struct template_data *d = *_data;

	if (d == NULL)
		return;
	*_data = NULL;
	for (size_t i = 0; i < d->count; i++) {
		struct template_value *v = &d->values[i];
		for (size_t j = 0; j < v->count; j++)
			template_data_free(&v->items[j]);
		free(v->items);
		free(v->str);
		free(v->name);
	}
	free(d->values);
	free(d);
}

static const struct template_value *
template_data_find(const struct template_data *d, const char *name,
		   size_t len)
{
	for (size_t i = 0; i < d->count; i++)
		if (strlen(d->values[i].name) == len
		    && memcmp(d->values[i].name, name, len) == 0)
			return &d->values[i];
	return NULL;
}

/* template_data_slot - the value called name, emptied, or a new one */
static struct template_value *template_data_slot(struct template_data *d,
						 const char *name)
{
	struct template_value *v =
		(struct template_value *)template_data_find(d, name,
							    strlen(name));

	if (v != NULL) {
		for (size_t j = 0; j < v->count; j++)
			template_data_free(&v->items[j]);
		free(v->items);
		free(v->str);
		char *keep = v->name;
		memset(v, 0, sizeof(*v));
		v->name = keep;
		return v;
	}
	if (d->count == d->alloc) {
		d->alloc = d->alloc ? d->alloc * 2 : 8;
		d->values = xrealloc(d->values, d->alloc * sizeof(*d->values));
	}
	v = &d->values[d->count++];
	memset(v, 0, sizeof(*v));
	v->name = xstrdup(name);
	return v;
}

void template_data_set(struct template_data *data, const char *name,
		       const char *value)
{
	struct template_value *v;

	if (value == NULL)
		return;
	v = template_data_slot(data, name);
	v->type = VALUE_STRING;
	v->str = xstrdup(value);
}

void template_data_setf(struct template_data *data, const char *name,
			const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	strbuf_vprintf(&sb, fmt, ap);
	va_end(ap);
	template_data_set(data, name, strbuf_cstr(&sb));
	strbuf_free(&sb);
}

void template_data_set_bool(struct template_data *data, const char *name,
			    int value)
{
	struct template_value *v = template_data_slot(data, name);

	v->type = VALUE_BOOL;
	v->bool_value = value != 0;
}

void template_data_set_list(struct template_data *data, const char *name)
{
	struct template_value *v =
		(struct template_value *)template_data_find(data, name,
							    strlen(name));

	if (v == NULL || v->type != VALUE_LIST) {
		v = template_data_slot(data, name);
		v->type = VALUE_LIST;
	}
}

struct template_data *template_data_add(struct template_data *data,
					const char *name)
{
	struct template_value *v;

	template_data_set_list(data, name);
	v = (struct template_value *)template_data_find(data, name,
							strlen(name));
	if (v->count == v->alloc) {
		v->alloc = v->alloc ? v->alloc * 2 : 8;
		v->items = xrealloc(v->items, v->alloc * sizeof(*v->items));
	}
	v->items[v->count] = template_data_create();
	return v->items[v->count++];
}

/* ---- rendering ---- */

void template_escape_html(struct strbuf *out, const char *s)
{
	const char *run = s;

	for (; *s; s++) {
		const char *ent;
		switch (*s) {
		case '&': ent = "&amp;"; break;
		case '<': ent = "&lt;"; break;
		case '>': ent = "&gt;"; break;
		case '"': ent = "&quot;"; break;
		case '\'': ent = "&#39;"; break;
		default: continue;
		}
		strbuf_append(out, run, (size_t)(s - run));
		strbuf_puts(out, ent);
		run = s + 1;
	}
	strbuf_append(out, run, (size_t)(s - run));
}

/* the state of one render */
struct template_render {
	const struct template *tpl;
	const struct catalog *cat;
	const struct template_data *ctx[TEMPLATE_MAX_DEPTH + 2];
	struct strbuf *out;
	unsigned long steps;
};

/* template_lookup - name in the innermost context that has it */
static const struct template_value *
template_lookup(const struct template_render *r, unsigned int depth,
		const char *name, size_t len)
{
	while (depth-- > 0) {
		const struct template_value *v =
			r->ctx[depth] ? template_data_find(r->ctx[depth], name,
							   len) : NULL;
		if (v != NULL)
			return v;
	}
	return NULL;
}

static int template_truthy(const struct template_value *v)
{
	if (v == NULL)
		return 0;
	switch (v->type) {
	case VALUE_STRING: return v->str[0] != '\0';
	case VALUE_BOOL: return v->bool_value;
	case VALUE_LIST: return v->count > 0;
	}
	return 0;
}

/* template_put - s (len bytes) into the output, escaped when HTML */
static void template_put(struct template_render *r, const char *s,
			 size_t len)
{
	if (r->tpl->flags == TEMPLATE_HTML) {
		char *copy = xstrndup(s, len);
		template_escape_html(r->out, copy);
		free(copy);
	} else {
		strbuf_append(r->out, s, len);
	}
}

/* template_words_text - the catalog text a {{>key}} node stands for:
   key.one or key.other for a plural, NULL when the catalog lacks it */
static const char *template_words_text(const struct template_render *r,
				       unsigned int depth,
				       const struct template_node *n,
				       char *key, size_t size)
{
	const struct template_value *v;
	int one;

	if (n->count == NULL)
		return catalog_get(r->cat, n->text);
	v = template_lookup(r, depth, n->count, strlen(n->count));
	one = v != NULL && v->type == VALUE_STRING && strcmp(v->str, "1") == 0;
	snprintf(key, size, "%s.%s", n->text, one ? "one" : "other");
	return catalog_get(r->cat, key);
}

/* template_render_words - a catalog text, its {{name}} placeholders
   filled from the data in scope; the text is words, never markup */
static void template_render_words(struct template_render *r,
				  unsigned int depth,
				  const struct template_node *n)
{
	char key[TEMPLATE_KEY_MAX + 16];
	const char *text = template_words_text(r, depth, n, key, sizeof(key));
	const char *open, *close;

	if (text == NULL) {
		/* found at start-up by template_check_catalog(); shown, so
		   a catalog edited since is seen, never silently empty */
		template_put(r, n->count ? key : n->text,
			     strlen(n->count ? key : n->text));
		return;
	}
	while ((open = strstr(text, "{{")) != NULL
	       && (close = strstr(open + 2, "}}")) != NULL) {
		const struct template_value *v =
			template_lookup(r, depth, open + 2,
					(size_t)(close - open - 2));

		template_put(r, text, (size_t)(open - text));
		if (v != NULL && v->type == VALUE_STRING)
			template_put(r, v->str, strlen(v->str));
		text = close + 2;
	}
	template_put(r, text, strlen(text));
}

static void template_render_range(struct template_render *r, size_t i,
				  size_t end, unsigned int depth)
{
	const struct template *tpl = r->tpl;

	while (i < end) {
		const struct template_node *n = &tpl->nodes[i];
		const struct template_value *v;

		if (++r->steps > TEMPLATE_MAX_STEPS)
			return;
		switch (n->type) {
		case NODE_TEXT:
			strbuf_append(r->out, n->text, n->len);
			break;
		case NODE_VAR:
		case NODE_RAW:
			v = template_lookup(r, depth, n->text, n->len);
			if (v == NULL || v->type != VALUE_STRING)
				break;
			if (n->type == NODE_VAR && tpl->flags == TEMPLATE_HTML)
				template_escape_html(r->out, v->str);
			else
				strbuf_puts(r->out, v->str);
			break;
		case NODE_WORDS:
			template_render_words(r, depth, n);
			break;
		case NODE_SECTION:
			v = template_lookup(r, depth, n->text, n->len);
			if (v != NULL && v->type == VALUE_LIST
			    && depth < TEMPLATE_MAX_DEPTH + 1) {
				for (size_t j = 0; j < v->count; j++) {
					r->ctx[depth] = v->items[j];
					template_render_range(r, i + 1, n->end,
							      depth + 1);
				}
			} else if (template_truthy(v)) {
				template_render_range(r, i + 1, n->end, depth);
			}
			i = n->end;
			continue;
		case NODE_INVERTED:
			v = template_lookup(r, depth, n->text, n->len);
			if (!template_truthy(v))
				template_render_range(r, i + 1, n->end, depth);
			i = n->end;
			continue;
		}
		i++;
	}
}

/* template_render_lang - render with the words from cat */
void template_render_lang(const struct template *tpl,
			  const struct template_data *data,
			  const struct catalog *cat, struct strbuf *out)
{
	struct template_render r = { .tpl = tpl, .cat = cat, .out = out };

	r.ctx[0] = data;
	strbuf_grow(out, 0);
	template_render_range(&r, 0, tpl->count, 1);
}

/* template_render - render with no catalog */
void template_render(const struct template *tpl,
		     const struct template_data *data, struct strbuf *out)
{
	template_render_lang(tpl, data, NULL, out);
}

/* template_check_catalog - the first key tpl names that cat lacks */
int template_check_catalog(const struct template *tpl,
			   const struct catalog *cat, const char *cat_name,
			   const char **error_r)
{
	static const char *const forms[] = { "one", "other" };
	char key[TEMPLATE_KEY_MAX + 16];

	for (size_t i = 0; i < tpl->count; i++) {
		const struct template_node *n = &tpl->nodes[i];

		if (n->type != NODE_WORDS)
			continue;
		for (size_t f = 0; f < (n->count ? 2u : 1u); f++) {
			snprintf(key, sizeof(key), "%s%s%s", n->text,
				 n->count ? "." : "", n->count ? forms[f] : "");
			if (catalog_get(cat, key) != NULL)
				continue;
			snprintf(template_error_buf, sizeof(template_error_buf),
				 "%.150s: missing %.220s (%.100s:%u)", cat_name, key,
				 tpl->name, n->line);
			*error_r = template_error_buf;
			return -1;
		}
	}
	return 0;
}
