/* bech32.c — BIP-173 encoding and decoding.
 *
 * The decoder checks the whole string before it trusts any part of it: length,
 * character range and case first (cheap and independent of the checksum), then
 * the separator and alphabet, then the checksum. Only then is the hrp compared
 * by callers, so a typo in an address is reported as a checksum error and not
 * as a wrong network. */
#include "codec/bech32.h"

#include <string.h>

#include "base/err.h"

static const char charset[32] = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";

/* Reverse of charset for lower-case ASCII; -1 for characters not in it. */
static const int8_t charset_rev[128] = {
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	15, -1, 10, 17, 21, 20, 26, 30,  7,  5, -1, -1, -1, -1, -1, -1,
	-1, 29, -1, 24, 13, 25,  9,  8, 23, -1, 18, 22, 31, 27, 19, -1,
	 1,  0,  3, 16, 11, 28, 12, 14,  6,  4,  2, -1, -1, -1, -1, -1,
	-1, 29, -1, 24, 13, 25,  9,  8, 23, -1, 18, 22, 31, 27, 19, -1,
	 1,  0,  3, 16, 11, 28, 12, 14,  6,  4,  2, -1, -1, -1, -1, -1,
};

/* One step of the BCH checksum over GF(32) (BIP-173's polymod). */
static uint32_t polymod_step(uint32_t pre)
{
	uint32_t b = pre >> 25;
	return ((pre & 0x1ffffff) << 5) ^
	       (-((b >> 0) & 1) & 0x3b6a57b2u) ^
	       (-((b >> 1) & 1) & 0x26508e6du) ^
	       (-((b >> 2) & 1) & 0x1ea119fau) ^
	       (-((b >> 3) & 1) & 0x3d4233ddu) ^
	       (-((b >> 4) & 1) & 0x2a1462b3u);
}

/* Checksum state after the expanded hrp: high bits, a zero, low bits. The hrp
 * must already be lower case. */
static uint32_t polymod_hrp(const char *hrp, size_t hrp_len)
{
	uint32_t chk = 1;
	for (size_t i = 0; i < hrp_len; i++)
		chk = polymod_step(chk) ^ ((uint8_t)hrp[i] >> 5);
	chk = polymod_step(chk);
	for (size_t i = 0; i < hrp_len; i++)
		chk = polymod_step(chk) ^ ((uint8_t)hrp[i] & 0x1f);
	return chk;
}

static int lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

int bech32_encode(const char *hrp, const uint8_t *data5, size_t data_len, char *out, size_t cap)
{
	size_t hrp_len = strlen(hrp);
	if (hrp_len == 0)
		return -CN_EINVAL;
	for (size_t i = 0; i < hrp_len; i++) {
		int c = (uint8_t)hrp[i];
		if (c < 33 || c > 126 || (c >= 'A' && c <= 'Z'))
			return -CN_EINVAL;
	}
	if (hrp_len > BECH32_MAX_LEN || data_len > BECH32_MAX_LEN ||
	    hrp_len + 1 + data_len + BECH32_CHECKSUM_LEN > BECH32_MAX_LEN)
		return -CN_ERANGE;
	size_t total = hrp_len + 1 + data_len + BECH32_CHECKSUM_LEN;
	if (cap < total + 1)
		return -CN_ERANGE;
	uint32_t chk = polymod_hrp(hrp, hrp_len);
	char *p = out;
	memcpy(p, hrp, hrp_len);
	p += hrp_len;
	*p++ = '1';
	for (size_t i = 0; i < data_len; i++) {
		if (data5[i] >> 5)
			return -CN_EINVAL;
		chk = polymod_step(chk) ^ data5[i];
		*p++ = charset[data5[i]];
	}
	for (int i = 0; i < BECH32_CHECKSUM_LEN; i++)
		chk = polymod_step(chk);
	chk ^= 1;
	for (int i = 0; i < BECH32_CHECKSUM_LEN; i++)
		*p++ = charset[(chk >> (5 * (5 - i))) & 31];
	*p = '\0';
	return 0;
}

#define FAIL(code, msg)          \
	do {                     \
		if (why)         \
			*why = msg; \
		return -(code);  \
	} while (0)

int bech32_decode(const char *text, size_t len, char *hrp, size_t hrp_cap, uint8_t *data5,
                  size_t data_cap, size_t *data_len, const char **why)
{
	if (len > BECH32_MAX_LEN)
		FAIL(CN_ERANGE, "bech32: longer than 90 characters");
	int has_lower = 0, has_upper = 0;
	size_t sep = len; /* the last '1': the hrp itself may contain '1' */
	for (size_t i = 0; i < len; i++) {
		int c = (uint8_t)text[i];
		if (c < 33 || c > 126)
			FAIL(CN_EPARSE, "bech32: character outside printable ASCII");
		has_lower |= c >= 'a' && c <= 'z';
		has_upper |= c >= 'A' && c <= 'Z';
		if (c == '1')
			sep = i;
	}
	if (has_lower && has_upper)
		FAIL(CN_EPARSE, "bech32: mixed upper and lower case");
	if (sep == len)
		FAIL(CN_EPARSE, "bech32: no separator '1'");
	if (sep == 0)
		FAIL(CN_ERANGE, "bech32: empty human-readable part");
	if (len - sep - 1 < BECH32_CHECKSUM_LEN)
		FAIL(CN_ERANGE, "bech32: data part shorter than the checksum");
	size_t n = len - sep - 1 - BECH32_CHECKSUM_LEN;
	if (sep + 1 > hrp_cap || n > data_cap)
		FAIL(CN_ERANGE, "bech32: output buffer too small");

	for (size_t i = 0; i < sep; i++)
		hrp[i] = (char)lower((uint8_t)text[i]);
	hrp[sep] = '\0';
	uint32_t chk = polymod_hrp(hrp, sep);
	for (size_t i = sep + 1; i < len; i++) {
		int v = charset_rev[(uint8_t)text[i]];
		if (v < 0)
			FAIL(CN_EPARSE, "bech32: character not in the bech32 alphabet");
		chk = polymod_step(chk) ^ (uint32_t)v;
		if (i < len - BECH32_CHECKSUM_LEN)
			data5[i - sep - 1] = (uint8_t)v;
	}
	if (chk != 1)
		FAIL(CN_EVERIFY, "bech32: checksum mismatch");
	*data_len = n;
	return 0;
}

int bech32_convert_bits(uint8_t *out, size_t cap, size_t *out_len, int to_bits, const uint8_t *in,
                        size_t in_len, int from_bits, int pad)
{
	if (from_bits < 1 || from_bits > 8 || to_bits < 1 || to_bits > 8)
		return -CN_EINVAL;
	uint32_t acc = 0, max = (1u << to_bits) - 1;
	uint32_t acc_mask = (1u << (from_bits + to_bits - 1)) - 1;
	int bits = 0;
	size_t n = 0;
	for (size_t i = 0; i < in_len; i++) {
		if (in[i] >> from_bits)
			return -CN_EINVAL;
		acc = ((acc << from_bits) | in[i]) & acc_mask;
		bits += from_bits;
		while (bits >= to_bits) {
			bits -= to_bits;
			if (n == cap)
				return -CN_ERANGE;
			out[n++] = (uint8_t)((acc >> bits) & max);
		}
	}
	if (pad) {
		if (bits) {
			if (n == cap)
				return -CN_ERANGE;
			out[n++] = (uint8_t)((acc << (to_bits - bits)) & max);
		}
	} else if (bits >= from_bits || ((acc << (to_bits - bits)) & max)) {
		/* A whole leftover input group, or stray bits: not what an encoder
		 * writes, and accepting it would give one address many spellings. */
		return -CN_ENONCANON;
	}
	*out_len = n;
	return 0;
}

void bech32_one_encode(const uint8_t addr[20], char out[BECH32_ONE_ADDR_LEN + 1])
{
	uint8_t d5[32];
	size_t n = 0;
	int rc = bech32_convert_bits(d5, sizeof d5, &n, 5, addr, 20, 8, 1);
	rc |= bech32_encode(BECH32_ONE_HRP, d5, n, out, BECH32_ONE_ADDR_LEN + 1);
	(void)rc; /* 20 bytes are exactly 32 groups and 42 characters: cannot fail */
}

int bech32_one_decode(const char *text, size_t len, uint8_t addr[20], const char **why)
{
	char hrp[BECH32_MAX_LEN];
	uint8_t d5[BECH32_MAX_LEN];
	size_t n, alen;
	int rc = bech32_decode(text, len, hrp, sizeof hrp, d5, sizeof d5, &n, why);
	if (rc)
		return rc;
	if (strcmp(hrp, BECH32_ONE_HRP) != 0)
		FAIL(CN_EUNSUPPORTED, "bech32: human-readable part is not \"one\"");
	uint8_t tmp[BECH32_MAX_LEN];
	rc = bech32_convert_bits(tmp, sizeof tmp, &alen, 8, d5, n, 5, 0);
	if (rc == -CN_ENONCANON)
		FAIL(CN_ENONCANON, "bech32: non-zero or excess padding bits");
	if (rc)
		return rc; /* unreachable for decoded 5-bit input and this buffer */
	if (alen != 20)
		FAIL(CN_ERANGE, "bech32: address is not 20 bytes");
	memcpy(addr, tmp, 20);
	return 0;
}
