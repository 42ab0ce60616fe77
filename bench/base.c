/* bench/base.c — the base layer's hot paths.
 *
 *   bench base/u256_mul_ns       one 256x256 multiply (mod 2^256, with overflow flag)
 *   bench base/u256_divmod_ns    one full 256/256 division (random 256-bit / 128-bit)
 *   bench base/u256_format_ns    one decimal formatting of a random 256-bit value
 *   bench base/prng_ns           one xoshiro256** output
 *   bench base/toml_parse_mb_s   parsing a harmony.conf dump (whole document)
 *   bench base/metrics_inc_ns    one counter increment on a labelled child */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/config.h"
#include "base/metrics.h"
#include "base/prng.h"
#include "base/toml.h"
#include "base/u256.h"
#include "bench.h"

#define N 256

static struct u256 xs[N], ys[N], sink;
static struct cn_prng rng;
static char *conf;
static size_t conf_len;
static struct cn_metric_child *child;

static void do_mul(void *arg)
{
	for (int i = 0; i < N; i++)
		u256_mul(&sink, &xs[i], &ys[i]);
}

static void do_div(void *arg)
{
	struct u256 q, r;
	for (int i = 0; i < N; i++) {
		u256_divmod(&q, &r, &xs[i], &ys[i]);
		sink.w[0] ^= q.w[0] ^ r.w[0];
	}
}

static void do_fmt(void *arg)
{
	char buf[U256_DEC_MAX];
	for (int i = 0; i < N; i++)
		sink.w[1] += u256_format_dec(&xs[i], buf);
}

static void do_prng(void *arg)
{
	for (int i = 0; i < N; i++)
		sink.w[2] ^= cn_prng_next_u64(&rng);
}

static void do_toml(void *arg)
{
	struct cn_toml_doc *doc;
	if (cn_toml_parse(conf, conf_len, &doc, NULL, 0)) {
		fprintf(stderr, "bench base: dump does not parse\n");
		exit(1);
	}
	cn_toml_free(doc);
}

static void do_inc(void *arg)
{
	for (int i = 0; i < N; i++)
		cn_counter_inc(child);
}

int main(void)
{
	cn_prng_seed(&rng, 1);
	for (int i = 0; i < N; i++) {
		cn_prng_fill(&rng, xs[i].w, sizeof xs[i].w);
		cn_prng_fill(&rng, ys[i].w, sizeof ys[i].w);
		ys[i].w[2] = ys[i].w[3] = 0;
		ys[i].w[0] |= 1;
	}
	bench_report("base", "u256_mul_ns", bench_time_per_iter(do_mul, NULL, 20000) / N * 1e9, "ns");
	bench_report("base", "u256_divmod_ns", bench_time_per_iter(do_div, NULL, 2000) / N * 1e9, "ns");
	bench_report("base", "u256_format_ns", bench_time_per_iter(do_fmt, NULL, 500) / N * 1e9, "ns");
	bench_report("base", "prng_ns", bench_time_per_iter(do_prng, NULL, 50000) / N * 1e9, "ns");

	static struct cn_config cfg;
	cn_config_defaults(&cfg, CN_NET_MAINNET);
	FILE *f = open_memstream(&conf, &conf_len);
	cn_config_dump(&cfg, f);
	fclose(f);
	double t = bench_time_per_iter(do_toml, NULL, 2000);
	bench_report("base", "toml_parse_mb_s", (double)conf_len / t / 1e6, "MB/s");

	struct cn_metrics *reg;
	struct cn_metric *m;
	if (cn_metrics_new(&reg) || cn_metrics_counter(reg, "x_total", "x", (const char *[]){"a"}, 1, &m) ||
	    cn_metric_with(m, (const char *[]){"b"}, &child))
		return 1;
	bench_report("base", "metrics_inc_ns", bench_time_per_iter(do_inc, NULL, 20000) / N * 1e9, "ns");
	cn_metrics_free(reg);
	free(conf);
	return 0;
}
