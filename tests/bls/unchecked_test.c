/* Decoding without the per-signature subgroup check
 * (bls_sig_from_bytes_unchecked, bls_sig_check_subgroup,
 * bls_aggregate_sigs_from_bytes): it must reject every encoding the checked
 * decoder rejects except points of E2 outside G2, and a sum that contains
 * such a point must fail its own subgroup check. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "crypto/bls.h"
#include "crypto/bls/bls_int.h"
#include "testutil.h"

/* The first point of E2 outside G2 with x = (k, 0), k = start, start+1, ...
 * (almost every point of E2 is outside G2: the cofactor is large). */
static void non_subgroup_sig(uint8_t start, uint8_t out[BLS_SIG_LEN])
{
	for (unsigned k = start; k < start + 200u; k++) {
		uint8_t b[BLS_SIG_LEN] = {0};
		b[BLS_SIG_LEN - 1] = (uint8_t)k;
		b[BLS_SIG_LEN - 2] = (uint8_t)(k >> 8);
		b[0] = 0x80; /* compressed, smaller y */
		g2a a;
		if (g2_decode_on_curve(&a, b, sizeof b) == 0 && !g2_in_subgroup(&a)) {
			memcpy(out, b, sizeof b);
			return;
		}
	}
	cr_assert_fail("no point of E2 found");
}

Test(bls_unchecked, vectors_g2)
{
	json_t *root = tu_load_json("bls/bls_vectors.json");
	json_t *arr = json_object_get(root, "deserialization_G2"), *c;
	size_t i, n = 0, nsub = 0;
	json_array_foreach(arr, i, c) {
		const char *kind = json_string_value(json_object_get(c, "kind"));
		int point = json_is_true(json_object_get(json_object_get(c, "output"), "decodes_as_point"));
		/* x_c0 = p-1 is a canonical x whose point lies on E2 outside G2 */
		int not_in_g2 = strcmp(kind, "on_curve_not_in_subgroup") == 0 ||
		                strcmp(kind, "x_c0_equals_modulus_minus_1") == 0;
		size_t len;
		uint8_t *b = tu_hex(json_string_value(json_object_get(c, "input")), &len);
		struct bls_signature s, t;
		int checked = len == BLS_SIG_LEN && bls_sig_from_bytes(b, &s) == 0;
		int unchecked = len == BLS_SIG_LEN && bls_sig_from_bytes_unchecked(b, &t) == 0;
		cr_assert_eq(checked, point, "case %zu (%s)", i, kind);
		cr_assert_eq(unchecked, point || not_in_g2, "case %zu (%s)", i, kind);
		if (checked) {
			cr_assert(bls_sig_equal(&s, &t));
			cr_assert_eq(bls_sig_check_subgroup(&t), 0);
		}
		if (not_in_g2) {
			g2a pt;
			cr_assert_eq(g2_decode_on_curve(&pt, b, len), 0);
			cr_assert(g2a_on_curve(&pt) && !g2_in_subgroup(&pt), "case %zu", i);
			cr_assert_eq(bls_sig_check_subgroup(&t), -CN_EINVAL, "case %zu", i);
			/* and the aggregate path refuses it, alone or with others */
			struct bls_signature agg;
			cr_assert_eq(bls_aggregate_sigs_from_bytes(b, 1, &agg), -CN_EINVAL);
			nsub++;
		}
		if (len == BLS_SIG_LEN) {
			struct bls_signature agg;
			int rc = bls_aggregate_sigs_from_bytes(b, 1, &agg);
			cr_assert_eq(rc == 0, checked, "case %zu (%s) aggregate", i, kind);
		}
		free(b);
		n++;
	}
	cr_assert_eq(nsub, 7);
	json_decref(root);
	tu_report("bls unchecked deserialization_G2", n);
}

/* Random encodings: the two decoders agree on everything but the subgroup. */
Test(bls_unchecked, random_bytes_agree)
{
	uint64_t st = 0x1234567;
	size_t on_curve = 0;
	for (int it = 0; it < 400; it++) {
		uint8_t b[BLS_SIG_LEN];
		for (size_t j = 0; j < sizeof b; j++) {
			st = st * 6364136223846793005ULL + 1442695040888963407ULL;
			b[j] = (uint8_t)(st >> 56);
		}
		b[0] = (uint8_t)((b[0] & 0x0f) | (it & 1 ? 0x80 : 0xa0)); /* x < p */
		b[48] &= 0x0f;
		if (it % 50 == 0)
			b[0] ^= 0x80; /* no compression flag */
		struct bls_signature s, t;
		int checked = bls_sig_from_bytes(b, &s) == 0;
		int unchecked = bls_sig_from_bytes_unchecked(b, &t) == 0;
		g2a a;
		int curve = g2_decode_on_curve(&a, b, sizeof b) == 0;
		cr_assert_eq(unchecked, curve);
		cr_assert(!checked || unchecked);
		if (unchecked) {
			on_curve++;
			cr_assert_eq(checked, bls_sig_check_subgroup(&t) == 0);
			uint8_t enc[BLS_SIG_LEN];
			bls_sig_to_bytes(&t, enc);
			cr_assert(memcmp(enc, b, sizeof b) == 0);
		}
	}
	cr_assert_gt(on_curve, 100); /* about half of the x have a point */
}

Test(bls_unchecked, aggregate_from_bytes)
{
	enum { N = 40 };
	uint8_t msg[] = "vote";
	uint8_t *buf = malloc((N + 2) * BLS_SIG_LEN);
	struct bls_public_key pks[N];
	struct bls_signature sigs[N], want, got;
	for (int i = 0; i < N; i++) {
		uint8_t ikm[32] = {(uint8_t)i, 7};
		struct bls_secret_key sk;
		cr_assert_eq(bls_keygen(ikm, 32, NULL, 0, &sk), 0);
		bls_sk_to_pk(&sk, &pks[i]);
		bls_sign(&sk, msg, sizeof msg, &sigs[i]);
		bls_sig_to_bytes(&sigs[i], buf + i * BLS_SIG_LEN);
	}
	/* same result as decode-each + aggregate, across the 32-point chunks */
	for (size_t n = 1; n <= N; n += 13) {
		cr_assert_eq(bls_aggregate_sigs(sigs, n, &want), 0);
		cr_assert_eq(bls_aggregate_sigs_from_bytes(buf, n, &got), 0);
		cr_assert(bls_sig_equal(&want, &got));
		cr_assert_eq(bls_fast_aggregate_verify(pks, n, msg, sizeof msg, &got), 0);
	}
	cr_assert_eq(bls_aggregate_sigs_from_bytes(buf, 0, &got), -CN_EINVAL);

	/* one term outside G2 among honest ones: the sum is outside G2 too */
	uint8_t bad[BLS_SIG_LEN];
	non_subgroup_sig(1, bad);
	memcpy(buf + 17 * BLS_SIG_LEN, bad, BLS_SIG_LEN);
	cr_assert_eq(bls_aggregate_sigs_from_bytes(buf, N, &got), -CN_EINVAL);

	/* P and -P outside G2 cancel: the sum is the honest aggregate, in G2,
	 * and verifies; that is sound since only the sum is ever paired. */
	struct bls_signature p;
	cr_assert_eq(bls_sig_from_bytes_unchecked(bad, &p), 0);
	bls_sig_to_bytes(&sigs[17], buf + 17 * BLS_SIG_LEN);
	memcpy(buf + N * BLS_SIG_LEN, bad, BLS_SIG_LEN);
	memcpy(buf + (N + 1) * BLS_SIG_LEN, bad, BLS_SIG_LEN);
	buf[(N + 1) * BLS_SIG_LEN] ^= 0x20; /* the other root: -P */
	cr_assert_eq(bls_aggregate_sigs_from_bytes(buf, N + 2, &got), 0);
	cr_assert_eq(bls_aggregate_sigs(sigs, N, &want), 0);
	cr_assert(bls_sig_equal(&want, &got));

	/* a bad encoding anywhere fails the whole call */
	buf[5 * BLS_SIG_LEN] &= 0x7f;
	cr_assert_eq(bls_aggregate_sigs_from_bytes(buf, N, &got), -CN_EINVAL);

	/* the checked decoder and verify never accept the non-G2 point */
	struct bls_signature q;
	cr_assert_eq(bls_sig_from_bytes(bad, &q), -CN_EINVAL);
	cr_assert_eq(bls_sig_check_subgroup(&p), -CN_EINVAL);
	free(buf);
}

/* Uncompressed encodings (the form FBFT votes carry): the unchecked decoder
 * rejects what the checked one rejects except points outside G2. */
Test(bls_unchecked, uncompressed)
{
	uint8_t msg[] = "m", enc[BLS_SIG_UNCOMPRESSED_LEN], bad[BLS_SIG_LEN];
	struct bls_signature s, t, u;
	struct bls_secret_key sk;
	uint8_t ikm[32] = {3};
	cr_assert_eq(bls_keygen(ikm, 32, NULL, 0, &sk), 0);
	bls_sign(&sk, msg, sizeof msg, &s);
	bls_sig_to_bytes_uncompressed(&s, enc);
	cr_assert_eq(bls_sig_from_bytes_uncompressed(enc, &t), 0);
	cr_assert_eq(bls_sig_from_bytes_uncompressed_unchecked(enc, &u), 0);
	cr_assert(bls_sig_equal(&s, &t) && bls_sig_equal(&s, &u));

	/* every single-bit change: both reject, or (only) the subgroup differs */
	size_t rejected = 0;
	for (size_t bit = 0; bit < 8 * sizeof enc; bit += 3) {
		uint8_t e[BLS_SIG_UNCOMPRESSED_LEN];
		memcpy(e, enc, sizeof e);
		e[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		int checked = bls_sig_from_bytes_uncompressed(e, &t) == 0;
		int unchecked = bls_sig_from_bytes_uncompressed_unchecked(e, &u) == 0;
		cr_assert(!checked || unchecked);
		if (unchecked)
			cr_assert_eq(checked, bls_sig_check_subgroup(&u) == 0);
		rejected += !unchecked;
	}
	cr_assert_gt(rejected, 100); /* a changed x or y is off the curve */

	/* a point of E2 outside G2 */
	non_subgroup_sig(1, bad);
	cr_assert_eq(bls_sig_from_bytes_unchecked(bad, &u), 0);
	bls_sig_to_bytes_uncompressed(&u, enc);
	cr_assert_eq(bls_sig_from_bytes_uncompressed(enc, &t), -CN_EINVAL);
	cr_assert_eq(bls_sig_from_bytes_uncompressed_unchecked(enc, &t), 0);
	cr_assert(bls_sig_equal(&t, &u));
	cr_assert_eq(bls_aggregate_sigs_from_bytes_uncompressed(enc, 1, &t), -CN_EINVAL);

	/* flags: compressed flag set, or infinity with a nonzero body */
	bls_sig_to_bytes_uncompressed(&s, enc);
	enc[0] |= 0x80;
	cr_assert_eq(bls_sig_from_bytes_uncompressed_unchecked(enc, &t), -CN_EINVAL);
	enc[0] = (uint8_t)((enc[0] & 0x1f) | 0x40);
	cr_assert_eq(bls_sig_from_bytes_uncompressed_unchecked(enc, &t), -CN_EINVAL);
	memset(enc, 0, sizeof enc);
	enc[0] = 0x40;
	cr_assert_eq(bls_sig_from_bytes_uncompressed_unchecked(enc, &t), 0);
	cr_assert_eq(bls_sig_from_bytes_uncompressed(enc, &u), 0);
	cr_assert(bls_sig_equal(&t, &u));
	/* y >= p */
	bls_sig_to_bytes_uncompressed(&s, enc);
	memset(enc + 96, 0xff, 48);
	enc[96] &= 0x1f;
	cr_assert_eq(bls_sig_from_bytes_uncompressed_unchecked(enc, &t), -CN_EINVAL);
	cr_assert_eq(bls_sig_from_bytes_uncompressed(enc, &t), -CN_EINVAL);

	/* the uncompressed aggregate equals the compressed one */
	enum { N = 5 };
	uint8_t cbuf[N * BLS_SIG_LEN], ubuf[N * BLS_SIG_UNCOMPRESSED_LEN];
	for (int i = 0; i < N; i++) {
		ikm[1] = (uint8_t)i;
		cr_assert_eq(bls_keygen(ikm, 32, NULL, 0, &sk), 0);
		bls_sign(&sk, msg, sizeof msg, &s);
		bls_sig_to_bytes(&s, cbuf + i * BLS_SIG_LEN);
		bls_sig_to_bytes_uncompressed(&s, ubuf + i * BLS_SIG_UNCOMPRESSED_LEN);
	}
	cr_assert_eq(bls_aggregate_sigs_from_bytes(cbuf, N, &t), 0);
	cr_assert_eq(bls_aggregate_sigs_from_bytes_uncompressed(ubuf, N, &u), 0);
	cr_assert(bls_sig_equal(&t, &u));
	ubuf[2 * BLS_SIG_UNCOMPRESSED_LEN + 100] ^= 4;
	cr_assert_eq(bls_aggregate_sigs_from_bytes_uncompressed(ubuf, N, &u), -CN_EINVAL);
}
