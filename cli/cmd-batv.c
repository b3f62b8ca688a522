/*
 * cmd-batv.c - ndrguard batv: sign and check BATV (prvs=) addresses
 *
 * SYNOPSIS
 *	ndrguard batv sign [--at TIME] ADDRESS
 *	ndrguard batv verify [--at TIME] ADDRESS
 *
 * DESCRIPTION
 *	sign prints ADDRESS with a prvs= tag of the first key of
 *	batv_key_file, valid for batv_days; verify checks the tag of a
 *	tagged ADDRESS and prints the address without it. --at TIME (a UTC
 *	date YYYY-MM-DD[THH:MM[:SS]], or a duration back from now such as
 *	"10d") signs or checks as of that time instead of now.
 *
 * EXIT STATUS
 *	0 signed, or a valid tag; 65 a tag that is missing or fails (the
 *	reason on stderr); 64 usage; 78 no usable batv_key_file.
 */
#include "autoconfig.h"
#include "batv.h"
#include "cli.h"
#include "settings.h"

#include <stdio.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>

#define BATV_CLI_USAGE "usage: batv sign|verify [--at TIME] ADDRESS"

/* batv_cli_sign - print the tagged address */
static int batv_cli_sign(const struct batv_keys *keys, const char *address,
			 long long day, unsigned int days)
{
	char out[BATV_ADDRESS_MAX + 16];
	const char *error;

	if (batv_sign(keys, address, day, days, out, sizeof(out), &error) < 0) {
		fprintf(stderr, "ndrguard batv: %s: %s\n", address, error);
		return EX_DATAERR;
	}
	printf("%s\n", out);
	return EX_OK;
}

/* batv_cli_verify - print the untagged address, or why the tag fails */
static int batv_cli_verify(const struct batv_keys *keys, const char *address,
			   long long day, unsigned int days)
{
	char untagged[BATV_ADDRESS_MAX];
	enum batv_result r;

	r = batv_verify(keys, address, day, days, untagged, sizeof(untagged));
	if (r != BATV_VALID) {
		fprintf(stderr, "ndrguard batv: %s: %s\n", address,
			batv_result_name(r));
		return EX_DATAERR;
	}
	printf("%s\n", untagged);
	return EX_OK;
}

int cmd_batv(int argc, char **argv, const struct cli_context *ctx)
{
	long long now = (long long)time(NULL);
	struct batv_keys *keys;
	const char *error;
	int arg = 2, status;

	if (argc > arg + 1 && strcmp(argv[arg], "--at") == 0) {
		if (cli_parse_since(argv[arg + 1], &now) < 0)
			return cli_usage_error("batv", "--at %s: expected "
					       "YYYY-MM-DD[THH:MM[:SS]] or a "
					       "duration", argv[arg + 1]);
		arg += 2;
	}
	if (argc != arg + 1 || (strcmp(argv[1], "sign") != 0 &&
				    strcmp(argv[1], "verify") != 0))
		return cli_usage_error("batv", BATV_CLI_USAGE);
	if (batv_keys_load(ctx->set->batv_key_file, &keys, &error) < 0) {
		fprintf(stderr, "ndrguard batv: batv_key_file: %s\n", error);
		return EX_CONFIG;
	}
	if (strcmp(argv[1], "sign") == 0)
		status = batv_cli_sign(keys, argv[arg], batv_day(now),
				       ctx->set->batv_days);
	else
		status = batv_cli_verify(keys, argv[arg], batv_day(now),
					 ctx->set->batv_days);
	batv_keys_free(&keys);
	return status;
}
