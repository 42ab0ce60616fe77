/* path_test.c — handshake retries move to the next locator only when the
 * current path is silent (found by sim50's multihoming scenario: a rekey
 * whose responses were lost walked a session carrying data off its working
 * address onto a dead one). */
#include <criterion/criterion.h>
#include <string.h>

#include "harness.h"

#define A 0
#define B 1

static int drop_responses(struct tn_net *net, const struct tn_pkt *p, void *ctx)
{
	int *dropped = ctx;
	if (p->data[0] != NET_PKT_RESPONSE)
		return 1;
	(*dropped)++;
	return 0;
}

Test(net_path, lost_handshake_on_a_live_path_keeps_the_address)
{
	struct net_config cfg;
	net_config_default(&cfg);
	cfg.rekey_after_messages = 5; /* A's fifth send starts a handshake */
	struct tn_net net;
	tn_init(&net, 2, 91, &cfg);
	/* B's record: its real address first, then one where nobody listens. */
	struct net_locator rec;
	memset(&rec, 0, sizeof rec);
	rec.seq = 1;
	rec.n_addrs = 2;
	rec.addrs[0] = net.n[B].addrs[0];
	net_addr_v4(&rec.addrs[1], 10, 9, 9, 9, 7000);
	cr_assert_eq(net_locator_sign(&rec, &net.n[B].id), 0);
	cr_assert_eq(net_endpoint_add_peer(net.n[A].ep, &rec), 0);
	cr_assert_eq(tn_send(&net, A, B, "hello", 5), 0);
	tn_run(&net, net.now + 1000);
	cr_assert_eq(net.n[B].delivered, 1);
	/* From now on every handshake response is lost: A's rekey retries for
	 * 90 s while its current keys keep carrying data both ways. */
	int dropped = 0;
	net.tap = drop_responses;
	net.tap_ctx = &dropped;
	for (int i = 0; i < 80; i++) {
		cr_assert_eq(tn_send(&net, A, B, "a", 1), 0);
		cr_assert_eq(tn_send(&net, B, A, "b", 1), 0);
		tn_run(&net, net.now + 500);
	}
	cr_assert_geq(net_endpoint_stat(net.n[A].ep, NET_STAT_REKEY), 1);
	cr_assert_geq(dropped, 6, "the handshake was retried (%d responses lost)", dropped);
	struct net_session_info info;
	cr_assert_eq(net_endpoint_session(net.n[A].ep, net.n[B].id.node_id, &info), 0);
	cr_assert(net_addr_equal(&info.addr, &net.n[B].addrs[0]), "moved off a working path");
	cr_assert_eq(net_endpoint_stat(net.n[A].ep, NET_STAT_PATH_SWITCH), 0);
	cr_assert_eq(net.n[B].delivered, 1 + 80);
	cr_assert_eq(net.n[A].delivered, 80);
	tn_free(&net);
}

Test(net_path, silent_path_still_fails_over)
{
	/* The other half: when nothing comes back, retries do move on. */
	struct net_config cfg;
	net_config_default(&cfg);
	struct tn_net net;
	tn_init(&net, 2, 92, &cfg);
	struct net_locator rec;
	memset(&rec, 0, sizeof rec);
	rec.seq = 1;
	rec.n_addrs = 2;
	net_addr_v4(&rec.addrs[0], 10, 9, 9, 9, 7000);
	rec.addrs[1] = net.n[B].addrs[0];
	cr_assert_eq(net_locator_sign(&rec, &net.n[B].id), 0);
	cr_assert_eq(net_endpoint_add_peer(net.n[A].ep, &rec), 0);
	cr_assert_eq(tn_send(&net, A, B, "hello", 5), 0);
	tn_run(&net, net.now + 30000);
	cr_assert_eq(net.n[B].delivered, 1);
	cr_assert_eq(net_endpoint_stat(net.n[A].ep, NET_STAT_PATH_SWITCH), 1);
	tn_free(&net);
}
