/* bench/core.c — transaction and block encodings.
 *
 *   bench core/tx_decode_ns        decode one signed Harmony transfer (110 bytes)
 *   bench core/tx_hash_ns          encode + keccak256 of it
 *   bench core/tx_sender_us        signing hash + secp256k1 recovery (the pool's cost per tx)
 *   bench core/block_decode_us     decode a block of 500 transfers
 *   bench core/block_encode_us     encode it back
 *   bench core/tx_root_us          DeriveSha over its 500 txs */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "core/core.h"

#define NTX 500

static uint8_t *raw, *blk;
static size_t raw_len, blk_len;
static struct tx one;
static struct block b;
static volatile uint8_t sink;

static void do_decode(void *arg)
{
	struct tx t;
	if (tx_decode(&t, raw, raw_len) == 0)
		tx_free(&t);
}

static void do_hash(void *arg)
{
	uint8_t h[32];
	tx_hash(&one, h);
	sink ^= h[0];
}

static void do_sender(void *arg)
{
	uint8_t a[20];
	tx_sender(&one, a);
	sink ^= a[0];
}

static void do_block_decode(void *arg)
{
	struct block d;
	if (block_decode(&d, blk, blk_len) == 0)
		block_free(&d);
}

static void do_block_encode(void *arg)
{
	uint8_t *out;
	size_t n;
	if (block_encode(&b, &out, &n) == 0)
		free(out);
}

static void do_root(void *arg)
{
	uint8_t h[32];
	block_tx_root(&b, h);
	sink ^= h[0];
}

int main(void)
{
	uint8_t key[32];
	memset(key, 0x42, sizeof key);
	memset(&b, 0, sizeof b);
	b.txs = calloc(NTX, sizeof *b.txs);
	b.ntxs = NTX;
	for (int i = 0; i < NTX; i++) {
		struct tx *t = &b.txs[i];
		t->type = TX_HARMONY;
		t->chain_id = 1;
		t->nonce = (uint64_t)i;
		t->gas_price = u256_from_u64(100000000000ull);
		t->gas_limit = 21000;
		t->shard_id = 0;
		t->to_shard_id = (uint32_t)(i & 1);
		t->has_to = 1;
		memset(t->to, i, 20);
		t->value = u256_from_u64(1000000000000000000ull + (uint64_t)i);
		if (tx_sign(t, key) != 0)
			return 1;
	}
	b.header.number = 1000;
	if (block_tx_root(&b, b.header.tx_hash) || tx_encode(&b.txs[0], &raw, &raw_len) ||
	    tx_decode(&one, raw, raw_len) || block_encode(&b, &blk, &blk_len))
		return 1;

	bench_report("core", "tx_decode_ns", bench_time_per_iter(do_decode, NULL, 200000) * 1e9, "ns");
	bench_report("core", "tx_hash_ns", bench_time_per_iter(do_hash, NULL, 200000) * 1e9, "ns");
	bench_report("core", "tx_sender_us", bench_time_per_iter(do_sender, NULL, 5000) * 1e6, "us");
	bench_report("core", "block_decode_us", bench_time_per_iter(do_block_decode, NULL, 200) * 1e6, "us");
	bench_report("core", "block_encode_us", bench_time_per_iter(do_block_encode, NULL, 200) * 1e6, "us");
	bench_report("core", "tx_root_us", bench_time_per_iter(do_root, NULL, 50) * 1e6, "us");
	tx_free(&one);
	block_free(&b);
	free(raw);
	free(blk);
	return 0;
}
