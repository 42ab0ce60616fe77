/* trie_int.h — node layout shared by the trie's source files (private). */
#ifndef CANON_TRIE_INT_H
#define CANON_TRIE_INT_H

#include "trie/trie.h"

enum { NODE_LEAF = 1, NODE_EXT, NODE_BRANCH, NODE_HASH };

/* A node's reference as its parent encodes it: ref_len 32 means ref is the
 * Keccak-256 of the node's RLP; 1..31 means ref is the RLP itself (embedded);
 * 0 means not computed since the last change. A NODE_HASH node is a stub for
 * a node still in the db; resolving it fills it in place. */
struct trie_node {
	uint8_t type;
	uint8_t dirty;          /* changed since last written to the db */
	uint8_t ref_len;
	uint8_t ref[32];
	union {
		struct { struct trie_node *child[16]; uint8_t *val; size_t vlen; } br;
		struct { uint8_t *path; size_t plen; struct trie_node *child; } ext;
		struct { uint8_t *path; size_t plen; uint8_t *val; size_t vlen; } leaf;
	} u;
};

/* Loads a NODE_HASH stub from the db (no-op for other nodes). */
int trie_resolve(struct trie *t, struct trie_node *n);
/* Computes refs below and at n; with commit, writes hashed dirty nodes. */
int trie_hash_node(struct trie *t, struct trie_node *n, int commit);
/* RLP of n (its children's refs must be current) into t->scratch. */
int trie_encode_node(struct trie *t, const struct trie_node *n, size_t *len);
/* Splits a key into nibbles in t->nib (hashing it first for TRIE_SECURE). */
int trie_key_nibbles(struct trie *t, const uint8_t *key, size_t klen, const uint8_t **nib, size_t *nlen);
/* Splits bytes into nibbles: out needs 2*len bytes. */
void trie_to_nibbles(const uint8_t *in, size_t len, uint8_t *out);
/* Decodes a hex-prefix path into nibbles (out needs 2*len bytes). */
int trie_hp_decode(const uint8_t *hp, size_t len, uint8_t *out, size_t *nlen, int *is_leaf);

#endif
