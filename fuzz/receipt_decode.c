/* Fuzz target: receipt and CX receipt decoders. Whatever decodes must
 * re-encode to exactly the input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *enc, h[32];
	size_t el;
	struct receipt r;
	if (receipt_decode(&r, data, size) == 0) {
		if (receipt_encode(&r, &enc, &el) != 0 || el != size || memcmp(enc, data, size) != 0)
			abort();
		free(enc);
		uint8_t bloom[CORE_BLOOM_LEN] = {0};
		bloom_add_logs(bloom, r.logs, r.nlogs);
		receipts_root(&r, 1, h);
		receipt_free(&r);
	}
	struct cx_receipt c;
	if (cx_receipt_decode(&c, data, size) == 0) {
		if (cx_receipt_encode(&c, &enc, &el) != 0 || el != size || memcmp(enc, data, size) != 0)
			abort();
		free(enc);
		cx_outgoing_root(&c, 1, h);
	}
	return 0;
}
