/* JSON-RPC 2.0 envelope conformance: batches, notifications, malformed
 * input, unknown methods, wrong params, limits; and the JSON writer. */
#include "helpers.h"
#include "rpc/rpc_int.h"

static struct tnode N;

static void setup(void)
{
	tnode_new(&N, 1, 2);
	struct rpc_limits lim = {.max_batch = 8, .max_depth = 16, .max_body = 4096};
	cr_assert_eq(rpc_handler_new(&N.h, N.st, N.np, 0, &lim, NULL, NULL), 0);
}

static void teardown(void)
{
	tnode_free(&N);
}

TestSuite(rpc_envelope, .init = setup, .fini = teardown);

Test(rpc_envelope, writer_encodings)
{
	struct rpc_jw w;
	rpc_jw_init(&w);
	rpc_jw_arr(&w);
	rpc_jw_qty(&w, 0);
	rpc_jw_qty(&w, 0x1a);
	rpc_jw_qty(&w, UINT64_MAX);
	rpc_jw_data(&w, NULL, 0);
	rpc_jw_data(&w, (const uint8_t *)"\x00\x0a", 2);
	struct u256 big = u256_from_u64(0);
	rpc_jw_qty256(&w, &big);
	big = u256_from_u64(1000000);
	rpc_jw_dec256(&w, &big);
	rpc_jw_obj(&w);
	rpc_jw_key(&w, "a\"b");
	rpc_jw_strn(&w, "x\n\x01\xff\xc3\xa9\xed\xa0\x80", 9);
	rpc_jw_key(&w, "e");
	rpc_jw_arr(&w);
	rpc_jw_arr_end(&w);
	rpc_jw_obj_end(&w);
	rpc_jw_arr_end(&w);
	cr_assert_eq(w.err, 0);
	cr_assert_str_eq(w.p, "[\"0x0\",\"0x1a\",\"0xffffffffffffffff\",\"0x\",\"0x000a\",\"0x0\","
	                      "1000000,{\"a\\\"b\":\"x\\n\\u0001\\ufffd\xc3\xa9\\ufffd\\ufffd\\ufffd\","
	                      "\"e\":[]}]");
	json_error_t e;
	json_t *j = json_loads(w.p, 0, &e);
	cr_assert_not_null(j, "writer output is not JSON: %s", e.text);
	json_decref(j);
	/* Too deep for the writer: a sticky error, not an overflow. */
	rpc_jw_reset(&w);
	for (int i = 0; i < RPC_JW_MAX_DEPTH + 2; i++)
		rpc_jw_arr(&w);
	cr_assert_eq(w.err, -CN_ELIMIT);
	rpc_jw_free(&w);
}

Test(rpc_envelope, malformed_json_is_a_parse_error)
{
	const char *bad[] = {"{", "{\"jsonrpc\":\"2.0\",", "nonsense", "[1,2", "\"unterminated",
	                     "{\"a\":1}}", ""};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		json_t *r = tcall_raw(N.h, bad[i]);
		cr_assert_eq(terr_code(r), RPC_E_PARSE, "input %zu", i);
		cr_assert(json_is_null(json_object_get(r, "id")));
		json_decref(r);
	}
}

Test(rpc_envelope, invalid_requests)
{
	const char *bad[] = {
		"{\"id\":1,\"method\":\"eth_chainId\"}",                        /* no jsonrpc */
		"{\"jsonrpc\":\"1.0\",\"id\":1,\"method\":\"eth_chainId\"}",
		"{\"jsonrpc\":\"2.0\",\"id\":1}",                               /* no method */
		"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":5}",
		"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_chainId\",\"params\":7}",
		"{\"jsonrpc\":\"2.0\",\"id\":[1],\"method\":\"eth_chainId\"}",
		"42",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		json_t *r = tcall_raw(N.h, bad[i]);
		cr_assert_eq(terr_code(r), RPC_E_INVALID_REQUEST, "input %zu", i);
		json_decref(r);
	}
}

Test(rpc_envelope, unknown_method_and_ids_echoed)
{
	json_t *r = tcall_raw(N.h, "{\"jsonrpc\":\"2.0\",\"id\":\"abc\",\"method\":\"eth_nope\"}");
	cr_assert_eq(terr_code(r), RPC_E_METHOD);
	cr_assert_str_eq(terr_msg(r), "the method eth_nope does not exist/is not available");
	cr_assert_str_eq(json_string_value(json_object_get(r, "id")), "abc");
	json_decref(r);
	r = tcall_raw(N.h, "{\"jsonrpc\":\"2.0\",\"id\":null,\"method\":\"eth_chainId\"}");
	cr_assert(json_is_null(json_object_get(r, "id")));
	cr_assert_not_null(json_object_get(r, "result"));
	json_decref(r);
	/* a non-ASCII id comes back byte for byte */
	r = tcall_raw(N.h, "{\"jsonrpc\":\"2.0\",\"id\":\"h\xc3\xa9\xe2\x82\xac\\u00e9\",\"method\":\"eth_chainId\"}");
	cr_assert_str_eq(json_string_value(json_object_get(r, "id")), "h\xc3\xa9\xe2\x82\xac\xc3\xa9");
	json_decref(r);
	r = tcall_raw(N.h, "{\"jsonrpc\":\"2.0\",\"id\":2.5,\"method\":\"eth_chainId\"}");
	cr_assert(json_real_value(json_object_get(r, "id")) == 2.5);
	json_decref(r);
	/* a NUL inside the method name matches nothing */
	r = tcall_raw(N.h, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"eth_chainId\\u0000x\"}");
	cr_assert_eq(terr_code(r), RPC_E_METHOD);
	json_decref(r);
}

Test(rpc_envelope, wrong_params)
{
	struct {
		const char *m, *p, *msg;
	} cases[] = {
		{"eth_getBalance", "[]", "missing value for required argument 0"},
		{"eth_getBalance", "[1]", "invalid argument 0: common.Address must be a hex string"},
		{"eth_getBalance", "[\"0x12\"]",
		 "invalid argument 0: hex string has length 2, want 40 for common.Address"},
		{"eth_getBalance", "[\"00000000000000000000000000000000000000aa\"]",
		 "invalid argument 0: hex string without 0x prefix"},
		{"eth_getBalance", "[\"one1xyz\"]", NULL},
		{"eth_getBalance", "[\"0x00000000000000000000000000000000000000aa\",\"0x01\"]",
		 "invalid argument 1: hex number with leading zero digits"},
		{"eth_getBalance", "[\"0x00000000000000000000000000000000000000aa\",\"0x\"]", NULL},
		{"eth_getBalance", "[\"0x00000000000000000000000000000000000000aa\",{}]", NULL},
		{"eth_getBlockByNumber", "[\"0x1\",\"yes\"]", "invalid argument 1: expected a boolean"},
		{"eth_getBlockByNumber", "[\"0x10000000000000000\",false]",
		 "invalid argument 0: hex number > 64 bits"},
		{"eth_getBlockByHash", "[\"0xzz\",false]", NULL},
		{"eth_chainId", "[1]", "too many arguments, want at most 0"},
		{"eth_getTransactionByHash", "[\"0x00\"]", NULL},
		{"web3_sha3", "[\"0xabc\"]", "invalid argument 0: invalid hex string"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		json_t *r = tcall(N.h, cases[i].m, cases[i].p);
		cr_assert_eq(terr_code(r), RPC_E_PARAMS, "case %zu", i);
		if (cases[i].msg)
			cr_assert_str_eq(terr_msg(r), cases[i].msg, "case %zu", i);
		json_decref(r);
	}
}

Test(rpc_envelope, batches)
{
	json_t *r = tcall_raw(N.h,
		"[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_blockNumber\"},"
		" 17,"
		" {\"jsonrpc\":\"2.0\",\"method\":\"eth_blockNumber\"},"
		" {\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"nope\"},"
		" {\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"eth_getBalance\",\"params\":[5]}]");
	cr_assert(json_is_array(r));
	cr_assert_eq(json_array_size(r), 4);   /* the notification is not answered */
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(r, 0), "result")), "0x1");
	cr_assert_eq(terr_code(json_array_get(r, 1)), RPC_E_INVALID_REQUEST);
	cr_assert_eq(terr_code(json_array_get(r, 2)), RPC_E_METHOD);
	cr_assert_eq(terr_code(json_array_get(r, 3)), RPC_E_PARAMS);
	json_decref(r);

	r = tcall_raw(N.h, "[]");
	cr_assert_eq(terr_code(r), RPC_E_INVALID_REQUEST);
	cr_assert_str_eq(terr_msg(r), "empty batch");
	json_decref(r);

	/* notifications only: nothing at all */
	cr_assert_null(tcall_raw(N.h, "[{\"jsonrpc\":\"2.0\",\"method\":\"eth_chainId\"}]"));
	cr_assert_null(tcall_raw(N.h, "{\"jsonrpc\":\"2.0\",\"method\":\"eth_chainId\"}"));

	char big[1024] = "[";
	for (int i = 0; i < 9; i++)
		strcat(big, i ? ",{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_chainId\"}"
		              : "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_chainId\"}");
	strcat(big, "]");
	r = tcall_raw(N.h, big);
	cr_assert_eq(terr_code(r), RPC_E_INVALID_REQUEST);
	cr_assert(strstr(terr_msg(r), "batch too large"));
	json_decref(r);
}

Test(rpc_envelope, deep_nesting_refused_before_parsing)
{
	char deep[256];
	size_t n = 0;
	for (int i = 0; i < 100; i++)
		deep[n++] = '[';
	deep[n] = 0;
	json_t *r = tcall_raw(N.h, deep);
	cr_assert_eq(terr_code(r), RPC_E_PARSE);
	cr_assert(strstr(terr_msg(r), "nested deeper"));
	json_decref(r);
	/* brackets inside strings do not count */
	r = tcall_raw(N.h, "{\"jsonrpc\":\"2.0\",\"id\":\"[[[[[[[[[[[[[[[[[[[[[[[[[[\","
	                   "\"method\":\"eth_chainId\"}");
	cr_assert_not_null(json_object_get(r, "result"));
	json_decref(r);
	/* and the handler still serves */
	r = tcall(N.h, "eth_blockNumber", "[]");
	cr_assert_str_eq(json_string_value(tresult(r)), "0x1");
	json_decref(r);
}

/* The dispatch table is binary-searched: every entry must be found. */
Test(rpc_envelope, every_method_is_reachable)
{
	size_t n = rpc_method_count();
	cr_assert_gt(n, 40);
	for (size_t i = 0; i < n; i++) {
		const char *name = rpc_method_name(i);
		const struct rpc_method *m = rpc_method_find(name, strlen(name));
		cr_assert_not_null(m, "%s not found", name);
		cr_assert_eq(rpc_method_index(m), i);
		/* and answers something well-formed with no params */
		json_t *r = tcall(N.h, name, "[]");
		cr_assert(json_object_get(r, "result") || json_object_get(r, "error"), "%s", name);
		json_decref(r);
	}
}
