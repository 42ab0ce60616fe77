/* fbft.c — the FBFT state machine: one height at a time, views from 0,
 * PBFT-style locking on prepared certificates. See docs/consensus.md. */
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "consensus/fbft.h"
#include "crypto/crypto.h"

#define FOREIGN_MAX 32
#define MSG_CAP_EXTRA 4096

/* Votes the leader collects for one (type, height, view, hash). Votes are
 * kept unverified until together they would make a quorum; then one
 * FastAggregateVerify checks them all and only a failure costs one check per
 * vote. With BLS, the signatures are not even subgroup-checked one by one on
 * that path: only their sum is (see fbft_bls.c). Nothing but the verified
 * aggregate (vsig) is kept, used in evidence or forwarded; a pending
 * signature becomes one of those only through a full per-vote check. Votes
 * that arrive after the pool is done are dropped before any decoding. */
struct pool {
	int active, done;
	uint8_t type;
	uint64_t height, view;
	uint8_t hash[FBFT_HASH_LEN];
	uint8_t payload[49];
	size_t plen;
	uint8_t vbits[FBFT_BITMAP_MAX]; /* verified signers */
	uint8_t vsig[FBFT_SIG_MAX];     /* their aggregate */
	int has_v;
	uint8_t pbits[FBFT_BITMAP_MAX]; /* pending (unverified) signers */
	size_t npend;
	uint8_t *pend_bm, *pend_sig;    /* nkeys entries each; pend_sig in vote form */
};

struct foreign {
	uint8_t type;
	uint64_t height, view;
	uint8_t hash[FBFT_HASH_LEN];
	uint8_t bm[FBFT_BITMAP_MAX];
	uint8_t sig[FBFT_SIG_MAX];
};

struct fbft {
	struct fbft_config cfg;
	struct fbft_crypto c;
	uint64_t *power, total_power;
	uint32_t *own;
	uint8_t own_bm[FBFT_BITMAP_MAX];
	uint32_t nb;      /* bitmap bytes */
	size_t sl;        /* signature bytes */
	size_t vsl;       /* bytes of a signature in a vote (crypto's vote form) */
	struct fbft_persist p;
	uint8_t *lock_block;
	size_t lock_block_len;

	/* the proposal of the current view */
	int has_prop, prop_state, prop_vote_ok; /* state: 0 validating, 1 valid, -1 invalid */
	uint64_t prop_view;
	uint8_t prop_hash[FBFT_HASH_LEN];
	uint8_t prop_sig[FBFT_SIG_MAX];
	uint8_t *prop_block;
	size_t prop_len;

	int vc_mode, started, expire;
	uint64_t view_start, propose_at;
	int awaiting_proposal;

	struct pool prep, com;
	int has_pcert, has_ccert;
	struct fbft_cert pcert, ccert;

	uint64_t *vc_seen;                /* per key: highest view-change view seen */
	struct {
		uint64_t view;
		uint8_t bits[FBFT_BITMAP_MAX];
		uint8_t sig[FBFT_SIG_MAX];
		int has, has_best, nv_sent;
		struct fbft_cert best;
		uint8_t *best_block;
		size_t best_len;
	} vcp;

	struct foreign foreign[FOREIGN_MAX];
	size_t nforeign;
	struct fbft_evidence ev[FBFT_EVIDENCE_MAX];
	size_t nev;
	uint64_t sync_height, sync_at;
	int sync_pending;

	/* the last broadcast and the last vote of this view, sent again every
	 * resend interval: the network may lose them and nothing else would */
	uint8_t *rb, *rs;
	size_t rb_len, rs_len;
	uint32_t rs_to;
	uint64_t resend_at, now;

	struct fbft_msg m;                /* scratch for decoding */
	uint8_t *enc;                     /* scratch for encoding */
	size_t enc_cap;
	uint8_t *sigbuf;                  /* scratch for aggregation: nkeys+2 vote-form sigs */
};

/* ---- bitmaps and quorum -------------------------------------------------- */

static int bit(const uint8_t *bm, uint32_t i) { return bm[i >> 3] >> (i & 7) & 1; }
static void set_bit(uint8_t *bm, uint32_t i) { bm[i >> 3] |= (uint8_t)(1u << (i & 7)); }

static int bm_valid(const struct fbft *sm, const uint8_t *bm)
{
	int any = 0;
	for (uint32_t i = 0; i < sm->nb; i++)
		any |= bm[i];
	uint32_t rem = sm->cfg.nkeys & 7;
	if (rem && (bm[sm->nb - 1] >> rem))
		return 0;
	return any != 0;
}

static int bm_overlap(const struct fbft *sm, const uint8_t *a, const uint8_t *b)
{
	for (uint32_t i = 0; i < sm->nb; i++)
		if (a[i] & b[i])
			return 1;
	return 0;
}

static void bm_or(const struct fbft *sm, uint8_t *a, const uint8_t *b)
{
	for (uint32_t i = 0; i < sm->nb; i++)
		a[i] |= b[i];
}

static uint64_t bm_power(const struct fbft *sm, const uint8_t *bm)
{
	uint64_t s = 0;
	for (uint32_t i = 0; i < sm->cfg.nkeys; i++)
		if (bit(bm, i))
			s += sm->power[i];
	return s;
}

static int power_quorum(const struct fbft *sm, uint64_t pw)
{
	/* strictly more than 2/3, without overflow (total < 2^62) */
	return pw * 3 > sm->total_power * 2;
}

int fbft_quorum(const struct fbft *sm, const uint8_t *bitmap)
{
	return power_quorum(sm, bm_power(sm, bitmap));
}

uint32_t fbft_leader(const struct fbft *sm, uint64_t height, uint64_t view)
{
	uint64_t k = height / sm->cfg.blocks_per_leader + view;
	return (uint32_t)(k % sm->cfg.nkeys);
}

static int owns(const struct fbft *sm, uint32_t key) { return key < sm->cfg.nkeys && bit(sm->own_bm, key); }

static void block_hash(const struct fbft *sm, const uint8_t *b, size_t n, uint8_t out[32])
{
	if (sm->cfg.block_hash)
		sm->cfg.block_hash(sm->cfg.app, b, n, out);
	else
		keccak256(b, n, out);
}

int fbft_cert_verify(const struct fbft *sm, int type, const struct fbft_cert *cert)
{
	uint8_t pl[49];
	size_t n = type == FBFT_PREPARE ? fbft_prepare_payload(cert->height, cert->view, cert->hash, pl)
	                                : fbft_commit_payload(cert->height, cert->view, cert->hash, pl);
	if (!bm_valid(sm, cert->bitmap) || !fbft_quorum(sm, cert->bitmap))
		return -CN_EVERIFY;
	for (uint32_t i = sm->nb; i < FBFT_BITMAP_MAX; i++)
		if (cert->bitmap[i])
			return -CN_EINVAL;
	return sm->c.fast_aggregate_verify(sm->c.ctx, cert->bitmap, sm->cfg.nkeys, pl, n, cert->sig) ? -CN_EVERIFY : 0;
}

/* ---- actions ----------------------------------------------------------- */

void fbft_out_init(struct fbft_out *out) { memset(out, 0, sizeof *out); }

void fbft_out_clear(struct fbft_out *out)
{
	for (size_t i = 0; i < out->n; i++)
		free(out->act[i].data);
	out->n = 0;
	out->wake_ms = 0;
}

static struct fbft_action *act(struct fbft_out *out, int kind, const uint8_t *data, size_t len)
{
	if (out->n == FBFT_OUT_MAX)
		return NULL;
	struct fbft_action *a = &out->act[out->n];
	memset(a, 0, offsetof(struct fbft_action, cert));
	a->kind = kind;
	if (len) {
		a->data = malloc(len);
		if (!a->data)
			return NULL;
		memcpy(a->data, data, len);
		a->len = len;
	}
	out->n++;
	return a;
}

static int persist(struct fbft *sm, struct fbft_out *out)
{
	struct fbft_action *a = act(out, FBFT_ACT_PERSIST, sm->lock_block, sm->p.has_lock ? sm->lock_block_len : 0);
	if (!a)
		return -CN_ENOMEM;
	a->persist = sm->p;
	a->persist.lock_block = a->data;
	a->persist.lock_block_len = (uint32_t)a->len;
	return 0;
}

static void header(struct fbft *sm, struct fbft_msg *m, uint8_t type, uint64_t h, uint64_t v)
{
	memset(m, 0, sizeof *m);
	m->type = type;
	m->sig_len = (uint8_t)sm->sl;
	m->bitmap_len = (uint16_t)sm->nb;
	m->height = h;
	m->view = v;
}

static int ensure_enc(struct fbft *sm, size_t need)
{
	if (need <= sm->enc_cap)
		return 0;
	uint8_t *p = realloc(sm->enc, need);
	if (!p)
		return -CN_ENOMEM;
	sm->enc = p;
	sm->enc_cap = need;
	return 0;
}

static uint64_t resend_interval(const struct fbft *sm)
{
	uint64_t t = sm->cfg.phase_timeout_ms / 4;
	return t ? t : 1;
}

/* Encodes m (signing ANNOUNCE/NEWVIEW with key) and queues it. to_key
 * UINT32_MAX broadcasts. */
static int emit(struct fbft *sm, struct fbft_out *out, struct fbft_msg *m, uint32_t key, uint32_t to_key)
{
	size_t need = 1024 + 2 * (size_t)m->block_len + 4 * FBFT_BITMAP_MAX;
	int rc = ensure_enc(sm, need);
	if (rc)
		return rc;
	size_t len;
	if (m->type == FBFT_ANNOUNCE || m->type == FBFT_NEWVIEW)
		rc = fbft_msg_encode_signed(&sm->c, key, m, sm->enc, sm->enc_cap, &len);
	else
		rc = fbft_msg_encode(m, sm->enc, sm->enc_cap, &len);
	if (rc)
		return rc;
	struct fbft_action *a = act(out, to_key == UINT32_MAX ? FBFT_ACT_BROADCAST : FBFT_ACT_SEND, sm->enc, len);
	if (!a)
		return -CN_ENOMEM;
	a->to_key = to_key;
	a->height = m->height;
	a->view = m->view;
	uint8_t **slot = to_key == UINT32_MAX ? &sm->rb : &sm->rs;
	uint8_t *copy = malloc(len);
	if (!copy)
		return -CN_ENOMEM;
	memcpy(copy, sm->enc, len);
	free(*slot);
	*slot = copy;
	if (to_key == UINT32_MAX) {
		sm->rb_len = len;
	} else {
		sm->rs_len = len;
		sm->rs_to = to_key;
	}
	sm->resend_at = sm->now + resend_interval(sm);
	return 0;
}

static void forget_sent(struct fbft *sm)
{
	free(sm->rb);
	free(sm->rs);
	sm->rb = sm->rs = NULL;
	sm->rb_len = sm->rs_len = 0;
	sm->resend_at = 0;
}

static int resend(struct fbft *sm, struct fbft_out *out)
{
	struct fbft_action *a;
	if (sm->rb && !(a = act(out, FBFT_ACT_BROADCAST, sm->rb, sm->rb_len)))
		return -CN_ENOMEM;
	if (sm->rs) {
		if (!(a = act(out, FBFT_ACT_SEND, sm->rs, sm->rs_len)))
			return -CN_ENOMEM;
		a->to_key = sm->rs_to;
	}
	sm->resend_at = sm->rb || sm->rs ? sm->now + resend_interval(sm) : 0;
	return 0;
}

/* Signs payload with every key this node holds; bm gets their bitmap. */
static int sign_own(struct fbft *sm, const uint8_t *pl, size_t n, uint8_t *bm, uint8_t *sig)
{
	memset(bm, 0, FBFT_BITMAP_MAX);
	for (uint32_t i = 0; i < sm->cfg.n_own; i++) {
		int rc = sm->c.sign(sm->c.ctx, sm->own[i], pl, n, sm->sigbuf + (size_t)i * sm->sl);
		if (rc)
			return rc;
		set_bit(bm, sm->own[i]);
	}
	if (sm->cfg.n_own == 1) {
		memcpy(sig, sm->sigbuf, sm->sl); /* BLS decoding is not free */
		return 0;
	}
	return sm->c.aggregate(sm->c.ctx, sm->sigbuf, sm->cfg.n_own, sig);
}

static void add_evidence(struct fbft *sm, struct fbft_out *out, uint8_t type, uint32_t key, uint64_t h,
                         uint64_t v, const uint8_t *ha, const uint8_t *bma, const uint8_t *sa,
                         const uint8_t *hb, const uint8_t *bmb, const uint8_t *sb)
{
	for (size_t i = 0; i < sm->nev; i++)
		if (sm->ev[i].key == key && sm->ev[i].type == type && sm->ev[i].height == h && sm->ev[i].view == v)
			return;
	if (sm->nev == FBFT_EVIDENCE_MAX)
		return;
	struct fbft_evidence *e = &sm->ev[sm->nev++];
	memset(e, 0, sizeof *e);
	e->type = type;
	e->key = key;
	e->height = h;
	e->view = v;
	memcpy(e->hash_a, ha, 32);
	memcpy(e->hash_b, hb, 32);
	if (bma)
		memcpy(e->bitmap_a, bma, sm->nb);
	if (bmb)
		memcpy(e->bitmap_b, bmb, sm->nb);
	memcpy(e->sig_a, sa, sm->sl);
	memcpy(e->sig_b, sb, sm->sl);
	struct fbft_action *a = act(out, FBFT_ACT_EVIDENCE, NULL, 0);
	if (a)
		a->evidence = *e;
}

/* ---- vote pools (leader) ----------------------------------------------- */

static void pool_reset(struct fbft *sm, struct pool *pl, uint8_t type, uint64_t h, uint64_t v, const uint8_t *hash)
{
	uint8_t *bm = pl->pend_bm, *sg = pl->pend_sig;
	memset(pl, 0, sizeof *pl);
	pl->pend_bm = bm;
	pl->pend_sig = sg;
	pl->active = 1;
	pl->type = type;
	pl->height = h;
	pl->view = v;
	memcpy(pl->hash, hash, 32);
	pl->plen = type == FBFT_PREPARE ? fbft_prepare_payload(h, v, hash, pl->payload)
	                                : fbft_commit_payload(h, v, hash, pl->payload);
}

static int fav(struct fbft *sm, const uint8_t *bm, const uint8_t *pl, size_t n, const uint8_t *sig)
{
	return sm->c.fast_aggregate_verify(sm->c.ctx, bm, sm->cfg.nkeys, pl, n, sig);
}

/* Between the signature form (sl bytes) and the vote form (vsl bytes). */
static int to_vote(struct fbft *sm, const uint8_t *sig, uint8_t *vote)
{
	if (!sm->c.vote_sig_len) {
		memcpy(vote, sig, sm->sl);
		return 0;
	}
	return sm->c.to_vote(sm->c.ctx, sig, vote);
}

static int from_vote(struct fbft *sm, const uint8_t *vote, uint8_t *sig)
{
	if (!sm->c.vote_sig_len) {
		memcpy(sig, vote, sm->sl);
		return 0;
	}
	return sm->c.from_vote(sm->c.ctx, vote, sig);
}

static int aggregate_votes(struct fbft *sm, const uint8_t *votes, size_t n, uint8_t *out)
{
	if (!sm->c.vote_sig_len)
		return sm->c.aggregate(sm->c.ctx, votes, n, out);
	return sm->c.aggregate_votes(sm->c.ctx, votes, n, out);
}

/* A vote (vote form) verified alone; sig gets its signature form. */
static int vote_ok(struct fbft *sm, const uint8_t *bm, const uint8_t *pl, size_t n, const uint8_t *vote, uint8_t *sig)
{
	return from_vote(sm, vote, sig) == 0 && fav(sm, bm, pl, n, sig) == 0;
}

static void check_foreign(struct fbft *sm, struct fbft_out *out, struct pool *pl, const uint8_t *newbits)
{
	for (size_t f = 0; f < sm->nforeign; f++) {
		struct foreign *fr = &sm->foreign[f];
		if (fr->type != pl->type || fr->height != pl->height || fr->view != pl->view)
			continue;
		for (uint32_t k = 0; k < sm->cfg.nkeys; k++)
			if (bit(newbits, k) && bit(fr->bm, k))
				add_evidence(sm, out, pl->type, k, pl->height, pl->view, pl->hash, pl->vbits, pl->vsig,
				             fr->hash, fr->bm, fr->sig);
	}
}

static int pool_add_verified(struct fbft *sm, struct fbft_out *out, struct pool *pl, const uint8_t *bm, const uint8_t *sig)
{
	if (pl->has_v) {
		memcpy(sm->sigbuf, pl->vsig, sm->sl);
		memcpy(sm->sigbuf + sm->sl, sig, sm->sl);
		int rc = sm->c.aggregate(sm->c.ctx, sm->sigbuf, 2, pl->vsig);
		if (rc)
			return rc;
	} else {
		memcpy(pl->vsig, sig, sm->sl);
		pl->has_v = 1;
	}
	bm_or(sm, pl->vbits, bm);
	check_foreign(sm, out, pl, bm);
	return 0;
}

static void pool_remove_pending(struct fbft *sm, struct pool *pl, size_t i)
{
	size_t last = pl->npend - 1;
	if (i != last) {
		memcpy(pl->pend_bm + i * sm->nb, pl->pend_bm + last * sm->nb, sm->nb);
		memcpy(pl->pend_sig + i * sm->vsl, pl->pend_sig + last * sm->vsl, sm->vsl);
	}
	pl->npend--;
	memset(pl->pbits, 0, sizeof pl->pbits);
	for (size_t j = 0; j < pl->npend; j++)
		bm_or(sm, pl->pbits, pl->pend_bm + j * sm->nb);
}

/* Verifies every pending vote on its own, keeps the good ones. */
static int pool_verify_each(struct fbft *sm, struct fbft_out *out, struct pool *pl, const uint8_t *only)
{
	for (size_t i = 0; i < pl->npend;) {
		uint8_t *bm = pl->pend_bm + i * sm->nb, *sg = pl->pend_sig + i * sm->vsl;
		if (only && !bm_overlap(sm, bm, only)) {
			i++;
			continue;
		}
		uint8_t s[FBFT_SIG_MAX];
		if (vote_ok(sm, bm, pl->payload, pl->plen, sg, s) && !bm_overlap(sm, bm, pl->vbits)) {
			uint8_t b[FBFT_BITMAP_MAX] = {0};
			memcpy(b, bm, sm->nb);
			pool_remove_pending(sm, pl, i);
			int rc = pool_add_verified(sm, out, pl, b, s);
			if (rc)
				return rc;
		} else {
			pool_remove_pending(sm, pl, i);
		}
	}
	return 0;
}

/* Adds a vote; returns 1 when the verified signers reach quorum. A trusted
 * vote (this node's own) comes in signature form, any other in vote form. */
static int pool_add(struct fbft *sm, struct fbft_out *out, struct pool *pl, const uint8_t *bm, const uint8_t *sig, int trusted)
{
	int rc;
	if (pl->done || !bm_valid(sm, bm) || bm_overlap(sm, bm, pl->vbits))
		return 0;
	if (trusted) {
		if ((rc = pool_add_verified(sm, out, pl, bm, sig)))
			return rc;
	} else if (bm_overlap(sm, bm, pl->pbits)) {
		/* Someone already claimed one of these keys: check both claims now so
		 * that a forged vote cannot crowd out the real one. */
		uint8_t s[FBFT_SIG_MAX];
		if (!vote_ok(sm, bm, pl->payload, pl->plen, sig, s))
			return 0;
		if ((rc = pool_verify_each(sm, out, pl, bm)))
			return rc;
		if (!bm_overlap(sm, bm, pl->vbits) && (rc = pool_add_verified(sm, out, pl, bm, s)))
			return rc;
	} else {
		memcpy(pl->pend_bm + pl->npend * sm->nb, bm, sm->nb);
		memcpy(pl->pend_sig + pl->npend * sm->vsl, sig, sm->vsl);
		pl->npend++;
		bm_or(sm, pl->pbits, bm);
	}
	uint8_t all[FBFT_BITMAP_MAX];
	memcpy(all, pl->vbits, sm->nb);
	bm_or(sm, all, pl->pbits);
	if (pl->npend && fbft_quorum(sm, all)) {
		size_t n = 0;
		if (pl->has_v && (rc = to_vote(sm, pl->vsig, sm->sigbuf + sm->vsl * n++)))
			return rc;
		for (size_t i = 0; i < pl->npend; i++)
			memcpy(sm->sigbuf + sm->vsl * n++, pl->pend_sig + i * sm->vsl, sm->vsl);
		/* A vote whose bytes do not decode, or whose signature is not in the
		 * group, makes the aggregate fail like a bad signature does: it is
		 * not an error of the leader, and checking the votes one by one
		 * drops it while keeping the honest ones. */
		uint8_t agg[FBFT_SIG_MAX];
		if (aggregate_votes(sm, sm->sigbuf, n, agg) == 0 &&
		    fav(sm, all, pl->payload, pl->plen, agg) == 0) {
			uint8_t newbits[FBFT_BITMAP_MAX];
			memcpy(newbits, pl->pbits, sm->nb);
			memcpy(pl->vbits, all, sm->nb);
			memcpy(pl->vsig, agg, sm->sl);
			pl->has_v = 1;
			pl->npend = 0;
			memset(pl->pbits, 0, sizeof pl->pbits);
			check_foreign(sm, out, pl, newbits);
		} else if ((rc = pool_verify_each(sm, out, pl, NULL))) {
			return rc;
		}
	}
	if (pl->has_v && fbft_quorum(sm, pl->vbits)) {
		pl->done = 1;
		return 1;
	}
	return 0;
}

/* A verified vote for another block than the leader's: kept so that a key
 * that also voted for the leader's block is caught double signing. */
static void foreign_vote(struct fbft *sm, struct fbft_out *out, struct pool *pl, const struct fbft_msg *m)
{
	uint8_t p[49];
	size_t n = m->type == FBFT_PREPARE ? fbft_prepare_payload(m->height, m->view, m->hash, p)
	                                   : fbft_commit_payload(m->height, m->view, m->hash, p);
	uint8_t sig[FBFT_SIG_MAX];
	if (!bm_valid(sm, m->bitmap) || !vote_ok(sm, m->bitmap, p, n, m->sig, sig))
		return;
	struct foreign *fr = &sm->foreign[sm->nforeign < FOREIGN_MAX ? sm->nforeign++ : FOREIGN_MAX - 1];
	fr->type = m->type;
	fr->height = m->height;
	fr->view = m->view;
	memcpy(fr->hash, m->hash, 32);
	memset(fr->bm, 0, sizeof fr->bm);
	memcpy(fr->bm, m->bitmap, sm->nb);
	memcpy(fr->sig, sig, sm->sl);
	if (pl->active && pl->height == m->height && pl->view == m->view && pl->has_v)
		for (uint32_t k = 0; k < sm->cfg.nkeys; k++)
			if (bit(fr->bm, k) && bit(pl->vbits, k))
				add_evidence(sm, out, pl->type, k, pl->height, pl->view, pl->hash, pl->vbits, pl->vsig,
				             fr->hash, fr->bm, fr->sig);
}

/* ---- state changes ----------------------------------------------------- */

static void clear_proposal(struct fbft *sm)
{
	free(sm->prop_block);
	sm->prop_block = NULL;
	sm->prop_len = 0;
	sm->has_prop = 0;
	sm->prop_state = 0;
	sm->prop_vote_ok = 0;
	sm->prep.active = sm->com.active = 0;
	sm->has_pcert = 0;
}

static void vcp_reset(struct fbft *sm, uint64_t view)
{
	free(sm->vcp.best_block);
	memset(&sm->vcp, 0, sizeof sm->vcp);
	sm->vcp.view = view;
}

static void enter_height(struct fbft *sm, uint64_t now)
{
	clear_proposal(sm);
	vcp_reset(sm, 0);
	forget_sent(sm);
	sm->p.view = 0;
	sm->vc_mode = 0;
	sm->expire = 0;
	sm->view_start = now;
	sm->awaiting_proposal = 0;
	sm->has_ccert = 0;
	sm->nforeign = 0;
	sm->sync_pending = 0;
	memset(sm->vc_seen, 0, sizeof(uint64_t) * sm->cfg.nkeys);
	sm->propose_at = owns(sm, fbft_leader(sm, sm->p.height, 0)) ? now + sm->cfg.block_period_ms : 0;
}

static void enter_view(struct fbft *sm, uint64_t v, uint64_t now)
{
	if (!(sm->has_prop && sm->prop_view == v))
		clear_proposal(sm);
	if (sm->p.view != v || sm->vc_mode)
		forget_sent(sm);
	if (sm->p.view != v)
		sm->view_start = now; /* else the view's clock started with its view change */
	sm->p.view = v;
	sm->vc_mode = 0;
	sm->expire = 0;
	sm->awaiting_proposal = 0;
	sm->propose_at = 0;
}

static int set_lock(struct fbft *sm, const struct fbft_cert *cert, const uint8_t *block, size_t len, struct fbft_out *out)
{
	if (sm->p.has_lock && sm->p.lock.view >= cert->view)
		return 0;
	if (!block && sm->has_prop && !memcmp(sm->prop_hash, cert->hash, 32)) {
		block = sm->prop_block;
		len = sm->prop_len;
	}
	if (!block)
		return 0;
	uint8_t *b = malloc(len ? len : 1);
	if (!b)
		return -CN_ENOMEM;
	memcpy(b, block, len);
	free(sm->lock_block);
	sm->lock_block = b;
	sm->lock_block_len = len;
	sm->p.lock = *cert;
	sm->p.has_lock = 1;
	return persist(sm, out);
}

static int do_commit(struct fbft *sm, uint64_t now, const struct fbft_cert *cert, const uint8_t *block, size_t len, struct fbft_out *out)
{
	struct fbft_action *a = act(out, FBFT_ACT_DELIVER, block, len);
	if (!a)
		return -CN_ENOMEM;
	a->height = cert->height;
	a->view = cert->view;
	memcpy(a->hash, cert->hash, 32);
	a->cert = *cert;
	memcpy(sm->p.head_hash, cert->hash, 32);
	sm->p.head_cert = *cert;
	sm->p.has_head_cert = 1;
	sm->p.height = cert->height + 1;
	sm->p.has_pvote = sm->p.has_cvote = sm->p.has_proposed = sm->p.has_lock = 0;
	free(sm->lock_block);
	sm->lock_block = NULL;
	sm->lock_block_len = 0;
	enter_height(sm, now);
	return persist(sm, out);
}

static int vote(struct fbft *sm, struct fbft_out *out, uint8_t type);
static int leader_quorum(struct fbft *sm, uint64_t now, struct pool *p, struct fbft_out *out);

static int try_commit(struct fbft *sm, uint64_t now, struct fbft_out *out)
{
	if (!sm->has_ccert || sm->ccert.height != sm->p.height)
		return 0;
	if (sm->has_prop && !memcmp(sm->prop_hash, sm->ccert.hash, 32) && sm->prop_state >= 0) {
		struct fbft_cert c = sm->ccert;
		return do_commit(sm, now, &c, sm->prop_block, sm->prop_len, out);
	}
	if (sm->p.has_lock && !memcmp(sm->p.lock.hash, sm->ccert.hash, 32) && sm->lock_block) {
		struct fbft_cert c = sm->ccert;
		return do_commit(sm, now, &c, sm->lock_block, sm->lock_block_len, out);
	}
	if (sm->has_prop && !memcmp(sm->prop_hash, sm->ccert.hash, 32))
		return 0; /* still validating */
	if (!sm->sync_pending || now >= sm->sync_at + sm->cfg.phase_timeout_ms) {
		struct fbft_action *a = act(out, FBFT_ACT_SYNC, NULL, 0);
		if (!a)
			return -CN_ENOMEM;
		a->height = sm->p.height;
		sm->sync_pending = 1;
		sm->sync_at = now;
	}
	return 0;
}

static int request_sync(struct fbft *sm, uint64_t now, struct fbft_out *out)
{
	if (sm->sync_pending && now < sm->sync_at + sm->cfg.phase_timeout_ms)
		return 0;
	struct fbft_action *a = act(out, FBFT_ACT_SYNC, NULL, 0);
	if (!a)
		return -CN_ENOMEM;
	a->height = sm->p.height;
	sm->sync_pending = 1;
	sm->sync_at = now;
	return 0;
}

/* Own keys vote on the current proposal (prepare) or prepared certificate
 * (commit). Never two different hashes in one (height, view, type). */
static int vote(struct fbft *sm, struct fbft_out *out, uint8_t type)
{
	if (!sm->cfg.n_own || !sm->has_prop || sm->prop_state != 1 || sm->vc_mode || sm->prop_view != sm->p.view)
		return 0;
	int *has = type == FBFT_PREPARE ? &sm->p.has_pvote : &sm->p.has_cvote;
	uint64_t *vv = type == FBFT_PREPARE ? &sm->p.pvote_view : &sm->p.cvote_view;
	uint8_t *vh = type == FBFT_PREPARE ? sm->p.pvote_hash : sm->p.cvote_hash;
	if (type == FBFT_PREPARE && !sm->prop_vote_ok)
		return 0;
	if (type == FBFT_COMMIT && !(sm->has_pcert && sm->pcert.view == sm->p.view && !memcmp(sm->pcert.hash, sm->prop_hash, 32)))
		return 0;
	if (*has && (*vv > sm->p.view || (*vv == sm->p.view && memcmp(vh, sm->prop_hash, 32) &&
	                                   !(sm->cfg.bugs & FBFT_BUG_DOUBLE_VOTE))))
		return 0;
	int rc;
	if (!*has || *vv != sm->p.view || memcmp(vh, sm->prop_hash, 32)) {
		*has = 1;
		*vv = sm->p.view;
		memcpy(vh, sm->prop_hash, 32);
		if ((rc = persist(sm, out)))
			return rc;
	}
	uint8_t pl[49];
	size_t n = type == FBFT_PREPARE ? fbft_prepare_payload(sm->p.height, sm->p.view, sm->prop_hash, pl)
	                                : fbft_commit_payload(sm->p.height, sm->p.view, sm->prop_hash, pl);
	struct fbft_msg *m = &sm->m;
	header(sm, m, type, sm->p.height, sm->p.view);
	memcpy(m->hash, sm->prop_hash, 32);
	uint8_t own_sig[FBFT_SIG_MAX];
	if ((rc = sign_own(sm, pl, n, m->bitmap, own_sig)))
		return rc;
	uint32_t leader = fbft_leader(sm, sm->p.height, sm->p.view);
	if (!owns(sm, leader)) {
		m->sig_len = (uint8_t)sm->vsl;
		if ((rc = to_vote(sm, own_sig, m->sig)))
			return rc;
		return emit(sm, out, m, 0, leader);
	}
	struct pool *p = type == FBFT_PREPARE ? &sm->prep : &sm->com;
	if (!p->active || memcmp(p->hash, sm->prop_hash, 32))
		return 0;
	uint8_t bm[FBFT_BITMAP_MAX];
	memcpy(bm, m->bitmap, sizeof bm);
	rc = pool_add(sm, out, p, bm, own_sig, 1);
	/* the leader's own keys may already be a quorum (staked committees) */
	return rc == 1 ? leader_quorum(sm, sm->now, p, out) : rc;
}

static int on_prepared_cert(struct fbft *sm, uint64_t now, const struct fbft_cert *cert, const uint8_t *block, size_t len, struct fbft_out *out);
static int leader_quorum(struct fbft *sm, uint64_t now, struct pool *p, struct fbft_out *out);

/* Leader side: a quorum of prepares or commits. */
static int leader_quorum(struct fbft *sm, uint64_t now, struct pool *p, struct fbft_out *out)
{
	struct fbft_cert cert;
	memset(&cert, 0, sizeof cert);
	cert.height = p->height;
	cert.view = p->view;
	memcpy(cert.hash, p->hash, 32);
	memcpy(cert.bitmap, p->vbits, sm->nb);
	memcpy(cert.sig, p->vsig, sm->sl);
	uint32_t leader = fbft_leader(sm, p->height, p->view);
	struct fbft_msg *m = &sm->m;
	header(sm, m, p->type == FBFT_PREPARE ? FBFT_PREPARED : FBFT_COMMITTED, p->height, p->view);
	m->sender = leader;
	memcpy(m->hash, p->hash, 32);
	memcpy(m->bitmap, p->vbits, sm->nb);
	memcpy(m->sig, p->vsig, sm->sl);
	int rc;
	if (p->type == FBFT_PREPARE) {
		m->block = sm->prop_block;
		m->block_len = (uint32_t)sm->prop_len;
		if ((rc = emit(sm, out, m, leader, UINT32_MAX)))
			return rc;
		return on_prepared_cert(sm, now, &cert, sm->prop_block, sm->prop_len, out);
	}
	if ((rc = emit(sm, out, m, leader, UINT32_MAX)))
		return rc;
	sm->ccert = cert;
	sm->has_ccert = 1;
	return try_commit(sm, now, out);
}

static int on_prepared_cert(struct fbft *sm, uint64_t now, const struct fbft_cert *cert, const uint8_t *block, size_t len, struct fbft_out *out)
{
	int rc;
	if (cert->height != sm->p.height)
		return 0;
	if ((rc = set_lock(sm, cert, block, len, out)))
		return rc;
	if (cert->view > sm->p.view || (cert->view == sm->p.view && sm->vc_mode)) {
		/* a quorum is already in that view: follow it */
		enter_view(sm, cert->view, now);
	}
	if (cert->view != sm->p.view)
		return 0;
	sm->pcert = *cert;
	sm->has_pcert = 1;
	if (!sm->has_prop && block) {
		sm->has_prop = 1;
		sm->prop_view = cert->view;
		memcpy(sm->prop_hash, cert->hash, 32);
		sm->prop_block = malloc(len ? len : 1);
		if (!sm->prop_block)
			return -CN_ENOMEM;
		memcpy(sm->prop_block, block, len);
		sm->prop_len = len;
		sm->prop_state = 0;
		sm->prop_vote_ok = 0; /* a late prepare adds nothing */
		struct fbft_action *a = act(out, FBFT_ACT_VALIDATE, block, len);
		if (!a)
			return -CN_ENOMEM;
		a->height = sm->p.height;
		a->view = cert->view;
		memcpy(a->hash, sm->p.head_hash, 32);
		return 0;
	}
	return vote(sm, out, FBFT_COMMIT);
}

static int accept_proposal(struct fbft *sm, uint64_t now, uint64_t v, const uint8_t *hash, const uint8_t *block,
                           size_t len, const uint8_t *sig, const struct fbft_cert *justify, struct fbft_out *out)
{
	if (sm->has_prop && sm->prop_view == v) {
		if (!memcmp(sm->prop_hash, hash, 32))
			return 0;
		add_evidence(sm, out, FBFT_ANNOUNCE, fbft_leader(sm, sm->p.height, v), sm->p.height, v,
		             sm->prop_hash, NULL, sm->prop_sig, hash, NULL, sig);
		if (!(sm->cfg.bugs & FBFT_BUG_DOUBLE_VOTE)) {
			/* the leader equivocated: this view is over */
			clear_proposal(sm);
			sm->has_prop = 1;
			sm->prop_view = v;
			sm->prop_state = -1;
			memcpy(sm->prop_hash, hash, 32);
			sm->expire = 1;
			return 0;
		}
		clear_proposal(sm);
	}
	int ok = 1;
	if (sm->p.has_lock && memcmp(sm->p.lock.hash, hash, 32) && !(justify && justify->view >= sm->p.lock.view) &&
	    !(sm->cfg.bugs & FBFT_BUG_NO_LOCK))
		ok = 0;
	clear_proposal(sm);
	sm->prop_block = malloc(len ? len : 1);
	if (!sm->prop_block)
		return -CN_ENOMEM;
	memcpy(sm->prop_block, block, len);
	sm->prop_len = len;
	sm->has_prop = 1;
	sm->prop_view = v;
	sm->prop_vote_ok = ok;
	memcpy(sm->prop_hash, hash, 32);
	memcpy(sm->prop_sig, sig, sm->sl);
	struct fbft_action *a = act(out, FBFT_ACT_VALIDATE, block, len);
	if (!a)
		return -CN_ENOMEM;
	a->height = sm->p.height;
	a->view = v;
	memcpy(a->hash, sm->p.head_hash, 32);
	return 0;
}

/* ---- view change ------------------------------------------------------- */

static int send_newview(struct fbft *sm, uint64_t now, const uint8_t *block, size_t len, const struct fbft_cert *justify, struct fbft_out *out);

static int vc_try_newview(struct fbft *sm, uint64_t now, struct fbft_out *out)
{
	uint64_t nv = sm->vcp.view;
	if (!sm->vcp.has || sm->vcp.nv_sent || sm->awaiting_proposal || nv < sm->p.view ||
	    !owns(sm, fbft_leader(sm, sm->p.height, nv)) || !fbft_quorum(sm, sm->vcp.bits))
		return 0;
	if (nv > sm->p.view || !sm->vc_mode)
		return 0; /* caller moves us into nv first */
	if (sm->p.has_proposed && sm->p.proposed_view == nv)
		return 0; /* proposed before a restart: never propose twice */
	if (sm->vcp.has_best) {
		struct fbft_cert j = sm->vcp.best;
		return send_newview(sm, now, sm->vcp.best_block, sm->vcp.best_len, &j, out);
	}
	sm->awaiting_proposal = 1;
	struct fbft_action *a = act(out, FBFT_ACT_PROPOSE, NULL, 0);
	if (!a)
		return -CN_ENOMEM;
	a->height = sm->p.height;
	a->view = nv;
	memcpy(a->hash, sm->p.head_hash, 32);
	if (sm->p.has_head_cert)
		a->cert = sm->p.head_cert;
	return 0;
}

static int start_vc(struct fbft *sm, uint64_t nv, uint64_t now, struct fbft_out *out);

/* Records a (verified) view change of the keys in bm for view nv. */
static int vc_record(struct fbft *sm, uint64_t now, uint64_t nv, const uint8_t *bm, const uint8_t *sig,
                     const struct fbft_cert *cert, const uint8_t *block, size_t len, struct fbft_out *out)
{
	int rc;
	for (uint32_t k = 0; k < sm->cfg.nkeys; k++)
		if (bit(bm, k) && sm->vc_seen[k] < nv)
			sm->vc_seen[k] = nv;
	if (cert && (rc = set_lock(sm, cert, block, len, out)))
		return rc;
	if (owns(sm, fbft_leader(sm, sm->p.height, nv)) && nv >= sm->vcp.view) {
		if (nv > sm->vcp.view)
			vcp_reset(sm, nv);
		if (!sm->vcp.nv_sent && !bm_overlap(sm, sm->vcp.bits, bm)) {
			if (sm->vcp.has) {
				memcpy(sm->sigbuf, sm->vcp.sig, sm->sl);
				memcpy(sm->sigbuf + sm->sl, sig, sm->sl);
				if ((rc = sm->c.aggregate(sm->c.ctx, sm->sigbuf, 2, sm->vcp.sig)))
					return rc;
			} else {
				memcpy(sm->vcp.sig, sig, sm->sl);
			}
			sm->vcp.has = 1;
			bm_or(sm, sm->vcp.bits, bm);
			if (cert && (!sm->vcp.has_best || cert->view > sm->vcp.best.view)) {
				uint8_t *b = malloc(len ? len : 1);
				if (!b)
					return -CN_ENOMEM;
				memcpy(b, block, len);
				free(sm->vcp.best_block);
				sm->vcp.best_block = b;
				sm->vcp.best_len = len;
				sm->vcp.best = *cert;
				sm->vcp.has_best = 1;
			}
		}
	}
	/* More than a third of the power wants a later view: at least one honest
	 * node timed out there, so join instead of waiting for our own timer. */
	uint64_t t = 0;
	for (;;) {
		uint64_t best = 0, pw = 0;
		for (uint32_t k = 0; k < sm->cfg.nkeys; k++)
			if (sm->vc_seen[k] > t && (best == 0 || sm->vc_seen[k] < best))
				best = sm->vc_seen[k];
		if (!best)
			break;
		for (uint32_t k = 0; k < sm->cfg.nkeys; k++)
			if (sm->vc_seen[k] >= best)
				pw += sm->power[k];
		if (pw * 3 <= sm->total_power)
			break;
		t = best;
	}
	if (t > sm->p.view && (rc = start_vc(sm, t, now, out)))
		return rc;
	if (nv == sm->vcp.view && fbft_quorum(sm, sm->vcp.bits) && owns(sm, fbft_leader(sm, sm->p.height, nv)) &&
	    nv > sm->p.view && (rc = start_vc(sm, nv, now, out)))
		return rc;
	return vc_try_newview(sm, now, out);
}

static int start_vc(struct fbft *sm, uint64_t nv, uint64_t now, struct fbft_out *out)
{
	if (nv < sm->p.view || (nv == sm->p.view && sm->vc_mode))
		return 0;
	clear_proposal(sm);
	forget_sent(sm);
	sm->expire = 0;
	sm->p.view = nv;
	sm->vc_mode = 1;
	sm->view_start = now;
	sm->awaiting_proposal = 0;
	sm->propose_at = 0;
	int rc = persist(sm, out);
	if (rc || !sm->cfg.n_own)
		return rc;
	uint8_t pl[17];
	size_t n = fbft_viewchange_payload(sm->p.height, nv, pl);
	struct fbft_msg *m = &sm->m;
	header(sm, m, FBFT_VIEWCHANGE, sm->p.height, nv);
	if ((rc = sign_own(sm, pl, n, m->bitmap, m->sig)))
		return rc;
	if (sm->p.has_lock && sm->lock_block) {
		m->has_cert = 1;
		m->cert = sm->p.lock;
		m->block = sm->lock_block;
		m->block_len = (uint32_t)sm->lock_block_len;
	}
	if ((rc = emit(sm, out, m, 0, UINT32_MAX)))
		return rc;
	uint8_t bm[FBFT_BITMAP_MAX], sig[FBFT_SIG_MAX];
	memcpy(bm, m->bitmap, sizeof bm);
	memcpy(sig, m->sig, sm->sl);
	struct fbft_cert c = sm->p.lock;
	return vc_record(sm, now, nv, bm, sig, sm->p.has_lock && sm->lock_block ? &c : NULL, sm->lock_block,
	                 sm->lock_block_len, out);
}

static int leader_take_proposal(struct fbft *sm, const uint8_t *hash, const uint8_t *block, size_t len)
{
	clear_proposal(sm);
	sm->prop_block = malloc(len ? len : 1);
	if (!sm->prop_block)
		return -CN_ENOMEM;
	memcpy(sm->prop_block, block, len);
	sm->prop_len = len;
	sm->has_prop = 1;
	sm->prop_view = sm->p.view;
	sm->prop_state = 1;
	sm->prop_vote_ok = 1;
	memcpy(sm->prop_hash, hash, 32);
	pool_reset(sm, &sm->prep, FBFT_PREPARE, sm->p.height, sm->p.view, hash);
	pool_reset(sm, &sm->com, FBFT_COMMIT, sm->p.height, sm->p.view, hash);
	return 0;
}

static int send_newview(struct fbft *sm, uint64_t now, const uint8_t *block, size_t len, const struct fbft_cert *justify, struct fbft_out *out)
{
	uint64_t nv = sm->vcp.view;
	uint32_t leader = fbft_leader(sm, sm->p.height, nv);
	uint8_t hash[32];
	block_hash(sm, block, len, hash);
	sm->p.has_proposed = 1;
	sm->p.proposed_view = nv;
	int rc = persist(sm, out);
	if (rc)
		return rc;
	struct fbft_msg *m = &sm->m;
	header(sm, m, FBFT_NEWVIEW, sm->p.height, nv);
	m->sender = leader;
	memcpy(m->bitmap, sm->vcp.bits, sm->nb);
	memcpy(m->sig, sm->vcp.sig, sm->sl);
	if (justify) {
		m->has_cert = 1;
		m->cert = *justify;
	}
	memcpy(m->hash, hash, 32);
	m->block = block;
	m->block_len = (uint32_t)len;
	/* block may point into vcp; copy before the view state moves */
	uint8_t *copy = malloc(len ? len : 1);
	if (!copy)
		return -CN_ENOMEM;
	memcpy(copy, block, len);
	m->block = copy;
	sm->vcp.nv_sent = 1;
	enter_view(sm, nv, now); /* first: entering a view forgets what was sent before */
	rc = emit(sm, out, m, leader, UINT32_MAX);
	if (!rc)
		rc = leader_take_proposal(sm, hash, copy, len);
	free(copy);
	if (rc)
		return rc;
	return vote(sm, out, FBFT_PREPARE);
}

/* ---- inputs ------------------------------------------------------------ */

static int msg_sig_ok(struct fbft *sm, const uint8_t *buf, size_t len, const struct fbft_msg *m)
{
	uint8_t d[32];
	keccak256(buf, len - sm->sl, d);
	return m->sender < sm->cfg.nkeys && sm->c.verify(sm->c.ctx, m->sender, d, 32, m->msg_sig) == 0;
}

static int on_msg(struct fbft *sm, uint64_t now, const uint8_t *buf, size_t len, struct fbft_out *out)
{
	struct fbft_msg *m = &sm->m;
	if (fbft_msg_decode(buf, len, m) ||
	    m->sig_len != (m->type == FBFT_PREPARE || m->type == FBFT_COMMIT ? sm->vsl : sm->sl) || m->bitmap_len != sm->nb)
		return 0;
	int rc;
	uint8_t h[32], pl[49];
	if (m->height < sm->p.height)
		return 0;
	if (m->height > sm->p.height) {
		/* we are behind: a certificate in the next announce may finish our
		 * height, otherwise fetch the missing blocks */
		if (m->type == FBFT_ANNOUNCE && m->height == sm->p.height + 1 && m->has_cert &&
		    m->cert.height == sm->p.height && !sm->has_ccert && fbft_cert_verify(sm, FBFT_COMMIT, &m->cert) == 0) {
			sm->ccert = m->cert;
			sm->has_ccert = 1;
			return try_commit(sm, now, out);
		}
		return request_sync(sm, now, out);
	}
	switch (m->type) {
	case FBFT_ANNOUNCE: {
		if (m->view != 0 || sm->p.view != 0 || sm->vc_mode || m->sender != fbft_leader(sm, m->height, 0) ||
		    owns(sm, m->sender))
			return 0;
		block_hash(sm, m->block, m->block_len, h);
		if (memcmp(h, m->hash, 32) || !msg_sig_ok(sm, buf, len, m))
			return 0;
		uint8_t sig[FBFT_SIG_MAX];
		memcpy(sig, m->msg_sig, sm->sl);
		return accept_proposal(sm, now, 0, h, m->block, m->block_len, sig, NULL, out);
	}
	case FBFT_NEWVIEW: {
		uint64_t nv = m->view;
		if (nv == 0 || nv < sm->p.view || m->sender != fbft_leader(sm, m->height, nv) || owns(sm, m->sender))
			return 0;
		if (nv == sm->p.view && !sm->vc_mode && sm->has_prop && sm->prop_view == nv &&
		    !memcmp(sm->prop_hash, m->hash, 32))
			return 0; /* duplicate */
		block_hash(sm, m->block, m->block_len, h);
		if (memcmp(h, m->hash, 32) || !bm_valid(sm, m->bitmap) || !fbft_quorum(sm, m->bitmap))
			return 0;
		if (m->has_cert && (m->cert.height != m->height || m->cert.view >= nv || memcmp(m->cert.hash, h, 32)))
			return 0;
		size_t n = fbft_viewchange_payload(m->height, nv, pl);
		if (!msg_sig_ok(sm, buf, len, m) || fav(sm, m->bitmap, pl, n, m->sig))
			return 0;
		if (m->has_cert && fbft_cert_verify(sm, FBFT_PREPARE, &m->cert))
			return 0;
		struct fbft_cert j = m->cert;
		int has_j = m->has_cert;
		uint8_t sig[FBFT_SIG_MAX];
		memcpy(sig, m->msg_sig, sm->sl);
		const uint8_t *blk = m->block;
		size_t blen = m->block_len;
		if (nv > sm->p.view || sm->vc_mode)
			enter_view(sm, nv, now);
		if (has_j && (rc = set_lock(sm, &j, blk, blen, out)))
			return rc;
		return accept_proposal(sm, now, nv, h, blk, blen, sig, has_j ? &j : NULL, out);
	}
	case FBFT_PREPARE:
	case FBFT_COMMIT: {
		struct pool *p = m->type == FBFT_PREPARE ? &sm->prep : &sm->com;
		if (m->view != sm->p.view || sm->vc_mode || !owns(sm, fbft_leader(sm, m->height, m->view)) || !p->active ||
		    p->view != m->view)
			return 0;
		if (memcmp(m->hash, p->hash, 32)) {
			foreign_vote(sm, out, p, m);
			return 0;
		}
		uint8_t bm[FBFT_BITMAP_MAX], sig[FBFT_VOTE_SIG_MAX];
		memcpy(bm, m->bitmap, sizeof bm);
		memcpy(sig, m->sig, sm->vsl);
		rc = pool_add(sm, out, p, bm, sig, 0);
		if (rc < 0)
			return rc;
		return rc == 1 ? leader_quorum(sm, now, p, out) : 0;
	}
	case FBFT_PREPARED: {
		if (m->view < sm->p.view || (sm->has_pcert && sm->pcert.view == m->view))
			return 0;
		block_hash(sm, m->block, m->block_len, h);
		if (memcmp(h, m->hash, 32))
			return 0;
		struct fbft_cert c;
		memset(&c, 0, sizeof c);
		c.height = m->height;
		c.view = m->view;
		memcpy(c.hash, m->hash, 32);
		memcpy(c.bitmap, m->bitmap, sm->nb);
		memcpy(c.sig, m->sig, sm->sl);
		if (fbft_cert_verify(sm, FBFT_PREPARE, &c))
			return 0;
		return on_prepared_cert(sm, now, &c, m->block, m->block_len, out);
	}
	case FBFT_COMMITTED: {
		struct fbft_cert c;
		memset(&c, 0, sizeof c);
		c.height = m->height;
		c.view = m->view;
		memcpy(c.hash, m->hash, 32);
		memcpy(c.bitmap, m->bitmap, sm->nb);
		memcpy(c.sig, m->sig, sm->sl);
		if (sm->has_ccert || fbft_cert_verify(sm, FBFT_COMMIT, &c))
			return 0;
		sm->ccert = c;
		sm->has_ccert = 1;
		return try_commit(sm, now, out);
	}
	case FBFT_VIEWCHANGE: {
		uint64_t nv = m->view;
		if (nv == 0 || nv + 1 < sm->p.view || !bm_valid(sm, m->bitmap) || bm_overlap(sm, m->bitmap, sm->own_bm))
			return 0;
		if (nv > sm->p.view + 1000)
			return 0; /* bound the view a stranger can push us to */
		size_t n = fbft_viewchange_payload(m->height, nv, pl);
		if (fav(sm, m->bitmap, pl, n, m->sig))
			return 0;
		int has_c = 0;
		if (m->has_cert) {
			block_hash(sm, m->block, m->block_len, h);
			if (m->cert.height != m->height || m->cert.view >= nv || memcmp(h, m->cert.hash, 32) ||
			    fbft_cert_verify(sm, FBFT_PREPARE, &m->cert))
				return 0;
			has_c = 1;
		}
		uint8_t bm[FBFT_BITMAP_MAX], sig[FBFT_SIG_MAX];
		memcpy(bm, m->bitmap, sizeof bm);
		memcpy(sig, m->sig, sm->sl);
		struct fbft_cert c = m->cert;
		return vc_record(sm, now, nv, bm, sig, has_c ? &c : NULL, m->block, m->block_len, out);
	}
	}
	return 0;
}

static uint64_t timeout_of(const struct fbft *sm, uint64_t base, unsigned k)
{
	uint64_t t = base;
	for (unsigned i = 0; i < k && t < sm->cfg.max_timeout_ms; i++)
		t *= 2;
	return t < sm->cfg.max_timeout_ms ? t : sm->cfg.max_timeout_ms;
}

static uint64_t view_deadline(const struct fbft *sm)
{
	if (sm->expire)
		return 0;
	/* The timeout is a function of the view number, not of how many views
	 * this node went through: a node that reached the height late (or
	 * restarted) must not run ahead of the others with shorter timers. */
	/* One budget per view, counted from entering it, whether or not a
	 * NEWVIEW arrived in between: otherwise nodes that wait for NEWVIEWs
	 * cycle slower than one that never gets them, and drift apart. */
	unsigned k = sm->p.view > 16 ? 16 : (unsigned)sm->p.view;
	uint64_t start = k ? timeout_of(sm, sm->cfg.viewchange_timeout_ms, k - 1) : sm->cfg.block_period_ms;
	return sm->view_start + start + timeout_of(sm, sm->cfg.phase_timeout_ms, k);
}

static int on_timer(struct fbft *sm, uint64_t now, struct fbft_out *out)
{
	if (sm->resend_at && now >= sm->resend_at) {
		int rc = resend(sm, out);
		if (rc)
			return rc;
	}
	if (sm->propose_at && now >= sm->propose_at && !sm->vc_mode && sm->p.view == 0) {
		sm->propose_at = 0;
		if (!(sm->p.has_proposed && sm->p.proposed_view == 0)) {
			sm->awaiting_proposal = 1;
			struct fbft_action *a = act(out, FBFT_ACT_PROPOSE, NULL, 0);
			if (!a)
				return -CN_ENOMEM;
			a->height = sm->p.height;
			a->view = 0;
			memcpy(a->hash, sm->p.head_hash, 32);
			if (sm->p.has_head_cert)
				a->cert = sm->p.head_cert;
		}
	}
	if (now >= view_deadline(sm))
		return start_vc(sm, sm->p.view + 1, now, out);
	return 0;
}

static int on_proposal(struct fbft *sm, uint64_t now, const struct fbft_input *in, struct fbft_out *out)
{
	if (!sm->awaiting_proposal || in->height != sm->p.height || in->view != sm->p.view || in->len > FBFT_MAX_BLOCK)
		return 0;
	sm->awaiting_proposal = 0;
	if (sm->p.view > 0)
		return sm->vc_mode ? send_newview(sm, now, in->data, in->len, NULL, out) : 0;
	uint8_t hash[32];
	block_hash(sm, in->data, in->len, hash);
	sm->p.has_proposed = 1;
	sm->p.proposed_view = 0;
	int rc = persist(sm, out);
	if (rc)
		return rc;
	uint32_t leader = fbft_leader(sm, sm->p.height, 0);
	struct fbft_msg *m = &sm->m;
	header(sm, m, FBFT_ANNOUNCE, sm->p.height, 0);
	m->sender = leader;
	memcpy(m->hash, hash, 32);
	m->block = in->data;
	m->block_len = (uint32_t)in->len;
	if (sm->p.has_head_cert) {
		m->has_cert = 1;
		m->cert = sm->p.head_cert;
	}
	if ((rc = emit(sm, out, m, leader, UINT32_MAX)))
		return rc;
	if ((rc = leader_take_proposal(sm, hash, in->data, in->len)))
		return rc;
	return vote(sm, out, FBFT_PREPARE);
}

static int on_validated(struct fbft *sm, uint64_t now, const struct fbft_input *in, struct fbft_out *out)
{
	if (in->height != sm->p.height || !sm->has_prop || sm->prop_view != in->view ||
	    memcmp(sm->prop_hash, in->hash, 32) || sm->prop_state != 0)
		return 0;
	sm->prop_state = in->ok ? 1 : -1;
	if (!in->ok)
		return 0;
	int rc = vote(sm, out, FBFT_PREPARE);
	if (!rc)
		rc = vote(sm, out, FBFT_COMMIT);
	if (!rc)
		rc = try_commit(sm, now, out);
	return rc;
}

static int on_sync(struct fbft *sm, uint64_t now, const struct fbft_input *in, struct fbft_out *out)
{
	if (!in->cert || in->cert->height != sm->p.height || in->len > FBFT_MAX_BLOCK)
		return 0;
	uint8_t h[32];
	block_hash(sm, in->data, in->len, h);
	if (memcmp(h, in->cert->hash, 32) || fbft_cert_verify(sm, FBFT_COMMIT, in->cert))
		return 0;
	struct fbft_cert c = *in->cert;
	return do_commit(sm, now, &c, in->data, in->len, out);
}

int fbft_step(struct fbft *sm, uint64_t now, const struct fbft_input *in, struct fbft_out *out)
{
	fbft_out_clear(out);
	sm->now = now;
	if (!sm->started) {
		sm->started = 1;
		sm->view_start = now;
		if (sm->propose_at)
			sm->propose_at = now + sm->cfg.block_period_ms;
	}
	int rc = 0;
	switch (in->kind) {
	case FBFT_IN_START:
		break;
	case FBFT_IN_MSG:
		rc = in->data ? on_msg(sm, now, in->data, in->len, out) : 0;
		break;
	case FBFT_IN_TIMER:
		rc = on_timer(sm, now, out);
		break;
	case FBFT_IN_VALIDATED:
		rc = on_validated(sm, now, in, out);
		break;
	case FBFT_IN_PROPOSAL:
		rc = on_proposal(sm, now, in, out);
		break;
	case FBFT_IN_SYNC_BLOCK:
		rc = on_sync(sm, now, in, out);
		break;
	default:
		return -CN_EINVAL;
	}
	/* a view deadline that passed while handling the input (equivocation) */
	if (!rc && in->kind != FBFT_IN_TIMER && now >= view_deadline(sm))
		rc = start_vc(sm, sm->p.view + 1, now, out);
	uint64_t w = view_deadline(sm);
	if (sm->propose_at && sm->propose_at < w)
		w = sm->propose_at;
	if (sm->resend_at && sm->resend_at < w)
		w = sm->resend_at;
	out->wake_ms = w;
	return rc;
}

/* ---- lifecycle and queries --------------------------------------------- */

int fbft_new(const struct fbft_config *cfg, const struct fbft_crypto *crypto, const struct fbft_persist *ps,
             const uint8_t genesis_hash[FBFT_HASH_LEN], struct fbft **out)
{
	if (!cfg->nkeys || cfg->nkeys > FBFT_MAX_KEYS || !cfg->blocks_per_leader || !crypto->sig_len ||
	    crypto->sig_len > FBFT_SIG_MAX || !cfg->phase_timeout_ms || !cfg->viewchange_timeout_ms ||
	    cfg->n_own > cfg->nkeys)
		return -CN_EINVAL;
	if (crypto->vote_sig_len && (crypto->vote_sig_len > FBFT_VOTE_SIG_MAX || !crypto->to_vote ||
	                             !crypto->from_vote || !crypto->aggregate_votes))
		return -CN_EINVAL;
	struct fbft *sm = calloc(1, sizeof *sm);
	if (!sm)
		return -CN_ENOMEM;
	sm->cfg = *cfg;
	if (!sm->cfg.max_timeout_ms)
		sm->cfg.max_timeout_ms = 64 * cfg->phase_timeout_ms;
	sm->c = *crypto;
	sm->nb = (cfg->nkeys + 7) / 8;
	sm->sl = crypto->sig_len;
	sm->vsl = crypto->vote_sig_len ? crypto->vote_sig_len : crypto->sig_len;
	sm->power = calloc(cfg->nkeys, sizeof *sm->power);
	sm->own = calloc(cfg->n_own + 1, sizeof *sm->own);
	sm->vc_seen = calloc(cfg->nkeys, sizeof *sm->vc_seen);
	sm->sigbuf = malloc(((size_t)cfg->nkeys + 2) * (sm->vsl > sm->sl ? sm->vsl : sm->sl));
	sm->prep.pend_bm = malloc((size_t)cfg->nkeys * sm->nb);
	sm->prep.pend_sig = malloc((size_t)cfg->nkeys * sm->vsl);
	sm->com.pend_bm = malloc((size_t)cfg->nkeys * sm->nb);
	sm->com.pend_sig = malloc((size_t)cfg->nkeys * sm->vsl);
	if (!sm->power || !sm->own || !sm->vc_seen || !sm->sigbuf || !sm->prep.pend_bm || !sm->prep.pend_sig ||
	    !sm->com.pend_bm || !sm->com.pend_sig) {
		fbft_free(sm);
		return -CN_ENOMEM;
	}
	for (uint32_t i = 0; i < cfg->nkeys; i++) {
		sm->power[i] = cfg->power ? cfg->power[i] : 1;
		if (sm->power[i] > (UINT64_C(1) << 52)) {
			fbft_free(sm);
			return -CN_ERANGE;
		}
		sm->total_power += sm->power[i];
	}
	for (uint32_t i = 0; i < cfg->n_own; i++) {
		if (cfg->own_keys[i] >= cfg->nkeys || bit(sm->own_bm, cfg->own_keys[i])) {
			fbft_free(sm);
			return -CN_EINVAL;
		}
		sm->own[i] = cfg->own_keys[i];
		set_bit(sm->own_bm, cfg->own_keys[i]);
	}
	sm->cfg.own_keys = sm->own;
	sm->cfg.power = sm->power;
	if (ps) {
		sm->p = *ps;
		sm->p.lock_block = NULL;
		if (ps->has_lock) {
			sm->lock_block = malloc(ps->lock_block_len ? ps->lock_block_len : 1);
			if (!sm->lock_block) {
				fbft_free(sm);
				return -CN_ENOMEM;
			}
			if (ps->lock_block_len)
				memcpy(sm->lock_block, ps->lock_block, ps->lock_block_len);
			sm->lock_block_len = ps->lock_block_len;
		}
	} else {
		sm->p.height = 1;
		memcpy(sm->p.head_hash, genesis_hash, 32);
	}
	uint64_t v = sm->p.view;
	enter_height(sm, 0);
	sm->p.view = v;
	if (v > 0)
		sm->propose_at = 0;
	*out = sm;
	return 0;
}

void fbft_free(struct fbft *sm)
{
	if (!sm)
		return;
	free(sm->power);
	free(sm->own);
	free(sm->vc_seen);
	free(sm->sigbuf);
	free(sm->prep.pend_bm);
	free(sm->prep.pend_sig);
	free(sm->com.pend_bm);
	free(sm->com.pend_sig);
	free(sm->prop_block);
	free(sm->lock_block);
	free(sm->vcp.best_block);
	free(sm->enc);
	forget_sent(sm);
	free(sm);
}

uint64_t fbft_height(const struct fbft *sm) { return sm->p.height; }
uint64_t fbft_view(const struct fbft *sm) { return sm->p.view; }
int fbft_in_viewchange(const struct fbft *sm) { return sm->vc_mode; }

int fbft_last_commit(const struct fbft *sm, struct fbft_cert *out)
{
	if (!sm->p.has_head_cert)
		return -CN_ENOTFOUND;
	*out = sm->p.head_cert;
	return 0;
}

size_t fbft_evidence_count(const struct fbft *sm) { return sm->nev; }
const struct fbft_evidence *fbft_evidence_get(const struct fbft *sm, size_t i) { return i < sm->nev ? &sm->ev[i] : NULL; }
