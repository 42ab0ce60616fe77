/* Execution of transfers: balances, fees, receipts, CX receipts, and every
 * reason a transaction is refused. */
#include "helpers.h"

#include "base/bytes.h"
#include "crypto/crypto.h"
#include "state/state.h"

static struct tchain T;
static uint8_t sk[CHAIN_LOCALNET_ACCOUNTS][32], addr[CHAIN_LOCALNET_ACCOUNTS][20];

static void setup(void)
{
	tchain_new(&T, 0);
	for (unsigned i = 0; i < CHAIN_LOCALNET_ACCOUNTS; i++)
		cr_assert_eq(chain_localnet_account(i, sk[i], addr[i]), 0);
}
static void teardown(void) { tchain_free(&T); }

TestSuite(chain_exec, .init = setup, .fini = teardown);

static struct u256 bal(const uint8_t a[20])
{
	struct u256 v;
	cr_assert_eq(chain_balance(T.c, a, &v), 0);
	return v;
}

static struct u256 u(uint64_t v) { return u256_from_u64(v); }

static void transfer(struct tx *tx, unsigned from, uint64_t nonce, const uint8_t to[20],
                     uint32_t to_shard, uint64_t value)
{
	struct u256 v = u(value);
	cr_assert_eq(chain_sign_transfer(tx, chain_params(T.c), T.shard, to_shard, sk[from], nonce, to,
	                                 &v), 0);
}

/* Builds a block from txs, expects every tx in, inserts it. */
static void build_insert(struct tx *txs, size_t n)
{
	struct block b;
	struct chain_build_opts o = {{0}, 0, 0};
	enum chain_reason why[16];
	struct chain_why w;
	cr_assert_eq(chain_build(T.c, &o, txs, n, &b, why), 0);
	for (size_t i = 0; i < n; i++)
		cr_assert_eq(why[i], CHAIN_OK, "tx %zu skipped: %s", i, chain_reason_str(why[i]));
	cr_assert_eq(b.ntxs, n);
	int rc = chain_insert(T.c, &b, &w);
	cr_assert_eq(rc, 0, "insert: %s", w.msg);
	block_free(&b);
}

/* The reason the builder gives for one tx (and check_tx/apply directly). */
static enum chain_reason skip_reason(const struct tx *tx)
{
	struct block b;
	struct chain_build_opts o = {{0}, 0, 0};
	enum chain_reason why;
	cr_assert_eq(chain_build(T.c, &o, tx, 1, &b, &why), 0);
	cr_assert_eq(b.ntxs, why == CHAIN_OK ? 1u : 0u);
	block_free(&b);
	return why;
}

static const uint8_t dest[20] = {0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};

Test(chain_exec, genesis_is_funded_and_deterministic)
{
	cr_assert_eq(chain_head(T.c)->number, 0);
	struct u256 want;
	cr_assert_eq(u256_parse_dec(&want, "10000000000000000000000000000", 29), 0);
	for (unsigned i = 0; i < CHAIN_LOCALNET_ACCOUNTS; i++) {
		struct u256 b = bal(addr[i]);
		cr_assert(u256_eq(&b, &want));
	}
	/* The same genesis in another directory has the same hash. */
	struct tchain t2;
	tchain_new(&t2, 0);
	uint8_t h1[32], h2[32];
	chain_head_hash(T.c, h1);
	chain_head_hash(t2.c, h2);
	cr_assert_eq(memcmp(h1, h2, 32), 0);
	tchain_free(&t2);
	/* Shard 1's genesis differs (shard ID in the header). */
	tchain_new(&t2, 1);
	chain_head_hash(t2.c, h2);
	cr_assert_neq(memcmp(h1, h2, 32), 0);
	tchain_free(&t2);
	/* A second init is refused. */
	struct chain_genesis g;
	uint8_t h[32];
	cr_assert_eq(chain_genesis_default(&g, "localnet", 0), 0);
	cr_assert_eq(chain_init(T.st, &g, h), -CN_EEXIST);
	cr_assert_eq(g.committee.ncommittees, 2);
	cr_assert_eq(g.committee.committees[0].nslots, CHAIN_LOCALNET_VALIDATORS);
	chain_genesis_free(&g);
	/* Opening as another shard or network is refused. */
	const struct netparams *np;
	struct chain *c;
	cr_assert_eq(netparams_get("localnet", &np), 0);
	cr_assert_eq(chain_open(&c, T.st, np, 1), -CN_EINVAL);
	cr_assert_eq(netparams_get("testnet", &np), 0);
	cr_assert_eq(chain_open(&c, T.st, np, 0), -CN_EINVAL);
	/* Account 0's address is the one docs/chain.md lists. */
	char hx[43];
	addr_to_hex(addr[0], hx);
	cr_assert_str_eq(hx, "0x10936C67dEc11ceEfF1191C929d5E8b0a9458082");
	chain_localnet_account(15, sk[15], addr[15]);
	addr_to_hex(addr[15], hx);
	cr_assert_str_eq(hx, "0xcE2B00A2Ed0f458FB1405FC1c236d6E970143394");
	/* Every network's genesis has its own hash. */
	const char *nets[] = {"localnet", "testnet", "mainnet", "partner"};
	uint8_t gh[4][32];
	for (int i = 0; i < 4; i++) {
		char d[] = "/tmp/canon-chain-XXXXXX";
		struct store *st;
		cr_assert_not_null(mkdtemp(d));
		cr_assert_eq(store_open_chain(&st, d, nets[i], 0, NULL), 0);
		cr_assert_eq(chain_genesis_default(&g, nets[i], 0), 0);
		cr_assert_eq(chain_init(st, &g, gh[i]), 0);
		chain_genesis_free(&g);
		store_close(st);
		char cmd[64];
		snprintf(cmd, sizeof cmd, "rm -rf %s", d);
		cr_assert_eq(system(cmd), 0);
		for (int j = 0; j < i; j++)
			cr_assert_neq(memcmp(gh[i], gh[j], 32), 0, "%s and %s", nets[i], nets[j]);
	}
}

Test(chain_exec, same_shard_transfers_balance_out)
{
	struct tx txs[3];
	transfer(&txs[0], 0, 0, dest, 0, 1000);
	transfer(&txs[1], 0, 1, addr[1], 0, 5000);
	transfer(&txs[2], 2, 0, dest, 0, 7);
	struct u256 b0 = bal(addr[0]), b1 = bal(addr[1]), b2 = bal(addr[2]);
	build_insert(txs, 3);
	const struct chain_fee_collector *fc;
	size_t nfc;
	chain_fee_collectors(chain_params(T.c), &fc, &nfc);
	cr_assert_eq(nfc, 2);
	uint64_t fee = 21000ull * chain_params(T.c)->min_gas_price;
	struct u256 x, y;
	/* account 0 paid 6000 + 2 fees; account 1 gained 5000; account 2 paid 7 + fee. */
	u256_sub(&x, &b0, &(struct u256){{6000 + 2 * fee, 0, 0, 0}});
	y = bal(addr[0]);
	cr_assert(u256_eq(&x, &y));
	u256_add(&x, &b1, &(struct u256){{5000, 0, 0, 0}});
	y = bal(addr[1]);
	cr_assert(u256_eq(&x, &y));
	u256_sub(&x, &b2, &(struct u256){{7 + fee, 0, 0, 0}});
	y = bal(addr[2]);
	cr_assert(u256_eq(&x, &y));
	y = bal(dest);
	cr_assert(u256_eq(&y, &(struct u256){{1007, 0, 0, 0}}));
	/* Fees: 50 % to each collector; nothing created or destroyed. */
	for (size_t i = 0; i < nfc; i++) {
		y = bal(fc[i].addr);
		cr_assert(u256_eq(&y, &(struct u256){{3 * fee / 2, 0, 0, 0}}));
	}
	uint64_t n;
	cr_assert_eq(chain_nonce(T.c, addr[0], &n), 0);
	cr_assert_eq(n, 2);
	/* Receipts: status 1, cumulative gas. */
	uint8_t h[32], bh[32];
	chain_head_hash(T.c, h);
	struct receipt *r;
	size_t nr;
	cr_assert_eq(chain_receipts(T.c, h, &r, &nr), 0);
	cr_assert_eq(nr, 3);
	for (size_t i = 0; i < nr; i++) {
		cr_assert_eq(r[i].status, 1);
		cr_assert_eq(r[i].cumulative_gas, 21000 * (i + 1));
		receipt_free(&r[i]);
	}
	free(r);
	cr_assert_eq(chain_head(T.c)->gas_used, 63000);
	/* Lookup by Harmony and by Ethereum hash. */
	uint8_t th[32];
	uint64_t num;
	uint32_t idx;
	cr_assert_eq(tx_hash(&txs[1], th), 0);
	cr_assert_eq(chain_tx_lookup(T.c, th, bh, &num, &idx), 0);
	cr_assert_eq(memcmp(bh, h, 32), 0);
	cr_assert_eq(num, 1);
	cr_assert_eq(idx, 1);
	cr_assert_eq(tx_eth_hash(&txs[2], th), 0);
	cr_assert_eq(chain_tx_lookup(T.c, th, bh, &num, &idx), 0);
	cr_assert_eq(idx, 2);
	/* Reads by number and by hash agree. */
	struct header hd;
	struct block blk;
	cr_assert_eq(chain_header_at(T.c, 1, &hd), 0);
	uint8_t hh[32];
	cr_assert_eq(header_hash(&hd, hh), 0);
	cr_assert_eq(memcmp(hh, h, 32), 0);
	header_free(&hd);
	cr_assert_eq(chain_block_by_hash(T.c, h, &blk), 0);
	cr_assert_eq(blk.ntxs, 3);
	cr_assert_eq(blk.header.number, 1);
	block_free(&blk);
	cr_assert_eq(chain_header_at(T.c, 2, &hd), -CN_ENOTFOUND);
	hh[0] ^= 1;
	cr_assert_eq(chain_block_by_hash(T.c, hh, &blk), -CN_ENOTFOUND);
	for (int i = 0; i < 3; i++)
		tx_free(&txs[i]);
	struct chain_why w;
	cr_assert_eq(chain_verify_db(T.c, &w), 0, "%s", w.msg);
}

Test(chain_exec, cross_shard_debit_emits_cx_receipt)
{
	struct tx tx;
	transfer(&tx, 3, 0, dest, 1, 123456789);
	struct u256 b3 = bal(addr[3]);
	build_insert(&tx, 1);
	uint64_t fee = 21000ull * chain_params(T.c)->min_gas_price;
	struct u256 x, y = bal(addr[3]);
	u256_sub(&x, &b3, &(struct u256){{123456789 + fee, 0, 0, 0}});
	cr_assert(u256_eq(&x, &y));
	y = bal(dest);
	cr_assert(u256_is_zero(&y), "the destination shard credits, not this one");
	struct cx_receipt *cx;
	size_t n;
	cr_assert_eq(chain_cx_outgoing(T.c, 1, 1, &cx, &n), 0);
	cr_assert_eq(n, 1);
	uint8_t th[32];
	cr_assert_eq(tx_hash(&tx, th), 0);
	cr_assert_eq(memcmp(cx[0].tx_hash, th, 32), 0);
	cr_assert_eq(memcmp(cx[0].from, addr[3], 20), 0);
	cr_assert_eq(memcmp(cx[0].to, dest, 20), 0);
	cr_assert_eq(cx[0].shard_id, 0);
	cr_assert_eq(cx[0].to_shard_id, 1);
	cr_assert(u256_eq(&cx[0].amount, &(struct u256){{123456789, 0, 0, 0}}));
	uint8_t root[32];
	cr_assert_eq(cx_outgoing_root(cx, n, root), 0);
	cr_assert_eq(memcmp(root, chain_head(T.c)->outgoing_receipt_hash, 32), 0);
	cr_assert_neq(memcmp(root, core_empty_root, 32), 0);
	free(cx);
	cr_assert_eq(chain_cx_outgoing(T.c, 0, 1, &cx, &n), -CN_ENOTFOUND);
	tx_free(&tx);
}

Test(chain_exec, ethereum_chain_id_tx_accepted)
{
	struct tx tx;
	transfer(&tx, 4, 0, dest, 0, 99);
	tx.chain_id = netparams_eth_chain_id(chain_params(T.c), 0);
	cr_assert_eq(tx_sign(&tx, sk[4]), 0);
	build_insert(&tx, 1);
	uint8_t th[32], bh[32];
	uint64_t num;
	uint32_t idx;
	cr_assert_eq(tx_eth_hash(&tx, th), 0);
	cr_assert_eq(chain_tx_lookup(T.c, th, bh, &num, &idx), 0);
	tx_free(&tx);
	/* ... but an Ethereum-signed tx may not be made cross-shard. */
	transfer(&tx, 4, 1, dest, 1, 99);
	tx.chain_id = netparams_eth_chain_id(chain_params(T.c), 0);
	cr_assert_eq(tx_sign(&tx, sk[4]), 0);
	cr_assert_eq(skip_reason(&tx), CHAIN_R_TO_SHARD);
	tx_free(&tx);
}

Test(chain_exec, every_rejection_reason)
{
	struct tx tx;
	/* Bad signature: s above n/2. */
	transfer(&tx, 0, 0, dest, 0, 1);
	memset(tx.s.w, 0xff, sizeof tx.s.w);
	cr_assert_eq(skip_reason(&tx), CHAIN_R_BAD_SIG);
	tx_free(&tx);
	/* Bad signature: r = 0. */
	transfer(&tx, 0, 0, dest, 0, 1);
	tx.r = u(0);
	cr_assert_eq(skip_reason(&tx), CHAIN_R_BAD_SIG);
	tx_free(&tx);
	/* Wrong chain ID: mainnet's, another shard's Ethereum ID, unprotected. */
	uint64_t ids[] = {1, netparams_eth_chain_id(chain_params(T.c), 1), 0};
	for (size_t i = 0; i < 3; i++) {
		transfer(&tx, 0, 0, dest, 0, 1);
		tx.chain_id = ids[i];
		cr_assert_eq(tx_sign(&tx, sk[0]), 0);
		cr_assert_eq(skip_reason(&tx), CHAIN_R_CHAIN_ID, "chain id %llu", (unsigned long long)ids[i]);
		tx_free(&tx);
	}
	/* Wrong shard, destination outside the network. */
	transfer(&tx, 0, 0, dest, 0, 1);
	tx.shard_id = 1;
	cr_assert_eq(tx_sign(&tx, sk[0]), 0);
	cr_assert_eq(skip_reason(&tx), CHAIN_R_WRONG_SHARD);
	tx_free(&tx);
	transfer(&tx, 0, 0, dest, 7, 1);
	cr_assert_eq(skip_reason(&tx), CHAIN_R_TO_SHARD);
	tx_free(&tx);
	/* Nonce too high; then too low once nonce 0 is spent. */
	transfer(&tx, 0, 5, dest, 0, 1);
	cr_assert_eq(skip_reason(&tx), CHAIN_R_NONCE_HIGH);
	tx_free(&tx);
	transfer(&tx, 0, 0, dest, 0, 1);
	build_insert(&tx, 1);
	cr_assert_eq(skip_reason(&tx), CHAIN_R_DUPLICATE_TX);
	tx_free(&tx);
	transfer(&tx, 0, 0, dest, 0, 2);
	cr_assert_eq(skip_reason(&tx), CHAIN_R_NONCE_LOW);
	tx_free(&tx);
	/* Insufficient balance: an unfunded key; then value + gas just above
	 * a balance (account 5's whole balance as value). */
	uint8_t poor[32];
	memset(poor, 0x11, 32);
	struct u256 v = u(1);
	cr_assert_eq(chain_sign_transfer(&tx, chain_params(T.c), 0, 0, poor, 0, dest, &v), 0);
	cr_assert_eq(skip_reason(&tx), CHAIN_R_BALANCE);
	tx_free(&tx);
	v = bal(addr[5]);
	cr_assert_eq(chain_sign_transfer(&tx, chain_params(T.c), 0, 0, sk[5], 0, dest, &v), 0);
	cr_assert_eq(skip_reason(&tx), CHAIN_R_BALANCE);
	tx_free(&tx);
	/* value + gas exactly equal to the balance goes through. */
	struct u256 fee = u(21000ull * chain_params(T.c)->min_gas_price);
	u256_sub(&v, &v, &fee);
	cr_assert_eq(chain_sign_transfer(&tx, chain_params(T.c), 0, 0, sk[5], 0, dest, &v), 0);
	cr_assert_eq(skip_reason(&tx), CHAIN_OK);
	tx_free(&tx);
	/* Gas price below the minimum. */
	transfer(&tx, 1, 0, dest, 0, 1);
	tx.gas_price = u(chain_params(T.c)->min_gas_price - 1);
	cr_assert_eq(tx_sign(&tx, sk[1]), 0);
	cr_assert_eq(skip_reason(&tx), CHAIN_R_GAS_PRICE);
	tx_free(&tx);
	/* Gas limit below intrinsic: 20999; and 21000 with a data byte. */
	transfer(&tx, 1, 0, dest, 0, 1);
	tx.gas_limit = 20999;
	cr_assert_eq(tx_sign(&tx, sk[1]), 0);
	cr_assert_eq(skip_reason(&tx), CHAIN_R_INTRINSIC_GAS);
	tx_free(&tx);
	transfer(&tx, 1, 0, dest, 0, 1);
	tx.data = malloc(2);
	tx.data[0] = 0;
	tx.data[1] = 9;
	tx.data_len = 2;
	tx.gas_limit = 21019;
	cr_assert_eq(tx_sign(&tx, sk[1]), 0);
	cr_assert_eq(skip_reason(&tx), CHAIN_R_INTRINSIC_GAS);
	tx.gas_limit = 21020;   /* 21000 + 4 + 16 */
	cr_assert_eq(tx_sign(&tx, sk[1]), 0);
	cr_assert_eq(skip_reason(&tx), CHAIN_OK);
	tx_free(&tx);
	cr_assert_eq(chain_intrinsic_gas((const uint8_t *)"\0\1", 2), 21020);
	/* Oversize data. */
	transfer(&tx, 1, 0, dest, 0, 1);
	tx.data_len = CHAIN_TX_MAX_SIZE;
	tx.data = calloc(1, tx.data_len);
	tx.gas_limit = 29000000;
	cr_assert_eq(tx_sign(&tx, sk[1]), 0);
	cr_assert_eq(skip_reason(&tx), CHAIN_R_OVERSIZE);
	tx_free(&tx);
	/* Gas limit above the block's. */
	transfer(&tx, 1, 0, dest, 0, 1);
	tx.gas_limit = chain_params(T.c)->block_gas_limit + 1;
	cr_assert_eq(tx_sign(&tx, sk[1]), 0);
	cr_assert_eq(skip_reason(&tx), CHAIN_R_BLOCK_GAS);
	tx_free(&tx);
	/* Contract creation. */
	transfer(&tx, 1, 0, dest, 0, 1);
	tx.has_to = 0;
	memset(tx.to, 0, 20);
	tx.gas_limit = 100000;
	cr_assert_eq(tx_sign(&tx, sk[1]), 0);
	cr_assert_eq(skip_reason(&tx), CHAIN_R_CREATE);
	tx_free(&tx);
	/* Every reason has a message. */
	for (int r = 0; r < CHAIN_R_COUNT; r++)
		cr_assert_neq(strcmp(chain_reason_str((enum chain_reason)r), "unknown reason"), 0);
}

Test(chain_exec, builder_skips_bad_and_keeps_good)
{
	struct tx txs[4];
	transfer(&txs[0], 6, 0, dest, 0, 1);
	transfer(&txs[1], 6, 2, dest, 0, 1);      /* gap: nonce too high */
	transfer(&txs[2], 6, 1, dest, 0, 1);
	transfer(&txs[3], 6, 2, dest, 0, 1);      /* now in order */
	struct block b;
	struct chain_build_opts o = {{0}, 0, 0};
	enum chain_reason why[4];
	cr_assert_eq(chain_build(T.c, &o, txs, 4, &b, why), 0);
	cr_assert_eq(why[0], CHAIN_OK);
	cr_assert_eq(why[1], CHAIN_R_NONCE_HIGH);
	cr_assert_eq(why[2], CHAIN_OK);
	cr_assert_eq(why[3], CHAIN_OK);
	cr_assert_eq(b.ntxs, 3);
	struct chain_why w;
	cr_assert_eq(chain_insert(T.c, &b, &w), 0, "%s", w.msg);
	block_free(&b);
	for (int i = 0; i < 4; i++)
		tx_free(&txs[i]);
}

Test(chain_exec, ethereum_legacy_tx_converted_and_indexed)
{
	const struct netparams *np = chain_params(T.c);
	struct tx tx;
	memset(&tx, 0, sizeof tx);
	tx.type = TX_LEGACY;
	tx.chain_id = netparams_eth_chain_id(np, 0);
	tx.nonce = 0;
	tx.gas_price = u(np->min_gas_price);
	tx.gas_limit = 21000;
	tx.has_to = 1;
	memcpy(tx.to, dest, 20);
	tx.value = u(31337);
	cr_assert_eq(tx_sign(&tx, sk[7]), 0);
	uint8_t eth_hash[32];
	cr_assert_eq(tx_hash(&tx, eth_hash), 0);
	/* As received it is not a block tx. */
	cr_assert_eq(skip_reason(&tx), CHAIN_R_TX_FORM);
	cr_assert_eq(tx_from_eth(&tx, np->eth_chain_id_base, np->num_shards), 0);
	build_insert(&tx, 1);
	uint8_t bh[32], h[32];
	uint64_t num;
	uint32_t idx;
	cr_assert_eq(chain_tx_lookup(T.c, eth_hash, bh, &num, &idx), 0);
	chain_head_hash(T.c, h);
	cr_assert_eq(memcmp(bh, h, 32), 0);
	struct u256 b = bal(dest);
	cr_assert(u256_eq(&b, &(struct u256){{31337, 0, 0, 0}}));
	tx_free(&tx);
}

/* Sum of balances over every account a set of blocks touched equals the
 * genesis total minus what left through CX receipts. */
Test(chain_exec, balances_add_up)
{
	struct chain_why w;
	cr_assert_eq(chain_gen_blocks(T.c, 5, 60, 30, 99, &w), 0, "%s", w.msg);
	uint8_t (*accts)[20] = calloc(5 * 60 + 32, 20);
	size_t n = 0;
	for (unsigned i = 0; i < CHAIN_LOCALNET_ACCOUNTS; i++)
		memcpy(accts[n++], addr[i], 20);
	const struct chain_fee_collector *fc;
	size_t nfc;
	chain_fee_collectors(chain_params(T.c), &fc, &nfc);
	for (size_t i = 0; i < nfc; i++)
		memcpy(accts[n++], fc[i].addr, 20);
	struct u256 total = u(0), out = u(0), genesis_total = u(0), cxsum = u(0), x;
	size_t ncross = 0;
	for (uint64_t num = 1; num <= 5; num++) {
		struct block b;
		cr_assert_eq(chain_block_at(T.c, num, &b), 0);
		for (size_t i = 0; i < b.ntxs; i++) {
			if (b.txs[i].to_shard_id != 0) {
				u256_add(&out, &out, &b.txs[i].value);
				ncross++;
				continue;
			}
			int seen = 0;
			for (size_t j = 0; j < n && !seen; j++)
				seen = !memcmp(accts[j], b.txs[i].to, 20);
			if (!seen)
				memcpy(accts[n++], b.txs[i].to, 20);
		}
		/* The stored CX receipts carry the same total. */
		struct cx_receipt *cx;
		size_t ncx;
		if (chain_cx_outgoing(T.c, 1, num, &cx, &ncx) == 0) {
			for (size_t i = 0; i < ncx; i++)
				u256_add(&cxsum, &cxsum, &cx[i].amount);
			free(cx);
		}
		block_free(&b);
	}
	cr_assert_gt(ncross, 0);
	cr_assert(u256_eq(&cxsum, &out));
	for (size_t i = 0; i < n; i++) {
		x = bal(accts[i]);
		cr_assert_eq(u256_add(&total, &total, &x), 0);
	}
	struct u256 each;
	cr_assert_eq(u256_parse_dec(&each, "10000000000000000000000000000", 29), 0);
	for (unsigned i = 0; i < CHAIN_LOCALNET_ACCOUNTS; i++)
		u256_add(&genesis_total, &genesis_total, &each);
	u256_add(&x, &total, &out);
	cr_assert(u256_eq(&x, &genesis_total), "balances + cross-shard outflow != genesis total");
	free(accts);
}
