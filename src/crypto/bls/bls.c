/* bls.c — the BLS signature scheme (ciphersuite
 * BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_) on top of the field, curve,
 * pairing and hash-to-curve code of this directory. */
#include "crypto/bls.h"
#include "crypto/bls/bls_int.h"
#include "crypto/bls/consts.h"
#include "base/bytes.h"
#include "base/err.h"

#include <nettle/hmac.h>
#include <nettle/sha2.h>
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(__has_include)
#if __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
#endif
#endif
/* A value derived from a secret that may be revealed (e.g. "the key is
 * zero"): tell valgrind's constant-time test that branching on it is fine. */
#ifdef VALGRIND_MAKE_MEM_DEFINED
#define DECLASSIFY(p, n) VALGRIND_MAKE_MEM_DEFINED((p), (n))
#else
#define DECLASSIFY(p, n) ((void)(p), (void)(n))
#endif

static const uint64_t R_LIMBS[4] = BLS_R_LIMBS_ARR;

/* ---- conversions between the public structs and the internal points ---- */

static void pk_in(g1a *a, const struct bls_public_key *pk)
{
	memcpy(a->x.l, pk->x, 48);
	memcpy(a->y.l, pk->y, 48);
	a->inf = pk->inf != 0;
}

static void pk_out(struct bls_public_key *pk, const g1a *a)
{
	memset(pk, 0, sizeof *pk);
	if (a->inf) {
		pk->inf = 1;
		return;
	}
	memcpy(pk->x, a->x.l, 48);
	memcpy(pk->y, a->y.l, 48);
}

static void sig_in(g2a *a, const struct bls_signature *s)
{
	memcpy(a->x.c0.l, s->x, 48);
	memcpy(a->x.c1.l, s->x + 6, 48);
	memcpy(a->y.c0.l, s->y, 48);
	memcpy(a->y.c1.l, s->y + 6, 48);
	a->inf = s->inf != 0;
}

static void sig_out(struct bls_signature *s, const g2a *a)
{
	memset(s, 0, sizeof *s);
	if (a->inf) {
		s->inf = 1;
		return;
	}
	memcpy(s->x, a->x.c0.l, 48);
	memcpy(s->x + 6, a->x.c1.l, 48);
	memcpy(s->y, a->y.c0.l, 48);
	memcpy(s->y + 6, a->y.c1.l, 48);
}

/* ---- scalars modulo r (constant time) ---- */

/* r = a - R_LIMBS if that does not borrow, else a (a < 2r). */
static void sc_reduce_once(uint64_t r[4], const uint64_t a[4])
{
	uint64_t d[4], borrow = 0;
	for (int i = 0; i < 4; i++) {
		unsigned __int128 t = (unsigned __int128)a[i] - R_LIMBS[i] - borrow;
		d[i] = (uint64_t)t;
		borrow = (uint64_t)(t >> 64) & 1;
	}
	uint64_t keep = 0 - borrow;
	for (int i = 0; i < 4; i++)
		r[i] = (a[i] & keep) | (d[i] & ~keep);
}

/* Big-endian bytes mod r, one bit at a time: acc < r < 2^255 so 2acc+1 fits. */
static void sc_from_be_mod(uint64_t out[4], const uint8_t *in, size_t len)
{
	uint64_t acc[4] = {0};
	for (size_t i = 0; i < len * 8; i++) {
		uint64_t bit = (in[i / 8] >> (7 - i % 8)) & 1;
		acc[3] = (acc[3] << 1) | (acc[2] >> 63);
		acc[2] = (acc[2] << 1) | (acc[1] >> 63);
		acc[1] = (acc[1] << 1) | (acc[0] >> 63);
		acc[0] = (acc[0] << 1) | bit;
		sc_reduce_once(acc, acc);
	}
	memcpy(out, acc, sizeof acc);
}

static uint64_t sc_is_zero(const uint64_t a[4])
{
	uint64_t x = a[0] | a[1] | a[2] | a[3];
	return ((x | (0 - x)) >> 63) ^ 1;
}

int bls_sk_from_bytes(const uint8_t in[BLS_SK_LEN], struct bls_secret_key *sk)
{
	uint64_t v[4], borrow = 0;
	for (int i = 0; i < 4; i++)
		v[i] = load_be64(in + 8 * (3 - i));
	for (int i = 0; i < 4; i++) {
		unsigned __int128 t = (unsigned __int128)v[i] - R_LIMBS[i] - borrow;
		borrow = (uint64_t)(t >> 64) & 1;
	}
	uint64_t ok = borrow & (sc_is_zero(v) ^ 1);
	DECLASSIFY(&ok, sizeof ok);
	if (!ok) {
		bytes_wipe(v, sizeof v);
		return -CN_EINVAL;
	}
	memcpy(sk->l, v, sizeof v);
	bytes_wipe(v, sizeof v);
	return 0;
}

void bls_sk_to_bytes(const struct bls_secret_key *sk, uint8_t out[BLS_SK_LEN])
{
	for (int i = 0; i < 4; i++)
		store_be64(out + 8 * (3 - i), sk->l[i]);
}

int bls_keygen(const uint8_t *ikm, size_t ikm_len, const uint8_t *key_info, size_t info_len,
               struct bls_secret_key *sk)
{
	static const char salt0[] = "BLS-SIG-KEYGEN-SALT-";
	uint8_t salt[32], prk[32], okm[64], zero = 0, lbytes[2] = {0, 48};
	struct hmac_sha256_ctx h;
	struct sha256_ctx s;
	uint64_t v[4];
	if (!ikm || ikm_len < 32 || (info_len && !key_info))
		return -CN_EINVAL;
	sha256_init(&s);
	sha256_update(&s, sizeof salt0 - 1, (const uint8_t *)salt0);
	sha256_digest(&s, 32, salt);
	for (;;) {
		/* HKDF-Extract(salt, IKM || 0x00) */
		hmac_sha256_set_key(&h, 32, salt);
		hmac_sha256_update(&h, ikm_len, ikm);
		hmac_sha256_update(&h, 1, &zero);
		hmac_sha256_digest(&h, 32, prk);
		/* HKDF-Expand(PRK, key_info || I2OSP(48, 2), 48): two blocks */
		hmac_sha256_set_key(&h, 32, prk);
		for (uint8_t i = 1; i <= 2; i++) {
			if (i == 2)
				hmac_sha256_update(&h, 32, okm);
			if (info_len)
				hmac_sha256_update(&h, info_len, key_info);
			hmac_sha256_update(&h, 2, lbytes);
			hmac_sha256_update(&h, 1, &i);
			hmac_sha256_digest(&h, 32, okm + 32 * (i - 1));
		}
		sc_from_be_mod(v, okm, 48);
		uint64_t z = sc_is_zero(v);
		DECLASSIFY(&z, sizeof z);
		if (!z)
			break;
		sha256_init(&s);
		sha256_update(&s, 32, salt);
		sha256_digest(&s, 32, salt);
	}
	memcpy(sk->l, v, sizeof v);
	bytes_wipe(v, sizeof v);
	bytes_wipe(prk, sizeof prk);
	bytes_wipe(okm, sizeof okm);
	bytes_wipe(&h, sizeof h);
	return 0;
}

void bls_sk_to_pk(const struct bls_secret_key *sk, struct bls_public_key *pk)
{
	g1p g, r;
	g1a a;
	g1_from_affine(&g, &G1_GEN);
	g1_mul_ct_glv(&r, &g, sk->l);
	g1_to_affine(&a, &r);
	DECLASSIFY(&a, sizeof a);
	pk_out(pk, &a);
}

/* ---- encodings ---- */

int bls_pk_from_bytes(const uint8_t in[BLS_PK_LEN], struct bls_public_key *pk)
{
	g1a a;
	if (g1_decode(&a, in, BLS_PK_LEN) || a.inf)
		return -CN_EINVAL;
	pk_out(pk, &a);
	return 0;
}

int bls_pk_from_bytes_uncompressed(const uint8_t in[BLS_PK_UNCOMPRESSED_LEN],
                                   struct bls_public_key *pk)
{
	g1a a;
	if (g1_decode(&a, in, BLS_PK_UNCOMPRESSED_LEN) || a.inf)
		return -CN_EINVAL;
	pk_out(pk, &a);
	return 0;
}

void bls_pk_to_bytes(const struct bls_public_key *pk, uint8_t out[BLS_PK_LEN])
{
	g1a a;
	pk_in(&a, pk);
	g1_encode(out, &a, 1);
}

void bls_pk_to_bytes_uncompressed(const struct bls_public_key *pk,
                                  uint8_t out[BLS_PK_UNCOMPRESSED_LEN])
{
	g1a a;
	pk_in(&a, pk);
	g1_encode(out, &a, 0);
}

int bls_pk_equal(const struct bls_public_key *a, const struct bls_public_key *b)
{
	if (a->inf || b->inf)
		return (a->inf != 0) == (b->inf != 0);
	return memcmp(a->x, b->x, 48) == 0 && memcmp(a->y, b->y, 48) == 0;
}

int bls_sig_from_bytes(const uint8_t in[BLS_SIG_LEN], struct bls_signature *sig)
{
	g2a a;
	if (g2_decode(&a, in, BLS_SIG_LEN))
		return -CN_EINVAL;
	sig_out(sig, &a);
	return 0;
}

int bls_sig_from_bytes_unchecked(const uint8_t in[BLS_SIG_LEN], struct bls_signature *sig)
{
	g2a a;
	if (g2_decode_on_curve(&a, in, BLS_SIG_LEN))
		return -CN_EINVAL;
	sig_out(sig, &a);
	return 0;
}

int bls_sig_from_bytes_uncompressed_unchecked(const uint8_t in[BLS_SIG_UNCOMPRESSED_LEN],
                                              struct bls_signature *sig)
{
	g2a a;
	if (g2_decode_on_curve(&a, in, BLS_SIG_UNCOMPRESSED_LEN))
		return -CN_EINVAL;
	sig_out(sig, &a);
	return 0;
}

int bls_sig_check_subgroup(const struct bls_signature *sig)
{
	g2a a;
	sig_in(&a, sig);
	return g2_in_subgroup(&a) ? 0 : -CN_EINVAL;
}

int bls_sig_from_bytes_uncompressed(const uint8_t in[BLS_SIG_UNCOMPRESSED_LEN],
                                    struct bls_signature *sig)
{
	g2a a;
	if (g2_decode(&a, in, BLS_SIG_UNCOMPRESSED_LEN))
		return -CN_EINVAL;
	sig_out(sig, &a);
	return 0;
}

void bls_sig_to_bytes(const struct bls_signature *sig, uint8_t out[BLS_SIG_LEN])
{
	g2a a;
	sig_in(&a, sig);
	g2_encode(out, &a, 1);
}

void bls_sig_to_bytes_uncompressed(const struct bls_signature *sig,
                                   uint8_t out[BLS_SIG_UNCOMPRESSED_LEN])
{
	g2a a;
	sig_in(&a, sig);
	g2_encode(out, &a, 0);
}

int bls_sig_equal(const struct bls_signature *a, const struct bls_signature *b)
{
	if (a->inf || b->inf)
		return (a->inf != 0) == (b->inf != 0);
	return memcmp(a->x, b->x, 96) == 0 && memcmp(a->y, b->y, 96) == 0;
}

/* ---- signing ---- */

static void sign_dst(const uint64_t k[4], const uint8_t *msg, size_t len, const char *dst,
                     struct bls_signature *sig)
{
	g2a h, a;
	g2p hp, r;
	bls_hash_to_g2(&h, msg, len, (const uint8_t *)dst, strlen(dst));
	g2_from_affine(&hp, &h);
	g2_mul_ct_gls(&r, &hp, k); /* H(m) is in G2 after cofactor clearing */
	g2_to_affine(&a, &r);
	DECLASSIFY(&a, sizeof a);
	sig_out(sig, &a);
}

void bls_sign(const struct bls_secret_key *sk, const uint8_t *msg, size_t len,
              struct bls_signature *sig)
{
	sign_dst(sk->l, msg, len, BLS_DST_SIG, sig);
}

int bls_sign_multi(const struct bls_secret_key *sks, size_t n, const uint8_t *msg, size_t len,
                   struct bls_signature *sig)
{
	uint64_t acc[4] = {0};
	if (n == 0)
		return -CN_EINVAL;
	/* sum(sk_i) H(m) = sum(sk_i H(m)): one scalar multiplication for all keys */
	for (size_t i = 0; i < n; i++) {
		uint64_t c = 0;
		for (int j = 0; j < 4; j++) {
			unsigned __int128 t = (unsigned __int128)acc[j] + sks[i].l[j] + c;
			acc[j] = (uint64_t)t;
			c = (uint64_t)(t >> 64);
		}
		sc_reduce_once(acc, acc);
	}
	sign_dst(acc, msg, len, BLS_DST_SIG, sig);
	bytes_wipe(acc, sizeof acc);
	return 0;
}

void bls_pop_prove(const struct bls_secret_key *sk, struct bls_signature *proof)
{
	struct bls_public_key pk;
	uint8_t enc[BLS_PK_LEN];
	bls_sk_to_pk(sk, &pk);
	bls_pk_to_bytes(&pk, enc);
	sign_dst(sk->l, enc, sizeof enc, BLS_DST_POP, proof);
}

/* ---- verification ---- */

static int pairing_check(const g1a *ps, const g2a *qs, size_t n)
{
	fp12 f, e;
	if (bls_miller_loop(&f, ps, qs, n))
		return -CN_ENOMEM;
	bls_final_exp(&e, &f);
	return fp12_is_one(&e) ? 0 : -CN_EVERIFY;
}

static void neg_g1(g1a *r)
{
	*r = G1_GEN;
	fp_neg(&r->y, &r->y);
}

static int verify_dst(const g1a *pk, const uint8_t *msg, size_t len, const char *dst,
                      const struct bls_signature *sig)
{
	g1a ps[2];
	g2a qs[2];
	if (pk->inf)
		return -CN_EVERIFY;
	ps[0] = *pk;
	bls_hash_to_g2(&qs[0], msg, len, (const uint8_t *)dst, strlen(dst));
	neg_g1(&ps[1]);
	sig_in(&qs[1], sig);
	return pairing_check(ps, qs, 2);
}

int bls_verify(const struct bls_public_key *pk, const uint8_t *msg, size_t len,
               const struct bls_signature *sig)
{
	g1a a;
	pk_in(&a, pk);
	return verify_dst(&a, msg, len, BLS_DST_SIG, sig);
}

int bls_pop_verify(const struct bls_public_key *pk, const struct bls_signature *proof)
{
	uint8_t enc[BLS_PK_LEN];
	g1a a;
	pk_in(&a, pk);
	if (a.inf)
		return -CN_EVERIFY;
	g1_encode(enc, &a, 1);
	return verify_dst(&a, enc, sizeof enc, BLS_DST_POP, proof);
}

int bls_aggregate_sigs(const struct bls_signature *sigs, size_t n, struct bls_signature *out)
{
	g2p acc, p;
	g2a a;
	if (n == 0)
		return -CN_EINVAL;
	g2a chunk[32];
	g2_set_inf(&acc);
	for (size_t i = 0; i < n; i += 32) {
		size_t m = n - i < 32 ? n - i : 32;
		for (size_t j = 0; j < m; j++)
			sig_in(&chunk[j], &sigs[i + j]);
		g2_sum_affine_vt(&p, chunk, m);
		g2_add(&acc, &acc, &p);
	}
	g2_to_affine(&a, &acc);
	sig_out(out, &a);
	return 0;
}

/* The draft's Aggregate does not subgroup-check its inputs; the check that
 * matters is the one CoreVerify makes on the value it pairs, so checking the
 * sum once here (and again when the aggregate is decoded for verification)
 * is as strong as checking every term, at 1/n of the cost. Points off the
 * curve are still rejected one by one: the addition formulas are only a
 * group law on E2. */
static int aggregate_from_bytes(const uint8_t *in, size_t n, size_t len, struct bls_signature *out)
{
	g2a chunk[32], a;
	g2p acc, p;
	if (n == 0)
		return -CN_EINVAL;
	g2_set_inf(&acc);
	for (size_t i = 0; i < n; i += 32) {
		size_t m = n - i < 32 ? n - i : 32;
		for (size_t j = 0; j < m; j++)
			if (g2_decode_on_curve(&chunk[j], in + (i + j) * len, len))
				return -CN_EINVAL;
		g2_sum_affine_vt(&p, chunk, m);
		g2_add(&acc, &acc, &p);
	}
	g2_to_affine(&a, &acc);
	if (!g2_in_subgroup(&a))
		return -CN_EINVAL;
	sig_out(out, &a);
	return 0;
}

int bls_aggregate_sigs_from_bytes(const uint8_t *in, size_t n, struct bls_signature *out)
{
	return aggregate_from_bytes(in, n, BLS_SIG_LEN, out);
}

int bls_aggregate_sigs_from_bytes_uncompressed(const uint8_t *in, size_t n, struct bls_signature *out)
{
	return aggregate_from_bytes(in, n, BLS_SIG_UNCOMPRESSED_LEN, out);
}

/* Public keys are public: sum them with variable-time mixed additions, in
 * chunks converted to the internal affine form on the stack. */
static void sum_pks(g1p *acc, const struct bls_public_key *pks, size_t n)
{
	g1a chunk[64];
	g1p part;
	g1_set_inf(acc);
	for (size_t i = 0; i < n; i += 64) {
		size_t m = n - i < 64 ? n - i : 64;
		for (size_t j = 0; j < m; j++)
			pk_in(&chunk[j], &pks[i + j]);
		g1_sum_affine_vt(&part, chunk, m);
		g1_add(acc, acc, &part);
	}
}

int bls_aggregate_pks(const struct bls_public_key *pks, size_t n, struct bls_public_key *out)
{
	g1p acc;
	g1a a;
	if (n == 0)
		return -CN_EINVAL;
	sum_pks(&acc, pks, n);
	g1_to_affine(&a, &acc);
	pk_out(out, &a);
	return 0;
}

int bls_fast_aggregate_verify(const struct bls_public_key *pks, size_t n, const uint8_t *msg,
                              size_t len, const struct bls_signature *sig)
{
	g1p acc;
	g1a a;
	if (n == 0)
		return -CN_EVERIFY;
	for (size_t i = 0; i < n; i++)
		if (pks[i].inf)
			return -CN_EVERIFY;
	sum_pks(&acc, pks, n);
	g1_to_affine(&a, &acc);
	return verify_dst(&a, msg, len, BLS_DST_SIG, sig);
}

struct msgref {
	const uint8_t *p;
	size_t len;
};

static int msgref_cmp(const void *a, const void *b)
{
	const struct msgref *x = a, *y = b;
	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	return x->len ? memcmp(x->p, y->p, x->len) : 0;
}

int bls_aggregate_verify(const struct bls_public_key *pks, const uint8_t *const *msgs,
                         const size_t *lens, size_t n, const struct bls_signature *sig)
{
	struct msgref *refs;
	g1a *ps;
	g2a *qs;
	int rc = -CN_EVERIFY;
	if (n == 0)
		return -CN_EVERIFY;
	if (n >= SIZE_MAX / sizeof *qs)
		return -CN_ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (pks[i].inf)
			return -CN_EVERIFY;
	refs = malloc(n * sizeof *refs);
	ps = malloc((n + 1) * sizeof *ps);
	qs = malloc((n + 1) * sizeof *qs);
	if (!refs || !ps || !qs) {
		rc = -CN_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		refs[i].p = msgs[i];
		refs[i].len = lens[i];
	}
	qsort(refs, n, sizeof *refs, msgref_cmp);
	for (size_t i = 1; i < n; i++)
		if (msgref_cmp(&refs[i - 1], &refs[i]) == 0)
			goto out; /* repeated message: the basic scheme forbids it */
	for (size_t i = 0; i < n; i++) {
		pk_in(&ps[i], &pks[i]);
		bls_hash_to_g2(&qs[i], msgs[i], lens[i], (const uint8_t *)BLS_DST_SIG,
		               sizeof BLS_DST_SIG - 1);
	}
	neg_g1(&ps[n]);
	sig_in(&qs[n], sig);
	rc = pairing_check(ps, qs, n + 1);
out:
	free(refs);
	free(ps);
	free(qs);
	return rc;
}

/* Random linear combination: prod e(r_i pk_i, H(m_i)) = e(g1, sum r_i sig_i)
 * holds for random 64-bit r_i only if every e(pk_i, H(m_i)) = e(g1, sig_i),
 * except with probability about 2^-64 per forged signature. */
int bls_batch_verify(const struct bls_batch_item *items, size_t n, const uint8_t *seed32)
{
	g1a *ps = NULL;
	g2a *qs = NULL;
	g1p *rp = NULL;
	g2p *sp = NULL;
	fp *scratch = NULL;
	uint64_t *r = NULL;
	g2p acc;
	int rc = -CN_EVERIFY;
	uint8_t seed[32];
	if (n == 0)
		return -CN_EVERIFY;
	if (n >= SIZE_MAX / sizeof *qs)
		return -CN_ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (items[i].pk->inf)
			return -CN_EVERIFY;
	if (seed32) {
		memcpy(seed, seed32, 32);
	} else {
		if (sodium_init() < 0)
			return -CN_EIO;
		randombytes_buf(seed, sizeof seed);
	}
	ps = malloc((n + 1) * sizeof *ps);
	qs = malloc((n + 1) * sizeof *qs);
	rp = malloc(n * sizeof *rp);
	sp = malloc(n * sizeof *sp);
	scratch = malloc(n * sizeof *scratch);
	r = malloc(n * sizeof *r);
	if (!ps || !qs || !rp || !sp || !scratch || !r) {
		rc = -CN_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		uint8_t ib[8], dig[32];
		struct sha256_ctx h;
		g1a a;
		g2a s;
		store_be64(ib, (uint64_t)i);
		sha256_init(&h);
		sha256_update(&h, 32, seed);
		sha256_update(&h, 8, ib);
		sha256_digest(&h, 32, dig);
		r[i] = load_be64(dig) | 1; /* nonzero */
		pk_in(&a, items[i].pk);
		g1_from_affine(&rp[i], &a);
		g1_mul_vt(&rp[i], &rp[i], &r[i], 1);
		bls_hash_to_g2(&qs[i], items[i].msg, items[i].msg_len, (const uint8_t *)BLS_DST_SIG,
		               sizeof BLS_DST_SIG - 1);
		sig_in(&s, items[i].sig);
		g2_from_affine(&sp[i], &s);
	}
	g1_batch_to_affine(ps, rp, n, scratch);
	g2_msm64_vt(&acc, sp, r, n);
	neg_g1(&ps[n]);
	g2_to_affine(&qs[n], &acc);
	rc = pairing_check(ps, qs, n + 1);
out:
	free(ps);
	free(qs);
	free(rp);
	free(sp);
	free(scratch);
	free(r);
	return rc;
}
