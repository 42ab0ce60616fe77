/* net.c — transport benchmarks: complete handshakes per second (both sides
 * in one process, initiation → response → confirming packet) and sealed +
 * opened 1200-byte data packets. The responder's load threshold is lifted:
 * thousands of handshakes a second from one peer would otherwise (rightly)
 * be answered with cookies and rate limited, and this measures the crypto. */
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "net/net.h"

struct pair {
	struct net_identity id[2];
	struct net_endpoint *ep[2];
	struct net_addr addr[2];
	struct net_out out[2];
	uint64_t now;
	size_t delivered, established;
};

static void die(const char *what)
{
	fprintf(stderr, "bench net: %s\n", what);
	exit(1);
}

/* Feeds every datagram endpoint `from` produced to the other one, until quiet. */
static void pump(struct pair *p, int from)
{
	while (p->out[from].n) {
		int to = 1 - from;
		net_out_reset(&p->out[to]);
		for (size_t k = 0; k < p->out[from].n; k++) {
			const struct net_action *a = &p->out[from].act[k];
			if (a->kind == NET_ACT_DELIVER)
				p->delivered++;
			if (a->kind == NET_ACT_ESTABLISHED)
				p->established++;
			if (a->kind != NET_ACT_SEND)
				continue;
			struct net_input in = {.kind = NET_IN_DATAGRAM, .addr = p->addr[from],
					       .data = net_action_data(&p->out[from], a), .len = a->len};
			if (net_endpoint_step(p->ep[to], p->now, &in, &p->out[to]))
				die("step failed");
		}
		net_out_reset(&p->out[from]);
		from = to;
	}
}

static void pair_init(struct pair *p)
{
	memset(p, 0, sizeof *p);
	p->now = 1700000000000ull;
	for (int i = 0; i < 2; i++) {
		struct net_config cfg;
		net_config_default(&cfg);
		cfg.load_threshold = UINT32_MAX;
		if (net_identity_generate(&p->id[i]) || net_endpoint_new(&p->ep[i], &p->id[i], &cfg))
			die("setup");
		net_addr_v4(&p->addr[i], 127, 0, 0, (uint8_t)(i + 1), 7000);
		net_out_init(&p->out[i]);
	}
	struct net_locator rec = {.seq = 1, .n_addrs = 1};
	rec.addrs[0] = p->addr[1];
	if (net_locator_sign(&rec, &p->id[1]) || net_endpoint_add_peer(p->ep[0], &rec))
		die("peer");
}

static void pair_free(struct pair *p)
{
	for (int i = 0; i < 2; i++) {
		net_endpoint_free(p->ep[i]);
		net_out_free(&p->out[i]);
	}
}

static void pair_send(struct pair *p, int from, const uint8_t *msg, size_t len)
{
	struct net_input in = {.kind = NET_IN_SEND, .data = msg, .len = len, .peer = p->id[1 - from].node_id};
	if (net_endpoint_step(p->ep[from], p->now, &in, &p->out[from]))
		die("send");
	pump(p, from);
}

static void one_handshake(void *arg)
{
	struct pair *p = arg;
	for (int i = 0; i < 2; i++) {
		struct net_input in = {.kind = NET_IN_CLOSE, .peer = p->id[1 - i].node_id};
		net_out_reset(&p->out[i]);
		net_endpoint_step(p->ep[i], p->now, &in, &p->out[i]);
		net_out_reset(&p->out[i]);
	}
	size_t before = p->established;
	p->now++;
	pair_send(p, 0, (const uint8_t *)"x", 1);
	if (p->established != before + 2)
		die("handshake did not complete");
}

static void one_packet(void *arg)
{
	struct pair *p = arg;
	static uint8_t msg[1200];
	size_t before = p->delivered;
	pair_send(p, 0, msg, sizeof msg);
	if (p->delivered != before + 1)
		die("packet not delivered");
}

int main(void)
{
	struct pair p;
	pair_init(&p);
	double t = bench_time_per_iter(one_handshake, &p, 400);
	bench_report("net", "handshakes_per_s", 1.0 / t, "handshakes/s");
	t = bench_time_per_iter(one_packet, &p, 20000);
	bench_report("net", "seal_open_mb_s", 1200.0 / t / 1e6, "MB/s");
	pair_free(&p);
	return 0;
}
