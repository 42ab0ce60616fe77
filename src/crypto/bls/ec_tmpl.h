/* ec_tmpl.h — curve arithmetic shared by G1 (over Fp) and G2 (over Fp2).
 *
 * Included twice by ec.c with FE/PT/PA/PFX and the field operations defined.
 * add/dbl/mul_ct use Renes-Costello-Batina 2016, algorithms 7 and 9 (a = 0),
 * which are complete: correct for every pair of inputs, the identity and
 * doublings included, so they never branch on point values. The *_vt
 * functions (Jacobian coordinates, Pippenger, sums of affine points) are
 * faster, branch on special cases and are only for public data. */

void PFX(set_inf)(PT *r)
{
	r->x = FE_ZERO;
	r->y = FE_ONE;
	r->z = FE_ZERO;
}

void PFX(from_affine)(PT *r, const PA *a)
{
	r->x = a->x;
	r->y = a->y;
	r->z = FE_ONE;
	PT inf;
	PFX(set_inf)(&inf);
	FE_CMOV(&r->x, &inf.x, (uint64_t)a->inf);
	FE_CMOV(&r->y, &inf.y, (uint64_t)a->inf);
	FE_CMOV(&r->z, &inf.z, (uint64_t)a->inf);
}

void PFX(to_affine)(PA *r, const PT *a)
{
	FE zi;
	FE_INV(&zi, &a->z);
	FE_MUL(&r->x, &a->x, &zi);
	FE_MUL(&r->y, &a->y, &zi);
	r->inf = FE_IS_ZERO(&a->z);
}

int PFX(is_inf)(const PT *a) { return FE_IS_ZERO(&a->z); }

void PFX(neg)(PT *r, const PT *a)
{
	r->x = a->x;
	FE_NEG(&r->y, &a->y);
	r->z = a->z;
}

int PFX(eq)(const PT *a, const PT *b)
{
	FE t0, t1;
	int eq;
	FE_MUL(&t0, &a->x, &b->z);
	FE_MUL(&t1, &b->x, &a->z);
	eq = FE_EQ(&t0, &t1);
	FE_MUL(&t0, &a->y, &b->z);
	FE_MUL(&t1, &b->y, &a->z);
	return eq & FE_EQ(&t0, &t1);
}

void PFX(add)(PT *r, const PT *p, const PT *q)
{
	FE t0, t1, t2, t3, t4, x3, y3, z3;
	FE_MUL(&t0, &p->x, &q->x);
	FE_MUL(&t1, &p->y, &q->y);
	FE_MUL(&t2, &p->z, &q->z);
	FE_ADD(&t3, &p->x, &p->y);
	FE_ADD(&t4, &q->x, &q->y);
	FE_MUL(&t3, &t3, &t4);
	FE_ADD(&t4, &t0, &t1);
	FE_SUB(&t3, &t3, &t4);
	FE_ADD(&t4, &p->y, &p->z);
	FE_ADD(&x3, &q->y, &q->z);
	FE_MUL(&t4, &t4, &x3);
	FE_ADD(&x3, &t1, &t2);
	FE_SUB(&t4, &t4, &x3);
	FE_ADD(&x3, &p->x, &p->z);
	FE_ADD(&y3, &q->x, &q->z);
	FE_MUL(&x3, &x3, &y3);
	FE_ADD(&y3, &t0, &t2);
	FE_SUB(&y3, &x3, &y3);
	FE_ADD(&x3, &t0, &t0);
	FE_ADD(&t0, &x3, &t0);
	MUL_B3(&t2, &t2);
	FE_ADD(&z3, &t1, &t2);
	FE_SUB(&t1, &t1, &t2);
	MUL_B3(&y3, &y3);
	FE_MUL(&x3, &t4, &y3);
	FE_MUL(&t2, &t3, &t1);
	FE_SUB(&x3, &t2, &x3);
	FE_MUL(&y3, &y3, &t0);
	FE_MUL(&t1, &t1, &z3);
	FE_ADD(&y3, &t1, &y3);
	FE_MUL(&t0, &t0, &t3);
	FE_MUL(&z3, &z3, &t4);
	FE_ADD(&z3, &z3, &t0);
	r->x = x3;
	r->y = y3;
	r->z = z3;
}

void PFX(dbl)(PT *r, const PT *p)
{
	FE t0, t1, t2, x3, y3, z3;
	FE_SQR(&t0, &p->y);
	FE_ADD(&z3, &t0, &t0);
	FE_ADD(&z3, &z3, &z3);
	FE_ADD(&z3, &z3, &z3);
	FE_MUL(&t1, &p->y, &p->z);
	FE_SQR(&t2, &p->z);
	MUL_B3(&t2, &t2);
	FE_MUL(&x3, &t2, &z3);
	FE_ADD(&y3, &t0, &t2);
	FE_MUL(&z3, &t1, &z3);
	FE_ADD(&t1, &t2, &t2);
	FE_ADD(&t2, &t1, &t2);
	FE_SUB(&t0, &t0, &t2);
	FE_MUL(&y3, &t0, &y3);
	FE_ADD(&y3, &x3, &y3);
	FE_MUL(&t1, &p->x, &p->y);
	FE_MUL(&x3, &t0, &t1);
	FE_ADD(&x3, &x3, &x3);
	r->x = x3;
	r->y = y3;
	r->z = z3;
}

static void PFX(cmov)(PT *r, const PT *a, uint64_t c)
{
	FE_CMOV(&r->x, &a->x, c);
	FE_CMOV(&r->y, &a->y, c);
	FE_CMOV(&r->z, &a->z, c);
}

/* Fixed 4-bit windows over all 256 bits; the table entry is picked by
 * scanning the whole table with masks so neither branches nor addresses
 * depend on the scalar. */
void PFX(mul_ct)(PT *r, const PT *a, const uint64_t k[4])
{
	PT tab[16], acc, sel;
	PFX(set_inf)(&tab[0]);
	tab[1] = *a;
	for (int i = 2; i < 16; i++)
		PFX(add)(&tab[i], &tab[i - 1], a);
	PFX(set_inf)(&acc);
	for (int w = 63; w >= 0; w--) {
		uint64_t nib = (k[w / 16] >> ((w % 16) * 4)) & 15;
		for (int d = 0; d < 4; d++)
			PFX(dbl)(&acc, &acc);
		sel = tab[0];
		for (uint64_t i = 1; i < 16; i++)
			PFX(cmov)(&sel, &tab[i], ((i ^ nib) - 1) >> 63);
		PFX(add)(&acc, &acc, &sel);
	}
	*r = acc;
}

/* Jacobian coordinates (x = X/Z^2, y = Y/Z^3) for variable-time work on
 * public points: doubling (dbl-2009-l) is cheaper than the complete
 * projective formula, and the special cases of addition can simply branch. */
typedef struct { FE x, y, z; } PFX(jac);

static void PFX(jac_dbl)(PFX(jac) *r, const PFX(jac) *p)
{
	FE a, b, c, d, e, f, t, y3, z3;
	FE_SQR(&a, &p->x);
	FE_SQR(&b, &p->y);
	FE_SQR(&c, &b);
	FE_ADD(&d, &p->x, &b);
	FE_SQR(&d, &d);
	FE_SUB(&d, &d, &a);
	FE_SUB(&d, &d, &c);
	FE_ADD(&d, &d, &d);
	FE_ADD(&e, &a, &a);
	FE_ADD(&e, &e, &a);
	FE_SQR(&f, &e);
	FE_MUL(&z3, &p->y, &p->z);
	FE_ADD(&z3, &z3, &z3);
	FE_ADD(&t, &d, &d);
	FE_SUB(&r->x, &f, &t);
	FE_SUB(&t, &d, &r->x);
	FE_MUL(&y3, &e, &t);
	FE_ADD(&c, &c, &c);
	FE_ADD(&c, &c, &c);
	FE_ADD(&c, &c, &c);
	FE_SUB(&r->y, &y3, &c);
	r->z = z3;
}

static void PFX(jac_add)(PFX(jac) *r, const PFX(jac) *p, const PFX(jac) *q)
{
	FE z1z1, z2z2, u1, u2, s1, s2, h, i, j, rr, v, t;
	if (FE_IS_ZERO(&p->z)) {
		*r = *q;
		return;
	}
	if (FE_IS_ZERO(&q->z)) {
		*r = *p;
		return;
	}
	FE_SQR(&z1z1, &p->z);
	FE_SQR(&z2z2, &q->z);
	FE_MUL(&u1, &p->x, &z2z2);
	FE_MUL(&u2, &q->x, &z1z1);
	FE_MUL(&s1, &p->y, &q->z);
	FE_MUL(&s1, &s1, &z2z2);
	FE_MUL(&s2, &q->y, &p->z);
	FE_MUL(&s2, &s2, &z1z1);
	FE_SUB(&h, &u2, &u1);
	FE_SUB(&rr, &s2, &s1);
	if (FE_IS_ZERO(&h)) {
		if (FE_IS_ZERO(&rr)) {
			PFX(jac_dbl)(r, p);
		} else {
			r->x = FE_ONE;
			r->y = FE_ONE;
			r->z = FE_ZERO;
		}
		return;
	}
	FE_ADD(&i, &h, &h);
	FE_SQR(&i, &i);
	FE_MUL(&j, &h, &i);
	FE_ADD(&rr, &rr, &rr);
	FE_MUL(&v, &u1, &i);
	FE_ADD(&t, &p->z, &q->z);
	FE_SQR(&t, &t);
	FE_SUB(&t, &t, &z1z1);
	FE_SUB(&t, &t, &z2z2);
	FE_MUL(&r->z, &t, &h);
	FE_SQR(&r->x, &rr);
	FE_SUB(&r->x, &r->x, &j);
	FE_SUB(&r->x, &r->x, &v);
	FE_SUB(&r->x, &r->x, &v);
	FE_SUB(&t, &v, &r->x);
	FE_MUL(&t, &rr, &t);
	FE_MUL(&s1, &s1, &j);
	FE_ADD(&s1, &s1, &s1);
	FE_SUB(&r->y, &t, &s1);
}

/* Sum of n affine points (public), Jacobian accumulator with mixed
 * additions (madd-2007-bl); the rare special cases branch. */
void PFX(sum_affine_vt)(PT *r, const PA *pts, size_t n)
{
	PFX(jac) acc;
	FE z1z1, u2, s2, h, hh, i4, j, rr, v, t;
	acc.x = FE_ONE;
	acc.y = FE_ONE;
	acc.z = FE_ZERO;
	for (size_t k = 0; k < n; k++) {
		const PA *q = &pts[k];
		if (q->inf)
			continue;
		if (FE_IS_ZERO(&acc.z)) {
			acc.x = q->x;
			acc.y = q->y;
			acc.z = FE_ONE;
			continue;
		}
		FE_SQR(&z1z1, &acc.z);
		FE_MUL(&u2, &q->x, &z1z1);
		FE_MUL(&s2, &q->y, &acc.z);
		FE_MUL(&s2, &s2, &z1z1);
		FE_SUB(&h, &u2, &acc.x);
		FE_SUB(&rr, &s2, &acc.y);
		if (FE_IS_ZERO(&h)) {
			if (FE_IS_ZERO(&rr)) {
				PFX(jac_dbl)(&acc, &acc);
			} else {
				acc.x = FE_ONE;
				acc.y = FE_ONE;
				acc.z = FE_ZERO;
			}
			continue;
		}
		FE_SQR(&hh, &h);
		FE_ADD(&i4, &hh, &hh);
		FE_ADD(&i4, &i4, &i4);
		FE_MUL(&j, &h, &i4);
		FE_ADD(&rr, &rr, &rr);
		FE_MUL(&v, &acc.x, &i4);
		FE_ADD(&t, &acc.z, &h);
		FE_SQR(&t, &t);
		FE_SUB(&t, &t, &z1z1);
		FE_SUB(&acc.z, &t, &hh);
		FE_SQR(&acc.x, &rr);
		FE_SUB(&acc.x, &acc.x, &j);
		FE_SUB(&acc.x, &acc.x, &v);
		FE_SUB(&acc.x, &acc.x, &v);
		FE_SUB(&t, &v, &acc.x);
		FE_MUL(&t, &rr, &t);
		FE_MUL(&j, &acc.y, &j);
		FE_ADD(&j, &j, &j);
		FE_SUB(&acc.y, &t, &j);
	}
	FE_MUL(&r->x, &acc.x, &acc.z);
	r->y = acc.y;
	FE_SQR(&t, &acc.z);
	FE_MUL(&r->z, &t, &acc.z);
	if (FE_IS_ZERO(&acc.z))
		PFX(set_inf)(r);
}

/* Double-and-add for public scalars. */
void PFX(mul_vt)(PT *r, const PT *a, const uint64_t *k, int nlimbs)
{
	PFX(jac) base, acc;
	FE t;
	/* projective (X:Y:Z) -> Jacobian (XZ, YZ^2, Z) */
	FE_MUL(&base.x, &a->x, &a->z);
	FE_SQR(&t, &a->z);
	FE_MUL(&base.y, &a->y, &t);
	base.z = a->z;
	acc.x = FE_ONE;
	acc.y = FE_ONE;
	acc.z = FE_ZERO;
	int top = nlimbs * 64 - 1;
	while (top >= 0 && !((k[top / 64] >> (top % 64)) & 1))
		top--;
	for (int i = top; i >= 0; i--) {
		PFX(jac_dbl)(&acc, &acc);
		if ((k[i / 64] >> (i % 64)) & 1)
			PFX(jac_add)(&acc, &acc, &base);
	}
	/* Jacobian -> projective (X Z : Y : Z^3) */
	FE_MUL(&r->x, &acc.x, &acc.z);
	r->y = acc.y;
	FE_SQR(&t, &acc.z);
	FE_MUL(&r->z, &t, &acc.z);
	if (FE_IS_ZERO(&acc.z))
		PFX(set_inf)(r);
}

/* Pippenger's bucket method for sum k_i P_i with 64-bit public scalars. */
void PFX(msm64_vt)(PT *r, const PT *pts, const uint64_t *k, size_t n)
{
	PT buckets[1 << 7], acc, sum, tot;
	int c = n < 8 ? 2 : n < 32 ? 4 : n < 256 ? 5 : n < 2048 ? 6 : 7;
	int windows = (64 + c - 1) / c;
	uint64_t mask = ((uint64_t)1 << c) - 1;
	PFX(set_inf)(&acc);
	for (int w = windows - 1; w >= 0; w--) {
		for (int d = 0; d < c; d++)
			PFX(dbl)(&acc, &acc);
		for (uint64_t j = 1; j <= mask; j++)
			PFX(set_inf)(&buckets[j]);
		for (size_t i = 0; i < n; i++) {
			uint64_t digit = (k[i] >> (w * c)) & mask;
			if (digit)
				PFX(add)(&buckets[digit], &buckets[digit], &pts[i]);
		}
		PFX(set_inf)(&sum);
		PFX(set_inf)(&tot);
		for (uint64_t j = mask; j >= 1; j--) {
			PFX(add)(&sum, &sum, &buckets[j]);
			PFX(add)(&tot, &tot, &sum);
		}
		PFX(add)(&acc, &acc, &tot);
	}
	*r = acc;
}

/* Affine forms of n points with one field inversion (Montgomery's trick).
 * scratch holds n field elements. */
void PFX(batch_to_affine)(PA *out, const PT *pts, size_t n, FE *scratch)
{
	FE acc = FE_ONE, inv, t;
	if (n == 0)
		return;
	for (size_t i = 0; i < n; i++) {
		scratch[i] = acc;               /* product of the nonzero z before i */
		if (!FE_IS_ZERO(&pts[i].z))
			FE_MUL(&acc, &acc, &pts[i].z);
	}
	FE_INV(&inv, &acc);
	for (size_t i = n; i-- > 0;) {
		if (FE_IS_ZERO(&pts[i].z)) {
			memset(&out[i], 0, sizeof out[i]);
			out[i].inf = 1;
			continue;
		}
		FE_MUL(&t, &inv, &scratch[i]);  /* 1 / z_i */
		FE_MUL(&inv, &inv, &pts[i].z);
		FE_MUL(&out[i].x, &pts[i].x, &t);
		FE_MUL(&out[i].y, &pts[i].y, &t);
		out[i].inf = 0;
	}
}

int PFX(a_on_curve)(const PA *a)
{
	FE l, rr, b;
	if (a->inf)
		return 1;
	FE_SQR(&l, &a->y);
	FE_SQR(&rr, &a->x);
	FE_MUL(&rr, &rr, &a->x);
	CURVE_B(&b);
	FE_ADD(&rr, &rr, &b);
	return FE_EQ(&l, &rr);
}
