/* node_int.h — what the node module's files share and nobody else sees. */
#ifndef CANON_NODE_INT_H
#define CANON_NODE_INT_H

#include <stddef.h>
#include <stdint.h>

#include "consensus/fbft.h"
#include "node/node.h"

#define NODE_SIG_LEN 96                 /* BLS aggregate, compressed G2 */
#define NODE_SYNC_VERSION 1
#define NODE_SYNC_MAX_BLOCKS 64         /* per response */
#define NODE_SYNC_MAX_BYTES (8u << 20)  /* per response (stream limit is 16 MiB) */
#define NODE_PERSIST_MAGIC "CNVR"       /* canon vote record */
#define NODE_PERSIST_VERSION 1
/* Tx topic batch: tag || count BE2 || count x (len BE4 || tx). No tx
 * encoding starts with 0x00 (RLP lists start at 0xc0, typed txs at 0x01). */
#define NODE_TX_BATCH_TAG 0x00
#define NODE_TX_BATCH_MAX 1024
#define NODE_TX_BATCH_BYTES (1u << 20)

/* Seal: a block's commit certificate without what the block itself says
 * (height = its number, hash = its header hash):
 *   view BE8 || bitmap_len BE2 || bitmap || sig (96). */
size_t node_seal_len(uint32_t nkeys);
void node_seal_encode(const struct fbft_cert *c, uint32_t nkeys, uint8_t *out);
/* -CN_EINVAL unless the bitmap is exactly (nkeys+7)/8 bytes with no bit
 * set past nkeys. */
int node_seal_decode(const uint8_t *p, size_t len, uint32_t nkeys, uint64_t height,
                     const uint8_t hash[32], struct fbft_cert *c);

/* Certified block (the NODE_TOPIC_BLOCK payload and the unit of a sync
 * response): block_len BE4 || block (block_encode) || seal. */
int node_cblock_split(const uint8_t *p, size_t len, const uint8_t **block, size_t *block_len,
                      const uint8_t **seal, size_t *seal_len);

/* Sync request: version (1) || from BE8 || max BE4. */
#define NODE_SYNC_REQ_LEN 13
void node_sync_req_encode(uint64_t from, uint32_t max, uint8_t out[NODE_SYNC_REQ_LEN]);
int node_sync_req_decode(const uint8_t *p, size_t len, uint64_t *from, uint32_t *max);

/* The vote record file (fbft_persist), bound to the chain's genesis. *lock
 * gets the malloc'd lock block (ps->lock_block points to it). -CN_ENOTFOUND
 * if there is no file, -CN_EVERIFY if it is damaged or another chain's. */
int node_persist_write(const char *path, const uint8_t genesis[32], const struct fbft_persist *ps,
                       int do_fsync);
int node_persist_read(const char *path, const uint8_t genesis[32], struct fbft_persist *ps,
                      uint8_t **lock);

#endif
