/* Congestion control: RTT estimation (RFC 9002 §5 arithmetic), loss
 * detection by packet and time threshold, PTO backoff, slow start, CUBIC
 * growth against its formula, NewReno, recovery periods, persistent
 * congestion, pacing, the ACK codec and receiver range set, metrics, and a
 * bottleneck simulation (tests/net/cc_sim.h) for utilization, loss response
 * and fairness. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/metrics.h"
#include "base/prng.h"
#include "cc_sim.h"
#include "net/cc.h"
#include "testutil.h"

#define MSS NET_CC_DEFAULT_MSS
#define MS 1000u

static void cc_new(struct net_cc *cc, enum net_cc_algo algo)
{
	struct net_cc_config cfg;
	net_cc_config_default(&cfg);
	cfg.algo = algo;
	cr_assert_eq(net_cc_init(cc, &cfg), 0);
}

static void sent(struct net_cc *cc, uint64_t t, uint64_t pn)
{
	cr_assert_eq(net_cc_on_sent(cc, t, pn, MSS, 1), 0, "send %llu", (unsigned long long)pn);
}

/* ACK of the given ranges (pairs hi, lo, newest first). */
static int ack_ranges(struct net_cc *cc, uint64_t t, uint64_t delay, struct net_cc_events *ev,
		      size_t n, const uint64_t *hilo)
{
	struct net_cc_ack a;
	a.ack_delay_us = delay;
	a.n_ranges = n;
	for (size_t i = 0; i < n; i++) {
		a.ranges[i].hi = hilo[2 * i];
		a.ranges[i].lo = hilo[2 * i + 1];
	}
	return net_cc_on_ack(cc, t, &a, ev);
}

static void ack1(struct net_cc *cc, uint64_t t, uint64_t lo, uint64_t hi, uint64_t delay,
		 struct net_cc_events *ev)
{
	uint64_t r[2] = {hi, lo};
	cr_assert_eq(ack_ranges(cc, t, delay, ev, 1, r), 0);
}

/* ---- RTT ---------------------------------------------------------------- */

Test(net_cc, rtt_first_sample_ignores_ack_delay)
{
	struct net_cc cc;
	struct net_cc_events ev;
	cc_new(&cc, NET_CC_CUBIC);
	cr_assert_eq(cc.rtt.smoothed_us, 333000);  /* kInitialRtt before any sample */
	cr_assert_eq(cc.rtt.var_us, 166500);
	sent(&cc, 1000000, 0);
	ack1(&cc, 1100000, 0, 0, 10000, &ev);
	cr_assert(ev.rtt_sampled);
	cr_assert_eq(ev.n_acked, 1);
	cr_assert_eq(cc.rtt.latest_us, 100000);
	cr_assert_eq(cc.rtt.min_us, 100000);
	cr_assert_eq(cc.rtt.smoothed_us, 100000);
	cr_assert_eq(cc.rtt.var_us, 50000);
	net_cc_free(&cc);
}

Test(net_cc, rtt_updates_follow_rfc9002_arithmetic)
{
	struct net_cc cc;
	struct net_cc_events ev;
	cc_new(&cc, NET_CC_CUBIC);
	sent(&cc, 0, 0);
	ack1(&cc, 100000, 0, 0, 0, &ev);

	/* latest 150 ms, ack delay 20 ms: adjusted 130 ms.
	 * rttvar = 3/4·50 + 1/4·|100-130| = 45 ms; srtt = 7/8·100 + 1/8·130 = 103.75 ms. */
	sent(&cc, 200000, 1);
	ack1(&cc, 350000, 1, 1, 20000, &ev);
	cr_assert_eq(cc.rtt.latest_us, 150000);
	cr_assert_eq(cc.rtt.min_us, 100000);
	cr_assert_eq(cc.rtt.var_us, 45000);
	cr_assert_eq(cc.rtt.smoothed_us, 103750);

	/* An ack delay above max_ack_delay (25 ms) is capped: latest 200 ms,
	 * claimed 60 ms → adjusted 175 ms.
	 * rttvar = (3·45000 + 71250)/4 = 51562; srtt = (7·103750 + 175000)/8 = 112656. */
	sent(&cc, 400000, 2);
	ack1(&cc, 600000, 2, 2, 60000, &ev);
	cr_assert_eq(cc.rtt.var_us, (3 * 45000 + (175000 - 103750)) / 4);
	cr_assert_eq(cc.rtt.smoothed_us, (7 * 103750 + 175000) / 8);

	/* Subtracting the delay would go below min_rtt (110 < 100 + 20): not applied. */
	uint64_t v = cc.rtt.var_us, s = cc.rtt.smoothed_us;
	sent(&cc, 700000, 3);
	ack1(&cc, 810000, 3, 3, 20000, &ev);
	cr_assert_eq(cc.rtt.latest_us, 110000);
	cr_assert_eq(cc.rtt.var_us, (3 * v + (s - 110000)) / 4);
	cr_assert_eq(cc.rtt.smoothed_us, (7 * s + 110000) / 8);

	/* min_rtt follows the raw sample, before any ack-delay adjustment. */
	sent(&cc, 900000, 4);
	ack1(&cc, 980000, 4, 4, 20000, &ev);
	cr_assert_eq(cc.rtt.min_us, 80000);
	net_cc_free(&cc);
}

Test(net_cc, rtt_sample_only_when_largest_is_new_and_eliciting)
{
	struct net_cc cc;
	struct net_cc_events ev;
	cc_new(&cc, NET_CC_CUBIC);
	sent(&cc, 0, 0);
	sent(&cc, 0, 1);
	ack1(&cc, 50000, 1, 1, 0, &ev);
	cr_assert_eq(cc.rtt.smoothed_us, 50000);
	/* Largest (1) already acknowledged: no sample even though 0 is new. */
	uint64_t r[4] = {1, 0};
	cr_assert_eq(ack_ranges(&cc, 90000, 0, &ev, 1, r), 0);
	cr_assert_eq(ev.n_acked, 1);
	cr_assert_eq(ev.acked[0].pn, 0);
	cr_assert(!ev.rtt_sampled);
	cr_assert_eq(cc.rtt.latest_us, 50000);
	/* A non-ack-eliciting packet alone gives no sample. */
	cr_assert_eq(net_cc_on_sent(&cc, 100000, 2, 40, 0), 0);
	cr_assert_eq(cc.bytes_in_flight, 0);
	ack1(&cc, 400000, 2, 2, 0, &ev);
	cr_assert_eq(ev.n_acked, 1);
	cr_assert(!ev.rtt_sampled);
	cr_assert_eq(cc.rtt.latest_us, 50000);
	net_cc_free(&cc);
}

/* ---- loss detection ----------------------------------------------------- */

Test(net_cc, loss_by_packet_threshold)
{
	struct net_cc cc;
	struct net_cc_events ev;
	cc_new(&cc, NET_CC_NEWRENO);
	for (uint64_t pn = 0; pn < 6; pn++)
		sent(&cc, pn * 10, pn);
	ack1(&cc, 100000, 3, 3, 0, &ev);
	/* 3 - 0 >= 3: pn 0 lost; 1 and 2 wait for the time threshold. */
	cr_assert_eq(ev.n_lost, 1);
	cr_assert_eq(ev.lost[0].pn, 0);
	cr_assert(ev.congestion);
	uint64_t delay = 100000 - 30;           /* latest RTT of pn 3 */
	delay += delay / 8;
	cr_assert_eq(net_cc_timer(&cc), 10 + delay, "loss timer armed for pn 1");
	cr_assert_eq(cc.bytes_in_flight, 4 * MSS);
	ack1(&cc, 100001, 4, 4, 0, &ev);
	cr_assert_eq(ev.n_lost, 1);
	cr_assert_eq(ev.lost[0].pn, 1);
	cr_assert(!ev.congestion, "same recovery period");
	ack1(&cc, 100002, 5, 5, 0, &ev);
	cr_assert_eq(ev.n_lost, 1);
	cr_assert_eq(ev.lost[0].pn, 2);
	cr_assert_eq(cc.bytes_in_flight, 0);
	cr_assert_eq(cc.n_lost, 3);
	cr_assert_eq(net_cc_timer(&cc), NET_CC_NEVER);
	net_cc_free(&cc);
}

Test(net_cc, loss_by_time_threshold)
{
	struct net_cc cc;
	struct net_cc_events ev;
	cc_new(&cc, NET_CC_NEWRENO);
	sent(&cc, 0, 0);
	sent(&cc, 10000, 1);
	/* RTT 100 ms from pn 1; pn 0 is only one packet behind. */
	ack1(&cc, 110000, 1, 1, 0, &ev);
	cr_assert_eq(ev.n_lost, 0);
	uint64_t due = 0 + 100000 * 9 / 8;      /* 9/8 · max(srtt, latest_rtt) */
	cr_assert_eq(net_cc_timer(&cc), due);
	cr_assert_eq(net_cc_on_timeout(&cc, due - 1, &ev), 0);
	cr_assert_eq(ev.n_lost, 0, "early timeout does nothing");
	cr_assert_eq(net_cc_on_timeout(&cc, due, &ev), 0);
	cr_assert_eq(ev.n_lost, 1);
	cr_assert_eq(ev.lost[0].pn, 0);
	cr_assert_eq(ev.probes, 0);
	cr_assert(ev.congestion);
	cr_assert_eq(cc.cwnd, 5 * MSS, "NewReno halves");
	cr_assert_eq(net_cc_timer(&cc), NET_CC_NEVER);
	net_cc_free(&cc);
}

Test(net_cc, time_threshold_uses_larger_of_latest_and_smoothed)
{
	struct net_cc cc;
	struct net_cc_events ev;
	cc_new(&cc, NET_CC_CUBIC);
	sent(&cc, 0, 0);
	ack1(&cc, 200000, 0, 0, 0, &ev);        /* srtt 200 ms */
	sent(&cc, 300000, 1);
	sent(&cc, 300500, 2);
	ack1(&cc, 350500, 2, 2, 0, &ev);        /* latest 50 ms, srtt ≈ 181 ms */
	uint64_t d = cc.rtt.smoothed_us;
	cr_assert_gt(d, cc.rtt.latest_us);
	cr_assert_eq(net_cc_timer(&cc), 300000 + d + d / 8);
	net_cc_free(&cc);
}

/* ---- PTO ---------------------------------------------------------------- */

Test(net_cc, pto_backoff_and_probes)
{
	struct net_cc cc;
	struct net_cc_events ev;
	cc_new(&cc, NET_CC_CUBIC);
	cr_assert_eq(net_cc_timer(&cc), NET_CC_NEVER, "nothing in flight");
	/* Before a sample: srtt 333 ms, rttvar 166.5 ms, max_ack_delay 25 ms. */
	uint64_t pto = 333000 + 4 * 166500 + 25000;
	cr_assert_eq(net_cc_pto(&cc), pto);
	for (uint64_t pn = 0; pn < 10; pn++)
		sent(&cc, 1000, pn);
	cr_assert_eq(net_cc_next_send(&cc, 1000), NET_CC_NEVER, "window full");
	cr_assert_eq(net_cc_timer(&cc), 1000 + pto);
	cr_assert_eq(net_cc_on_timeout(&cc, 1000 + pto, &ev), 0);
	cr_assert_eq(ev.probes, 2);
	cr_assert_eq(ev.n_lost, 0, "a PTO declares nothing lost");
	cr_assert_eq(cc.pto_count, 1);
	cr_assert_eq(net_cc_timer(&cc), 1000 + 2 * pto, "backoff counts from the last send");
	/* Probes may leave past a full window. */
	cr_assert_eq(net_cc_next_send(&cc, 1000 + pto), 1000 + pto, "probes pending");
	sent(&cc, 1000 + pto, 10);
	cr_assert_eq(net_cc_next_send(&cc, 1000 + pto), 1000 + pto, "one probe left");
	sent(&cc, 1000 + pto, 11);
	cr_assert_eq(net_cc_next_send(&cc, 1000 + pto), NET_CC_NEVER, "window full, no probes left");
	uint64_t t1 = 1000 + pto;
	cr_assert_eq(net_cc_timer(&cc), t1 + 2 * pto);
	cr_assert_eq(net_cc_on_timeout(&cc, t1 + 2 * pto, &ev), 0);
	cr_assert_eq(cc.pto_count, 2);
	cr_assert_eq(net_cc_timer(&cc), t1 + 4 * pto);
	cr_assert_eq(net_cc_on_timeout(&cc, t1 + 4 * pto, &ev), 0);
	cr_assert_eq(net_cc_timer(&cc), t1 + 8 * pto);
	cr_assert_eq(cc.n_pto, 3);

	/* An ACK resets the backoff. */
	uint64_t now = t1 + 8 * pto;
	ack1(&cc, now, 11, 11, 0, &ev);
	cr_assert_eq(cc.pto_count, 0);
	cr_assert_eq(net_cc_pto(&cc), cc.rtt.smoothed_us + 4 * cc.rtt.var_us + 25000);
	net_cc_free(&cc);
}

Test(net_cc, pto_backoff_saturates)
{
	struct net_cc cc;
	struct net_cc_events ev;
	cc_new(&cc, NET_CC_CUBIC);
	sent(&cc, 0, 0);
	for (int i = 0; i < 80; i++) {
		uint64_t t = net_cc_timer(&cc);
		cr_assert_neq(t, NET_CC_NEVER);
		cr_assert_eq(net_cc_on_timeout(&cc, t, &ev), 0);
		cr_assert_eq(ev.probes, 2);
	}
	cr_assert_lt(net_cc_timer(&cc), NET_CC_NEVER);
	cr_assert_eq(net_cc_pto(&cc), (uint64_t)(333000 + 4 * 166500 + 25000) << 16);
	net_cc_free(&cc);
}

/* ---- slow start, CUBIC, NewReno ---------------------------------------- */

Test(net_cc, slow_start_doubles_per_rtt)
{
	for (int algo = 0; algo < 2; algo++) {
		struct net_cc cc;
		struct net_cc_events ev;
		cc_new(&cc, (enum net_cc_algo)algo);
		uint64_t pn = 0, t = 0;
		for (int round = 0; round < 6; round++) {
			cr_assert_eq(cc.cwnd, (uint64_t)(10u << round) * MSS, "round %d", round);
			uint64_t first = pn;
			while (cc.bytes_in_flight + MSS <= cc.cwnd)
				sent(&cc, t, pn++);
			cr_assert_eq(pn - first, 10u << round);
			t += 100 * MS;
			ack1(&cc, t, first, pn - 1, 0, &ev);
			cr_assert_eq(ev.n_acked, pn - first);
		}
		net_cc_free(&cc);
	}
}

/* A path with a fixed RTT and no bandwidth limit: every packet is
 * acknowledged (alone) one RTT after it left, except those chosen to drop.
 * The sender obeys net_cc_next_send(); time moves in 1 ms steps. */
struct pipe {
	struct net_cc cc;
	uint64_t rtt, now, next_pn;
	uint64_t due[1 << 14];          /* by pn & mask: when its ACK arrives */
	uint8_t drop[1 << 14];
	uint64_t oldest;                /* first pn whose ACK has not been processed */
	uint64_t congestion, persistent;
};
#define PIPE_MASK ((1u << 14) - 1)

static void pipe_init(struct pipe *p, enum net_cc_algo algo, uint64_t rtt)
{
	memset(p, 0, sizeof *p);
	cc_new(&p->cc, algo);
	p->rtt = rtt;
}

static void pipe_step(struct pipe *p)
{
	struct net_cc_events ev;
	while (p->oldest < p->next_pn && p->due[p->oldest & PIPE_MASK] <= p->now) {
		uint64_t pn = p->oldest++;
		if (p->drop[pn & PIPE_MASK]) {
			p->drop[pn & PIPE_MASK] = 0;
			continue;
		}
		ack1(&p->cc, p->now, pn, pn, 0, &ev);
		p->congestion += ev.congestion;
		p->persistent += ev.persistent;
	}
	if (p->now >= net_cc_timer(&p->cc)) {
		cr_assert_eq(net_cc_on_timeout(&p->cc, p->now, &ev), 0);
		p->congestion += ev.congestion;
	}
	while (net_cc_next_send(&p->cc, p->now) <= p->now) {
		cr_assert_lt(p->next_pn - p->oldest, PIPE_MASK);
		p->due[p->next_pn & PIPE_MASK] = p->now + p->rtt;
		sent(&p->cc, p->now, p->next_pn++);
	}
	p->now += MS;
}

static void pipe_until(struct pipe *p, uint64_t t)
{
	while (p->now < t)
		pipe_step(p);
}

Test(net_cc, cubic_growth_follows_the_cubic_function)
{
	static struct pipe p;
	pipe_init(&p, NET_CC_CUBIC, 100 * MS);
	while (p.cc.cwnd < 150 * MSS)
		pipe_step(&p);
	cr_assert_eq(p.congestion, 0);
	/* Drop the next packet: CUBIC's congestion event at W_max = cwnd. */
	p.drop[p.next_pn & PIPE_MASK] = 1;
	while (!p.congestion)
		pipe_step(&p);
	double wmax = p.cc.cubic.w_max;
	cr_assert_eq(p.cc.cwnd, (uint64_t)(wmax * 0.7), "β = 0.7");
	cr_assert_eq(p.congestion, 1);
	while (!p.cc.cubic.epoch_valid)
		pipe_step(&p);
	uint64_t t0 = p.cc.cubic.t_epoch_us;
	/* Recovery lasts about one RTT after the loss. */
	double k = cbrt(wmax / MSS * 0.3 / 0.4);
	cr_assert_float_eq(p.cc.cubic.k, k, 1e-3);
	double worst = 0;
	for (int step = 1; step <= 16; step++) {
		double t = step * 0.5;
		pipe_until(&p, t0 + (uint64_t)(t * 1e6));
		double w = 0.4 * pow(t - k, 3) * MSS + wmax;
		double dev = fabs((double)p.cc.cwnd - w) / w;
		if (dev > worst)
			worst = dev;
		cr_assert_lt(dev, 0.03, "t=%.1f s: cwnd %llu vs W(t) %.0f", t,
			     (unsigned long long)p.cc.cwnd, w);
	}
	cr_assert_eq(p.congestion, 1, "no other congestion event");
	printf("cubic: W_max %.0f packets, K %.2f s, worst deviation from W(t) %.2f%%\n",
	       wmax / MSS, k, worst * 100);
	net_cc_free(&p.cc);
}

Test(net_cc, cubic_fast_convergence_and_reno_friendly_region)
{
	static struct pipe p;
	pipe_init(&p, NET_CC_CUBIC, 100 * MS);
	while (p.cc.cwnd < 40 * MSS)
		pipe_step(&p);
	p.drop[p.next_pn & PIPE_MASK] = 1;
	while (p.congestion < 1)
		pipe_step(&p);
	double w1 = p.cc.cubic.w_max;
	pipe_until(&p, p.now + 300 * MS);
	/* A second loss before regaining W_max: fast convergence remembers
	 * less than the window at the loss, (1 + β)/2 of it. */
	p.drop[p.next_pn & PIPE_MASK] = 1;
	while (p.congestion < 2)
		pipe_step(&p);
	double prior = p.cc.cubic.cwnd_prior;
	cr_assert_lt(prior, w1);
	cr_assert_float_eq(p.cc.cubic.w_max, prior * 1.7 / 2, 1e-6);
	cr_assert_eq(p.cc.cwnd, (uint64_t)(prior * 0.7));
	/* Small window, 100 ms RTT: the Reno-friendly estimate (α = 3(1-β)/(1+β)
	 * per RTT, then 1) outgrows the cubic curve and the window follows it. */
	while (!p.cc.cubic.epoch_valid)
		pipe_step(&p);
	uint64_t t0 = p.cc.cubic.t_epoch_us;
	pipe_until(&p, t0 + 2000 * MS);
	double k = p.cc.cubic.k;
	double wc = 0.4 * pow(2.0 - k, 3) * MSS + p.cc.cubic.w_max;
	printf("reno-friendly: cwnd %.1f packets, W_est %.1f, W_cubic(2 s) %.1f\n",
	       (double)p.cc.cwnd / MSS, p.cc.cubic.w_est / MSS, wc / MSS);
	cr_assert_gt(p.cc.cubic.w_est, wc);
	cr_assert_lt(fabs((double)p.cc.cwnd - p.cc.cubic.w_est), MSS);
	cr_assert_eq(p.congestion, 2);
	net_cc_free(&p.cc);
}

Test(net_cc, newreno_halves_and_adds_one_mss_per_rtt)
{
	static struct pipe p;
	pipe_init(&p, NET_CC_NEWRENO, 100 * MS);
	while (p.cc.cwnd < 60 * MSS)
		pipe_step(&p);
	p.drop[p.next_pn & PIPE_MASK] = 1;
	while (!p.congestion)
		pipe_step(&p);
	uint64_t after = p.cc.cwnd;
	cr_assert_eq(p.cc.ssthresh, after);
	pipe_until(&p, p.now + 1000 * MS);
	uint64_t w0 = p.cc.cwnd;
	pipe_until(&p, p.now + 2000 * MS);
	double per_rtt = (double)(p.cc.cwnd - w0) / MSS / 20;
	cr_assert(per_rtt > 0.85 && per_rtt < 1.15, "%.2f MSS per RTT", per_rtt);
	net_cc_free(&p.cc);
}

Test(net_cc, one_reduction_per_recovery_period)
{
	for (int algo = 0; algo < 2; algo++) {
		static struct pipe p;
		pipe_init(&p, (enum net_cc_algo)algo, 100 * MS);
		while (p.cc.cwnd < 40 * MSS)
			pipe_step(&p);
		/* Three losses in one flight: one congestion event. */
		for (int i = 0; i < 3; i++)
			p.drop[(p.next_pn + 2 * (uint64_t)i) & PIPE_MASK] = 1;
		uint64_t before = p.cc.cwnd;
		pipe_until(&p, p.now + 250 * MS);
		cr_assert_eq(p.congestion, 1);
		cr_assert_eq(p.cc.n_lost, 3);
		uint64_t reduced = p.cc.ssthresh;
		(void)before;
		/* A loss of a packet sent after the recovery began is a new event. */
		p.drop[p.next_pn & PIPE_MASK] = 1;
		pipe_until(&p, p.now + 250 * MS);
		cr_assert_eq(p.congestion, 2);
		cr_assert_lt(p.cc.ssthresh, reduced);
		net_cc_free(&p.cc);
	}
}

/* ---- persistent congestion ---------------------------------------------- */

static void persistent_case(int ack_between, int expect)
{
	struct net_cc cc;
	struct net_cc_events ev;
	cc_new(&cc, NET_CC_CUBIC);
	sent(&cc, 0, 0);
	ack1(&cc, 100000, 0, 0, 0, &ev);        /* srtt 100 ms, rttvar 50 ms */
	for (uint64_t pn = 1; pn < 10; pn++)
		sent(&cc, 100000 * (pn + 1), pn);     /* pn 1 at 0.2 s … pn 9 at 1.0 s */
	sent(&cc, 1400000, 10);
	sent(&cc, 1400000, 11);
	sent(&cc, 1400000, 12);
	/* After this ACK's sample srtt is 100 ms and rttvar 37.5 ms, so the
	 * persistent congestion period is (100 + 4·37.5 + 25) · 3 = 825 ms;
	 * pn 1 … 9 were sent over 800 ms. */
	uint64_t r[4] = {12, 12, 5, 5};
	cr_assert_eq(ack_ranges(&cc, 1500000, 0, &ev, ack_between ? 2 : 1, r), 0);
	uint64_t pc = (cc.rtt.smoothed_us + 4 * cc.rtt.var_us + 25000) * 3;
	cr_assert_eq(pc, 825000);
	cr_assert_eq(ev.n_lost, ack_between ? 8 : 9);
	cr_assert(ev.congestion);
	cr_assert_eq(ev.persistent, 0, "800 ms < 825 ms");
	cr_assert_eq(cc.cwnd, (uint64_t)(10 * MSS * 0.7));
	net_cc_free(&cc);

	/* Same again with the losses spread over 900 ms. */
	cc_new(&cc, NET_CC_CUBIC);
	sent(&cc, 0, 0);
	ack1(&cc, 100000, 0, 0, 0, &ev);
	for (uint64_t pn = 1; pn < 10; pn++)
		sent(&cc, 100000 + 112500 * pn, pn);  /* 0.2125 s … 1.1125 s */
	sent(&cc, 1400000, 10);
	sent(&cc, 1400000, 11);
	sent(&cc, 1400000, 12);
	cr_assert_eq(ack_ranges(&cc, 1500000, 0, &ev, ack_between ? 2 : 1, r), 0);
	cr_assert(ev.congestion);
	cr_assert_eq(ev.persistent, expect);
	if (expect) {
		/* The minimum window, then slow start for the packet this very
		 * ACK acknowledged (RFC 9002 ends recovery on persistent congestion). */
		cr_assert_eq(cc.cwnd, 3 * MSS, "minimum window");
		cr_assert_eq(cc.n_persistent, 1);
		/* Back to slow start toward the reduced threshold. */
		cr_assert_lt(cc.cwnd, cc.ssthresh);
	} else {
		cr_assert_eq(cc.cwnd, (uint64_t)(10 * MSS * 0.7));
	}
	net_cc_free(&cc);
}

Test(net_cc, persistent_congestion_collapses_window)
{
	persistent_case(0, 1);
}

Test(net_cc, persistent_congestion_needs_no_ack_in_between)
{
	persistent_case(1, 0);
}

Test(net_cc, persistent_congestion_needs_rtt_sample)
{
	struct net_cc cc;
	struct net_cc_events ev;
	cc_new(&cc, NET_CC_CUBIC);
	for (uint64_t pn = 0; pn < 10; pn++)
		sent(&cc, 1000000 * pn, pn);          /* 9 s apart, no sample yet */
	ack1(&cc, 9100000, 9, 9, 0, &ev);
	cr_assert_eq(ev.n_lost, 9);
	cr_assert_eq(ev.persistent, 0, "all sent before the first RTT sample");
	net_cc_free(&cc);
}

/* ---- pacing ------------------------------------------------------------- */

Test(net_cc, pacing_spaces_packets_at_1_25_cwnd_per_srtt)
{
	struct net_cc cc;
	struct net_cc_events ev;
	struct net_cc_config cfg;
	net_cc_config_default(&cfg);
	cfg.pacing_burst = 2;
	cr_assert_eq(net_cc_init(&cc, &cfg), 0);
	sent(&cc, 0, 0);
	ack1(&cc, 100000, 0, 0, 0, &ev);
	cr_assert_eq(cc.cwnd, 10 * MSS, "a window far from full does not grow");
	/* 1.25 · 12330 B / 0.1 s = 154125 B/s: one 1233-byte packet per 8 ms. */
	cr_assert_float_eq(net_cc_pacing_rate(&cc), 154125.0, 1e-6);
	uint64_t t = 100000;
	cr_assert_eq(net_cc_next_send(&cc, t), t);
	sent(&cc, t, 1);
	cr_assert_eq(net_cc_next_send(&cc, t), t, "burst of two");
	sent(&cc, t, 2);
	for (uint64_t pn = 3; pn < 11; pn++) {
		uint64_t next = net_cc_next_send(&cc, t);
		cr_assert_eq(next, t + 8000, "pn %llu", (unsigned long long)pn);
		cr_assert_eq(net_cc_next_send(&cc, t + 3000), t + 8000);
		t = next;
		sent(&cc, t, pn);
	}
	cr_assert_eq(cc.bytes_in_flight, 10 * MSS);
	cr_assert_eq(net_cc_next_send(&cc, t + 50000), NET_CC_NEVER, "window full");
	/* After a quiet spell the allowance is back, but no more than the burst. */
	ack1(&cc, t + 100000, 1, 10, 0, &ev);
	t += 1000000;
	sent(&cc, t, 11);
	sent(&cc, t, 12);
	cr_assert_gt(net_cc_next_send(&cc, t), t);
	net_cc_free(&cc);
}

/* ---- validation --------------------------------------------------------- */

Test(net_cc, bad_acks_are_refused_without_effect)
{
	struct net_cc cc;
	struct net_cc_events ev;
	cc_new(&cc, NET_CC_CUBIC);
	uint64_t r1[2] = {0, 0};
	cr_assert_eq(ack_ranges(&cc, 10, 0, &ev, 1, r1), -CN_EINVAL, "nothing sent");
	for (uint64_t pn = 0; pn < 10; pn++)
		sent(&cc, pn, pn);
	uint64_t above[2] = {10, 9};
	uint64_t inverted[2] = {3, 5};
	uint64_t overlap[4] = {8, 4, 5, 1};
	uint64_t ascending[4] = {2, 1, 8, 6};
	cr_assert_eq(ack_ranges(&cc, 100, 0, &ev, 1, above), -CN_EINVAL);
	cr_assert_eq(ack_ranges(&cc, 100, 0, &ev, 1, inverted), -CN_EINVAL);
	cr_assert_eq(ack_ranges(&cc, 100, 0, &ev, 2, overlap), -CN_EINVAL);
	cr_assert_eq(ack_ranges(&cc, 100, 0, &ev, 2, ascending), -CN_EINVAL);
	cr_assert_eq(ack_ranges(&cc, 100, 0, &ev, 0, r1), -CN_EINVAL);
	cr_assert_eq(cc.bytes_in_flight, 10 * MSS);
	cr_assert_eq(cc.rtt.has_sample, 0);
	cr_assert_eq(cc.any_acked, 0);
	/* Packet numbers only grow. */
	cr_assert_eq(net_cc_on_sent(&cc, 20, 9, MSS, 1), -CN_EINVAL);
	cr_assert_eq(net_cc_on_sent(&cc, 20, NET_CC_VARINT_MAX + 1, MSS, 1), -CN_EINVAL);
	cr_assert_eq(net_cc_on_sent(&cc, 20, 12, 0, 1), -CN_EINVAL);
	/* An ACK of numbers never sent (gaps) or already settled is harmless. */
	sent(&cc, 30, 20);
	uint64_t gaps[4] = {20, 15, 9, 9};
	cr_assert_eq(ack_ranges(&cc, 1000, 0, &ev, 2, gaps), 0);
	cr_assert_eq(ev.n_acked, 2);
	cr_assert_eq(ack_ranges(&cc, 1001, 0, &ev, 2, gaps), 0);
	cr_assert_eq(ev.n_acked, 0);
	net_cc_free(&cc);
}

Test(net_cc, config_validation_and_tracking_limit)
{
	struct net_cc cc;
	struct net_cc_config cfg;
	net_cc_config_default(&cfg);
	cfg.max_tracked = 100;
	cr_assert_eq(net_cc_init(&cc, &cfg), -CN_EINVAL);
	net_cc_config_default(&cfg);
	cfg.min_window = 20;
	cr_assert_eq(net_cc_init(&cc, &cfg), -CN_EINVAL);
	net_cc_config_default(&cfg);
	cfg.algo = (enum net_cc_algo)7;
	cr_assert_eq(net_cc_init(&cc, &cfg), -CN_EINVAL);
	net_cc_config_default(&cfg);
	cfg.max_tracked = 128;
	cr_assert_eq(net_cc_init(&cc, &cfg), 0);
	for (uint64_t pn = 0; pn < 128; pn++)
		sent(&cc, pn, pn * 2);
	cr_assert_eq(net_cc_on_sent(&cc, 200, 1000, MSS, 1), -CN_ELIMIT);
	struct net_cc_events ev;
	ack1(&cc, 300, 0, 254, 0, &ev);
	cr_assert_eq(ev.n_acked, 128);
	cr_assert_eq(cc.n, 0);
	cr_assert_eq(net_cc_on_sent(&cc, 400, 1000, MSS, 1), 0);
	net_cc_free(&cc);
}

/* Random sends and ACKs (with reordering, duplicates, stale ranges, a clock
 * that sometimes steps back): the bookkeeping stays exact. */
Test(net_cc, random_acks_keep_books_straight)
{
	for (uint64_t seed = 1; seed <= 20; seed++) {
		struct cn_prng rng;
		cn_prng_seed(&rng, seed);
		struct net_cc cc;
		struct net_cc_events ev;
		cc_new(&cc, seed & 1 ? NET_CC_CUBIC : NET_CC_NEWRENO);
		static uint8_t settled[4096];
		static uint32_t size[4096];
		static uint8_t elic[4096];
		memset(settled, 0, sizeof settled);
		uint64_t pn = 0, t = 0;
		for (int step = 0; step < 600 && pn < 4000; step++) {
			t += cn_prng_uniform(&rng, 20000);
			if (cn_prng_uniform(&rng, 16) == 0)     /* a clock that steps back */
				t -= t < 30000 ? t : cn_prng_uniform(&rng, 30000);
			int burst = (int)cn_prng_uniform(&rng, 6);
			for (int k = 0; k < burst; k++) {
				pn += 1 + cn_prng_uniform(&rng, 2);
				size[pn] = 40 + (uint32_t)cn_prng_uniform(&rng, 1300);
				elic[pn] = cn_prng_uniform(&rng, 8) != 0;
				cr_assert_eq(net_cc_on_sent(&cc, t, pn, size[pn], elic[pn]), 0);
			}
			if (!cc.any_sent)
				continue;
			struct net_cc_ack a = {.ack_delay_us = cn_prng_uniform(&rng, 50000)};
			uint64_t hi = cc.largest_sent - cn_prng_uniform(&rng, 4) % (cc.largest_sent + 1);
			while (a.n_ranges < 5) {
				uint64_t len = cn_prng_uniform(&rng, 8);
				uint64_t lo = hi > len ? hi - len : 0;
				a.ranges[a.n_ranges++] = (struct net_cc_range){lo, hi};
				uint64_t gap = 2 + cn_prng_uniform(&rng, 6);
				if (lo < gap)
					break;
				hi = lo - gap;
			}
			if (cn_prng_uniform(&rng, 3) == 0) {
				t += cn_prng_uniform(&rng, 400000);
				cr_assert_eq(net_cc_on_timeout(&cc, t, &ev), 0);
			} else {
				cr_assert_eq(net_cc_on_ack(&cc, t, &a, &ev), 0);
			}
			for (size_t i = 0; i < ev.n_acked; i++) {
				uint64_t p = ev.acked[i].pn;
				cr_assert(!settled[p], "pn %llu settled twice", (unsigned long long)p);
				cr_assert(i == 0 || ev.acked[i - 1].pn < p);
				int in = 0;
				for (size_t j = 0; j < a.n_ranges; j++)
					in |= p >= a.ranges[j].lo && p <= a.ranges[j].hi;
				cr_assert(in);
				settled[p] = 1;
			}
			for (size_t i = 0; i < ev.n_lost; i++) {
				uint64_t p = ev.lost[i].pn;
				cr_assert(!settled[p]);
				cr_assert_leq(p, cc.largest_acked);
				settled[p] = 1;
			}
			uint64_t flight = 0, elicit = 0;
			for (uint64_t q = 0; q <= pn; q++)
				if (size[q] && !settled[q] && elic[q]) {
					flight += size[q];
					elicit++;
				}
			cr_assert_eq(cc.bytes_in_flight, flight);
			cr_assert_eq(cc.ack_eliciting_in_flight, elicit);
			cr_assert_geq(cc.cwnd, 2 * MSS);
		}
		memset(size, 0, sizeof size);
		net_cc_free(&cc);
	}
}

/* ---- ACK frames --------------------------------------------------------- */

Test(net_cc_ack, known_encoding)
{
	struct net_cc_ack a = {.ack_delay_us = 1000, .n_ranges = 3,
			       .ranges = {{95, 100}, {90, 90}, {40, 50}}};
	uint8_t buf[64];
	size_t len, nw;
	cr_assert_eq(net_cc_ack_encode(&a, buf, sizeof buf, &len, &nw), 0);
	static const uint8_t want[] = {0x40, 0x64, 0x43, 0xe8, 0x02, 0x05, 0x03, 0x00, 0x26, 0x0a};
	cr_assert_eq(len, sizeof want);
	cr_assert_eq(nw, 3);
	cr_assert_arr_eq(buf, want, sizeof want);
	struct net_cc_ack b;
	size_t used;
	uint8_t more[sizeof want + 3];
	memcpy(more, want, sizeof want);
	memset(more + sizeof want, 0xee, 3);
	cr_assert_eq(net_cc_ack_decode(&b, more, sizeof more, &used), 0);
	cr_assert_eq(used, sizeof want, "trailing bytes are the caller's");
	cr_assert_eq(b.n_ranges, 3);
	cr_assert_eq(b.ack_delay_us, 1000);
	for (size_t i = 0; i < 3; i++) {
		cr_assert_eq(b.ranges[i].lo, a.ranges[i].lo);
		cr_assert_eq(b.ranges[i].hi, a.ranges[i].hi);
	}
	/* Every proper prefix is truncated. */
	for (size_t n = 0; n < sizeof want; n++)
		cr_assert_eq(net_cc_ack_decode(&b, want, n, &used), -CN_ETRUNC, "prefix %zu", n);
}

Test(net_cc_ack, varint_widths_and_limits)
{
	struct net_cc_ack a = {.ack_delay_us = NET_CC_VARINT_MAX, .n_ranges = 2,
			       .ranges = {{(1ull << 30), NET_CC_VARINT_MAX}, {0, 16383}}};
	uint8_t buf[64];
	size_t len, nw, used;
	cr_assert_eq(net_cc_ack_encode(&a, buf, sizeof buf, &len, &nw), 0);
	cr_assert_eq(len, 8 + 8 + 1 + 8 + 4 + 2);
	struct net_cc_ack b;
	cr_assert_eq(net_cc_ack_decode(&b, buf, len, &used), 0);
	cr_assert_eq(b.ranges[0].hi, NET_CC_VARINT_MAX);
	cr_assert_eq(b.ranges[1].hi, 16383);
	cr_assert_eq(b.ranges[1].lo, 0);

	a.ranges[0].hi = NET_CC_VARINT_MAX + 1;
	cr_assert_eq(net_cc_ack_encode(&a, buf, sizeof buf, &len, &nw), -CN_EINVAL);
	struct net_cc_ack adj = {.n_ranges = 2, .ranges = {{10, 20}, {5, 9}}};
	cr_assert_eq(net_cc_ack_encode(&adj, buf, sizeof buf, &len, &nw), -CN_EINVAL,
		     "adjacent ranges are one range");
	cr_assert_eq(net_cc_ack_encode(&adj, buf, 0, &len, &nw), -CN_EINVAL);
	struct net_cc_ack one = {.n_ranges = 1, .ranges = {{10, 20}}};
	cr_assert_eq(net_cc_ack_encode(&one, buf, 3, &len, &nw), -CN_ERANGE);
}

Test(net_cc_ack, hostile_frames)
{
	struct net_cc_ack b;
	size_t used;
	static const uint8_t noncanon[] = {0x40, 0x05, 0x00, 0x00, 0x00};
	cr_assert_eq(net_cc_ack_decode(&b, noncanon, sizeof noncanon, &used), -CN_ENONCANON);
	static const uint8_t noncanon8[] = {0xc0, 0, 0, 0, 0x3f, 0xff, 0xff, 0xff, 0, 0, 0};
	cr_assert_eq(net_cc_ack_decode(&b, noncanon8, sizeof noncanon8, &used), -CN_ENONCANON);
	static const uint8_t first_too_long[] = {0x05, 0x00, 0x00, 0x06};
	cr_assert_eq(net_cc_ack_decode(&b, first_too_long, sizeof first_too_long, &used), -CN_EINVAL);
	static const uint8_t gap_below_zero[] = {0x05, 0x00, 0x01, 0x04, 0x00, 0x00};
	cr_assert_eq(net_cc_ack_decode(&b, gap_below_zero, sizeof gap_below_zero, &used), -CN_EINVAL);
	static const uint8_t len_below_zero[] = {0x0a, 0x00, 0x01, 0x00, 0x02, 0x07};
	cr_assert_eq(net_cc_ack_decode(&b, len_below_zero, sizeof len_below_zero, &used), -CN_EINVAL);
	static const uint8_t len_to_zero[] = {0x0a, 0x00, 0x01, 0x00, 0x02, 0x06};
	cr_assert_eq(net_cc_ack_decode(&b, len_to_zero, sizeof len_to_zero, &used), 0);
	cr_assert_eq(b.ranges[1].lo, 0);
	cr_assert_eq(b.ranges[1].hi, 6);
	static const uint8_t too_many[] = {0x05, 0x00, 0x40, 0x40};
	cr_assert_eq(net_cc_ack_decode(&b, too_many, sizeof too_many, &used), -CN_ELIMIT);
	cr_assert_eq(net_cc_ack_decode(&b, NULL, 0, &used), -CN_ETRUNC);
}

Test(net_cc_ack, encoder_keeps_newest_ranges_that_fit)
{
	struct net_cc_ack a = {.n_ranges = 40};
	uint64_t hi = 100000;
	for (size_t i = 0; i < 40; i++) {
		a.ranges[i] = (struct net_cc_range){hi - 5, hi};
		hi -= 1000;
	}
	uint8_t buf[600];
	size_t len, nw, used;
	cr_assert_eq(net_cc_ack_encode(&a, buf, sizeof buf, &len, &nw), 0);
	cr_assert_eq(nw, 40);
	size_t full = len;
	cr_assert_eq(net_cc_ack_encode(&a, buf, 40, &len, &nw), 0);
	cr_assert_lt(nw, 40);
	cr_assert_leq(len, 40);
	cr_assert_lt(len, full);
	struct net_cc_ack b;
	cr_assert_eq(net_cc_ack_decode(&b, buf, len, &used), 0);
	cr_assert_eq(b.n_ranges, nw);
	for (size_t i = 0; i < nw; i++)
		cr_assert_eq(b.ranges[i].lo, a.ranges[i].lo);
}

/* ---- receiver range set ------------------------------------------------- */

Test(net_cc_ackset, ranges_merge_and_age_out)
{
	struct net_cc_ackset s;
	net_cc_ackset_init(&s);
	struct net_cc_ack a;
	cr_assert_eq(net_cc_ackset_to_ack(&s, 0, &a), -CN_ESTATE);
	cr_assert_eq(net_cc_ackset_add(&s, 5), 1);
	cr_assert_eq(net_cc_ackset_add(&s, 5), 0);
	cr_assert_eq(net_cc_ackset_add(&s, 7), 1);
	cr_assert_eq(net_cc_ackset_add(&s, 3), 1);
	cr_assert_eq(s.n, 3);
	cr_assert_eq(net_cc_ackset_add(&s, 6), 1);   /* joins 5 and 7 */
	cr_assert_eq(s.n, 2);
	cr_assert_eq(s.r[0].lo, 5);
	cr_assert_eq(s.r[0].hi, 7);
	cr_assert_eq(net_cc_ackset_add(&s, 4), 1);   /* joins 3 and 5..7 */
	cr_assert_eq(s.n, 1);
	cr_assert_eq(s.r[0].lo, 3);
	cr_assert_eq(net_cc_ackset_add(&s, 8), 1);
	cr_assert_eq(net_cc_ackset_add(&s, 2), 1);
	cr_assert_eq(s.n, 1);
	cr_assert_eq(s.r[0].lo, 2);
	cr_assert_eq(s.r[0].hi, 8);
	cr_assert_eq(net_cc_ackset_add(&s, NET_CC_VARINT_MAX + 1), -CN_EINVAL);

	/* Fill to the limit with isolated numbers; the oldest fall off. */
	for (uint64_t pn = 10; pn < 10 + 2 * NET_CC_ACKSET_MAX; pn += 2)
		cr_assert_eq(net_cc_ackset_add(&s, pn), 1);
	cr_assert_eq(s.n, NET_CC_ACKSET_MAX);
	cr_assert_eq(s.r[NET_CC_ACKSET_MAX - 1].lo, 10, "2..8 forgotten");
	cr_assert_eq(net_cc_ackset_add(&s, 1), 0, "older than everything remembered");
	cr_assert_eq(net_cc_ackset_to_ack(&s, 77, &a), 0);
	cr_assert_eq(a.n_ranges, NET_CC_ACKSET_MAX);
	cr_assert_eq(a.ack_delay_us, 77);
	uint8_t buf[512];
	size_t len, nw;
	cr_assert_eq(net_cc_ack_encode(&a, buf, sizeof buf, &len, &nw), 0, "a set is a valid ACK");

	net_cc_ackset_forget_below(&s, 50);
	cr_assert_eq(s.r[s.n - 1].lo, 50);
	net_cc_ackset_forget_below(&s, 1000);
	cr_assert_eq(s.n, 0);
}

Test(net_cc_ackset, random_against_bitmap)
{
	struct cn_prng rng;
	cn_prng_seed(&rng, 9);
	for (int round = 0; round < 50; round++) {
		struct net_cc_ackset s;
		net_cc_ackset_init(&s);
		uint8_t seen[300] = {0};
		for (int i = 0; i < 200; i++) {
			uint64_t pn = cn_prng_uniform(&rng, 300);
			int r = net_cc_ackset_add(&s, pn);
			cr_assert(r == 0 || r == 1);
			seen[pn] |= (uint8_t)r;
			if (r) {
				int in = 0;
				for (size_t k = 0; k < s.n; k++)
					in |= pn >= s.r[k].lo && pn <= s.r[k].hi;
				cr_assert(in);
			}
			/* Ranges stay descending and separated by a missing number. */
			for (size_t k = 0; k < s.n; k++) {
				cr_assert_leq(s.r[k].lo, s.r[k].hi);
				if (k)
					cr_assert_lt(s.r[k].hi + 1, s.r[k - 1].lo);
			}
		}
		/* Everything in the set was added; the newest range holds the
		 * largest number added. */
		uint64_t top = 0;
		for (uint64_t pn = 0; pn < 300; pn++)
			if (seen[pn])
				top = pn;
		cr_assert_eq(s.r[0].hi, top);
		for (uint64_t pn = 0; pn < 300; pn++) {
			int in = 0;
			for (size_t k = 0; k < s.n; k++)
				in |= pn >= s.r[k].lo && pn <= s.r[k].hi;
			if (in)
				cr_assert(seen[pn]);
		}
	}
}

/* ---- metrics ------------------------------------------------------------ */

Test(net_cc, metrics_per_peer)
{
	struct cn_metrics *r;
	struct net_cc_metrics m;
	cr_assert_eq(cn_metrics_new(&r), 0);
	cr_assert_eq(net_cc_metrics_register(r, &m), 0);
	struct net_cc a, b;
	struct net_cc_events ev;
	cc_new(&a, NET_CC_CUBIC);
	cc_new(&b, NET_CC_NEWRENO);
	cr_assert_eq(net_cc_attach_metrics(&a, &m, "aaaa1111"), 0);
	cr_assert_eq(net_cc_attach_metrics(&b, &m, "bbbb2222"), 0);
	for (uint64_t pn = 0; pn < 5; pn++)
		sent(&a, 0, pn);
	ack1(&a, 80000, 4, 4, 0, &ev);           /* 0, 1 lost */
	sent(&b, 0, 0);
	cr_assert_eq(net_cc_on_timeout(&b, net_cc_timer(&b), &ev), 0);
	char *text;
	size_t len;
	cr_assert_eq(cn_metrics_format(r, &text, &len), 0);
	char want[128];
	snprintf(want, sizeof want, "canon_net_cc_cwnd_bytes{peer=\"aaaa1111\"} %llu\n",
		 (unsigned long long)a.cwnd);
	cr_assert(strstr(text, want), "%s", text);
	cr_assert(strstr(text, "canon_net_cc_srtt_seconds{peer=\"aaaa1111\"} 0.08\n"), "%s", text);
	cr_assert(strstr(text, "canon_net_cc_rttvar_seconds{peer=\"aaaa1111\"} 0.04\n"), "%s", text);
	snprintf(want, sizeof want, "canon_net_cc_bytes_in_flight{peer=\"aaaa1111\"} %d\n", 2 * MSS);
	cr_assert(strstr(text, want), "%s", text);
	cr_assert(strstr(text, "canon_net_cc_lost_packets_total{peer=\"aaaa1111\"} 2\n"), "%s", text);
	cr_assert(strstr(text, "canon_net_cc_pto_total{peer=\"bbbb2222\"} 1\n"), "%s", text);
	cr_assert(strstr(text, "canon_net_cc_pto_total{peer=\"aaaa1111\"} 0\n"), "%s", text);
	free(text);
	/* Registering the families twice in one registry is refused. */
	struct net_cc_metrics m2;
	cr_assert_eq(net_cc_metrics_register(r, &m2), -CN_EEXIST);
	net_cc_free(&a);
	net_cc_free(&b);
	cn_metrics_free(r);
}

/* ---- the bottleneck simulation ------------------------------------------ */

static void sim_for(struct ccs_result *res, enum net_cc_algo algo, int flows, uint32_t loss_ppm,
		    uint64_t seed, uint64_t seconds)
{
	struct ccs_params p;
	ccs_params_default(&p);
	p.cfg.algo = algo;
	p.n_flows = flows;
	p.loss_ppm = loss_ppm;
	p.seed = seed;
	p.start_us[1] = 2000000;                /* the second flow joins late */
	p.duration_us = seconds * 1000000;
	p.measure_from_us = 15000000;
	struct ccs s;
	cr_assert_eq(ccs_run(&s, &p, res), 0);
	cr_assert_eq(res->error, 0);
	ccs_free(&s);
	printf("sim %s flows %d loss %.1f%% seed %llu: utilization %.3f (%.3f/%.3f) queue fill %.2f"
	       " drops %llu+%llu reductions %llu\n",
	       algo == NET_CC_CUBIC ? "cubic" : "newreno", flows, loss_ppm / 1e4,
	       (unsigned long long)seed, res->utilization, res->share[0], res->share[1],
	       res->avg_queue_fill, (unsigned long long)res->drops_queue,
	       (unsigned long long)res->drops_random, (unsigned long long)res->congestion);
}

static void sim(struct ccs_result *res, enum net_cc_algo algo, int flows, uint32_t loss_ppm,
		uint64_t seed)
{
	sim_for(res, algo, flows, loss_ppm, seed, 40);
}

Test(net_cc_sim, one_flow_fills_the_link_with_a_bounded_queue)
{
	for (int algo = 0; algo < 2; algo++) {
		struct ccs_result r;
		sim(&r, (enum net_cc_algo)algo, 1, 0, 1);
		cr_assert_gt(r.utilization, 0.95, "utilization %.3f", r.utilization);
		cr_assert_leq(r.utilization, 1.0001);
		/* The queue overflows now and then (that is the signal), and the
		 * window stays near BDP + queue instead of growing on. */
		cr_assert_gt(r.drops_queue, 0);
		cr_assert_gt(r.congestion, 3);
		cr_assert_eq(r.bad_reductions, 0);
		cr_assert_lt(r.avg_queue_fill, 0.85);
		cr_assert_lt(r.avg_cwnd, 1.2 * (50000 + 50000));
	}
}

Test(net_cc_sim, random_loss_reduces_the_window)
{
	struct ccs_result clean, lossy;
	sim(&clean, NET_CC_CUBIC, 1, 0, 3);
	sim(&lossy, NET_CC_CUBIC, 1, 50000, 3);
	cr_assert_gt(lossy.drops_random, 0);
	cr_assert_gt(lossy.congestion, clean.congestion);
	cr_assert_eq(lossy.bad_reductions, 0);
	cr_assert_lt(lossy.avg_cwnd, clean.avg_cwnd / 2);
	cr_assert_lt(lossy.utilization, clean.utilization);
	/* Loss-based control at 5% random loss: in the range of the Mathis
	 * formula MSS/RTT · 1.22/√p ≈ 13% of this link, never starved. */
	cr_assert_gt(lossy.utilization, 0.05);
}

Test(net_cc_sim, two_flows_share_fairly)
{
	for (int algo = 0; algo < 2; algo++) {
		for (uint64_t seed = 1; seed <= 3; seed++) {
			struct ccs_result r;
			sim(&r, (enum net_cc_algo)algo, 2, seed == 1 ? 0 : 1000, seed);
			cr_assert_gt(r.utilization, 0.9);
			double lo = fmin(r.share[0], r.share[1]), hi = fmax(r.share[0], r.share[1]);
			cr_assert_gt(lo / hi, 0.7, "shares %.3f / %.3f", r.share[0], r.share[1]);
		}
	}
}

/* make test-long: fairness and utilization over many seeds and loss rates,
 * measured over 105 s (over 25 s single seeds have been seen at 0.60/0.40:
 * loss-based flows trade bandwidth back and forth on that scale). */
Test(net_cc_sim, many_seeds_long)
{
	if (!tu_long())
		return;
	size_t runs = 0;
	for (int algo = 0; algo < 2; algo++) {
		for (uint64_t seed = 10; seed < 30; seed++) {
			struct ccs_result r;
			sim_for(&r, (enum net_cc_algo)algo, 2, (uint32_t)(seed % 4) * 500, seed, 120);
			cr_assert_gt(r.utilization, 0.9);
			cr_assert_eq(r.bad_reductions, 0);
			double lo = fmin(r.share[0], r.share[1]), hi = fmax(r.share[0], r.share[1]);
			cr_assert_gt(lo / hi, 0.7, "seed %llu shares %.3f / %.3f", (unsigned long long)seed,
				     r.share[0], r.share[1]);
			runs++;
		}
	}
	tu_report("net_cc simulated two-flow runs", runs);
}
