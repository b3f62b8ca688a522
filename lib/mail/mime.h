/*
 * mime.h - just enough MIME for reading bounces
 *
 * mime_parse() turns one raw message into a tree of parts. Line endings
 * are normalised first (CRLF and lone CR become LF, NUL becomes a space),
 * so everything after sees one form and LF, CRLF and CR input give the
 * same answers. Headers are unfolded but not decoded; mime_header_decode()
 * does RFC 2047, mime_part_text() undoes the transfer encoding and converts
 * the charset to UTF-8 with iconv.
 *
 * Every input is accepted. Limits keep the work linear and bounded: nesting
 * depth, number of parts, number of headers per part and length of one
 * header value (see MIME_MAX_*); what lies beyond a limit is ignored.
 *
 * Ownership: a struct mime_message owns every part, header and buffer in
 * it; mime_message_free() releases them all and NULLs the pointer.
 */
#ifndef NDRGUARD_MIME_H
#define NDRGUARD_MIME_H

#include <stddef.h>

struct strbuf;

#define MIME_MAX_DEPTH 12
#define MIME_MAX_PARTS 256
#define MIME_MAX_HEADERS 512
#define MIME_MAX_HEADER_VALUE 16384

struct mime_header {
	char *name;		/* as written */
	char *value;		/* unfolded, leading/trailing space removed */
	/*
	 * name owns one allocation holding both (mime_header_set), unless
	 * borrowed: then both point into the parsed message's own buffer
	 */
	int borrowed;
};

struct mime_part {
	struct mime_header *headers;
	size_t header_count;
	char *type;		/* "text/plain", lower case, never NULL */
	char *charset;		/* lower case, or NULL */
	char *encoding;		/* Content-Transfer-Encoding, lower case, or NULL */
	const char *body;	/* raw body (LF line ends), inside the message */
	size_t body_len;
	struct mime_part **children;	/* multipart parts, or the one
					   message/rfc822 inside */
	size_t child_count;
	struct mime_part *parent;
	unsigned int depth;
	unsigned int headers_only:1;	/* text/rfc822-headers child */
};

struct mime_message {
	struct mime_part *root;
	size_t part_count;
	/* normalised copies of the input and of decoded inner messages */
	char **buffers;
	size_t buffer_count;
};

/* mime_parse - parse a raw message of any line-ending convention */
struct mime_message *mime_parse(const char *data, size_t len);
void mime_message_free(struct mime_message **_msg);

/*
 * mime_normalize - copy data with LF line ends and no NUL bytes; returns
 * a NUL-terminated buffer the caller frees, its length in *len_r.
 */
char *mime_normalize(const char *data, size_t len, size_t *len_r);

/*
 * mime_headers_parse - parse a header block at data (LF line ends).
 * Returns the number of bytes it took, including the empty line ending
 * it; the headers are added to *headers_r / *count_r (caller frees with
 * mime_headers_free). A leading mbox "From " line is skipped.
 */
size_t mime_headers_parse(const char *data, size_t len,
			  struct mime_header **headers_r, size_t *count_r);
void mime_headers_free(struct mime_header *headers, size_t count);
/* mime_header_set - fill a header: name and value in one allocation */
void mime_header_set(struct mime_header *hdr, const char *name,
		     size_t name_len, const char *value, size_t value_len);
/* mime_headers_find - value of the first header called name, or NULL */
const char *mime_headers_find(const struct mime_header *headers,
			      size_t count, const char *name);
/* mime_part_header - the same for a part's headers */
const char *mime_part_header(const struct mime_part *part, const char *name);

/*
 * mime_param_get - value of parameter name in a structured header value
 * such as Content-Type (quotes removed, RFC 2231 continuations joined);
 * NULL if absent. Caller frees.
 */
char *mime_param_get(const char *value, const char *name);

/* mime_base64_decode - append the bytes of base64 text, skipping junk */
void mime_base64_decode(const char *in, size_t len, struct strbuf *out);
/* mime_qp_decode - append the bytes of quoted-printable text */
void mime_qp_decode(const char *in, size_t len, struct strbuf *out);
/*
 * mime_charset_to_utf8 - append in converted from charset to UTF-8.
 * Unknown charsets and undecodable bytes are copied through (the JSON
 * writer repairs what is not UTF-8). Returns 0, or -1 if the charset
 * is unknown to iconv.
 */
int mime_charset_to_utf8(const char *charset, const char *in, size_t len,
			 struct strbuf *out);
/*
 * mime_iconv_cache_free - close the calling thread's kept charset
 * converters now (other threads' are closed when they end)
 */
void mime_iconv_cache_free(void);
/* mime_header_decode - append value with RFC 2047 encoded-words decoded */
void mime_header_decode(const char *value, struct strbuf *out);
/*
 * mime_part_text - append a leaf part's content, transfer-decoded and
 * converted to UTF-8 (HTML tags are dropped for text/html)
 */
void mime_part_text(const struct mime_part *part, struct strbuf *out);
/* mime_part_decoded - append the transfer-decoded bytes only */
void mime_part_decoded(const struct mime_part *part, struct strbuf *out);

#endif
