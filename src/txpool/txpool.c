/* txpool.c — admission, per-account nonce order, limits and selection.
 *
 * Layout: every admitted transaction is one struct entry (reference
 * counted; the pool holds one reference while the entry is in it). Entries
 * are found by hash through an open-addressing table holding both the
 * Harmony and the Ethereum hash, and ordered for eviction by a binary
 * min-heap (cheapest first, newest first among equals). Each sender has a
 * struct account with its entries sorted by nonce; the pending ones are the
 * prefix whose nonces run on from the cached state nonce, so promotion and
 * demotion never move anything: they only change that prefix's length. */
#include "txpool/txpool.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "base/bytes.h"
#include "base/err.h"

#define TX_GAS 21000u
#define TX_GAS_CREATE 53000u
#define TX_DATA_ZERO_GAS 4u
#define TX_DATA_NONZERO_GAS 16u   /* Istanbul (EIP-2028) */

static const char *const reason_msgs[TXPOOL_REASON_COUNT] = {
	[TXPOOL_OK] = "ok",
	[TXPOOL_ERR_DECODE] = "invalid transaction encoding",
	[TXPOOL_ERR_TX_TYPE] = "transaction type not supported",
	[TXPOOL_ERR_CHAIN_ID] = "invalid chain id for signer",
	[TXPOOL_ERR_KNOWN] = "already known",
	[TXPOOL_ERR_SHARD] = "invalid shard",
	[TXPOOL_ERR_TO_SHARD] = "invalid destination shard",
	[TXPOOL_ERR_OVERSIZED] = "oversized data",
	[TXPOOL_ERR_GAS_LIMIT] = "exceeds block gas limit",
	[TXPOOL_ERR_INVALID_SENDER] = "invalid sender",
	[TXPOOL_ERR_UNDERPRICED] = "transaction underpriced",
	[TXPOOL_ERR_NONCE_TOO_LOW] = "nonce too low",
	[TXPOOL_ERR_INSUFFICIENT_FUNDS] = "insufficient funds for gas * price + value",
	[TXPOOL_ERR_INTRINSIC_GAS] = "intrinsic gas too low",
	[TXPOOL_ERR_REPLACE_UNDERPRICED] = "replacement transaction underpriced",
	[TXPOOL_ERR_ACCOUNT_LIMIT] = "account limit exceeded",
	[TXPOOL_ERR_POOL_FULL] = "txpool is full",
	[TXPOOL_ERR_STATE] = "cannot read account state",
	[TXPOOL_ERR_NOMEM] = "out of memory",
	[TXPOOL_DROP_REPLACED] = "replaced by a transaction with the same nonce and a higher price",
	[TXPOOL_DROP_FAIRNESS] = "fairness-exceeding pending transaction",
	[TXPOOL_DROP_GLOBAL_QUEUE] = "exceeds global cap for queued transactions",
	[TXPOOL_DROP_REMOVED] = "removed",
	[TXPOOL_DROP_EXPIRED] = "removed transaction for inactive account",
};

const char *txpool_reason_str(enum txpool_reason r)
{
	if ((unsigned)r >= TXPOOL_REASON_COUNT || !reason_msgs[r])
		return "unknown reason";
	return reason_msgs[r];
}

/* ---- entries ------------------------------------------------------------- */

struct account;

struct entry {
	struct txpool_tx pub;       /* first: a txpool_tx * is an entry * */
	atomic_int refs;
	struct account *acct;       /* valid while in_pool */
	size_t heap_idx;
	int in_pool;
	enum txpool_reason dropped; /* why it left the pool */
};

struct account {
	uint8_t addr[CORE_ADDR_LEN];
	uint64_t nonce;             /* state nonce as last read */
	struct u256 balance;
	struct entry **txs;         /* by nonce, ascending, no duplicates */
	size_t n, cap;
	size_t npending;            /* txs[0..npending) run on from nonce */
	uint64_t beat;              /* pool time of the last admission */
};

static struct entry *to_entry(struct txpool_tx *t) { return (struct entry *)t; }

struct txpool_tx *txpool_tx_ref(struct txpool_tx *t)
{
	if (t)
		atomic_fetch_add_explicit(&to_entry(t)->refs, 1, memory_order_relaxed);
	return t;
}

void txpool_tx_unref(struct txpool_tx *t)
{
	if (!t)
		return;
	struct entry *e = to_entry(t);
	if (atomic_fetch_sub_explicit(&e->refs, 1, memory_order_acq_rel) != 1)
		return;
	tx_free(&e->pub.tx);
	free(e->pub.raw);
	free(e);
}

void txpool_txs_release(struct txpool_tx **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		txpool_tx_unref(v[i]);
	free(v);
}

/* ---- open-addressing table (linear probing, backward-shift deletion) ----
 *
 * Keys are hashes and addresses, which senders can grind; a per-pool random
 * key mixed into the index keeps them from aiming at one probe chain. */

struct slot {
	const uint8_t *key;         /* points into the value; NULL = empty */
	void *val;
};

struct table {
	struct slot *s;
	size_t cap, n, keylen;
	unsigned bits;
	uint64_t k0, k1;
};

static int tab_init(struct table *t, size_t keylen, unsigned bits)
{
	t->cap = (size_t)1 << bits;
	t->bits = bits;
	t->n = 0;
	t->keylen = keylen;
	t->s = calloc(t->cap, sizeof *t->s);
	if (getrandom(&t->k0, sizeof t->k0, GRND_NONBLOCK) != sizeof t->k0)
		t->k0 = (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)t;
	if (getrandom(&t->k1, sizeof t->k1, GRND_NONBLOCK) != sizeof t->k1)
		t->k1 = t->k0 * 0x9e3779b97f4a7c15ull + 1;
	return t->s ? 0 : -CN_ENOMEM;
}

static size_t tab_home(const struct table *t, const uint8_t *k)
{
	uint64_t a = (load_le64(k) ^ t->k0) * 0x9e3779b97f4a7c15ull;
	uint64_t b = (load_le64(k + 8) ^ t->k1) * 0xc2b2ae3d27d4eb4full;
	uint64_t h = (a ^ (b >> 29) ^ (a >> 32)) * 0xff51afd7ed558ccdull;
	return (size_t)(h >> (64 - t->bits));
}

static size_t tab_pos(const struct table *t, const uint8_t *k, int *found)
{
	size_t mask = t->cap - 1, i = tab_home(t, k);
	while (t->s[i].key) {
		if (!memcmp(t->s[i].key, k, t->keylen)) {
			*found = 1;
			return i;
		}
		i = (i + 1) & mask;
	}
	*found = 0;
	return i;
}

static void *tab_get(const struct table *t, const uint8_t *k)
{
	int found;
	size_t i = tab_pos(t, k, &found);
	return found ? t->s[i].val : NULL;
}

static int tab_grow(struct table *t)
{
	struct slot *old = t->s;
	size_t ocap = t->cap;
	struct slot *s = calloc(ocap * 2, sizeof *s);
	if (!s)
		return -CN_ENOMEM;
	t->s = s;
	t->cap = ocap * 2;
	t->bits++;
	for (size_t i = 0; i < ocap; i++) {
		if (!old[i].key)
			continue;
		int found;
		size_t j = tab_pos(t, old[i].key, &found);
		t->s[j] = old[i];
	}
	free(old);
	return 0;
}

/* The key must not be present. */
static int tab_put(struct table *t, const uint8_t *k, void *val)
{
	if ((t->n + 1) * 2 > t->cap && tab_grow(t))
		return -CN_ENOMEM;
	int found;
	size_t i = tab_pos(t, k, &found);
	t->s[i].key = k;
	t->s[i].val = val;
	t->n++;
	return 0;
}

static void tab_del(struct table *t, const uint8_t *k)
{
	int found;
	size_t i = tab_pos(t, k, &found), j = i, mask = t->cap - 1;
	if (!found)
		return;
	for (;;) {
		j = (j + 1) & mask;
		if (!t->s[j].key)
			break;
		size_t h = tab_home(t, t->s[j].key);
		/* Leave s[j] where it is if its home lies cyclically in (i, j]. */
		if (i <= j ? (i < h && h <= j) : (i < h || h <= j))
			continue;
		t->s[i] = t->s[j];
		i = j;
	}
	t->s[i].key = NULL;
	t->s[i].val = NULL;
	t->n--;
}

/* ---- the pool ----------------------------------------------------------- */

struct txpool {
	pthread_mutex_t mu;
	struct txpool_config cfg;
	struct txpool_state_reader rd;
	struct table by_hash;       /* Harmony and Ethereum hash -> entry */
	struct table accts;         /* address -> account */
	struct entry **heap;        /* eviction order, cheapest at 0 */
	size_t nheap, heapcap;
	size_t count, npending, nqueued;
	uint64_t seq;
	uint64_t now_ms;            /* as last told by txpool_tick */
};

void txpool_config_default(struct txpool_config *c, const struct netparams *net, uint32_t shard)
{
	memset(c, 0, sizeof *c);
	c->net = net;
	c->shard_id = shard;
	c->min_gas_price = u256_from_u64(net ? net->min_gas_price : 0);
	c->price_bump = 10;
	c->block_gas_limit = net ? net->block_gas_limit : 0;
	c->max_tx_size = 128 * 1024;
	c->account_slots = 16;
	c->global_slots = 4096;
	c->account_queue = 64;
	c->global_queue = 5120;
	c->lifetime_ms = 30 * 60 * 1000;
}

int txpool_new(struct txpool **out, const struct txpool_config *cfg,
               const struct txpool_state_reader *state)
{
	*out = NULL;
	if (!cfg->net || cfg->shard_id >= cfg->net->num_shards || !cfg->account_slots ||
	    !cfg->global_slots || !cfg->account_queue || !cfg->global_queue || !cfg->max_tx_size ||
	    !state || !state->get_nonce || !state->get_balance)
		return -CN_EINVAL;
	struct txpool *p = calloc(1, sizeof *p);
	if (!p)
		return -CN_ENOMEM;
	p->cfg = *cfg;
	p->rd = *state;
	if (tab_init(&p->by_hash, CORE_HASH_LEN, 10) || tab_init(&p->accts, CORE_ADDR_LEN, 8)) {
		free(p->by_hash.s);
		free(p->accts.s);
		free(p);
		return -CN_ENOMEM;
	}
	pthread_mutex_init(&p->mu, NULL);
	*out = p;
	return 0;
}

static void account_free(struct account *a)
{
	free(a->txs);
	free(a);
}

void txpool_free(struct txpool *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->accts.cap; i++) {
		struct account *a = p->accts.s[i].val;
		if (!a)
			continue;
		for (size_t k = 0; k < a->n; k++) {
			a->txs[k]->in_pool = 0;
			txpool_tx_unref(&a->txs[k]->pub);
		}
		account_free(a);
	}
	free(p->by_hash.s);
	free(p->accts.s);
	free(p->heap);
	pthread_mutex_destroy(&p->mu);
	free(p);
}

/* ---- eviction heap ------------------------------------------------------ */

/* The order in which a full pool gives transactions up. */
static int cheaper(const struct entry *a, const struct entry *b)
{
	int c = u256_cmp(&a->pub.tx.gas_price, &b->pub.tx.gas_price);
	if (c)
		return c < 0;
	return a->pub.seq > b->pub.seq;
}

static void heap_set(struct txpool *p, size_t i, struct entry *e)
{
	p->heap[i] = e;
	e->heap_idx = i;
}

static void heap_up(struct txpool *p, size_t i)
{
	struct entry *e = p->heap[i];
	while (i > 0) {
		size_t up = (i - 1) / 2;
		if (!cheaper(e, p->heap[up]))
			break;
		heap_set(p, i, p->heap[up]);
		i = up;
	}
	heap_set(p, i, e);
}

static void heap_down(struct txpool *p, size_t i)
{
	struct entry *e = p->heap[i];
	for (;;) {
		size_t l = 2 * i + 1, best = i;
		struct entry *be = e;
		if (l < p->nheap && cheaper(p->heap[l], be))
			best = l, be = p->heap[l];
		if (l + 1 < p->nheap && cheaper(p->heap[l + 1], be))
			best = l + 1, be = p->heap[l + 1];
		if (best == i)
			break;
		heap_set(p, i, be);
		i = best;
	}
	heap_set(p, i, e);
}

static int heap_reserve(struct txpool *p)
{
	if (p->nheap < p->heapcap)
		return 0;
	size_t cap = p->heapcap ? p->heapcap * 2 : 256;
	struct entry **h = realloc(p->heap, cap * sizeof *h);
	if (!h)
		return -CN_ENOMEM;
	p->heap = h;
	p->heapcap = cap;
	return 0;
}

/* heap_reserve() must have succeeded. */
static void heap_push(struct txpool *p, struct entry *e)
{
	heap_set(p, p->nheap++, e);
	heap_up(p, e->heap_idx);
}

static void heap_remove(struct txpool *p, struct entry *e)
{
	size_t i = e->heap_idx;
	struct entry *last = p->heap[--p->nheap];
	if (i == p->nheap)
		return;
	heap_set(p, i, last);
	heap_up(p, i);
	heap_down(p, last->heap_idx);
}

/* ---- accounts ----------------------------------------------------------- */

static size_t acct_lower_bound(const struct account *a, uint64_t nonce)
{
	size_t lo = 0, hi = a->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (a->txs[mid]->pub.tx.nonce < nonce)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int acct_reserve(struct account *a)
{
	if (a->n < a->cap)
		return 0;
	size_t cap = a->cap ? a->cap * 2 : 4;
	struct entry **v = realloc(a->txs, cap * sizeof *v);
	if (!v)
		return -CN_ENOMEM;
	a->txs = v;
	a->cap = cap;
	return 0;
}

static void acct_insert_at(struct account *a, size_t i, struct entry *e)
{
	memmove(a->txs + i + 1, a->txs + i, (a->n - i) * sizeof *a->txs);
	a->txs[i] = e;
	a->n++;
}

static void acct_remove_at(struct account *a, size_t i)
{
	memmove(a->txs + i, a->txs + i + 1, (a->n - i - 1) * sizeof *a->txs);
	a->n--;
}

static size_t run_length(const struct account *a)
{
	size_t k = 0;
	while (k < a->n && a->txs[k]->pub.tx.nonce - a->nonce == k)
		k++;
	return k;
}

/* The pool's totals follow each account's split. Every change to an
 * account's list is bracketed by acct_uncount() before and acct_count()
 * after, which recomputes the pending prefix. */
static void acct_uncount(struct txpool *p, struct account *a)
{
	p->npending -= a->npending;
	p->nqueued -= a->n - a->npending;
	a->npending = 0;
}

static void acct_count(struct txpool *p, struct account *a)
{
	a->npending = run_length(a);
	p->npending += a->npending;
	p->nqueued += a->n - a->npending;
}

static int read_state(struct txpool *p, const uint8_t addr[CORE_ADDR_LEN], uint64_t *nonce,
                      struct u256 *bal)
{
	int rc = p->rd.get_nonce(p->rd.ctx, addr, nonce);
	if (!rc)
		rc = p->rd.get_balance(p->rd.ctx, addr, bal);
	return rc < 0 ? rc : rc > 0 ? -rc : 0;
}

/* The account of addr, created with a fresh state read if absent. */
static int acct_get(struct txpool *p, const uint8_t addr[CORE_ADDR_LEN], struct account **out)
{
	struct account *a = tab_get(&p->accts, addr);
	if (a) {
		*out = a;
		return 0;
	}
	a = calloc(1, sizeof *a);
	if (!a)
		return -CN_ENOMEM;
	memcpy(a->addr, addr, CORE_ADDR_LEN);
	int rc = read_state(p, addr, &a->nonce, &a->balance);
	if (!rc)
		rc = tab_put(&p->accts, a->addr, a);
	if (rc) {
		free(a);
		return rc;
	}
	*out = a;
	return 0;
}

static void acct_release_if_empty(struct txpool *p, struct account *a)
{
	if (a->n)
		return;
	tab_del(&p->accts, a->addr);
	account_free(a);
}

/* ---- taking entries out ------------------------------------------------- */

/* Unlinks e from the hash index and the heap and drops the pool's
 * reference; the caller has already taken it out of its account. */
static void entry_detach(struct txpool *p, struct entry *e, enum txpool_reason why, int notify)
{
	tab_del(&p->by_hash, e->pub.hash);
	if (memcmp(e->pub.eth_hash, e->pub.hash, CORE_HASH_LEN))
		tab_del(&p->by_hash, e->pub.eth_hash);
	heap_remove(p, e);
	p->count--;
	e->in_pool = 0;
	e->acct = NULL;
	e->dropped = why;
	if (notify && p->cfg.on_drop)
		p->cfg.on_drop(p->cfg.on_drop_ctx, &e->pub, why);
	txpool_tx_unref(&e->pub);
}

/* Drops txs[i] of a, keeping the totals right. */
static void acct_drop_at(struct txpool *p, struct account *a, size_t i, enum txpool_reason why)
{
	struct entry *e = a->txs[i];
	acct_uncount(p, a);
	acct_remove_at(a, i);
	acct_count(p, a);
	entry_detach(p, e, why, 1);
}

/* Cuts the account's queue to account_queue from the highest nonce down. */
static void acct_cap_queue(struct txpool *p, struct account *a)
{
	while (a->n - a->npending > p->cfg.account_queue)
		acct_drop_at(p, a, a->n - 1, TXPOOL_ERR_ACCOUNT_LIMIT);
}

/* After entries of a changed: cap its queue, free it if empty. */
static void acct_settle(struct txpool *p, struct account *a)
{
	acct_cap_queue(p, a);
	acct_release_if_empty(p, a);
}

static void drop_entry(struct txpool *p, struct entry *e, enum txpool_reason why)
{
	struct account *a = e->acct;
	acct_drop_at(p, a, acct_lower_bound(a, e->pub.tx.nonce), why);
	acct_settle(p, a);
}

/* Collects the accounts (for loops that may free some). */
static struct account **acct_list(struct txpool *p, size_t *n)
{
	struct account **v = malloc((p->accts.n ? p->accts.n : 1) * sizeof *v);
	if (!v)
		return NULL;
	size_t k = 0;
	for (size_t i = 0; i < p->accts.cap; i++)
		if (p->accts.s[i].key)
			v[k++] = p->accts.s[i].val;
	*n = k;
	return v;
}

/* Applies the global limits (see txpool.h); order matters: evicting for
 * capacity can demote, the fairness cut cannot. */
static void enforce_limits(struct txpool *p)
{
	size_t capacity = p->cfg.global_slots + p->cfg.global_queue;
	while (p->count > capacity)
		drop_entry(p, p->heap[0], TXPOOL_ERR_POOL_FULL);

	while (p->npending > p->cfg.global_slots) {
		struct account *worst = NULL;
		for (size_t i = 0; i < p->accts.cap; i++) {
			struct account *a = p->accts.s[i].val;
			if (!a || a->npending <= p->cfg.account_slots)
				continue;
			if (!worst || a->npending > worst->npending ||
			    (a->npending == worst->npending && memcmp(a->addr, worst->addr, CORE_ADDR_LEN) < 0))
				worst = a;
		}
		if (!worst)
			break;
		drop_entry(p, worst->txs[worst->npending - 1], TXPOOL_DROP_FAIRNESS);
	}

	while (p->nqueued > p->cfg.global_queue) {
		struct entry *victim = NULL;
		for (size_t i = 0; i < p->accts.cap; i++) {
			struct account *a = p->accts.s[i].val;
			if (!a)
				continue;
			for (size_t k = a->npending; k < a->n; k++)
				if (!victim || cheaper(a->txs[k], victim))
					victim = a->txs[k];
		}
		if (!victim)
			break;
		drop_entry(p, victim, TXPOOL_DROP_GLOBAL_QUEUE);
	}
}

/* ---- admission ---------------------------------------------------------- */

static int reason_code(enum txpool_reason r)
{
	switch (r) {
	case TXPOOL_OK: return 0;
	case TXPOOL_ERR_KNOWN: return -CN_EEXIST;
	case TXPOOL_ERR_ACCOUNT_LIMIT:
	case TXPOOL_ERR_POOL_FULL:
	case TXPOOL_DROP_FAIRNESS:
	case TXPOOL_DROP_GLOBAL_QUEUE: return -CN_ELIMIT;
	case TXPOOL_ERR_NOMEM: return -CN_ENOMEM;
	default: return -CN_EINVAL;
	}
}

__attribute__((format(printf, 4, 5)))
static int refuse(struct txpool_result *res, enum txpool_reason r, int rc, const char *fmt, ...)
{
	if (res) {
		res->reason = r;
		int k = snprintf(res->msg, sizeof res->msg, "%s", txpool_reason_str(r));
		if (fmt && k >= 0 && (size_t)k + 2 < sizeof res->msg) {
			va_list ap;
			va_start(ap, fmt);
			memcpy(res->msg + k, ": ", 3);
			vsnprintf(res->msg + k + 2, sizeof res->msg - (size_t)k - 2, fmt, ap);
			va_end(ap);
		}
	}
	return rc ? rc : reason_code(r);
}

uint64_t txpool_intrinsic_gas(const struct tx *tx)
{
	uint64_t g = tx->has_to ? TX_GAS : TX_GAS_CREATE;
	for (size_t i = 0; i < tx->data_len; i++)
		g += tx->data[i] ? TX_DATA_NONZERO_GAS : TX_DATA_ZERO_GAS;
	return g;
}

/* The replacement rule of go-ethereum's txList.Add: strictly dearer and at
 * least old * (100 + bump) / 100. */
static int bumped_enough(const struct u256 *newp, const struct u256 *oldp, unsigned bump,
                         struct u256 *threshold)
{
	struct u256 f = u256_from_u64(100u + bump), hundred = u256_from_u64(100), t;
	if (u256_mul(&t, oldp, &f)) {
		/* old price * (100 + bump) beyond 2^256: divide first, losing at
		 * most one unit, which cannot matter at such prices. */
		u256_divmod(&t, NULL, oldp, &hundred);
		if (u256_mul(&t, &t, &f))
			return 0;
	} else {
		u256_divmod(&t, NULL, &t, &hundred);
	}
	*threshold = t;
	return u256_cmp(newp, oldp) > 0 && u256_cmp(newp, &t) >= 0;
}

static void fmt_addr(const uint8_t a[CORE_ADDR_LEN], char out[43])
{
	out[0] = '0';
	out[1] = 'x';
	hex_encode(a, CORE_ADDR_LEN, out + 2);
}

/* The part of admission that needs the pool's state; called locked. */
static int add_locked(struct txpool *p, struct entry *e, struct txpool_result *res)
{
	const struct tx *t = &e->pub.tx;
	char sbuf[43], d1[U256_DEC_MAX], d2[U256_DEC_MAX];

	if (tab_get(&p->by_hash, e->pub.hash) || tab_get(&p->by_hash, e->pub.eth_hash))
		return refuse(res, TXPOOL_ERR_KNOWN, 0, NULL);
	if (t->gas_limit > p->cfg.block_gas_limit)
		return refuse(res, TXPOOL_ERR_GAS_LIMIT, 0, "transaction gas %llu, block gas limit %llu",
		              (unsigned long long)t->gas_limit, (unsigned long long)p->cfg.block_gas_limit);

	struct account *a;
	int rc = acct_get(p, e->pub.sender, &a);
	if (rc == -CN_ENOMEM)
		return refuse(res, TXPOOL_ERR_NOMEM, rc, NULL);
	if (rc)
		return refuse(res, TXPOOL_ERR_STATE, rc, "%s", cn_strerror(rc));

	enum txpool_reason why = TXPOOL_OK;
	fmt_addr(e->pub.sender, sbuf);
	if (t->nonce < a->nonce) {
		why = TXPOOL_ERR_NONCE_TOO_LOW;
		refuse(res, why, 0, "address %s, tx: %llu state: %llu", sbuf,
		       (unsigned long long)t->nonce, (unsigned long long)a->nonce);
	} else if (u256_cmp(&e->pub.cost, &a->balance) > 0) {
		why = TXPOOL_ERR_INSUFFICIENT_FUNDS;
		u256_format_dec(&a->balance, d1);
		u256_format_dec(&e->pub.cost, d2);
		refuse(res, why, 0, "address %s have %s want %s", sbuf, d1, d2);
	}
	if (why) {
		acct_release_if_empty(p, a);
		return reason_code(why);
	}

	size_t pos = acct_lower_bound(a, t->nonce);
	struct entry *old = pos < a->n && a->txs[pos]->pub.tx.nonce == t->nonce ? a->txs[pos] : NULL;
	if (old) {
		struct u256 thr;
		if (!bumped_enough(&t->gas_price, &old->pub.tx.gas_price, p->cfg.price_bump, &thr)) {
			u256_format_dec(&old->pub.tx.gas_price, d1);
			u256_format_dec(&thr, d2);
			return refuse(res, TXPOOL_ERR_REPLACE_UNDERPRICED, 0,
			              "existing gas price %s, need at least %s (+%u%%)", d1, d2,
			              p->cfg.price_bump);
		}
	}
	if (acct_reserve(a) || heap_reserve(p)) {
		acct_release_if_empty(p, a);
		return refuse(res, TXPOOL_ERR_NOMEM, 0, NULL);
	}

	/* Place it tentatively to see what the account would look like. Its
	 * arrival number already counts: a newcomer loses ties with what the
	 * pool holds. */
	e->pub.seq = p->seq;
	acct_uncount(p, a);
	if (old)
		a->txs[pos] = e;
	else
		acct_insert_at(a, pos, e);
	size_t run = run_length(a), queued = a->n - run;
	size_t excess = queued > p->cfg.account_queue ? queued - p->cfg.account_queue : 0;
	enum txpool_reason refusal = TXPOOL_OK;
	if (excess && pos >= a->n - excess) {
		refusal = TXPOOL_ERR_ACCOUNT_LIMIT;
		refuse(res, refusal, 0, "address %s already has %zu queued transactions", sbuf,
		       p->cfg.account_queue);
	} else if (!old && p->count + 1 - excess > p->cfg.global_slots + p->cfg.global_queue &&
	           p->nheap && !cheaper(p->heap[0], e)) {
		refusal = TXPOOL_ERR_POOL_FULL;
		u256_format_dec(&t->gas_price, d1);
		u256_format_dec(&p->heap[0]->pub.tx.gas_price, d2);
		refuse(res, refusal, 0, "gas price %s does not beat the cheapest held, %s", d1, d2);
	}
	if (!refusal) {
		if (tab_put(&p->by_hash, e->pub.hash, e)) {
			refusal = TXPOOL_ERR_NOMEM;
		} else if (memcmp(e->pub.eth_hash, e->pub.hash, CORE_HASH_LEN) &&
		           tab_put(&p->by_hash, e->pub.eth_hash, e)) {
			tab_del(&p->by_hash, e->pub.hash);
			refusal = TXPOOL_ERR_NOMEM;
		}
		if (refusal)
			refuse(res, refusal, 0, NULL);
	}
	if (refusal) {
		if (old)
			a->txs[pos] = old;
		else
			acct_remove_at(a, pos);
		acct_count(p, a);
		acct_release_if_empty(p, a);
		return reason_code(refusal);
	}

	/* Commit. */
	atomic_fetch_add_explicit(&e->refs, 1, memory_order_relaxed);  /* the pool's */
	e->in_pool = 1;
	e->acct = a;
	p->seq++;
	a->beat = p->now_ms;
	heap_push(p, e);
	p->count++;
	acct_count(p, a);
	if (old) {
		/* Its slot in the account already holds e. */
		entry_detach(p, old, TXPOOL_DROP_REPLACED, 1);
		if (res)
			res->replaced = 1;
	}
	acct_settle(p, a);
	enforce_limits(p);

	if (!e->in_pool) {
		why = e->dropped;
		return refuse(res, why, 0, "dropped on admission to keep the pool within its limits");
	}
	if (res) {
		size_t i = acct_lower_bound(e->acct, t->nonce);
		res->pending = i < e->acct->npending;
	}
	return 0;
}

/* Builds an entry from a decoded tx and runs the checks that need no pool
 * state. On refusal returns the code and frees what it made. */
static int prepare(struct txpool *p, const struct tx *in, struct entry **out,
                   struct txpool_result *res)
{
	const struct txpool_config *c = &p->cfg;
	const struct netparams *np = c->net;
	char d1[U256_DEC_MAX], d2[U256_DEC_MAX];
	*out = NULL;

	if (in->type != TX_HARMONY && in->type != TX_LEGACY)
		return refuse(res, TXPOOL_ERR_TX_TYPE, 0, "type %d", (int)in->type);
	struct tx t = *in;
	t.access = NULL;
	t.naccess = 0;
	if (t.type == TX_LEGACY) {
		/* Ethereum form: only this shard's Ethereum chain ID. */
		if (t.chain_id != netparams_eth_chain_id(np, c->shard_id))
			return refuse(res, TXPOOL_ERR_CHAIN_ID, 0, "have %llu, want %llu",
			              (unsigned long long)t.chain_id,
			              (unsigned long long)netparams_eth_chain_id(np, c->shard_id));
		if (tx_from_eth(&t, np->eth_chain_id_base, np->num_shards))
			return refuse(res, TXPOOL_ERR_CHAIN_ID, 0, "have %llu", (unsigned long long)t.chain_id);
	} else if (!netparams_accepts_chain_id(np, c->shard_id, t.chain_id)) {
		return refuse(res, TXPOOL_ERR_CHAIN_ID, 0, "have %llu, want %llu or %llu",
		              (unsigned long long)t.chain_id, (unsigned long long)np->chain_id,
		              (unsigned long long)netparams_eth_chain_id(np, c->shard_id));
	}
	if (t.shard_id != c->shard_id)
		return refuse(res, TXPOOL_ERR_SHARD, 0, "transaction shard %u does not match node shard %u",
		              t.shard_id, c->shard_id);
	if (t.to_shard_id >= np->num_shards)
		return refuse(res, TXPOOL_ERR_TO_SHARD, 0, "toShardID %u, the network has %u shards",
		              t.to_shard_id, np->num_shards);

	struct entry *e = calloc(1, sizeof *e);
	if (!e)
		return refuse(res, TXPOOL_ERR_NOMEM, 0, NULL);
	atomic_init(&e->refs, 1);
	e->pub.tx = t;
	e->pub.tx.data = NULL;
	if (t.data_len) {
		e->pub.tx.data = malloc(t.data_len);
		if (!e->pub.tx.data) {
			free(e);
			return refuse(res, TXPOOL_ERR_NOMEM, 0, NULL);
		}
		memcpy(e->pub.tx.data, t.data, t.data_len);
	}
	int rc;
	enum txpool_reason why = TXPOOL_OK;
	const struct tx *et = &e->pub.tx;
	if ((rc = tx_encode(et, &e->pub.raw, &e->pub.raw_len)) ||
	    (rc = tx_hash(et, e->pub.hash)) || (rc = tx_eth_hash(et, e->pub.eth_hash))) {
		txpool_tx_unref(&e->pub);
		return refuse(res, rc == -CN_ENOMEM ? TXPOOL_ERR_NOMEM : TXPOOL_ERR_DECODE, rc,
		              "%s", cn_strerror(rc));
	}
	if (res) {
		res->have_hash = 1;
		memcpy(res->hash, e->pub.hash, CORE_HASH_LEN);
		memcpy(res->eth_hash, e->pub.eth_hash, CORE_HASH_LEN);
	}

	/* Cheap refusal of resubmissions before paying for recovery. */
	pthread_mutex_lock(&p->mu);
	int known = tab_get(&p->by_hash, e->pub.hash) || tab_get(&p->by_hash, e->pub.eth_hash);
	pthread_mutex_unlock(&p->mu);
	if (known) {
		why = TXPOOL_ERR_KNOWN;
		rc = refuse(res, why, 0, NULL);
	} else if (e->pub.raw_len >= c->max_tx_size) {
		why = TXPOOL_ERR_OVERSIZED;
		rc = refuse(res, why, 0, "transaction size %zu, limit %zu", e->pub.raw_len, c->max_tx_size - 1);
	} else if (tx_sender(in, e->pub.sender)) {
		/* Recovered from the original form: conversion keeps the sender. */
		why = TXPOOL_ERR_INVALID_SENDER;
		rc = refuse(res, why, 0, NULL);
	} else if (u256_cmp(&et->gas_price, &c->min_gas_price) < 0) {
		why = TXPOOL_ERR_UNDERPRICED;
		u256_format_dec(&et->gas_price, d1);
		u256_format_dec(&c->min_gas_price, d2);
		rc = refuse(res, why, 0, "gas price %s, minimum %s", d1, d2);
	} else if (et->gas_limit < txpool_intrinsic_gas(et)) {
		why = TXPOOL_ERR_INTRINSIC_GAS;
		rc = refuse(res, why, 0, "have %llu, want %llu", (unsigned long long)et->gas_limit,
		            (unsigned long long)txpool_intrinsic_gas(et));
	}
	if (why) {
		txpool_tx_unref(&e->pub);
		return rc;
	}
	struct u256 gl = u256_from_u64(et->gas_limit);
	if (u256_mul(&e->pub.cost, &gl, &et->gas_price) ||
	    u256_add(&e->pub.cost, &e->pub.cost, &et->value))
		memset(&e->pub.cost, 0xff, sizeof e->pub.cost);  /* unaffordable */
	*out = e;
	return 0;
}

int txpool_add(struct txpool *p, const struct tx *tx, struct txpool_result *res)
{
	if (res)
		memset(res, 0, sizeof *res);
	struct entry *e;
	int rc = prepare(p, tx, &e, res);
	if (rc)
		return rc;
	pthread_mutex_lock(&p->mu);
	rc = add_locked(p, e, res);
	pthread_mutex_unlock(&p->mu);
	txpool_tx_unref(&e->pub);   /* ours; the pool took its own if it kept it */
	if (!rc && res) {
		res->reason = TXPOOL_OK;
		snprintf(res->msg, sizeof res->msg, "%s", txpool_reason_str(TXPOOL_OK));
	}
	return rc;
}

int txpool_add_raw(struct txpool *p, const uint8_t *raw, size_t len, struct txpool_result *res)
{
	if (res)
		memset(res, 0, sizeof *res);
	struct tx tx;
	int rc = tx_decode(&tx, raw, len);
	if (rc)
		return refuse(res, rc == -CN_ENOMEM ? TXPOOL_ERR_NOMEM : TXPOOL_ERR_DECODE,
		              rc == -CN_ENOMEM ? rc : -CN_EINVAL, "%s", cn_strerror(rc));
	rc = txpool_add(p, &tx, res);
	tx_free(&tx);
	return rc;
}

/* ---- after a block ------------------------------------------------------ */

int txpool_reset(struct txpool *p, uint64_t block_gas_limit)
{
	int first_err = 0;
	pthread_mutex_lock(&p->mu);
	if (block_gas_limit)
		p->cfg.block_gas_limit = block_gas_limit;
	size_t n;
	struct account **v = acct_list(p, &n);
	if (!v) {
		pthread_mutex_unlock(&p->mu);
		return -CN_ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		struct account *a = v[i];
		uint64_t nonce;
		struct u256 bal;
		int rc = read_state(p, a->addr, &nonce, &bal);
		if (rc) {
			if (!first_err)
				first_err = rc;
		} else {
			a->nonce = nonce;
			a->balance = bal;
		}
		acct_uncount(p, a);
		size_t k = 0;
		for (size_t j = 0; j < a->n; j++) {
			struct entry *e = a->txs[j];
			enum txpool_reason why = TXPOOL_OK;
			if (e->pub.tx.nonce < a->nonce)
				why = TXPOOL_ERR_NONCE_TOO_LOW;
			else if (u256_cmp(&e->pub.cost, &a->balance) > 0)
				why = TXPOOL_ERR_INSUFFICIENT_FUNDS;
			else if (e->pub.tx.gas_limit > p->cfg.block_gas_limit)
				why = TXPOOL_ERR_GAS_LIMIT;
			if (why)
				entry_detach(p, e, why, 1);
			else
				a->txs[k++] = e;
		}
		a->n = k;
		acct_count(p, a);
		acct_settle(p, a);
	}
	free(v);
	enforce_limits(p);
	pthread_mutex_unlock(&p->mu);
	return first_err;
}

void txpool_tick(struct txpool *p, uint64_t now_ms)
{
	pthread_mutex_lock(&p->mu);
	p->now_ms = now_ms;
	size_t n;
	struct account **v = p->nqueued ? acct_list(p, &n) : NULL;
	for (size_t i = 0; v && i < n; i++) {
		struct account *a = v[i];
		if (a->n == a->npending || now_ms < a->beat || now_ms - a->beat <= p->cfg.lifetime_ms)
			continue;
		while (a->n > a->npending)
			acct_drop_at(p, a, a->n - 1, TXPOOL_DROP_EXPIRED);
		acct_release_if_empty(p, a);
	}
	free(v);
	pthread_mutex_unlock(&p->mu);
}

int txpool_remove(struct txpool *p, const uint8_t hash[CORE_HASH_LEN])
{
	pthread_mutex_lock(&p->mu);
	struct entry *e = tab_get(&p->by_hash, hash);
	if (e)
		drop_entry(p, e, TXPOOL_DROP_REMOVED);
	pthread_mutex_unlock(&p->mu);
	return e ? 0 : -CN_ENOTFOUND;
}

/* ---- queries ------------------------------------------------------------ */

int txpool_get(struct txpool *p, const uint8_t hash[CORE_HASH_LEN], struct txpool_tx **out)
{
	pthread_mutex_lock(&p->mu);
	struct entry *e = tab_get(&p->by_hash, hash);
	*out = e ? txpool_tx_ref(&e->pub) : NULL;
	pthread_mutex_unlock(&p->mu);
	return e ? 0 : -CN_ENOTFOUND;
}

enum txpool_status txpool_status(struct txpool *p, const uint8_t hash[CORE_HASH_LEN])
{
	enum txpool_status st = TXPOOL_UNKNOWN;
	pthread_mutex_lock(&p->mu);
	struct entry *e = tab_get(&p->by_hash, hash);
	if (e) {
		size_t i = acct_lower_bound(e->acct, e->pub.tx.nonce);
		st = i < e->acct->npending ? TXPOOL_PENDING : TXPOOL_QUEUED;
	}
	pthread_mutex_unlock(&p->mu);
	return st;
}

void txpool_stats(struct txpool *p, size_t *pending, size_t *queued)
{
	pthread_mutex_lock(&p->mu);
	if (pending)
		*pending = p->npending;
	if (queued)
		*queued = p->nqueued;
	pthread_mutex_unlock(&p->mu);
}

int txpool_pending_nonce(struct txpool *p, const uint8_t addr[CORE_ADDR_LEN], uint64_t *nonce)
{
	int rc = 0;
	pthread_mutex_lock(&p->mu);
	struct account *a = tab_get(&p->accts, addr);
	if (a) {
		*nonce = a->nonce + a->npending;
	} else {
		struct u256 bal;
		rc = read_state(p, addr, nonce, &bal);
	}
	pthread_mutex_unlock(&p->mu);
	return rc;
}

static int addr_cmp(const void *x, const void *y)
{
	const struct account *a = *(struct account *const *)x, *b = *(struct account *const *)y;
	return memcmp(a->addr, b->addr, CORE_ADDR_LEN);
}

int txpool_content(struct txpool *p, enum txpool_status want, struct txpool_tx ***out, size_t *n)
{
	*out = NULL;
	*n = 0;
	pthread_mutex_lock(&p->mu);
	size_t na, total = want == TXPOOL_PENDING ? p->npending : p->nqueued;
	struct account **v = acct_list(p, &na);
	struct txpool_tx **r = malloc((total ? total : 1) * sizeof *r);
	if (!v || !r) {
		pthread_mutex_unlock(&p->mu);
		free(v);
		free(r);
		return -CN_ENOMEM;
	}
	qsort(v, na, sizeof *v, addr_cmp);
	size_t k = 0;
	for (size_t i = 0; i < na; i++) {
		struct account *a = v[i];
		size_t lo = want == TXPOOL_PENDING ? 0 : a->npending;
		size_t hi = want == TXPOOL_PENDING ? a->npending : a->n;
		for (size_t j = lo; j < hi; j++)
			r[k++] = txpool_tx_ref(&a->txs[j]->pub);
	}
	pthread_mutex_unlock(&p->mu);
	free(v);
	*out = r;
	*n = k;
	return 0;
}

/* ---- selection for a block ---------------------------------------------- */

struct cursor {
	struct account *a;
	size_t i;
};

/* Better head first: higher price, then earlier arrival. */
static int head_better(const struct cursor *x, const struct cursor *y)
{
	const struct entry *a = x->a->txs[x->i], *b = y->a->txs[y->i];
	int c = u256_cmp(&a->pub.tx.gas_price, &b->pub.tx.gas_price);
	if (c)
		return c > 0;
	return a->pub.seq < b->pub.seq;
}

static void cur_down(struct cursor *h, size_t n, size_t i)
{
	struct cursor c = h[i];
	for (;;) {
		size_t l = 2 * i + 1, best = i;
		const struct cursor *bc = &c;
		if (l < n && head_better(&h[l], bc))
			best = l, bc = &h[l];
		if (l + 1 < n && head_better(&h[l + 1], bc))
			best = l + 1;
		if (best == i)
			break;
		h[i] = h[best];
		i = best;
	}
	h[i] = c;
}

int txpool_select(struct txpool *p, uint64_t gas_budget, size_t max_txs,
                  struct txpool_tx ***out, size_t *n)
{
	*out = NULL;
	*n = 0;
	pthread_mutex_lock(&p->mu);
	size_t cap = p->npending < max_txs ? p->npending : max_txs;
	struct cursor *h = malloc((p->accts.n ? p->accts.n : 1) * sizeof *h);
	struct txpool_tx **r = malloc((cap ? cap : 1) * sizeof *r);
	if (!h || !r) {
		pthread_mutex_unlock(&p->mu);
		free(h);
		free(r);
		return -CN_ENOMEM;
	}
	size_t nh = 0, k = 0;
	for (size_t i = 0; i < p->accts.cap; i++) {
		struct account *a = p->accts.s[i].val;
		if (a && a->npending)
			h[nh++] = (struct cursor){a, 0};
	}
	for (size_t i = nh / 2; i-- > 0;)
		cur_down(h, nh, i);
	uint64_t left = gas_budget;
	while (nh && k < cap && left >= TX_GAS) {
		struct entry *e = h[0].a->txs[h[0].i];
		if (e->pub.tx.gas_limit > left) {
			h[0] = h[--nh];         /* the rest of this sender cannot follow */
		} else {
			r[k++] = txpool_tx_ref(&e->pub);
			left -= e->pub.tx.gas_limit;
			if (++h[0].i >= h[0].a->npending)
				h[0] = h[--nh];
		}
		if (nh)
			cur_down(h, nh, 0);
	}
	pthread_mutex_unlock(&p->mu);
	free(h);
	*out = r;
	*n = k;
	return 0;
}
