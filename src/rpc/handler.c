/* handler.c — JSON-RPC 2.0 envelope: parsing, batches, errors, dispatch. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/err.h"
#include "base/metrics.h"
#include "rpc/rpc_int.h"
#include "store/store.h"

uint64_t rpc_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static const double lat_buckets[] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                     0.01,   0.025,   0.05,   0.1,   0.25,   1, 5};

#define MM_UNKNOWN (rpc_method_count())
#define MM_INVALID (rpc_method_count() + 1)

static int method_metrics(struct rpc_handler *h)
{
	size_t n = rpc_method_count() + 2;
	if (!(h->mm = calloc(n, sizeof *h->mm)))
		return -CN_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const char *v[1] = {i == MM_UNKNOWN ? "unknown" : i == MM_INVALID ? "invalid"
		                                                 : rpc_method_name(i)};
		int rc;
		if ((rc = cn_metric_with(h->m_req, v, &h->mm[i].req)) ||
		    (rc = cn_metric_with(h->m_err, v, &h->mm[i].err)) ||
		    (rc = cn_metric_with(h->m_lat, v, &h->mm[i].lat)))
			return rc;
	}
	return 0;
}

int rpc_handler_new(struct rpc_handler **out, struct store *st, const struct netparams *np,
                    uint32_t shard, const struct rpc_limits *lim, const struct rpc_backend *be,
                    struct cn_metrics *metrics)
{
	struct rpc_handler *h = calloc(1, sizeof *h);
	if (!h)
		return -CN_ENOMEM;
	h->st = st;
	h->np = np;
	h->shard = shard;
	h->start_unix = (uint64_t)time(NULL);
	pthread_mutex_init(&h->senders_mu, NULL);
	pthread_mutex_init(&h->pending_mu, NULL);
	if (!(h->pending = calloc(RPC_PENDING_RING, sizeof *h->pending))) {
		pthread_mutex_destroy(&h->senders_mu);
		pthread_mutex_destroy(&h->pending_mu);
		free(h);
		return -CN_ENOMEM;
	}
	if (lim)
		h->lim = *lim;
	if (!h->lim.max_body)
		h->lim.max_body = 5u << 20;
	if (!h->lim.max_batch)
		h->lim.max_batch = 100;
	if (!h->lim.max_depth)
		h->lim.max_depth = 64;
	if (!h->lim.max_log_blocks)
		h->lim.max_log_blocks = 1024;
	if (!h->lim.timeout_ms)
		h->lim.timeout_ms = 30000;
	if (be)
		h->be = *be;
	h->metrics = metrics;
	if (metrics) {
		static const char *const lbl[] = {"method"};
		int rc;
		if ((rc = cn_metrics_counter(metrics, "rpc_requests_total",
		                             "JSON-RPC calls by method", lbl, 1, &h->m_req)) ||
		    (rc = cn_metrics_counter(metrics, "rpc_errors_total",
		                             "JSON-RPC calls answered with an error, by method", lbl,
		                             1, &h->m_err)) ||
		    (rc = cn_metrics_histogram(metrics, "rpc_request_duration_seconds",
		                               "JSON-RPC call latency by method", lbl, 1, lat_buckets,
		                               sizeof lat_buckets / sizeof lat_buckets[0],
		                               &h->m_lat)) ||
		    (rc = method_metrics(h))) {
			rpc_handler_free(h);
			return rc;
		}
	}
	*out = h;
	return 0;
}

void rpc_handler_free(struct rpc_handler *h)
{
	if (h) {
		free(h->mm);
		free(h->pending);
		pthread_mutex_destroy(&h->senders_mu);
		pthread_mutex_destroy(&h->pending_mu);
	}
	free(h);
}

/* Nesting depth of a JSON text, counted before jansson sees it so a deeply
 * nested body costs one linear scan instead of a deep recursive parse. */
static unsigned json_depth(const char *s, size_t len)
{
	unsigned d = 0, max = 0;
	int in_str = 0;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (in_str) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_str = 0;
		} else if (c == '"') {
			in_str = 1;
		} else if (c == '[' || c == '{') {
			if (++d > max)
				max = d;
		} else if ((c == ']' || c == '}') && d) {
			d--;
		}
	}
	return max;
}

static void write_id(struct rpc_jw *w, json_t *id)
{
	rpc_jw_key(w, "id");
	if (!id) {
		rpc_jw_null(w);
		return;
	}
	if (json_is_string(id)) {
		rpc_jw_strn(w, json_string_value(id), json_string_length(id));
		return;
	}
	char *s = json_dumps(id, JSON_ENCODE_ANY | JSON_COMPACT);
	if (!s) {
		w->err = -CN_ENOMEM;
		return;
	}
	rpc_jw_raw(w, s, strlen(s));
	free(s);
}

void rpc_write_error(struct rpc_jw *w, json_t *id, int code, const char *msg)
{
	rpc_jw_obj(w);
	rpc_jw_key(w, "jsonrpc");
	rpc_jw_str(w, "2.0");
	write_id(w, id);
	rpc_jw_key(w, "error");
	rpc_jw_obj(w);
	rpc_jw_key(w, "code");
	char b[16];
	int n = snprintf(b, sizeof b, "%d", code);
	rpc_jw_raw(w, b, (size_t)n);
	rpc_jw_key(w, "message");
	rpc_jw_str(w, msg);
	rpc_jw_obj_end(w);
	rpc_jw_obj_end(w);
}

static void observe(struct rpc_handler *h, size_t which, int failed, uint64_t t0_ns)
{
	if (!h->metrics)
		return;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	uint64_t now = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	cn_counter_inc(h->mm[which].req);
	if (failed)
		cn_counter_inc(h->mm[which].err);
	cn_histogram_observe(h->mm[which].lat, (double)(now - t0_ns) / 1e9);
}

/* One request object. Writes nothing for a notification. */
static int one(struct rpc_handler *h, json_t *req, struct rpc_jw *w, struct rpc_jw *res,
               int timed_out, struct rpc_session *sess)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	uint64_t t0 = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	if (!json_is_object(req)) {
		rpc_write_error(w, NULL, RPC_E_INVALID_REQUEST, "invalid request");
		observe(h, MM_INVALID, 1, t0);
		return 0;
	}
	json_t *id = json_object_get(req, "id");
	json_t *ver = json_object_get(req, "jsonrpc");
	json_t *method = json_object_get(req, "method");
	json_t *params = json_object_get(req, "params");
	int notification = id == NULL;
	if (id && !json_is_string(id) && !json_is_number(id) && !json_is_null(id)) {
		rpc_write_error(w, NULL, RPC_E_INVALID_REQUEST, "invalid request");
		observe(h, MM_INVALID, 1, t0);
		return 0;
	}
	if (!json_is_string(ver) || strcmp(json_string_value(ver), "2.0") ||
	    !json_is_string(method) || (params && !json_is_array(params) && !json_is_null(params))) {
		if (!notification)
			rpc_write_error(w, id, RPC_E_INVALID_REQUEST, "invalid request");
		observe(h, MM_INVALID, 1, t0);
		return 0;
	}
	const char *name = json_string_value(method);
	const struct rpc_method *m = rpc_method_find(name, json_string_length(method));
	if (!m) {
		if (!notification) {
			char msg[160];
			snprintf(msg, sizeof msg, "the method %.100s does not exist/is not available",
			         name);
			rpc_write_error(w, id, RPC_E_METHOD, msg);
		}
		observe(h, MM_UNKNOWN, 1, t0);
		return 0;
	}
	if (timed_out) {
		if (!notification)
			rpc_write_error(w, id, -32002, "request timed out");
		observe(h, rpc_method_index(m), 1, t0);
		return 0;
	}

	struct rpc_call c = {.h = h, .params = json_is_array(params) ? params : NULL, .w = res,
	                     .ns = m->ns, .sess = sess};
	rpc_jw_reset(res);
	int rc = store_begin(h->st, 0, &c.t);
	if (rc) {
		c.code = RPC_E_INTERNAL;
		snprintf(c.msg, sizeof c.msg, "database: %s", cn_strerror(rc));
	} else {
		rc = m->fn(&c);
		store_abort(c.t);
		if (rc && !c.code) {
			c.code = RPC_E_INTERNAL;
			snprintf(c.msg, sizeof c.msg, "internal error: %s", cn_strerror(rc));
		}
		if (!rc && res->err) {
			c.code = RPC_E_INTERNAL;
			snprintf(c.msg, sizeof c.msg, "internal error: %s", cn_strerror(res->err));
		}
	}
	observe(h, rpc_method_index(m), c.code != 0, t0);
	if (notification)
		return 0;
	if (c.code) {
		rpc_write_error(w, id, c.code, c.msg);
		return 0;
	}
	rpc_jw_obj(w);
	rpc_jw_key(w, "jsonrpc");
	rpc_jw_str(w, "2.0");
	write_id(w, id);
	rpc_jw_key(w, "result");
	rpc_jw_raw(w, res->p, res->len);
	rpc_jw_obj_end(w);
	return 0;
}

int rpc_handle(struct rpc_handler *h, const char *body, size_t len, struct rpc_jw *w)
{
	return rpc_handle_session(h, body, len, w, NULL);
}

int rpc_handle_session(struct rpc_handler *h, const char *body, size_t len, struct rpc_jw *w,
                       struct rpc_session *sess)
{
	rpc_jw_reset(w);
	if (len > h->lim.max_body) {
		rpc_write_error(w, NULL, RPC_E_INVALID_REQUEST, "request body too large");
		return w->err;
	}
	if (json_depth(body, len) > h->lim.max_depth) {
		char msg[96];
		snprintf(msg, sizeof msg, "JSON nested deeper than %u levels", h->lim.max_depth);
		rpc_write_error(w, NULL, RPC_E_PARSE, msg);
		return w->err;
	}
	json_error_t jerr;
	json_t *root = json_loadb(body, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
	if (!root) {
		char msg[200];
		snprintf(msg, sizeof msg, "parse error: %s", jerr.text);
		rpc_write_error(w, NULL, RPC_E_PARSE, msg);
		return w->err;
	}
	struct rpc_jw res;
	rpc_jw_init(&res);
	uint64_t deadline = rpc_now_ms() + h->lim.timeout_ms;
	if (json_is_array(root)) {
		size_t n = json_array_size(root);
		if (n == 0) {
			rpc_write_error(w, NULL, RPC_E_INVALID_REQUEST, "empty batch");
		} else if (n > h->lim.max_batch) {
			char msg[64];
			snprintf(msg, sizeof msg, "batch too large (limit %zu)", h->lim.max_batch);
			rpc_write_error(w, NULL, RPC_E_INVALID_REQUEST, msg);
		} else {
			rpc_jw_arr(w);
			size_t before = w->len;
			for (size_t i = 0; i < n; i++)
				one(h, json_array_get(root, i), w, &res, rpc_now_ms() > deadline, sess);
			/* A batch of notifications only is answered with nothing. */
			if (w->len == before)
				rpc_jw_reset(w);
			else
				rpc_jw_arr_end(w);
		}
	} else {
		one(h, root, w, &res, 0, sess);
	}
	rpc_jw_free(&res);
	json_decref(root);
	return w->err;
}
