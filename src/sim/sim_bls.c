/* sim_bls.c — real BLS12-381 signatures for simulator runs.
 *
 * Key i's secret comes from bls_keygen over a seed-derived IKM, so a run with
 * real signatures is as reproducible as one with the stand-in scheme. Each
 * simulated node gets its own fbft_bls adapter holding only its secrets. */
#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "base/err.h"
#include "base/prng.h"
#include "consensus/fbft_bls.h"
#include "sim/sim.h"

struct sim_bls {
	uint32_t n;
	struct bls_secret_key *sk;
	uint8_t (*pk)[BLS_PK_LEN];
	struct fbft_bls *inst[SIM_MAX_NODES];
	size_t ninst;
};

int sim_bls_new(uint32_t nkeys, uint64_t seed, struct sim_bls **out)
{
	struct sim_bls *b = calloc(1, sizeof *b);
	if (!b)
		return -CN_ENOMEM;
	b->n = nkeys;
	b->sk = calloc(nkeys, sizeof *b->sk);
	b->pk = calloc(nkeys, sizeof *b->pk);
	if (!b->sk || !b->pk) {
		sim_bls_free(b);
		return -CN_ENOMEM;
	}
	struct cn_prng r;
	cn_prng_seed(&r, seed ^ 0xB15B15ULL);
	for (uint32_t i = 0; i < nkeys; i++) {
		uint8_t ikm[32];
		cn_prng_fill(&r, ikm, sizeof ikm);
		int rc = bls_keygen(ikm, sizeof ikm, NULL, 0, &b->sk[i]);
		bytes_wipe(ikm, sizeof ikm);
		if (rc) {
			sim_bls_free(b);
			return rc;
		}
		struct bls_public_key pk;
		bls_sk_to_pk(&b->sk[i], &pk);
		bls_pk_to_bytes(&pk, b->pk[i]);
	}
	*out = b;
	return 0;
}

void sim_bls_free(struct sim_bls *b)
{
	if (!b)
		return;
	for (size_t i = 0; i < b->ninst; i++)
		fbft_bls_free(b->inst[i]);
	if (b->sk)
		bytes_wipe(b->sk, (size_t)b->n * sizeof *b->sk);
	free(b->sk);
	free(b->pk);
	free(b);
}

const struct fbft_crypto *sim_bls_crypto_for(void *ctx, uint32_t node, const uint32_t *keys, uint32_t n)
{
	struct sim_bls *b = ctx;
	struct fbft_bls *f;
	if (b->ninst == SIM_MAX_NODES || fbft_bls_new((const uint8_t(*)[BLS_PK_LEN])b->pk, b->n, &f))
		return NULL;
	for (uint32_t i = 0; i < n; i++)
		if (keys[i] >= b->n || fbft_bls_add_secret(f, keys[i], &b->sk[keys[i]])) {
			fbft_bls_free(f);
			return NULL;
		}
	b->inst[b->ninst++] = f;
	return fbft_bls_crypto(f);
}
