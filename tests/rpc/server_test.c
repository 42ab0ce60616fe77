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

static void expect_block_number_is(uint16_t port, const char *want)
{
	struct thttp r;
	char exp[96];
	cr_assert_eq(thttp_post(port, NULL,
	                        "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"eth_blockNumber\"}", &r), 0);
	snprintf(exp, sizeof exp, "{\"jsonrpc\":\"2.0\",\"id\":7,\"result\":\"%s\"}", want);
	cr_assert_str_eq(r.body, exp);
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

/* Readers on the server's threads while this thread inserts blocks: every
 * answer is whole and consistent (one snapshot per call) and the head only
 * moves forward. */
struct reader {
	uint16_t port;
	int bad;
	char why[200];
};

static void *reader_main(void *arg)
{
	struct reader *r = arg;
	long last = -1;
	for (int i = 0; i < 40 && !r->bad; i++) {
		struct thttp h;
		const char *body = i % 2 ? "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_blockNumber\"}"
		                         : "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_getBlockByNumber\","
		                           "\"params\":[\"latest\",true]}";
		if (thttp_post(r->port, NULL, body, &h) || h.status != 200) {
			r->bad = 1;
			snprintf(r->why, sizeof r->why, "request failed");
			thttp_free(&h);
			break;
		}
		json_t *j = json_loads(h.body, 0, NULL);
		json_t *res = j ? json_object_get(j, "result") : NULL;
		long n = -1;
		if (res && json_is_string(res)) {
			n = strtol(json_string_value(res), NULL, 16);
		} else if (res && json_is_object(res)) {
			n = strtol(json_string_value(json_object_get(res, "number")), NULL, 16);
			const char *bh = json_string_value(json_object_get(res, "hash"));
			json_t *txs = json_object_get(res, "transactions");
			for (size_t k = 0; k < json_array_size(txs); k++)
				if (strcmp(json_string_value(json_object_get(json_array_get(txs, k),
				                                             "blockHash")), bh))
					r->bad = 1;
		} else {
			r->bad = 1;
		}
		if (n < last)
			r->bad = 1;
		if (r->bad)
			snprintf(r->why, sizeof r->why, "answer %d: %.150s", i, h.body);
		last = n;
		json_decref(j);
		thttp_free(&h);
	}
	return NULL;
}

Test(rpc_server, readers_while_the_writer_inserts)
{
	struct rpc_server_config cfg = {.threads = 2};
	struct rpc_server *s = start(&cfg);
	struct reader r[4];
	pthread_t th[4];
	for (int i = 0; i < 4; i++) {
		r[i] = (struct reader){.port = rpc_server_port(s)};
		cr_assert_eq(pthread_create(&th[i], NULL, reader_main, &r[i]), 0);
	}
	struct chain_why why;
	for (int b = 0; b < 5; b++)
		cr_assert_eq(chain_gen_blocks(N.c, 1, 3, 0, 100 + (uint64_t)b, &why), 0, "%s", why.msg);
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		cr_assert_eq(r[i].bad, 0, "reader %d: %s", i, r[i].why);
	}
	expect_block_number_is(rpc_server_port(s), "0x7");
	rpc_server_stop(s);
}

/* On localnet the other shards' endpoints are advertised relative to the
 * ports this server bound (shards sit 2 ports apart), so a localnet moved
 * by a port offset names the right ports; the refusal of another shard's
 * transaction uses the same endpoint. */
Test(rpc_server, sharding_structure_follows_the_bound_ports)
{
	struct rpc_server_config cfg = {.ws_listen = 1};
	struct rpc_server *s = start(&cfg);
	unsigned hp = rpc_server_port(s), wp = rpc_server_ws_port(s);
	struct thttp r;
	cr_assert_eq(thttp_post(rpc_server_port(s), NULL,
	                        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"hmy_getShardingStructure\"}", &r), 0);
	json_t *j = json_loads(r.body, 0, NULL);
	json_t *a = json_object_get(j, "result");
	cr_assert_eq(json_array_size(a), N.np->num_shards, "%s", r.body);
	for (size_t i = 0; i < json_array_size(a); i++) {
		char want[64];
		json_t *e = json_array_get(a, i);
		snprintf(want, sizeof want, "http://127.0.0.1:%u", hp + 2 * (unsigned)i);
		cr_assert_str_eq(json_string_value(json_object_get(e, "http")), want);
		snprintf(want, sizeof want, "ws://127.0.0.1:%u", wp + 2 * (unsigned)i);
		cr_assert_str_eq(json_string_value(json_object_get(e, "ws")), want);
	}
	json_decref(j);
	thttp_free(&r);
	rpc_server_stop(s);
}
