/* node.c — the node core: FBFT actions carried out on the chain and pool,
 * gossip in and out, catch-up, restart. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "base/bytes.h"
#include "base/err.h"
#include "base/log.h"
#include "base/metrics.h"
#include "chain/chain.h"
#include "consensus/fbft_bls.h"
#include "crypto/bls.h"
#include "crypto/crypto.h"
#include "node/node_int.h"
#include "store/store.h"
#include "txpool/txpool.h"

/* Consensus messages more than this many heights ahead are not relayed:
 * nobody honest is that far ahead of a node that is in sync, and a node
 * that is behind catches up through sync, not through votes. */
#define NODE_HEIGHT_WINDOW 64
/* A sync request that got no answer is repeated after this long. */
#define NODE_SYNC_RETRY_MS 2000
/* A block may claim a time this far past the node's clock. */
#define NODE_MAX_FUTURE_S 60

/* An input for the state machine that carrying out an action produced
 * (a verdict, a proposal); stepped after the current batch so that every
 * batch's actions are carried out in order. */
struct pending {
	int kind;
	uint64_t height, view;
	uint8_t hash[32];
	int ok;
	uint8_t *data;
	size_t len;
};

struct txq_ent {
	uint8_t *raw;
	size_t len;
};

struct node {
	char *datadir, *network;
	uint32_t shard;
	enum node_role role;
	const struct netparams *np;
	struct store *st;
	struct chain *chain;
	struct txpool *pool;
	uint8_t genesis[32];

	uint32_t nkeys;
	uint8_t (*pks)[BLS_PK_LEN];
	uint8_t (*addrs)[CORE_ADDR_LEN];
	uint32_t *own;
	uint32_t n_own;
	struct fbft_bls *bls;
	struct fbft *sm;
	struct fbft_out fo;
	char persist_path[4096];
	int no_fsync;
	uint64_t block_time_ms;
	void (*on_gossip_tx)(void *ctx, const uint8_t hash[32]);
	void *on_gossip_tx_ctx;

	struct pending *pend;
	size_t npend, cappend;

	/* catch-up */
	int syncing;            /* applying a sync answer: old blocks, nothing to publish */
	int sync_inflight;
	uint64_t sync_sent_ms;
	uint64_t best_peer;
	uint64_t now;

	/* stats */
	uint64_t last_final_ms;
	uint64_t seen_height, seen_view;   /* for counting view changes */
	uint64_t view_changes;
	uint64_t txs_final;
	uint64_t refused;
	uint64_t prop_height, prop_ms;     /* when this node first saw the proposal at prop_height */

	pthread_mutex_t txq_mu;
	struct txq_ent *txq;
	size_t ntxq, captxq;

	struct cn_metric_child *m_view, *m_height, *m_final, *m_vc, *m_txs, *m_pending, *m_insert;
};

/* ---- small helpers --------------------------------------------------------- */

void node_out_init(struct node_out *o) { memset(o, 0, sizeof *o); }

void node_out_reset(struct node_out *o)
{
	for (size_t i = 0; i < o->n; i++)
		free(o->a[i].data);
	o->n = 0;
	o->wake_ms = 0;
}

void node_out_free(struct node_out *o)
{
	node_out_reset(o);
	free(o->a);
	memset(o, 0, sizeof *o);
}

static int out_add(struct node_out *o, int kind, int topic, const uint8_t *data, size_t len)
{
	if (o->n == o->cap) {
		size_t nc = o->cap ? 2 * o->cap : 16;
		struct node_action *a = realloc(o->a, nc * sizeof *a);
		if (!a)
			return -CN_ENOMEM;
		o->a = a;
		o->cap = nc;
	}
	uint8_t *d = malloc(len ? len : 1);
	if (!d)
		return -CN_ENOMEM;
	if (len)
		memcpy(d, data, len);
	o->a[o->n++] = (struct node_action){.kind = kind, .topic = topic, .data = d, .len = len};
	return 0;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int node_topic_name(const char *network, uint32_t shard, enum node_topic t, char *out, size_t cap)
{
	static const char *const names[] = {"tx", "cons", "block"};
	if ((unsigned)t >= NODE_TOPIC_COUNT || !network)
		return -CN_EINVAL;
	int n = snprintf(out, cap, "canon/%s/%u/%s", network, shard, names[t]);
	return n < 0 || (size_t)n >= cap ? -CN_ERANGE : 0;
}

int node_sync_protocol(const char *network, uint32_t shard, char *out, size_t cap)
{
	if (!network)
		return -CN_EINVAL;
	int n = snprintf(out, cap, "canon/sync/%s/%u/1.0.0", network, shard);
	return n < 0 || (size_t)n >= cap ? -CN_ERANGE : 0;
}

/* FBFT hashes a proposal the way the chain names blocks: the header hash.
 * Bytes that are not a block get a hash no header has (in practice). */
static void block_hash_cb(void *app, const uint8_t *data, size_t len, uint8_t out[32])
{
	(void)app;
	struct block b;
	if (block_decode(&b, data, len) || header_hash(&b.header, out))
		keccak256(data, len, out);
	block_free(&b);
}

/* ---- pool state reader ----------------------------------------------------- */

static int rd_nonce(void *ctx, const uint8_t addr[CORE_ADDR_LEN], uint64_t *nonce)
{
	int rc = chain_nonce(ctx, addr, nonce);
	if (rc == -CN_ENOTFOUND) {
		*nonce = 0;
		rc = 0;
	}
	return rc;
}

static int rd_balance(void *ctx, const uint8_t addr[CORE_ADDR_LEN], struct u256 *bal)
{
	int rc = chain_balance(ctx, addr, bal);
	if (rc == -CN_ENOTFOUND) {
		memset(bal, 0, sizeof *bal);
		rc = 0;
	}
	return rc;
}

/* The pool checked the signature of every tx it holds; a tx's hash covers
 * its signature, so the same hash means the same sender. */
static int pool_sender(void *ctx, const uint8_t hash[CORE_HASH_LEN], uint8_t sender[CORE_ADDR_LEN])
{
	struct txpool_tx *t;
	int rc = txpool_get(ctx, hash, &t);
	if (rc)
		return rc;
	memcpy(sender, t->sender, CORE_ADDR_LEN);
	txpool_tx_unref(t);
	return 0;
}

/* ---- metrics --------------------------------------------------------------- */

static int metrics_init(struct node *n, struct cn_metrics *r)
{
	static const double fin_b[] = {0.05, 0.1, 0.15, 0.25, 0.5, 1, 2, 4, 8, 16, 32};
	static const double ins_b[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5};
	struct cn_metric *m;
	int rc;
#define REG(call, child)                                                                           \
	do {                                                                                       \
		if ((rc = (call)) || (rc = cn_metric_with(m, NULL, &(child))))                      \
			return rc;                                                                 \
	} while (0)
	REG(cn_metrics_gauge(r, "canon_consensus_view", "FBFT view at the height being decided", NULL, 0, &m),
	    n->m_view);
	REG(cn_metrics_gauge(r, "canon_consensus_height", "Height FBFT is deciding", NULL, 0, &m), n->m_height);
	REG(cn_metrics_histogram(r, "canon_consensus_finality_seconds",
	                         "Time from seeing a proposal to its block being final here", NULL, 0, fin_b,
	                         sizeof fin_b / sizeof fin_b[0], &m),
	    n->m_final);
	REG(cn_metrics_counter(r, "canon_consensus_view_changes_total", "Views entered after view 0", NULL, 0, &m),
	    n->m_vc);
	REG(cn_metrics_counter(r, "canon_chain_transactions_total", "Transactions in final blocks inserted", NULL,
	                       0, &m),
	    n->m_txs);
	REG(cn_metrics_gauge(r, "canon_txpool_pending", "Executable transactions in the pool", NULL, 0, &m),
	    n->m_pending);
	REG(cn_metrics_histogram(r, "canon_chain_insert_seconds", "Time to validate and write a final block",
	                         NULL, 0, ins_b, sizeof ins_b / sizeof ins_b[0], &m),
	    n->m_insert);
#undef REG
	return 0;
}

static void metrics_update(struct node *n)
{
	if (n->sm) {
		uint64_t h = fbft_height(n->sm), v = fbft_view(n->sm);
		if (h != n->seen_height) {
			n->seen_height = h;
			n->seen_view = 0;
		}
		if (v > n->seen_view) {
			n->view_changes += v - n->seen_view;
			if (n->m_vc)
				cn_counter_add(n->m_vc, (double)(v - n->seen_view));
			n->seen_view = v;
		}
		if (n->m_view) {
			cn_gauge_set(n->m_view, (double)v);
			cn_gauge_set(n->m_height, (double)h);
		}
	}
	if (n->m_pending) {
		size_t p, q;
		txpool_stats(n->pool, &p, &q);
		cn_gauge_set(n->m_pending, (double)p);
	}
}

/* ---- open / close ---------------------------------------------------------- */

/* The epoch 0 committee of our shard, from the genesis record the store
 * keeps (elections are not run yet, so it never changes). */
static int load_committee(struct node *n)
{
	struct store_txn *t;
	int rc = store_begin(n->st, 0, &t);
	if (rc)
		return rc;
	uint8_t k[8];
	store_key_num(k, 0);
	const uint8_t *v;
	size_t vl;
	struct shard_state ss;
	memset(&ss, 0, sizeof ss);
	if ((rc = store_get(t, STORE_SHARD_STATES, k, 8, &v, &vl)) || (rc = shard_state_decode(&ss, v, vl))) {
		store_abort(t);
		return rc == -CN_ENOTFOUND ? -CN_EINVAL : rc;
	}
	store_abort(t);
	const struct shard_committee *c = shard_state_find(&ss, n->shard);
	if (!c || !c->nslots || c->nslots > FBFT_MAX_KEYS) {
		shard_state_free(&ss);
		return -CN_EINVAL;
	}
	n->nkeys = (uint32_t)c->nslots;
	n->pks = calloc(n->nkeys, sizeof *n->pks);
	n->addrs = calloc(n->nkeys, sizeof *n->addrs);
	if (!n->pks || !n->addrs) {
		shard_state_free(&ss);
		return -CN_ENOMEM;
	}
	for (uint32_t i = 0; i < n->nkeys; i++) {
		memcpy(n->pks[i], c->slots[i].bls_key, BLS_PK_LEN);
		memcpy(n->addrs[i], c->slots[i].addr, CORE_ADDR_LEN);
	}
	shard_state_free(&ss);
	return 0;
}

/* The state machine's starting point. The vote record is written after
 * each delivered block is inserted, so a crash between the two leaves the
 * chain one block ahead of the record: the record's votes are for a
 * decided height then and the machine starts afresh above the head, with
 * the head's stored commit certificate. A record ahead of the chain (the
 * store lost blocks) is kept, with its votes; sync fills the gap. */
static int start_fbft(struct node *n, const struct fbft_config *fc)
{
	struct fbft_persist ps;
	uint8_t *lock = NULL;
	int rc = node_persist_read(n->persist_path, n->genesis, &ps, &lock);
	if (rc && rc != -CN_ENOTFOUND) {
		cn_log_warn("node: vote record %s unusable (%s); starting from the chain", n->persist_path,
		            cn_strerror(rc));
	}
	int have = !rc;
	const struct header *head = chain_head(n->chain);
	uint8_t hh[32];
	chain_head_hash(n->chain, hh);
	if (have && ps.height == head->number + 1 && memcmp(ps.head_hash, hh, 32))
		have = 0;   /* same height, other parent: the chain (final) wins */
	if (!have || ps.height <= head->number + 1) {
		if (!have || ps.height <= head->number) {
			free(lock);
			lock = NULL;
			memset(&ps, 0, sizeof ps);
			ps.height = head->number + 1;
			memcpy(ps.head_hash, hh, 32);
			if (head->number > 0) {
				uint8_t *seal;
				size_t sl;
				if (!chain_seal_at(n->chain, head->number, &seal, &sl)) {
					if (!node_seal_decode(seal, sl, n->nkeys, head->number, hh, &ps.head_cert))
						ps.has_head_cert = 1;
					free(seal);
				}
			}
			have = head->number > 0;
		}
	}
	rc = fbft_new(fc, fbft_bls_crypto(n->bls), have ? &ps : NULL, n->genesis, &n->sm);
	free(lock);
	return rc;
}

int node_open(struct node **out, const struct node_config *cfg)
{
	*out = NULL;
	if (!cfg || !cfg->datadir || !cfg->network || (cfg->role == NODE_VALIDATOR && !cfg->n_keys))
		return -CN_EINVAL;
	struct node *n = calloc(1, sizeof *n);
	if (!n)
		return -CN_ENOMEM;
	pthread_mutex_init(&n->txq_mu, NULL);
	fbft_out_init(&n->fo);
	n->shard = cfg->shard;
	n->role = cfg->role;
	n->no_fsync = cfg->no_fsync;
	struct chain_genesis g;
	memset(&g, 0, sizeof g);
	int rc = -CN_ENOMEM;
	if (!(n->datadir = strdup(cfg->datadir)) || !(n->network = strdup(cfg->network)))
		goto fail;
	if ((rc = netparams_get(cfg->network, &n->np)))
		goto fail;
	n->block_time_ms = cfg->block_time_ms ? cfg->block_time_ms : n->np->block_time_ms;
	n->on_gossip_tx = cfg->on_gossip_tx;
	n->on_gossip_tx_ctx = cfg->on_gossip_tx_ctx;
	if (n->block_time_ms < 100) {
		rc = -CN_EINVAL;
		goto fail;
	}
	if ((rc = store_open_chain(&n->st, cfg->datadir, cfg->network, cfg->shard, NULL)))
		goto fail;
	rc = chain_open(&n->chain, n->st, n->np, cfg->shard);
	if (rc == -CN_ENOTFOUND) {
		uint8_t h[32];
		if ((rc = chain_genesis_default(&g, cfg->network, cfg->shard)) || (rc = chain_init(n->st, &g, h)))
			goto fail;
		rc = chain_open(&n->chain, n->st, n->np, cfg->shard);
	}
	if (rc || (rc = chain_hash_at(n->chain, 0, n->genesis)))
		goto fail;
	char path[4096];
	if ((rc = store_chain_path(path, sizeof path, cfg->datadir, cfg->network, cfg->shard)))
		goto fail;
	if ((size_t)snprintf(n->persist_path, sizeof n->persist_path, "%s/fbft-votes", path) >=
	    sizeof n->persist_path) {
		rc = -CN_ERANGE;
		goto fail;
	}
	if ((rc = load_committee(n)) || (rc = fbft_bls_new((const uint8_t(*)[BLS_PK_LEN])n->pks, n->nkeys, &n->bls)))
		goto fail;
	if (cfg->role == NODE_VALIDATOR) {
		if (!(n->own = calloc(cfg->n_keys, sizeof *n->own))) {
			rc = -CN_ENOMEM;
			goto fail;
		}
		for (size_t i = 0; i < cfg->n_keys; i++) {
			struct bls_public_key pk;
			uint8_t pkb[BLS_PK_LEN];
			bls_sk_to_pk(&cfg->keys[i], &pk);
			bls_pk_to_bytes(&pk, pkb);
			uint32_t k = 0;
			while (k < n->nkeys && memcmp(n->pks[k], pkb, BLS_PK_LEN))
				k++;
			for (uint32_t j = 0; j < n->n_own && k < n->nkeys; j++)
				if (n->own[j] == k)
					k = n->nkeys;   /* the same key twice */
			if (k == n->nkeys) {
				rc = -CN_EINVAL;
				goto fail;
			}
			if ((rc = fbft_bls_add_secret(n->bls, k, &cfg->keys[i])))
				goto fail;
			n->own[n->n_own++] = k;
		}
	}
	uint64_t pt = cfg->phase_timeout_ms;
	if (!pt)
		pt = 4 * n->block_time_ms > 4000 ? 4 * n->block_time_ms : 4000;
	struct fbft_config fc = {
		.nkeys = n->nkeys,
		.own_keys = n->own,
		.n_own = n->n_own,
		.blocks_per_leader = 1,
		.block_period_ms = n->block_time_ms,
		.phase_timeout_ms = pt,
		.viewchange_timeout_ms = cfg->viewchange_timeout_ms ? cfg->viewchange_timeout_ms : pt,
		.max_timeout_ms = 8 * pt,
		.block_hash = block_hash_cb,
		.app = n,
	};
	if ((rc = start_fbft(n, &fc)))
		goto fail;
	struct txpool_config pc;
	txpool_config_default(&pc, n->np, n->shard);
	if (cfg->pool_slots)
		pc.global_slots = cfg->pool_slots;
	if (cfg->pool_queue)
		pc.global_queue = cfg->pool_queue;
	struct txpool_state_reader rd = {n->chain, rd_nonce, rd_balance};
	if ((rc = txpool_new(&n->pool, &pc, &rd)))
		goto fail;
	chain_set_sender_lookup(n->chain, pool_sender, n->pool);
	if (cfg->metrics && (rc = metrics_init(n, cfg->metrics)))
		goto fail;
	n->seen_height = fbft_height(n->sm);
	n->seen_view = fbft_view(n->sm);
	chain_genesis_free(&g);
	*out = n;
	return 0;
fail:
	chain_genesis_free(&g);
	node_close(n);
	return rc;
}

void node_close(struct node *n)
{
	if (!n)
		return;
	fbft_free(n->sm);
	fbft_out_clear(&n->fo);
	fbft_bls_free(n->bls);
	txpool_free(n->pool);
	chain_close(n->chain);
	store_close(n->st);
	for (size_t i = 0; i < n->npend; i++)
		free(n->pend[i].data);
	free(n->pend);
	for (size_t i = 0; i < n->ntxq; i++)
		free(n->txq[i].raw);
	free(n->txq);
	pthread_mutex_destroy(&n->txq_mu);
	free(n->pks);
	free(n->addrs);
	free(n->own);
	free(n->datadir);
	free(n->network);
	free(n);
}

/* ---- carrying out FBFT's actions ------------------------------------------ */

static int pend_push(struct node *n, const struct pending *p, const uint8_t *data, size_t len)
{
	if (n->npend == n->cappend) {
		size_t nc = n->cappend ? 2 * n->cappend : 8;
		struct pending *v = realloc(n->pend, nc * sizeof *v);
		if (!v)
			return -CN_ENOMEM;
		n->pend = v;
		n->cappend = nc;
	}
	struct pending q = *p;
	q.data = NULL;
	q.len = 0;
	if (data) {
		if (!(q.data = malloc(len ? len : 1)))
			return -CN_ENOMEM;
		memcpy(q.data, data, len);
		q.len = len;
	}
	n->pend[n->npend++] = q;
	return 0;
}

static void note_proposal(struct node *n, uint64_t height)
{
	if (n->prop_height != height) {
		n->prop_height = height;
		n->prop_ms = n->now;
	}
}

/* The header's lastCommitSig/Bitmap must certify its parent. The cheap
 * case is the certificate this node delivered the parent with; another
 * valid certificate of the same block (more signers) is accepted after a
 * signature check. */
static int check_last_commit(struct node *n, const struct header *h)
{
	if (h->number <= 1) {
		static const uint8_t zero[NODE_SIG_LEN];
		return h->last_commit_bitmap.len == 0 && !memcmp(h->last_commit_sig, zero, NODE_SIG_LEN);
	}
	struct fbft_cert lc;
	if (fbft_last_commit(n->sm, &lc) || lc.height != h->number - 1)
		return 0;
	size_t bl = (n->nkeys + 7) / 8;
	if (h->last_commit_bitmap.len != bl)
		return 0;
	if (!memcmp(h->last_commit_sig, lc.sig, NODE_SIG_LEN) && !memcmp(h->last_commit_bitmap.p, lc.bitmap, bl))
		return 1;
	struct fbft_cert c = lc;
	memset(c.bitmap, 0, sizeof c.bitmap);
	memcpy(c.bitmap, h->last_commit_bitmap.p, bl);
	memcpy(c.sig, h->last_commit_sig, NODE_SIG_LEN);
	return fbft_cert_verify(n->sm, FBFT_COMMIT, &c) == 0;
}

static int act_validate(struct node *n, const struct fbft_action *a)
{
	struct pending p = {.kind = FBFT_IN_VALIDATED, .height = a->height, .view = a->view};
	struct block b;
	int ok = 0;
	note_proposal(n, a->height);
	if (!block_decode(&b, a->data, a->len)) {
		uint8_t hh[32];
		chain_head_hash(n->chain, hh);
		struct chain_why why;
		if (header_hash(&b.header, p.hash) == 0 && b.header.number == a->height &&
		    !memcmp(b.header.parent_hash, a->hash, 32) && !memcmp(hh, a->hash, 32) &&
		    b.header.time <= n->now / 1000 + NODE_MAX_FUTURE_S && check_last_commit(n, &b.header)) {
			int rc = chain_validate(n->chain, &b, &why);
			ok = rc == 0;
			if (rc)
				cn_log_warn("node: shard %u block #%llu refused: %s %s", n->shard,
				            (unsigned long long)a->height, chain_reason_str(why.reason), why.msg);
		}
		block_free(&b);
	} else {
		block_hash_cb(n, a->data, a->len, p.hash);
	}
	p.ok = ok;
	if (!ok)
		n->refused++;
	return pend_push(n, &p, NULL, 0);
}

static int act_propose(struct node *n, const struct fbft_action *a)
{
	uint8_t hh[32];
	chain_head_hash(n->chain, hh);
	if (memcmp(hh, a->hash, 32) || chain_head(n->chain)->number + 1 != a->height)
		return 0;   /* our chain lags what FBFT decided: a view change will pass us over */
	note_proposal(n, a->height);
	struct txpool_tx **sel = NULL;
	size_t nsel = 0;
	int rc = txpool_select(n->pool, n->np->block_gas_limit, CHAIN_MAX_BLOCK_TXS, &sel, &nsel);
	if (rc)
		return rc;
	struct tx *txs = calloc(nsel ? nsel : 1, sizeof *txs);
	if (!txs) {
		txpool_txs_release(sel, nsel);
		return -CN_ENOMEM;
	}
	for (size_t i = 0; i < nsel; i++)
		txs[i] = sel[i]->tx;   /* shallow: chain_build copies what it keeps */
	uint32_t leader = fbft_leader(n->sm, a->height, a->view);
	struct chain_build_opts o = {.view_id = a->view};
	memcpy(o.coinbase, n->addrs[leader], CORE_ADDR_LEN);
	uint64_t t = n->now / 1000, pt = chain_head(n->chain)->time;
	o.time = t > pt ? t : pt;
	struct block b;
	rc = chain_build(n->chain, &o, txs, nsel, &b, NULL);
	free(txs);
	txpool_txs_release(sel, nsel);
	if (rc)
		return rc;
	if (a->height > 1) {
		size_t bl = (n->nkeys + 7) / 8;
		uint8_t *bm = malloc(bl);
		if (!bm) {
			block_free(&b);
			return -CN_ENOMEM;
		}
		memcpy(bm, a->cert.bitmap, bl);
		b.header.last_commit_bitmap.p = bm;
		b.header.last_commit_bitmap.len = bl;
		memcpy(b.header.last_commit_sig, a->cert.sig, NODE_SIG_LEN);
	}
	uint8_t *enc;
	size_t len;
	rc = block_encode(&b, &enc, &len);
	block_free(&b);
	if (rc)
		return rc;
	struct pending p = {.kind = FBFT_IN_PROPOSAL, .height = a->height, .view = a->view};
	rc = pend_push(n, &p, enc, len);
	free(enc);
	return rc;
}

/* Encodes a certified block: block_len || block || seal. */
static int cblock_encode(struct node *n, const uint8_t *blk, size_t len, const struct fbft_cert *c,
                         uint8_t **out, size_t *out_len)
{
	size_t sl = node_seal_len(n->nkeys);
	uint8_t *p = malloc(4 + len + sl);
	if (!p)
		return -CN_ENOMEM;
	store_be32(p, (uint32_t)len);
	memcpy(p + 4, blk, len);
	node_seal_encode(c, n->nkeys, p + 4 + len);
	*out = p;
	*out_len = 4 + len + sl;
	return 0;
}

/* Inserts a final block with its certificate (as seal). 1 if inserted, 0
 * if the chain already has it, negative on failure. */
static int insert_final(struct node *n, const uint8_t *data, size_t len, const struct fbft_cert *c)
{
	const struct header *head = chain_head(n->chain);
	if (c->height <= head->number) {
		uint8_t h[32];
		if (!chain_hash_at(n->chain, c->height, h) && !memcmp(h, c->hash, 32))
			return 0;
		cn_log_error("node: shard %u: final block #%llu conflicts with the stored one", n->shard,
		             (unsigned long long)c->height);
		return -CN_ESTATE;
	}
	struct block b;
	int rc = block_decode(&b, data, len);
	if (rc)
		return rc;
	uint8_t seal[8 + 2 + FBFT_BITMAP_MAX + NODE_SIG_LEN];
	node_seal_encode(c, n->nkeys, seal);
	struct chain_why why;
	uint64_t t0 = mono_ns();
	rc = chain_insert_sealed(n->chain, &b, seal, node_seal_len(n->nkeys), &why);
	if (rc) {
		cn_log_error("node: shard %u: final block #%llu not inserted: %s %s (%s)", n->shard,
		             (unsigned long long)c->height, chain_reason_str(why.reason), why.msg, cn_strerror(rc));
		block_free(&b);
		return rc;
	}
	if (n->m_insert)
		cn_histogram_observe(n->m_insert, (double)(mono_ns() - t0) / 1e9);
	n->txs_final += b.ntxs;
	if (n->m_txs)
		cn_counter_add(n->m_txs, (double)b.ntxs);
	block_free(&b);
	txpool_reset(n->pool, 0);
	n->last_final_ms = n->now;
	if (n->m_final && n->prop_height == c->height)
		cn_histogram_observe(n->m_final, (double)(n->now - n->prop_ms) / 1000.0);
	return 1;
}

static int request_sync(struct node *n, struct node_out *out)
{
	if (n->sync_inflight && n->now < n->sync_sent_ms + NODE_SYNC_RETRY_MS)
		return 0;
	uint8_t req[NODE_SYNC_REQ_LEN];
	node_sync_req_encode(chain_head(n->chain)->number + 1, NODE_SYNC_MAX_BLOCKS, req);
	n->sync_inflight = 1;
	n->sync_sent_ms = n->now;
	return out_add(out, NODE_ACT_SYNC, 0, req, sizeof req);
}

static int act_deliver(struct node *n, const struct fbft_action *a, struct node_out *out)
{
	int rc = insert_final(n, a->data, a->len, &a->cert);
	if (rc < 0) {
		/* FBFT moved on without this block: fetch it from a peer */
		if (a->cert.height > chain_head(n->chain)->number)
			return request_sync(n, out);
		return 0;
	}
	if (rc == 1 && n->role == NODE_VALIDATOR && !n->syncing) {
		uint8_t *p;
		size_t len;
		if ((rc = cblock_encode(n, a->data, a->len, &a->cert, &p, &len)))
			return rc;
		rc = out_add(out, NODE_ACT_PUBLISH, NODE_TOPIC_BLOCK, p, len);
		free(p);
		return rc;
	}
	return 0;
}

/* Steps the machine with `in`, carries out its actions in order, then the
 * inputs they produced, until none is left. */
static int run(struct node *n, const struct fbft_input *first, struct node_out *out)
{
	struct fbft_input in = *first;
	struct pending cur = {0};
	int rc = 0;
	size_t next = 0;
	for (;;) {
		rc = fbft_step(n->sm, n->now, &in, &n->fo);
		free(cur.data);
		cur.data = NULL;
		if (rc)
			break;
		for (size_t k = 0; k < n->fo.n && !rc; k++) {
			struct fbft_action *a = &n->fo.act[k];
			switch (a->kind) {
			case FBFT_ACT_SEND:
			case FBFT_ACT_BROADCAST:
				rc = out_add(out, NODE_ACT_PUBLISH, NODE_TOPIC_CONS, a->data, a->len);
				break;
			case FBFT_ACT_PERSIST:
				/* nothing after it may leave before it is on disk */
				a->persist.lock_block = a->data;
				a->persist.lock_block_len = (uint32_t)a->len;
				rc = node_persist_write(n->persist_path, n->genesis, &a->persist, !n->no_fsync);
				if (rc)
					cn_log_error("node: cannot write vote record %s: %s", n->persist_path,
					             cn_strerror(rc));
				break;
			case FBFT_ACT_VALIDATE:
				rc = act_validate(n, a);
				break;
			case FBFT_ACT_PROPOSE:
				/* a leader that cannot build is a silent leader: the
				 * view changes; nothing else is wrong with the node */
				if ((rc = act_propose(n, a))) {
					cn_log_error("node: shard %u: cannot build block #%llu: %s", n->shard,
					             (unsigned long long)a->height, cn_strerror(rc));
					rc = 0;
				}
				break;
			case FBFT_ACT_DELIVER:
				rc = act_deliver(n, a, out);
				break;
			case FBFT_ACT_SYNC:
				rc = request_sync(n, out);
				break;
			case FBFT_ACT_EVIDENCE:
				cn_log_warn("node: shard %u: key %u signed two conflicting messages at #%llu view %llu",
				            n->shard, a->evidence.key, (unsigned long long)a->evidence.height,
				            (unsigned long long)a->evidence.view);
				break;
			}
		}
		if (rc) {
			/* drop what the failed batch queued: it may depend on it */
			for (size_t i = next; i < n->npend; i++)
				free(n->pend[i].data);
			n->npend = next = 0;
			break;
		}
		if (n->role == NODE_VALIDATOR && n->fo.wake_ms)
			out->wake_ms = n->fo.wake_ms;
		if (next == n->npend) {
			n->npend = next = 0;
			break;
		}
		cur = n->pend[next++];
		in = (struct fbft_input){.kind = cur.kind, .height = cur.height, .view = cur.view, .ok = cur.ok,
		                         .data = cur.data, .len = cur.len};
		memcpy(in.hash, cur.hash, 32);
	}
	free(cur.data);
	metrics_update(n);
	return rc;
}

static void set_wake(struct node *n, struct node_out *out)
{
	uint64_t w = n->role == NODE_VALIDATOR ? n->fo.wake_ms : 0;
	if (n->sync_inflight) {
		uint64_t s = n->sync_sent_ms + NODE_SYNC_RETRY_MS;
		if (!w || s < w)
			w = s;
	}
	out->wake_ms = w;
}

int node_start(struct node *n, uint64_t now_ms, struct node_out *out)
{
	node_out_reset(out);
	n->now = now_ms;
	struct fbft_input in = {.kind = FBFT_IN_START};
	int rc = run(n, &in, out);
	/* a vote record ahead of the chain: fetch the missing blocks */
	if (!rc && fbft_height(n->sm) > chain_head(n->chain)->number + 1)
		rc = request_sync(n, out);
	set_wake(n, out);
	return rc;
}

/* Queued RPC txs go out in batches (docs/node.md): one gossip message per
 * transaction would hit the gossip layer's per-peer message rate long
 * before the chain's capacity. A lone tx goes as itself. */
static int publish_txs(struct node *n, const struct txq_ent *q, size_t nq, struct node_out *out)
{
	size_t i = 0;
	while (i < nq) {
		size_t j = i, bytes = 3;
		while (j < nq && j - i < NODE_TX_BATCH_MAX && (j == i || bytes + 4 + q[j].len <= NODE_TX_BATCH_BYTES))
			bytes += 4 + q[j++].len;
		int rc;
		if (j - i == 1) {
			rc = out_add(out, NODE_ACT_PUBLISH, NODE_TOPIC_TX, q[i].raw, q[i].len);
		} else {
			uint8_t *p = malloc(bytes);
			if (!p)
				return -CN_ENOMEM;
			p[0] = NODE_TX_BATCH_TAG;
			p[1] = (uint8_t)((j - i) >> 8);
			p[2] = (uint8_t)(j - i);
			size_t off = 3;
			for (size_t k = i; k < j; k++) {
				store_be32(p + off, (uint32_t)q[k].len);
				memcpy(p + off + 4, q[k].raw, q[k].len);
				off += 4 + q[k].len;
			}
			rc = out_add(out, NODE_ACT_PUBLISH, NODE_TOPIC_TX, p, bytes);
			free(p);
		}
		if (rc)
			return rc;
		i = j;
	}
	return 0;
}

/* Calls fn for every tx of a tx-topic payload (one tx, or a batch); stops
 * at fn's first nonzero return. -CN_EINVAL for a malformed batch. */
static int each_tx(const uint8_t *data, size_t len, int (*fn)(void *, const uint8_t *, size_t), void *ctx)
{
	if (!len)
		return -CN_EINVAL;
	if (data[0] != NODE_TX_BATCH_TAG)
		return fn(ctx, data, len);
	if (len < 3)
		return -CN_EINVAL;
	size_t count = ((size_t)data[1] << 8) | data[2], off = 3;
	if (!count || count > NODE_TX_BATCH_MAX)
		return -CN_EINVAL;
	for (size_t i = 0; i < count; i++) {
		if (len - off < 4)
			return -CN_EINVAL;
		size_t tl = load_be32(data + off);
		if (!tl || tl > len - off - 4)
			return -CN_EINVAL;
		int rc = fn(ctx, data + off + 4, tl);
		if (rc)
			return rc;
		off += 4 + tl;
	}
	return off == len ? 0 : -CN_EINVAL;
}

int node_tick(struct node *n, uint64_t now_ms, struct node_out *out)
{
	node_out_reset(out);
	if (now_ms > n->now)
		n->now = now_ms;
	int rc = 0;
	pthread_mutex_lock(&n->txq_mu);
	struct txq_ent *q = n->txq;
	size_t nq = n->ntxq;
	n->txq = NULL;
	n->ntxq = n->captxq = 0;
	pthread_mutex_unlock(&n->txq_mu);
	rc = publish_txs(n, q, nq, out);
	for (size_t i = 0; i < nq; i++)
		free(q[i].raw);
	free(q);
	txpool_tick(n->pool, now_ms);
	if (!rc && n->role == NODE_VALIDATOR && n->fo.wake_ms && now_ms >= n->fo.wake_ms) {
		struct fbft_input in = {.kind = FBFT_IN_TIMER};
		rc = run(n, &in, out);
	}
	if (!rc && n->sync_inflight && now_ms >= n->sync_sent_ms + NODE_SYNC_RETRY_MS) {
		n->sync_inflight = 0;
		if (n->best_peer > chain_head(n->chain)->number || fbft_height(n->sm) > chain_head(n->chain)->number + 1)
			rc = request_sync(n, out);
	}
	metrics_update(n);
	set_wake(n, out);
	return rc;
}

/* ---- gossip ---------------------------------------------------------------- */

/* Decodes a certified block of our shard (0, or -CN_EINVAL for bytes that
 * are not one); its certificate is checked separately (cblock_verify). */
static int cblock_parse(struct node *n, const uint8_t *data, size_t len, struct block *b,
                        struct fbft_cert *c, const uint8_t **blk, size_t *blk_len)
{
	const uint8_t *seal;
	size_t sl;
	uint8_t h[32];
	int rc = node_cblock_split(data, len, blk, blk_len, &seal, &sl);
	if (rc || *blk_len > FBFT_MAX_BLOCK || block_decode(b, *blk, *blk_len))
		return -CN_EINVAL;
	if (b->header.shard_id != n->shard || b->header.number == 0 || header_hash(&b->header, h) ||
	    node_seal_decode(seal, sl, n->nkeys, b->header.number, h, c)) {
		block_free(b);
		return -CN_EINVAL;
	}
	return 0;
}

static int cblock_verify(struct node *n, const struct fbft_cert *c)
{
	return fbft_cert_verify(n->sm, FBFT_COMMIT, c) ? -CN_EVERIFY : 0;
}

static void announce_tx(struct node *n, const struct txpool_result *res)
{
	if (n->on_gossip_tx && res->have_hash)
		n->on_gossip_tx(n->on_gossip_tx_ctx, res->hash);
}

struct tx_verdict {
	struct node *n;
	size_t fresh;       /* txs the pool admitted */
};

/* One gossiped tx: the checks that need no state first (static faults:
 * no honest node relays them, so the sender is penalized), then admission
 * to the pool, whose signature check is the one recovery this node pays
 * for the tx (the chain reuses the pool's sender). Refusals that depend on
 * state (nonce, balance, pool limits) only stop the relay. 1 (stop) for a
 * bad tx. */
static int validate_tx(void *ctx, const uint8_t *raw, size_t len)
{
	static const uint8_t any[CORE_ADDR_LEN];
	struct tx_verdict *v = ctx;
	struct tx tx;
	if (len > CHAIN_TX_MAX_SIZE || tx_decode(&tx, raw, len))
		return 1;
	uint8_t sender[CORE_ADDR_LEN];
	struct chain_why why;
	int bad = chain_check_tx_hint(v->n->np, v->n->shard, &tx, any, sender, &why) != 0;
	if (!bad) {
		struct txpool_result res;
		if (!txpool_add(v->n->pool, &tx, &res)) {
			v->fresh++;
			announce_tx(v->n, &res);
		} else
			bad = res.reason == TXPOOL_ERR_INVALID_SENDER || res.reason == TXPOOL_ERR_DECODE ||
			      res.reason == TXPOOL_ERR_TX_TYPE || res.reason == TXPOOL_ERR_OVERSIZED;
	}
	tx_free(&tx);
	return bad;
}

static int deliver_tx(void *ctx, const uint8_t *raw, size_t len)
{
	struct node *n = ctx;
	struct txpool_result res;
	/* refusals are normal (known, nonce...) */
	if (!txpool_add_raw(n->pool, raw, len, &res))
		announce_tx(n, &res);
	return 0;
}

enum node_verdict node_validate(struct node *n, int topic, const uint8_t *data, size_t len)
{
	switch (topic) {
	case NODE_TOPIC_TX: {
		struct tx_verdict v = {n, 0};
		int rc = each_tx(data, len, validate_tx, &v);
		if (rc)
			return NODE_REJECT;
		return v.fresh ? NODE_ACCEPT : NODE_IGNORE;
	}
	case NODE_TOPIC_CONS: {
		struct fbft_msg m;
		if (fbft_msg_decode(data, len, &m))
			return NODE_REJECT;
		uint64_t h = fbft_height(n->sm);
		if (m.height + 1 < h || m.height > h + NODE_HEIGHT_WINDOW)
			return NODE_IGNORE;
		return NODE_ACCEPT;
	}
	case NODE_TOPIC_BLOCK: {
		struct block b;
		struct fbft_cert c;
		const uint8_t *blk;
		size_t bl;
		if (cblock_parse(n, data, len, &b, &c, &blk, &bl))
			return NODE_REJECT;
		uint64_t num = b.header.number;
		block_free(&b);
		/* a block we have is nothing to relay (or to spend a pairing on) */
		if (num <= chain_head(n->chain)->number)
			return NODE_IGNORE;
		return cblock_verify(n, &c) ? NODE_REJECT : NODE_ACCEPT;
	}
	}
	return NODE_REJECT;
}

/* A certified block at head+1 (certificate not yet checked): through FBFT
 * when it is deciding that height (it checks the certificate and
 * delivers), else (the chain lags the machine) inserted directly after
 * the same check. */
static int apply_certified(struct node *n, const uint8_t *blk, size_t bl, const struct fbft_cert *c,
                           struct node_out *out)
{
	uint64_t head = chain_head(n->chain)->number;
	if (c->height != head + 1)
		return 0;
	if (fbft_height(n->sm) == c->height) {
		struct fbft_input in = {.kind = FBFT_IN_SYNC_BLOCK, .data = blk, .len = bl, .cert = c};
		return run(n, &in, out);
	}
	if (fbft_height(n->sm) > c->height) {
		if (cblock_verify(n, c))
			return 0;
		int rc = insert_final(n, blk, bl, c);
		return rc < 0 ? rc : 0;
	}
	return 0;
}

int node_deliver(struct node *n, uint64_t now_ms, int topic, const uint8_t *data, size_t len,
                 struct node_out *out)
{
	node_out_reset(out);
	if (now_ms > n->now)
		n->now = now_ms;
	int rc = 0;
	switch (topic) {
	case NODE_TOPIC_TX:
		each_tx(data, len, deliver_tx, n);
		break;
	case NODE_TOPIC_CONS: {
		struct fbft_msg m;
		if (fbft_msg_decode(data, len, &m))
			break;
		if (m.height > 1 && m.height - 1 > n->best_peer)
			n->best_peer = m.height - 1;
		if (n->role != NODE_VALIDATOR) {
			if (m.height > chain_head(n->chain)->number + 2)
				rc = request_sync(n, out);
			break;
		}
		struct fbft_input in = {.kind = FBFT_IN_MSG, .data = data, .len = len};
		rc = run(n, &in, out);
		break;
	}
	case NODE_TOPIC_BLOCK: {
		struct block b;
		struct fbft_cert c;
		const uint8_t *blk;
		size_t bl;
		if (cblock_parse(n, data, len, &b, &c, &blk, &bl))
			break;
		uint64_t num = b.header.number;
		block_free(&b);
		/* the height a peer claims counts only with a valid certificate */
		if (num > chain_head(n->chain)->number + 1 && cblock_verify(n, &c))
			break;
		if (num > n->best_peer)
			n->best_peer = num;
		uint64_t head = chain_head(n->chain)->number;
		if (num == head + 1)
			rc = apply_certified(n, blk, bl, &c, out);
		else if (num > head + 1)
			rc = request_sync(n, out);
		break;
	}
	default:
		break;
	}
	metrics_update(n);
	set_wake(n, out);
	return rc;
}

/* ---- catch-up -------------------------------------------------------------- */

int node_serve_sync(struct node *n, const uint8_t *req, size_t len, uint8_t **resp, size_t *resp_len)
{
	*resp = NULL;
	*resp_len = 0;
	uint64_t from;
	uint32_t max;
	int rc = node_sync_req_decode(req, len, &from, &max);
	if (rc)
		return rc;
	if (max > NODE_SYNC_MAX_BLOCKS)
		max = NODE_SYNC_MAX_BLOCKS;
	uint64_t head = chain_head(n->chain)->number;
	size_t cap = 4096, used = 5;
	uint8_t *p = malloc(cap);
	if (!p)
		return -CN_ENOMEM;
	p[0] = NODE_SYNC_VERSION;
	uint32_t count = 0;
	for (uint64_t k = from; k <= head && count < max; k++) {
		uint8_t *blk = NULL, *seal = NULL;
		size_t bl, sl;
		if ((rc = chain_block_rlp_at(n->chain, k, &blk, &bl)))
			break;
		if ((rc = chain_seal_at(n->chain, k, &seal, &sl))) {
			free(blk);
			if (rc == -CN_ENOTFOUND)
				rc = 0;   /* a block this node got without a certificate ends the answer */
			break;
		}
		size_t need = 4 + 4 + bl + sl;
		if (count && used + need > NODE_SYNC_MAX_BYTES) {
			free(blk);
			free(seal);
			break;
		}
		if (used + need > cap) {
			size_t nc = cap;
			while (used + need > nc)
				nc *= 2;
			uint8_t *q = realloc(p, nc);
			if (!q) {
				free(blk);
				free(seal);
				rc = -CN_ENOMEM;
				break;
			}
			p = q;
			cap = nc;
		}
		store_be32(p + used, (uint32_t)(4 + bl + sl));
		store_be32(p + used + 4, (uint32_t)bl);
		memcpy(p + used + 8, blk, bl);
		memcpy(p + used + 8 + bl, seal, sl);
		used += need;
		count++;
		free(blk);
		free(seal);
	}
	if (rc) {
		free(p);
		return rc;
	}
	store_be32(p + 1, count);
	*resp = p;
	*resp_len = used;
	return 0;
}

int node_sync_response(struct node *n, uint64_t now_ms, int err, const uint8_t *resp, size_t len,
                       struct node_out *out)
{
	node_out_reset(out);
	if (now_ms > n->now)
		n->now = now_ms;
	n->sync_inflight = 0;
	int rc = 0;
	uint64_t before = chain_head(n->chain)->number;
	if (!err && resp && len >= 5 && resp[0] == NODE_SYNC_VERSION) {
		uint32_t count = load_be32(resp + 1);
		size_t off = 5;
		for (uint32_t i = 0; i < count && !rc; i++) {
			if (len - off < 4)
				break;
			size_t rl = load_be32(resp + off);
			if (rl > len - off - 4)
				break;
			struct block b;
			struct fbft_cert c;
			const uint8_t *blk;
			size_t bl;
			if (cblock_parse(n, resp + off + 4, rl, &b, &c, &blk, &bl))
				break;
			uint64_t num = b.header.number;
			block_free(&b);
			off += 4 + rl;
			uint64_t head = chain_head(n->chain)->number;
			if (num <= head)
				continue;
			if (num != head + 1)
				break;
			struct node_out tmp;
			node_out_init(&tmp);
			n->syncing = 1;
			rc = apply_certified(n, blk, bl, &c, &tmp);
			n->syncing = 0;
			/* keep what the steps asked for (blocks to publish...) */
			for (size_t k = 0; k < tmp.n && !rc; k++) {
				if (tmp.a[k].kind == NODE_ACT_SYNC)
					continue;
				rc = out_add(out, tmp.a[k].kind, tmp.a[k].topic, tmp.a[k].data, tmp.a[k].len);
			}
			node_out_free(&tmp);
			if (chain_head(n->chain)->number != num)
				break;
		}
	}
	uint64_t head = chain_head(n->chain)->number;
	/* more to fetch: ask again at once if this answer helped, else later */
	if (!rc && (n->best_peer > head || fbft_height(n->sm) > head + 1)) {
		if (head > before)
			rc = request_sync(n, out);
		else {
			n->sync_inflight = 1;
			n->sync_sent_ms = n->now;
		}
	}
	metrics_update(n);
	set_wake(n, out);
	return rc;
}

/* ---- RPC and status ------------------------------------------------------- */

int node_submit_tx(struct node *n, const uint8_t *raw, size_t len, int eth_form, uint8_t hash[32],
                   char *msg, size_t cap)
{
	struct txpool_result res;
	memset(&res, 0, sizeof res);
	int rc = txpool_add_raw(n->pool, raw, len, &res);
	if (rc) {
		if (msg && cap)
			snprintf(msg, cap, "%s", res.msg[0] ? res.msg : txpool_reason_str(res.reason));
		return rc;
	}
	memcpy(hash, eth_form ? res.eth_hash : res.hash, 32);
	/* gossip the Harmony form: that is what every pool and block holds */
	struct txpool_tx *t;
	if (txpool_get(n->pool, res.hash, &t))
		return 0;   /* already gone again (replaced or evicted): nothing to gossip */
	uint8_t *copy = malloc(t->raw_len ? t->raw_len : 1);
	if (!copy) {
		txpool_tx_unref(t);
		return 0;
	}
	memcpy(copy, t->raw, t->raw_len);
	size_t cl = t->raw_len;
	txpool_tx_unref(t);
	pthread_mutex_lock(&n->txq_mu);
	if (n->ntxq == n->captxq) {
		size_t nc = n->captxq ? 2 * n->captxq : 64;
		struct txq_ent *q = realloc(n->txq, nc * sizeof *q);
		if (!q) {
			pthread_mutex_unlock(&n->txq_mu);
			free(copy);
			return 0;   /* admitted; peers will see it in a block */
		}
		n->txq = q;
		n->captxq = nc;
	}
	n->txq[n->ntxq++] = (struct txq_ent){copy, cl};
	pthread_mutex_unlock(&n->txq_mu);
	return 0;
}

void node_status(struct node *n, struct node_status *st)
{
	memset(st, 0, sizeof *st);
	st->shard = n->shard;
	st->role = n->role;
	const struct header *h = chain_head(n->chain);
	st->height = h->number;
	chain_head_hash(n->chain, st->head_hash);
	memcpy(st->state_root, h->root, 32);
	st->consensus_height = fbft_height(n->sm);
	st->view = fbft_view(n->sm);
	st->in_viewchange = fbft_in_viewchange(n->sm);
	memcpy(st->leader_pk, n->pks[fbft_leader(n->sm, st->consensus_height, st->view)], BLS_PK_LEN);
	st->last_final_ms = n->last_final_ms;
	st->best_peer_height = n->best_peer > h->number ? n->best_peer : h->number;
	txpool_stats(n->pool, &st->pool_pending, &st->pool_queued);
	st->view_changes = n->view_changes;
	st->txs_final = n->txs_final;
	st->proposals_refused = n->refused;
}

struct store *node_store(struct node *n) { return n->st; }
const struct netparams *node_params(struct node *n) { return n->np; }
struct txpool *node_txpool(struct node *n) { return n->pool; }
