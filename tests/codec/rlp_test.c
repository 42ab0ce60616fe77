/* RLP against ../shared/testdata/rlp (ethereum/tests RLPTests) plus the
 * canonical-form rules the vectors do not cover and a random round trip. */
#include <criterion/criterion.h>
#include <string.h>

#include "base/err.h"
#include "codec/codec.h"
#include "testutil.h"

/* rlptest.json holds "\u0000", which jansson only accepts when asked. */
static json_t *load_rlp_json(const char *rel)
{
	json_error_t err;
	json_t *j = json_load_file(tu_testdata(rel), JSON_ALLOW_NUL, &err);
	if (!j)
		cr_assert_fail("cannot load %s: %s", rel, err.text);
	return j;
}

/* "#123..." decimal to minimal big-endian bytes (schoolbook, test only). */
static size_t decimal_to_be(const char *s, uint8_t *out, size_t cap)
{
	memset(out, 0, cap);
	for (; *s; s++) {
		cr_assert(*s >= '0' && *s <= '9');
		unsigned carry = (unsigned)(*s - '0');
		for (size_t i = cap; i-- > 0;) {
			unsigned v = out[i] * 10u + carry;
			out[i] = (uint8_t)v;
			carry = v >> 8;
		}
		cr_assert_eq(carry, 0, "bigint too large for the test buffer");
	}
	size_t z = 0;
	while (z < cap && out[z] == 0)
		z++;
	memmove(out, out + z, cap - z);
	return cap - z;
}

static void encode_json(struct rlp_enc *e, json_t *v)
{
	if (json_is_string(v)) {
		const char *s = json_string_value(v);
		if (s[0] == '#') {
			uint8_t be[64];
			size_t n = decimal_to_be(s + 1, be, sizeof be);
			rlp_put_uint_be(e, be, n);
		} else {
			rlp_put_bytes(e, s, json_string_length(v));
		}
	} else if (json_is_integer(v)) {
		cr_assert(json_integer_value(v) >= 0);
		rlp_put_u64(e, (uint64_t)json_integer_value(v));
	} else if (json_is_array(v)) {
		size_t i;
		json_t *x;
		rlp_list_begin(e);
		json_array_foreach(v, i, x)
			encode_json(e, x);
		rlp_list_end(e);
	} else {
		cr_assert_fail("unexpected JSON type in vector");
	}
}

/* Checks a decoded item against the vector's value. */
static void match_json(const struct rlp_item *it, json_t *v)
{
	if (json_is_string(v)) {
		const char *s = json_string_value(v);
		if (s[0] == '#') {
			uint8_t be[64], out[32];
			size_t n = decimal_to_be(s + 1, be, sizeof be);
			const uint8_t *p;
			size_t len;
			cr_assert_eq(rlp_item_uint_bytes(it, 64, &p, &len), 0);
			cr_assert(len == n && memcmp(p, be, n) == 0);
			/* The u256 reader takes it only when it fits in 32 bytes. */
			int rc = rlp_item_u256(it, out);
			cr_assert_eq(rc, n <= 32 ? 0 : -CN_ERANGE);
		} else {
			const uint8_t *p;
			size_t len;
			cr_assert_eq(rlp_item_bytes(it, &p, &len), 0);
			cr_assert(len == json_string_length(v) && memcmp(p, s, len) == 0);
		}
	} else if (json_is_integer(v)) {
		uint64_t x;
		cr_assert_eq(rlp_item_u64(it, &x), 0);
		cr_assert_eq(x, (uint64_t)json_integer_value(v));
	} else {
		struct rlp_cursor c;
		cr_assert_eq(rlp_enter(it, &c), 0);
		size_t i;
		json_t *x;
		json_array_foreach(v, i, x) {
			struct rlp_item sub;
			cr_assert_eq(rlp_next(&c, &sub), 0);
			match_json(&sub, x);
		}
		cr_assert_eq(rlp_expect_end(&c), 0);
	}
}

/* Re-encodes a decoded item generically, by its structure only. */
static void reencode(struct rlp_enc *e, const struct rlp_item *it)
{
	if (!it->is_list) {
		rlp_put_bytes(e, it->ptr, it->len);
		return;
	}
	struct rlp_cursor c;
	cr_assert_eq(rlp_enter(it, &c), 0);
	rlp_list_begin(e);
	struct rlp_item sub;
	while (!rlp_at_end(&c)) {
		cr_assert_eq(rlp_next(&c, &sub), 0);
		reencode(e, &sub);
	}
	rlp_list_end(e);
}

static void check_roundtrip(const uint8_t *in, size_t len)
{
	struct rlp_item top;
	cr_assert_eq(rlp_validate(in, len), 0);
	cr_assert_eq(rlp_decode_one(in, len, &top), 0);
	struct rlp_enc e;
	rlp_enc_init(&e);
	reencode(&e, &top);
	uint8_t *out;
	size_t olen;
	cr_assert_eq(rlp_enc_finish(&e, &out, &olen), 0);
	cr_assert(olen == len && memcmp(out, in, len) == 0, "re-encoding differs");
	free(out);
	rlp_enc_free(&e);
}

Test(rlp, valid_vectors_encode_and_decode)
{
	json_t *j = load_rlp_json("rlp/rlptest.json");
	const char *name;
	json_t *v;
	size_t n = 0;
	struct rlp_enc e;
	rlp_enc_init(&e);
	json_object_foreach(j, name, v) {
		size_t wlen;
		uint8_t *want = tu_hex(json_string_value(json_object_get(v, "out")), &wlen);
		json_t *in = json_object_get(v, "in");

		rlp_enc_reset(&e);
		encode_json(&e, in);
		uint8_t *got;
		size_t glen;
		cr_assert_eq(rlp_enc_finish(&e, &got, &glen), 0, "%s", name);
		cr_assert(glen == wlen && memcmp(got, want, wlen) == 0, "%s: encoding differs", name);
		cr_assert_eq(rlp_enc_size(&e), wlen);

		struct rlp_item top;
		cr_assert_eq(rlp_decode_one(want, wlen, &top), 0, "%s", name);
		match_json(&top, in);
		check_roundtrip(want, wlen);
		free(got);
		free(want);
		n++;
	}
	rlp_enc_free(&e);
	json_decref(j);
	cr_assert_eq(n, 28);
	tu_report("rlp/rlptest.json", n);
}

Test(rlp, invalid_vectors_rejected)
{
	json_t *j = load_rlp_json("rlp/invalidRLPTest.json");
	const char *name;
	json_t *v;
	size_t n = 0;
	json_object_foreach(j, name, v) {
		size_t len;
		uint8_t *in = tu_hex(json_string_value(json_object_get(v, "out")), &len);
		cr_assert_neq(rlp_validate(in, len), 0, "%s accepted", name);
		free(in);
		n++;
	}
	json_decref(j);
	cr_assert_eq(n, 26);
	tu_report("rlp/invalidRLPTest.json", n);
}

Test(rlp, random_vectors_valid)
{
	json_t *j = load_rlp_json("rlp/RandomRLPTests_example.json");
	const char *name;
	json_t *v;
	size_t n = 0;
	json_object_foreach(j, name, v) {
		size_t len;
		uint8_t *in = tu_hex(json_string_value(json_object_get(v, "out")), &len);
		check_roundtrip(in, len);
		free(in);
		n++;
	}
	json_decref(j);
	cr_assert(n > 0);
	tu_report("rlp/RandomRLPTests_example.json", n);
}

static int validate_hex(const char *hex)
{
	size_t len;
	uint8_t *in = tu_hex(hex, &len);
	int rc = rlp_validate(in, len);
	free(in);
	return rc;
}

Test(rlp, noncanonical_headers)
{
	cr_assert_eq(validate_hex("8100"), -CN_ENONCANON);
	cr_assert_eq(validate_hex("817f"), -CN_ENONCANON);
	cr_assert_eq(validate_hex("8180"), 0);
	cr_assert_eq(validate_hex("b800"), -CN_ENONCANON);
	cr_assert_eq(validate_hex("b837"), -CN_ENONCANON);       /* 55 fits the short form */
	cr_assert_eq(validate_hex("f800"), -CN_ENONCANON);
	cr_assert_eq(validate_hex("b90038"), -CN_ENONCANON);     /* leading zero in length */
	cr_assert_eq(validate_hex("c0c0"), -CN_ETRAILING);
	cr_assert_eq(validate_hex("80ff"), -CN_ETRAILING);
	cr_assert_eq(validate_hex("c28280"), -CN_ETRUNC);        /* item overruns its list */
	cr_assert_eq(validate_hex("c28180"), 0);
	cr_assert_eq(validate_hex("c2817f"), -CN_ENONCANON);
	cr_assert_eq(validate_hex("c3c3c0c0"), -CN_ETRUNC);
	cr_assert_eq(validate_hex("c48180c2c0"), -CN_ETRUNC);
	cr_assert_eq(validate_hex(""), -CN_ETRUNC);
	cr_assert_eq(validate_hex("bf0f000000000000021111"), -CN_ETRUNC);
	cr_assert_eq(validate_hex("c3c1c0c0"), 0);
}

static int read_u64_hex(const char *hex, uint64_t *v)
{
	size_t len;
	uint8_t *in = tu_hex(hex, &len);
	struct rlp_item it;
	int rc = rlp_decode_one(in, len, &it);
	if (!rc)
		rc = rlp_item_u64(&it, v);
	free(in);
	return rc;
}

Test(rlp, typed_integers)
{
	uint64_t v;
	cr_assert_eq(read_u64_hex("80", &v), 0);
	cr_assert_eq(v, 0);
	cr_assert_eq(read_u64_hex("7f", &v), 0);
	cr_assert_eq(v, 127);
	cr_assert_eq(read_u64_hex("88ffffffffffffffff", &v), 0);
	cr_assert_eq(v, UINT64_MAX);
	cr_assert_eq(read_u64_hex("00", &v), -CN_ENONCANON);      /* zero is 0x80 */
	cr_assert_eq(read_u64_hex("820001", &v), -CN_ENONCANON);  /* leading zero */
	cr_assert_eq(read_u64_hex("89010000000000000000", &v), -CN_ERANGE);
	cr_assert_eq(read_u64_hex("c0", &v), -CN_EINVAL);

	uint8_t u[32], want[32] = { 0 };
	size_t len;
	uint8_t *in = tu_hex("a0ff00000000000000000000000000000000000000000000000000000000000001", &len);
	struct rlp_item it;
	cr_assert_eq(rlp_decode_one(in, len, &it), 0);
	cr_assert_eq(rlp_item_u256(&it, u), 0);
	want[0] = 0xff;
	want[31] = 1;
	cr_assert(memcmp(u, want, 32) == 0);
	free(in);
	in = tu_hex("a000ff000000000000000000000000000000000000000000000000000000000001", &len);
	cr_assert_eq(rlp_decode_one(in, len, &it), 0);
	cr_assert_eq(rlp_item_u256(&it, u), -CN_ENONCANON);
	free(in);

	/* The encoder strips leading zeros of wide integers. */
	struct rlp_enc e;
	rlp_enc_init(&e);
	uint8_t be[32] = { 0 };
	be[30] = 0x04;
	be[31] = 0x00;
	rlp_put_uint_be(&e, be, 32);
	rlp_put_uint_be(&e, be, 0);
	memset(be, 0, 32);
	rlp_put_uint_be(&e, be, 32);
	rlp_put_u64(&e, 0);
	rlp_put_u64(&e, 0x80);
	uint8_t *out;
	size_t olen;
	cr_assert_eq(rlp_enc_finish(&e, &out, &olen), 0);
	const uint8_t expect[] = { 0x82, 0x04, 0x00, 0x80, 0x80, 0x80, 0x81, 0x80 };
	cr_assert(olen == sizeof expect && memcmp(out, expect, olen) == 0);
	free(out);
	rlp_enc_free(&e);
}

Test(rlp, fixed_size_reader)
{
	uint8_t in[33] = { 0x94 }, addr[20];
	memset(in + 1, 0xab, 20);
	struct rlp_cursor c;
	rlp_cursor_init(&c, in, 21);
	cr_assert_eq(rlp_read_fixed(&c, addr, 20), 0);
	cr_assert_eq(addr[19], 0xab);
	rlp_cursor_init(&c, in, 21);
	cr_assert_eq(rlp_read_fixed(&c, addr, 19), -CN_EINVAL);
	rlp_cursor_init(&c, in, 20);
	cr_assert_eq(rlp_read_fixed(&c, addr, 20), -CN_ETRUNC);
}

Test(rlp, depth_limit)
{
	/* RLP_MAX_DEPTH nested lists validate; one more level is refused. */
	for (int extra = 0; extra < 2; extra++) {
		size_t n = RLP_MAX_DEPTH + (size_t)extra;
		struct rlp_enc e;
		rlp_enc_init(&e);
		for (size_t i = 0; i < n; i++)
			rlp_list_begin(&e);
		for (size_t i = 0; i < n; i++)
			rlp_list_end(&e);
		uint8_t *out;
		size_t len;
		cr_assert_eq(rlp_enc_finish(&e, &out, &len), 0);
		cr_assert_eq(rlp_validate(out, len), extra ? -CN_ELIMIT : 0);
		free(out);
		rlp_enc_free(&e);
	}
}

Test(rlp, unbalanced_lists)
{
	struct rlp_enc e;
	uint8_t *out;
	size_t len;
	rlp_enc_init(&e);
	rlp_list_begin(&e);
	cr_assert_eq(rlp_enc_finish(&e, &out, &len), -CN_ESTATE);
	rlp_enc_reset(&e);
	rlp_list_end(&e);
	cr_assert_eq(rlp_enc_finish(&e, &out, &len), -CN_ESTATE);
	rlp_enc_free(&e);
}

/* Random nested values: encode, validate, decode, re-encode; and every
 * truncation of a valid encoding must be rejected. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static void random_value(struct rlp_enc *e, int depth)
{
	uint64_t r = rng() % 10;
	if (depth < 6 && r < 3) {
		rlp_list_begin(e);
		int n = (int)(rng() % 8);
		for (int i = 0; i < n; i++)
			random_value(e, depth + 1);
		rlp_list_end(e);
	} else if (r < 6) {
		rlp_put_u64(e, rng() >> (rng() % 64));
	} else {
		static uint8_t buf[300];
		size_t len = rng() % 4 == 0 ? rng() % 300 : rng() % 3;
		for (size_t i = 0; i < len; i++)
			buf[i] = (uint8_t)rng();
		rlp_put_bytes(e, buf, len);
	}
}

Test(rlp, random_roundtrip)
{
	struct rlp_enc e;
	rlp_enc_init(&e);
	int rounds = tu_long() ? 20000 : 2000;
	for (int k = 0; k < rounds; k++) {
		rlp_enc_reset(&e);
		random_value(&e, 0);
		uint8_t *out;
		size_t len;
		cr_assert_eq(rlp_enc_finish(&e, &out, &len), 0);
		check_roundtrip(out, len);
		for (size_t cut = 0; cut < len; cut += 1 + len / 16)
			cr_assert_neq(rlp_validate(out, cut), 0);
		free(out);
	}
	rlp_enc_free(&e);
}
