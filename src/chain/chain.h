/* chain.h — one shard's chain: execution, validation, insertion, genesis.
 *
 * A struct chain owns one chain's LMDB environment (src/store) and keeps its
 * canonical head. Blocks only ever extend the head: FBFT makes a committed
 * block final, so there are no forks to choose between and no reorganisation.
 *
 * Execution (chain_apply_tx) is the value-transfer subset of Harmony's state
 * transition: same-shard transfers, and cross-shard debits that emit a CX
 * receipt for the destination shard. Every rule a transaction must satisfy
 * has its own reason code (enum chain_reason) so callers and tests can tell
 * them apart. Contract creation and staking transactions are refused (no EVM
 * and no staking engine yet); docs/chain.md lists every rule and each place
 * where canon departs from the Go node.
 *
 * Insertion (chain_insert) validates a block against its parent — shard,
 * number, parent hash, epoch, time, gas limit and gas used, transaction root,
 * and, after executing every transaction, the receipt root, bloom, outgoing
 * CX receipt root and state root — and writes it with everything it changes
 * (header, body, receipts, tx lookups under both hashes, canonical index,
 * trie nodes, flat account index, outgoing CX receipts, head pointer) in ONE
 * store write transaction: a crash leaves the previous head or the new one,
 * never half a block. The commit signature of a block (lastCommitSig of the
 * next one) is the consensus layer's to verify; insertion does not check it.
 *
 * The builder (chain_build) is the proposer's side: it executes candidate
 * transactions on top of the head, skips those that do not apply, and fills
 * in every root so that chain_insert accepts the result.
 *
 * Genesis (chain_genesis_*) is deterministic per network; localnet funds
 * accounts whose secret keys are keccak256("canon-localnet-account-<i>") and
 * names validator BLS keys derived with bls_keygen from documented seeds. */
#ifndef CANON_CHAIN_H
#define CANON_CHAIN_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "base/u256.h"
#include "core/core.h"

struct store;
struct store_txn;
struct state;
struct bls_secret_key;

/* ==== rules ============================================================== */

#define CHAIN_TX_GAS 21000ull             /* intrinsic gas of any transfer */
#define CHAIN_TX_DATA_ZERO_GAS 4ull       /* per zero byte of data */
#define CHAIN_TX_DATA_NONZERO_GAS 16ull   /* per non-zero byte (Istanbul) */
/* Largest accepted tx encoding (Harmony's MaxPoolTransactionDataSize). */
#define CHAIN_TX_MAX_SIZE (128u * 1024)
/* Most transactions one block may carry (keeps a block's write bounded). */
#define CHAIN_MAX_BLOCK_TXS 20000u

enum chain_reason {
	CHAIN_OK = 0,
	/* transactions */
	CHAIN_R_TX_FORM,        /* not a Harmony-form plain transaction */
	CHAIN_R_OVERSIZE,       /* encoding above CHAIN_TX_MAX_SIZE */
	CHAIN_R_CHAIN_ID,       /* chain ID neither the Harmony ID nor this shard's Ethereum ID */
	CHAIN_R_BAD_SIG,        /* no sender recovers (malformed, high-s, wrong key) */
	CHAIN_R_WRONG_SHARD,    /* shardID is not this chain's shard */
	CHAIN_R_TO_SHARD,       /* toShardID not a shard of the network */
	CHAIN_R_CREATE,         /* contract creation (no EVM yet) */
	CHAIN_R_NONCE_LOW,
	CHAIN_R_NONCE_HIGH,
	CHAIN_R_GAS_PRICE,      /* below the network's minimum gas price */
	CHAIN_R_INTRINSIC_GAS,  /* gas limit below the intrinsic gas */
	CHAIN_R_BLOCK_GAS,      /* gas limit above what the block has left */
	CHAIN_R_BALANCE,        /* balance below value + gasLimit * gasPrice */
	CHAIN_R_CODE_CALL,      /* recipient has code (calls need the EVM) */
	/* blocks */
	CHAIN_R_SHARD,          /* header shardID is not this chain's */
	CHAIN_R_NUMBER,         /* not head + 1 */
	CHAIN_R_PARENT,         /* parentHash is not the head's hash */
	CHAIN_R_EPOCH,
	CHAIN_R_TIME,           /* earlier than the parent */
	CHAIN_R_GAS_LIMIT,      /* not the network's block gas limit */
	CHAIN_R_GAS_USED,       /* above the limit, or not what execution used */
	CHAIN_R_TX_ROOT,
	CHAIN_R_RECEIPT_ROOT,
	CHAIN_R_BLOOM,
	CHAIN_R_OUT_ROOT,       /* outgoing CX receipt root */
	CHAIN_R_IN_ROOT,        /* incoming receipt root not empty */
	CHAIN_R_STATE_ROOT,
	CHAIN_R_UNSUPPORTED,    /* staking txs, incoming CX proofs, shard state, crosslinks, slashes */
	CHAIN_R_TOO_MANY_TXS,
	CHAIN_R_DUPLICATE_TX,   /* the same transaction twice in the chain */
	CHAIN_R_DECODE,         /* bytes that are not a block */
	CHAIN_R_COUNT
};

/* A short fixed message for a reason ("nonce too low", ...). */
const char *chain_reason_str(enum chain_reason r);

/* Why something was refused: the reason, the offending tx (or -1 for the
 * block itself) and a message with the details (expected vs found). */
struct chain_why {
	enum chain_reason reason;
	long tx_index;
	char msg[256];
};

/* Intrinsic gas of a transfer carrying data. */
uint64_t chain_intrinsic_gas(const uint8_t *data, size_t len);

/* Where fees go (reference §9): split among the network's fee collectors
 * (each share truncated), or burned when it has none. */
struct chain_fee_collector {
	uint8_t addr[CORE_ADDR_LEN];
	unsigned percent;
};
/* The collectors of a network (n may be 0: fees are burned). */
void chain_fee_collectors(const struct netparams *np, const struct chain_fee_collector **out,
                          size_t *n);

/* ==== execution ========================================================== */

/* The block being executed. */
struct chain_exec {
	const struct netparams *np;
	uint32_t shard;
	struct state *st;
	uint64_t gas_limit;       /* the block's */
	uint64_t gas_used;        /* so far */
	/* Outputs, one receipt per applied tx; CX receipts in block order. */
	struct receipt *receipts;
	size_t nreceipts, capreceipts;
	struct cx_receipt *cx;
	size_t ncx, capcx;
};

void chain_exec_init(struct chain_exec *x, const struct netparams *np, uint32_t shard,
                     struct state *st, uint64_t gas_limit);
void chain_exec_free(struct chain_exec *x);

/* Checks what needs no state: form, size, chain ID, shards, creation, gas
 * price, intrinsic gas; then recovers the sender (CHAIN_R_BAD_SIG). */
int chain_check_tx(const struct netparams *np, uint32_t shard, const struct tx *tx,
                   uint8_t sender[CORE_ADDR_LEN], struct chain_why *why);

/* The same, taking the sender from known_sender (when not NULL) instead of
 * recovering it: for a caller that recovered it before from the same
 * bytes (same tx hash). */
int chain_check_tx_hint(const struct netparams *np, uint32_t shard, const struct tx *tx,
                        const uint8_t *known_sender, uint8_t sender[CORE_ADDR_LEN],
                        struct chain_why *why);

/* Applies one tx whose static checks passed and whose sender is known. On
 * success appends its receipt (and CX receipt). On a rule failure returns
 * -CN_EINVAL with why filled and the state unchanged; on another error
 * (-CN_ENOMEM, -CN_EIO, -CN_ESTATE...) the state must be discarded. */
int chain_apply_tx(struct chain_exec *x, const struct tx *tx, const uint8_t sender[CORE_ADDR_LEN],
                   const uint8_t tx_hash[CORE_HASH_LEN], struct chain_why *why);

/* ==== genesis ============================================================ */

#define CHAIN_LOCALNET_ACCOUNTS 16
/* Localnet committee keys per shard. `canon localnet` runs four validator
 * processes per shard: process i (0..3) holds key i, and processes 0 and 1
 * also hold keys 4 and 5 (so 6 keys, quorum 5, and any one process down
 * leaves a quorum only if it holds one key: processes 2 and 3). */
#define CHAIN_LOCALNET_VALIDATORS 6

struct chain_alloc {
	uint8_t addr[CORE_ADDR_LEN];
	struct u256 balance;
	const uint8_t *code;                /* optional (borrowed): contract code */
	size_t code_len;
};

struct chain_genesis {
	const struct netparams *np;
	uint32_t shard;
	uint64_t time;
	struct chain_alloc *alloc;          /* owned */
	size_t nalloc;
	struct shard_state committee;       /* epoch 0 committees (owned) */
};

/* The genesis of a network's shard (localnet: funded accounts and
 * validator keys; others: see docs/chain.md). */
int chain_genesis_default(struct chain_genesis *g, const char *network, uint32_t shard);
void chain_genesis_free(struct chain_genesis *g);
/* The secret key of localnet account i (< CHAIN_LOCALNET_ACCOUNTS). */
int chain_localnet_account(unsigned i, uint8_t secret[32], uint8_t addr[CORE_ADDR_LEN]);
/* The BLS secret key of localnet validator i (< CHAIN_LOCALNET_VALIDATORS)
 * of a shard: bls_keygen with IKM keccak256("canon-localnet-bls-<shard>-<i>"). */
int chain_localnet_bls(uint32_t shard, unsigned i, struct bls_secret_key *sk);

/* ==== the chain ========================================================== */

struct chain;

/* Writes the genesis block into an empty store (-CN_EEXIST if the store
 * already holds a chain; chain_open then checks it is the same genesis). */
int chain_init(struct store *st, const struct chain_genesis *g, uint8_t hash[CORE_HASH_LEN]);

/* Opens the chain in st (which the chain borrows; close the chain first).
 * -CN_ENOTFOUND if the store holds no chain, -CN_EINVAL if it holds another
 * network's or shard's. */
int chain_open(struct chain **out, struct store *st, const struct netparams *np, uint32_t shard);
void chain_close(struct chain *c);
/* Sender recovery (an ECDSA recovery, most of a transfer's cost) is
 * skipped for txs whose sender lookup(ctx, tx hash, sender) knows (returns
 * 0): the node's pool recovered it when it admitted the same bytes. Used by
 * chain_validate, chain_insert and chain_build. fn NULL: always recover. */
void chain_set_sender_lookup(struct chain *c,
                             int (*fn)(void *ctx, const uint8_t tx_hash[CORE_HASH_LEN],
                                       uint8_t sender[CORE_ADDR_LEN]),
                             void *ctx);

const struct netparams *chain_params(const struct chain *c);
uint32_t chain_shard(const struct chain *c);
/* The head header (borrowed until the next insert) and its hash. */
const struct header *chain_head(const struct chain *c);
void chain_head_hash(const struct chain *c, uint8_t out[CORE_HASH_LEN]);

/* Validates and inserts a block that extends the head. -CN_EINVAL with why
 * filled for an invalid block (nothing written); other negative codes for
 * storage failures (nothing written either). */
int chain_insert(struct chain *c, const struct block *b, struct chain_why *why);
/* The same, storing with the block (in the same write) its seal: bytes
 * opaque to the chain, which the node uses for the block's commit
 * certificate. seal may be NULL. */
int chain_insert_sealed(struct chain *c, const struct block *b, const uint8_t *seal,
                        size_t seal_len, struct chain_why *why);
/* The seal stored with block number (caller frees); -CN_ENOTFOUND if none. */
int chain_seal_at(struct chain *c, uint64_t number, uint8_t **out, size_t *len);

/* Validates a block that would extend the head exactly as chain_insert
 * does (header, every tx, every root), executing it on a scratch copy of
 * the head state: nothing is written and the head's cached state is not
 * touched. Same returns as chain_insert. */
int chain_validate(struct chain *c, const struct block *b, struct chain_why *why);

/* What a proposer fills in; the builder does the rest. */
struct chain_build_opts {
	uint8_t coinbase[CORE_ADDR_LEN];
	uint64_t time;          /* 0: parent time + block time */
	uint64_t view_id;
};

/* Builds a block on top of the head from candidate txs (copied; the caller
 * keeps its own). Txs that do not apply are left out; if skipped is given,
 * skipped[i] gets the reason for txs[i] (CHAIN_OK when included). The block
 * is not inserted. */
int chain_build(struct chain *c, const struct chain_build_opts *o, const struct tx *txs,
                size_t ntxs, struct block *out, enum chain_reason *skipped);

/* ---- reads ---------------------------------------------------------------- */

/* The canonical block hash at number. -CN_ENOTFOUND past the head. */
int chain_hash_at(struct chain *c, uint64_t number, uint8_t out[CORE_HASH_LEN]);
/* The canonical block at number (decoded; block_free it). */
int chain_block_at(struct chain *c, uint64_t number, struct block *out);
/* A block by hash (canonical or not: only canonical blocks are stored). */
int chain_block_by_hash(struct chain *c, const uint8_t hash[CORE_HASH_LEN], struct block *out);
/* The canonical header at number (header_free it). */
int chain_header_at(struct chain *c, uint64_t number, struct header *out);
/* The encoded block (as block_encode gives it) at number; caller frees. */
int chain_block_rlp_at(struct chain *c, uint64_t number, uint8_t **out, size_t *len);
/* The receipts of a block by hash (caller frees each and the array). */
int chain_receipts(struct chain *c, const uint8_t hash[CORE_HASH_LEN], struct receipt **out,
                   size_t *n);

/* Readers inside a transaction the caller holds: RPC readers open their own
 * read-only snapshot per request (often in another process) and read the
 * chain's records through these, so the record layout stays private here. */
int chain_txn_head_hash(struct store_txn *t, uint8_t out[CORE_HASH_LEN]);
int chain_txn_receipts(struct store_txn *t, const uint8_t block_hash[CORE_HASH_LEN],
                       struct receipt **out, size_t *n);
/* Where a tx is (its Harmony or Ethereum hash). */
int chain_tx_lookup(struct chain *c, const uint8_t tx_hash[CORE_HASH_LEN],
                    uint8_t block_hash[CORE_HASH_LEN], uint64_t *number, uint32_t *index);
/* Outgoing CX receipts this shard emitted at block number to shard `to`. */
int chain_cx_outgoing(struct chain *c, uint32_t to, uint64_t number, struct cx_receipt **out,
                      size_t *n);
/* Account reads at the head (from the flat index). */
int chain_balance(struct chain *c, const uint8_t addr[CORE_ADDR_LEN], struct u256 *out);
int chain_nonce(struct chain *c, const uint8_t addr[CORE_ADDR_LEN], uint64_t *out);
/* Entries in one sub-database (for `canon chain info`). */
int chain_count(struct chain *c, int db, size_t *out);

/* Full consistency check of what is committed: every canonical number up to
 * the head has its header, body and receipts, headers chain by parent hash,
 * the tx lookups of each block point back to it, and the head's state root
 * is the flat index's. Used after crashes; why says what is wrong. */
int chain_verify_db(struct chain *c, struct chain_why *why);

/* ==== import / export ==================================================== */

/* Reads one RLP item (a block) from f into *buf (grown as needed).
 * 0 with *len set; 1 at a clean end of file; -CN_ETRUNC for a file that ends
 * inside an item, -CN_ELIMIT above BLOCK_MAX_SIZE, -CN_EINVAL for bytes that
 * are not an RLP list header. */
int chain_read_item(FILE *f, uint8_t **buf, size_t *cap, size_t *len);

struct chain_import_stats {
	uint64_t imported, skipped;   /* skipped: already canonical */
	uint64_t item;                /* 1-based index of the item that failed */
};

/* Imports a stream of encoded blocks. Blocks already canonical (same hash at
 * that number) are skipped; every other block must extend the head. Stops at
 * the first bad item: blocks before it stay committed (each one whole and
 * valid), the bad one leaves no trace. why/stats say where and why. */
int chain_import(struct chain *c, FILE *f, struct chain_import_stats *stats,
                 struct chain_why *why);

/* ==== test data ========================================================== */

/* A signed Harmony-form transfer (chain ID: the network's Harmony ID, gas
 * limit 21000, the network's minimum gas price). */
int chain_sign_transfer(struct tx *tx, const struct netparams *np, uint32_t shard,
                        uint32_t to_shard, const uint8_t secret[32], uint64_t nonce,
                        const uint8_t to[CORE_ADDR_LEN], const struct u256 *value);

/* Builds and inserts nblocks blocks of ntxs signed transfers each from the
 * localnet funded accounts (localnet chains only) to recipients drawn from
 * seed; about cross_pct percent of them go to another shard. For tests,
 * benchmarks and `canon chain gen`. */
int chain_gen_blocks(struct chain *c, unsigned nblocks, unsigned ntxs, unsigned cross_pct,
                     uint64_t seed, struct chain_why *why);

#endif
