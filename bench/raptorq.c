/* RaptorQ throughput in Mbit/s (10^6 bits) of source data, symbol size 1280.
 *
 * encode_kN: a fresh encoder emits all K source packets plus 15% repair
 * packets, including the symbolic solve; encode_kN_plan: the same with a plan
 * cache that already holds the plan for K'. decode_kN: a random 90% of the
 * source packets plus repair packets (K + 2 in all) into a fresh decoder.
 * Times are the calling thread's CPU time (median of runs): the machines these
 * run on are shared, and wall time there measures the neighbours. */
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "fec/raptorq.h"

#define T 1280

struct ctx {
	uint8_t *data;
	struct rq_oti oti;
	uint32_t k;
	struct rq_plan_cache *cache;
	uint8_t *pkts; /* decode input */
	uint32_t npkts;
	uint8_t *pkt;
};

static void do_encode(void *arg)
{
	struct ctx *c = arg;
	struct rq_encoder *e;
	if (rq_encoder_new(c->data, &c->oti, c->cache, &e))
		abort();
	uint32_t total = c->k + (c->k * 15 + 99) / 100;
	for (uint32_t esi = 0; esi < total; esi++)
		if (rq_encoder_packet(e, 0, esi, c->pkt))
			abort();
	rq_encoder_free(e);
}

static void do_decode(void *arg)
{
	struct ctx *c = arg;
	struct rq_decoder *d;
	if (rq_decoder_new(&c->oti, 1ull << 32, &d))
		abort();
	for (uint32_t i = 0; i < c->npkts && !rq_decoder_complete(d); i++)
		if (rq_decoder_push(d, c->pkts + (size_t)i * (T + 4), T + 4))
			abort();
	if (!rq_decoder_complete(d))
		abort();
	rq_decoder_free(d);
}

/* Median CPU seconds per call of fn over bench_runs() runs of iters calls. */
static double cpu_per_iter(void (*fn)(void *), void *arg, long iters)
{
	int runs = bench_runs();
	double t[1000];
	fn(arg);
	for (int r = 0; r < runs; r++) {
		double t0 = bench_cpu_s();
		for (long i = 0; i < iters; i++)
			fn(arg);
		t[r] = (bench_cpu_s() - t0) / (double)iters;
	}
	return bench_median(t, runs);
}

int main(void)
{
	const uint32_t ks[] = {10, 100, 1000, 10000};
	uint32_t seed = 1;
	for (size_t i = 0; i < sizeof ks / sizeof ks[0]; i++) {
		struct ctx c = {0};
		c.k = ks[i];
		uint64_t f = (uint64_t)c.k * T;
		c.data = malloc(f);
		for (uint64_t j = 0; j < f; j++) {
			seed = seed * 1664525u + 1013904223u;
			c.data[j] = (uint8_t)(seed >> 24);
		}
		c.oti = (struct rq_oti){.f = f, .t = T, .z = 1, .n = 1, .al = 8};
		c.pkt = malloc(T + 4);
		long iters = c.k <= 10 ? 2000 : c.k <= 100 ? 200 : c.k <= 1000 ? 20 : 2;
		double mbit = (double)f * 8 / 1e6;
		char name[64];

		double s = cpu_per_iter(do_encode, &c, iters);
		snprintf(name, sizeof name, "encode_k%u", c.k);
		bench_report("raptorq", name, mbit / s, "Mbit/s");

		if (rq_plan_cache_new(1, &c.cache))
			abort();
		s = cpu_per_iter(do_encode, &c, iters);
		snprintf(name, sizeof name, "encode_k%u_plan", c.k);
		bench_report("raptorq", name, mbit / s, "Mbit/s");
		rq_plan_cache_free(c.cache);
		c.cache = NULL;

		/* decode input: drop a random 10% of sources, make up with repair */
		struct rq_encoder *e;
		if (rq_encoder_new(c.data, &c.oti, NULL, &e))
			abort();
		uint32_t drop = c.k / 10 ? c.k / 10 : 1;
		c.pkts = malloc((size_t)(c.k + 2) * (T + 4));
		uint8_t *dropped = calloc(c.k, 1);
		for (uint32_t n = 0; n < drop;) {
			seed = seed * 1664525u + 1013904223u;
			uint32_t j = (seed >> 8) % c.k;
			if (!dropped[j]) {
				dropped[j] = 1;
				n++;
			}
		}
		c.npkts = 0;
		for (uint32_t j = 0; j < c.k; j++)
			if (!dropped[j] && rq_encoder_packet(e, 0, j, c.pkts + (size_t)c.npkts++ * (T + 4)))
				abort();
		for (uint32_t j = 0; j < drop + 2; j++)
			if (rq_encoder_packet(e, 0, c.k + j, c.pkts + (size_t)c.npkts++ * (T + 4)))
				abort();
		rq_encoder_free(e);
		free(dropped);
		s = cpu_per_iter(do_decode, &c, iters);
		snprintf(name, sizeof name, "decode_k%u", c.k);
		bench_report("raptorq", name, mbit / s, "Mbit/s");
		free(c.pkts);
		free(c.pkt);
		free(c.data);
	}
	return 0;
}
