/* bech32 against ../shared/testdata/harmony-tx/bech32.json (@harmony-js/crypto
 * toBech32/fromBech32) and the test vectors printed in BIP-173 itself. */
#include <criterion/criterion.h>
#include <string.h>

#include "base/bytes.h"
#include "base/err.h"
#include "codec/bech32.h"
#include "crypto/crypto.h"
#include "testutil.h"

Test(bech32, harmony_one_pairs)
{
	json_t *j = tu_load_json("harmony-tx/bech32.json");
	json_t *pairs = json_object_get(j, "pairs");
	cr_assert(json_array_size(pairs) > 0);
	cr_assert_eq(json_array_size(pairs), json_integer_value(json_object_get(j, "count")));
	size_t i, n = 0;
	json_t *p;
	json_array_foreach(pairs, i, p) {
		const char *hex = json_string_value(json_object_get(p, "hex"));
		const char *lower = json_string_value(json_object_get(p, "hexLower"));
		const char *b32 = json_string_value(json_object_get(p, "bech32"));
		size_t alen;
		uint8_t *addr = tu_hex(lower, &alen);
		cr_assert_eq(alen, 20);

		char enc[BECH32_ONE_ADDR_LEN + 1];
		bech32_one_encode(addr, enc);
		cr_assert_str_eq(enc, b32, "pair %zu", i);

		uint8_t dec[20];
		const char *why = NULL;
		cr_assert_eq(bech32_one_decode(b32, strlen(b32), dec, &why), 0, "pair %zu: %s", i, why);
		cr_assert(memcmp(dec, addr, 20) == 0);

		/* All upper case is the same address; any mixed case is not. */
		char up[BECH32_ONE_ADDR_LEN + 1];
		for (size_t k = 0; k <= BECH32_ONE_ADDR_LEN; k++)
			up[k] = (char)(b32[k] >= 'a' && b32[k] <= 'z' ? b32[k] - 32 : b32[k]);
		cr_assert_eq(bech32_one_decode(up, strlen(up), dec, NULL), 0);
		cr_assert(memcmp(dec, addr, 20) == 0);
		up[0] = 'o';
		cr_assert_eq(bech32_one_decode(up, strlen(up), dec, &why), -CN_EPARSE);

		/* The EIP-55 form in the same record names the same address. */
		char eip55[ADDR_HEX_LEN + 1];
		addr_to_hex(addr, eip55);
		cr_assert_str_eq(eip55, hex);

		/* Every single-character substitution in the data part is caught
		 * (bech32 detects any error in up to 4 characters). */
		char bad[BECH32_ONE_ADDR_LEN + 1];
		for (size_t k = 4; k < BECH32_ONE_ADDR_LEN; k++) {
			memcpy(bad, b32, sizeof bad);
			bad[k] = bad[k] == 'q' ? 'p' : 'q';
			cr_assert_eq(bech32_one_decode(bad, strlen(bad), dec, NULL), -CN_EVERIFY, "pair %zu pos %zu",
			             i, k);
		}
		free(addr);
		n++;
	}
	json_decref(j);
	tu_report("bech32 one1 pairs", n);
}

/* BIP-173 "Test vectors": valid bech32 strings. */
static const char *const bip173_valid[] = {
	"A12UEL5L",
	"a12uel5l",
	"an83characterlonghumanreadablepartthatcontainsthenumber1andtheexcludedcharactersbio1tt5tgs",
	"abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw",
	"11qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqc8247j",
	"split1checkupstagehandshakeupstreamerranterredcaperred2y9e3w",
	"?1ezyfcl",
	"bc1gmk9yu", /* listed as an invalid segwit address (no data), valid bech32 */
};

Test(bech32, bip173_valid_roundtrip)
{
	size_t n = 0;
	for (size_t i = 0; i < sizeof bip173_valid / sizeof *bip173_valid; i++) {
		const char *s = bip173_valid[i];
		char hrp[BECH32_MAX_LEN + 1];
		uint8_t d5[BECH32_MAX_LEN];
		size_t dlen;
		const char *why = NULL;
		int rc = bech32_decode(s, strlen(s), hrp, sizeof hrp, d5, sizeof d5, &dlen, &why);
		cr_assert_eq(rc, 0, "%s: %s", s, why);
		char enc[BECH32_MAX_LEN + 1];
		cr_assert_eq(bech32_encode(hrp, d5, dlen, enc, sizeof enc), 0, "%s", s);
		/* The encoder writes lower case; compare case-insensitively. */
		cr_assert_eq(strcasecmp(enc, s), 0, "%s vs %s", enc, s);
		n++;
	}
	tu_report("bech32 BIP-173 valid", n);
}

struct bad_case {
	const char *text;
	size_t len; /* 0: strlen */
	int err;
};

/* BIP-173 invalid strings, with the error this decoder must give. */
static const struct bad_case bip173_invalid[] = {
	{"\x20" "1nwldj5", 0, -CN_EPARSE},  /* hrp character out of range */
	{"\x7f" "1axkwrx", 0, -CN_EPARSE},
	{"\x80" "1eym55h", 0, -CN_EPARSE},
	{"an84characterslonghumanreadablepartthatcontainsthenumber1andtheexcludedcharactersbio1569pvx", 0,
	 -CN_ERANGE},                        /* overall max length exceeded */
	{"pzry9x0s0muk", 0, -CN_EPARSE},     /* no separator */
	{"1pzry9x0s0muk", 0, -CN_ERANGE},    /* empty hrp */
	{"x1b4n0q5v", 0, -CN_EPARSE},        /* invalid data character */
	{"li1dgmt3", 0, -CN_ERANGE},         /* too short checksum */
	{"de1lg7wt\xff", 0, -CN_EPARSE},     /* invalid character in checksum */
	{"A1G7SGD8", 0, -CN_EVERIFY},        /* checksum made with the upper-case hrp */
	{"10a06t8", 0, -CN_ERANGE},          /* empty hrp */
	{"1qzzfhee", 0, -CN_ERANGE},         /* empty hrp */
	/* From the segwit list: only those that are invalid as bech32 itself. */
	{"bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5", 0, -CN_EVERIFY},
	{"tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sL5k7", 0, -CN_EPARSE}, /* mixed case */
	/* An embedded NUL is a character outside 33..126, not an end. */
	{"a12u\0el5l", 9, -CN_EPARSE},
};

Test(bech32, bip173_invalid)
{
	size_t n = 0;
	for (size_t i = 0; i < sizeof bip173_invalid / sizeof *bip173_invalid; i++) {
		const struct bad_case *c = &bip173_invalid[i];
		size_t len = c->len ? c->len : strlen(c->text);
		char hrp[BECH32_MAX_LEN + 1];
		uint8_t d5[BECH32_MAX_LEN];
		size_t dlen;
		const char *why = NULL;
		int rc = bech32_decode(c->text, len, hrp, sizeof hrp, d5, sizeof d5, &dlen, &why);
		cr_assert_eq(rc, c->err, "case %zu: got %d (%s), want %d", i, rc, why ? why : "-", c->err);
		cr_assert(why && strncmp(why, "bech32: ", 8) == 0, "case %zu has a message", i);
		n++;
	}
	tu_report("bech32 BIP-173 invalid", n);
}

/* The segwit vectors exercise the 5->8 regrouping with real programs. */
Test(bech32, bip173_segwit_regrouping)
{
	const char *s = "BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4";
	char hrp[16];
	uint8_t d5[BECH32_MAX_LEN], prog[64];
	size_t dlen, plen;
	cr_assert_eq(bech32_decode(s, strlen(s), hrp, sizeof hrp, d5, sizeof d5, &dlen, NULL), 0);
	cr_assert_str_eq(hrp, "bc");
	cr_assert_eq(d5[0], 0); /* witness version */
	cr_assert_eq(bech32_convert_bits(prog, sizeof prog, &plen, 8, d5 + 1, dlen - 1, 5, 0), 0);
	char hex[2 * 64 + 1];
	hex_encode(prog, plen, hex);
	cr_assert_str_eq(hex, "751e76e8199196d454941c45d1b3a323f1433bd6");

	/* "zero padding of more than 4 bits" and "non-zero padding in 8-to-5
	 * conversion": checksums are valid, the regrouping must refuse. */
	const char *pad[] = {
		"bc1zw508d6qejxtdg4y5r3zarvaryvqyzf3du",
		"tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3pjxtptv",
	};
	for (int i = 0; i < 2; i++) {
		cr_assert_eq(bech32_decode(pad[i], strlen(pad[i]), hrp, sizeof hrp, d5, sizeof d5, &dlen, NULL), 0,
		             "%s", pad[i]);
		cr_assert_eq(bech32_convert_bits(prog, sizeof prog, &plen, 8, d5 + 1, dlen - 1, 5, 0),
		             -CN_ENONCANON, "%s", pad[i]);
	}
	tu_report("bech32 BIP-173 segwit", 3);
}

/* Builds hrp + 5-bit groups into a string with a valid checksum. */
static void make(const char *hrp, const uint8_t *d5, size_t n, char *out, size_t cap)
{
	cr_assert_eq(bech32_encode(hrp, d5, n, out, cap), 0);
}

Test(bech32, one_address_rejections)
{
	uint8_t addr[20], dec[20], d5[40];
	for (int i = 0; i < 20; i++)
		addr[i] = (uint8_t)(0x11 * i + 7);
	size_t n;
	cr_assert_eq(bech32_convert_bits(d5, sizeof d5, &n, 5, addr, 20, 8, 1), 0);
	cr_assert_eq(n, 32);
	char s[BECH32_MAX_LEN + 1];
	const char *why;

	make("one", d5, 32, s, sizeof s);
	cr_assert_eq(bech32_one_decode(s, strlen(s), dec, NULL), 0);
	cr_assert(memcmp(dec, addr, 20) == 0);

	/* Same payload under another network's hrp. */
	make("bc", d5, 32, s, sizeof s);
	cr_assert_eq(bech32_one_decode(s, strlen(s), dec, &why), -CN_EUNSUPPORTED);
	make("onf", d5, 32, s, sizeof s);
	cr_assert_eq(bech32_one_decode(s, strlen(s), dec, &why), -CN_EUNSUPPORTED);

	/* 33 groups leave 5 bits over: a whole group of padding. */
	d5[32] = 0;
	make("one", d5, 33, s, sizeof s);
	cr_assert_eq(bech32_one_decode(s, strlen(s), dec, &why), -CN_ENONCANON);

	/* 31 groups = 19 bytes + 3 bits: non-zero leftover bits, then zero ones. */
	d5[30] |= 1;
	make("one", d5, 31, s, sizeof s);
	cr_assert_eq(bech32_one_decode(s, strlen(s), dec, &why), -CN_ENONCANON);
	d5[30] &= 0x18;
	make("one", d5, 31, s, sizeof s);
	cr_assert_eq(bech32_one_decode(s, strlen(s), dec, &why), -CN_ERANGE);
	cr_assert_str_eq(why, "bech32: address is not 20 bytes");

	/* Empty data, and lengths around the limit. */
	make("one", d5, 0, s, sizeof s);
	cr_assert_eq(bech32_one_decode(s, strlen(s), dec, &why), -CN_ERANGE);
	uint8_t zeros[90] = {0};
	cr_assert_eq(bech32_encode("one", zeros, 80, s, sizeof s), 0);       /* 3+1+80+6 = 90 */
	cr_assert_eq(bech32_encode("one", zeros, 81, s, sizeof s), -CN_ERANGE);
	cr_assert_eq(bech32_encode("one", zeros, 32, s, 42), -CN_ERANGE);   /* no room for NUL */

	/* Letters outside the alphabet (b, i, o) and a truncated string. */
	bech32_one_encode(addr, s);
	s[10] = 'b';
	cr_assert_eq(bech32_one_decode(s, strlen(s), dec, &why), -CN_EPARSE);
	bech32_one_encode(addr, s);
	cr_assert_eq(bech32_one_decode(s, strlen(s) - 1, dec, &why), -CN_EVERIFY);
	cr_assert_eq(bech32_one_decode("", 0, dec, &why), -CN_EPARSE);
	cr_assert_eq(bech32_one_decode("one1", 4, dec, &why), -CN_ERANGE);

	/* Encoder argument checks. */
	cr_assert_eq(bech32_encode("", d5, 1, s, sizeof s), -CN_EINVAL);
	cr_assert_eq(bech32_encode("ONE", d5, 1, s, sizeof s), -CN_EINVAL);
	uint8_t big = 32;
	cr_assert_eq(bech32_encode("one", &big, 1, s, sizeof s), -CN_EINVAL);
	cr_assert_eq(bech32_convert_bits(d5, sizeof d5, &n, 5, &big, 1, 5, 1), -CN_EINVAL);
	cr_assert_eq(bech32_convert_bits(d5, 3, &n, 5, addr, 20, 8, 1), -CN_ERANGE);
}
