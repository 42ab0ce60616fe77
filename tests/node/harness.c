/* harness.c — see harness.h. */
#include "harness.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "consensus/fbft_bls.h"
#include "chain/chain.h"
#include "crypto/bls.h"
#include "crypto/crypto.h"
#include "store/store.h"

void h_init(struct harness *h, uint64_t block_time_ms)
{
	memset(h, 0, sizeof *h);
	h->now = H_T0;
	h->block_time_ms = block_time_ms;
}

void h_add(struct harness *h, enum node_role role, const unsigned *keys, unsigned nkeys)
{
	cr_assert(h->nn < H_MAX && nkeys <= 2);
	struct hnode *x = &h->nd[h->nn++];
	x->role = role;
	x->nkeys = nkeys;
	for (unsigned i = 0; i < nkeys; i++)
		x->keys[i] = keys[i];
	char d[] = "/tmp/canon-node-XXXXXX";
	cr_assert_not_null(mkdtemp(d));
	snprintf(x->dir, sizeof x->dir, "%s", d);
}

static void q_push(struct harness *h, struct hmsg m)
{
	if (h->nq == h->capq) {
		h->capq = h->capq ? 2 * h->capq : 256;
		h->q = realloc(h->q, h->capq * sizeof *h->q);
		cr_assert_not_null(h->q);
	}
	m.seq = h->seq++;
	h->q[h->nq++] = m;
}

static uint8_t *dup(const uint8_t *p, size_t n)
{
	uint8_t *d = malloc(n ? n : 1);
	cr_assert_not_null(d);
	if (n)
		memcpy(d, p, n);
	return d;
}

static unsigned rnd(struct harness *h, unsigned n)
{
	h->rng = h->rng * 6364136223846793005ull + 1442695040888963407ull;
	return n ? (unsigned)((h->rng >> 33) % n) : 0;
}

static int peer_for_sync(struct harness *h, int i)
{
	int best = -1;
	uint64_t bh = 0;
	for (int j = 0; j < h->nn; j++) {
		if (j == i || !h->nd[j].up)
			continue;
		struct node_status st;
		node_status(h->nd[j].n, &st);
		if (best < 0 || st.height > bh) {
			best = j;
			bh = st.height;
		}
	}
	return best;
}

/* A Byzantine leader: the block of its ANNOUNCE gets another state root
 * and the message is signed again with the leader's key, so only
 * validation (execution) can tell. Returns malloc'd bytes or NULL. */
static uint8_t *corrupt_announce(struct hnode *x, const uint8_t *d, size_t len, size_t *out_len)
{
	struct fbft_msg m;
	if (fbft_msg_decode(d, len, &m) || m.type != FBFT_ANNOUNCE)
		return NULL;
	if (!x->bls) {
		uint8_t pks[6][48];
		for (unsigned k = 0; k < 6; k++) {
			struct bls_secret_key sk;
			struct bls_public_key pk;
			cr_assert_eq(chain_localnet_bls(0, k, &sk), 0);
			bls_sk_to_pk(&sk, &pk);
			bls_pk_to_bytes(&pk, pks[k]);
		}
		cr_assert_eq(fbft_bls_new((const uint8_t(*)[48])pks, 6, &x->bls), 0);
		for (unsigned k = 0; k < x->nkeys; k++) {
			struct bls_secret_key sk;
			cr_assert_eq(chain_localnet_bls(0, x->keys[k], &sk), 0);
			cr_assert_eq(fbft_bls_add_secret(x->bls, x->keys[k], &sk), 0);
		}
	}
	struct block b;
	cr_assert_eq(block_decode(&b, m.block, m.block_len), 0);
	b.header.root[0] ^= 1;
	uint8_t *blk;
	size_t bl;
	cr_assert_eq(block_encode(&b, &blk, &bl), 0);
	cr_assert_eq(header_hash(&b.header, m.hash), 0);
	block_free(&b);
	m.block = blk;
	m.block_len = (uint32_t)bl;
	size_t cap = len + 1024;
	uint8_t *buf = malloc(cap);
	cr_assert_not_null(buf);
	cr_assert_eq(fbft_msg_encode_signed(fbft_bls_crypto(x->bls), m.sender, &m, buf, cap, out_len), 0);
	free(blk);
	x->corrupted++;
	return buf;
}

static void carry_out(struct harness *h, int i, struct node_out *o)
{
	struct hnode *x = &h->nd[i];
	for (size_t k = 0; k < o->n; k++) {
		struct node_action *a = &o->a[k];
		if (a->kind == NODE_ACT_PUBLISH) {
			if (x->silenced)
				continue;
			size_t cl;
			uint8_t *c = x->corrupt && a->topic == NODE_TOPIC_CONS ? corrupt_announce(x, a->data, a->len, &cl)
			                                                       : NULL;
			if (c) {
				free(a->data);
				a->data = c;
				a->len = cl;
			}
			if (h->record && a->topic == NODE_TOPIC_CONS) {
				if (h->nrec == h->caprec) {
					h->caprec = h->caprec ? 2 * h->caprec : 256;
					h->rec = realloc(h->rec, h->caprec * sizeof *h->rec);
					cr_assert_not_null(h->rec);
				}
				h->rec[h->nrec++] = (struct hmsg){.topic = a->topic, .data = dup(a->data, a->len),
				                                  .len = a->len};
			}
			for (int j = 0; j < h->nn; j++)
				if (j != i && h->nd[j].up && !(h->loss_pct && rnd(h, 100) < h->loss_pct))
					q_push(h, (struct hmsg){.t = h->now + H_LAT_MS + rnd(h, h->jitter_ms), .to = j, .from = i, .kind = 0,
					                        .topic = a->topic, .data = dup(a->data, a->len),
					                        .len = a->len, .gen = h->nd[j].gen});
		} else if (a->kind == NODE_ACT_SYNC) {
			int p = peer_for_sync(h, i);
			if (p < 0 || (h->sync_fail_pct && rnd(h, 100) < h->sync_fail_pct)) {
				q_push(h, (struct hmsg){.t = h->now + H_LAT_MS, .to = i, .from = i, .kind = 2,
				                        .gen = x->gen});
				continue;
			}
			q_push(h, (struct hmsg){.t = h->now + H_LAT_MS, .to = p, .from = i, .kind = 1,
			                        .data = dup(a->data, a->len), .len = a->len, .gen = h->nd[p].gen});
		}
	}
	x->wake = o->wake_ms;
}

static void on_gossip_tx(void *ctx, const uint8_t hash[32])
{
	struct hnode *x = ctx;
	if (x->nannounced == x->capannounced) {
		x->capannounced = x->capannounced ? 2 * x->capannounced : 64;
		x->announced = realloc(x->announced, x->capannounced * sizeof *x->announced);
		cr_assert(x->announced);
	}
	memcpy(x->announced[x->nannounced++], hash, 32);
}

void h_up(struct harness *h, int i)
{
	struct hnode *x = &h->nd[i];
	cr_assert(!x->up);
	struct bls_secret_key sk[2];
	for (unsigned k = 0; k < x->nkeys; k++)
		cr_assert_eq(chain_localnet_bls(0, x->keys[k], &sk[k]), 0);
	struct node_config cfg = {
		.datadir = x->dir,
		.network = "localnet",
		.shard = 0,
		.role = x->role,
		.keys = sk,
		.n_keys = x->nkeys,
		.block_time_ms = h->block_time_ms,
		.phase_timeout_ms = 4 * h->block_time_ms,
		.no_fsync = 1,
		.metrics = x->metrics,
		.on_gossip_tx = on_gossip_tx,
		.on_gossip_tx_ctx = x,
	};
	int rc = node_open(&x->n, &cfg);
	cr_assert_eq(rc, 0, "node_open %d: %s", i, cn_strerror(rc));
	x->up = 1;
	x->gen++;
	x->nseen = 0;
	struct node_out o;
	node_out_init(&o);
	cr_assert_eq(node_start(x->n, h->now, &o), 0);
	carry_out(h, i, &o);
	node_out_free(&o);
}

void h_kill(struct harness *h, int i)
{
	struct hnode *x = &h->nd[i];
	cr_assert(x->up);
	node_close(x->n);
	x->n = NULL;
	x->up = 0;
	x->gen++;
	x->wake = 0;
}

static int seen(struct hnode *x, int topic, const uint8_t *d, size_t len)
{
	uint8_t id[32], buf[1];
	buf[0] = (uint8_t)topic;
	/* id = keccak(topic || keccak(data)) */
	uint8_t dh[32], cat[33];
	keccak256(d, len, dh);
	cat[0] = buf[0];
	memcpy(cat + 1, dh, 32);
	keccak256(cat, sizeof cat, id);
	for (size_t k = 0; k < x->nseen; k++)
		if (!memcmp(x->seen[k], id, 32))
			return 1;
	if (x->nseen == x->capseen) {
		x->capseen = x->capseen ? 2 * x->capseen : 256;
		x->seen = realloc(x->seen, x->capseen * sizeof *x->seen);
		cr_assert_not_null(x->seen);
	}
	memcpy(x->seen[x->nseen++], id, 32);
	return 0;
}

enum node_verdict h_inject(struct harness *h, int i, int topic, const uint8_t *data, size_t len)
{
	struct hnode *x = &h->nd[i];
	enum node_verdict v = node_validate(x->n, topic, data, len);
	if (v == NODE_REJECT)
		x->rejected++;
	if (v != NODE_ACCEPT)
		return v;
	struct node_out o;
	node_out_init(&o);
	int rc = node_deliver(x->n, h->now, topic, data, len, &o);
	cr_assert_eq(rc, 0, "node %d deliver topic %d: %s", i, topic, cn_strerror(rc));
	carry_out(h, i, &o);
	node_out_free(&o);
	return v;
}

static void handle(struct harness *h, struct hmsg *m)
{
	struct hnode *x = &h->nd[m->to];
	if (!x->up || x->gen != m->gen)
		return;
	struct node_out o;
	node_out_init(&o);
	int rc = 0;
	if (m->kind == 0) {
		if (!seen(x, m->topic, m->data, m->len))
			h_inject(h, m->to, m->topic, m->data, m->len);
	} else if (m->kind == 1) {
		uint8_t *resp = NULL;
		size_t rl = 0;
		rc = node_serve_sync(x->n, m->data, m->len, &resp, &rl);
		q_push(h, (struct hmsg){.t = h->now + H_LAT_MS, .to = m->from, .from = m->to, .kind = 2,
		                        .data = rc ? NULL : resp, .len = rl, .topic = rc ? -1 : 0,
		                        .gen = h->nd[m->from].gen});
		rc = 0;
	} else {
		rc = node_sync_response(x->n, h->now, m->data ? 0 : -CN_EIO, m->data, m->len, &o);
		cr_assert_eq(rc, 0, "node %d sync response: %s", m->to, cn_strerror(rc));
		carry_out(h, m->to, &o);
	}
	node_out_free(&o);
}

uint64_t h_min_height(struct harness *h)
{
	uint64_t mn = UINT64_MAX;
	for (int i = 0; i < h->nn; i++) {
		if (!h->nd[i].up)
			continue;
		struct node_status st;
		node_status(h->nd[i].n, &st);
		if (st.height < mn)
			mn = st.height;
	}
	return mn == UINT64_MAX ? 0 : mn;
}

uint64_t h_max_height(struct harness *h)
{
	uint64_t mx = 0;
	for (int i = 0; i < h->nn; i++) {
		if (!h->nd[i].up)
			continue;
		struct node_status st;
		node_status(h->nd[i].n, &st);
		if (st.height > mx)
			mx = st.height;
	}
	return mx;
}

uint64_t h_run(struct harness *h, uint64_t until_ms, uint64_t height)
{
	for (;;) {
		if (height && h_min_height(h) >= height)
			break;
		/* next event: earliest message or wake-up */
		size_t qi = SIZE_MAX;
		for (size_t k = 0; k < h->nq; k++)
			if (qi == SIZE_MAX || h->q[k].t < h->q[qi].t ||
			    (h->q[k].t == h->q[qi].t && h->q[k].seq < h->q[qi].seq))
				qi = k;
		int wi = -1;
		for (int i = 0; i < h->nn; i++)
			if (h->nd[i].up && h->nd[i].wake && (wi < 0 || h->nd[i].wake < h->nd[wi].wake))
				wi = i;
		uint64_t tq = qi == SIZE_MAX ? UINT64_MAX : h->q[qi].t;
		uint64_t tw = wi < 0 ? UINT64_MAX : h->nd[wi].wake;
		uint64_t t = tq < tw ? tq : tw;
		if (t == UINT64_MAX || t > until_ms) {
			h->now = until_ms;
			break;
		}
		if (t > h->now)
			h->now = t;
		if (tw <= tq) {
			struct hnode *x = &h->nd[wi];
			struct node_out o;
			node_out_init(&o);
			int rc = node_tick(x->n, h->now, &o);
			cr_assert_eq(rc, 0, "node %d tick: %s", wi, cn_strerror(rc));
			/* a node that asks to be woken now again would spin */
			if (o.wake_ms && o.wake_ms <= h->now)
				o.wake_ms = h->now + 1;
			carry_out(h, wi, &o);
			node_out_free(&o);
		} else {
			struct hmsg m = h->q[qi];
			h->q[qi] = h->q[--h->nq];
			handle(h, &m);
			free(m.data);
		}
	}
	return h_min_height(h);
}

void h_assert_no_fork(struct harness *h)
{
	uint64_t mx = h_max_height(h);
	for (uint64_t k = 0; k <= mx; k++) {
		uint8_t ref[32];
		int have = 0;
		for (int i = 0; i < h->nn; i++) {
			if (!h->nd[i].up)
				continue;
			struct store_txn *t;
			uint8_t hh[32];
			cr_assert_eq(store_begin(node_store(h->nd[i].n), 0, &t), 0);
			int rc = store_canon_get(t, k, hh);
			store_abort(t);
			if (rc)
				continue;
			if (!have) {
				memcpy(ref, hh, 32);
				have = 1;
			} else {
				cr_assert_arr_eq(ref, hh, 32, "fork at height %llu (node %d)", (unsigned long long)k, i);
			}
		}
	}
}

int h_node_of_key(struct harness *h, unsigned k)
{
	for (int i = 0; i < h->nn; i++)
		for (unsigned j = 0; j < h->nd[i].nkeys; j++)
			if (h->nd[i].role == NODE_VALIDATOR && h->nd[i].keys[j] == k)
				return i;
	return -1;
}

void h_free(struct harness *h)
{
	for (int i = 0; i < h->nn; i++) {
		if (h->nd[i].up)
			node_close(h->nd[i].n);
		free(h->nd[i].seen);
		free(h->nd[i].announced);
		fbft_bls_free(h->nd[i].bls);
		char cmd[300];
		snprintf(cmd, sizeof cmd, "rm -rf '%s'", h->nd[i].dir);
		if (system(cmd))
			cr_log_warn("could not remove %s", h->nd[i].dir);
	}
	for (size_t k = 0; k < h->nq; k++)
		free(h->q[k].data);
	free(h->q);
	for (size_t k = 0; k < h->nrec; k++)
		free(h->rec[k].data);
	free(h->rec);
	memset(h, 0, sizeof *h);
}
