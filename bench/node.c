/* bench/node.c — a whole localnet on this machine: finality latency and
 * sustained transfers per second.
 *
 * It runs the real thing: `canon localnet up` in a temporary directory
 * (ports moved by 2000, so a `make run` localnet is left alone), once with
 * 2 s blocks and once with 1 s blocks, then `canon bench tx` against one
 * shard.
 *
 * Finality latency is what every validator process measures itself and
 * exports as the histogram canon_consensus_finality_seconds on /metrics:
 * from the moment that process first saw the block's proposal (the leader:
 * when it proposed) to the moment it inserted the block as final. On
 * loopback the announce reaches the others within a millisecond or so, so
 * this is "proposal to final on each validator" up to that delivery time.
 * The block header's timestamp cannot serve: it has whole seconds. The
 * figures are quantiles of the histogram's increase over a window, summed
 * over every validator process of every shard, interpolated linearly inside
 * a bucket (as Prometheus' histogram_quantile does); the buckets are 50,
 * 100, 150, 250, 500 ms, 1 s..., so a figure is only as fine as its bucket.
 *
 * Throughput is `canon bench tx`'s: transfers finalized per second from the
 * first submission to the last finalization, through the shard's RPC node,
 * offered for 15 s at 1,000 tx/s (the first gate) and at 1,200 tx/s; the
 * better of the two is reported (an offer above what the pool and the
 * blocks absorb ends in refusals and a lower figure, not a higher one).
 * The load comes from 256 fresh accounts that `bench tx --accounts` funds
 * first: from the genesis accounts alone, the pool's per-account limits
 * (16 pending under pressure, 64 queued) refuse transfers as soon as a
 * block's worth waits in the pool, which measures the pool's fairness, not
 * the chain.
 * tx_per_s_shard counts from the first submission (so it includes the
 * second or so before the first block); tx_per_s_shard_steady counts what
 * the blocks after the first carried, from the first to the last block.
 *
 * Each phase runs once (a localnet is too slow to start for BENCH_RUNS
 * repetitions); the whole bench takes about three minutes. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

#define OFFSET 2000
#define MAX_BUCKETS 32

static char dir[256];
static const char *canon;

static void cleanup(void)
{
	if (!dir[0])
		return;
	char cmd[1024];
	snprintf(cmd, sizeof cmd, "%s localnet down --dir %s --timeout 10s >/dev/null 2>&1; rm -rf %s",
	         canon, dir, dir);
	if (system(cmd) != 0)
		fprintf(stderr, "bench node: cleanup of %s failed\n", dir);
	dir[0] = 0;
}

static void on_signal(int sig)
{
	(void)sig;
	exit(1);   /* runs cleanup */
}

struct hist {
	double le[MAX_BUCKETS];
	double count[MAX_BUCKETS];   /* cumulative, as exported */
	int n;
};

/* Adds one process's canon_consensus_finality_seconds buckets into h. */
static int scrape(uint16_t port, struct hist *h)
{
	char cmd[256], line[512];
	snprintf(cmd, sizeof cmd, "curl -s --max-time 3 http://127.0.0.1:%u/metrics", (unsigned)port);
	FILE *p = popen(cmd, "r");
	if (!p)
		return -1;
	int found = 0;
	while (fgets(line, sizeof line, p)) {
		const char *pre = "canon_consensus_finality_seconds_bucket{le=\"";
		if (strncmp(line, pre, strlen(pre)))
			continue;
		char *q = line + strlen(pre), *end;
		double le = strncmp(q, "+Inf", 4) ? strtod(q, &end) : 1e300;
		char *brace = strchr(q, '}');
		if (!brace)
			continue;
		double c = strtod(brace + 1, NULL);
		int i;
		for (i = 0; i < h->n; i++)
			if (h->le[i] == le)
				break;
		if (i == h->n) {
			if (h->n == MAX_BUCKETS)
				continue;
			h->le[h->n++] = le;
			h->count[i] = 0;
		}
		h->count[i] += c;
		found = 1;
	}
	pclose(p);
	return found ? 0 : -1;
}

static int scrape_all(struct hist *h, int *processes)
{
	memset(h, 0, sizeof *h);
	*processes = 0;
	for (unsigned s = 0; s < 8; s++)
		for (unsigned i = 0; i < 4; i++)
			if (!scrape((uint16_t)(19300 + 10 * s + i + OFFSET), h))
				(*processes)++;
	/* Sort the buckets by bound. */
	for (int i = 1; i < h->n; i++)
		for (int j = i; j > 0 && h->le[j - 1] > h->le[j]; j--) {
			double t = h->le[j];
			h->le[j] = h->le[j - 1];
			h->le[j - 1] = t;
			t = h->count[j];
			h->count[j] = h->count[j - 1];
			h->count[j - 1] = t;
		}
	return *processes ? 0 : -1;
}

/* The q-quantile of (b - a) in seconds; -1 if empty. */
static double quantile(const struct hist *a, const struct hist *b, double q, double *total)
{
	double d[MAX_BUCKETS];
	for (int i = 0; i < b->n; i++) {
		d[i] = b->count[i];
		for (int j = 0; j < a->n; j++)
			if (a->le[j] == b->le[i])
				d[i] -= a->count[j];
	}
	*total = b->n ? d[b->n - 1] : 0;
	if (*total <= 0)
		return -1;
	double rank = q * *total, lo = 0, prev = 0;
	for (int i = 0; i < b->n; i++) {
		if (d[i] >= rank) {
			if (b->le[i] >= 1e300)
				return lo;   /* beyond the last finite bound: report that bound */
			double in = d[i] - prev;
			return in > 0 ? lo + (b->le[i] - lo) * (rank - prev) / in : b->le[i];
		}
		lo = b->le[i];
		prev = d[i];
	}
	return lo;
}

static int localnet_up(const char *bt)
{
	char cmd[1024];
	snprintf(cmd, sizeof cmd,
	         "%s localnet up --dir %s --port-offset %d --block-time %s --wait 120s >%s/up.log 2>&1",
	         canon, dir, OFFSET, bt, dir);
	if (system(cmd) != 0) {
		snprintf(cmd, sizeof cmd, "tail -30 %s/up.log >&2", dir);
		if (system(cmd)) {
		}
		return -1;
	}
	return 0;
}

static int localnet_down(void)
{
	char cmd[1024];
	snprintf(cmd, sizeof cmd, "%s localnet down --dir %s --timeout 10s >/dev/null 2>&1", canon, dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* Finality p50/p99 in ms over a window of the running localnet. */
static int finality(unsigned warm_s, unsigned window_s, double *p50, double *p99, double *n)
{
	struct hist a, b;
	int pa, pb;
	sleep(warm_s);
	if (scrape_all(&a, &pa))
		return -1;
	sleep(window_s);
	if (scrape_all(&b, &pb))
		return -1;
	*p50 = quantile(&a, &b, 0.50, n) * 1000;
	*p99 = quantile(&a, &b, 0.99, n) * 1000;
	fprintf(stderr, "bench node: %.0f finality samples from %d validator processes over %u s\n", *n,
	        pb, window_s);
	return *n > 0 ? 0 : -1;
}

int main(void)
{
	canon = getenv("CANON_BIN");
	if (!canon)
		canon = access("build/canon", X_OK) == 0 ? "build/canon" : "./canon";
	if (access(canon, X_OK) != 0) {
		fprintf(stderr, "bench node: no canon binary (build it with make, or set CANON_BIN)\n");
		return 1;
	}
	if (system("command -v curl >/dev/null") != 0) {
		fprintf(stderr, "bench node: needs curl\n");
		return 1;
	}
	snprintf(dir, sizeof dir, "%s/canon-bench-node.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(dir)) {
		perror("bench node: mkdtemp");
		return 1;
	}
	atexit(cleanup);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);

	double p50, p99, n;
	if (localnet_up("2s") || finality(4, 40, &p50, &p99, &n)) {
		fprintf(stderr, "bench node: the 2 s localnet did not finalize blocks\n");
		return 1;
	}
	bench_report("node", "finality_p50_ms", p50, "ms");
	bench_report("node", "finality_p99_ms", p99, "ms");

	if (localnet_down() || localnet_up("1s") || finality(3, 25, &p50, &p99, &n)) {
		fprintf(stderr, "bench node: the 1 s localnet did not finalize blocks\n");
		return 1;
	}
	bench_report("node", "finality_p50_ms_1s", p50, "ms");
	bench_report("node", "finality_p99_ms_1s", p99, "ms");

	/* Throughput on the last shard (not the beacon), 1 s blocks: offered at
	 * the 1,000 tx/s gate, then above it; the better finalized rate counts. */
	static const int rates[] = {1000, 1200};
	double best = -1, best_steady = -1;
	for (size_t r = 0; r < sizeof rates / sizeof rates[0]; r++) {
		char cmd[1024], line[512];
		snprintf(cmd, sizeof cmd,
		         "%s bench tx --dir %s --shard 1 --rate %d --duration 15s --drain 20s --conns 4 --accounts 256 --bench 2>&1",
		         canon, dir, rates[r]);
		FILE *p = popen(cmd, "r");
		while (p && fgets(line, sizeof line, p)) {
			fprintf(stderr, "  %s", line);
			if (!strncmp(line, "bench node/tx_per_s_shard ", 26)) {
				double v = strtod(line + 26, NULL);
				if (v > best)
					best = v;
			} else if (!strncmp(line, "bench node/tx_per_s_shard_steady ", 33)) {
				double v = strtod(line + 33, NULL);
				if (v > best_steady)
					best_steady = v;
			}
		}
		if (p)
			pclose(p);
		sleep(3);   /* let the pool drain before the next rate */
	}
	if (best < 0) {
		fprintf(stderr, "bench node: canon bench tx gave no figure\n");
		return 1;
	}
	bench_report("node", "tx_per_s_shard", best, "tx/s");
	bench_report("node", "tx_per_s_shard_steady", best_steady, "tx/s");
	return 0;
}
