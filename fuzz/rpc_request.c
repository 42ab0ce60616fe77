/* fuzz/rpc_request.c — the JSON-RPC handler on arbitrary request bodies.
 *
 * A tiny localnet chain (genesis plus two blocks of transfers, in a temporary
 * directory removed at exit) is served by one handler; every input is a
 * request body. The handler must answer without crashing, within its limits,
 * and whatever it writes must parse as JSON (an empty answer is allowed: a
 * body of notifications only is owed nothing). */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "chain/chain.h"
#include "rpc/rpc.h"
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
	    chain_open(&c, st, g.np, 0) || chain_gen_blocks(c, 2, 3, 0, 1, &why))
		abort();
	/* Small limits so that the fuzzer reaches them. */
	struct rpc_limits lim = {.max_body = 64 * 1024, .max_batch = 16, .max_depth = 24};
	if (rpc_handler_new(&h, st, g.np, 0, &lim, NULL, NULL))
		abort();
	chain_genesis_free(&g);
	atexit(cleanup);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!h)
		setup();
	struct rpc_jw w;
	rpc_jw_init(&w);
	if (rpc_handle(h, (const char *)data, size, &w))
		abort();
	if (w.len) {
		json_error_t e;
		json_t *j = json_loadb(w.p, w.len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);
		if (!j) {
			fprintf(stderr, "rpc_request: invalid JSON answer (%s): %.*s\n", e.text,
			        (int)(w.len > 400 ? 400 : w.len), w.p);
			abort();
		}
		json_decref(j);
	}
	rpc_jw_free(&w);
	return 0;
}
