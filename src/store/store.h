/* store.h — one chain's key-value database (LMDB).
 *
 * Every chain (the beacon chain and each shard) keeps its data in one LMDB
 * environment under <datadir>/<network>/shard<N>/. Inside it, named
 * sub-databases separate the kinds of records (enum store_db), so keys of one
 * kind never collide with another's and each can be iterated on its own.
 *
 * All access goes through transactions. A read transaction sees one
 * consistent snapshot and never blocks the writer or other readers (LMDB's
 * MVCC), so RPC threads and other processes read while the chain writer
 * inserts blocks. A write transaction carries everything one block changes —
 * header, body, receipts, lookups, trie nodes, markers — and either commits
 * all of it or nothing: a crash never leaves half a block.
 *
 * The map (LMDB's fixed-size address window) starts at store_opts.map_size
 * and grows on demand. LMDB cannot grow the map inside a write transaction,
 * so a write transaction keeps a log of its puts and deletes; when LMDB
 * reports the map full, the store aborts, doubles the map and replays the
 * log in a fresh transaction, invisibly to the caller. Growing needs every
 * read transaction of this process to be finished, so a thread must not keep
 * a read transaction open while it writes.
 *
 * The metadata sub-database holds the schema version (STORE_SCHEMA_VERSION);
 * opening a database written under another version fails with
 * -CN_EUNSUPPORTED and a message naming both versions, rather than misreading
 * its records. A read-only open (another process reading a running node's
 * database) never creates or changes anything. */
#ifndef CANON_STORE_H
#define CANON_STORE_H

#include <stddef.h>
#include <stdint.h>

/* Bump when the layout of any record changes incompatibly. */
#define STORE_SCHEMA_VERSION 1

enum store_db {
	STORE_HEADERS,      /* block hash -> header RLP */
	STORE_CANON,        /* number (8 bytes BE) -> canonical block hash */
	STORE_BODIES,       /* block hash -> body RLP */
	STORE_RECEIPTS,     /* block hash -> receipts RLP */
	STORE_TXLOOKUP,     /* tx hash -> (block hash, index) */
	STORE_TRIE,         /* node hash -> trie node RLP */
	STORE_CODE,         /* code hash -> contract code */
	STORE_CX_OUT,       /* (to shard, number) -> outgoing CX receipts */
	STORE_CX_SPENT,     /* (from shard, number) -> spent marker */
	STORE_CROSSLINKS,   /* (shard, number) -> crosslink RLP */
	STORE_SHARD_STATES, /* epoch (8 bytes BE) -> shard state RLP */
	STORE_STAKING,      /* staking bookkeeping (validator lists, snapshots) */
	STORE_META,         /* schema version, head pointers, chain config */
	STORE_DB_COUNT
};

/* Name of a sub-database as stored in the environment ("headers", …). */
const char *store_db_name(enum store_db db);

struct store;
struct store_txn;

struct store_opts {
	int readonly;          /* open with MDB_RDONLY: no writes, nothing created */
	size_t map_size;       /* initial map size in bytes; 0 picks 256 MiB */
	size_t max_map_size;   /* growth stops here (-CN_ELIMIT); 0 = 1 TiB */
	unsigned max_readers;  /* concurrent read transactions; 0 picks 256 */
	char *errmsg;          /* optional: a human message on failure */
	size_t errmsg_cap;
};

/* Opens (creating it when not read-only) the environment in directory path.
 * opts may be NULL for defaults. Fails with -CN_ENOTFOUND when a read-only
 * open finds no database, -CN_EUNSUPPORTED on a schema version mismatch,
 * -CN_EIO for other LMDB or file system errors. */
int store_open(struct store **out, const char *path, const struct store_opts *opts);
/* Path of one chain's environment: <datadir>/<network>/shard<N>.
 * -CN_ERANGE when it does not fit in cap. */
int store_chain_path(char *out, size_t cap, const char *datadir, const char *network,
                     uint32_t shard);
/* store_open on store_chain_path(), creating the parent directories. */
int store_open_chain(struct store **out, const char *datadir, const char *network,
                     uint32_t shard, const struct store_opts *opts);
/* Closes the environment. Every transaction must be finished first. */
void store_close(struct store *s);

/* Current map size in bytes (grows over time). */
size_t store_map_size(const struct store *s);
/* Schema version found in the database. */
uint32_t store_schema_version(const struct store *s);

/* Begins a transaction. Only one write transaction is open at a time (LMDB
 * serialises writers, across processes too); a second writer waits. A write
 * on a read-only store is -CN_ESTATE. */
int store_begin(struct store *s, int write, struct store_txn **out);
/* Commits a write transaction (or ends a read one) and frees it either way. */
int store_commit(struct store_txn *t);
/* Drops the transaction and every change it made. NULL is ignored. */
void store_abort(struct store_txn *t);

/* Looks up a key. *val points into the database and stays valid until the
 * transaction ends or, in a write transaction, until its next change.
 * -CN_ENOTFOUND when absent. Keys are 1..511 bytes (-CN_EINVAL otherwise). */
int store_get(struct store_txn *t, enum store_db db, const void *key, size_t klen,
              const uint8_t **val, size_t *vlen);
/* Inserts or replaces. -CN_ESTATE in a read transaction. */
int store_put(struct store_txn *t, enum store_db db, const void *key, size_t klen,
              const void *val, size_t vlen);
/* Deletes a key; deleting an absent key is not an error. */
int store_del(struct store_txn *t, enum store_db db, const void *key, size_t klen);

/* Calls fn for every key starting with prefix (plen 0: every key), in key
 * order. fn returns 0 to go on, >0 to stop (store_iterate then returns 0) or
 * <0 to stop with that error. fn must not change the database. */
typedef int (*store_iter_fn)(void *ctx, const uint8_t *key, size_t klen,
                             const uint8_t *val, size_t vlen);
int store_iterate(struct store_txn *t, enum store_db db, const void *prefix, size_t plen,
                  store_iter_fn fn, void *ctx);

/* Number of entries in a sub-database. */
int store_count(struct store_txn *t, enum store_db db, size_t *count);

/* ---- schema: the key layouts of one chain's records ----------------------
 *
 * Numbers in keys are big-endian so that LMDB's byte order is numeric order
 * and a prefix walk (store_iterate) visits one shard's records by height.
 * Values are opaque RLP from src/core except where a layout is given here. */

#define STORE_HASH_LEN 32
#define STORE_TXLOOKUP_LEN 44     /* block hash, number (BE8), index (BE4) */
#define STORE_TXLOOKUP_SENDER_LEN 64  /* the same and the sender (20 bytes) */

/* Key of a (shard, number) record: shard BE4 || number BE8. Used by
 * STORE_CX_OUT (destination shard), STORE_CX_SPENT (source shard) and
 * STORE_CROSSLINKS. */
void store_key_shard_num(uint8_t out[12], uint32_t shard, uint64_t number);
/* Key of a number: BE8 (STORE_CANON, STORE_SHARD_STATES by epoch). */
void store_key_num(uint8_t out[8], uint64_t number);

/* Canonical chain: number -> block hash. */
int store_canon_put(struct store_txn *t, uint64_t number, const uint8_t hash[STORE_HASH_LEN]);
int store_canon_get(struct store_txn *t, uint64_t number, uint8_t hash[STORE_HASH_LEN]);
int store_canon_del(struct store_txn *t, uint64_t number);

/* Transaction lookup: tx hash -> where the tx sits. A block's txs are
 * indexed under both their Harmony and their Ethereum hash. */
int store_txlookup_put(struct store_txn *t, const uint8_t tx_hash[STORE_HASH_LEN],
                       const uint8_t block_hash[STORE_HASH_LEN], uint64_t number, uint32_t index);
int store_txlookup_get(struct store_txn *t, const uint8_t tx_hash[STORE_HASH_LEN],
                       uint8_t block_hash[STORE_HASH_LEN], uint64_t *number, uint32_t *index);
/* The sender src/chain stored with the lookup (blocks inserted before it
 * did so have none: -CN_ENOTFOUND, as for an unknown hash). */
int store_txlookup_sender(struct store_txn *t, const uint8_t tx_hash[STORE_HASH_LEN],
                          uint8_t sender[20]);

/* Named 32-byte pointers in STORE_META ("head_block", "head_header", …).
 * Names are 1..64 bytes; -CN_EINVAL otherwise. */
int store_head_put(struct store_txn *t, const char *name, const uint8_t hash[STORE_HASH_LEN]);
int store_head_get(struct store_txn *t, const char *name, uint8_t hash[STORE_HASH_LEN]);

/* Trie node storage. The trie (src/trie/trie.h) reads and writes nodes
 * through a struct trie_db of two callbacks; the store sits below the trie,
 * so instead of including its header it offers two functions of exactly that
 * shape over STORE_TRIE, with the transaction as context:
 *
 *     struct trie_db db = {txn, store_trie_get, store_trie_put};
 *
 * Nodes written in a write transaction commit or vanish with it. */
int store_trie_get(void *txn, const uint8_t hash[32], const uint8_t **val, size_t *len);
int store_trie_put(void *txn, const uint8_t hash[32], const uint8_t *val, size_t len);

#endif
