/*
 * fuzz-classify.c - libFuzzer target for the recognition engine
 *
 * Feeds arbitrary bytes to classify_message() with and without a relay
 * set, and renders the JSON line, so that the MIME reader, the DSN
 * reader, the text heuristics, the verdict and the JSON writer all see
 * hostile input. Built and run by fuzz/run.sh (clang, not part of make).
 */
#include "autoconfig.h"
#include "classify.h"
#include "relays.h"
#include "strbuf.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct relays *relays;
	struct classify_result *res;
	struct strbuf sb = STRBUF_INIT;
	const char *error;

	if (relays == NULL)
		relays = relays_create("*.example.org 192.0.2.0/24", "example.org",
				       &error);
	for (int pass = 0; pass < 2; pass++) {
		if (classify_message((const char *)data, size,
				     pass ? relays : NULL, &res, &error) < 0)
			return 0;
		classify_result_json(res, "fuzz", &sb);
		classify_result_free(&res);
		strbuf_reset(&sb);
	}
	strbuf_free(&sb);
	return 0;
}
