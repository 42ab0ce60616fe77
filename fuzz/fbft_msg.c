/* fbft_msg.c — fuzz target: the FBFT message decoder on hostile bytes.
 *
 * Decoding must never read outside the input; whatever decodes must encode
 * back to exactly the same bytes (the encoding is canonical). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "consensus/fbft.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fbft_msg m;
	if (fbft_msg_decode(data, size, &m))
		return 0;
	uint8_t *buf = malloc(size + 1);
	size_t len;
	if (!buf)
		return 0;
	if (fbft_msg_encode(&m, buf, size + 1, &len) || len != size || memcmp(buf, data, size))
		abort();
	free(buf);
	return 0;
}
