/* fuzz/state_account.c — the account RLP decoder on arbitrary bytes.
 *
 * Account encodings reach a node from its own database, from state snapshots
 * and from proofs served by peers. Whatever state_account_decode() accepts
 * must re-encode to exactly the input: two encodings of one account would
 * give one state two roots. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "state/state.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct state_account a;
	uint8_t out[STATE_ACCOUNT_RLP_MAX];
	if (state_account_decode(data, size, &a) != 0)
		return 0;
	size_t n = state_account_encode(&a, out);
	if (n != size || memcmp(out, data, n) != 0)
		abort();
	return 0;
}
