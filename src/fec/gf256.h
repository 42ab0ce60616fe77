/* gf256.h — GF(256) arithmetic for RaptorQ (private to src/fec/, used by tests).
 *
 * The field is the one RFC 6330 section 5.7 defines (polynomial 0x11D,
 * OCT_EXP/OCT_LOG tables). Bulk row operations over symbol bytes are the hot
 * loop of the codec, so each has a portable version and SSSE3/AVX2 versions
 * (split-nibble table multiply); the fastest one the CPU supports is picked at
 * run time. Tests force each implementation and compare them. */
#ifndef CANON_FEC_GF256_H
#define CANON_FEC_GF256_H

#include <stddef.h>
#include <stdint.h>

#include "fec/rq_tables.h"

enum rq_gf_impl { RQ_GF_PORTABLE, RQ_GF_SSSE3, RQ_GF_AVX2, RQ_GF_BEST };

static inline uint8_t rq_gf_mul(uint8_t a, uint8_t b)
{
	if (!a || !b)
		return 0;
	return rq_oct_exp[rq_oct_log[a] + rq_oct_log[b]];
}

/* b must be nonzero. */
static inline uint8_t rq_gf_div(uint8_t a, uint8_t b)
{
	if (!a)
		return 0;
	return rq_oct_exp[rq_oct_log[a] - rq_oct_log[b] + 255];
}

static inline uint8_t rq_gf_exp(unsigned i)
{
	return rq_oct_exp[i % 255];
}

/* Selects an implementation; returns the one in effect (BEST or an
 * unsupported choice falls back to the best supported). Not thread-safe
 * against concurrent row operations: tests and start-up only. */
enum rq_gf_impl rq_gf_select(enum rq_gf_impl want);

/* Nonzero when the CPU can run `impl`. */
int rq_gf_supported(enum rq_gf_impl impl);

/* dst ^= src */
void rq_gf_add(uint8_t *dst, const uint8_t *src, size_t n);
/* dst = srcs[0] ^ ... ^ srcs[n-1] (n >= 1). dst may be srcs[0] itself but
 * must not overlap any other source. */
void rq_gf_xor_many(uint8_t *dst, const uint8_t *const *srcs, unsigned n, size_t len);
/* dst ^= c * src */
void rq_gf_muladd(uint8_t *dst, const uint8_t *src, uint8_t c, size_t n);
/* dst *= c */
void rq_gf_scale(uint8_t *dst, uint8_t c, size_t n);

#endif
