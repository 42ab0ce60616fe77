/* u256 checked against GMP on random operands of every size class, plus
 * hand-picked edge cases. GMP is an independent implementation. */
#include <criterion/criterion.h>
#include <gmp.h>
#include <string.h>

#include "base/err.h"
#include "base/prng.h"
#include "base/u256.h"
#include "testutil.h"

/* 4000 random cases in make test, 200000 in make test-long. */
#define N_RANDOM (tu_long() ? 200000 : 4000)

static void to_mpz(mpz_t z, const struct u256 *a)
{
	uint8_t be[32];
	u256_to_be32(a, be);
	mpz_import(z, 32, 1, 1, 1, 0, be);
}

/* Compares a with z mod 2^256. */
static int eq_mpz(const struct u256 *a, const mpz_t z)
{
	mpz_t m, t;
	mpz_inits(m, t, NULL);
	mpz_fdiv_r_2exp(m, z, 256);
	to_mpz(t, a);
	int eq = mpz_cmp(m, t) == 0;
	mpz_clears(m, t, NULL);
	return eq;
}

/* Random values that hit every limb count and the all-ones/zero patterns
 * where carries and Knuth's correction steps happen. */
static void rand_u256(struct cn_prng *r, struct u256 *a)
{
	for (int i = 0; i < 4; i++)
		a->w[i] = cn_prng_next_u64(r);
	switch (cn_prng_uniform(r, 6)) {
	case 0: {
		unsigned bits = (unsigned)cn_prng_uniform(r, 257);
		u256_shr(a, a, 256 - bits);
		break;
	}
	case 1:
		for (int i = 0; i < 4; i++)
			if (cn_prng_uniform(r, 2))
				a->w[i] = cn_prng_uniform(r, 2) ? ~0ULL : 0;
		break;
	case 2:
		a->w[3] = a->w[2] = 0;
		break;
	case 3:
		a->w[0] = cn_prng_uniform(r, 3);
		a->w[1] = 0;
		break;
	default:
		break;
	}
}

Test(u256, random_against_gmp)
{
	struct cn_prng r;
	cn_prng_seed(&r, 0x5eed);
	mpz_t za, zb, zr, zq, zm, two256;
	mpz_inits(za, zb, zr, zq, zm, two256, NULL);
	mpz_ui_pow_ui(two256, 2, 256);
	size_t ran = 0;
	for (int it = 0; it < N_RANDOM; it++) {
		struct u256 a, b, c, q, m;
		rand_u256(&r, &a);
		rand_u256(&r, &b);
		to_mpz(za, &a);
		to_mpz(zb, &b);

		int carry = u256_add(&c, &a, &b);
		mpz_add(zr, za, zb);
		cr_assert(eq_mpz(&c, zr), "add %d", it);
		cr_assert_eq(carry, mpz_cmp(zr, two256) >= 0, "add carry %d", it);

		int borrow = u256_sub(&c, &a, &b);
		mpz_sub(zr, za, zb);
		cr_assert(eq_mpz(&c, zr), "sub %d", it);
		cr_assert_eq(borrow, mpz_sgn(zr) < 0, "sub borrow %d", it);

		int over = u256_mul(&c, &a, &b);
		mpz_mul(zr, za, zb);
		cr_assert(eq_mpz(&c, zr), "mul %d", it);
		cr_assert_eq(over, mpz_cmp(zr, two256) >= 0, "mul overflow %d", it);

		if (!u256_is_zero(&b)) {
			cr_assert_eq(u256_divmod(&q, &m, &a, &b), 0);
			mpz_fdiv_qr(zq, zm, za, zb);
			cr_assert(eq_mpz(&q, zq), "div %d", it);
			cr_assert(eq_mpz(&m, zm), "mod %d", it);
		}

		int cmp = u256_cmp(&a, &b), zc = mpz_cmp(za, zb);
		cr_assert_eq(cmp, zc < 0 ? -1 : zc > 0);

		unsigned sh = (unsigned)cn_prng_uniform(&r, 260);
		u256_shl(&c, &a, sh);
		mpz_mul_2exp(zr, za, sh);
		cr_assert(eq_mpz(&c, zr), "shl %u", sh);
		u256_shr(&c, &a, sh);
		mpz_fdiv_q_2exp(zr, za, sh);
		cr_assert(eq_mpz(&c, zr), "shr %u", sh);

		u256_and(&c, &a, &b);
		mpz_and(zr, za, zb);
		cr_assert(eq_mpz(&c, zr));
		u256_or(&c, &a, &b);
		mpz_ior(zr, za, zb);
		cr_assert(eq_mpz(&c, zr));
		u256_xor(&c, &a, &b);
		mpz_xor(zr, za, zb);
		cr_assert(eq_mpz(&c, zr));
		u256_not(&c, &a);
		mpz_sub_ui(zr, two256, 1);
		mpz_sub(zr, zr, za);
		cr_assert(eq_mpz(&c, zr));
		cr_assert_eq(u256_bitlen(&a), mpz_sgn(za) ? mpz_sizeinbase(za, 2) : 0);

		char dec[U256_DEC_MAX], hex[U256_HEX_MAX], want[100];
		u256_format_dec(&a, dec);
		mpz_get_str(want, 10, za);
		cr_assert_str_eq(dec, want);
		u256_format_hex(&a, hex);
		want[0] = '0';
		want[1] = 'x';
		mpz_get_str(want + 2, 16, za);
		cr_assert_str_eq(hex, want);

		struct u256 back;
		cr_assert_eq(u256_parse(&back, dec, strlen(dec)), 0);
		cr_assert(u256_eq(&back, &a));
		cr_assert_eq(u256_parse(&back, hex, strlen(hex)), 0);
		cr_assert(u256_eq(&back, &a));
		ran++;
	}
	mpz_clears(za, zb, zr, zq, zm, two256, NULL);
	tu_report("u256 vs GMP random cases", ran);
}

Test(u256, parse_limits)
{
	struct u256 v;
	const char *max_dec = "115792089237316195423570985008687907853269984665640564039457584007913129639935";
	const char *over_dec = "115792089237316195423570985008687907853269984665640564039457584007913129639936";
	cr_assert_eq(u256_parse(&v, max_dec, strlen(max_dec)), 0);
	for (int i = 0; i < 4; i++)
		cr_assert_eq(v.w[i], ~0ULL);
	cr_assert_eq(u256_parse(&v, over_dec, strlen(over_dec)), -CN_ERANGE);
	const char *big = "1000000000000000000000000000000000000000000000000000000000000000000000000000000000";
	cr_assert_eq(u256_parse(&v, big, strlen(big)), -CN_ERANGE);
	char hex[80] = "0x";
	memset(hex + 2, 'f', 64);
	hex[66] = 0;
	cr_assert_eq(u256_parse(&v, hex, 66), 0);
	hex[66] = '0';
	hex[67] = 0;
	cr_assert_eq(u256_parse(&v, hex, 67), -CN_ERANGE);
	/* Leading zeros do not overflow. */
	char zhex[80] = "0x";
	memset(zhex + 2, '0', 70);
	zhex[72] = '1';
	zhex[73] = 0;
	cr_assert_eq(u256_parse(&v, zhex, strlen(zhex)), 0);
	cr_assert(u256_eq(&v, &(struct u256){{1, 0, 0, 0}}));
	cr_assert_eq(u256_parse(&v, "", 0), -CN_EINVAL);
	cr_assert_eq(u256_parse(&v, "0x", 2), -CN_EINVAL);
	cr_assert_eq(u256_parse(&v, "12a", 3), -CN_EINVAL);
	cr_assert_eq(u256_parse(&v, "-1", 2), -CN_EINVAL);
	cr_assert_eq(u256_parse(&v, "0xg", 3), -CN_EINVAL);
	cr_assert_eq(u256_parse(&v, "0XAbC", 5), 0);
	cr_assert_eq(v.w[0], 0xabc);
	cr_assert_eq(u256_parse_hex(&v, "ff", 2), 0);
	cr_assert_eq(v.w[0], 255);
	/* Length is respected: no reading past it. */
	cr_assert_eq(u256_parse(&v, "123456", 3), 0);
	cr_assert_eq(v.w[0], 123);
}

Test(u256, format_and_bytes)
{
	char buf[U256_DEC_MAX];
	struct u256 z = {{0}};
	u256_format_dec(&z, buf);
	cr_assert_str_eq(buf, "0");
	u256_format_hex(&z, buf);
	cr_assert_str_eq(buf, "0x0");
	struct u256 v = u256_from_u64(10000000000000000000ULL);
	u256_format_dec(&v, buf);
	cr_assert_str_eq(buf, "10000000000000000000");
	v = (struct u256){{0, 1, 0, 0}};
	u256_format_dec(&v, buf);
	cr_assert_str_eq(buf, "18446744073709551616");
	u256_format_hex(&v, buf);
	cr_assert_str_eq(buf, "0x10000000000000000");

	uint8_t be[32], out[32];
	for (int i = 0; i < 32; i++)
		be[i] = (uint8_t)i;
	u256_from_be32(&v, be);
	cr_assert_eq(v.w[3], 0x0001020304050607ULL);
	cr_assert_eq(v.w[0], 0x18191a1b1c1d1e1fULL);
	u256_to_be32(&v, out);
	cr_assert_eq(memcmp(be, out, 32), 0);
	uint8_t short_be[3] = {1, 2, 3};
	cr_assert_eq(u256_from_be(&v, short_be, 3), 0);
	cr_assert_eq(v.w[0], 0x010203);
	uint8_t long_be[33] = {0};
	long_be[32] = 9;
	cr_assert_eq(u256_from_be(&v, long_be, 33), 0);
	cr_assert_eq(v.w[0], 9);
	long_be[0] = 1;
	cr_assert_eq(u256_from_be(&v, long_be, 33), -CN_ERANGE);

	uint64_t x;
	cr_assert(u256_to_u64(&(struct u256){{77, 0, 0, 0}}, &x));
	cr_assert_eq(x, 77);
	cr_assert(!u256_to_u64(&(struct u256){{77, 0, 1, 0}}, &x));
}

Test(u256, arithmetic_edges)
{
	struct u256 max = {{~0ULL, ~0ULL, ~0ULL, ~0ULL}}, one = u256_from_u64(1), r, q, m;
	cr_assert_eq(u256_add(&r, &max, &one), 1);
	cr_assert(u256_is_zero(&r));
	cr_assert_eq(u256_sub(&r, &r, &one), 1);
	cr_assert(u256_eq(&r, &max));
	cr_assert_eq(u256_mul(&r, &max, &max), 1);
	cr_assert(u256_eq(&r, &one));
	cr_assert_eq(u256_divmod(&q, &m, &max, &(struct u256){{0}}), -CN_EINVAL);
	cr_assert_eq(u256_divmod(&q, &m, &max, &max), 0);
	cr_assert(u256_eq(&q, &one));
	cr_assert(u256_is_zero(&m));
	/* Aliasing: result into an operand. */
	r = u256_from_u64(5);
	u256_add(&r, &r, &r);
	cr_assert_eq(r.w[0], 10);
	u256_mul(&r, &r, &r);
	cr_assert_eq(r.w[0], 100);
	cr_assert_eq(u256_divmod(&r, NULL, &r, &(struct u256){{7, 0, 0, 0}}), 0);
	cr_assert_eq(r.w[0], 14);
}

/* Divisions that take the rare "add back" step of Knuth's algorithm D (the
 * first one does, per Hacker's Delight's test set), checked against GMP. */
Test(u256, divmod_add_back_cases)
{
	static const char *const cases[][2] = {
		{"0x7fffffff800000000000000000000000", "0x800000000000000000000001"},
		{"0x8000000000000000fffffffe00000000", "0x800000000000000000000001"},
		{"0x7fffffff800000000000000000000000ffffffffffffffff", "0x800000000000000000000001ffffffff"},
		{"0xffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff", "0xffffffff00000000ffffffff"},
	};
	mpz_t za, zb, zq, zr;
	mpz_inits(za, zb, zq, zr, NULL);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct u256 a, b, q, r;
		cr_assert_eq(u256_parse(&a, cases[i][0], strlen(cases[i][0])), 0);
		cr_assert_eq(u256_parse(&b, cases[i][1], strlen(cases[i][1])), 0);
		cr_assert_eq(u256_divmod(&q, &r, &a, &b), 0);
		to_mpz(za, &a);
		to_mpz(zb, &b);
		mpz_fdiv_qr(zq, zr, za, zb);
		cr_assert(eq_mpz(&q, zq), "quotient %zu", i);
		cr_assert(eq_mpz(&r, zr), "remainder %zu", i);
	}
	mpz_clears(za, zb, zq, zr, NULL);
}
