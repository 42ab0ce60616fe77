/* bls_g2.c — fuzzes G2 (signature) decoding, compressed and uncompressed.
 * Whatever decodes must re-encode to the same bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/bls.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bls_signature sig, sig2;
	if (size == BLS_SIG_LEN && bls_sig_from_bytes(data, &sig) == 0) {
		uint8_t enc[BLS_SIG_UNCOMPRESSED_LEN];
		bls_sig_to_bytes(&sig, enc);
		if (memcmp(enc, data, BLS_SIG_LEN) != 0)
			abort();
		bls_sig_to_bytes_uncompressed(&sig, enc);
		if (bls_sig_from_bytes_uncompressed(enc, &sig2) != 0 || !bls_sig_equal(&sig, &sig2))
			abort();
	}
	if (size == BLS_SIG_UNCOMPRESSED_LEN && bls_sig_from_bytes_uncompressed(data, &sig) == 0) {
		uint8_t enc[BLS_SIG_UNCOMPRESSED_LEN];
		bls_sig_to_bytes_uncompressed(&sig, enc);
		if (memcmp(enc, data, BLS_SIG_UNCOMPRESSED_LEN) != 0)
			abort();
	}
	return 0;
}
