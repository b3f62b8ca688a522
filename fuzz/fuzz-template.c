/*
 * fuzz-template.c - libFuzzer target for the digest template renderer
 *
 * Each input is a template (the files under templates/ are the seeds).
 * It is parsed as HTML and as text and, when it parses, rendered with a
 * data tree shaped like the digest's: strings holding markup, nested
 * lists, empty lists, booleans, names shared between levels.
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

	if (tree == NULL)
		tree = fuzz_template_data();
	for (int text = 0; text < 2; text++) {
		if (template_parse("fuzz.html", (const char *)data, size,
				   text ? TEMPLATE_TEXT : TEMPLATE_HTML, &tpl,
				   &error) < 0) {
			if (error == NULL || strncmp(error, "fuzz.html:", 10) != 0)
				abort();
			continue;
		}
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
