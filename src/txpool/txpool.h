/* txpool.h — the pool of plain transactions waiting for a block.
 *
 * RPC threads and the gossip handler hand signed transactions to the pool;
 * the block proposer takes the executable ones out in a good order; after
 * each block the node tells the pool, which forgets what was included and
 * re-checks the rest. The pool decides admission with the rules of the Go
 * node's core/tx_pool.go and answers every refusal with a reason code and a
 * geth-compatible string that RPC returns as is.
 *
 * Each sender's transactions are kept in nonce order. The ones that form an
 * unbroken run starting at the account's state nonce are pending
 * (executable); the others wait in the queue until the gap fills or the state
 * nonce catches up. A transaction with the nonce of one already held replaces
 * it only when its gas price is higher by the configured bump (10 % by
 * default). Limits: an account may hold account_queue queued transactions
 * (more are cut from the highest nonce down); when the pending total exceeds
 * global_slots, accounts holding more than account_slots pending lose their
 * highest nonces first (the Go node's fairness rule); when queued
 * transactions exceed global_queue the cheapest queued ones go; and the pool
 * never holds more than global_slots + global_queue transactions: a newcomer
 * to a full pool must pay more than the cheapest one there, which it evicts.
 * There are no "local" accounts exempt from these rules.
 *
 * The pool keeps Harmony-form transactions only (what blocks carry). An
 * Ethereum legacy transaction signed with this shard's Ethereum chain ID is
 * converted on entry (tx_from_eth) and can be found by either hash; typed
 * (EIP-2930/1559) transactions are refused, as in Harmony.
 *
 * Account state comes through struct txpool_state_reader, so the pool
 * depends on no chain or state code: it reads an account's nonce and
 * balance when the account first appears and again at each txpool_reset().
 *
 * Threads: every function takes the pool's one mutex, so any thread may
 * call any of them. The state reader and the drop callback run with the
 * mutex held and must not call back into the pool. Transactions handed out
 * (struct txpool_tx) are reference counted and stay valid, unchanged, after
 * the pool drops them, until the caller releases its reference. */
#ifndef CANON_TXPOOL_H
#define CANON_TXPOOL_H

#include <stddef.h>
#include <stdint.h>

#include "base/u256.h"
#include "core/core.h"

/* Why a transaction was refused (txpool_add) or dropped (drop callback). */
enum txpool_reason {
	TXPOOL_OK = 0,
	TXPOOL_ERR_DECODE,              /* raw bytes are not a transaction */
	TXPOOL_ERR_TX_TYPE,             /* typed (EIP-2718) transaction */
	TXPOOL_ERR_CHAIN_ID,            /* not this network/shard's chain ID */
	TXPOOL_ERR_KNOWN,               /* already in the pool */
	TXPOOL_ERR_SHARD,               /* shardID is not the node's shard */
	TXPOOL_ERR_TO_SHARD,            /* toShardID beyond the network's shards */
	TXPOOL_ERR_OVERSIZED,           /* encoding >= max_tx_size */
	TXPOOL_ERR_GAS_LIMIT,           /* gas limit above the block gas limit */
	TXPOOL_ERR_INVALID_SENDER,      /* signature does not recover */
	TXPOOL_ERR_UNDERPRICED,         /* gas price below the minimum */
	TXPOOL_ERR_NONCE_TOO_LOW,       /* nonce below the account's state nonce */
	TXPOOL_ERR_INSUFFICIENT_FUNDS,  /* balance < gasLimit * gasPrice + value */
	TXPOOL_ERR_INTRINSIC_GAS,       /* gas limit below the intrinsic gas */
	TXPOOL_ERR_REPLACE_UNDERPRICED, /* same nonce held, price not bumped enough */
	TXPOOL_ERR_ACCOUNT_LIMIT,       /* sender's queue is full */
	TXPOOL_ERR_POOL_FULL,           /* pool full and not dearer than the cheapest */
	TXPOOL_ERR_STATE,               /* the state reader failed */
	TXPOOL_ERR_NOMEM,
	/* Reasons that only the drop callback reports. */
	TXPOOL_DROP_REPLACED,           /* replaced by a dearer same-nonce tx */
	TXPOOL_DROP_FAIRNESS,           /* pending cut by the global fairness rule */
	TXPOOL_DROP_GLOBAL_QUEUE,       /* queued cut by the global queue limit */
	TXPOOL_DROP_REMOVED,            /* txpool_remove() */
	TXPOOL_DROP_EXPIRED,            /* queued, sender silent for lifetime_ms */
	TXPOOL_REASON_COUNT
};

/* The fixed message of a reason ("nonce too low", …); never NULL. */
const char *txpool_reason_str(enum txpool_reason r);

/* Where the pool reads account state. Both return 0 or a negative -CN_E…
 * code; an account that does not exist has nonce 0 and balance 0. */
struct txpool_state_reader {
	void *ctx;
	int (*get_nonce)(void *ctx, const uint8_t addr[CORE_ADDR_LEN], uint64_t *nonce);
	int (*get_balance)(void *ctx, const uint8_t addr[CORE_ADDR_LEN], struct u256 *balance);
};

/* A transaction held by the pool, as handed out. Read-only. */
struct txpool_tx {
	struct tx tx;                       /* Harmony form */
	uint8_t hash[CORE_HASH_LEN];        /* Harmony hash (receipts, hmy_) */
	uint8_t eth_hash[CORE_HASH_LEN];    /* Ethereum hash (eth_) */
	uint8_t sender[CORE_ADDR_LEN];
	uint8_t *raw;                       /* Harmony network encoding */
	size_t raw_len;
	struct u256 cost;                   /* gasLimit * gasPrice + value */
	uint64_t seq;                       /* arrival order within this pool */
};

struct txpool_tx *txpool_tx_ref(struct txpool_tx *t);
/* Releases one reference (NULL is fine). */
void txpool_tx_unref(struct txpool_tx *t);
/* Releases every element of an array the pool returned, then the array. */
void txpool_txs_release(struct txpool_tx **v, size_t n);

struct txpool_config {
	const struct netparams *net;
	uint32_t shard_id;
	struct u256 min_gas_price;          /* PriceLimit */
	unsigned price_bump;                /* percent a replacement must add */
	uint64_t block_gas_limit;           /* txs above it are refused */
	size_t max_tx_size;                 /* encodings this long or longer are refused */
	size_t account_slots;               /* pending per account kept under pressure */
	size_t global_slots;                /* pending in all */
	size_t account_queue;               /* queued per account */
	size_t global_queue;                /* queued in all */
	uint64_t lifetime_ms;               /* queued txs of a silent sender expire */
	/* Called (mutex held) for every transaction the pool lets go of after
	 * admitting it, except those a block included (nonce below the new
	 * state nonce at txpool_reset, reported as TXPOOL_ERR_NONCE_TOO_LOW
	 * all the same so an error sink can ignore them). May be NULL. */
	void (*on_drop)(void *ctx, const struct txpool_tx *t, enum txpool_reason why);
	void *on_drop_ctx;
};

/* Defaults for a node of `shard` on `net`: the network's minimum gas price,
 * 10 % bump, its block gas limit, 128 KiB size limit (Harmony's
 * MaxPoolTransactionDataSize), 16 / 4096 / 64 / 5120 slots and a 30 min
 * lifetime (harmony.conf). */
void txpool_config_default(struct txpool_config *c, const struct netparams *net, uint32_t shard);

struct txpool;

/* cfg and *state are copied. -CN_EINVAL for a config without a network or
 * with a shard outside it, zero limits or a reader without functions. */
int txpool_new(struct txpool **out, const struct txpool_config *cfg,
               const struct txpool_state_reader *state);
void txpool_free(struct txpool *p);

#define TXPOOL_MSG_MAX 200

/* The outcome of one txpool_add. */
struct txpool_result {
	enum txpool_reason reason;          /* TXPOOL_OK when admitted */
	char msg[TXPOOL_MSG_MAX];           /* reason string, then ": details" */
	int have_hash;                      /* hash and eth_hash below are set */
	uint8_t hash[CORE_HASH_LEN];
	uint8_t eth_hash[CORE_HASH_LEN];
	int replaced;                       /* it replaced a same-nonce tx */
	int pending;                        /* it is executable now (else queued) */
};

/* Validates tx (any form tx_decode yields; it is copied, not taken) and
 * admits it. Returns 0 when admitted, else a negative code with res->reason
 * saying why: -CN_EEXIST (known), -CN_ELIMIT (account limit, pool full),
 * -CN_ENOMEM, the reader's code (TXPOOL_ERR_STATE), or -CN_EINVAL for every
 * other refusal. res may be NULL. */
int txpool_add(struct txpool *p, const struct tx *tx, struct txpool_result *res);
/* The same from network bytes (RPC sendRawTransaction, gossip). */
int txpool_add_raw(struct txpool *p, const uint8_t *raw, size_t len, struct txpool_result *res);

/* After a block: reads every account's nonce and balance again, drops the
 * transactions below the new nonce (included or made stale), those the
 * balance no longer covers and those above the new block gas limit (0
 * keeps the current one), then re-applies the limits. Transactions of a
 * dropped side chain are given back with txpool_add. Returns the first
 * reader error (those accounts keep their old view), else 0. */
int txpool_reset(struct txpool *p, uint64_t block_gas_limit);

/* The pool reads no clock: the node's loop tells it the time. A sender's
 * heartbeat is the time of the last tick before its latest admitted
 * transaction; the queued transactions of a sender whose heartbeat is more
 * than lifetime_ms old are dropped (TXPOOL_DROP_EXPIRED), as the Go node
 * does every minute. Pending ones never expire. */
void txpool_tick(struct txpool *p, uint64_t now_ms);

/* Drops one transaction (by either hash); its later nonces become queued.
 * -CN_ENOTFOUND if it is not held. */
int txpool_remove(struct txpool *p, const uint8_t hash[CORE_HASH_LEN]);

enum txpool_status { TXPOOL_UNKNOWN = 0, TXPOOL_PENDING, TXPOOL_QUEUED };

/* Lookup by Harmony or Ethereum hash: a new reference, or -CN_ENOTFOUND. */
int txpool_get(struct txpool *p, const uint8_t hash[CORE_HASH_LEN], struct txpool_tx **out);
enum txpool_status txpool_status(struct txpool *p, const uint8_t hash[CORE_HASH_LEN]);
void txpool_stats(struct txpool *p, size_t *pending, size_t *queued);
/* The nonce a new transaction from addr would take to be executable: the
 * state nonce plus its pending run (eth_getTransactionCount "pending"). */
int txpool_pending_nonce(struct txpool *p, const uint8_t addr[CORE_ADDR_LEN], uint64_t *nonce);

/* Every pending (want == TXPOOL_PENDING) or queued transaction, grouped by
 * sender (in address order) and in nonce order within a sender. The array
 * holds references: release it with txpool_txs_release. */
int txpool_content(struct txpool *p, enum txpool_status want, struct txpool_tx ***out, size_t *n);

/* Pending transactions for a block, best first: among the senders' next
 * transactions the highest gas price goes first (earlier arrival on ties),
 * each sender's in nonce order. A transaction whose gas limit exceeds what
 * is left of gas_budget ends its sender's run (its later nonces could not
 * execute); selection stops at max_txs or when less than 21 000 gas is
 * left. The array holds references (txpool_txs_release). */
int txpool_select(struct txpool *p, uint64_t gas_budget, size_t max_txs,
                  struct txpool_tx ***out, size_t *n);

/* Intrinsic gas of a plain transaction (Istanbul rules): 21 000, or 53 000
 * for a contract creation, plus 4 per zero and 16 per non-zero data byte. */
uint64_t txpool_intrinsic_gas(const struct tx *tx);

#endif
