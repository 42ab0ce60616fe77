/* chain.c — genesis writing, block validation and insertion, the builder. */
#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "base/err.h"
#include "chain/chain_int.h"
#include "codec/rlp.h"
#include "state/state.h"
#include "store/store.h"

/* Accounts the head state may keep cached between blocks. */
#define CHAIN_STATE_CACHE_MAX 200000

struct chain {
	struct store *st;
	const struct netparams *np;
	uint32_t shard;
	struct header head;
	uint8_t head_hash[CORE_HASH_LEN];
	/* The state at the head, kept between blocks so hot accounts stay
	 * cached; NULL after a failed insert (reopened at the head root). */
	struct state *state;
	int (*sender_lookup)(void *ctx, const uint8_t tx_hash[CORE_HASH_LEN], uint8_t sender[CORE_ADDR_LEN]);
	void *sender_ctx;
};

void chain_set_sender_lookup(struct chain *c,
                             int (*fn)(void *ctx, const uint8_t tx_hash[CORE_HASH_LEN],
                                       uint8_t sender[CORE_ADDR_LEN]),
                             void *ctx)
{
	c->sender_lookup = fn;
	c->sender_ctx = ctx;
}

/* chain_check_tx, with the sender from the lookup when it knows the tx. */
static int check_tx(const struct chain *c, const struct tx *tx, uint8_t sender[CORE_ADDR_LEN],
                    struct chain_why *why)
{
	uint8_t h[CORE_HASH_LEN], known[CORE_ADDR_LEN];
	if (c->sender_lookup && tx->type == TX_HARMONY && !tx_hash(tx, h) &&
	    !c->sender_lookup(c->sender_ctx, h, known))
		return chain_check_tx_hint(c->np, c->shard, tx, known, sender, why);
	return chain_check_tx(c->np, c->shard, tx, sender, why);
}

/* ---- records ---------------------------------------------------------------- */

int chain_receipts_encode(const struct receipt *r, size_t n, uint8_t **out, size_t *len)
{
	struct rlp_enc e;
	rlp_enc_init(&e);
	rlp_list_begin(&e);
	int rc = 0;
	for (size_t i = 0; i < n && !rc; i++) {
		uint8_t *p;
		size_t l;
		if (!(rc = receipt_encode(&r[i], &p, &l))) {
			rlp_put_raw(&e, p, l);
			free(p);
		}
	}
	rlp_list_end(&e);
	if (!rc)
		rc = rlp_enc_finish(&e, out, len);
	rlp_enc_free(&e);
	return rc;
}

int chain_receipts_decode(const uint8_t *p, size_t len, struct receipt **out, size_t *n)
{
	struct rlp_item it;
	struct rlp_cursor c;
	size_t count;
	int rc;
	*out = NULL;
	*n = 0;
	if ((rc = rlp_decode_one(p, len, &it)) || (rc = rlp_list_count(&it, &count)) ||
	    (rc = rlp_enter(&it, &c)))
		return rc;
	struct receipt *r = calloc(count ? count : 1, sizeof *r);
	if (!r)
		return -CN_ENOMEM;
	for (size_t i = 0; i < count; i++) {
		struct rlp_item x;
		if ((rc = rlp_next(&c, &x)) || (rc = receipt_decode(&r[i], x.raw, x.raw_len))) {
			for (size_t j = 0; j < i; j++)
				receipt_free(&r[j]);
			free(r);
			return rc;
		}
	}
	*out = r;
	*n = count;
	return 0;
}

static int cx_list_encode(const struct cx_receipt *c, size_t n, uint32_t to, uint8_t **out,
                          size_t *len)
{
	struct rlp_enc e;
	rlp_enc_init(&e);
	rlp_list_begin(&e);
	int rc = 0;
	for (size_t i = 0; i < n && !rc; i++) {
		if (c[i].to_shard_id != to)
			continue;
		uint8_t *p;
		size_t l;
		if (!(rc = cx_receipt_encode(&c[i], &p, &l))) {
			rlp_put_raw(&e, p, l);
			free(p);
		}
	}
	rlp_list_end(&e);
	if (!rc)
		rc = rlp_enc_finish(&e, out, len);
	rlp_enc_free(&e);
	return rc;
}

static void num_key(uint8_t k[8], uint64_t n) { store_be64(k, n); }

/* With the sender when the insert recovered it (STORE_TXLOOKUP_SENDER_LEN):
 * RPC answers a receipt's "from" without an ECDSA recovery. */
static int put_lookup(struct store_txn *t, const uint8_t txh[32], const uint8_t bh[32],
                      uint64_t number, uint32_t index, const uint8_t *sender)
{
	uint8_t v[STORE_TXLOOKUP_SENDER_LEN];
	memcpy(v, bh, 32);
	store_be64(v + 32, number);
	store_be32(v + 40, index);
	if (sender)
		memcpy(v + STORE_TXLOOKUP_LEN, sender, CORE_ADDR_LEN);
	return store_put(t, STORE_TXLOOKUP, txh, 32, v,
	                 sender ? STORE_TXLOOKUP_SENDER_LEN : STORE_TXLOOKUP_LEN);
}

/* Everything one block adds besides its state: header, body, receipts,
 * lookups, outgoing CX receipts, canonical index and head pointer. */
static int write_block(struct store_txn *t, const struct block *b, const uint8_t hash[32],
                       const uint8_t (*hashes)[32], const uint8_t (*senders)[CORE_ADDR_LEN],
                       const struct receipt *r, size_t nr, const struct cx_receipt *cx, size_t ncx)
{
	uint8_t *p = NULL;
	size_t len;
	uint8_t nk[8];
	int rc;
	if ((rc = header_encode(&b->header, &p, &len)))
		return rc;
	rc = store_put(t, STORE_HEADERS, hash, 32, p, len);
	free(p);
	if (rc || (rc = block_body_encode(b, &p, &len)))
		return rc;
	rc = store_put(t, STORE_BODIES, hash, 32, p, len);
	free(p);
	if (rc || (rc = chain_receipts_encode(r, nr, &p, &len)))
		return rc;
	rc = store_put(t, STORE_RECEIPTS, hash, 32, p, len);
	free(p);
	if (rc)
		return rc;
	for (size_t i = 0; i < b->ntxs; i++) {
		uint8_t h[32], eh[32];
		const uint8_t *hp = h;
		if (hashes)
			hp = hashes[i];
		else if ((rc = tx_hash(&b->txs[i], h)))
			return rc;
		const uint8_t *from = senders ? senders[i] : NULL;
		if ((rc = tx_eth_hash(&b->txs[i], eh)) ||
		    (rc = put_lookup(t, hp, hash, b->header.number, (uint32_t)i, from)) ||
		    (memcmp(hp, eh, 32) &&
		     (rc = put_lookup(t, eh, hash, b->header.number, (uint32_t)i, from))))
			return rc;
	}
	/* One record per destination shard, in ascending shard order. */
	for (size_t i = 0; i < ncx; i++) {
		uint32_t to = cx[i].to_shard_id;
		int seen = 0;
		for (size_t j = 0; j < i && !seen; j++)
			seen = cx[j].to_shard_id == to;
		if (seen)
			continue;
		uint8_t k[12];
		store_be32(k, to);
		store_be64(k + 4, b->header.number);
		if ((rc = cx_list_encode(cx, ncx, to, &p, &len)))
			return rc;
		rc = store_put(t, STORE_CX_OUT, k, sizeof k, p, len);
		free(p);
		if (rc)
			return rc;
	}
	num_key(nk, b->header.number);
	if ((rc = store_put(t, STORE_CANON, nk, 8, hash, 32)))
		return rc;
	return store_put(t, STORE_META, CHAIN_META_HEAD, strlen(CHAIN_META_HEAD), hash, 32);
}

static int meta_get(struct store_txn *t, const char *key, const uint8_t **v, size_t *len)
{
	return store_get(t, STORE_META, key, strlen(key), v, len);
}

static int read_header(struct store_txn *t, const uint8_t hash[32], struct header *h)
{
	const uint8_t *v;
	size_t len;
	int rc = store_get(t, STORE_HEADERS, hash, 32, &v, &len);
	return rc ? rc : header_decode(h, v, len);
}

/* ---- genesis ---------------------------------------------------------------- */

int chain_init(struct store *st, const struct chain_genesis *g, uint8_t hash[CORE_HASH_LEN])
{
	struct store_txn *t;
	int rc = store_begin(st, 1, &t);
	if (rc)
		return rc;
	const uint8_t *v;
	size_t vl;
	struct state *s = NULL;
	struct block b;
	memset(&b, 0, sizeof b);
	if (!meta_get(t, CHAIN_META_HEAD, &v, &vl)) {
		rc = -CN_EEXIST;
		goto out;
	}
	if ((rc = state_open(&s, t, NULL)))
		goto out;
	for (size_t i = 0; i < g->nalloc; i++)
		if ((rc = state_add_balance(s, g->alloc[i].addr, &g->alloc[i].balance)) ||
		    (g->alloc[i].code_len &&
		     (rc = state_set_code(s, g->alloc[i].addr, g->alloc[i].code, g->alloc[i].code_len))))
			goto out;
	struct header *h = &b.header;
	if ((rc = state_commit(s, h->root)))
		goto out;
	memcpy(h->tx_hash, core_empty_root, 32);
	memcpy(h->receipt_hash, core_empty_root, 32);
	memcpy(h->outgoing_receipt_hash, core_empty_root, 32);
	memcpy(h->incoming_receipt_hash, core_empty_root, 32);
	h->number = 0;
	h->gas_limit = g->np->block_gas_limit;
	h->time = g->time;
	h->shard_id = g->shard;
	/* Names the network so that networks with otherwise identical
	 * genesis blocks (no allocations, no committee) differ in hash. */
	char extra[64];
	int xl = snprintf(extra, sizeof extra, "canon genesis %s", g->np->name);
	h->extra.p = malloc((size_t)xl);
	if (!h->extra.p) {
		rc = -CN_ENOMEM;
		goto out;
	}
	memcpy(h->extra.p, extra, (size_t)xl);
	h->extra.len = (size_t)xl;
	if (g->committee.ncommittees) {
		uint8_t *p;
		size_t len;
		if ((rc = shard_state_encode(&g->committee, &p, &len)))
			goto out;
		h->shard_state.p = p;
		h->shard_state.len = len;
		uint8_t ek[8];
		num_key(ek, 0);
		if ((rc = store_put(t, STORE_SHARD_STATES, ek, 8, p, len)))
			goto out;
	}
	if ((rc = header_hash(h, hash)) || (rc = write_block(t, &b, hash, NULL, NULL, NULL, 0, NULL, 0)))
		goto out;
	uint8_t sh[4];
	store_be32(sh, g->shard);
	if ((rc = store_put(t, STORE_META, CHAIN_META_GENESIS, strlen(CHAIN_META_GENESIS), hash, 32)) ||
	    (rc = store_put(t, STORE_META, CHAIN_META_NETWORK, strlen(CHAIN_META_NETWORK), g->np->name,
	                    strlen(g->np->name))) ||
	    (rc = store_put(t, STORE_META, CHAIN_META_SHARD, strlen(CHAIN_META_SHARD), sh, 4)))
		goto out;
	state_free(s);
	s = NULL;
	block_free(&b);
	return store_commit(t);
out:
	state_free(s);
	block_free(&b);
	store_abort(t);
	return rc;
}

/* ---- open / close ----------------------------------------------------------- */

int chain_open(struct chain **out, struct store *st, const struct netparams *np, uint32_t shard)
{
	*out = NULL;
	struct chain *c = calloc(1, sizeof *c);
	if (!c)
		return -CN_ENOMEM;
	c->st = st;
	c->np = np;
	c->shard = shard;
	struct store_txn *t;
	int rc = store_begin(st, 0, &t);
	if (rc) {
		free(c);
		return rc;
	}
	const uint8_t *v;
	size_t len;
	if ((rc = meta_get(t, CHAIN_META_NETWORK, &v, &len)))
		goto fail;
	if (len != strlen(np->name) || memcmp(v, np->name, len)) {
		rc = -CN_EINVAL;
		goto fail;
	}
	if ((rc = meta_get(t, CHAIN_META_SHARD, &v, &len)))
		goto fail;
	if (len != 4 || load_be32(v) != shard) {
		rc = -CN_EINVAL;
		goto fail;
	}
	if ((rc = meta_get(t, CHAIN_META_HEAD, &v, &len)))
		goto fail;
	if (len != 32) {
		rc = -CN_EINVAL;
		goto fail;
	}
	memcpy(c->head_hash, v, 32);
	if ((rc = read_header(t, c->head_hash, &c->head)))
		goto fail;
	store_abort(t);
	*out = c;
	return 0;
fail:
	store_abort(t);
	header_free(&c->head);
	free(c);
	return rc;
}

void chain_close(struct chain *c)
{
	if (!c)
		return;
	state_free(c->state);
	header_free(&c->head);
	free(c);
}

const struct netparams *chain_params(const struct chain *c) { return c->np; }
uint32_t chain_shard(const struct chain *c) { return c->shard; }
const struct header *chain_head(const struct chain *c) { return &c->head; }
void chain_head_hash(const struct chain *c, uint8_t out[CORE_HASH_LEN])
{
	memcpy(out, c->head_hash, CORE_HASH_LEN);
}

/* ---- validation ------------------------------------------------------------- */

int chain_hexcmp_reject_(struct chain_why *why, enum chain_reason r, const uint8_t *want,
                         const uint8_t *got)
{
	char a[65], b[65];
	hex_encode(want, 32, a);
	hex_encode(got, 32, b);
	return chain_reject(why, r, -1, "header 0x%s, computed 0x%s", a, b);
}

static int is_empty_buf(const struct core_buf *b) { return b->len == 0; }

/* The checks that need only the header, the parent and the body. */
int chain_check_static_(const struct chain *c, const struct block *b, struct chain_why *why)
{
	const struct header *h = &b->header, *p = &c->head;
	if (h->shard_id != c->shard)
		return chain_reject(why, CHAIN_R_SHARD, -1, "block shard %u, chain shard %u", h->shard_id,
		                    c->shard);
	if (h->number != p->number + 1)
		return chain_reject(why, CHAIN_R_NUMBER, -1, "block #%llu, head #%llu",
		                    (unsigned long long)h->number, (unsigned long long)p->number);
	if (memcmp(h->parent_hash, c->head_hash, 32))
		return chain_hexcmp_reject_(why, CHAIN_R_PARENT, h->parent_hash, c->head_hash);
	uint64_t epoch = netparams_epoch_of(c->np, h->number);
	if (h->epoch != epoch)
		return chain_reject(why, CHAIN_R_EPOCH, -1, "epoch %llu, block #%llu is in epoch %llu",
		                    (unsigned long long)h->epoch, (unsigned long long)h->number,
		                    (unsigned long long)epoch);
	if (h->time < p->time)
		return chain_reject(why, CHAIN_R_TIME, -1, "time %llu, parent %llu",
		                    (unsigned long long)h->time, (unsigned long long)p->time);
	if (h->gas_limit != c->np->block_gas_limit)
		return chain_reject(why, CHAIN_R_GAS_LIMIT, -1, "%llu, network's is %llu",
		                    (unsigned long long)h->gas_limit,
		                    (unsigned long long)c->np->block_gas_limit);
	if (h->gas_used > h->gas_limit)
		return chain_reject(why, CHAIN_R_GAS_USED, -1, "gas used %llu above limit %llu",
		                    (unsigned long long)h->gas_used, (unsigned long long)h->gas_limit);
	if (b->nstxs)
		return chain_reject(why, CHAIN_R_UNSUPPORTED, -1, "staking transactions");
	if (b->nincoming)
		return chain_reject(why, CHAIN_R_UNSUPPORTED, -1, "incoming CX receipts");
	if (!is_empty_buf(&h->shard_state) || !is_empty_buf(&h->crosslinks) || !is_empty_buf(&h->slashes))
		return chain_reject(why, CHAIN_R_UNSUPPORTED, -1, "shard state, crosslinks or slashes");
	if (memcmp(h->incoming_receipt_hash, core_empty_root, 32))
		return chain_hexcmp_reject_(why, CHAIN_R_IN_ROOT, h->incoming_receipt_hash, core_empty_root);
	if (b->ntxs > CHAIN_MAX_BLOCK_TXS)
		return chain_reject(why, CHAIN_R_TOO_MANY_TXS, -1, "%zu, limit %u", b->ntxs,
		                    CHAIN_MAX_BLOCK_TXS);
	uint8_t root[32];
	int rc = block_tx_root(b, root);
	if (rc)
		return rc;
	if (memcmp(root, h->tx_hash, 32))
		return chain_hexcmp_reject_(why, CHAIN_R_TX_ROOT, h->tx_hash, root);
	return 0;
}

static int ensure_state(struct chain *c, struct store_txn *t)
{
	if (c->state) {
		state_set_txn(c->state, t);
		return 0;
	}
	return state_open(&c->state, t, c->head.root);
}

static void drop_state(struct chain *c)
{
	state_free(c->state);
	c->state = NULL;
}

/* Names the offending tx in why's message. */
static void prefix_tx(struct chain_why *why, size_t i)
{
	if (!why)
		return;
	why->tx_index = (long)i;
	char p[32];
	size_t n = (size_t)snprintf(p, sizeof p, "tx %zu: ", i);
	size_t ml = strnlen(why->msg, sizeof why->msg - 1);
	if (ml + n >= sizeof why->msg)
		ml = sizeof why->msg - 1 - n;
	memmove(why->msg + n, why->msg, ml);
	memcpy(why->msg, p, n);
	why->msg[n + ml] = 0;
}

/* Executes b's txs on the state (senders already recovered). */
int chain_execute_(struct chain *c, struct chain_exec *x, struct store_txn *t,
                   const struct block *b, const uint8_t (*senders)[CORE_ADDR_LEN],
                   uint8_t (*hashes)[32], struct chain_why *why)
{
	for (size_t i = 0; i < b->ntxs; i++) {
		uint8_t *h = hashes[i];
		const uint8_t *v;
		size_t vl;
		int rc = tx_hash(&b->txs[i], h);
		if (rc)
			return rc;
		rc = store_get(t, STORE_TXLOOKUP, h, 32, &v, &vl);
		if (!rc) {
			char hx[65];
			hex_encode(h, 32, hx);
			return chain_reject(why, CHAIN_R_DUPLICATE_TX, (long)i, "0x%s", hx);
		}
		if (rc != -CN_ENOTFOUND)
			return rc;
		if ((rc = chain_apply_tx(x, &b->txs[i], senders[i], h, why))) {
			if (rc == -CN_EINVAL)
				prefix_tx(why, i);
			return rc;
		}
	}
	return 0;
}

int chain_recover_senders_(const struct chain *c, const struct block *b,
                           uint8_t (**out)[CORE_ADDR_LEN], struct chain_why *why)
{
	uint8_t (*s)[CORE_ADDR_LEN] = malloc((b->ntxs ? b->ntxs : 1) * sizeof *s);
	if (!s)
		return -CN_ENOMEM;
	for (size_t i = 0; i < b->ntxs; i++) {
		int rc = check_tx(c, &b->txs[i], s[i], why);
		if (rc) {
			if (rc == -CN_EINVAL)
				prefix_tx(why, i);
			free(s);
			return rc;
		}
	}
	*out = s;
	return 0;
}

void chain_bloom_of_(const struct chain_exec *x, uint8_t bloom[CORE_BLOOM_LEN])
{
	memset(bloom, 0, CORE_BLOOM_LEN);
	for (size_t i = 0; i < x->nreceipts; i++)
		for (int j = 0; j < CORE_BLOOM_LEN; j++)
			bloom[j] |= x->receipts[i].bloom[j];
}

int chain_insert(struct chain *c, const struct block *b, struct chain_why *why)
{
	return chain_insert_sealed(c, b, NULL, 0, why);
}

int chain_insert_sealed(struct chain *c, const struct block *b, const uint8_t *seal,
                        size_t seal_len, struct chain_why *why)
{
	if (why) {
		why->reason = CHAIN_OK;
		why->tx_index = -1;
		why->msg[0] = 0;
	}
	int rc = chain_check_static_(c, b, why);
	if (rc)
		return rc;
	uint8_t (*senders)[CORE_ADDR_LEN] = NULL;
	if ((rc = chain_recover_senders_(c, b, &senders, why)))
		return rc;
	uint8_t (*hashes)[32] = malloc((b->ntxs ? b->ntxs : 1) * sizeof *hashes);
	if (!hashes) {
		free(senders);
		return -CN_ENOMEM;
	}
	const struct header *h = &b->header;
	struct store_txn *t = NULL;
	struct chain_exec x;
	chain_exec_init(&x, c->np, c->shard, NULL, h->gas_limit);
	uint8_t hash[32], root[32], bloom[CORE_BLOOM_LEN];
	if ((rc = header_hash(h, hash)) || (rc = store_begin(c->st, 1, &t)) ||
	    (rc = ensure_state(c, t)))
		goto fail;
	x.st = c->state;
	if ((rc = chain_execute_(c, &x, t, b, (const uint8_t(*)[CORE_ADDR_LEN])senders, hashes, why)))
		goto fail;
	if (x.gas_used != h->gas_used) {
		rc = chain_reject(why, CHAIN_R_GAS_USED, -1, "header %llu, execution used %llu",
		                  (unsigned long long)h->gas_used, (unsigned long long)x.gas_used);
		goto fail;
	}
	if ((rc = receipts_root(x.receipts, x.nreceipts, root)))
		goto fail;
	if (memcmp(root, h->receipt_hash, 32)) {
		rc = chain_hexcmp_reject_(why, CHAIN_R_RECEIPT_ROOT, h->receipt_hash, root);
		goto fail;
	}
	chain_bloom_of_(&x, bloom);
	if (memcmp(bloom, h->bloom, CORE_BLOOM_LEN)) {
		rc = chain_reject(why, CHAIN_R_BLOOM, -1, NULL);
		goto fail;
	}
	if ((rc = cx_outgoing_root(x.cx, x.ncx, root)))
		goto fail;
	if (memcmp(root, h->outgoing_receipt_hash, 32)) {
		rc = chain_hexcmp_reject_(why, CHAIN_R_OUT_ROOT, h->outgoing_receipt_hash, root);
		goto fail;
	}
	if ((rc = state_root(c->state, root)))
		goto fail;
	if (memcmp(root, h->root, 32)) {
		rc = chain_hexcmp_reject_(why, CHAIN_R_STATE_ROOT, h->root, root);
		goto fail;
	}
	if ((rc = state_commit(c->state, root)) ||
	    (rc = write_block(t, b, hash, (const uint8_t(*)[32])hashes,
	                            (const uint8_t(*)[CORE_ADDR_LEN])senders, x.receipts, x.nreceipts,
	                            x.cx, x.ncx)))
		goto fail;
	if (seal) {
		uint8_t sk[sizeof CHAIN_META_SEAL - 1 + 8];
		memcpy(sk, CHAIN_META_SEAL, sizeof CHAIN_META_SEAL - 1);
		store_be64(sk + sizeof CHAIN_META_SEAL - 1, h->number);
		if ((rc = store_put(t, STORE_META, sk, sizeof sk, seal, seal_len)))
			goto fail;
	}
	struct header nh;
	if ((rc = header_copy(&nh, h)))
		goto fail;
	rc = store_commit(t);
	t = NULL;
	if (rc) {
		header_free(&nh);
		goto fail;
	}
	header_free(&c->head);
	c->head = nh;
	memcpy(c->head_hash, hash, 32);
	/* The cache only grows; start afresh (from the committed root) once it
	 * holds more accounts than recent blocks are likely to touch again. */
	if (state_cached_accounts(c->state) > CHAIN_STATE_CACHE_MAX)
		drop_state(c);
	chain_exec_free(&x);
	free(senders);
	free(hashes);
	return 0;
fail:
	store_abort(t);
	drop_state(c);
	chain_exec_free(&x);
	free(senders);
	free(hashes);
	return rc;
}

/* ---- builder ---------------------------------------------------------------- */

static int tx_copy(struct tx *dst, const struct tx *src)
{
	uint8_t *p;
	size_t len;
	int rc = tx_encode(src, &p, &len);
	if (rc)
		return rc;
	rc = tx_decode(dst, p, len);
	free(p);
	return rc;
}

int chain_build(struct chain *c, const struct chain_build_opts *o, const struct tx *txs,
                size_t ntxs, struct block *out, enum chain_reason *skipped)
{
	memset(out, 0, sizeof *out);
	struct store_txn *t;
	int rc = store_begin(c->st, 0, &t);
	if (rc)
		return rc;
	struct state *s = NULL;
	struct chain_exec x;
	struct header *h = &out->header;
	chain_exec_init(&x, c->np, c->shard, NULL, c->np->block_gas_limit);
	if ((rc = state_open(&s, t, c->head.root)))
		goto fail;
	x.st = s;
	out->txs = calloc(ntxs ? ntxs : 1, sizeof *out->txs);
	if (!out->txs) {
		rc = -CN_ENOMEM;
		goto fail;
	}
	for (size_t i = 0; i < ntxs; i++) {
		struct chain_why why;
		uint8_t sender[CORE_ADDR_LEN], th[32];
		if (skipped)
			skipped[i] = CHAIN_OK;
		if (out->ntxs >= CHAIN_MAX_BLOCK_TXS) {
			if (skipped)
				skipped[i] = CHAIN_R_TOO_MANY_TXS;
			continue;
		}
		rc = check_tx(c, &txs[i], sender, &why);
		if (!rc && !(rc = tx_hash(&txs[i], th))) {
			const uint8_t *v;
			size_t vl;
			rc = store_get(t, STORE_TXLOOKUP, th, 32, &v, &vl);
			if (!rc)
				rc = chain_reject(&why, CHAIN_R_DUPLICATE_TX, (long)i, NULL);
			else if (rc == -CN_ENOTFOUND)
				rc = chain_apply_tx(&x, &txs[i], sender, th, &why);
		}
		if (rc == -CN_EINVAL) {
			if (skipped)
				skipped[i] = why.reason;
			continue;
		}
		if (rc || (rc = tx_copy(&out->txs[out->ntxs], &txs[i])))
			goto fail;
		out->ntxs++;
	}
	memcpy(h->parent_hash, c->head_hash, 32);
	memcpy(h->coinbase, o->coinbase, CORE_ADDR_LEN);
	h->number = c->head.number + 1;
	h->gas_limit = c->np->block_gas_limit;
	h->gas_used = x.gas_used;
	h->time = o->time ? o->time : c->head.time + (c->np->block_time_ms + 999) / 1000;
	h->view_id = o->view_id;
	h->epoch = netparams_epoch_of(c->np, h->number);
	h->shard_id = c->shard;
	memcpy(h->incoming_receipt_hash, core_empty_root, 32);
	chain_bloom_of_(&x, h->bloom);
	if ((rc = block_tx_root(out, h->tx_hash)) ||
	    (rc = receipts_root(x.receipts, x.nreceipts, h->receipt_hash)) ||
	    (rc = cx_outgoing_root(x.cx, x.ncx, h->outgoing_receipt_hash)) ||
	    (rc = state_root(s, h->root)))
		goto fail;
	state_free(s);
	chain_exec_free(&x);
	store_abort(t);
	return 0;
fail:
	state_free(s);
	chain_exec_free(&x);
	store_abort(t);
	block_free(out);
	return rc;
}

struct store *chain_store_(struct chain *c) { return c->st; }
