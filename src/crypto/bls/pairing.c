/* pairing.c — the optimal ate pairing on BLS12-381.
 *
 * Miller loop over |x| = 0xd201000000010000 with the G2 point kept in
 * Jacobian coordinates on the twist; each line is scaled by a factor from a
 * proper subfield (killed by the final exponentiation) so that it has the
 * sparse shape (c0 + c1 v) + c4 v w. Several pairs share one accumulator, so
 * a product of pairings costs one loop's squarings and one final
 * exponentiation. The hard part of the final exponentiation uses the
 * decomposition of Hayashida, Hayasaka and Teruya:
 *   3 (p^4 - p^2 + 1)/r = (x-1)^2 (x+p) (x^2+p^2-1) + 3,
 * so the result is e(P,Q)^3 — still a non-degenerate bilinear pairing, which
 * is all signature verification needs. */
#include "crypto/bls/bls_int.h"

#include <stdint.h>
#include <stdlib.h>

#define X_ABS 0xd201000000010000ULL

struct mstate {
	fp2 x, y, z;    /* T, Jacobian on the twist */
	fp2 qx, qy;     /* Q, affine */
	fp px, py;      /* P, affine */
};

static void dbl_step(fp12 *f, struct mstate *s)
{
	fp2 xx, yy, zz, c0, c1, c4, t, a, b, c, d, e, ff, x3, y3, z3;
	fp2_sqr(&xx, &s->x);
	fp2_sqr(&yy, &s->y);
	fp2_sqr(&zz, &s->z);
	/* line: c0 = 3X^3 - 2Y^2, c1 = -3X^2Z^2 xP, c4 = 2YZ Z^2 yP */
	fp2_mul(&t, &xx, &s->x);
	fp2_dbl(&c0, &t);
	fp2_add(&c0, &c0, &t);
	fp2_dbl(&t, &yy);
	fp2_sub(&c0, &c0, &t);
	fp2_mul(&t, &xx, &zz);
	fp2_dbl(&c1, &t);
	fp2_add(&c1, &c1, &t);
	fp2_neg(&c1, &c1);
	fp2_mul_fp(&c1, &c1, &s->px);
	fp2_mul(&z3, &s->y, &s->z);
	fp2_dbl(&z3, &z3);
	fp2_mul(&c4, &z3, &zz);
	fp2_mul_fp(&c4, &c4, &s->py);
	/* T = 2T (dbl-2009-l) */
	a = xx;
	b = yy;
	fp2_sqr(&c, &b);
	fp2_add(&d, &s->x, &b);
	fp2_sqr(&d, &d);
	fp2_sub(&d, &d, &a);
	fp2_sub(&d, &d, &c);
	fp2_dbl(&d, &d);
	fp2_dbl(&e, &a);
	fp2_add(&e, &e, &a);
	fp2_sqr(&ff, &e);
	fp2_dbl(&t, &d);
	fp2_sub(&x3, &ff, &t);
	fp2_sub(&t, &d, &x3);
	fp2_mul(&y3, &e, &t);
	fp2_dbl(&c, &c);
	fp2_dbl(&c, &c);
	fp2_dbl(&c, &c);
	fp2_sub(&y3, &y3, &c);
	s->x = x3;
	s->y = y3;
	s->z = z3;
	fp12_mul_014(f, &c0, &c1, &c4);
}

static void add_step(fp12 *f, struct mstate *s)
{
	fp2 zz, zzz, h, r, z3, c0, c1, c4, t, hh, hhh, v, x3, y3;
	fp2_sqr(&zz, &s->z);
	fp2_mul(&zzz, &zz, &s->z);
	fp2_mul(&h, &s->qx, &zz);
	fp2_sub(&h, &h, &s->x);
	fp2_mul(&r, &s->qy, &zzz);
	fp2_sub(&r, &r, &s->y);
	fp2_mul(&z3, &s->z, &h);
	/* line through T and Q, scaled by Z3 */
	fp2_mul(&c0, &r, &s->qx);
	fp2_mul(&t, &s->qy, &z3);
	fp2_sub(&c0, &c0, &t);
	fp2_neg(&c1, &r);
	fp2_mul_fp(&c1, &c1, &s->px);
	fp2_mul_fp(&c4, &z3, &s->py);
	/* T = T + Q */
	fp2_sqr(&hh, &h);
	fp2_mul(&hhh, &hh, &h);
	fp2_mul(&v, &s->x, &hh);
	fp2_sqr(&x3, &r);
	fp2_sub(&x3, &x3, &hhh);
	fp2_sub(&x3, &x3, &v);
	fp2_sub(&x3, &x3, &v);
	fp2_sub(&t, &v, &x3);
	fp2_mul(&y3, &r, &t);
	fp2_mul(&t, &s->y, &hhh);
	fp2_sub(&y3, &y3, &t);
	s->x = x3;
	s->y = y3;
	s->z = z3;
	fp12_mul_014(f, &c0, &c1, &c4);
}

int bls_miller_loop(fp12 *f, const g1a *ps, const g2a *qs, size_t n)
{
	struct mstate stack[4], *st = stack;
	size_t m = 0;
	if (n > 4) {
		st = n < SIZE_MAX / sizeof *st ? malloc(n * sizeof *st) : NULL;
		if (!st)
			return -1;
	}
	for (size_t i = 0; i < n; i++) {
		if (ps[i].inf || qs[i].inf)
			continue; /* e(P, O) = e(O, Q) = 1 */
		st[m].x = qs[i].x;
		st[m].y = qs[i].y;
		st[m].z = FP2_ONE;
		st[m].qx = qs[i].x;
		st[m].qy = qs[i].y;
		st[m].px = ps[i].x;
		st[m].py = ps[i].y;
		m++;
	}
	fp12_one(f);
	for (int b = 62; b >= 0; b--) {
		fp12_sqr(f, f);
		for (size_t i = 0; i < m; i++)
			dbl_step(f, &st[i]);
		if ((X_ABS >> b) & 1)
			for (size_t i = 0; i < m; i++)
				add_step(f, &st[i]);
	}
	fp12_conj(f, f); /* x < 0 */
	if (st != stack)
		free(st);
	return 0;
}

/* a^x for a in the cyclotomic subgroup (x < 0: conjugate = inverse there) */
static void cyc_exp_x(fp12 *r, const fp12 *a)
{
	fp12 acc = *a;
	for (int b = 62; b >= 0; b--) {
		fp12_cyc_sqr(&acc, &acc);
		if ((X_ABS >> b) & 1)
			fp12_mul(&acc, &acc, a);
	}
	fp12_conj(r, &acc);
}

void bls_final_exp(fp12 *r, const fp12 *f)
{
	fp12 t, u, a, b, c;
	/* easy part: f^((p^6-1)(p^2+1)) */
	fp12_inv(&u, f);
	fp12_conj(&t, f);
	fp12_mul(&t, &t, &u);
	fp12_frob(&u, &t);
	fp12_frob(&u, &u);
	fp12_mul(&t, &t, &u);
	/* hard part */
	cyc_exp_x(&a, &t);
	fp12_conj(&u, &t);
	fp12_mul(&a, &a, &u);         /* t^(x-1) */
	cyc_exp_x(&b, &a);
	fp12_conj(&u, &a);
	fp12_mul(&a, &b, &u);         /* t^((x-1)^2) */
	cyc_exp_x(&b, &a);
	fp12_frob(&u, &a);
	fp12_mul(&b, &b, &u);         /* a^(x+p) */
	cyc_exp_x(&c, &b);
	cyc_exp_x(&c, &c);
	fp12_frob(&u, &b);
	fp12_frob(&u, &u);
	fp12_mul(&c, &c, &u);
	fp12_conj(&u, &b);
	fp12_mul(&c, &c, &u);         /* b^(x^2+p^2-1) */
	fp12_cyc_sqr(&u, &t);
	fp12_mul(&u, &u, &t);
	fp12_mul(r, &c, &u);
}

void bls_pairing(fp12 *r, const g1a *p, const g2a *q)
{
	fp12 f;
	bls_miller_loop(&f, p, q, 1);
	bls_final_exp(r, &f);
}
