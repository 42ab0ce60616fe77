/* The HTTP server on an ephemeral loopback port: limits, CORS, health,
 * metrics and per-IP rate limiting. */
#include <pthread.h>

#include "helpers.h"

static struct tnode N;
static uint64_t peer_height;

static int get_peer_height(void *ctx, uint64_t *out)
{
	*out = *(uint64_t *)ctx;
	return 0;
}

static void setup(void)
{
	tnode_new(&N, 2, 2);
	peer_height = 0;
}

static void teardown(void)
{
	tnode_free(&N);
}

TestSuite(rpc_server, .init = setup, .fini = teardown);

static struct rpc_server *start(const struct rpc_server_config *cfg)
{
	struct rpc_server *s;
	struct rpc_backend be = {.ctx = &peer_height, .peer_height = get_peer_height};
	cr_assert_eq(rpc_server_start(&s, N.st, N.np, 0, cfg, &be), 0);
	cr_assert_neq(rpc_server_port(s), 0);
	return s;
}

static void expect_block_number(uint16_t port, const char *src)
{
	struct thttp r;
	cr_assert_eq(thttp_post(port, src,
	                        "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"eth_blockNumber\"}", &r), 0);
	cr_assert_eq(r.status, 200, "status %d: %s", r.status, r.body);
	cr_assert_str_eq(r.body, "{\"jsonrpc\":\"2.0\",\"id\":7,\"result\":\"0x2\"}");
	cr_assert(strstr(r.head, "Content-Type: application/json"));
	thttp_free(&r);
}

Test(rpc_server, serves_posts_and_survives_hostile_bodies)
{
	struct rpc_server_config cfg = {.limits = {.max_body = 2048, .max_depth = 32}};
	struct rpc_server *s = start(&cfg);
	uint16_t port = rpc_server_port(s);
	expect_block_number(port, NULL);

	struct thttp r;
	/* oversized body: 413 with a JSON-RPC error */
	char *big = malloc(10000);
	memset(big, ' ', 9999);
	big[9999] = 0;
	cr_assert_eq(thttp_post(port, NULL, big, &r), 0);
	cr_assert_eq(r.status, 413);
	cr_assert(strstr(r.body, "-32600"));
	thttp_free(&r);
	free(big);
	expect_block_number(port, NULL);

	/* malformed, deep, batch: answered with 200 and an error body */
	cr_assert_eq(thttp_post(port, NULL, "{\"jsonrpc\":", &r), 0);
	cr_assert_eq(r.status, 200);
	cr_assert(strstr(r.body, "-32700"));
	thttp_free(&r);
	char deep[600];
	memset(deep, '{', 599);
	deep[599] = 0;
	cr_assert_eq(thttp_post(port, NULL, deep, &r), 0);
	cr_assert(strstr(r.body, "-32700"));
	thttp_free(&r);
	cr_assert_eq(thttp_post(port, NULL, "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_chainId\"},"
	                                    "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"x\"}]", &r), 0);
	cr_assert_eq(r.body[0], '[');
	cr_assert(strstr(r.body, "-32601"));
	thttp_free(&r);
	/* body bytes that are not text at all */
	cr_assert_eq(thttp_do(port, NULL, "POST", "/", NULL, "\x00\xff\x01{", 4, &r), 0);
	cr_assert(strstr(r.body, "-32700"));
	thttp_free(&r);
	/* other verbs */
	cr_assert_eq(thttp_do(port, NULL, "PUT", "/", NULL, "", 0, &r), 0);
	cr_assert_eq(r.status, 405);
	thttp_free(&r);
	expect_block_number(port, NULL);
	rpc_server_stop(s);
}

Test(rpc_server, cors_preflight)
{
	struct rpc_server_config cfg = {.cors_origin = "https://app.example"};
	struct rpc_server *s = start(&cfg);
	struct thttp r;
	cr_assert_eq(thttp_do(rpc_server_port(s), NULL, "OPTIONS", "/",
	                      "Origin: https://app.example\r\n"
	                      "Access-Control-Request-Method: POST\r\n", "", 0, &r), 0);
	cr_assert_eq(r.status, 204);
	cr_assert(strstr(r.head, "Access-Control-Allow-Origin: https://app.example"));
	cr_assert(strstr(r.head, "Access-Control-Allow-Methods: POST"));
	thttp_free(&r);
	cr_assert_eq(thttp_post(rpc_server_port(s), NULL,
	                        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_chainId\"}", &r), 0);
	cr_assert(strstr(r.head, "Access-Control-Allow-Origin: https://app.example"));
	thttp_free(&r);
	rpc_server_stop(s);
}

Test(rpc_server, health_follows_the_lag)
{
	struct rpc_server_config cfg = {.health_max_lag = 5};
	struct rpc_server *s = start(&cfg);
	uint16_t port = rpc_server_port(s);
	struct thttp r;
	const struct {
		uint64_t peer;
		int status;
		const char *lag;
	} steps[] = {{0, 200, "\"lag\":0"}, {7, 200, "\"lag\":5"}, {8, 503, "\"lag\":6"},
	             {100, 503, "\"lag\":98"}, {2, 200, "\"lag\":0"}};
	for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
		peer_height = steps[i].peer;
		cr_assert_eq(thttp_do(port, NULL, "GET", "/health", NULL, "", 0, &r), 0);
		cr_assert_eq(r.status, steps[i].status, "step %zu: %s", i, r.body);
		cr_assert(strstr(r.body, steps[i].lag), "step %zu: %s", i, r.body);
		cr_assert(strstr(r.body, "\"height\":2"));
		thttp_free(&r);
	}
	/* eth_syncing agrees */
	peer_height = 50;
	cr_assert_eq(thttp_post(port, NULL, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_syncing\"}",
	                        &r), 0);
	cr_assert(strstr(r.body, "\"highestBlock\":\"0x32\""), "%s", r.body);
	thttp_free(&r);
	rpc_server_stop(s);
}

Test(rpc_server, metrics_count_methods_and_errors)
{
	struct rpc_server *s = start(NULL);
	uint16_t port = rpc_server_port(s);
	struct thttp r;
	for (int i = 0; i < 3; i++)
		expect_block_number(port, NULL);
	cr_assert_eq(thttp_post(port, NULL, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_getBalance\","
	                                    "\"params\":[1]}", &r), 0);
	thttp_free(&r);
	cr_assert_eq(thttp_post(port, NULL, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"evil\\\"{}\"}", &r), 0);
	thttp_free(&r);
	cr_assert_eq(thttp_do(port, NULL, "GET", "/metrics", NULL, "", 0, &r), 0);
	cr_assert_eq(r.status, 200);
	cr_assert(strstr(r.body, "rpc_requests_total{method=\"eth_blockNumber\"} 3"), "%s", r.body);
	cr_assert(strstr(r.body, "rpc_errors_total{method=\"eth_getBalance\"} 1"), "%s", r.body);
	cr_assert(strstr(r.body, "rpc_requests_total{method=\"unknown\"} 1"), "%s", r.body);
	cr_assert(strstr(r.body, "rpc_request_duration_seconds_count{method=\"eth_blockNumber\"} 3"));
	cr_assert_null(strstr(r.body, "evil"));
	thttp_free(&r);
	rpc_server_stop(s);
}

/* A client flooding from 127.0.0.1 is refused with 429 while a client at a
 * normal pace from 127.0.0.2 gets every answer. */
struct flood {
	uint16_t port;
	int ok, limited, other;
};

static void *flooder(void *arg)
{
	struct flood *f = arg;
	for (int i = 0; i < 120; i++) {
		struct thttp r;
		if (thttp_post(f->port, "127.0.0.1",
		               "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_chainId\"}", &r)) {
			f->other++;
			continue;
		}
		if (r.status == 200)
			f->ok++;
		else if (r.status == 429 && strstr(r.body, "rate limit exceeded") &&
		         strstr(r.body, "-32005"))
			f->limited++;
		else
			f->other++;
		thttp_free(&r);
	}
	return NULL;
}

Test(rpc_server, rate_limit_per_client_ip)
{
	/* A low rate keeps the test meaningful on a loaded machine: the flooder
	 * would have to be slower than 5 requests/s to escape the limit. */
	struct rpc_server_config cfg = {.rate = 5, .burst = 5};
	struct rpc_server *s = start(&cfg);
	uint16_t port = rpc_server_port(s);
	/* Is 127.0.0.2 usable as a source here? (Linux routes all of 127/8.) */
	struct thttp probe;
	if (thttp_post(port, "127.0.0.2", "{}", &probe)) {
		rpc_server_stop(s);
		cr_skip_test("cannot bind 127.0.0.2");
	}
	thttp_free(&probe);

	struct flood f = {.port = port};
	pthread_t th;
	cr_assert_eq(pthread_create(&th, NULL, flooder, &f), 0);
	/* The polite client: 8 requests at 4/s (below the 5/s rate; it
	 * already spent one token on the probe). */
	for (int i = 0; i < 8; i++) {
		expect_block_number(port, "127.0.0.2");
		usleep(250000);
	}
	pthread_join(th, NULL);
	cr_assert_eq(f.other, 0);
	cr_assert_gt(f.limited, 40, "flooder limited %d times, served %d", f.limited, f.ok);
	cr_assert_geq(f.ok, 5);
	rpc_server_stop(s);
}
