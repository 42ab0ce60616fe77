/* rt_node.c — the node core, its transport, RPC and the operator endpoint on
 * one libuv loop. */
#include "runtime/rt_node.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/bytes.h"
#include "base/err.h"
#include "base/log.h"
#include "base/metrics.h"
#include "core/core.h"
#include "runtime/rt_net.h"
#include "txpool/txpool.h"

#define TOPIC_MAX 128
#define PROTO_MAX 128
#define SYNC_PEERS_MAX 64
#define IDLE_TICK_MS 1000       /* tick at least this often when the core names no deadline */
#define SYNC_FAIL_DELAY_MS 200  /* a request that could not be sent fails after this */

/* One catch-up request in flight. The transport calls back exactly once;
 * requests still listed at rt_node_free are freed there. */
struct sync_req {
	struct rt_node *rn;
	struct sync_req *prev, *next;
};

struct rt_node {
	uv_loop_t *loop;
	struct node *node;
	struct rt_host *host;
	struct rpc_server *rpc;
	struct MHD_Daemon *http;
	struct cn_metrics *node_metrics, *host_metrics;
	struct node_out out;
	uint32_t shard;
	int role;
	char topics[NODE_TOPIC_COUNT][TOPIC_MAX];
	char sync_proto[PROTO_MAX];
	uint64_t sync_timeout_ms;
	size_t sync_rot;                /* next peer to ask, rotating over the shard's peers */
	struct sync_req *reqs;
	unsigned sync_failures;         /* requests that could not be sent, due in sync_fail */
	int busy;                       /* inside feed(): new events wait in evq */
	struct event *evq, **evq_tail;

	uv_timer_t tick, sync_fail;
	uv_async_t wake;
	int handles;                    /* loop handles initialised (closing counts them down) */
	atomic_int loop_ready;          /* wake may be signalled */
	_Atomic(struct rpc_server *) rpc_live;  /* rpc, for RPC threads (set after the start) */
	int stopping;
	uint64_t armed_ms;              /* deadline tick is armed for, 0 if none */

	pthread_mutex_t mu;             /* guards st and peers (read by the service threads) */
	struct node_status st;
	uint64_t peers;
	uint16_t rpc_port, ws_port, http_port, p2p_port;
};

/* ---- the status snapshot ----------------------------------------------------- */

static void refresh_status(struct rt_node *rn)
{
	struct node_status st;
	node_status(rn->node, &st);
	uint64_t peers = rn->host ? rt_host_peer_count(rn->host) : 0;
	pthread_mutex_lock(&rn->mu);
	rn->st = st;
	rn->peers = peers;
	pthread_mutex_unlock(&rn->mu);
}

static void hex0x(const uint8_t *b, size_t n, char *out)
{
	out[0] = '0';
	out[1] = 'x';
	hex_encode(b, n, out + 2);
}

int rt_node_status_json(struct rt_node *rn, char *out, size_t cap, size_t *len)
{
	pthread_mutex_lock(&rn->mu);
	struct node_status st = rn->st;
	uint64_t peers = rn->peers;
	pthread_mutex_unlock(&rn->mu);
	char head[2 + 64 + 1], root[2 + 64 + 1], leader[2 + 96 + 1];
	hex0x(st.head_hash, sizeof st.head_hash, head);
	hex0x(st.state_root, sizeof st.state_root, root);
	hex0x(st.leader_pk, sizeof st.leader_pk, leader);
	int n = snprintf(out, cap,
			 "{\"shard\":%" PRIu32 ",\"role\":\"%s\",\"height\":%" PRIu64 ",\"head\":\"%s\","
			 "\"state_root\":\"%s\",\"view\":%" PRIu64 ",\"viewchange\":%s,\"leader\":\"%s\","
			 "\"last_final_ms\":%" PRIu64 ",\"peers\":%" PRIu64 ",\"pool_pending\":%zu,"
			 "\"pool_queued\":%zu,\"consensus_height\":%" PRIu64 ",\"best_peer_height\":%" PRIu64
			 ",\"view_changes\":%" PRIu64 ",\"txs_final\":%" PRIu64 ",\"pid\":%ld}\n",
			 st.shard, rn->role == NODE_VALIDATOR ? "validator" : "explorer", st.height, head,
			 root, st.view, st.in_viewchange ? "true" : "false", leader, st.last_final_ms, peers,
			 st.pool_pending, st.pool_queued, st.consensus_height, st.best_peer_height,
			 st.view_changes, st.txs_final, (long)getpid());
	if (n < 0 || (size_t)n >= cap)
		return -CN_ERANGE;
	if (len)
		*len = (size_t)n;
	return 0;
}

/* ---- carrying out the core's actions ------------------------------------------ */

static void on_tick(uv_timer_t *t);

static void arm_tick_at(struct rt_node *rn, uint64_t wake_ms)
{
	if (rn->stopping)
		return;
	uint64_t now = rt_now_ms();
	if (!wake_ms) {
		/* No deadline named: keep an earlier one, else tick idly so that
		 * the status snapshot stays fresh. */
		if (rn->armed_ms && rn->armed_ms > now)
			return;
		wake_ms = now + IDLE_TICK_MS;
	}
	rn->armed_ms = wake_ms;
	uv_timer_start(&rn->tick, on_tick, wake_ms > now ? wake_ms - now : 0, 0);
}

/* Everything that steps the core goes through feed(): the transport may
 * call back while an action is being carried out (a publish that delivers,
 * a request that fails), and those events wait in a queue instead of
 * overwriting the action list being walked. */
enum ev_kind { EV_TICK, EV_DELIVER, EV_SYNC };

struct event {
	enum ev_kind kind;
	int topic, err;
	const uint8_t *data;
	size_t len;
	struct event *next;      /* queued copies only */
};

static void run_actions(struct rt_node *rn);

static void step(struct rt_node *rn, const struct event *ev)
{
	uint64_t now = rt_now_ms();
	int rc = 0;
	switch (ev->kind) {
	case EV_TICK:
		rn->armed_ms = 0;
		rc = node_tick(rn->node, now, &rn->out);
		if (rc)
			cn_log_warn("node tick: %s", cn_strerror(rc));
		break;
	case EV_DELIVER:
		rc = node_deliver(rn->node, now, ev->topic, ev->data, ev->len, &rn->out);
		if (rc)
			cn_log_debug("gossip on %s refused: %s", rn->topics[ev->topic], cn_strerror(rc));
		break;
	case EV_SYNC:
		rc = node_sync_response(rn->node, now, ev->err, ev->err ? NULL : ev->data,
					ev->err ? 0 : ev->len, &rn->out);
		if (rc)
			cn_log_warn("sync response refused: %s", cn_strerror(rc));
		break;
	}
	run_actions(rn);
}

static void feed(struct rt_node *rn, const struct event *ev)
{
	if (rn->stopping)
		return;
	if (rn->busy) {
		struct event *q = malloc(sizeof *q + ev->len);
		if (!q) {
			cn_log_warn("out of memory: an event for the node core is lost");
			return;
		}
		*q = *ev;
		q->next = NULL;
		if (ev->len)
			memcpy((uint8_t *)(q + 1), ev->data, ev->len);
		q->data = (const uint8_t *)(q + 1);
		*rn->evq_tail = q;
		rn->evq_tail = &q->next;
		return;
	}
	rn->busy = 1;
	step(rn, ev);
	while (rn->evq && !rn->stopping) {
		struct event *q = rn->evq;
		rn->evq = q->next;
		if (!rn->evq)
			rn->evq_tail = &rn->evq;
		step(rn, q);
		free(q);
	}
	rn->busy = 0;
	if (!rn->stopping)
		refresh_status(rn);
}

static void on_sync_response(void *ctx, int err, int status, const uint8_t *data, size_t len)
{
	struct sync_req *q = ctx;
	struct rt_node *rn = q->rn;
	if (q->prev)
		q->prev->next = q->next;
	else
		rn->reqs = q->next;
	if (q->next)
		q->next->prev = q->prev;
	free(q);
	int e = err ? err : status ? -CN_EIO : 0;
	if (e) {
		rn->sync_rot++;     /* the next request goes to another peer */
		cn_log_debug("sync request failed: %s", cn_strerror(e));
	}
	struct event ev = {.kind = EV_SYNC, .err = e, .data = data, .len = e ? 0 : len};
	feed(rn, &ev);
}

/* Sends one catch-up request to the next peer of the shard. */
static int request_sync(struct rt_node *rn, const uint8_t *data, size_t len)
{
	uint8_t (*ids)[32] = malloc(SYNC_PEERS_MAX * sizeof *ids);
	if (!ids)
		return -CN_ENOMEM;
	size_t n = rt_host_topic_peers(rn->host, rn->topics[NODE_TOPIC_BLOCK], ids, SYNC_PEERS_MAX);
	if (n > SYNC_PEERS_MAX)
		n = SYNC_PEERS_MAX;
	if (!n) {
		free(ids);
		return -CN_ENOTFOUND;
	}
	struct sync_req *q = calloc(1, sizeof *q);
	if (!q) {
		free(ids);
		return -CN_ENOMEM;
	}
	q->rn = rn;
	q->next = rn->reqs;
	if (q->next)
		q->next->prev = q;
	rn->reqs = q;
	const uint8_t *peer = ids[rn->sync_rot % n];
	int rc = rt_host_request(rn->host, peer, rn->sync_proto, data, len, rn->sync_timeout_ms,
				 on_sync_response, q);
	free(ids);
	if (rc) {
		rn->reqs = q->next;
		if (q->next)
			q->next->prev = NULL;
		free(q);
		rn->sync_rot++;
	}
	return rc;
}

static void on_sync_fail(uv_timer_t *t)
{
	struct rt_node *rn = t->data;
	unsigned n = rn->sync_failures;
	rn->sync_failures = 0;
	struct event ev = {.kind = EV_SYNC, .err = -CN_ENOTFOUND};
	for (unsigned i = 0; i < n; i++)
		feed(rn, &ev);
}

/* Carries out rn->out. A request that cannot be sent is reported back to
 * the core a little later rather than at once, so that a core that asks
 * again on failure cannot spin the loop while no peer is known. */
static void run_actions(struct rt_node *rn)
{
	struct node_out *o = &rn->out;
	for (size_t i = 0; i < o->n && !rn->stopping; i++) {
		struct node_action *a = &o->a[i];
		int rc = 0;
		switch (a->kind) {
		case NODE_ACT_PUBLISH:
			if (a->topic < 0 || a->topic >= NODE_TOPIC_COUNT) {
				cn_log_warn("node asked to publish on unknown topic %d", a->topic);
				break;
			}
			rc = rt_host_publish(rn->host, rn->topics[a->topic], a->data, a->len);
			if (rc && rc != -CN_EEXIST)
				cn_log_debug("publish on %s failed: %s", rn->topics[a->topic], cn_strerror(rc));
			break;
		case NODE_ACT_SYNC:
			rc = request_sync(rn, a->data, a->len);
			if (rc) {
				cn_log_debug("sync request not sent: %s", cn_strerror(rc));
				if (!rn->sync_failures++)
					uv_timer_start(&rn->sync_fail, on_sync_fail, SYNC_FAIL_DELAY_MS, 0);
			}
			break;
		default:
			cn_log_warn("node returned unknown action %d", a->kind);
		}
	}
	uint64_t wake = o->wake_ms;
	node_out_reset(o);
	arm_tick_at(rn, wake);
}

static void on_tick(uv_timer_t *t)
{
	struct rt_node *rn = t->data;
	struct event ev = {.kind = EV_TICK};
	feed(rn, &ev);
}

/* An RPC thread admitted a transaction: publish it now. */
static void on_wake(uv_async_t *a)
{
	on_tick(&((struct rt_node *)a->data)->tick);
}

/* ---- transport callbacks -------------------------------------------------------- */

static int topic_index(struct rt_node *rn, const char *topic)
{
	for (int i = 0; i < NODE_TOPIC_COUNT; i++)
		if (!strcmp(topic, rn->topics[i]))
			return i;
	return -1;
}

static enum gossip_verdict on_validate(void *ctx, const char *topic, const uint8_t from[32],
				       const uint8_t *data, size_t len)
{
	struct rt_node *rn = ctx;
	int t = topic_index(rn, topic);
	if (t < 0 || rn->stopping)
		return GOSSIP_IGNORE;
	/* node_verdict is numbered like gossip_verdict (node.h). */
	return (enum gossip_verdict)node_validate(rn->node, t, data, len);
}

/* The node admitted a gossiped tx (one of a batch or alone): WebSocket
 * subscribers of newPendingTransactions hear of it as of an RPC one. The
 * pool admits each tx once, so each is announced once. */
static void on_gossip_tx(void *ctx, const uint8_t hash[32])
{
	struct rt_node *rn = ctx;
	struct rpc_server *srv = atomic_load(&rn->rpc_live);
	if (srv)
		rpc_server_pending_tx(srv, hash);
}

static void on_deliver(void *ctx, const char *topic, const uint8_t from[32], const uint8_t *data,
		       size_t len)
{
	struct rt_node *rn = ctx;
	int t = topic_index(rn, topic);
	if (t < 0)
		return;
	struct event ev = {.kind = EV_DELIVER, .topic = t, .data = data, .len = len};
	feed(rn, &ev);
}

static void on_peer(void *ctx, const uint8_t id[32], int up)
{
	struct rt_node *rn = ctx;
	if (!rn->stopping)
		refresh_status(rn);
}

static void on_serve_sync(void *ctx, const uint8_t peer[32], const uint8_t *req, size_t len,
			  struct rt_host_req *r)
{
	struct rt_node *rn = ctx;
	uint8_t *resp = NULL;
	size_t resp_len = 0;
	int rc = rn->stopping ? -CN_ESTATE : node_serve_sync(rn->node, req, len, &resp, &resp_len);
	if (rc)
		rt_host_reply(r, 1, NULL, 0);
	else
		rt_host_reply(r, 0, resp, resp_len);
	free(resp);
}

/* ---- RPC backend (called on RPC threads) ------------------------------------------- */

static int be_peer_height(void *ctx, uint64_t *out)
{
	struct rt_node *rn = ctx;
	pthread_mutex_lock(&rn->mu);
	uint64_t h = rn->st.best_peer_height;
	pthread_mutex_unlock(&rn->mu);
	if (!h)
		return -CN_ENOTFOUND;
	*out = h;
	return 0;
}

static int be_peer_count(void *ctx, uint64_t *out)
{
	struct rt_node *rn = ctx;
	pthread_mutex_lock(&rn->mu);
	*out = rn->peers;
	pthread_mutex_unlock(&rn->mu);
	return 0;
}

static int be_submit_tx(void *ctx, const uint8_t *raw, size_t len, int eth_form, uint8_t hash[32],
			char *msg, size_t msgcap)
{
	struct rt_node *rn = ctx;
	int rc = node_submit_tx(rn->node, raw, len, eth_form, hash, msg, msgcap);
	if (rc)
		return rc;
	struct rpc_server *srv = atomic_load(&rn->rpc_live);
	if (srv)
		rpc_server_pending_tx(srv, hash);
	if (atomic_load(&rn->loop_ready))
		uv_async_send(&rn->wake);
	return 0;
}

/* ---- the operator endpoint: /metrics and /status ------------------------------------- */

static enum MHD_Result http_reply(struct MHD_Connection *c, unsigned status, const char *ctype,
				  char *body, size_t len, enum MHD_ResponseMemoryMode mode)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, body, mode);
	if (!r) {
		if (mode == MHD_RESPMEM_MUST_FREE)
			free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", ctype);
	enum MHD_Result rc = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return rc;
}

/* Appends one registry's text to a growing buffer. */
static int append_metrics(struct cn_metrics *m, char **buf, size_t *len)
{
	if (!m)
		return 0;
	char *text;
	size_t n;
	int rc = cn_metrics_format(m, &text, &n);
	if (rc)
		return rc;
	char *nb = realloc(*buf, *len + n + 1);
	if (!nb) {
		free(text);
		return -CN_ENOMEM;
	}
	memcpy(nb + *len, text, n);
	*len += n;
	nb[*len] = 0;
	*buf = nb;
	free(text);
	return 0;
}

static enum MHD_Result http_access(void *cls, struct MHD_Connection *c, const char *url,
				   const char *method, const char *version, const char *upload,
				   size_t *upload_len, void **con_cls)
{
	struct rt_node *rn = cls;
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		return http_reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain",
				  (char *)"GET only\n", 9, MHD_RESPMEM_PERSISTENT);
	if (!strcmp(url, "/metrics")) {
		char *buf = NULL;
		size_t len = 0;
		int rc = append_metrics(rn->node_metrics, &buf, &len);
		if (!rc)
			rc = append_metrics(rn->host_metrics, &buf, &len);
		if (!rc && rn->rpc)
			rc = append_metrics(rpc_server_metrics(rn->rpc), &buf, &len);
		if (rc) {
			free(buf);
			return http_reply(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "text/plain",
					  (char *)"metrics unavailable\n", 20, MHD_RESPMEM_PERSISTENT);
		}
		return http_reply(c, MHD_HTTP_OK, "text/plain; version=0.0.4", buf ? buf : strdup(""),
				  len, MHD_RESPMEM_MUST_FREE);
	}
	if (!strcmp(url, "/status")) {
		char body[1024];
		size_t len;
		if (rt_node_status_json(rn, body, sizeof body, &len))
			return http_reply(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "text/plain",
					  (char *)"status unavailable\n", 19, MHD_RESPMEM_PERSISTENT);
		return http_reply(c, MHD_HTTP_OK, "application/json", body, len, MHD_RESPMEM_MUST_COPY);
	}
	return http_reply(c, MHD_HTTP_NOT_FOUND, "text/plain", (char *)"not found\n", 10,
			  MHD_RESPMEM_PERSISTENT);
}

static int start_http(struct rt_node *rn, const char *ip, uint16_t port, char *err, size_t cap)
{
	struct sockaddr_in sa;
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_port = htons(port);
	if (inet_pton(AF_INET, ip, &sa.sin_addr) != 1) {
		snprintf(err, cap, "prometheus address '%s' is not an IPv4 address", ip);
		return -CN_EINVAL;
	}
	rn->http = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL_LINUX_ONLY, port,
				    NULL, NULL, http_access, rn, MHD_OPTION_SOCK_ADDR,
				    (struct sockaddr *)&sa, MHD_OPTION_CONNECTION_TIMEOUT, 10u,
				    MHD_OPTION_END);
	if (!rn->http) {
		snprintf(err, cap, "cannot listen on %s:%u for prometheus (port busy?)", ip,
			 (unsigned)port);
		return -CN_EIO;
	}
	const union MHD_DaemonInfo *di = MHD_get_daemon_info(rn->http, MHD_DAEMON_INFO_BIND_PORT);
	rn->http_port = di ? di->port : port;
	return 0;
}

/* ---- start and stop --------------------------------------------------------------------- */

static void on_closed(uv_handle_t *h)
{
	struct rt_node *rn = h->data;
	rn->handles--;
}

void rt_node_stop(struct rt_node *rn)
{
	if (rn->stopping)
		return;
	rn->stopping = 1;
	atomic_store(&rn->loop_ready, 0);
	atomic_store(&rn->rpc_live, NULL);
	/* RPC threads call node_submit_tx and signal wake: stop them first. */
	if (rn->rpc) {
		rpc_server_stop(rn->rpc);
		rn->rpc = NULL;
	}
	if (rn->http) {
		MHD_stop_daemon(rn->http);
		rn->http = NULL;
	}
	uv_handle_t *hs[] = {(uv_handle_t *)&rn->tick, (uv_handle_t *)&rn->sync_fail,
			     (uv_handle_t *)&rn->wake};
	for (size_t i = 0; i < sizeof hs / sizeof hs[0]; i++)
		if (hs[i]->loop && !uv_is_closing(hs[i]))
			uv_close(hs[i], on_closed);
	if (rn->host)
		rt_host_close(rn->host);
}

void rt_node_free(struct rt_node *rn)
{
	if (!rn)
		return;
	if (rn->rpc)
		rpc_server_stop(rn->rpc);
	if (rn->http)
		MHD_stop_daemon(rn->http);
	if (rn->host)
		rt_host_free(rn->host);
	while (rn->evq) {
		struct event *q = rn->evq;
		rn->evq = q->next;
		free(q);
	}
	while (rn->reqs) {
		struct sync_req *q = rn->reqs;
		rn->reqs = q->next;
		free(q);
	}
	if (rn->node)
		node_close(rn->node);
	node_out_free(&rn->out);
	cn_metrics_free(rn->node_metrics);
	cn_metrics_free(rn->host_metrics);
	pthread_mutex_destroy(&rn->mu);
	free(rn);
}

static int port_of_address(const char *addr)
{
	const char *colon = strrchr(addr, ':');
	return colon ? atoi(colon + 1) : 0;
}

int rt_node_start(struct rt_node **out, uv_loop_t *loop, const struct rt_node_config *cfg,
		  char *err, size_t errcap)
{
	char tmp[8];
	if (!errcap) {
		err = tmp;
		errcap = sizeof tmp;
	}
	err[0] = 0;
	*out = NULL;
	struct rt_node *rn = calloc(1, sizeof *rn);
	if (!rn) {
		snprintf(err, errcap, "out of memory");
		return -CN_ENOMEM;
	}
	pthread_mutex_init(&rn->mu, NULL);
	node_out_init(&rn->out);
	rn->evq_tail = &rn->evq;
	rn->loop = loop;
	rn->shard = cfg->node.shard;
	rn->role = cfg->node.role;
	rn->sync_timeout_ms = cfg->sync_timeout_ms ? cfg->sync_timeout_ms : 5000;
	atomic_init(&rn->loop_ready, 0);
	atomic_init(&rn->rpc_live, NULL);
	int rc;
	for (int t = 0; t < NODE_TOPIC_COUNT; t++)
		if ((rc = node_topic_name(cfg->node.network, cfg->node.shard, t, rn->topics[t],
					  TOPIC_MAX))) {
			snprintf(err, errcap, "topic name: %s", cn_strerror(rc));
			goto fail;
		}
	if ((rc = node_sync_protocol(cfg->node.network, cfg->node.shard, rn->sync_proto, PROTO_MAX))) {
		snprintf(err, errcap, "sync protocol name: %s", cn_strerror(rc));
		goto fail;
	}
	if ((rc = cn_metrics_new(&rn->node_metrics)) || (rc = cn_metrics_new(&rn->host_metrics))) {
		snprintf(err, errcap, "metrics: %s", cn_strerror(rc));
		goto fail;
	}

	struct node_config nc = cfg->node;
	nc.metrics = rn->node_metrics;
	nc.on_gossip_tx = on_gossip_tx;
	nc.on_gossip_tx_ctx = rn;
	if ((rc = node_open(&rn->node, &nc))) {
		snprintf(err, errcap, "cannot open the node (datadir %s, %s shard %u): %s%s", nc.datadir,
			 nc.network, (unsigned)nc.shard, cn_strerror(rc),
			 rc == -CN_EINVAL && nc.n_keys ? " (is every BLS key in the shard's committee?)" : "");
		goto fail;
	}
	refresh_status(rn);

	/* Services on their own threads first: they fail without leaving
	 * loop handles behind. */
	if (cfg->prometheus &&
	    (rc = start_http(rn, cfg->prometheus_ip ? cfg->prometheus_ip : "127.0.0.1",
			     cfg->prometheus_port, err, errcap)))
		goto fail;
	if (cfg->rpc) {
		struct rpc_backend be = {
			.ctx = rn,
			.peer_height = be_peer_height,
			.peer_count = be_peer_count,
			.submit_tx = be_submit_tx,
		};
		if ((rc = rpc_server_start(&rn->rpc, node_store(rn->node), node_params(rn->node),
					   cfg->node.shard, &cfg->rpc_cfg, &be))) {
			snprintf(err, errcap, "cannot serve JSON-RPC on %s:%u (ws %u): %s (port busy?)",
				 cfg->rpc_cfg.addr ? cfg->rpc_cfg.addr : "127.0.0.1",
				 (unsigned)cfg->rpc_cfg.port, (unsigned)cfg->rpc_cfg.ws_port,
				 cn_strerror(rc));
			goto fail;
		}
		atomic_store(&rn->rpc_live, rn->rpc);
		rn->rpc_port = rpc_server_port(rn->rpc);
		rn->ws_port = rpc_server_ws_port(rn->rpc);
	}

	struct rt_host_config hc = cfg->host;
	hc.metrics = rn->host_metrics;
	struct rt_host_callbacks cb = {.validate = on_validate, .deliver = on_deliver, .peer = on_peer};
	if ((rc = rt_host_start(&rn->host, loop, &hc, &cb, rn))) {
		char ip[64] = "?";
		net_addr_format(&hc.bind, ip, sizeof ip);
		snprintf(err, errcap, "cannot start the transport on %s: %s (port busy?)", ip,
			 cn_strerror(rc));
		rn->host = NULL;
		goto fail;
	}
	for (int t = 0; t < NODE_TOPIC_COUNT; t++)
		if ((rc = rt_host_subscribe(rn->host, rn->topics[t]))) {
			snprintf(err, errcap, "subscribe %s: %s", rn->topics[t], cn_strerror(rc));
			goto fail_loop;
		}
	if ((rc = rt_host_serve(rn->host, rn->sync_proto, on_serve_sync, rn))) {
		snprintf(err, errcap, "serve %s: %s", rn->sync_proto, cn_strerror(rc));
		goto fail_loop;
	}
	char addr[256];
	if (rt_host_address(rn->host, addr, sizeof addr) == 0)
		rn->p2p_port = (uint16_t)port_of_address(addr);

	uv_timer_init(loop, &rn->tick);
	uv_timer_init(loop, &rn->sync_fail);
	uv_async_init(loop, &rn->wake, on_wake);
	rn->tick.data = rn->sync_fail.data = rn->wake.data = rn;
	rn->handles = 3;
	atomic_store(&rn->loop_ready, 1);

	rn->busy = 1;
	rc = node_start(rn->node, rt_now_ms(), &rn->out);
	if (rc) {
		rn->busy = 0;
		snprintf(err, errcap, "cannot start consensus: %s", cn_strerror(rc));
		goto fail_loop;
	}
	run_actions(rn);
	rn->busy = 0;
	if (rn->evq) {
		/* Events that arrived while the start's actions ran. */
		struct event tick = {.kind = EV_TICK};
		feed(rn, &tick);
	}
	refresh_status(rn);
	*out = rn;
	return 0;

fail_loop:
	/* Loop handles exist: close them; the caller runs the loop dry. */
	rt_node_stop(rn);
	uv_run(loop, UV_RUN_DEFAULT);
	rt_node_free(rn);
	return rc;
fail:
	rt_node_free(rn);
	return rc;
}

uint16_t rt_node_rpc_port(const struct rt_node *rn)
{
	return rn->rpc_port;
}

uint16_t rt_node_ws_port(const struct rt_node *rn)
{
	return rn->ws_port;
}

uint16_t rt_node_prometheus_port(const struct rt_node *rn)
{
	return rn->http_port;
}

uint16_t rt_node_p2p_port(const struct rt_node *rn)
{
	return rn->p2p_port;
}

/* ---- a whole process -------------------------------------------------------------------- */

struct run {
	struct rt_node *rn;
	uv_signal_t sigint, sigterm;
	int sig;
};

static void on_signal(uv_signal_t *s, int signum)
{
	struct run *r = s->data;
	if (!r->sig)
		cn_log_info("signal %d: stopping", signum);
	r->sig = signum;
	rt_node_stop(r->rn);
	if (!uv_is_closing((uv_handle_t *)&r->sigint))
		uv_close((uv_handle_t *)&r->sigint, NULL);
	if (!uv_is_closing((uv_handle_t *)&r->sigterm))
		uv_close((uv_handle_t *)&r->sigterm, NULL);
}

int rt_node_run(const struct rt_node_config *cfg, char *err, size_t errcap)
{
	uv_loop_t loop;
	int rc = uv_loop_init(&loop);
	if (rc) {
		snprintf(err, errcap, "event loop: %s", uv_strerror(rc));
		return -CN_EIO;
	}
	struct run r = {0};
	if ((rc = rt_node_start(&r.rn, &loop, cfg, err, errcap))) {
		uv_run(&loop, UV_RUN_DEFAULT);
		uv_loop_close(&loop);
		return rc;
	}
	uv_signal_init(&loop, &r.sigint);
	uv_signal_init(&loop, &r.sigterm);
	r.sigint.data = r.sigterm.data = &r;
	uv_signal_start(&r.sigint, on_signal, SIGINT);
	uv_signal_start(&r.sigterm, on_signal, SIGTERM);
	/* A caller that blocked the signals during its own start-up (key
	 * decryption) gets any that arrived meanwhile now, as a clean stop. */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	cn_log_info("node running: %s shard %u, p2p port %u, rpc %u, ws %u, prometheus %u",
		    cfg->node.network, (unsigned)cfg->node.shard, (unsigned)rt_node_p2p_port(r.rn),
		    (unsigned)rt_node_rpc_port(r.rn), (unsigned)rt_node_ws_port(r.rn),
		    (unsigned)rt_node_prometheus_port(r.rn));
	uv_run(&loop, UV_RUN_DEFAULT);
	/* The loop ends only once every handle closed, which only a stop does;
	 * stop anyway in case the transport closed on its own. */
	rt_node_stop(r.rn);
	if (!uv_is_closing((uv_handle_t *)&r.sigint)) {
		uv_close((uv_handle_t *)&r.sigint, NULL);
		uv_close((uv_handle_t *)&r.sigterm, NULL);
	}
	uv_run(&loop, UV_RUN_DEFAULT);
	rt_node_free(r.rn);
	uv_loop_close(&loop);
	cn_log_info("node stopped");
	return 0;
}
