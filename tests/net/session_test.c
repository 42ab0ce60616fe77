/* Sessions between endpoints on the in-test network: handshakes, data,
 * replay, windows, rekeying, cookies, roaming, multihoming, announcements. */
#include <criterion/criterion.h>
#include <sodium.h>
#include <string.h>
#include <stdio.h>

#include "base/err.h"
#include "base/metrics.h"
#include "base/log.h"
#include "harness.h"
#include "testutil.h"

#define A 0
#define B 1
#define C 2

static struct net_config cfg_default(void)
{
	struct net_config c;
	net_config_default(&c);
	return c;
}

static void pair_up(struct tn_net *net, int a, int b)
{
	size_t before = net->n[b].delivered;
	int est_a = net->n[a].established, est_b = net->n[b].established;
	tn_introduce(net, a, b);
	cr_assert_eq(tn_send(net, a, b, "hello", 5), 0);
	tn_run(net, net->now + 1000);
	cr_assert_eq(net->n[b].delivered, before + 1);
	cr_assert_eq(net->n[b].last_len, 5);
	cr_assert_eq(memcmp(net->n[b].last_msg, "hello", 5), 0);
	cr_assert_arr_eq(net->n[b].last_from, net->n[a].id.node_id, 32);
	cr_assert_eq(net->n[a].established, est_a + 1);
	cr_assert_eq(net->n[b].established, est_b + 1);
}

static enum net_session_state state(struct tn_net *net, int a, int b)
{
	struct net_session_info info;
	if (net_endpoint_session(net->n[a].ep, net->n[b].id.node_id, &info) != 0)
		return NET_SESSION_NONE;
	return info.state;
}

Test(net_session, handshake_and_data_both_ways)
{
	struct tn_net net;
	tn_init(&net, 2, 1, NULL);
	pair_up(&net, A, B);
	cr_assert_eq(state(&net, A, B), NET_SESSION_ESTABLISHED);
	cr_assert_eq(state(&net, B, A), NET_SESSION_ESTABLISHED);
	cr_assert_eq(tn_send(&net, B, A, "world!", 6), 0);
	tn_run(&net, net.now + 1000);
	cr_assert_eq(net.n[A].delivered, 1);
	cr_assert_eq(memcmp(net.n[A].last_msg, "world!", 6), 0);
	/* A maximum-size payload and an empty one. */
	uint8_t big[NET_MAX_PAYLOAD];
	for (size_t i = 0; i < sizeof big; i++)
		big[i] = (uint8_t)(i * 7);
	cr_assert_eq(tn_send(&net, A, B, big, sizeof big), 0);
	tn_run(&net, net.now + 100);
	cr_assert_eq(net.n[B].last_len, sizeof big);
	cr_assert_arr_eq(net.n[B].last_msg, big, sizeof big);
	cr_assert_eq(tn_send(&net, A, B, "", 0), 0);
	tn_run(&net, net.now + 100);
	cr_assert_eq(net.n[B].delivered, 3);
	cr_assert_eq(net.n[B].last_len, 0);
	cr_assert_eq(tn_send(&net, A, B, big, sizeof big + 1), -CN_EINVAL);
	uint8_t stranger[32] = {1};
	struct net_input in = {.kind = NET_IN_SEND, .data = big, .len = 1, .peer = stranger};
	cr_assert_eq(tn_step(&net, A, &in), -CN_ENOTFOUND);
	cr_assert_eq(net_endpoint_stat(net.n[B].ep, NET_STAT_DROP_AUTH), 0);
	tn_free(&net);
}

/* Records packets of one type that pass through the tap. */
struct capture {
	int type;
	int n;
	struct tn_pkt p[64];
	int drop;
};

static int capture_tap(struct tn_net *net, const struct tn_pkt *p, void *ctx)
{
	struct capture *c = ctx;
	if (p->data[0] == c->type && c->n < 64)
		c->p[c->n++] = *p;
	return !(c->drop && p->data[0] == c->type);
}

Test(net_session, wrong_static_key_fails)
{
	struct net_config cfg = cfg_default();
	cfg.handshake_attempts = 3;
	struct tn_net net;
	tn_init(&net, 3, 2, &cfg);
	/* A believes C's key lives at B's address. */
	struct net_locator rec;
	memset(&rec, 0, sizeof rec);
	rec.seq = 1;
	rec.n_addrs = 1;
	rec.addrs[0] = net.n[B].addrs[0];
	cr_assert_eq(net_locator_sign(&rec, &net.n[C].id), 0);
	cr_assert_eq(net_endpoint_add_peer(net.n[A].ep, &rec), 0);
	cr_assert_eq(tn_send(&net, A, C, "x", 1), 0);
	tn_run(&net, net.now + 60000);
	cr_assert_eq(net.n[B].established + net.n[A].established, 0);
	cr_assert_eq(net_endpoint_stat(net.n[B].ep, NET_STAT_DROP_MAC), 3, "mac1 is keyed by the wrong key");
	cr_assert_eq(net_endpoint_stat(net.n[B].ep, NET_STAT_DH), 0, "and costs B no DH");
	cr_assert_eq(net.n[A].closed, 1);
	cr_assert_eq(net.n[A].close_reason, NET_CLOSE_HANDSHAKE_TIMEOUT);
	tn_free(&net);
}

static void mac1(uint8_t *msg, size_t off, const uint8_t pk[32])
{
	uint8_t key[32];
	crypto_generichash_state st;
	crypto_generichash_init(&st, NULL, 0, 32);
	crypto_generichash_update(&st, (const uint8_t *)"mac1----", 8);
	crypto_generichash_update(&st, pk, 32);
	crypto_generichash_final(&st, key, 32);
	crypto_generichash(msg + off, 16, msg, off, key, 32);
}

Test(net_session, tampered_and_replayed_handshakes)
{
	struct tn_net net;
	tn_init(&net, 2, 3, NULL);
	struct capture ci = {.type = NET_PKT_INITIATION}, cr = {.type = NET_PKT_RESPONSE};
	net.tap = capture_tap;
	net.tap_ctx = &ci;
	tn_introduce(&net, A, B);
	cr_assert_eq(tn_send(&net, A, B, "x", 1), 0);
	cr_assert_eq(ci.n, 1);
	struct tn_pkt init = ci.p[0];
	/* Every tampered byte of the initiation: mac1 fails; with mac1
	 * recomputed (B's key is public) the AEAD fails. Nothing is answered. */
	size_t before = net.nq;
	for (size_t k = 0; k < 112; k++) {
		struct tn_pkt t = init;
		t.data[k] ^= 0x40;
		tn_inject(&net, B, &t.from, t.data, t.len);
		if (k >= 8) {
			mac1(t.data, 112, net.n[B].id.pk);
			tn_inject(&net, B, &t.from, t.data, t.len);
		}
	}
	cr_assert_eq(net.nq, before, "no response to a tampered initiation");
	/* Bytes 0-3 are framing (type, reserved), 4-111 are under mac1. */
	cr_assert_eq(net_endpoint_stat(net.n[B].ep, NET_STAT_DROP_MALFORMED), 4);
	cr_assert_eq(net_endpoint_stat(net.n[B].ep, NET_STAT_DROP_MAC), 108);
	cr_assert_eq(net_endpoint_stat(net.n[B].ep, NET_STAT_DROP_AUTH), 104, "AEAD rejects the rest");
	cr_assert_eq(net.n[B].established, 0);

	/* Now the real exchange, capturing B's response. */
	net.tap_ctx = &cr;
	tn_run(&net, net.now + 1000);
	cr_assert_eq(net.n[B].delivered, 1);
	cr_assert_eq(cr.n, 1);
	struct net_session_info info;
	cr_assert_eq(net_endpoint_session(net.n[B].ep, net.n[A].id.node_id, &info), 0);
	uint32_t idx = info.local_index;

	/* Replaying the initiation: refused by its timestamp, no new keys. */
	uint64_t sent = net.sent;
	tn_inject(&net, B, &init.from, init.data, init.len);
	cr_assert_eq(net_endpoint_stat(net.n[B].ep, NET_STAT_DROP_HS_REPLAY), 1);
	cr_assert_eq(net.sent, sent, "replayed initiation is not answered");
	cr_assert_eq(net_endpoint_session(net.n[B].ep, net.n[A].id.node_id, &info), 0);
	cr_assert_eq(info.local_index, idx);

	/* A replayed or tampered response finds no handshake in flight. */
	tn_inject(&net, A, &cr.p[0].from, cr.p[0].data, cr.p[0].len);
	cr_assert_eq(net_endpoint_stat(net.n[A].ep, NET_STAT_DROP_UNKNOWN), 1);
	cr_assert_eq(net.n[A].established, 1);
	tn_free(&net);
}

Test(net_session, tampered_response_rejected)
{
	struct tn_net net;
	tn_init(&net, 2, 4, NULL);
	struct capture cr = {.type = NET_PKT_RESPONSE, .drop = 1};
	net.tap = capture_tap;
	net.tap_ctx = &cr;
	tn_introduce(&net, A, B);
	cr_assert_eq(tn_send(&net, A, B, "x", 1), 0);
	tn_run(&net, net.now + 100);
	cr_assert_eq(cr.n, 1);
	struct tn_pkt r = cr.p[0];
	for (size_t k = 12; k < 60; k++) {
		struct tn_pkt t = r;
		t.data[k] ^= 1;
		mac1(t.data, 60, net.n[A].id.pk);
		tn_inject(&net, A, &t.from, t.data, t.len);
	}
	cr_assert_eq(net_endpoint_stat(net.n[A].ep, NET_STAT_DROP_AUTH), 48);
	cr_assert_eq(net.n[A].established, 0);
	tn_inject(&net, A, &r.from, r.data, r.len);
	cr_assert_eq(net.n[A].established, 1, "the genuine response still completes it");
	tn_free(&net);
}

Test(net_session, replayed_and_tampered_data_dropped)
{
	struct tn_net net;
	tn_init(&net, 2, 5, NULL);
	pair_up(&net, A, B);
	struct capture cd = {.type = NET_PKT_DATA};
	net.tap = capture_tap;
	net.tap_ctx = &cd;
	cr_assert_eq(tn_send(&net, A, B, "pay", 3), 0);
	tn_run(&net, net.now + 100);
	cr_assert_eq(net.n[B].delivered, 2);
	struct tn_pkt d = cd.p[0];
	tn_inject(&net, B, &d.from, d.data, d.len);
	cr_assert_eq(net.n[B].delivered, 2);
	cr_assert_eq(net_endpoint_stat(net.n[B].ep, NET_STAT_DROP_REPLAY), 1);
	for (size_t k = 16; k < d.len; k++) {
		struct tn_pkt t = d;
		t.data[k] ^= 0x80;
		t.data[8] = 0x7f; /* a fresh counter so the window lets it through to the AEAD */
		tn_inject(&net, B, &t.from, t.data, t.len);
	}
	cr_assert_eq(net.n[B].delivered, 2);
	cr_assert_eq(net_endpoint_stat(net.n[B].ep, NET_STAT_DROP_AUTH), d.len - 16);
	/* Truncated, oversized and unknown-index packets. */
	tn_inject(&net, B, &d.from, d.data, NET_DATA_MIN_LEN - 1);
	uint8_t huge[NET_MAX_DATAGRAM + 1] = {NET_PKT_DATA};
	tn_inject(&net, B, &d.from, huge, sizeof huge);
	struct tn_pkt u = d;
	u.data[4] ^= 0xff;
	tn_inject(&net, B, &u.from, u.data, u.len);
	cr_assert_eq(net_endpoint_stat(net.n[B].ep, NET_STAT_DROP_MALFORMED), 1);
	cr_assert_eq(net_endpoint_stat(net.n[B].ep, NET_STAT_DROP_OVERSIZE), 1);
	cr_assert_eq(net_endpoint_stat(net.n[B].ep, NET_STAT_DROP_UNKNOWN), 1);
	tn_free(&net);
}

static uint64_t counter_of(const struct tn_pkt *p)
{
	uint64_t c = 0;
	for (int i = 7; i >= 0; i--)
		c = c << 8 | p->data[8 + i];
	return c;
}

/* Holds back every data packet A sends so the test can deliver them in any order. */
struct hold {
	int n;
	struct tn_pkt *p;
};

static int hold_tap(struct tn_net *net, const struct tn_pkt *p, void *ctx)
{
	struct hold *h = ctx;
	if (p->data[0] != NET_PKT_DATA || !net_addr_equal(&p->from, &net->n[A].addrs[0]))
		return 1;
	h->p[h->n++] = *p;
	return 0;
}

Test(net_session, replay_window_edges_and_reordering)
{
	struct tn_net net;
	tn_init(&net, 2, 6, NULL);
	pair_up(&net, A, B);
	struct hold h = {0, calloc(5200, sizeof(struct tn_pkt))};
	net.tap = hold_tap;
	net.tap_ctx = &h;
	for (int i = 0; i < 5200; i++) {
		uint8_t m[4] = {(uint8_t)i, (uint8_t)(i >> 8)};
		cr_assert_eq(tn_send(&net, A, B, m, 2), 0);
	}
	net.tap = NULL;
	cr_assert_eq(h.n, 5200);
	uint64_t base = counter_of(&h.p[0]);
	for (int i = 0; i < h.n; i++)
		cr_assert_eq(counter_of(&h.p[i]), base + (uint64_t)i);
	size_t got = net.n[B].delivered;
#define DELIVER(i) tn_inject(&net, B, &h.p[i].from, h.p[i].data, h.p[i].len)
	/* Reordered within the window: 10..1 arrive backwards, all accepted. */
	for (int i = 10; i >= 1; i--)
		DELIVER(i);
	cr_assert_eq(net.n[B].delivered, got + 10);
	/* Jump to 3000: 3000-1983 is the oldest still accepted, 3000-1984 is
	 * left of the window. */
	DELIVER(3000);
	DELIVER(3000 - 1983);
	cr_assert_eq(net.n[B].delivered, got + 12);
	DELIVER(3000 - 1984);
	DELIVER(0);
	cr_assert_eq(net.n[B].delivered, got + 12);
	cr_assert_eq(net_endpoint_stat(net.n[B].ep, NET_STAT_DROP_REPLAY), 2);
	/* Duplicates inside the window, and bits reused after the ring wraps. */
	DELIVER(3000);
	DELIVER(3000 - 1983);
	cr_assert_eq(net_endpoint_stat(net.n[B].ep, NET_STAT_DROP_REPLAY), 4);
	DELIVER(3000 + 2048);       /* same ring slot as 3000, must be accepted */
	cr_assert_eq(net.n[B].delivered, got + 13);
	/* Everything still inside the window below the new top: 5048-1983 .. 5047. */
	for (int i = 5048 - 1983; i < 5048; i++)
		DELIVER(i);
	cr_assert_eq(net.n[B].delivered, got + 13 + 1983);
	DELIVER(5048 - 1984); /* just outside */
	DELIVER(4100);        /* delivered in the loop */
	DELIVER(4100);
	cr_assert_eq(net_endpoint_stat(net.n[B].ep, NET_STAT_DROP_REPLAY), 7);
	cr_assert_eq(net_endpoint_stat(net.n[B].ep, NET_STAT_DROP_AUTH), 0);
#undef DELIVER
	free(h.p);
	tn_free(&net);
}

Test(net_session, rekey_keeps_data_flowing)
{
	struct net_config cfg = cfg_default();
	cfg.rekey_after_messages = 50;
	cfg.reject_after_messages = 200;
	struct tn_net net;
	tn_init(&net, 2, 7, &cfg);
	pair_up(&net, A, B);
	struct net_session_info info;
	cr_assert_eq(net_endpoint_session(net.n[A].ep, net.n[B].id.node_id, &info), 0);
	uint32_t first = info.local_index;
	for (int i = 0; i < 600; i++) {
		uint8_t m[2] = {(uint8_t)i, (uint8_t)(i >> 8)};
		cr_assert_eq(tn_send(&net, i % 3 ? A : B, i % 3 ? B : A, m, 2), 0);
		tn_run(&net, net.now + 7);
	}
	tn_run(&net, net.now + 1000);
	cr_assert_eq(net.n[B].delivered, 1 + 400);
	cr_assert_eq(net.n[A].delivered, 200);
	cr_assert_geq(net_endpoint_stat(net.n[A].ep, NET_STAT_REKEY), 4);
	cr_assert_eq(net_endpoint_stat(net.n[A].ep, NET_STAT_DROP_AUTH) +
		     net_endpoint_stat(net.n[B].ep, NET_STAT_DROP_AUTH), 0);
	cr_assert_eq(net_endpoint_session(net.n[A].ep, net.n[B].id.node_id, &info), 0);
	cr_assert_neq(info.local_index, first);
	cr_assert_lt(info.send_counter, 200);

	/* Time-based rekey: one message every 10 s for 10 minutes. */
	size_t got = net.n[B].delivered;
	for (int i = 0; i < 60; i++) {
		cr_assert_eq(tn_send(&net, A, B, "t", 1), 0);
		tn_run(&net, net.now + 10000);
	}
	cr_assert_eq(net.n[B].delivered, got + 60);
	cr_assert_eq(net.n[A].closed + net.n[B].closed, 0);
	cr_assert_eq(net.n[A].established, 1, "rekeys are not new sessions");
	tn_free(&net);
}

Test(net_session, expired_keys_close_idle_session)
{
	struct tn_net net;
	tn_init(&net, 2, 8, NULL);
	pair_up(&net, A, B);
	tn_run(&net, net.now + 200000);
	cr_assert_eq(net.n[A].closed, 1);
	cr_assert_eq(net.n[A].close_reason, NET_CLOSE_EXPIRED);
	cr_assert_eq(net.n[B].closed, 1);
	/* A later send starts over. */
	cr_assert_eq(tn_send(&net, A, B, "again", 5), 0);
	tn_run(&net, net.now + 1000);
	cr_assert_eq(net.n[B].delivered, 2);
	cr_assert_eq(net.n[A].established, 2);
	tn_free(&net);
}

Test(net_session, cookie_under_load)
{
	struct net_config cfg = cfg_default();
	cfg.load_threshold = 5;
	struct tn_net net;
	tn_init(&net, 3, 9, &cfg);
	pair_up(&net, A, B);
	uint64_t dh0 = net_endpoint_stat(net.n[B].ep, NET_STAT_DH);
	net.now += 2000; /* a fresh load window */
	/* 2000 initiations with valid mac1 and garbage inside, from 2000 addresses. */
	struct cn_prng r;
	cn_prng_seed(&r, 99);
	for (int i = 0; i < 2000; i++) {
		uint8_t p[NET_INITIATION_LEN] = {NET_PKT_INITIATION};
		cn_prng_fill(&r, p + 4, NET_INITIATION_LEN - 4 - 32);
		mac1(p, 112, net.n[B].id.pk);
		struct net_addr from;
		net_addr_v4(&from, 172, 16, (uint8_t)(i >> 8), (uint8_t)i, 4000);
		tn_inject(&net, B, &from, p, sizeof p);
	}
	uint64_t dh = net_endpoint_stat(net.n[B].ep, NET_STAT_DH) - dh0;
	cr_assert_eq(dh, 5, "only the first 5 initiations in the window reach DH (%lu)", (unsigned long)dh);
	cr_assert_eq(net_endpoint_stat(net.n[B].ep, NET_STAT_COOKIE_SENT), 1995);
	/* The established session is untouched... */
	cr_assert_eq(tn_send(&net, A, B, "still", 5), 0);
	tn_run(&net, net.now + 50);
	cr_assert_eq(net.n[B].delivered, 2);
	cr_assert_eq(memcmp(net.n[B].last_msg, "still", 5), 0);
	/* ...and a genuine newcomer gets a cookie, retries with mac2 and is
	 * served while B is still under load. */
	tn_introduce(&net, C, B);
	cr_assert_eq(tn_send(&net, C, B, "new", 3), 0);
	tn_run(&net, net.now + 100);
	cr_assert_eq(net_endpoint_stat(net.n[C].ep, NET_STAT_COOKIE_RECEIVED), 1);
	cr_assert_eq(net.n[C].established, 1);
	cr_assert_eq(net.n[B].delivered, 3);
	cr_assert_eq(memcmp(net.n[B].last_msg, "new", 3), 0);
	/* A cookie reply that answers no mac1 of ours is ignored. */
	uint8_t fake[NET_COOKIE_LEN] = {NET_PKT_COOKIE};
	tn_inject(&net, C, &net.n[B].addrs[0], fake, sizeof fake);
	cr_assert_eq(net_endpoint_stat(net.n[C].ep, NET_STAT_COOKIE_RECEIVED), 1);
	tn_free(&net);
}

Test(net_session, roaming)
{
	struct tn_net net;
	tn_init(&net, 2, 10, NULL);
	pair_up(&net, A, B);
	/* A's address changes (new DHCP lease): it now sends from 10.9.9.9. */
	net_addr_v4(&net.n[A].addrs[0], 10, 9, 9, 9, 7001);
	net.n[A].n_routes = 0;
	cr_assert_eq(tn_send(&net, A, B, "moved", 5), 0);
	tn_run(&net, net.now + 100);
	cr_assert_eq(net.n[B].delivered, 2);
	struct net_session_info info;
	cr_assert_eq(net_endpoint_session(net.n[B].ep, net.n[A].id.node_id, &info), 0);
	cr_assert(net_addr_equal(&info.addr, &net.n[A].addrs[0]));
	cr_assert_eq(net_endpoint_stat(net.n[B].ep, NET_STAT_ROAM), 1);
	cr_assert_eq(tn_send(&net, B, A, "ack", 3), 0);
	tn_run(&net, net.now + 100);
	cr_assert_eq(net.n[A].delivered, 1, "B's reply reaches the new address");
	/* A forged packet from a third address does not move the session. */
	uint8_t junk[64] = {NET_PKT_DATA};
	memcpy(junk + 4, &info.local_index, 4);
	struct net_addr evil;
	net_addr_v4(&evil, 6, 6, 6, 6, 666);
	tn_inject(&net, B, &evil, junk, sizeof junk);
	cr_assert_eq(net_endpoint_session(net.n[B].ep, net.n[A].id.node_id, &info), 0);
	cr_assert(net_addr_equal(&info.addr, &net.n[A].addrs[0]));
	tn_free(&net);
}

static int down_tap(struct tn_net *net, const struct tn_pkt *p, void *ctx)
{
	const struct net_addr *dead = ctx;
	return !net_addr_equal(&p->to, dead) && !net_addr_equal(&p->from, dead);
}

Test(net_session, multihoming_fails_over_to_next_locator)
{
	struct tn_net net;
	tn_init(&net, 2, 11, NULL);
	tn_add_addr(&net, B);
	pair_up(&net, A, B);
	struct net_session_info info;
	cr_assert_eq(net_endpoint_session(net.n[A].ep, net.n[B].id.node_id, &info), 0);
	cr_assert(net_addr_equal(&info.addr, &net.n[B].addrs[0]));
	/* B's first address stops answering. A keeps sending once a second. */
	struct net_addr dead = net.n[B].addrs[0];
	net.tap = down_tap;
	net.tap_ctx = &dead;
	size_t got = net.n[B].delivered;
	for (int i = 0; i < 40; i++) {
		cr_assert_eq(tn_send(&net, A, B, "m", 1), 0);
		tn_run(&net, net.now + 1000);
	}
	cr_assert_geq(net_endpoint_stat(net.n[A].ep, NET_STAT_PATH_SWITCH), 1);
	cr_assert_eq(net_endpoint_session(net.n[A].ep, net.n[B].id.node_id, &info), 0);
	cr_assert(net_addr_equal(&info.addr, &net.n[B].addrs[1]));
	cr_assert_eq(info.state, NET_SESSION_ESTABLISHED);
	/* Messages sent before the switch were lost (no retransmission at this
	 * layer); the ones after it arrive. */
	cr_assert_geq(net.n[B].delivered - got, 20);
	cr_assert_eq(net.n[A].closed, 0);
	tn_free(&net);
}

Test(net_session, all_locators_dead_closes)
{
	struct net_config cfg = cfg_default();
	cfg.handshake_attempts = 6;
	struct tn_net net;
	tn_init(&net, 2, 12, &cfg);
	tn_add_addr(&net, B);
	tn_add_addr(&net, B);
	tn_introduce(&net, A, B);
	net.n[B].n_addrs = 0; /* B is gone from the network */
	cr_assert_eq(tn_send(&net, A, B, "?", 1), 0);
	tn_run(&net, net.now + 120000);
	cr_assert_eq(net.n[A].closed, 1);
	cr_assert_eq(net.n[A].close_reason, NET_CLOSE_HANDSHAKE_TIMEOUT);
	cr_assert_eq(net_endpoint_stat(net.n[A].ep, NET_STAT_TX), 6);
	cr_assert_eq(net_endpoint_stat(net.n[A].ep, NET_STAT_PATH_SWITCH), 2, "two per locator");
	tn_free(&net);
}

Test(net_session, announce_locator)
{
	struct tn_net net;
	tn_init(&net, 3, 13, NULL);
	pair_up(&net, A, B);
	pair_up(&net, C, B);
	tn_add_addr(&net, B);
	struct net_locator rec;
	tn_locator(&net, B, 2, &rec);
	struct net_input in = {.kind = NET_IN_ANNOUNCE, .locator = &rec};
	cr_assert_eq(tn_step(&net, B, &in), 0);
	tn_run(&net, net.now + 100);
	cr_assert_eq(net.n[A].peer_locators, 1);
	cr_assert_eq(net.n[C].peer_locators, 1);
	struct net_session_info info;
	cr_assert_eq(net_endpoint_session(net.n[A].ep, net.n[B].id.node_id, &info), 0);
	cr_assert_eq(info.locator.seq, 2);
	cr_assert_eq(info.locator.n_addrs, 2);
	/* Not newer than what we announced: refused locally. */
	cr_assert_eq(tn_step(&net, B, &in), -CN_ESTATE);
	/* Someone else's record cannot be announced as ours. */
	struct net_locator other;
	tn_locator(&net, A, 5, &other);
	in.locator = &other;
	cr_assert_eq(tn_step(&net, B, &in), -CN_EINVAL);
	tn_free(&net);
}

Test(net_session, metrics_registry)
{
	struct cn_metrics *m;
	cr_assert_eq(cn_metrics_new(&m), 0);
	struct tn_net net;
	tn_init(&net, 2, 14, NULL);
	cr_assert_eq(net_endpoint_attach_metrics(net.n[B].ep, m), 0);
	uint8_t junk[3] = {9, 9, 9};
	tn_inject(&net, B, &net.n[A].addrs[0], junk, sizeof junk);
	char *text;
	size_t len;
	cr_assert_eq(cn_metrics_format(m, &text, &len), 0);
	cr_assert(strstr(text, "canon_net_events_total{event=\"drop_malformed\"} 1"), "%s", text);
	free(text);
	tn_free(&net);
	cn_metrics_free(m);
}

Test(net_session, full_peer_table_recycles_idle_inbound_sessions)
{
	struct net_config cfg = cfg_default();
	cfg.max_peers = 2;
	struct tn_net net;
	tn_init(&net, 5, 15, &cfg);
	pair_up(&net, 0, 1);
	pair_up(&net, 2, 1);
	/* Table full, both sessions live: a third initiator is refused. */
	tn_introduce(&net, 3, 1);
	cr_assert_eq(tn_send(&net, 3, 1, "x", 1), 0);
	tn_run(&net, net.now + 100);
	cr_assert_eq(net.n[3].established, 0);
	cr_assert_geq(net_endpoint_stat(net.n[1].ep, NET_STAT_DROP_LIMIT), 1);
	/* Node 1 forgets node 0: its slot becomes recyclable. */
	struct net_input in = {.kind = NET_IN_CLOSE, .peer = net.n[0].id.node_id};
	cr_assert_eq(tn_step(&net, 1, &in), 0);
	tn_run(&net, net.now + 6000); /* node 3 retransmits */
	cr_assert_eq(net.n[3].established, 1);
	cr_assert_eq(net.n[1].delivered, 3);
	cr_assert_eq(state(&net, 1, 2), NET_SESSION_ESTABLISHED, "the live session was kept");
	tn_free(&net);
}

static int drop_first_data_tap(struct tn_net *net, const struct tn_pkt *p, void *ctx)
{
	int *dropped = ctx;
	if (p->data[0] == NET_PKT_DATA && net_addr_equal(&p->from, &net->n[A].addrs[0]) && !*dropped) {
		*dropped = 1;
		return 0;
	}
	return 1;
}

Test(net_session, responder_sends_before_confirmation)
{
	struct tn_net net;
	tn_init(&net, 2, 16, NULL);
	tn_introduce(&net, A, B);
	uint64_t t0 = net.now;
	cr_assert_eq(tn_send(&net, A, B, "hello", 5), 0);
	tn_run(&net, t0 + 15); /* B has answered; A's first data is not there yet */
	cr_assert_eq(state(&net, B, A), NET_SESSION_NONE);
	cr_assert_eq(tn_send(&net, B, A, "early", 5), 0);
	struct net_session_info info;
	cr_assert_eq(net_endpoint_session(net.n[B].ep, net.n[A].id.node_id, &info), 0);
	cr_assert_eq(info.handshake_running, 0, "no colliding handshake from the responder");
	tn_run(&net, t0 + 1000);
	cr_assert_eq(net.n[A].delivered, 1);
	cr_assert_eq(memcmp(net.n[A].last_msg, "early", 5), 0);
	cr_assert_eq(net.n[B].delivered, 1);
	tn_free(&net);
}

Test(net_session, lost_confirmation_recovers)
{
	struct tn_net net;
	tn_init(&net, 2, 17, NULL);
	int dropped = 0;
	net.tap = drop_first_data_tap;
	net.tap_ctx = &dropped;
	tn_introduce(&net, A, B);
	cr_assert_eq(tn_send(&net, A, B, "lost", 4), 0);
	tn_run(&net, net.now + 15);
	cr_assert_eq(tn_send(&net, B, A, "queued", 6), 0);
	/* A's only data packet was lost, so B never sees its keys confirmed;
	 * after rekey_timeout B runs its own handshake and delivers. */
	tn_run(&net, net.now + 20000);
	cr_assert_eq(dropped, 1);
	cr_assert_eq(net.n[A].delivered, 1);
	cr_assert_eq(memcmp(net.n[A].last_msg, "queued", 6), 0);
	cr_assert_eq(net.n[B].delivered, 0, "no retransmission at this layer");
	cr_assert_eq(state(&net, A, B), NET_SESSION_ESTABLISHED);
	cr_assert_eq(state(&net, B, A), NET_SESSION_ESTABLISHED);
	tn_free(&net);
}

static int drop_all_tap(struct tn_net *net, const struct tn_pkt *p, void *ctx)
{
	return !*(int *)ctx;
}

Test(net_session, reject_after_messages_is_a_hard_limit)
{
	struct net_config cfg = cfg_default();
	cfg.rekey_after_messages = 10;
	cfg.reject_after_messages = 20;
	struct tn_net net;
	tn_init(&net, 2, 18, &cfg);
	pair_up(&net, A, B);
	int down = 1;
	net.tap = drop_all_tap;
	net.tap_ctx = &down;
	for (int i = 0; i < 30; i++)
		cr_assert_eq(tn_send(&net, A, B, "z", 1), 0);
	struct net_session_info info;
	cr_assert_eq(net_endpoint_session(net.n[A].ep, net.n[B].id.node_id, &info), 0);
	cr_assert_eq(info.send_counter, 20, "never past reject_after_messages");
	cr_assert(info.handshake_running);
	down = 0;
	tn_run(&net, net.now + 6000); /* the rekey initiation is retransmitted */
	/* "hello" used counter 0, so 19 went out into the void and 11 waited. */
	cr_assert_eq(net.n[B].delivered, 1 + 11, "held-back messages arrive under the new keys (%zu)", net.n[B].delivered);
	tn_free(&net);
}

Test(net_session, simultaneous_initiation)
{
	struct tn_net net;
	tn_init(&net, 2, 19, NULL);
	tn_introduce(&net, A, B);
	tn_introduce(&net, B, A);
	cr_assert_eq(tn_send(&net, A, B, "from-a", 6), 0);
	cr_assert_eq(tn_send(&net, B, A, "from-b", 6), 0);
	tn_run(&net, net.now + 1000);
	cr_assert_eq(net.n[A].delivered, 1);
	cr_assert_eq(net.n[B].delivered, 1);
	cr_assert_eq(net.n[A].established, 1);
	cr_assert_eq(net.n[B].established, 1);
	for (int i = 0; i < 20; i++) {
		cr_assert_eq(tn_send(&net, A, B, "a", 1), 0);
		cr_assert_eq(tn_send(&net, B, A, "b", 1), 0);
		tn_run(&net, net.now + 50);
	}
	cr_assert_eq(net.n[A].delivered, 21);
	cr_assert_eq(net.n[B].delivered, 21);
	tn_free(&net);
}

Test(net_session, keepalive_answers_one_way_traffic)
{
	struct tn_net net;
	tn_init(&net, 2, 20, NULL);
	pair_up(&net, A, B);
	uint64_t tx_b = net_endpoint_stat(net.n[B].ep, NET_STAT_TX);
	tn_run(&net, net.now + 30000);
	/* B had nothing to say but sent one keepalive, so A saw the path alive. */
	cr_assert_eq(net_endpoint_stat(net.n[B].ep, NET_STAT_TX), tx_b + 1);
	cr_assert_eq(net_endpoint_stat(net.n[A].ep, NET_STAT_PATH_SWITCH), 0);
	cr_assert_eq(net_endpoint_stat(net.n[A].ep, NET_STAT_REKEY), 0);
	tn_free(&net);
}

Test(net_session, receive_only_initiator_still_rekeys)
{
	struct tn_net net;
	tn_init(&net, 2, 21, NULL);
	pair_up(&net, A, B);
	/* Only B (the responder) talks, every 5 s for 10 minutes: A refreshes
	 * the keys it initiated when they age, so B never runs dry. */
	for (int i = 0; i < 120; i++) {
		cr_assert_eq(tn_send(&net, B, A, "r", 1), 0);
		tn_run(&net, net.now + 5000);
	}
	cr_assert_eq(net.n[A].delivered, 120);
	cr_assert_geq(net_endpoint_stat(net.n[A].ep, NET_STAT_REKEY), 4);
	cr_assert_eq(net.n[A].closed + net.n[B].closed, 0);
	tn_free(&net);
}

Test(net_session, cookie_holder_is_rate_limited)
{
	struct net_config cfg = cfg_default();
	cfg.load_threshold = 0; /* always under load */
	struct tn_net net;
	tn_init(&net, 2, 22, &cfg);
	struct capture ci = {.type = NET_PKT_INITIATION};
	net.tap = capture_tap;
	net.tap_ctx = &ci;
	pair_up(&net, A, B); /* through a cookie */
	cr_assert_eq(net_endpoint_stat(net.n[A].ep, NET_STAT_COOKIE_RECEIVED), 1);
	cr_assert_eq(ci.n, 2);
	struct tn_pkt with_mac2 = ci.p[1];
	/* A cookie holder hammering B: 100 initiations with a valid mac2 from
	 * one IP (replays, but B cannot know that before DH). */
	uint64_t dh0 = net_endpoint_stat(net.n[B].ep, NET_STAT_DH);
	for (int i = 0; i < 100; i++)
		tn_inject(&net, B, &with_mac2.from, with_mac2.data, with_mac2.len);
	uint64_t dh = net_endpoint_stat(net.n[B].ep, NET_STAT_DH) - dh0;
	/* The bucket refilled to its burst of 5 during pair_up()'s second. */
	cr_assert_eq(net_endpoint_stat(net.n[B].ep, NET_STAT_DROP_RATELIMIT), 95);
	cr_assert_eq(net_endpoint_stat(net.n[B].ep, NET_STAT_DROP_HS_REPLAY), 5);
	cr_assert_eq(dh, 5, "one DH per initiation let through (%lu)", (unsigned long)dh);
	/* 100 ms later: 2 more tokens. */
	net.now += 100;
	for (int i = 0; i < 10; i++)
		tn_inject(&net, B, &with_mac2.from, with_mac2.data, with_mac2.len);
	cr_assert_eq(net_endpoint_stat(net.n[B].ep, NET_STAT_DROP_HS_REPLAY), 7);
	/* Another IP with a (stolen) valid mac2 but no cookie of its own gets a cookie reply. */
	struct net_addr other;
	net_addr_v4(&other, 10, 7, 7, 7, 7000);
	uint64_t cookies = net_endpoint_stat(net.n[B].ep, NET_STAT_COOKIE_SENT);
	tn_inject(&net, B, &other, with_mac2.data, with_mac2.len);
	cr_assert_eq(net_endpoint_stat(net.n[B].ep, NET_STAT_COOKIE_SENT), cookies + 1);
	tn_free(&net);
}

/* Every message delivered at most once, from the side that sent it,
 * whatever the network does: the replay window's job. */
static void soak_deliver(struct tn_net *net, int node, const uint8_t *msg, size_t len)
{
	uint8_t *seen = net->deliver_ctx;
	uint32_t tag;
	cr_assert_eq(len, sizeof tag);
	memcpy(&tag, msg, sizeof tag);
	cr_assert_eq(tag % 2, (uint32_t)(1 - node), "from the other side");
	cr_assert_eq(seen[tag], 0, "message %u delivered twice", tag);
	seen[tag] = 1;
}

static void soak(uint64_t seed, int messages)
{
	struct net_config cfg = cfg_default();
	cfg.rekey_after_messages = 64;
	struct tn_net net;
	tn_init(&net, 2, seed, &cfg);
	net.loss_pm = 100;
	net.dup_pm = 100;
	net.jitter = 40;
	uint8_t *seen = calloc((size_t)messages * 2, 1);
	net.on_deliver = soak_deliver;
	net.deliver_ctx = seen;
	tn_introduce(&net, A, B);
	tn_introduce(&net, B, A);
	for (int i = 0; i < messages; i++) {
		for (int side = 0; side < 2; side++) {
			uint32_t tag = (uint32_t)(i * 2 + side);
			cr_assert_eq(tn_send(&net, side, 1 - side, &tag, sizeof tag), 0);
		}
		tn_run(&net, net.now + 20);
	}
	tn_run(&net, net.now + 2000);
	for (int side = 0; side < 2; side++) {
		/* 10 % loss, plus what is sent while a handshake is lost. */
		cr_assert_geq(net.n[1 - side].delivered, (size_t)messages * 7 / 10,
			      "seed %lu side %d: %zu of %d", (unsigned long)seed, side,
			      net.n[1 - side].delivered, messages);
		cr_assert_eq(net_endpoint_stat(net.n[side].ep, NET_STAT_DROP_AUTH), 0);
	}
	cr_assert_geq(net_endpoint_stat(net.n[A].ep, NET_STAT_REKEY) +
		      net_endpoint_stat(net.n[B].ep, NET_STAT_REKEY), 3);
	cr_assert_gt(net_endpoint_stat(net.n[A].ep, NET_STAT_DROP_REPLAY) +
		     net_endpoint_stat(net.n[B].ep, NET_STAT_DROP_REPLAY), 0, "duplicates were seen and dropped");
	cr_assert_eq(net.n[A].closed + net.n[B].closed, 0);
	free(seen);
	tn_free(&net);
}

Test(net_session, lossy_reordering_duplicating_network)
{
	int seeds = tu_long() ? 40 : 4;
	for (int s = 0; s < seeds; s++)
		soak(100 + (uint64_t)s, tu_long() ? 3000 : 600);
	tu_report("net soak seeds", (size_t)seeds);
}

Test(net_session, debug_log_names_peer_tag)
{
	FILE *f = tmpfile();
	cr_assert(f);
	cn_log_set_output(f);
	cn_log_set_verbosity(CN_LOG_DEBUG);
	struct tn_net net;
	tn_init(&net, 2, 23, NULL);
	pair_up(&net, A, B);
	cn_log_set_verbosity(CN_LOG_DEFAULT_VERBOSITY);
	cn_log_set_output(NULL);
	char buf[4096] = {0}, tag[NET_TAG_CHARS + 1], want[64];
	rewind(f);
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	cr_assert_gt(n, 0);
	net_node_tag(net.n[B].id.node_id, tag);
	snprintf(want, sizeof want, "peer=%s", tag);
	cr_assert(strstr(buf, "net session established") && strstr(buf, want), "%s", buf);
	tn_free(&net);
}

Test(net_session, equivocating_locator_from_peer_refused)
{
	struct tn_net net;
	tn_init(&net, 3, 24, NULL);
	pair_up(&net, A, B);
	struct net_locator rec;
	tn_locator(&net, B, 2, &rec);
	struct net_input in = {.kind = NET_IN_ANNOUNCE, .locator = &rec};
	cr_assert_eq(tn_step(&net, B, &in), 0);
	tn_run(&net, net.now + 100);
	cr_assert_eq(net.n[A].peer_locators, 1);
	/* A second machine running B's key (a clone, or a thief) announces a
	 * different record under the same sequence number. */
	net_endpoint_free(net.n[C].ep);
	net.n[C].id = net.n[B].id;
	cr_assert_eq(net_endpoint_new(&net.n[C].ep, &net.n[C].id, NULL), 0);
	tn_introduce(&net, C, A);
	struct net_locator clone;
	tn_locator(&net, C, 2, &clone); /* C's address, B's key, seq 2 */
	in.locator = &clone;
	cr_assert_eq(tn_step(&net, C, &in), 0);
	cr_assert_eq(tn_send(&net, C, A, "i am b", 6), 0);
	tn_run(&net, net.now + 100);
	cr_assert_eq(net.n[A].delivered, 1, "the clone holds the key, so it can talk");
	cr_assert_eq(net_endpoint_stat(net.n[A].ep, NET_STAT_DROP_LOCATOR), 1);
	cr_assert_eq(net.n[A].peer_locators, 1);
	struct net_session_info info;
	cr_assert_eq(net_endpoint_session(net.n[A].ep, net.n[B].id.node_id, &info), 0);
	cr_assert(net_addr_equal(&info.locator.addrs[0], &net.n[B].addrs[0]), "first record kept");
	/* The same conflict through the local API. */
	cr_assert_eq(net_endpoint_add_peer(net.n[A].ep, &clone), -CN_EEXIST);
	tn_free(&net);
}
