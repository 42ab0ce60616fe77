/* halfopen_test.c — valid initiations from throwaway keys at spoofed
 * addresses, below the cookie threshold, leave half-open sessions (answered,
 * never confirmed). Found by sim50: they filled the peer table and locked
 * every newcomer out until their keys expired (180 s), renewable by the
 * attacker at 23 initiations a second for the default 4096 peers. When the
 * table is full the oldest half-open session now gives way. */
#include <criterion/criterion.h>
#include <string.h>

#include "harness.h"

#define T 0
#define B 1
#define C 2

static void prng_random(void *ctx, uint8_t *buf, size_t len)
{
	cn_prng_fill(ctx, buf, len);
}

/* A genuine initiation to node t from a fresh key. */
static void throwaway_initiation(struct tn_net *net, int t, struct cn_prng *r, uint8_t out[NET_INITIATION_LEN])
{
	struct net_identity id;
	uint8_t seed[32];
	cn_prng_fill(r, seed, sizeof seed);
	cr_assert_eq(net_identity_from_seed(&id, seed), 0);
	struct net_config cfg;
	net_config_default(&cfg);
	cfg.random = prng_random;
	cfg.random_ctx = r;
	struct net_endpoint *ep;
	cr_assert_eq(net_endpoint_new(&ep, &id, &cfg), 0);
	struct net_locator rec;
	tn_locator(net, t, 1, &rec);
	cr_assert_eq(net_endpoint_add_peer(ep, &rec), 0);
	struct net_out o;
	net_out_init(&o);
	struct net_input in = {.kind = NET_IN_SEND, .peer = net->n[t].id.node_id, .data = seed, .len = 1};
	cr_assert_eq(net_endpoint_step(ep, net->now, &in, &o), 0);
	int found = 0;
	for (size_t k = 0; k < o.n; k++)
		if (o.act[k].kind == NET_ACT_SEND) {
			cr_assert_eq(o.act[k].len, NET_INITIATION_LEN);
			memcpy(out, net_action_data(&o, &o.act[k]), NET_INITIATION_LEN);
			found = 1;
		}
	cr_assert(found);
	net_out_free(&o);
	net_endpoint_free(ep);
	net_identity_wipe(&id);
}

Test(net_halfopen, spoofed_initiations_do_not_lock_newcomers_out)
{
	struct net_config cfg;
	net_config_default(&cfg);
	cfg.max_peers = 8;
	struct tn_net net;
	tn_init(&net, 3, 94, &cfg);
	/* C is a real peer with a live session: it must survive. */
	tn_introduce(&net, C, T);
	cr_assert_eq(tn_send(&net, C, T, "c", 1), 0);
	tn_run(&net, net.now + 1000);
	cr_assert_eq(net.n[T].delivered, 1);
	struct cn_prng r;
	cn_prng_seed(&r, 7);
	for (int i = 0; i < 40; i++) {
		uint8_t p[NET_INITIATION_LEN];
		throwaway_initiation(&net, T, &r, p);
		struct net_addr from;
		net_addr_v4(&from, 172, 16, 0, (uint8_t)i, 4000);
		tn_inject(&net, T, &from, p, sizeof p);
		tn_run(&net, net.now + 20); /* 50 a second: no cookies yet */
	}
	cr_assert_eq(net_endpoint_stat(net.n[T].ep, NET_STAT_COOKIE_SENT), 0);
	cr_assert_geq(net_endpoint_stat(net.n[T].ep, NET_STAT_DROP_LIMIT), 40 - 7);
	/* A newcomer gets in at once, and the live session still works. */
	tn_introduce(&net, B, T);
	cr_assert_eq(tn_send(&net, B, T, "b", 1), 0);
	tn_run(&net, net.now + 1000);
	cr_assert_eq(net.n[B].established, 1);
	cr_assert_eq(net.n[T].delivered, 2);
	cr_assert_eq(tn_send(&net, C, T, "c2", 2), 0);
	tn_run(&net, net.now + 1000);
	cr_assert_eq(net.n[T].delivered, 3);
	cr_assert_eq(net.n[C].closed, 0);
	tn_free(&net);
}
