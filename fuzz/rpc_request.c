/* fuzz/rpc_request.c — the JSON-RPC handler on arbitrary request bodies.
 *
 * A tiny localnet chain (genesis plus three blocks of transfers, half of
 * them cross-shard so that the CX methods find receipts, in a temporary
 * directory removed at exit) is served by one handler; every input is a
 * request body, handled in a WebSocket-style session so that eth_subscribe
 * and its filters are reached too. The handler must answer without
 * crashing, within its limits, and whatever it writes must parse as JSON
 * (an empty answer is allowed: a body of notifications only is owed
 * nothing). Then the session's subscriptions are rewound to genesis and
 * polled, with one pending transaction announced: every notification must
 * parse as JSON as well. */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "chain/chain.h"
#include "rpc/rpc_int.h"
#include "store/store.h"

static struct store *st;
static struct chain *c;
static struct rpc_handler *h;
static char dir[64];

static void cleanup(void)
{
	char cmd[128];
	rpc_handler_free(h);
	chain_close(c);
	store_close(st);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd))
		fprintf(stderr, "rpc_request: could not remove %s\n", dir);
}

static void setup(void)
{
	struct chain_genesis g;
	struct chain_why why;
	uint8_t hash[32];
	strcpy(dir, "/tmp/canon-fuzz-rpc-XXXXXX");
	if (!mkdtemp(dir) || store_open_chain(&st, dir, "localnet", 0, NULL) ||
	    chain_genesis_default(&g, "localnet", 0) || chain_init(st, &g, hash) ||
	    chain_open(&c, st, g.np, 0) || chain_gen_blocks(c, 3, 4, 50, 1, &why))
		abort();
	/* Small limits so that the fuzzer reaches them. */
	struct rpc_limits lim = {.max_body = 64 * 1024, .max_batch = 16, .max_depth = 24};
	if (rpc_handler_new(&h, st, g.np, 0, &lim, NULL, NULL))
		abort();
	chain_genesis_free(&g);
	atexit(cleanup);
}

static void check_json(const char *p, size_t n, const char *what)
{
	json_error_t e;
	json_t *j = json_loadb(p, n, JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);
	if (!j) {
		fprintf(stderr, "rpc_request: invalid JSON %s (%s): %.*s\n", what, e.text,
		        (int)(n > 400 ? 400 : n), p);
		abort();
	}
	json_decref(j);
}

static int check_note(void *ctx, const char *p, size_t n)
{
	(void)ctx;
	check_json(p, n, "notification");
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!h)
		setup();
	struct rpc_jw w;
	struct rpc_session sess;
	memset(&sess, 0, sizeof sess);
	rpc_jw_init(&w);
	if (rpc_handle_session(h, (const char *)data, size, &w, &sess))
		abort();
	if (w.len)
		check_json(w.p, w.len, "answer");
	uint8_t hash[32] = {0};
	memcpy(hash, data, size < 32 ? size : 32);
	rpc_handler_pending_tx(h, hash);
	for (size_t i = 0; i < sess.nsubs; i++)
		sess.subs[i].last = 0;
	if (rpc_session_poll(h, &sess, &w, check_note, NULL))
		abort();
	rpc_session_free(&sess);
	rpc_jw_free(&w);
	return 0;
}
