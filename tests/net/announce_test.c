/* announce_test.c — a locator announcement is repeated until the peer
 * acknowledges it (found by sim50's mobility scenario: one lost datagram
 * used to leave a peer with the old record for good). */
#include <criterion/criterion.h>
#include <string.h>

#include "harness.h"

#define A 0
#define B 1

/* Data packets by size: a locator record with two IPv4 addresses is
 * 1 + 32 + 8 + 1 + 2 * 7 + 64 = 120 bytes, one inner type byte, 16 header
 * and 16 tag bytes; an acknowledgement is a type byte and 8 sequence bytes. */
#define LOC_PKT (16 + 1 + 120 + 16)
#define ACK_PKT (16 + 1 + 8 + 16)

struct counter {
	int from;                 /* node whose packets are looked at */
	size_t len;
	int seen, drop_first, drop_all;
};

static int count_tap(struct tn_net *net, const struct tn_pkt *p, void *ctx)
{
	struct counter *c = ctx;
	if (p->data[0] != NET_PKT_DATA || p->len != c->len || !net_addr_equal(&p->from, &net->n[c->from].addrs[0]))
		return 1;
	c->seen++;
	return !(c->drop_all || (c->drop_first && c->seen == 1));
}

static void pair(struct tn_net *net, const struct net_config *cfg)
{
	tn_init(net, 2, 77, cfg);
	tn_introduce(net, A, B);
	cr_assert_eq(tn_send(net, A, B, "x", 1), 0);
	tn_run(net, net->now + 1000);
	cr_assert_eq(net->n[B].delivered, 1);
	tn_add_addr(net, B);
}

static void announce(struct tn_net *net)
{
	struct net_locator rec;
	tn_locator(net, B, 2, &rec);
	struct net_input in = {.kind = NET_IN_ANNOUNCE, .locator = &rec};
	cr_assert_eq(tn_step(net, B, &in), 0);
}

static uint64_t seq_at_a(struct tn_net *net)
{
	struct net_session_info info;
	cr_assert_eq(net_endpoint_session(net->n[A].ep, net->n[B].id.node_id, &info), 0);
	return info.have_locator ? info.locator.seq : 0;
}

Test(net_announce, lost_announcement_is_repeated_until_acknowledged)
{
	struct tn_net net;
	pair(&net, NULL);
	struct counter c = {.from = B, .len = LOC_PKT, .drop_first = 1};
	net.tap = count_tap;
	net.tap_ctx = &c;
	announce(&net);
	cr_assert_eq(c.seen, 1);
	tn_run(&net, net.now + 1000);
	cr_assert_eq(net.n[A].peer_locators, 0, "the first copy was lost");
	cr_assert_eq(seq_at_a(&net), 1);
	tn_run(&net, net.now + 5000);
	cr_assert_eq(c.seen, 2, "repeated after the retry interval");
	cr_assert_eq(net.n[A].peer_locators, 1);
	cr_assert_eq(seq_at_a(&net), 2);
	/* Acknowledged: no more copies, however long the session lives. */
	tn_run(&net, net.now + 100000);
	cr_assert_eq(c.seen, 2);
	cr_assert_eq(net_endpoint_stat(net.n[A].ep, NET_STAT_DROP_MALFORMED), 0);
	cr_assert_eq(net_endpoint_stat(net.n[B].ep, NET_STAT_DROP_MALFORMED), 0);
	tn_free(&net);
}

Test(net_announce, lost_acknowledgements_bound_the_repeats)
{
	struct net_config cfg;
	net_config_default(&cfg);
	cfg.handshake_attempts = 4;
	struct tn_net net;
	pair(&net, &cfg);
	struct counter c = {.from = A, .len = ACK_PKT, .drop_all = 1};
	net.tap = count_tap;
	net.tap_ctx = &c;
	announce(&net);
	tn_run(&net, net.now + 1000);
	cr_assert_eq(seq_at_a(&net), 2);
	cr_assert_eq(c.seen, 1, "A acknowledged");
	tn_run(&net, net.now + 60000);
	/* B sent the record 4 times in all; A took it once and acknowledged
	 * every copy. */
	cr_assert_eq(c.seen, 4);
	cr_assert_eq(net.n[A].peer_locators, 1);
	cr_assert_eq(net.n[A].closed + net.n[B].closed, 0);
	tn_free(&net);
}

Test(net_announce, new_session_gets_the_record_reliably)
{
	/* A record set before the session exists goes out once the session is
	 * established, and is repeated the same way when that copy is lost. */
	struct tn_net net;
	tn_init(&net, 2, 78, NULL);
	tn_add_addr(&net, B);
	struct net_locator rec;
	tn_locator(&net, B, 5, &rec);
	struct net_input in = {.kind = NET_IN_ANNOUNCE, .locator = &rec};
	cr_assert_eq(tn_step(&net, B, &in), 0);
	struct counter c = {.from = B, .len = LOC_PKT, .drop_first = 1};
	net.tap = count_tap;
	net.tap_ctx = &c;
	tn_introduce(&net, A, B);
	cr_assert_eq(tn_send(&net, A, B, "x", 1), 0);
	tn_run(&net, net.now + 1000);
	cr_assert_eq(net.n[B].delivered, 1);
	cr_assert_eq(c.seen, 1);
	cr_assert_eq(seq_at_a(&net), 1, "A still has the record it was introduced with");
	tn_run(&net, net.now + 6000);
	cr_assert_eq(seq_at_a(&net), 5);
	tn_run(&net, net.now + 60000);
	cr_assert_eq(c.seen, 2);
	tn_free(&net);
}
