/* bench/store.c — the LMDB store.
 *
 *   bench store/block_commit_ms   one write transaction of 2000 puts (a block's worth:
 *                                 trie nodes, receipts, lookups; 32-byte keys, 200-byte values)
 *   bench store/get_ns            one random point read in a read transaction (100k keys)
 *   bench store/read_txn_ns       begin + end of a read transaction (the cost per RPC call) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/bytes.h"
#include "bench.h"
#include "store/store.h"

#define KEYS 100000

static struct store *s;
static uint64_t counter;
static struct store_txn *rt;
static volatile size_t sink;

static void key_of(uint64_t i, uint8_t k[32])
{
	memset(k, 0, 32);
	store_be64(k, i * 0x9e3779b97f4a7c15ull);
	store_be64(k + 24, i);
}

static void do_block(void *arg)
{
	struct store_txn *t;
	uint8_t k[32], v[200];
	memset(v, 7, sizeof v);
	if (store_begin(s, 1, &t))
		abort();
	for (int i = 0; i < 2000; i++) {
		key_of(KEYS + counter++, k);
		if (store_put(t, STORE_TRIE, k, 32, v, sizeof v))
			abort();
	}
	if (store_commit(t))
		abort();
}

static void do_get(void *arg)
{
	uint8_t k[32];
	const uint8_t *v;
	size_t n;
	counter = counter * 6364136223846793005ull + 1442695040888963407ull;
	key_of((counter >> 33) % KEYS, k);
	if (store_get(rt, STORE_TRIE, k, 32, &v, &n))
		abort();
	sink += n;
}

static void do_rtxn(void *arg)
{
	struct store_txn *t;
	if (store_begin(s, 0, &t))
		abort();
	store_abort(t);
}

int main(void)
{
	char dir[] = "/tmp/canon-bench-store-XXXXXX";
	if (!mkdtemp(dir))
		return 1;
	if (store_open(&s, dir, NULL))
		return 1;
	struct store_txn *t;
	uint8_t k[32], v[200];
	memset(v, 1, sizeof v);
	if (store_begin(s, 1, &t))
		return 1;
	for (uint64_t i = 0; i < KEYS; i++) {
		key_of(i, k);
		if (store_put(t, STORE_TRIE, k, 32, v, sizeof v))
			return 1;
	}
	if (store_commit(t))
		return 1;

	bench_report("store", "block_commit_ms", bench_time_per_iter(do_block, NULL, 10) * 1e3, "ms");
	if (store_begin(s, 0, &rt))
		return 1;
	bench_report("store", "get_ns", bench_time_per_iter(do_get, NULL, 200000) * 1e9, "ns");
	store_abort(rt);
	bench_report("store", "read_txn_ns", bench_time_per_iter(do_rtxn, NULL, 200000) * 1e9, "ns");
	store_close(s);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	return system(cmd) != 0;
}
