/* bls_g1.c — fuzzes G1 (public key) decoding, compressed and uncompressed.
 * Whatever decodes must be a valid key that re-encodes to the same bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/bls.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bls_public_key pk, pk2;
	if (size == BLS_PK_LEN && bls_pk_from_bytes(data, &pk) == 0) {
		uint8_t enc[BLS_PK_UNCOMPRESSED_LEN];
		bls_pk_to_bytes(&pk, enc);
		if (memcmp(enc, data, BLS_PK_LEN) != 0)
			abort();
		bls_pk_to_bytes_uncompressed(&pk, enc);
		if (bls_pk_from_bytes_uncompressed(enc, &pk2) != 0 || !bls_pk_equal(&pk, &pk2))
			abort();
	}
	if (size == BLS_PK_UNCOMPRESSED_LEN && bls_pk_from_bytes_uncompressed(data, &pk) == 0) {
		uint8_t enc[BLS_PK_UNCOMPRESSED_LEN];
		bls_pk_to_bytes_uncompressed(&pk, enc);
		if (memcmp(enc, data, BLS_PK_UNCOMPRESSED_LEN) != 0)
			abort();
	}
	return 0;
}
