/* BLS12-381 against ../shared/testdata/bls/: the consensus-spec style
 * bls_vectors.json (blst/noble/herumi cross-checked) and the verbatim
 * RFC 9380 hash-to-curve and expand_message_xmd vectors. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "base/err.h"
#include "crypto/bls.h"
#include "crypto/bls/bls_int.h"
#include "testutil.h"

static json_t *vectors(void)
{
	static json_t *v;
	if (!v)
		v = tu_load_json("bls/bls_vectors.json");
	return v;
}

static const char *str(json_t *o, const char *key)
{
	json_t *s = json_object_get(o, key);
	cr_assert(json_is_string(s), "missing %s", key);
	return json_string_value(s);
}

static int get_pk(const char *hex, struct bls_public_key *pk)
{
	size_t n;
	uint8_t *b = tu_hex(hex, &n);
	int rc = n == BLS_PK_LEN ? bls_pk_from_bytes(b, pk) : -CN_EINVAL;
	free(b);
	return rc;
}

static int get_sig(const char *hex, struct bls_signature *sig)
{
	size_t n;
	uint8_t *b = tu_hex(hex, &n);
	int rc = n == BLS_SIG_LEN ? bls_sig_from_bytes(b, sig) : -CN_EINVAL;
	free(b);
	return rc;
}

static void assert_sig_hex(const struct bls_signature *sig, const char *want, const char *what)
{
	uint8_t enc[BLS_SIG_LEN];
	char hex[2 * BLS_SIG_LEN + 1];
	bls_sig_to_bytes(sig, enc);
	hex_encode(enc, sizeof enc, hex);
	cr_assert_str_eq(hex, want, "%s", what);
}

Test(bls_vectors, sign)
{
	json_t *arr = json_object_get(vectors(), "sign"), *c;
	size_t i, n = 0;
	json_array_foreach(arr, i, c) {
		json_t *in = json_object_get(c, "input"), *out = json_object_get(c, "output");
		size_t kl, ml;
		uint8_t *k = tu_hex(str(in, "privkey"), &kl), *m = tu_hex(str(in, "message"), &ml);
		struct bls_secret_key sk;
		int rc = kl == 32 ? bls_sk_from_bytes(k, &sk) : -CN_EINVAL;
		if (json_is_null(out)) {
			cr_assert_neq(rc, 0, "case %zu must fail", i);
		} else {
			struct bls_signature sig;
			struct bls_public_key pk;
			cr_assert_eq(rc, 0, "case %zu", i);
			bls_sign(&sk, m, ml, &sig);
			assert_sig_hex(&sig, json_string_value(out), "sign");
			bls_sk_to_pk(&sk, &pk);
			cr_assert_eq(bls_verify(&pk, m, ml, &sig), 0);
		}
		free(k);
		free(m);
		n++;
	}
	cr_assert_eq(n, 57);
	tu_report("bls sign", n);
}

Test(bls_vectors, verify)
{
	json_t *arr = json_object_get(vectors(), "verify"), *c;
	size_t i, n = 0;
	json_array_foreach(arr, i, c) {
		json_t *in = json_object_get(c, "input");
		int want = json_is_true(json_object_get(c, "output"));
		struct bls_public_key pk;
		struct bls_signature sig;
		size_t ml;
		uint8_t *m = tu_hex(str(in, "message"), &ml);
		int ok = get_pk(str(in, "pubkey"), &pk) == 0 && get_sig(str(in, "signature"), &sig) == 0 &&
		         bls_verify(&pk, m, ml, &sig) == 0;
		cr_assert_eq(ok, want, "verify case %zu (%s)", i, str(c, "kind"));
		free(m);
		n++;
	}
	cr_assert_eq(n, 64);
	tu_report("bls verify", n);
}

Test(bls_vectors, aggregate)
{
	json_t *arr = json_object_get(vectors(), "aggregate"), *c;
	size_t i, n = 0;
	json_array_foreach(arr, i, c) {
		json_t *in = json_object_get(c, "input"), *out = json_object_get(c, "output"), *s;
		size_t cnt = json_array_size(in), j;
		struct bls_signature *sigs = calloc(cnt + 1, sizeof *sigs), agg;
		int rc = 0;
		json_array_foreach(in, j, s) {
			if (get_sig(json_string_value(s), &sigs[j]))
				rc = -1;
		}
		if (!rc)
			rc = bls_aggregate_sigs(sigs, cnt, &agg);
		if (json_is_null(out)) {
			cr_assert_neq(rc, 0, "aggregate case %zu must fail", i);
		} else {
			cr_assert_eq(rc, 0, "aggregate case %zu", i);
			assert_sig_hex(&agg, json_string_value(out), "aggregate");
		}
		free(sigs);
		n++;
	}
	cr_assert_eq(n, 31);
	tu_report("bls aggregate", n);
}

static struct bls_public_key *get_pks(json_t *list, size_t *cnt, int *bad)
{
	size_t j;
	json_t *s;
	*cnt = json_array_size(list);
	struct bls_public_key *pks = calloc(*cnt + 1, sizeof *pks);
	*bad = 0;
	json_array_foreach(list, j, s) {
		if (get_pk(json_string_value(s), &pks[j]))
			*bad = 1;
	}
	return pks;
}

Test(bls_vectors, fast_aggregate_verify)
{
	json_t *arr = json_object_get(vectors(), "fast_aggregate_verify"), *c;
	size_t i, n = 0;
	json_array_foreach(arr, i, c) {
		json_t *in = json_object_get(c, "input");
		int want = json_is_true(json_object_get(c, "output")), bad;
		size_t cnt, ml;
		struct bls_public_key *pks = get_pks(json_object_get(in, "pubkeys"), &cnt, &bad);
		struct bls_signature sig;
		uint8_t *m = tu_hex(str(in, "message"), &ml);
		int ok = !bad && get_sig(str(in, "signature"), &sig) == 0 &&
		         bls_fast_aggregate_verify(pks, cnt, m, ml, &sig) == 0;
		cr_assert_eq(ok, want, "fast_aggregate_verify case %zu (%s)", i, str(c, "kind"));
		free(m);
		free(pks);
		n++;
	}
	cr_assert_eq(n, 51);
	tu_report("bls fast_aggregate_verify", n);
}

Test(bls_vectors, aggregate_verify)
{
	json_t *arr = json_object_get(vectors(), "aggregate_verify"), *c;
	size_t i, n = 0;
	json_array_foreach(arr, i, c) {
		json_t *in = json_object_get(c, "input"), *ml = json_object_get(in, "messages"), *s;
		int want = json_is_true(json_object_get(c, "output")), bad;
		size_t cnt, j, nm = json_array_size(ml);
		struct bls_public_key *pks = get_pks(json_object_get(in, "pubkeys"), &cnt, &bad);
		uint8_t **msgs = calloc(nm + 1, sizeof *msgs);
		size_t *lens = calloc(nm + 1, sizeof *lens);
		json_array_foreach(ml, j, s)
			msgs[j] = tu_hex(json_string_value(s), &lens[j]);
		struct bls_signature sig;
		int ok = !bad && nm == cnt && get_sig(str(in, "signature"), &sig) == 0 &&
		         bls_aggregate_verify(pks, (const uint8_t *const *)msgs, lens, cnt, &sig) == 0;
		cr_assert_eq(ok, want, "aggregate_verify case %zu (%s)", i, str(c, "kind"));
		for (j = 0; j < nm; j++)
			free(msgs[j]);
		free(msgs);
		free(lens);
		free(pks);
		n++;
	}
	cr_assert_eq(n, 38);
	tu_report("bls aggregate_verify", n);
}

static void deser(const char *list, int g2, size_t want_n)
{
	json_t *arr = json_object_get(vectors(), list), *c;
	size_t i, n = 0;
	json_array_foreach(arr, i, c) {
		json_t *out = json_object_get(c, "output");
		int want_valid = json_is_true(json_object_get(out, "valid"));
		int want_point = json_is_true(json_object_get(out, "decodes_as_point"));
		size_t len;
		uint8_t *b = tu_hex(str(c, "input"), &len);
		int valid, point;
		if (g2) {
			struct bls_signature sig;
			g2a a;
			point = len == 96 && g2_decode(&a, b, len) == 0;
			valid = len == 96 && bls_sig_from_bytes(b, &sig) == 0 && !a.inf;
			if (valid) { /* round trip */
				uint8_t enc[96];
				bls_sig_to_bytes(&sig, enc);
				cr_assert(memcmp(enc, b, 96) == 0);
			}
		} else {
			struct bls_public_key pk;
			g1a a;
			point = len == 48 && g1_decode(&a, b, len) == 0;
			valid = len == 48 && bls_pk_from_bytes(b, &pk) == 0;
			if (valid) {
				uint8_t enc[48];
				bls_pk_to_bytes(&pk, enc);
				cr_assert(memcmp(enc, b, 48) == 0);
			}
		}
		cr_assert_eq(valid, want_valid, "%s case %zu (%s) valid", list, i, str(c, "kind"));
		cr_assert_eq(point, want_point, "%s case %zu (%s) point", list, i, str(c, "kind"));
		free(b);
		n++;
	}
	cr_assert_eq(n, want_n);
	tu_report(list, n);
}

Test(bls_vectors, deserialization_g1) { deser("deserialization_G1", 0, 41); }
Test(bls_vectors, deserialization_g2) { deser("deserialization_G2", 1, 39); }

Test(bls_vectors, pop)
{
	json_t *arr = json_object_get(vectors(), "pop"), *c;
	size_t i, n = 0;
	json_array_foreach(arr, i, c) {
		json_t *in = json_object_get(c, "input"), *out = json_object_get(c, "output");
		int want = json_is_true(json_object_get(out, "valid"));
		struct bls_public_key pk;
		struct bls_signature proof;
		json_t *jk = json_object_get(in, "privkey");
		const char *ph = json_is_string(json_object_get(in, "proof")) ? str(in, "proof")
		                                                              : str(out, "proof");
		if (json_is_string(jk)) {
			/* PopProve must reproduce the proof */
			size_t kl;
			uint8_t *k = tu_hex(json_string_value(jk), &kl);
			struct bls_secret_key sk;
			struct bls_signature made;
			cr_assert_eq(bls_sk_from_bytes(k, &sk), 0);
			bls_pop_prove(&sk, &made);
			assert_sig_hex(&made, str(out, "proof"), "pop_prove");
			free(k);
		}
		int ok = get_pk(str(in, "pubkey"), &pk) == 0 && get_sig(ph, &proof) == 0 &&
		         bls_pop_verify(&pk, &proof) == 0;
		cr_assert_eq(ok, want, "pop case %zu (%s)", i, str(c, "kind"));
		n++;
	}
	cr_assert_eq(n, 43);
	tu_report("bls pop", n);
}

Test(bls_vectors, keygen)
{
	json_t *arr = json_object_get(vectors(), "keygen"), *c;
	size_t i, n = 0;
	json_array_foreach(arr, i, c) {
		json_t *in = json_object_get(c, "input"), *out = json_object_get(c, "output");
		size_t il, kl;
		uint8_t *ikm = tu_hex(str(in, "ikm"), &il), *info = tu_hex(str(in, "key_info"), &kl);
		struct bls_secret_key sk;
		struct bls_public_key pk;
		uint8_t skb[32], pkb[48];
		char hex[97];
		cr_assert_eq(bls_keygen(ikm, il, info, kl, &sk), 0);
		bls_sk_to_bytes(&sk, skb);
		hex_encode(skb, 32, hex);
		cr_assert_str_eq(hex, str(out, "privkey"), "keygen %zu", i);
		bls_sk_to_pk(&sk, &pk);
		bls_pk_to_bytes(&pk, pkb);
		hex_encode(pkb, 48, hex);
		cr_assert_str_eq(hex, str(out, "pubkey"), "keygen pk %zu", i);
		free(ikm);
		free(info);
		n++;
	}
	cr_assert_eq(n, 30);
	tu_report("bls keygen", n);
}

Test(bls_vectors, hash_to_g2)
{
	json_t *arr = json_object_get(vectors(), "hash_to_G2"), *c;
	size_t i, n = 0;
	json_array_foreach(arr, i, c) {
		json_t *in = json_object_get(c, "input"), *out = json_object_get(c, "output");
		size_t ml;
		uint8_t *m = tu_hex(str(in, "msg"), &ml), enc[96];
		const char *dst = str(in, "dst");
		char hex[193];
		g2a h;
		bls_hash_to_g2(&h, m, ml, (const uint8_t *)dst, strlen(dst));
		g2_encode(enc, &h, 1);
		hex_encode(enc, 96, hex);
		cr_assert_str_eq(hex, str(out, "compressed"), "hash_to_G2 %zu", i);
		free(m);
		n++;
	}
	cr_assert_eq(n, 33);
	tu_report("bls hash_to_G2", n);
}

/* "0x<c0>,0x<c1>" as in the RFC vector files */
static void parse_fp2(const char *s, fp2 *out)
{
	const char *comma = strchr(s, ',');
	uint8_t b[48];
	size_t n;
	cr_assert(comma);
	cr_assert_eq(hex_decode(s, (size_t)(comma - s), b, 48, &n), 0);
	cr_assert_eq(n, 48);
	cr_assert_eq(fp_from_be(&out->c0, b), 0);
	cr_assert_eq(hex_decode(comma + 1, strlen(comma + 1), b, 48, &n), 0);
	cr_assert_eq(n, 48);
	cr_assert_eq(fp_from_be(&out->c1, b), 0);
}

static void parse_point(json_t *o, g2a *a)
{
	parse_fp2(str(o, "x"), &a->x);
	parse_fp2(str(o, "y"), &a->y);
	a->inf = 0;
}

Test(bls_vectors, rfc9380_hash_to_g2)
{
	json_t *f = tu_load_json("bls/rfc9380/BLS12381G2_XMD-SHA-256_SSWU_RO_.json"), *c;
	const char *dst = str(f, "dst");
	size_t i, n = 0;
	json_array_foreach(json_object_get(f, "vectors"), i, c) {
		const char *msg = str(c, "msg");
		fp2 u[2], want_u;
		g2a want, got;
		g2p q;
		bls_hash_to_field_fp2(u, (const uint8_t *)msg, strlen(msg), (const uint8_t *)dst,
		                      strlen(dst));
		for (int k = 0; k < 2; k++) {
			parse_fp2(json_string_value(json_array_get(json_object_get(c, "u"), (size_t)k)), &want_u);
			cr_assert(fp2_eq(&u[k], &want_u), "u%d of vector %zu", k, i);
			bls_map_to_curve_g2(&q, &u[k]);
			g2_to_affine(&got, &q);
			parse_point(json_object_get(c, k ? "Q1" : "Q0"), &want);
			cr_assert(fp2_eq(&got.x, &want.x) && fp2_eq(&got.y, &want.y), "Q%d of vector %zu", k, i);
		}
		bls_hash_to_g2(&got, (const uint8_t *)msg, strlen(msg), (const uint8_t *)dst, strlen(dst));
		parse_point(json_object_get(c, "P"), &want);
		cr_assert(fp2_eq(&got.x, &want.x) && fp2_eq(&got.y, &want.y), "P of vector %zu", i);
		n++;
	}
	cr_assert_eq(n, 5);
	json_decref(f);
	tu_report("rfc9380 hash_to_curve G2", n);
}

static size_t xmd_file(const char *rel)
{
	json_t *f = tu_load_json(rel), *c;
	const char *dst = str(f, "DST");
	size_t i, n = 0;
	json_array_foreach(json_object_get(f, "tests"), i, c) {
		const char *msg = str(c, "msg");
		size_t want_len = strtoul(str(c, "len_in_bytes"), NULL, 16), wl;
		uint8_t *want = tu_hex(str(c, "uniform_bytes"), &wl), *got = malloc(want_len);
		cr_assert_eq(wl, want_len);
		cr_assert_eq(bls_expand_message_xmd(got, want_len, (const uint8_t *)msg, strlen(msg),
		                                    (const uint8_t *)dst, strlen(dst)), 0);
		cr_assert(memcmp(got, want, wl) == 0, "%s case %zu", rel, i);
		free(want);
		free(got);
		n++;
	}
	json_decref(f);
	return n;
}

Test(bls_vectors, rfc9380_expand_message_xmd)
{
	size_t n = xmd_file("bls/rfc9380/expand_message_xmd_SHA256_38.json");
	n += xmd_file("bls/rfc9380/expand_message_xmd_SHA256_256.json");
	cr_assert_eq(n, 20);
	tu_report("rfc9380 expand_message_xmd", n);
}
