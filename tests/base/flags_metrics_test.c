/* Command-line flags and the metrics registry (exact exposition text). */
#include <criterion/criterion.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/flags.h"
#include "base/metrics.h"

struct opts {
	const char *network;
	int64_t shard;
	uint64_t port;
	int archive, http;
	uint64_t timeout;
};

static void table(struct cn_flag *f, struct opts *o)
{
	struct cn_flag t[] = {
		{"network", CN_FLAG_STRING, &o->network, "NAME", "network: mainnet, testnet, localnet, partner", 0},
		{"run.shard", CN_FLAG_INT, &o->shard, NULL, "shard to run", 0},
		{"p2p.port", CN_FLAG_UINT, &o->port, "PORT", "p2p port", 0},
		{"run.archive", CN_FLAG_BOOL, &o->archive, NULL, "keep all state", 0},
		{"http", CN_FLAG_BOOL, &o->http, NULL, "serve HTTP RPC", 0},
		{"http.timeout", CN_FLAG_DURATION, &o->timeout, NULL, "read timeout", 0},
		{NULL, 0, NULL, NULL, NULL, 0},
	};
	memcpy(f, t, sizeof t);
}

Test(flags, forms_and_positionals)
{
	struct opts o = {.network = "mainnet", .http = 1};
	struct cn_flag f[7];
	table(f, &o);
	char *argv[] = {"dump", "--network", "testnet", "--run.shard=-2", "--p2p.port", "9001",
			"--run.archive", "--http=false", "--http.timeout=1m30s", "file.toml", "--",
			"--not-a-flag"};
	struct cn_flags_result res;
	char err[128];
	cr_assert_eq(cn_flags_parse(f, 12, argv, &res, err, sizeof err), 0, "%s", err);
	cr_assert_str_eq(o.network, "testnet");
	cr_assert_eq(o.shard, -2);
	cr_assert_eq(o.port, 9001);
	cr_assert_eq(o.archive, 1);
	cr_assert_eq(o.http, 0);
	cr_assert_eq(o.timeout, 90000);
	cr_assert_eq(res.n_positional, 3);
	cr_assert_str_eq(res.positional[0], "dump");
	cr_assert_str_eq(res.positional[1], "file.toml");
	cr_assert_str_eq(res.positional[2], "--not-a-flag");
	cr_assert(!res.help);
	cr_assert(f[0].set && f[2].set && !f[5].set == 0);
	cn_flags_result_free(&res);
	/* Leading zeros stay decimal; 0x is hex. */
	char *argv2[] = {"--p2p.port=010", "--run.shard", "0x10"};
	cr_assert_eq(cn_flags_parse(f, 3, argv2, &res, err, sizeof err), 0, "%s", err);
	cr_assert_eq(o.port, 10);
	cr_assert_eq(o.shard, 16);
	cn_flags_result_free(&res);
}

static void expect_error(char **argv, int argc, const char *want)
{
	struct opts o = {0};
	struct cn_flag f[7];
	table(f, &o);
	struct cn_flags_result res;
	char err[128];
	cr_assert_eq(cn_flags_parse(f, argc, argv, &res, err, sizeof err), -CN_EINVAL);
	cr_assert_str_eq(err, want);
	cr_assert_null(res.positional);
}

Test(flags, errors_name_the_flag)
{
	expect_error((char *[]){"--nope"}, 1, "unknown flag --nope");
	expect_error((char *[]){"--nope=3"}, 1, "unknown flag --nope");
	expect_error((char *[]){"-x"}, 1, "unknown flag -x (flags are long: --name)");
	expect_error((char *[]){"--network"}, 1, "flag --network needs a value");
	expect_error((char *[]){"--p2p.port", "-1"}, 2, "flag --p2p.port: '-1' is not an unsigned integer");
	expect_error((char *[]){"--p2p.port=99999999999999999999"}, 1,
		     "flag --p2p.port: '99999999999999999999' is not an unsigned integer in range");
	expect_error((char *[]){"--run.shard", "x"}, 2, "flag --run.shard: 'x' is not an integer");
	expect_error((char *[]){"--http=maybe"}, 1, "flag --http: 'maybe' is not true or false");
	expect_error((char *[]){"--http.timeout", "10q"}, 2,
		     "flag --http.timeout: '10q' is not a duration like 30s, 5m or 1h30m");
}

Test(flags, help_text_from_table)
{
	struct opts o = {0};
	struct cn_flag f[7];
	table(f, &o);
	struct cn_flags_result res;
	cr_assert_eq(cn_flags_parse(f, 1, (char *[]){"-h"}, &res, NULL, 0), 0);
	cr_assert(res.help);
	cn_flags_result_free(&res);
	char *buf = NULL;
	size_t n = 0;
	FILE *out = open_memstream(&buf, &n);
	cn_flags_help(out, "canon config dump [options]", f);
	fclose(out);
	cr_assert_str_eq(buf,
			 "usage: canon config dump [options]\n\noptions:\n"
			 "  --network NAME           network: mainnet, testnet, localnet, partner\n"
			 "  --run.shard INT          shard to run\n"
			 "  --p2p.port PORT          p2p port\n"
			 "  --run.archive            keep all state\n"
			 "  --http                   serve HTTP RPC\n"
			 "  --http.timeout DURATION  read timeout\n"
			 "  --help                   show this help\n");
	free(buf);
}

Test(flags, durations)
{
	struct { const char *s; uint64_t ms; const char *fmt; } ok[] = {
		{"0", 0, "0s"}, {"30s", 30000, "30s"}, {"1m", 60000, "1m0s"}, {"2h45m", 9900000, "2h45m0s"},
		{"500ms", 500, "500ms"}, {"1.5s", 1500, "1.5s"}, {"1h0m0s", 3600000, "1h0m0s"},
		{"2m0.25s", 120250, "2m0.25s"},
	};
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		uint64_t ms;
		char buf[32];
		cr_assert_eq(cn_flags_parse_duration_ms(ok[i].s, &ms), 0, "%s", ok[i].s);
		cr_assert_eq(ms, ok[i].ms, "%s", ok[i].s);
		cn_flags_format_duration_ms(ms, buf, sizeof buf);
		cr_assert_str_eq(buf, ok[i].fmt);
		cr_assert_eq(cn_flags_parse_duration_ms(buf, &ms), 0);
		cr_assert_eq(ms, ok[i].ms);
	}
	uint64_t ms;
	const char *bad[] = {"", "s", "10", "1x", "-1s", "1.s", " 1s", "1s "};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		cr_assert_eq(cn_flags_parse_duration_ms(bad[i], &ms), -CN_EINVAL, "'%s'", bad[i]);
	cr_assert_eq(cn_flags_parse_duration_ms("99999999999999999999h", &ms), -CN_ERANGE);
	cr_assert_eq(cn_flags_parse_duration_ms("9999999999999999h", &ms), -CN_ERANGE);
}

Test(metrics, exposition_text_exact)
{
	struct cn_metrics *r;
	cr_assert_eq(cn_metrics_new(&r), 0);
	struct cn_metric *blocks, *peers, *lat, *plain;
	const char *lbl[] = {"shard", "kind"};
	cr_assert_eq(cn_metrics_counter(r, "canon_blocks_total", "Blocks inserted.\nPer shard \\ kind.",
					lbl, 2, &blocks), 0);
	cr_assert_eq(cn_metrics_gauge(r, "canon_peers", "Connected peers.", NULL, 0, &peers), 0);
	const double buckets[] = {0.005, 0.1, 1, 2.5};
	const char *hl[] = {"method"};
	cr_assert_eq(cn_metrics_histogram(r, "canon_rpc_seconds", "RPC latency.", hl, 1, buckets, 4, &lat), 0);
	cr_assert_eq(cn_metrics_counter(r, "canon_unused_total", "Never touched.", NULL, 0, &plain), 0);

	struct cn_metric_child *c0, *c1, *c0again, *g, *h;
	cr_assert_eq(cn_metric_with(blocks, (const char *[]){"0", "beacon"}, &c0), 0);
	cr_assert_eq(cn_metric_with(blocks, (const char *[]){"1", "we\"ird\\la\nbel"}, &c1), 0);
	cr_assert_eq(cn_metric_with(blocks, (const char *[]){"0", "beacon"}, &c0again), 0);
	cr_assert_eq(c0, c0again);
	cn_counter_inc(c0);
	cr_assert_eq(cn_counter_add(c0, 2.5), 0);
	cr_assert_eq(cn_counter_add(c0, -1), -CN_EINVAL);
	cr_assert_eq(cn_counter_add(c0, NAN), -CN_EINVAL);
	cr_assert_eq(cn_counter_add(c1, 1234567), 0);
	cr_assert_float_eq(cn_metric_value(c0), 3.5, 0);
	cr_assert_eq(cn_metric_with(peers, NULL, &g), 0);
	cn_gauge_set(g, 10);
	cn_gauge_add(g, -12);
	cr_assert_eq(cn_metric_with(lat, (const char *[]){"eth_call"}, &h), 0);
	cn_histogram_observe(h, 0.001);
	cn_histogram_observe(h, 0.1);   /* le is inclusive */
	cn_histogram_observe(h, 0.5);
	cn_histogram_observe(h, 100);

	char *text;
	size_t len;
	cr_assert_eq(cn_metrics_format(r, &text, &len), 0);
	cr_assert_eq(len, strlen(text));
	cr_assert_str_eq(text,
		"# HELP canon_blocks_total Blocks inserted.\\nPer shard \\\\ kind.\n"
		"# TYPE canon_blocks_total counter\n"
		"canon_blocks_total{shard=\"0\",kind=\"beacon\"} 3.5\n"
		"canon_blocks_total{shard=\"1\",kind=\"we\\\"ird\\\\la\\nbel\"} 1.234567e+06\n"
		"# HELP canon_peers Connected peers.\n"
		"# TYPE canon_peers gauge\n"
		"canon_peers -2\n"
		"# HELP canon_rpc_seconds RPC latency.\n"
		"# TYPE canon_rpc_seconds histogram\n"
		"canon_rpc_seconds_bucket{method=\"eth_call\",le=\"0.005\"} 1\n"
		"canon_rpc_seconds_bucket{method=\"eth_call\",le=\"0.1\"} 2\n"
		"canon_rpc_seconds_bucket{method=\"eth_call\",le=\"1\"} 3\n"
		"canon_rpc_seconds_bucket{method=\"eth_call\",le=\"2.5\"} 3\n"
		"canon_rpc_seconds_bucket{method=\"eth_call\",le=\"+Inf\"} 4\n"
		"canon_rpc_seconds_sum{method=\"eth_call\"} 100.601\n"
		"canon_rpc_seconds_count{method=\"eth_call\"} 4\n"
		"# HELP canon_unused_total Never touched.\n"
		"# TYPE canon_unused_total counter\n");
	free(text);
	cn_metrics_free(r);
}

Test(metrics, registration_errors)
{
	struct cn_metrics *r;
	struct cn_metric *m;
	cr_assert_eq(cn_metrics_new(&r), 0);
	cr_assert_eq(cn_metrics_counter(r, "ok_name:x", "", NULL, 0, &m), 0);
	cr_assert_eq(cn_metrics_gauge(r, "ok_name:x", "", NULL, 0, &m), -CN_EEXIST);
	cr_assert_eq(cn_metrics_counter(r, "1bad", "", NULL, 0, &m), -CN_EINVAL);
	cr_assert_eq(cn_metrics_counter(r, "bad-name", "", NULL, 0, &m), -CN_EINVAL);
	cr_assert_eq(cn_metrics_counter(r, "", "", NULL, 0, &m), -CN_EINVAL);
	cr_assert_eq(cn_metrics_counter(r, "l1", "", (const char *[]){"a:b"}, 1, &m), -CN_EINVAL);
	cr_assert_eq(cn_metrics_counter(r, "l2", "", (const char *[]){"__x"}, 1, &m), -CN_EINVAL);
	cr_assert_eq(cn_metrics_counter(r, "l3", "", (const char *[]){"a", "a"}, 2, &m), -CN_EINVAL);
	cr_assert_eq(cn_metrics_histogram(r, "h1", "", (const char *[]){"le"}, 1, (double[]){1}, 1, &m), -CN_EINVAL);
	cr_assert_eq(cn_metrics_histogram(r, "h2", "", NULL, 0, (double[]){2, 1}, 2, &m), -CN_EINVAL);
	cr_assert_eq(cn_metrics_histogram(r, "h3", "", NULL, 0, (double[]){1, INFINITY}, 2, &m), -CN_EINVAL);
	cr_assert_eq(cn_metrics_counter(r, "l4", "", (const char *[]){"a"}, 1, &m), 0);
	struct cn_metric_child *c;
	cr_assert_eq(cn_metric_with(m, NULL, &c), -CN_EINVAL);
	cr_assert_eq(cn_metric_with(m, (const char *[]){NULL}, &c), -CN_EINVAL);
	cn_metrics_free(r);
}

Test(metrics, value_formatting_like_go)
{
	struct { double v; const char *s; } t[] = {
		{0, "0"}, {1, "1"}, {-1, "-1"}, {0.25, "0.25"}, {100000, "100000"}, {1e6, "1e+06"},
		{123456.5, "123456.5"}, {0.0001, "0.0001"}, {0.00001, "1e-05"}, {1.0 / 3, "0.3333333333333333"},
		{INFINITY, "+Inf"}, {-INFINITY, "-Inf"}, {NAN, "NaN"}, {2.5e-7, "2.5e-07"}, {1e21, "1e+21"},
	};
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		char buf[40];
		cn_metrics_format_value(t[i].v, buf, sizeof buf);
		cr_assert_str_eq(buf, t[i].s, "value %zu", i);
	}
}

static struct cn_metric_child *shared;

static void *bump(void *arg)
{
	for (int i = 0; i < 10000; i++) {
		if (arg)
			cn_histogram_observe(shared, 1);
		else
			cn_counter_inc(shared);
	}
	return NULL;
}

Test(metrics, concurrent_updates_are_not_lost)
{
	struct cn_metrics *r;
	struct cn_metric *m, *h;
	cr_assert_eq(cn_metrics_new(&r), 0);
	cr_assert_eq(cn_metrics_counter(r, "c", "", NULL, 0, &m), 0);
	cr_assert_eq(cn_metric_with(m, NULL, &shared), 0);
	pthread_t t[4];
	for (int i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, bump, NULL);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	cr_assert_float_eq(cn_metric_value(shared), 40000, 0);
	cr_assert_eq(cn_metrics_histogram(r, "h", "", NULL, 0, (double[]){0.5, 2}, 2, &h), 0);
	cr_assert_eq(cn_metric_with(h, NULL, &shared), 0);
	for (int i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, bump, (void *)1);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	char *text;
	cr_assert_eq(cn_metrics_format(r, &text, NULL), 0);
	cr_assert(strstr(text, "h_bucket{le=\"0.5\"} 0\nh_bucket{le=\"2\"} 40000\nh_bucket{le=\"+Inf\"} 40000\n"
			       "h_sum 40000\nh_count 40000\n"), "%s", text);
	free(text);
	cn_metrics_free(r);
}
