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
/* Prefix of a block's seal record: "chain-seal" || number BE8 -> seal. */
#define CHAIN_META_SEAL "chain-seal"

/* The steps of insertion that validation (validate.c) repeats without
 * writing: header checks against the head, sender recovery (*out is
 * malloc'd), execution of every tx (hashes[i] gets tx i's hash), the
 * receipts' bloom, and a root mismatch message. */
int chain_check_static_(const struct chain *c, const struct block *b, struct chain_why *why);
int chain_recover_senders_(const struct chain *c, const struct block *b,
                           uint8_t (**out)[CORE_ADDR_LEN], struct chain_why *why);
int chain_execute_(struct chain *c, struct chain_exec *x, struct store_txn *t, const struct block *b,
                   const uint8_t (*senders)[CORE_ADDR_LEN], uint8_t (*hashes)[32],
                   struct chain_why *why);
void chain_bloom_of_(const struct chain_exec *x, uint8_t bloom[CORE_BLOOM_LEN]);
int chain_hexcmp_reject_(struct chain_why *why, enum chain_reason r, const uint8_t *want,
                         const uint8_t *got);

/* The stored receipts of a block: one RLP list of consensus encodings. */
int chain_receipts_encode(const struct receipt *r, size_t n, uint8_t **out, size_t *len);
int chain_receipts_decode(const uint8_t *p, size_t len, struct receipt **out, size_t *n);

/* The store a chain borrows (for read.c). */
struct store *chain_store_(struct chain *c);

#endif
