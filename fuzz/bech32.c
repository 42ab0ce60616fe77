/* fuzz/bech32.c — bech32 and one1… decoding of untrusted text.
 *
 * Whatever decodes must re-encode to the same string (in lower case), and a
 * decoded address must round-trip through its one1 form: the decoder accepts
 * exactly one spelling per value, up to case. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codec/bech32.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	char hrp[BECH32_MAX_LEN + 1], enc[BECH32_MAX_LEN + 1];
	uint8_t d5[BECH32_MAX_LEN], bytes[BECH32_MAX_LEN];
	size_t n, bn;
	const char *why = NULL;

	if (bech32_decode(text, size, hrp, sizeof hrp, d5, sizeof d5, &n, &why) == 0) {
		if (bech32_encode(hrp, d5, n, enc, sizeof enc) != 0 || strlen(enc) != size)
			abort();
		for (size_t i = 0; i < size; i++) {
			char c = text[i];
			if (c >= 'A' && c <= 'Z')
				c = (char)(c - 'A' + 'a');
			if (enc[i] != c)
				abort();
		}
		/* Unpadded regrouping must invert padded regrouping exactly. */
		if (bech32_convert_bits(bytes, sizeof bytes, &bn, 8, d5, n, 5, 0) == 0) {
			uint8_t back[BECH32_MAX_LEN];
			size_t m;
			if (bech32_convert_bits(back, sizeof back, &m, 5, bytes, bn, 8, 1) != 0 || m != n ||
			    memcmp(back, d5, n) != 0)
				abort();
		}
	} else if (!why) {
		abort(); /* every rejection explains itself */
	}

	uint8_t addr[20];
	if (bech32_one_decode(text, size, addr, NULL) == 0) {
		char one[BECH32_ONE_ADDR_LEN + 1];
		bech32_one_encode(addr, one);
		if (size != BECH32_ONE_ADDR_LEN || strncasecmp(one, text, size) != 0)
			abort();
	}
	return 0;
}
