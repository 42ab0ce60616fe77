/* fbft_msg.c — fuzz target: FBFT messages from a hostile network.
 *
 * The decoder must never read outside the input, and whatever decodes must
 * encode back to exactly the same bytes (the encoding is canonical). The same
 * bytes are then fed to a fresh state machine of a four-key committee (with
 * the simulator's stand-in signatures), which must neither crash nor fail. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "consensus/fbft.h"
#include "sim/sim.h"

static struct sim_keyring *kr;
static struct sim_signer *sg;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fbft_msg m;
	if (fbft_msg_decode(data, size, &m) == 0) {
		uint8_t *buf = malloc(size + 1);
		size_t len;
		if (!buf)
			return 0;
		if (fbft_msg_encode(&m, buf, size + 1, &len) || len != size || memcmp(buf, data, size))
			abort();
		free(buf);
	}
	if (!kr) {
		uint32_t key = 0;
		if (sim_keyring_new(4, 1, &kr) || sim_signer_new(kr, &key, 1, &sg))
			abort();
	}
	uint32_t key = 0;
	struct fbft_config cfg = {.nkeys = 4, .own_keys = &key, .n_own = 1, .blocks_per_leader = 1,
	                          .block_period_ms = 10, .phase_timeout_ms = 100, .viewchange_timeout_ms = 100};
	uint8_t genesis[32] = {0};
	struct fbft *sm;
	if (fbft_new(&cfg, sim_signer_crypto(sg), NULL, genesis, &sm))
		abort();
	struct fbft_out out;
	fbft_out_init(&out);
	struct fbft_input in = {.kind = FBFT_IN_START};
	if (fbft_step(sm, 1, &in, &out))
		abort();
	in = (struct fbft_input){.kind = FBFT_IN_MSG, .data = data, .len = size};
	if (fbft_step(sm, 2, &in, &out))
		abort();
	fbft_out_clear(&out);
	fbft_free(sm);
	return 0;
}
