/* bench/keccak.c — Keccak-256 throughput next to nettle's SHA3-256.
 *
 * Both hashes run the same Keccak-f[1600] (nettle's sha3_permute) with the
 * same 136-byte rate, so SHA3-256 is the yardstick for how much our absorb
 * and padding code costs on top of the permutation. The two are measured
 * alternately within each run on the same buffer, so machine noise hits both;
 * the ratio is the median of the per-run ratios. */
#include <nettle/sha3.h>
#include <string.h>

#include "bench.h"
#include "crypto/crypto.h"

static volatile uint8_t sink;

struct job {
	const uint8_t *in;
	size_t len;
	long iters;
};

static double time_ours(const struct job *j)
{
	uint8_t out[32];
	double t0 = bench_now_s();
	for (long i = 0; i < j->iters; i++) {
		keccak256(j->in, j->len, out);
		sink ^= out[0];
	}
	return bench_now_s() - t0;
}

static double time_sha3(const struct job *j)
{
	uint8_t out[SHA3_256_DIGEST_SIZE];
	struct sha3_256_ctx c;
	double t0 = bench_now_s();
	for (long i = 0; i < j->iters; i++) {
		sha3_256_init(&c);
		sha3_256_update(&c, j->len, j->in);
		sha3_256_digest(&c, sizeof out, out);
		sink ^= out[0];
	}
	return bench_now_s() - t0;
}

/* Iterations so that one timing takes about 0.1 s. */
static long calibrate(const uint8_t *in, size_t len)
{
	struct job j = {in, len, 1};
	for (;;) {
		double t = time_ours(&j);
		if (t > 0.02)
			return (long)((double)j.iters * 0.1 / t) + 1;
		j.iters *= 4;
	}
}

static void measure(const uint8_t *in, size_t len, const char *tag, int with_ratio)
{
	int runs = bench_runs();
	double ours[1000], sha3[1000], ratio[1000];
	struct job j = {in, len, calibrate(in, len)};
	double mb = (double)len * (double)j.iters / 1e6;
	for (int r = 0; r < runs; r++) {
		/* Alternate which goes first, against any ordering effect. */
		double a, b;
		if (r % 2) {
			b = time_sha3(&j);
			a = time_ours(&j);
		} else {
			a = time_ours(&j);
			b = time_sha3(&j);
		}
		ours[r] = mb / a;
		sha3[r] = mb / b;
		ratio[r] = ours[r] / sha3[r];
	}
	char name[64];
	snprintf(name, sizeof name, "mb_s_%s", tag);
	bench_report("keccak", name, bench_median(ours, runs), "MB/s");
	snprintf(name, sizeof name, "sha3_mb_s_%s", tag);
	bench_report("keccak", name, bench_median(sha3, runs), "MB/s");
	if (with_ratio) {
		snprintf(name, sizeof name, "ratio_%s", tag);
		bench_report("keccak", name, bench_median(ratio, runs), "x");
	}
}

int main(void)
{
	size_t big = 1 << 20;
	uint8_t *buf = malloc(big);
	if (!buf)
		return 1;
	for (size_t i = 0; i < big; i++)
		buf[i] = (uint8_t)(i * 7 + 3);
	measure(buf, 32, "32", 0);
	measure(buf, 136, "136", 0);
	measure(buf, big, "1mib", 1);
	free(buf);
	return 0;
}
