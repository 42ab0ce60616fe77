/* bls_int.h — private interface between the files of the BLS12-381 module.
 *
 * Field towers: Fp (6 x 64-bit limbs, Montgomery form), Fp2 = Fp[u]/(u^2+1),
 * Fp6 = Fp2[v]/(v^3-(u+1)), Fp12 = Fp6[w]/(w^2-v). Points use homogeneous
 * projective coordinates with the complete formulas of Renes, Costello and
 * Batina, so adding never branches on the operands (which keeps secret-scalar
 * multiplication constant time and needs no special cases); functions named
 * *_vt are variable time and only for public data. */
#ifndef CANON_CRYPTO_BLS_INT_H
#define CANON_CRYPTO_BLS_INT_H

#include <stddef.h>
#include <stdint.h>

typedef struct { uint64_t l[6]; } fp;
typedef struct { fp c0, c1; } fp2;
typedef struct { fp2 c0, c1, c2; } fp6;
typedef struct { fp6 c0, c1; } fp12;

typedef struct { fp x, y, z; } g1p;     /* projective; identity is (0:1:0) */
typedef struct { fp x, y; int inf; } g1a;
typedef struct { fp2 x, y, z; } g2p;
typedef struct { fp2 x, y; int inf; } g2a;

extern const fp FP_ZERO, FP_ONE;
extern const fp2 FP2_ZERO, FP2_ONE;

/* ---- Fp ---- */
void fp_add(fp *r, const fp *a, const fp *b);
void fp_sub(fp *r, const fp *a, const fp *b);
void fp_neg(fp *r, const fp *a);
void fp_dbl(fp *r, const fp *a);
void fp_mul(fp *r, const fp *a, const fp *b);
void fp_sqr(fp *r, const fp *a);
void fp_inv(fp *r, const fp *a);           /* 0 -> 0; constant time */
void fp_pow(fp *r, const fp *a, const uint64_t e[6]);
int fp_sqrt(fp *r, const fp *a);           /* 0 if a is a square */
int fp_is_zero(const fp *a);
int fp_eq(const fp *a, const fp *b);
void fp_cmov(fp *r, const fp *a, uint64_t cond);   /* r = cond ? a : r */
void fp_from_mont(uint64_t out[6], const fp *a);
int fp_from_be(fp *r, const uint8_t in[48]);      /* -1 if >= p */
void fp_to_be(uint8_t out[48], const fp *a);
void fp_from_be64(fp *r, const uint8_t in[64]);   /* reduces mod p */
int fp_sgn0(const fp *a);
int fp_lexi_larger(const fp *a);                  /* a > (p-1)/2 */
void fp_set_u64(fp *r, uint64_t v);

/* Selects the MULX/ADX multiplication (on = 1, only if the CPU has it) or the
 * portable C one (on = 0); -1 just asks. Returns whether ADX was in use.
 * For tests; not thread safe. */
int bls_fp_use_adx(int on);

/* ---- Fp2 ---- */
void fp2_add(fp2 *r, const fp2 *a, const fp2 *b);
void fp2_sub(fp2 *r, const fp2 *a, const fp2 *b);
void fp2_neg(fp2 *r, const fp2 *a);
void fp2_dbl(fp2 *r, const fp2 *a);
void fp2_conj(fp2 *r, const fp2 *a);
void fp2_mul(fp2 *r, const fp2 *a, const fp2 *b);
void fp2_mul_fp(fp2 *r, const fp2 *a, const fp *b);
void fp2_sqr(fp2 *r, const fp2 *a);
void fp2_mul_xi(fp2 *r, const fp2 *a);      /* times (u+1) */
void fp2_inv(fp2 *r, const fp2 *a);
int fp2_sqrt(fp2 *r, const fp2 *a);         /* 0 if a is a square */
int fp2_is_square(const fp2 *a);
int fp2_is_zero(const fp2 *a);
int fp2_eq(const fp2 *a, const fp2 *b);
void fp2_cmov(fp2 *r, const fp2 *a, uint64_t cond);
int fp2_sgn0(const fp2 *a);
int fp2_lexi_larger(const fp2 *a);

/* ---- Fp6 / Fp12 ---- */
void fp6_add(fp6 *r, const fp6 *a, const fp6 *b);
void fp6_sub(fp6 *r, const fp6 *a, const fp6 *b);
void fp6_neg(fp6 *r, const fp6 *a);
void fp6_mul(fp6 *r, const fp6 *a, const fp6 *b);
void fp6_sqr(fp6 *r, const fp6 *a);
void fp6_mul_v(fp6 *r, const fp6 *a);
void fp6_inv(fp6 *r, const fp6 *a);
void fp12_one(fp12 *r);
int fp12_is_one(const fp12 *a);
int fp12_eq(const fp12 *a, const fp12 *b);
void fp12_mul(fp12 *r, const fp12 *a, const fp12 *b);
void fp12_sqr(fp12 *r, const fp12 *a);
void fp12_cyc_sqr(fp12 *r, const fp12 *a);  /* only for the cyclotomic subgroup */
void fp12_conj(fp12 *r, const fp12 *a);
void fp12_inv(fp12 *r, const fp12 *a);
void fp12_frob(fp12 *r, const fp12 *a);
void fp12_mul_014(fp12 *f, const fp2 *c0, const fp2 *c1, const fp2 *c4);

/* ---- curves ---- */
extern const g1a G1_GEN;
extern const g2a G2_GEN;
void g1_set_inf(g1p *r);
void g1_from_affine(g1p *r, const g1a *a);
void g1_to_affine(g1a *r, const g1p *a);
void g1_add(g1p *r, const g1p *a, const g1p *b);
void g1_dbl(g1p *r, const g1p *a);
void g1_neg(g1p *r, const g1p *a);
int g1_is_inf(const g1p *a);
int g1_eq(const g1p *a, const g1p *b);
void g1_mul_ct(g1p *r, const g1p *a, const uint64_t k[4]);
void g1_mul_vt(g1p *r, const g1p *a, const uint64_t *k, int nlimbs);
/* k P for P in G1 (not checked), constant time in k */
void g1_mul_ct_glv(g1p *r, const g1p *p, const uint64_t k[4]);
int g1a_on_curve(const g1a *a);
void g1_sum_affine_vt(g1p *r, const g1a *pts, size_t n);
void g1_msm64_vt(g1p *r, const g1p *pts, const uint64_t *k, size_t n);
void g1_batch_to_affine(g1a *out, const g1p *pts, size_t n, fp *scratch);
int g1_in_subgroup(const g1a *a);

void g2_set_inf(g2p *r);
void g2_from_affine(g2p *r, const g2a *a);
void g2_to_affine(g2a *r, const g2p *a);
void g2_add(g2p *r, const g2p *a, const g2p *b);
void g2_dbl(g2p *r, const g2p *a);
void g2_neg(g2p *r, const g2p *a);
int g2_is_inf(const g2p *a);
int g2_eq(const g2p *a, const g2p *b);
void g2_mul_ct(g2p *r, const g2p *a, const uint64_t k[4]);
void g2_mul_vt(g2p *r, const g2p *a, const uint64_t *k, int nlimbs);
void g2_psi(g2p *r, const g2p *a);
/* k P for P in G2 (not checked), constant time in k */
void g2_mul_ct_gls(g2p *r, const g2p *p, const uint64_t k[4]);
int g2a_on_curve(const g2a *a);
void g2_sum_affine_vt(g2p *r, const g2a *pts, size_t n);
void g2_msm64_vt(g2p *r, const g2p *pts, const uint64_t *k, size_t n);
void g2_batch_to_affine(g2a *out, const g2p *pts, size_t n, fp2 *scratch);
int g2_in_subgroup(const g2a *a);
void g2_clear_cofactor(g2p *r, const g2p *a);

/* Serialization (ZCash flags); decoding checks curve and subgroup. */
int g1_decode(g1a *r, const uint8_t *in, size_t len);   /* 48 or 96 bytes */
void g1_encode(uint8_t *out, const g1a *a, int compressed);
int g2_decode(g2a *r, const uint8_t *in, size_t len);   /* 96 or 192 bytes */
/* g2_decode without the subgroup check: flags, x < p, on E2 (a compressed x
 * with no y on the curve fails). For points only ever used in a sum that is
 * itself subgroup-checked. */
int g2_decode_on_curve(g2a *r, const uint8_t *in, size_t len);
void g2_encode(uint8_t *out, const g2a *a, int compressed);

/* ---- pairing ---- */
/* f = prod e'(P_i, Q_i) before the final exponentiation (identities skipped).
 * -1 only if n > 4 and memory runs out. */
int bls_miller_loop(fp12 *f, const g1a *ps, const g2a *qs, size_t n);
void bls_final_exp(fp12 *r, const fp12 *f);
void bls_pairing(fp12 *r, const g1a *p, const g2a *q);

/* ---- hashing ---- */
int bls_expand_message_xmd(uint8_t *out, size_t out_len, const uint8_t *msg, size_t msg_len,
                           const uint8_t *dst, size_t dst_len);
void bls_hash_to_field_fp2(fp2 u[2], const uint8_t *msg, size_t len, const uint8_t *dst,
                           size_t dst_len);
void bls_map_to_curve_g2(g2p *r, const fp2 *u);   /* SSWU + isogeny, no cofactor */
void bls_hash_to_g2(g2a *r, const uint8_t *msg, size_t len, const uint8_t *dst, size_t dst_len);

#endif
