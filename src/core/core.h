/* core.h — the chain's data types and their byte encodings.
 *
 * Everything a block carries, in the exact RLP forms the Harmony protocol
 * hashes and signs (docs/core.md gives the field orders and the decisions
 * taken where the Go node is silent): plain transactions in Harmony's
 * 11-field form and in the Ethereum forms (legacy with and without EIP-155,
 * EIP-2930, EIP-1559), staking transactions, receipts with their logs and
 * 2048-bit blooms, the v3 block header, blocks and bodies, cross-shard (CX)
 * receipts and their proofs, crosslinks, shard states (committees) and the
 * parameters of each network.
 *
 * Decoded values own their memory: variable-length parts (calldata, access
 * lists, logs, key lists) are malloc'd copies, released by the type's _free;
 * a zeroed struct is a valid empty value and _free of it is harmless. Every
 * decoder reads hostile bytes: it accepts canonical RLP only (one encoding per
 * value, so one hash per value), enforces the size limits below, checks each
 * field's length and never trusts a count before the bytes that back it.
 * Encoders write the one canonical form into a fresh malloc'd buffer.
 *
 * Hashing and signing follow the Go node: a transaction's hash is
 * keccak256 of its network encoding, its signing hash depends on its form
 * and on the chain ID carried in v, and the sender is recovered with
 * libsecp256k1 under Ethereum's low-s rule. Execution, state and chain
 * insertion live in higher layers and only read these types. */
#ifndef CANON_CORE_H
#define CANON_CORE_H

#include <stddef.h>
#include <stdint.h>

#include "base/u256.h"

#define CORE_HASH_LEN 32
#define CORE_ADDR_LEN 20
#define CORE_BLS_PUB_LEN 48
#define CORE_BLS_SIG_LEN 96
#define CORE_BLOOM_LEN 256

/* Decoder limits. A transaction above TX_MAX_SIZE never reaches a pool
 * (Harmony's RPC limit is 138 KiB); a block above BLOCK_MAX_SIZE could not
 * have been produced under a 30 M gas limit. */
#define TX_MAX_SIZE (256u * 1024)
#define BLOCK_MAX_SIZE (32u * 1024 * 1024)
#define RECEIPT_MAX_LOGS 65536
#define LOG_MAX_TOPICS 4

/* An owned byte string (NULL when empty). */
struct core_buf {
	uint8_t *p;
	size_t len;
};

/* Harmony's tagged-RLP envelope marker for versioned types. */
extern const char core_tag_marker[7]; /* "HmnyTgd" */

/* keccak256(rlp("")) — the root of an empty trie (EmptyRootHash). */
extern const uint8_t core_empty_root[CORE_HASH_LEN];

/* ==== plain transactions ================================================= */

enum tx_type {
	TX_HARMONY = 0,     /* 11-field RLP with shardID/toShardID */
	TX_LEGACY,          /* Ethereum 9-field RLP (with or without EIP-155) */
	TX_ACCESS_LIST,     /* EIP-2930, 0x01 || rlp(...) */
	TX_DYNAMIC_FEE,     /* EIP-1559, 0x02 || rlp(...) */
};

struct tx_access {
	uint8_t addr[CORE_ADDR_LEN];
	uint8_t (*keys)[CORE_HASH_LEN];
	size_t nkeys;
};

struct tx {
	enum tx_type type;
	/* Typed: the chainId field. Legacy and Harmony: derived from v — 0 for
	 * unprotected (v 27/28), else (v - 35) / 2. Limited to 64 bits. */
	uint64_t chain_id;
	uint64_t nonce;
	struct u256 gas_price;     /* Harmony, legacy, EIP-2930 */
	struct u256 gas_tip_cap;   /* EIP-1559 maxPriorityFeePerGas */
	struct u256 gas_fee_cap;   /* EIP-1559 maxFeePerGas */
	uint64_t gas_limit;
	uint32_t shard_id, to_shard_id;   /* Harmony form only */
	int has_to;                /* 0: contract creation */
	uint8_t to[CORE_ADDR_LEN];
	struct u256 value;
	uint8_t *data;
	size_t data_len;
	struct tx_access *access;  /* EIP-2930/1559 */
	size_t naccess;
	/* Signature as carried: v is the wire value for Harmony/legacy
	 * (27/28 or 35 + 2·chainId + parity) and yParity (0/1) for typed. */
	struct u256 v, r, s;
};

void tx_free(struct tx *tx);
/* Decodes a network encoding: an RLP list of 11 items (Harmony) or 9
 * (Ethereum legacy), or a type byte 0x01/0x02 followed by the RLP list. */
int tx_decode(struct tx *tx, const uint8_t *raw, size_t len);
/* The network encoding, as tx_decode reads it (byte-identical round trip). */
int tx_encode(const struct tx *tx, uint8_t **out, size_t *out_len);
/* keccak256 of the network encoding. For a Harmony-form tx this is the
 * Harmony hash (receipts, hmy_ methods). */
int tx_hash(const struct tx *tx, uint8_t out[CORE_HASH_LEN]);
/* The Ethereum hash of a Harmony-form tx: keccak256 of the 9-field legacy
 * RLP of the same fields and signature (eth_ methods index both). For other
 * forms it equals tx_hash. */
int tx_eth_hash(const struct tx *tx, uint8_t out[CORE_HASH_LEN]);
/* The hash the sender signed (rules in docs/core.md). */
int tx_signing_hash(const struct tx *tx, uint8_t out[CORE_HASH_LEN]);
/* The recovery id (0/1) from v; -CN_EINVAL if v is malformed. */
int tx_recovery_id(const struct tx *tx, int *recid);
/* Recovers the sender's address. -CN_EINVAL for an out-of-range or high-s
 * signature, -CN_EVERIFY when no key recovers. */
int tx_sender(const struct tx *tx, uint8_t addr[CORE_ADDR_LEN]);
/* Turns an Ethereum legacy tx received on a network whose shard-0
 * Ethereum chain ID is eth_chain_base into the Harmony form blocks store:
 * shardID = toShardID = chain ID - base (must be < num_shards), fields and
 * signature unchanged. Its sender is unchanged (an Ethereum chain ID leaves
 * the shard fields unsigned), tx_eth_hash still gives the original hash and
 * tx_hash now gives the Harmony hash. -CN_EINVAL for other forms or chain
 * IDs outside the network. */
int tx_from_eth(struct tx *tx, uint64_t eth_chain_base, uint32_t num_shards);
/* Signs tx over tx->chain_id (0 for an unprotected legacy/Harmony tx):
 * sets v, r, s. */
int tx_sign(struct tx *tx, const uint8_t secret[32]);

/* ==== staking transactions =============================================== */

enum stx_directive {
	STX_CREATE_VALIDATOR = 0,
	STX_EDIT_VALIDATOR = 1,
	STX_DELEGATE = 2,
	STX_UNDELEGATE = 3,
	STX_COLLECT_REWARDS = 4,
};

#define STX_NAME_MAX 140      /* name, identity, website, securityContact */
#define STX_DETAILS_MAX 280
#define STX_MAX_SLOT_KEYS 106

/* Description fields are byte strings (UTF-8 by convention), not NUL
 * terminated; len gives the size. */
struct stx_description {
	uint8_t name[STX_NAME_MAX], identity[STX_NAME_MAX], website[STX_NAME_MAX];
	uint8_t security_contact[STX_NAME_MAX], details[STX_DETAILS_MAX];
	size_t name_len, identity_len, website_len, security_contact_len, details_len;
};

/* Rates are numeric.Dec: the value scaled by 10^18 (1.0 = 10^18). */
struct stx_create_validator {
	uint8_t validator[CORE_ADDR_LEN];
	struct stx_description desc;
	struct u256 rate, max_rate, max_change_rate;
	struct u256 min_self_delegation, max_total_delegation;
	uint8_t (*slot_keys)[CORE_BLS_PUB_LEN];
	size_t nslot_keys;
	/* 0: the older 7-field form without slotKeySigs (Harmony JS SDK
	 * 0.1.58); kept so that such transactions round-trip. */
	int has_slot_key_sigs;
	uint8_t (*slot_key_sigs)[CORE_BLS_SIG_LEN];
	size_t nslot_key_sigs;
	struct u256 amount;
};

struct stx_edit_validator {
	uint8_t validator[CORE_ADDR_LEN];
	struct stx_description desc;
	int has_rate;                       /* commissionRate, nil = unchanged */
	struct u256 rate;
	struct u256 min_self_delegation;    /* 0 = unchanged (nil) */
	struct u256 max_total_delegation;   /* 0 = unchanged (nil) */
	int has_key_to_remove, has_key_to_add;
	uint8_t key_to_remove[CORE_BLS_PUB_LEN], key_to_add[CORE_BLS_PUB_LEN];
	/* 0: the older 7-field form without the two fields below. */
	int has_sig_and_status;
	int has_key_to_add_sig;
	uint8_t key_to_add_sig[CORE_BLS_SIG_LEN];
	uint8_t epos_status;                /* 0 none, 1 active, 2 inactive, 3 banned */
};

struct stx_delegate {                   /* Delegate and Undelegate */
	uint8_t delegator[CORE_ADDR_LEN], validator[CORE_ADDR_LEN];
	struct u256 amount;
};

struct stx {
	enum stx_directive directive;
	union {
		struct stx_create_validator create;
		struct stx_edit_validator edit;
		struct stx_delegate delegate;   /* STX_DELEGATE, STX_UNDELEGATE */
		uint8_t collect_delegator[CORE_ADDR_LEN];
	} msg;
	uint64_t nonce;
	struct u256 gas_price;
	uint64_t gas_limit;
	uint64_t chain_id;                  /* from v; staking txs are always protected */
	struct u256 v, r, s;
};

void stx_free(struct stx *stx);
int stx_decode(struct stx *stx, const uint8_t *raw, size_t len);
int stx_encode(const struct stx *stx, uint8_t **out, size_t *out_len);
int stx_hash(const struct stx *stx, uint8_t out[CORE_HASH_LEN]);
int stx_signing_hash(const struct stx *stx, uint8_t out[CORE_HASH_LEN]);
int stx_sender(const struct stx *stx, uint8_t addr[CORE_ADDR_LEN]);
int stx_sign(struct stx *stx, const uint8_t secret[32]);
/* The address that must have signed (validator or delegator). */
const uint8_t *stx_expected_signer(const struct stx *stx);

/* ==== logs, bloom, receipts ============================================== */

struct core_log {
	uint8_t addr[CORE_ADDR_LEN];
	uint8_t (*topics)[CORE_HASH_LEN];
	size_t ntopics;
	uint8_t *data;
	size_t data_len;
};

/* Sets the three bits of x in a 2048-bit big-endian bloom. */
void bloom_add(uint8_t bloom[CORE_BLOOM_LEN], const uint8_t *x, size_t len);
/* Nonzero if all three bits of x are set (x may be in the set). */
int bloom_test(const uint8_t bloom[CORE_BLOOM_LEN], const uint8_t *x, size_t len);
/* ORs the address and topics of each log into bloom. */
void bloom_add_logs(uint8_t bloom[CORE_BLOOM_LEN], const struct core_log *logs, size_t n);

struct receipt {
	/* Before the S3 epoch the first field is a 32-byte state root. */
	int has_post_state;
	uint8_t post_state[CORE_HASH_LEN];
	int status;                         /* 1 success, 0 failure */
	uint64_t cumulative_gas;
	uint8_t bloom[CORE_BLOOM_LEN];
	struct core_log *logs;
	size_t nlogs;
};

void receipt_free(struct receipt *r);
/* Consensus encoding [postStateOrStatus, cumulativeGasUsed, bloom, logs]. */
int receipt_decode(struct receipt *r, const uint8_t *raw, size_t len);
int receipt_encode(const struct receipt *r, uint8_t **out, size_t *out_len);
void core_log_free(struct core_log *l);

/* ==== cross-shard receipts =============================================== */

struct cx_receipt {
	uint8_t tx_hash[CORE_HASH_LEN];
	uint8_t from[CORE_ADDR_LEN], to[CORE_ADDR_LEN];
	uint32_t shard_id, to_shard_id;
	struct u256 amount;
};

int cx_receipt_decode(struct cx_receipt *c, const uint8_t *raw, size_t len);
int cx_receipt_encode(const struct cx_receipt *c, uint8_t **out, size_t *out_len);

struct cx_merkle_proof {
	uint64_t block_num;
	uint8_t block_hash[CORE_HASH_LEN];
	uint32_t shard_id;                         /* source shard */
	uint8_t cx_receipt_hash[CORE_HASH_LEN];    /* source outgoing root */
	uint32_t *shard_ids;                       /* destinations with receipts */
	uint8_t (*shard_hashes)[CORE_HASH_LEN];    /* their per-destination roots */
	size_t nshards;
};

/* ==== block header (v3) ================================================== */

struct header {
	uint8_t parent_hash[CORE_HASH_LEN];
	uint8_t coinbase[CORE_ADDR_LEN];
	uint8_t root[CORE_HASH_LEN];
	uint8_t tx_hash[CORE_HASH_LEN];
	uint8_t receipt_hash[CORE_HASH_LEN];
	uint8_t outgoing_receipt_hash[CORE_HASH_LEN];
	uint8_t incoming_receipt_hash[CORE_HASH_LEN];
	uint8_t bloom[CORE_BLOOM_LEN];
	uint64_t number;        /* big.Int in Go; values past 2^64 are refused */
	uint64_t gas_limit, gas_used;
	uint64_t time;
	struct core_buf extra;
	uint8_t mix_digest[CORE_HASH_LEN];
	uint64_t view_id, epoch;
	uint32_t shard_id;
	uint8_t last_commit_sig[CORE_BLS_SIG_LEN];
	struct core_buf last_commit_bitmap, vrf, vdf, shard_state, crosslinks, slashes;
};

void header_free(struct header *h);
/* Tagged encoding ["HmnyTgd", "v3", [24 fields]]. Other versions are
 * -CN_EUNSUPPORTED. */
int header_decode(struct header *h, const uint8_t *raw, size_t len);
int header_encode(const struct header *h, uint8_t **out, size_t *out_len);
/* Block hash = keccak256 of the tagged encoding. */
int header_hash(const struct header *h, uint8_t out[CORE_HASH_LEN]);
/* A deep copy. */
int header_copy(struct header *dst, const struct header *src);

/* ==== CX receipt proofs ================================================== */

struct cx_receipts_proof {
	struct cx_receipt *receipts;
	size_t nreceipts;
	struct cx_merkle_proof proof;
	struct header header;
	uint8_t commit_sig[CORE_BLS_SIG_LEN];
	struct core_buf commit_bitmap;
};

void cx_merkle_proof_free(struct cx_merkle_proof *p);
void cx_receipts_proof_free(struct cx_receipts_proof *p);
int cx_receipts_proof_decode(struct cx_receipts_proof *p, const uint8_t *raw, size_t len);
int cx_receipts_proof_encode(const struct cx_receipts_proof *p, uint8_t **out, size_t *out_len);

/* ==== blocks ============================================================= */

struct block {
	struct header header;
	struct tx *txs;             /* Harmony form only */
	size_t ntxs;
	struct stx *stxs;
	size_t nstxs;
	struct cx_receipts_proof *incoming;
	size_t nincoming;
};

void block_free(struct block *b);
/* Tagged ["HmnyTgd", "v2", [header, txs, stakingTxs, uncles, incoming]]
 * (uncles must be empty). Blocks carry Harmony-form txs only: the decoder
 * refuses others and the encoders return -CN_EUNSUPPORTED for them. */
int block_decode(struct block *b, const uint8_t *raw, size_t len);
int block_encode(const struct block *b, uint8_t **out, size_t *out_len);
/* The stored body: the same list without the header, tagged "v2". */
int block_body_encode(const struct block *b, uint8_t **out, size_t *out_len);
/* Decodes a body into b's txs, stxs and incoming (b->header untouched). */
int block_body_decode(struct block *b, const uint8_t *raw, size_t len);

/* ==== crosslinks ========================================================= */

struct crosslink {
	uint8_t hash[CORE_HASH_LEN];
	uint64_t block_number, view_id;
	uint8_t signature[CORE_BLS_SIG_LEN];
	struct core_buf bitmap;
	uint32_t shard_id;
	uint64_t epoch;
};

void crosslink_free(struct crosslink *c);
int crosslink_decode(struct crosslink *c, const uint8_t *raw, size_t len);
int crosslink_encode(const struct crosslink *c, uint8_t **out, size_t *out_len);
/* Order (shardID, number, viewID): <0, 0, >0. */
int crosslink_cmp(const struct crosslink *a, const struct crosslink *b);
/* A header's crossLinks field: an RLP list of crosslinks. */
int crosslinks_decode(struct crosslink **out, size_t *n, const uint8_t *raw, size_t len);
int crosslinks_encode(const struct crosslink *c, size_t n, uint8_t **out, size_t *out_len);
void crosslinks_free(struct crosslink *c, size_t n);

/* ==== shard state ======================================================== */

struct shard_slot {
	uint8_t addr[CORE_ADDR_LEN];
	uint8_t bls_key[CORE_BLS_PUB_LEN];
	int has_stake;              /* 0 for Harmony-operated slots */
	struct u256 stake;          /* effective stake, Dec (scaled by 10^18) */
};

struct shard_committee {
	uint32_t shard_id;
	struct shard_slot *slots;
	size_t nslots;
};

struct shard_state {
	int legacy;                 /* pre-staking form (no epoch, no stakes) */
	uint64_t epoch;
	struct shard_committee *committees;
	size_t ncommittees;
};

void shard_state_free(struct shard_state *s);
/* Tries the staking form [epoch, committees], then the legacy form. */
int shard_state_decode(struct shard_state *s, const uint8_t *raw, size_t len);
int shard_state_encode(const struct shard_state *s, uint8_t **out, size_t *out_len);
/* The committee of one shard, or NULL. */
const struct shard_committee *shard_state_find(const struct shard_state *s, uint32_t shard);

/* ==== network parameters ================================================= */

struct netparams {
	const char *name;               /* "mainnet", "testnet", "partner", "localnet" */
	uint64_t chain_id;              /* Harmony chain ID */
	uint64_t eth_chain_id_base;     /* Ethereum chain ID of shard 0 */
	uint32_t num_shards;
	uint64_t blocks_per_epoch;
	uint64_t block_time_ms;
	uint64_t min_gas_price;         /* atto per gas, enforced by the pool */
	uint64_t block_gas_limit;
	const char *topic_prefix;       /* pubsub prefix */
};

/* Looks a network up by name; -CN_ENOTFOUND for an unknown one. */
int netparams_get(const char *name, const struct netparams **out);
/* The Ethereum chain ID of one shard (base + shard). */
uint64_t netparams_eth_chain_id(const struct netparams *np, uint32_t shard);
/* Nonzero if a signer on this network's `shard` accepts chain_id (the
 * Harmony ID or the shard's own Ethereum ID). */
int netparams_accepts_chain_id(const struct netparams *np, uint32_t shard, uint64_t chain_id);
/* Epoch of a block number (a fixed schedule: number / blocks_per_epoch). */
uint64_t netparams_epoch_of(const struct netparams *np, uint64_t number);

/* ==== roots (DeriveSha) ================================================== */

/* Root of the trie mapping rlp(index) -> item for the concatenation of the
 * given lists of encoded items (indices continue across lists). */
int core_derive_sha(const uint8_t *const *items, const size_t *lens, size_t n,
                    uint8_t out[CORE_HASH_LEN]);
/* txHash of a header: plain txs then staking txs. */
int block_tx_root(const struct block *b, uint8_t out[CORE_HASH_LEN]);
/* receiptHash: one receipt per plain then staking tx, in order. */
int receipts_root(const struct receipt *r, size_t n, uint8_t out[CORE_HASH_LEN]);
/* incomingReceiptHash: DeriveSha over the proofs. */
int block_incoming_root(const struct block *b, uint8_t out[CORE_HASH_LEN]);
/* outgoingReceiptHash from a block's CX receipts (in block order). */
int cx_outgoing_root(const struct cx_receipt *c, size_t n, uint8_t out[CORE_HASH_LEN]);

#endif
