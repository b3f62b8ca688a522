/*
 * mime.c - MIME parsing for the recognition engine
 *
 * This module implements a small, defensive MIME reader: header blocks
 * (with unfolding), Content-Type parameters (with RFC 2231 continuations),
 * multipart splitting, message/rfc822 nesting, base64 and quoted-printable,
 * RFC 2047 encoded-words and charset conversion through glibc iconv.
 *
 * Everything runs on a normalised copy of the input (LF line ends, no NUL
 * bytes): one linear pass buys identical results for LF, CRLF and CR mail
 * and lets the rest of the code use C strings. Each multipart level scans
 * its own bytes once, and nesting is capped, so the total work is linear
 * in the input size times MIME_MAX_DEPTH at worst.
 */
#include "autoconfig.h"
#include "mime.h"
#include "strbuf.h"
#include "xalloc.h"

#include <ctype.h>
#include <errno.h>
#include <iconv.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* mime_normalize - LF line ends, NUL bytes turned into spaces */
char *mime_normalize(const char *data, size_t len, size_t *len_r)
{
	char *out = xmalloc(len + 1);
	const char *nul = memchr(data, '\0', len);
	size_t o = 0, i = 0, next_nul = nul == NULL ? len : (size_t)(nul - data);

	/*
	 * Runs without CR or NUL are copied whole; memchr finds their ends.
	 * The next NUL is looked for once per NUL, so every byte is scanned
	 * a bounded number of times.
	 */
	while (i < len) {
		/*
		 * Lines are short where there is one CR (CRLF text): the
		 * next 256 bytes are looked at eight at a time first, and
		 * memchr is called only past them
		 */
		const uint64_t ones = 0x0101010101010101ULL;
		size_t j = i, run_end;
		size_t near = next_nul - i < 256 ? next_nul : i + 256;

		while (j + 8 <= near) {
			uint64_t x;

			memcpy(&x, data + j, 8);
			x ^= ones * '\r';
			if (((x - ones) & ~x & (ones << 7)) != 0)
				break;
			j += 8;
		}
		while (j < near && data[j] != '\r')
			j++;
		if (j < near || near == next_nul) {
			run_end = j;
		} else {
			const char *cr = memchr(data + j, '\r', next_nul - j);

			run_end = cr == NULL ? next_nul : (size_t)(cr - data);
		}

		memcpy(out + o, data + i, run_end - i);
		o += run_end - i;
		i = run_end;
		if (i >= len)
			break;
		if (data[i] == '\r') {
			out[o++] = '\n';
			i++;
			if (i < len && data[i] == '\n')
				i++;
		} else {
			out[o++] = ' ';
			i++;
			nul = memchr(data + i, '\0', len - i);
			next_nul = nul == NULL ? len : (size_t)(nul - data);
		}
	}
	out[o] = '\0';
	*len_r = o;
	return out;
}

/* mime_line_end - offset of the LF ending the line at pos, or len */
static size_t mime_line_end(const char *data, size_t len, size_t pos)
{
	const char *nl = memchr(data + pos, '\n', len - pos);

	return nl == NULL ? len : (size_t)(nl - data);
}

/*
 * mime_header_name_len - length of "Name" in "Name: value", 0 if none;
 * where its colon (the line's first) is in *colon_r
 */
static size_t mime_header_name_len(const char *line, size_t len,
				   size_t *colon_r)
{
	size_t i = 0;

	while (i < len && line[i] != ':') {
		unsigned char c = (unsigned char)line[i];

		if (c <= ' ' || c >= 127)
			break;
		i++;
	}
	size_t name_len = i;
	/* "Name : value" is obsolete syntax but still seen */
	while (i < len && (line[i] == ' ' || line[i] == '\t'))
		i++;
	if (name_len == 0 || i >= len || line[i] != ':')
		return 0;
	*colon_r = i;
	return name_len;
}

void mime_header_set(struct mime_header *hdr, const char *name,
		     size_t name_len, const char *value, size_t value_len)
{
	char *block = xmalloc(name_len + value_len + 2);

	memcpy(block, name, name_len);
	block[name_len] = '\0';
	memcpy(block + name_len + 1, value, value_len);
	block[name_len + 1 + value_len] = '\0';
	hdr->name = block;
	hdr->value = block + name_len + 1;
	hdr->borrowed = 0;
}

/*
 * mime_header_finish - trim the collected value and store the header
 * (name and value in one allocation)
 */
static void mime_header_finish(struct mime_header *hdr, const char *name,
			       size_t name_len, const char *v, size_t len,
			       char *in_place)
{
	while (len > 0 && isspace((unsigned char)*v)) {
		v++;
		len--;
	}
	while (len > 0 && isspace((unsigned char)v[len - 1]))
		len--;
	if (in_place != NULL) {
		/*
		 * A one-line header in a buffer of the message's own: the
		 * name ends at the colon (or the blank before it), the value
		 * before the line's end, so both are ended in place
		 */
		char *n = in_place + (name - (const char *)in_place);
		char *val = in_place + (v - (const char *)in_place);

		n[name_len] = '\0';
		val[len] = '\0';
		hdr->name = n;
		hdr->value = val;
		hdr->borrowed = 1;
		return;
	}
	mime_header_set(hdr, name, name_len, v, len);
}

/* mime_header_add - append one (not yet set) header to the array */
static struct mime_header *mime_header_add(struct mime_header **headers_r,
					   size_t *count_r)
{
	size_t n = *count_r;

	/* 32 first (most blocks fit), then by doubling */
	if (n == 0 || (n >= 32 && (n & (n - 1)) == 0))
		*headers_r = xrealloc(*headers_r,
				      (n ? n * 2 : 32) * sizeof(**headers_r));
	(*headers_r)[n].name = NULL;
	(*headers_r)[n].value = NULL;
	(*headers_r)[n].borrowed = 0;
	return &(*headers_r)[n];
}

/*
 * mime_headers_parse_x - mime_headers_parse(); with writable (the same
 * bytes as data, the message's own buffer) one-line headers are ended
 * in place instead of copied
 */
static size_t mime_headers_parse_x(const char *data, size_t len,
				   char *writable,
				   struct mime_header **headers_r,
				   size_t *count_r)
{
	struct strbuf value = STRBUF_INIT;
	struct mime_header *cur = NULL;
	const char *cur_name = NULL, *first = NULL;
	size_t pos = 0, cur_name_len = 0, first_len = 0;
	int folded = 0;

	/*
	 * A header on one line is stored straight from the input; only a
	 * folded one is unfolded into `value`.
	 */
	if (len >= 5 && memcmp(data, "From ", 5) == 0)
		pos = mime_line_end(data, len, 0) + 1;
	while (pos < len) {
		size_t eol = mime_line_end(data, len, pos);
		const char *line = data + pos;
		size_t line_len = eol - pos;

		if (line_len == 0) {
			pos = eol + 1;
			break;
		}
		if (line[0] == ' ' || line[0] == '\t') {
			/* a continuation: unfold, keeping one space */
			if (cur != NULL && !folded) {
				strbuf_reset(&value);
				strbuf_append(&value, first, first_len);
				folded = 1;
			}
			if (cur != NULL && value.len < MIME_MAX_HEADER_VALUE) {
				strbuf_putc(&value, ' ');
				while (line_len > 0 && (*line == ' ' || *line == '\t')) {
					line++;
					line_len--;
				}
				strbuf_append(&value, line, line_len);
			}
			pos = eol + 1;
			continue;
		}
		size_t colon_at = 0;
		size_t name_len = mime_header_name_len(line, line_len,
						       &colon_at);
		if (name_len == 0)
			break;	/* not a header: the body starts here */
		if (cur != NULL) {
			if (folded)
				mime_header_finish(cur, cur_name, cur_name_len,
						   value.data, value.len, NULL);
			else
				mime_header_finish(cur, cur_name, cur_name_len,
						   first, first_len, writable);
			(*count_r)++;
		}
		cur = NULL;
		if (*count_r < MIME_MAX_HEADERS) {
			const char *colon = line + colon_at;

			cur = mime_header_add(headers_r, count_r);
			cur_name = line;
			cur_name_len = name_len;
			first = colon + 1;
			first_len = line_len - (size_t)(colon + 1 - line);
			folded = 0;
		}
		pos = eol + 1;
	}
	if (cur != NULL) {
		if (folded)
			mime_header_finish(cur, cur_name, cur_name_len,
					   value.data, value.len, NULL);
		else
			mime_header_finish(cur, cur_name, cur_name_len, first,
					   first_len, writable);
		(*count_r)++;
	}
	strbuf_free(&value);
	return pos > len ? len : pos;
}

size_t mime_headers_parse(const char *data, size_t len,
			  struct mime_header **headers_r, size_t *count_r)
{
	return mime_headers_parse_x(data, len, NULL, headers_r, count_r);
}

void mime_headers_free(struct mime_header *headers, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		if (!headers[i].borrowed)
			free(headers[i].name);	/* the value is in its block */
	}
	free(headers);
}

const char *mime_headers_find(const struct mime_header *headers,
			      size_t count, const char *name)
{
	unsigned char first = (unsigned char)(name[0] | 0x20);

	for (size_t i = 0; i < count; i++) {
		/* the first letter rules out most (names are ASCII) */
		if (((unsigned char)headers[i].name[0] | 0x20) == first &&
		    strcasecmp(headers[i].name, name) == 0)
			return headers[i].value;
	}
	return NULL;
}

const char *mime_part_header(const struct mime_part *part, const char *name)
{
	return mime_headers_find(part->headers, part->header_count, name);
}

/* mime_lower_token - lower-case copy of value up to ';', trimmed */
static char *mime_lower_token(const char *value)
{
	size_t len = strcspn(value, ";");
	char *s;

	while (len > 0 && isspace((unsigned char)value[len - 1]))
		len--;
	while (len > 0 && isspace((unsigned char)*value)) {
		value++;
		len--;
	}
	s = xstrndup(value, len);
	for (char *p = s; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	return s;
}

/* mime_param_value - one (possibly quoted) parameter value at p */
static const char *mime_param_value(const char *p, struct strbuf *out)
{
	if (*p == '"') {
		for (p++; *p != '\0' && *p != '"'; p++) {
			const char *run = p;

			while (*p != '\0' && *p != '"' && *p != '\\')
				p++;
			strbuf_append(out, run, (size_t)(p - run));
			if (*p != '\\')
				break;
			if (p[1] != '\0')
				p++;
			strbuf_putc(out, *p);
		}
		return *p == '"' ? p + 1 : p;
	}
	const char *start = p;

	while (*p != '\0' && *p != ';' && !isspace((unsigned char)*p))
		p++;
	strbuf_append(out, start, (size_t)(p - start));
	return p;
}

/* mime_param_match - does the attribute at p name `name` (maybe "*N*")? */
static int mime_param_match(const char *p, size_t attr_len, const char *name)
{
	size_t nlen = strlen(name);

	if (attr_len < nlen || strncasecmp(p, name, nlen) != 0)
		return 0;
	return attr_len == nlen || p[nlen] == '*';
}

char *mime_param_get(const char *value, const char *name)
{
	struct strbuf out = STRBUF_INIT;
	const char *p = strchr(value, ';');
	int found = 0;

	while (p != NULL && *p != '\0') {
		p++;
		while (isspace((unsigned char)*p) || *p == ';')
			p++;
		size_t attr_len = strcspn(p, "=; \t");
		const char *eq = p + attr_len;

		while (isspace((unsigned char)*eq))
			eq++;
		if (*eq != '=') {
			p = strchr(p, ';');
			continue;
		}
		eq++;
		while (isspace((unsigned char)*eq))
			eq++;
		if (mime_param_match(p, attr_len, name)) {
			/* RFC 2231: drop the charset'lang' prefix of name*0* */
			size_t start = out.len;

			p = mime_param_value(eq, &out);
			if (attr_len > 0 && p != eq && eq[0] != '"' &&
			    strchr(strbuf_cstr(&out) + start, '\'') != NULL &&
			    eq[-2] == '*') {
				char *q = strrchr(out.data + start, '\'');
				size_t rest = out.len - (size_t)(q + 1 - out.data);

				memmove(out.data + start, q + 1, rest + 1);
				out.len = start + rest;
			}
			found = 1;
		} else {
			struct strbuf skip = STRBUF_INIT;

			p = mime_param_value(eq, &skip);
			strbuf_free(&skip);
		}
		p = strchr(p, ';');
	}
	if (!found) {
		strbuf_free(&out);
		return NULL;
	}
	return strbuf_steal(&out);
}

static const signed char mime_b64_table[256] = {
	['A'] = 1, ['B'] = 2, ['C'] = 3, ['D'] = 4, ['E'] = 5, ['F'] = 6,
	['G'] = 7, ['H'] = 8, ['I'] = 9, ['J'] = 10, ['K'] = 11, ['L'] = 12,
	['M'] = 13, ['N'] = 14, ['O'] = 15, ['P'] = 16, ['Q'] = 17, ['R'] = 18,
	['S'] = 19, ['T'] = 20, ['U'] = 21, ['V'] = 22, ['W'] = 23, ['X'] = 24,
	['Y'] = 25, ['Z'] = 26, ['a'] = 27, ['b'] = 28, ['c'] = 29, ['d'] = 30,
	['e'] = 31, ['f'] = 32, ['g'] = 33, ['h'] = 34, ['i'] = 35, ['j'] = 36,
	['k'] = 37, ['l'] = 38, ['m'] = 39, ['n'] = 40, ['o'] = 41, ['p'] = 42,
	['q'] = 43, ['r'] = 44, ['s'] = 45, ['t'] = 46, ['u'] = 47, ['v'] = 48,
	['w'] = 49, ['x'] = 50, ['y'] = 51, ['z'] = 52, ['0'] = 53, ['1'] = 54,
	['2'] = 55, ['3'] = 56, ['4'] = 57, ['5'] = 58, ['6'] = 59, ['7'] = 60,
	['8'] = 61, ['9'] = 62, ['+'] = 63, ['/'] = 64,
};

void mime_base64_decode(const char *in, size_t len, struct strbuf *out)
{
	unsigned int acc = 0;
	int bits = 0;

	strbuf_grow(out, len / 4 * 3 + 3);
	for (size_t i = 0; i < len; i++) {
		int v = mime_b64_table[(unsigned char)in[i]];

		if (in[i] == '=')
			break;
		if (v == 0)
			continue;	/* line breaks and junk */
		acc = (acc << 6) | (unsigned int)(v - 1);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out->data[out->len++] = (char)((acc >> bits) & 0xff);
		}
		/* guard the reserved space: grow() counted 3 per 4 input */
		if (out->len + 4 >= out->size)
			strbuf_grow(out, 64);
	}
	out->data[out->len] = '\0';
}

/* mime_qp_decode_x - quoted-printable, '_' as space in RFC 2047 Q */
static void mime_qp_decode_x(const char *in, size_t len, int underscore,
			     struct strbuf *out)
{
	strbuf_grow(out, len);
	for (size_t i = 0; i < len; i++) {
		char c = in[i];
		size_t run = 0;

		/* copy the plain stretch in one go */
		if (!underscore) {
			const char *eq = memchr(in + i, '=', len - i);

			run = eq == NULL ? len - i : (size_t)(eq - (in + i));
		} else {
			while (i + run < len && in[i + run] != '=' &&
			       in[i + run] != '_')
				run++;
		}
		if (run > 0) {
			strbuf_append(out, in + i, run);
			i += run - 1;
			continue;
		}
		if (c == '=' && i + 2 < len && strbuf_hexval(in[i + 1]) >= 0 &&
		    strbuf_hexval(in[i + 2]) >= 0) {
			strbuf_putc(out, (char)(strbuf_hexval(in[i + 1]) * 16 +
						strbuf_hexval(in[i + 2])));
			i += 2;
		} else if (c == '=' && i + 1 < len && in[i + 1] == '\n') {
			i++;	/* soft line break */
		} else if (c == '=' && i + 1 == len) {
			/* soft break at the very end */
		} else if (c == '_' && underscore)
			strbuf_putc(out, ' ');
		else
			strbuf_putc(out, c);
	}
}

void mime_qp_decode(const char *in, size_t len, struct strbuf *out)
{
	mime_qp_decode_x(in, len, 0, out);
}

/* mime_charset_alias - iconv's name for a charset label seen in mail */
static const char *mime_charset_alias(const char *cs)
{
	static const struct {
		const char *label, *iconv_name;
	} aliases[] = {
		{ "iso-2022-jp", "ISO-2022-JP-2" },
		{ "shift_jis", "CP932" },
		{ "shift-jis", "CP932" },
		{ "x-sjis", "CP932" },
		{ "sjis", "CP932" },
		{ "windows-31j", "CP932" },
		{ "euc-jp", "EUC-JP-MS" },
		{ "ks_c_5601-1987", "CP949" },
		{ "gb2312", "GB18030" },
		{ "gbk", "GB18030" },
		{ "x-gbk", "GB18030" },
		{ "unicode-1-1-utf-7", "UTF-7" },
		{ "utf8", "UTF-8" },
	};

	for (size_t i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++) {
		if (strcasecmp(cs, aliases[i].label) == 0)
			return aliases[i].iconv_name;
	}
	return cs;
}

/* mime_is_plain_ascii - no 8-bit bytes and no ISO-2022 escapes */
static int mime_is_plain_ascii(const char *in, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];

		if (c >= 0x80 || c == 0x1b || c == '~' || c == '+')
			return 0;
	}
	return 1;
}

/* mime_iconv_run - convert with cd, replacing bad bytes by U+FFFD */
static void mime_iconv_run(iconv_t cd, const char *in, size_t len,
			   struct strbuf *out)
{
	char *inp = (char *)in;
	size_t inleft = len;

	while (inleft > 0) {
		strbuf_grow(out, inleft * 4 + 16);
		char *outp = out->data + out->len;
		size_t outleft = out->size - out->len - 1;
		size_t r = iconv(cd, &inp, &inleft, &outp, &outleft);

		out->len = (size_t)(outp - out->data);
		if (r != (size_t)-1)
			break;
		if (errno == E2BIG)
			continue;
		/* EILSEQ or EINVAL: mark it and go on after the bad byte */
		strbuf_append(out, "\xef\xbf\xbd", 3);
		inp++;
		inleft--;
	}
	strbuf_grow(out, 16);
	char *outp = out->data + out->len;
	size_t outleft = out->size - out->len - 1;
	iconv(cd, NULL, NULL, &outp, &outleft);	/* flush shift state */
	out->len = (size_t)(outp - out->data);
	out->data[out->len] = '\0';
}

/*
 * A few converters are kept per thread: iconv_open() looks the charset
 * up and may load (and iconv_close() unload) a gconv module each time.
 * Unknown charsets are remembered too. mime_iconv_run() leaves a
 * converter in its initial state.
 *
 * A thread's cache is on the heap, found through a pthread key whose
 * destructor closes the converters when the thread ends: the daemon's
 * decision threads come and go, and a cache in thread-local storage
 * was lost with each of them (several MB per burst of ISO-2022-JP,
 * GB18030 or UTF-7 mail). The main thread's is freed at exit by
 * mime_iconv_cache_free().
 */
#define MIME_ICONV_CACHE 6

struct mime_iconv_cache {
	struct {
		char name[40];
		iconv_t cd;
		int used;
	} slots[MIME_ICONV_CACHE];
	unsigned int next;
};

static pthread_key_t mime_iconv_key;
static pthread_once_t mime_iconv_once = PTHREAD_ONCE_INIT;
static int mime_iconv_key_ok;

/* mime_iconv_cache_destroy - close a thread's converters (the key's
   destructor) */
static void mime_iconv_cache_destroy(void *arg)
{
	struct mime_iconv_cache *c = arg;

	for (unsigned int i = 0; i < MIME_ICONV_CACHE; i++)
		if (c->slots[i].used && c->slots[i].cd != (iconv_t)-1)
			iconv_close(c->slots[i].cd);
	free(c);
}

static void mime_iconv_key_init(void)
{
	mime_iconv_key_ok = pthread_key_create(&mime_iconv_key,
					       mime_iconv_cache_destroy) == 0;
}

/* mime_iconv_cache - this thread's cache, made on first use; NULL when
   no key could be made (then nothing is kept) */
static struct mime_iconv_cache *mime_iconv_cache(void)
{
	struct mime_iconv_cache *c;

	pthread_once(&mime_iconv_once, mime_iconv_key_init);
	if (!mime_iconv_key_ok)
		return NULL;
	c = pthread_getspecific(mime_iconv_key);
	if (c == NULL) {
		c = xcalloc(1, sizeof(*c));
		if (pthread_setspecific(mime_iconv_key, c) != 0) {
			free(c);
			return NULL;
		}
	}
	return c;
}

void mime_iconv_cache_free(void)
{
	struct mime_iconv_cache *c;

	if (!mime_iconv_key_ok)
		return;
	c = pthread_getspecific(mime_iconv_key);
	if (c != NULL) {
		pthread_setspecific(mime_iconv_key, NULL);
		mime_iconv_cache_destroy(c);
	}
}

/* mime_iconv_get - a converter from name to UTF-8; *cached_r if kept */
static iconv_t mime_iconv_get(const char *name, int *cached_r)
{
	struct mime_iconv_cache *c = mime_iconv_cache();
	iconv_t cd;
	unsigned int slot;

	for (unsigned int i = 0; c != NULL && i < MIME_ICONV_CACHE; i++) {
		if (c->slots[i].used && strcmp(c->slots[i].name, name) == 0) {
			*cached_r = 1;
			return c->slots[i].cd;
		}
	}
	cd = iconv_open("UTF-8", name);
	*cached_r = 0;
	if (c == NULL || strlen(name) >= sizeof(c->slots[0].name))
		return cd;
	slot = c->next++ % MIME_ICONV_CACHE;
	if (c->slots[slot].used && c->slots[slot].cd != (iconv_t)-1)
		iconv_close(c->slots[slot].cd);
	strcpy(c->slots[slot].name, name);
	c->slots[slot].cd = cd;
	c->slots[slot].used = 1;
	*cached_r = 1;
	return cd;
}

int mime_charset_to_utf8(const char *charset, const char *in, size_t len,
			 struct strbuf *out)
{
	iconv_t cd;

	if (charset == NULL || *charset == '\0' ||
	    strcasecmp(charset, "utf-8") == 0 ||
	    strcasecmp(charset, "us-ascii") == 0 ||
	    mime_is_plain_ascii(in, len)) {
		strbuf_append(out, in, len);
		return 0;
	}
	int cached;

	cd = mime_iconv_get(mime_charset_alias(charset), &cached);
	if (cd == (iconv_t)-1) {
		strbuf_append(out, in, len);
		return -1;
	}
	mime_iconv_run(cd, in, len, out);
	if (!cached)
		iconv_close(cd);
	return 0;
}

/*
 * mime_encoded_word - parse "=?cs?e?text?=" at p; on success set the
 * charset and decoded bytes and return the length taken, else 0
 */
static size_t mime_encoded_word(const char *p, char *charset, size_t cs_size,
				struct strbuf *bytes)
{
	const char *cs = p + 2, *q1, *q2, *end;
	size_t cs_len;

	q1 = strchr(cs, '?');
	if (q1 == NULL || q1[1] == '\0' || q1[2] != '?')
		return 0;
	q2 = q1 + 2;
	end = strstr(q2 + 1, "?=");
	if (end == NULL)
		return 0;
	cs_len = (size_t)(q1 - cs);
	if (cs_len == 0 || cs_len >= cs_size || memchr(cs, ' ', cs_len))
		return 0;
	memcpy(charset, cs, cs_len);
	charset[cs_len] = '\0';
	char *star = strchr(charset, '*');	/* RFC 2231 language */
	if (star != NULL)
		*star = '\0';
	if (q1[1] == 'B' || q1[1] == 'b')
		mime_base64_decode(q2 + 1, (size_t)(end - q2 - 1), bytes);
	else if (q1[1] == 'Q' || q1[1] == 'q')
		mime_qp_decode_x(q2 + 1, (size_t)(end - q2 - 1), 1, bytes);
	else
		return 0;
	return (size_t)(end + 2 - p);
}

/* mime_is_encoded_word - does a well-formed encoded-word start at p? */
static int mime_is_encoded_word(const char *p)
{
	struct strbuf scratch = STRBUF_INIT;
	char cs[64];
	size_t n;

	if (p[0] != '=' || p[1] != '?')
		return 0;
	n = mime_encoded_word(p, cs, sizeof(cs), &scratch);
	strbuf_free(&scratch);
	return n > 0;
}

void mime_header_decode(const char *value, struct strbuf *out)
{
	struct strbuf pending = STRBUF_INIT;
	char pending_cs[64] = "", cs[64];
	const char *p = value;

	while (*p != '\0') {
		size_t n = 0;

		if (p[0] == '=' && p[1] == '?') {
			size_t mark = pending.len;
			char prev_cs[64];

			memcpy(prev_cs, pending_cs, sizeof(prev_cs));
			n = mime_encoded_word(p, cs, sizeof(cs), &pending);
			if (n > 0 && pending_cs[0] != '\0' &&
			    strcasecmp(prev_cs, cs) != 0) {
				/* charset changed: convert what came before */
				struct strbuf tail = STRBUF_INIT;

				strbuf_append(&tail, pending.data + mark,
					      pending.len - mark);
				pending.len = mark;
				mime_charset_to_utf8(prev_cs, pending.data,
						     pending.len, out);
				strbuf_reset(&pending);
				strbuf_append(&pending, tail.data, tail.len);
				strbuf_free(&tail);
			}
			if (n > 0)
				memcpy(pending_cs, cs, sizeof(cs));
		}
		if (n > 0) {
			p += n;
			/* white space between encoded-words is dropped */
			const char *q = p;
			while (*q == ' ' || *q == '\t')
				q++;
			if (q != p && mime_is_encoded_word(q))
				p = q;
			continue;
		}
		if (pending_cs[0] != '\0') {
			mime_charset_to_utf8(pending_cs, pending.data,
					     pending.len, out);
			strbuf_reset(&pending);
			pending_cs[0] = '\0';
		}
		/* plain text up to the next possible encoded-word */
		const char *run = p++;

		while (*p != '\0' && !(p[0] == '=' && p[1] == '?'))
			p++;
		strbuf_append(out, run, (size_t)(p - run));
	}
	if (pending_cs[0] != '\0')
		mime_charset_to_utf8(pending_cs, pending.data, pending.len, out);
	strbuf_free(&pending);
}

void mime_part_decoded(const struct mime_part *part, struct strbuf *out)
{
	const char *enc = part->encoding;

	if (enc != NULL && strcmp(enc, "base64") == 0)
		mime_base64_decode(part->body, part->body_len, out);
	else if (enc != NULL && strcmp(enc, "quoted-printable") == 0)
		mime_qp_decode(part->body, part->body_len, out);
	else
		strbuf_append(out, part->body, part->body_len);
}

/* mime_html_entity - append the text of &name; at p, return its length */
static size_t mime_html_entity(const char *p, const char *end,
			       struct strbuf *out)
{
	static const struct {
		const char *name, *text;
	} ents[] = {
		{ "&nbsp;", " " }, { "&lt;", "<" }, { "&gt;", ">" },
		{ "&amp;", "&" }, { "&quot;", "\"" }, { "&#64;", "@" },
	};

	for (size_t i = 0; i < sizeof(ents) / sizeof(ents[0]); i++) {
		size_t n = strlen(ents[i].name);

		if ((size_t)(end - p) >= n && strncasecmp(p, ents[i].name, n) == 0) {
			strbuf_puts(out, ents[i].text);
			return n;
		}
	}
	strbuf_putc(out, '&');
	return 1;
}

/* mime_html_strip - drop tags, turn block ends into line breaks */
static void mime_html_strip(const char *in, size_t len, struct strbuf *out)
{
	const char *p = in, *end = in + len;

	while (p < end) {
		if (*p == '<') {
			const char *gt = memchr(p, '>', (size_t)(end - p));

			if (gt == NULL)
				break;
			if (strncasecmp(p, "<br", 3) == 0 ||
			    strncasecmp(p, "</p", 3) == 0 ||
			    strncasecmp(p, "</div", 5) == 0 ||
			    strncasecmp(p, "</tr", 4) == 0 ||
			    strncasecmp(p, "<p", 2) == 0)
				strbuf_putc(out, '\n');
			p = gt + 1;
		} else if (*p == '&')
			p += mime_html_entity(p, end, out);
		else {
			size_t run = 1;	/* (a NUL byte from decoded content) */

			/* bounded: the text may be a part inside the message */
			while (p + run < end && p[run] != '<' && p[run] != '&')
				run++;
			strbuf_append(out, p, run);
			p += run;
		}
	}
}

void mime_part_text(const struct mime_part *part, struct strbuf *out)
{
	struct strbuf raw = STRBUF_INIT, conv = STRBUF_INIT;
	const char *enc = part->encoding, *cs = part->charset;
	const char *src = part->body;
	size_t len = part->body_len;

	/* copies only where a step changes something */
	if (enc != NULL && (strcmp(enc, "base64") == 0 ||
			    strcmp(enc, "quoted-printable") == 0)) {
		mime_part_decoded(part, &raw);
		src = strbuf_cstr(&raw);
		len = raw.len;
	}
	if (!(cs == NULL || *cs == '\0' || strcasecmp(cs, "utf-8") == 0 ||
	      strcasecmp(cs, "us-ascii") == 0 || mime_is_plain_ascii(src, len))) {
		mime_charset_to_utf8(cs, src, len, &conv);
		src = strbuf_cstr(&conv);
		len = conv.len;
	}
	if (strcmp(part->type, "text/html") == 0)
		mime_html_strip(src, len, out);
	else
		strbuf_append(out, src, len);
	strbuf_free(&raw);
	strbuf_free(&conv);
}

static void mime_parse_part(struct mime_message *msg, struct mime_part *part,
			    const char *data, size_t len);

/* mime_add_buffer - let the message own a buffer of decoded content */
static char *mime_add_buffer(struct mime_message *msg, char *buf)
{
	msg->buffers = xrealloc(msg->buffers,
				(msg->buffer_count + 1) * sizeof(char *));
	msg->buffers[msg->buffer_count++] = buf;
	return buf;
}

/* mime_new_child - allocate a child part of parent, NULL past the limits */
static struct mime_part *mime_new_child(struct mime_message *msg,
					struct mime_part *parent)
{
	struct mime_part *child;

	if (msg->part_count >= MIME_MAX_PARTS ||
	    parent->depth + 1 >= MIME_MAX_DEPTH)
		return NULL;
	child = xcalloc(1, sizeof(*child));
	child->parent = parent;
	child->depth = parent->depth + 1;
	parent->children = xrealloc(parent->children,
				    (parent->child_count + 1) * sizeof(child));
	parent->children[parent->child_count++] = child;
	msg->part_count++;
	return child;
}

/* mime_boundary_line - is the line at p a delimiter? 2 = closing one */
static int mime_boundary_line(const char *p, size_t line_len,
			      const char *boundary, size_t blen)
{
	if (line_len < blen + 2 || p[0] != '-' || p[1] != '-' ||
	    memcmp(p + 2, boundary, blen) != 0)
		return 0;
	if (line_len >= blen + 4 && p[blen + 2] == '-' && p[blen + 3] == '-')
		return 2;
	return 1;
}

/* mime_split_multipart - parse each body part between the delimiters */
static void mime_split_multipart(struct mime_message *msg,
				 struct mime_part *part, const char *boundary)
{
	const char *data = part->body;
	size_t len = part->body_len, blen = strlen(boundary);
	size_t pos = 0, start = 0;
	int open = 0;

	while (pos < len) {
		size_t eol = mime_line_end(data, len, pos);
		int b = mime_boundary_line(data + pos, eol - pos, boundary, blen);
		const char *next;

		if (b != 0) {
			if (open) {
				struct mime_part *child = mime_new_child(msg, part);
				size_t end = pos > start ? pos - 1 : start;

				if (child == NULL)
					return;
				mime_parse_part(msg, child, data + start,
						end - start);
			}
			if (b == 2)
				return;
			open = 1;
			start = eol < len ? eol + 1 : len;
		}
		/* only a line that starts with "--" can be a delimiter */
		next = eol < len ? data + eol + 1 : NULL;
		while (next != NULL &&
		       (next = memchr(next, '-', len - (size_t)(next - data))) != NULL &&
		       !(next[-1] == '\n' && next + 1 < data + len && next[1] == '-')) {
			/* the rest of a run of '-' cannot start a line */
			do
				next++;
			while (next < data + len && *next == '-');
		}
		if (next == NULL)
			break;
		pos = (size_t)(next - data);
	}
	if (open && start < len) {
		/* no closing delimiter: the last part runs to the end */
		struct mime_part *child = mime_new_child(msg, part);

		if (child != NULL)
			mime_parse_part(msg, child, data + start, len - start);
	}
}

/* mime_parse_inner - parse the message inside a message/rfc822 part */
static void mime_parse_inner(struct mime_message *msg, struct mime_part *part)
{
	struct mime_part *child = mime_new_child(msg, part);
	const char *data = part->body;
	size_t len = part->body_len;

	if (child == NULL)
		return;
	if (part->encoding != NULL && (strcmp(part->encoding, "base64") == 0 ||
				       strcmp(part->encoding, "quoted-printable") == 0)) {
		struct strbuf dec = STRBUF_INIT;

		mime_part_decoded(part, &dec);
		data = mime_add_buffer(msg, mime_normalize(strbuf_cstr(&dec),
							   dec.len, &len));
		strbuf_free(&dec);
	}
	child->headers_only = strstr(part->type, "headers") != NULL;
	mime_parse_part(msg, child, data, len);
}

/* mime_parse_content_type - fill type, charset and encoding of part */
static void mime_parse_content_type(struct mime_part *part)
{
	const char *ct = mime_part_header(part, "Content-Type");
	const char *cte = mime_part_header(part, "Content-Transfer-Encoding");
	int in_digest = part->parent != NULL &&
		strcmp(part->parent->type, "multipart/digest") == 0;

	if (ct != NULL)
		part->type = mime_lower_token(ct);
	if (part->type == NULL || strchr(part->type, '/') == NULL) {
		free(part->type);
		part->type = xstrdup(in_digest ? "message/rfc822" : "text/plain");
	}
	if (ct != NULL) {
		part->charset = mime_param_get(ct, "charset");
		if (part->charset != NULL) {
			for (char *p = part->charset; *p != '\0'; p++)
				*p = (char)tolower((unsigned char)*p);
		}
	}
	if (cte != NULL)
		part->encoding = mime_lower_token(cte);
}

static void mime_parse_part(struct mime_message *msg, struct mime_part *part,
			    const char *data, size_t len)
{
	/* data is always inside one of msg->buffers, which msg may modify */
	size_t used = mime_headers_parse_x(data, len, (char *)data,
					   &part->headers,
					 &part->header_count);

	part->body = data + used;
	part->body_len = len - used;
	mime_parse_content_type(part);
	if (part->headers_only)
		return;
	if (strncmp(part->type, "multipart/", 10) == 0) {
		const char *ct = mime_part_header(part, "Content-Type");
		char *boundary = ct == NULL ? NULL : mime_param_get(ct, "boundary");

		if (boundary != NULL && *boundary != '\0')
			mime_split_multipart(msg, part, boundary);
		free(boundary);
	} else if (strcmp(part->type, "message/rfc822") == 0 ||
		   strcmp(part->type, "message/global") == 0 ||
		   strcmp(part->type, "message/rfc822-headers") == 0 ||
		   strcmp(part->type, "text/rfc822-headers") == 0 ||
		   strcmp(part->type, "message/global-headers") == 0) {
		mime_parse_inner(msg, part);
	}
}

struct mime_message *mime_parse(const char *data, size_t len)
{
	struct mime_message *msg = xcalloc(1, sizeof(*msg));
	size_t nlen;
	char *buf = mime_add_buffer(msg, mime_normalize(data, len, &nlen));

	msg->root = xcalloc(1, sizeof(*msg->root));
	msg->part_count = 1;
	mime_parse_part(msg, msg->root, buf, nlen);
	return msg;
}

/* mime_part_free - free part and all below it */
static void mime_part_free(struct mime_part *part)
{
	for (size_t i = 0; i < part->child_count; i++)
		mime_part_free(part->children[i]);
	free(part->children);
	mime_headers_free(part->headers, part->header_count);
	free(part->type);
	free(part->charset);
	free(part->encoding);
	free(part);
}

void mime_message_free(struct mime_message **_msg)
{
	struct mime_message *msg = *_msg;

	if (msg == NULL)
		return;
	*_msg = NULL;
	if (msg->root != NULL)
		mime_part_free(msg->root);
	for (size_t i = 0; i < msg->buffer_count; i++)
		free(msg->buffers[i]);
	free(msg->buffers);
	free(msg);
}
