/* bench/chain.c — block insertion throughput against sender recovery.
 *
 *   chain/recover_per_s      tx_sender alone over the same transactions: the floor
 *   chain/transfers_per_s    chain_insert of blocks of 1000 signed transfers from
 *                            1000 distinct senders to fresh addresses: recovery,
 *                            checks, state update, tx/receipt/state roots, one LMDB
 *                            commit per block
 *   chain/insert_ms_1000tx   median wall-clock latency of one such block's
 *                            insertion, fsync of the commit included
 *
 * Both rates are in thread CPU time (one core; the machine is shared, so
 * wall-clock rates would measure the neighbours).
 *   chain/transfers_vs_recover_pct   the ratio of the two rates (target >= 60)
 *
 * Each run inserts the same pre-built blocks into a fresh database. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "chain/chain.h"
#include "crypto/crypto.h"
#include "store/store.h"

#define NACCT 1000
#define TXS 1000
#define BLOCKS 4

static uint8_t sk[NACCT][32];

static void genesis(struct chain_genesis *g)
{
	memset(g, 0, sizeof *g);
	netparams_get("localnet", &g->np);
	g->alloc = calloc(NACCT, sizeof *g->alloc);
	g->nalloc = NACCT;
	for (int i = 0; i < NACCT; i++) {
		char seed[32];
		int n = snprintf(seed, sizeof seed, "bench-%d", i);
		keccak256(seed, (size_t)n, sk[i]);
		addr_from_secret(sk[i], g->alloc[i].addr);
		g->alloc[i].balance = u256_from_u64(1000000000000000000ull);
	}
}

static void die(const char *what, int rc)
{
	fprintf(stderr, "bench chain: %s failed (%d)\n", what, rc);
	exit(1);
}

static void fresh(char *dir, struct store **st, struct chain **c, const struct chain_genesis *g)
{
	strcpy(dir, "/tmp/canon-bench-chain-XXXXXX");
	if (!mkdtemp(dir))
		die("mkdtemp", 0);
	uint8_t h[32];
	int rc;
	if ((rc = store_open_chain(st, dir, "localnet", 0, NULL)) || (rc = chain_init(*st, g, h)) ||
	    (rc = chain_open(c, *st, g->np, 0)))
		die("open", rc);
}

static void drop(char *dir, struct store *st, struct chain *c)
{
	chain_close(c);
	store_close(st);
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd))
		die("rm", 0);
}

int main(void)
{
	struct chain_genesis g;
	genesis(&g);
	char dir[64];
	struct store *st;
	struct chain *c;
	struct block blocks[BLOCKS];
	struct chain_why w;
	int rc;

	/* Build the blocks once on a scratch chain. */
	fresh(dir, &st, &c, &g);
	struct tx *txs = calloc(TXS, sizeof *txs);
	for (int b = 0; b < BLOCKS; b++) {
		for (int i = 0; i < TXS; i++) {
			uint8_t to[20];
			uint32_t x = (uint32_t)(b * TXS + i + 1);
			memset(to, 0, sizeof to);
			memcpy(to, &x, 4);
			to[19] = 0xbe;
			struct u256 v = u256_from_u64(1000 + (uint64_t)i);
			if ((rc = chain_sign_transfer(&txs[i], g.np, 0, 0, sk[i], (uint64_t)b, to, &v)))
				die("sign", rc);
		}
		struct chain_build_opts o;
		memset(&o, 0, sizeof o);
		if ((rc = chain_build(c, &o, txs, TXS, &blocks[b], NULL)) || blocks[b].ntxs != TXS)
			die("build", rc);
		if ((rc = chain_insert(c, &blocks[b], &w)))
			die(w.msg, rc);
		for (int i = 0; i < TXS; i++)
			tx_free(&txs[i]);
	}
	free(txs);
	drop(dir, st, c);

	int runs = bench_runs();
	double rec[1000], ins[1000], lat[1000 * BLOCKS];
	int nlat = 0;
	for (int r = 0; r < runs; r++) {
		double t0 = bench_cpu_s();
		for (int b = 0; b < BLOCKS; b++)
			for (size_t i = 0; i < blocks[b].ntxs; i++) {
				uint8_t a[20];
				if ((rc = tx_sender(&blocks[b].txs[i], a)))
					die("recover", rc);
			}
		rec[r] = (double)(BLOCKS * TXS) / (bench_cpu_s() - t0);

		fresh(dir, &st, &c, &g);
		double total = 0;
		for (int b = 0; b < BLOCKS; b++) {
			double t1 = bench_now_s(), c1 = bench_cpu_s();
			if ((rc = chain_insert(c, &blocks[b], &w)))
				die(w.msg, rc);
			total += bench_cpu_s() - c1;
			lat[nlat++] = (bench_now_s() - t1) * 1000;
		}
		ins[r] = (double)(BLOCKS * TXS) / total;
		drop(dir, st, c);
	}
	double rr = bench_median(rec, runs), tr = bench_median(ins, runs);
	bench_report("chain", "recover_per_s", rr, "tx/s");
	bench_report("chain", "transfers_per_s", tr, "tx/s");
	bench_report("chain", "insert_ms_1000tx", bench_median(lat, nlat), "ms");
	bench_report("chain", "transfers_vs_recover_pct", 100 * tr / rr, "%");
	for (int b = 0; b < BLOCKS; b++)
		block_free(&blocks[b]);
	chain_genesis_free(&g);
	return 0;
}
