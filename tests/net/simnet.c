/* simnet.c — see simnet.h. */
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "base/bytes.h"
#include "base/err.h"
#include "simnet.h"

static void sn_random(void *ctx, uint8_t *buf, size_t len)
{
	cn_prng_fill(ctx, buf, len);
}

static void update_next(struct sn_net *net, struct sn_node *x)
{
	uint64_t t = x->ep_timer < x->msg_timer ? x->ep_timer : x->msg_timer;
	for (int g = 0; g < net->ng; g++)
		if (x->mc[g] && x->mc_timer[g] < t)
			t = x->mc_timer[g];
	x->next = t;
}

static void node_addr(struct net_addr *a, int i, int k)
{
	net_addr_v4(a, 10, (uint8_t)(k + 1), (uint8_t)(i >> 8), (uint8_t)(i + 1), 7000);
}

static void sign_locator(struct sn_net *net, int i)
{
	struct sn_node *x = &net->n[i];
	memset(&x->loc, 0, sizeof x->loc);
	x->loc.seq = ++x->loc_seq;
	x->loc.n_addrs = (uint8_t)x->n_addrs;
	memcpy(x->loc.addrs, x->addrs, sizeof x->addrs);
	cr_assert_eq(net_locator_sign(&x->loc, &x->id), 0);
}

void sn_init(struct sn_net *net, int n, uint64_t seed, const struct net_config *cfg)
{
	cr_assert(n >= 2 && n <= SN_MAX_NODES);
	memset(net, 0, sizeof *net);
	net->now = SN_T0;
	net->latency = 20;
	net->nn = n;
	net->n = calloc((size_t)n, sizeof *net->n);
	cr_assert(net->n);
	cn_prng_seed(&net->rng, seed ^ 0x73696d6e6574ull);
	for (int i = 0; i < n; i++) {
		struct sn_node *x = &net->n[i];
		uint8_t s[32];
		cn_prng_seed(&x->rng, seed * 7919 + (uint64_t)i);
		cn_prng_fill(&x->rng, s, sizeof s);
		cr_assert_eq(net_identity_from_seed(&x->id, s), 0);
		struct net_config c;
		if (cfg)
			c = *cfg;
		else
			net_config_default(&c);
		c.random = sn_random;
		c.random_ctx = &x->rng;
		cr_assert_eq(net_endpoint_new(&x->ep, &x->id, &c), 0);
		struct net_msg_config mc = {.max_peers = SN_MAX_PEERS};
		mc.id_seed = cn_prng_next_u64(&x->rng);
		cr_assert_eq(net_msg_new(&mc, &x->msg), 0);
		node_addr(&x->addrs[0], i, 0);
		x->n_addrs = 1;
		x->ep_timer = x->msg_timer = x->next = SN_NONE;
		for (int g = 0; g < SN_MAX_GROUPS; g++)
			x->mc_timer[g] = SN_NONE;
		x->held_tail = &x->held_head;
		sign_locator(net, i);
	}
}

void sn_free(struct sn_net *net)
{
	for (int i = 0; i < net->nn; i++) {
		struct sn_node *x = &net->n[i];
		net_endpoint_free(x->ep);
		net_msg_free(x->msg);
		for (int g = 0; g < SN_MAX_GROUPS; g++)
			net_mcast_free(x->mc[g]);
		while (x->held_head) {
			struct sn_held *h = x->held_head;
			x->held_head = h->next;
			free(h);
		}
		net_identity_wipe(&x->id);
	}
	for (size_t k = 0; k < net->nh; k++)
		free(net->h[k].d);
	free(net->h);
	free(net->n);
	memset(net, 0, sizeof *net);
}

void sn_faults(struct sn_net *net, uint64_t latency, uint64_t jitter, double loss, double dup)
{
	net->latency = latency;
	net->jitter = jitter;
	net->loss = loss;
	net->dup = dup;
}

void sn_add_addr(struct sn_net *net, int i)
{
	struct sn_node *x = &net->n[i];
	cr_assert_lt(x->n_addrs, SN_MAX_ADDRS);
	node_addr(&x->addrs[x->n_addrs], i, x->n_addrs);
	x->n_addrs++;
	sign_locator(net, i);
}

void sn_set_dead(struct sn_net *net, int i, int k, int dead)
{
	cr_assert_lt(k, net->n[i].n_addrs);
	net->n[i].dead[k] = (uint8_t)(dead != 0);
}

void sn_move(struct sn_net *net, int i)
{
	struct sn_node *x = &net->n[i];
	x->moves++;
	net_addr_v4(&x->addrs[0], 10, 200, (uint8_t)x->moves, (uint8_t)(i + 1), (uint16_t)(7100 + x->moves));
	/* Routes through the old address are gone with it. */
	int w = 0;
	for (int r = 0; r < x->n_routes; r++) {
		int live = 0;
		for (int k = 0; k < x->n_addrs; k++)
			live |= net_addr_equal(&x->routes[r].local, &x->addrs[k]);
		if (live)
			x->routes[w++] = x->routes[r];
	}
	x->n_routes = w;
}

/* ---- the network ---------------------------------------------------------------- */

static int pkt_less(const struct sn_pkt *a, const struct sn_pkt *b)
{
	return a->t < b->t || (a->t == b->t && a->seq < b->seq);
}

static void heap_push(struct sn_net *net, struct sn_pkt p)
{
	if (net->nh == net->caph) {
		net->caph = net->caph ? net->caph * 2 : 4096;
		net->h = realloc(net->h, net->caph * sizeof *net->h);
		cr_assert(net->h);
	}
	size_t i = net->nh++;
	while (i > 0 && pkt_less(&p, &net->h[(i - 1) / 2])) {
		net->h[i] = net->h[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	net->h[i] = p;
}

static struct sn_pkt heap_pop(struct sn_net *net)
{
	struct sn_pkt top = net->h[0], last = net->h[--net->nh];
	size_t i = 0;
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= net->nh)
			break;
		if (c + 1 < net->nh && pkt_less(&net->h[c + 1], &net->h[c]))
			c++;
		if (!pkt_less(&net->h[c], &last))
			break;
		net->h[i] = net->h[c];
		i = c;
	}
	if (net->nh)
		net->h[i] = last;
	return top;
}

/* The live node and address slot that own a, or -1. */
static int owner(const struct sn_net *net, const struct net_addr *a)
{
	for (int i = 0; i < net->nn; i++)
		for (int k = 0; k < net->n[i].n_addrs; k++)
			if (net_addr_equal(&net->n[i].addrs[k], a))
				return net->n[i].dead[k] ? -1 : i;
	return -1;
}

static int local_alive(const struct sn_node *x, const struct net_addr *a)
{
	for (int k = 0; k < x->n_addrs; k++)
		if (net_addr_equal(&x->addrs[k], a))
			return !x->dead[k];
	return 0;
}

/* Where a datagram to `to` leaves from: the address the peer last reached
 * us at, if it still works, else the first working one (as the OS would
 * route once an interface is down). 0 if none works. */
static int source_for(const struct sn_node *x, const struct net_addr *to, struct net_addr *out)
{
	for (int r = 0; r < x->n_routes; r++)
		if (net_addr_equal(&x->routes[r].remote, to) && local_alive(x, &x->routes[r].local)) {
			*out = x->routes[r].local;
			return 1;
		}
	for (int k = 0; k < x->n_addrs; k++)
		if (!x->dead[k]) {
			*out = x->addrs[k];
			return 1;
		}
	return 0;
}

static void learn_route(struct sn_node *x, const struct net_addr *remote, const struct net_addr *local)
{
	for (int r = 0; r < x->n_routes; r++)
		if (net_addr_equal(&x->routes[r].remote, remote)) {
			x->routes[r].local = *local;
			return;
		}
	if (x->n_routes < SN_MAX_ROUTES)
		x->routes[x->n_routes++] = (__typeof__(x->routes[0])){*remote, *local};
}

static void enqueue(struct sn_net *net, int i, const struct net_addr *to, const uint8_t *d, size_t len)
{
	struct sn_pkt p = {.to = *to, .len = len};
	cr_assert_leq(len, NET_MAX_DATAGRAM);
	net->offered++;
	if (!source_for(&net->n[i], to, &p.from)) {
		net->lost++;
		return;
	}
	p.d = malloc(len ? len : 1);
	cr_assert(p.d);
	memcpy(p.d, d, len);
	if (net->hooks.tap && !net->hooks.tap(net, &p)) {
		free(p.d);
		net->lost++;
		return;
	}
	if (net->loss > 0 && cn_prng_double(&net->rng) < net->loss) {
		free(p.d);
		net->lost++;
		return;
	}
	int copies = net->dup > 0 && cn_prng_double(&net->rng) < net->dup ? 2 : 1;
	for (int c = 0; c < copies; c++) {
		struct sn_pkt q = p;
		if (c) {
			q.d = malloc(len ? len : 1);
			cr_assert(q.d);
			memcpy(q.d, p.d, len);
			net->dups++;
		}
		q.t = net->now + net->latency + (net->jitter ? cn_prng_uniform(&net->rng, net->jitter + 1) : 0);
		q.seq = net->seq++;
		heap_push(net, q);
	}
}

/* ---- the driver (what rt_msg and the host do) -------------------------------------- */

static int ep_step(struct sn_net *net, int i, const struct net_input *in);
static int msg_step(struct sn_net *net, int i, const struct net_msg_input *in);
static int mc_step(struct sn_net *net, int i, int g, const struct net_mcast_input *in);

static int node_of_id(const struct sn_net *net, const uint8_t id[NET_NODE_ID_LEN])
{
	for (int j = 0; j < net->nn; j++)
		if (!memcmp(net->n[j].id.node_id, id, NET_NODE_ID_LEN))
			return j;
	return -1;
}

/* rt_msg_peer: the net_msg index of a node ID, added if new. */
static int peer_of(struct sn_net *net, struct sn_node *x, const uint8_t id[NET_NODE_ID_LEN], uint32_t *p)
{
	for (uint32_t k = 0; k < x->n_peers; k++)
		if (!memcmp(x->peer_id[k], id, NET_NODE_ID_LEN)) {
			*p = k;
			return 0;
		}
	if (x->n_peers == SN_MAX_PEERS) {
		x->peer_table_full++;
		return -CN_ELIMIT;
	}
	memcpy(x->peer_id[x->n_peers], id, NET_NODE_ID_LEN);
	x->peer_node[x->n_peers] = node_of_id(net, id);
	*p = x->n_peers++;
	return 0;
}

static int session_up(const struct sn_node *x, const uint8_t id[NET_NODE_ID_LEN])
{
	struct net_session_info info;
	return net_endpoint_session(x->ep, id, &info) == 0 && info.state == NET_SESSION_ESTABLISHED;
}

/* Discovery stands in here: a node learns a peer's current locator record
 * the first time it wants to reach it. */
static void introduce(struct sn_net *net, int i, const uint8_t id[NET_NODE_ID_LEN])
{
	struct net_session_info info;
	if (net_endpoint_session(net->n[i].ep, id, &info) == 0 && info.have_locator)
		return;
	int j = node_of_id(net, id);
	if (j >= 0)
		cr_assert_eq(net_endpoint_add_peer(net->n[i].ep, &net->n[j].loc), 0);
}

static void ep_send(struct sn_net *net, int i, const uint8_t id[NET_NODE_ID_LEN], const uint8_t *d, size_t len)
{
	struct net_input in = {.kind = NET_IN_SEND, .peer = id, .data = d, .len = len};
	ep_step(net, i, &in);
}

/* rt_msg's emit: the first payload to a peer without a session starts the
 * handshake, the rest wait for it (the endpoint holds only a few). */
static void emit(struct sn_net *net, int i, uint32_t peer, const uint8_t *d, size_t len)
{
	struct sn_node *x = &net->n[i];
	introduce(net, i, x->peer_id[peer]);
	int up = session_up(x, x->peer_id[peer]);
	if (up || !x->kicked[peer]) {
		x->kicked[peer] = !up;
		ep_send(net, i, x->peer_id[peer], d, len);
		return;
	}
	struct sn_held *h = malloc(sizeof *h + len);
	cr_assert(h);
	h->next = NULL;
	h->peer = peer;
	h->len = len;
	memcpy(h->data, d, len);
	*x->held_tail = h;
	x->held_tail = &h->next;
	x->held_bytes += len;
	x->held_total++;
}

static void release(struct sn_net *net, int i, uint32_t peer, int send)
{
	struct sn_node *x = &net->n[i];
	x->kicked[peer] = 0;
	/* Detach this peer's payloads first: sending may hold new ones. */
	struct sn_held *mine = NULL, **mt = &mine, **pp = &x->held_head, *h;
	while ((h = *pp) != NULL) {
		if (h->peer != peer) {
			pp = &h->next;
			continue;
		}
		*pp = h->next;
		x->held_bytes -= h->len;
		h->next = NULL;
		*mt = h;
		mt = &h->next;
	}
	x->held_tail = &x->held_head;
	while (*x->held_tail)
		x->held_tail = &(*x->held_tail)->next;
	while ((h = mine) != NULL) {
		mine = h->next;
		if (send)
			ep_send(net, i, x->peer_id[peer], h->data, h->len);
		free(h);
	}
}

static void route_deliver(struct sn_net *net, int i, const uint8_t id[NET_NODE_ID_LEN], const uint8_t *d,
			  size_t len)
{
	struct sn_node *x = &net->n[i];
	uint32_t peer;
	if (len && (d[0] == NET_MSG_T_DATA || d[0] == NET_MSG_T_ACK)) {
		if (peer_of(net, x, id, &peer) != 0)
			return;
		struct net_msg_input in = {.kind = NET_MSG_IN_DATAGRAM, .peer = peer, .data = d, .len = len};
		msg_step(net, i, &in);
		return;
	}
	if (len && (d[0] == NET_MCAST_T_DIRECT || d[0] == NET_MCAST_T_RELAY)) {
		int g = -1;
		if (len >= 9)
			for (int k = 0; k < net->ng && g < 0; k++)
				if (x->mc[k] && net->g[k].gid == load_be64(d + 1))
					g = k;
		if (g < 0) {
			x->mcast_unknown_group++;
			return;
		}
		/* The member index comes from the session's key, never from the
		 * payload: a node outside the group has none. */
		int m = -1;
		for (uint32_t k = 0; k < net->g[g].n && m < 0; k++)
			if (!memcmp(net->n[net->g[g].node[k]].id.node_id, id, NET_NODE_ID_LEN))
				m = (int)k;
		if (m < 0) {
			x->mcast_nonmember++;
			return;
		}
		struct net_mcast_input in = {.kind = NET_MCAST_IN_DATAGRAM, .peer = (uint32_t)m, .data = d,
					     .len = len};
		mc_step(net, i, g, &in);
		return;
	}
	x->unknown_type++;
}

static int ep_step(struct sn_net *net, int i, const struct net_input *in)
{
	struct sn_node *x = &net->n[i];
	struct net_out out;
	net_out_init(&out);
	int err = net_endpoint_step(x->ep, net->now, in, &out);
	if (err && !x->step_err)
		x->step_err = err;
	/* In order, as rt_net does: the endpoint puts its TIMER first, so a
	 * nested step started from a later action arms the newer deadline. */
	for (size_t k = 0; k < out.n; k++) {
		const struct net_action *a = &out.act[k];
		const uint8_t *d = net_action_data(&out, a);
		uint32_t peer;
		switch (a->kind) {
		case NET_ACT_SEND:
			enqueue(net, i, &a->addr, d, a->len);
			break;
		case NET_ACT_DELIVER:
			x->ep_delivered++;
			route_deliver(net, i, a->peer, d, a->len);
			break;
		case NET_ACT_ESTABLISHED:
			x->established++;
			if (peer_of(net, x, a->peer, &peer) == 0)
				release(net, i, peer, 1);
			break;
		case NET_ACT_CLOSED:
			x->closed++;
			if (peer_of(net, x, a->peer, &peer) == 0) {
				release(net, i, peer, 0);
				struct net_msg_input mi = {.kind = NET_MSG_IN_PEER_RESET, .peer = peer};
				msg_step(net, i, &mi);
			}
			break;
		case NET_ACT_PEER_LOCATOR: {
			struct net_locator rec;
			cr_assert_eq(net_locator_decode(&rec, d, a->len), 0);
			x->peer_locators++;
			if (rec.seq > x->locator_seq_seen)
				x->locator_seq_seen = rec.seq;
			break;
		}
		case NET_ACT_TIMER:
			x->ep_timer = a->at_ms;
			break;
		}
	}
	net_out_free(&out);
	update_next(net, x);
	return err;
}

static int msg_step(struct sn_net *net, int i, const struct net_msg_input *in)
{
	struct sn_node *x = &net->n[i];
	struct net_msg_out out;
	net_msg_out_init(&out);
	int rc = net_msg_step(x->msg, net->now, in, &out);
	x->msg_timer = out.next_timer_ms;
	cr_assert(!out.oom);
	for (size_t k = 0; k < out.n; k++) {
		struct net_msg_action *a = &out.a[k];
		cr_assert_lt(a->peer, x->n_peers);
		switch (a->kind) {
		case NET_MSG_A_SEND:
			cr_assert_leq(a->len, NET_MSG_MTU);
			emit(net, i, a->peer, a->data, a->len);
			break;
		case NET_MSG_A_DELIVER:
			if (net->hooks.deliver)
				net->hooks.deliver(net, i, -1, x->peer_node[a->peer], a->msg_id, a->data, a->len);
			break;
		case NET_MSG_A_SENT:
		case NET_MSG_A_FAILED:
			if (net->hooks.result)
				net->hooks.result(net, i, -1, x->peer_node[a->peer], a->msg_id,
						  a->kind == NET_MSG_A_SENT ? 0 : (a->err ? a->err : -CN_ELIMIT));
			break;
		}
	}
	net_msg_out_free(&out);
	update_next(net, x);
	return rc;
}

static int mc_step(struct sn_net *net, int i, int g, const struct net_mcast_input *in)
{
	struct sn_node *x = &net->n[i];
	struct net_msg_out out;
	net_msg_out_init(&out);
	int rc = net_mcast_step(x->mc[g], net->now, in, &out);
	x->mc_timer[g] = out.next_timer_ms;
	cr_assert(!out.oom);
	for (size_t k = 0; k < out.n; k++) {
		struct net_msg_action *a = &out.a[k];
		cr_assert_lt(a->kind == NET_MSG_A_SEND || a->kind == NET_MSG_A_DELIVER ? a->peer : 0, net->g[g].n);
		switch (a->kind) {
		case NET_MSG_A_SEND: {
			cr_assert_leq(a->len, NET_MSG_MTU);
			if (x->silent[g])
				break;
			if (x->mcast_out && !x->mcast_out(net, i, g, a->peer, a->data, a->len))
				break;
			uint32_t peer;
			int to = net->g[g].node[a->peer];
			if (peer_of(net, x, net->n[to].id.node_id, &peer) == 0)
				emit(net, i, peer, a->data, a->len);
			break;
		}
		case NET_MSG_A_DELIVER:
			if (net->hooks.deliver)
				net->hooks.deliver(net, i, g, net->g[g].node[a->peer], a->msg_id, a->data, a->len);
			break;
		case NET_MSG_A_SENT:
		case NET_MSG_A_FAILED:
			if (net->hooks.result)
				net->hooks.result(net, i, g, -1, a->msg_id,
						  a->kind == NET_MSG_A_SENT ? 0 : (a->err ? a->err : -CN_ELIMIT));
			break;
		}
	}
	net_msg_out_free(&out);
	update_next(net, x);
	return rc;
}

/* ---- public entry points ----------------------------------------------------------- */

int sn_announce(struct sn_net *net, int i)
{
	sign_locator(net, i);
	struct net_input in = {.kind = NET_IN_ANNOUNCE, .locator = &net->n[i].loc};
	return ep_step(net, i, &in);
}

int sn_group(struct sn_net *net, const int *nodes, uint32_t n, uint32_t k, uint64_t gid)
{
	cr_assert_lt(net->ng, SN_MAX_GROUPS);
	cr_assert_leq(n, SN_MAX_NODES);
	int g = net->ng++;
	struct sn_group *gr = &net->g[g];
	gr->gid = gid;
	gr->n = n;
	gr->k = k;
	uint8_t(*pks)[32] = calloc(n, 32);
	cr_assert(pks);
	for (uint32_t m = 0; m < n; m++) {
		gr->node[m] = nodes[m];
		memcpy(pks[m], net->n[nodes[m]].id.pk, 32);
	}
	for (uint32_t m = 0; m < n; m++) {
		struct sn_node *x = &net->n[nodes[m]];
		cr_assert_null(x->mc[g]);
		struct net_mcast_config c = {.group_id = gid, .n = n, .k = k, .self = m,
					     .pks = (const uint8_t(*)[32])pks, .sk = x->id.sk,
					     .seed = cn_prng_next_u64(&x->rng)};
		cr_assert_eq(net_mcast_new(&c, &x->mc[g]), 0);
		x->mc_timer[g] = SN_NONE;
	}
	free(pks);
	return g;
}

int sn_member(const struct sn_net *net, int g, int node)
{
	for (uint32_t m = 0; m < net->g[g].n; m++)
		if (net->g[g].node[m] == node)
			return (int)m;
	return -1;
}

int sn_send(struct sn_net *net, int a, int b, const uint8_t *d, size_t len, uint64_t deadline_ms,
	    uint64_t *msg_id)
{
	uint32_t peer;
	int rc = peer_of(net, &net->n[a], net->n[b].id.node_id, &peer);
	if (rc)
		return rc;
	struct net_msg_input in = {.kind = NET_MSG_IN_SEND, .peer = peer, .data = d, .len = len,
				   .deadline_ms = deadline_ms, .msg_id = msg_id};
	return msg_step(net, a, &in);
}

int sn_mcast(struct sn_net *net, int node, int g, const uint8_t *d, size_t len, uint64_t deadline_ms,
	     uint64_t *msg_id)
{
	cr_assert(net->n[node].mc[g]);
	struct net_mcast_input in = {.kind = NET_MCAST_IN_SEND, .data = d, .len = len,
				     .deadline_ms = deadline_ms, .msg_id_out = msg_id};
	return mc_step(net, node, g, &in);
}

int sn_quorum(struct sn_net *net, int node, int g, uint64_t msg_id)
{
	struct net_mcast_input in = {.kind = NET_MCAST_IN_QUORUM, .msg_id = msg_id};
	return mc_step(net, node, g, &in);
}

void sn_payload(struct sn_net *net, int a, int b, const uint8_t *d, size_t len)
{
	uint32_t peer;
	if (peer_of(net, &net->n[a], net->n[b].id.node_id, &peer) == 0)
		emit(net, a, peer, d, len);
}

void sn_push(struct sn_net *net, const struct net_addr *from, const struct net_addr *to, const uint8_t *d,
	     size_t len, uint64_t at)
{
	cr_assert_leq(len, NET_MAX_DATAGRAM);
	struct sn_pkt p = {.t = at, .seq = net->seq++, .from = *from, .to = *to, .len = len,
			   .d = malloc(len ? len : 1)};
	cr_assert(p.d);
	memcpy(p.d, d, len);
	heap_push(net, p);
}

int sn_inject(struct sn_net *net, int i, const struct net_addr *from, const uint8_t *d, size_t len)
{
	struct net_input in = {.kind = NET_IN_DATAGRAM, .addr = *from, .data = d, .len = len};
	return ep_step(net, i, &in);
}

static void fire_timers(struct sn_net *net, int i)
{
	struct sn_node *x = &net->n[i];
	/* Each timer is cleared before its step; the step re-arms it if it
	 * still has work. */
	if (x->ep_timer <= net->now) {
		x->ep_timer = SN_NONE;
		struct net_input in = {.kind = NET_IN_TIMER};
		ep_step(net, i, &in);
	}
	if (x->msg_timer <= net->now) {
		x->msg_timer = SN_NONE;
		struct net_msg_input in = {.kind = NET_MSG_IN_TIMER};
		msg_step(net, i, &in);
	}
	for (int g = 0; g < net->ng; g++)
		if (x->mc[g] && x->mc_timer[g] <= net->now) {
			x->mc_timer[g] = SN_NONE;
			struct net_mcast_input in = {.kind = NET_MCAST_IN_TIMER};
			mc_step(net, i, g, &in);
		}
	update_next(net, x);
}

void sn_run(struct sn_net *net, uint64_t until)
{
	uint64_t same_time = 0, last_t = 0;
	for (;;) {
		uint64_t tp = net->nh ? net->h[0].t : SN_NONE, tt = SN_NONE;
		int ti = -1;
		for (int i = 0; i < net->nn; i++)
			if (net->n[i].next < tt) {
				tt = net->n[i].next;
				ti = i;
			}
		uint64_t t = tp <= tt ? tp : tt;
		if (t == SN_NONE || t > until)
			break;
		if (t > net->now)
			net->now = t;
		/* A timer that keeps firing without time moving is a bug in a
		 * state machine (or here): stop rather than spin. */
		same_time = t == last_t ? same_time + 1 : 0;
		last_t = t;
		cr_assert_lt(same_time, 5000000, "no progress at t=%llu", (unsigned long long)t);
		net->events++;
		if (tp <= tt) {
			struct sn_pkt p = heap_pop(net);
			int dst = owner(net, &p.to);
			if (dst < 0) {
				net->undeliverable++;
			} else {
				learn_route(&net->n[dst], &p.from, &p.to);
				if (net->hooks.arrive)
					net->hooks.arrive(net, dst, &p);
				struct net_input in = {.kind = NET_IN_DATAGRAM, .addr = p.from, .data = p.d,
						       .len = p.len};
				ep_step(net, dst, &in);
			}
			free(p.d);
		} else {
			fire_timers(net, ti);
		}
	}
	if (until != SN_NONE && until > net->now)
		net->now = until;
}

int sn_run_until(struct sn_net *net, uint64_t until, uint64_t slice, int (*done)(struct sn_net *, void *),
		 void *ctx)
{
	while (!done(net, ctx) && net->now < until) {
		uint64_t t = net->now + slice;
		sn_run(net, t < until ? t : until);
	}
	return done(net, ctx);
}

uint64_t sn_stat(const struct sn_net *net, enum net_stat s)
{
	uint64_t sum = 0;
	for (int i = 0; i < net->nn; i++)
		sum += net_endpoint_stat(net->n[i].ep, s);
	return sum;
}
