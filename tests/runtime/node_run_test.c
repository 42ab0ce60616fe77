/* node_run_test.c — rt_node in one process: a validator holding the whole
 * localnet committee of shard 0 finalizes blocks on its own, serves /status,
 * /metrics and JSON-RPC over real sockets, stops cleanly and resumes from
 * its store. */
#include <criterion/criterion.h>

#include <arpa/inet.h>
#include <ftw.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "base/err.h"
#include "chain/chain.h"
#include "crypto/bls.h"
#include "runtime/rt_net.h"
#include "runtime/rt_node.h"

/* A blocking HTTP/1.0 exchange with 127.0.0.1:port; returns the malloc'd
 * response (status line, headers and body) or NULL. */
static char *http(uint16_t port, const char *method, const char *path, const char *body)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		return NULL;
	struct timeval tv = {.tv_sec = 5};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa)) {
		close(fd);
		return NULL;
	}
	char req[1024];
	int n = snprintf(req, sizeof req,
			 "%s %s HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
			 "Content-Length: %zu\r\n\r\n%s",
			 method, path, body ? strlen(body) : 0, body ? body : "");
	if (write(fd, req, (size_t)n) != n) {
		close(fd);
		return NULL;
	}
	size_t cap = 1 << 16, len = 0;
	char *out = malloc(cap);
	for (;;) {
		if (len + 1 == cap)
			out = realloc(out, cap *= 2);
		ssize_t r = read(fd, out + len, cap - len - 1);
		if (r <= 0)
			break;
		len += (size_t)r;
	}
	close(fd);
	out[len] = 0;
	return out;
}

static uint64_t json_u64(const char *text, const char *key)
{
	char pat[64];
	snprintf(pat, sizeof pat, "\"%s\":", key);
	const char *p = strstr(text, pat);
	return p ? strtoull(p + strlen(pat), NULL, 10) : UINT64_MAX;
}

struct run {
	struct rt_node *rn;
	uv_timer_t poll;
	uint64_t deadline_ms, want_height;
	uint64_t start_height, last_height;
	char status[1024], *metrics, *rpc;
};

static void on_poll(uv_timer_t *t)
{
	struct run *r = t->data;
	size_t len;
	cr_assert_eq(rt_node_status_json(r->rn, r->status, sizeof r->status, &len), 0);
	r->last_height = json_u64(r->status, "height");
	if (r->last_height < r->want_height && rt_now_ms() < r->deadline_ms)
		return;
	/* The services answer from their own threads, so blocking here is fine. */
	r->metrics = http(rt_node_prometheus_port(r->rn), "GET", "/metrics", NULL);
	char *st = http(rt_node_prometheus_port(r->rn), "GET", "/status", NULL);
	cr_assert(st && strstr(st, "200 OK"), "GET /status: %s", st ? st : "(no answer)");
	cr_assert(strstr(st, "\"role\":\"validator\""), "%s", st);
	cr_assert(json_u64(st, "height") >= r->last_height, "%s", st);
	free(st);
	r->rpc = http(rt_node_rpc_port(r->rn), "POST", "/",
		      "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_blockNumber\"}");
	uv_close((uv_handle_t *)t, NULL);
	rt_node_stop(r->rn);
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	return remove(path);
}

static void rm_tree(const char *dir)
{
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void datadir(char *out, size_t cap)
{
	snprintf(out, cap, "build/test-rt-node.%d", (int)getpid());
	rm_tree(out);
}

/* Runs the node until it reaches want_height (or timeout_ms passes). */
static void run_node(const char *dir, uint64_t want_height, uint64_t timeout_ms, struct run *r)
{
	static struct bls_secret_key keys[CHAIN_LOCALNET_VALIDATORS];
	for (unsigned i = 0; i < CHAIN_LOCALNET_VALIDATORS; i++)
		cr_assert_eq(chain_localnet_bls(0, i, &keys[i]), 0);
	struct rt_node_config cfg = {
		.node = {.datadir = dir, .network = "localnet", .shard = 0, .role = NODE_VALIDATOR,
			 .keys = keys, .n_keys = CHAIN_LOCALNET_VALIDATORS, .block_time_ms = 200,
			 .no_fsync = 1},
		.host = {.datadir = dir},
		.rpc = 1,
		.rpc_cfg = {.addr = "127.0.0.1", .port = 0, .threads = 2},
		.prometheus = 1,
		.prometheus_port = 0,
	};
	cr_assert_eq(rt_addr_parse("127.0.0.1:0", &cfg.host.bind), 0);
	uv_loop_t loop;
	cr_assert_eq(uv_loop_init(&loop), 0);
	char err[256];
	memset(r, 0, sizeof *r);
	int rc = rt_node_start(&r->rn, &loop, &cfg, err, sizeof err);
	cr_assert_eq(rc, 0, "rt_node_start: %s", err);
	cr_assert_eq(rt_node_status_json(r->rn, r->status, sizeof r->status, NULL), 0);
	r->start_height = json_u64(r->status, "height");
	r->want_height = want_height;
	r->deadline_ms = rt_now_ms() + timeout_ms;
	uv_timer_init(&loop, &r->poll);
	r->poll.data = r;
	uv_timer_start(&r->poll, on_poll, 50, 50);
	uv_run(&loop, UV_RUN_DEFAULT);
	rt_node_free(r->rn);
	cr_assert_eq(uv_loop_close(&loop), 0, "handles left open on the loop");
}

/* A port that is taken fails the start with a sentence naming it, and
 * leaves nothing open. */
static void busy_port_fails_cleanly(const char *dir)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	cr_assert_eq(listen(fd, 1), 0);
	socklen_t sl = sizeof sa;
	getsockname(fd, (struct sockaddr *)&sa, &sl);
	struct rt_node_config cfg = {
		.node = {.datadir = dir, .network = "localnet", .shard = 0, .role = NODE_FULL, .no_fsync = 1},
		.host = {.datadir = dir},
		.prometheus = 1,
		.prometheus_port = ntohs(sa.sin_port),
	};
	cr_assert_eq(rt_addr_parse("127.0.0.1:0", &cfg.host.bind), 0);
	uv_loop_t loop;
	cr_assert_eq(uv_loop_init(&loop), 0);
	char err[256];
	struct rt_node *rn;
	int rc = rt_node_start(&rn, &loop, &cfg, err, sizeof err);
	cr_assert_neq(rc, 0);
	char port[16];
	snprintf(port, sizeof port, ":%u", (unsigned)ntohs(sa.sin_port));
	cr_assert(strstr(err, port), "error does not name the port: %s", err);
	uv_run(&loop, UV_RUN_DEFAULT);
	cr_assert_eq(uv_loop_close(&loop), 0);
	close(fd);
	rm_tree(dir);
}

/* One test rather than two: short Criterion workers running beside the
 * transport tests make Criterion 2.4.1's runner leak under LSan. */
Test(rt_node, finalizes_serves_resumes_and_refuses_busy_ports, .timeout = 60)
{
	char dir[256];
	datadir(dir, sizeof dir);
	busy_port_fails_cleanly(dir);
	struct run r;
	run_node(dir, 3, 20000, &r);
	cr_assert_eq(r.start_height, 0, "%s", r.status);
	cr_assert_geq(r.last_height, 3, "no blocks finalized: %s", r.status);
	cr_assert(r.metrics && strstr(r.metrics, "200 OK") && strstr(r.metrics, "# TYPE "),
		  "GET /metrics: %s", r.metrics ? r.metrics : "(no answer)");
	cr_assert(r.rpc && strstr(r.rpc, "\"result\":\"0x"), "eth_blockNumber: %s", r.rpc ? r.rpc : "(no answer)");
	free(r.metrics);
	free(r.rpc);
	uint64_t first = r.last_height;

	/* The same data directory: the chain is where it was, and it grows. */
	run_node(dir, first + 2, 20000, &r);
	cr_assert_geq(r.start_height, first, "restart lost blocks: %s", r.status);
	cr_assert_geq(r.last_height, first + 2, "no blocks after restart: %s", r.status);
	free(r.metrics);
	free(r.rpc);
	rm_tree(dir);
}

