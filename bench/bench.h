/* bench.h — the tiny harness every benchmark uses (header only).
 *
 * A benchmark prints one line per figure: `bench <suite>/<name> <value> <unit>`,
 * the median of BENCH_RUNS runs (default 5; override with the environment
 * variable CANON_BENCH_RUNS). Machines are small and noisy, so figures that
 * are compared are measured side by side in the same process. */
#ifndef CANON_BENCH_H
#define CANON_BENCH_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static inline double bench_now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* CPU time of the calling thread, for figures defined as CPU cost. */
static inline double bench_cpu_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static inline int bench_runs(void)
{
	const char *s = getenv("CANON_BENCH_RUNS");
	int n = s ? atoi(s) : 5;
	return n > 0 && n < 1000 ? n : 5;
}

static int bench_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static inline double bench_median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof *v, bench_cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static inline void bench_report(const char *suite, const char *name, double value, const char *unit)
{
	if (value >= 100)
		printf("bench %s/%s %.0f %s\n", suite, name, value, unit);
	else
		printf("bench %s/%s %.3g %s\n", suite, name, value, unit);
	fflush(stdout);
}

/* Runs fn(arg) `iters` times per run, bench_runs() runs, and returns the
 * median seconds per iteration. */
static inline double bench_time_per_iter(void (*fn)(void *), void *arg, long iters)
{
	int runs = bench_runs();
	double t[1000];
	fn(arg); /* warm up caches and lazy tables */
	for (int r = 0; r < runs; r++) {
		double t0 = bench_now_s();
		for (long i = 0; i < iters; i++)
			fn(arg);
		t[r] = (bench_now_s() - t0) / (double)iters;
	}
	return bench_median(t, runs);
}

#endif
