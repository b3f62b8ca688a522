/*
 * fuzz-config.c - libFuzzer target for ndrguard.conf(5) parsing
 *
 * Each input is a whole configuration file. It is put in a memfd and
 * read through config_load() by its /proc/self/fd path, as the programs
 * read their file (NUL bytes, continuation lines, every parameter's
 * checks in settings.c, durations and sizes). When the file loads,
 * what config_print() says of it must load again to the same settings:
 * `ndrguard config` output is meant to be pasted back into a file.
 */
#include "autoconfig.h"
#include "config.h"
#include "strbuf.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* fuzz_config_load - load size bytes of data as a file; config_load()'s */
static int fuzz_config_load(const uint8_t *data, size_t size,
			    struct settings *set, const char **error_r)
{
	static int fd = -1;
	char path[64];

	if (fd < 0 && (fd = memfd_create("ndrguard.conf", 0)) < 0)
		abort();
	if (ftruncate(fd, 0) < 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
		abort();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	return config_load(set, path, error_r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct settings set, again;
	struct strbuf first = STRBUF_INIT, second = STRBUF_INIT;
	const char *error;

	if (fuzz_config_load(data, size, &set, &error) < 0) {
		/* the error names the place, and set is still usable */
		if (error == NULL || strncmp(error, "/proc/self/fd/", 14) != 0)
			abort();
		config_print(&set, 1, &first);
		settings_free(&set);
		strbuf_free(&first);
		return 0;
	}
	config_print(&set, 0, &first);
	if (config_parse_text(&again, "printed", strbuf_cstr(&first),
			      &error) < 0) {
		fprintf(stderr, "printed config does not load: %s\n%s", error,
			strbuf_cstr(&first));
		abort();
	}
	config_print(&again, 0, &second);
	if (strcmp(strbuf_cstr(&first), strbuf_cstr(&second)) != 0) {
		fprintf(stderr, "printed config loads differently:\n%s---\n%s",
			strbuf_cstr(&first), strbuf_cstr(&second));
		abort();
	}
	settings_free(&set);
	settings_free(&again);
	strbuf_free(&first);
	strbuf_free(&second);
	return 0;
}
