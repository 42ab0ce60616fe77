/* bls_verify.c — Verify with arbitrary bytes: the first 48 are the public
 * key, the next 96 the signature, the rest the message. Nothing may crash,
 * and the fuzzer cannot forge: a signature it finds that verifies is fine
 * only if the key and signature decoded (checked by the library). */
#include <stdint.h>
#include <stdlib.h>

#include "base/err.h"
#include "crypto/bls.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bls_public_key pk;
	struct bls_signature sig;
	if (size < BLS_PK_LEN + BLS_SIG_LEN)
		return 0;
	if (bls_pk_from_bytes(data, &pk) != 0)
		return 0;
	if (bls_sig_from_bytes(data + BLS_PK_LEN, &sig) != 0)
		return 0;
	int rc = bls_verify(&pk, data + BLS_PK_LEN + BLS_SIG_LEN, size - BLS_PK_LEN - BLS_SIG_LEN, &sig);
	if (rc != 0 && rc != -CN_EVERIFY)
		abort();
	struct bls_public_key pks[2] = {pk, pk};
	rc = bls_fast_aggregate_verify(pks, 2, data + BLS_PK_LEN + BLS_SIG_LEN,
	                               size - BLS_PK_LEN - BLS_SIG_LEN, &sig);
	if (rc != 0 && rc != -CN_EVERIFY)
		abort();
	return 0;
}
