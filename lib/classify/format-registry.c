/*
 * format-registry.c - the bounce formats in the order they are asked
 *
 * The structured reports first (their report-type or body says what
 * they are), then the RFC 3464 fields (in a delivery-status part, or
 * written into the text), then prose, and last the other automatic
 * kinds, which claim whatever is left (as "not a bounce" at worst).
 */
#include "autoconfig.h"
#include "format.h"

const struct classify_format *const format_registry[] = {
	&format_arf,
	&format_mdn,
	&format_ses,
	&format_dsn,
	&format_text,
	&format_other,
	NULL
};
