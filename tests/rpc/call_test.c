/* eth_call and eth_estimateGas without an EVM: transfers and calls to
 * accounts without code, and clear errors for everything that would need
 * code to run. */
#include <strings.h>

#include "base/bytes.h"
#include "helpers.h"

static struct tnode N;
static char rich[43], poor[43];

static void setup(void)
{
	uint8_t sk[32], a[20];
	tnode_new(&N, 2, 2);
	cr_assert_eq(rpc_handler_new(&N.h, N.st, N.np, 0, NULL, NULL, NULL), 0);
	cr_assert_eq(chain_localnet_account(1, sk, a), 0);
	rich[0] = '0', rich[1] = 'x';
	hex_encode(a, 20, rich + 2);
	snprintf(poor, sizeof poor, "0x%040d", 7);
}

static void teardown(void)
{
	tnode_free(&N);
}

TestSuite(rpc_call, .init = setup, .fini = teardown);

static const char *result_of(const char *method, const char *params, char *out, size_t cap)
{
	json_t *resp = tcall(N.h, method, params);
	json_t *r = json_object_get(resp, "result");
	cr_assert(json_is_string(r), "%s %s: %s", method, params, json_dumps(resp, 0));
	snprintf(out, cap, "%s", json_string_value(r));
	json_decref(resp);
	return out;
}

static void error_of(const char *method, const char *params, const char *want)
{
	json_t *resp = tcall(N.h, method, params);
	cr_assert_not_null(json_object_get(resp, "error"), "%s %s accepted", method, params);
	cr_assert(strstr(terr_msg(resp), want), "%s %s: %s", method, params, terr_msg(resp));
	json_decref(resp);
}

Test(rpc_call, transfers)
{
	char p[400], r[80];
	snprintf(p, sizeof p, "[{\"from\":\"%s\",\"to\":\"%s\",\"value\":\"0x1\"},\"latest\"]", rich, poor);
	cr_assert_str_eq(result_of("eth_call", p, r, sizeof r), "0x");
	cr_assert_str_eq(result_of("eth_estimateGas", p, r, sizeof r), "0x5208");
	/* 21000 + 4 per zero byte + 16 per non-zero byte (the chain's rule). */
	snprintf(p, sizeof p, "[{\"from\":\"%s\",\"to\":\"%s\",\"data\":\"0x0001ff\"}]", rich, poor);
	cr_assert_str_eq(result_of("eth_estimateGas", p, r, sizeof r), "0x522c");
	snprintf(p, sizeof p, "[{\"to\":\"%s\",\"input\":\"0x00\"}]", poor);
	cr_assert_str_eq(result_of("eth_estimateGas", p, r, sizeof r), "0x520c");
	cr_assert_str_eq(result_of("eth_call", p, r, sizeof r), "0x");
	snprintf(p, sizeof p, "[{\"to\":\"%s\",\"gas\":\"0x5208\"}]", poor);
	cr_assert_str_eq(result_of("eth_estimateGas", p, r, sizeof r), "0x5208");
}

Test(rpc_call, errors)
{
	char p[400];
	snprintf(p, sizeof p, "[{\"from\":\"%s\",\"to\":\"%s\",\"value\":\"0x1\"}]", poor, rich);
	error_of("eth_estimateGas", p, "insufficient funds for transfer");
	error_of("eth_call", p, "insufficient funds for transfer");
	error_of("eth_call", "[{\"data\":\"0x6000\"}]", "EVM not available yet");
	error_of("eth_estimateGas", "[{\"data\":\"0x6000\"}]", "EVM not available yet");
	snprintf(p, sizeof p, "[{\"to\":\"%s\",\"gas\":\"0x5207\"}]", poor);
	error_of("eth_estimateGas", p, "gas required exceeds allowance");
	snprintf(p, sizeof p, "[{\"to\":\"%s\",\"data\":\"0x00\",\"input\":\"0x01\"}]", poor);
	error_of("eth_call", p, "not equal");
	snprintf(p, sizeof p, "[{\"to\":\"%s\",\"data\":\"0x0\"}]", poor);
	error_of("eth_call", p, "even number");
	snprintf(p, sizeof p, "[{\"to\":\"%s\",\"value\":7}]", poor);
	error_of("eth_call", p, "value");
	snprintf(p, sizeof p, "[{\"to\":\"%s\"},\"latest\",{}]", poor);
	error_of("eth_call", p, "");
	error_of("eth_call", "[{\"to\":\"0x12\"}]", "to must be");
	error_of("eth_call", "[]", "");
	error_of("eth_call", "[7]", "object");
}

/* The receipt's "from" comes from the handler's sender cache the second
 * time: it must match the recovered sender both times, in both namespaces,
 * and a second transaction must not see the first one's entry. */
Test(rpc_call, receipt_sender_cache)
{
	struct block b;
	char p[100], want[43] = "0x";
	cr_assert_eq(chain_block_at(N.c, 2, &b), 0);
	cr_assert_geq(b.ntxs, 2);
	for (size_t i = 0; i < 2; i++) {
		uint8_t h[32], from[20];
		cr_assert_eq(tx_eth_hash(&b.txs[i], h), 0);
		cr_assert_eq(tx_sender(&b.txs[i], from), 0);
		hex_encode(from, 20, want + 2);
		p[0] = '[', p[1] = '"', p[2] = '0', p[3] = 'x';
		hex_encode(h, 32, p + 4);
		strcpy(p + 68, "\"]");
		for (int k = 0; k < 3; k++) {
			json_t *resp = tcall(N.h, "eth_getTransactionReceipt", p);
			const char *f = json_string_value(json_object_get(json_object_get(resp, "result"), "from"));
			cr_assert_not_null(f, "%s", json_dumps(resp, 0));
			cr_assert_eq(strcasecmp(f, want), 0, "call %d: %s != %s", k, f, want);
			json_decref(resp);
		}
	}
	block_free(&b);
}

/* src/chain stores each tx's sender with its lookup records; a database
 * written before that (44-byte records, rewritten here) still answers the
 * same "from" through recovery. */
Test(rpc_call, receipt_sender_stored_or_recovered)
{
	struct block b;
	uint8_t h[32], eh[32], from[20], stored[20], bh[32];
	char p[100], want[43] = "0x";
	cr_assert_eq(chain_block_at(N.c, 2, &b), 0);
	cr_assert_eq(tx_hash(&b.txs[1], h), 0);
	cr_assert_eq(tx_eth_hash(&b.txs[1], eh), 0);
	cr_assert_eq(tx_sender(&b.txs[1], from), 0);
	hex_encode(from, 20, want + 2);
	struct store_txn *t;
	cr_assert_eq(store_begin(N.st, 0, &t), 0);
	cr_assert_eq(store_txlookup_sender(t, h, stored), 0);
	cr_assert_eq(memcmp(stored, from, 20), 0);
	cr_assert_eq(store_txlookup_sender(t, eh, stored), 0);
	cr_assert_eq(memcmp(stored, from, 20), 0);
	store_abort(t);
	/* the old layout, under the Ethereum hash */
	cr_assert_eq(chain_hash_at(N.c, 2, bh), 0);
	cr_assert_eq(store_begin(N.st, 1, &t), 0);
	cr_assert_eq(store_txlookup_put(t, eh, bh, 2, 1), 0);
	cr_assert_eq(store_commit(t), 0);
	cr_assert_eq(store_begin(N.st, 0, &t), 0);
	cr_assert_eq(store_txlookup_sender(t, eh, stored), -CN_ENOTFOUND);
	store_abort(t);
	struct rpc_handler *fresh;   /* an empty sender cache */
	cr_assert_eq(rpc_handler_new(&fresh, N.st, N.np, 0, NULL, NULL, NULL), 0);
	p[0] = '[', p[1] = '"', p[2] = '0', p[3] = 'x';
	hex_encode(eh, 32, p + 4);
	strcpy(p + 68, "\"]");
	json_t *resp = tcall(fresh, "eth_getTransactionReceipt", p);
	const char *f = json_string_value(json_object_get(json_object_get(resp, "result"), "from"));
	cr_assert_not_null(f, "%s", json_dumps(resp, 0));
	cr_assert_eq(strcasecmp(f, want), 0, "%s != %s", f, want);
	cr_assert_str_eq(json_string_value(json_object_get(json_object_get(resp, "result"), "transactionIndex")), "0x1");
	json_decref(resp);
	rpc_handler_free(fresh);
	block_free(&b);
}
