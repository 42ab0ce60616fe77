/* txpool_test.c — admission rules, ordering, replacement, promotion,
 * demotion, limits and reset of the transaction pool, with real signed
 * transactions. */
#include "tp_helpers.h"

#include <stdio.h>

/* A drop log filled by the on_drop callback. */
struct drops {
	size_t n;
	uint64_t nonce[64];
	enum txpool_reason why[64];
	uint8_t hash[64][32];
};

static void on_drop(void *ctx, const struct txpool_tx *t, enum txpool_reason why)
{
	struct drops *d = ctx;
	if (d->n < 64) {
		d->nonce[d->n] = t->tx.nonce;
		d->why[d->n] = why;
		memcpy(d->hash[d->n], t->hash, 32);
		d->n++;
	}
}

static struct mock_state ms;
static struct drops dl;

static struct txpool *mkpool(struct txpool_config *tweak)
{
	struct txpool_config c;
	if (tweak) {
		c = *tweak;
	} else {
		txpool_config_default(&c, tp_mainnet(), 0);
	}
	c.on_drop = on_drop;
	c.on_drop_ctx = &dl;
	struct txpool_state_reader r = ms_reader(&ms);
	struct txpool *p;
	cr_assert_eq(txpool_new(&p, &c, &r), 0);
	return p;
}

static void setup(void)
{
	ms_init(&ms);
	memset(&dl, 0, sizeof dl);
	for (unsigned i = 0; i < 16; i++)
		ms_set(&ms, i, 0, ether(100));
}

TestSuite(txpool, .init = setup);

/* Adds t (freeing it) and checks the outcome. */
static void expect(struct txpool *p, struct tx *t, enum txpool_reason want, int want_rc)
{
	struct txpool_result r;
	int rc = txpool_add(p, t, &r);
	cr_assert_eq(r.reason, want, "reason %d (%s), want %d (%s)", r.reason, r.msg, want,
	             txpool_reason_str(want));
	cr_assert_eq(rc, want_rc, "rc %d for %s", rc, r.msg);
	cr_assert(!strncmp(r.msg, txpool_reason_str(want), strlen(txpool_reason_str(want))),
	          "message %s", r.msg);
	tx_free(t);
}

static void ok(struct txpool *p, struct tx t) { expect(p, &t, TXPOOL_OK, 0); }
static void bad(struct txpool *p, struct tx t, enum txpool_reason why)
{
	expect(p, &t, why, why == TXPOOL_ERR_KNOWN ? -CN_EEXIST :
	       (why == TXPOOL_ERR_ACCOUNT_LIMIT || why == TXPOOL_ERR_POOL_FULL ||
	        why == TXPOOL_DROP_FAIRNESS || why == TXPOOL_DROP_GLOBAL_QUEUE) ? -CN_ELIMIT : -CN_EINVAL);
}

Test(txpool, reason_strings_are_geths)
{
	cr_assert_str_eq(txpool_reason_str(TXPOOL_ERR_NONCE_TOO_LOW), "nonce too low");
	cr_assert_str_eq(txpool_reason_str(TXPOOL_ERR_INSUFFICIENT_FUNDS),
	                 "insufficient funds for gas * price + value");
	cr_assert_str_eq(txpool_reason_str(TXPOOL_ERR_UNDERPRICED), "transaction underpriced");
	cr_assert_str_eq(txpool_reason_str(TXPOOL_ERR_REPLACE_UNDERPRICED),
	                 "replacement transaction underpriced");
	cr_assert_str_eq(txpool_reason_str(TXPOOL_ERR_INTRINSIC_GAS), "intrinsic gas too low");
	cr_assert_str_eq(txpool_reason_str(TXPOOL_ERR_GAS_LIMIT), "exceeds block gas limit");
	cr_assert_str_eq(txpool_reason_str(TXPOOL_ERR_KNOWN), "already known");
	cr_assert_str_eq(txpool_reason_str(TXPOOL_ERR_INVALID_SENDER), "invalid sender");
	cr_assert_str_eq(txpool_reason_str(TXPOOL_ERR_OVERSIZED), "oversized data");
	for (int r = 0; r < TXPOOL_REASON_COUNT; r++)
		cr_assert_str_neq(txpool_reason_str((enum txpool_reason)r), "unknown reason");
	cr_assert_str_eq(txpool_reason_str(TXPOOL_REASON_COUNT), "unknown reason");
}

Test(txpool, config_is_checked)
{
	struct txpool_config c;
	struct txpool_state_reader r = ms_reader(&ms);
	struct txpool *p;
	txpool_config_default(&c, tp_mainnet(), 2);      /* mainnet has 2 shards */
	cr_assert_eq(txpool_new(&p, &c, &r), -CN_EINVAL);
	txpool_config_default(&c, tp_mainnet(), 1);
	c.global_queue = 0;
	cr_assert_eq(txpool_new(&p, &c, &r), -CN_EINVAL);
	txpool_config_default(&c, tp_mainnet(), 1);
	r.get_balance = NULL;
	cr_assert_eq(txpool_new(&p, &c, &r), -CN_EINVAL);
	txpool_config_default(&c, tp_mainnet(), 1);
	cr_assert(u256_eq(&c.min_gas_price, &(struct u256){{100 * GWEI, 0, 0, 0}}));
	cr_assert_eq(c.price_bump, 10);
}

Test(txpool, every_rejection_path)
{
	struct txpool *p = mkpool(NULL);
	struct tx t;
	struct txpool_result r;

	/* Raw bytes that are no transaction. */
	const uint8_t junk[] = {0xc3, 0x01, 0x02};
	cr_assert_eq(txpool_add_raw(p, junk, sizeof junk, &r), -CN_EINVAL);
	cr_assert_eq(r.reason, TXPOOL_ERR_DECODE);

	/* Typed (EIP-1559) transaction. */
	t = tp_tx(0, 100, ether(0));
	t.type = TX_DYNAMIC_FEE;
	t.chain_id = 1666600000;
	t.gas_fee_cap = t.gas_tip_cap = gwei(100);
	tp_sign(&t, 1);
	bad(p, t, TXPOOL_ERR_TX_TYPE);

	/* Wrong chain IDs: testnet's Harmony ID, unprotected, another
	 * shard's Ethereum ID in the Ethereum form. */
	t = tp_tx(0, 100, ether(0));
	t.chain_id = 2;
	tp_sign(&t, 1);
	bad(p, t, TXPOOL_ERR_CHAIN_ID);
	t = tp_tx(0, 100, ether(0));
	t.chain_id = 0;
	tp_sign(&t, 1);
	bad(p, t, TXPOOL_ERR_CHAIN_ID);
	t = tp_tx(0, 100, ether(0));
	t.type = TX_LEGACY;
	t.chain_id = 1666600001;
	tp_sign(&t, 1);
	bad(p, t, TXPOOL_ERR_CHAIN_ID);

	/* Wrong shard, and a destination shard the network lacks. */
	t = tp_tx(0, 100, ether(0));
	t.shard_id = t.to_shard_id = 1;
	tp_sign(&t, 1);
	cr_assert_eq(txpool_add(p, &t, &r), -CN_EINVAL);
	cr_assert_eq(r.reason, TXPOOL_ERR_SHARD);
	cr_assert(strstr(r.msg, "transaction shard 1 does not match node shard 0"), "%s", r.msg);
	tx_free(&t);
	t = tp_tx(0, 100, ether(0));
	t.to_shard_id = 2;
	tp_sign(&t, 1);
	bad(p, t, TXPOOL_ERR_TO_SHARD);

	/* Oversized: 128 KiB of zero calldata. */
	t = tp_tx(0, 100, ether(0));
	t.data_len = 128 * 1024;
	t.data = calloc(1, t.data_len);
	t.gas_limit = 21000 + 4 * t.data_len;
	tp_sign(&t, 1);
	bad(p, t, TXPOOL_ERR_OVERSIZED);

	/* Gas limit above the block's. */
	t = tp_tx(0, 100, ether(0));
	t.gas_limit = 30000001;
	tp_sign(&t, 1);
	bad(p, t, TXPOOL_ERR_GAS_LIMIT);

	/* Signatures that recover nobody: r = 0, and a high s. */
	t = tp_signed(1, 0, 100, ether(0));
	t.r = u256_from_u64(0);
	bad(p, t, TXPOOL_ERR_INVALID_SENDER);
	t = tp_signed(1, 0, 100, ether(0));
	struct u256 n;
	cr_assert_eq(u256_parse_hex(&n, "0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141", 66), 0);
	u256_sub(&t.s, &n, &t.s);
	bad(p, t, TXPOOL_ERR_INVALID_SENDER);

	/* Below the 100 gwei minimum. */
	bad(p, tp_signed(1, 0, 99, ether(0)), TXPOOL_ERR_UNDERPRICED);

	/* Intrinsic gas: plain transfer, calldata, contract creation. */
	t = tp_tx(0, 100, ether(0));
	t.gas_limit = 20999;
	tp_sign(&t, 1);
	bad(p, t, TXPOOL_ERR_INTRINSIC_GAS);
	t = tp_tx(0, 100, ether(0));
	t.data = malloc(3);
	t.data[0] = 0, t.data[1] = 1, t.data[2] = 2;
	t.data_len = 3;
	t.gas_limit = 21000 + 4 + 16 + 16 - 1;
	cr_assert_eq(txpool_intrinsic_gas(&t), 21036);
	tp_sign(&t, 1);
	bad(p, t, TXPOOL_ERR_INTRINSIC_GAS);
	t = tp_tx(0, 100, ether(0));
	t.has_to = 0;
	t.gas_limit = 52999;
	tp_sign(&t, 1);
	bad(p, t, TXPOOL_ERR_INTRINSIC_GAS);

	/* Nonce too low and insufficient funds come from the state. */
	ms_set(&ms, 2, 5, ether(1));
	bad(p, tp_signed(2, 4, 100, ether(0)), TXPOOL_ERR_NONCE_TOO_LOW);
	t = tp_signed(2, 5, 100, ether(1));   /* 1 ONE + gas > 1 ONE */
	cr_assert_eq(txpool_add(p, &t, &r), -CN_EINVAL);
	cr_assert_eq(r.reason, TXPOOL_ERR_INSUFFICIENT_FUNDS);
	cr_assert(strstr(r.msg, "have 1000000000000000000 want 1002100000000000000"), "%s", r.msg);
	tx_free(&t);
	ok(p, tp_signed(2, 5, 100, ether(0)));

	/* Already known, by resubmission. */
	t = tp_signed(3, 0, 100, ether(1));
	struct tx t2 = t;
	cr_assert_eq(txpool_add(p, &t2, &r), 0);
	bad(p, t, TXPOOL_ERR_KNOWN);

	/* Replacement: the same price, +5 %, then exactly +10 %. */
	bad(p, tp_signed(3, 0, 100, ether(2)), TXPOOL_ERR_REPLACE_UNDERPRICED);
	bad(p, tp_signed(3, 0, 105, ether(2)), TXPOOL_ERR_REPLACE_UNDERPRICED);
	t = tp_signed(3, 0, 110, ether(2));
	cr_assert_eq(txpool_add(p, &t, &r), 0);
	cr_assert(r.replaced);
	tx_free(&t);
	cr_assert_eq(dl.n, 1);
	cr_assert_eq(dl.why[0], TXPOOL_DROP_REPLACED);

	/* A state that cannot be read (a new account triggers a read). */
	ms.fail = 1;
	t = tp_signed(4, 0, 100, ether(0));
	cr_assert_eq(txpool_add(p, &t, &r), -CN_EIO);
	cr_assert_eq(r.reason, TXPOOL_ERR_STATE);
	tx_free(&t);
	ms.fail = 0;

	size_t np, nq;
	txpool_stats(p, &np, &nq);
	cr_assert_eq(np, 2);
	cr_assert_eq(nq, 0);
	txpool_free(p);
}

Test(txpool, ethereum_form_is_converted_and_found_by_both_hashes)
{
	struct txpool *p = mkpool(NULL);
	struct tx t = tp_tx(0, 100, ether(1));
	t.type = TX_LEGACY;
	t.chain_id = 1666600000;
	tp_sign(&t, 5);
	uint8_t eth[32];
	cr_assert_eq(tx_hash(&t, eth), 0);
	uint8_t *raw;
	size_t len;
	cr_assert_eq(tx_encode(&t, &raw, &len), 0);
	struct txpool_result r;
	cr_assert_eq(txpool_add_raw(p, raw, len, &r), 0, "%s", r.msg);
	cr_assert(!memcmp(r.eth_hash, eth, 32));
	cr_assert(memcmp(r.hash, eth, 32));
	struct txpool_tx *a, *b;
	cr_assert_eq(txpool_get(p, eth, &a), 0);
	cr_assert_eq(txpool_get(p, r.hash, &b), 0);
	cr_assert_eq(a, b);
	cr_assert_eq(a->tx.type, TX_HARMONY);
	cr_assert_eq(a->tx.shard_id, 0);
	uint8_t want[20];
	tp_addr(5, want);
	cr_assert(!memcmp(a->sender, want, 20));
	/* The stored encoding is the Harmony form and hashes to its hash. */
	uint8_t h[32];
	keccak256(a->raw, a->raw_len, h);
	cr_assert(!memcmp(h, a->hash, 32));
	txpool_tx_unref(a);
	txpool_tx_unref(b);
	/* Resubmitting the Ethereum bytes is "already known". */
	cr_assert_eq(txpool_add_raw(p, raw, len, &r), -CN_EEXIST);
	cr_assert_str_eq(r.msg, "already known");
	free(raw);
	tx_free(&t);
	txpool_free(p);
}

Test(txpool, promotion_when_the_gap_fills)
{
	struct txpool *p = mkpool(NULL);
	struct tx t;
	struct txpool_result r;
	uint8_t h2[32], h1[32], h0[32], a[20];
	tp_addr(1, a);

	t = tp_signed(1, 2, 100, ether(0));
	cr_assert_eq(txpool_add(p, &t, &r), 0);
	cr_assert(!r.pending);
	memcpy(h2, r.hash, 32);
	tx_free(&t);
	t = tp_signed(1, 1, 100, ether(0));
	cr_assert_eq(txpool_add(p, &t, &r), 0);
	memcpy(h1, r.hash, 32);
	tx_free(&t);
	cr_assert_eq(txpool_status(p, h2), TXPOOL_QUEUED);
	uint64_t pn;
	cr_assert_eq(txpool_pending_nonce(p, a, &pn), 0);
	cr_assert_eq(pn, 0);

	t = tp_signed(1, 0, 100, ether(0));
	cr_assert_eq(txpool_add(p, &t, &r), 0);
	cr_assert(r.pending);
	memcpy(h0, r.hash, 32);
	tx_free(&t);
	cr_assert_eq(txpool_status(p, h0), TXPOOL_PENDING);
	cr_assert_eq(txpool_status(p, h1), TXPOOL_PENDING);
	cr_assert_eq(txpool_status(p, h2), TXPOOL_PENDING);
	cr_assert_eq(txpool_pending_nonce(p, a, &pn), 0);
	cr_assert_eq(pn, 3);

	/* Removing the middle one demotes the last. */
	cr_assert_eq(txpool_remove(p, h1), 0);
	cr_assert_eq(txpool_remove(p, h1), -CN_ENOTFOUND);
	cr_assert_eq(txpool_status(p, h1), TXPOOL_UNKNOWN);
	cr_assert_eq(txpool_status(p, h2), TXPOOL_QUEUED);
	size_t np, nq;
	txpool_stats(p, &np, &nq);
	cr_assert_eq(np, 1);
	cr_assert_eq(nq, 1);

	/* State nonce moving past a queued gap promotes it at reset. */
	ms_set(&ms, 1, 2, ether(100));
	cr_assert_eq(txpool_reset(p, 0), 0);
	cr_assert_eq(txpool_status(p, h0), TXPOOL_UNKNOWN);
	cr_assert_eq(txpool_status(p, h2), TXPOOL_PENDING);
	cr_assert_eq(txpool_pending_nonce(p, a, &pn), 0);
	cr_assert_eq(pn, 3);
	txpool_free(p);
}

Test(txpool, reset_after_a_block)
{
	struct txpool *p = mkpool(NULL);
	struct txpool_result r;
	uint8_t h[5][32];
	for (int i = 0; i < 5; i++) {
		struct tx t = tp_signed(1, (uint64_t)i, 100, ether(10));
		cr_assert_eq(txpool_add(p, &t, &r), 0);
		memcpy(h[i], r.hash, 32);
		tx_free(&t);
	}
	/* A block included nonces 0 and 1 and spent most of the balance:
	 * 2 and 3 remain affordable (10 ONE each, checked one by one, as
	 * geth does), then a lower balance drops 3 and demotes 4. */
	ms_set(&ms, 1, 2, ether(11));
	cr_assert_eq(txpool_reset(p, 0), 0);
	cr_assert_eq(dl.n, 2);
	cr_assert_eq(dl.why[0], TXPOOL_ERR_NONCE_TOO_LOW);
	cr_assert_eq(dl.why[1], TXPOOL_ERR_NONCE_TOO_LOW);
	size_t np, nq;
	txpool_stats(p, &np, &nq);
	cr_assert_eq(np, 3);

	/* Drop nonce 3 by hand through a balance that no longer covers a
	 * transaction costing more: raise the cost of 3 by replacing it. */
	struct tx t = tp_signed(1, 3, 200, ether(10));
	cr_assert_eq(txpool_add(p, &t, &r), 0);
	tx_free(&t);
	/* Now 3 costs 10 ONE + 21000*200 gwei; a balance of 10.003 ONE covers
	 * 2 and 4 (10.0021) but not 3 (10.0042). */
	struct u256 b = ether(10), extra = gwei(3000000);
	u256_add(&b, &b, &extra);
	ms_set(&ms, 1, 2, b);
	dl.n = 0;
	cr_assert_eq(txpool_reset(p, 0), 0);
	cr_assert_eq(dl.n, 1);
	cr_assert_eq(dl.why[0], TXPOOL_ERR_INSUFFICIENT_FUNDS);
	cr_assert_eq(dl.nonce[0], 3);
	cr_assert_eq(txpool_status(p, h[2]), TXPOOL_PENDING);
	cr_assert_eq(txpool_status(p, h[4]), TXPOOL_QUEUED);

	/* A lower block gas limit drops what no longer fits. */
	t = tp_signed(2, 0, 100, ether(0));
	t.gas_limit = 50000;
	tp_sign(&t, 2);
	cr_assert_eq(txpool_add(p, &t, &r), 0);
	tx_free(&t);
	dl.n = 0;
	cr_assert_eq(txpool_reset(p, 40000), 0);
	cr_assert_eq(dl.n, 1);
	cr_assert_eq(dl.why[0], TXPOOL_ERR_GAS_LIMIT);
	t = tp_signed(2, 0, 100, ether(0));
	t.gas_limit = 50000;
	tp_sign(&t, 2);
	bad(p, t, TXPOOL_ERR_GAS_LIMIT);

	/* A reader failure is reported and the account keeps its view. */
	ms.fail = 1;
	cr_assert_eq(txpool_reset(p, 0), -CN_EIO);
	ms.fail = 0;
	cr_assert_eq(txpool_status(p, h[2]), TXPOOL_PENDING);
	txpool_free(p);
}

Test(txpool, select_orders_by_price_then_nonce_within_budget)
{
	struct txpool *p = mkpool(NULL);
	/* Account 1: 100, 300 gwei; account 2: 200, 200; account 3: 150.
	 * Best head first: 2/0 (200) since 1/0 is 100; then 2/1 (200);
	 * then 3/0 (150); then 1/0 (100), 1/1 (300). */
	ok(p, tp_signed(1, 0, 100, ether(0)));
	ok(p, tp_signed(1, 1, 300, ether(0)));
	ok(p, tp_signed(2, 0, 200, ether(0)));
	ok(p, tp_signed(2, 1, 200, ether(0)));
	ok(p, tp_signed(3, 0, 150, ether(0)));
	ok(p, tp_signed(4, 1, 900, ether(0)));   /* queued: never selected */
	struct txpool_tx **v;
	size_t n;
	cr_assert_eq(txpool_select(p, 30000000, 100, &v, &n), 0);
	cr_assert_eq(n, 5);
	uint8_t a1[20], a2[20], a3[20];
	tp_addr(1, a1);
	tp_addr(2, a2);
	tp_addr(3, a3);
	const uint8_t *who[5] = {a2, a2, a3, a1, a1};
	const uint64_t nonce[5] = {0, 1, 0, 0, 1};
	for (size_t i = 0; i < 5; i++) {
		cr_assert(!memcmp(v[i]->sender, who[i], 20), "position %zu", i);
		cr_assert_eq(v[i]->tx.nonce, nonce[i]);
	}
	txpool_txs_release(v, n);

	/* Budget for 3 transfers; max count 2. */
	cr_assert_eq(txpool_select(p, 3 * 21000 + 20999, 100, &v, &n), 0);
	cr_assert_eq(n, 3);
	txpool_txs_release(v, n);
	cr_assert_eq(txpool_select(p, 30000000, 2, &v, &n), 0);
	cr_assert_eq(n, 2);
	txpool_txs_release(v, n);

	/* A big transaction that does not fit ends its sender's run but not
	 * the selection. */
	struct tx t = tp_tx(1, 500, ether(0));
	t.gas_limit = 100000;
	tp_sign(&t, 3);
	ok(p, t);
	ok(p, tp_signed(3, 2, 500, ether(0)));
	cr_assert_eq(txpool_select(p, 21000 * 3 + 50000, 100, &v, &n), 0);
	/* 2/0, 2/1, 3/0 fit (63 000), then 3/1 (100 000) does not and 3/2
	 * is skipped with it; 1/0 and 1/1 still fit. */
	cr_assert_eq(n, 5);
	cr_assert(!memcmp(v[3]->sender, a1, 20) && !memcmp(v[4]->sender, a1, 20));
	txpool_txs_release(v, n);

	/* Equal prices: earlier arrival first. */
	struct txpool *q = mkpool(NULL);
	ok(q, tp_signed(7, 0, 100, ether(0)));
	ok(q, tp_signed(6, 0, 100, ether(0)));
	ok(q, tp_signed(8, 0, 100, ether(0)));
	cr_assert_eq(txpool_select(q, 30000000, 100, &v, &n), 0);
	cr_assert_eq(n, 3);
	uint8_t a7[20], a6[20];
	tp_addr(7, a7);
	tp_addr(6, a6);
	cr_assert(!memcmp(v[0]->sender, a7, 20));
	cr_assert(!memcmp(v[1]->sender, a6, 20));
	cr_assert(v[0]->seq < v[1]->seq && v[1]->seq < v[2]->seq);
	txpool_txs_release(v, n);
	txpool_free(q);
	txpool_free(p);
}

Test(txpool, references_outlive_the_pool)
{
	struct txpool *p = mkpool(NULL);
	struct txpool_result r;
	struct tx t = tp_signed(1, 0, 100, ether(0));
	cr_assert_eq(txpool_add(p, &t, &r), 0);
	tx_free(&t);
	struct txpool_tx *x;
	cr_assert_eq(txpool_get(p, r.hash, &x), 0);
	txpool_free(p);
	cr_assert_eq(x->tx.nonce, 0);
	cr_assert(!memcmp(x->hash, r.hash, 32));
	txpool_tx_unref(x);
}

Test(txpool, account_queue_limit)
{
	struct txpool_config c;
	txpool_config_default(&c, tp_mainnet(), 0);
	c.account_queue = 3;
	struct txpool *p = mkpool(&c);
	ok(p, tp_signed(1, 2, 100, ether(0)));
	ok(p, tp_signed(1, 3, 100, ether(0)));
	ok(p, tp_signed(1, 4, 100, ether(0)));
	bad(p, tp_signed(1, 5, 100, ether(0)), TXPOOL_ERR_ACCOUNT_LIMIT);
	/* A lower nonce is taken; the highest queued one gives way. */
	ok(p, tp_signed(1, 1, 100, ether(0)));
	cr_assert_eq(dl.n, 1);
	cr_assert_eq(dl.nonce[0], 4);
	cr_assert_eq(dl.why[0], TXPOOL_ERR_ACCOUNT_LIMIT);
	/* Filling the gap makes them pending: room again. */
	ok(p, tp_signed(1, 0, 100, ether(0)));
	ok(p, tp_signed(1, 4, 100, ether(0)));
	size_t np, nq;
	txpool_stats(p, &np, &nq);
	cr_assert_eq(np, 5);
	cr_assert_eq(nq, 0);
	txpool_free(p);
}

Test(txpool, full_pool_evicts_the_cheapest)
{
	struct txpool_config c;
	txpool_config_default(&c, tp_mainnet(), 0);
	c.global_slots = 4;
	c.global_queue = 2;
	struct txpool *p = mkpool(&c);
	for (unsigned i = 0; i < 6; i++)
		ok(p, tp_signed(i, 0, i == 3 ? 120 : 110, ether(0)));
	bad(p, tp_signed(10, 0, 110, ether(0)), TXPOOL_ERR_POOL_FULL);
	bad(p, tp_signed(10, 0, 100, ether(0)), TXPOOL_ERR_POOL_FULL);
	/* Dearer: evicts the newest of the cheapest (account 5). */
	ok(p, tp_signed(10, 0, 111, ether(0)));
	cr_assert_eq(dl.n, 1, "%zu drops: %d %d", dl.n, dl.why[0], dl.why[1]);
	cr_assert_eq(dl.why[0], TXPOOL_ERR_POOL_FULL);
	struct txpool_tx **v;
	size_t n;
	cr_assert_eq(txpool_content(p, TXPOOL_PENDING, &v, &n), 0);
	uint8_t a5[20];
	tp_addr(5, a5);
	for (size_t i = 0; i < n; i++)
		cr_assert(memcmp(v[i]->sender, a5, 20));
	txpool_txs_release(v, n);
	/* Pending went over global_slots (5 > 4) but nobody holds more than
	 * account_slots, so the fairness rule keeps them all. */
	size_t np, nq;
	txpool_stats(p, &np, &nq);
	cr_assert_eq(np + nq, 6);
	/* A replacement does not need room. */
	ok(p, tp_signed(10, 0, 200, ether(0)));
	txpool_free(p);
}

Test(txpool, fairness_cuts_the_biggest_sender)
{
	struct txpool_config c;
	txpool_config_default(&c, tp_mainnet(), 0);
	c.global_slots = 8;
	c.account_slots = 2;
	struct txpool *p = mkpool(&c);
	ok(p, tp_signed(1, 0, 100, ether(0)));
	ok(p, tp_signed(1, 1, 100, ether(0)));
	for (uint64_t k = 0; k < 6; k++)
		ok(p, tp_signed(2, k, 100, ether(0)));
	/* 8 pending; a 9th from account 2 is cut at once. */
	bad(p, tp_signed(2, 6, 100, ether(0)), TXPOOL_DROP_FAIRNESS);
	/* From account 3 it stays: account 2 (6 pending) loses its highest. */
	ok(p, tp_signed(3, 0, 100, ether(0)));
	cr_assert_eq(dl.n, 2);
	cr_assert_eq(dl.why[1], TXPOOL_DROP_FAIRNESS);
	cr_assert_eq(dl.nonce[1], 5);
	size_t np, nq;
	txpool_stats(p, &np, &nq);
	cr_assert_eq(np, 8);
	txpool_free(p);
}

Test(txpool, global_queue_drops_the_cheapest_queued)
{
	struct txpool_config c;
	txpool_config_default(&c, tp_mainnet(), 0);
	c.global_queue = 3;
	struct txpool *p = mkpool(&c);
	ok(p, tp_signed(1, 1, 150, ether(0)));
	ok(p, tp_signed(2, 1, 120, ether(0)));
	ok(p, tp_signed(3, 1, 130, ether(0)));
	bad(p, tp_signed(4, 1, 110, ether(0)), TXPOOL_DROP_GLOBAL_QUEUE);
	ok(p, tp_signed(4, 1, 125, ether(0)));
	cr_assert_eq(dl.n, 2);
	cr_assert_eq(dl.why[1], TXPOOL_DROP_GLOBAL_QUEUE);
	uint8_t a2[20];
	tp_addr(2, a2);
	struct txpool_tx **v;
	size_t n;
	cr_assert_eq(txpool_content(p, TXPOOL_QUEUED, &v, &n), 0);
	cr_assert_eq(n, 3);
	for (size_t i = 0; i < n; i++) {
		cr_assert(memcmp(v[i]->sender, a2, 20));
		if (i)
			cr_assert(memcmp(v[i - 1]->sender, v[i]->sender, 20) < 0);
	}
	txpool_txs_release(v, n);
	/* Pending transactions are not counted against the queue. */
	ok(p, tp_signed(5, 0, 100, ether(0)));
	txpool_free(p);
}

Test(txpool, queued_transactions_of_silent_senders_expire)
{
	struct txpool_config c;
	txpool_config_default(&c, tp_mainnet(), 0);
	cr_assert_eq(c.lifetime_ms, 1800000);
	c.lifetime_ms = 1000;
	struct txpool *p = mkpool(&c);
	txpool_tick(p, 5000);
	ok(p, tp_signed(1, 0, 100, ether(0)));
	ok(p, tp_signed(1, 2, 100, ether(0)));
	ok(p, tp_signed(1, 3, 100, ether(0)));
	ok(p, tp_signed(2, 5, 100, ether(0)));
	txpool_tick(p, 5500);
	ok(p, tp_signed(2, 6, 100, ether(0)));      /* refreshes account 2 */
	txpool_tick(p, 6000);
	size_t np, nq;
	txpool_stats(p, &np, &nq);
	cr_assert_eq(nq, 4);
	txpool_tick(p, 6001);                       /* account 1 silent > 1 s */
	txpool_stats(p, &np, &nq);
	cr_assert_eq(np, 1);
	cr_assert_eq(nq, 2);
	cr_assert_eq(dl.n, 2);
	cr_assert_eq(dl.why[0], TXPOOL_DROP_EXPIRED);
	txpool_tick(p, 6501);
	txpool_stats(p, &np, &nq);
	cr_assert_eq(np, 1);
	cr_assert_eq(nq, 0);
	txpool_free(p);
}
