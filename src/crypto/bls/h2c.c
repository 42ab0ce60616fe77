/* h2c.c — hashing to G2 per RFC 9380, suite BLS12381G2_XMD:SHA-256_SSWU_RO_:
 * expand_message_xmd (SHA-256, nettle), hash_to_field into Fp2, simplified
 * SWU on the 3-isogenous curve E2', the 3-isogeny to E2, and cofactor
 * clearing. Messages are public, so this file does not need to be constant
 * time. */
#include "crypto/bls/bls_int.h"
#include "crypto/bls/consts.h"

#include <nettle/sha2.h>
#include <string.h>

int bls_expand_message_xmd(uint8_t *out, size_t out_len, const uint8_t *msg, size_t msg_len,
                           const uint8_t *dst, size_t dst_len)
{
	uint8_t dst_hash[32], b0[32], bi[32], tmp[32], lib[2], z = 0, dlen;
	struct sha256_ctx h;
	size_t ell = (out_len + 31) / 32;
	if (ell > 255 || out_len > 65535 || out_len == 0)
		return -1;
	if (dst_len > 255) {
		static const char pre[] = "H2C-OVERSIZE-DST-";
		sha256_init(&h);
		sha256_update(&h, sizeof pre - 1, (const uint8_t *)pre);
		sha256_update(&h, dst_len, dst);
		sha256_digest(&h, 32, dst_hash);
		dst = dst_hash;
		dst_len = 32;
	}
	dlen = (uint8_t)dst_len;
	static const uint8_t zpad[64];
	lib[0] = (uint8_t)(out_len >> 8);
	lib[1] = (uint8_t)out_len;
	sha256_init(&h);
	sha256_update(&h, 64, zpad);
	sha256_update(&h, msg_len, msg);
	sha256_update(&h, 2, lib);
	sha256_update(&h, 1, &z);
	sha256_update(&h, dst_len, dst);
	sha256_update(&h, 1, &dlen);
	sha256_digest(&h, 32, b0);
	memset(bi, 0, sizeof bi);
	for (size_t i = 1; i <= ell; i++) {
		uint8_t ib = (uint8_t)i;
		for (int j = 0; j < 32; j++)
			tmp[j] = b0[j] ^ bi[j];
		sha256_init(&h);
		sha256_update(&h, 32, i == 1 ? b0 : tmp);
		sha256_update(&h, 1, &ib);
		sha256_update(&h, dst_len, dst);
		sha256_update(&h, 1, &dlen);
		sha256_digest(&h, 32, bi);
		size_t off = (i - 1) * 32, n = out_len - off < 32 ? out_len - off : 32;
		memcpy(out + off, bi, n);
	}
	return 0;
}

void bls_hash_to_field_fp2(fp2 u[2], const uint8_t *msg, size_t len, const uint8_t *dst,
                           size_t dst_len)
{
	uint8_t buf[256];
	bls_expand_message_xmd(buf, sizeof buf, msg, len, dst, dst_len);
	fp_from_be64(&u[0].c0, buf);
	fp_from_be64(&u[0].c1, buf + 64);
	fp_from_be64(&u[1].c0, buf + 128);
	fp_from_be64(&u[1].c1, buf + 192);
}

static const fp2 SSWU_A = BLS_SSWU_A, SSWU_B = BLS_SSWU_B, SSWU_Z = BLS_SSWU_Z;
static const fp2 SSWU_MB_OVER_A = BLS_SSWU_MB_OVER_A, SSWU_B_OVER_ZA = BLS_SSWU_B_OVER_ZA;
static const fp2 ISO_XNUM[4] = BLS_ISO_XNUM, ISO_XDEN[3] = BLS_ISO_XDEN;
static const fp2 ISO_YNUM[4] = BLS_ISO_YNUM, ISO_YDEN[4] = BLS_ISO_YDEN;

static void horner(fp2 *r, const fp2 *k, int n, const fp2 *x)
{
	fp2 acc = k[n - 1];
	for (int i = n - 2; i >= 0; i--) {
		fp2_mul(&acc, &acc, x);
		fp2_add(&acc, &acc, &k[i]);
	}
	*r = acc;
}

static void gx_eval(fp2 *r, const fp2 *x)
{
	fp2 t;
	fp2_sqr(&t, x);
	fp2_add(&t, &t, &SSWU_A);
	fp2_mul(&t, &t, x);
	fp2_add(r, &t, &SSWU_B);
}

/* Z^2 u^4 + Z u^2, the denominator of SSWU's x1 */
static void sswu_den(fp2 *den, fp2 *zu2, const fp2 *u)
{
	fp2 u2;
	fp2_sqr(&u2, u);
	fp2_mul(zu2, &SSWU_Z, &u2);
	fp2_sqr(den, zu2);
	fp2_add(den, den, zu2);
}

/* SSWU given 1/den (or zero when den is zero) and the isogeny. */
static void map_with_inv(g2p *r, const fp2 *u, const fp2 *zu2_in, const fp2 *den_inv)
{
	fp2 zu2 = *zu2_in, tv1, x1, x2, gx1, gx2, x, y;
	if (fp2_is_zero(den_inv)) {
		x1 = SSWU_B_OVER_ZA;
	} else {
		fp2_add(&tv1, den_inv, &FP2_ONE);
		fp2_mul(&x1, &SSWU_MB_OVER_A, &tv1);
	}
	gx_eval(&gx1, &x1);
	if (fp2_sqrt(&y, &gx1) == 0) {
		x = x1;
	} else {
		fp2_mul(&x2, &zu2, &x1);
		gx_eval(&gx2, &x2);
		x = x2;
		fp2_sqrt(&y, &gx2); /* gx1 or gx2 is a square by construction */
	}
	if (fp2_sgn0(u) != fp2_sgn0(&y))
		fp2_neg(&y, &y);
	/* 3-isogeny E2' -> E2, kept projective: X = xn yd, Y = y yn xd, Z = xd yd */
	fp2 xn, xd, yn, yd;
	horner(&xn, ISO_XNUM, 4, &x);
	horner(&xd, ISO_XDEN, 3, &x);
	horner(&yn, ISO_YNUM, 4, &x);
	horner(&yd, ISO_YDEN, 4, &x);
	fp2_mul(&r->x, &xn, &yd);
	fp2_mul(&r->y, &y, &yn);
	fp2_mul(&r->y, &r->y, &xd);
	fp2_mul(&r->z, &xd, &yd);
}

void bls_map_to_curve_g2(g2p *r, const fp2 *u)
{
	fp2 den, zu2;
	sswu_den(&den, &zu2, u);
	fp2_inv(&den, &den); /* zero stays zero */
	map_with_inv(r, u, &zu2, &den);
}

void bls_hash_to_g2(g2a *r, const uint8_t *msg, size_t len, const uint8_t *dst, size_t dst_len)
{
	fp2 u[2];
	g2p q0, q1;
	fp2 d0, d1, z0, z1, prod, i0, i1;
	bls_hash_to_field_fp2(u, msg, len, dst, dst_len);
	/* one inversion for both denominators (Montgomery's trick) */
	sswu_den(&d0, &z0, &u[0]);
	sswu_den(&d1, &z1, &u[1]);
	fp2_mul(&prod, &d0, &d1);
	if (fp2_is_zero(&prod)) {
		fp2_inv(&i0, &d0);
		fp2_inv(&i1, &d1);
	} else {
		fp2_inv(&prod, &prod);
		fp2_mul(&i0, &prod, &d1);
		fp2_mul(&i1, &prod, &d0);
	}
	map_with_inv(&q0, &u[0], &z0, &i0);
	map_with_inv(&q1, &u[1], &z1, &i1);
	g2_add(&q0, &q0, &q1);
	g2_clear_cofactor(&q0, &q0);
	g2_to_affine(r, &q0);
}
