/* state.c — accounts, storage, code, journal and commit (see state.h). */
#include "state/state.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "base/err.h"
#include "codec/rlp.h"
#include "crypto/crypto.h"
#include "store/store.h"
#include "trie/trie.h"

/* keccak256("") */
const uint8_t state_empty_code_hash[STATE_HASH_LEN] = {
	0xc5, 0xd2, 0x46, 0x01, 0x86, 0xf7, 0x23, 0x3c, 0x92, 0x7e, 0x7d, 0xb2, 0xdc, 0xc7, 0x03, 0xc0,
	0xe5, 0x00, 0xb6, 0x53, 0xca, 0x82, 0x27, 0x3b, 0x7b, 0xfa, 0xd8, 0x04, 0x5d, 0x85, 0xa4, 0x70,
};


#define FLAT_PREFIX_LEN (sizeof STATE_FLAT_PREFIX - 1)
#define FLAT_KEY_LEN (FLAT_PREFIX_LEN + STATE_HASH_LEN)

/* ---- node storage ------------------------------------------------------- */

/* The trie passes a db's -CN_ENOTFOUND straight up, where it would read as
 * "no such key": a missing node (a root this database never stored, or a
 * damaged one) would then look like an absent account with zero balance.
 * Over the store's trie adapter, a missing node is reported as a node that
 * does not verify against the root instead. */
static int node_get(void *txn, const uint8_t hash[32], const uint8_t **val, size_t *len)
{
	int rc = store_trie_get(txn, hash, val, len);
	return rc == -CN_ENOTFOUND ? -CN_EVERIFY : rc;
}

/* ---- accounts ----------------------------------------------------------- */

void state_account_init(struct state_account *a)
{
	a->nonce = 0;
	a->balance = u256_from_u64(0);
	memcpy(a->root, trie_empty_root, STATE_HASH_LEN);
	memcpy(a->code_hash, state_empty_code_hash, STATE_HASH_LEN);
}

static size_t minimal_be(const uint8_t *be, size_t len, const uint8_t **out)
{
	while (len && *be == 0)
		be++, len--;
	*out = be;
	return len;
}

size_t state_account_encode(const struct state_account *a, uint8_t out[STATE_ACCOUNT_RLP_MAX])
{
	uint8_t nb[8], bb[32], payload[STATE_ACCOUNT_RLP_MAX];
	const uint8_t *p;
	size_t n, len = 0;

	store_be64(nb, a->nonce);
	n = minimal_be(nb, 8, &p);
	len += rlp_write_bytes(payload + len, p, n);
	u256_to_be32(&a->balance, bb);
	n = minimal_be(bb, 32, &p);
	len += rlp_write_bytes(payload + len, p, n);
	len += rlp_write_bytes(payload + len, a->root, STATE_HASH_LEN);
	len += rlp_write_bytes(payload + len, a->code_hash, STATE_HASH_LEN);
	size_t h = rlp_write_list_header(out, len);
	memcpy(out + h, payload, len);
	return h + len;
}

int state_account_decode(const uint8_t *in, size_t len, struct state_account *a)
{
	struct rlp_item it;
	struct rlp_cursor c;
	uint8_t bal[32];
	int rc;

	if ((rc = rlp_decode_one(in, len, &it)) != 0)
		return rc;
	if ((rc = rlp_enter(&it, &c)) != 0)
		return rc;
	if ((rc = rlp_read_u64(&c, &a->nonce)) != 0 ||
	    (rc = rlp_read_u256(&c, bal)) != 0 ||
	    (rc = rlp_read_fixed(&c, a->root, STATE_HASH_LEN)) != 0 ||
	    (rc = rlp_read_fixed(&c, a->code_hash, STATE_HASH_LEN)) != 0)
		return rc == -CN_ENOTFOUND ? -CN_ETRUNC : rc;
	if ((rc = rlp_expect_end(&c)) != 0)
		return rc;
	u256_from_be32(&a->balance, bal);
	return 0;
}

/* Storage values: the RLP of the minimal big-endian bytes. */
static size_t slot_encode(const uint8_t val[32], uint8_t out[33])
{
	const uint8_t *p;
	size_t n = minimal_be(val, 32, &p);
	return rlp_write_bytes(out, p, n);
}

static int slot_decode(const uint8_t *in, size_t len, uint8_t out[32])
{
	struct rlp_item it;
	int rc = rlp_decode_one(in, len, &it);
	if (rc)
		return rc;
	if (it.is_list || it.len > 32)
		return -CN_EINVAL;
	memset(out, 0, 32);
	memcpy(out + 32 - it.len, it.ptr, it.len);
	return 0;
}

static int is_zero32(const uint8_t v[32])
{
	uint8_t acc = 0;
	for (int i = 0; i < 32; i++)
		acc |= v[i];
	return acc == 0;
}

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

/* Addresses and slots from tests and contracts are often small integers, so
 * every word goes through the mixer rather than only the first. */
static uint64_t hash_key(const uint8_t *k, size_t len)
{
	uint64_t h = 0x9e3779b97f4a7c15ull;
	size_t i = 0;
	for (; i + 8 <= len; i += 8)
		h = mix64(h ^ load_le64(k + i));
	if (i < len) {
		uint8_t tail[8] = {0};
		memcpy(tail, k + i, len - i);
		h = mix64(h ^ load_le64(tail));
	}
	return h;
}

/* ---- storage slot cache ------------------------------------------------- */

struct slot {
	uint8_t key[32];
	uint8_t val[32];
	uint8_t orig[32];   /* value at the last transaction boundary (EIP-2200) */
	uint8_t used;
	uint8_t dirty;      /* changed since the storage trie last saw it */
};

struct slotmap {
	struct slot *v;
	size_t cap, n;      /* cap is 0 or a power of two */
};

static struct slot *slot_find(const struct slotmap *m, const uint8_t key[32])
{
	if (!m->cap)
		return NULL;
	size_t mask = m->cap - 1;
	for (size_t i = hash_key(key, 32) & mask;; i = (i + 1) & mask) {
		struct slot *e = &m->v[i];
		if (!e->used)
			return NULL;
		if (memcmp(e->key, key, 32) == 0)
			return e;
	}
}

static int slot_grow(struct slotmap *m)
{
	size_t ncap = m->cap ? m->cap * 2 : 8;
	struct slot *nv = calloc(ncap, sizeof *nv);
	if (!nv)
		return -CN_ENOMEM;
	for (size_t j = 0; j < m->cap; j++) {
		if (!m->v[j].used)
			continue;
		size_t i = hash_key(m->v[j].key, 32) & (ncap - 1);
		while (nv[i].used)
			i = (i + 1) & (ncap - 1);
		nv[i] = m->v[j];
	}
	free(m->v);
	m->v = nv;
	m->cap = ncap;
	return 0;
}

/* Inserts key (absent) and returns its entry. */
static int slot_insert(struct slotmap *m, const uint8_t key[32], struct slot **out)
{
	int rc;
	if ((m->n + 1) * 2 > m->cap && (rc = slot_grow(m)) != 0)
		return rc;
	size_t mask = m->cap - 1, i = hash_key(key, 32) & mask;
	while (m->v[i].used)
		i = (i + 1) & mask;
	struct slot *e = &m->v[i];
	memcpy(e->key, key, 32);
	e->used = 1;
	e->dirty = 0;
	m->n++;
	*out = e;
	return 0;
}

static void slotmap_free(struct slotmap *m)
{
	free(m->v);
	m->v = NULL;
	m->cap = m->n = 0;
}

/* ---- cached accounts ---------------------------------------------------- */

struct sobj {
	uint8_t addr[STATE_ADDR_LEN];
	struct state_account acct;
	int exists;
	uint8_t dirty;          /* on s->dirty: to be folded into the tries */
	uint8_t pending;        /* on s->pending: folded, code/flat not yet written */
	uint8_t code_loaded;    /* code/code_len hold the code of acct.code_hash */
	uint8_t code_dirty;     /* code not yet written to the store */
	uint8_t slots_dirty;    /* some slot may be dirty (reverts leave it set) */
	uint8_t *code;
	size_t code_len;
	struct slotmap slots;
	struct trie *st;        /* storage trie; NULL until needed */
};

enum jkind { J_EXIST, J_BALANCE, J_NONCE, J_CODE, J_SLOT, J_RESET };

/* One undoable change. J_CODE and J_RESET own what they saved until the
 * journal is cleared. */
struct jent {
	enum jkind kind;
	struct sobj *o;
	union {
		struct u256 balance;
		uint64_t nonce;
		struct {
			uint8_t *code;
			size_t len;
			uint8_t hash[32];
			uint8_t loaded, dirty;
		} code;
		struct {
			uint8_t key[32];
			uint8_t val[32];
			uint8_t dirty;
		} slot;
		struct {
			struct state_account acct;
			int exists;
			uint8_t *code;
			size_t code_len;
			uint8_t code_loaded, code_dirty;
			struct slotmap slots;
			struct trie *st;
		} reset;
	} u;
};

struct snap {
	int id;
	size_t jlen;                    /* journal length when taken */
};

struct state {
	struct store_txn *txn;
	struct trie_db db;
	struct trie trie;
	int broken;                     /* a failed trie update: refuse everything */
	uint8_t committed[STATE_HASH_LEN];

	struct sobj **tab;              /* open addressing by address */
	size_t tab_cap, nobj;

	struct sobj **dirty, **pending;
	size_t ndirty, cap_dirty, npending, cap_pending;

	struct jent *j;
	size_t nj, cap_j;
	struct snap *snaps;             /* live snapshots, ids increasing */
	size_t nsnaps, cap_snaps;
	int next_id;                    /* ids are not reused (until 2^30 wraps) */
	size_t cache_max;
	size_t nslots;                  /* slots loaded or written since the last drop
	                                 * (an upper bound: freed maps are not subtracted) */
};

static int grow(void **v, size_t *cap, size_t need, size_t elem)
{
	if (need <= *cap)
		return 0;
	size_t ncap = *cap ? *cap * 2 : 16;
	while (ncap < need)
		ncap *= 2;
	void *nv = realloc(*v, ncap * elem);
	if (!nv)
		return -CN_ENOMEM;
	*v = nv;
	*cap = ncap;
	return 0;
}

static void obj_free(struct sobj *o)
{
	free(o->code);
	slotmap_free(&o->slots);
	if (o->st) {
		trie_free(o->st);
		free(o->st);
	}
	free(o);
}

static struct sobj *tab_find(const struct state *s, const uint8_t addr[STATE_ADDR_LEN])
{
	if (!s->tab_cap)
		return NULL;
	size_t mask = s->tab_cap - 1;
	for (size_t i = hash_key(addr, STATE_ADDR_LEN) & mask;; i = (i + 1) & mask) {
		struct sobj *o = s->tab[i];
		if (!o)
			return NULL;
		if (memcmp(o->addr, addr, STATE_ADDR_LEN) == 0)
			return o;
	}
}

static int tab_insert(struct state *s, struct sobj *o)
{
	if ((s->nobj + 1) * 2 > s->tab_cap) {
		size_t ncap = s->tab_cap ? s->tab_cap * 2 : 64;
		struct sobj **nt = calloc(ncap, sizeof *nt);
		if (!nt)
			return -CN_ENOMEM;
		for (size_t j = 0; j < s->tab_cap; j++) {
			if (!s->tab[j])
				continue;
			size_t i = hash_key(s->tab[j]->addr, STATE_ADDR_LEN) & (ncap - 1);
			while (nt[i])
				i = (i + 1) & (ncap - 1);
			nt[i] = s->tab[j];
		}
		free(s->tab);
		s->tab = nt;
		s->tab_cap = ncap;
	}
	size_t mask = s->tab_cap - 1, i = hash_key(o->addr, STATE_ADDR_LEN) & mask;
	while (s->tab[i])
		i = (i + 1) & mask;
	s->tab[i] = o;
	s->nobj++;
	return 0;
}

static void cache_drop(struct state *s)
{
	for (size_t i = 0; i < s->tab_cap; i++)
		if (s->tab[i])
			obj_free(s->tab[i]);
	free(s->tab);
	s->tab = NULL;
	s->tab_cap = s->nobj = 0;
	s->nslots = 0;
}

/* The cached account at addr, loading it from the trie on first touch. */
static int obj_get(struct state *s, const uint8_t addr[STATE_ADDR_LEN], struct sobj **out)
{
	struct sobj *o = tab_find(s, addr);
	const uint8_t *v;
	size_t vl;
	int rc;

	if (o) {
		*out = o;
		return 0;
	}
	if (!(o = calloc(1, sizeof *o)))
		return -CN_ENOMEM;
	memcpy(o->addr, addr, STATE_ADDR_LEN);
	rc = trie_get(&s->trie, addr, STATE_ADDR_LEN, &v, &vl);
	if (rc == 0) {
		rc = state_account_decode(v, vl, &o->acct);
		o->exists = 1;
	} else if (rc == -CN_ENOTFOUND) {
		state_account_init(&o->acct);
		rc = 0;
	}
	if (rc == 0 && memcmp(o->acct.code_hash, state_empty_code_hash, 32) == 0)
		o->code_loaded = 1;
	if (rc == 0)
		rc = tab_insert(s, o);
	if (rc) {
		free(o);
		return rc;
	}
	*out = o;
	return 0;
}

static int obj_storage_trie(struct state *s, struct sobj *o)
{
	if (o->st)
		return 0;
	struct trie *t = malloc(sizeof *t);
	if (!t)
		return -CN_ENOMEM;
	int rc = trie_init(t, &s->db, o->acct.root, TRIE_SECURE);
	if (rc) {
		free(t);
		return rc;
	}
	o->st = t;
	return 0;
}

/* ---- journal ------------------------------------------------------------ */

static int journal_push(struct state *s, enum jkind kind, struct sobj *o, struct jent **out)
{
	int rc = grow((void **)&s->j, &s->cap_j, s->nj + 1, sizeof *s->j);
	if (rc)
		return rc;
	struct jent *e = &s->j[s->nj++];
	memset(e, 0, sizeof *e);
	e->kind = kind;
	e->o = o;
	*out = e;
	return 0;
}

static void jent_release(struct jent *e)
{
	if (e->kind == J_CODE) {
		free(e->u.code.code);
	} else if (e->kind == J_RESET) {
		free(e->u.reset.code);
		slotmap_free(&e->u.reset.slots);
		if (e->u.reset.st) {
			trie_free(e->u.reset.st);
			free(e->u.reset.st);
		}
	}
}

static void jent_undo(struct jent *e)
{
	struct sobj *o = e->o;
	struct slot *sl;

	switch (e->kind) {
	case J_EXIST:
		o->exists = 0;
		break;
	case J_BALANCE:
		o->acct.balance = e->u.balance;
		break;
	case J_NONCE:
		o->acct.nonce = e->u.nonce;
		break;
	case J_CODE:
		free(o->code);
		o->code = e->u.code.code;
		o->code_len = e->u.code.len;
		memcpy(o->acct.code_hash, e->u.code.hash, 32);
		o->code_loaded = e->u.code.loaded;
		o->code_dirty = e->u.code.dirty;
		break;
	case J_SLOT:
		sl = slot_find(&o->slots, e->u.slot.key);
		assert(sl);   /* a written slot is never dropped while journaled */
		memcpy(sl->val, e->u.slot.val, 32);
		sl->dirty = e->u.slot.dirty;
		break;
	case J_RESET:
		free(o->code);
		slotmap_free(&o->slots);
		if (o->st) {
			trie_free(o->st);
			free(o->st);
		}
		o->acct = e->u.reset.acct;
		o->exists = e->u.reset.exists;
		o->code = e->u.reset.code;
		o->code_len = e->u.reset.code_len;
		o->code_loaded = e->u.reset.code_loaded;
		o->code_dirty = e->u.reset.code_dirty;
		o->slots = e->u.reset.slots;
		o->st = e->u.reset.st;
		break;
	}
}

static void journal_clear(struct state *s)
{
	for (size_t i = 0; i < s->nj; i++)
		jent_release(&s->j[i]);
	s->nj = 0;
	s->nsnaps = 0;
}

/* A transaction boundary: the values written become the slots' original
 * values. Only slots written since the last boundary have a J_SLOT entry. */
static void journal_settle(struct state *s)
{
	for (size_t i = 0; i < s->nj; i++) {
		struct jent *e = &s->j[i];
		if (e->kind != J_SLOT)
			continue;
		/* Absent when the account was reset after the write. */
		struct slot *sl = slot_find(&e->o->slots, e->u.slot.key);
		if (sl)
			memcpy(sl->orig, sl->val, 32);
	}
	journal_clear(s);
}

int state_snapshot(struct state *s)
{
	if (s->broken)
		return -CN_ESTATE;
	int rc = grow((void **)&s->snaps, &s->cap_snaps, s->nsnaps + 1, sizeof *s->snaps);
	if (rc)
		return rc;
	/* Never reusing an id lets a stale one (consumed by a revert, or from
	 * before a boundary) be refused instead of meaning another snapshot.
	 * Wrapping after 2^30 ids only weakens that check. */
	int id = s->next_id;
	s->next_id = id >= (1 << 30) ? 0 : id + 1;
	s->snaps[s->nsnaps++] = (struct snap){id, s->nj};
	return id;
}

int state_revert(struct state *s, int id)
{
	if (s->broken)
		return -CN_ESTATE;
	size_t idx = s->nsnaps;
	while (idx > 0 && s->snaps[idx - 1].id != id)
		idx--;
	if (idx == 0 || id < 0)
		return -CN_ESTATE;
	idx--;
	size_t target = s->snaps[idx].jlen;
	while (s->nj > target) {
		struct jent *e = &s->j[--s->nj];
		jent_undo(e);
		/* jent_undo moved what the entry owned back into the object. */
	}
	s->nsnaps = idx;
	return 0;
}

/* Marks o as changed (once per fold) and makes it exist. */
static int obj_touch(struct state *s, struct sobj *o)
{
	int rc;
	if (!o->dirty) {
		if ((rc = grow((void **)&s->dirty, &s->cap_dirty, s->ndirty + 1, sizeof *s->dirty)) != 0)
			return rc;
		s->dirty[s->ndirty++] = o;
		o->dirty = 1;
	}
	if (!o->exists) {
		struct jent *e;
		if ((rc = journal_push(s, J_EXIST, o, &e)) != 0)
			return rc;
		o->exists = 1;
	}
	return 0;
}

/* ---- open / free -------------------------------------------------------- */

int state_open(struct state **out, struct store_txn *txn, const uint8_t *root)
{
	if (!txn)
		return -CN_EINVAL;
	struct state *s = calloc(1, sizeof *s);
	if (!s)
		return -CN_ENOMEM;
	s->txn = txn;
	s->db = (struct trie_db){txn, node_get, store_trie_put};
	int rc = trie_init(&s->trie, &s->db, root, TRIE_SECURE);
	if (rc) {
		free(s);
		return rc;
	}
	memcpy(s->committed, root ? root : trie_empty_root, STATE_HASH_LEN);
	s->cache_max = STATE_CACHE_DEFAULT;
	*out = s;
	return 0;
}

void state_set_txn(struct state *s, struct store_txn *txn)
{
	s->txn = txn;
	s->db.ctx = txn;
	s->trie.db.ctx = txn;
	for (size_t i = 0; i < s->tab_cap; i++)
		if (s->tab[i] && s->tab[i]->st)
			s->tab[i]->st->db.ctx = txn;
	/* Storage tries parked in the journal may come back by a revert. */
	for (size_t i = 0; i < s->nj; i++)
		if (s->j[i].kind == J_RESET && s->j[i].u.reset.st)
			s->j[i].u.reset.st->db.ctx = txn;
}

void state_free(struct state *s)
{
	if (!s)
		return;
	journal_clear(s);
	cache_drop(s);
	trie_free(&s->trie);
	free(s->j);
	free(s->snaps);
	free(s->dirty);
	free(s->pending);
	free(s);
}

void state_committed_root(const struct state *s, uint8_t out[STATE_HASH_LEN])
{
	memcpy(out, s->committed, STATE_HASH_LEN);
}

size_t state_cached_accounts(const struct state *s)
{
	return s->nobj;
}

void state_set_cache_limit(struct state *s, size_t max_accounts)
{
	s->cache_max = max_accounts;
}

/* ---- reads -------------------------------------------------------------- */

#define CHECK(s) do { if ((s)->broken) return -CN_ESTATE; } while (0)

int state_get_account(struct state *s, const uint8_t addr[STATE_ADDR_LEN], struct state_account *out)
{
	struct sobj *o;
	int rc;
	CHECK(s);
	if ((rc = obj_get(s, addr, &o)) != 0)
		return rc;
	if (!o->exists)
		return -CN_ENOTFOUND;
	*out = o->acct;
	return 0;
}

int state_exists(struct state *s, const uint8_t addr[STATE_ADDR_LEN], int *out)
{
	struct sobj *o;
	int rc;
	CHECK(s);
	if ((rc = obj_get(s, addr, &o)) != 0)
		return rc;
	*out = o->exists;
	return 0;
}

int state_empty(struct state *s, const uint8_t addr[STATE_ADDR_LEN], int *out)
{
	struct sobj *o;
	int rc;
	CHECK(s);
	if ((rc = obj_get(s, addr, &o)) != 0)
		return rc;
	*out = !o->exists || (o->acct.nonce == 0 && u256_is_zero(&o->acct.balance) &&
	                      memcmp(o->acct.code_hash, state_empty_code_hash, 32) == 0);
	return 0;
}

int state_get_balance(struct state *s, const uint8_t addr[STATE_ADDR_LEN], struct u256 *out)
{
	struct sobj *o;
	int rc;
	CHECK(s);
	if ((rc = obj_get(s, addr, &o)) != 0)
		return rc;
	*out = o->acct.balance;
	return 0;
}

int state_get_nonce(struct state *s, const uint8_t addr[STATE_ADDR_LEN], uint64_t *out)
{
	struct sobj *o;
	int rc;
	CHECK(s);
	if ((rc = obj_get(s, addr, &o)) != 0)
		return rc;
	*out = o->acct.nonce;
	return 0;
}

int state_get_code_hash(struct state *s, const uint8_t addr[STATE_ADDR_LEN], uint8_t out[STATE_HASH_LEN])
{
	struct sobj *o;
	int rc;
	CHECK(s);
	if ((rc = obj_get(s, addr, &o)) != 0)
		return rc;
	memcpy(out, o->acct.code_hash, STATE_HASH_LEN);
	return 0;
}

int state_get_code(struct state *s, const uint8_t addr[STATE_ADDR_LEN], const uint8_t **code, size_t *len)
{
	struct sobj *o;
	const uint8_t *v;
	size_t vl;
	int rc;
	CHECK(s);
	if ((rc = obj_get(s, addr, &o)) != 0)
		return rc;
	if (!o->code_loaded) {
		if ((rc = store_get(s->txn, STORE_CODE, o->acct.code_hash, 32, &v, &vl)) != 0)
			return rc;
		uint8_t *c = malloc(vl ? vl : 1);
		if (!c)
			return -CN_ENOMEM;
		memcpy(c, v, vl);
		o->code = c;
		o->code_len = vl;
		o->code_loaded = 1;
	}
	*code = o->code;
	*len = o->code_len;
	return 0;
}

/* The slot's cache entry, loading it from the storage trie if needed. */
static int obj_slot(struct state *s, struct sobj *o, const uint8_t key[32], struct slot **out)
{
	struct slot *e = slot_find(&o->slots, key);
	uint8_t val[32] = {0};
	const uint8_t *v;
	size_t vl;
	int rc;

	if (e) {
		*out = e;
		return 0;
	}
	if (o->st || memcmp(o->acct.root, trie_empty_root, 32) != 0) {
		if ((rc = obj_storage_trie(s, o)) != 0)
			return rc;
		rc = trie_get(o->st, key, 32, &v, &vl);
		if (rc == 0)
			rc = slot_decode(v, vl, val);
		else if (rc == -CN_ENOTFOUND)
			rc = 0;
		if (rc)
			return rc;
	}
	if ((rc = slot_insert(&o->slots, key, &e)) != 0)
		return rc;
	s->nslots++;
	memcpy(e->val, val, 32);
	memcpy(e->orig, val, 32);
	*out = e;
	return 0;
}

/* The slot as the transaction sees it (val) or as it stood at the last
 * transaction boundary (orig, EIP-2200's original value). */
static int storage_read(struct state *s, const uint8_t addr[STATE_ADDR_LEN], const uint8_t slot[32],
                        int committed, uint8_t out[32])
{
	struct sobj *o;
	struct slot *e;
	int rc;
	CHECK(s);
	if ((rc = obj_get(s, addr, &o)) != 0)
		return rc;
	if (!o->exists) {
		memset(out, 0, 32);
		return 0;
	}
	if ((rc = obj_slot(s, o, slot, &e)) != 0)
		return rc;
	memcpy(out, committed ? e->orig : e->val, 32);
	return 0;
}

int state_get_storage(struct state *s, const uint8_t addr[STATE_ADDR_LEN],
                      const uint8_t slot[32], uint8_t out[32])
{
	return storage_read(s, addr, slot, 0, out);
}

int state_get_committed_storage(struct state *s, const uint8_t addr[STATE_ADDR_LEN],
                                const uint8_t slot[32], uint8_t out[32])
{
	return storage_read(s, addr, slot, 1, out);
}

/* ---- writes ------------------------------------------------------------- */

int state_set_balance(struct state *s, const uint8_t addr[STATE_ADDR_LEN], const struct u256 *v)
{
	struct sobj *o;
	struct jent *e;
	int rc;
	CHECK(s);
	if ((rc = obj_get(s, addr, &o)) != 0 || (rc = obj_touch(s, o)) != 0 ||
	    (rc = journal_push(s, J_BALANCE, o, &e)) != 0)
		return rc;
	e->u.balance = o->acct.balance;
	o->acct.balance = *v;
	return 0;
}

int state_add_balance(struct state *s, const uint8_t addr[STATE_ADDR_LEN], const struct u256 *v)
{
	struct sobj *o;
	struct u256 r;
	int rc;
	CHECK(s);
	if ((rc = obj_get(s, addr, &o)) != 0)
		return rc;
	if (u256_add(&r, &o->acct.balance, v))
		return -CN_ERANGE;
	return state_set_balance(s, addr, &r);
}

int state_sub_balance(struct state *s, const uint8_t addr[STATE_ADDR_LEN], const struct u256 *v)
{
	struct sobj *o;
	struct u256 r;
	int rc;
	CHECK(s);
	/* As in go-ethereum, debiting nothing does not even create the
	 * account (crediting nothing does, and touches it for EIP-161). */
	if (u256_is_zero(v))
		return 0;
	if ((rc = obj_get(s, addr, &o)) != 0)
		return rc;
	if (u256_sub(&r, &o->acct.balance, v))
		return -CN_ERANGE;
	return state_set_balance(s, addr, &r);
}

int state_set_nonce(struct state *s, const uint8_t addr[STATE_ADDR_LEN], uint64_t nonce)
{
	struct sobj *o;
	struct jent *e;
	int rc;
	CHECK(s);
	if ((rc = obj_get(s, addr, &o)) != 0 || (rc = obj_touch(s, o)) != 0 ||
	    (rc = journal_push(s, J_NONCE, o, &e)) != 0)
		return rc;
	e->u.nonce = o->acct.nonce;
	o->acct.nonce = nonce;
	return 0;
}

int state_set_code(struct state *s, const uint8_t addr[STATE_ADDR_LEN], const uint8_t *code, size_t len)
{
	struct sobj *o;
	struct jent *e;
	uint8_t *c = NULL;
	int rc;
	CHECK(s);
	if (len && !(c = malloc(len)))
		return -CN_ENOMEM;
	if ((rc = obj_get(s, addr, &o)) != 0 || (rc = obj_touch(s, o)) != 0 ||
	    (rc = journal_push(s, J_CODE, o, &e)) != 0) {
		free(c);
		return rc;
	}
	e->u.code.code = o->code;
	e->u.code.len = o->code_len;
	memcpy(e->u.code.hash, o->acct.code_hash, 32);
	e->u.code.loaded = o->code_loaded;
	e->u.code.dirty = o->code_dirty;
	if (len) {
		memcpy(c, code, len);
		keccak256(c, len, o->acct.code_hash);
	} else {
		memcpy(o->acct.code_hash, state_empty_code_hash, 32);
	}
	o->code = c;
	o->code_len = len;
	o->code_loaded = 1;
	o->code_dirty = len != 0;
	return 0;
}

int state_set_storage(struct state *s, const uint8_t addr[STATE_ADDR_LEN],
                      const uint8_t slot[32], const uint8_t val[32])
{
	struct sobj *o;
	struct slot *sl;
	struct jent *e;
	int rc;
	CHECK(s);
	if ((rc = obj_get(s, addr, &o)) != 0 || (rc = obj_touch(s, o)) != 0 ||
	    (rc = obj_slot(s, o, slot, &sl)) != 0)
		return rc;
	if (memcmp(sl->val, val, 32) == 0)
		return 0;
	/* journal_push may move s->j but not the slot map. */
	if ((rc = journal_push(s, J_SLOT, o, &e)) != 0)
		return rc;
	memcpy(e->u.slot.key, slot, 32);
	memcpy(e->u.slot.val, sl->val, 32);
	e->u.slot.dirty = sl->dirty;
	memcpy(sl->val, val, 32);
	sl->dirty = 1;
	o->slots_dirty = 1;
	return 0;
}

/* Moves the account's whole contents into a journal entry and leaves it
 * fresh: no code, no storage, nonce 0, balance as given. */
static int obj_reset(struct state *s, struct sobj *o, int exists, const struct u256 *balance)
{
	struct jent *e;
	int rc;
	if ((rc = obj_touch(s, o)) != 0 || (rc = journal_push(s, J_RESET, o, &e)) != 0)
		return rc;
	/* obj_touch may have journaled existence first; record what was before
	 * this reset, which is the object's current state. */
	e->u.reset.acct = o->acct;
	e->u.reset.exists = o->exists;
	e->u.reset.code = o->code;
	e->u.reset.code_len = o->code_len;
	e->u.reset.code_loaded = o->code_loaded;
	e->u.reset.code_dirty = o->code_dirty;
	e->u.reset.slots = o->slots;
	e->u.reset.st = o->st;
	state_account_init(&o->acct);
	o->acct.balance = *balance;
	o->exists = exists;
	o->code = NULL;
	o->code_len = 0;
	o->code_loaded = 1;
	o->code_dirty = 0;
	memset(&o->slots, 0, sizeof o->slots);
	o->st = NULL;
	return 0;
}

int state_create_account(struct state *s, const uint8_t addr[STATE_ADDR_LEN])
{
	struct sobj *o;
	int rc;
	CHECK(s);
	if ((rc = obj_get(s, addr, &o)) != 0)
		return rc;
	struct u256 bal = o->acct.balance;
	return obj_reset(s, o, 1, &bal);
}

int state_delete_account(struct state *s, const uint8_t addr[STATE_ADDR_LEN])
{
	struct sobj *o;
	int rc;
	CHECK(s);
	if ((rc = obj_get(s, addr, &o)) != 0)
		return rc;
	struct u256 zero = u256_from_u64(0);
	return obj_reset(s, o, 0, &zero);
}

/* ---- folding changes into the tries ------------------------------------- */

static int fold_obj(struct state *s, struct sobj *o)
{
	uint8_t buf[STATE_ACCOUNT_RLP_MAX];
	int rc;

	if (!o->exists)
		return trie_delete(&s->trie, o->addr, STATE_ADDR_LEN);
	/* Scanning the slot cache only for accounts whose storage was written
	 * keeps a balance-only change independent of the cache's size. */
	int any = 0;
	for (size_t i = 0; o->slots_dirty && i < o->slots.cap; i++)
		any |= o->slots.v[i].used && o->slots.v[i].dirty;
	o->slots_dirty = 0;
	if (any) {
		if ((rc = obj_storage_trie(s, o)) != 0)
			return rc;
		for (size_t i = 0; i < o->slots.cap; i++) {
			struct slot *e = &o->slots.v[i];
			if (!e->used || !e->dirty)
				continue;
			if (is_zero32(e->val)) {
				rc = trie_delete(o->st, e->key, 32);
			} else {
				uint8_t enc[33];
				size_t n = slot_encode(e->val, enc);
				rc = trie_put(o->st, e->key, 32, enc, n);
			}
			if (rc)
				return rc;
			e->dirty = 0;
		}
		if ((rc = trie_root(o->st, o->acct.root)) != 0)
			return rc;
	}
	size_t n = state_account_encode(&o->acct, buf);
	return trie_put(&s->trie, o->addr, STATE_ADDR_LEN, buf, n);
}

static int finalise(struct state *s)
{
	int rc;
	if ((rc = grow((void **)&s->pending, &s->cap_pending, s->npending + s->ndirty,
	               sizeof *s->pending)) != 0)
		return rc;
	/* Only now are the saved storage tries and code of the journal dead. */
	journal_settle(s);
	for (size_t i = 0; i < s->ndirty; i++) {
		struct sobj *o = s->dirty[i];
		if ((rc = fold_obj(s, o)) != 0) {
			s->broken = 1;
			return rc;
		}
		o->dirty = 0;
		if (!o->pending) {
			o->pending = 1;
			s->pending[s->npending++] = o;
		}
	}
	s->ndirty = 0;
	return 0;
}

int state_finalise(struct state *s, int delete_empty)
{
	CHECK(s);
	if (delete_empty) {
		for (size_t i = 0; i < s->ndirty; i++) {
			struct sobj *o = s->dirty[i];
			if (!o->exists || o->acct.nonce || !u256_is_zero(&o->acct.balance) ||
			    memcmp(o->acct.code_hash, state_empty_code_hash, 32) != 0)
				continue;
			/* Not journaled: the journal ends here anyway. Its J_SLOT
			 * entries for o find no slots and are skipped. */
			free(o->code);
			o->code = NULL;
			o->code_len = 0;
			o->code_dirty = 0;
			slotmap_free(&o->slots);
			if (o->st) {
				trie_free(o->st);
				free(o->st);
				o->st = NULL;
			}
			state_account_init(&o->acct);
			o->exists = 0;
		}
	}
	journal_settle(s);
	return 0;
}

int state_root(struct state *s, uint8_t out[STATE_HASH_LEN])
{
	int rc;
	CHECK(s);
	if ((rc = finalise(s)) != 0)
		return rc;
	if ((rc = trie_root(&s->trie, out)) != 0)
		s->broken = 1;
	return rc;
}

static void flat_key(const uint8_t hkey[STATE_HASH_LEN], uint8_t out[FLAT_KEY_LEN])
{
	memcpy(out, STATE_FLAT_PREFIX, FLAT_PREFIX_LEN);
	memcpy(out + FLAT_PREFIX_LEN, hkey, STATE_HASH_LEN);
}

int state_commit(struct state *s, uint8_t out[STATE_HASH_LEN])
{
	uint8_t root[STATE_HASH_LEN], sroot[STATE_HASH_LEN], flat[STATE_HASH_LEN];
	uint8_t key[FLAT_KEY_LEN], hkey[STATE_HASH_LEN], buf[STATE_ACCOUNT_RLP_MAX];
	int rc;

	CHECK(s);
	if ((rc = finalise(s)) != 0)
		return rc;
	/* From here a failure leaves tries and store half-written. */
	s->broken = 1;
	for (size_t i = 0; i < s->npending; i++) {
		struct sobj *o = s->pending[i];
		if (!o->exists)
			continue;
		if (o->st && (rc = trie_commit(o->st, sroot)) != 0)
			return rc;
		if (o->code_dirty) {
			if ((rc = store_put(s->txn, STORE_CODE, o->acct.code_hash, 32, o->code, o->code_len)) != 0)
				return rc;
			o->code_dirty = 0;
		}
	}
	if ((rc = trie_commit(&s->trie, root)) != 0)
		return rc;
	if ((rc = state_flat_root(s->txn, flat)) != 0)
		return rc;
	if (memcmp(flat, s->committed, STATE_HASH_LEN) == 0) {
		for (size_t i = 0; i < s->npending; i++) {
			struct sobj *o = s->pending[i];
			keccak256(o->addr, STATE_ADDR_LEN, hkey);
			flat_key(hkey, key);
			if (o->exists) {
				size_t n = state_account_encode(&o->acct, buf);
				rc = store_put(s->txn, STORE_META, key, sizeof key, buf, n);
			} else {
				rc = store_del(s->txn, STORE_META, key, sizeof key);
			}
			if (rc)
				return rc;
		}
		rc = store_put(s->txn, STORE_META, STATE_FLAT_ROOT_KEY, sizeof STATE_FLAT_ROOT_KEY - 1,
		               root, STATE_HASH_LEN);
	} else {
		/* The index describes another state: rebuild it from the trie. */
		rc = state_flat_rebuild(s->txn, root);
	}
	if (rc)
		return rc;
	for (size_t i = 0; i < s->npending; i++)
		s->pending[i]->pending = 0;
	s->npending = 0;
	memcpy(s->committed, root, STATE_HASH_LEN);
	s->broken = 0;
	if (s->nobj > s->cache_max || s->nslots > s->cache_max * STATE_CACHE_SLOTS_PER_ACCOUNT) {
		cache_drop(s);
		if ((rc = trie_evict(&s->trie)) != 0) {
			s->broken = 1;
			return rc;
		}
	}
	memcpy(out, root, STATE_HASH_LEN);
	return 0;
}

/* ---- proofs ------------------------------------------------------------- */

static int prove(struct store_txn *txn, const uint8_t root[STATE_HASH_LEN],
                 const uint8_t *key, size_t klen, struct trie_proof *out)
{
	struct trie_db db = {txn, node_get, store_trie_put};
	struct trie t;
	int rc = trie_init(&t, &db, root, TRIE_SECURE);
	if (rc)
		return rc;
	rc = trie_prove(&t, key, klen, out);
	trie_free(&t);
	return rc;
}

int state_prove_account(struct store_txn *txn, const uint8_t root[STATE_HASH_LEN],
                        const uint8_t addr[STATE_ADDR_LEN], struct trie_proof *out)
{
	return prove(txn, root, addr, STATE_ADDR_LEN, out);
}

int state_prove_storage(struct store_txn *txn, const uint8_t storage_root[STATE_HASH_LEN],
                        const uint8_t slot[32], struct trie_proof *out)
{
	return prove(txn, storage_root, slot, 32, out);
}

/* ---- flat index --------------------------------------------------------- */

int state_flat_get(struct store_txn *txn, const uint8_t addr[STATE_ADDR_LEN], struct state_account *out)
{
	uint8_t hkey[STATE_HASH_LEN], key[FLAT_KEY_LEN];
	const uint8_t *v;
	size_t vl;
	keccak256(addr, STATE_ADDR_LEN, hkey);
	flat_key(hkey, key);
	int rc = store_get(txn, STORE_META, key, sizeof key, &v, &vl);
	if (rc)
		return rc;
	return state_account_decode(v, vl, out);
}

int state_flat_root(struct store_txn *txn, uint8_t out[STATE_HASH_LEN])
{
	const uint8_t *v;
	size_t vl;
	int rc = store_get(txn, STORE_META, STATE_FLAT_ROOT_KEY, sizeof STATE_FLAT_ROOT_KEY - 1, &v, &vl);
	if (rc == -CN_ENOTFOUND) {
		memcpy(out, trie_empty_root, STATE_HASH_LEN);
		return 0;
	}
	if (rc)
		return rc;
	if (vl != STATE_HASH_LEN)
		return -CN_EINVAL;
	memcpy(out, v, STATE_HASH_LEN);
	return 0;
}

struct keylist {
	uint8_t (*k)[FLAT_KEY_LEN];
	size_t n, cap;
};

static int collect_key(void *ctx, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
	struct keylist *l = ctx;
	(void)val, (void)vlen;
	if (klen != FLAT_KEY_LEN)
		return -CN_EINVAL;
	int rc = grow((void **)&l->k, &l->cap, l->n + 1, sizeof *l->k);
	if (rc)
		return rc;
	memcpy(l->k[l->n++], key, FLAT_KEY_LEN);
	return 0;
}

int state_flat_rebuild(struct store_txn *txn, const uint8_t root[STATE_HASH_LEN])
{
	struct keylist old = {0};
	struct trie_db db = {txn, node_get, store_trie_put};
	struct trie t;
	struct trie_iter it;
	struct state_account a;
	uint8_t key[FLAT_KEY_LEN];
	int rc;

	/* store_iterate forbids changes while it runs: list, then delete. */
	rc = store_iterate(txn, STORE_META, STATE_FLAT_PREFIX, FLAT_PREFIX_LEN, collect_key, &old);
	for (size_t i = 0; rc == 0 && i < old.n; i++)
		rc = store_del(txn, STORE_META, old.k[i], FLAT_KEY_LEN);
	free(old.k);
	if (rc)
		return rc;
	if ((rc = trie_init(&t, &db, root, TRIE_SECURE)) != 0)
		return rc;
	trie_iter_init(&it, &t);
	while ((rc = trie_iter_next(&it)) == 0) {
		if (it.klen != STATE_HASH_LEN) {
			rc = -CN_EINVAL;
			break;
		}
		if ((rc = state_account_decode(it.val, it.vlen, &a)) != 0)
			break;
		flat_key(it.key, key);
		if ((rc = store_put(txn, STORE_META, key, sizeof key, it.val, it.vlen)) != 0)
			break;
	}
	trie_iter_free(&it);
	trie_free(&t);
	if (rc != -CN_ENOTFOUND)
		return rc;
	return store_put(txn, STORE_META, STATE_FLAT_ROOT_KEY, sizeof STATE_FLAT_ROOT_KEY - 1,
	                 root, STATE_HASH_LEN);
}
