/* bls.c — BLS12-381 benchmarks: ns per operation, single thread, median of
 * bench_runs() runs. Inputs are fixed so runs are comparable. */
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "crypto/bls.h"
#include "crypto/bls/bls_int.h"

enum { NKEYS = 1000, NBATCH = 64 };

static struct bls_secret_key sks[NKEYS];
static struct bls_public_key pks[NKEYS];
static struct bls_signature sigs[NKEYS], sig_one, agg100, agg1000;
static struct bls_signature bsigs[NBATCH];
static struct bls_batch_item items[NBATCH];
static uint8_t msg[32], bmsgs[NBATCH][32], pk_enc[48], sig_enc[96];
static g1a P;
static g2a Q;
static volatile int sink;

static void b_sign(void *a) { (void)a; bls_sign(&sks[0], msg, 32, &sig_one); }
static void b_verify(void *a) { (void)a; sink = bls_verify(&pks[0], msg, 32, &sig_one); }
static void b_fav100(void *a) { (void)a; sink = bls_fast_aggregate_verify(pks, 100, msg, 32, &agg100); }
static void b_fav1000(void *a) { (void)a; sink = bls_fast_aggregate_verify(pks, 1000, msg, 32, &agg1000); }
static void b_agg100(void *a) { struct bls_signature s; (void)a; sink = bls_aggregate_sigs(sigs, 100, &s); }
static void b_pairing(void *a) { fp12 e; (void)a; bls_pairing(&e, &P, &Q); sink = (int)e.c0.c0.c0.l[0]; }
static void b_h2g2(void *a)
{
	g2a h;
	(void)a;
	bls_hash_to_g2(&h, msg, 32, (const uint8_t *)BLS_DST_SIG, sizeof BLS_DST_SIG - 1);
	sink = (int)h.x.c0.l[0];
}
static void b_g1dec(void *a) { struct bls_public_key k; (void)a; sink = bls_pk_from_bytes(pk_enc, &k); }
static void b_g2dec(void *a) { struct bls_signature s; (void)a; sink = bls_sig_from_bytes(sig_enc, &s); }
static void b_batch(void *a)
{
	static const uint8_t seed[32] = {7};
	(void)a;
	sink = bls_batch_verify(items, NBATCH, seed);
}

/* Thread CPU time per call, median of bench_runs() runs of about `target`
 * seconds each. CPU time rather than wall time because the machines these
 * run on are shared: other processes stretch wall time, not CPU time. */
static void run(const char *name, void (*fn)(void *), double target, double scale)
{
	double t[1000];
	int runs = bench_runs();
	double t0 = bench_cpu_s();
	fn(NULL);
	double one = bench_cpu_s() - t0;
	long iters = one > 0 ? (long)(target / one) : 1000;
	if (iters < 1)
		iters = 1;
	for (int r = 0; r < runs; r++) {
		t0 = bench_cpu_s();
		for (long i = 0; i < iters; i++)
			fn(NULL);
		t[r] = (bench_cpu_s() - t0) / (double)iters;
	}
	bench_report("bls", name, bench_median(t, runs) * 1e9 / scale, "ns/op");
}

int main(void)
{
	for (int i = 0; i < 32; i++)
		msg[i] = (uint8_t)(i * 3);
	for (int i = 0; i < NKEYS; i++) {
		uint8_t ikm[32] = {0};
		memcpy(ikm, &i, sizeof i);
		if (bls_keygen(ikm, 32, NULL, 0, &sks[i]))
			return 1;
		bls_sk_to_pk(&sks[i], &pks[i]);
	}
	/* same-message signatures for the aggregates: sign once with the sum */
	for (int i = 0; i < 100; i++)
		bls_sign(&sks[i], msg, 32, &sigs[i]);
	bls_aggregate_sigs(sigs, 100, &agg100);
	bls_sign_multi(sks, NKEYS, msg, 32, &agg1000);
	bls_sign(&sks[0], msg, 32, &sig_one);
	for (int i = 0; i < NBATCH; i++) {
		for (int j = 0; j < 32; j++)
			bmsgs[i][j] = (uint8_t)(i + j * 5);
		bls_sign(&sks[i], bmsgs[i], 32, &bsigs[i]);
		items[i] = (struct bls_batch_item){&pks[i], bmsgs[i], 32, &bsigs[i]};
	}
	bls_pk_to_bytes(&pks[1], pk_enc);
	bls_sig_to_bytes(&sigs[1], sig_enc);
	P = G1_GEN;
	Q = G2_GEN;
	if (bls_verify(&pks[0], msg, 32, &sig_one) || bls_fast_aggregate_verify(pks, 100, msg, 32, &agg100) ||
	    bls_fast_aggregate_verify(pks, NKEYS, msg, 32, &agg1000) ||
	    bls_batch_verify(items, NBATCH, NULL))
		return 1; /* a benchmark of a broken verifier would be meaningless */

	run("sign", b_sign, 0.2, 1);
	run("verify", b_verify, 0.2, 1);
	run("fast_aggregate_verify_100", b_fav100, 0.2, 1);
	run("fast_aggregate_verify_1000", b_fav1000, 0.2, 1);
	run("aggregate_100", b_agg100, 0.2, 1);
	run("pairing", b_pairing, 0.2, 1);
	run("hash_to_g2", b_h2g2, 0.2, 1);
	run("g1_decompress", b_g1dec, 0.2, 1);
	run("g2_decompress", b_g2dec, 0.2, 1);
	run("batch_verify_64_per_sig", b_batch, 0.3, NBATCH);
	return 0;
}
