/* state.h — account state: balances, nonces, code, storage and the state root.
 *
 * The world state maps 20-byte addresses to accounts. An account is Ethereum's
 * RLP list [nonce, balance, storageRoot, codeHash], kept in a secure state
 * trie (the path is keccak256(address)); the state root in a block header is
 * that trie's root. Each account's storage is a secure trie of its own
 * (path keccak256(slot)) holding the RLP of the value's minimal big-endian
 * bytes; a slot set to zero is deleted. Code is stored once, by its hash, in
 * the store's code sub-database.
 *
 * struct state is the mutable view the chain and the EVM work on. It is
 * opened at a root, over a store transaction: trie nodes and code are read
 * through that transaction, and state_commit() writes new trie nodes, new
 * code and the flat account index into it, so the caller's per-block write
 * transaction carries a block and its state together (a crash never leaves
 * one without the other). Between blocks, state_set_txn() moves the state to
 * the next block's transaction; what the state keeps in memory stays valid.
 *
 * Accounts are loaded into an in-memory cache on first touch and changed
 * there; the tries are updated only when the root is asked for, so a block's
 * many updates to one account hash once. Every change is recorded in a
 * journal: state_snapshot() marks a point and state_revert() undoes
 * everything after it (snapshots nest, as EVM calls do). state_root() folds
 * pending changes into the tries and returns the root without writing
 * anything; like state_finalise() (the end of a transaction) it ends the
 * journal, so earlier snapshot ids become invalid.
 *
 * Flat index: next to the trie, the store keeps address → account RLP (keyed
 * by keccak256(address), the trie's own path) so RPC reads a balance with one
 * B-tree lookup instead of a trie walk. It lives in the metadata
 * sub-database under the prefix STATE_FLAT_PREFIX, and the key
 * STATE_FLAT_ROOT_KEY records the state root it describes. state_commit()
 * updates it in the same transaction; when the state was opened at a root
 * other than the one the index describes (a reorganisation, or a state
 * opened at an old root), the commit rebuilds the index from the trie.
 *
 * A struct state belongs to one thread (the chain writer, or one RPC call
 * working on its own read transaction); the flat-index readers below need
 * only a transaction and serve any number of threads.
 *
 * Errors: a failure inside a trie update can leave the tries half-changed;
 * the state then refuses every further call with -CN_ESTATE and must be
 * freed and reopened at the last committed root. */
#ifndef CANON_STATE_H
#define CANON_STATE_H

#include <stddef.h>
#include <stdint.h>

#include "base/u256.h"

struct store_txn;

#define STATE_ADDR_LEN 20
#define STATE_HASH_LEN 32
/* Longest account RLP: list header + nonce + balance + two hashes. */
#define STATE_ACCOUNT_RLP_MAX 112

/* keccak256 of empty code. */
extern const uint8_t state_empty_code_hash[STATE_HASH_LEN];

struct state_account {
	uint64_t nonce;
	struct u256 balance;
	uint8_t root[STATE_HASH_LEN];       /* storage trie root */
	uint8_t code_hash[STATE_HASH_LEN];
};

/* A fresh account: nonce 0, balance 0, empty storage, no code. */
void state_account_init(struct state_account *a);
/* Writes the account RLP into out (STATE_ACCOUNT_RLP_MAX bytes); returns its
 * length. */
size_t state_account_encode(const struct state_account *a, uint8_t out[STATE_ACCOUNT_RLP_MAX]);
/* Decodes an account RLP; anything but exactly the canonical four-item list
 * is an error (-CN_EINVAL, -CN_ENONCANON, -CN_ETRUNC, -CN_ETRAILING). */
int state_account_decode(const uint8_t *in, size_t len, struct state_account *a);

struct state;

/* Opens the state at root (NULL for the empty state) over txn, which may be
 * a read or a write transaction (state_commit() needs a write one). Nodes
 * load lazily, so a root (or any node under it) that the store lacks shows
 * up on first access as -CN_EVERIFY, never as an absent account. */
int state_open(struct state **out, struct store_txn *txn, const uint8_t *root);
/* Moves the state onto another transaction (the next block's). Changes not
 * yet committed stay pending. */
void state_set_txn(struct state *s, struct store_txn *txn);
void state_free(struct state *s);

/* ---- reads (an absent account reads as zero / empty) ------------------- */

/* -CN_ENOTFOUND when the account does not exist. */
int state_get_account(struct state *s, const uint8_t addr[STATE_ADDR_LEN], struct state_account *out);
int state_exists(struct state *s, const uint8_t addr[STATE_ADDR_LEN], int *out);
/* EIP-161 emptiness: absent, or nonce 0, balance 0 and no code. */
int state_empty(struct state *s, const uint8_t addr[STATE_ADDR_LEN], int *out);
int state_get_balance(struct state *s, const uint8_t addr[STATE_ADDR_LEN], struct u256 *out);
int state_get_nonce(struct state *s, const uint8_t addr[STATE_ADDR_LEN], uint64_t *out);
int state_get_code_hash(struct state *s, const uint8_t addr[STATE_ADDR_LEN], uint8_t out[STATE_HASH_LEN]);
/* The code, borrowed from the state until the account next changes (an empty
 * account gives len 0). -CN_ENOTFOUND if the store lacks the code of the
 * hash the account names. */
int state_get_code(struct state *s, const uint8_t addr[STATE_ADDR_LEN], const uint8_t **code, size_t *len);
/* A storage slot's value as 32 big-endian bytes (zero if unset). */
int state_get_storage(struct state *s, const uint8_t addr[STATE_ADDR_LEN],
                      const uint8_t slot[32], uint8_t out[32]);
/* The slot's value at the last transaction boundary (state_finalise(),
 * state_root() or state_commit()): the "original value" of EIP-2200/3529
 * SSTORE gas accounting. */
int state_get_committed_storage(struct state *s, const uint8_t addr[STATE_ADDR_LEN],
                                const uint8_t slot[32], uint8_t out[32]);

/* ---- writes (a missing account is created by any of them but a zero debit) */

int state_set_balance(struct state *s, const uint8_t addr[STATE_ADDR_LEN], const struct u256 *v);
/* -CN_ERANGE (and no change) if the balance would exceed 2^256-1. */
int state_add_balance(struct state *s, const uint8_t addr[STATE_ADDR_LEN], const struct u256 *v);
/* -CN_ERANGE (and no change) if the balance is smaller than v. A zero v
 * changes nothing, not even a missing account's existence (go-ethereum's
 * rule; a zero credit does create and touch the account). */
int state_sub_balance(struct state *s, const uint8_t addr[STATE_ADDR_LEN], const struct u256 *v);
int state_set_nonce(struct state *s, const uint8_t addr[STATE_ADDR_LEN], uint64_t nonce);
/* Copies the code; an empty code clears it. */
int state_set_code(struct state *s, const uint8_t addr[STATE_ADDR_LEN], const uint8_t *code, size_t len);
/* A zero value deletes the slot. */
int state_set_storage(struct state *s, const uint8_t addr[STATE_ADDR_LEN],
                      const uint8_t slot[32], const uint8_t val[32]);
/* Makes addr a new account: nonce 0, no code, empty storage. A balance it
 * already held is kept (as in Ethereum, where value can be sent to an
 * address before a contract is created there). */
int state_create_account(struct state *s, const uint8_t addr[STATE_ADDR_LEN]);
/* Removes the account and its storage (self-destruct, EIP-161 clearing).
 * Deleting an absent account is not an error. */
int state_delete_account(struct state *s, const uint8_t addr[STATE_ADDR_LEN]);

/* ---- journal ------------------------------------------------------------ */

/* Marks the current point; returns an id (>= 0) for state_revert(). Ids
 * are not reused, so a stale one is refused rather than misread. */
int state_snapshot(struct state *s);
/* Undoes every change made since snapshot id was taken; that snapshot and
 * every later one are consumed. -CN_ESTATE for an id that is no longer (or
 * never was) valid, including one taken before the last transaction
 * boundary. */
int state_revert(struct state *s, int id);
/* Ends a transaction: the journal is dropped (no revert can cross this
 * point), written slots take their values as original values, and with
 * delete_empty every account changed since the last root or commit that is
 * now empty (EIP-161: nonce 0, balance 0, no code) is deleted. Hashes
 * nothing: the tries are updated by state_root()/state_commit(). */
int state_finalise(struct state *s, int delete_empty);

/* ---- roots and commit --------------------------------------------------- */

/* The root with every pending change applied (hashing only what changed).
 * Writes nothing; ends the journal. */
int state_root(struct state *s, uint8_t out[STATE_HASH_LEN]);
/* As state_root(), then writes the new trie nodes, new code and the flat
 * index into the state's transaction (which must be a write transaction).
 * Nothing is durable until the caller commits that transaction; if the
 * caller aborts it instead, the state must be freed and reopened. */
int state_commit(struct state *s, uint8_t out[STATE_HASH_LEN]);
/* The root of the last commit (or of the open). */
void state_committed_root(const struct state *s, uint8_t out[STATE_HASH_LEN]);
/* Number of accounts held in memory. */
size_t state_cached_accounts(const struct state *s);
/* After a commit, a cache holding more accounts than the limit (or more
 * storage slots than STATE_CACHE_SLOTS_PER_ACCOUNT times it) is dropped and
 * the state trie's nodes evicted, bounding a long-running node's memory. */
#define STATE_CACHE_DEFAULT 65536
#define STATE_CACHE_SLOTS_PER_ACCOUNT 16
void state_set_cache_limit(struct state *s, size_t max_accounts);

/* ---- proofs (eth_getProof, EIP-1186) ------------------------------------ */

struct trie_proof;

/* The proof of addr's account (or of its absence) in the committed state at
 * root: the state trie's nodes on the path to keccak256(addr). Check it with
 * trie_verify_proof(root, keccak256(addr), ...), which yields the account
 * RLP. Free with trie_proof_free(). */
int state_prove_account(struct store_txn *txn, const uint8_t root[STATE_HASH_LEN],
                        const uint8_t addr[STATE_ADDR_LEN], struct trie_proof *out);
/* The same for one slot in the storage trie whose root an account names
 * (the value proved is the slot's RLP; absence means zero). */
int state_prove_storage(struct store_txn *txn, const uint8_t storage_root[STATE_HASH_LEN],
                        const uint8_t slot[32], struct trie_proof *out);

/* ---- flat index (no struct state needed: RPC readers) ------------------- */

#define STATE_FLAT_PREFIX "fa:"
#define STATE_FLAT_ROOT_KEY "fa-root"

/* The account at addr in the last committed state, read from the flat index
 * in any transaction. -CN_ENOTFOUND if absent. */
int state_flat_get(struct store_txn *txn, const uint8_t addr[STATE_ADDR_LEN], struct state_account *out);
/* The state root the flat index describes (the empty root if none). */
int state_flat_root(struct store_txn *txn, uint8_t out[STATE_HASH_LEN]);
/* Rewrites the flat index from the state trie at root. */
int state_flat_rebuild(struct store_txn *txn, const uint8_t root[STATE_HASH_LEN]);

#endif
