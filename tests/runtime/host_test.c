/* rt_host on one loop: a bootnode and three nodes on loopback find each
 * other through the bootnode, gossip with exactly-once delivery (also with
 * the test loss knob on), answer stream requests and refuse unknown
 * protocols, and multicast to a group. */
#include <criterion/criterion.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/err.h"
#include "base/log.h"
#include "base/metrics.h"
#include "runtime/rt_host.h"
#include "runtime/rt_net.h"

#define NODES 3

struct node {
	struct rt_host *h;
	int idx;
	size_t delivered, dup;
	uint8_t seen[64][32];        /* content hashes delivered */
	size_t mcast;
	uint8_t mcast_hash[32];
	int peer_ups;
};

struct world {
	uv_loop_t loop;
	struct rt_host *boot;
	struct node n[NODES];
	char dir[NODES + 1][128];
	char boot_addr[200];
};

static void deliver(void *ctx, const char *topic, const uint8_t from[32], const uint8_t *data, size_t len)
{
	struct node *n = ctx;
	uint8_t hsh[32];
	crypto_generichash(hsh, 32, data, len, NULL, 0);
	for (size_t i = 0; i < n->delivered && i < 64; i++)
		if (!memcmp(n->seen[i], hsh, 32)) {
			n->dup++;
			return;
		}
	if (n->delivered < 64)
		memcpy(n->seen[n->delivered], hsh, 32);
	n->delivered++;
}

static void on_peer(void *ctx, const uint8_t id[32], int up)
{
	struct node *n = ctx;
	if (up)
		n->peer_ups++;
}

static void on_mcast(void *ctx, const uint8_t from[32], const uint8_t *data, size_t len)
{
	struct node *n = ctx;
	n->mcast++;
	crypto_generichash(n->mcast_hash, 32, data, len, NULL, 0);
}

typedef int (*cond_fn)(struct world *w);
static struct world *cur_w;
static cond_fn cur_cond;

static void poll_cb(uv_timer_t *t)
{
	if (cur_cond(cur_w))
		uv_stop(t->loop);
}

static int run_until(struct world *w, cond_fn c, uint64_t timeout_ms)
{
	uv_timer_t t;
	uv_timer_init(&w->loop, &t);
	cur_w = w;
	cur_cond = c;
	uint64_t end = rt_now_ms() + timeout_ms;
	uv_timer_start(&t, poll_cb, 10, 10);
	int ok = 0;
	while (rt_now_ms() < end) {
		uv_run(&w->loop, UV_RUN_ONCE);
		if (c(w)) {
			ok = 1;
			break;
		}
	}
	uv_close((uv_handle_t *)&t, NULL);
	uv_run(&w->loop, UV_RUN_NOWAIT);
	return ok;
}

static void setup(struct world *w, double drop)
{
	memset(w, 0, sizeof *w);
	cn_log_set_verbosity(CN_LOG_WARN);
	cr_assert_eq(uv_loop_init(&w->loop), 0);
	for (int i = 0; i <= NODES; i++) {
		snprintf(w->dir[i], sizeof w->dir[i], "build/host-test.%d.%d", (int)getpid(), i);
	}
	struct rt_host_config bc = {.datadir = w->dir[NODES], .serve_bootnode = 1};
	cr_assert_eq(rt_addr_parse("127.0.0.1:0", &bc.bind), 0);
	cr_assert_eq(rt_host_start(&w->boot, &w->loop, &bc, NULL, NULL), 0);
	cr_assert_eq(rt_host_address(w->boot, w->boot_addr, sizeof w->boot_addr), 0);
	const char *boots[] = {w->boot_addr};
	for (int i = 0; i < NODES; i++) {
		struct rt_host_config c = {.datadir = w->dir[i], .bootnodes = boots, .n_bootnodes = 1,
					   .test_drop = drop};
		cr_assert_eq(rt_addr_parse("127.0.0.1:0", &c.bind), 0);
		struct rt_host_callbacks cb = {.deliver = deliver, .peer = on_peer, .mcast_deliver = on_mcast};
		w->n[i].idx = i;
		cr_assert_eq(rt_host_start(&w->n[i].h, &w->loop, &c, &cb, &w->n[i]), 0);
		cr_assert_eq(rt_host_subscribe(w->n[i].h, "canon/test/0/tx"), 0);
	}
}

static void teardown(struct world *w)
{
	for (int i = 0; i < NODES; i++)
		rt_host_close(w->n[i].h);
	rt_host_close(w->boot);
	uv_run(&w->loop, UV_RUN_DEFAULT);
	for (int i = 0; i < NODES; i++)
		rt_host_free(w->n[i].h);
	rt_host_free(w->boot);
	cr_assert_eq(uv_loop_close(&w->loop), 0);
	for (int i = 0; i <= NODES; i++) {
		char cmd[300];
		snprintf(cmd, sizeof cmd, "rm -rf %s", w->dir[i]);
		cr_assert_eq(system(cmd), 0);
	}
}

static int meshed(struct world *w)
{
	for (int i = 0; i < NODES; i++) {
		uint8_t ids[8][32];
		if (rt_host_topic_peers(w->n[i].h, "canon/test/0/tx", ids, 8) < NODES - 1)
			return 0;
	}
	return 1;
}

static size_t want_each;
static int all_delivered(struct world *w)
{
	for (int i = 0; i < NODES; i++)
		if (w->n[i].delivered < want_each)
			return 0;
	return 1;
}

static void gossip_round(double drop)
{
	struct world *w = calloc(1, sizeof *w);
	setup(w, drop);
	cr_assert(run_until(w, meshed, 15000), "nodes did not find each other through the bootnode");
	struct rt_host_stats st;
	rt_host_stats(w->boot, &st);
	cr_assert_eq(st.boot_entries, NODES);
	/* Each node publishes 10 messages of 100 B .. 300 kB; every other node
	 * must deliver each exactly once. */
	size_t per = 10;
	for (int i = 0; i < NODES; i++)
		for (size_t k = 0; k < per; k++) {
			size_t len = k == 9 ? 300000 : 100 + k * 997;
			uint8_t *d = malloc(len);
			randombytes_buf(d, len);
			cr_assert_eq(rt_host_publish(w->n[i].h, "canon/test/0/tx", d, len), 0);
			free(d);
		}
	want_each = per * (NODES - 1);
	cr_assert(run_until(w, all_delivered, 20000), "deliveries: %zu %zu %zu", w->n[0].delivered,
		  w->n[1].delivered, w->n[2].delivered);
	/* Let stragglers (relays, repairs) arrive: still exactly once. */
	run_until(w, meshed, 300);
	for (int i = 0; i < NODES; i++) {
		cr_assert_eq(w->n[i].delivered, want_each);
		cr_assert_eq(w->n[i].dup, 0);
		cr_assert_geq(rt_host_peer_count(w->n[i].h), NODES - 1);
		cr_assert_geq(w->n[i].peer_ups, NODES - 1);
	}
	rt_host_stats(w->n[0].h, &st);
	cr_assert_gt(st.cc_acks_in, 0, "no per-datagram ACKs: net_cc never measured an RTT");
	cr_assert_gt(st.cc_acks_out, 0);
	if (drop > 0)
		cr_assert_gt(st.test_dropped, 0);
	teardown(w);
	free(w);
}

Test(rt_host, bootnode_discovery_and_gossip, .timeout = 60)
{
	gossip_round(0);
}

Test(rt_host, gossip_with_loss, .timeout = 60)
{
	gossip_round(0.05);
}

struct resp {
	int done, err, status;
	size_t len;
	uint8_t first;
};

static void serve_echo(void *ctx, const uint8_t peer[32], const uint8_t *req, size_t len, struct rt_host_req *r)
{
	uint8_t *d = malloc(len + 1);
	d[0] = 0xEE;
	memcpy(d + 1, req, len);
	rt_host_reply(r, 7, d, len + 1);
	free(d);
}

static void on_resp(void *ctx, int err, int status, const uint8_t *data, size_t len)
{
	struct resp *r = ctx;
	r->done++;
	r->err = err;
	r->status = status;
	r->len = len;
	r->first = len ? data[0] : 0;
}

static struct resp r_ok, r_bad;
static int both_done(struct world *w)
{
	return r_ok.done && r_bad.done;
}

static int got_mcast(struct world *w)
{
	return w->n[1].mcast && w->n[2].mcast;
}

static int got_mcast2(struct world *w)
{
	return w->n[1].mcast >= 2 && w->n[2].mcast >= 2;
}

Test(rt_host, streams_and_multicast, .timeout = 60)
{
	struct world *w = calloc(1, sizeof *w);
	setup(w, 0);
	cr_assert(run_until(w, meshed, 15000));
	cr_assert_eq(rt_host_serve(w->n[0].h, "canon/echo/1", serve_echo, NULL), 0);
	uint8_t req[5000];
	randombytes_buf(req, sizeof req);
	const uint8_t *a = rt_host_node_id(w->n[0].h);
	cr_assert_eq(rt_host_request(w->n[1].h, a, "canon/echo/1", req, sizeof req, 5000, on_resp, &r_ok), 0);
	cr_assert_eq(rt_host_request(w->n[1].h, a, "canon/nope/1", req, 10, 5000, on_resp, &r_bad), 0);
	cr_assert(run_until(w, both_done, 10000));
	cr_assert_eq(r_ok.done, 1);
	cr_assert_eq(r_ok.err, 0);
	cr_assert_eq(r_ok.status, 7);
	cr_assert_eq(r_ok.len, sizeof req + 1);
	cr_assert_eq(r_ok.first, 0xEE);
	cr_assert_eq(r_bad.done, 1);
	cr_assert_eq(r_bad.err, -CN_EUNSUPPORTED);
	uint8_t nobody[32] = {9};
	cr_assert_eq(rt_host_request(w->n[1].h, nobody, "canon/echo/1", req, 1, 1000, on_resp, &r_ok),
		     -CN_ENOTFOUND);

	/* Multicast 200 kB from node 0 to nodes 1 and 2 (k = 0). */
	uint8_t ids[2][32];
	memcpy(ids[0], rt_host_node_id(w->n[1].h), 32);
	memcpy(ids[1], rt_host_node_id(w->n[2].h), 32);
	size_t len = 200000;
	uint8_t *d = malloc(len), want[32];
	randombytes_buf(d, len);
	crypto_generichash(want, 32, d, len, NULL, 0);
	cr_assert_eq(rt_host_multicast(w->n[0].h, (const uint8_t(*)[32])ids, 2, 0, d, len, rt_now_ms() + 10000), 0);
	free(d);
	cr_assert(run_until(w, got_mcast, 10000), "multicast: %zu %zu", w->n[1].mcast, w->n[2].mcast);
	cr_assert_eq(w->n[1].mcast, 1);
	cr_assert_arr_eq(w->n[1].mcast_hash, want, 32);
	cr_assert_arr_eq(w->n[2].mcast_hash, want, 32);
	/* The same group again: members already know it. */
	d = malloc(len);
	randombytes_buf(d, len);
	crypto_generichash(want, 32, d, len, NULL, 0);
	cr_assert_eq(rt_host_multicast(w->n[0].h, (const uint8_t(*)[32])ids, 2, 0, d, len, rt_now_ms() + 10000), 0);
	free(d);
	cr_assert(run_until(w, got_mcast2, 10000), "second multicast: %zu %zu", w->n[1].mcast, w->n[2].mcast);
	cr_assert_arr_eq(w->n[1].mcast_hash, want, 32);
	cr_assert_arr_eq(w->n[2].mcast_hash, want, 32);
	struct rt_host_stats st1;
	rt_host_stats(w->n[1].h, &st1);
	cr_log_info("multicast symbols that overtook the group announcement at node 1: %llu",
		    (unsigned long long)st1.mcast_early);
	teardown(w);
	free(w);
}

Test(rt_host, bad_config)
{
	uv_loop_t loop;
	uv_loop_init(&loop);
	struct rt_host *h;
	const char *boots[] = {"nothex@127.0.0.1:1"};
	struct rt_host_config c = {.datadir = "build/host-test-bad", .bootnodes = boots, .n_bootnodes = 1};
	rt_addr_parse("127.0.0.1:0", &c.bind);
	cr_assert_eq(rt_host_start(&h, &loop, &c, NULL, NULL), -CN_EINVAL);
	uint8_t pk[32];
	struct net_addr a;
	cr_assert_eq(rt_host_parse_address("00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff@10.0.0.1:5",
					   pk, &a), 0);
	cr_assert_eq(a.port, 5);
	cr_assert_eq(pk[1], 0x11);
	cr_assert_eq(rt_host_parse_address("0011@10.0.0.1:5", pk, &a), -CN_EINVAL);
	uv_run(&loop, UV_RUN_DEFAULT);
	cr_assert_eq(uv_loop_close(&loop), 0);
	cr_assert_eq(system("rm -rf build/host-test-bad"), 0);
}

/* Node 1 rejects everything node 0 publishes: node 0's gossip score falls
 * below the threshold, node 1 closes the session and refuses it during the
 * cooldown; the metrics registry sees peers and traffic. */
static enum gossip_verdict reject_all(void *ctx, const char *topic, const uint8_t from[32], const uint8_t *data,
				      size_t len)
{
	return GOSSIP_REJECT;
}

static struct rt_host *watch;
static size_t watch_peers_below;
static int peers_dropped(struct world *w)
{
	return rt_host_peer_count(watch) < watch_peers_below;
}

Test(rt_host, bad_peer_disconnected_and_metrics, .timeout = 60)
{
	struct world *w = calloc(1, sizeof *w);
	memset(w, 0, sizeof *w);
	cn_log_set_verbosity(CN_LOG_ERROR);
	cr_assert_eq(uv_loop_init(&w->loop), 0);
	for (int i = 0; i <= NODES; i++)
		snprintf(w->dir[i], sizeof w->dir[i], "build/host-test.%d.b%d", (int)getpid(), i);
	struct cn_metrics *reg;
	cr_assert_eq(cn_metrics_new(&reg), 0);
	struct rt_host_config bc = {.datadir = w->dir[NODES], .serve_bootnode = 1};
	rt_addr_parse("127.0.0.1:0", &bc.bind);
	cr_assert_eq(rt_host_start(&w->boot, &w->loop, &bc, NULL, NULL), 0);
	rt_host_address(w->boot, w->boot_addr, sizeof w->boot_addr);
	const char *boots[] = {w->boot_addr};
	for (int i = 0; i < NODES; i++) {
		struct rt_host_config c = {.datadir = w->dir[i], .bootnodes = boots, .n_bootnodes = 1,
					   .metrics = i == 1 ? reg : NULL};
		rt_addr_parse("127.0.0.1:0", &c.bind);
		struct rt_host_callbacks cb = {.deliver = deliver, .validate = i == 1 ? reject_all : NULL};
		cr_assert_eq(rt_host_start(&w->n[i].h, &w->loop, &c, &cb, &w->n[i]), 0);
		cr_assert_eq(rt_host_subscribe(w->n[i].h, "canon/test/0/tx"), 0);
	}
	cr_assert(run_until(w, meshed, 15000));
	size_t before = rt_host_peer_count(w->n[1].h);
	cr_assert_eq(before, NODES - 1);
	for (int k = 0; k < 8; k++) {
		uint8_t d[64];
		randombytes_buf(d, sizeof d);
		cr_assert_eq(rt_host_publish(w->n[0].h, "canon/test/0/tx", d, sizeof d), 0);
	}
	watch = w->n[1].h;
	watch_peers_below = before;
	cr_assert(run_until(w, peers_dropped, 10000), "node 1 kept the rejected peer");
	struct rt_host_stats st;
	rt_host_stats(w->n[1].h, &st);
	cr_assert_geq(st.gossip_disconnects, 1);
	/* Node 2 accepted them all (it validates nothing). */
	cr_assert_eq(w->n[1].delivered, 0);

	run_until(w, meshed, 200); /* a tick refreshes the metrics */
	char *text;
	size_t len;
	cr_assert_eq(cn_metrics_format(reg, &text, &len), 0);
	cr_assert(strstr(text, "canon_net_peers "), "%s", text);
	cr_assert(strstr(text, "canon_net_bytes_total{dir=\"in\"}"));
	cr_assert(strstr(text, "canon_net_events_total"));
	cr_assert(strstr(text, "canon_net_cwnd_bytes "));
	cr_assert(!strstr(text, "canon_net_cwnd_bytes 0\n"), "%s", text);
	free(text);
	teardown(w);
	cn_metrics_free(reg);
	free(w);
}

/* Node 2 restarts with the same host key on a new port. Its peers see no
 * session event (the endpoint takes the handshake for a rekey), only its
 * HELLO with a new instance number: they must send it their subscriptions
 * again, or it would never get their messages. */
static int restarted_meshed(struct world *w)
{
	struct rt_host_stats st;
	rt_host_stats(w->n[0].h, &st);
	return meshed(w) && st.peer_restarts >= 1;
}

static int node2_saw_restart(struct world *w)
{
	struct rt_host_stats st;
	rt_host_stats(w->n[2].h, &st);
	return meshed(w) && st.peer_restarts >= 1;
}

static int node2_got_one(struct world *w)
{
	return w->n[2].delivered >= 1;
}

static int node2_got(struct world *w)
{
	return w->n[2].delivered >= 2 && w->n[0].delivered >= 1;
}

Test(rt_host, peer_restart_with_same_key, .timeout = 60)
{
	struct world *w = calloc(1, sizeof *w);
	setup(w, 0);
	cr_assert(run_until(w, meshed, 15000));
	rt_host_close(w->n[2].h);
	run_until(w, all_delivered, 300); /* lets its handles close */
	rt_host_free(w->n[2].h);
	memset(&w->n[2], 0, sizeof w->n[2]);
	const char *boots[] = {w->boot_addr};
	struct rt_host_config c = {.datadir = w->dir[2], .bootnodes = boots, .n_bootnodes = 1};
	rt_addr_parse("127.0.0.1:0", &c.bind);
	struct rt_host_callbacks cb = {.deliver = deliver};
	cr_assert_eq(rt_host_start(&w->n[2].h, &w->loop, &c, &cb, &w->n[2]), 0);
	cr_assert_eq(rt_host_subscribe(w->n[2].h, "canon/test/0/tx"), 0);
	if (!run_until(w, restarted_meshed, 15000)) {
		struct rt_host_stats s0, s2;
		rt_host_stats(w->n[0].h, &s0);
		rt_host_stats(w->n[2].h, &s2);
		uint8_t ids[8][32];
		cr_assert_fail("node 0 did not notice the restart: node0 restarts %llu peers %zu topic %zu; node2 peers %zu "
			       "topic %zu results %llu registered %llu hs %llu",
			       (unsigned long long)s0.peer_restarts, s0.peers,
			       rt_host_topic_peers(w->n[0].h, "canon/test/0/tx", ids, 8), s2.peers,
			       rt_host_topic_peers(w->n[2].h, "canon/test/0/tx", ids, 8),
			       (unsigned long long)s2.boot_results, (unsigned long long)s2.boot_registered,
			       (unsigned long long)s2.handshakes);
	}
	uint8_t a[100], b[100], d[100];
	randombytes_buf(a, sizeof a);
	randombytes_buf(b, sizeof b);
	randombytes_buf(d, sizeof d);
	cr_assert_eq(rt_host_publish(w->n[0].h, "canon/test/0/tx", a, sizeof a), 0);
	cr_assert_eq(rt_host_publish(w->n[1].h, "canon/test/0/tx", b, sizeof b), 0);
	cr_assert_eq(rt_host_publish(w->n[2].h, "canon/test/0/tx", d, sizeof d), 0);
	cr_assert(run_until(w, node2_got, 10000), "after restart: node 2 got %zu, node 0 got %zu",
		  w->n[2].delivered, w->n[0].delivered);

	/* Now node 0 restarts: the restarted node 2 learned node 0's instance
	 * from the HELLO node 0 sent back, so it notices this restart too. */
	rt_host_close(w->n[0].h);
	run_until(w, all_delivered, 300);
	rt_host_free(w->n[0].h);
	memset(&w->n[0], 0, sizeof w->n[0]);
	struct rt_host_config c0 = {.datadir = w->dir[0], .bootnodes = boots, .n_bootnodes = 1};
	rt_addr_parse("127.0.0.1:0", &c0.bind);
	cr_assert_eq(rt_host_start(&w->n[0].h, &w->loop, &c0, &cb, &w->n[0]), 0);
	cr_assert_eq(rt_host_subscribe(w->n[0].h, "canon/test/0/tx"), 0);
	cr_assert(run_until(w, node2_saw_restart, 15000), "node 2 did not notice node 0's restart");
	w->n[2].delivered = 0;
	randombytes_buf(a, sizeof a);
	cr_assert_eq(rt_host_publish(w->n[0].h, "canon/test/0/tx", a, sizeof a), 0);
	cr_assert(run_until(w, node2_got_one, 10000), "node 2 got nothing from the restarted node 0");
	teardown(w);
	free(w);
}
