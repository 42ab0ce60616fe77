/* gf256.c — GF(256) bulk row operations with run-time SIMD selection. */
#include "fec/gf256.h"

#include <pthread.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define RQ_X86 1
#endif

/* Split-nibble tables: c*x = lo[c][x & 15] ^ hi[c][x >> 4]. */
static uint8_t nib_lo[256][16] __attribute__((aligned(32)));
static uint8_t nib_hi[256][16] __attribute__((aligned(32)));
static uint8_t mul_tab[256][256];
static pthread_once_t tables_once = PTHREAD_ONCE_INIT;

static void tables_init(void)
{
	for (int c = 0; c < 256; c++) {
		for (int x = 0; x < 256; x++)
			mul_tab[c][x] = rq_gf_mul((uint8_t)c, (uint8_t)x);
		for (int x = 0; x < 16; x++) {
			nib_lo[c][x] = rq_gf_mul((uint8_t)c, (uint8_t)x);
			nib_hi[c][x] = rq_gf_mul((uint8_t)c, (uint8_t)(x << 4));
		}
	}
}

/* ---- portable -------------------------------------------------------------- */

static void add_portable(uint8_t *dst, const uint8_t *src, size_t n)
{
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		uint64_t a, b;
		memcpy(&a, dst + i, 8);
		memcpy(&b, src + i, 8);
		a ^= b;
		memcpy(dst + i, &a, 8);
	}
	for (; i < n; i++)
		dst[i] ^= src[i];
}

static void xor_many_portable(uint8_t *dst, const uint8_t *const *srcs, unsigned n, size_t len)
{
	size_t i = 0;
	for (; i + 8 <= len; i += 8) {
		uint64_t a, b;
		memcpy(&a, srcs[0] + i, 8);
		for (unsigned s = 1; s < n; s++) {
			memcpy(&b, srcs[s] + i, 8);
			a ^= b;
		}
		memcpy(dst + i, &a, 8);
	}
	for (; i < len; i++) {
		uint8_t a = srcs[0][i];
		for (unsigned s = 1; s < n; s++)
			a ^= srcs[s][i];
		dst[i] = a;
	}
}

static void muladd_portable(uint8_t *dst, const uint8_t *src, uint8_t c, size_t n)
{
	const uint8_t *t = mul_tab[c];
	for (size_t i = 0; i < n; i++)
		dst[i] ^= t[src[i]];
}

static void scale_portable(uint8_t *dst, uint8_t c, size_t n)
{
	const uint8_t *t = mul_tab[c];
	for (size_t i = 0; i < n; i++)
		dst[i] = t[dst[i]];
}

#ifdef RQ_X86
/* ---- SSSE3 ----------------------------------------------------------------- */

__attribute__((target("ssse3"))) static void add_ssse3(uint8_t *dst, const uint8_t *src, size_t n)
{
	size_t i = 0;
	for (; i + 16 <= n; i += 16) {
		__m128i a = _mm_loadu_si128((const __m128i *)(dst + i));
		__m128i b = _mm_loadu_si128((const __m128i *)(src + i));
		_mm_storeu_si128((__m128i *)(dst + i), _mm_xor_si128(a, b));
	}
	add_portable(dst + i, src + i, n - i);
}

__attribute__((target("ssse3"))) static void xor_many_ssse3(uint8_t *dst, const uint8_t *const *srcs,
							    unsigned n, size_t len)
{
	size_t i = 0;
	for (; i + 64 <= len; i += 64) {
		const uint8_t *p = srcs[0] + i;
		__m128i a0 = _mm_loadu_si128((const __m128i *)p), a1 = _mm_loadu_si128((const __m128i *)(p + 16));
		__m128i a2 = _mm_loadu_si128((const __m128i *)(p + 32)), a3 = _mm_loadu_si128((const __m128i *)(p + 48));
		for (unsigned s = 1; s < n; s++) {
			p = srcs[s] + i;
			a0 = _mm_xor_si128(a0, _mm_loadu_si128((const __m128i *)p));
			a1 = _mm_xor_si128(a1, _mm_loadu_si128((const __m128i *)(p + 16)));
			a2 = _mm_xor_si128(a2, _mm_loadu_si128((const __m128i *)(p + 32)));
			a3 = _mm_xor_si128(a3, _mm_loadu_si128((const __m128i *)(p + 48)));
		}
		_mm_storeu_si128((__m128i *)(dst + i), a0);
		_mm_storeu_si128((__m128i *)(dst + i + 16), a1);
		_mm_storeu_si128((__m128i *)(dst + i + 32), a2);
		_mm_storeu_si128((__m128i *)(dst + i + 48), a3);
	}
	for (; i < len; i++) {
		uint8_t a = srcs[0][i];
		for (unsigned s = 1; s < n; s++)
			a ^= srcs[s][i];
		dst[i] = a;
	}
}

__attribute__((target("ssse3"))) static void muladd_ssse3(uint8_t *dst, const uint8_t *src, uint8_t c,
							  size_t n)
{
	const __m128i lo = _mm_load_si128((const __m128i *)nib_lo[c]);
	const __m128i hi = _mm_load_si128((const __m128i *)nib_hi[c]);
	const __m128i mask = _mm_set1_epi8(0x0f);
	size_t i = 0;
	for (; i + 16 <= n; i += 16) {
		__m128i s = _mm_loadu_si128((const __m128i *)(src + i));
		__m128i l = _mm_shuffle_epi8(lo, _mm_and_si128(s, mask));
		__m128i h = _mm_shuffle_epi8(hi, _mm_and_si128(_mm_srli_epi64(s, 4), mask));
		__m128i d = _mm_loadu_si128((const __m128i *)(dst + i));
		_mm_storeu_si128((__m128i *)(dst + i), _mm_xor_si128(d, _mm_xor_si128(l, h)));
	}
	muladd_portable(dst + i, src + i, c, n - i);
}

__attribute__((target("ssse3"))) static void scale_ssse3(uint8_t *dst, uint8_t c, size_t n)
{
	const __m128i lo = _mm_load_si128((const __m128i *)nib_lo[c]);
	const __m128i hi = _mm_load_si128((const __m128i *)nib_hi[c]);
	const __m128i mask = _mm_set1_epi8(0x0f);
	size_t i = 0;
	for (; i + 16 <= n; i += 16) {
		__m128i s = _mm_loadu_si128((const __m128i *)(dst + i));
		__m128i l = _mm_shuffle_epi8(lo, _mm_and_si128(s, mask));
		__m128i h = _mm_shuffle_epi8(hi, _mm_and_si128(_mm_srli_epi64(s, 4), mask));
		_mm_storeu_si128((__m128i *)(dst + i), _mm_xor_si128(l, h));
	}
	scale_portable(dst + i, c, n - i);
}

/* ---- AVX2 ------------------------------------------------------------------ */

__attribute__((target("avx2"))) static void add_avx2(uint8_t *dst, const uint8_t *src, size_t n)
{
	size_t i = 0;
	for (; i + 32 <= n; i += 32) {
		__m256i a = _mm256_loadu_si256((const __m256i *)(dst + i));
		__m256i b = _mm256_loadu_si256((const __m256i *)(src + i));
		_mm256_storeu_si256((__m256i *)(dst + i), _mm256_xor_si256(a, b));
	}
	add_portable(dst + i, src + i, n - i);
}

__attribute__((target("avx2"))) static void xor_many_avx2(uint8_t *dst, const uint8_t *const *srcs,
							  unsigned n, size_t len)
{
	size_t i = 0;
	for (; i + 128 <= len; i += 128) {
		const uint8_t *p = srcs[0] + i;
		__m256i a0 = _mm256_loadu_si256((const __m256i *)p), a1 = _mm256_loadu_si256((const __m256i *)(p + 32));
		__m256i a2 = _mm256_loadu_si256((const __m256i *)(p + 64)), a3 = _mm256_loadu_si256((const __m256i *)(p + 96));
		for (unsigned s = 1; s < n; s++) {
			p = srcs[s] + i;
			a0 = _mm256_xor_si256(a0, _mm256_loadu_si256((const __m256i *)p));
			a1 = _mm256_xor_si256(a1, _mm256_loadu_si256((const __m256i *)(p + 32)));
			a2 = _mm256_xor_si256(a2, _mm256_loadu_si256((const __m256i *)(p + 64)));
			a3 = _mm256_xor_si256(a3, _mm256_loadu_si256((const __m256i *)(p + 96)));
		}
		_mm256_storeu_si256((__m256i *)(dst + i), a0);
		_mm256_storeu_si256((__m256i *)(dst + i + 32), a1);
		_mm256_storeu_si256((__m256i *)(dst + i + 64), a2);
		_mm256_storeu_si256((__m256i *)(dst + i + 96), a3);
	}
	for (; i < len; i++) {
		uint8_t a = srcs[0][i];
		for (unsigned s = 1; s < n; s++)
			a ^= srcs[s][i];
		dst[i] = a;
	}
}

__attribute__((target("avx2"))) static void muladd_avx2(uint8_t *dst, const uint8_t *src, uint8_t c,
							size_t n)
{
	const __m256i lo = _mm256_broadcastsi128_si256(_mm_load_si128((const __m128i *)nib_lo[c]));
	const __m256i hi = _mm256_broadcastsi128_si256(_mm_load_si128((const __m128i *)nib_hi[c]));
	const __m256i mask = _mm256_set1_epi8(0x0f);
	size_t i = 0;
	for (; i + 32 <= n; i += 32) {
		__m256i s = _mm256_loadu_si256((const __m256i *)(src + i));
		__m256i l = _mm256_shuffle_epi8(lo, _mm256_and_si256(s, mask));
		__m256i h = _mm256_shuffle_epi8(hi, _mm256_and_si256(_mm256_srli_epi64(s, 4), mask));
		__m256i d = _mm256_loadu_si256((const __m256i *)(dst + i));
		_mm256_storeu_si256((__m256i *)(dst + i), _mm256_xor_si256(d, _mm256_xor_si256(l, h)));
	}
	muladd_portable(dst + i, src + i, c, n - i);
}

__attribute__((target("avx2"))) static void scale_avx2(uint8_t *dst, uint8_t c, size_t n)
{
	const __m256i lo = _mm256_broadcastsi128_si256(_mm_load_si128((const __m128i *)nib_lo[c]));
	const __m256i hi = _mm256_broadcastsi128_si256(_mm_load_si128((const __m128i *)nib_hi[c]));
	const __m256i mask = _mm256_set1_epi8(0x0f);
	size_t i = 0;
	for (; i + 32 <= n; i += 32) {
		__m256i s = _mm256_loadu_si256((const __m256i *)(dst + i));
		__m256i l = _mm256_shuffle_epi8(lo, _mm256_and_si256(s, mask));
		__m256i h = _mm256_shuffle_epi8(hi, _mm256_and_si256(_mm256_srli_epi64(s, 4), mask));
		_mm256_storeu_si256((__m256i *)(dst + i), _mm256_xor_si256(l, h));
	}
	scale_portable(dst + i, c, n - i);
}
#endif

/* ---- dispatch -------------------------------------------------------------- */

struct gf_ops {
	void (*add)(uint8_t *, const uint8_t *, size_t);
	void (*xor_many)(uint8_t *, const uint8_t *const *, unsigned, size_t);
	void (*muladd)(uint8_t *, const uint8_t *, uint8_t, size_t);
	void (*scale)(uint8_t *, uint8_t, size_t);
};

static struct gf_ops ops;
static pthread_once_t ops_once = PTHREAD_ONCE_INIT;

int rq_gf_supported(enum rq_gf_impl impl)
{
	switch (impl) {
	case RQ_GF_PORTABLE:
	case RQ_GF_BEST:
		return 1;
#ifdef RQ_X86
	case RQ_GF_SSSE3:
		__builtin_cpu_init();
		return __builtin_cpu_supports("ssse3");
	case RQ_GF_AVX2:
		__builtin_cpu_init();
		return __builtin_cpu_supports("avx2");
#endif
	default:
		return 0;
	}
}

static enum rq_gf_impl select_locked(enum rq_gf_impl want)
{
	pthread_once(&tables_once, tables_init);
	if (want == RQ_GF_BEST || !rq_gf_supported(want))
		want = rq_gf_supported(RQ_GF_AVX2) ? RQ_GF_AVX2 : rq_gf_supported(RQ_GF_SSSE3) ? RQ_GF_SSSE3 : RQ_GF_PORTABLE;
	switch (want) {
#ifdef RQ_X86
	case RQ_GF_AVX2:
		ops = (struct gf_ops){add_avx2, xor_many_avx2, muladd_avx2, scale_avx2};
		break;
	case RQ_GF_SSSE3:
		ops = (struct gf_ops){add_ssse3, xor_many_ssse3, muladd_ssse3, scale_ssse3};
		break;
#endif
	default:
		want = RQ_GF_PORTABLE;
		ops = (struct gf_ops){add_portable, xor_many_portable, muladd_portable, scale_portable};
		break;
	}
	return want;
}

static void ops_init(void)
{
	select_locked(RQ_GF_BEST);
}

enum rq_gf_impl rq_gf_select(enum rq_gf_impl want)
{
	pthread_once(&ops_once, ops_init);
	return select_locked(want);
}

void rq_gf_add(uint8_t *dst, const uint8_t *src, size_t n)
{
	pthread_once(&ops_once, ops_init);
	ops.add(dst, src, n);
}

void rq_gf_xor_many(uint8_t *dst, const uint8_t *const *srcs, unsigned n, size_t len)
{
	pthread_once(&ops_once, ops_init);
	ops.xor_many(dst, srcs, n, len);
}

void rq_gf_muladd(uint8_t *dst, const uint8_t *src, uint8_t c, size_t n)
{
	if (c == 0)
		return;
	pthread_once(&ops_once, ops_init);
	if (c == 1)
		ops.add(dst, src, n);
	else
		ops.muladd(dst, src, c, n);
}

void rq_gf_scale(uint8_t *dst, uint8_t c, size_t n)
{
	if (c == 1)
		return;
	pthread_once(&ops_once, ops_init);
	if (c == 0)
		memset(dst, 0, n);
	else
		ops.scale(dst, c, n);
}
