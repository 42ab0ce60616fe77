/* roots.c — DeriveSha: the trie roots a header commits to. */
#include "core/core_int.h"

#include "base/bytes.h"
#include "crypto/crypto.h"
#include "trie/trie.h"

/* Encoded items of several kinds go through one callback so that plain and
 * staking txs (or receipts) can share one index sequence. */
typedef int (*item_fn)(const void *ctx, size_t i, uint8_t **out, size_t *len);

static int derive(item_fn fn, const void *ctx, size_t n, uint8_t out[CORE_HASH_LEN])
{
	struct trie t;
	TRY(trie_init(&t, NULL, NULL, 0));
	int rc = 0;
	for (size_t i = 0; i < n && !rc; i++) {
		uint8_t key[9], *val;
		size_t klen = trie_index_key((uint64_t)i, key), vlen;
		if ((rc = fn(ctx, i, &val, &vlen)) != 0)
			break;
		rc = trie_put(&t, key, klen, val, vlen);
		free(val);
	}
	if (!rc)
		rc = trie_root(&t, out);
	trie_free(&t);
	return rc;
}

struct raw_items {
	const uint8_t *const *items;
	const size_t *lens;
};

static int raw_item(const void *ctx, size_t i, uint8_t **out, size_t *len)
{
	const struct raw_items *r = ctx;
	if (!(*out = malloc(r->lens[i] ? r->lens[i] : 1)))
		return -CN_ENOMEM;
	memcpy(*out, r->items[i], r->lens[i]);
	*len = r->lens[i];
	return 0;
}

int core_derive_sha(const uint8_t *const *items, const size_t *lens, size_t n,
                    uint8_t out[CORE_HASH_LEN])
{
	struct raw_items r = {items, lens};
	return derive(raw_item, &r, n, out);
}

static int block_tx_item(const void *ctx, size_t i, uint8_t **out, size_t *len)
{
	const struct block *b = ctx;
	if (i < b->ntxs)
		return tx_encode(&b->txs[i], out, len);
	return stx_encode(&b->stxs[i - b->ntxs], out, len);
}

int block_tx_root(const struct block *b, uint8_t out[CORE_HASH_LEN])
{
	return derive(block_tx_item, b, b->ntxs + b->nstxs, out);
}

static int receipt_item(const void *ctx, size_t i, uint8_t **out, size_t *len)
{
	return receipt_encode(&((const struct receipt *)ctx)[i], out, len);
}

int receipts_root(const struct receipt *r, size_t n, uint8_t out[CORE_HASH_LEN])
{
	return derive(receipt_item, r, n, out);
}

static int incoming_item(const void *ctx, size_t i, uint8_t **out, size_t *len)
{
	return cx_receipts_proof_encode(&((const struct block *)ctx)->incoming[i], out, len);
}

int block_incoming_root(const struct block *b, uint8_t out[CORE_HASH_LEN])
{
	return derive(incoming_item, b, b->nincoming, out);
}

struct cx_subset {
	const struct cx_receipt *c;
	size_t *idx;
};

static int cx_item(const void *ctx, size_t i, uint8_t **out, size_t *len)
{
	const struct cx_subset *s = ctx;
	return cx_receipt_encode(&s->c[s->idx[i]], out, len);
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return (x > y) - (x < y);
}

int cx_outgoing_root(const struct cx_receipt *c, size_t n, uint8_t out[CORE_HASH_LEN])
{
	if (n == 0) {
		memcpy(out, core_empty_root, CORE_HASH_LEN);
		return 0;
	}
	/* Destinations in ascending order, each once; a loop over 0..max
	 * would let one receipt to shard 2^32-1 cost four billion steps. */
	size_t *idx = malloc(n * sizeof *idx);
	uint32_t *dest = malloc(n * sizeof *dest);
	if (!idx || !dest) {
		free(idx);
		free(dest);
		return -CN_ENOMEM;
	}
	for (size_t i = 0; i < n; i++)
		dest[i] = c[i].to_shard_id;
	qsort(dest, n, sizeof *dest, cmp_u32);
	struct keccak256 k;
	keccak256_init(&k);
	int rc = 0;
	for (size_t di = 0; di < n && !rc; di++) {
		if (di && dest[di] == dest[di - 1])
			continue;
		size_t m = 0;
		for (size_t i = 0; i < n; i++)
			if (c[i].to_shard_id == dest[di])
				idx[m++] = i;     /* block order within a destination */
		struct cx_subset s = {c, idx};
		uint8_t root[CORE_HASH_LEN], be[4];
		if ((rc = derive(cx_item, &s, m, root)) != 0)
			break;
		store_be32(be, dest[di]);
		keccak256_update(&k, be, 4);
		keccak256_update(&k, root, CORE_HASH_LEN);
	}
	free(idx);
	free(dest);
	if (!rc)
		keccak256_final(&k, out);
	return rc;
}
