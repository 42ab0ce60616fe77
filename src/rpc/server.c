/* server.c — the HTTP side: libmicrohttpd, limits, rate limiting, CORS,
 * /health and /metrics. */
#include <arpa/inet.h>
#include <math.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/metrics.h"
#include "rpc/ws_int.h"

/* ---- per-client token buckets ------------------------------------------
 *
 * A fixed table (no growth an attacker can drive): an address hashes to a
 * window of PROBE slots; a new address takes a free slot there or evicts the
 * least recently seen one. Evicting only ever gives a client a full bucket
 * early, which a flood from many addresses could exploit at most once per
 * eviction — the global in-flight cap bounds the rest. */
#define RL_SLOTS 4096
#define RL_PROBE 16

struct rl_slot {
	uint8_t ip[16];
	int used;
	double tokens;
	uint64_t last_ms;
};

struct rpc_server {
	struct MHD_Daemon *d, *dws;
	uint16_t ws_port;
	struct rpc_handler *h;
	struct cn_metrics *metrics;
	struct rpc_server_config cfg;
	char cors[256];
	uint16_t port;
	atomic_uint inflight;
	pthread_mutex_t rl_mu;
	struct rl_slot *rl;
	struct cn_metric_child *m_limited, *m_http;
	struct rpc_ws ws;
	int ws_ready;
};

static uint64_t fnv(const uint8_t *p, size_t n)
{
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 1099511628211ull;
	return h;
}

/* 1 if the client may proceed. */
static int rl_take(struct rpc_server *s, const struct sockaddr *sa)
{
	if (s->cfg.rate <= 0)
		return 1;
	uint8_t ip[16] = {0};
	if (!sa)
		return 1;
	if (sa->sa_family == AF_INET)
		memcpy(ip, &((const struct sockaddr_in *)sa)->sin_addr, 4);
	else if (sa->sa_family == AF_INET6)
		memcpy(ip, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
	uint64_t now = rpc_now_ms();
	size_t base = (size_t)(fnv(ip, 16) % RL_SLOTS);
	pthread_mutex_lock(&s->rl_mu);
	struct rl_slot *hit = NULL, *victim = NULL;
	for (size_t i = 0; i < RL_PROBE; i++) {
		struct rl_slot *e = &s->rl[(base + i) % RL_SLOTS];
		if (e->used && !memcmp(e->ip, ip, 16)) {
			hit = e;
			break;
		}
		if (!victim || (victim->used && (!e->used || e->last_ms < victim->last_ms)))
			victim = e;
	}
	if (!hit) {
		hit = victim;
		memcpy(hit->ip, ip, 16);
		hit->used = 1;
		hit->tokens = s->cfg.burst;
		hit->last_ms = now;
	}
	double t = hit->tokens + (double)(now - hit->last_ms) * s->cfg.rate / 1000.0;
	if (t > s->cfg.burst)
		t = s->cfg.burst;
	hit->last_ms = now;
	int ok = t >= 1.0;
	hit->tokens = ok ? t - 1.0 : t;
	pthread_mutex_unlock(&s->rl_mu);
	return ok;
}

/* Each WebSocket message spends a token like an HTTP request does. */
static int ws_allow(void *ctx, const struct sockaddr *client)
{
	struct rpc_server *s = ctx;
	int ok = rl_take(s, client);
	if (!ok && s->m_limited)
		cn_counter_inc(s->m_limited);
	return ok;
}

/* ---- responses ---------------------------------------------------------- */

struct req {
	char *buf;
	size_t len, cap;
	int too_big;
};

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
	struct req *r = *con_cls;
	if (r) {
		free(r->buf);
		free(r);
		*con_cls = NULL;
	}
}

static enum MHD_Result reply(struct rpc_server *s, struct MHD_Connection *c, unsigned status,
                             const char *ctype, const char *body, size_t len)
{
	struct MHD_Response *resp =
		MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, "Access-Control-Allow-Origin", s->cors);
	if (ctype)
		MHD_add_response_header(resp, "Content-Type", ctype);
	enum MHD_Result rc = MHD_queue_response(c, status, resp);
	MHD_destroy_response(resp);
	return rc;
}

static enum MHD_Result reply_error(struct rpc_server *s, struct MHD_Connection *c,
                                   unsigned status, int code, const char *msg)
{
	struct rpc_jw w;
	rpc_jw_init(&w);
	rpc_write_error(&w, NULL, code, msg);
	enum MHD_Result rc = w.err ? MHD_NO
	                           : reply(s, c, status, "application/json", w.p, w.len);
	rpc_jw_free(&w);
	return rc;
}

static enum MHD_Result get(struct rpc_server *s, struct MHD_Connection *c, const char *url)
{
	if (!strcmp(url, "/health")) {
		struct rpc_jw w;
		int ok = 0;
		rpc_jw_init(&w);
		int rc = rpc_health(s->h, s->cfg.health_max_lag, &w, &ok);
		enum MHD_Result r;
		if (rc)
			r = reply_error(s, c, MHD_HTTP_SERVICE_UNAVAILABLE, RPC_E_INTERNAL,
			                cn_strerror(rc));
		else
			r = reply(s, c, ok ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE,
			          "application/json", w.p, w.len);
		rpc_jw_free(&w);
		return r;
	}
	if (!strcmp(url, "/metrics")) {
		char *text;
		size_t len;
		if (cn_metrics_format(s->metrics, &text, &len))
			return reply(s, c, MHD_HTTP_INTERNAL_SERVER_ERROR, "text/plain", "", 0);
		enum MHD_Result r = reply(s, c, MHD_HTTP_OK, "text/plain; version=0.0.4", text, len);
		free(text);
		return r;
	}
	return reply(s, c, MHD_HTTP_NOT_FOUND, "text/plain", "not found\n", 10);
}

static enum MHD_Result options(struct rpc_server *s, struct MHD_Connection *c)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(0, (void *)"",
	                                                            MHD_RESPMEM_PERSISTENT);
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, "Access-Control-Allow-Origin", s->cors);
	MHD_add_response_header(resp, "Access-Control-Allow-Methods", "POST, GET, OPTIONS");
	MHD_add_response_header(resp, "Access-Control-Allow-Headers", "Content-Type");
	MHD_add_response_header(resp, "Access-Control-Max-Age", "600");
	enum MHD_Result rc = MHD_queue_response(c, MHD_HTTP_NO_CONTENT, resp);
	MHD_destroy_response(resp);
	return rc;
}

static enum MHD_Result access_cb(void *cls, struct MHD_Connection *c, const char *url,
                                 const char *method, const char *version, const char *upload,
                                 size_t *upload_size, void **con_cls)
{
	struct rpc_server *s = cls;
	struct req *r = *con_cls;
	if (!r) {
		if (!strcmp(method, MHD_HTTP_METHOD_OPTIONS))
			return options(s, c);
		if (!strcmp(method, MHD_HTTP_METHOD_GET) && rpc_ws_is_upgrade(c)) {
			const union MHD_ConnectionInfo *ci =
				MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
			if (!rl_take(s, ci ? ci->client_addr : NULL))
				return reply_error(s, c, MHD_HTTP_TOO_MANY_REQUESTS, RPC_E_LIMIT,
				                   "rate limit exceeded");
			return rpc_ws_upgrade(&s->ws, c, s->cors);
		}
		if (!strcmp(method, MHD_HTTP_METHOD_GET))
			return get(s, c, url);
		if (strcmp(method, MHD_HTTP_METHOD_POST))
			return reply(s, c, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain",
			             "method not allowed\n", 19);
		const union MHD_ConnectionInfo *ci =
			MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
		if (!rl_take(s, ci ? ci->client_addr : NULL)) {
			if (s->m_limited)
				cn_counter_inc(s->m_limited);
			return reply_error(s, c, MHD_HTTP_TOO_MANY_REQUESTS, RPC_E_LIMIT,
			                   "rate limit exceeded");
		}
		/* Refuse a declared oversized body before reading any of it. */
		const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
		                                             MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (cl && strtoull(cl, NULL, 10) > s->h->lim.max_body)
			return reply_error(s, c, MHD_HTTP_CONTENT_TOO_LARGE, RPC_E_INVALID_REQUEST,
			                   "request body too large");
		if (!(r = calloc(1, sizeof *r)))
			return MHD_NO;
		*con_cls = r;
		return MHD_YES;
	}
	if (*upload_size) {
		size_t n = *upload_size;
		*upload_size = 0;
		if (r->too_big || r->len + n > s->h->lim.max_body) {
			r->too_big = 1;
			return MHD_YES;
		}
		if (r->len + n + 1 > r->cap) {
			size_t cap = r->cap ? r->cap : 1024;
			while (cap < r->len + n + 1)
				cap *= 2;
			char *p = realloc(r->buf, cap);
			if (!p)
				return MHD_NO;
			r->buf = p;
			r->cap = cap;
		}
		memcpy(r->buf + r->len, upload, n);
		r->len += n;
		return MHD_YES;
	}
	if (r->too_big)
		return reply_error(s, c, MHD_HTTP_CONTENT_TOO_LARGE, RPC_E_INVALID_REQUEST,
		                   "request body too large");
	if (atomic_fetch_add(&s->inflight, 1) >= s->cfg.max_inflight) {
		atomic_fetch_sub(&s->inflight, 1);
		return reply_error(s, c, MHD_HTTP_SERVICE_UNAVAILABLE, RPC_E_LIMIT,
		                   "too many requests in flight");
	}
	struct rpc_jw w;
	rpc_jw_init(&w);
	int rc = rpc_handle(s->h, r->buf ? r->buf : "", r->len, &w);
	atomic_fetch_sub(&s->inflight, 1);
	enum MHD_Result res;
	if (rc)
		res = reply_error(s, c, MHD_HTTP_INTERNAL_SERVER_ERROR, RPC_E_INTERNAL,
		                  cn_strerror(rc));
	else
		res = reply(s, c, MHD_HTTP_OK, "application/json", w.p ? w.p : "", w.len);
	rpc_jw_free(&w);
	return res;
}

static struct MHD_Daemon *start_daemon(struct rpc_server *s, struct sockaddr_in *sa,
                                       unsigned threads)
{
	return MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL_LINUX_ONLY |
	                                MHD_USE_ERROR_LOG | MHD_ALLOW_UPGRADE,
	                        0, NULL, NULL, access_cb, s,
	                        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)sa,
	                        MHD_OPTION_THREAD_POOL_SIZE, threads,
	                        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)s->cfg.conn_timeout_s,
	                        MHD_OPTION_CONNECTION_LIMIT, (unsigned)(s->cfg.max_inflight * 4),
	                        MHD_OPTION_NOTIFY_COMPLETED, completed, NULL,
	                        MHD_OPTION_END);
}

int rpc_server_start(struct rpc_server **out, struct store *st, const struct netparams *np,
                     uint32_t shard, const struct rpc_server_config *cfg,
                     const struct rpc_backend *be)
{
	struct rpc_server *s = calloc(1, sizeof *s);
	if (!s)
		return -CN_ENOMEM;
	if (cfg)
		s->cfg = *cfg;
	/* libmicrohttpd ignores (and warns about) a pool of one. */
	if (!s->cfg.threads)
		s->cfg.threads = 4;
	if (s->cfg.threads < 2)
		s->cfg.threads = 2;
	if (!s->cfg.max_inflight)
		s->cfg.max_inflight = 256;
	if (!s->cfg.conn_timeout_s)
		s->cfg.conn_timeout_s = 30;
	if (!s->cfg.health_max_lag)
		s->cfg.health_max_lag = 5;
	if (s->cfg.rate < 0 || isnan(s->cfg.rate) || s->cfg.burst < 0 || isnan(s->cfg.burst)) {
		free(s);
		return -CN_EINVAL;
	}
	if (s->cfg.rate > 0 && s->cfg.burst < 1)
		s->cfg.burst = s->cfg.rate < 1 ? 1 : s->cfg.rate;
	snprintf(s->cors, sizeof s->cors, "%s", s->cfg.cors_origin ? s->cfg.cors_origin : "*");
	atomic_init(&s->inflight, 0);
	pthread_mutex_init(&s->rl_mu, NULL);
	int rc = -CN_ENOMEM;
	if (!(s->rl = calloc(RL_SLOTS, sizeof *s->rl)))
		goto fail;
	if ((rc = cn_metrics_new(&s->metrics)))
		goto fail;
	struct cn_metric *lim;
	if ((rc = cn_metrics_counter(s->metrics, "rpc_rate_limited_total",
	                             "HTTP requests refused by the per-client rate limit", NULL, 0,
	                             &lim)) ||
	    (rc = cn_metric_with(lim, NULL, &s->m_limited)))
		goto fail;
	if ((rc = rpc_handler_new(&s->h, st, np, shard, &s->cfg.limits, be, s->metrics)))
		goto fail;

	rpc_ws_init(&s->ws, s->h, s->h->lim.max_body, s->cfg.max_ws_conns ? s->cfg.max_ws_conns : 64);
	s->ws.allow = ws_allow;
	s->ws.allow_ctx = s;
	s->ws_ready = 1;

	struct sockaddr_in sa;
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_port = htons(s->cfg.port);
	if (inet_pton(AF_INET, s->cfg.addr ? s->cfg.addr : "127.0.0.1", &sa.sin_addr) != 1) {
		rc = -CN_EINVAL;
		goto fail;
	}
	if (!(s->d = start_daemon(s, &sa, s->cfg.threads))) {
		rc = -CN_EIO;
		goto fail;
	}
	const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
	s->port = di ? di->port : s->cfg.port;
	if (s->cfg.ws_listen) {
		sa.sin_port = htons(s->cfg.ws_port);
		if (!(s->dws = start_daemon(s, &sa, 2))) {
			rc = -CN_EIO;
			goto fail;
		}
		di = MHD_get_daemon_info(s->dws, MHD_DAEMON_INFO_BIND_PORT);
		s->ws_port = di ? di->port : s->cfg.ws_port;
	}
	/* Before any request can be served, so no reader sees a torn value. */
	s->h->http_port = s->port;
	s->h->ws_port = s->ws_port;
	*out = s;
	return 0;
fail:
	if (s->ws_ready)
		rpc_ws_stop(&s->ws);
	if (s->d)
		MHD_stop_daemon(s->d);
	rpc_handler_free(s->h);
	if (s->metrics)
		cn_metrics_free(s->metrics);
	free(s->rl);
	pthread_mutex_destroy(&s->rl_mu);
	free(s);
	return rc;
}

uint16_t rpc_server_port(const struct rpc_server *s)
{
	return s->port;
}

uint16_t rpc_server_ws_port(const struct rpc_server *s)
{
	return s->ws_port;
}

void rpc_server_pending_tx(struct rpc_server *s, const uint8_t hash[32])
{
	rpc_handler_pending_tx(s->h, hash);
}

struct cn_metrics *rpc_server_metrics(struct rpc_server *s)
{
	return s->metrics;
}

void rpc_server_stop(struct rpc_server *s)
{
	if (!s)
		return;
	/* WebSocket threads first: they hand their sockets back to MHD. */
	rpc_ws_stop(&s->ws);
	if (s->dws)
		MHD_stop_daemon(s->dws);
	MHD_stop_daemon(s->d);
	rpc_handler_free(s->h);
	cn_metrics_free(s->metrics);
	free(s->rl);
	pthread_mutex_destroy(&s->rl_mu);
	free(s);
}
