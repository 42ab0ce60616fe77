/* u256.h — 256-bit unsigned integers (amounts, gas, EVM words).
 *
 * A value is four 64-bit limbs, least significant first. Arithmetic wraps
 * modulo 2^256 like the EVM and reports overflow through a return flag, so
 * balance code can reject it and EVM code can ignore it. Text forms: decimal,
 * and hex with a 0x prefix in Ethereum's minimal "quantity" style ("0x0",
 * "0x1f"). Parsing never accepts a value that does not fit (-CN_ERANGE). */
#ifndef CANON_BASE_U256_H
#define CANON_BASE_U256_H

#include <stddef.h>
#include <stdint.h>

struct u256 {
	uint64_t w[4];   /* w[0] least significant */
};

/* Longest decimal form (78 digits) plus NUL, longest hex plus "0x" and NUL. */
#define U256_DEC_MAX 79
#define U256_HEX_MAX 67

static inline struct u256 u256_from_u64(uint64_t v)
{
	struct u256 r = {{v, 0, 0, 0}};
	return r;
}
static inline int u256_is_zero(const struct u256 *a)
{
	return !(a->w[0] | a->w[1] | a->w[2] | a->w[3]);
}
/* Nonzero when a fits in 64 bits; then *out gets it. */
int u256_to_u64(const struct u256 *a, uint64_t *out);

/* -1, 0, 1 as a <, ==, > b. */
int u256_cmp(const struct u256 *a, const struct u256 *b);
static inline int u256_eq(const struct u256 *a, const struct u256 *b) { return u256_cmp(a, b) == 0; }

/* r = a + b mod 2^256; returns 1 on carry out. r may alias a or b. */
int u256_add(struct u256 *r, const struct u256 *a, const struct u256 *b);
/* r = a - b mod 2^256; returns 1 on borrow (a < b). */
int u256_sub(struct u256 *r, const struct u256 *a, const struct u256 *b);
/* r = a * b mod 2^256; returns 1 if the full product exceeds 2^256-1. */
int u256_mul(struct u256 *r, const struct u256 *a, const struct u256 *b);
/* q = a / b, rem = a % b (either may be NULL). -CN_EINVAL when b is 0. */
int u256_divmod(struct u256 *q, struct u256 *rem, const struct u256 *a, const struct u256 *b);

void u256_shl(struct u256 *r, const struct u256 *a, unsigned n);  /* n >= 256 gives 0 */
void u256_shr(struct u256 *r, const struct u256 *a, unsigned n);
void u256_and(struct u256 *r, const struct u256 *a, const struct u256 *b);
void u256_or(struct u256 *r, const struct u256 *a, const struct u256 *b);
void u256_xor(struct u256 *r, const struct u256 *a, const struct u256 *b);
void u256_not(struct u256 *r, const struct u256 *a);
/* Number of significant bits (0 for zero). */
unsigned u256_bitlen(const struct u256 *a);

void u256_from_be32(struct u256 *r, const uint8_t in[32]);
void u256_to_be32(const struct u256 *a, uint8_t out[32]);
/* Big-endian bytes of any length up to 32 (leading zeros allowed beyond
 * that only if they are zero); -CN_ERANGE when the value does not fit. */
int u256_from_be(struct u256 *r, const uint8_t *in, size_t len);

/* Parses decimal digits, or hex after 0x/0X. The whole string must be
 * consumed; no sign, no spaces. Underscores are not accepted. -CN_EINVAL on
 * a bad or empty string, -CN_ERANGE when the value exceeds 2^256-1. */
int u256_parse(struct u256 *r, const char *s, size_t len);
int u256_parse_dec(struct u256 *r, const char *s, size_t len);
int u256_parse_hex(struct u256 *r, const char *s, size_t len);  /* 0x optional */

/* Writes the decimal form plus NUL (needs U256_DEC_MAX bytes); returns the
 * length without the NUL. */
size_t u256_format_dec(const struct u256 *a, char *out);
/* Writes "0x" plus minimal lower-case hex ("0x0" for zero). */
size_t u256_format_hex(const struct u256 *a, char *out);

#endif
