/* eth_getLogs over a generated chain whose receipts are rewritten in the
 * store with logs (there is no EVM yet to emit any): filtering by address,
 * topics with wildcards and OR-lists, the bloom skip, blockHash, the range
 * limit and the log fields. */
#include <stdlib.h>

#include "base/bytes.h"
#include "chain/chain_int.h"
#include "core/core.h"
#include "helpers.h"

static struct tnode N;
static uint8_t A1[20], A2[20], T1[32], T2[32], T3[32];

static void add_logs(uint64_t number, const uint8_t a[20], const uint8_t t0[32],
                     const uint8_t t1[32], const uint8_t a2[20], int stale_bloom)
{
	tnode_add_logs(&N, number, a, t0, t1, a2, stale_bloom);
}

static void setup(void)
{
	tnode_new(&N, 6, 3);
	memset(A1, 0xa1, 20);
	memset(A2, 0xa2, 20);
	memset(T1, 0x11, 32);
	memset(T2, 0x22, 32);
	memset(T3, 0x33, 32);
	add_logs(2, A1, T1, T2, A2, 0);
	add_logs(4, A2, T3, T2, A1, 0);
	add_logs(5, A1, T1, T2, A2, 1); /* bloom says nothing: must be skipped */
	struct rpc_limits lim = {.max_log_blocks = 6};
	cr_assert_eq(rpc_handler_new(&N.h, N.st, N.np, 0, &lim, NULL, NULL), 0);
}

static void teardown(void)
{
	tnode_free(&N);
}

TestSuite(rpc_logs, .init = setup, .fini = teardown);

static void hexs(const uint8_t *p, size_t n, char *out)
{
	out[0] = '0';
	out[1] = 'x';
	hex_encode(p, n, out + 2);
}

/* The logs of a filter, checked to be an array. */
static json_t *logs(const char *filter)
{
	char params[1024];
	snprintf(params, sizeof params, "[%s]", filter);
	json_t *resp = tcall(N.h, "eth_getLogs", params);
	json_t *res = json_object_get(resp, "result");
	cr_assert(json_is_array(res), "eth_getLogs %s: %s", filter, json_dumps(resp, 0));
	json_incref(res);
	json_decref(resp);
	return res;
}

static const char *s(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

Test(rpc_logs, filters)
{
	char a1[43], a2[43], t1[67], t2[67], t3[67], f[800];
	hexs(A1, 20, a1);
	hexs(A2, 20, a2);
	hexs(T1, 32, t1);
	hexs(T2, 32, t2);
	hexs(T3, 32, t3);

	/* Everything from 1 to the head (6): blocks 2, 4 and 5, two logs each. */
	json_t *r = logs("{\"fromBlock\":\"0x1\",\"toBlock\":\"latest\"}");
	cr_assert_eq(json_array_size(r), 6); /* no criteria: the bloom cannot skip block 5 */
	json_t *l = json_array_get(r, 0);
	cr_assert_str_eq(s(l, "address"), a1);
	cr_assert_str_eq(s(l, "blockNumber"), "0x2");
	cr_assert_str_eq(s(l, "transactionIndex"), "0x0");
	cr_assert_str_eq(s(l, "logIndex"), "0x0");
	cr_assert_str_eq(s(l, "data"), "0x010203");
	cr_assert(json_is_false(json_object_get(l, "removed")));
	cr_assert_eq(json_array_size(json_object_get(l, "topics")), 2);
	struct block b;
	uint8_t bh[32], th[32];
	char bhs[67], ths[67];
	cr_assert_eq(chain_block_at(N.c, 2, &b), 0);
	cr_assert_eq(chain_hash_at(N.c, 2, bh), 0);
	cr_assert_eq(tx_eth_hash(&b.txs[0], th), 0);
	block_free(&b);
	hexs(bh, 32, bhs);
	hexs(th, 32, ths);
	cr_assert_str_eq(s(l, "blockHash"), bhs);
	cr_assert_str_eq(s(l, "transactionHash"), ths);
	l = json_array_get(r, 1);
	cr_assert_str_eq(s(l, "address"), a2);
	cr_assert_str_eq(s(l, "transactionIndex"), "0x1");
	cr_assert_str_eq(s(l, "logIndex"), "0x1");
	json_decref(r);

	/* One address; an address list. */
	snprintf(f, sizeof f, "{\"fromBlock\":\"0x1\",\"address\":\"%s\"}", a1);
	r = logs(f);
	cr_assert_eq(json_array_size(r), 2);
	cr_assert_str_eq(s(json_array_get(r, 0), "blockNumber"), "0x2");
	cr_assert_str_eq(s(json_array_get(r, 1), "blockNumber"), "0x4");
	json_decref(r);
	snprintf(f, sizeof f, "{\"fromBlock\":\"0x1\",\"address\":[\"%s\",\"%s\"]}", a2, a1);
	r = logs(f);
	cr_assert_eq(json_array_size(r), 4);
	json_decref(r);

	/* Topics: position 0 exact; null wildcard then position 1; OR-list. */
	snprintf(f, sizeof f, "{\"fromBlock\":\"0x1\",\"topics\":[\"%s\"]}", t1);
	r = logs(f);
	cr_assert_eq(json_array_size(r), 1);
	cr_assert_str_eq(s(json_array_get(r, 0), "blockNumber"), "0x2");
	json_decref(r);
	snprintf(f, sizeof f, "{\"fromBlock\":\"0x1\",\"topics\":[null,\"%s\"]}", t2);
	r = logs(f);
	cr_assert_eq(json_array_size(r), 2); /* the one-topic logs cannot match */
	json_decref(r);
	snprintf(f, sizeof f, "{\"fromBlock\":\"0x1\",\"topics\":[[\"%s\",\"%s\"]]}", t3, t1);
	r = logs(f);
	cr_assert_eq(json_array_size(r), 2);
	json_decref(r);
	snprintf(f, sizeof f, "{\"fromBlock\":\"0x1\",\"address\":\"%s\",\"topics\":[[\"%s\",\"%s\"]]}",
	         a2, t3, t2);
	r = logs(f);
	cr_assert_eq(json_array_size(r), 2); /* A2's one-topic T2 log in 2, its T3 log in 4 */
	cr_assert_str_eq(s(json_array_get(r, 0), "blockNumber"), "0x2");
	cr_assert_str_eq(s(json_array_get(r, 1), "blockNumber"), "0x4");
	json_decref(r);

	/* blockHash form. */
	snprintf(f, sizeof f, "{\"blockHash\":\"%s\"}", bhs);
	r = logs(f);
	cr_assert_eq(json_array_size(r), 2);
	json_decref(r);
	/* Block 5's receipts hold A1's log but its bloom is empty: with an
	 * address to look for, the block is skipped unread. */
	cr_assert_eq(chain_hash_at(N.c, 5, bh), 0);
	hexs(bh, 32, bhs);
	snprintf(f, sizeof f, "{\"blockHash\":\"%s\",\"address\":\"%s\"}", bhs, a1);
	r = logs(f);
	cr_assert_eq(json_array_size(r), 0);
	json_decref(r);
	r = logs("{\"fromBlock\":\"0x5\",\"toBlock\":\"0x3\"}");
	cr_assert_eq(json_array_size(r), 0);
	json_decref(r);
}

Test(rpc_logs, errors)
{
	static const char *bad[] = {
		"[{\"fromBlock\":\"0x0\",\"toBlock\":\"0x6\"}]", /* 7 blocks > limit 6 */
		"[{\"fromBlock\":\"earliest\"}]",
		"[{\"address\":\"0x12\"}]",
		"[{\"topics\":\"0x11\"}]",
		"[{\"topics\":[null,null,null,null,null]}]",
		"[{\"topics\":[[\"0xzz\"]]}]",
		"[{\"blockHash\":\"0x1111111111111111111111111111111111111111111111111111111111111111\"}]",
		"[{\"blockHash\":\"0x1111111111111111111111111111111111111111111111111111111111111111\","
		"\"fromBlock\":\"0x1\"}]",
		"[{\"fromBlock\":\"banana\"}]",
		"[1]",
		"[]",
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		json_t *resp = tcall(N.h, "eth_getLogs", bad[i]);
		cr_assert_not_null(json_object_get(resp, "error"), "%s accepted", bad[i]);
		json_decref(resp);
	}
	json_t *resp = tcall(N.h, "eth_getLogs", bad[0]);
	cr_assert(strstr(terr_msg(resp), "block range too large"), "%s", terr_msg(resp));
	json_decref(resp);
	/* Exactly the limit is fine. */
	json_t *r = logs("{\"fromBlock\":\"0x1\",\"toBlock\":\"0x6\"}");
	cr_assert_eq(json_array_size(r), 6);
	json_decref(r);
}
