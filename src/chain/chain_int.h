/* chain_int.h — what the chain module's files share and nobody else sees. */
#ifndef CANON_CHAIN_INT_H
#define CANON_CHAIN_INT_H

#include "chain/chain.h"

/* Fills why (if given) with the reason, tx index and a formatted detail;
 * returns -CN_EINVAL. */
int chain_reject(struct chain_why *why, enum chain_reason r, long tx, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Meta keys of the chain's records in STORE_META. */
#define CHAIN_META_HEAD "chain-head"
#define CHAIN_META_GENESIS "chain-genesis"
#define CHAIN_META_NETWORK "chain-network"
#define CHAIN_META_SHARD "chain-shard"

/* The stored receipts of a block: one RLP list of consensus encodings. */
int chain_receipts_encode(const struct receipt *r, size_t n, uint8_t **out, size_t *len);
int chain_receipts_decode(const uint8_t *p, size_t len, struct receipt **out, size_t *n);

/* The store a chain borrows (for read.c). */
struct store *chain_store_(struct chain *c);

#endif
