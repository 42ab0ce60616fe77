/* Fuzz target: block, body, header, CX receipts proof, crosslink list and
 * shard state decoders — everything a peer's block carries. Whatever
 * decodes must re-encode to exactly the input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"

/* Called after the encoder has run: argument evaluation order is
 * unspecified, so the encoder's outputs are not read in the same call. */
static void same(int rc, uint8_t *enc, size_t el, const uint8_t *data, size_t size)
{
	if (rc != 0 || el != size || memcmp(enc, data, size) != 0)
		abort();
	free(enc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *enc = NULL, h[32];
	size_t el = 0;
	struct block b;
	if (block_decode(&b, data, size) == 0) {
		int rc = block_encode(&b, &enc, &el);
		same(rc, enc, el, data, size);
		header_hash(&b.header, h);
		block_tx_root(&b, h);
		block_incoming_root(&b, h);
		block_free(&b);
	}
	memset(&b, 0, sizeof b);
	if (block_body_decode(&b, data, size) == 0) {
		int rc = block_body_encode(&b, &enc, &el);
		same(rc, enc, el, data, size);
		block_free(&b);
	}
	struct header hd;
	if (header_decode(&hd, data, size) == 0) {
		int rc = header_encode(&hd, &enc, &el);
		same(rc, enc, el, data, size);
		header_free(&hd);
	}
	struct cx_receipts_proof p;
	if (cx_receipts_proof_decode(&p, data, size) == 0) {
		int rc = cx_receipts_proof_encode(&p, &enc, &el);
		same(rc, enc, el, data, size);
		cx_receipts_proof_free(&p);
	}
	struct crosslink *cl;
	size_t n;
	if (crosslinks_decode(&cl, &n, data, size) == 0) {
		int rc = crosslinks_encode(cl, n, &enc, &el);
		same(rc, enc, el, data, size);
		crosslinks_free(cl, n);
	}
	struct shard_state ss;
	if (shard_state_decode(&ss, data, size) == 0) {
		int rc = shard_state_encode(&ss, &enc, &el);
		same(rc, enc, el, data, size);
		shard_state_free(&ss);
	}
	return 0;
}
