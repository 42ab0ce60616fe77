/* bench/state.c — account state over the LMDB store.
 *
 *   bench state/balance_reads_per_s        balance reads from the flat index (keccak of
 *                                          the address + one B-tree lookup + account
 *                                          decode) in one read transaction, 100k accounts
 *   bench chain/balance_reads_per_s        the same figure under the name RPC sizing uses
 *   bench state/trie_balance_reads_per_s   the same reads through a struct state opened at
 *                                          the root (trie walk, cold cache per run): what
 *                                          the flat index saves
 *   bench state/commit_ms_1000             1000 account updates (balance and nonce of
 *                                          existing accounts) + state root + writing nodes
 *                                          and index + LMDB commit, on a state opened
 *                                          at the parent root (cold: nodes come from LMDB)
 *   bench state/commit_ms_1000_warm        the same on one state kept across blocks with
 *                                          state_set_txn (the chain writer's pattern),
 *                                          touching a 5000-account working set */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/bytes.h"
#include "base/prng.h"
#include "bench.h"
#include "state/state.h"
#include "store/store.h"

#define ACCOUNTS 100000
#define READS 200000

static struct store *st;
static uint8_t root[32];
static volatile uint64_t sink;

static void addr_of(uint64_t i, uint8_t a[20])
{
	memset(a, 0, 20);
	store_be64(a, i * 0x9e3779b97f4a7c15ull);
	store_be64(a + 12, i);
}

static void die(const char *what, int rc)
{
	fprintf(stderr, "bench state: %s failed (%d)\n", what, rc);
	exit(1);
}

static double flat_reads(void)
{
	struct store_txn *t;
	struct state_account a;
	uint8_t addr[20];
	struct cn_prng r;
	int rc;
	cn_prng_seed(&r, 1);
	if ((rc = store_begin(st, 0, &t)) != 0)
		die("begin", rc);
	double t0 = bench_now_s();
	for (int i = 0; i < READS; i++) {
		addr_of(cn_prng_uniform(&r, ACCOUNTS), addr);
		if ((rc = state_flat_get(t, addr, &a)) != 0)
			die("flat get", rc);
		sink += a.balance.w[0];
	}
	double dt = bench_now_s() - t0;
	store_abort(t);
	return READS / dt;
}

static double trie_reads(void)
{
	struct store_txn *t;
	struct state *s;
	struct u256 b;
	uint8_t addr[20];
	struct cn_prng r;
	int rc;
	cn_prng_seed(&r, 2);
	if ((rc = store_begin(st, 0, &t)) != 0 || (rc = state_open(&s, t, root)) != 0)
		die("open", rc);
	double t0 = bench_now_s();
	for (int i = 0; i < READS / 4; i++) {
		addr_of(cn_prng_uniform(&r, ACCOUNTS), addr);
		if ((rc = state_get_balance(s, addr, &b)) != 0)
			die("trie get", rc);
		sink += b.w[0];
	}
	double dt = bench_now_s() - t0;
	state_free(s);
	store_abort(t);
	return READS / 4 / dt;
}

static double commit_1000(struct cn_prng *r)
{
	struct store_txn *t;
	struct state *s;
	uint8_t addr[20];
	struct u256 one = u256_from_u64(1);
	int rc;
	double t0 = bench_now_s();
	if ((rc = store_begin(st, 1, &t)) != 0 || (rc = state_open(&s, t, root)) != 0)
		die("open", rc);
	for (int i = 0; i < 1000; i++) {
		uint64_t n;
		addr_of(cn_prng_uniform(r, ACCOUNTS), addr);
		if ((rc = state_add_balance(s, addr, &one)) != 0 ||
		    (rc = state_get_nonce(s, addr, &n)) != 0 ||
		    (rc = state_set_nonce(s, addr, n + 1)) != 0)
			die("update", rc);
	}
	if ((rc = state_commit(s, root)) != 0)
		die("state commit", rc);
	state_free(s);
	if ((rc = store_commit(t)) != 0)
		die("store commit", rc);
	return (bench_now_s() - t0) * 1e3;
}

static double commit_1000_warm(struct state *s, struct cn_prng *r)
{
	struct store_txn *t;
	uint8_t addr[20];
	struct u256 one = u256_from_u64(1);
	int rc;
	double t0 = bench_now_s();
	if ((rc = store_begin(st, 1, &t)) != 0)
		die("begin", rc);
	state_set_txn(s, t);
	for (int i = 0; i < 1000; i++) {
		uint64_t n;
		addr_of(cn_prng_uniform(r, 5000), addr);
		if ((rc = state_add_balance(s, addr, &one)) != 0 ||
		    (rc = state_get_nonce(s, addr, &n)) != 0 ||
		    (rc = state_set_nonce(s, addr, n + 1)) != 0)
			die("update", rc);
	}
	if ((rc = state_commit(s, root)) != 0)
		die("state commit", rc);
	if ((rc = store_commit(t)) != 0)
		die("store commit", rc);
	return (bench_now_s() - t0) * 1e3;
}

int main(void)
{
	char dir[] = "/tmp/canon-bench-state-XXXXXX";
	struct store_txn *t;
	struct state *s;
	uint8_t addr[20];
	int rc;

	if (!mkdtemp(dir))
		return 1;
	if ((rc = store_open(&st, dir, NULL)) != 0)
		die("store open", rc);
	if ((rc = store_begin(st, 1, &t)) != 0 || (rc = state_open(&s, t, NULL)) != 0)
		die("genesis open", rc);
	for (uint64_t i = 0; i < ACCOUNTS; i++) {
		struct u256 b = u256_from_u64(1000000000000000000ull + i);
		addr_of(i, addr);
		if ((rc = state_set_balance(s, addr, &b)) != 0)
			die("genesis balance", rc);
	}
	if ((rc = state_commit(s, root)) != 0)
		die("genesis commit", rc);
	state_free(s);
	if ((rc = store_commit(t)) != 0)
		die("genesis store commit", rc);

	int runs = bench_runs();
	double v[1000];
	for (int i = 0; i < runs; i++)
		v[i] = flat_reads();
	double flat = bench_median(v, runs);
	bench_report("state", "balance_reads_per_s", flat, "reads/s");
	bench_report("chain", "balance_reads_per_s", flat, "reads/s");
	for (int i = 0; i < runs; i++)
		v[i] = trie_reads();
	bench_report("state", "trie_balance_reads_per_s", bench_median(v, runs), "reads/s");

	struct cn_prng r;
	cn_prng_seed(&r, 3);
	commit_1000(&r); /* warm up */
	int crun = runs < 9 ? 9 : runs;
	for (int i = 0; i < crun; i++)
		v[i] = commit_1000(&r);
	bench_report("state", "commit_ms_1000", bench_median(v, crun), "ms");

	/* state_open reads nothing (nodes load lazily), and every block moves
	 * the state onto its own write transaction before touching it; no read
	 * transaction may stay open while writing (the map may need to grow). */
	if ((rc = store_begin(st, 0, &t)) != 0 || (rc = state_open(&s, t, root)) != 0)
		die("open", rc);
	store_abort(t);
	commit_1000_warm(s, &r); /* warm up: the state now holds the working set */
	for (int i = 0; i < crun; i++)
		v[i] = commit_1000_warm(s, &r);
	state_free(s);
	bench_report("state", "commit_ms_1000_warm", bench_median(v, crun), "ms");

	store_close(st);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		return 1;
	return 0;
}
