/* Transactions against independent vectors: ethers 6.17.0 (216 Ethereum txs,
 * ../shared/testdata/tx) and the Harmony JS SDK 0.1.58 (64 plain transfers,
 * 30 staking txs, ../shared/testdata/harmony-tx). Every raw tx is decoded,
 * re-encoded byte for byte, hashed, its signing hash rebuilt, its sender
 * recovered and its fields compared; then it is re-signed from the private
 * key and must reproduce the raw bytes (RFC 6979 is deterministic). */
#include <criterion/criterion.h>
#include <string.h>

#include "base/bytes.h"
#include "base/err.h"
#include "base/u256.h"
#include "core/core.h"
#include "crypto/crypto.h"
#include "testutil.h"

static const char *jstr(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);
	cr_assert(json_is_string(v), "missing string %s", k);
	return json_string_value(v);
}

static void expect_hex(const uint8_t *got, size_t n, const char *want_hex, const char *what, size_t idx)
{
	size_t wl;
	uint8_t *want = tu_hex(want_hex, &wl);
	cr_assert_eq(wl, n, "%s length, vector %zu", what, idx);
	cr_assert(n == 0 || memcmp(got, want, n) == 0, "%s, vector %zu", what, idx);
	free(want);
}

static void expect_u256(const struct u256 *got, const char *want, const char *what, size_t idx)
{
	struct u256 w;
	cr_assert_eq(u256_parse(&w, want, strlen(want)), 0, "%s parse", what);
	cr_assert(u256_eq(got, &w), "%s, vector %zu", what, idx);
}

static void expect_u64(uint64_t got, const char *want, const char *what, size_t idx)
{
	struct u256 g = u256_from_u64(got);
	expect_u256(&g, want, what, idx);
}

static void expect_addr(const uint8_t addr[20], const char *want, const char *what, size_t idx)
{
	char hex[ADDR_HEX_LEN + 1];
	addr_to_hex(addr, hex);
	cr_assert_str_eq(hex, want, "%s, vector %zu", what, idx);
}

/* Decode, re-encode, hashes and sender; returns the decoded tx. */
static void check_common(struct tx *tx, json_t *v, const char *raw_key, size_t idx)
{
	size_t rl;
	uint8_t *raw = tu_hex(jstr(v, raw_key), &rl);
	cr_assert_eq(tx_decode(tx, raw, rl), 0, "decode, vector %zu", idx);
	uint8_t *enc;
	size_t el;
	cr_assert_eq(tx_encode(tx, &enc, &el), 0);
	cr_assert_eq(el, rl, "re-encoded length, vector %zu", idx);
	cr_assert(memcmp(enc, raw, rl) == 0, "re-encoding, vector %zu", idx);
	free(enc);

	uint8_t h[32];
	cr_assert_eq(tx_hash(tx, h), 0);
	expect_hex(h, 32, jstr(v, "hash"), "hash", idx);
	cr_assert_eq(tx_signing_hash(tx, h), 0);
	expect_hex(h, 32, jstr(v, "signingHash"), "signing hash", idx);

	uint8_t addr[20];
	cr_assert_eq(tx_sender(tx, addr), 0, "sender, vector %zu", idx);
	expect_addr(addr, jstr(v, "sender"), "sender", idx);

	/* Re-sign from the private key: must give the same bytes. */
	size_t kl;
	uint8_t *key = tu_hex(jstr(v, "privateKey"), &kl);
	struct tx copy = *tx;
	copy.r = copy.s = copy.v = u256_from_u64(0);
	cr_assert_eq(tx_sign(&copy, key), 0);
	cr_assert(u256_eq(&copy.r, &tx->r) && u256_eq(&copy.s, &tx->s) && u256_eq(&copy.v, &tx->v),
	          "re-signing, vector %zu", idx);
	free(key);

	free(raw);
}

Test(core_tx, ethers_vectors)
{
	json_t *j = tu_load_json("tx/ethers_transactions.json");
	json_t *txs = json_object_get(j, "transactions");
	size_t i, n = 0;
	json_t *v;
	json_array_foreach(txs, i, v) {
		struct tx tx;
		check_common(&tx, v, "raw", i);
		const char *kind = jstr(v, "kind");
		json_t *f = json_object_get(v, "fields");
		int type = (int)json_integer_value(json_object_get(f, "type"));
		cr_assert_eq((int)tx.type, type == 0 ? TX_LEGACY : type == 1 ? TX_ACCESS_LIST : TX_DYNAMIC_FEE);
		if (!strcmp(kind, "legacy_pre_eip155"))
			cr_assert_eq(tx.chain_id, 0);
		else
			expect_u64(tx.chain_id, jstr(f, "chainId"), "chainId", i);
		expect_u64(tx.nonce, jstr(f, "nonce"), "nonce", i);
		expect_u64(tx.gas_limit, jstr(f, "gasLimit"), "gasLimit", i);
		if (type == 2) {
			expect_u256(&tx.gas_tip_cap, jstr(f, "maxPriorityFeePerGas"), "tip", i);
			expect_u256(&tx.gas_fee_cap, jstr(f, "maxFeePerGas"), "fee cap", i);
		} else {
			expect_u256(&tx.gas_price, jstr(f, "gasPrice"), "gasPrice", i);
		}
		json_t *to = json_object_get(f, "to");
		if (json_is_null(to)) {
			cr_assert_eq(tx.has_to, 0);
		} else {
			cr_assert_eq(tx.has_to, 1);
			expect_hex(tx.to, 20, json_string_value(to), "to", i);
		}
		expect_u256(&tx.value, jstr(f, "value"), "value", i);
		expect_hex(tx.data, tx.data_len, jstr(f, "data"), "data", i);
		json_t *al = json_object_get(f, "accessList");
		cr_assert_eq(tx.naccess, json_is_array(al) ? json_array_size(al) : 0);
		for (size_t a = 0; a < tx.naccess; a++) {
			json_t *e = json_array_get(al, a);
			expect_hex(tx.access[a].addr, 20, jstr(e, "address"), "access address", i);
			json_t *keys = json_object_get(e, "storageKeys");
			cr_assert_eq(tx.access[a].nkeys, json_array_size(keys));
			for (size_t k = 0; k < tx.access[a].nkeys; k++)
				expect_hex(tx.access[a].keys[k], 32, json_string_value(json_array_get(keys, k)),
				           "storage key", i);
		}
		json_t *sig = json_object_get(v, "signature");
		expect_u256(&tx.r, jstr(sig, "r"), "r", i);
		expect_u256(&tx.s, jstr(sig, "s"), "s", i);
		int recid;
		cr_assert_eq(tx_recovery_id(&tx, &recid), 0);
		cr_assert_eq(recid, (int)json_integer_value(json_object_get(sig, "yParity")));
		expect_u256(&tx.v, jstr(v, "v_in_raw"), "v in raw", i);
		/* Non-Harmony forms have one hash. */
		uint8_t h1[32], h2[32];
		cr_assert_eq(tx_hash(&tx, h1), 0);
		cr_assert_eq(tx_eth_hash(&tx, h2), 0);
		cr_assert(memcmp(h1, h2, 32) == 0);
		tx_free(&tx);
		n++;
	}
	cr_assert_eq(n, 216);
	json_decref(j);
	tu_report("ethers transactions", n);
}

Test(core_tx, harmony_vectors)
{
	json_t *j = tu_load_json("harmony-tx/harmony_transactions.json");
	json_t *txs = json_object_get(j, "transactions");
	size_t i, n = 0;
	json_t *v;
	json_array_foreach(txs, i, v) {
		struct tx tx;
		check_common(&tx, v, "raw", i);
		json_t *f = json_object_get(v, "fields");
		cr_assert_eq(tx.type, TX_HARMONY);
		cr_assert_eq(tx.chain_id, (uint64_t)json_integer_value(json_object_get(v, "chainId")));
		cr_assert_eq(tx.shard_id, (uint32_t)json_integer_value(json_object_get(f, "shardID")));
		cr_assert_eq(tx.to_shard_id, (uint32_t)json_integer_value(json_object_get(f, "toShardID")));
		cr_assert_eq(tx.shard_id != tx.to_shard_id, json_is_true(json_object_get(v, "crossShard")));
		expect_u64(tx.nonce, jstr(f, "nonce"), "nonce", i);
		expect_u64(tx.gas_limit, jstr(f, "gasLimit"), "gasLimit", i);
		expect_u256(&tx.gas_price, jstr(f, "gasPrice"), "gasPrice", i);
		expect_u256(&tx.value, jstr(f, "value"), "value", i);
		expect_hex(tx.data, tx.data_len, jstr(f, "data"), "data", i);
		cr_assert_eq(tx.has_to, 1);
		expect_addr(tx.to, jstr(f, "to"), "to", i);
		cr_assert(u256_eq(&tx.v, &(struct u256){{(uint64_t)json_integer_value(json_object_get(v, "v"))}}));
		/* The signing payload itself, byte for byte. */
		size_t ul;
		uint8_t *unsig = tu_hex(jstr(v, "unsignedRaw"), &ul);
		uint8_t h[32], hs[32];
		keccak256(unsig, ul, h);
		cr_assert_eq(tx_signing_hash(&tx, hs), 0);
		cr_assert(memcmp(h, hs, 32) == 0);
		free(unsig);
		/* The Ethereum hash differs from the Harmony hash (different RLP). */
		uint8_t eh[32];
		cr_assert_eq(tx_eth_hash(&tx, eh), 0);
		cr_assert_eq(tx_hash(&tx, h), 0);
		cr_assert(memcmp(eh, h, 32) != 0);
		tx_free(&tx);
		n++;
	}
	cr_assert_eq(n, 64);
	json_decref(j);
	tu_report("harmony transactions", n);
}

/* Ethereum legacy txs on Harmony's Ethereum chain IDs become Harmony-form
 * txs with derived shard fields; the sender and the Ethereum hash stay those
 * of the vector, and the Harmony hash is that of the 11-field encoding. */
Test(core_tx, ethereum_form_converts_to_harmony_form)
{
	json_t *j = tu_load_json("tx/ethers_transactions.json");
	json_t *txs = json_object_get(j, "transactions");
	size_t i, n = 0;
	json_t *v;
	json_array_foreach(txs, i, v) {
		size_t rl;
		uint8_t *raw = tu_hex(jstr(v, "raw"), &rl);
		struct tx tx;
		cr_assert_eq(tx_decode(&tx, raw, rl), 0);
		uint64_t base = tx.chain_id >= 1666700000 ? 1666700000 : 1666600000;
		int in_net = tx.type == TX_LEGACY && tx.chain_id >= 1666600000 &&
		             tx.chain_id - base < 2;
		int rc = tx_from_eth(&tx, base, 2);
		if (!in_net) {
			cr_assert_eq(rc, -CN_EINVAL, "vector %zu", i);
			tx_free(&tx);
			free(raw);
			continue;
		}
		cr_assert_eq(rc, 0);
		cr_assert_eq(tx.type, TX_HARMONY);
		cr_assert_eq(tx.shard_id, (uint32_t)(tx.chain_id - base));
		cr_assert_eq(tx.to_shard_id, tx.shard_id);
		uint8_t h[32], addr[20];
		cr_assert_eq(tx_eth_hash(&tx, h), 0);
		expect_hex(h, 32, jstr(v, "hash"), "eth hash", i);
		cr_assert_eq(tx_signing_hash(&tx, h), 0);
		expect_hex(h, 32, jstr(v, "signingHash"), "signing hash", i);
		cr_assert_eq(tx_sender(&tx, addr), 0);
		expect_addr(addr, jstr(v, "sender"), "sender", i);
		uint8_t *enc;
		size_t el;
		cr_assert_eq(tx_encode(&tx, &enc, &el), 0);
		uint8_t k[32];
		keccak256(enc, el, k);
		cr_assert_eq(tx_hash(&tx, h), 0);
		cr_assert(memcmp(h, k, 32) == 0);
		struct tx back;
		cr_assert_eq(tx_decode(&back, enc, el), 0);
		cr_assert_eq(back.type, TX_HARMONY);
		cr_assert_eq(tx_sender(&back, addr), 0);
		expect_addr(addr, jstr(v, "sender"), "sender after re-decode", i);
		tx_free(&back);
		free(enc);
		tx_free(&tx);
		free(raw);
		n++;
	}
	cr_assert_gt(n, 0);
	json_decref(j);
	tu_report("ethers legacy txs converted to Harmony form", n);
}
