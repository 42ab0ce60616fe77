/* solve.c — RFC 6330 parameters, tuples and the intermediate-symbol solver.
 *
 * The solver is inactivation decoding (section 5.4) split into a symbolic
 * part, done once per set of rows, and a data part:
 *
 *   1. Peeling over the sparse binary rows (LDPC and LT). The PI columns start
 *      inactive (as in 5.4.2.1); a row with one active column left solves that
 *      column; when none is left, the lowest-degree row keeps one column and
 *      its others are inactivated.
 *   2. Every solved column is then a known symbol plus a GF(2) combination of
 *      inactive columns (a bit vector). Substituting into the unused sparse rows
 *      and into the dense HDPC rows (MT * GAMMA, applied with the recurrence
 *      D_j = alpha * D_(j-1) + C_j instead of a dense matrix) leaves a small
 *      dense system over the inactive columns, eliminated by Gauss-Jordan with
 *      the row operations recorded.
 *   3. On data: peel with inactive symbols zero, form the right-hand sides of
 *      the dense rows, replay the recorded operations, put in the inactive
 *      symbols and peel again with them.
 *
 * Step 1-2 depend only on which ISIs the rows are, so for encoding (ISIs
 * 0..K'-1) they form a reusable plan. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "fec/gf256.h"
#include "fec/rq_internal.h"
#include "fec/rq_tables.h"

/* ---- parameters ------------------------------------------------------------ */

static int is_prime(uint32_t n)
{
	if (n < 2)
		return 0;
	for (uint32_t d = 2; d * d <= n; d++)
		if (n % d == 0)
			return 0;
	return 1;
}

int rq_params_get(uint32_t kp, struct rq_params *out)
{
	int lo = 0, hi = RQ_SYSIDX_ROWS - 1;
	while (lo <= hi) {
		int mid = (lo + hi) / 2;
		const struct rq_sysidx *e = &rq_sysidx_table[mid];
		if (e->kp == kp) {
			out->kp = kp;
			out->j = e->j;
			out->s = e->s;
			out->h = e->h;
			out->w = e->w;
			out->l = kp + e->s + e->h;
			out->p = out->l - e->w;
			out->b = e->w - e->s;
			uint32_t p1 = out->p;
			while (!is_prime(p1))
				p1++;
			out->p1 = p1;
			return 0;
		}
		if (e->kp < kp)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return -CN_EINVAL;
}

uint32_t rq_kprime(uint32_t k)
{
	if (k == 0 || k > RQ_MAX_KPRIME)
		return 0;
	int lo = 0, hi = RQ_SYSIDX_ROWS - 1;
	while (lo < hi) {
		int mid = (lo + hi) / 2;
		if (rq_sysidx_table[mid].kp >= k)
			hi = mid;
		else
			lo = mid + 1;
	}
	return rq_sysidx_table[lo].kp;
}

uint32_t rq_rand(uint32_t y, uint32_t i, uint32_t m)
{
	uint32_t x = rq_v0[(y + i) & 0xff] ^ rq_v1[((y >> 8) + i) & 0xff] ^
		     rq_v2[((y >> 16) + i) & 0xff] ^ rq_v3[((y >> 24) + i) & 0xff];
	return x % m;
}

static const uint32_t deg_f[31] = {
	0, 5243, 529531, 704294, 791675, 844104, 879057, 904023, 922747, 937311, 948962,
	958494, 966438, 973160, 978921, 983914, 988283, 992138, 995565, 998631, 1001391,
	1003887, 1006157, 1008229, 1010129, 1011876, 1013490, 1014983, 1016370, 1017662, 1048576,
};

uint32_t rq_deg(uint32_t v, uint32_t w)
{
	uint32_t d = 1;
	while (d < 30 && v >= deg_f[d])
		d++;
	return d < w - 2 ? d : w - 2;
}

void rq_tuple(const struct rq_params *pr, uint32_t isi, struct rq_tuple *out)
{
	uint32_t a = 53591 + pr->j * 997;
	if (a % 2 == 0)
		a++;
	uint32_t b = 10267 * (pr->j + 1);
	uint32_t y = (uint32_t)((uint64_t)b + (uint64_t)isi * a);
	uint32_t v = rq_rand(y, 0, 1048576);
	out->d = rq_deg(v, pr->w);
	out->a = 1 + rq_rand(y, 1, pr->w - 1);
	out->b = rq_rand(y, 2, pr->w);
	out->d1 = out->d < 4 ? 2 + rq_rand(isi, 3, 2) : 2;
	out->a1 = 1 + rq_rand(isi, 4, pr->p1 - 1);
	out->b1 = rq_rand(isi, 5, pr->p1);
}

unsigned rq_lt_cols(const struct rq_params *pr, uint32_t isi, uint32_t cols[RQ_LT_MAX_COLS])
{
	struct rq_tuple tu;
	rq_tuple(pr, isi, &tu);
	unsigned n = 0;
	uint32_t b = tu.b;
	cols[n++] = b;
	for (uint32_t j = 1; j < tu.d; j++) {
		b = (b + tu.a) % pr->w;
		cols[n++] = b;
	}
	uint32_t b1 = tu.b1;
	while (b1 >= pr->p)
		b1 = (b1 + tu.a1) % pr->p1;
	cols[n++] = pr->w + b1;
	for (uint32_t j = 1; j < tu.d1; j++) {
		b1 = (b1 + tu.a1) % pr->p1;
		while (b1 >= pr->p)
			b1 = (b1 + tu.a1) % pr->p1;
		cols[n++] = pr->w + b1;
	}
	return n;
}

void rq_lt_symbol(const struct rq_params *pr, const uint8_t *c, size_t t, uint32_t isi, uint8_t *out)
{
	uint32_t cols[RQ_LT_MAX_COLS];
	const uint8_t *v[RQ_LT_MAX_COLS];
	unsigned n = rq_lt_cols(pr, isi, cols);
	for (unsigned i = 0; i < n; i++)
		v[i] = c + (size_t)cols[i] * t;
	rq_gf_xor_many(out, v, n, t);
}

/* ---- budgeted allocation ----------------------------------------------------
 * Each block carries its size in a 16-byte header so frees can be counted. */

#define MEM_HDR 16

void *rq_malloc(struct rq_mem *m, size_t n)
{
	if (n > SIZE_MAX - MEM_HDR)
		return NULL;
	if (m && m->cap && (m->used + n + MEM_HDR > m->cap || m->used + n + MEM_HDR < m->used))
		return NULL;
	uint8_t *p = malloc(n + MEM_HDR);
	if (!p)
		return NULL;
	memcpy(p, &n, sizeof n);
	if (m) {
		m->used += n + MEM_HDR;
		if (m->used > m->peak)
			m->peak = m->used;
	}
	return p + MEM_HDR;
}

void *rq_calloc(struct rq_mem *m, size_t count, size_t size)
{
	if (size && count > SIZE_MAX / size)
		return NULL;
	void *p = rq_malloc(m, count * size);
	if (p)
		memset(p, 0, count * size);
	return p;
}

void rq_free(struct rq_mem *m, void *p)
{
	if (!p)
		return;
	uint8_t *base = (uint8_t *)p - MEM_HDR;
	size_t n;
	memcpy(&n, base, sizeof n);
	if (m)
		m->used -= n + MEM_HDR;
	free(base);
}

/* ---- the plan ---------------------------------------------------------------- */

#define NOT_INACTIVE UINT32_MAX

struct dop {
	uint32_t dst, src; /* dst == src: scale dst by c; else dst ^= c * src */
	uint8_t c;
};

struct rq_plan {
	struct rq_params pr;
	uint32_t m;          /* LT rows */
	uint32_t nrows;      /* sparse rows: S LDPC then m LT */
	uint32_t *row_off;   /* CSR of sparse rows, nrows + 1 */
	uint32_t *cols;
	uint32_t nsolved;
	uint32_t *solve_col, *solve_row; /* in solve order */
	uint32_t ninact;
	uint32_t *inact_col; /* inactive index -> column */
	uint32_t *inact_idx; /* column -> inactive index or NOT_INACTIVE */
	uint32_t nunused;
	uint32_t *unused_row; /* sparse rows left for the dense system */
	uint16_t *mt;         /* 2 per column j < K'+S-1: HDPC rows holding a one */
	uint32_t nops;
	struct dop *ops;
	uint32_t *pivot;      /* inactive index -> dense slot */
	size_t bytes;
};

const struct rq_params *rq_plan_params(const struct rq_plan *plan)
{
	return &plan->pr;
}

uint32_t rq_plan_inactive(const struct rq_plan *plan)
{
	return plan->ninact;
}

size_t rq_plan_bytes(const struct rq_plan *plan)
{
	return plan ? plan->bytes : 0;
}

void rq_plan_release(struct rq_plan *plan, struct rq_mem *mem)
{
	if (!plan)
		return;
	rq_free(mem, plan->row_off);
	rq_free(mem, plan->cols);
	rq_free(mem, plan->solve_col);
	rq_free(mem, plan->solve_row);
	rq_free(mem, plan->inact_col);
	rq_free(mem, plan->inact_idx);
	rq_free(mem, plan->unused_row);
	rq_free(mem, plan->mt);
	rq_free(mem, plan->ops);
	rq_free(mem, plan->pivot);
	rq_free(mem, plan);
}

/* Bound on inactive columns a plan may use. Peeling RFC 6330 systems
 * inactivates about sqrt(L) columns beyond the P permanently inactive ones
 * (measured up to K' = 56403 with random ISI sets: at most 1.3 sqrt(L)); the
 * bound leaves ample room and keeps adversarial ISI sets from costing
 * quadratic memory. */
static uint32_t inact_cap(const struct rq_params *pr)
{
	uint32_t r = 0;
	while ((r + 1) * (r + 1) <= pr->l)
		r++;
	uint64_t c = (uint64_t)pr->p + pr->h + 32 + 3ull * r;
	return c < pr->l ? (uint32_t)c : pr->l;
}

uint64_t rq_solver_memory(uint32_t kp, uint64_t m, size_t t)
{
	struct rq_params pr;
	if (rq_params_get(kp, &pr))
		return UINT64_MAX;
	uint64_t l = pr.l, s = pr.s, h = pr.h, i = inact_cap(&pr);
	uint64_t nrows = s + m, nz = 3ull * pr.b + 3 * s + (uint64_t)RQ_LT_MAX_COLS * m;
	uint64_t r = (m > kp ? m - kp : 0) + i + h; /* dense rows */
	uint64_t nw = (i + 63) / 64;
	uint64_t b = 0;
	/* plan */
	b += (nrows + 1) * 4 + nz * 4 + l * 8 + i * 4 + l * 4 + nrows * 4 + (kp + s) * 4;
	b += r * i * sizeof(struct dop) + i * 4 + sizeof(struct rq_plan);
	b += r * 64 + 64; /* dense rows padded to whole 64-column words */
	/* planning scratch */
	b += (l + 1) * 4 + nz * 4 + nrows * 5 + nrows * 4 + l * 4 + l * nw * 8 + r * i + (h + 2) * i + nw * 8;
	/* running scratch */
	b += r * t + t;
	return b + 32 * MEM_HDR + 4096;
}

/* Rows of the LDPC part holding column i < B (section 5.3.3.3), with
 * coinciding rows cancelled; returns their number (1 or 3). */
static unsigned ldpc_rows(uint32_t i, uint32_t s, uint32_t rows[3])
{
	uint32_t a = 1 + i / s, b0 = i % s, b1 = (b0 + a) % s, b2 = (b1 + a) % s;
	if (b0 != b1 && b1 != b2 && b0 != b2) {
		rows[0] = b0;
		rows[1] = b1;
		rows[2] = b2;
		return 3;
	}
	/* three equal leave one; a pair cancels and leaves the third */
	rows[0] = b0 == b1 ? b2 : b0 == b2 ? b1 : b0;
	return 1;
}

/* Appends a sparse row, cancelling repeated columns (XOR semantics). */
static uint32_t add_row(uint32_t *dst, uint32_t *src, uint32_t n)
{
	/* rows are short except LDPC rows, which are built without repeats */
	uint32_t k = 0;
	for (uint32_t i = 0; i < n; i++) {
		uint32_t c = src[i], j;
		for (j = 0; j < k && dst[j] != c; j++)
			;
		if (j < k)
			dst[j] = dst[--k];
		else
			dst[k++] = c;
	}
	return k;
}

/* 8 bits -> 8 bytes of 0/1, for expanding GF(2) rows into GF(256) rows */
static uint64_t bit_spread[256];

static pthread_once_t bit_spread_once = PTHREAD_ONCE_INIT;

static void bit_spread_init(void)
{
	for (unsigned b = 0; b < 256; b++) {
		uint64_t v = 0;
		for (unsigned i = 0; i < 8; i++)
			if (b >> i & 1)
				v |= 1ull << (8 * i);
		bit_spread[b] = v;
	}
}

/* dst[0 .. 64*nw) ^= bits; dst must have room for whole words */
static void bits_to_bytes_xor(uint8_t *dst, const uint64_t *bits, uint32_t nw)
{
	for (uint32_t w = 0; w < nw; w++) {
		uint64_t v = bits[w];
		if (!v)
			continue;
		for (unsigned i = 0; i < 8; i++) {
			uint64_t x;
			memcpy(&x, dst + w * 64 + i * 8, 8);
			x ^= bit_spread[(v >> (8 * i)) & 0xff];
			memcpy(dst + w * 64 + i * 8, &x, 8);
		}
	}
}

int rq_plan_build(uint32_t kp, const uint32_t *isis, uint32_t m, struct rq_mem *mem,
		  struct rq_plan **out)
{
	struct rq_params pr;
	int rc = rq_params_get(kp, &pr);
	if (rc)
		return rc;
	const uint32_t L = pr.l, S = pr.s, H = pr.h, W = pr.w, P = pr.p, B = pr.b;
	const uint32_t nrows = S + m;
	const uint32_t icap = inact_cap(&pr);

	uint32_t *col_off = NULL, *col_rows = NULL, *deg = NULL, *queue = NULL, *colpos = NULL;
	uint8_t *used = NULL, *dense = NULL, *hd = NULL;
	uint64_t *expr = NULL;

	struct rq_plan *pl = rq_calloc(mem, 1, sizeof *pl);
	if (!pl)
		return -CN_ENOMEM;
	pl->pr = pr;
	pl->m = m;
	pl->nrows = nrows;
	rc = -CN_ENOMEM;

	/* ---- sparse rows (LDPC, section 5.3.3.3; LT, 5.3.5.3) ---- */
	uint64_t nz_cap = 3ull * B + 3ull * S + (uint64_t)RQ_LT_MAX_COLS * m;
	pl->row_off = rq_malloc(mem, (nrows + 1) * sizeof(uint32_t));
	pl->cols = rq_malloc(mem, nz_cap * sizeof(uint32_t));
	if (!pl->row_off || !pl->cols)
		goto fail;
	{
		/* LDPC rows: count first, then fill. Column i < B has a one in rows
		 * b0, b1 = b0 + a, b2 = b1 + a (mod S); should two coincide they
		 * cancel (the matrix is over GF(2) there), which ldpc_rows() does. */
		uint32_t *cnt = pl->row_off;
		memset(cnt, 0, (nrows + 1) * sizeof(uint32_t));
		for (uint32_t r = 0; r < S; r++)
			cnt[r + 1] = 3; /* identity + two PI columns (P >= 10, so distinct) */
		for (uint32_t i = 0; i < B; i++) {
			uint32_t rows[3];
			unsigned n = ldpc_rows(i, S, rows);
			for (unsigned q = 0; q < n; q++)
				cnt[rows[q] + 1]++;
		}
		for (uint32_t r = 0; r < S; r++)
			cnt[r + 1] += cnt[r];
		uint32_t *fill = rq_malloc(mem, (S + 1) * sizeof(uint32_t));
		if (!fill)
			goto fail;
		memcpy(fill, cnt, (S + 1) * sizeof(uint32_t));
		for (uint32_t i = 0; i < B; i++) {
			uint32_t rows[3];
			unsigned n = ldpc_rows(i, S, rows);
			for (unsigned q = 0; q < n; q++)
				pl->cols[fill[rows[q]]++] = i;
		}
		for (uint32_t r = 0; r < S; r++) {
			pl->cols[fill[r]++] = B + r;
			pl->cols[fill[r]++] = W + r % P;
			pl->cols[fill[r]++] = W + (r + 1) % P;
		}
		rq_free(mem, fill);
		uint32_t w = cnt[S];
		uint32_t pos = w;
		for (uint32_t i = 0; i < m; i++) {
			uint32_t tmp[RQ_LT_MAX_COLS];
			unsigned n = rq_lt_cols(&pr, isis[i], tmp);
			pl->row_off[S + i] = pos;
			pos += add_row(pl->cols + pos, tmp, n);
		}
		pl->row_off[nrows] = pos;
	}
	const uint32_t *ro = pl->row_off, *rc_ = pl->cols;
	const uint32_t nz = ro[nrows];

	/* column -> rows */
	col_off = rq_calloc(mem, L + 1, sizeof(uint32_t));
	col_rows = rq_malloc(mem, (size_t)nz * sizeof(uint32_t) + 4);
	deg = rq_malloc(mem, (size_t)nrows * sizeof(uint32_t) + 4);
	used = rq_calloc(mem, nrows + 1, 1);
	queue = rq_malloc(mem, (size_t)nrows * sizeof(uint32_t) + 4);
	pl->inact_idx = rq_malloc(mem, (size_t)L * sizeof(uint32_t));
	pl->solve_col = rq_malloc(mem, (size_t)L * sizeof(uint32_t));
	pl->solve_row = rq_malloc(mem, (size_t)L * sizeof(uint32_t));
	pl->inact_col = rq_malloc(mem, (size_t)icap * sizeof(uint32_t));
	if (!col_off || !col_rows || !deg || !used || !queue || !pl->inact_idx || !pl->solve_col ||
	    !pl->solve_row || !pl->inact_col)
		goto fail;
	for (uint32_t k = 0; k < nz; k++)
		col_off[rc_[k] + 1]++;
	for (uint32_t c = 0; c < L; c++)
		col_off[c + 1] += col_off[c];
	{
		colpos = rq_malloc(mem, (size_t)L * sizeof(uint32_t));
		if (!colpos)
			goto fail;
		memcpy(colpos, col_off, (size_t)L * sizeof(uint32_t));
		for (uint32_t r = 0; r < nrows; r++)
			for (uint32_t k = ro[r]; k < ro[r + 1]; k++)
				col_rows[colpos[rc_[k]]++] = r;
		rq_free(mem, colpos);
		colpos = NULL;
	}

	/* ---- peeling with inactivation ---- */
	/* inact_idx doubles as column state during peeling: NOT_INACTIVE - 1 means
	 * still active, NOT_INACTIVE solved, anything else an inactive index. */
	const uint32_t ACTIVE = NOT_INACTIVE - 1;
	uint32_t *st = pl->inact_idx;
	uint32_t ninact = 0, nsolved = 0, nactive = W;
	for (uint32_t c = 0; c < L; c++) {
		if (c < W) {
			st[c] = ACTIVE;
		} else {
			st[c] = ninact;
			pl->inact_col[ninact++] = c;
		}
	}
	uint32_t qn = 0;
	for (uint32_t r = 0; r < nrows; r++) {
		uint32_t d = 0;
		for (uint32_t k = ro[r]; k < ro[r + 1]; k++)
			d += st[rc_[k]] == ACTIVE;
		deg[r] = d;
		if (d == 1)
			queue[qn++] = r;
	}
	while (nactive > 0) {
		uint32_t row = UINT32_MAX;
		while (qn > 0) {
			uint32_t r = queue[--qn];
			if (!used[r] && deg[r] == 1) {
				row = r;
				break;
			}
		}
		if (row == UINT32_MAX) {
			/* stuck: the row of least degree keeps one column, the rest
			 * become inactive */
			uint32_t best = UINT32_MAX, bestdeg = UINT32_MAX;
			for (uint32_t r = 0; r < nrows; r++)
				if (!used[r] && deg[r] >= 2 && deg[r] < bestdeg) {
					bestdeg = deg[r];
					best = r;
					if (bestdeg == 2)
						break;
				}
			if (best == UINT32_MAX) {
				/* the remaining columns are in no sparse row: only the HDPC
				 * rows can determine them */
				for (uint32_t c = 0; c < W; c++)
					if (st[c] == ACTIVE) {
						if (ninact >= icap) {
							rc = -CN_ELIMIT;
							goto fail;
						}
						st[c] = ninact;
						pl->inact_col[ninact++] = c;
						nactive--;
					}
				break;
			}
			uint32_t keep = 1;
			for (uint32_t k = ro[best]; k < ro[best + 1]; k++) {
				uint32_t c = rc_[k];
				if (st[c] != ACTIVE)
					continue;
				if (keep) {
					keep = 0;
					continue;
				}
				if (ninact >= icap) {
					rc = -CN_ELIMIT;
					goto fail;
				}
				st[c] = ninact;
				pl->inact_col[ninact++] = c;
				nactive--;
				for (uint32_t q = col_off[c]; q < col_off[c + 1]; q++) {
					uint32_t r2 = col_rows[q];
					if (!used[r2] && --deg[r2] == 1)
						queue[qn++] = r2;
				}
			}
			continue;
		}
		uint32_t col = UINT32_MAX;
		for (uint32_t k = ro[row]; k < ro[row + 1]; k++)
			if (st[rc_[k]] == ACTIVE) {
				col = rc_[k];
				break;
			}
		used[row] = 1;
		st[col] = NOT_INACTIVE;
		nactive--;
		pl->solve_col[nsolved] = col;
		pl->solve_row[nsolved++] = row;
		for (uint32_t q = col_off[col]; q < col_off[col + 1]; q++) {
			uint32_t r2 = col_rows[q];
			if (!used[r2] && --deg[r2] == 1)
				queue[qn++] = r2;
		}
	}
	pl->nsolved = nsolved;
	pl->ninact = ninact;
	rq_free(mem, col_off);
	rq_free(mem, col_rows);
	rq_free(mem, deg);
	rq_free(mem, queue);
	col_off = col_rows = deg = queue = NULL;

	pl->unused_row = rq_malloc(mem, (size_t)(nrows - nsolved) * sizeof(uint32_t) + 4);
	if (!pl->unused_row)
		goto fail;
	pl->nunused = 0;
	for (uint32_t r = 0; r < nrows; r++)
		if (!used[r])
			pl->unused_row[pl->nunused++] = r;
	rq_free(mem, used);
	used = NULL;

	const uint32_t I = ninact, R = pl->nunused + H;
	if (R < I) {
		rc = -CN_EVERIFY;
		goto fail;
	}

	/* ---- solved columns as combinations of inactive ones ---- */
	const uint32_t nw = (I + 63) / 64;
	expr = rq_calloc(mem, (size_t)L * nw + 1, sizeof(uint64_t));
	if (!expr)
		goto fail;
	for (uint32_t s = 0; s < nsolved; s++) {
		uint32_t c = pl->solve_col[s], r = pl->solve_row[s];
		uint64_t *v = expr + (size_t)c * nw;
		for (uint32_t k = ro[r]; k < ro[r + 1]; k++) {
			uint32_t j = rc_[k];
			if (j == c)
				continue;
			if (st[j] != NOT_INACTIVE) {
				v[st[j] / 64] ^= 1ull << (st[j] % 64);
			} else {
				const uint64_t *u = expr + (size_t)j * nw;
				for (uint32_t w = 0; w < nw; w++)
					v[w] ^= u[w];
			}
		}
	}

	/* ---- the dense system over the inactive columns ----
	 * Rows are ds = 64 * nw bytes apart so bit vectors expand a word at a time. */
	const size_t ds = (size_t)nw * 64;
	pthread_once(&bit_spread_once, bit_spread_init);
	dense = rq_calloc(mem, (size_t)R * ds + 1, 1);
	hd = rq_calloc(mem, (size_t)ds + 1, 1);
	pl->mt = rq_malloc(mem, (size_t)(pr.kp + S) * 2 * sizeof(uint16_t));
	if (!dense || !hd || !pl->mt)
		goto fail;
	for (uint32_t u = 0; u < pl->nunused; u++) {
		uint32_t r = pl->unused_row[u];
		uint8_t *row = dense + (size_t)u * ds;
		for (uint32_t k = ro[r]; k < ro[r + 1]; k++) {
			uint32_t j = rc_[k];
			if (st[j] != NOT_INACTIVE)
				row[st[j]] ^= 1;
			else
				bits_to_bytes_xor(row, expr + (size_t)j * nw, nw);
		}
	}
	{
		/* HDPC rows (section 5.3.3.3): MT * GAMMA via D_j = alpha D_(j-1) + C_j */
		const uint32_t ks = pr.kp + S;
		uint8_t *hrow = dense + (size_t)pl->nunused * ds;
		for (uint32_t j = 0; j + 1 < ks; j++) {
			uint32_t h1 = rq_rand(j + 1, 6, H);
			uint32_t h2 = (h1 + rq_rand(j + 1, 7, H - 1) + 1) % H;
			pl->mt[2 * j] = (uint16_t)h1;
			pl->mt[2 * j + 1] = (uint16_t)h2;
		}
		for (uint32_t j = 0; j < ks; j++) {
			rq_gf_scale(hd, 2, I);
			if (st[j] != NOT_INACTIVE)
				hd[st[j]] ^= 1;
			else
				bits_to_bytes_xor(hd, expr + (size_t)j * nw, nw);
			if (j + 1 < ks) {
				rq_gf_add(hrow + (size_t)pl->mt[2 * j] * ds, hd, I);
				rq_gf_add(hrow + (size_t)pl->mt[2 * j + 1] * ds, hd, I);
			} else {
				for (uint32_t h = 0; h < H; h++)
					rq_gf_muladd(hrow + (size_t)h * ds, hd, rq_gf_exp(h), I);
			}
		}
		for (uint32_t h = 0; h < H; h++)
			hrow[(size_t)h * ds + st[ks + h]] ^= 1;
	}
	rq_free(mem, expr);
	rq_free(mem, hd);
	expr = NULL;
	hd = NULL;

	/* ---- Gauss-Jordan with recorded operations ---- */
	pl->pivot = rq_malloc(mem, (size_t)I * sizeof(uint32_t) + 4);
	pl->ops = rq_malloc(mem, ((size_t)R * I + 1) * sizeof(struct dop));
	uint8_t *is_pivot = rq_calloc(mem, R + 1, 1);
	if (!pl->pivot || !pl->ops || !is_pivot) {
		rq_free(mem, is_pivot);
		goto fail;
	}
	uint32_t nops = 0;
	for (uint32_t k = 0; k < I; k++) {
		uint32_t pv = UINT32_MAX;
		for (uint32_t r = 0; r < R; r++)
			if (!is_pivot[r] && dense[(size_t)r * ds + k]) {
				pv = r;
				break;
			}
		if (pv == UINT32_MAX) {
			rq_free(mem, is_pivot);
			rc = -CN_EVERIFY;
			goto fail;
		}
		is_pivot[pv] = 1;
		pl->pivot[k] = pv;
		uint8_t *prow = dense + (size_t)pv * ds;
		if (prow[k] != 1) {
			uint8_t inv = rq_gf_div(1, prow[k]);
			rq_gf_scale(prow + k, inv, I - k);
			pl->ops[nops++] = (struct dop){pv, pv, inv};
		}
		for (uint32_t r = 0; r < R; r++) {
			uint8_t *row = dense + (size_t)r * ds;
			if (r == pv || !row[k])
				continue;
			uint8_t f = row[k];
			rq_gf_muladd(row + k, prow + k, f, I - k);
			pl->ops[nops++] = (struct dop){r, pv, f};
		}
	}
	/* operations on rows that never became pivots feed nothing */
	uint32_t w = 0;
	for (uint32_t o = 0; o < nops; o++)
		if (is_pivot[pl->ops[o].dst])
			pl->ops[w++] = pl->ops[o];
	pl->nops = w;
	rq_free(mem, is_pivot);
	rq_free(mem, dense);
	dense = NULL;

	pl->bytes = (size_t)(nrows + 1) * 4 + (size_t)nz * 4 + (size_t)L * 12 + (size_t)I * 8 +
		    (size_t)pl->nunused * 4 + (size_t)(pr.kp + S) * 4 + (size_t)R * I * sizeof(struct dop);
	*out = pl;
	return 0;

fail:
	rq_free(mem, col_off);
	rq_free(mem, col_rows);
	rq_free(mem, deg);
	rq_free(mem, queue);
	rq_free(mem, colpos);
	rq_free(mem, used);
	rq_free(mem, dense);
	rq_free(mem, hd);
	rq_free(mem, expr);
	rq_plan_release(pl, mem);
	return rc;
}

/* Peels every solved column in order: C_c = Y_r + sum of the row's other
 * columns (inactive ones only when with_inactive), in one pass over C_c for
 * LT rows; long LDPC rows go in chunks, each folding in the previous result. */
static void peel(const struct rq_plan *pl, const uint8_t *const *y, size_t t, uint8_t *c,
		 int with_inactive)
{
	enum { CHUNK = 32 };
	const uint32_t S = pl->pr.s;
	const uint8_t *v[CHUNK + 1];
	for (uint32_t s = 0; s < pl->nsolved; s++) {
		uint32_t col = pl->solve_col[s], r = pl->solve_row[s];
		uint8_t *dst = c + (size_t)col * t;
		unsigned n = 0;
		int written = 0;
		if (r >= S && y[r - S])
			v[n++] = y[r - S];
		for (uint32_t k = pl->row_off[r]; k < pl->row_off[r + 1]; k++) {
			uint32_t j = pl->cols[k];
			if (j == col || (!with_inactive && pl->inact_idx[j] != NOT_INACTIVE))
				continue;
			v[n++] = c + (size_t)j * t;
			if (n == CHUNK + 1) {
				rq_gf_xor_many(dst, v, n, t);
				written = 1;
				v[0] = dst; /* allowed alias: the first source */
				n = 1;
			}
		}
		if (n > (unsigned)written)
			rq_gf_xor_many(dst, v, n, t);
		else if (!written)
			memset(dst, 0, t);
	}
}

int rq_plan_run(const struct rq_plan *pl, const uint8_t *const *y, size_t t, uint8_t *c,
		struct rq_mem *mem)
{
	const struct rq_params *pr = &pl->pr;
	const uint32_t S = pr->s, H = pr->h, I = pl->ninact, R = pl->nunused + H;
	uint8_t *rhs = rq_calloc(mem, (size_t)R * t + 1, 1);
	uint8_t *d = rq_calloc(mem, t + 1, 1);
	if (!rhs || !d) {
		rq_free(mem, rhs);
		rq_free(mem, d);
		return -CN_ENOMEM;
	}
	for (uint32_t k = 0; k < I; k++)
		memset(c + (size_t)pl->inact_col[k] * t, 0, t);
	peel(pl, y, t, c, 0);

	for (uint32_t u = 0; u < pl->nunused; u++) {
		uint32_t r = pl->unused_row[u];
		uint8_t *dst = rhs + (size_t)u * t;
		if (r >= S && y[r - S])
			memcpy(dst, y[r - S], t);
		for (uint32_t k = pl->row_off[r]; k < pl->row_off[r + 1]; k++) {
			uint32_t j = pl->cols[k];
			if (pl->inact_idx[j] == NOT_INACTIVE)
				rq_gf_add(dst, c + (size_t)j * t, t);
		}
	}
	uint8_t *hrhs = rhs + (size_t)pl->nunused * t;
	const uint32_t ks = pr->kp + S;
	for (uint32_t j = 0; j < ks; j++) {
		rq_gf_scale(d, 2, t);
		if (pl->inact_idx[j] == NOT_INACTIVE)
			rq_gf_add(d, c + (size_t)j * t, t);
		if (j + 1 < ks) {
			rq_gf_add(hrhs + (size_t)pl->mt[2 * j] * t, d, t);
			rq_gf_add(hrhs + (size_t)pl->mt[2 * j + 1] * t, d, t);
		} else {
			for (uint32_t h = 0; h < H; h++)
				rq_gf_muladd(hrhs + (size_t)h * t, d, rq_gf_exp(h), t);
		}
	}

	for (uint32_t o = 0; o < pl->nops; o++) {
		const struct dop *op = &pl->ops[o];
		if (op->dst == op->src)
			rq_gf_scale(rhs + (size_t)op->dst * t, op->c, t);
		else
			rq_gf_muladd(rhs + (size_t)op->dst * t, rhs + (size_t)op->src * t, op->c, t);
	}
	for (uint32_t k = 0; k < I; k++)
		memcpy(c + (size_t)pl->inact_col[k] * t, rhs + (size_t)pl->pivot[k] * t, t);
	peel(pl, y, t, c, 1);
	rq_free(mem, rhs);
	rq_free(mem, d);
	return 0;
}
