/* sim.c — discrete-event simulation of a committee running FBFT.
 *
 * Everything random comes from one cn_prng seeded with cfg->seed and drawn
 * in event order, and events at the same virtual time run in insertion order,
 * so a run is a pure function of its configuration. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "base/err.h"
#include "base/prng.h"
#include "crypto/crypto.h"
#include "sim/sim.h"

enum ev_kind { EV_MSG = 1, EV_TIMER, EV_VALIDATE, EV_PROPOSE, EV_SYNC, EV_CRASH, EV_RESTART, EV_FAULTS_END };

struct ev {
	uint64_t t, seq;
	uint8_t kind;
	uint32_t node, from, inc;
	uint64_t a, b;
	uint8_t hash[32];
	struct fbft_cert *cert;
	uint8_t *data;
	size_t len;
};

struct blk {
	uint8_t hash[32];
	uint8_t *data;
	size_t len;
	struct fbft_cert cert;
};

struct replay_ent {
	uint8_t *data;
	size_t len;
};

struct node {
	struct fbft *sm;
	struct fbft_out out;
	int up, honest;
	uint8_t byz;
	uint32_t inc;
	uint32_t *keys, nkeys;
	struct sim_signer *signer;
	const struct fbft_crypto *crypto;
	int has_ps;
	struct fbft_persist ps;
	uint8_t *ps_lock;
	struct blk *chain;
	size_t nchain, capchain;
	uint64_t wake, timer_gen;
	int crashes_left;
	struct replay_ent replay[32];
	size_t nreplay;
};

struct vote_key {
	uint64_t h, v;
	uint32_t key;
	uint8_t type, used;
	uint8_t hash[32];
};

struct sim {
	const struct sim_config *cfg;
	struct sim_result *res;
	struct cn_prng rng;
	uint64_t now, seq;
	struct ev *heap;
	size_t nheap, capheap;
	struct node nodes[SIM_MAX_NODES];
	uint32_t *owner;
	uint64_t *power;
	uint64_t lat[SIM_MAX_NODES][SIM_MAX_NODES];
	struct sim_keyring *kr;
	struct fbft_config fcfg;
	uint8_t genesis[32];
	/* checkers */
	uint8_t (*final)[32];
	uint8_t *final_set;
	uint64_t *prop_time, *ndeliver;
	size_t cap_h;
	double *fin;
	size_t nfin;
	struct vote_key *votes;
	size_t capvotes, nvotes;
	uint64_t h_at_faults_end;
	int faults_over;
	uint32_t nhonest;
	uint8_t *scratch;
	size_t scratch_cap;
};

static void fail(struct sim *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(struct sim *s, const char *fmt, ...)
{
	if (s->res->violation)
		return;
	s->res->violation = 1;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(s->res->what, sizeof s->res->what, fmt, ap);
	va_end(ap);
	if (s->cfg->trace)
		fprintf(s->cfg->trace, "%8llu VIOLATION %s\n", (unsigned long long)s->now, s->res->what);
}

static void trace(struct sim *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void trace(struct sim *s, const char *fmt, ...)
{
	if (!s->cfg->trace)
		return;
	va_list ap;
	va_start(ap, fmt);
	fprintf(s->cfg->trace, "%8llu ", (unsigned long long)s->now);
	vfprintf(s->cfg->trace, fmt, ap);
	fputc('\n', s->cfg->trace);
	va_end(ap);
}

/* ---- event heap ---------------------------------------------------------- */

static int ev_less(const struct ev *a, const struct ev *b)
{
	return a->t < b->t || (a->t == b->t && a->seq < b->seq);
}

static int push(struct sim *s, struct ev e)
{
	if (s->nheap == s->capheap) {
		size_t nc = s->capheap ? s->capheap * 2 : 1024;
		struct ev *h = realloc(s->heap, nc * sizeof *h);
		if (!h)
			return -CN_ENOMEM;
		s->heap = h;
		s->capheap = nc;
	}
	e.seq = s->seq++;
	size_t i = s->nheap++;
	while (i > 0) {
		size_t p = (i - 1) / 2;
		if (!ev_less(&e, &s->heap[p]))
			break;
		s->heap[i] = s->heap[p];
		i = p;
	}
	s->heap[i] = e;
	return 0;
}

static struct ev pop(struct sim *s)
{
	struct ev top = s->heap[0];
	struct ev last = s->heap[--s->nheap];
	size_t i = 0;
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		const struct ev *cm = &last;
		if (l < s->nheap && ev_less(&s->heap[l], cm)) {
			m = l;
			cm = &s->heap[l];
		}
		if (r < s->nheap && ev_less(&s->heap[r], cm))
			m = r;
		if (m == i)
			break;
		s->heap[i] = s->heap[m];
		i = m;
	}
	if (s->nheap)
		s->heap[i] = last;
	return top;
}

static uint64_t rnd(struct sim *s, uint64_t bound) { return cn_prng_uniform(&s->rng, bound); }
static int chance(struct sim *s, double p) { return p > 0 && cn_prng_double(&s->rng) < p; }

/* ---- network ----------------------------------------------------------- */

static int parted(struct sim *s, uint32_t a, uint32_t b)
{
	for (size_t i = 0; i < s->cfg->nparts; i++) {
		const struct sim_partition *p = &s->cfg->parts[i];
		if (s->now >= p->start_ms && s->now < p->end_ms && p->group[a] != p->group[b])
			return 1;
	}
	return 0;
}

static int net_send(struct sim *s, uint32_t from, uint32_t to, const uint8_t *d, size_t len, uint64_t extra)
{
	if (from == to || parted(s, from, to) || chance(s, s->cfg->loss))
		return 0;
	int copies = chance(s, s->cfg->dup) ? 2 : 1;
	for (int c = 0; c < copies; c++) {
		uint64_t delay = s->lat[from][to] + rnd(s, s->cfg->jitter_ms + 1) + extra;
		if (chance(s, s->cfg->reorder))
			delay += rnd(s, s->cfg->reorder_ms + 1);
		struct ev e = {.t = s->now + delay, .kind = EV_MSG, .node = to, .from = from};
		e.data = malloc(len ? len : 1);
		if (!e.data)
			return -CN_ENOMEM;
		memcpy(e.data, d, len);
		e.len = len;
		int rc = push(s, e);
		if (rc) {
			free(e.data);
			return rc;
		}
		s->res->messages++;
	}
	return 0;
}

/* ---- the application: blocks ------------------------------------------- */

/* height ‖ parent ‖ proposer key ‖ view ‖ nonce ‖ has_cert [‖ cert view ‖ bitmap ‖ sig] */
static size_t block_build(struct sim *s, uint64_t h, uint64_t v, const uint8_t *parent, uint32_t key,
                          uint64_t nonce, const struct fbft_cert *cert, uint8_t *out)
{
	size_t nb = (s->cfg->nkeys + 7) / 8, sl = s->nodes[0].crypto->sig_len, n = 0;
	store_le64(out, h);
	memcpy(out + 8, parent, 32);
	store_be32(out + 40, key);
	store_le64(out + 44, v);
	store_le64(out + 52, nonce);
	n = 60;
	out[n++] = cert ? 1 : 0;
	if (cert) {
		store_le64(out + n, cert->view);
		n += 8;
		memcpy(out + n, cert->bitmap, nb);
		n += nb;
		memcpy(out + n, cert->sig, sl);
		n += sl;
	}
	return n;
}

static int block_valid(struct sim *s, struct node *nd, uint64_t h, const uint8_t *parent, const uint8_t *b, size_t len)
{
	size_t nb = (s->cfg->nkeys + 7) / 8, sl = nd->crypto->sig_len;
	if (len < 61 || load_le64(b) != h || memcmp(b + 8, parent, 32))
		return 0;
	if (b[60] != (h > 1))
		return 0;
	if (h == 1)
		return len == 61;
	if (len != 61 + 8 + nb + sl)
		return 0;
	/* the parent's commit certificate travels in the block: check it */
	struct fbft_cert c;
	memset(&c, 0, sizeof c);
	c.height = h - 1;
	c.view = load_le64(b + 61);
	memcpy(c.hash, parent, 32);
	memcpy(c.bitmap, b + 69, nb);
	memcpy(c.sig, b + 69 + nb, sl);
	return fbft_cert_verify(nd->sm, FBFT_COMMIT, &c) == 0;
}

/* ---- checkers ---------------------------------------------------------- */

static int grow_h(struct sim *s, uint64_t h)
{
	if (h < s->cap_h)
		return 0;
	size_t nc = s->cap_h ? s->cap_h : 64;
	while (nc <= h)
		nc *= 2;
	void *a = realloc(s->final, nc * 32), *b = realloc(s->final_set, nc);
	if (a)
		s->final = a;
	if (b)
		s->final_set = b;
	void *c = realloc(s->prop_time, nc * 8), *d = realloc(s->ndeliver, nc * 8);
	if (c)
		s->prop_time = c;
	if (d)
		s->ndeliver = d;
	if (!a || !b || !c || !d)
		return -CN_ENOMEM;
	memset(s->final_set + s->cap_h, 0, nc - s->cap_h);
	memset(s->prop_time + s->cap_h, 0, (nc - s->cap_h) * 8);
	memset(s->ndeliver + s->cap_h, 0, (nc - s->cap_h) * 8);
	s->cap_h = nc;
	return 0;
}

static uint64_t vk_hash(uint64_t h, uint64_t v, uint32_t key, uint8_t type)
{
	uint64_t x = h * 0x9E3779B97F4A7C15ULL ^ (v + 0x632BE59BD9B4E019ULL) * 0xBF58476D1CE4E5B9ULL ^
	             ((uint64_t)key << 8 | type) * 0x94D049BB133111EBULL;
	return x ^ (x >> 31);
}

/* Records that key signed hash for (type, h, v); a different hash is a
 * conflicting signature by an honest key. */
static int note_vote(struct sim *s, uint8_t type, uint64_t h, uint64_t v, uint32_t key, const uint8_t *hash)
{
	if (s->nvotes * 2 >= s->capvotes) {
		size_t nc = s->capvotes ? s->capvotes * 2 : 4096;
		struct vote_key *nv = calloc(nc, sizeof *nv);
		if (!nv)
			return -CN_ENOMEM;
		for (size_t i = 0; i < s->capvotes; i++) {
			if (!s->votes[i].used)
				continue;
			size_t j = vk_hash(s->votes[i].h, s->votes[i].v, s->votes[i].key, s->votes[i].type) & (nc - 1);
			while (nv[j].used)
				j = (j + 1) & (nc - 1);
			nv[j] = s->votes[i];
		}
		free(s->votes);
		s->votes = nv;
		s->capvotes = nc;
	}
	size_t j = vk_hash(h, v, key, type) & (s->capvotes - 1);
	while (s->votes[j].used) {
		struct vote_key *e = &s->votes[j];
		if (e->h == h && e->v == v && e->key == key && e->type == type) {
			if (memcmp(e->hash, hash, 32))
				fail(s, "honest key %u signed conflicting type-%u messages at height %llu view %llu", key, type,
				     (unsigned long long)h, (unsigned long long)v);
			return 0;
		}
		j = (j + 1) & (s->capvotes - 1);
	}
	struct vote_key *e = &s->votes[j];
	e->used = 1;
	e->h = h;
	e->v = v;
	e->key = key;
	e->type = type;
	memcpy(e->hash, hash, 32);
	s->nvotes++;
	return 0;
}

static int check_outgoing(struct sim *s, uint32_t i, const uint8_t *d, size_t len)
{
	struct fbft_msg m;
	if (fbft_msg_decode(d, len, &m)) {
		fail(s, "honest node %u sent an undecodable message", i);
		return 0;
	}
	if (m.type == FBFT_ANNOUNCE || m.type == FBFT_NEWVIEW) {
		if (m.height < s->cap_h || grow_h(s, m.height) == 0)
			if (!s->prop_time[m.height])
				s->prop_time[m.height] = s->now;
		return note_vote(s, FBFT_ANNOUNCE, m.height, m.view, m.sender, m.hash);
	}
	if (m.type == FBFT_VIEWCHANGE)
		s->res->view_changes++;
	if (m.type != FBFT_PREPARE && m.type != FBFT_COMMIT)
		return 0;
	for (uint32_t k = 0; k < s->cfg->nkeys; k++)
		if (m.bitmap[k >> 3] >> (k & 7) & 1) {
			int rc = note_vote(s, m.type, m.height, m.view, k, m.hash);
			if (rc)
				return rc;
		}
	return 0;
}

static int on_deliver(struct sim *s, uint32_t i, const struct fbft_action *a)
{
	struct node *nd = &s->nodes[i];
	if (a->height != nd->nchain + 1) {
		fail(s, "node %u delivered height %llu after %zu", i, (unsigned long long)a->height, nd->nchain);
		return 0;
	}
	const uint8_t *parent = nd->nchain ? nd->chain[nd->nchain - 1].hash : s->genesis;
	if (a->len < 40 || memcmp(a->data + 8, parent, 32))
		fail(s, "node %u: final block %llu does not extend its chain", i, (unsigned long long)a->height);
	if (nd->nchain == nd->capchain) {
		size_t nc = nd->capchain ? nd->capchain * 2 : 32;
		struct blk *c = realloc(nd->chain, nc * sizeof *c);
		if (!c)
			return -CN_ENOMEM;
		nd->chain = c;
		nd->capchain = nc;
	}
	struct blk *b = &nd->chain[nd->nchain++];
	memcpy(b->hash, a->hash, 32);
	b->data = malloc(a->len ? a->len : 1);
	if (!b->data)
		return -CN_ENOMEM;
	memcpy(b->data, a->data, a->len);
	b->len = a->len;
	b->cert = a->cert;
	trace(s, "node %u FINAL h=%llu v=%llu %02x%02x%02x%02x", i, (unsigned long long)a->height,
	      (unsigned long long)a->view, a->hash[0], a->hash[1], a->hash[2], a->hash[3]);
	if (!nd->honest)
		return 0;
	int rc = grow_h(s, a->height);
	if (rc)
		return rc;
	if (!s->final_set[a->height]) {
		s->final_set[a->height] = 1;
		memcpy(s->final[a->height], a->hash, 32);
	} else if (memcmp(s->final[a->height], a->hash, 32)) {
		fail(s, "safety: two different final blocks at height %llu (node %u)", (unsigned long long)a->height, i);
	}
	if (++s->ndeliver[a->height] == s->nhonest && s->prop_time[a->height]) {
		double *f = realloc(s->fin, (s->nfin + 1) * sizeof *f);
		if (!f)
			return -CN_ENOMEM;
		s->fin = f;
		s->fin[s->nfin++] = (double)(s->now - s->prop_time[a->height]);
	}
	return 0;
}

/* ---- Byzantine transformations ----------------------------------------- */

static int resign_vote(struct sim *s, struct node *nd, struct fbft_msg *m)
{
	uint8_t pl[49];
	size_t n = m->type == FBFT_PREPARE ? fbft_prepare_payload(m->height, m->view, m->hash, pl)
	                                   : fbft_commit_payload(m->height, m->view, m->hash, pl);
	uint8_t sigs[FBFT_MAX_KEYS / 8 * FBFT_SIG_MAX];
	size_t sl = nd->crypto->sig_len, cnt = 0;
	for (uint32_t i = 0; i < nd->nkeys && cnt * sl + sl <= sizeof sigs; i++)
		if (nd->crypto->sign(nd->crypto->ctx, nd->keys[i], pl, n, sigs + sl * cnt) == 0)
			cnt++;
	if (!cnt)
		return -CN_EINVAL;
	if (!nd->crypto->vote_sig_len)
		return nd->crypto->aggregate(nd->crypto->ctx, sigs, cnt, m->sig);
	/* votes carry the crypto's vote form (BLS: uncompressed) */
	uint8_t agg[FBFT_SIG_MAX];
	int rc = nd->crypto->aggregate(nd->crypto->ctx, sigs, cnt, agg);
	return rc ? rc : nd->crypto->to_vote(nd->crypto->ctx, agg, m->sig);
}

static int ensure_scratch(struct sim *s, size_t n)
{
	if (n <= s->scratch_cap)
		return 0;
	uint8_t *p = realloc(s->scratch, n);
	if (!p)
		return -CN_ENOMEM;
	s->scratch = p;
	s->scratch_cap = n;
	return 0;
}

static void crash(struct sim *s, uint32_t i, uint64_t restart_at);

static int send_out(struct sim *s, uint32_t i, int bcast, uint32_t to, const uint8_t *d, size_t len)
{
	struct node *nd = &s->nodes[i];
	uint32_t n = s->cfg->nnodes;
	int rc = 0;
	if (nd->honest && (rc = check_outgoing(s, i, d, len)))
		return rc;
	if (s->cfg->trace) {
		struct fbft_msg m;
		if (fbft_msg_decode(d, len, &m) == 0)
			trace(s, "node %u %s type=%u h=%llu v=%llu to=%d", i, bcast ? "bcast" : "send", m.type,
			      (unsigned long long)m.height, (unsigned long long)m.view, bcast ? -1 : (int)to);
	}
	switch (nd->byz) {
	case SIM_SILENT:
		return 0;
	case SIM_EQUIVOCATE: {
		struct fbft_msg m;
		if (fbft_msg_decode(d, len, &m) == 0 && (m.type == FBFT_ANNOUNCE || m.type == FBFT_NEWVIEW)) {
			/* the same block with another nonce, signed again; a NEWVIEW
			 * that must re-propose a prepared block drops its justification
			 * instead, to test the honest nodes' locks */
			m.has_cert = 0;
			uint8_t alt[1024];
			if (m.block_len > sizeof alt || m.block_len < 61)
				break;
			memcpy(alt, m.block, m.block_len);
			store_le64(alt + 52, load_le64(alt + 52) ^ 0xE0E0E0E0ULL);
			m.block = alt;
			keccak256(alt, m.block_len, m.hash);
			if ((rc = ensure_scratch(s, len + 256)))
				return rc;
			size_t alen;
			if (fbft_msg_encode_signed(nd->crypto, m.sender, &m, s->scratch, s->scratch_cap, &alen))
				break;
			int all = s->cfg->bugs != 0; /* with the injected bug, show both to everyone */
			for (uint32_t j = 0; j < n; j++) {
				if (j < n / 2 || all)
					if ((rc = net_send(s, i, j, d, len, 0)))
						return rc;
				if (j >= n / 2 || all)
					if ((rc = net_send(s, i, j, s->scratch, alen, all ? 5 : 0)))
						return rc;
			}
			return 0;
		}
		break;
	}
	case SIM_DOUBLE_VOTE: {
		struct fbft_msg m;
		if (fbft_msg_decode(d, len, &m) == 0 && (m.type == FBFT_PREPARE || m.type == FBFT_COMMIT)) {
			cn_prng_fill(&s->rng, m.hash, 32);
			if (resign_vote(s, nd, &m) == 0) {
				if ((rc = ensure_scratch(s, len + 256)))
					return rc;
				size_t alen;
				if (fbft_msg_encode(&m, s->scratch, s->scratch_cap, &alen) == 0 &&
				    (rc = net_send(s, i, s->owner[to], s->scratch, alen, 0)))
					return rc;
			}
		}
		break;
	}
	case SIM_REPLAY: {
		uint64_t extra = rnd(s, 2 * s->cfg->phase_timeout_ms);
		if (bcast) {
			for (uint32_t j = 0; j < n; j++)
				if ((rc = net_send(s, i, j, d, len, rnd(s, 2) ? extra : 0)))
					return rc;
		} else if ((rc = net_send(s, i, s->owner[to], d, len, extra))) {
			return rc;
		}
		return 0;
	}
	case SIM_GARBAGE:
		if (chance(s, 0.5)) {
			size_t gl = rnd(s, 2) ? len : rnd(s, 300);
			if ((rc = ensure_scratch(s, gl + 1)))
				return rc;
			if (gl == len) {
				memcpy(s->scratch, d, len);
				for (int f = 0, nf = 1 + (int)rnd(s, 4); f < nf && len; f++)
					s->scratch[rnd(s, len)] ^= (uint8_t)(1 + rnd(s, 255));
			} else {
				cn_prng_fill(&s->rng, s->scratch, gl);
				if (gl > 2) {
					s->scratch[0] = 0xFB;
					s->scratch[1] = 1;
				}
			}
			if ((rc = net_send(s, i, (uint32_t)rnd(s, n), s->scratch, gl, 0)))
				return rc;
		}
		break;
	case SIM_CRASH_LEADER: {
		struct fbft_msg m;
		if (nd->crashes_left > 0 && s->now < s->cfg->faults_end_ms && fbft_msg_decode(d, len, &m) == 0 &&
		    m.type == s->cfg->crash_type) {
			/* the leader dies halfway through its broadcast */
			for (uint32_t j = 0; j < n; j++)
				if (rnd(s, 2) && (rc = net_send(s, i, j, d, len, 0)))
					return rc;
			nd->crashes_left--;
			trace(s, "node %u crashes after sending type %u", i, m.type);
			crash(s, i, s->now + s->cfg->down_ms);
			return 0;
		}
		break;
	}
	}
	if (bcast) {
		for (uint32_t j = 0; j < n; j++)
			if ((rc = net_send(s, i, j, d, len, 0)))
				return rc;
		return 0;
	}
	return net_send(s, i, s->owner[to], d, len, 0);
}

/* ---- nodes ------------------------------------------------------------- */

static int step(struct sim *s, uint32_t i, const struct fbft_input *in);

static int node_start(struct sim *s, uint32_t i)
{
	struct node *nd = &s->nodes[i];
	struct fbft_config c = s->fcfg;
	c.own_keys = nd->keys;
	c.n_own = nd->nkeys;
	if (nd->honest)
		c.bugs = s->cfg->bugs;
	if (nd->has_ps)
		nd->ps.lock_block = nd->ps_lock;
	int rc = fbft_new(&c, nd->crypto, nd->has_ps ? &nd->ps : NULL, s->genesis, &nd->sm);
	if (rc)
		return rc;
	nd->up = 1;
	nd->inc++;
	nd->wake = 0;
	struct fbft_input in = {.kind = FBFT_IN_START};
	return step(s, i, &in);
}

static void crash(struct sim *s, uint32_t i, uint64_t restart_at)
{
	struct node *nd = &s->nodes[i];
	if (!nd->up)
		return;
	fbft_free(nd->sm);
	nd->sm = NULL;
	nd->up = 0;
	nd->inc++;
	trace(s, "node %u CRASH (restart at %llu)", i, (unsigned long long)restart_at);
	push(s, (struct ev){.t = restart_at, .kind = EV_RESTART, .node = i});
}

static int step(struct sim *s, uint32_t i, const struct fbft_input *in)
{
	struct node *nd = &s->nodes[i];
	if (!nd->up)
		return 0;
	s->res->events++;
	int rc = fbft_step(nd->sm, s->now, in, &nd->out);
	if (rc)
		return rc;
	uint32_t inc = nd->inc;
	struct fbft_out *o = &nd->out;
	for (size_t k = 0; k < o->n && nd->up && nd->inc == inc; k++) {
		struct fbft_action *a = &o->act[k];
		switch (a->kind) {
		case FBFT_ACT_PERSIST: {
			uint8_t *lb = NULL;
			if (a->len) {
				lb = malloc(a->len);
				if (!lb)
					return -CN_ENOMEM;
				memcpy(lb, a->data, a->len);
			}
			free(nd->ps_lock);
			nd->ps_lock = lb;
			nd->ps = a->persist;
			nd->ps.lock_block = lb;
			nd->has_ps = 1;
			break;
		}
		case FBFT_ACT_SEND:
		case FBFT_ACT_BROADCAST:
			if ((rc = send_out(s, i, a->kind == FBFT_ACT_BROADCAST, a->to_key, a->data, a->len)))
				return rc;
			break;
		case FBFT_ACT_VALIDATE: {
			struct ev e = {.t = s->now + 1 + rnd(s, 3), .kind = EV_VALIDATE, .node = i, .inc = nd->inc,
			               .a = a->height, .b = a->view};
			memcpy(e.hash, a->hash, 32);
			e.data = malloc(a->len ? a->len : 1);
			if (!e.data)
				return -CN_ENOMEM;
			memcpy(e.data, a->data, a->len);
			e.len = a->len;
			if ((rc = push(s, e)))
				return rc;
			break;
		}
		case FBFT_ACT_PROPOSE: {
			struct ev e = {.t = s->now + 1, .kind = EV_PROPOSE, .node = i, .inc = nd->inc, .a = a->height, .b = a->view};
			memcpy(e.hash, a->hash, 32);
			if (a->height > 1) {
				e.cert = malloc(sizeof *e.cert);
				if (!e.cert)
					return -CN_ENOMEM;
				*e.cert = a->cert;
			}
			if ((rc = push(s, e)))
				return rc;
			break;
		}
		case FBFT_ACT_DELIVER:
			if ((rc = on_deliver(s, i, a)))
				return rc;
			break;
		case FBFT_ACT_SYNC: {
			uint32_t peer = (uint32_t)rnd(s, s->cfg->nnodes);
			if (peer == i)
				peer = (peer + 1) % s->cfg->nnodes;
			if (parted(s, i, peer) || chance(s, s->cfg->loss))
				break;
			struct ev e = {.t = s->now + 2 * s->lat[i][peer] + 5, .kind = EV_SYNC, .node = i, .from = peer,
			               .inc = nd->inc, .a = a->height};
			if ((rc = push(s, e)))
				return rc;
			break;
		}
		case FBFT_ACT_EVIDENCE:
			if (nd->honest)
				s->res->evidence++;
			trace(s, "node %u EVIDENCE key=%u type=%u h=%llu v=%llu", i, a->evidence.key, a->evidence.type,
			      (unsigned long long)a->evidence.height, (unsigned long long)a->evidence.view);
			break;
		}
	}
	if (nd->up && nd->inc == inc && o->wake_ms && o->wake_ms != nd->wake) {
		nd->wake = o->wake_ms;
		uint64_t t = o->wake_ms > s->now ? o->wake_ms : s->now + 1;
		if ((rc = push(s, (struct ev){.t = t, .kind = EV_TIMER, .node = i, .inc = nd->inc, .a = ++nd->timer_gen})))
			return rc;
	}
	return 0;
}

static int handle(struct sim *s, struct ev *e)
{
	struct node *nd = &s->nodes[e->node];
	struct fbft_input in = {0};
	int rc = 0;
	switch (e->kind) {
	case EV_MSG:
		if (!nd->up)
			return 0;
		if (nd->byz == SIM_REPLAY && chance(s, 0.3)) {
			struct replay_ent *r = &nd->replay[nd->nreplay < 32 ? nd->nreplay++ : rnd(s, 32)];
			if (r->data && nd->nreplay >= 32) {
				uint32_t to = (uint32_t)rnd(s, s->cfg->nnodes);
				if ((rc = net_send(s, e->node, to, r->data, r->len, 0)))
					return rc;
			}
			free(r->data);
			r->data = malloc(e->len ? e->len : 1);
			if (r->data) {
				memcpy(r->data, e->data, e->len);
				r->len = e->len;
			}
		}
		if (s->cfg->trace) {
			struct fbft_msg m;
			if (fbft_msg_decode(e->data, e->len, &m) == 0)
				trace(s, "node %u recv type=%u h=%llu v=%llu from %u", e->node, m.type, (unsigned long long)m.height,
				      (unsigned long long)m.view, e->from);
		}
		in.kind = FBFT_IN_MSG;
		in.data = e->data;
		in.len = e->len;
		return step(s, e->node, &in);
	case EV_TIMER:
		if (!nd->up || e->inc != nd->inc || e->a != nd->timer_gen)
			return 0;
		nd->wake = 0;
		in.kind = FBFT_IN_TIMER;
		return step(s, e->node, &in);
	case EV_VALIDATE:
		if (!nd->up || e->inc != nd->inc)
			return 0;
		in.kind = FBFT_IN_VALIDATED;
		in.height = e->a;
		in.view = e->b;
		keccak256(e->data, e->len, in.hash);
		in.ok = block_valid(s, nd, e->a, e->hash, e->data, e->len);
		trace(s, "node %u validated h=%llu v=%llu ok=%d", e->node, (unsigned long long)e->a, (unsigned long long)e->b, in.ok);
		return step(s, e->node, &in);
	case EV_PROPOSE: {
		if (!nd->up || e->inc != nd->inc)
			return 0;
		uint8_t blk[1024];
		uint32_t key = fbft_leader(nd->sm, e->a, e->b);
		size_t len = block_build(s, e->a, e->b, e->hash, key, cn_prng_next_u64(&s->rng), e->cert, blk);
		in.kind = FBFT_IN_PROPOSAL;
		in.height = e->a;
		in.view = e->b;
		in.data = blk;
		in.len = len;
		return step(s, e->node, &in);
	}
	case EV_SYNC: {
		struct node *peer = &s->nodes[e->from];
		if (!nd->up || e->inc != nd->inc || !peer->up || parted(s, e->node, e->from))
			return 0;
		for (uint64_t h = fbft_height(nd->sm); h <= peer->nchain && nd->up && nd->inc == e->inc; h++) {
			struct blk *b = &peer->chain[h - 1];
			in.kind = FBFT_IN_SYNC_BLOCK;
			in.data = b->data;
			in.len = b->len;
			in.cert = &b->cert;
			if ((rc = step(s, e->node, &in)))
				return rc;
			if (fbft_height(nd->sm) != h + 1)
				break;
		}
		return 0;
	}
	case EV_CRASH:
		crash(s, e->node, e->a);
		return 0;
	case EV_RESTART:
		if (nd->up)
			return 0;
		trace(s, "node %u RESTART", e->node);
		return node_start(s, e->node);
	case EV_FAULTS_END: {
		s->faults_over = 1;
		uint64_t mx = 0;
		for (uint32_t i = 0; i < s->cfg->nnodes; i++)
			if (s->nodes[i].honest && s->nodes[i].nchain > mx)
				mx = s->nodes[i].nchain;
		s->h_at_faults_end = mx;
		return 0;
	}
	}
	return 0;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

int sim_run(const struct sim_config *cfg, struct sim_result *res)
{
	memset(res, 0, sizeof *res);
	if (!cfg->nnodes || cfg->nnodes > SIM_MAX_NODES || cfg->nkeys < cfg->nnodes || cfg->nkeys > FBFT_MAX_KEYS)
		return -CN_EINVAL;
	struct sim *s = calloc(1, sizeof *s);
	if (!s)
		return -CN_ENOMEM;
	s->cfg = cfg;
	s->res = res;
	cn_prng_seed(&s->rng, cfg->seed);
	int rc = 0;
	s->owner = calloc(cfg->nkeys, sizeof *s->owner);
	s->power = calloc(cfg->nkeys, sizeof *s->power);
	if (!s->owner || !s->power) {
		rc = -CN_ENOMEM;
		goto out;
	}
	for (uint32_t k = 0; k < cfg->nkeys; k++) {
		s->owner[k] = k % cfg->nnodes;
		s->power[k] = cfg->staked ? cfg->power[k] : 1;
	}
	if ((rc = sim_keyring_new(cfg->nkeys, cfg->seed, &s->kr)))
		goto out;
	for (uint32_t a = 0; a < cfg->nnodes; a++)
		for (uint32_t b = 0; b < cfg->nnodes; b++)
			s->lat[a][b] = cfg->lat_min_ms + rnd(s, cfg->lat_max_ms - cfg->lat_min_ms + 1);
	memset(s->genesis, 0x6e, 32);
	s->fcfg = (struct fbft_config){
		.nkeys = cfg->nkeys,
		.power = s->power,
		.blocks_per_leader = cfg->blocks_per_leader ? cfg->blocks_per_leader : 1,
		.block_period_ms = cfg->block_period_ms,
		.phase_timeout_ms = cfg->phase_timeout_ms,
		.viewchange_timeout_ms = cfg->viewchange_timeout_ms,
		.max_timeout_ms = 8 * cfg->phase_timeout_ms,
	};
	for (uint32_t i = 0; i < cfg->nnodes; i++) {
		struct node *nd = &s->nodes[i];
		nd->byz = cfg->byz[i];
		nd->honest = nd->byz == SIM_HONEST || nd->byz == SIM_CRASH_LEADER;
		nd->crashes_left = 2;
		s->nhonest += nd->honest;
		nd->keys = calloc(cfg->nkeys / cfg->nnodes + 1, sizeof *nd->keys);
		if (!nd->keys) {
			rc = -CN_ENOMEM;
			goto out;
		}
		for (uint32_t k = i; k < cfg->nkeys; k += cfg->nnodes)
			nd->keys[nd->nkeys++] = k;
		fbft_out_init(&nd->out);
		if (cfg->crypto_for) {
			nd->crypto = cfg->crypto_for(cfg->crypto_ctx, i, nd->keys, nd->nkeys);
			if (!nd->crypto) {
				rc = -CN_EINVAL;
				goto out;
			}
		} else {
			if ((rc = sim_signer_new(s->kr, nd->keys, nd->nkeys, &nd->signer)))
				goto out;
			nd->crypto = sim_signer_crypto(nd->signer);
		}
	}
	for (uint32_t i = 0; i < cfg->nnodes; i++)
		if (s->nodes[i].byz)
			trace(s, "node %u byzantine behaviour %u", i, s->nodes[i].byz);
	for (uint32_t i = 0; i < cfg->nnodes; i++)
		if ((rc = node_start(s, i)))
			goto out;
	for (size_t c = 0; c < cfg->ncrashes; c++)
		push(s, (struct ev){.t = cfg->crashes[c].at_ms, .kind = EV_CRASH, .node = cfg->crashes[c].node,
		                    .a = cfg->crashes[c].restart_ms});
	push(s, (struct ev){.t = cfg->faults_end_ms, .kind = EV_FAULTS_END});
	uint64_t end = cfg->faults_end_ms + cfg->liveness_ms;
	while (s->nheap && !res->violation) {
		struct ev e = pop(s);
		if (e.t > end) {
			free(e.data);
			free(e.cert);
			break;
		}
		s->now = e.t;
		rc = handle(s, &e);
		free(e.data);
		free(e.cert);
		if (rc)
			goto out;
		if (s->faults_over && !cfg->expect_stall) {
			uint64_t mn = UINT64_MAX;
			int all_up = 1;
			for (uint32_t i = 0; i < cfg->nnodes; i++)
				if (s->nodes[i].honest) {
					all_up &= s->nodes[i].up;
					if (s->nodes[i].nchain < mn)
						mn = s->nodes[i].nchain;
				}
			if (all_up && mn >= s->h_at_faults_end + cfg->target_blocks)
				break;
		}
	}
	res->end_ms = s->now;
	res->min_height = UINT64_MAX;
	for (uint32_t i = 0; i < cfg->nnodes; i++)
		if (s->nodes[i].honest) {
			if (s->nodes[i].nchain < res->min_height)
				res->min_height = s->nodes[i].nchain;
			if (s->nodes[i].nchain > res->max_height)
				res->max_height = s->nodes[i].nchain;
		}
	if (!res->violation) {
		if (cfg->expect_stall) {
			if (res->max_height > 0)
				fail(s, "stall expected with too many faulty keys, but %llu blocks became final",
				     (unsigned long long)res->max_height);
		} else if (res->min_height < s->h_at_faults_end + cfg->target_blocks) {
			fail(s, "liveness: honest nodes at heights %llu..%llu, wanted %llu within %llu ms after faults ended",
			     (unsigned long long)res->min_height, (unsigned long long)res->max_height,
			     (unsigned long long)(s->h_at_faults_end + cfg->target_blocks), (unsigned long long)cfg->liveness_ms);
		}
	}
	if (s->nfin) {
		qsort(s->fin, s->nfin, sizeof *s->fin, cmp_d);
		res->finality_ms = s->fin[s->nfin / 2];
	}
out:
	while (s->nheap) {
		struct ev e = pop(s);
		free(e.data);
		free(e.cert);
	}
	free(s->heap);
	for (uint32_t i = 0; i < cfg->nnodes && i < SIM_MAX_NODES; i++) {
		struct node *nd = &s->nodes[i];
		fbft_free(nd->sm);
		fbft_out_clear(&nd->out);
		sim_signer_free(nd->signer);
		free(nd->keys);
		free(nd->ps_lock);
		for (size_t k = 0; k < nd->nchain; k++)
			free(nd->chain[k].data);
		free(nd->chain);
		for (size_t k = 0; k < 32; k++)
			free(nd->replay[k].data);
	}
	sim_keyring_free(s->kr);
	free(s->owner);
	free(s->power);
	free(s->final);
	free(s->final_set);
	free(s->prop_time);
	free(s->ndeliver);
	free(s->fin);
	free(s->votes);
	free(s->scratch);
	free(s);
	return rc;
}
