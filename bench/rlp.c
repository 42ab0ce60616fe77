/* bench/rlp.c — RLP encode and decode throughput on a block-body-like
 * payload: a list of 2000 Harmony-shaped transactions (nonce, gas price, gas
 * limit, shard ids, to, value, data, v, r, s), encoded from structs and
 * decoded back into structs with the typed readers.
 *
 *   bench rlp/encode_mb_s   MB of RLP produced per second
 *   bench rlp/decode_mb_s   MB of RLP decoded (every field read) per second */
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "codec/rlp.h"

#define NTX 2000

struct tx {
	uint64_t nonce, gas, shard, to_shard, v;
	uint8_t gas_price[32], value[32], to[20], r[32], s[32];
	uint8_t data[256];
	size_t data_len;
};

static struct tx txs[NTX], out_txs[NTX];
static struct rlp_enc enc;
static uint8_t *payload;
static size_t payload_len;

static uint64_t rng_state = 88172645463325252ull;
static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static void fill(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)rng();
}

static void encode_all(void *arg)
{
	(void)arg;
	rlp_enc_reset(&enc);
	rlp_list_begin(&enc);
	for (int i = 0; i < NTX; i++) {
		const struct tx *t = &txs[i];
		rlp_list_begin(&enc);
		rlp_put_u64(&enc, t->nonce);
		rlp_put_uint_be(&enc, t->gas_price, 32);
		rlp_put_u64(&enc, t->gas);
		rlp_put_u64(&enc, t->shard);
		rlp_put_u64(&enc, t->to_shard);
		rlp_put_bytes(&enc, t->to, 20);
		rlp_put_uint_be(&enc, t->value, 32);
		rlp_put_bytes(&enc, t->data, t->data_len);
		rlp_put_u64(&enc, t->v);
		rlp_put_uint_be(&enc, t->r, 32);
		rlp_put_uint_be(&enc, t->s, 32);
		rlp_list_end(&enc);
	}
	rlp_list_end(&enc);
	if (rlp_enc_write(&enc, payload) != 0)
		abort();
}

static void decode_all(void *arg)
{
	(void)arg;
	struct rlp_cursor top, list, f;
	rlp_cursor_init(&top, payload, payload_len);
	if (rlp_read_list(&top, &list) || rlp_expect_end(&top))
		abort();
	for (int i = 0; i < NTX; i++) {
		struct tx *t = &out_txs[i];
		const uint8_t *p;
		int rc = rlp_read_list(&list, &f);
		rc |= rlp_read_u64(&f, &t->nonce);
		rc |= rlp_read_u256(&f, t->gas_price);
		rc |= rlp_read_u64(&f, &t->gas);
		rc |= rlp_read_u64(&f, &t->shard);
		rc |= rlp_read_u64(&f, &t->to_shard);
		rc |= rlp_read_fixed(&f, t->to, 20);
		rc |= rlp_read_u256(&f, t->value);
		rc |= rlp_read_bytes(&f, &p, &t->data_len);
		if (!rc && t->data_len <= sizeof t->data)
			memcpy(t->data, p, t->data_len);
		rc |= rlp_read_u64(&f, &t->v);
		rc |= rlp_read_u256(&f, t->r);
		rc |= rlp_read_u256(&f, t->s);
		rc |= rlp_expect_end(&f);
		if (rc)
			abort();
	}
	if (rlp_expect_end(&list))
		abort();
}

int main(void)
{
	for (int i = 0; i < NTX; i++) {
		struct tx *t = &txs[i];
		t->nonce = rng() % 100000;
		memset(t->gas_price, 0, 32);
		t->gas_price[27] = 0x17;                    /* 100 gwei-ish */
		fill(t->gas_price + 28, 4);
		t->gas = 21000 + rng() % 500000;
		t->shard = rng() % 4;
		t->to_shard = rng() % 4;
		fill(t->to, 20);
		memset(t->value, 0, 32);
		fill(t->value + 22, 10);
		t->data_len = rng() % 3 ? 0 : rng() % 200;
		fill(t->data, t->data_len);
		t->v = 37 + rng() % 2;
		fill(t->r, 32);
		fill(t->s, 32);
	}
	rlp_enc_init(&enc);
	payload = malloc(1 << 20);
	encode_all(NULL);
	payload_len = rlp_enc_size(&enc);
	if (payload_len > (1 << 20) || rlp_validate(payload, payload_len) != 0)
		abort();
	decode_all(NULL);
	if (memcmp(out_txs[NTX - 1].s, txs[NTX - 1].s, 32) != 0)
		abort();

	double mb = (double)payload_len / 1e6;
	double t = bench_time_per_iter(encode_all, NULL, 1000);
	bench_report("rlp", "encode_mb_s", mb / t, "MB/s");
	t = bench_time_per_iter(decode_all, NULL, 1000);
	bench_report("rlp", "decode_mb_s", mb / t, "MB/s");
	free(payload);
	rlp_enc_free(&enc);
	return 0;
}
