/* sim_crypto.c — the simulator's stand-in signature scheme.
 *
 * sig_k(msg) = keccak256(secret_k ‖ msg); an aggregate is the XOR of its
 * members' signatures; verification recomputes from the secrets, which only
 * the oracle (the keyring) holds. A node's signer refuses keys it does not
 * own, so a Byzantine node in the simulator cannot sign for honest keys —
 * the property BLS gives the real node. It is not a real signature scheme:
 * anyone with the keyring could forge; the simulator never hands it out.
 *
 * FastAggregateVerify over a committee of 100 would cost ~70 hashes, and each
 * certificate is checked by every node, so the keyring caches every key's
 * signature of the last few messages. */
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/prng.h"
#include "crypto/crypto.h"
#include "sim/sim.h"

#define SIG_LEN 32
#define CACHE 64

struct cache_ent {
	uint8_t digest[32];
	int used;
	uint8_t *sigs;  /* nkeys * 32 */
	uint8_t *have;  /* nkeys */
};

struct sim_keyring {
	uint32_t n;
	uint8_t (*secret)[32];
	struct cache_ent cache[CACHE];
	uint64_t tick;
};

struct sim_signer {
	struct fbft_crypto c;
	struct sim_keyring *kr;
	uint8_t *own;
};

int sim_keyring_new(uint32_t nkeys, uint64_t seed, struct sim_keyring **out)
{
	struct sim_keyring *kr = calloc(1, sizeof *kr);
	if (!kr)
		return -CN_ENOMEM;
	kr->n = nkeys;
	kr->secret = calloc(nkeys ? nkeys : 1, 32);
	if (!kr->secret) {
		free(kr);
		return -CN_ENOMEM;
	}
	struct cn_prng r;
	cn_prng_seed(&r, seed ^ 0x5eC7e75ULL);
	cn_prng_fill(&r, kr->secret, (size_t)nkeys * 32);
	for (int i = 0; i < CACHE; i++) {
		kr->cache[i].sigs = malloc((size_t)nkeys * SIG_LEN + 1);
		kr->cache[i].have = calloc(nkeys + 1, 1);
		if (!kr->cache[i].sigs || !kr->cache[i].have) {
			sim_keyring_free(kr);
			return -CN_ENOMEM;
		}
	}
	*out = kr;
	return 0;
}

void sim_keyring_free(struct sim_keyring *kr)
{
	if (!kr)
		return;
	for (int i = 0; i < CACHE; i++) {
		free(kr->cache[i].sigs);
		free(kr->cache[i].have);
	}
	free(kr->secret);
	free(kr);
}

static void raw_sign(const struct sim_keyring *kr, uint32_t key, const uint8_t *msg, size_t len, uint8_t *sig)
{
	struct keccak256 k;
	keccak256_init(&k);
	keccak256_update(&k, kr->secret[key], 32);
	keccak256_update(&k, msg, len);
	keccak256_final(&k, sig);
}

/* The cached signatures of msg by every key (filled lazily). */
static struct cache_ent *lookup(struct sim_keyring *kr, const uint8_t *msg, size_t len)
{
	uint8_t d[32];
	keccak256(msg, len, d);
	struct cache_ent *e = &kr->cache[d[0] % CACHE];
	if (!e->used || memcmp(e->digest, d, 32)) {
		memcpy(e->digest, d, 32);
		memset(e->have, 0, kr->n);
		e->used = 1;
	}
	return e;
}

static const uint8_t *key_sig(struct sim_keyring *kr, struct cache_ent *e, uint32_t key, const uint8_t *msg, size_t len)
{
	if (!e->have[key]) {
		raw_sign(kr, key, msg, len, e->sigs + (size_t)key * SIG_LEN);
		e->have[key] = 1;
	}
	return e->sigs + (size_t)key * SIG_LEN;
}

static int s_sign(void *ctx, uint32_t key, const uint8_t *msg, size_t len, uint8_t *sig)
{
	struct sim_signer *s = ctx;
	if (key >= s->kr->n || !s->own[key])
		return -CN_EINVAL;
	raw_sign(s->kr, key, msg, len, sig);
	return 0;
}

static int s_verify(void *ctx, uint32_t key, const uint8_t *msg, size_t len, const uint8_t *sig)
{
	struct sim_signer *s = ctx;
	if (key >= s->kr->n)
		return -CN_EVERIFY;
	struct cache_ent *e = lookup(s->kr, msg, len);
	return memcmp(key_sig(s->kr, e, key, msg, len), sig, SIG_LEN) ? -CN_EVERIFY : 0;
}

static int s_aggregate(void *ctx, const uint8_t *sigs, size_t n, uint8_t *out)
{
	if (!n)
		return -CN_EINVAL;
	uint8_t acc[SIG_LEN] = {0};
	for (size_t i = 0; i < n; i++)
		for (int j = 0; j < SIG_LEN; j++)
			acc[j] ^= sigs[i * SIG_LEN + j];
	memcpy(out, acc, SIG_LEN);
	return 0;
}

static int s_fav(void *ctx, const uint8_t *bitmap, uint32_t nkeys, const uint8_t *msg, size_t len, const uint8_t *agg)
{
	struct sim_signer *s = ctx;
	if (nkeys != s->kr->n)
		return -CN_EVERIFY;
	struct cache_ent *e = lookup(s->kr, msg, len);
	uint8_t acc[SIG_LEN] = {0};
	int any = 0;
	for (uint32_t k = 0; k < nkeys; k++) {
		if (!(bitmap[k >> 3] >> (k & 7) & 1))
			continue;
		const uint8_t *sg = key_sig(s->kr, e, k, msg, len);
		for (int j = 0; j < SIG_LEN; j++)
			acc[j] ^= sg[j];
		any = 1;
	}
	return any && !memcmp(acc, agg, SIG_LEN) ? 0 : -CN_EVERIFY;
}

int sim_signer_new(struct sim_keyring *kr, const uint32_t *keys, uint32_t n, struct sim_signer **out)
{
	struct sim_signer *s = calloc(1, sizeof *s);
	if (!s)
		return -CN_ENOMEM;
	s->own = calloc(kr->n + 1, 1);
	if (!s->own) {
		free(s);
		return -CN_ENOMEM;
	}
	for (uint32_t i = 0; i < n; i++)
		if (keys[i] < kr->n)
			s->own[keys[i]] = 1;
	s->kr = kr;
	s->c.ctx = s;
	s->c.sig_len = SIG_LEN;
	s->c.sign = s_sign;
	s->c.verify = s_verify;
	s->c.aggregate = s_aggregate;
	s->c.fast_aggregate_verify = s_fav;
	*out = s;
	return 0;
}

void sim_signer_free(struct sim_signer *s)
{
	if (!s)
		return;
	free(s->own);
	free(s);
}

const struct fbft_crypto *sim_signer_crypto(struct sim_signer *s) { return &s->c; }
