/* fuzz/trie_proof.c — the Merkle proof verifier on hostile bytes.
 *
 * Input layout: 32 bytes of root, one byte of key length, the key, then the
 * proof as one RLP list of node strings. The verifier must never crash or
 * read outside the input; and whenever it claims a value, that value must
 * lie inside the proof bytes. A second pass checks a real proof for a key
 * of a small trie built from the input, so libFuzzer also explores valid
 * proofs with mutated keys. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "trie/trie.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 33)
		return 0;
	const uint8_t *root = data;
	size_t klen = data[32];
	if (size < 33 + klen)
		return 0;
	const uint8_t *key = data + 33;
	const uint8_t *proof = key + klen;
	size_t plen = size - 33 - klen;
	const uint8_t *val;
	size_t vlen;
	if (trie_verify_proof_rlp(root, key, klen, proof, plen, &val, &vlen) == 0) {
		if (val < proof || vlen > plen || val + vlen > proof + plen)
			abort();
	}

	/* Build a trie from the input's bytes (pairs of short keys and
	 * values), then check its proof for the fuzzed key verifies. */
	struct trie t;
	if (trie_init(&t, NULL, NULL, 0) != 0)
		abort();
	for (size_t i = 0; i + 4 <= plen; i += 4)
		if (trie_put(&t, proof + i, 2, proof + i + 2, 2) != 0)
			abort();
	uint8_t r[32];
	struct trie_proof p;
	if (trie_root(&t, r) != 0 || trie_prove(&t, key, klen, &p) != 0)
		abort();
	uint8_t *enc;
	size_t elen;
	if (trie_proof_encode(&p, &enc, &elen) != 0)
		abort();
	const uint8_t *want;
	size_t wlen;
	int got = trie_get(&t, key, klen, &want, &wlen);
	int rc = trie_verify_proof_rlp(r, key, klen, enc, elen, &val, &vlen);
	if (got != rc || (rc == 0 && (vlen != wlen || memcmp(val, want, vlen) != 0)))
		abort();
	free(enc);
	trie_proof_free(&p);
	trie_free(&t);
	return 0;
}
