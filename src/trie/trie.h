/* trie.h — Ethereum's Merkle-Patricia trie.
 *
 * The trie maps byte-string keys to byte-string values and commits to the
 * whole map with one 32-byte root hash; state, storage, transaction and
 * receipt roots are all built with it. Keys are walked as nibbles (4-bit
 * digits). Nodes are leaves [hex-prefix(path, leaf), value], extensions
 * [hex-prefix(path), child] and 17-slot branches [child0..child15, value];
 * a child is referenced by the Keccak-256 of its RLP, or embedded as its RLP
 * when that is shorter than 32 bytes. The root is always hashed; the empty
 * trie's root is keccak256(rlp("")) = 56e81f…b421.
 *
 * In memory the trie is a tree of nodes. A modified node is marked dirty and
 * loses its cached hash; hashes are recomputed lazily, only along modified
 * paths, by trie_root(). trie_commit() also writes every dirty node that is
 * referenced by hash into a struct trie_db (a key-value store addressed by
 * node hash); a trie opened from a root hash loads nodes from the store only
 * when a lookup reaches them. Putting an empty value deletes the key, as in
 * Ethereum.
 *
 * The secure variant (TRIE_SECURE) uses keccak256(key) as the path, which
 * keeps the tree balanced whatever the keys; the state trie works this way.
 *
 * Proofs: trie_prove() lists the RLP of every hashed node on the path to a
 * key; trie_verify_proof() checks such a list against a root hash and either
 * yields the value or proves the key absent. The verifier reads untrusted
 * bytes: any malformed or inconsistent proof is an error, never a crash.
 *
 * Iteration follows key order: trie_iter_next()/trie_iter_prev() step to the
 * smallest key above / largest key below the iterator's position. In a
 * secure trie the keys iterated (and sought) are the hashed paths, since the
 * trie does not keep the keys they came from. */
#ifndef CANON_TRIE_H
#define CANON_TRIE_H

#include <stddef.h>
#include <stdint.h>

#define TRIE_HASH_LEN 32
/* Longest key accepted (-CN_ELIMIT beyond). Walks recurse once per node on a
 * key's path, up to two per key byte; Ethereum keys are 32 bytes or less. */
#define TRIE_MAX_KEY_LEN 1024

/* keccak256(0x80), the root of the empty trie. */
extern const uint8_t trie_empty_root[TRIE_HASH_LEN];

/* Node storage addressed by hash. get() returns bytes borrowed from the store
 * that stay valid until the next call on it (-CN_ENOTFOUND if absent); the
 * trie copies what it keeps. put() stores a node; storing the same hash twice
 * stores the same bytes. */
struct trie_db {
	void *ctx;
	int (*get)(void *ctx, const uint8_t hash[TRIE_HASH_LEN], const uint8_t **val, size_t *len);
	int (*put)(void *ctx, const uint8_t hash[TRIE_HASH_LEN], const uint8_t *val, size_t len);
};

/* An in-memory struct trie_db: a hash table of node encodings. */
struct trie_memdb;
int trie_memdb_new(struct trie_memdb **out);
void trie_memdb_free(struct trie_memdb *m);
/* A struct trie_db view of it (borrowing m). */
struct trie_db trie_memdb_db(struct trie_memdb *m);
size_t trie_memdb_count(const struct trie_memdb *m);

enum {
	TRIE_SECURE = 1 << 0,   /* paths are keccak256(key) */
};

struct trie_node;

struct trie {
	struct trie_node *root;
	struct trie_db db;          /* db.get NULL: purely in memory */
	unsigned flags;
	uint8_t *scratch;           /* node encoding buffer */
	size_t scratch_cap;
	uint8_t *nib;               /* key-to-nibbles buffer */
	size_t nib_cap;
};

/* Opens a trie at a root hash (NULL or trie_empty_root for an empty trie).
 * db may be NULL for a trie that lives only in memory; a non-empty root then
 * cannot be opened. Nodes are loaded lazily, so a wrong root shows up as
 * -CN_ENOTFOUND on first access. */
int trie_init(struct trie *t, const struct trie_db *db, const uint8_t *root, unsigned flags);
void trie_free(struct trie *t);

/* Looks a key up. The value is borrowed from the trie and stays valid until
 * the next modification. -CN_ENOTFOUND if absent. */
int trie_get(struct trie *t, const uint8_t *key, size_t klen, const uint8_t **val, size_t *vlen);
/* Inserts or replaces; an empty value deletes. When a put or delete fails
 * with anything but -CN_ELIMIT (a db read or an allocation failed midway),
 * the trie may be left half-updated: discard it and reopen it from the last
 * committed root. */
int trie_put(struct trie *t, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen);
/* Deletes; deleting an absent key is not an error. */
int trie_delete(struct trie *t, const uint8_t *key, size_t klen);

/* The root hash (hashes only what changed since the last call). */
int trie_root(struct trie *t, uint8_t out[TRIE_HASH_LEN]);
/* The root hash, after writing every new node to the trie's db. */
int trie_commit(struct trie *t, uint8_t out[TRIE_HASH_LEN]);
/* Frees every node held in memory, keeping only the root hash; later
 * accesses load nodes from the db again. Bounds the memory of a long-lived
 * trie. -CN_ESTATE if there are uncommitted changes. */
int trie_evict(struct trie *t);

struct trie_blob {
	const uint8_t *ptr;
	size_t len;
};

/* ---- list roots --------------------------------------------------------- */

/* The key of list item i: its index as an RLP integer (0 is 0x80). Writes at
 * most 9 bytes; returns the length. */
size_t trie_index_key(uint64_t i, uint8_t out[9]);
/* The root of the trie mapping trie_index_key(i) to items[i]: the
 * transactions and receipts roots of a block header (go-ethereum's and
 * Harmony's DeriveSha). */
int trie_list_root(const struct trie_blob *items, size_t n, uint8_t out[TRIE_HASH_LEN]);

/* ---- proofs ------------------------------------------------------------- */

/* A proof: the RLP of each hashed node from the root towards the key. */
struct trie_proof {
	uint8_t **nodes;
	size_t *lens;
	size_t n;
};

/* Builds the proof for key (present or absent). */
int trie_prove(struct trie *t, const uint8_t *key, size_t klen, struct trie_proof *out);
void trie_proof_free(struct trie_proof *p);
/* The proof as one RLP list of byte strings (the form exchanged on the
 * wire), in a malloc'd buffer. */
int trie_proof_encode(const struct trie_proof *p, uint8_t **out, size_t *out_len);

/* Verifies a proof for key (the raw path: hash the key first for a secure
 * trie) against root. Returns 0 with the value (pointing into the proof's
 * bytes) if the key is present, -CN_ENOTFOUND if the proof shows it absent,
 * -CN_EVERIFY if a node is missing or does not hash as referenced, and
 * -CN_EINVAL/-CN_ENONCANON/-CN_ETRUNC for malformed nodes. The nodes may be in
 * any order; unused nodes are ignored. */
int trie_verify_proof(const uint8_t root[TRIE_HASH_LEN], const uint8_t *key, size_t klen,
                      const struct trie_blob *nodes, size_t n,
                      const uint8_t **val, size_t *vlen);
/* The same with the proof as one RLP list of byte strings. */
int trie_verify_proof_rlp(const uint8_t root[TRIE_HASH_LEN], const uint8_t *key, size_t klen,
                          const uint8_t *proof, size_t proof_len,
                          const uint8_t **val, size_t *vlen);

/* ---- ordered iteration -------------------------------------------------- */

struct trie_iter {
	struct trie *t;
	uint8_t *key;               /* current key (bytes) */
	size_t klen;
	const uint8_t *val;         /* current value, borrowed from the trie */
	size_t vlen;
	int at_start;               /* before the first key */
	uint8_t *nib;               /* working nibble path */
	size_t ncap;
};

/* An iterator positioned before the first key. Modifying the trie
 * invalidates val but not the position (the key is copied). */
void trie_iter_init(struct trie_iter *it, struct trie *t);
void trie_iter_free(struct trie_iter *it);
/* Positions the iterator at key (which need not be present). */
int trie_iter_seek(struct trie_iter *it, const uint8_t *key, size_t klen);
/* Moves to the smallest key above / largest key below the position; fills
 * key/klen/val/vlen. -CN_ENOTFOUND when there is none (position unchanged). */
int trie_iter_next(struct trie_iter *it);
int trie_iter_prev(struct trie_iter *it);

#endif
