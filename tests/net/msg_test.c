/* msg_test.c — unicast RaptorQ messaging driven over a small seeded network
 * (latency with jitter, so reordering; random loss; duplication; a log of
 * every datagram for replays). */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "base/err.h"
#include "base/prng.h"
#include "net/msg.h"
#include "testutil.h"

#define MSGNET_ASSERT(x) cr_assert(x)
#include "msgnet.h"

/* ---- the nodes --------------------------------------------------------------- */

#define MAXN 8
#define MAXMSG 64

struct expect {
	uint32_t src, dst;
	uint64_t id;
	uint8_t *data;
	size_t len;
	int delivered, acked, failed;
};

struct world {
	struct mnet net;
	uint32_t nn;
	struct net_msg *sm[MAXN];
	uint64_t timer[MAXN];
	struct net_msg_out out;
	struct expect ex[MAXMSG];
	size_t nex;
	size_t wrong; /* deliveries that match no expectation */
	uint64_t now;
};

static struct expect *find(struct world *w, uint32_t src, uint32_t dst, uint64_t id)
{
	for (size_t i = 0; i < w->nex; i++)
		if (w->ex[i].src == src && w->ex[i].dst == dst && w->ex[i].id == id)
			return &w->ex[i];
	return NULL;
}

static void handle(struct world *w, uint32_t node)
{
	for (size_t i = 0; i < w->out.n; i++) {
		struct net_msg_action *a = &w->out.a[i];
		struct expect *e;
		switch (a->kind) {
		case NET_MSG_A_SEND:
			cr_assert_leq(a->len, NET_MSG_MTU);
			mnet_send(&w->net, w->now, node, a->peer, a->data, a->len);
			break;
		case NET_MSG_A_DELIVER:
			e = find(w, a->peer, node, a->msg_id);
			if (!e || e->len != a->len || memcmp(e->data, a->data, a->len) != 0)
				w->wrong++;
			else
				e->delivered++;
			break;
		case NET_MSG_A_SENT:
			e = find(w, node, a->peer, a->msg_id);
			cr_assert(e);
			e->acked++;
			break;
		case NET_MSG_A_FAILED:
			e = find(w, node, a->peer, a->msg_id);
			cr_assert(e);
			e->failed++;
			break;
		}
	}
	cr_assert(!w->out.oom);
	w->timer[node] = w->out.next_timer_ms;
	net_msg_out_reset(&w->out);
}

static void world_init(struct world *w, uint32_t nn, uint64_t seed, double loss, double dup,
		       const struct net_msg_config *base)
{
	memset(w, 0, sizeof *w);
	cn_prng_seed(&w->net.r, seed);
	w->net.lat = 20;
	w->net.jit = 15;
	w->net.loss = loss;
	w->net.dup = dup;
	w->nn = nn;
	net_msg_out_init(&w->out);
	for (uint32_t i = 0; i < nn; i++) {
		struct net_msg_config c = base ? *base : (struct net_msg_config){0};
		c.max_peers = nn;
		c.id_seed = (uint64_t)i << 40 | seed;
		cr_assert_eq(net_msg_new(&c, &w->sm[i]), 0);
		w->timer[i] = UINT64_MAX;
	}
}

static void world_free(struct world *w)
{
	for (uint32_t i = 0; i < w->nn; i++)
		net_msg_free(w->sm[i]);
	for (size_t i = 0; i < w->nex; i++)
		free(w->ex[i].data);
	net_msg_out_free(&w->out);
	mnet_free(&w->net);
}

static void world_send(struct world *w, uint32_t src, uint32_t dst, size_t len, uint64_t deadline)
{
	cr_assert_lt(w->nex, MAXMSG);
	struct expect *e = &w->ex[w->nex++];
	e->src = src;
	e->dst = dst;
	e->len = len;
	e->data = malloc(len);
	cn_prng_fill(&w->net.r, e->data, len);
	struct net_msg_input in = {.kind = NET_MSG_IN_SEND, .peer = dst, .data = e->data, .len = len,
				   .deadline_ms = w->now + deadline, .msg_id = &e->id};
	cr_assert_eq(net_msg_step(w->sm[src], w->now, &in, &w->out), 0);
	handle(w, src);
}

/* Runs until nothing is in flight and no timer is armed before `until`. */
static void world_run(struct world *w, uint64_t until)
{
	for (;;) {
		uint64_t tp = w->net.n ? w->net.h[0].t : UINT64_MAX;
		uint32_t tn = 0;
		uint64_t tt = UINT64_MAX;
		for (uint32_t i = 0; i < w->nn; i++)
			if (w->timer[i] < tt) {
				tt = w->timer[i];
				tn = i;
			}
		uint64_t t = tp < tt ? tp : tt;
		if (t == UINT64_MAX || t > until)
			break;
		if (t > w->now)
			w->now = t;
		if (tp <= tt) {
			struct mpkt p = mnet_pop(&w->net);
			struct net_msg_input in = {.kind = NET_MSG_IN_DATAGRAM, .peer = p.src, .data = p.d, .len = p.len};
			cr_assert_eq(net_msg_step(w->sm[p.dst], w->now, &in, &w->out), 0);
			free(p.d);
			handle(w, p.dst);
		} else {
			struct net_msg_input in = {.kind = NET_MSG_IN_TIMER};
			cr_assert_eq(net_msg_step(w->sm[tn], w->now, &in, &w->out), 0);
			handle(w, tn);
		}
	}
}

static void all_to_all(uint64_t seed, double loss, double dup)
{
	static const size_t sizes[] = {1, 777, 5000, 70000};
	struct world w;
	world_init(&w, 4, seed, loss, dup, NULL);
	for (uint32_t s = 0; s < 4; s++)
		for (uint32_t d = 0; d < 4; d++)
			if (s != d)
				for (int j = 0; j < 2; j++)
					world_send(&w, s, d, sizes[(s + d + j) % 4] + j, 120000);
	world_run(&w, 200000);
	for (size_t i = 0; i < w.nex; i++) {
		cr_assert_eq(w.ex[i].delivered, 1, "loss %.2f msg %zu delivered %d times", loss, i, w.ex[i].delivered);
		cr_assert_eq(w.ex[i].acked, 1, "loss %.2f msg %zu acked %d", loss, i, w.ex[i].acked);
		cr_assert_eq(w.ex[i].failed, 0);
	}
	cr_assert_eq(w.wrong, 0);
	/* Replay every datagram ever sent: nothing is delivered twice. */
	for (size_t i = 0; i < w.net.nlog; i++) {
		struct mpkt *p = &w.net.log[i];
		struct net_msg_input in = {.kind = NET_MSG_IN_DATAGRAM, .peer = p->src, .data = p->d, .len = p->len};
		cr_assert_eq(net_msg_step(w.sm[p->dst], w.now, &in, &w.out), 0);
		for (size_t j = 0; j < w.out.n; j++)
			cr_assert_neq(w.out.a[j].kind, NET_MSG_A_DELIVER, "replay delivered again");
		net_msg_out_reset(&w.out);
	}
	for (uint32_t i = 0; i < 4; i++)
		for (uint32_t p = 0; p < 4; p++)
			cr_assert_eq(net_msg_peer_reserved(w.sm[i], p), 0);
	world_free(&w);
}

Test(net_msg, all_to_all_clean)
{
	all_to_all(1, 0, 0);
}

Test(net_msg, all_to_all_loss10_dup)
{
	all_to_all(2, 0.10, 0.05);
}

Test(net_msg, all_to_all_loss30_dup)
{
	all_to_all(3, 0.30, 0.10);
}

Test(net_msg, deadline_reports_failure)
{
	struct world w;
	world_init(&w, 2, 9, 1.0, 0, NULL); /* everything is lost */
	world_send(&w, 0, 1, 3000, 5000);
	world_run(&w, 100000);
	cr_assert_eq(w.ex[0].failed, 1);
	cr_assert_eq(w.ex[0].delivered, 0);
	cr_assert_gt(net_msg_stats(w.sm[0])->repair_symbols, 0);
	world_free(&w);
}

Test(net_msg, large_message_4mib)
{
	struct world w;
	world_init(&w, 2, 10, 0.05, 0.01, NULL);
	world_send(&w, 0, 1, 4u << 20, 600000);
	world_run(&w, 700000);
	cr_assert_eq(w.ex[0].delivered, 1);
	cr_assert_eq(w.ex[0].acked, 1);
	world_free(&w);
}

/* A DATA payload built by hand: id, OTI for len bytes, ESI, zero symbol. */
static size_t craft(uint8_t *b, uint64_t id, uint64_t f, uint32_t esi)
{
	struct rq_oti oti;
	cr_assert_eq(net_msg_oti_for(f, NET_MSG_T_MAX, 1, &oti), 0);
	b[0] = NET_MSG_T_DATA;
	store_be64(b + 1, id);
	rq_oti_serialize(&oti, b + 9);
	rq_payload_id_write(b + 21, 0, esi);
	memset(b + 25, 0xab, oti.t);
	return NET_MSG_HDR + oti.t;
}

Test(net_msg, size_limit_and_peer_caps)
{
	struct net_msg_config c = {.max_peers = 2, .max_incoming = 2, .peer_mem_cap = 64u << 20};
	struct net_msg *sm;
	struct net_msg_out out;
	net_msg_out_init(&out);
	cr_assert_eq(net_msg_new(&c, &sm), 0);
	uint8_t *big = calloc(1, NET_MSG_MAX_SIZE + 1);
	struct net_msg_input in = {.kind = NET_MSG_IN_SEND, .peer = 1, .data = big, .len = NET_MSG_MAX_SIZE + 1,
				   .deadline_ms = 1000};
	cr_assert_eq(net_msg_step(sm, 0, &in, &out), -CN_ELIMIT);
	free(big);

	uint8_t b[NET_MSG_MTU];
	/* An OTI announcing 32 MiB + 4 bytes is refused before any allocation. */
	size_t len = craft(b, 1, NET_MSG_MAX_SIZE, 0);
	struct rq_oti oti;
	cr_assert_eq(rq_oti_parse(b + 9, &oti), 0);
	oti.f = NET_MSG_MAX_SIZE + 4;
	rq_oti_serialize(&oti, b + 9);
	in = (struct net_msg_input){.kind = NET_MSG_IN_DATAGRAM, .peer = 0, .data = b, .len = len};
	cr_assert_eq(net_msg_step(sm, 0, &in, &out), 0);
	cr_assert_eq(net_msg_stats(sm)->drop_oversize, 1);
	cr_assert_eq(net_msg_peer_reserved(sm, 0), 0);

	/* Two partial messages fit; the third is refused (slot cap). */
	for (uint64_t id = 10; id < 13; id++) {
		len = craft(b, id, 100000, 0);
		in.len = len;
		cr_assert_eq(net_msg_step(sm, 0, &in, &out), 0);
	}
	cr_assert_eq(net_msg_stats(sm)->refused_busy, 1);
	cr_assert_leq(net_msg_peer_reserved(sm, 0), c.peer_mem_cap);
	/* A 32 MiB message needs more than the 64 MiB cap leaves: refused
	 * (memory), from another peer (slots are per peer). */
	len = craft(b, 20, NET_MSG_MAX_SIZE, 0);
	in.peer = 1;
	in.len = len;
	cr_assert_eq(net_msg_step(sm, 0, &in, &out), 0);
	cr_assert_eq(net_msg_stats(sm)->refused_memory, 1);
	cr_assert_eq(net_msg_peer_reserved(sm, 1), 0);
	/* Inconsistent OTI for a known id. */
	len = craft(b, 10, 100001, 1);
	in.peer = 0;
	in.len = len;
	cr_assert_eq(net_msg_step(sm, 0, &in, &out), 0);
	cr_assert_eq(net_msg_stats(sm)->drop_inconsistent, 1);
	/* Idle partial messages expire and give their memory back. */
	struct net_msg_input t = {.kind = NET_MSG_IN_TIMER};
	cr_assert_eq(net_msg_step(sm, 40000, &t, &out), 0);
	cr_assert_eq(net_msg_stats(sm)->expired_incoming, 2);
	cr_assert_eq(net_msg_peer_reserved(sm, 0), 0);
	cr_assert_eq(out.next_timer_ms, UINT64_MAX);
	net_msg_out_free(&out);
	net_msg_free(sm);
}

Test(net_msg, hostile_bytes_are_counted)
{
	struct net_msg_config c = {.max_peers = 2};
	struct net_msg *sm;
	struct net_msg_out out;
	net_msg_out_init(&out);
	cr_assert_eq(net_msg_new(&c, &sm), 0);
	struct cn_prng r;
	cn_prng_seed(&r, 77);
	uint8_t good[NET_MSG_MTU], b[NET_MSG_MTU];
	size_t glen = craft(good, 5, 50000, 3);
	uint64_t n = 0;
	for (int i = 0; i < 3000; i++) {
		size_t len = glen;
		memcpy(b, good, glen);
		switch (i % 4) {
		case 0: len = cn_prng_uniform(&r, glen); break;               /* truncated */
		case 1: b[cn_prng_uniform(&r, 25)] ^= (uint8_t)(1 + cn_prng_uniform(&r, 255)); break;
		case 2: cn_prng_fill(&r, b, (len = 1 + cn_prng_uniform(&r, sizeof b))); break;
		case 3: b[0] = NET_MSG_T_ACK; len = 1 + cn_prng_uniform(&r, 20); break;
		}
		struct net_msg_input in = {.kind = NET_MSG_IN_DATAGRAM, .peer = 0, .data = b, .len = len};
		cr_assert_eq(net_msg_step(sm, 0, &in, &out), 0);
		for (size_t j = 0; j < out.n; j++)
			cr_assert_neq(out.a[j].kind, NET_MSG_A_DELIVER);
		net_msg_out_reset(&out);
		n++;
	}
	const struct net_msg_stats *st = net_msg_stats(sm);
	cr_assert_eq(st->datagrams_in, n);
	cr_assert_gt(st->drop_malformed, 0);
	cr_assert_leq(net_msg_peer_reserved(sm, 0), c.peer_mem_cap ? c.peer_mem_cap : UINT64_MAX);
	net_msg_out_free(&out);
	net_msg_free(sm);
}

Test(net_msg, rtt_is_learned_from_acks)
{
	struct world w;
	world_init(&w, 2, 11, 0, 0, NULL);
	for (int i = 0; i < 10; i++) {
		world_send(&w, 0, 1, 2000, 60000);
		world_run(&w, w.now + 2000);
	}
	uint64_t srtt = net_msg_peer_srtt(w.sm[0], 1);
	cr_assert(srtt >= 40 && srtt <= 75, "srtt %llu", (unsigned long long)srtt);
	world_free(&w);
}

/* Told the uplink rate, the sender waits for its burst to leave before it
 * counts the repair timer: a 1 MB message over a clean path needs no repair
 * even when the burst takes longer than the RTT to send. */
Test(net_msg, pace_delays_repair_until_the_burst_has_left)
{
	struct net_msg_config c = {.max_peers = 2, .initial_rtt_ms = 40, .pace_bytes_per_ms = 2000};
	struct net_msg *sm;
	struct net_msg_out out;
	net_msg_out_init(&out);
	cr_assert_eq(net_msg_new(&c, &sm), 0);
	uint8_t *m = calloc(1, 1u << 20);
	struct net_msg_input in = {.kind = NET_MSG_IN_SEND, .peer = 1, .data = m, .len = 1u << 20,
				   .deadline_ms = 100000};
	cr_assert_eq(net_msg_step(sm, 0, &in, &out), 0);
	/* 897 datagrams of 1197 bytes at 2000 bytes/ms: 537 ms on the wire, then 1.5 RTT. */
	cr_assert_geq(out.next_timer_ms, 537 + 60, "timer %llu", (unsigned long long)out.next_timer_ms);
	cr_assert_leq(out.next_timer_ms, 539 + 60);
	net_msg_out_reset(&out);
	uint64_t sent = net_msg_stats(sm)->datagrams_out;
	struct net_msg_input t = {.kind = NET_MSG_IN_TIMER};
	cr_assert_eq(net_msg_step(sm, 300, &t, &out), 0);
	cr_assert_eq(net_msg_stats(sm)->datagrams_out, sent);
	cr_assert_eq(net_msg_step(sm, 600, &t, &out), 0);
	cr_assert_gt(net_msg_stats(sm)->datagrams_out, sent); /* no ACK came: repair */
	net_msg_out_reset(&out);
	free(m);
	net_msg_out_free(&out);
	net_msg_free(sm);
}

/* The full 32 MiB message end to end (make test-long: encoding and decoding
 * 32 MiB takes seconds under the sanitizers). */
Test(net_msg, max_size_message_32mib)
{
	if (!tu_long())
		return;
	struct world w;
	world_init(&w, 2, 12, 0.02, 0, NULL);
	world_send(&w, 0, 1, NET_MSG_MAX_SIZE, 6000000);
	world_run(&w, 7000000);
	cr_assert_eq(w.ex[0].delivered, 1);
	cr_assert_eq(w.ex[0].acked, 1);
	world_free(&w);
}
