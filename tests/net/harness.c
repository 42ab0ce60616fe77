/* harness.c — see harness.h. */
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "harness.h"

static void tn_random(void *ctx, uint8_t *buf, size_t len)
{
	cn_prng_fill(ctx, buf, len);
}

void tn_init(struct tn_net *net, int n, uint64_t seed, const struct net_config *cfg)
{
	memset(net, 0, sizeof *net);
	net->now = 1700000000000ull;
	net->latency = 10;
	net->nn = n;
	cn_prng_seed(&net->rng, seed ^ 0x6e6574);
	for (int i = 0; i < n; i++) {
		struct tn_node *x = &net->n[i];
		uint8_t s[32];
		cn_prng_seed(&x->rng, seed * 1000 + (uint64_t)i);
		cn_prng_fill(&x->rng, s, sizeof s);
		cr_assert_eq(net_identity_from_seed(&x->id, s), 0);
		struct net_config c;
		if (cfg)
			c = *cfg;
		else
			net_config_default(&c);
		c.random = tn_random;
		c.random_ctx = &x->rng;
		cr_assert_eq(net_endpoint_new(&x->ep, &x->id, &c), 0);
		net_addr_v4(&x->addrs[0], 10, 0, 0, (uint8_t)(i + 1), 7000);
		x->n_addrs = 1;
		x->timer = TN_NONE;
	}
}

void tn_free(struct tn_net *net)
{
	for (int i = 0; i < net->nn; i++)
		net_endpoint_free(net->n[i].ep);
	free(net->q);
}

void tn_add_addr(struct tn_net *net, int i)
{
	struct tn_node *x = &net->n[i];
	net_addr_v4(&x->addrs[x->n_addrs], 10, 0, (uint8_t)(x->n_addrs), (uint8_t)(i + 1), 7000);
	x->n_addrs++;
}

void tn_locator(struct tn_net *net, int i, uint64_t seq, struct net_locator *rec)
{
	memset(rec, 0, sizeof *rec);
	rec->seq = seq;
	rec->n_addrs = (uint8_t)net->n[i].n_addrs;
	memcpy(rec->addrs, net->n[i].addrs, sizeof net->n[i].addrs);
	cr_assert_eq(net_locator_sign(rec, &net->n[i].id), 0);
}

void tn_introduce(struct tn_net *net, int a, int b)
{
	struct net_locator rec;
	tn_locator(net, b, 1, &rec);
	cr_assert_eq(net_endpoint_add_peer(net->n[a].ep, &rec), 0);
}

static int owner(struct tn_net *net, const struct net_addr *a)
{
	for (int i = 0; i < net->nn; i++)
		for (int k = 0; k < net->n[i].n_addrs; k++)
			if (net_addr_equal(&net->n[i].addrs[k], a))
				return i;
	return -1;
}

static struct net_addr source_for(struct tn_node *x, const struct net_addr *to)
{
	for (int r = 0; r < x->n_routes; r++)
		if (net_addr_equal(&x->routes[r].remote, to))
			return x->routes[r].local;
	return x->addrs[0];
}

static void learn_route(struct tn_node *x, const struct net_addr *remote, const struct net_addr *local)
{
	for (int r = 0; r < x->n_routes; r++)
		if (net_addr_equal(&x->routes[r].remote, remote)) {
			x->routes[r].local = *local;
			return;
		}
	if (x->n_routes < 16)
		x->routes[x->n_routes++] = (struct tn_route){*remote, *local};
}

static void push(struct tn_net *net, const struct tn_pkt *pk)
{
	if (net->nq == net->cap) {
		net->cap = net->cap ? net->cap * 2 : 64;
		net->q = realloc(net->q, net->cap * sizeof *net->q);
		cr_assert(net->q);
	}
	net->q[net->nq++] = *pk;
}

static void enqueue(struct tn_net *net, int i, const struct net_addr *to, const uint8_t *p, size_t len)
{
	struct tn_pkt pk;
	pk.at = net->now + net->latency;
	pk.from = source_for(&net->n[i], to);
	pk.to = *to;
	cr_assert(len <= NET_MAX_DATAGRAM);
	pk.len = len;
	memcpy(pk.data, p, len);
	net->sent++;
	if (net->tap && !net->tap(net, &pk, net->tap_ctx)) {
		net->lost++;
		return;
	}
	if (net->loss_pm && cn_prng_uniform(&net->rng, 1000) < net->loss_pm) {
		net->lost++;
		return;
	}
	int copies = net->dup_pm && cn_prng_uniform(&net->rng, 1000) < net->dup_pm ? 2 : 1;
	for (int c = 0; c < copies; c++) {
		struct tn_pkt x = pk;
		if (net->jitter)
			x.at += cn_prng_uniform(&net->rng, net->jitter + 1);
		push(net, &x);
	}
}

int tn_step(struct tn_net *net, int i, const struct net_input *in)
{
	struct tn_node *x = &net->n[i];
	struct net_out out;
	net_out_init(&out);
	int err = net_endpoint_step(x->ep, net->now, in, &out);
	if (err && !x->step_err)
		x->step_err = err;
	for (size_t k = 0; k < out.n; k++) {
		const struct net_action *a = &out.act[k];
		const uint8_t *d = net_action_data(&out, a);
		switch (a->kind) {
		case NET_ACT_SEND:
			enqueue(net, i, &a->addr, d, a->len);
			break;
		case NET_ACT_DELIVER:
			x->delivered++;
			cr_assert(a->len <= sizeof x->last_msg);
			if (a->len)
				memcpy(x->last_msg, d, a->len);
			x->last_len = a->len;
			memcpy(x->last_from, a->peer, 32);
			if (net->on_deliver)
				net->on_deliver(net, i, d, a->len);
			break;
		case NET_ACT_ESTABLISHED:
			x->established++;
			break;
		case NET_ACT_CLOSED:
			x->closed++;
			x->close_reason = a->reason;
			break;
		case NET_ACT_PEER_LOCATOR: {
			struct net_locator rec;
			cr_assert_eq(net_locator_decode(&rec, d, a->len), 0);
			x->peer_locators++;
			break;
		}
		case NET_ACT_TIMER:
			x->timer = a->at_ms;
			break;
		}
	}
	net_out_free(&out);
	return err;
}

int tn_send(struct tn_net *net, int a, int b, const void *msg, size_t len)
{
	struct net_input in = {.kind = NET_IN_SEND, .data = msg, .len = len,
			       .peer = net->n[b].id.node_id};
	return tn_step(net, a, &in);
}

int tn_inject(struct tn_net *net, int i, const struct net_addr *from, const uint8_t *p, size_t len)
{
	struct net_input in = {.kind = NET_IN_DATAGRAM, .addr = *from, .data = p, .len = len};
	return tn_step(net, i, &in);
}

void tn_run(struct tn_net *net, uint64_t until)
{
	for (;;) {
		uint64_t t = TN_NONE;
		size_t pi = SIZE_MAX;
		int ti = -1;
		for (size_t k = 0; k < net->nq; k++)
			if (net->q[k].at < t)
				t = net->q[k].at, pi = k;
		for (int i = 0; i < net->nn; i++)
			if (net->n[i].timer < t)
				t = net->n[i].timer, ti = i, pi = SIZE_MAX;
		if (t == TN_NONE || t > until)
			break;
		if (t > net->now)
			net->now = t;
		if (pi != SIZE_MAX) {
			struct tn_pkt p = net->q[pi];
			memmove(net->q + pi, net->q + pi + 1, (net->nq - pi - 1) * sizeof *net->q);
			net->nq--;
			int dst = owner(net, &p.to);
			if (dst < 0) {
				net->lost++;
				continue;
			}
			learn_route(&net->n[dst], &p.from, &p.to);
			tn_inject(net, dst, &p.from, p.data, p.len);
		} else {
			net->n[ti].timer = TN_NONE;
			struct net_input in = {.kind = NET_IN_TIMER};
			tn_step(net, ti, &in);
		}
	}
	if (until > net->now && until != TN_NONE)
		net->now = until;
}
