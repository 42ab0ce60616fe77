/* Algebraic properties of the BLS12-381 code: field and tower identities,
 * group laws, pairing bilinearity, aggregation, batch verification,
 * multi-key signing and encoding round trips. */
#include <criterion/criterion.h>
#include <string.h>

#include "base/err.h"
#include "crypto/bls.h"
#include "crypto/bls/bls_int.h"
#include "testutil.h"

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;
static uint64_t rnd(void)
{
	/* splitmix64: deterministic, good enough for test inputs */
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void rnd_fp(fp *a)
{
	uint8_t b[64];
	for (int i = 0; i < 8; i++)
		for (int j = 0; j < 8; j++)
			b[8 * i + j] = (uint8_t)(rnd() >> (8 * j));
	fp_from_be64(a, b);
}

static void rnd_fp12(fp12 *a)
{
	fp *l = &a->c0.c0.c0;
	for (int i = 0; i < 12; i++)
		rnd_fp(&l[i]);
}

static void rnd_sk(struct bls_secret_key *sk)
{
	uint8_t ikm[32];
	for (int i = 0; i < 32; i++)
		ikm[i] = (uint8_t)rnd();
	cr_assert_eq(bls_keygen(ikm, 32, NULL, 0, sk), 0);
}

Test(bls_props, field_identities)
{
	for (int it = 0; it < 50; it++) {
		fp a, b, c, t, u;
		rnd_fp(&a);
		rnd_fp(&b);
		rnd_fp(&c);
		/* distributivity and inverse */
		fp_add(&t, &a, &b);
		fp_mul(&t, &t, &c);
		fp_mul(&u, &a, &c);
		fp_mul(&c, &b, &c);
		fp_add(&u, &u, &c);
		cr_assert(fp_eq(&t, &u));
		fp_inv(&t, &a);
		fp_mul(&t, &t, &a);
		cr_assert(fp_eq(&t, &FP_ONE));
		fp_sqr(&t, &a);
		cr_assert_eq(fp_sqrt(&u, &t), 0);
		fp_sqr(&u, &u);
		cr_assert(fp_eq(&u, &t));
		/* Fp2 sqrt and inverse */
		fp2 x = {a, b}, y, z;
		fp2_sqr(&y, &x);
		cr_assert(fp2_is_square(&y));
		cr_assert_eq(fp2_sqrt(&z, &y), 0);
		fp2_sqr(&z, &z);
		cr_assert(fp2_eq(&z, &y));
		fp2_inv(&y, &x);
		fp2_mul(&y, &y, &x);
		cr_assert(fp2_eq(&y, &FP2_ONE));
	}
}

/* The assembly and C multiplications agree (when the CPU has ADX). */
Test(bls_props, adx_matches_c)
{
	int had = bls_fp_use_adx(-1);
	for (int it = 0; it < 200; it++) {
		fp a, b, x, y;
		fp2 p = {{{0}}, {{0}}}, q, r1, r2;
		rnd_fp(&a);
		rnd_fp(&b);
		if (it == 0) /* p - 1 squared: the largest inputs */
			fp_sub(&a, &FP_ZERO, &FP_ONE), b = a;
		p.c0 = a;
		p.c1 = b;
		q.c0 = b;
		q.c1 = a;
		bls_fp_use_adx(0);
		fp_mul(&x, &a, &b);
		fp2_mul(&r1, &p, &q);
		bls_fp_use_adx(1);
		fp_mul(&y, &a, &b);
		fp2_mul(&r2, &p, &q);
		cr_assert(fp_eq(&x, &y));
		cr_assert(fp2_eq(&r1, &r2));
	}
	bls_fp_use_adx(had);
}

Test(bls_props, fp12_tower)
{
	for (int it = 0; it < 10; it++) {
		fp12 a, b, t, u, v;
		rnd_fp12(&a);
		rnd_fp12(&b);
		fp12_sqr(&t, &a);
		fp12_mul(&u, &a, &a);
		cr_assert(fp12_eq(&t, &u));
		fp12_inv(&t, &a);
		fp12_mul(&t, &t, &a);
		cr_assert(fp12_is_one(&t));
		/* Frobenius is a ring homomorphism and has order 12 */
		fp12_mul(&t, &a, &b);
		fp12_frob(&t, &t);
		fp12_frob(&u, &a);
		fp12_frob(&v, &b);
		fp12_mul(&u, &u, &v);
		cr_assert(fp12_eq(&t, &u));
		t = a;
		for (int k = 0; k < 12; k++)
			fp12_frob(&t, &t);
		cr_assert(fp12_eq(&t, &a));
		/* cyclotomic squaring agrees with squaring on a^((p^6-1)(p^2+1)) */
		fp12_conj(&t, &a);
		fp12_inv(&u, &a);
		fp12_mul(&t, &t, &u);
		fp12_frob(&u, &t);
		fp12_frob(&u, &u);
		fp12_mul(&t, &t, &u);
		fp12_sqr(&u, &t);
		fp12_cyc_sqr(&v, &t);
		cr_assert(fp12_eq(&u, &v));
	}
}

Test(bls_props, group_laws)
{
	g1p g, a, b, t, u;
	g2p h, c, d, x, y;
	g1_from_affine(&g, &G1_GEN);
	g2_from_affine(&h, &G2_GEN);
	uint64_t k1[4] = {rnd(), rnd(), rnd(), rnd() >> 2}, k2[4] = {rnd(), rnd(), rnd(), rnd() >> 2};
	g1_mul_ct(&a, &g, k1);
	g1_mul_vt(&b, &g, k1, 4);
	cr_assert(g1_eq(&a, &b));
	g2_mul_ct(&c, &h, k2);
	g2_mul_vt(&d, &h, k2, 4);
	cr_assert(g2_eq(&c, &d));
	/* the psi-based (GLS) multiplication agrees, also for scalars near r */
	for (int it = 0; it < 6; it++) {
		uint64_t k[4] = {rnd(), rnd(), rnd(), rnd() & 0x73eda753299d7d47ULL};
		if (it == 0) {
			k[0] = 0xffffffff00000000ULL; k[1] = 0x53bda402fffe5bfeULL;
			k[2] = 0x3339d80809a1d805ULL; k[3] = 0x73eda753299d7d48ULL; /* r - 1 */
		}
		g1_mul_ct_glv(&t, &a, k);
		g1_mul_vt(&u, &a, k, 4);
		cr_assert(g1_eq(&t, &u), "glv %d", it);
		g2_mul_ct_gls(&x, &d, k);
		g2_mul_vt(&y, &d, k, 4);
		cr_assert(g2_eq(&x, &y), "gls %d", it);
	}
	/* P + P = 2P, P - P = O, commutativity */
	g1_add(&t, &a, &a);
	g1_dbl(&u, &a);
	cr_assert(g1_eq(&t, &u));
	g1_neg(&t, &a);
	g1_add(&t, &t, &a);
	cr_assert(g1_is_inf(&t));
	g2_add(&x, &c, &h);
	g2_add(&y, &h, &c);
	cr_assert(g2_eq(&x, &y));
	g2_neg(&x, &c);
	g2_add(&x, &x, &c);
	cr_assert(g2_is_inf(&x));
	/* r P = O */
	static const uint64_t r[4] = {0xffffffff00000001ULL, 0x53bda402fffe5bfeULL,
	                              0x3339d80809a1d805ULL, 0x73eda753299d7d48ULL};
	g1_mul_vt(&t, &a, r, 4);
	cr_assert(g1_is_inf(&t));
	g2_mul_vt(&x, &c, r, 4);
	cr_assert(g2_is_inf(&x));
	/* multi-scalar multiplication and batch affine conversion */
	for (size_t n = 1; n <= 40; n += 13) {
		g1p pts1[40], want1, got1, t1;
		g2p pts2[40], want2, got2, t2;
		uint64_t ks[40];
		g1a aff[40];
		fp scratch[40];
		g1_set_inf(&want1);
		g2_set_inf(&want2);
		for (size_t i = 0; i < n; i++) {
			uint64_t e = rnd();
			ks[i] = i == 1 ? 0 : rnd();
			g1_mul_vt(&pts1[i], &g, &e, 1);
			g2_mul_vt(&pts2[i], &h, &e, 1);
			if (i == 2)
				g1_set_inf(&pts1[i]);
			g1_mul_vt(&t1, &pts1[i], &ks[i], 1);
			g1_add(&want1, &want1, &t1);
			g2_mul_vt(&t2, &pts2[i], &ks[i], 1);
			g2_add(&want2, &want2, &t2);
		}
		g1_msm64_vt(&got1, pts1, ks, n);
		g2_msm64_vt(&got2, pts2, ks, n);
		cr_assert(g1_eq(&got1, &want1), "g1 msm n=%zu", n);
		cr_assert(g2_eq(&got2, &want2), "g2 msm n=%zu", n);
		g1_batch_to_affine(aff, pts1, n, scratch);
		for (size_t i = 0; i < n; i++) {
			g1p back;
			g1_from_affine(&back, &aff[i]);
			cr_assert(g1_eq(&back, &pts1[i]));
		}
	}
	/* sums of affine points, with repeats, negations and the identity */
	{
		g1a pa[9];
		g2a qa[9];
		g1p w1, s1, tp;
		g2p w2, s2, tq;
		g1_set_inf(&w1);
		g2_set_inf(&w2);
		for (int i = 0; i < 9; i++) {
			uint64_t e = rnd();
			g1_mul_vt(&tp, &g, &e, 1);
			g2_mul_vt(&tq, &h, &e, 1);
			if (i == 3) { g1_neg(&tp, &tp); g2_neg(&tq, &tq); }
			if (i == 4) { g1_set_inf(&tp); g2_set_inf(&tq); }
			g1_to_affine(&pa[i], &tp);
			g2_to_affine(&qa[i], &tq);
			if (i == 5) { pa[5] = pa[2]; qa[5] = qa[2]; }     /* doubling case */
			if (i == 6) {                                      /* cancels pa[1] */
				pa[6] = pa[1]; fp_neg(&pa[6].y, &pa[6].y);
				qa[6] = qa[1]; fp2_neg(&qa[6].y, &qa[6].y);
			}
			g1_from_affine(&tp, &pa[i]);
			g2_from_affine(&tq, &qa[i]);
			g1_add(&w1, &w1, &tp);
			g2_add(&w2, &w2, &tq);
		}
		g1_sum_affine_vt(&s1, pa, 9);
		g2_sum_affine_vt(&s2, qa, 9);
		cr_assert(g1_eq(&s1, &w1));
		cr_assert(g2_eq(&s2, &w2));
		g1_sum_affine_vt(&s1, pa + 1, 1);
		g1_from_affine(&tp, &pa[1]);
		cr_assert(g1_eq(&s1, &tp));
		pa[7] = pa[0]; fp_neg(&pa[7].y, &pa[7].y);
		g1a two[2] = {pa[0], pa[7]};
		g1_sum_affine_vt(&s1, two, 2);
		cr_assert(g1_is_inf(&s1));
	}
	/* affine round trip, curve and subgroup membership */
	g1a aa;
	g2a ca;
	g1_to_affine(&aa, &a);
	g2_to_affine(&ca, &c);
	cr_assert(g1a_on_curve(&aa) && g1_in_subgroup(&aa));
	cr_assert(g2a_on_curve(&ca) && g2_in_subgroup(&ca));
}

Test(bls_props, bilinearity)
{
	g1p g, pa;
	g2p h, qb;
	g1a P, aP;
	g2a Q, bQ;
	fp12 e1, e2, t;
	uint64_t a = rnd(), b = rnd(), ab[2];
	unsigned __int128 prod = (unsigned __int128)a * b;
	ab[0] = (uint64_t)prod;
	ab[1] = (uint64_t)(prod >> 64);
	g1_from_affine(&g, &G1_GEN);
	g2_from_affine(&h, &G2_GEN);
	g1_to_affine(&P, &g);
	g2_to_affine(&Q, &h);
	g1_mul_vt(&pa, &g, &a, 1);
	g2_mul_vt(&qb, &h, &b, 1);
	g1_to_affine(&aP, &pa);
	g2_to_affine(&bQ, &qb);
	bls_pairing(&e1, &aP, &bQ);
	bls_pairing(&e2, &P, &Q);
	cr_assert(!fp12_is_one(&e2), "pairing is degenerate");
	/* e(P,Q)^(ab) */
	t = e2;
	fp12_one(&e2);
	for (int i = 127; i >= 0; i--) {
		fp12_sqr(&e2, &e2);
		if ((ab[i / 64] >> (i % 64)) & 1)
			fp12_mul(&e2, &e2, &t);
	}
	cr_assert(fp12_eq(&e1, &e2));
	/* multi-pairing: e(aP, bQ) e(-abP, Q) = 1 */
	g1a ps[2] = {aP, P};
	g2a qs[2] = {bQ, Q};
	g1p m;
	g1_mul_vt(&m, &g, ab, 2);
	g1_neg(&m, &m);
	g1_to_affine(&ps[1], &m);
	fp12 f;
	bls_miller_loop(&f, ps, qs, 2);
	bls_final_exp(&f, &f);
	cr_assert(fp12_is_one(&f));
}

Test(bls_props, sign_aggregate_batch)
{
	enum { N = 6 };
	struct bls_secret_key sk[N];
	struct bls_public_key pk[N], apk;
	struct bls_signature sig[N], agg, multi, same[N];
	uint8_t msgs[N][32];
	const uint8_t *mp[N];
	size_t lens[N];
	struct bls_batch_item items[N];
	for (int i = 0; i < N; i++) {
		rnd_sk(&sk[i]);
		bls_sk_to_pk(&sk[i], &pk[i]);
		for (int j = 0; j < 32; j++)
			msgs[i][j] = (uint8_t)rnd();
		mp[i] = msgs[i];
		lens[i] = 32;
		bls_sign(&sk[i], msgs[i], 32, &sig[i]);
		cr_assert_eq(bls_verify(&pk[i], msgs[i], 32, &sig[i]), 0);
		cr_assert_eq(bls_verify(&pk[i], msgs[(i + 1) % N], 32, &sig[i]), -CN_EVERIFY);
		items[i] = (struct bls_batch_item){&pk[i], msgs[i], 32, &sig[i]};
		bls_sign(&sk[i], msgs[0], 32, &same[i]);
	}
	/* aggregate of distinct messages */
	cr_assert_eq(bls_aggregate_sigs(sig, N, &agg), 0);
	cr_assert_eq(bls_aggregate_verify(pk, mp, lens, N, &agg), 0);
	/* same message: FastAggregateVerify and multi-key signing */
	cr_assert_eq(bls_aggregate_sigs(same, N, &agg), 0);
	cr_assert_eq(bls_fast_aggregate_verify(pk, N, msgs[0], 32, &agg), 0);
	cr_assert_eq(bls_fast_aggregate_verify(pk, N - 1, msgs[0], 32, &agg), -CN_EVERIFY);
	cr_assert_eq(bls_sign_multi(sk, N, msgs[0], 32, &multi), 0);
	cr_assert(bls_sig_equal(&multi, &agg));
	cr_assert_eq(bls_aggregate_pks(pk, N, &apk), 0);
	cr_assert_eq(bls_verify(&apk, msgs[0], 32, &multi), 0);
	/* aggregation is order independent */
	struct bls_signature rev[N], agg2;
	for (int i = 0; i < N; i++)
		rev[i] = same[N - 1 - i];
	cr_assert_eq(bls_aggregate_sigs(rev, N, &agg2), 0);
	cr_assert(bls_sig_equal(&agg2, &agg));
	/* batch: all good, then one bad signature */
	uint8_t seed[32] = {1, 2, 3};
	cr_assert_eq(bls_batch_verify(items, N, seed), 0);
	cr_assert_eq(bls_batch_verify(items, N, NULL), 0);
	items[3].sig = &sig[2];
	cr_assert_eq(bls_batch_verify(items, N, seed), -CN_EVERIFY);
	cr_assert_eq(bls_batch_verify(items, N, NULL), -CN_EVERIFY);
	/* proofs of possession */
	struct bls_signature proof;
	bls_pop_prove(&sk[0], &proof);
	cr_assert_eq(bls_pop_verify(&pk[0], &proof), 0);
	cr_assert_eq(bls_pop_verify(&pk[1], &proof), -CN_EVERIFY);
}

Test(bls_props, encoding_round_trips)
{
	for (int it = 0; it < 8; it++) {
		struct bls_secret_key sk, sk2;
		struct bls_public_key pk, pk2;
		struct bls_signature sig, sig2;
		uint8_t b[BLS_SIG_UNCOMPRESSED_LEN], m = (uint8_t)it;
		rnd_sk(&sk);
		bls_sk_to_bytes(&sk, b);
		cr_assert_eq(bls_sk_from_bytes(b, &sk2), 0);
		cr_assert(memcmp(&sk, &sk2, sizeof sk) == 0);
		bls_sk_to_pk(&sk, &pk);
		bls_pk_to_bytes(&pk, b);
		cr_assert_eq(bls_pk_from_bytes(b, &pk2), 0);
		cr_assert(bls_pk_equal(&pk, &pk2));
		bls_pk_to_bytes_uncompressed(&pk, b);
		cr_assert_eq(bls_pk_from_bytes_uncompressed(b, &pk2), 0);
		cr_assert(bls_pk_equal(&pk, &pk2));
		b[95] ^= 1; /* off the curve */
		cr_assert_neq(bls_pk_from_bytes_uncompressed(b, &pk2), 0);
		bls_sign(&sk, &m, 1, &sig);
		bls_sig_to_bytes(&sig, b);
		cr_assert_eq(bls_sig_from_bytes(b, &sig2), 0);
		cr_assert(bls_sig_equal(&sig, &sig2));
		bls_sig_to_bytes_uncompressed(&sig, b);
		cr_assert_eq(bls_sig_from_bytes_uncompressed(b, &sig2), 0);
		cr_assert(bls_sig_equal(&sig, &sig2));
		b[191] ^= 1;
		cr_assert_neq(bls_sig_from_bytes_uncompressed(b, &sig2), 0);
	}
	/* scalar range: 0 and r are rejected, r-1 accepted */
	uint8_t z[32] = {0};
	struct bls_secret_key sk;
	cr_assert_neq(bls_sk_from_bytes(z, &sk), 0);
	static const uint8_t r[32] = {0x73, 0xed, 0xa7, 0x53, 0x29, 0x9d, 0x7d, 0x48, 0x33, 0x39, 0xd8,
	                              0x08, 0x09, 0xa1, 0xd8, 0x05, 0x53, 0xbd, 0xa4, 0x02, 0xff, 0xfe,
	                              0x5b, 0xfe, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x01};
	cr_assert_neq(bls_sk_from_bytes(r, &sk), 0);
	uint8_t rm1[32];
	memcpy(rm1, r, 32);
	rm1[31] = 0;
	cr_assert_eq(bls_sk_from_bytes(rm1, &sk), 0);
	/* short IKM */
	cr_assert_eq(bls_keygen(z, 31, NULL, 0, &sk), -CN_EINVAL);
	/* empty inputs */
	struct bls_signature s;
	struct bls_public_key p;
	cr_assert_eq(bls_aggregate_sigs(&s, 0, &s), -CN_EINVAL);
	cr_assert_eq(bls_aggregate_pks(&p, 0, &p), -CN_EINVAL);
	cr_assert_eq(bls_sign_multi(&sk, 0, z, 1, &s), -CN_EINVAL);
}
