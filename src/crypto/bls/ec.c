/* ec.c — G1 and G2: group law, scalar multiplication, endomorphisms,
 * subgroup checks, cofactor clearing and the ZCash point encodings. */
#include "crypto/bls/bls_int.h"
#include "crypto/bls/consts.h"

#include <string.h>

/* |x| for the curve parameter x = -0xd201000000010000 */
static const uint64_t X_ABS[1] = {0xd201000000010000ULL};

const g1a G1_GEN = {BLS_G1X, BLS_G1Y, 0};
const g2a G2_GEN = {BLS_G2X, BLS_G2Y, 0};

/* ---- G1 ---- */
static void g1_mul_b3(fp *r, const fp *a)
{
	fp t;
	fp_dbl(&t, a);          /* 2a */
	fp_add(&t, &t, a);      /* 3a */
	fp_dbl(&t, &t);         /* 6a */
	fp_dbl(r, &t);          /* 12a */
}
static void g1_b(fp *b) { fp_set_u64(b, 4); }

#define FE fp
#define PT g1p
#define PA g1a
#define PFX(n) g1_##n
#define FE_ZERO FP_ZERO
#define FE_ONE FP_ONE
#define FE_ADD fp_add
#define FE_SUB fp_sub
#define FE_NEG fp_neg
#define FE_MUL fp_mul
#define FE_SQR fp_sqr
#define FE_INV fp_inv
#define FE_EQ fp_eq
#define FE_IS_ZERO fp_is_zero
#define FE_CMOV fp_cmov
#define MUL_B3 g1_mul_b3
#define CURVE_B g1_b
#define g1_a_on_curve g1a_on_curve
#include "crypto/bls/ec_tmpl.h"
#undef g1_a_on_curve
#undef FE
#undef PT
#undef PA
#undef PFX
#undef FE_ZERO
#undef FE_ONE
#undef FE_ADD
#undef FE_SUB
#undef FE_NEG
#undef FE_MUL
#undef FE_SQR
#undef FE_INV
#undef FE_EQ
#undef FE_IS_ZERO
#undef FE_CMOV
#undef MUL_B3
#undef CURVE_B

/* ---- G2 ---- */
static void g2_mul_b3(fp2 *r, const fp2 *a)
{
	fp2 t;
	fp2_dbl(&t, a);
	fp2_add(&t, &t, a);
	fp2_dbl(&t, &t);
	fp2_dbl(&t, &t);        /* 12a */
	fp2_mul_xi(r, &t);      /* 12(1+u)a */
}
static void g2_b(fp2 *b)
{
	fp_set_u64(&b->c0, 4);
	b->c1 = b->c0;
}

#define FE fp2
#define PT g2p
#define PA g2a
#define PFX(n) g2_##n
#define FE_ZERO FP2_ZERO
#define FE_ONE FP2_ONE
#define FE_ADD fp2_add
#define FE_SUB fp2_sub
#define FE_NEG fp2_neg
#define FE_MUL fp2_mul
#define FE_SQR fp2_sqr
#define FE_INV fp2_inv
#define FE_EQ fp2_eq
#define FE_IS_ZERO fp2_is_zero
#define FE_CMOV fp2_cmov
#define MUL_B3 g2_mul_b3
#define CURVE_B g2_b
#define g2_a_on_curve g2a_on_curve
#include "crypto/bls/ec_tmpl.h"
#undef g2_a_on_curve

/* ---- endomorphisms and subgroups ---- */

static const fp BETA = BLS_BETA;
static const fp2 PSI_X = BLS_PSI_X;
static const fp2 PSI_Y = BLS_PSI_Y;

/* Scott, "A note on group membership tests for G1, G2 and GT on BLS
 * pairing-friendly curves" (2021): P is in G1 iff phi(P) = -x^2 P, with
 * phi(x, y) = (beta x, y) for the right cube root of unity beta. */
int g1_in_subgroup(const g1a *a)
{
	g1p p, q, phi;
	if (a->inf)
		return 1;
	g1_from_affine(&p, a);
	g1_mul_vt(&q, &p, X_ABS, 1);
	g1_mul_vt(&q, &q, X_ABS, 1);
	fp_mul(&phi.x, &a->x, &BETA);
	fp_neg(&phi.y, &a->y);
	phi.z = FP_ONE;
	return g1_eq(&q, &phi);
}

/* psi = twist o Frobenius o untwist */
void g2_psi(g2p *r, const g2p *a)
{
	fp2 t;
	fp2_conj(&t, &a->x);
	fp2_mul(&r->x, &t, &PSI_X);
	fp2_conj(&t, &a->y);
	fp2_mul(&r->y, &t, &PSI_Y);
	fp2_conj(&r->z, &a->z);
}

static void g2_mul_x(g2p *r, const g2p *a)
{
	g2_mul_vt(r, a, X_ABS, 1);
	g2_neg(r, r);
}

/* k = q |x| + rem for a 256-bit k, by restoring binary division with masks
 * instead of branches or the (variable-time) div instruction. */
static void div_x_ct(uint64_t q[4], uint64_t *rem, const uint64_t k[4])
{
	unsigned __int128 r = 0;
	uint64_t out[4] = {0};
	for (int i = 255; i >= 0; i--) {
		r = (r << 1) | ((k[i / 64] >> (i % 64)) & 1);
		unsigned __int128 d = r - X_ABS[0];
		uint64_t ge = (uint64_t)(d >> 127) ^ 1; /* r >= |x| (r < 2^65) */
		unsigned __int128 m = (unsigned __int128)0 - ge;
		r = (r & ~m) | (d & m);
		out[i / 64] |= ge << (i % 64);
	}
	memcpy(q, out, sizeof out);
	*rem = (uint64_t)r;
}

/* Constant-time k P for P in G2 through psi (GLS): with k written in base
 * |x| as d0 + d1 |x| + d2 |x|^2 + d3 |x|^3 (k < r < |x|^4) and
 * |x| P = -psi(P) on G2, k P is a 4-way sum with 64-bit scalars, so one
 * doubling per bit of d_i instead of per bit of k. */
void g2_mul_ct_gls(g2p *r, const g2p *p, const uint64_t k[4])
{
	uint64_t d[4], q[4], t[4];
	g2p base[4], tab[16], acc, sel;
	memcpy(t, k, sizeof t);
	for (int i = 0; i < 3; i++) {
		div_x_ct(q, &d[i], t);
		memcpy(t, q, sizeof t);
	}
	d[3] = t[0]; /* < |x| because k < |x|^4 */
	base[0] = *p;
	g2_psi(&base[1], p);
	g2_psi(&base[2], &base[1]);
	g2_psi(&base[3], &base[2]);
	g2_neg(&base[1], &base[1]);
	g2_neg(&base[3], &base[3]);
	g2_set_inf(&tab[0]);
	for (int i = 0; i < 4; i++) {
		int b = 1 << i;
		tab[b] = base[i];
		for (int j = 1; j < b; j++)
			g2_add(&tab[b + j], &tab[j], &base[i]);
	}
	g2_set_inf(&acc);
	for (int bit = 63; bit >= 0; bit--) {
		uint64_t m = ((d[0] >> bit) & 1) | (((d[1] >> bit) & 1) << 1) |
		             (((d[2] >> bit) & 1) << 2) | (((d[3] >> bit) & 1) << 3);
		g2_dbl(&acc, &acc);
		sel = tab[0];
		for (uint64_t i = 1; i < 16; i++)
			g2_cmov(&sel, &tab[i], ((i ^ m) - 1) >> 63);
		g2_add(&acc, &acc, &sel);
	}
	*r = acc;
	memset(d, 0, sizeof d);
	memset(t, 0, sizeof t);
}

/* Constant-time k P for P in G1 with the GLV endomorphism phi (phi(P) =
 * -x^2 P on G1): k = a + b x^2 with a, b < x^2 (from the base-|x| digits),
 * so k P = a P - b phi(P), two 128-bit scalars sharing one doubling chain. */
void g1_mul_ct_glv(g1p *r, const g1p *p, const uint64_t k[4])
{
	uint64_t d[4], q[4], t[4], a[2], b[2];
	g1p base[2], tab[16], acc, sel;
	memcpy(t, k, sizeof t);
	for (int i = 0; i < 3; i++) {
		div_x_ct(q, &d[i], t);
		memcpy(t, q, sizeof t);
	}
	d[3] = t[0];
	/* a = d0 + d1 |x|, b = d2 + d3 |x| (each < x^2 < 2^128) */
	unsigned __int128 m = (unsigned __int128)d[1] * X_ABS[0] + d[0];
	a[0] = (uint64_t)m;
	a[1] = (uint64_t)(m >> 64);
	m = (unsigned __int128)d[3] * X_ABS[0] + d[2];
	b[0] = (uint64_t)m;
	b[1] = (uint64_t)(m >> 64);
	base[0] = *p;
	fp_mul(&base[1].x, &p->x, &BETA);
	base[1].y = p->y;              /* phi(P), then negated */
	base[1].z = p->z;
	g1_neg(&base[1], &base[1]);
	/* tab[i + 4j] = i P + j (-phi(P)) for 2-bit digits i, j */
	g1_set_inf(&tab[0]);
	for (int i = 1; i < 4; i++)
		g1_add(&tab[i], &tab[i - 1], &base[0]);
	for (int j = 1; j < 4; j++)
		for (int i = 0; i < 4; i++)
			g1_add(&tab[i + 4 * j], &tab[i + 4 * (j - 1)], &base[1]);
	g1_set_inf(&acc);
	for (int w = 63; w >= 0; w--) {
		uint64_t ia = (a[w / 32] >> (2 * (w % 32))) & 3, ib = (b[w / 32] >> (2 * (w % 32))) & 3;
		uint64_t idx = ia | (ib << 2);
		g1_dbl(&acc, &acc);
		g1_dbl(&acc, &acc);
		sel = tab[0];
		for (uint64_t i = 1; i < 16; i++)
			g1_cmov(&sel, &tab[i], ((i ^ idx) - 1) >> 63);
		g1_add(&acc, &acc, &sel);
	}
	*r = acc;
	memset(d, 0, sizeof d);
	memset(t, 0, sizeof t);
	memset(a, 0, sizeof a);
	memset(b, 0, sizeof b);
}

/* Same paper: P is in G2 iff psi(P) = x P. */
int g2_in_subgroup(const g2a *a)
{
	g2p p, l, rr;
	if (a->inf)
		return 1;
	g2_from_affine(&p, a);
	g2_psi(&l, &p);
	g2_mul_x(&rr, &p);
	return g2_eq(&l, &rr);
}

/* Budroni-Pintore: h_eff P = [x^2-x-1]P + [x-1]psi(P) + psi^2(2P), in the
 * order of RFC 9380 appendix G.3. */
void g2_clear_cofactor(g2p *r, const g2p *p)
{
	g2p t1, t2, t3;
	g2_mul_x(&t1, p);
	g2_psi(&t2, p);
	g2_dbl(&t3, p);
	g2_psi(&t3, &t3);
	g2_psi(&t3, &t3);
	g2_neg(&t2, &t2);
	g2_add(&t3, &t3, &t2);
	g2_neg(&t2, &t2);
	g2_add(&t2, &t1, &t2);
	g2_mul_x(&t2, &t2);
	g2_add(&t3, &t3, &t2);
	g2_neg(&t1, &t1);
	g2_add(&t3, &t3, &t1);
	g2p np;
	g2_neg(&np, p);
	g2_add(r, &t3, &np);
}

/* ---- encodings ---- */

#define FLAG_C 0x80
#define FLAG_I 0x40
#define FLAG_S 0x20

/* Common flag rules. Returns 1 for a canonical infinity, 0 to continue with
 * a finite point, -1 to reject. */
static int check_flags(const uint8_t *in, size_t len, int compressed)
{
	uint8_t f = in[0] & 0xe0;
	if (!!(f & FLAG_C) != compressed)
		return -1;
	if (f & FLAG_I) {
		if (f & FLAG_S)
			return -1;
		if (in[0] & 0x1f)
			return -1;
		for (size_t i = 1; i < len; i++)
			if (in[i])
				return -1;
		return 1;
	}
	if (!compressed && (f & FLAG_S))
		return -1;
	return 0;
}

int g1_decode(g1a *r, const uint8_t *in, size_t len)
{
	uint8_t buf[48];
	int compressed;
	if (len == 48)
		compressed = 1;
	else if (len == 96)
		compressed = 0;
	else
		return -1;
	int fl = check_flags(in, len, compressed);
	if (fl < 0)
		return -1;
	if (fl == 1) {
		memset(r, 0, sizeof *r);
		r->inf = 1;
		return 0;
	}
	memcpy(buf, in, 48);
	buf[0] &= 0x1f;
	if (fp_from_be(&r->x, buf))
		return -1;
	r->inf = 0;
	if (compressed) {
		fp y2, b;
		fp_sqr(&y2, &r->x);
		fp_mul(&y2, &y2, &r->x);
		fp_set_u64(&b, 4);
		fp_add(&y2, &y2, &b);
		if (fp_sqrt(&r->y, &y2))
			return -1;
		if (fp_lexi_larger(&r->y) != !!(in[0] & FLAG_S))
			fp_neg(&r->y, &r->y);
	} else {
		if (fp_from_be(&r->y, in + 48))
			return -1;
		if (!g1a_on_curve(r))
			return -1;
	}
	if (!g1_in_subgroup(r))
		return -1;
	return 0;
}

void g1_encode(uint8_t *out, const g1a *a, int compressed)
{
	size_t len = compressed ? 48 : 96;
	if (a->inf) {
		memset(out, 0, len);
		out[0] = (uint8_t)(FLAG_I | (compressed ? FLAG_C : 0));
		return;
	}
	fp_to_be(out, &a->x);
	if (compressed) {
		out[0] |= FLAG_C;
		if (fp_lexi_larger(&a->y))
			out[0] |= FLAG_S;
	} else {
		fp_to_be(out + 48, &a->y);
	}
}

static int fp2_from_be(fp2 *r, const uint8_t in[96])
{
	if (fp_from_be(&r->c1, in) || fp_from_be(&r->c0, in + 48))
		return -1;
	return 0;
}

static void fp2_to_be(uint8_t out[96], const fp2 *a)
{
	fp_to_be(out, &a->c1);
	fp_to_be(out + 48, &a->c0);
}

int g2_decode(g2a *r, const uint8_t *in, size_t len)
{
	if (g2_decode_on_curve(r, in, len) || !g2_in_subgroup(r))
		return -1;
	return 0;
}

int g2_decode_on_curve(g2a *r, const uint8_t *in, size_t len)
{
	uint8_t buf[96];
	int compressed;
	if (len == 96)
		compressed = 1;
	else if (len == 192)
		compressed = 0;
	else
		return -1;
	int fl = check_flags(in, len, compressed);
	if (fl < 0)
		return -1;
	if (fl == 1) {
		memset(r, 0, sizeof *r);
		r->inf = 1;
		return 0;
	}
	memcpy(buf, in, 96);
	buf[0] &= 0x1f;
	if (fp2_from_be(&r->x, buf))
		return -1;
	r->inf = 0;
	if (compressed) {
		fp2 y2, b;
		fp2_sqr(&y2, &r->x);
		fp2_mul(&y2, &y2, &r->x);
		g2_b(&b);
		fp2_add(&y2, &y2, &b);
		if (fp2_sqrt(&r->y, &y2))
			return -1;
		if (fp2_lexi_larger(&r->y) != !!(in[0] & FLAG_S))
			fp2_neg(&r->y, &r->y);
	} else {
		if (fp2_from_be(&r->y, in + 96))
			return -1;
		if (!g2a_on_curve(r))
			return -1;
	}
	return 0;
}

void g2_encode(uint8_t *out, const g2a *a, int compressed)
{
	size_t len = compressed ? 96 : 192;
	if (a->inf) {
		memset(out, 0, len);
		out[0] = (uint8_t)(FLAG_I | (compressed ? FLAG_C : 0));
		return;
	}
	fp2_to_be(out, &a->x);
	if (compressed) {
		out[0] |= FLAG_C;
		if (fp2_lexi_larger(&a->y))
			out[0] |= FLAG_S;
	} else {
		fp2_to_be(out + 96, &a->y);
	}
}
