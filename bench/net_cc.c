/* net_cc.c — congestion control benchmarks: the CPU cost of processing one
 * ACK (three ranges, four newly acknowledged packets, with the loss scan and
 * window update), and the fraction of a 10 Mbit/s, 40 ms bottleneck one CUBIC
 * flow achieves in the mini-simulation of tests/net/cc_sim.h with 0% and 5%
 * random loss. */
#include <stdlib.h>
#include <string.h>

#include "../tests/net/cc_sim.h"
#include "bench.h"
#include "net/cc.h"

#define BATCH 4096

static void die(const char *what)
{
	fprintf(stderr, "bench net_cc: %s\n", what);
	exit(1);
}

/* Sends BATCH packets, then acknowledges them four at a time with ACKs that
 * also repeat two older ranges (as a receiver does), timing only on_ack. */
static double ack_ns(void)
{
	static struct net_cc_ack acks[BATCH / 4];
	for (size_t i = 0; i < BATCH / 4; i++) {
		uint64_t hi = 4 * i + 3;
		struct net_cc_ack *a = &acks[i];
		a->ack_delay_us = 1000;
		a->n_ranges = 1;
		a->ranges[0] = (struct net_cc_range){4 * i, hi};
		if (i >= 2) {
			a->ranges[0].lo = 4 * i + 1;   /* leave a hole: an older one is missing */
			a->ranges[1] = (struct net_cc_range){4 * i - 4, 4 * i - 1};
			a->ranges[2] = (struct net_cc_range){4 * i - 8, 4 * i - 6};
			a->n_ranges = 3;
		}
	}
	int runs = bench_runs();
	double t[1000];
	for (int r = 0; r < runs; r++) {
		double total = 0;
		for (int rep = 0; rep < 20; rep++) {
			struct net_cc cc;
			struct net_cc_events ev;
			if (net_cc_init(&cc, NULL))
				die("init");
			for (uint64_t pn = 0; pn < BATCH; pn++)
				if (net_cc_on_sent(&cc, 10 * pn, pn, NET_CC_DEFAULT_MSS, 1))
					die("sent");
			double t0 = bench_cpu_s();
			for (size_t i = 0; i < BATCH / 4; i++)
				if (net_cc_on_ack(&cc, 50000 + 40 * i, &acks[i], &ev))
					die("ack");
			total += bench_cpu_s() - t0;
			net_cc_free(&cc);
		}
		t[r] = total / (20.0 * (BATCH / 4)) * 1e9;
	}
	return bench_median(t, runs);
}

static double utilization(uint32_t loss_ppm)
{
	struct ccs_params p;
	ccs_params_default(&p);
	p.loss_ppm = loss_ppm;
	p.duration_us = 60000000;
	p.measure_from_us = 10000000;
	int runs = bench_runs();
	double u[1000];
	for (int r = 0; r < runs; r++) {
		struct ccs s;
		struct ccs_result res;
		p.seed = 1 + (uint64_t)r;
		if (ccs_run(&s, &p, &res))
			die("sim");
		ccs_free(&s);
		u[r] = res.utilization;
	}
	return bench_median(u, runs);
}

int main(void)
{
	bench_report("net_cc", "on_ack_ns", ack_ns(), "ns");
	bench_report("net_cc", "sim_utilization_loss0", utilization(0), "fraction");
	bench_report("net_cc", "sim_utilization_loss5", utilization(50000), "fraction");
	return 0;
}
