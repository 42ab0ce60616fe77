/* u256.c — 256-bit arithmetic on 64-bit limbs with 128-bit intermediates. */
#include "base/u256.h"

#include <string.h>

#include "base/bytes.h"
#include "base/err.h"

typedef unsigned __int128 u128;

int u256_to_u64(const struct u256 *a, uint64_t *out)
{
	if (a->w[1] | a->w[2] | a->w[3])
		return 0;
	*out = a->w[0];
	return 1;
}

int u256_cmp(const struct u256 *a, const struct u256 *b)
{
	for (int i = 3; i >= 0; i--)
		if (a->w[i] != b->w[i])
			return a->w[i] < b->w[i] ? -1 : 1;
	return 0;
}

int u256_add(struct u256 *r, const struct u256 *a, const struct u256 *b)
{
	uint64_t carry = 0;
	for (int i = 0; i < 4; i++) {
		u128 s = (u128)a->w[i] + b->w[i] + carry;
		r->w[i] = (uint64_t)s;
		carry = (uint64_t)(s >> 64);
	}
	return (int)carry;
}

int u256_sub(struct u256 *r, const struct u256 *a, const struct u256 *b)
{
	uint64_t borrow = 0;
	for (int i = 0; i < 4; i++) {
		uint64_t ai = a->w[i], bi = b->w[i];
		uint64_t d = ai - bi - borrow;
		borrow = (ai < bi) || (ai - bi < borrow);
		r->w[i] = d;
	}
	return (int)borrow;
}

int u256_mul(struct u256 *r, const struct u256 *a, const struct u256 *b)
{
	uint64_t t[8] = {0};
	for (int i = 0; i < 4; i++) {
		uint64_t carry = 0;
		for (int j = 0; j < 4; j++) {
			u128 p = (u128)a->w[i] * b->w[j] + t[i + j] + carry;
			t[i + j] = (uint64_t)p;
			carry = (uint64_t)(p >> 64);
		}
		t[i + 4] = carry;
	}
	memcpy(r->w, t, sizeof r->w);
	return (t[4] | t[5] | t[6] | t[7]) != 0;
}

unsigned u256_bitlen(const struct u256 *a)
{
	for (int i = 3; i >= 0; i--)
		if (a->w[i])
			return (unsigned)(64 * i + 64 - __builtin_clzll(a->w[i]));
	return 0;
}

void u256_shl(struct u256 *r, const struct u256 *a, unsigned n)
{
	struct u256 t = {{0}};
	if (n < 256) {
		unsigned limbs = n / 64, bits = n % 64;
		for (int i = 3; i >= (int)limbs; i--) {
			uint64_t v = a->w[i - limbs] << bits;
			if (bits && i - (int)limbs - 1 >= 0)
				v |= a->w[i - limbs - 1] >> (64 - bits);
			t.w[i] = v;
		}
	}
	*r = t;
}

void u256_shr(struct u256 *r, const struct u256 *a, unsigned n)
{
	struct u256 t = {{0}};
	if (n < 256) {
		unsigned limbs = n / 64, bits = n % 64;
		for (unsigned i = 0; i + limbs < 4; i++) {
			uint64_t v = a->w[i + limbs] >> bits;
			if (bits && i + limbs + 1 < 4)
				v |= a->w[i + limbs + 1] << (64 - bits);
			t.w[i] = v;
		}
	}
	*r = t;
}

void u256_and(struct u256 *r, const struct u256 *a, const struct u256 *b)
{
	for (int i = 0; i < 4; i++)
		r->w[i] = a->w[i] & b->w[i];
}

void u256_or(struct u256 *r, const struct u256 *a, const struct u256 *b)
{
	for (int i = 0; i < 4; i++)
		r->w[i] = a->w[i] | b->w[i];
}

void u256_xor(struct u256 *r, const struct u256 *a, const struct u256 *b)
{
	for (int i = 0; i < 4; i++)
		r->w[i] = a->w[i] ^ b->w[i];
}

void u256_not(struct u256 *r, const struct u256 *a)
{
	for (int i = 0; i < 4; i++)
		r->w[i] = ~a->w[i];
}

/* Knuth's algorithm D (TAOCP 4.3.1) on 32-bit digits: simple to get right
 * with 64-bit intermediates, and fast enough for amounts and the EVM. */
static int nlimbs32(const uint32_t *x, int n)
{
	while (n > 0 && x[n - 1] == 0)
		n--;
	return n;
}

static void to32(uint32_t out[8], const struct u256 *a)
{
	for (int i = 0; i < 4; i++) {
		out[2 * i] = (uint32_t)a->w[i];
		out[2 * i + 1] = (uint32_t)(a->w[i] >> 32);
	}
}

static void from32(struct u256 *r, const uint32_t in[8])
{
	for (int i = 0; i < 4; i++)
		r->w[i] = (uint64_t)in[2 * i] | ((uint64_t)in[2 * i + 1] << 32);
}

int u256_divmod(struct u256 *q, struct u256 *rem, const struct u256 *a, const struct u256 *b)
{
	uint32_t u[9] = {0}, v[8], qd[8] = {0}, r32[8] = {0};
	to32(v, b);
	int n = nlimbs32(v, 8);
	if (n == 0)
		return -CN_EINVAL;
	if (u256_cmp(a, b) < 0) {
		struct u256 ac = *a;
		if (q)
			*q = (struct u256){{0}};
		if (rem)
			*rem = ac;
		return 0;
	}
	uint32_t ua[8];
	to32(ua, a);
	int m = nlimbs32(ua, 8);
	if (n == 1) {
		uint64_t r = 0;
		for (int i = m - 1; i >= 0; i--) {
			uint64_t cur = (r << 32) | ua[i];
			qd[i] = (uint32_t)(cur / v[0]);
			r = cur % v[0];
		}
		r32[0] = (uint32_t)r;
	} else {
		int s = __builtin_clz(v[n - 1]);
		uint32_t vn[8];
		for (int i = n - 1; i > 0; i--)
			vn[i] = (v[i] << s) | (s ? (uint32_t)((uint64_t)v[i - 1] >> (32 - s)) : 0);
		vn[0] = v[0] << s;
		u[m] = s ? (uint32_t)((uint64_t)ua[m - 1] >> (32 - s)) : 0;
		for (int i = m - 1; i > 0; i--)
			u[i] = (ua[i] << s) | (s ? (uint32_t)((uint64_t)ua[i - 1] >> (32 - s)) : 0);
		u[0] = ua[0] << s;
		for (int j = m - n; j >= 0; j--) {
			uint64_t num = ((uint64_t)u[j + n] << 32) | u[j + n - 1];
			uint64_t qhat = num / vn[n - 1];
			uint64_t rhat = num % vn[n - 1];
			while (qhat >= (1ULL << 32) ||
			       qhat * vn[n - 2] > ((rhat << 32) | u[j + n - 2])) {
				qhat--;
				rhat += vn[n - 1];
				if (rhat >= (1ULL << 32))
					break;
			}
			int64_t borrow = 0;
			uint64_t carry = 0;
			for (int i = 0; i < n; i++) {
				uint64_t p = qhat * vn[i] + carry;
				carry = p >> 32;
				int64_t t = (int64_t)u[i + j] - (int64_t)(uint32_t)p + borrow;
				u[i + j] = (uint32_t)t;
				borrow = t >> 32;
			}
			int64_t t = (int64_t)u[j + n] - (int64_t)carry + borrow;
			u[j + n] = (uint32_t)t;
			if (t < 0) {
				qhat--;
				uint64_t c = 0;
				for (int i = 0; i < n; i++) {
					uint64_t sum = (uint64_t)u[i + j] + vn[i] + c;
					u[i + j] = (uint32_t)sum;
					c = sum >> 32;
				}
				u[j + n] += (uint32_t)c;
			}
			qd[j] = (uint32_t)qhat;
		}
		for (int i = 0; i < n; i++)
			r32[i] = (u[i] >> s) | (s ? (uint32_t)((uint64_t)u[i + 1] << (32 - s)) : 0);
	}
	if (q)
		from32(q, qd);
	if (rem)
		from32(rem, r32);
	return 0;
}

void u256_from_be32(struct u256 *r, const uint8_t in[32])
{
	for (int i = 0; i < 4; i++)
		r->w[3 - i] = load_be64(in + 8 * i);
}

void u256_to_be32(const struct u256 *a, uint8_t out[32])
{
	for (int i = 0; i < 4; i++)
		store_be64(out + 8 * i, a->w[3 - i]);
}

int u256_from_be(struct u256 *r, const uint8_t *in, size_t len)
{
	uint8_t buf[32] = {0};
	while (len > 32) {
		if (*in)
			return -CN_ERANGE;
		in++;
		len--;
	}
	memcpy(buf + 32 - len, in, len);
	u256_from_be32(r, buf);
	return 0;
}

int u256_parse_dec(struct u256 *r, const char *s, size_t len)
{
	if (len == 0)
		return -CN_EINVAL;
	struct u256 acc = {{0}}, ten = u256_from_u64(10);
	int over = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -CN_EINVAL;
		struct u256 d = u256_from_u64((uint64_t)(s[i] - '0'));
		over |= u256_mul(&acc, &acc, &ten);
		over |= u256_add(&acc, &acc, &d);
	}
	if (over)
		return -CN_ERANGE;
	*r = acc;
	return 0;
}

int u256_parse_hex(struct u256 *r, const char *s, size_t len)
{
	if (len >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		s += 2;
		len -= 2;
	}
	if (len == 0)
		return -CN_EINVAL;
	struct u256 acc = {{0}};
	int over = 0;
	for (size_t i = 0; i < len; i++) {
		int v = hex_digit_value(s[i]);
		if (v < 0)
			return -CN_EINVAL;
		over |= (acc.w[3] >> 60) != 0;
		u256_shl(&acc, &acc, 4);
		acc.w[0] |= (uint64_t)v;
	}
	if (over)
		return -CN_ERANGE;
	*r = acc;
	return 0;
}

int u256_parse(struct u256 *r, const char *s, size_t len)
{
	if (len >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		return u256_parse_hex(r, s, len);
	return u256_parse_dec(r, s, len);
}

size_t u256_format_dec(const struct u256 *a, char *out)
{
	char tmp[U256_DEC_MAX];
	size_t n = 0;
	struct u256 v = *a;
	/* Peel off 19 digits at a time by dividing by 10^19. */
	const struct u256 big = u256_from_u64(10000000000000000000ULL);
	do {
		struct u256 q, rm;
		u256_divmod(&q, &rm, &v, &big);
		uint64_t chunk = rm.w[0];
		int last = u256_is_zero(&q);
		for (int i = 0; i < 19 && (!last || chunk || i == 0); i++) {
			tmp[n++] = (char)('0' + chunk % 10);
			chunk /= 10;
		}
		v = q;
	} while (!u256_is_zero(&v));
	for (size_t i = 0; i < n; i++)
		out[i] = tmp[n - 1 - i];
	out[n] = 0;
	return n;
}

size_t u256_format_hex(const struct u256 *a, char *out)
{
	static const char digits[] = "0123456789abcdef";
	unsigned bits = u256_bitlen(a);
	unsigned nd = bits ? (bits + 3) / 4 : 1;
	out[0] = '0';
	out[1] = 'x';
	for (unsigned i = 0; i < nd; i++) {
		unsigned shift = 4 * (nd - 1 - i);
		out[2 + i] = digits[(a->w[shift / 64] >> (shift % 64)) & 15];
	}
	out[2 + nd] = 0;
	return 2 + nd;
}
