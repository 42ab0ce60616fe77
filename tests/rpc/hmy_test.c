/* Harmony-only methods over a chain with cross-shard transfers:
 * hmy_/hmyv2_getBlocks (range, latest, the 1024 limit, fullTx),
 * getCXReceiptByHash and getPendingCXReceipts (the source half: receipts
 * this shard emitted, whose per-destination roots must hash to the block's
 * outgoing receipt root), and getNodeMetadata's fields. */
#include "base/bytes.h"
#include "crypto/crypto.h"
#include "helpers.h"

static struct tnode N;

static void setup(void)
{
	struct chain_why why;
	tnode_new(&N, 0, 0);
	/* about half of the transfers go to shards 1 and 2 */
	cr_assert_eq(chain_gen_blocks(N.c, 5, 8, 50, 21, &why), 0, "%s", why.msg);
	cr_assert_eq(rpc_handler_new(&N.h, N.st, N.np, 0, NULL, NULL, NULL), 0);
}

static void teardown(void)
{
	tnode_free(&N);
}

TestSuite(rpc_hmy, .init = setup, .fini = teardown);

static void hexs(const uint8_t *p, size_t n, char *out)
{
	out[0] = '0';
	out[1] = 'x';
	hex_encode(p, n, out + 2);
}

Test(rpc_hmy, get_blocks)
{
	json_t *r = tcall(N.h, "hmy_getBlocks", "[\"0x1\",\"0x3\"]");
	json_t *a = tresult(r);
	cr_assert_eq(json_array_size(a), 3, "%s", json_dumps(r, 0));
	for (size_t i = 0; i < 3; i++) {
		char want[8];
		snprintf(want, sizeof want, "0x%zx", i + 1);
		json_t *b = json_array_get(a, i);
		cr_assert_str_eq(json_string_value(json_object_get(b, "number")), want);
		/* hmy renders the leader as one1 and lists hashes without fullTx */
		cr_assert(!strncmp(json_string_value(json_object_get(b, "miner")), "one1", 4));
		cr_assert(json_is_string(json_array_get(json_object_get(b, "transactions"), 0)));
	}
	uint8_t h2[32];
	char hs[67];
	cr_assert_eq(chain_hash_at(N.c, 2, h2), 0);
	hexs(h2, 32, hs);
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(a, 1), "hash")), hs);
	json_decref(r);

	/* v2: decimal numbers, "latest" as the end, the options object */
	r = tcall(N.h, "hmyv2_getBlocks", "[2,\"latest\",{\"fullTx\":true,\"withSigners\":false}]");
	a = tresult(r);
	cr_assert_eq(json_array_size(a), 4, "%s", json_dumps(r, 0));
	cr_assert_eq(json_integer_value(json_object_get(json_array_get(a, 3), "number")), 5);
	json_t *tx = json_array_get(json_object_get(json_array_get(a, 0), "transactions"), 0);
	cr_assert(json_is_object(tx));
	cr_assert_eq(json_integer_value(json_object_get(tx, "blockNumber")), 2);
	json_decref(r);

	/* past the head: truncated; reversed: empty; too wide: refused */
	r = tcall(N.h, "hmy_getBlocks", "[\"0x4\",\"0x40\",true]");
	cr_assert_eq(json_array_size(tresult(r)), 2);
	cr_assert(json_is_object(json_array_get(json_object_get(json_array_get(tresult(r), 0), "transactions"), 0)));
	json_decref(r);
	r = tcall(N.h, "hmy_getBlocks", "[\"0x4\",\"0x2\"]");
	cr_assert_eq(json_array_size(tresult(r)), 0);
	json_decref(r);
	r = tcall(N.h, "hmy_getBlocks", "[\"0x0\",\"0x401\"]");
	cr_assert_eq(terr_code(r), RPC_E_SERVER);
	cr_assert(strstr(terr_msg(r), "1024"), "%s", terr_msg(r));
	json_decref(r);
	r = tcall(N.h, "hmy_getBlocks", "[\"0x0\",\"0x400\"]");
	cr_assert_eq(json_array_size(tresult(r)), 6);
	json_decref(r);
	r = tcall(N.h, "hmy_getBlocks", "[\"0x0\"]");
	cr_assert_eq(terr_code(r), RPC_E_PARAMS);
	json_decref(r);
	r = tcall(N.h, "hmy_getBlocks", "[\"0x0\",\"0x1\",\"yes\"]");
	cr_assert_eq(terr_code(r), RPC_E_PARAMS);
	json_decref(r);
}

/* Finds a cross-shard and a same-shard transaction in the chain. */
static void pick(struct tx *cross, uint64_t *cross_num, struct tx *local)
{
	int have_cross = 0, have_local = 0;
	for (uint64_t n = 1; n <= 5; n++) {
		struct block b;
		cr_assert_eq(chain_block_at(N.c, n, &b), 0);
		for (size_t i = 0; i < b.ntxs; i++) {
			struct tx *dst = b.txs[i].to_shard_id ? cross : local;
			int *have = b.txs[i].to_shard_id ? &have_cross : &have_local;
			if (*have)
				continue;
			*dst = b.txs[i];
			memset(&b.txs[i], 0, sizeof b.txs[i]);   /* moved out */
			*have = 1;
			if (dst == cross)
				*cross_num = n;
		}
		block_free(&b);
	}
	cr_assert(have_cross && have_local, "the generated chain needs both kinds");
}

Test(rpc_hmy, cx_receipt_by_hash_source_half)
{
	struct tx cross, local;
	uint64_t num = 0;
	pick(&cross, &num, &local);
	uint8_t h[32], eh[32], from[20], bh[32];
	char hs[67], ehs[67], params[100], bhs[67];
	cr_assert_eq(tx_hash(&cross, h), 0);
	cr_assert_eq(tx_eth_hash(&cross, eh), 0);
	cr_assert_eq(tx_sender(&cross, from), 0);
	cr_assert_eq(chain_hash_at(N.c, num, bh), 0);
	hexs(h, 32, hs);
	hexs(eh, 32, ehs);
	hexs(bh, 32, bhs);

	/* by either hash; the receipt names the Harmony hash */
	const char *hashes[2] = {hs, ehs};
	for (int k = 0; k < 2; k++) {
		snprintf(params, sizeof params, "[\"%s\"]", hashes[k]);
		json_t *r = tcall(N.h, "hmy_getCXReceiptByHash", params);
		json_t *o = tresult(r);
		cr_assert(json_is_object(o), "%s", json_dumps(r, 0));
		cr_assert_str_eq(json_string_value(json_object_get(o, "hash")), hs);
		cr_assert_str_eq(json_string_value(json_object_get(o, "blockHash")), bhs);
		char want[8];
		snprintf(want, sizeof want, "0x%x", (unsigned)cross.to_shard_id);
		cr_assert_str_eq(json_string_value(json_object_get(o, "toShardID")), want);
		cr_assert_str_eq(json_string_value(json_object_get(o, "shardID")), "0x0");
		cr_assert(!strncmp(json_string_value(json_object_get(o, "from")), "one1", 4));
		json_decref(r);
	}
	snprintf(params, sizeof params, "[\"%s\"]", hs);
	json_t *r = tcall(N.h, "hmyv2_getCXReceiptByHash", params);
	json_t *o = tresult(r);
	cr_assert_eq(json_integer_value(json_object_get(o, "blockNumber")), (json_int_t)num);
	cr_assert_eq(json_integer_value(json_object_get(o, "toShardID")), cross.to_shard_id);
	char val[U256_DEC_MAX];
	u256_format_dec(&cross.value, val);
	char *vs = json_dumps(json_object_get(o, "value"), JSON_ENCODE_ANY);
	cr_assert_str_eq(vs, val);
	free(vs);
	json_decref(r);

	/* same-shard and unknown transactions: null */
	cr_assert_eq(tx_hash(&local, h), 0);
	hexs(h, 32, hs);
	snprintf(params, sizeof params, "[\"%s\"]", hs);
	r = tcall(N.h, "hmy_getCXReceiptByHash", params);
	cr_assert(json_is_null(tresult(r)));
	json_decref(r);
	memset(h, 0x5a, 32);
	hexs(h, 32, hs);
	snprintf(params, sizeof params, "[\"%s\"]", hs);
	r = tcall(N.h, "hmy_getCXReceiptByHash", params);
	cr_assert(json_is_null(tresult(r)));
	json_decref(r);
	r = tcall(N.h, "hmy_getCXReceiptByHash", "[\"0x12\"]");
	cr_assert_eq(terr_code(r), RPC_E_PARAMS);
	json_decref(r);
	tx_free(&cross);
	tx_free(&local);
}

Test(rpc_hmy, pending_cx_receipts_source_half)
{
	json_t *r = tcall(N.h, "hmy_getPendingCXReceipts", "[]");
	json_t *a = tresult(r);
	cr_assert(json_is_array(a), "%s", json_dumps(r, 0));
	cr_assert_gt(json_array_size(a), 0);
	/* Every cross-shard tx of blocks 1..4 (5 has no child yet) once. */
	size_t want = 0, got = 0;
	for (uint64_t n = 1; n <= 4; n++) {
		struct block b;
		cr_assert_eq(chain_block_at(N.c, n, &b), 0);
		for (size_t i = 0; i < b.ntxs; i++)
			want += b.txs[i].to_shard_id != 0;
		block_free(&b);
	}
	for (size_t i = 0; i < json_array_size(a); i++) {
		json_t *p = json_array_get(a, i), *mp = json_object_get(p, "merkleProof");
		json_t *rs = json_object_get(p, "receipts");
		const char *to = json_string_value(json_object_get(p, "toShardID"));
		for (size_t k = 0; k < json_array_size(rs); k++)
			cr_assert_str_eq(json_string_value(json_object_get(json_array_get(rs, k), "toShardID")), to);
		got += json_array_size(rs);
		/* keccak256 over (shard BE4 || per-destination root) = the
		 * block's outgoing receipt root, which its header commits to */
		json_t *ids = json_object_get(mp, "shardIDs"), *roots = json_object_get(mp, "shardHashes");
		cr_assert_eq(json_array_size(ids), json_array_size(roots));
		struct keccak256 k;
		keccak256_init(&k);
		for (size_t j = 0; j < json_array_size(ids); j++) {
			uint8_t be[4], root[32];
			size_t len;
			unsigned long s = strtoul(json_string_value(json_array_get(ids, j)) + 2, NULL, 16);
			store_be32(be, (uint32_t)s);
			const char *rh = json_string_value(json_array_get(roots, j));
			cr_assert_eq(hex_decode(rh, strlen(rh), root, 32, &len), 0);
			keccak256_update(&k, be, 4);
			keccak256_update(&k, root, 32);
		}
		uint8_t out[32];
		char os[67];
		keccak256_final(&k, out);
		hexs(out, 32, os);
		cr_assert_str_eq(json_string_value(json_object_get(mp, "receiptHash")), os);
		uint64_t bn = strtoull(json_string_value(json_object_get(mp, "blockNum")) + 2, NULL, 16);
		cr_assert(bn >= 1 && bn <= 4);
		struct block b;
		cr_assert_eq(chain_block_at(N.c, bn, &b), 0);
		hexs(b.header.outgoing_receipt_hash, 32, os);
		cr_assert_str_eq(json_string_value(json_object_get(mp, "receiptHash")), os);
		block_free(&b);
		/* the child's lastCommitSig signs this block */
		struct block child;
		cr_assert_eq(chain_block_at(N.c, bn + 1, &child), 0);
		char sig[2 * CORE_BLS_SIG_LEN + 3];
		hexs(child.header.last_commit_sig, CORE_BLS_SIG_LEN, sig);
		cr_assert_str_eq(json_string_value(json_object_get(p, "commitSig")), sig);
		block_free(&child);
	}
	cr_assert_eq(got, want);
	json_decref(r);
	r = tcall(N.h, "hmyv2_getPendingCXReceipts", "[]");
	json_t *first = json_array_get(tresult(r), 0);
	cr_assert(json_is_integer(json_object_get(json_object_get(first, "merkleProof"), "blockNum")));
	json_decref(r);
	r = tcall(N.h, "hmy_getPendingCXReceipts", "[1]");
	cr_assert_eq(terr_code(r), RPC_E_PARAMS);
	json_decref(r);
}

Test(rpc_hmy, node_metadata_and_protocol)
{
	json_t *r = tcall(N.h, "hmyv2_getNodeMetadata", "[]");
	json_t *o = tresult(r);
	cr_assert_eq(json_integer_value(json_object_get(o, "current-block-number")), 5);
	cr_assert_eq(json_integer_value(json_object_get(o, "shard-id")), 0);
	cr_assert(json_is_array(json_object_get(o, "blskey")));
	cr_assert(json_is_integer(json_object_get(o, "node-unix-start-time")));
	cr_assert(json_is_object(json_object_get(o, "p2p-connectivity")));
	cr_assert_eq(json_integer_value(json_object_get(json_object_get(o, "chain-config"), "chain-id")),
	             N.np->chain_id);
	json_decref(r);
	/* the nonce is a plain number in both namespaces, as in Go */
	char *a1 = NULL;
	uint8_t sk[32], ad[20];
	char one[43];
	cr_assert_eq(chain_localnet_account(1, sk, ad), 0);
	hexs(ad, 20, one);
	cr_assert(asprintf(&a1, "[\"%s\",\"latest\"]", one) > 0);
	r = tcall(N.h, "hmy_getAccountNonce", a1);
	json_t *cnt = tcall(N.h, "eth_getTransactionCount", a1);
	cr_assert(json_is_integer(tresult(r)), "%s", json_dumps(r, 0));
	cr_assert_eq((uint64_t)json_integer_value(tresult(r)),
	             strtoull(json_string_value(tresult(cnt)) + 2, NULL, 16));
	cr_assert_gt(json_integer_value(tresult(r)), 0);
	json_decref(r);
	json_decref(cnt);
	free(a1);
	r = tcall(N.h, "hmyv2_protocolVersion", "[]");
	cr_assert_eq(json_integer_value(tresult(r)), 1);
	json_decref(r);
	r = tcall(N.h, "hmyv2_latestHeader", "[]");
	cr_assert_eq(json_integer_value(json_object_get(tresult(r), "blockNumber")), 5);
	cr_assert(!strncmp(json_string_value(json_object_get(tresult(r), "leader")), "one1", 4));
	json_decref(r);
}
