/* p2p_mesh.c — `canon p2p mesh` and `canon p2p request`: real processes
 * talking through rt_host (bootnode discovery, gossip, streams).
 *
 * `mesh` joins a topic through the bootnodes, waits until it has
 * --wait-peers peers on it, publishes --publish messages at --rate per
 * second and exits 0 once it has delivered --expect messages of the other
 * nodes, each exactly once (by content hash) and each intact. Messages
 * check themselves: publisher ID, sequence number and length up front, the
 * rest generated from them, so any node can verify any message. Sizes are
 * mixed: log-uniform between 100 B and 64 KiB, and every --big-every'th
 * message 1 MiB. With --serve PROTO it also answers stream requests on PROTO
 * by echoing them back.
 *
 * `request` opens a session to one node ("<pk hex>@ip:port"), sends --count
 * requests of --size bytes on --proto and checks the echoes; with
 * --expect-unsupported it succeeds only if the node refuses the protocol. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>
#include <uv.h>

#include "base/bytes.h"
#include "base/err.h"
#include "base/flags.h"
#include "base/log.h"
#include "base/prng.h"
#include "cli/cli.h"
#include "runtime/rt_host.h"
#include "runtime/rt_net.h"

#define HDR 40                     /* publisher id(32) | seq(4) | len(4) */
#define BIG (1u << 20)

struct mesh {
	uv_loop_t loop;
	struct rt_host *h;
	uv_timer_t tick;
	uv_signal_t sigint, sigterm;
	const char *topic;
	uint64_t publish, expect, rate, wait_peers, big_every, linger_ms, timeout_ms;
	uint64_t published, received, dup, bad, big_received;
	uint64_t start_ms, publish_start_ms, done_ms;
	uint64_t *seen;                /* open addressing: 8 bytes of content hash, 0 = empty */
	struct {                       /* per publisher: which sequence numbers arrived */
		uint8_t id[32];
		uint8_t *got;
	} pubs[64];
	size_t n_pubs;
	size_t seen_cap;
	int stopping, failed;
	const char *why;
};

static double max_size = 65536.0;

static size_t msg_size(const uint8_t id[32], uint32_t seq, uint64_t big_every)
{
	if (big_every && seq % big_every == big_every - 1)
		return BIG;
	struct cn_prng r;
	cn_prng_seed(&r, load_be64(id) ^ ((uint64_t)seq * 0x9E3779B97F4A7C15ull));
	/* log-uniform 100 B .. max_size */
	double x = cn_prng_double(&r);
	return (size_t)(100.0 * pow(max_size / 100.0, x));
}

static void msg_body(const uint8_t *hdr, uint8_t *body, size_t n)
{
	struct cn_prng r;
	uint8_t k[32];
	crypto_generichash(k, 32, hdr, HDR, NULL, 0);
	cn_prng_seed(&r, load_be64(k));
	cn_prng_fill(&r, body, n);
}

static int seen_add(struct mesh *m, const uint8_t *data, size_t len)
{
	uint8_t hsh[8];
	crypto_generichash(hsh, 8, data, len, NULL, 0);
	uint64_t key = load_be64(hsh) | 1;
	size_t i = (size_t)(key % m->seen_cap);
	while (m->seen[i]) {
		if (m->seen[i] == key)
			return 0;
		i = (i + 1) % m->seen_cap;
	}
	m->seen[i] = key;
	return 1;
}

static void mesh_stop(struct mesh *m)
{
	if (m->stopping)
		return;
	m->stopping = 1;
	uv_close((uv_handle_t *)&m->tick, NULL);
	uv_close((uv_handle_t *)&m->sigint, NULL);
	uv_close((uv_handle_t *)&m->sigterm, NULL);
	rt_host_close(m->h);
}

static void deliver(void *ctx, const char *topic, const uint8_t from[32], const uint8_t *data, size_t len)
{
	struct mesh *m = ctx;
	if (strcmp(topic, m->topic) != 0)
		return;
	if (len < HDR || load_be32(data + 36) != len ||
	    msg_size(data, load_be32(data + 32), m->big_every) != len) {
		m->bad++;
		return;
	}
	uint8_t *want = malloc(len - HDR);
	if (!want)
		return;
	msg_body(data, want, len - HDR);
	int ok = memcmp(want, data + HDR, len - HDR) == 0;
	free(want);
	if (!ok) {
		m->bad++;
		return;
	}
	if (!seen_add(m, data, len)) {
		m->dup++;
		return;
	}
	m->received++;
	uint32_t seq = load_be32(data + 32);
	size_t pi;
	for (pi = 0; pi < m->n_pubs && memcmp(m->pubs[pi].id, data, 32); pi++)
		;
	if (pi == m->n_pubs && pi < 64 && (m->pubs[pi].got = calloc(m->publish + 1, 1)) != NULL) {
		memcpy(m->pubs[pi].id, data, 32);
		m->n_pubs++;
	}
	if (pi < m->n_pubs && seq < m->publish)
		m->pubs[pi].got[seq] = 1;
	if (len == BIG)
		m->big_received++;
}

static void publish_one(struct mesh *m)
{
	uint32_t seq = (uint32_t)m->published;
	const uint8_t *id = rt_host_node_id(m->h);
	size_t len = msg_size(id, seq, m->big_every);
	uint8_t *d = malloc(len);
	if (!d) {
		m->failed = 1;
		m->why = "out of memory";
		return;
	}
	memcpy(d, id, 32);
	store_be32(d + 32, seq);
	store_be32(d + 36, (uint32_t)len);
	msg_body(d, d + HDR, len - HDR);
	int rc = rt_host_publish(m->h, m->topic, d, len);
	free(d);
	if (rc) {
		m->failed = 1;
		m->why = cn_strerror(rc);
		return;
	}
	m->published++;
}

static void on_tick(uv_timer_t *t)
{
	struct mesh *m = t->data;
	uint64_t now = rt_now_ms();
	if (m->stopping)
		return;
	if (now - m->start_ms >= m->timeout_ms) {
		m->failed = 1;
		m->why = "timeout";
		mesh_stop(m);
		return;
	}
	if (!m->publish_start_ms) {
		uint8_t ids[64][32];
		if (rt_host_topic_peers(m->h, m->topic, ids, 64) < m->wait_peers)
			return;
		m->publish_start_ms = now;
		cn_log_info("mesh: %" PRIu64 " peers after %" PRIu64 " ms, publishing", m->wait_peers,
			    now - m->start_ms);
	}
	uint64_t due = m->rate ? (now - m->publish_start_ms) * m->rate / 1000 + 1 : m->publish;
	while (m->published < m->publish && m->published < due && !m->failed)
		publish_one(m);
	if (m->failed) {
		mesh_stop(m);
		return;
	}
	if (!m->done_ms && m->published == m->publish && m->received >= m->expect)
		m->done_ms = now;
	/* Stay a while after finishing: the others may still need our relays. */
	if (m->done_ms && now - m->done_ms >= m->linger_ms)
		mesh_stop(m);
}

static void on_signal(uv_signal_t *s, int signum)
{
	struct mesh *m = s->data;
	m->failed = 1;
	m->why = "signal";
	mesh_stop(m);
}

static void serve_echo(void *ctx, const uint8_t peer[32], const uint8_t *req, size_t len, struct rt_host_req *r)
{
	rt_host_reply(r, 0, req, len);
}

static int parse_common(const char *listen, const char *bootnodes_s, char ***boots, size_t *n_boots,
			struct net_addr *bind, const char *who)
{
	if (rt_addr_parse(listen, bind) != 0) {
		fprintf(stderr, "%s: bad --listen '%s'\n", who, listen);
		return -1;
	}
	*boots = NULL;
	*n_boots = 0;
	if (!bootnodes_s || !*bootnodes_s)
		return 0;
	char *copy = strdup(bootnodes_s);
	size_t cap = 1;
	for (const char *p = bootnodes_s; *p; p++)
		cap += *p == ',';
	*boots = calloc(cap + 1, sizeof **boots);
	if (!copy || !*boots) {
		free(copy);
		free(*boots);
		return -1;
	}
	char *save = NULL;
	for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
		(*boots)[(*n_boots)++] = strdup(tok);
	free(copy);
	return 0;
}

static void free_boots(char **boots, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(boots[i]);
	free(boots);
}

static int cmd_mesh(int argc, char **argv)
{
	const char *datadir = ".", *listen = "127.0.0.1:0", *bootnodes = NULL, *topic = "canon/mesh/0/tx",
		   *serve = NULL;
	uint64_t publish = 100, expect = 0, rate = 100, wait_peers = 1, big_every = 500, max_peers = 0, fanout = 0;
	uint64_t timeout_ms = 60000, linger_ms = 2000, max_sz = 65536;
	struct cn_flag flags[] = {
		{"datadir", CN_FLAG_STRING, &datadir, "D", "host key in D/p2p/hostkey (created if missing)", 0},
		{"listen", CN_FLAG_STRING, &listen, "IP:PORT", "UDP address (default 127.0.0.1:0)", 0},
		{"bootnodes", CN_FLAG_STRING, &bootnodes, "LIST", "<pk hex>@ip:port,...", 0},
		{"topic", CN_FLAG_STRING, &topic, "T", "gossip topic (default canon/mesh/0/tx)", 0},
		{"publish", CN_FLAG_UINT, &publish, "N", "messages to publish (default 100)", 0},
		{"expect", CN_FLAG_UINT, &expect, "M", "messages of others to deliver before success", 0},
		{"rate", CN_FLAG_UINT, &rate, "R", "publishes per second (default 100; 0: all at once)", 0},
		{"wait-peers", CN_FLAG_UINT, &wait_peers, "K", "topic peers to have before publishing (default 1)", 0},
		{"max-size", CN_FLAG_UINT, &max_sz, "S", "largest ordinary message (default 65536, >= 100)", 0},
		{"big-every", CN_FLAG_UINT, &big_every, "B", "every B-th message is 1 MiB (default 500; 0: never)", 0},
		{"max-peers", CN_FLAG_UINT, &max_peers, "N", "session limit (default 64)", 0},
		{"fanout", CN_FLAG_UINT, &fanout, "F", "gossip eager-push peers per message (default 6)", 0},
		{"serve", CN_FLAG_STRING, &serve, "PROTO", "also echo stream requests on PROTO", 0},
		{"timeout", CN_FLAG_DURATION, &timeout_ms, "T", "give up after T (default 60s)", 0},
		{"linger", CN_FLAG_DURATION, &linger_ms, "T", "keep relaying this long after success (default 2s)", 0},
		{NULL, 0, NULL, NULL, NULL, 0},
	};
	struct cn_flags_result res;
	char err[256];
	if (cn_flags_parse(flags, argc, argv, &res, err, sizeof err) != 0) {
		fprintf(stderr, "canon p2p mesh: %s\n", err);
		return 2;
	}
	int help = res.help, extra = res.n_positional > 0;
	cn_flags_result_free(&res);
	if (help) {
		cn_flags_help(stdout, "canon p2p mesh --bootnodes LIST --datadir D [--publish N] [--expect M] ...",
			      flags);
		return 0;
	}
	char **boots;
	size_t n_boots;
	struct net_addr bind;
	if (max_sz < 100 || max_sz > (1u << 20)) {
		fprintf(stderr, "canon p2p mesh: --max-size must be 100 .. 1048576\n");
		return 2;
	}
	max_size = (double)max_sz;
	if (extra || publish > UINT32_MAX ||
	    parse_common(listen, bootnodes, &boots, &n_boots, &bind, "canon p2p mesh") != 0)
		return 2;
	struct mesh *m = calloc(1, sizeof *m);
	if (!m) {
		free_boots(boots, n_boots);
		return 1;
	}
	m->topic = topic;
	m->publish = publish;
	m->expect = expect;
	m->rate = rate;
	m->wait_peers = wait_peers;
	m->big_every = big_every;
	m->timeout_ms = timeout_ms;
	m->linger_ms = linger_ms;
	m->seen_cap = 2 * expect + 1024;
	int status = 1;
	if (!(m->seen = calloc(m->seen_cap, sizeof *m->seen)) || uv_loop_init(&m->loop) != 0)
		goto out;
	struct rt_host_config cfg = {.datadir = datadir, .bind = bind, .bootnodes = (const char *const *)boots,
				     .n_bootnodes = n_boots, .max_peers = (uint32_t)max_peers,
				     .gossip_fanout = (uint32_t)fanout};
	struct rt_host_callbacks cb = {.deliver = deliver};
	int rc = rt_host_start(&m->h, &m->loop, &cfg, &cb, m);
	if (rc) {
		fprintf(stderr, "canon p2p mesh: %s\n", cn_strerror(rc));
		uv_run(&m->loop, UV_RUN_DEFAULT);
		uv_loop_close(&m->loop);
		status = rc == -CN_EINVAL ? 2 : 1;
		goto out;
	}
	if ((rc = rt_host_subscribe(m->h, topic)) != 0 ||
	    (serve && (rc = rt_host_serve(m->h, serve, serve_echo, m)) != 0)) {
		fprintf(stderr, "canon p2p mesh: %s\n", cn_strerror(rc));
		rt_host_close(m->h);
		uv_run(&m->loop, UV_RUN_DEFAULT);
		rt_host_free(m->h);
		uv_loop_close(&m->loop);
		goto out;
	}
	char addr[256];
	rt_host_address(m->h, addr, sizeof addr);
	printf("node %s\n", addr);
	fflush(stdout);
	m->start_ms = rt_now_ms();
	m->tick.data = m->sigint.data = m->sigterm.data = m;
	uv_timer_init(&m->loop, &m->tick);
	uv_timer_start(&m->tick, on_tick, 10, 10);
	uv_signal_init(&m->loop, &m->sigint);
	uv_signal_init(&m->loop, &m->sigterm);
	uv_signal_start(&m->sigint, on_signal, SIGINT);
	uv_signal_start(&m->sigterm, on_signal, SIGTERM);
	uv_run(&m->loop, UV_RUN_DEFAULT);
	struct rt_host_stats st;
	rt_host_stats(m->h, &st);
	char tag[NET_TAG_CHARS + 1];
	net_node_tag(rt_host_node_id(m->h), tag);
	uint64_t elapsed = (m->done_ms ? m->done_ms : rt_now_ms()) - m->start_ms;
	printf("mesh %s published %" PRIu64 " received %" PRIu64 " (1 MiB: %" PRIu64 ") expected %" PRIu64
	       " duplicates %" PRIu64
	       " bad %" PRIu64 " peers %zu elapsed_ms %" PRIu64 " datagrams_out %" PRIu64 " test_dropped %" PRIu64
	       " repairs %" PRIu64 " refused %" PRIu64 " failed_msgs %" PRIu64 " handshakes %" PRIu64
	       " acks_out %" PRIu64 " acks_in %" PRIu64 " dup_symbols %" PRIu64 " msgs_out %" PRIu64
	       " ratelimited %" PRIu64 " disconnects %" PRIu64 " iwant %" PRIu64 "%s%s\n",
	       tag, m->published, m->received, m->big_received, m->expect, m->dup, m->bad, st.peers, elapsed, st.datagrams_out,
	       st.test_dropped, st.repair_symbols, st.refused_incoming, st.msgs_failed, st.handshakes,
	       st.acks_out, st.acks_in, st.dup_symbols, st.msgs_out, st.gossip_ratelimited,
	       st.gossip_disconnects, st.gossip_iwant_out,
	       m->failed ? " FAILED " : "", m->failed ? m->why : "");
	const struct gossip_stats *gs = rt_host_gossip_stats(m->h);
	printf("gossip %s received %" PRIu64 " delivered %" PRIu64 " duplicates %" PRIu64 " relayed %" PRIu64
	       " ihave_in %" PRIu64 " iwant_out %" PRIu64 " iwant_in %" PRIu64 " iwant_refused %" PRIu64
	       " wants_refused %" PRIu64 " malformed %" PRIu64 " unsubscribed %" PRIu64 "\n",
	       tag, gs->received, gs->delivered, gs->duplicates, gs->relayed, gs->ihave_in, gs->iwant_out,
	       gs->iwant_in, gs->iwant_refused, gs->wants_refused, gs->malformed, gs->unsubscribed);
	/* Which messages are missing, to find where they were lost. */
	for (size_t i = 0; i < m->n_pubs && m->received < m->expect; i++)
		for (uint64_t q = 0; q < m->publish; q++)
			if (!m->pubs[i].got[q]) {
				char pt[NET_TAG_CHARS + 1];
				net_node_tag(m->pubs[i].id, pt);
				printf("missing %s seq %" PRIu64 " size %zu\n", pt, q,
				       msg_size(m->pubs[i].id, (uint32_t)q, m->big_every));
			}
	for (size_t i = 0; i < m->n_pubs; i++)
		free(m->pubs[i].got);
	fflush(stdout);
	rt_host_free(m->h);
	if (uv_loop_close(&m->loop) != 0)
		m->failed = 1;
	status = !m->failed && m->dup == 0 && m->bad == 0 && m->received == m->expect ? 0 : 1;
out:
	free_boots(boots, n_boots);
	free(m->seen);
	free(m);
	return status;
}

/* ---- request ---------------------------------------------------------------- */

struct req {
	uv_loop_t loop;
	struct rt_host *h;
	uv_timer_t deadline;
	uint8_t peer[32];
	const char *proto;
	uint64_t count, size, done, timeout_ms;
	int expect_unsupported, failed, closing;
	const char *why;
	uint8_t *msg;
};

static void req_stop(struct req *q)
{
	if (q->closing)
		return;
	q->closing = 1;
	uv_close((uv_handle_t *)&q->deadline, NULL);
	rt_host_close(q->h);
}

static void req_next(struct req *q);

static void on_response(void *ctx, int err, int status, const uint8_t *data, size_t len)
{
	struct req *q = ctx;
	if (q->closing)
		return;
	if (q->expect_unsupported) {
		if (err != -CN_EUNSUPPORTED) {
			q->failed = 1;
			q->why = err ? cn_strerror(err) : "the node served the protocol";
		}
		q->done++;
		req_stop(q);
		return;
	}
	if (err || status != 0 || len != q->size || memcmp(data, q->msg, len) != 0) {
		q->failed = 1;
		q->why = err ? cn_strerror(err) : "echo differs from the request";
		req_stop(q);
		return;
	}
	if (++q->done == q->count)
		req_stop(q);
	else
		req_next(q);
}

static void req_next(struct req *q)
{
	randombytes_buf(q->msg, q->size);
	int rc = rt_host_request(q->h, q->peer, q->proto, q->msg, q->size, q->timeout_ms, on_response, q);
	if (rc) {
		q->failed = 1;
		q->why = cn_strerror(rc);
		req_stop(q);
	}
}

static void on_req_deadline(uv_timer_t *t)
{
	struct req *q = t->data;
	q->failed = 1;
	q->why = "timeout";
	req_stop(q);
}

static int cmd_request(int argc, char **argv)
{
	const char *datadir = ".", *listen = "127.0.0.1:0", *peer = NULL, *proto = "canon/echo/1";
	uint64_t count = 1, size = 1000, timeout_ms = 20000;
	int expect_unsupported = 0;
	struct cn_flag flags[] = {
		{"datadir", CN_FLAG_STRING, &datadir, "D", "host key in D/p2p/hostkey (created if missing)", 0},
		{"listen", CN_FLAG_STRING, &listen, "IP:PORT", "UDP address (default 127.0.0.1:0)", 0},
		{"peer", CN_FLAG_STRING, &peer, "ADDR", "<pk hex>@ip:port of the node to ask", 0},
		{"proto", CN_FLAG_STRING, &proto, "PROTO", "stream protocol (default canon/echo/1)", 0},
		{"count", CN_FLAG_UINT, &count, "N", "requests, one after the other (default 1)", 0},
		{"size", CN_FLAG_UINT, &size, "S", "request bytes (default 1000)", 0},
		{"expect-unsupported", CN_FLAG_BOOL, &expect_unsupported, NULL,
		 "succeed only if the node refuses the protocol", 0},
		{"timeout", CN_FLAG_DURATION, &timeout_ms, "T", "give up after T (default 20s)", 0},
		{NULL, 0, NULL, NULL, NULL, 0},
	};
	struct cn_flags_result res;
	char err[256];
	if (cn_flags_parse(flags, argc, argv, &res, err, sizeof err) != 0) {
		fprintf(stderr, "canon p2p request: %s\n", err);
		return 2;
	}
	int help = res.help, extra = res.n_positional > 0;
	cn_flags_result_free(&res);
	if (help) {
		cn_flags_help(stdout, "canon p2p request --peer ADDR [--proto P] [--count N] [--size S]", flags);
		return 0;
	}
	struct net_addr bind, paddr;
	uint8_t pk[32];
	if (extra || !peer || rt_addr_parse(listen, &bind) != 0 || rt_host_parse_address(peer, pk, &paddr) != 0 ||
	    count == 0 || size == 0 || size > (1u << 20)) {
		fprintf(stderr, "canon p2p request: need --peer <pk hex>@ip:port, 1 <= --size <= 1 MiB\n");
		return 2;
	}
	struct req *q = calloc(1, sizeof *q);
	if (!q || !(q->msg = malloc(size)) || uv_loop_init(&q->loop) != 0) {
		if (q)
			free(q->msg);
		free(q);
		return 1;
	}
	q->proto = proto;
	q->count = count;
	q->size = size;
	q->timeout_ms = timeout_ms;
	q->expect_unsupported = expect_unsupported;
	net_node_id(pk, q->peer);
	struct rt_host_config cfg = {.datadir = datadir, .bind = bind};
	int rc = rt_host_start(&q->h, &q->loop, &cfg, NULL, NULL);
	if (rc == 0 && (rc = rt_host_connect(q->h, peer)) != 0)
		rt_host_close(q->h);
	if (rc) {
		fprintf(stderr, "canon p2p request: %s\n", cn_strerror(rc));
		uv_run(&q->loop, UV_RUN_DEFAULT);
		rt_host_free(q->h);
		uv_loop_close(&q->loop);
		free(q->msg);
		free(q);
		return 1;
	}
	uv_timer_init(&q->loop, &q->deadline);
	q->deadline.data = q;
	uv_timer_start(&q->deadline, on_req_deadline, timeout_ms, 0);
	uint64_t t0 = uv_hrtime();
	req_next(q);
	uv_run(&q->loop, UV_RUN_DEFAULT);
	rt_host_free(q->h);
	uv_loop_close(&q->loop);
	printf("request %s done %" PRIu64 " of %" PRIu64 " size %" PRIu64 " elapsed_ms %.1f%s%s\n", proto, q->done,
	       q->expect_unsupported ? (uint64_t)1 : q->count, size, (double)(uv_hrtime() - t0) / 1e6,
	       q->failed ? " FAILED " : "", q->failed ? q->why : "");
	int status = q->failed ? 1 : 0;
	free(q->msg);
	free(q);
	return status;
}

int cli_p2p_host(int argc, char **argv)
{
	if (!strcmp(argv[0], "mesh"))
		return cmd_mesh(argc - 1, argv + 1);
	return cmd_request(argc - 1, argv + 1);
}
