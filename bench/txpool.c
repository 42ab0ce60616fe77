/* bench/txpool.c — transaction pool throughput.
 *
 *   txpool/add_per_s               signed transactions admitted per second into a
 *                                  fresh pool, sender recovery and hashing included
 *                                  (4000 txs: 400 senders x 10 nonces)
 *   txpool/pending_select_ms_10000 one txpool_select over 10 000 pending txs
 *                                  (1000 senders x 10 nonces, mixed prices) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/prng.h"
#include "bench.h"
#include "core/core.h"
#include "txpool/txpool.h"

static int rich_nonce(void *ctx, const uint8_t a[CORE_ADDR_LEN], uint64_t *n)
{
	*n = 0;
	return 0;
}

static int rich_balance(void *ctx, const uint8_t a[CORE_ADDR_LEN], struct u256 *b)
{
	memset(b, 0, sizeof *b);
	b->w[2] = 1;   /* 2^128 atto */
	return 0;
}

static struct tx *make_txs(size_t senders, size_t per, uint64_t seed)
{
	struct cn_prng rng;
	cn_prng_seed(&rng, seed);
	struct tx *v = calloc(senders * per, sizeof *v);
	if (!v)
		abort();
	for (size_t s = 0; s < senders; s++) {
		uint8_t key[32] = {0x42};
		key[29] = (uint8_t)(seed);
		key[30] = (uint8_t)(s >> 8);
		key[31] = (uint8_t)(s + 1);
		for (size_t n = 0; n < per; n++) {
			struct tx *t = &v[s * per + n];
			t->type = TX_HARMONY;
			t->chain_id = 1;
			t->nonce = n;
			t->gas_price = u256_from_u64((100 + cn_prng_uniform(&rng, 900)) * 1000000000ull);
			t->gas_limit = 21000;
			t->has_to = 1;
			memset(t->to, 0x33, sizeof t->to);
			t->value = u256_from_u64(1);
			if (tx_sign(t, key))
				abort();
		}
	}
	return v;
}

static struct txpool *new_pool(size_t global_slots)
{
	const struct netparams *np;
	if (netparams_get("mainnet", &np))
		abort();
	struct txpool_config c;
	txpool_config_default(&c, np, 0);
	c.global_slots = global_slots;
	struct txpool_state_reader r = {NULL, rich_nonce, rich_balance};
	struct txpool *p;
	if (txpool_new(&p, &c, &r))
		abort();
	return p;
}

int main(void)
{
	int runs = bench_runs();
	double t[1000];

	enum { ADD_SENDERS = 400, ADD_PER = 10, ADD_N = ADD_SENDERS * ADD_PER };
	struct tx *txs = make_txs(ADD_SENDERS, ADD_PER, 1);
	for (int r = 0; r < runs; r++) {
		struct txpool *p = new_pool(4096);
		double t0 = bench_now_s();
		for (size_t i = 0; i < ADD_N; i++)
			if (txpool_add(p, &txs[i], NULL))
				abort();
		t[r] = ADD_N / (bench_now_s() - t0);
		txpool_free(p);
	}
	bench_report("txpool", "add_per_s", bench_median(t, runs), "tx/s");
	for (size_t i = 0; i < ADD_N; i++)
		tx_free(&txs[i]);
	free(txs);

	enum { SEL_SENDERS = 1000, SEL_PER = 10, SEL_N = SEL_SENDERS * SEL_PER };
	txs = make_txs(SEL_SENDERS, SEL_PER, 2);
	struct txpool *p = new_pool(SEL_N);
	for (size_t i = 0; i < SEL_N; i++)
		if (txpool_add(p, &txs[i], NULL))
			abort();
	size_t np, nq;
	txpool_stats(p, &np, &nq);
	if (np != SEL_N)
		abort();
	for (int r = 0; r < runs; r++) {
		struct txpool_tx **v;
		size_t n;
		double t0 = bench_now_s();
		if (txpool_select(p, UINT64_MAX, SEL_N, &v, &n) || n != SEL_N)
			abort();
		txpool_txs_release(v, n);
		t[r] = (bench_now_s() - t0) * 1e3;
	}
	bench_report("txpool", "pending_select_ms_10000", bench_median(t, runs), "ms");
	txpool_free(p);
	for (size_t i = 0; i < SEL_N; i++)
		tx_free(&txs[i]);
	free(txs);
	return 0;
}
