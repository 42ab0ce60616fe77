/* Fuzz target: transaction decoders (plain and staking) on hostile bytes.
 * Whatever decodes must re-encode to exactly the input (canonical form),
 * and hashing and sender recovery must not crash. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *enc, h[32], addr[20];
	size_t el;
	struct tx tx;
	if (tx_decode(&tx, data, size) == 0) {
		if (tx_encode(&tx, &enc, &el) != 0 || el != size || memcmp(enc, data, size) != 0)
			abort();
		free(enc);
		tx_hash(&tx, h);
		tx_eth_hash(&tx, h);
		tx_signing_hash(&tx, h);
		tx_sender(&tx, addr);
		tx_free(&tx);
	}
	struct stx stx;
	if (stx_decode(&stx, data, size) == 0) {
		if (stx_encode(&stx, &enc, &el) != 0 || el != size || memcmp(enc, data, size) != 0)
			abort();
		free(enc);
		stx_hash(&stx, h);
		stx_sender(&stx, addr);
		stx_free(&stx);
	}
	return 0;
}
