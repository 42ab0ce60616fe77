/* rt_node.h — one node process on one libuv loop.
 *
 * The node core (src/node) is network-free and clock-free; rt_node is what
 * runs it for real. It owns, on one loop thread:
 *
 *  - the node core: gossip messages, stream answers and timer ticks go in,
 *    the actions that come out are carried out (publish on a topic, ask a
 *    peer of the shard for blocks);
 *  - the transport (rt_host): the shard's three topics, the catch-up stream
 *    protocol served from the store, requests to peers of the shard (the
 *    next peer after a failure);
 *  - one uv_timer for the core's next deadline, and one uv_async through
 *    which RPC threads that admitted a transaction wake the loop so that the
 *    transaction is gossiped at once rather than at the next deadline;
 *
 * and beside the loop, on their own threads:
 *
 *  - the embedded JSON-RPC server (src/rpc) reading the node's store, whose
 *    eth_sendRawTransaction goes to node_submit_tx;
 *  - a small HTTP endpoint for operators: GET /metrics (Prometheus text of
 *    the node's, the transport's and the RPC server's registries) and GET
 *    /status (one JSON object: height, head, view, leader, peers...).
 *
 * The threads never touch the node core except through node_submit_tx
 * (thread-safe) and a status snapshot that the loop refreshes after every
 * event under a mutex.
 *
 * Shutdown: rt_node_stop() stops the RPC server and the HTTP endpoint, then
 * closes the loop's handles; uv_run() returns; rt_node_free() closes the
 * node core, which flushes and closes the store. rt_node_run() does all of
 * it with SIGINT/SIGTERM as the stop signal. */
#ifndef CANON_RUNTIME_RT_NODE_H
#define CANON_RUNTIME_RT_NODE_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "node/node.h"
#include "rpc/rpc.h"
#include "runtime/rt_host.h"

struct rt_node_config {
	struct node_config node;        /* node.metrics is ignored: rt_node keeps the registry */
	struct rt_host_config host;     /* host.metrics likewise */
	int rpc;                        /* serve JSON-RPC with rpc below */
	struct rpc_server_config rpc_cfg;
	int prometheus;                 /* serve /metrics and /status */
	const char *prometheus_ip;      /* NULL: 127.0.0.1 */
	uint16_t prometheus_port;       /* 0: an ephemeral port */
	uint64_t sync_timeout_ms;       /* one catch-up request; 0: 5000 */
};

struct rt_node;

/* Opens the node core, starts the transport, the RPC server and the HTTP
 * endpoint, and starts the core. On failure writes a sentence into err
 * (the port that is busy, the store that cannot be opened...) and returns
 * the error; the loop may then hold closing handles: run it until it
 * returns before closing it. */
int rt_node_start(struct rt_node **out, uv_loop_t *loop, const struct rt_node_config *cfg,
                  char *err, size_t errcap);
/* Graceful stop from the loop thread: RPC and HTTP stop, handles close,
 * uv_run() returns. Idempotent. */
void rt_node_stop(struct rt_node *rn);
/* After uv_run() returned: closes the node core (store flushed). */
void rt_node_free(struct rt_node *rn);

/* Ports actually bound (0 when the service is off). */
uint16_t rt_node_rpc_port(const struct rt_node *rn);
uint16_t rt_node_ws_port(const struct rt_node *rn);
uint16_t rt_node_prometheus_port(const struct rt_node *rn);
uint16_t rt_node_p2p_port(const struct rt_node *rn);

/* The /status JSON from the latest snapshot; callable from any thread.
 * -CN_ERANGE when it does not fit. */
int rt_node_status_json(struct rt_node *rn, char *out, size_t cap, size_t *len);

/* Starts a node on a loop of its own and runs it until SIGINT or SIGTERM;
 * returns 0 after a clean stop, else the error of the start (err says
 * why). Callers may block SIGINT and SIGTERM before (so that the service
 * threads inherit the mask and a signal during start-up waits): once the
 * handlers are in place they are unblocked in the calling thread. */
int rt_node_run(const struct rt_node_config *cfg, char *err, size_t errcap);

#endif
