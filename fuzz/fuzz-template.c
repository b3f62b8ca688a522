/*
 * fuzz-template.c - libFuzzer target for the digest template renderer
 *
 * Each input is a template (the files under templates/ are the seeds).
 * It is parsed as HTML and as text and, when it parses, rendered with a
 * data tree shaped like the digest's: strings holding markup, nested
 * lists, empty lists, booleans, names shared between levels.
 *
 * Sections nest as deep as the fuzzer likes, and a list section inside
 * a section of the same list renders the list once per entry of the
 * enclosing one (as Mustache does): {{#storms}} nested twenty deep over
 * three storms is 3^20 copies. Templates are the postmaster's files, so
 * this is a property of the format, not an attack; inputs nesting more
 * than FUZZ_TEMPLATE_DEPTH deep are rendered without data only.
 *
 * What is checked besides memory safety: in HTML, a value from the data
 * never reaches the output unescaped through {{name}}; the marker value
 * below carries '<' and only {{{name}}} or {{&name}} may copy it.
 */
#include "autoconfig.h"
#include "strbuf.h"
#include "template.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_TEMPLATE_MARK "<x-unescaped>"
#define FUZZ_TEMPLATE_DEPTH 4

/* fuzz_template_depth - how deep {{#..}} and {{^..}} nest, roughly */
static int fuzz_template_depth(const uint8_t *data, size_t size)
{
	int depth = 0, max = 0;

	for (size_t i = 0; i + 2 < size; i++) {
		if (data[i] != '{' || data[i + 1] != '{')
			continue;
		if (data[i + 2] == '#' || data[i + 2] == '^') {
			if (++depth > max)
				max = depth;
		} else if (data[i + 2] == '/' && depth > 0) {
			depth--;
		}
	}
	return max;
}

static struct template_data *fuzz_template_data(void)
{
	struct template_data *d = template_data_create(), *e, *f;

	template_data_set(d, "mailbox", "alice@example.org");
	template_data_set(d, "subject", "\"quoted\" & <b>bold</b> 'single'");
	template_data_set(d, "total", "3");
	template_data_set(d, "name", FUZZ_TEMPLATE_MARK);
	template_data_set(d, "empty", "");
	template_data_set(d, "mailbox_url", "https://q.example/mailbox?m=a&t=x");
	template_data_set_bool(d, "forged", 1);
	template_data_set_bool(d, "same_time", 0);
	template_data_set_list(d, "nothing");
	for (int i = 0; i < 3; i++) {
		e = template_data_add(d, "storms");
		template_data_setf(e, "count", "%d", i * 10);
		template_data_set(e, "since", "2026-11-27 10:00");
		template_data_set_bool(e, "open", i == 2);
		for (int j = 0; j < i; j++) {
			f = template_data_add(e, "items");
			template_data_set(f, "name", FUZZ_TEMPLATE_MARK);
			template_data_setf(f, "count", "%d", j);
		}
	}
	e = template_data_add(d, "top_mtas");
	template_data_set(e, "name", "mx.example.net");
	return d;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct template_data *tree;
	struct strbuf out = STRBUF_INIT;
	struct template *tpl;
	const char *error;
	int deep;

	if (tree == NULL)
		tree = fuzz_template_data();
	deep = fuzz_template_depth(data, size) > FUZZ_TEMPLATE_DEPTH;
	for (int text = 0; text < 2; text++) {
		if (template_parse("fuzz.html", (const char *)data, size,
				   text ? TEMPLATE_TEXT : TEMPLATE_HTML, &tpl,
				   &error) < 0) {
			if (error == NULL || strncmp(error, "fuzz.html:", 10) != 0)
				abort();
			continue;
		}
		if (!deep)
			template_render(tpl, tree, &out);
		template_render(tpl, NULL, &out);
		if (!text && memchr(data, '{', size) != NULL &&
		    memmem(data, size, "{{{", 3) == NULL &&
		    memmem(data, size, "{{&", 3) == NULL &&
		    memmem(data, size, "<x-", 3) == NULL &&
		    out.len > 0 &&
		    memmem(out.data, out.len, FUZZ_TEMPLATE_MARK,
			   strlen(FUZZ_TEMPLATE_MARK)) != NULL) {
			fprintf(stderr, "a value reached HTML unescaped\n");
			abort();
		}
		template_free(&tpl);
		strbuf_reset(&out);
	}
	strbuf_free(&out);
	return 0;
}
