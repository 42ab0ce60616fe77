/* rpc.h — the JSON-RPC server: Ethereum- and Harmony-style reads over HTTP.
 *
 * Three layers, each usable alone:
 *
 *  - struct rpc_jw, a streaming JSON writer. Responses are written straight
 *    into a growing buffer (no tree is built), with the Ethereum encodings:
 *    quantities as minimal 0x-hex, data as even-length 0x-hex.
 *
 *  - struct rpc_handler turns one HTTP body into one response body: JSON-RPC
 *    2.0 single and batch requests, notifications, the standard errors with
 *    go-ethereum's messages, and a dispatch table of methods by name. Every
 *    method call reads through one LMDB read transaction (a consistent
 *    snapshot that never blocks the chain writer, in this process or
 *    another). It never touches a socket, so tests and the fuzz target drive
 *    it directly.
 *
 *  - struct rpc_server puts a handler behind libmicrohttpd: body size limit
 *    (413), per-client-IP token buckets (429 plus a JSON-RPC error), a cap on
 *    requests in flight (503), CORS, GET /health for load balancers (200
 *    while within health_max_lag blocks of the best peer, else 503), GET
 *    /metrics (Prometheus: per-method requests, errors, latency) and
 *    WebSocket upgrades on the same port (JSON-RPC plus eth_subscribe
 *    newHeads, logs and newPendingTransactions; RFC 6455 framing of our
 *    own).
 *
 * What the node knows and the database does not — the best peer height, the
 * peer count, the transaction pool — comes through struct rpc_backend, whose
 * callbacks may be NULL: a standalone `canon rpc` reading another process's
 * database has no peers and no pool. */
#ifndef CANON_RPC_H
#define CANON_RPC_H

#include <stddef.h>
#include <stdint.h>

#include "base/u256.h"

struct store;
struct netparams;
struct cn_metrics;

/* ==== streaming JSON writer ============================================== */

#define RPC_JW_MAX_DEPTH 32

struct rpc_jw {
	char *p;
	size_t len, cap;
	int err;                        /* sticky: -CN_ENOMEM or -CN_ELIMIT */
	unsigned depth;
	uint8_t has_item[RPC_JW_MAX_DEPTH];
	int after_key;
};

void rpc_jw_init(struct rpc_jw *w);
void rpc_jw_free(struct rpc_jw *w);
/* Forgets the content, keeps the buffer. */
void rpc_jw_reset(struct rpc_jw *w);
void rpc_jw_obj(struct rpc_jw *w);
void rpc_jw_obj_end(struct rpc_jw *w);
void rpc_jw_arr(struct rpc_jw *w);
void rpc_jw_arr_end(struct rpc_jw *w);
void rpc_jw_key(struct rpc_jw *w, const char *k);
/* A string value, escaped (len bytes; may hold NULs and any bytes). */
void rpc_jw_strn(struct rpc_jw *w, const char *s, size_t len);
void rpc_jw_str(struct rpc_jw *w, const char *s);
/* Text already in JSON form (a number, a serialised id). */
void rpc_jw_raw(struct rpc_jw *w, const char *s, size_t len);
void rpc_jw_null(struct rpc_jw *w);
void rpc_jw_bool(struct rpc_jw *w, int v);
void rpc_jw_u64(struct rpc_jw *w, uint64_t v);            /* decimal number */
void rpc_jw_qty(struct rpc_jw *w, uint64_t v);            /* "0x1a" */
void rpc_jw_qty256(struct rpc_jw *w, const struct u256 *v);
void rpc_jw_dec256(struct rpc_jw *w, const struct u256 *v); /* JSON number, exact digits */
void rpc_jw_data(struct rpc_jw *w, const uint8_t *p, size_t len); /* "0x0a0b" */

/* ==== the handler ======================================================== */

/* JSON-RPC error codes. */
#define RPC_E_PARSE (-32700)
#define RPC_E_INVALID_REQUEST (-32600)
#define RPC_E_METHOD (-32601)
#define RPC_E_PARAMS (-32602)
#define RPC_E_INTERNAL (-32603)
#define RPC_E_SERVER (-32000)          /* go-ethereum's generic server error */
#define RPC_E_LIMIT (-32005)           /* rate limited / too many requests */

struct rpc_backend {
	void *ctx;
	/* Height of the best known peer; absent or failing: our own height. */
	int (*peer_height)(void *ctx, uint64_t *out);
	/* Connected peers; absent: 0. */
	int (*peer_count)(void *ctx, uint64_t *out);
	/* Hands a raw transaction to the pool. On success fills hash (the tx's
	 * hash as the pool indexes it); on refusal returns nonzero and writes
	 * the pool's message (go-ethereum's wording) into msg. Absent: the
	 * server refuses eth_sendRawTransaction with a clear error. */
	int (*submit_tx)(void *ctx, const uint8_t *raw, size_t len, int eth_form,
	                 uint8_t hash[32], char *msg, size_t msgcap);
	void *submit_ctx;       /* submit_tx's ctx; NULL: ctx above */
};

struct txpool;
/* Sends eth_/hmy_sendRawTransaction to a src/txpool pool (borrowed):
 * admitted txs answer with their hash, refusals with the pool's
 * go-ethereum wording. */
void rpc_backend_use_txpool(struct rpc_backend *be, struct txpool *pool);

struct rpc_limits {
	size_t max_body;        /* bytes; 0 picks 5 MiB (Harmony's limit) */
	size_t max_batch;       /* requests in one batch; 0 picks 100 */
	unsigned max_depth;     /* JSON nesting; 0 picks 64 */
	uint64_t timeout_ms;    /* a batch stops past this; 0 picks 30000 */
	uint64_t max_log_blocks;/* eth_getLogs range in blocks; 0 picks 1024 */
};

struct rpc_handler;

/* Serves chain `shard` of network np from st (borrowed; read-only is fine).
 * metrics may be NULL. */
int rpc_handler_new(struct rpc_handler **out, struct store *st, const struct netparams *np,
                    uint32_t shard, const struct rpc_limits *lim, const struct rpc_backend *be,
                    struct cn_metrics *metrics);
void rpc_handler_free(struct rpc_handler *h);

/* Answers one request body into w (cleared first). w is left empty when
 * nothing is owed (notifications only). Returns 0, or a negative code for
 * failures of the server itself (-CN_ENOMEM); hostile input is answered with
 * a JSON-RPC error, never a failure. */
int rpc_handle(struct rpc_handler *h, const char *body, size_t len, struct rpc_jw *w);

/* Height of the stored head (-CN_ENOTFOUND for an empty database). */
int rpc_head_number(struct rpc_handler *h, uint64_t *out);

/* Writes the /health JSON into w; *ok says whether it is healthy. */
int rpc_health(struct rpc_handler *h, uint64_t max_lag, struct rpc_jw *w, int *ok);

/* ==== the HTTP server ==================================================== */

struct rpc_server_config {
	const char *addr;       /* IPv4 address to bind; NULL: 127.0.0.1 */
	uint16_t port;          /* 0: an ephemeral port (see rpc_server_port) */
	const char *cors_origin;/* Access-Control-Allow-Origin; NULL: "*" */
	unsigned threads;       /* MHD thread pool; 0 picks 4; at least 2 */
	unsigned max_inflight;  /* requests being served at once; 0 picks 256 */
	unsigned conn_timeout_s;/* idle/slow connection timeout; 0 picks 30 */
	double rate;            /* requests per second per client IP; 0: unlimited */
	double burst;           /* bucket size; 0 picks max(rate, 1) */
	uint64_t health_max_lag;/* blocks; 0 picks 5 */
	unsigned max_ws_conns;  /* WebSocket connections (a thread each); 0 picks 64 */
	/* WebSocket upgrades are accepted on the HTTP port; with ws_listen set
	 * the server also listens on ws_port (0: an ephemeral port), Harmony's
	 * separate WebSocket port. */
	int ws_listen;
	uint16_t ws_port;
	struct rpc_limits limits;
};

struct rpc_server;

int rpc_server_start(struct rpc_server **out, struct store *st, const struct netparams *np,
                     uint32_t shard, const struct rpc_server_config *cfg,
                     const struct rpc_backend *be);
/* The ports actually bound (ws: 0 without ws_listen). */
uint16_t rpc_server_port(const struct rpc_server *s);
uint16_t rpc_server_ws_port(const struct rpc_server *s);
struct cn_metrics *rpc_server_metrics(struct rpc_server *s);
void rpc_server_stop(struct rpc_server *s);

/* Tells WebSocket subscribers of newPendingTransactions about a
 * transaction the pool admitted; hash is sent as given (the node passes
 * the hash its pool indexes the transaction by). Thread-safe and cheap (a
 * copy into a ring under a mutex): the node calls it for every admitted
 * transaction, from whatever thread admits it. Subscribers that fall more
 * than 4096 transactions behind skip the oldest. */
void rpc_server_pending_tx(struct rpc_server *s, const uint8_t hash[32]);

/* Default ports of a network's shard: HTTP 9500 and WebSocket 9800
 * (Harmony's base port 9000 + 500 / + 800); on localnet 9500 + 2i and
 * 9800 + 2i for shard i, as Harmony's localnet advertises them. */
uint16_t rpc_default_port(const char *network, uint32_t shard);
uint16_t rpc_default_ws_port(const char *network, uint32_t shard);

#endif
