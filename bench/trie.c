/* bench/trie.c — Merkle-Patricia trie throughput, in memory.
 *
 *   bench trie/insert_per_s   100,000 random 32-byte keys (32-byte values)
 *                             inserted into an empty trie, then the root
 *                             hash computed; inserts per second overall
 *   bench trie/get_per_s      lookups of those keys in the built trie
 *   bench trie/commit_per_s   the same 100,000 inserts plus a commit of
 *                             every node into the in-memory node db */
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "trie/trie.h"

#define N 100000

static uint8_t (*keys)[32], (*vals)[32];

static uint64_t rng_state = 0x243f6a8885a308d3ull;
static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static void build(struct trie *t, const struct trie_db *db, int commit, uint8_t root[32])
{
	if (trie_init(t, db, NULL, 0) != 0)
		abort();
	for (int i = 0; i < N; i++)
		if (trie_put(t, keys[i], 32, vals[i], 32) != 0)
			abort();
	if ((commit ? trie_commit(t, root) : trie_root(t, root)) != 0)
		abort();
}

int main(void)
{
	keys = malloc(N * sizeof *keys);
	vals = malloc(N * sizeof *vals);
	for (int i = 0; i < N; i++)
		for (int b = 0; b < 32; b++) {
			keys[i][b] = (uint8_t)rng();
			vals[i][b] = (uint8_t)rng();
		}
	int runs = bench_runs();
	double ins[1000], get[1000], com[1000];
	uint8_t root[32], root2[32];
	for (int r = 0; r < runs; r++) {
		struct trie t;
		double t0 = bench_now_s();
		build(&t, NULL, 0, root);
		ins[r] = N / (bench_now_s() - t0);

		t0 = bench_now_s();
		for (int i = 0; i < N; i++) {
			const uint8_t *v;
			size_t vl;
			if (trie_get(&t, keys[i], 32, &v, &vl) != 0 || vl != 32)
				abort();
		}
		get[r] = N / (bench_now_s() - t0);
		trie_free(&t);

		struct trie_memdb *m;
		if (trie_memdb_new(&m) != 0)
			abort();
		struct trie_db db = trie_memdb_db(m);
		t0 = bench_now_s();
		build(&t, &db, 1, root2);
		com[r] = N / (bench_now_s() - t0);
		if (memcmp(root, root2, 32) != 0)
			abort();
		trie_free(&t);
		trie_memdb_free(m);
	}
	bench_report("trie", "insert_per_s", bench_median(ins, runs), "ops/s");
	bench_report("trie", "get_per_s", bench_median(get, runs), "ops/s");
	bench_report("trie", "commit_per_s", bench_median(com, runs), "ops/s");
	free(keys);
	free(vals);
	return 0;
}
