/* prng.h — seeded deterministic pseudo-random numbers (xoshiro256**).
 *
 * The simulator replays a run exactly from one seed, so this generator's
 * output is fixed by its algorithm alone: the state is expanded from the
 * 64-bit seed with SplitMix64 and every derived value (bounded integers,
 * bytes, doubles) is computed with integer arithmetic in a fixed order, the
 * same on every platform. Not for secrets: use libsodium for keys. */
#ifndef CANON_BASE_PRNG_H
#define CANON_BASE_PRNG_H

#include <stddef.h>
#include <stdint.h>

struct cn_prng {
	uint64_t s[4];
};

void cn_prng_seed(struct cn_prng *r, uint64_t seed);
uint64_t cn_prng_next_u64(struct cn_prng *r);
/* Uniform in [0, bound) without modulo bias (Lemire's method); bound 0
 * returns 0. */
uint64_t cn_prng_uniform(struct cn_prng *r, uint64_t bound);
/* Uniform in [0, 1) with 53 random bits. */
double cn_prng_double(struct cn_prng *r);
/* Fills buf with len bytes (little-endian words, so the stream is the same
 * whatever the host byte order). */
void cn_prng_fill(struct cn_prng *r, void *buf, size_t len);
/* Advances the state by 2^128 steps: gives an independent stream for a
 * sub-component (e.g. one per simulated node) from the same seed. */
void cn_prng_jump(struct cn_prng *r);

#endif
