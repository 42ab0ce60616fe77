/* Subscriptions driven without sockets: a session subscribes through
 * rpc_handle_session and rpc_session_poll hands over what it is owed —
 * newHeads per block, logs filtered by address and topics (one message per
 * log, from blocks written after subscribing), newPendingTransactions in
 * order with the oldest skipped on overrun — and eth_unsubscribe stops
 * each kind. */
#include "base/bytes.h"
#include "helpers.h"
#include "rpc/rpc_int.h"

static struct tnode N;
static uint8_t A1[20], A2[20], T1[32], T2[32], T3[32];

static void setup(void)
{
	tnode_new(&N, 2, 3);
	memset(A1, 0xa1, 20);
	memset(A2, 0xa2, 20);
	memset(T1, 0x11, 32);
	memset(T2, 0x22, 32);
	memset(T3, 0x33, 32);
	cr_assert_eq(rpc_handler_new(&N.h, N.st, N.np, 0, NULL, NULL, NULL), 0);
}

static void teardown(void)
{
	tnode_free(&N);
}

TestSuite(rpc_subs, .init = setup, .fini = teardown);

/* The notifications of one poll, parsed. */
struct got {
	json_t *msgs;
};

static int collect(void *ctx, const char *p, size_t n)
{
	struct got *g = ctx;
	json_error_t e;
	json_t *j = json_loadb(p, n, 0, &e);
	cr_assert_not_null(j, "notification is not JSON: %s", e.text);
	cr_assert_str_eq(json_string_value(json_object_get(j, "method")), "eth_subscription");
	json_array_append_new(g->msgs, j);
	return 0;
}

static json_t *poll_all(struct rpc_session *s)
{
	struct got g = {.msgs = json_array()};
	struct rpc_jw w;
	rpc_jw_init(&w);
	cr_assert_eq(rpc_session_poll(N.h, s, &w, collect, &g), 0);
	rpc_jw_free(&w);
	return g.msgs;
}

/* Calls a method in the session; returns the result's string (an id). */
static void sub(struct rpc_session *s, const char *params, char id[40])
{
	char body[1024];
	snprintf(body, sizeof body,
	         "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_subscribe\",\"params\":%s}", params);
	struct rpc_jw w;
	rpc_jw_init(&w);
	cr_assert_eq(rpc_handle_session(N.h, body, strlen(body), &w, s), 0);
	json_t *j = json_loadb(w.p, w.len, 0, NULL);
	cr_assert(json_is_string(json_object_get(j, "result")), "%s: %.*s", params, (int)w.len, w.p);
	snprintf(id, 40, "%s", json_string_value(json_object_get(j, "result")));
	json_decref(j);
	rpc_jw_free(&w);
}

static json_int_t sub_err(struct rpc_session *s, const char *params)
{
	char body[1024];
	snprintf(body, sizeof body,
	         "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_subscribe\",\"params\":%s}", params);
	struct rpc_jw w;
	rpc_jw_init(&w);
	cr_assert_eq(rpc_handle_session(N.h, body, strlen(body), &w, s), 0);
	json_t *j = json_loadb(w.p, w.len, 0, NULL);
	json_int_t code = terr_code(j);
	json_decref(j);
	rpc_jw_free(&w);
	return code;
}

static int unsub(struct rpc_session *s, const char *id)
{
	char body[200];
	snprintf(body, sizeof body,
	         "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_unsubscribe\",\"params\":[\"%s\"]}", id);
	struct rpc_jw w;
	rpc_jw_init(&w);
	cr_assert_eq(rpc_handle_session(N.h, body, strlen(body), &w, s), 0);
	json_t *j = json_loadb(w.p, w.len, 0, NULL);
	int ok = json_is_true(json_object_get(j, "result"));
	json_decref(j);
	rpc_jw_free(&w);
	return ok;
}

static void hexs(const uint8_t *p, size_t n, char *out)
{
	out[0] = '0';
	out[1] = 'x';
	hex_encode(p, n, out + 2);
}

/* Messages of subscription id in msgs, in order. */
static size_t count_for(json_t *msgs, const char *id)
{
	size_t k = 0;
	for (size_t i = 0; i < json_array_size(msgs); i++) {
		json_t *p = json_object_get(json_array_get(msgs, i), "params");
		k += !strcmp(json_string_value(json_object_get(p, "subscription")), id);
	}
	return k;
}

static json_t *nth_for(json_t *msgs, const char *id, size_t n)
{
	for (size_t i = 0; i < json_array_size(msgs); i++) {
		json_t *p = json_object_get(json_array_get(msgs, i), "params");
		if (!strcmp(json_string_value(json_object_get(p, "subscription")), id) && !n--)
			return json_object_get(p, "result");
	}
	cr_assert_fail("no message %zu for %s", n, id);
	return NULL;
}

Test(rpc_subs, logs_filtered_by_address_and_topics)
{
	struct rpc_session s = {0};
	char a1[43], t1[67], t2[67], t3[67], params[600];
	char all[40], by_a1[40], by_t2[40], by_t3[40], heads[40];
	hexs(A1, 20, a1);
	hexs(T1, 32, t1);
	hexs(T2, 32, t2);
	hexs(T3, 32, t3);
	sub(&s, "[\"logs\"]", all);
	snprintf(params, sizeof params, "[\"logs\",{\"address\":\"%s\"}]", a1);
	sub(&s, params, by_a1);
	snprintf(params, sizeof params, "[\"logs\",{\"topics\":[null,\"%s\"]}]", t2);
	sub(&s, params, by_t2);
	snprintf(params, sizeof params, "[\"logs\",{\"topics\":[[\"%s\",\"%s\"]]}]", t3, t1);
	sub(&s, params, by_t3);
	sub(&s, "[\"newHeads\"]", heads);

	/* Nothing is owed for blocks before the subscription. */
	json_t *m = poll_all(&s);
	cr_assert_eq(json_array_size(m), 0);
	json_decref(m);

	/* Blocks 3 and 4 arrive, then get logs: 3: tx0 (A1,[T1,T2]), tx1
	 * (A2,[T2]); 4: tx0 (A2,[T3,T2]), tx1 (A1,[T2]). */
	struct chain_why why;
	cr_assert_eq(chain_gen_blocks(N.c, 2, 3, 0, 11, &why), 0, "%s", why.msg);
	tnode_add_logs(&N, 3, A1, T1, T2, A2, 0);
	tnode_add_logs(&N, 4, A2, T3, T2, A1, 0);
	m = poll_all(&s);
	cr_assert_eq(count_for(m, heads), 2);
	cr_assert_str_eq(json_string_value(json_object_get(nth_for(m, heads, 1), "number")), "0x4");
	cr_assert_eq(count_for(m, all), 4);
	cr_assert_eq(count_for(m, by_a1), 2);
	cr_assert_eq(count_for(m, by_t2), 2);   /* two-topic logs with T2 second */
	cr_assert_eq(count_for(m, by_t3), 2);   /* T3 or T1 first */

	/* The fields of a log, as eth_getLogs writes them. */
	json_t *l = nth_for(m, by_a1, 1);
	cr_assert_str_eq(json_string_value(json_object_get(l, "address")), a1);
	cr_assert_str_eq(json_string_value(json_object_get(l, "blockNumber")), "0x4");
	cr_assert_str_eq(json_string_value(json_object_get(l, "transactionIndex")), "0x1");
	cr_assert_str_eq(json_string_value(json_object_get(l, "logIndex")), "0x1");
	cr_assert(json_is_false(json_object_get(l, "removed")));
	uint8_t bh[32];
	char bhs[67];
	cr_assert_eq(chain_hash_at(N.c, 4, bh), 0);
	hexs(bh, 32, bhs);
	cr_assert_str_eq(json_string_value(json_object_get(l, "blockHash")), bhs);
	l = nth_for(m, by_t2, 0);
	cr_assert_str_eq(json_string_value(json_array_get(json_object_get(l, "topics"), 0)), t1);
	json_decref(m);

	/* A second poll owes nothing; after unsubscribing, a new block only
	 * reaches the rest. */
	m = poll_all(&s);
	cr_assert_eq(json_array_size(m), 0);
	json_decref(m);
	cr_assert(unsub(&s, all));
	cr_assert(!unsub(&s, all));
	cr_assert_eq(s.nsubs, 4);
	cr_assert_eq(chain_gen_blocks(N.c, 1, 3, 0, 12, &why), 0, "%s", why.msg);
	tnode_add_logs(&N, 5, A1, T1, T2, A2, 0);
	m = poll_all(&s);
	cr_assert_eq(count_for(m, all), 0);
	cr_assert_eq(count_for(m, heads), 1);
	cr_assert_eq(count_for(m, by_a1), 1);
	json_decref(m);
	rpc_session_free(&s);
	cr_assert_eq(s.nsubs, 0);
}

Test(rpc_subs, bad_subscriptions_are_refused)
{
	struct rpc_session s = {0};
	cr_assert_eq(sub_err(&s, "[\"nope\"]"), RPC_E_SERVER);
	cr_assert_eq(sub_err(&s, "[7]"), RPC_E_PARAMS);
	cr_assert_eq(sub_err(&s, "[\"logs\",\"0x01\"]"), RPC_E_PARAMS);
	cr_assert_eq(sub_err(&s, "[\"logs\",{\"address\":\"0x12\"}]"), RPC_E_PARAMS);
	cr_assert_eq(sub_err(&s, "[\"logs\",{\"fromBlock\":\"0x1\"}]"), RPC_E_PARAMS);
	cr_assert_eq(sub_err(&s, "[\"logs\",{\"topics\":[1]}]"), RPC_E_PARAMS);
	cr_assert_eq(sub_err(&s, "[\"newHeads\",{}]"), RPC_E_PARAMS);
	cr_assert_eq(sub_err(&s, "[\"newPendingTransactions\",true]"), RPC_E_PARAMS);
	cr_assert_eq(s.nsubs, 0);
	char id[40];
	for (int i = 0; i < RPC_MAX_SUBS; i++)
		sub(&s, "[\"logs\",{}]", id);
	cr_assert_eq(sub_err(&s, "[\"newHeads\"]"), RPC_E_LIMIT);
	rpc_session_free(&s);
}

Test(rpc_subs, pending_transactions_in_order_and_overrun)
{
	struct rpc_session s = {0};
	char id[40], id2[40];
	uint8_t h[32];
	memset(h, 0x01, 32);
	rpc_handler_pending_tx(N.h, h);         /* before: not owed */
	sub(&s, "[\"newPendingTransactions\"]", id);
	sub(&s, "[\"newPendingTransactions\",false]", id2);
	for (int i = 0; i < 5; i++) {
		memset(h, 0x10 + i, 32);
		rpc_handler_pending_tx(N.h, h);
	}
	json_t *m = poll_all(&s);
	cr_assert_eq(count_for(m, id), 5);
	cr_assert_eq(count_for(m, id2), 5);
	for (int i = 0; i < 5; i++) {
		char want[67];
		memset(h, 0x10 + i, 32);
		hexs(h, 32, want);
		cr_assert_str_eq(json_string_value(nth_for(m, id, (size_t)i)), want);
	}
	json_decref(m);
	cr_assert(unsub(&s, id2));

	/* More than the ring holds: the oldest are skipped, the newest come in
	 * order, a bounded number per poll. */
	size_t total = RPC_PENDING_RING + 100;
	for (size_t i = 0; i < total; i++) {
		memset(h, 0, 32);
		h[0] = (uint8_t)(i >> 8);
		h[1] = (uint8_t)i;
		rpc_handler_pending_tx(N.h, h);
	}
	size_t got = 0, first = SIZE_MAX, prev = 0;
	for (int round = 0; round < 100; round++) {
		m = poll_all(&s);
		size_t n = json_array_size(m);
		for (size_t i = 0; i < n; i++) {
			uint8_t b[32];
			size_t len;
			const char *v = json_string_value(nth_for(m, id, i));
			cr_assert_eq(hex_decode(v, strlen(v), b, 32, &len), 0);
			size_t k = (size_t)b[0] << 8 | b[1];
			if (first == SIZE_MAX)
				first = k;
			else
				cr_assert_eq(k, prev + 1);
			prev = k;
		}
		got += n;
		json_decref(m);
		if (!n)
			break;
	}
	cr_assert_eq(got, RPC_PENDING_RING);
	cr_assert_eq(first, 100);
	cr_assert_eq(prev, total - 1);
	rpc_session_free(&s);
}
