/* net_msg.c — what multicast by relayed RaptorQ shares saves the sender.
 *
 * A 1 MB message from one node to 24 others, in simulated time over an
 * in-process network (not sockets): every node has a 1 Gbit/s uplink that
 * serialises its datagrams in order, then one-way latency 20 ms plus a
 * uniform 0-10 ms jitter, no loss. The application's quorum signal reaches
 * the sender one latency after the last member decodes. Both layers are told
 * the uplink rate (pace_bytes_per_ms), as congestion control would.
 *
 *   multicast_sender_bytes_ratio     sender's payload bytes / message size,
 *                                    group of 25 (sender + 24), k = 7
 *   multicast_sender_bytes_ratio_k8  the same with k = 8 (n = 25 tolerates 8)
 *   unicast24_sender_bytes_ratio     the same message as 24 net_msg unicasts
 *   multicast_ms_1mb_24              simulated ms until all 24 have decoded
 *   multicast_cpu_ms_1mb_24          real CPU ms of the whole simulation (all
 *                                    25 nodes: coding and signatures) */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "base/prng.h"
#include "net/mcast.h"
#include "net/msg.h"
#include "../tests/net/msgnet.h"

#define PEERS 24
#define N (PEERS + 1)
#define MSG (1u << 20)
#define LAT_US 20000
#define JIT_US 10000
#define BW_BPS 1000000000ull

struct sim {
	struct mnet net;
	uint64_t now_us, link_free[N];
};

static void sim_send(struct sim *s, uint32_t src, uint32_t dst, const uint8_t *d, size_t len)
{
	uint64_t t0 = s->link_free[src] > s->now_us ? s->link_free[src] : s->now_us;
	t0 += (uint64_t)len * 8 * 1000000 / BW_BPS + 1;
	s->link_free[src] = t0;
	struct mpkt p = {.t = t0 + LAT_US + cn_prng_uniform(&s->net.r, JIT_US + 1), .seq = s->net.seq++,
			 .src = src, .dst = dst, .len = len, .d = malloc(len)};
	memcpy(p.d, d, len);
	mnet_push(&s->net, p);
}

struct result {
	double ratio, ms;
};

static uint8_t *message(void)
{
	uint8_t *m = malloc(MSG);
	struct cn_prng r;
	cn_prng_seed(&r, 42);
	cn_prng_fill(&r, m, MSG);
	return m;
}

static struct result run_mcast(uint32_t k, uint64_t seed)
{
	static uint8_t pk[N][32], sk[N][64];
	for (uint32_t i = 0; i < N; i++) {
		uint8_t sd[32] = {(uint8_t)i, 1};
		crypto_sign_seed_keypair(pk[i], sk[i], sd);
	}
	struct net_mcast *sm[N];
	uint64_t timer[N];
	for (uint32_t i = 0; i < N; i++) {
		struct net_mcast_config c = {.group_id = 1, .n = N, .k = k, .self = i,
					     .pks = (const uint8_t(*)[32])pk, .sk = sk[i],
					     .rtt_ms = 2 * (LAT_US + JIT_US / 2) / 1000, .seed = seed + i,
					     .pace_bytes_per_ms = BW_BPS / 8000};
		if (net_mcast_new(&c, &sm[i]))
			abort();
		timer[i] = UINT64_MAX;
	}
	struct sim s = {0};
	cn_prng_seed(&s.net.r, seed);
	struct net_msg_out out;
	net_msg_out_init(&out);
	uint8_t *m = message();
	uint64_t id, done_us = 0, quorum_at = UINT64_MAX;
	uint32_t decoded = 0;
	struct net_mcast_input in = {.kind = NET_MCAST_IN_SEND, .data = m, .len = MSG, .deadline_ms = 60000,
				     .msg_id_out = &id};
	uint32_t node = 0;
	int rc = net_mcast_step(sm[0], 0, &in, &out);
	for (;;) {
		if (rc)
			abort();
		for (size_t i = 0; i < out.n; i++) {
			struct net_msg_action *a = &out.a[i];
			if (a->kind == NET_MSG_A_SEND)
				sim_send(&s, node, a->peer, a->data, a->len);
			else if (a->kind == NET_MSG_A_DELIVER) {
				if (a->len != MSG || memcmp(a->data, m, MSG) != 0)
					abort();
				if (++decoded == PEERS) {
					done_us = s.now_us;
					quorum_at = s.now_us + LAT_US;
				}
			} else if (a->kind == NET_MSG_A_FAILED) {
				abort();
			}
		}
		timer[node] = out.next_timer_ms;
		net_msg_out_reset(&out);
		uint64_t tp = s.net.n ? s.net.h[0].t : UINT64_MAX, tt = UINT64_MAX;
		uint32_t tn = 0;
		for (uint32_t i = 0; i < N; i++)
			if (timer[i] != UINT64_MAX && timer[i] * 1000 < tt) {
				tt = timer[i] * 1000;
				tn = i;
			}
		if (quorum_at != UINT64_MAX && quorum_at <= tp && quorum_at <= tt) {
			s.now_us = quorum_at > s.now_us ? quorum_at : s.now_us;
			struct net_mcast_input q = {.kind = NET_MCAST_IN_QUORUM, .msg_id = id};
			quorum_at = UINT64_MAX;
			node = 0;
			rc = net_mcast_step(sm[0], s.now_us / 1000, &q, &out);
			continue;
		}
		uint64_t t = tp < tt ? tp : tt;
		if (t == UINT64_MAX || (decoded == PEERS && quorum_at == UINT64_MAX && tp == UINT64_MAX))
			break;
		if (t > s.now_us)
			s.now_us = t;
		if (tp <= tt) {
			struct mpkt p = mnet_pop(&s.net);
			struct net_mcast_input d = {.kind = NET_MCAST_IN_DATAGRAM, .peer = p.src, .data = p.d, .len = p.len};
			node = p.dst;
			rc = net_mcast_step(sm[node], s.now_us / 1000, &d, &out);
			free(p.d);
		} else {
			struct net_mcast_input d = {.kind = NET_MCAST_IN_TIMER};
			node = tn;
			rc = net_mcast_step(sm[node], s.now_us / 1000, &d, &out);
		}
	}
	if (decoded != PEERS)
		abort();
	struct result r = {(double)net_mcast_stats(sm[0])->bytes_out / MSG, done_us / 1000.0};
	for (uint32_t i = 0; i < N; i++)
		net_mcast_free(sm[i]);
	mnet_free(&s.net);
	net_msg_out_free(&out);
	free(m);
	return r;
}

static double run_unicast(uint64_t seed)
{
	struct net_msg *sm[N];
	uint64_t timer[N];
	for (uint32_t i = 0; i < N; i++) {
		struct net_msg_config c = {.max_peers = N, .initial_rtt_ms = 2 * (LAT_US + JIT_US / 2) / 1000,
					   .id_seed = seed << 32 | i, .pace_bytes_per_ms = BW_BPS / 8000};
		if (net_msg_new(&c, &sm[i]))
			abort();
		timer[i] = UINT64_MAX;
	}
	struct sim s = {0};
	cn_prng_seed(&s.net.r, seed);
	struct net_msg_out out;
	net_msg_out_init(&out);
	uint8_t *m = message();
	uint32_t acked = 0, node = 0;
	for (uint32_t p = 1; p < N; p++) {
		struct net_msg_input in = {.kind = NET_MSG_IN_SEND, .peer = p, .data = m, .len = MSG, .deadline_ms = 60000};
		if (net_msg_step(sm[0], 0, &in, &out))
			abort();
	}
	for (;;) {
		for (size_t i = 0; i < out.n; i++) {
			struct net_msg_action *a = &out.a[i];
			if (a->kind == NET_MSG_A_SEND)
				sim_send(&s, node, a->peer, a->data, a->len);
			else if (a->kind == NET_MSG_A_SENT)
				acked++;
			else if (a->kind == NET_MSG_A_FAILED)
				abort();
		}
		timer[node] = out.next_timer_ms;
		net_msg_out_reset(&out);
		if (acked == PEERS)
			break;
		uint64_t tp = s.net.n ? s.net.h[0].t : UINT64_MAX, tt = UINT64_MAX;
		uint32_t tn = 0;
		for (uint32_t i = 0; i < N; i++)
			if (timer[i] != UINT64_MAX && timer[i] * 1000 < tt) {
				tt = timer[i] * 1000;
				tn = i;
			}
		uint64_t t = tp < tt ? tp : tt;
		if (t == UINT64_MAX)
			abort();
		if (t > s.now_us)
			s.now_us = t;
		if (tp <= tt) {
			struct mpkt p = mnet_pop(&s.net);
			struct net_msg_input d = {.kind = NET_MSG_IN_DATAGRAM, .peer = p.src, .data = p.d, .len = p.len};
			node = p.dst;
			if (net_msg_step(sm[node], s.now_us / 1000, &d, &out))
				abort();
			free(p.d);
		} else {
			struct net_msg_input d = {.kind = NET_MSG_IN_TIMER};
			node = tn;
			if (net_msg_step(sm[node], s.now_us / 1000, &d, &out))
				abort();
		}
	}
	double ratio = (double)net_msg_stats(sm[0])->bytes_out / MSG;
	for (uint32_t i = 0; i < N; i++)
		net_msg_free(sm[i]);
	mnet_free(&s.net);
	net_msg_out_free(&out);
	free(m);
	return ratio;
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	int runs = bench_runs();
	double ratio[1000], ms[1000], k8[1000], uni[1000], cpu[1000];
	for (int r = 0; r < runs; r++) {
		double c0 = bench_cpu_s();
		struct result a = run_mcast(7, 100 + (uint64_t)r);
		cpu[r] = (bench_cpu_s() - c0) * 1000;
		ratio[r] = a.ratio;
		ms[r] = a.ms;
		k8[r] = run_mcast(8, 200 + (uint64_t)r).ratio;
		uni[r] = run_unicast(300 + (uint64_t)r);
	}
	bench_report("net", "multicast_sender_bytes_ratio", bench_median(ratio, runs), "x");
	bench_report("net", "multicast_sender_bytes_ratio_k8", bench_median(k8, runs), "x");
	bench_report("net", "unicast24_sender_bytes_ratio", bench_median(uni, runs), "x");
	bench_report("net", "multicast_ms_1mb_24", bench_median(ms, runs), "ms");
	bench_report("net", "multicast_cpu_ms_1mb_24", bench_median(cpu, runs), "ms");
	return 0;
}
