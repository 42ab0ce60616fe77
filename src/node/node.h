/* node.h — one shard's node core: chain + pool + FBFT, network-free.
 *
 * A struct node wires one shard's chain (src/chain), transaction pool
 * (src/txpool) and FBFT state machine (src/consensus, signing with BLS
 * through fbft_bls) for one process. Like the protocol cores it is driven
 * from outside: the driver (src/runtime's libuv loop, or the in-process
 * harness of tests/node/) hands it gossip messages, timer ticks and stream
 * requests/responses, and carries out the actions it returns (publish these
 * bytes on that topic, ask a peer for blocks). Unlike the protocol cores it
 * touches the disk: the LMDB chain store and the FBFT vote record, which is
 * on disk (written to a temporary file, fsynced, renamed) before any action
 * that follows it is handed back, so a crash never lets a validator vote
 * twice.
 *
 * Every function runs on the driver's one thread except node_submit_tx,
 * which RPC threads may call at any time: it admits the tx to the pool
 * (which has its own mutex) and queues its bytes; the next node_tick
 * publishes them.
 *
 * now_ms is wall-clock time (Unix milliseconds): it dates the blocks this
 * node proposes and bounds the time of those it accepts.
 *
 * The gossip payloads, the catch-up (sync) request and response, the vote
 * record and the restart rules are described in docs/node.md. */
#ifndef CANON_NODE_H
#define CANON_NODE_H

#include <stddef.h>
#include <stdint.h>

struct bls_secret_key;
struct cn_metrics;
struct netparams;
struct store;
struct txpool;
struct node;

enum node_role { NODE_VALIDATOR, NODE_FULL };

struct node_config {
	const char *datadir;            /* store under <datadir>/<network>/shard<S>, vote record next to it */
	const char *network;            /* "localnet", ... */
	uint32_t shard;
	enum node_role role;
	const struct bls_secret_key *keys;  /* validator keys (copied); each must be a committee member */
	size_t n_keys;
	uint64_t block_time_ms;         /* 0: the network's (2000); at least 100 */
	uint64_t phase_timeout_ms;      /* 0: max(4 * block_time, 4000) */
	uint64_t viewchange_timeout_ms; /* 0: phase timeout */
	struct cn_metrics *metrics;     /* may be NULL; registers canon_consensus_* and canon_chain_* */
	size_t pool_slots;              /* txpool global_slots; 0: default */
	size_t pool_queue;              /* txpool global_queue; 0: default */
	int no_fsync;                   /* tests only: skip fsync of the vote record */
	/* May be NULL. Called with the hash (tx_hash, the pool's key) of each
	 * tx the pool admits from gossip, batched or single, on the thread of
	 * node_validate / node_deliver: a driver announces them to RPC
	 * subscribers of pending txs (node_submit_tx's txs are the caller's to
	 * announce). Must not call back into the node. */
	void (*on_gossip_tx)(void *ctx, const uint8_t hash[32]);
	void *on_gossip_tx_ctx;
};

enum node_topic { NODE_TOPIC_TX, NODE_TOPIC_CONS, NODE_TOPIC_BLOCK, NODE_TOPIC_COUNT };

/* "canon/<network>/<shard>/tx", ".../cons", ".../block". -CN_ERANGE if the
 * name does not fit in cap (NUL included), -CN_EINVAL for a bad topic. */
int node_topic_name(const char *network, uint32_t shard, enum node_topic t, char *out, size_t cap);
/* The stream protocol id of catch-up: "canon/sync/<network>/<shard>/1.0.0". */
int node_sync_protocol(const char *network, uint32_t shard, char *out, size_t cap);

enum node_act_kind {
	NODE_ACT_PUBLISH = 1,   /* topic, data/len: gossip it on that topic */
	NODE_ACT_SYNC,          /* ask one peer of the shard (stream node_sync_protocol) with
	                           request data/len; hand its answer to node_sync_response */
};

struct node_action {
	int kind;
	int topic;
	uint8_t *data;          /* owned by the node_out */
	size_t len;
};

struct node_out {
	struct node_action *a;
	size_t n, cap;
	uint64_t wake_ms;       /* call node_tick at this time (0: nothing pending) */
};

void node_out_init(struct node_out *o);
/* Frees the actions' data and empties the list (the array is kept). */
void node_out_reset(struct node_out *o);
void node_out_free(struct node_out *o);

/* The verdict of node_validate, numbered like the gossip layer's
 * (GOSSIP_ACCEPT, GOSSIP_IGNORE, GOSSIP_REJECT) so the driver may cast it. */
enum node_verdict { NODE_ACCEPT = 0, NODE_IGNORE = 1, NODE_REJECT = 2 };

/* Opens (creating the genesis if the store is empty) the shard's chain,
 * the pool and the consensus state machine, resuming from the vote record
 * if one exists. -CN_EINVAL for a key that is not in the committee. */
int node_open(struct node **out, const struct node_config *cfg);
/* Closes everything (the store is synced by LMDB on every commit). */
void node_close(struct node *n);

/* First call after node_open. Every call that takes an out resets it first;
 * actions stay valid until the next call with the same out. */
int node_start(struct node *n, uint64_t now_ms, struct node_out *out);
/* Timers (call at out->wake_ms or later; earlier is harmless) and the
 * publishing of txs that node_submit_tx queued. */
int node_tick(struct node *n, uint64_t now_ms, struct node_out *out);
/* Cheap checks before relaying a gossip message of topic (enum node_topic):
 * decoding, shard, height window, a tx's signature, a final block's
 * certificate. */
enum node_verdict node_validate(struct node *n, int topic, const uint8_t *data, size_t len);
/* An accepted gossip message (validated again as needed: never trusted). */
int node_deliver(struct node *n, uint64_t now_ms, int topic, const uint8_t *data, size_t len,
                 struct node_out *out);

/* Stream server: answers a catch-up request from the store (*resp is
 * malloc'd; the caller frees it). -CN_EINVAL for a malformed request. */
int node_serve_sync(struct node *n, const uint8_t *req, size_t len, uint8_t **resp, size_t *resp_len);
/* Stream client: the answer to a NODE_ACT_SYNC request (err != 0: it failed
 * and resp is ignored; the node asks again later). */
int node_sync_response(struct node *n, uint64_t now_ms, int err, const uint8_t *resp, size_t len,
                       struct node_out *out);

/* RPC (any thread): admits a raw tx (Harmony or Ethereum legacy form) to
 * the pool and queues it for gossip. On success hash is the Ethereum hash
 * if eth_form, else the Harmony hash; on refusal msg holds the pool's
 * go-ethereum wording. Same shape as rpc_backend.submit_tx. */
int node_submit_tx(struct node *n, const uint8_t *raw, size_t len, int eth_form, uint8_t hash[32],
                   char *msg, size_t cap);

struct node_status {
	uint32_t shard;
	int role;
	uint64_t height;                /* chain head */
	uint8_t head_hash[32];
	uint8_t state_root[32];
	uint64_t view;                  /* FBFT view at consensus_height */
	uint64_t consensus_height;      /* height being decided */
	int in_viewchange;
	uint8_t leader_pk[48];          /* leader of (consensus_height, view) */
	uint64_t last_final_ms;         /* now_ms of the last block made final here (0: none) */
	uint64_t best_peer_height;      /* highest height seen from peers */
	size_t pool_pending, pool_queued;
	uint64_t view_changes;          /* views entered after view 0 */
	uint64_t txs_final;             /* transactions in blocks made final here */
	uint64_t proposals_refused;     /* proposals this node found invalid (did not vote for) */
};

/* Driver thread only. */
void node_status(struct node *n, struct node_status *st);
struct store *node_store(struct node *n);          /* for the embedded RPC server */
const struct netparams *node_params(struct node *n);
struct txpool *node_txpool(struct node *n);        /* thread-safe itself */

#endif
