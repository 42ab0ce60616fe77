/* fp.c — the BLS12-381 base field and its tower Fp2, Fp6, Fp12.
 *
 * Fp elements are kept in Montgomery form (a·2^384 mod p) in six 64-bit
 * limbs. Multiplication is CIOS: in assembly with MULX/ADCX/ADOX when the
 * CPU has BMI2 and ADX (checked once with CPUID), otherwise in C with
 * unsigned __int128. Addition, subtraction, multiplication, inversion and
 * cmov are branch-free on the values (fp_pow scans only its public
 * exponent), which is what lets KeyGen and Sign be constant time; the
 * square roots and Legendre tests branch and are used on public data only.
 * The tower is Fp2 = Fp[u]/(u^2+1), Fp6 = Fp2[v]/(v^3-xi) with xi = u+1,
 * Fp12 = Fp6[w]/(w^2-v). */
#include "crypto/bls/bls_int.h"
#include "crypto/bls/consts.h"

#include <stdlib.h>
#include <string.h>
#include <x86intrin.h>

typedef unsigned __int128 u128;

static const uint64_t P[6] = BLS_P_LIMBS;
static const uint64_t R2[6] = BLS_R2;
static const uint64_t R3[6] = BLS_R3;
static const uint64_t PM2[6] = BLS_PM2;
static const uint64_t PM3D4[6] = BLS_PM3D4;
static const uint64_t PM1D2[6] = BLS_PM1D2;
static const uint64_t PP1D4[6] = BLS_PP1D4;

const fp FP_ZERO = {{0}};
const fp FP_ONE = BLS_ONE;
const fp2 FP2_ZERO = {{{0}}, {{0}}};
const fp2 FP2_ONE = {BLS_ONE, {{0}}};

/* ---------------------------------------------------------------- Fp */

/* r = a - p if that does not borrow past the carry word hi, else a (a < 2p).
 * Written limb by limb in scalars so the compiler keeps everything in
 * registers (array temporaries got vectorised through memory). */
typedef unsigned long long ull;
#define SUBP(bo, x, i, d) bo = _subborrow_u64(bo, (x), P[i], &d)
#define SEL(keep, x, d) (((x) & (keep)) | ((d) & ~(keep)))

static inline __attribute__((always_inline)) void reduce6(uint64_t r[6], ull a0, ull a1, ull a2,
                                                          ull a3, ull a4, ull a5, ull hi)
{
	ull d0, d1, d2, d3, d4, d5, junk;
	unsigned char bo = 0;
	SUBP(bo, a0, 0, d0); SUBP(bo, a1, 1, d1); SUBP(bo, a2, 2, d2);
	SUBP(bo, a3, 3, d3); SUBP(bo, a4, 4, d4); SUBP(bo, a5, 5, d5);
	bo = _subborrow_u64(bo, hi, 0, &junk);
	ull keep = 0 - (ull)bo;
	r[0] = SEL(keep, a0, d0); r[1] = SEL(keep, a1, d1); r[2] = SEL(keep, a2, d2);
	r[3] = SEL(keep, a3, d3); r[4] = SEL(keep, a4, d4); r[5] = SEL(keep, a5, d5);
}

static inline __attribute__((always_inline)) void reduce_once(uint64_t r[6], const uint64_t a[6],
                                                              uint64_t hi)
{
	reduce6(r, a[0], a[1], a[2], a[3], a[4], a[5], hi);
}

static inline __attribute__((always_inline)) void add_(fp *r, const fp *a, const fp *b)
{
	ull s0, s1, s2, s3, s4, s5;
	unsigned char c = 0;
	c = _addcarry_u64(c, a->l[0], b->l[0], &s0);
	c = _addcarry_u64(c, a->l[1], b->l[1], &s1);
	c = _addcarry_u64(c, a->l[2], b->l[2], &s2);
	c = _addcarry_u64(c, a->l[3], b->l[3], &s3);
	c = _addcarry_u64(c, a->l[4], b->l[4], &s4);
	c = _addcarry_u64(c, a->l[5], b->l[5], &s5);
	reduce6(r->l, s0, s1, s2, s3, s4, s5, c);
}

static inline __attribute__((always_inline)) void sub_(fp *r, const fp *a, const fp *b)
{
	ull d0, d1, d2, d3, d4, d5;
	unsigned char bo = 0, c = 0;
	bo = _subborrow_u64(bo, a->l[0], b->l[0], &d0);
	bo = _subborrow_u64(bo, a->l[1], b->l[1], &d1);
	bo = _subborrow_u64(bo, a->l[2], b->l[2], &d2);
	bo = _subborrow_u64(bo, a->l[3], b->l[3], &d3);
	bo = _subborrow_u64(bo, a->l[4], b->l[4], &d4);
	bo = _subborrow_u64(bo, a->l[5], b->l[5], &d5);
	ull m = 0 - (ull)bo, o0, o1, o2, o3, o4, o5;
	c = _addcarry_u64(c, d0, P[0] & m, &o0);
	c = _addcarry_u64(c, d1, P[1] & m, &o1);
	c = _addcarry_u64(c, d2, P[2] & m, &o2);
	c = _addcarry_u64(c, d3, P[3] & m, &o3);
	c = _addcarry_u64(c, d4, P[4] & m, &o4);
	c = _addcarry_u64(c, d5, P[5] & m, &o5);
	r->l[0] = o0; r->l[1] = o1; r->l[2] = o2; r->l[3] = o3; r->l[4] = o4; r->l[5] = o5;
}

void fp_add(fp *r, const fp *a, const fp *b) { add_(r, a, b); }
void fp_sub(fp *r, const fp *a, const fp *b) { sub_(r, a, b); }
void fp_dbl(fp *r, const fp *a) { add_(r, a, a); }
void fp_neg(fp *r, const fp *a) { sub_(r, &FP_ZERO, a); }

#if defined(__x86_64__) && !defined(BLS_NO_ASM)
#include <cpuid.h>
#include "crypto/bls/mont_adx.h"
void bls_mont_mul_adx(uint64_t r[6], const uint64_t a[6], const uint64_t b[6]);
static int have_adx;

/* MULX is BMI2, ADCX/ADOX are ADX: CPUID leaf 7, EBX bits 8 and 19. */
static int adx_cpu(void)
{
	unsigned a, b, c, d;
	return __get_cpuid_count(7, 0, &a, &b, &c, &d) && ((b >> 8) & 1) && ((b >> 19) & 1);
}

__attribute__((constructor)) static void detect_adx(void)
{
	have_adx = adx_cpu() && !getenv("CANON_BLS_NO_ADX");
}
#define HAVE_ADX_PATH 1
#endif

int bls_fp_use_adx(int on)
{
#ifdef HAVE_ADX_PATH
	int was = have_adx;
	if (on >= 0)
		have_adx = on && adx_cpu() && !getenv("CANON_BLS_NO_ADX");
	return was;
#else
	(void)on;
	return 0;
#endif
}

/* CIOS Montgomery multiplication, fully unrolled: the product row and the
 * reduction row are interleaved so t never grows past 7 words. */
static inline __attribute__((always_inline)) void mont_mul(uint64_t r[6], const uint64_t a[6],
                                                           const uint64_t b[6])
{
#ifdef HAVE_ADX_PATH
	if (have_adx) {
		bls_mont_mul_adx(r, a, b);
		return;
	}
#endif
	uint64_t t0 = 0, t1 = 0, t2 = 0, t3 = 0, t4 = 0, t5 = 0, t6 = 0, c, m;
	u128 x;
#define MAC(tj, aj, bi) x = (u128)(aj) * (bi) + (tj) + c; tj = (uint64_t)x; c = (uint64_t)(x >> 64)
#define ROUND(bi)                                                                      \
	c = 0;                                                                         \
	MAC(t0, a[0], bi); MAC(t1, a[1], bi); MAC(t2, a[2], bi);                       \
	MAC(t3, a[3], bi); MAC(t4, a[4], bi); MAC(t5, a[5], bi);                       \
	x = (u128)t6 + c; t6 = (uint64_t)x; {                                          \
	uint64_t t7 = (uint64_t)(x >> 64);                                             \
	m = t0 * BLS_N0;                                                               \
	x = (u128)m * P[0] + t0; c = (uint64_t)(x >> 64);                              \
	x = (u128)m * P[1] + t1 + c; t0 = (uint64_t)x; c = (uint64_t)(x >> 64);        \
	x = (u128)m * P[2] + t2 + c; t1 = (uint64_t)x; c = (uint64_t)(x >> 64);        \
	x = (u128)m * P[3] + t3 + c; t2 = (uint64_t)x; c = (uint64_t)(x >> 64);        \
	x = (u128)m * P[4] + t4 + c; t3 = (uint64_t)x; c = (uint64_t)(x >> 64);        \
	x = (u128)m * P[5] + t5 + c; t4 = (uint64_t)x; c = (uint64_t)(x >> 64);        \
	x = (u128)t6 + c; t5 = (uint64_t)x; t6 = t7 + (uint64_t)(x >> 64); }
	ROUND(b[0]) ROUND(b[1]) ROUND(b[2]) ROUND(b[3]) ROUND(b[4]) ROUND(b[5])
#undef ROUND
#undef MAC
	uint64_t t[6] = {t0, t1, t2, t3, t4, t5};
	reduce_once(r, t, t6);
}

void fp_mul(fp *r, const fp *a, const fp *b) { mont_mul(r->l, a->l, b->l); }
void fp_sqr(fp *r, const fp *a) { mont_mul(r->l, a->l, a->l); }

/* From here on the tower code uses the inlined forms. */
#define fp_add(r, a, b) add_((r), (a), (b))
#define fp_sub(r, a, b) sub_((r), (a), (b))
#define fp_dbl(r, a) add_((r), (a), (a))
#define fp_neg(r, a) sub_((r), &FP_ZERO, (a))
#define fp_mul(r, a, b) mont_mul((r)->l, (a)->l, (b)->l)
#define fp_sqr(r, a) mont_mul((r)->l, (a)->l, (a)->l)

/* Sliding-window exponentiation (windows of up to 5 bits over odd powers).
 * Which squarings and multiplications happen, and which table entry is used,
 * depend only on the exponent, which is always public here; so this is
 * constant time in the base (fp_inv of a secret-derived value relies on it). */
void fp_pow(fp *r, const fp *a, const uint64_t e[6])
{
	fp tab[16], a2, acc = FP_ONE;
	tab[0] = *a;
	fp_sqr(&a2, a);
	for (int i = 1; i < 16; i++)
		fp_mul(&tab[i], &tab[i - 1], &a2); /* a^(2i+1) */
	int i = 383;
	while (i >= 0 && !((e[i / 64] >> (i % 64)) & 1))
		i--;
	int started = 0;
	while (i >= 0) {
		if (!((e[i / 64] >> (i % 64)) & 1)) {
			fp_sqr(&acc, &acc);
			i--;
			continue;
		}
		/* longest window [i .. j] of at most 5 bits that ends in a 1 */
		int j = i - 4 < 0 ? 0 : i - 4;
		while (!((e[j / 64] >> (j % 64)) & 1))
			j++;
		unsigned v = 0;
		for (int k = i; k >= j; k--) {
			v = (v << 1) | (unsigned)((e[k / 64] >> (k % 64)) & 1);
			if (started)
				fp_sqr(&acc, &acc);
		}
		if (started)
			fp_mul(&acc, &acc, &tab[v >> 1]);
		else
			acc = tab[v >> 1];
		started = 1;
		i = j - 1;
	}
	*r = acc;
}

void fp_inv(fp *r, const fp *a) { fp_pow(r, a, PM2); }

int fp_is_zero(const fp *a)
{
	uint64_t x = 0;
	for (int i = 0; i < 6; i++)
		x |= a->l[i];
	return ((x | (0 - x)) >> 63) ^ 1;
}

int fp_eq(const fp *a, const fp *b)
{
	uint64_t x = 0;
	for (int i = 0; i < 6; i++)
		x |= a->l[i] ^ b->l[i];
	return ((x | (0 - x)) >> 63) ^ 1;
}

void fp_cmov(fp *r, const fp *a, uint64_t cond)
{
	uint64_t m = 0 - (cond & 1);
	for (int i = 0; i < 6; i++)
		r->l[i] = (r->l[i] & ~m) | (a->l[i] & m);
}

int fp_sqrt(fp *r, const fp *a)
{
	fp s, c;
	fp_pow(&s, a, PP1D4);
	fp_sqr(&c, &s);
	*r = s;
	return fp_eq(&c, a) ? 0 : -1;
}

void fp_from_mont(uint64_t out[6], const fp *a)
{
	static const uint64_t one[6] = {1, 0, 0, 0, 0, 0};
	mont_mul(out, a->l, one);
}

void fp_set_u64(fp *r, uint64_t v)
{
	uint64_t t[6] = {v, 0, 0, 0, 0, 0};
	mont_mul(r->l, t, R2);
}

int fp_from_be(fp *r, const uint8_t in[48])
{
	uint64_t t[6], borrow = 0;
	for (int i = 0; i < 6; i++) {
		uint64_t v = 0;
		for (int j = 0; j < 8; j++)
			v = (v << 8) | in[(5 - i) * 8 + j];
		t[i] = v;
	}
	for (int i = 0; i < 6; i++) {
		u128 d = (u128)t[i] - P[i] - borrow;
		borrow = (uint64_t)(d >> 64) & 1;
	}
	if (!borrow)
		return -1; /* t >= p */
	mont_mul(r->l, t, R2);
	return 0;
}

void fp_to_be(uint8_t out[48], const fp *a)
{
	uint64_t t[6];
	fp_from_mont(t, a);
	for (int i = 0; i < 6; i++)
		for (int j = 0; j < 8; j++)
			out[(5 - i) * 8 + j] = (uint8_t)(t[i] >> (56 - 8 * j));
}

/* 64 big-endian bytes = hi·2^384 + lo, hi < 2^128: both halves go through
 * Montgomery multiplication by the right power of R. */
void fp_from_be64(fp *r, const uint8_t in[64])
{
	uint64_t lo[6], hi[6] = {0};
	for (int i = 0; i < 6; i++) {
		uint64_t v = 0;
		for (int j = 0; j < 8; j++)
			v = (v << 8) | in[16 + (5 - i) * 8 + j];
		lo[i] = v;
	}
	for (int i = 0; i < 2; i++) {
		uint64_t v = 0;
		for (int j = 0; j < 8; j++)
			v = (v << 8) | in[(1 - i) * 8 + j];
		hi[i] = v;
	}
	fp a, b;
	mont_mul(a.l, lo, R2);
	mont_mul(b.l, hi, R3);
	fp_add(r, &a, &b);
}

int fp_sgn0(const fp *a)
{
	uint64_t t[6];
	fp_from_mont(t, a);
	return (int)(t[0] & 1);
}

int fp_lexi_larger(const fp *a)
{
	uint64_t t[6];
	fp_from_mont(t, a);
	for (int i = 5; i >= 0; i--) {
		if (t[i] != PM1D2[i])
			return t[i] > PM1D2[i];
	}
	return 0;
}

/* ---------------------------------------------------------------- Fp2 */

void fp2_add(fp2 *r, const fp2 *a, const fp2 *b) { fp_add(&r->c0, &a->c0, &b->c0); fp_add(&r->c1, &a->c1, &b->c1); }
void fp2_sub(fp2 *r, const fp2 *a, const fp2 *b) { fp_sub(&r->c0, &a->c0, &b->c0); fp_sub(&r->c1, &a->c1, &b->c1); }
void fp2_neg(fp2 *r, const fp2 *a) { fp_neg(&r->c0, &a->c0); fp_neg(&r->c1, &a->c1); }
void fp2_dbl(fp2 *r, const fp2 *a) { fp_dbl(&r->c0, &a->c0); fp_dbl(&r->c1, &a->c1); }
void fp2_conj(fp2 *r, const fp2 *a) { r->c0 = a->c0; fp_neg(&r->c1, &a->c1); }

/* Double-width product (no reduction) and Montgomery reduction, so Fp2
 * multiplication reduces twice instead of three times (lazy reduction). */
static inline __attribute__((always_inline)) void mul_wide(uint64_t t[12], const uint64_t a[6],
                                                           const uint64_t b[6])
{
	for (int i = 0; i < 12; i++)
		t[i] = 0;
#pragma GCC unroll 6
	for (int i = 0; i < 6; i++) {
		uint64_t c = 0;
#pragma GCC unroll 6
		for (int j = 0; j < 6; j++) {
			u128 x = (u128)a[j] * b[i] + t[i + j] + c;
			t[i + j] = (uint64_t)x;
			c = (uint64_t)(x >> 64);
		}
		t[i + 6] = c;
	}
}

/* t < p * 2^384 -> t / 2^384 mod p */
static inline __attribute__((always_inline)) void redc(uint64_t r[6], uint64_t t[12])
{
	uint64_t hi = 0;
#pragma GCC unroll 6
	for (int i = 0; i < 6; i++) {
		uint64_t m = t[i] * BLS_N0, c = 0;
#pragma GCC unroll 6
		for (int j = 0; j < 6; j++) {
			u128 x = (u128)m * P[j] + t[i + j] + c;
			t[i + j] = (uint64_t)x;
			c = (uint64_t)(x >> 64);
		}
		/* fold the row's carry into t[i+6], remembering the overflow */
		u128 x = (u128)t[i + 6] + c + hi;
		t[i + 6] = (uint64_t)x;
		hi = (uint64_t)(x >> 64);
	}
	reduce_once(r, t + 6, hi);
}

static const uint64_t P2_WIDE[12] = BLS_P2_WIDE;

void fp2_mul(fp2 *r, const fp2 *a, const fp2 *b)
{
#ifdef HAVE_ADX_PATH
	if (have_adx) {
		/* Karatsuba with three full multiplications: the ADX multiply beats
		 * the C lazy-reduction path below */
		fp t0, t1, s0, s1;
		mont_mul(t0.l, a->c0.l, b->c0.l);
		mont_mul(t1.l, a->c1.l, b->c1.l);
		add_(&s0, &a->c0, &a->c1);
		add_(&s1, &b->c0, &b->c1);
		mont_mul(s0.l, s0.l, s1.l);
		sub_(&r->c0, &t0, &t1);
		sub_(&s0, &s0, &t0);
		sub_(&r->c1, &s0, &t1);
		return;
	}
#endif
	uint64_t t0[12], t1[12], t2[12];
	fp s0, s1;
	unsigned long long d[12];
	unsigned char bo = 0, c = 0;
	/* unreduced sums (< 2p < 2^382) keep t2 - t0 - t1 an exact integer */
	for (int i = 0; i < 6; i++) {
		c = _addcarry_u64(c, a->c0.l[i], a->c1.l[i], (unsigned long long *)&s0.l[i]);
	}
	c = 0;
	for (int i = 0; i < 6; i++) {
		c = _addcarry_u64(c, b->c0.l[i], b->c1.l[i], (unsigned long long *)&s1.l[i]);
	}
	c = 0;
	mul_wide(t0, a->c0.l, b->c0.l);
	mul_wide(t1, a->c1.l, b->c1.l);
	mul_wide(t2, s0.l, s1.l);
	/* c1 = t2 - t0 - t1 >= 0 (it is a0 b1 + a1 b0 as an integer) */
	for (int i = 0; i < 12; i++)
		bo = _subborrow_u64(bo, t2[i], t0[i], &d[i]);
	bo = 0;
	for (int i = 0; i < 12; i++)
		bo = _subborrow_u64(bo, d[i], t1[i], (unsigned long long *)&t2[i]);
	/* c0 = t0 - t1, plus p^2 if negative, stays below p * 2^384 */
	bo = 0;
	for (int i = 0; i < 12; i++)
		bo = _subborrow_u64(bo, t0[i], t1[i], &d[i]);
	uint64_t mask = 0 - (uint64_t)bo;
	for (int i = 0; i < 12; i++)
		c = _addcarry_u64(c, d[i], P2_WIDE[i] & mask, (unsigned long long *)&t0[i]);
	redc(r->c0.l, t0);
	redc(r->c1.l, t2);
}

void fp2_mul_fp(fp2 *r, const fp2 *a, const fp *b)
{
	fp_mul(&r->c0, &a->c0, b);
	fp_mul(&r->c1, &a->c1, b);
}

void fp2_sqr(fp2 *r, const fp2 *a)
{
	fp s, d, m;
	fp_add(&s, &a->c0, &a->c1);
	fp_sub(&d, &a->c0, &a->c1);
	fp_mul(&m, &a->c0, &a->c1);
	fp_mul(&r->c0, &s, &d);
	fp_dbl(&r->c1, &m);
}

void fp2_mul_xi(fp2 *r, const fp2 *a)
{
	fp t;
	fp_sub(&t, &a->c0, &a->c1);
	fp_add(&r->c1, &a->c0, &a->c1);
	r->c0 = t;
}

void fp2_inv(fp2 *r, const fp2 *a)
{
	fp n, t;
	fp_sqr(&n, &a->c0);
	fp_sqr(&t, &a->c1);
	fp_add(&n, &n, &t);
	fp_inv(&n, &n);
	fp_mul(&r->c0, &a->c0, &n);
	fp_mul(&t, &a->c1, &n);
	fp_neg(&r->c1, &t);
}

int fp2_is_zero(const fp2 *a) { return fp_is_zero(&a->c0) & fp_is_zero(&a->c1); }
int fp2_eq(const fp2 *a, const fp2 *b) { return fp_eq(&a->c0, &b->c0) & fp_eq(&a->c1, &b->c1); }
void fp2_cmov(fp2 *r, const fp2 *a, uint64_t c) { fp_cmov(&r->c0, &a->c0, c); fp_cmov(&r->c1, &a->c1, c); }

int fp2_is_square(const fp2 *a)
{
	fp n, t;
	fp_sqr(&n, &a->c0);
	fp_sqr(&t, &a->c1);
	fp_add(&n, &n, &t);
	fp_pow(&t, &n, PM1D2);
	return fp_is_zero(&t) | fp_eq(&t, &FP_ONE);
}

/* Square root through the norm, with only Fp exponentiations: for
 * a = a0 + a1 u, gamma = sqrt(a0^2 + a1^2) exists iff a is a square; then
 * y0^2 = (a0 + gamma)/2 and y1 = a1/(2 y0), or, when (a0 + gamma)/2 is not a
 * square, y1^2 = -(a0 + gamma)/2 and y0 = a1/(2 y1). One exponentiation
 * t = delta^((p-3)/4) gives both the root (t delta) and its inverse (±t). */
static const fp HALF = BLS_HALF;

int fp2_sqrt(fp2 *r, const fp2 *a)
{
	fp n, t, gamma, delta, x0, chk;
	fp2 y, y2;
	if (fp_is_zero(&a->c1)) {
		/* a in Fp: sqrt(a0) or u sqrt(-a0) */
		if (fp_sqrt(&y.c0, &a->c0) == 0) {
			y.c1 = FP_ZERO;
		} else {
			fp_neg(&t, &a->c0);
			if (fp_sqrt(&y.c1, &t))
				return -1;
			y.c0 = FP_ZERO;
		}
		*r = y;
		return 0;
	}
	fp_sqr(&n, &a->c0);
	fp_sqr(&t, &a->c1);
	fp_add(&n, &n, &t);
	if (fp_sqrt(&gamma, &n))
		return -1;
	fp_add(&delta, &a->c0, &gamma);
	fp_mul(&delta, &delta, &HALF);
	fp_pow(&t, &delta, PM3D4);
	fp_mul(&x0, &t, &delta);
	fp_sqr(&chk, &x0);
	fp_mul(&t, &t, &a->c1);
	fp_mul(&t, &t, &HALF);      /* a1 / (2 x0), up to sign */
	if (fp_eq(&chk, &delta)) {
		y.c0 = x0;
		y.c1 = t;
	} else {
		y.c1 = x0;
		fp_neg(&y.c0, &t);
	}
	fp2_sqr(&y2, &y);
	if (!fp2_eq(&y2, a))
		return -1;
	*r = y;
	return 0;
}

int fp2_sgn0(const fp2 *a)
{
	int s0 = fp_sgn0(&a->c0), z0 = fp_is_zero(&a->c0), s1 = fp_sgn0(&a->c1);
	return s0 | (z0 & s1);
}

int fp2_lexi_larger(const fp2 *a)
{
	return fp_is_zero(&a->c1) ? fp_lexi_larger(&a->c0) : fp_lexi_larger(&a->c1);
}

/* ---------------------------------------------------------------- Fp6 */

void fp6_add(fp6 *r, const fp6 *a, const fp6 *b)
{
	fp2_add(&r->c0, &a->c0, &b->c0); fp2_add(&r->c1, &a->c1, &b->c1); fp2_add(&r->c2, &a->c2, &b->c2);
}
void fp6_sub(fp6 *r, const fp6 *a, const fp6 *b)
{
	fp2_sub(&r->c0, &a->c0, &b->c0); fp2_sub(&r->c1, &a->c1, &b->c1); fp2_sub(&r->c2, &a->c2, &b->c2);
}
void fp6_neg(fp6 *r, const fp6 *a) { fp2_neg(&r->c0, &a->c0); fp2_neg(&r->c1, &a->c1); fp2_neg(&r->c2, &a->c2); }

void fp6_mul(fp6 *r, const fp6 *a, const fp6 *b)
{
	fp2 t0, t1, t2, s, u, c0, c1, c2;
	fp2_mul(&t0, &a->c0, &b->c0);
	fp2_mul(&t1, &a->c1, &b->c1);
	fp2_mul(&t2, &a->c2, &b->c2);
	fp2_add(&s, &a->c1, &a->c2); fp2_add(&u, &b->c1, &b->c2); fp2_mul(&s, &s, &u);
	fp2_sub(&s, &s, &t1); fp2_sub(&s, &s, &t2); fp2_mul_xi(&s, &s); fp2_add(&c0, &s, &t0);
	fp2_add(&s, &a->c0, &a->c1); fp2_add(&u, &b->c0, &b->c1); fp2_mul(&s, &s, &u);
	fp2_sub(&s, &s, &t0); fp2_sub(&s, &s, &t1); fp2_mul_xi(&u, &t2); fp2_add(&c1, &s, &u);
	fp2_add(&s, &a->c0, &a->c2); fp2_add(&u, &b->c0, &b->c2); fp2_mul(&s, &s, &u);
	fp2_sub(&s, &s, &t0); fp2_sub(&s, &s, &t2); fp2_add(&c2, &s, &t1);
	r->c0 = c0; r->c1 = c1; r->c2 = c2;
}

void fp6_sqr(fp6 *r, const fp6 *a)
{
	/* Chung-Hasan SQR2 */
	fp2 s0, s1, s2, s3, s4, t;
	fp2_sqr(&s0, &a->c0);
	fp2_mul(&s1, &a->c0, &a->c1); fp2_dbl(&s1, &s1);
	fp2_sub(&t, &a->c0, &a->c1); fp2_add(&t, &t, &a->c2); fp2_sqr(&s2, &t);
	fp2_mul(&s3, &a->c1, &a->c2); fp2_dbl(&s3, &s3);
	fp2_sqr(&s4, &a->c2);
	fp2_mul_xi(&t, &s3); fp2_add(&r->c0, &s0, &t);
	fp2_mul_xi(&t, &s4);
	fp2 c1;
	fp2_add(&c1, &s1, &t);
	fp2_add(&t, &s1, &s2); fp2_add(&t, &t, &s3); fp2_sub(&t, &t, &s0); fp2_sub(&r->c2, &t, &s4);
	r->c1 = c1;
}

void fp6_mul_v(fp6 *r, const fp6 *a)
{
	fp2 t;
	fp2_mul_xi(&t, &a->c2);
	r->c2 = a->c1;
	r->c1 = a->c0;
	r->c0 = t;
}

void fp6_inv(fp6 *r, const fp6 *a)
{
	fp2 A, B, C, F, t;
	fp2_sqr(&A, &a->c0); fp2_mul(&t, &a->c1, &a->c2); fp2_mul_xi(&t, &t); fp2_sub(&A, &A, &t);
	fp2_sqr(&B, &a->c2); fp2_mul_xi(&B, &B); fp2_mul(&t, &a->c0, &a->c1); fp2_sub(&B, &B, &t);
	fp2_sqr(&C, &a->c1); fp2_mul(&t, &a->c0, &a->c2); fp2_sub(&C, &C, &t);
	fp2_mul(&F, &a->c2, &B); fp2_mul(&t, &a->c1, &C); fp2_add(&F, &F, &t); fp2_mul_xi(&F, &F);
	fp2_mul(&t, &a->c0, &A); fp2_add(&F, &F, &t);
	fp2_inv(&F, &F);
	fp2_mul(&r->c0, &A, &F); fp2_mul(&r->c1, &B, &F); fp2_mul(&r->c2, &C, &F);
}

/* (a0 + a1 v + a2 v^2)(b0 + b1 v) */
static void fp6_mul_01(fp6 *r, const fp6 *a, const fp2 *b0, const fp2 *b1)
{
	fp2 t0, t1, s, u, c0, c1, c2;
	fp2_mul(&t0, &a->c0, b0);
	fp2_mul(&t1, &a->c1, b1);
	fp2_mul(&s, &a->c2, b1); fp2_mul_xi(&s, &s); fp2_add(&c0, &s, &t0);
	fp2_add(&s, &a->c0, &a->c1); fp2_add(&u, b0, b1); fp2_mul(&s, &s, &u);
	fp2_sub(&s, &s, &t0); fp2_sub(&c1, &s, &t1);
	fp2_mul(&s, &a->c2, b0); fp2_add(&c2, &s, &t1);
	r->c0 = c0; r->c1 = c1; r->c2 = c2;
}

/* (a0 + a1 v + a2 v^2)(b1 v) */
static void fp6_mul_1(fp6 *r, const fp6 *a, const fp2 *b1)
{
	fp2 c0, c1, c2;
	fp2_mul(&c0, &a->c2, b1); fp2_mul_xi(&c0, &c0);
	fp2_mul(&c1, &a->c0, b1);
	fp2_mul(&c2, &a->c1, b1);
	r->c0 = c0; r->c1 = c1; r->c2 = c2;
}

/* ---------------------------------------------------------------- Fp12 */

void fp12_one(fp12 *r)
{
	memset(r, 0, sizeof *r);
	r->c0.c0.c0 = FP_ONE;
}

int fp12_eq(const fp12 *a, const fp12 *b)
{
	const fp2 *x = &a->c0.c0, *y = &b->c0.c0;
	int eq = 1;
	for (int i = 0; i < 6; i++)
		eq &= fp2_eq(&x[i], &y[i]);
	return eq;
}

int fp12_is_one(const fp12 *a)
{
	fp12 one;
	fp12_one(&one);
	return fp12_eq(a, &one);
}

void fp12_mul(fp12 *r, const fp12 *a, const fp12 *b)
{
	fp6 t0, t1, s, u;
	fp6_mul(&t0, &a->c0, &b->c0);
	fp6_mul(&t1, &a->c1, &b->c1);
	fp6_add(&s, &a->c0, &a->c1);
	fp6_add(&u, &b->c0, &b->c1);
	fp6_mul(&s, &s, &u);
	fp6_sub(&s, &s, &t0);
	fp6_sub(&r->c1, &s, &t1);
	fp6_mul_v(&t1, &t1);
	fp6_add(&r->c0, &t0, &t1);
}

void fp12_sqr(fp12 *r, const fp12 *a)
{
	fp6 ab, s, t;
	fp6_mul(&ab, &a->c0, &a->c1);
	fp6_add(&s, &a->c0, &a->c1);
	fp6_mul_v(&t, &a->c1);
	fp6_add(&t, &t, &a->c0);
	fp6_mul(&s, &s, &t);
	fp6_sub(&s, &s, &ab);
	fp6_mul_v(&t, &ab);
	fp6_sub(&r->c0, &s, &t);
	fp6_add(&r->c1, &ab, &ab);
}

/* Granger-Scott squaring: in the cyclotomic subgroup Fp12 splits as three
 * Fp4 = Fp2[w^3] pieces whose squares need only Fp2 squarings. */
static void fp4_sqr(fp2 *r0, fp2 *r1, const fp2 *a, const fp2 *b)
{
	fp2 a2, b2, t;
	fp2_sqr(&a2, a);
	fp2_sqr(&b2, b);
	fp2_add(&t, a, b);
	fp2_sqr(&t, &t);
	fp2_sub(&t, &t, &a2);
	fp2_sub(r1, &t, &b2);
	fp2_mul_xi(&t, &b2);
	fp2_add(r0, &t, &a2);
}

void fp12_cyc_sqr(fp12 *r, const fp12 *a)
{
	/* w-basis: g0 = c0.c0, g1 = c1.c1, g2 = c1.c0, g3 = c0.c2, g4 = c0.c1, g5 = c1.c2 */
	const fp2 *x0 = &a->c0.c0, *x1 = &a->c0.c1, *x2 = &a->c0.c2;
	const fp2 *y0 = &a->c1.c0, *y1 = &a->c1.c1, *y2 = &a->c1.c2;
	fp2 t0, t1, t2, t3, t4, t5, t;
	fp12 o;
	fp4_sqr(&t0, &t1, x0, y1);
	fp4_sqr(&t2, &t3, y0, x2);
	fp4_sqr(&t4, &t5, x1, y2);
	/* c0.c0 = 3 t0 - 2 x0 */
	fp2_sub(&t, &t0, x0); fp2_dbl(&t, &t); fp2_add(&o.c0.c0, &t, &t0);
	/* c1.c1 = 3 t1 + 2 y1 */
	fp2_add(&t, &t1, y1); fp2_dbl(&t, &t); fp2_add(&o.c1.c1, &t, &t1);
	/* c0.c1 = 3 t2 - 2 x1  (from t2 = y0^2 + xi x2^2) */
	fp2_sub(&t, &t2, x1); fp2_dbl(&t, &t); fp2_add(&o.c0.c1, &t, &t2);
	/* c1.c2 = 3 t3 + 2 y2 */
	fp2_add(&t, &t3, y2); fp2_dbl(&t, &t); fp2_add(&o.c1.c2, &t, &t3);
	/* c1.c0 = 3 xi t5 + 2 y0 */
	fp2_mul_xi(&t5, &t5);
	fp2_add(&t, &t5, y0); fp2_dbl(&t, &t); fp2_add(&o.c1.c0, &t, &t5);
	/* c0.c2 = 3 t4 - 2 x2 */
	fp2_sub(&t, &t4, x2); fp2_dbl(&t, &t); fp2_add(&o.c0.c2, &t, &t4);
	*r = o;
}

void fp12_conj(fp12 *r, const fp12 *a)
{
	r->c0 = a->c0;
	fp6_neg(&r->c1, &a->c1);
}

void fp12_inv(fp12 *r, const fp12 *a)
{
	fp6 t0, t1;
	fp6_sqr(&t0, &a->c0);
	fp6_sqr(&t1, &a->c1);
	fp6_mul_v(&t1, &t1);
	fp6_sub(&t0, &t0, &t1);
	fp6_inv(&t0, &t0);
	fp6_mul(&r->c0, &a->c0, &t0);
	fp6_mul(&t1, &a->c1, &t0);
	fp6_neg(&r->c1, &t1);
}

/* coefficient of w^k picks up xi^(k(p-1)/6) under Frobenius */
static const fp2 FROB_W[6] = {{BLS_ONE, {{0}}}, BLS_FROB_W1, BLS_FROB_W2, BLS_FROB_W3, BLS_FROB_W4, BLS_FROB_W5};

void fp12_frob(fp12 *r, const fp12 *a)
{
	const fp2 *in0 = &a->c0.c0, *in1 = &a->c1.c0;
	fp2 *o0 = &r->c0.c0, *o1 = &r->c1.c0;
	for (int j = 0; j < 3; j++) {
		fp2 t;
		fp2_conj(&t, &in0[j]);
		fp2_mul(&o0[j], &t, &FROB_W[2 * j]);
		fp2_conj(&t, &in1[j]);
		fp2_mul(&o1[j], &t, &FROB_W[2 * j + 1]);
	}
}

/* f *= (c0 + c1 v) + (c4 v) w, the shape of every Miller-loop line. */
void fp12_mul_014(fp12 *f, const fp2 *c0, const fp2 *c1, const fp2 *c4)
{
	fp6 t0, t1, s;
	fp2 b1;
	fp6_mul_01(&t0, &f->c0, c0, c1);
	fp6_mul_1(&t1, &f->c1, c4);
	fp6_add(&s, &f->c0, &f->c1);
	fp2_add(&b1, c1, c4);
	fp6_mul_01(&s, &s, c0, &b1);
	fp6_sub(&s, &s, &t0);
	fp6_sub(&f->c1, &s, &t1);
	fp6_mul_v(&t1, &t1);
	fp6_add(&f->c0, &t0, &t1);
}
