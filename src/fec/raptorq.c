/* raptorq.c — OTI, partitioning, block codec, plan cache, streaming encoder
 * and decoder (RFC 6330 sections 3, 4 and 5.3). */
#include "fec/raptorq.h"

#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "fec/gf256.h"
#include "fec/rq_internal.h"

/* ---- OTI ---------------------------------------------------------------------- */

static uint64_t ceil_div(uint64_t a, uint64_t b)
{
	return (a + b - 1) / b;
}

int rq_oti_check(const struct rq_oti *o)
{
	if (o->f == 0 || o->f > RQ_MAX_F || o->al == 0 || o->t < o->al || o->t % o->al ||
	    o->z == 0 || o->n == 0 || o->n > o->t / o->al)
		return -CN_EINVAL;
	uint64_t kt = ceil_div(o->f, o->t);
	if (o->z > kt || ceil_div(kt, o->z) > RQ_MAX_KPRIME)
		return -CN_EINVAL;
	return 0;
}

void rq_oti_serialize(const struct rq_oti *o, uint8_t out[RQ_OTI_LEN])
{
	for (int i = 0; i < 5; i++)
		out[i] = (uint8_t)(o->f >> (8 * (4 - i)));
	out[5] = 0;
	out[6] = (uint8_t)(o->t >> 8);
	out[7] = (uint8_t)o->t;
	out[8] = o->z;
	out[9] = (uint8_t)(o->n >> 8);
	out[10] = (uint8_t)o->n;
	out[11] = o->al;
}

int rq_oti_parse(const uint8_t in[RQ_OTI_LEN], struct rq_oti *out)
{
	struct rq_oti o;
	o.f = 0;
	for (int i = 0; i < 5; i++)
		o.f = o.f << 8 | in[i];
	if (in[5] != 0)
		return -CN_EINVAL;
	o.t = (uint16_t)(in[6] << 8 | in[7]);
	o.z = in[8];
	o.n = (uint16_t)(in[9] << 8 | in[10]);
	o.al = in[11];
	int rc = rq_oti_check(&o);
	if (rc)
		return rc;
	*out = o;
	return 0;
}

/* Largest K' of Table 2 not above bound (0 if none). */
static uint32_t kprime_at_most(uint64_t bound)
{
	if (bound >= RQ_MAX_KPRIME)
		return RQ_MAX_KPRIME;
	uint32_t kp = rq_kprime((uint32_t)bound);
	if (kp == (uint32_t)bound)
		return kp;
	/* rq_kprime rounds up; step back one table entry */
	uint32_t prev = 0;
	for (uint32_t k = 1; k <= bound;) {
		uint32_t e = rq_kprime(k);
		if (!e || e > bound)
			break;
		prev = e;
		k = e + 1;
	}
	return prev;
}

int rq_oti_defaults(uint64_t f, uint16_t mtu, uint64_t ws, struct rq_oti *out)
{
	const uint32_t al = 8, ss = 8;
	if (f == 0 || f > RQ_MAX_F || mtu < al)
		return -CN_EINVAL;
	uint32_t t = mtu - mtu % al;
	uint32_t n_max = t / (ss * al);
	if (n_max == 0)
		return -CN_EINVAL;
	uint64_t kt = ceil_div(f, t);
	uint32_t klmax = 0;
	uint32_t kl_n[1025];
	for (uint32_t n = 1; n <= n_max && n <= 1024; n++) {
		uint64_t x = ceil_div(t, (uint64_t)al * n);
		kl_n[n] = kprime_at_most(ws / (al * x));
		if (n == n_max)
			klmax = kl_n[n];
	}
	if (klmax == 0)
		return -CN_EINVAL;
	uint64_t z = ceil_div(kt, klmax);
	if (z > 255)
		return -CN_ERANGE;
	uint32_t n = 1;
	for (uint32_t i = 1; i <= n_max; i++) {
		n = i;
		if (ceil_div(kt, z) <= kl_n[i])
			break;
	}
	struct rq_oti o = {.f = f, .t = (uint16_t)t, .z = (uint8_t)z, .n = (uint16_t)n, .al = (uint8_t)al};
	int rc = rq_oti_check(&o);
	if (rc)
		return rc;
	*out = o;
	return 0;
}

void rq_oti_layout(const struct rq_oti *o, struct rq_layout *l)
{
	l->kt = (uint32_t)ceil_div(o->f, o->t);
	/* Partition[I, J] (section 4.4.1.2) */
	l->kl = (uint32_t)ceil_div(l->kt, o->z);
	l->ks = l->kt / o->z;
	l->zl = l->kt - l->ks * o->z;
	uint32_t ta = o->t / o->al;
	l->tl = (uint32_t)ceil_div(ta, o->n);
	l->ts = ta / o->n;
	l->nl = ta - l->ts * o->n;
}

uint32_t rq_block_k(const struct rq_oti *o, unsigned sbn)
{
	struct rq_layout l;
	if (sbn >= o->z)
		return 0;
	rq_oti_layout(o, &l);
	return sbn < l.zl ? l.kl : l.ks;
}

void rq_payload_id_write(uint8_t out[RQ_PAYLOAD_ID_LEN], uint8_t sbn, uint32_t esi)
{
	out[0] = sbn;
	out[1] = (uint8_t)(esi >> 16);
	out[2] = (uint8_t)(esi >> 8);
	out[3] = (uint8_t)esi;
}

void rq_payload_id_read(const uint8_t in[RQ_PAYLOAD_ID_LEN], uint8_t *sbn, uint32_t *esi)
{
	*sbn = in[0];
	*esi = (uint32_t)in[1] << 16 | (uint32_t)in[2] << 8 | in[3];
}

/* Byte offset of block sbn in the zero-padded object. */
static uint64_t block_offset(const struct rq_oti *o, const struct rq_layout *l, unsigned sbn)
{
	if (sbn < l->zl)
		return (uint64_t)sbn * l->kl * o->t;
	return ((uint64_t)l->zl * l->kl + (uint64_t)(sbn - l->zl) * l->ks) * o->t;
}

/* Source symbol j of a block of k symbols is, with sub-blocks, the
 * concatenation of sub-symbol j of each sub-block (section 4.4.1.2). The
 * callback sees each piece as (offset in block, offset in symbol, length). */
#define FOR_SUBSYMBOLS(o, l, k, j, BODY)                                                    \
	do {                                                                                \
		uint64_t sb_off_ = 0;                                                       \
		size_t sym_off_ = 0;                                                        \
		for (uint32_t s_ = 0; s_ < (o)->n; s_++) {                                  \
			size_t len_ = (size_t)(s_ < (l)->nl ? (l)->tl : (l)->ts) * (o)->al; \
			uint64_t boff_ = sb_off_ + (uint64_t)(j) * len_;                    \
			size_t soff_ = sym_off_;                                            \
			BODY;                                                               \
			sb_off_ += (uint64_t)(k) * len_;                                    \
			sym_off_ += len_;                                                   \
		}                                                                           \
	} while (0)

/* ---- plans and the block codec ----------------------------------------------- */

int rq_plan_new(uint32_t kp, struct rq_plan **out)
{
	struct rq_params pr;
	if (rq_params_get(kp, &pr))
		return -CN_EINVAL;
	uint32_t *isis = malloc((size_t)kp * sizeof *isis);
	if (!isis)
		return -CN_ENOMEM;
	for (uint32_t i = 0; i < kp; i++)
		isis[i] = i;
	int rc = rq_plan_build(kp, isis, kp, NULL, out);
	free(isis);
	return rc;
}

void rq_plan_free(struct rq_plan *plan)
{
	rq_plan_release(plan, NULL);
}

struct rq_plan_cache {
	unsigned max, n, next;
	struct rq_plan **plans;
};

int rq_plan_cache_new(unsigned max_plans, struct rq_plan_cache **out)
{
	if (max_plans == 0)
		return -CN_EINVAL;
	struct rq_plan_cache *c = calloc(1, sizeof *c);
	if (!c || !(c->plans = calloc(max_plans, sizeof *c->plans))) {
		free(c);
		return -CN_ENOMEM;
	}
	c->max = max_plans;
	*out = c;
	return 0;
}

void rq_plan_cache_free(struct rq_plan_cache *c)
{
	if (!c)
		return;
	for (unsigned i = 0; i < c->n; i++)
		rq_plan_free(c->plans[i]);
	free(c->plans);
	free(c);
}

int rq_plan_cache_get(struct rq_plan_cache *c, uint32_t kp, const struct rq_plan **out)
{
	for (unsigned i = 0; i < c->n; i++)
		if (rq_plan_params(c->plans[i])->kp == kp) {
			*out = c->plans[i];
			return 0;
		}
	struct rq_plan *p;
	int rc = rq_plan_new(kp, &p);
	if (rc)
		return rc;
	if (c->n < c->max) {
		c->plans[c->n++] = p;
	} else {
		rq_plan_free(c->plans[c->next]);
		c->plans[c->next] = p;
		c->next = (c->next + 1) % c->max;
	}
	*out = p;
	return 0;
}

struct rq_block {
	struct rq_params pr;
	uint32_t k;
	uint16_t t;
	uint8_t *c; /* L intermediate symbols */
};

int rq_block_encode(const struct rq_plan *plan, uint32_t k, uint16_t t, const uint8_t *src,
		    struct rq_block **out)
{
	uint32_t kp = rq_kprime(k);
	if (!kp || t == 0)
		return -CN_EINVAL;
	if (plan && rq_plan_params(plan)->kp != kp)
		return -CN_EINVAL;
	struct rq_plan *own = NULL;
	int rc;
	if (!plan) {
		if ((rc = rq_plan_new(kp, &own)))
			return rc;
		plan = own;
	}
	const struct rq_params *pr = rq_plan_params(plan);
	struct rq_block *b = calloc(1, sizeof *b);
	const uint8_t **y = calloc(kp, sizeof *y);
	rc = -CN_ENOMEM;
	if (!b || !y || !(b->c = malloc((size_t)pr->l * t)))
		goto out;
	for (uint32_t i = 0; i < k; i++)
		y[i] = src + (size_t)i * t;
	b->pr = *pr;
	b->k = k;
	b->t = t;
	rc = rq_plan_run(plan, (const uint8_t *const *)y, t, b->c, NULL);
out:
	free(y);
	rq_plan_free(own);
	if (rc) {
		if (b)
			free(b->c);
		free(b);
		return rc;
	}
	*out = b;
	return 0;
}

int rq_block_symbol(const struct rq_block *b, uint32_t esi, uint8_t *out)
{
	if (esi > RQ_MAX_ESI)
		return -CN_EINVAL;
	uint32_t isi = esi < b->k ? esi : esi + (b->pr.kp - b->k);
	rq_lt_symbol(&b->pr, b->c, b->t, isi, out);
	return 0;
}

void rq_block_free(struct rq_block *b)
{
	if (!b)
		return;
	free(b->c);
	free(b);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

/* Decodes with the budget mem. have[j] marks source symbols already in out;
 * the n repair/source symbols (esis, syms) are distinct. Missing source
 * symbols are written to out. */
static int block_decode(struct rq_mem *mem, uint32_t k, size_t t, uint8_t *out, const uint8_t *have,
			size_t n, const uint32_t *esis, const uint8_t *const *syms)
{
	uint32_t kp = rq_kprime(k);
	if (!kp)
		return -CN_EINVAL;
	uint64_t rows = (uint64_t)(kp - k) + n;
	for (uint32_t j = 0; j < k; j++)
		rows += have[j] ? 1 : 0;
	if (rows < kp)
		return -CN_EVERIFY;
	if (rows > UINT32_MAX / 2)
		return -CN_ERANGE;
	uint32_t m = (uint32_t)rows;
	struct rq_params pr;
	rq_params_get(kp, &pr);
	uint32_t *isis = rq_malloc(mem, (size_t)m * sizeof *isis);
	const uint8_t **y = rq_malloc(mem, (size_t)m * sizeof *y);
	uint8_t *c = rq_malloc(mem, (size_t)pr.l * t);
	struct rq_plan *plan = NULL;
	int rc = -CN_ENOMEM;
	if (!isis || !y || !c)
		goto out;
	uint32_t r = 0;
	for (uint32_t j = 0; j < k; j++)
		if (have[j]) {
			isis[r] = j;
			y[r++] = out + (size_t)j * t;
		}
	for (size_t i = 0; i < n; i++) {
		isis[r] = esis[i] < k ? esis[i] : esis[i] + (kp - k);
		y[r++] = syms[i];
	}
	for (uint32_t j = k; j < kp; j++) {
		isis[r] = j;
		y[r++] = NULL;
	}
	rc = rq_plan_build(kp, isis, m, mem, &plan);
	if (rc)
		goto out;
	rc = rq_plan_run(plan, (const uint8_t *const *)y, t, c, mem);
	if (rc)
		goto out;
	for (uint32_t j = 0; j < k; j++)
		if (!have[j])
			rq_lt_symbol(&pr, c, t, j, out + (size_t)j * t);
out:
	rq_plan_release(plan, mem);
	rq_free(mem, isis);
	rq_free(mem, y);
	rq_free(mem, c);
	return rc;
}

int rq_block_decode(uint32_t k, uint16_t t, size_t n, const uint32_t *esis, const uint8_t *syms,
		    uint8_t *out)
{
	if (!rq_kprime(k) || t == 0)
		return -CN_EINVAL;
	uint8_t *have = calloc(k, 1);
	uint32_t *order = malloc((n + 1) * sizeof *order);
	uint32_t *resi = malloc((n + 1) * sizeof *resi);
	const uint8_t **rsym = malloc((n + 1) * sizeof *rsym);
	int rc = -CN_ENOMEM;
	if (!have || !order || !resi || !rsym)
		goto out;
	rc = -CN_EINVAL;
	size_t nr = 0;
	/* repair ESIs are deduplicated by sorting (packed as index order) */
	for (size_t i = 0; i < n; i++) {
		if (esis[i] > RQ_MAX_ESI)
			goto out;
		if (esis[i] < k) {
			if (!have[esis[i]]) {
				have[esis[i]] = 1;
				memcpy(out + (size_t)esis[i] * t, syms + i * t, t);
			}
		} else {
			order[nr++] = (uint32_t)i;
		}
	}
	/* drop repeated repair ESIs (first copy wins) */
	{
		uint64_t *keyed = malloc((nr + 1) * sizeof *keyed);
		if (!keyed) {
			rc = -CN_ENOMEM;
			goto out;
		}
		for (size_t i = 0; i < nr; i++)
			keyed[i] = (uint64_t)esis[order[i]] << 32 | order[i];
		qsort(keyed, nr, sizeof *keyed, cmp_u64);
		size_t u = 0;
		for (size_t i = 0; i < nr; i++) {
			if (i > 0 && keyed[i] >> 32 == keyed[i - 1] >> 32)
				continue;
			resi[u] = (uint32_t)(keyed[i] >> 32);
			rsym[u++] = syms + (size_t)(uint32_t)keyed[i] * t;
		}
		nr = u;
		free(keyed);
	}
	uint32_t nsrc = 0;
	for (uint32_t j = 0; j < k; j++)
		nsrc += have[j];
	if (nsrc == k)
		rc = 0;
	else
		rc = block_decode(NULL, k, t, out, have, nr, resi, rsym);
out:
	free(have);
	free(order);
	free(resi);
	free(rsym);
	return rc;
}

/* ---- streaming encoder ------------------------------------------------------ */

struct rq_encoder {
	const uint8_t *data;
	struct rq_oti oti;
	struct rq_layout lay;
	struct rq_plan_cache *cache;
	int cur;              /* block whose intermediate symbols are in blk, or -1 */
	struct rq_block *blk;
	uint8_t *buf;         /* one source block, symbols contiguous */
};

int rq_encoder_new(const uint8_t *data, const struct rq_oti *oti, struct rq_plan_cache *cache,
		   struct rq_encoder **out)
{
	int rc = rq_oti_check(oti);
	if (rc)
		return rc;
	struct rq_encoder *e = calloc(1, sizeof *e);
	if (!e)
		return -CN_ENOMEM;
	e->data = data;
	e->oti = *oti;
	rq_oti_layout(oti, &e->lay);
	e->cache = cache;
	e->cur = -1;
	*out = e;
	return 0;
}

void rq_encoder_free(struct rq_encoder *e)
{
	if (!e)
		return;
	rq_block_free(e->blk);
	free(e->buf);
	free(e);
}

const struct rq_oti *rq_encoder_oti(const struct rq_encoder *e)
{
	return &e->oti;
}

static void gather_source(const struct rq_encoder *e, unsigned sbn, uint32_t k, uint32_t j, uint8_t *out)
{
	const uint64_t base = block_offset(&e->oti, &e->lay, sbn), f = e->oti.f;
	FOR_SUBSYMBOLS(&e->oti, &e->lay, k, j, {
		uint64_t at = base + boff_;
		size_t avail = at >= f ? 0 : (f - at < len_ ? (size_t)(f - at) : len_);
		memcpy(out + soff_, e->data + (avail ? at : 0), avail);
		memset(out + soff_ + avail, 0, len_ - avail);
	});
}

int rq_encoder_packet(struct rq_encoder *e, uint8_t sbn, uint32_t esi, uint8_t *out)
{
	if (sbn >= e->oti.z || esi > RQ_MAX_ESI)
		return -CN_EINVAL;
	const size_t t = e->oti.t;
	const uint32_t k = sbn < e->lay.zl ? e->lay.kl : e->lay.ks;
	rq_payload_id_write(out, sbn, esi);
	if (esi < k) {
		gather_source(e, sbn, k, esi, out + RQ_PAYLOAD_ID_LEN);
		return 0;
	}
	if (e->cur != sbn) {
		rq_block_free(e->blk);
		e->blk = NULL;
		e->cur = -1;
		free(e->buf);
		e->buf = malloc((size_t)k * t);
		if (!e->buf)
			return -CN_ENOMEM;
		for (uint32_t j = 0; j < k; j++)
			gather_source(e, sbn, k, j, e->buf + (size_t)j * t);
		const struct rq_plan *plan = NULL;
		int rc;
		if (e->cache && (rc = rq_plan_cache_get(e->cache, rq_kprime(k), &plan)))
			return rc;
		if ((rc = rq_block_encode(plan, k, (uint16_t)t, e->buf, &e->blk)))
			return rc;
		free(e->buf);
		e->buf = NULL;
		e->cur = sbn;
	}
	return rq_block_symbol(e->blk, esi, out + RQ_PAYLOAD_ID_LEN);
}

/* ---- streaming decoder ------------------------------------------------------ */

/* Repair symbols kept per block beyond K: enough for any realistic decode
 * (failure after K+2 is below 1e-6), and a fixed ceiling on memory. */
#define REPAIR_SLACK 16

struct dblock {
	uint32_t k;
	uint32_t nsrc, nrep, caprep;
	uint32_t last_try; /* symbol count at the last failed attempt */
	uint32_t fails;    /* failed attempts: each one waits for that many more symbols */
	int done;
	uint8_t *have;     /* k flags */
	uint8_t *sym;      /* k contiguous source symbols while decoding */
	uint32_t *rep_esi;
	uint8_t *rep_sym;
};

struct rq_decoder {
	struct rq_oti oti;
	struct rq_layout lay;
	struct rq_mem mem;
	uint8_t *obj;      /* the object, zero-padded to whole blocks */
	uint64_t padded;
	struct dblock *blk;
	uint32_t ndone;
};

int rq_decoder_memory(const struct rq_oti *oti, uint64_t *bytes)
{
	int rc = rq_oti_check(oti);
	if (rc)
		return rc;
	struct rq_layout l;
	rq_oti_layout(oti, &l);
	const uint64_t t = oti->t, z = oti->z, kl = l.kl;
	uint64_t kp = rq_kprime(l.kl);
	struct rq_params pr;
	rq_params_get((uint32_t)kp, &pr);
	uint64_t b = 0;
	b += (uint64_t)l.kt * t + z * t;                       /* object, padded */
	b += z * (sizeof(struct dblock) + kl + 64);           /* block states, flags */
	b += z * ((kl + REPAIR_SLACK) * (t + 4) + 64);        /* repair stores */
	b += kl * t + (kl + REPAIR_SLACK) * 8 + 64;           /* contiguous block, dedup keys */
	uint64_t m = kp + REPAIR_SLACK;
	b += m * 12 + (uint64_t)pr.l * t + 4 * 64;            /* rows, intermediate symbols */
	uint64_t s = rq_solver_memory((uint32_t)kp, m, t);
	if (s == UINT64_MAX)
		return -CN_EINVAL;
	*bytes = b + s + sizeof(struct rq_decoder) + 4096;
	return 0;
}

int rq_decoder_new(const struct rq_oti *oti, uint64_t mem_cap, struct rq_decoder **out)
{
	uint64_t need;
	int rc = rq_decoder_memory(oti, &need);
	if (rc)
		return rc;
	if (need > mem_cap)
		return -CN_ELIMIT;
	struct rq_mem mem = {.cap = mem_cap};
	struct rq_decoder *d = rq_calloc(&mem, 1, sizeof *d);
	if (!d)
		return -CN_ENOMEM;
	d->oti = *oti;
	rq_oti_layout(oti, &d->lay);
	d->padded = ((uint64_t)d->lay.zl * d->lay.kl + (uint64_t)(oti->z - d->lay.zl) * d->lay.ks) * oti->t;
	d->blk = rq_calloc(&mem, oti->z, sizeof *d->blk);
	d->obj = d->blk ? rq_calloc(&mem, d->padded, 1) : NULL;
	d->mem = mem;
	if (!d->blk || !d->obj) {
		rq_decoder_free(d);
		return -CN_ENOMEM;
	}
	for (unsigned b = 0; b < oti->z; b++) {
		struct dblock *bl = &d->blk[b];
		bl->k = b < d->lay.zl ? d->lay.kl : d->lay.ks;
		bl->have = rq_calloc(&d->mem, bl->k, 1);
		if (!bl->have) {
			rq_decoder_free(d);
			return -CN_ENOMEM;
		}
	}
	*out = d;
	return 0;
}

static void dblock_release(struct rq_decoder *d, struct dblock *bl)
{
	rq_free(&d->mem, bl->rep_esi);
	rq_free(&d->mem, bl->rep_sym);
	rq_free(&d->mem, bl->sym);
	bl->rep_esi = NULL;
	bl->rep_sym = NULL;
	bl->sym = NULL;
	bl->nrep = bl->caprep = 0;
}

void rq_decoder_free(struct rq_decoder *d)
{
	if (!d)
		return;
	if (d->blk) {
		for (unsigned b = 0; b < d->oti.z; b++) {
			dblock_release(d, &d->blk[b]);
			rq_free(&d->mem, d->blk[b].have);
		}
	}
	struct rq_mem mem = d->mem; /* d itself is freed last */
	rq_free(&mem, d->blk);
	rq_free(&mem, d->obj);
	rq_free(&mem, d);
}

uint64_t rq_decoder_allocated(const struct rq_decoder *d)
{
	return d->mem.used;
}

static void scatter_source(struct rq_decoder *d, unsigned sbn, uint32_t k, uint32_t j, const uint8_t *in)
{
	uint8_t *base = d->obj + block_offset(&d->oti, &d->lay, sbn);
	FOR_SUBSYMBOLS(&d->oti, &d->lay, k, j, { memcpy(base + boff_, in + soff_, len_); });
}

static void gather_obj(const struct rq_decoder *d, unsigned sbn, uint32_t k, uint32_t j, uint8_t *out)
{
	const uint8_t *base = d->obj + block_offset(&d->oti, &d->lay, sbn);
	FOR_SUBSYMBOLS(&d->oti, &d->lay, k, j, { memcpy(out + soff_, base + boff_, len_); });
}

/* Drops repeated ESIs from the repair store (the first copy stays). */
static int compact_repairs(struct rq_decoder *d, struct dblock *bl, size_t t)
{
	if (bl->nrep < 2)
		return 0;
	uint64_t *keyed = rq_malloc(&d->mem, (size_t)bl->nrep * sizeof *keyed);
	if (!keyed)
		return -CN_ENOMEM;
	for (uint32_t i = 0; i < bl->nrep; i++)
		keyed[i] = (uint64_t)bl->rep_esi[i] << 32 | i;
	qsort(keyed, bl->nrep, sizeof *keyed, cmp_u64);
	int dups = 0;
	for (uint32_t i = 1; i < bl->nrep; i++)
		if (keyed[i] >> 32 == keyed[i - 1] >> 32) {
			bl->rep_esi[(uint32_t)keyed[i]] = UINT32_MAX; /* no real ESI is this big */
			dups = 1;
		}
	rq_free(&d->mem, keyed);
	if (!dups)
		return 0;
	uint32_t w = 0;
	for (uint32_t i = 0; i < bl->nrep; i++) {
		if (bl->rep_esi[i] == UINT32_MAX)
			continue;
		if (w != i) {
			bl->rep_esi[w] = bl->rep_esi[i];
			memcpy(bl->rep_sym + (size_t)w * t, bl->rep_sym + (size_t)i * t, t);
		}
		w++;
	}
	bl->nrep = w;
	return 0;
}

static int try_decode(struct rq_decoder *d, unsigned sbn)
{
	struct dblock *bl = &d->blk[sbn];
	const size_t t = d->oti.t;
	int rc = 0;
	if (bl->nsrc < bl->k) {
		if ((rc = compact_repairs(d, bl, t)))
			return rc;
		if (bl->nsrc + bl->nrep < bl->k)
			return 0;
		bl->sym = rq_malloc(&d->mem, (size_t)bl->k * t);
		const uint8_t **ys = rq_malloc(&d->mem, ((size_t)bl->nrep + 1) * sizeof *ys);
		if (!bl->sym || !ys) {
			rq_free(&d->mem, ys);
			rq_free(&d->mem, bl->sym);
			bl->sym = NULL;
			return -CN_ENOMEM;
		}
		for (uint32_t j = 0; j < bl->k; j++)
			if (bl->have[j])
				gather_obj(d, sbn, bl->k, j, bl->sym + (size_t)j * t);
		for (uint32_t i = 0; i < bl->nrep; i++)
			ys[i] = bl->rep_sym + (size_t)i * t;
		/* at most K + REPAIR_SLACK rows in all: that is what the memory bound
		 * of the decoder assumes, and more never helps a real decode */
		uint32_t use = bl->nrep;
		if ((uint64_t)bl->nsrc + use > (uint64_t)bl->k + REPAIR_SLACK)
			use = bl->k + REPAIR_SLACK - bl->nsrc;
		rc = block_decode(&d->mem, bl->k, t, bl->sym, bl->have, use, bl->rep_esi, ys);
		rq_free(&d->mem, ys);
		if (rc) {
			rq_free(&d->mem, bl->sym);
			bl->sym = NULL;
			bl->last_try = bl->nsrc + bl->nrep;
			bl->fails++;
			/* not yet determined: wait for more symbols */
			return rc == -CN_ENOMEM ? rc : 0;
		}
		for (uint32_t j = 0; j < bl->k; j++)
			if (!bl->have[j])
				scatter_source(d, sbn, bl->k, j, bl->sym + (size_t)j * t);
	}
	bl->done = 1;
	d->ndone++;
	dblock_release(d, bl);
	return 0;
}

int rq_decoder_push(struct rq_decoder *d, const uint8_t *pkt, size_t len)
{
	const size_t t = d->oti.t;
	if (len != RQ_PAYLOAD_ID_LEN + t)
		return -CN_EINVAL;
	uint8_t sbn;
	uint32_t esi;
	rq_payload_id_read(pkt, &sbn, &esi);
	if (sbn >= d->oti.z)
		return -CN_EINVAL;
	struct dblock *bl = &d->blk[sbn];
	const uint8_t *sym = pkt + RQ_PAYLOAD_ID_LEN;
	if (bl->done)
		return 0;
	if (esi < bl->k) {
		if (bl->have[esi])
			return 0;
		scatter_source(d, sbn, bl->k, esi, sym);
		bl->have[esi] = 1;
		bl->nsrc++;
	} else {
		if (!bl->rep_esi) {
			bl->caprep = bl->k + REPAIR_SLACK;
			bl->rep_esi = rq_malloc(&d->mem, (size_t)bl->caprep * sizeof(uint32_t));
			bl->rep_sym = rq_malloc(&d->mem, (size_t)bl->caprep * t);
			if (!bl->rep_esi || !bl->rep_sym) {
				dblock_release(d, bl);
				return -CN_ENOMEM;
			}
		}
		int rc;
		if (bl->nrep == bl->caprep && (rc = compact_repairs(d, bl, t)))
			return rc;
		if (bl->nrep == bl->caprep)
			return 0; /* full of distinct symbols: a decode was already tried */
		bl->rep_esi[bl->nrep] = esi;
		memcpy(bl->rep_sym + (size_t)bl->nrep * t, sym, t);
		bl->nrep++;
	}
	uint32_t have = bl->nsrc + bl->nrep;
	/* after f failures wait for f more symbols: a legitimate block fails at
	 * most once or twice, and a hostile stream cannot force a full decode per
	 * packet */
	if (bl->nsrc == bl->k || (have >= bl->k && have >= (uint64_t)bl->last_try + bl->fails))
		return try_decode(d, sbn);
	return 0;
}

int rq_decoder_complete(const struct rq_decoder *d)
{
	return d->ndone == d->oti.z;
}

int rq_decoder_object(const struct rq_decoder *d, const uint8_t **data, uint64_t *len)
{
	if (!rq_decoder_complete(d))
		return -CN_ESTATE;
	*data = d->obj;
	*len = d->oti.f;
	return 0;
}
