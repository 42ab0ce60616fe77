/* schema.c — key layouts and the fixed-format records of one chain. */
#include <string.h>

#include "base/bytes.h"
#include "base/err.h"
#include "store/store.h"

/* Keys of STORE_META reserved by the store itself. */
static const char HEAD_PREFIX[] = "head:";

void store_key_shard_num(uint8_t out[12], uint32_t shard, uint64_t number)
{
	store_be32(out, shard);
	store_be64(out + 4, number);
}

void store_key_num(uint8_t out[8], uint64_t number)
{
	store_be64(out, number);
}

/* A stored value that must be exactly n bytes; anything else means a
 * corrupt or foreign database, not a missing key. */
static int get_exact(struct store_txn *t, enum store_db db, const void *k, size_t kl,
                     const uint8_t **v, size_t n)
{
	size_t vl;
	int err = store_get(t, db, k, kl, v, &vl);
	if (err)
		return err;
	return vl == n ? 0 : -CN_EINVAL;
}

int store_canon_put(struct store_txn *t, uint64_t number, const uint8_t hash[STORE_HASH_LEN])
{
	uint8_t k[8];
	store_key_num(k, number);
	return store_put(t, STORE_CANON, k, 8, hash, STORE_HASH_LEN);
}

int store_canon_get(struct store_txn *t, uint64_t number, uint8_t hash[STORE_HASH_LEN])
{
	uint8_t k[8];
	const uint8_t *v;
	store_key_num(k, number);
	int err = get_exact(t, STORE_CANON, k, 8, &v, STORE_HASH_LEN);
	if (!err)
		memcpy(hash, v, STORE_HASH_LEN);
	return err;
}

int store_canon_del(struct store_txn *t, uint64_t number)
{
	uint8_t k[8];
	store_key_num(k, number);
	return store_del(t, STORE_CANON, k, 8);
}

int store_txlookup_put(struct store_txn *t, const uint8_t tx_hash[STORE_HASH_LEN],
                       const uint8_t block_hash[STORE_HASH_LEN], uint64_t number, uint32_t index)
{
	uint8_t v[STORE_TXLOOKUP_LEN];
	memcpy(v, block_hash, STORE_HASH_LEN);
	store_be64(v + 32, number);
	store_be32(v + 40, index);
	return store_put(t, STORE_TXLOOKUP, tx_hash, STORE_HASH_LEN, v, sizeof v);
}

int store_txlookup_get(struct store_txn *t, const uint8_t tx_hash[STORE_HASH_LEN],
                       uint8_t block_hash[STORE_HASH_LEN], uint64_t *number, uint32_t *index)
{
	const uint8_t *v;
	size_t vl;
	int err = store_get(t, STORE_TXLOOKUP, tx_hash, STORE_HASH_LEN, &v, &vl);
	if (err)
		return err;
	if (vl != STORE_TXLOOKUP_LEN && vl != STORE_TXLOOKUP_SENDER_LEN)
		return -CN_EINVAL;
	memcpy(block_hash, v, STORE_HASH_LEN);
	*number = load_be64(v + 32);
	*index = load_be32(v + 40);
	return 0;
}

int store_txlookup_sender(struct store_txn *t, const uint8_t tx_hash[STORE_HASH_LEN],
                          uint8_t sender[20])
{
	const uint8_t *v;
	size_t vl;
	int err = store_get(t, STORE_TXLOOKUP, tx_hash, STORE_HASH_LEN, &v, &vl);
	if (err)
		return err;
	if (vl == STORE_TXLOOKUP_LEN)
		return -CN_ENOTFOUND;
	if (vl != STORE_TXLOOKUP_SENDER_LEN)
		return -CN_EINVAL;
	memcpy(sender, v + STORE_TXLOOKUP_LEN, 20);
	return 0;
}

static int head_key(const char *name, char out[80], size_t *len)
{
	size_t n = strlen(name);
	if (n == 0 || n > 64)
		return -CN_EINVAL;
	memcpy(out, HEAD_PREFIX, sizeof HEAD_PREFIX - 1);
	memcpy(out + sizeof HEAD_PREFIX - 1, name, n);
	*len = sizeof HEAD_PREFIX - 1 + n;
	return 0;
}

int store_head_put(struct store_txn *t, const char *name, const uint8_t hash[STORE_HASH_LEN])
{
	char k[80];
	size_t kl;
	int err = head_key(name, k, &kl);
	return err ? err : store_put(t, STORE_META, k, kl, hash, STORE_HASH_LEN);
}

int store_head_get(struct store_txn *t, const char *name, uint8_t hash[STORE_HASH_LEN])
{
	char k[80];
	size_t kl;
	const uint8_t *v;
	int err = head_key(name, k, &kl);
	if (!err)
		err = get_exact(t, STORE_META, k, kl, &v, STORE_HASH_LEN);
	if (!err)
		memcpy(hash, v, STORE_HASH_LEN);
	return err;
}
