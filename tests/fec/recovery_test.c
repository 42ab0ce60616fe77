/* Recovery curve: decode from exactly K, K+1 and K+2 distinct random encoding
 * symbols (ESIs drawn from 0..3K, so about a third are source symbols) and
 * count failures. RFC 6330 section 5.1 promises failure below 1%, 0.01% and
 * 0.0001% at K, K+1, K+2. Failures are checked against bounds a correct
 * decoder exceeds with negligible probability; a wrong decoded block always
 * fails the test. 1,000 trials per K, in `make test` too (a few seconds). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "fec/raptorq.h"
#include "testutil.h"

static uint64_t st = 0x243f6a8885a308d3ull;
static uint32_t rnd(void)
{
	st ^= st << 13;
	st ^= st >> 7;
	st ^= st << 17;
	return (uint32_t)(st >> 11);
}

static void curve(uint32_t k, unsigned trials, unsigned fails[3])
{
	/* symbols are 8 bytes: decodability depends only on the ESI set */
	const uint16_t t = 8;
	uint8_t *src = malloc((size_t)k * t), *out = malloc((size_t)k * t);
	for (size_t i = 0; i < (size_t)k * t; i++)
		src[i] = (uint8_t)rnd();
	struct rq_block *b;
	cr_assert_eq(rq_block_encode(NULL, k, t, src, &b), 0);
	const uint32_t range = 3 * k + 3;
	uint32_t *esis = malloc((k + 2) * sizeof *esis);
	uint8_t *syms = malloc((size_t)(k + 2) * t);
	uint8_t *seen = calloc(range, 1);
	for (unsigned tr = 0; tr < trials; tr++) {
		memset(seen, 0, range);
		for (uint32_t i = 0; i < k + 2;) {
			uint32_t e = rnd() % range;
			if (seen[e])
				continue;
			seen[e] = 1;
			esis[i] = e;
			cr_assert_eq(rq_block_symbol(b, e, syms + (size_t)i * t), 0);
			i++;
		}
		for (int h = 0; h < 3; h++) {
			int rc = rq_block_decode(k, t, k + (uint32_t)h, esis, syms, out);
			if (rc == -CN_EVERIFY) {
				fails[h]++;
				continue;
			}
			cr_assert_eq(rc, 0, "k %u: %s", k, cn_strerror(rc));
			cr_assert(memcmp(out, src, (size_t)k * t) == 0, "k %u trial %u: wrong block", k, tr);
		}
	}
	rq_block_free(b);
	free(seen);
	free(esis);
	free(syms);
	free(src);
	free(out);
}

static void run(uint32_t k, unsigned trials)
{
	unsigned f[3] = {0, 0, 0};
	curve(k, trials, f);
	fprintf(stderr,
		"fec recovery K=%u: %u trials, failures at K: %u (%.2f%%), K+1: %u (%.3f%%), K+2: %u (%.4f%%)\n", k,
		trials, f[0], 100.0 * f[0] / trials, f[1], 100.0 * f[1] / trials, f[2], 100.0 * f[2] / trials);
	/* 1% of 1000 is 10 expected at most; 3% would be clearly worse. At K+1
	 * (0.01%) even 3 failures in 1000 is ~1.7e-4 likely; at K+2 one failure
	 * is ~1e-3 likely. */
	cr_assert(f[0] <= trials * 3 / 100 + 2, "K=%u: %u failures at K", k, f[0]);
	cr_assert(f[1] <= 2, "K=%u: %u failures at K+1", k, f[1]);
	cr_assert(f[2] <= 1, "K=%u: %u failures at K+2", k, f[2]);
	tu_report(k == 10 ? "raptorq recovery K=10 trials" : k == 100 ? "raptorq recovery K=100 trials"
								 : "raptorq recovery K=1000 trials",
		  trials);
}

Test(fec_recovery, k10)
{
	run(10, 1000);
}

Test(fec_recovery, k100)
{
	run(100, 1000);
}

Test(fec_recovery, k1000)
{
	run(1000, 1000);
}
