/*
 * test-template.c - the template renderer: escaping, sections, errors
 */
#include "autoconfig.h"
#include "template.h"
#include "catalog.h"
#include "strbuf.h"

#include <check.h>
#include "check-main.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* render - parse text, render with data, return a malloc'd result */
static char *render(const char *text, enum template_flags flags,
		    const struct template_data *data)
{
	struct template *tpl;
	const char *error = NULL;
	struct strbuf out = STRBUF_INIT;

	if (template_parse("t", text, strlen(text), flags, &tpl, &error) < 0)
		ck_abort_msg("parse failed: %s", error);
	template_render(tpl, data, &out);
	template_free(&tpl);
	ck_assert_ptr_null(tpl);
	return strbuf_steal(&out);
}

/* parse_error - the error text for a template that must not parse */
static const char *parse_error(const char *text)
{
	struct template *tpl = NULL;
	const char *error = NULL;

	ck_assert_int_eq(template_parse("file.html", text, strlen(text),
					TEMPLATE_HTML, &tpl, &error), -1);
	ck_assert_ptr_null(tpl);
	ck_assert_ptr_nonnull(error);
	return error;
}

START_TEST(variables_are_html_escaped)
{
	struct template_data *d = template_data_create();
	char *s;

	template_data_set(d, "subject", "<script>alert('x')</script> & \"q\"");
	s = render("<p>{{subject}}</p>", TEMPLATE_HTML, d);
	ck_assert_str_eq(s, "<p>&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"
			 " &amp; &quot;q&quot;</p>");
	free(s);
	template_data_free(&d);
	ck_assert_ptr_null(d);
}
END_TEST

/* words_catalog - a catalog file of lines, loaded */
static struct catalog *words_catalog(const char *lines)
{
	char path[] = "/tmp/test-template-cat.XXXXXX";
	int fd = mkstemp(path);
	struct catalog *cat = NULL;
	const char *error = NULL;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, lines, strlen(lines)), (ssize_t)strlen(lines));
	close(fd);
	ck_assert_msg(catalog_load(path, &cat, &error) == 0, "%s", error);
	unlink(path);
	return cat;
}

/* render_words - text rendered with the words of cat */
static char *render_words(const char *text, enum template_flags flags,
			  const struct template_data *data,
			  const struct catalog *cat)
{
	struct template *tpl;
	const char *error = NULL;
	struct strbuf out = STRBUF_INIT;

	if (template_parse("t", text, strlen(text), flags, &tpl, &error) < 0)
		ck_abort_msg("parse failed: %s", error);
	template_render_lang(tpl, data, cat, &out);
	template_free(&tpl);
	return strbuf_steal(&out);
}

START_TEST(words_come_from_the_catalog)
{
	struct catalog *cat = words_catalog(
		"t.title = Held for {{mailbox}} & co\n"
		"t.n.one = 1 bounce\nt.n.other = {{n}} bounces\n");
	struct template_data *d = template_data_create(), *e;
	char *s;

	template_data_set(d, "mailbox", "<a@b>");
	s = render_words("<h1>{{>t.title}}</h1>", TEMPLATE_HTML, d, cat);
	ck_assert_str_eq(s, "<h1>Held for &lt;a@b&gt; &amp; co</h1>");
	free(s);
	s = render_words("{{>t.title}}", TEMPLATE_TEXT, d, cat);
	ck_assert_str_eq(s, "Held for <a@b> & co");
	free(s);
	/* plurals by the number in scope, inside a list too */
	e = template_data_add(d, "l");
	template_data_set(e, "n", "1");
	e = template_data_add(d, "l");
	template_data_set(e, "n", "12");
	e = template_data_add(d, "l");
	template_data_set(e, "n", "0");
	s = render_words("{{#l}}[{{>t.n n}}]{{/l}}", TEMPLATE_TEXT, d, cat);
	ck_assert_str_eq(s, "[1 bounce][12 bounces][0 bounces]");
	free(s);
	/* a key the catalog lacks shows itself, never nothing */
	s = render_words("{{>t.gone}}|{{>t.gone n}}", TEMPLATE_TEXT, d, NULL);
	ck_assert_str_eq(s, "t.gone|t.gone.other");
	free(s);
	template_data_free(&d);
	catalog_free(&cat);
}
END_TEST

START_TEST(check_catalog_names_the_missing_key)
{
	struct catalog *cat = words_catalog("a = A\nb.one = B\n");
	struct template *tpl;
	const char *error = NULL, *text = "{{>a}}\n\n{{#x}}{{>b n}}{{/x}}\n";

	ck_assert_int_eq(template_parse("d.html", text, strlen(text),
					TEMPLATE_HTML, &tpl, &error), 0);
	ck_assert_int_eq(template_check_catalog(tpl, cat, "de/messages",
						&error), -1);
	ck_assert_str_eq(error, "de/messages: missing b.other (d.html:3)");
	template_free(&tpl);
	catalog_free(&cat);
	cat = words_catalog("a = A\nb.one = B\nb.other = Bs\n");
	ck_assert_int_eq(template_parse("d.html", text, strlen(text),
					TEMPLATE_HTML, &tpl, &error), 0);
	ck_assert_int_eq(template_check_catalog(tpl, cat, "de/messages",
						&error), 0);
	template_free(&tpl);
	catalog_free(&cat);
	/* a key, then one count name: nothing else */
	ck_assert_ptr_nonnull(strstr(parse_error("{{>a b c}}"), "{{>a b c}}"));
	ck_assert_ptr_nonnull(strstr(parse_error("{{>a <b}}"), "bad character"));
}
END_TEST

START_TEST(raw_needs_a_marker)
{
	struct template_data *d = template_data_create();
	char *s;

	template_data_set(d, "url", "https://x.test/a?b=1&c=2");
	s = render("{{url}}|{{{url}}}|{{& url }}", TEMPLATE_HTML, d);
	ck_assert_str_eq(s, "https://x.test/a?b=1&amp;c=2|"
			 "https://x.test/a?b=1&c=2|https://x.test/a?b=1&c=2");
	free(s);
	template_data_free(&d);
}
END_TEST

START_TEST(text_templates_do_not_escape)
{
	struct template_data *d = template_data_create();
	char *s;

	template_data_set(d, "v", "a < b & c");
	s = render("{{v}}", TEMPLATE_TEXT, d);
	ck_assert_str_eq(s, "a < b & c");
	free(s);
	template_data_free(&d);
}
END_TEST

START_TEST(absent_names_render_nothing)
{
	char *s = render("[{{nothing}}]{{#nothing}}x{{/nothing}}", TEMPLATE_HTML,
			 NULL);

	ck_assert_str_eq(s, "[]");
	free(s);
}
END_TEST

START_TEST(sections_iterate_and_nest)
{
	struct template_data *d = template_data_create();
	char *s;

	template_data_set(d, "who", "outer");
	for (int i = 0; i < 3; i++) {
		struct template_data *it = template_data_add(d, "items");
		template_data_setf(it, "n", "%d", i);
		if (i == 1) {
			template_data_set(template_data_add(it, "tags"), "t", "a");
			template_data_set(template_data_add(it, "tags"), "t", "b");
		}
	}
	s = render("{{#items}}<{{n}}:{{who}}{{#tags}}({{t}}{{n}}){{/tags}}>"
		   "{{/items}}", TEMPLATE_HTML, d);
	ck_assert_str_eq(s, "<0:outer><1:outer(a1)(b1)><2:outer>");
	free(s);
	template_data_free(&d);
}
END_TEST

/* the same list nested 20 deep would be 3^20 copies: cut off early */
START_TEST(nested_lists_are_bounded)
{
	struct template_data *d = template_data_create();
	struct strbuf tpl_text = STRBUF_INIT;
	char *s;

	for (int i = 0; i < 3; i++)
		template_data_set(template_data_add(d, "l"), "v", "x");
	for (int i = 0; i < 20; i++)
		strbuf_puts(&tpl_text, "{{#l}}{{v}}");
	for (int i = 0; i < 20; i++)
		strbuf_puts(&tpl_text, "{{/l}}");
	s = render(strbuf_cstr(&tpl_text), TEMPLATE_TEXT, d);
	/* a 3-deep copy renders whole; the whole 20-deep one would be
	   over 5 GB: the output stops within the step bound */
	ck_assert_uint_gt(strlen(s), 39);
	ck_assert_uint_lt(strlen(s), 16 * 1024 * 1024);
	free(s);
	strbuf_free(&tpl_text);
	template_data_free(&d);
}
END_TEST

START_TEST(conditionals_and_inverted)
{
	struct template_data *d = template_data_create();
	char *s;

	template_data_set_bool(d, "yes", 1);
	template_data_set_bool(d, "no", 0);
	template_data_set(d, "empty", "");
	template_data_set(d, "full", "x");
	template_data_set_list(d, "none");
	s = render("{{#yes}}Y{{/yes}}{{#no}}N{{/no}}{{^no}}n{{/no}}"
		   "{{#empty}}E{{/empty}}{{^empty}}e{{/empty}}"
		   "{{#full}}F{{full}}{{/full}}{{^none}}z{{/none}}"
		   "{{^missing}}m{{/missing}}", TEMPLATE_HTML, d);
	ck_assert_str_eq(s, "YneFxzm");
	free(s);
	template_data_free(&d);
}
END_TEST

START_TEST(standalone_tags_take_their_line)
{
	struct template_data *d = template_data_create();
	char *s;

	template_data_set(template_data_add(d, "l"), "v", "one");
	template_data_set(template_data_add(d, "l"), "v", "two");
	s = render("head\n  {{#l}}\n- {{v}}\n  {{/l}}\n{{! note }}\ntail {{#l}}{{v}}{{/l}}\n",
		   TEMPLATE_TEXT, d);
	ck_assert_str_eq(s, "head\n- one\n- two\ntail onetwo\n");
	free(s);
	template_data_free(&d);
}
END_TEST

START_TEST(values_can_be_replaced)
{
	struct template_data *d = template_data_create();
	char *s;

	template_data_set(d, "a", "1");
	template_data_set(d, "a", "2");
	template_data_set(template_data_add(d, "b"), "x", "y");
	template_data_set(d, "b", "plain");
	s = render("{{a}}{{b}}", TEMPLATE_HTML, d);
	ck_assert_str_eq(s, "2plain");
	free(s);
	template_data_free(&d);
}
END_TEST

START_TEST(errors_name_file_and_line)
{
	ck_assert_str_eq(parse_error("a\nb {{x\n"),
			 "file.html:2: '{{' is never closed by '}}'");
	ck_assert_str_eq(parse_error("\n\n{{#items}}\n{{/item}}\n"),
			 "file.html:4: {{/item}} closes {{#items}} opened at line 3");
	ck_assert_str_eq(parse_error("x\n{{^a}}\n"),
			 "file.html:2: {{^a}} is never closed");
	ck_assert_str_eq(parse_error("{{/a}}"),
			 "file.html:1: {{/a}} closes no open section");
	ck_assert_str_eq(parse_error("\n{{ }}"), "file.html:2: empty tag name");
	ck_assert_str_eq(parse_error("{{a b}}"),
			 "file.html:1: bad character ' ' in tag name 'a b'");
	ck_assert_str_eq(parse_error("{{{raw}}"),
			 "file.html:1: '{{' is never closed by '}}}'");
	ck_assert_str_eq(parse_error("{{!\nmulti-line\ncomment}}\n{{#x}}"),
			 "file.html:4: {{#x}} is never closed");
}
END_TEST

START_TEST(load_picks_escaping_by_extension)
{
	char dir[] = "/tmp/test-template.XXXXXX";
	char html[256], txt[256], bad[256];
	struct template *tpl;
	struct template_data *d = template_data_create();
	struct strbuf out = STRBUF_INIT;
	const char *error;
	FILE *fp;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(html, sizeof(html), "%s/a.html", dir);
	snprintf(txt, sizeof(txt), "%s/a.txt", dir);
	snprintf(bad, sizeof(bad), "%s/bad.txt", dir);
	template_data_set(d, "v", "<b>");
	fp = fopen(html, "w"); fputs("{{v}}", fp); fclose(fp);
	fp = fopen(txt, "w"); fputs("{{v}}", fp); fclose(fp);
	fp = fopen(bad, "w"); fputs("ok\n{{#v}}\n", fp); fclose(fp);

	ck_assert_int_eq(template_load(html, &tpl, &error), 0);
	template_render(tpl, d, &out);
	ck_assert_str_eq(strbuf_cstr(&out), "&lt;b&gt;");
	ck_assert_str_eq(template_name(tpl), html);
	template_free(&tpl);
	strbuf_reset(&out);
	ck_assert_int_eq(template_load(txt, &tpl, &error), 0);
	template_render(tpl, d, &out);
	ck_assert_str_eq(strbuf_cstr(&out), "<b>");
	template_free(&tpl);

	ck_assert_int_eq(template_load(bad, &tpl, &error), -1);
	ck_assert_ptr_nonnull(strstr(error, "bad.txt:2: {{#v}} is never closed"));
	unlink(bad);
	ck_assert_int_eq(template_load(bad, &tpl, &error), -1);
	ck_assert_ptr_nonnull(strstr(error, "No such file"));

	unlink(html);
	unlink(txt);
	rmdir(dir);
	strbuf_free(&out);
	template_data_free(&d);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("template");
	TCase *tc = tcase_create("template");

	tcase_add_test(tc, variables_are_html_escaped);
	tcase_add_test(tc, raw_needs_a_marker);
	tcase_add_test(tc, text_templates_do_not_escape);
	tcase_add_test(tc, absent_names_render_nothing);
	tcase_add_test(tc, sections_iterate_and_nest);
	tcase_add_test(tc, nested_lists_are_bounded);
	tcase_add_test(tc, conditionals_and_inverted);
	tcase_add_test(tc, standalone_tags_take_their_line);
	tcase_add_test(tc, values_can_be_replaced);
	tcase_add_test(tc, errors_name_file_and_line);
	tcase_add_test(tc, load_picks_escaping_by_extension);
	tcase_add_test(tc, words_come_from_the_catalog);
	tcase_add_test(tc, check_catalog_names_the_missing_key);
	suite_add_tcase(s, tc);
	return check_main_run(s);
}
