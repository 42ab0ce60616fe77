/* prng.c — xoshiro256** (Blackman & Vigna) seeded by SplitMix64. */
#include "base/prng.h"

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static inline uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

void cn_prng_seed(struct cn_prng *r, uint64_t seed)
{
	uint64_t x = seed;
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&x);
}

uint64_t cn_prng_next_u64(struct cn_prng *r)
{
	uint64_t *s = r->s;
	uint64_t result = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

uint64_t cn_prng_uniform(struct cn_prng *r, uint64_t bound)
{
	if (bound == 0)
		return 0;
	unsigned __int128 m = (unsigned __int128)cn_prng_next_u64(r) * bound;
	uint64_t low = (uint64_t)m;
	if (low < bound) {
		uint64_t threshold = -bound % bound;
		while (low < threshold) {
			m = (unsigned __int128)cn_prng_next_u64(r) * bound;
			low = (uint64_t)m;
		}
	}
	return (uint64_t)(m >> 64);
}

double cn_prng_double(struct cn_prng *r)
{
	return (double)(cn_prng_next_u64(r) >> 11) * 0x1.0p-53;
}

void cn_prng_fill(struct cn_prng *r, void *buf, size_t len)
{
	unsigned char *p = buf;
	while (len) {
		uint64_t v = cn_prng_next_u64(r);
		for (int i = 0; i < 8 && len; i++, len--, v >>= 8)
			*p++ = (unsigned char)v;
	}
}

void cn_prng_jump(struct cn_prng *r)
{
	static const uint64_t jump[] = {0x180ec6d33cfd0abaULL, 0xd5a61266f0c9392cULL,
					0xa9582618e03fc9aaULL, 0x39abdc4529b1661cULL};
	uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
	for (int i = 0; i < 4; i++)
		for (int b = 0; b < 64; b++) {
			if (jump[i] & (1ULL << b)) {
				s0 ^= r->s[0];
				s1 ^= r->s[1];
				s2 ^= r->s[2];
				s3 ^= r->s[3];
			}
			cn_prng_next_u64(r);
		}
	r->s[0] = s0;
	r->s[1] = s1;
	r->s[2] = s2;
	r->s[3] = s3;
}
