/* Fuzz target: loading a harmony.conf-style file. Whatever loads must dump
 * to TOML that loads back into an identical config. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct cn_config c, back;
	char err[512];
	if (cn_config_load(&c, CN_NET_MAINNET, (const char *)data, size, err, sizeof err))
		return 0;
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	if (!f || cn_config_dump(&c, f))
		abort();
	fclose(f);
	if (cn_config_load(&back, CN_NET_TESTNET, text, len, err, sizeof err) || !cn_config_equal(&c, &back))
		abort();
	free(text);
	return 0;
}
