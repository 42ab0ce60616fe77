/* read.c — reads of committed chain data, the consistency check, import. */
#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "base/err.h"
#include "chain/chain_int.h"
#include "codec/rlp.h"
#include "state/state.h"
#include "store/store.h"

/* Each read runs in its own read transaction: short, and never held while
 * the writer grows the map. */
#define WITH_READ(c, t, body)                                    \
	do {                                                     \
		struct store_txn *t;                             \
		int rc_ = store_begin(chain_store_(c), 0, &t);   \
		if (rc_)                                         \
			return rc_;                              \
		rc_ = (body);                                    \
		store_abort(t);                                  \
		return rc_;                                      \
	} while (0)


static int hash_at(struct store_txn *t, uint64_t number, uint8_t out[32])
{
	uint8_t k[8];
	const uint8_t *v;
	size_t len;
	store_be64(k, number);
	int rc = store_get(t, STORE_CANON, k, 8, &v, &len);
	if (rc)
		return rc;
	if (len != 32)
		return -CN_EINVAL;
	memcpy(out, v, 32);
	return 0;
}

int chain_hash_at(struct chain *c, uint64_t number, uint8_t out[CORE_HASH_LEN])
{
	WITH_READ(c, t, hash_at(t, number, out));
}

static int block_by_hash(struct store_txn *t, const uint8_t hash[32], struct block *b)
{
	const uint8_t *v;
	size_t len;
	memset(b, 0, sizeof *b);
	int rc = store_get(t, STORE_HEADERS, hash, 32, &v, &len);
	if (rc || (rc = header_decode(&b->header, v, len)))
		return rc;
	if ((rc = store_get(t, STORE_BODIES, hash, 32, &v, &len)) ||
	    (rc = block_body_decode(b, v, len)))
		block_free(b);
	return rc;
}

static int block_at(struct store_txn *t, uint64_t number, struct block *b)
{
	uint8_t h[32];
	int rc = hash_at(t, number, h);
	return rc ? rc : block_by_hash(t, h, b);
}

int chain_block_at(struct chain *c, uint64_t number, struct block *out)
{
	WITH_READ(c, t, block_at(t, number, out));
}

int chain_block_by_hash(struct chain *c, const uint8_t hash[CORE_HASH_LEN], struct block *out)
{
	WITH_READ(c, t, block_by_hash(t, hash, out));
}

static int header_at(struct store_txn *t, uint64_t number, struct header *h)
{
	uint8_t hash[32];
	const uint8_t *v;
	size_t len;
	memset(h, 0, sizeof *h);
	int rc = hash_at(t, number, hash);
	if (rc || (rc = store_get(t, STORE_HEADERS, hash, 32, &v, &len)))
		return rc;
	return header_decode(h, v, len);
}

int chain_header_at(struct chain *c, uint64_t number, struct header *out)
{
	WITH_READ(c, t, header_at(t, number, out));
}

int chain_block_rlp_at(struct chain *c, uint64_t number, uint8_t **out, size_t *len)
{
	struct block b;
	int rc = chain_block_at(c, number, &b);
	if (rc)
		return rc;
	rc = block_encode(&b, out, len);
	block_free(&b);
	return rc;
}

int chain_txn_receipts(struct store_txn *t, const uint8_t block_hash[CORE_HASH_LEN],
                       struct receipt **out, size_t *n)
{
	const uint8_t *v;
	size_t len;
	int rc = store_get(t, STORE_RECEIPTS, block_hash, 32, &v, &len);
	return rc ? rc : chain_receipts_decode(v, len, out, n);
}

int chain_txn_head_hash(struct store_txn *t, uint8_t out[CORE_HASH_LEN])
{
	const uint8_t *v;
	size_t len;
	int rc = store_get(t, STORE_META, CHAIN_META_HEAD, strlen(CHAIN_META_HEAD), &v, &len);
	if (rc)
		return rc;
	if (len != CORE_HASH_LEN)
		return -CN_EINVAL;
	memcpy(out, v, CORE_HASH_LEN);
	return 0;
}

int chain_receipts(struct chain *c, const uint8_t hash[CORE_HASH_LEN], struct receipt **out,
                   size_t *n)
{
	WITH_READ(c, t, chain_txn_receipts(t, hash, out, n));
}

static int lookup(struct store_txn *t, const uint8_t txh[32], uint8_t bh[32], uint64_t *number,
                  uint32_t *index)
{
	const uint8_t *v;
	size_t len;
	int rc = store_get(t, STORE_TXLOOKUP, txh, 32, &v, &len);
	if (rc)
		return rc;
	if (len != STORE_TXLOOKUP_LEN && len != STORE_TXLOOKUP_SENDER_LEN)
		return -CN_EINVAL;
	memcpy(bh, v, 32);
	*number = load_be64(v + 32);
	*index = load_be32(v + 40);
	return 0;
}

int chain_tx_lookup(struct chain *c, const uint8_t tx_hash[CORE_HASH_LEN],
                    uint8_t block_hash[CORE_HASH_LEN], uint64_t *number, uint32_t *index)
{
	WITH_READ(c, t, lookup(t, tx_hash, block_hash, number, index));
}

static int cx_get(struct store_txn *t, uint32_t to, uint64_t number, struct cx_receipt **out,
                  size_t *n)
{
	uint8_t k[12];
	const uint8_t *v;
	size_t len, count;
	struct rlp_item it;
	struct rlp_cursor cur;
	*out = NULL;
	*n = 0;
	store_be32(k, to);
	store_be64(k + 4, number);
	int rc = store_get(t, STORE_CX_OUT, k, sizeof k, &v, &len);
	if (rc || (rc = rlp_decode_one(v, len, &it)) || (rc = rlp_list_count(&it, &count)) ||
	    (rc = rlp_enter(&it, &cur)))
		return rc;
	struct cx_receipt *r = calloc(count ? count : 1, sizeof *r);
	if (!r)
		return -CN_ENOMEM;
	for (size_t i = 0; i < count; i++) {
		struct rlp_item x;
		if ((rc = rlp_next(&cur, &x)) || (rc = cx_receipt_decode(&r[i], x.raw, x.raw_len))) {
			free(r);
			return rc;
		}
	}
	*out = r;
	*n = count;
	return 0;
}

int chain_cx_outgoing(struct chain *c, uint32_t to, uint64_t number, struct cx_receipt **out,
                      size_t *n)
{
	WITH_READ(c, t, cx_get(t, to, number, out, n));
}

static int account(struct store_txn *t, const uint8_t addr[20], struct state_account *a)
{
	int rc = state_flat_get(t, addr, a);
	if (rc == -CN_ENOTFOUND) {
		state_account_init(a);
		rc = 0;
	}
	return rc;
}

int chain_balance(struct chain *c, const uint8_t addr[CORE_ADDR_LEN], struct u256 *out)
{
	struct state_account a;
	int rc;
	{
		struct store_txn *t;
		if ((rc = store_begin(chain_store_(c), 0, &t)))
			return rc;
		rc = account(t, addr, &a);
		store_abort(t);
	}
	if (!rc)
		*out = a.balance;
	return rc;
}

int chain_nonce(struct chain *c, const uint8_t addr[CORE_ADDR_LEN], uint64_t *out)
{
	struct state_account a;
	struct store_txn *t;
	int rc = store_begin(chain_store_(c), 0, &t);
	if (rc)
		return rc;
	rc = account(t, addr, &a);
	store_abort(t);
	if (!rc)
		*out = a.nonce;
	return rc;
}

int chain_count(struct chain *c, int db, size_t *out)
{
	if (db < 0 || db >= STORE_DB_COUNT)
		return -CN_EINVAL;
	WITH_READ(c, t, store_count(t, (enum store_db)db, out));
}

/* ---- consistency check ------------------------------------------------------ */

static int verify(struct chain *c, struct store_txn *t, struct chain_why *why)
{
	const struct header *head = chain_head(c);
	uint8_t head_hash[32], prev[32], h[32];
	chain_head_hash(c, head_hash);
	const uint8_t *v;
	size_t len, ncanon;
	int rc = store_get(t, STORE_META, CHAIN_META_HEAD, strlen(CHAIN_META_HEAD), &v, &len);
	if (rc)
		return chain_reject(why, CHAIN_R_PARENT, -1, "no head pointer: %s", cn_strerror(rc));
	if (len != 32 || memcmp(v, head_hash, 32))
		return chain_reject(why, CHAIN_R_PARENT, -1, "head pointer is not the open head");
	if ((rc = store_count(t, STORE_CANON, &ncanon)))
		return rc;
	if (ncanon != head->number + 1)
		return chain_reject(why, CHAIN_R_NUMBER, -1, "%zu canonical entries for head #%llu",
		                    ncanon, (unsigned long long)head->number);
	for (uint64_t n = 0; n <= head->number; n++) {
		struct block b;
		if ((rc = hash_at(t, n, h)))
			return chain_reject(why, CHAIN_R_NUMBER, -1, "no canonical hash at #%llu",
			                    (unsigned long long)n);
		if ((rc = block_by_hash(t, h, &b)))
			return chain_reject(why, CHAIN_R_DECODE, -1, "block #%llu unreadable: %s",
			                    (unsigned long long)n, cn_strerror(rc));
		uint8_t hh[32];
		rc = header_hash(&b.header, hh);
		int bad = rc || memcmp(hh, h, 32) || b.header.number != n ||
		          (n > 0 && memcmp(b.header.parent_hash, prev, 32));
		struct receipt *r = NULL;
		size_t nr = 0;
		if (!bad) {
			bad = chain_txn_receipts(t, h, &r, &nr) != 0 || nr != b.ntxs;
			for (size_t i = 0; i < nr; i++)
				receipt_free(&r[i]);
			free(r);
		}
		for (size_t i = 0; i < b.ntxs && !bad; i++) {
			uint8_t th[32], bh[32];
			uint64_t num;
			uint32_t idx;
			bad = tx_hash(&b.txs[i], th) || lookup(t, th, bh, &num, &idx) ||
			      memcmp(bh, h, 32) || num != n || idx != i;
		}
		block_free(&b);
		if (bad)
			return chain_reject(why, CHAIN_R_PARENT, -1,
			                    "block #%llu: header, receipts or lookups inconsistent",
			                    (unsigned long long)n);
		memcpy(prev, h, 32);
	}
	if (memcmp(prev, head_hash, 32))
		return chain_reject(why, CHAIN_R_PARENT, -1, "canonical tip is not the head");
	uint8_t fr[32];
	if ((rc = state_flat_root(t, fr)))
		return rc;
	if (memcmp(fr, head->root, 32))
		return chain_reject(why, CHAIN_R_STATE_ROOT, -1, "flat index describes another root");
	if (memcmp(head->root, core_empty_root, 32) &&
	    (rc = store_get(t, STORE_TRIE, head->root, 32, &v, &len)))
		return chain_reject(why, CHAIN_R_STATE_ROOT, -1, "state root node missing");
	return 0;
}

int chain_verify_db(struct chain *c, struct chain_why *why)
{
	WITH_READ(c, t, verify(c, t, why));
}

/* ---- import ----------------------------------------------------------------- */

int chain_read_item(FILE *f, uint8_t **buf, size_t *cap, size_t *len)
{
	int b0 = fgetc(f);
	if (b0 == EOF)
		return ferror(f) ? -CN_EIO : 1;
	uint8_t hdr[9];
	size_t hl = 1, payload;
	hdr[0] = (uint8_t)b0;
	if (b0 < 0xc0)
		return -CN_EINVAL;
	if (b0 <= 0xf7) {
		payload = (size_t)(b0 - 0xc0);
	} else {
		size_t ll = (size_t)(b0 - 0xf7);
		if (fread(hdr + 1, 1, ll, f) != ll)
			return ferror(f) ? -CN_EIO : -CN_ETRUNC;
		hl += ll;
		uint64_t n = 0;
		for (size_t i = 0; i < ll; i++) {
			if (n >> 56)
				return -CN_ELIMIT;
			n = (n << 8) | hdr[1 + i];
		}
		if (n > BLOCK_MAX_SIZE)
			return -CN_ELIMIT;
		payload = (size_t)n;
	}
	if (payload + hl > BLOCK_MAX_SIZE)
		return -CN_ELIMIT;
	size_t need = hl + payload;
	if (need > *cap) {
		uint8_t *p = realloc(*buf, need);
		if (!p)
			return -CN_ENOMEM;
		*buf = p;
		*cap = need;
	}
	memcpy(*buf, hdr, hl);
	if (fread(*buf + hl, 1, payload, f) != payload)
		return ferror(f) ? -CN_EIO : -CN_ETRUNC;
	*len = need;
	return 0;
}

int chain_import(struct chain *c, FILE *f, struct chain_import_stats *stats,
                 struct chain_why *why)
{
	uint8_t *buf = NULL;
	size_t cap = 0, len;
	int rc = 0;
	memset(stats, 0, sizeof *stats);
	for (;;) {
		stats->item++;
		rc = chain_read_item(f, &buf, &cap, &len);
		if (rc == 1) {
			stats->item = 0;
			rc = 0;
			break;
		}
		if (rc) {
			if (rc != -CN_EIO && rc != -CN_ENOMEM)
				rc = chain_reject(why, CHAIN_R_DECODE, -1, "%s", cn_strerror(rc));
			break;
		}
		struct block b;
		if ((rc = block_decode(&b, buf, len))) {
			if (rc != -CN_ENOMEM)
				rc = chain_reject(why, CHAIN_R_DECODE, -1, "%s", cn_strerror(rc));
			break;
		}
		const struct header *head = chain_head(c);
		if (b.header.number <= head->number && b.header.shard_id == chain_shard(c)) {
			uint8_t have[32], hh[32];
			if (!(rc = chain_hash_at(c, b.header.number, have)) && !(rc = header_hash(&b.header, hh))) {
				if (!memcmp(have, hh, 32))
					stats->skipped++;
				else
					rc = chain_reject(why, CHAIN_R_PARENT, -1,
					                  "block #%llu differs from the canonical block",
					                  (unsigned long long)b.header.number);
			}
		} else if (!(rc = chain_insert(c, &b, why))) {
			stats->imported++;
		}
		block_free(&b);
		if (rc)
			break;
	}
	free(buf);
	return rc;
}
