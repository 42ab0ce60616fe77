/* The read methods against a generated localnet chain, through the handler
 * (no HTTP). Expected values come from src/chain's own reads. */
#include "helpers.h"

#include "base/bytes.h"
#include "codec/bech32.h"
#include "core/core.h"
#include "txpool/txpool.h"

static struct tnode N;

static void setup(void)
{
	tnode_new(&N, 3, 6);
	cr_assert_eq(rpc_handler_new(&N.h, N.st, N.np, 0, NULL, NULL, NULL), 0);
}

static void teardown(void)
{
	tnode_free(&N);
}

TestSuite(rpc_methods, .init = setup, .fini = teardown);

static void hex32(const uint8_t h[32], char out[67])
{
	out[0] = '0';
	out[1] = 'x';
	hex_encode(h, 32, out + 2);
}

static void expect_str(json_t *resp, const char *want)
{
	json_t *r = tresult(resp);
	cr_assert(json_is_string(r));
	cr_assert_str_eq(json_string_value(r), want);
	json_decref(resp);
}

Test(rpc_methods, chain_id_block_number_and_constants)
{
	char want[32];
	snprintf(want, sizeof want, "0x%llx", (unsigned long long)netparams_eth_chain_id(N.np, 0));
	expect_str(tcall(N.h, "eth_chainId", "[]"), want);
	snprintf(want, sizeof want, "%llu", (unsigned long long)netparams_eth_chain_id(N.np, 0));
	expect_str(tcall(N.h, "net_version", "[]"), want);
	expect_str(tcall(N.h, "eth_blockNumber", "[]"), "0x3");
	expect_str(tcall(N.h, "hmy_blockNumber", "[]"), "0x3");
	json_t *r = tcall(N.h, "hmyv2_blockNumber", "[]");
	cr_assert_eq(json_integer_value(tresult(r)), 3);
	json_decref(r);
	snprintf(want, sizeof want, "0x%llx", (unsigned long long)N.np->min_gas_price);
	expect_str(tcall(N.h, "eth_gasPrice", "[]"), want);
	r = tcall(N.h, "eth_syncing", "[]");
	cr_assert(json_is_false(tresult(r)));
	json_decref(r);
	r = tcall(N.h, "eth_accounts", "[]");
	cr_assert_eq(json_array_size(tresult(r)), 0);
	json_decref(r);
	r = tcall(N.h, "net_listening", "[]");
	cr_assert(json_is_true(tresult(r)));
	json_decref(r);
	expect_str(tcall(N.h, "net_peerCount", "[]"), "0x0");
	r = tcall(N.h, "web3_clientVersion", "[]");
	cr_assert(!strncmp(json_string_value(tresult(r)), "canon/", 6));
	json_decref(r);
	/* keccak256("") and keccak256(0x68656c6c6f) = keccak("hello") */
	expect_str(tcall(N.h, "web3_sha3", "[\"0x\"]"),
	           "0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470");
	expect_str(tcall(N.h, "web3_sha3", "[\"0x68656c6c6f\"]"),
	           "0x1c8aff950685c2ed4bc3174f3472287b56d9517b9c948127319a09a7a36deac8");
}

Test(rpc_methods, balance_and_nonce_match_the_chain)
{
	for (unsigned i = 0; i < 4; i++) {
		uint8_t sk[32], a[20];
		struct u256 bal;
		uint64_t nonce;
		cr_assert_eq(chain_localnet_account(i, sk, a), 0);
		cr_assert_eq(chain_balance(N.c, a, &bal), 0);
		cr_assert_eq(chain_nonce(N.c, a, &nonce), 0);
		char ah[43] = "0x", bh[80], params[128], one[BECH32_ONE_ADDR_LEN + 1];
		hex_encode(a, 20, ah + 2);
		u256_format_hex(&bal, bh);
		snprintf(params, sizeof params, "[\"%s\",\"latest\"]", ah);
		expect_str(tcall(N.h, "eth_getBalance", params), bh);
		bech32_one_encode(a, one);
		snprintf(params, sizeof params, "[\"%s\",\"latest\"]", one);
		expect_str(tcall(N.h, "hmy_getBalance", params), bh);
		snprintf(params, sizeof params, "[\"%s\"]", one);
		/* hmyv2 gives the exact decimal digits (beyond what a double or
		 * jansson's integers hold), so compare the text. */
		char dec[96], want[160];
		u256_format_dec(&bal, dec);
		snprintf(want, sizeof want, "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":%s}", dec);
		char *got = tcall_text(N.h, "hmyv2_getBalance", params);
		cr_assert_str_eq(got, want);
		free(got);
		char nh[24];
		snprintf(nh, sizeof nh, "0x%llx", (unsigned long long)nonce);
		snprintf(params, sizeof params, "[\"%s\",\"latest\"]", ah);
		expect_str(tcall(N.h, "eth_getTransactionCount", params), nh);
		/* At genesis every funded account had nonce 0: the historic read
		 * goes through the state trie at block 0's root. */
		snprintf(params, sizeof params, "[\"%s\",\"0x0\"]", ah);
		expect_str(tcall(N.h, "eth_getTransactionCount", params), "0x0");
	}
	/* Someone who never appeared. */
	expect_str(tcall(N.h, "eth_getBalance",
	                 "[\"0x00000000000000000000000000000000000000aa\",\"latest\"]"), "0x0");
}

Test(rpc_methods, blocks_by_number_and_hash)
{
	struct block b;
	uint8_t h[32];
	char hs[67], params[160];
	cr_assert_eq(chain_block_at(N.c, 2, &b), 0);
	cr_assert_eq(chain_hash_at(N.c, 2, h), 0);
	hex32(h, hs);

	json_t *r = tcall(N.h, "eth_getBlockByNumber", "[\"0x2\",false]");
	json_t *blk = tresult(r);
	cr_assert_str_eq(json_string_value(json_object_get(blk, "hash")), hs);
	cr_assert_str_eq(json_string_value(json_object_get(blk, "number")), "0x2");
	uint8_t *enc;
	size_t enc_len;
	char size_hex[24];
	cr_assert_eq(block_encode(&b, &enc, &enc_len), 0);
	free(enc);
	snprintf(size_hex, sizeof size_hex, "0x%zx", enc_len);
	cr_assert_str_eq(json_string_value(json_object_get(blk, "size")), size_hex);
	json_t *txs = json_object_get(blk, "transactions");
	cr_assert_eq(json_array_size(txs), b.ntxs);
	uint8_t eh[32];
	char ehs[67];
	cr_assert_eq(tx_eth_hash(&b.txs[0], eh), 0);
	hex32(eh, ehs);
	cr_assert_str_eq(json_string_value(json_array_get(txs, 0)), ehs);
	json_decref(r);

	snprintf(params, sizeof params, "[\"%s\",true]", hs);
	r = tcall(N.h, "eth_getBlockByHash", params);
	blk = tresult(r);
	cr_assert_str_eq(json_string_value(json_object_get(blk, "number")), "0x2");
	json_t *t0 = json_array_get(json_object_get(blk, "transactions"), 0);
	cr_assert_str_eq(json_string_value(json_object_get(t0, "hash")), ehs);
	cr_assert_str_eq(json_string_value(json_object_get(t0, "blockHash")), hs);
	json_decref(r);

	/* latest is block 3; hmy shows Harmony hashes and one1 miners */
	r = tcall(N.h, "hmy_getBlockByNumber", "[\"latest\",false]");
	blk = tresult(r);
	cr_assert_str_eq(json_string_value(json_object_get(blk, "number")), "0x3");
	cr_assert(!strncmp(json_string_value(json_object_get(blk, "miner")), "one1", 4));
	json_decref(r);
	r = tcall(N.h, "hmyv2_getBlockByNumber", "[2,{\"fullTx\":true}]");
	blk = tresult(r);
	cr_assert_eq(json_integer_value(json_object_get(blk, "number")), 2);
	uint8_t hh[32];
	char hhs[67];
	cr_assert_eq(tx_hash(&b.txs[0], hh), 0);
	hex32(hh, hhs);
	t0 = json_array_get(json_object_get(blk, "transactions"), 0);
	cr_assert_str_eq(json_string_value(json_object_get(t0, "hash")), hhs);
	json_decref(r);

	char cnt[16];
	snprintf(cnt, sizeof cnt, "0x%zx", b.ntxs);
	expect_str(tcall(N.h, "eth_getBlockTransactionCountByNumber", "[\"0x2\"]"), cnt);
	snprintf(params, sizeof params, "[\"%s\"]", hs);
	expect_str(tcall(N.h, "eth_getBlockTransactionCountByHash", params), cnt);

	/* unknown blocks: null under eth_, an error under hmy_ */
	r = tcall(N.h, "eth_getBlockByNumber", "[\"0x99\",false]");
	cr_assert(json_is_null(json_object_get(r, "result")));
	json_decref(r);
	r = tcall(N.h, "hmy_getBlockByNumber", "[\"0x99\",false]");
	cr_assert_eq(terr_code(r), RPC_E_SERVER);
	json_decref(r);
	block_free(&b);
}

Test(rpc_methods, transactions_and_receipts)
{
	struct block b;
	uint8_t bh[32], eh[32], hh[32], from[20];
	char bhs[67], ehs[67], hhs[67], froms[43] = "0x", params[160];
	cr_assert_eq(chain_block_at(N.c, 2, &b), 0);
	cr_assert_eq(chain_hash_at(N.c, 2, bh), 0);
	const struct tx *tx = &b.txs[1];
	cr_assert_eq(tx_eth_hash(tx, eh), 0);
	cr_assert_eq(tx_hash(tx, hh), 0);
	cr_assert_eq(tx_sender(tx, from), 0);
	hex32(bh, bhs);
	hex32(eh, ehs);
	hex32(hh, hhs);
	hex_encode(from, 20, froms + 2);

	/* Both hashes find it; eth_ shows the Ethereum hash. */
	const char *hashes[2] = {ehs, hhs};
	for (int k = 0; k < 2; k++) {
		snprintf(params, sizeof params, "[\"%s\"]", hashes[k]);
		json_t *r = tcall(N.h, "eth_getTransactionByHash", params);
		json_t *t = tresult(r);
		cr_assert_str_eq(json_string_value(json_object_get(t, "hash")), ehs);
		cr_assert_str_eq(json_string_value(json_object_get(t, "from")), froms);
		cr_assert_str_eq(json_string_value(json_object_get(t, "blockHash")), bhs);
		cr_assert_str_eq(json_string_value(json_object_get(t, "transactionIndex")), "0x1");
		cr_assert_str_eq(json_string_value(json_object_get(t, "gas")), "0x5208");
		json_decref(r);
	}
	snprintf(params, sizeof params, "[\"%s\"]", hhs);
	json_t *r = tcall(N.h, "hmy_getTransactionByHash", params);
	json_t *t = tresult(r);
	cr_assert_str_eq(json_string_value(json_object_get(t, "hash")), hhs);
	cr_assert(!strncmp(json_string_value(json_object_get(t, "from")), "one1", 4));
	json_decref(r);

	r = tcall(N.h, "eth_getTransactionByBlockNumberAndIndex", "[\"0x2\",\"0x1\"]");
	cr_assert_str_eq(json_string_value(json_object_get(tresult(r), "hash")), ehs);
	json_decref(r);
	snprintf(params, sizeof params, "[\"%s\",\"0x1\"]", bhs);
	r = tcall(N.h, "eth_getTransactionByBlockHashAndIndex", params);
	cr_assert_str_eq(json_string_value(json_object_get(tresult(r), "hash")), ehs);
	json_decref(r);
	r = tcall(N.h, "eth_getTransactionByBlockNumberAndIndex", "[\"0x2\",\"0x7f\"]");
	cr_assert(json_is_null(json_object_get(r, "result")));
	json_decref(r);

	snprintf(params, sizeof params, "[\"%s\"]", ehs);
	r = tcall(N.h, "eth_getTransactionReceipt", params);
	json_t *re = tresult(r);
	cr_assert_str_eq(json_string_value(json_object_get(re, "status")), "0x1");
	cr_assert_str_eq(json_string_value(json_object_get(re, "gasUsed")), "0x5208");
	cr_assert_str_eq(json_string_value(json_object_get(re, "cumulativeGasUsed")), "0xa410");
	cr_assert_str_eq(json_string_value(json_object_get(re, "transactionHash")), ehs);
	cr_assert_str_eq(json_string_value(json_object_get(re, "from")), froms);
	cr_assert(json_is_null(json_object_get(re, "contractAddress")));
	json_decref(r);

	r = tcall(N.h, "eth_getTransactionReceipt",
	          "[\"0x0000000000000000000000000000000000000000000000000000000000000001\"]");
	cr_assert(json_is_null(json_object_get(r, "result")));
	json_decref(r);
	block_free(&b);
}

Test(rpc_methods, harmony_node_methods)
{
	json_t *r = tcall(N.h, "hmy_getShardingStructure", "[]");
	json_t *a = tresult(r);
	cr_assert_eq(json_array_size(a), N.np->num_shards);
	cr_assert(json_is_true(json_object_get(json_array_get(a, 0), "current")));
	json_decref(r);
	r = tcall(N.h, "hmy_latestHeader", "[]");
	cr_assert_eq(json_integer_value(json_object_get(tresult(r), "blockNumber")), 3);
	json_decref(r);
	r = tcall(N.h, "hmy_getNodeMetadata", "[]");
	cr_assert_str_eq(json_string_value(json_object_get(tresult(r), "network")), "localnet");
	cr_assert_eq(json_integer_value(json_object_get(tresult(r), "current-block-number")), 3);
	json_decref(r);
	expect_str(tcall(N.h, "hmy_protocolVersion", "[]"), "0x1");
	expect_str(tcall(N.h, "hmy_getEpoch", "[]"), "0x0");
	r = tcall(N.h, "hmyv2_getShardID", "[]");
	cr_assert_eq(json_integer_value(tresult(r)), 0);
	json_decref(r);
	r = tcall(N.h, "hmyv2_getBlockTransactionCountByNumber", "[2]");
	cr_assert_eq(json_integer_value(tresult(r)), 6);
	json_decref(r);
}

Test(rpc_methods, send_raw_without_pool_is_a_clear_error)
{
	uint8_t sk[32], a[20], *raw;
	size_t len;
	struct tx tx;
	struct u256 v = u256_from_u64(5);
	cr_assert_eq(chain_localnet_account(0, sk, a), 0);
	cr_assert_eq(chain_sign_transfer(&tx, N.np, 0, 0, sk, 99, a, &v), 0);
	cr_assert_eq(tx_encode(&tx, &raw, &len), 0);
	char *hex = malloc(2 * len + 1), *params;
	hex_encode(raw, len, hex);
	cr_assert(asprintf(&params, "[\"0x%s\"]", hex) > 0);
	json_t *r = tcall(N.h, "eth_sendRawTransaction", params);
	cr_assert_eq(terr_code(r), RPC_E_SERVER);
	cr_assert(strstr(terr_msg(r), "no transaction pool"));
	json_decref(r);
	r = tcall(N.h, "eth_sendRawTransaction", "[\"0xdeadbeef\"]");
	cr_assert_eq(terr_code(r), RPC_E_SERVER);
	cr_assert(!strncmp(terr_msg(r), "rlp:", 4));
	json_decref(r);
	free(params);
	free(hex);
	free(raw);
	tx_free(&tx);
}

/* A transaction for another shard never reaches the pool: the answer names
 * the endpoint of the shard it is for. */
Test(rpc_methods, send_raw_for_another_shard_names_its_endpoint)
{
	uint8_t sk[32], a[20], *raw;
	size_t len;
	struct tx tx;
	struct u256 v = u256_from_u64(5);
	cr_assert_eq(chain_localnet_account(0, sk, a), 0);
	cr_assert_eq(chain_sign_transfer(&tx, N.np, 1, 0, sk, 0, a, &v), 0);
	cr_assert_eq(tx_encode(&tx, &raw, &len), 0);
	char *hex = malloc(2 * len + 1), *params;
	hex_encode(raw, len, hex);
	cr_assert(asprintf(&params, "[\"0x%s\"]", hex) > 0);
	json_t *r = tcall(N.h, "hmy_sendRawTransaction", params);
	cr_assert_eq(terr_code(r), RPC_E_SERVER);
	cr_assert_str_eq(terr_msg(r), "transaction is for shard 1, this node serves shard 0: "
	                              "send it to http://127.0.0.1:9502");
	json_decref(r);
	free(params);
	free(hex);
	free(raw);
	tx_free(&tx);
}

/* A pool stand-in: accepts nonce 99 txs, refuses the rest with geth's words. */
static int fake_submit(void *ctx, const uint8_t *raw, size_t len, int eth_form, uint8_t hash[32],
                       char *msg, size_t cap)
{
	struct tx tx;
	int *calls = ctx;
	(*calls)++;
	if (tx_decode(&tx, raw, len))
		return -1;
	int ok = tx.nonce == 99;
	if (ok)
		tx_hash(&tx, hash);
	else
		snprintf(msg, cap, "nonce too low");
	tx_free(&tx);
	return ok ? 0 : -1;
}

Test(rpc_methods, send_raw_goes_to_the_pool)
{
	int calls = 0;
	struct rpc_backend be = {.ctx = &calls, .submit_tx = fake_submit};
	struct rpc_handler *h;
	cr_assert_eq(rpc_handler_new(&h, N.st, N.np, 0, NULL, &be, NULL), 0);
	uint8_t sk[32], a[20], *raw, th[32];
	size_t len;
	for (uint64_t nonce = 98; nonce <= 99; nonce++) {
		struct tx tx;
		struct u256 v = u256_from_u64(5);
		cr_assert_eq(chain_localnet_account(0, sk, a), 0);
		cr_assert_eq(chain_sign_transfer(&tx, N.np, 0, 0, sk, nonce, a, &v), 0);
		cr_assert_eq(tx_encode(&tx, &raw, &len), 0);
		cr_assert_eq(tx_hash(&tx, th), 0);
		char *hex = malloc(2 * len + 1), *params, want[67];
		hex_encode(raw, len, hex);
		hex32(th, want);
		cr_assert(asprintf(&params, "[\"0x%s\"]", hex) > 0);
		json_t *r = tcall(h, "eth_sendRawTransaction", params);
		if (nonce == 99) {
			cr_assert_str_eq(json_string_value(tresult(r)), want);
		} else {
			cr_assert_eq(terr_code(r), RPC_E_SERVER);
			cr_assert_str_eq(terr_msg(r), "nonce too low");
		}
		json_decref(r);
		free(params);
		free(hex);
		free(raw);
		tx_free(&tx);
	}
	cr_assert_eq(calls, 2);
	rpc_handler_free(h);
}

/* ---- eth_sendRawTransaction into a real src/txpool pool ------------------ */

static int rd_nonce(void *ctx, const uint8_t addr[CORE_ADDR_LEN], uint64_t *nonce)
{
	int rc = chain_nonce(ctx, addr, nonce);
	if (rc == -CN_ENOTFOUND) {
		*nonce = 0;
		return 0;
	}
	return rc;
}

static int rd_balance(void *ctx, const uint8_t addr[CORE_ADDR_LEN], struct u256 *bal)
{
	int rc = chain_balance(ctx, addr, bal);
	if (rc == -CN_ENOTFOUND) {
		*bal = u256_from_u64(0);
		return 0;
	}
	return rc;
}

static char *raw_param(const struct tx *tx)
{
	uint8_t *raw;
	size_t len;
	cr_assert_eq(tx_encode(tx, &raw, &len), 0);
	char *hex = malloc(2 * len + 1), *params;
	hex_encode(raw, len, hex);
	cr_assert(asprintf(&params, "[\"0x%s\"]", hex) > 0);
	free(hex);
	free(raw);
	return params;
}

Test(rpc_methods, send_raw_into_the_txpool)
{
	struct txpool_config cfg;
	struct txpool *pool;
	struct txpool_state_reader rd = {N.c, rd_nonce, rd_balance};
	txpool_config_default(&cfg, N.np, 0);
	cr_assert_eq(txpool_new(&pool, &cfg, &rd), 0);
	struct rpc_backend be = {0};
	rpc_backend_use_txpool(&be, pool);
	struct rpc_handler *h;
	cr_assert_eq(rpc_handler_new(&h, N.st, N.np, 0, NULL, &be, NULL), 0);

	uint8_t sk[32], a[20], to[20] = {0xaa};
	uint64_t nonce;
	struct u256 v = u256_from_u64(1000);
	cr_assert_eq(chain_localnet_account(2, sk, a), 0);
	cr_assert_eq(chain_nonce(N.c, a, &nonce), 0);
	cr_assert_gt(nonce, 0);

	/* admitted: eth_ answers the Ethereum hash, hmy_ the Harmony hash */
	struct tx t1, t2, old;
	uint8_t eh[32], hh[32];
	char want[67] = "0x";
	cr_assert_eq(chain_sign_transfer(&t1, N.np, 0, 0, sk, nonce, to, &v), 0);
	cr_assert_eq(tx_eth_hash(&t1, eh), 0);
	hex_encode(eh, 32, want + 2);
	char *p1 = raw_param(&t1);
	json_t *r = tcall(h, "eth_sendRawTransaction", p1);
	cr_assert_str_eq(json_string_value(tresult(r)), want);
	json_decref(r);
	cr_assert_eq(chain_sign_transfer(&t2, N.np, 0, 0, sk, nonce + 1, to, &v), 0);
	cr_assert_eq(tx_hash(&t2, hh), 0);
	hex_encode(hh, 32, want + 2);
	char *p2 = raw_param(&t2);
	r = tcall(h, "hmy_sendRawTransaction", p2);
	cr_assert_str_eq(json_string_value(tresult(r)), want);
	json_decref(r);

	/* refusals carry the pool's go-ethereum words */
	r = tcall(h, "eth_sendRawTransaction", p1);
	cr_assert_eq(terr_code(r), RPC_E_SERVER);
	cr_assert(!strncmp(terr_msg(r), "already known", 13), "%s", terr_msg(r));
	json_decref(r);
	cr_assert_eq(chain_sign_transfer(&old, N.np, 0, 0, sk, nonce - 1, to, &v), 0);
	char *p3 = raw_param(&old);
	r = tcall(h, "eth_sendRawTransaction", p3);
	cr_assert(!strncmp(terr_msg(r), "nonce too low", 13), "%s", terr_msg(r));
	json_decref(r);
	size_t pending, queued;
	txpool_stats(pool, &pending, &queued);
	cr_assert_eq(pending, 2);
	free(p1);
	free(p2);
	free(p3);
	tx_free(&t1);
	tx_free(&t2);
	tx_free(&old);
	rpc_handler_free(h);
	txpool_free(pool);
}
