/* mcast_test.c — signed, relayed RaptorQ multicast: n state machines over a
 * small seeded network (latency with jitter, loss, duplication, replays),
 * with silent and tampering members. */
#include <criterion/criterion.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "base/err.h"
#include "base/prng.h"
#include "net/mcast.h"
#include "testutil.h"

#define MSGNET_ASSERT(x) cr_assert(x)
#include "msgnet.h"

/* ---- the group -------------------------------------------------------------- */

#define MAXN 64
#define MAXMSG 16

enum role { HONEST, SILENT, TAMPER };

struct mexp {
	uint32_t sender;
	uint64_t id;
	uint8_t *data;
	size_t len;
	int got[MAXN];
	int quorum, failed, quorum_told;
};

struct group {
	struct mnet net;
	uint32_t n, k;
	enum role role[MAXN];
	uint8_t pk[MAXN][32], sk[MAXN][64];
	struct net_mcast *sm[MAXN];
	uint64_t timer[MAXN];
	struct net_msg_out out;
	struct mexp ex[MAXMSG];
	size_t nex, wrong;
	uint64_t now;
};

static struct mexp *gfind(struct group *g, uint32_t sender, uint64_t id)
{
	for (size_t i = 0; i < g->nex; i++)
		if (g->ex[i].sender == sender && g->ex[i].id == id)
			return &g->ex[i];
	return NULL;
}

static int all_honest_have(struct group *g, struct mexp *e)
{
	for (uint32_t m = 0; m < g->n; m++)
		if (m != e->sender && g->role[m] == HONEST && e->got[m] != 1)
			return 0;
	return 1;
}

static void ghandle(struct group *g, uint32_t node)
{
	for (size_t i = 0; i < g->out.n; i++) {
		struct net_msg_action *a = &g->out.a[i];
		struct mexp *e;
		switch (a->kind) {
		case NET_MSG_A_SEND:
			cr_assert_leq(a->len, NET_MSG_MTU);
			cr_assert_neq(a->peer, node);
			if (g->role[node] == TAMPER && a->data[0] == NET_MCAST_T_RELAY)
				a->data[a->len - 1] ^= 0x40;
			mnet_send(&g->net, g->now, node, a->peer, a->data, a->len);
			break;
		case NET_MSG_A_DELIVER:
			e = gfind(g, a->peer, a->msg_id);
			if (!e || e->len != a->len || memcmp(e->data, a->data, a->len) != 0)
				g->wrong++;
			else
				e->got[node]++;
			break;
		case NET_MSG_A_SENT:
			e = gfind(g, node, a->msg_id);
			cr_assert(e);
			e->quorum++;
			break;
		case NET_MSG_A_FAILED:
			e = gfind(g, node, a->msg_id);
			cr_assert(e);
			e->failed++;
			break;
		}
	}
	cr_assert(!g->out.oom);
	g->timer[node] = g->out.next_timer_ms;
	net_msg_out_reset(&g->out);
}

static void group_init(struct group *g, uint32_t n, uint32_t k, uint64_t seed, double loss, double dup)
{
	cr_assert_eq(sodium_init() < 0, 0);
	memset(g, 0, sizeof *g);
	cn_prng_seed(&g->net.r, seed);
	g->net.lat = 20;
	g->net.jit = 15;
	g->net.loss = loss;
	g->net.dup = dup;
	g->n = n;
	g->k = k;
	net_msg_out_init(&g->out);
	for (uint32_t i = 0; i < n; i++) {
		uint8_t s[32] = {0};
		store_be64(s, seed);
		s[31] = (uint8_t)i;
		s[30] = (uint8_t)(i >> 8);
		crypto_sign_seed_keypair(g->pk[i], g->sk[i], s);
	}
	for (uint32_t i = 0; i < n; i++) {
		struct net_mcast_config c = {.group_id = 0xc0ffee, .n = n, .k = k, .self = i,
					     .pks = (const uint8_t(*)[32])g->pk, .sk = g->sk[i],
					     .rtt_ms = 60, .seed = seed * 1000 + i};
		cr_assert_eq(net_mcast_new(&c, &g->sm[i]), 0);
		g->timer[i] = UINT64_MAX;
	}
}

static void group_free(struct group *g)
{
	for (uint32_t i = 0; i < g->n; i++)
		net_mcast_free(g->sm[i]);
	for (size_t i = 0; i < g->nex; i++)
		free(g->ex[i].data);
	net_msg_out_free(&g->out);
	mnet_free(&g->net);
}

static struct mexp *group_send(struct group *g, uint32_t sender, size_t len, uint64_t deadline)
{
	cr_assert_lt(g->nex, MAXMSG);
	struct mexp *e = &g->ex[g->nex++];
	e->sender = sender;
	e->len = len;
	e->data = malloc(len);
	cn_prng_fill(&g->net.r, e->data, len);
	struct net_mcast_input in = {.kind = NET_MCAST_IN_SEND, .data = e->data, .len = len,
				     .deadline_ms = g->now + deadline, .msg_id_out = &e->id};
	cr_assert_eq(net_mcast_step(g->sm[sender], g->now, &in, &g->out), 0);
	ghandle(g, sender);
	return e;
}

/* The application's quorum signal: once every honest member has a message
 * the sender hears of it (here at once; in consensus via the votes). */
static void tell_quorum(struct group *g, int enabled)
{
	for (size_t i = 0; enabled && i < g->nex; i++) {
		struct mexp *e = &g->ex[i];
		if (e->quorum_told || !all_honest_have(g, e))
			continue;
		e->quorum_told = 1;
		struct net_mcast_input in = {.kind = NET_MCAST_IN_QUORUM, .msg_id = e->id};
		cr_assert_eq(net_mcast_step(g->sm[e->sender], g->now, &in, &g->out), 0);
		ghandle(g, e->sender);
	}
}

static void group_run(struct group *g, uint64_t until, int quorum)
{
	for (;;) {
		tell_quorum(g, quorum);
		uint64_t tp = g->net.n ? g->net.h[0].t : UINT64_MAX;
		uint32_t tn = 0;
		uint64_t tt = UINT64_MAX;
		for (uint32_t i = 0; i < g->n; i++)
			if (g->role[i] != SILENT && g->timer[i] < tt) {
				tt = g->timer[i];
				tn = i;
			}
		uint64_t t = tp < tt ? tp : tt;
		if (t == UINT64_MAX || t > until)
			break;
		if (t > g->now)
			g->now = t;
		if (tp <= tt) {
			struct mpkt p = mnet_pop(&g->net);
			if (g->role[p.dst] != SILENT) {
				struct net_mcast_input in = {.kind = NET_MCAST_IN_DATAGRAM, .peer = p.src,
							     .data = p.d, .len = p.len};
				cr_assert_eq(net_mcast_step(g->sm[p.dst], g->now, &in, &g->out), 0);
				ghandle(g, p.dst);
			}
			free(p.d);
		} else {
			struct net_mcast_input in = {.kind = NET_MCAST_IN_TIMER};
			cr_assert_eq(net_mcast_step(g->sm[tn], g->now, &in, &g->out), 0);
			ghandle(g, tn);
		}
	}
}

static void check_exactly_once(struct group *g)
{
	cr_assert_eq(g->wrong, 0);
	for (size_t i = 0; i < g->nex; i++) {
		struct mexp *e = &g->ex[i];
		for (uint32_t m = 0; m < g->n; m++)
			if (m != e->sender && g->role[m] == HONEST)
				cr_assert_eq(e->got[m], 1, "msg %zu member %u got %d", i, m, e->got[m]);
	}
}

static void replay_all(struct group *g)
{
	for (size_t i = 0; i < g->net.nlog; i++) {
		struct mpkt *p = &g->net.log[i];
		if (g->role[p->dst] == SILENT)
			continue;
		struct net_mcast_input in = {.kind = NET_MCAST_IN_DATAGRAM, .peer = p->src, .data = p->d, .len = p->len};
		cr_assert_eq(net_mcast_step(g->sm[p->dst], g->now, &in, &g->out), 0);
		for (size_t j = 0; j < g->out.n; j++)
			cr_assert_neq(g->out.a[j].kind, NET_MSG_A_DELIVER, "replay delivered again");
		net_msg_out_reset(&g->out);
	}
}

/* 50 members, k = 16 faulty: 8 silent, 8 relaying tampered symbols; loss,
 * duplication and reordering; three senders. */
static void fifty(uint64_t seed, double loss)
{
	struct group g;
	group_init(&g, 50, 16, seed, loss, 0.05);
	for (uint32_t i = 0; i < 16; i++)
		g.role[3 + 3 * i] = i % 2 ? TAMPER : SILENT;
	cr_assert_eq(g.role[0], HONEST);
	group_send(&g, 0, 100000, 60000);
	group_send(&g, 1, 3000, 60000);
	group_send(&g, 2, 1, 60000);
	group_run(&g, 120000, 1);
	check_exactly_once(&g);
	for (size_t i = 0; i < g.nex; i++) {
		cr_assert_eq(g.ex[i].quorum, 1);
		cr_assert_eq(g.ex[i].failed, 0);
	}
	/* Every tamperer was caught by honest members; no honest one was. */
	for (uint32_t m = 0; m < g.n; m++) {
		if (g.role[m] != HONEST)
			continue;
		for (uint32_t p = 0; p < g.n; p++) {
			uint64_t s = net_mcast_peer_strikes(g.sm[m], p);
			if (g.role[p] != TAMPER)
				cr_assert_eq(s, 0, "honest %u struck by %u", p, m);
		}
	}
	uint64_t caught = 0;
	for (uint32_t p = 0; p < g.n; p++)
		if (g.role[p] == TAMPER)
			for (uint32_t m = 0; m < g.n; m++)
				caught += net_mcast_peer_strikes(g.sm[m], p) > 0;
	cr_assert_gt(caught, 0);
	replay_all(&g);
	check_exactly_once(&g);
	group_free(&g);
}

Test(net_mcast, fifty_members_16_faulty_clean)
{
	fifty(1, 0);
}

Test(net_mcast, fifty_members_16_faulty_loss10)
{
	fifty(2, 0.10);
}

Test(net_mcast, fifty_members_16_faulty_loss30)
{
	fifty(3, 0.30);
}

Test(net_mcast, small_group_deadline_without_quorum)
{
	struct group g;
	group_init(&g, 4, 1, 5, 0, 0);
	struct mexp *e = group_send(&g, 0, 5000, 3000);
	group_run(&g, 100000, 0);
	check_exactly_once(&g);
	cr_assert_eq(e->failed, 1); /* nobody reported a quorum */
	cr_assert_gt(net_mcast_stats(g.sm[0])->repair_symbols, 0);
	group_free(&g);
}

/* Captures the DIRECT payloads the sender makes for one message. */
static size_t capture_direct(struct group *g, uint32_t sender, size_t len, uint8_t **pkts, size_t *lens,
			     uint32_t *to, size_t cap)
{
	uint8_t *data = malloc(len);
	memset(data, 7, len);
	struct net_mcast_input in = {.kind = NET_MCAST_IN_SEND, .data = data, .len = len, .deadline_ms = 1000};
	cr_assert_eq(net_mcast_step(g->sm[sender], 0, &in, &g->out), 0);
	size_t n = 0;
	for (size_t i = 0; i < g->out.n && n < cap; i++) {
		pkts[n] = malloc(g->out.a[i].len);
		memcpy(pkts[n], g->out.a[i].data, g->out.a[i].len);
		lens[n] = g->out.a[i].len;
		to[n] = g->out.a[i].peer;
		n++;
	}
	net_msg_out_reset(&g->out);
	free(data);
	return n;
}

static int feed(struct group *g, uint32_t node, uint32_t from, const uint8_t *d, size_t len)
{
	struct net_mcast_input in = {.kind = NET_MCAST_IN_DATAGRAM, .peer = from, .data = d, .len = len};
	cr_assert_eq(net_mcast_step(g->sm[node], 0, &in, &g->out), 0);
	int delivered = 0;
	for (size_t j = 0; j < g->out.n; j++)
		delivered += g->out.a[j].kind == NET_MSG_A_DELIVER;
	net_msg_out_reset(&g->out);
	return delivered;
}

Test(net_mcast, forged_and_tampered_symbols_rejected)
{
	struct group g;
	group_init(&g, 7, 2, 6, 0, 0);
	uint8_t *pk[64];
	size_t len[64];
	uint32_t to[64];
	size_t n = capture_direct(&g, 0, 4000, pk, len, to, 64);
	cr_assert_gt(n, 6);
	uint8_t buf[NET_MSG_MTU];
	const struct net_mcast_stats *st = net_mcast_stats(g.sm[1]);
	/* A DIRECT that comes from someone other than the sender. */
	feed(&g, 1, 2, pk[0], len[0]);
	cr_assert_eq(st->drop_not_sender, 1);
	cr_assert_eq(net_mcast_peer_strikes(g.sm[1], 2), 1);
	/* A relayed symbol with one flipped bit in the symbol, the ESI, the OTI's
	 * neighbour (msg id) or the signature. */
	size_t flips[] = {len[0] - 1, NET_MCAST_HDR - 1, 12, 40};
	for (size_t i = 0; i < 4; i++) {
		memcpy(buf, pk[0], len[0]);
		buf[0] = NET_MCAST_T_RELAY;
		buf[flips[i]] ^= 1;
		feed(&g, 1, 3, buf, len[0]);
	}
	cr_assert_eq(st->drop_forged, 4);
	cr_assert_eq(net_mcast_peer_strikes(g.sm[1], 3), 4);
	cr_assert_eq(st->verified, 0);
	/* A symbol signed by member 4 but claiming to be from member 0. */
	struct net_mcast_config c = {.group_id = 0xc0ffee, .n = 7, .k = 2, .self = 0,
				     .pks = (const uint8_t(*)[32])g.pk, .sk = g.sk[4], .seed = 1};
	struct net_mcast *evil;
	cr_assert_eq(net_mcast_new(&c, &evil), 0);
	uint8_t data[100] = {1};
	struct net_mcast_input in = {.kind = NET_MCAST_IN_SEND, .data = data, .len = sizeof data, .deadline_ms = 1000};
	cr_assert_eq(net_mcast_step(evil, 0, &in, &g.out), 0);
	memcpy(buf, g.out.a[0].data, g.out.a[0].len);
	size_t blen = g.out.a[0].len;
	net_msg_out_reset(&g.out);
	net_mcast_free(evil);
	feed(&g, 1, 0, buf, blen);
	cr_assert_eq(st->drop_forged, 5);
	/* A wrong group id is dropped before any signature check. */
	memcpy(buf, pk[0], len[0]);
	buf[1] ^= 1;
	feed(&g, 1, 0, buf, len[0]);
	cr_assert_eq(st->drop_wrong_group, 1);
	/* The genuine symbols still decode: member 1 gets every DIRECT (as
	 * relays from their owners, its own from the sender). */
	int delivered = 0;
	for (size_t i = 0; i < n; i++) {
		memcpy(buf, pk[i], len[i]);
		if (to[i] != 1)
			buf[0] = NET_MCAST_T_RELAY;
		delivered += feed(&g, 1, to[i] == 1 ? 0 : to[i], buf, len[i]);
	}
	cr_assert_eq(delivered, 1);
	cr_assert_eq(net_mcast_peer_strikes(g.sm[1], 4), 0);
	for (size_t i = 0; i < n; i++)
		free(pk[i]);
	group_free(&g);
}

Test(net_mcast, hostile_bytes_and_sender_caps)
{
	struct group g;
	group_init(&g, 5, 1, 8, 0, 0);
	uint8_t *pk[64];
	size_t len[64];
	uint32_t to[64];
	size_t n = capture_direct(&g, 0, 2000, pk, len, to, 64);
	struct cn_prng r;
	cn_prng_seed(&r, 99);
	uint8_t buf[NET_MSG_MTU];
	for (int i = 0; i < 2000; i++) {
		size_t l = len[0];
		memcpy(buf, pk[0], l);
		switch (i % 3) {
		case 0: l = cn_prng_uniform(&r, l); break;
		case 1: buf[cn_prng_uniform(&r, l)] ^= (uint8_t)(1 + cn_prng_uniform(&r, 255)); break;
		case 2: cn_prng_fill(&r, buf, (l = 1 + cn_prng_uniform(&r, sizeof buf))); break;
		}
		cr_assert_eq(feed(&g, 1, (uint32_t)cn_prng_uniform(&r, 5), buf, l), 0);
	}
	const struct net_mcast_stats *st = net_mcast_stats(g.sm[1]);
	cr_assert_gt(st->drop_malformed + st->drop_forged + st->drop_not_sender + st->drop_wrong_group, 1000);
	/* An OTI beyond 32 MiB is refused as oversize (the OTI is checked before
	 * the signature, so no allocation happens either way). */
	memcpy(buf, pk[0], len[0]);
	struct rq_oti oti;
	cr_assert_eq(rq_oti_parse(buf + 19, &oti), 0);
	oti.f = NET_MSG_MAX_SIZE + 1;
	rq_oti_serialize(&oti, buf + 19);
	feed(&g, 1, 0, buf, len[0]);
	cr_assert_eq(st->drop_oversize, 1);
	cr_assert_leq(net_mcast_sender_reserved(g.sm[1], 0), 64u << 20);
	for (size_t i = 0; i < n; i++)
		free(pk[i]);
	group_free(&g);
}

Test(net_mcast, per_sender_memory_and_slot_caps)
{
	struct group g;
	group_init(&g, 4, 1, 12, 0, 0);
	/* Member 1 with room for one partial message from each sender. */
	net_mcast_free(g.sm[1]);
	struct net_mcast_config c = {.group_id = 0xc0ffee, .n = 4, .k = 1, .self = 1,
				     .pks = (const uint8_t(*)[32])g.pk, .sk = g.sk[1],
				     .max_incoming = 1, .sender_mem_cap = 4u << 20, .seed = 5};
	cr_assert_eq(net_mcast_new(&c, &g.sm[1]), 0);
	uint8_t *pk[64];
	size_t len[64];
	uint32_t to[64];
	/* Two messages from member 0: the first takes the only slot. */
	size_t n1 = capture_direct(&g, 0, 3000, pk, len, to, 32);
	size_t n2 = capture_direct(&g, 0, 3001, pk + n1, len + n1, to + n1, 32);
	feed(&g, 1, 0, pk[0], len[0]);
	cr_assert_gt(net_mcast_sender_reserved(g.sm[1], 0), 0);
	feed(&g, 1, 0, pk[n1], len[n1]);
	const struct net_mcast_stats *st = net_mcast_stats(g.sm[1]);
	cr_assert_eq(st->refused_busy, 1);
	/* A message from member 2 whose decoder needs more than 4 MiB. */
	size_t n3 = capture_direct(&g, 2, 6u << 20, pk + n1 + n2, len + n1 + n2, to + n1 + n2, 1);
	cr_assert_eq(n3, 1);
	feed(&g, 1, 2, pk[n1 + n2], len[n1 + n2]);
	cr_assert_eq(st->refused_memory, 1);
	cr_assert_eq(net_mcast_sender_reserved(g.sm[1], 2), 0);
	cr_assert_leq(net_mcast_sender_reserved(g.sm[1], 0), c.sender_mem_cap);
	for (size_t i = 0; i < n1 + n2 + n3; i++)
		free(pk[i]);
	group_free(&g);
}
