/* rpc_int.h — what the rpc module's files share and nobody else sees. */
#ifndef CANON_RPC_INT_H
#define CANON_RPC_INT_H

#include <jansson.h>
#include <pthread.h>

#include "rpc/rpc.h"

struct store_txn;
struct cn_metric;

#define RPC_SENDER_SLOTS 1024

struct rpc_handler {
	struct store *st;
	const struct netparams *np;
	uint32_t shard;
	struct rpc_limits lim;
	struct rpc_backend be;
	uint64_t start_unix;            /* for hmy_getNodeMetadata */
	/* The ports the server bound (0: not behind a server). On localnet
	 * the other shards' endpoints are advertised relative to them, so a
	 * localnet moved by a port offset still names the right ports. */
	uint16_t http_port, ws_port;
	struct cn_metrics *metrics;
	struct cn_metric *m_req, *m_err, *m_lat;
	/* Children per method, created up front so that a call updates atomics
	 * without the registry's mutex: index i is method i, then "unknown",
	 * then "invalid". */
	struct rpc_method_metrics {
		struct cn_metric_child *req, *err, *lat;
	} *mm;
	/* Recovered senders and both hashes by transaction hash,
	 * direct-mapped. Recovery is three quarters of a receipt's cost and
	 * clients poll the same receipt while they wait; a hash commits to the
	 * signature, so an entry never goes stale, even across reorgs. */
	pthread_mutex_t senders_mu;
	struct rpc_sender_slot {
		uint8_t hash[32];
		uint8_t from[20];
		uint8_t hmy[32], eth[32];   /* the tx's Harmony and Ethereum hashes */
		int have_from;
		int used;
	} senders[RPC_SENDER_SLOTS];
	pthread_mutex_t pending_mu;
	uint64_t pending_seq;           /* sequence number of the next hash */
	uint8_t (*pending)[32];         /* RPC_PENDING_RING slots */
};

/* How a namespace renders: eth (hex, 0x addresses, Ethereum tx hashes),
 * hmy (hex, one1 addresses, Harmony hashes), hmyv2 (decimal numbers). */
enum rpc_ns { RPC_NS_ETH, RPC_NS_HMY, RPC_NS_HMYV2, RPC_NS_OTHER };

/* A WebSocket connection's subscriptions (eth_subscribe). Only touched by
 * that connection's thread. */
#define RPC_MAX_SUBS 16
enum rpc_sub_kind { RPC_SUB_HEADS = 1, RPC_SUB_LOGS, RPC_SUB_PENDING };
struct logs_filter;
struct rpc_session {
	size_t nsubs;
	struct rpc_sub {
		char id[35];          /* "0x" + 32 hex digits */
		enum rpc_sub_kind kind;
		uint64_t last;        /* heads, logs: last block number handled */
		uint64_t seq;         /* pending: next sequence number to send */
		struct logs_filter *filter;   /* logs: owned */
	} subs[RPC_MAX_SUBS];
};

/* Frees what the session's subscriptions own. */
void rpc_session_free(struct rpc_session *s);

/* Sends what the session's subscriptions are owed since the last call:
 * one eth_subscription message per new head, per matching log and per
 * pending transaction, each written into w and handed to send (nonzero
 * stops and is returned). */
int rpc_session_poll(struct rpc_handler *h, struct rpc_session *s, struct rpc_jw *w,
                     int (*send)(void *ctx, const char *p, size_t n), void *ctx);

/* Transactions admitted to the pool, for newPendingTransactions: a ring
 * the node writes (any thread) and subscribers read by sequence number. */
#define RPC_PENDING_RING 4096

/* rpc_handle for a connection that can hold subscriptions. */
int rpc_handle_session(struct rpc_handler *h, const char *body, size_t len, struct rpc_jw *w,
                       struct rpc_session *sess);
/* Writes block number's header as an eth_subscription newHeads result. */
int rpc_write_head(struct rpc_handler *h, uint64_t number, struct rpc_jw *w);
/* Records a transaction admitted to the pool (thread-safe). */
void rpc_handler_pending_tx(struct rpc_handler *h, const uint8_t hash[32]);

/* One method call: its params, its read snapshot, where the result goes.
 * A method returns 0 with the result written to w, or sets code/msg (or
 * returns a negative code, reported as an internal error). */
struct rpc_call {
	struct rpc_handler *h;
	struct store_txn *t;
	json_t *params;          /* an array, or NULL */
	struct rpc_jw *w;
	enum rpc_ns ns;
	struct rpc_session *sess;   /* NULL over HTTP */
	/* Set by subscriptions: each log is written alone into w and handed
	 * to emit instead of being appended to an array. */
	int (*emit)(void *ctx, struct rpc_jw *w);
	void *emit_ctx;
	int code;
	char msg[256];
};

struct rpc_method {
	const char *name;
	int (*fn)(struct rpc_call *c);
	enum rpc_ns ns;
};

const struct rpc_method *rpc_method_find(const char *name, size_t len);
size_t rpc_method_count(void);
/* The index of a method found by rpc_method_find. */
size_t rpc_method_index(const struct rpc_method *m);
const char *rpc_method_name(size_t i);
void rpc_write_error(struct rpc_jw *w, json_t *id, int code, const char *msg);
uint64_t rpc_now_ms(void);

#endif
