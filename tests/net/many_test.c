/* One hub endpoint with many peers: node-ID and receiver-index maps grow
 * and rebuild, every packet still reaches the right session. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "net/net.h"

#define PEERS 200

struct msg {
	int to;                      /* 0 = hub, i = client i */
	struct net_addr from;
	size_t len;
	uint8_t data[NET_MAX_DATAGRAM];
};

struct world {
	struct net_identity id[PEERS + 1];
	struct net_endpoint *ep[PEERS + 1];
	struct net_addr addr[PEERS + 1];
	struct msg *q;
	size_t nq, head;
	size_t delivered[PEERS + 1];
	uint8_t last[PEERS + 1][8];
};

static int who(struct world *w, const struct net_addr *a)
{
	for (int i = 0; i <= PEERS; i++)
		if (net_addr_equal(&w->addr[i], a))
			return i;
	return -1;
}

static void step(struct world *w, int i, const struct net_input *in)
{
	struct net_out out;
	net_out_init(&out);
	cr_assert_eq(net_endpoint_step(w->ep[i], 1700000000000ull, in, &out), 0);
	for (size_t k = 0; k < out.n; k++) {
		const struct net_action *a = &out.act[k];
		if (a->kind == NET_ACT_SEND) {
			cr_assert_lt(w->nq, 20 * PEERS);
			struct msg *m = &w->q[w->nq++];
			m->to = who(w, &a->addr);
			m->from = w->addr[i];
			m->len = a->len;
			memcpy(m->data, net_action_data(&out, a), a->len);
		} else if (a->kind == NET_ACT_DELIVER) {
			w->delivered[i]++;
			cr_assert_eq(a->len, 8);
			memcpy(w->last[i], net_action_data(&out, a), 8);
			/* The payload names its sender: check the session mapping. */
			int from;
			memcpy(&from, net_action_data(&out, a), sizeof from);
			cr_assert_arr_eq(a->peer, w->id[from].node_id, 32);
		}
	}
	net_out_free(&out);
}

static void drain(struct world *w)
{
	while (w->head < w->nq) {
		struct msg m = w->q[w->head++];
		cr_assert_geq(m.to, 0);
		struct net_input in = {.kind = NET_IN_DATAGRAM, .addr = m.from, .data = m.data, .len = m.len};
		step(w, m.to, &in);
	}
}

static void say(struct world *w, int from, int to)
{
	uint8_t p[8] = {0};
	memcpy(p, &from, sizeof from);
	struct net_input in = {.kind = NET_IN_SEND, .data = p, .len = 8, .peer = w->id[to].node_id};
	step(w, from, &in);
}

Test(net_many, hub_with_many_peers)
{
	struct world *w = calloc(1, sizeof *w);
	w->q = calloc(20 * PEERS, sizeof *w->q);
	for (int i = 0; i <= PEERS; i++) {
		uint8_t seed[32] = {(uint8_t)i, (uint8_t)(i >> 8), 0x5a};
		cr_assert_eq(net_identity_from_seed(&w->id[i], seed), 0);
		cr_assert_eq(net_endpoint_new(&w->ep[i], &w->id[i], NULL), 0);
		net_addr_v4(&w->addr[i], 10, 1, (uint8_t)(i >> 8), (uint8_t)i, 9000);
	}
	struct net_locator hub = {.seq = 1, .n_addrs = 1};
	hub.addrs[0] = w->addr[0];
	cr_assert_eq(net_locator_sign(&hub, &w->id[0]), 0);
	for (int i = 1; i <= PEERS; i++) {
		cr_assert_eq(net_endpoint_add_peer(w->ep[i], &hub), 0);
		say(w, i, 0);
	}
	drain(w);
	cr_assert_eq(w->delivered[0], PEERS);
	/* The hub answers everyone, then everyone talks again. */
	for (int i = 1; i <= PEERS; i++)
		say(w, 0, i);
	for (int i = PEERS; i >= 1; i--)
		say(w, i, 0);
	drain(w);
	for (int i = 1; i <= PEERS; i++)
		cr_assert_eq(w->delivered[i], 1, "client %d", i);
	cr_assert_eq(w->delivered[0], 2 * PEERS);
	cr_assert_eq(net_endpoint_stat(w->ep[0], NET_STAT_DROP_UNKNOWN), 0);
	cr_assert_eq(net_endpoint_stat(w->ep[0], NET_STAT_DROP_AUTH), 0);
	for (int i = 0; i <= PEERS; i++)
		net_endpoint_free(w->ep[i]);
	free(w->q);
	free(w);
}
