/* bench/rpc.c — JSON-RPC over HTTP under load: requests/s and p99 latency
 * for four typical reads, measured with wrk (2 threads, 32 connections)
 * against an in-process server on a generated localnet chain (20 blocks of
 * 50 transfers). Each figure is the median of 3 runs of 4 s. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/bytes.h"
#include "bench.h"
#include "chain/chain.h"
#include "core/core.h"
#include "rpc/rpc.h"
#include "store/store.h"

#define RUNS 3
#define SECONDS 4

static char dir[64];

static void die(const char *what)
{
	fprintf(stderr, "bench rpc: %s\n", what);
	exit(1);
}

/* Runs wrk with a Lua script POSTing body; returns requests/s and p99 ms. */
static void wrk_run(uint16_t port, const char *body, double *rps, double *p99_ms)
{
	char lua[128], cmd[512];
	snprintf(lua, sizeof lua, "%s/post.lua", dir);
	FILE *f = fopen(lua, "w");
	if (!f)
		die("cannot write the wrk script");
	fprintf(f, "wrk.method = \"POST\"\nwrk.headers[\"Content-Type\"] = \"application/json\"\n"
	           "wrk.body = [[%s]]\n", body);
	fclose(f);
	snprintf(cmd, sizeof cmd, "wrk -t2 -c32 -d%ds --latency -s %s http://127.0.0.1:%u/ 2>&1",
	         SECONDS, lua, (unsigned)port);
	FILE *p = popen(cmd, "r");
	if (!p)
		die("cannot run wrk (scripts/deps.sh installs it)");
	char line[256];
	int got_rps = 0, got_p99 = 0, non2xx = 0;
	while (fgets(line, sizeof line, p)) {
		double v;
		char unit[8];
		if (sscanf(line, "Requests/sec: %lf", &v) == 1) {
			*rps = v;
			got_rps = 1;
		} else if (sscanf(line, " 99%% %lf%7s", &v, unit) == 2) {
			*p99_ms = !strcmp(unit, "us") ? v / 1000 : !strcmp(unit, "s") ? v * 1000 : v;
			got_p99 = 1;
		} else if (strstr(line, "Non-2xx")) {
			non2xx = 1;
		}
	}
	int st = pclose(p);
	if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st) || !got_rps || !got_p99)
		die("wrk failed or printed no figures (is wrk installed?)");
	if (non2xx)
		die("the server answered with non-2xx statuses");
}

static void measure(uint16_t port, const char *name, const char *body)
{
	double rps[RUNS], p99[RUNS];
	for (int i = 0; i < RUNS; i++)
		wrk_run(port, body, &rps[i], &p99[i]);
	char n[64];
	snprintf(n, sizeof n, "%s_rps", name);
	bench_report("rpc", n, bench_median(rps, RUNS), "req/s");
	snprintf(n, sizeof n, "%s_p99_ms", name);
	bench_report("rpc", n, bench_median(p99, RUNS), "ms");
}

int main(void)
{
	struct store *st;
	struct chain *c;
	struct chain_genesis g;
	struct chain_why why;
	uint8_t h[32];
	if (system("command -v wrk >/dev/null 2>&1"))
		die("wrk is not installed (scripts/deps.sh installs it)");
	strcpy(dir, "/tmp/canon-bench-rpc-XXXXXX");
	if (!mkdtemp(dir) || store_open_chain(&st, dir, "localnet", 0, NULL) ||
	    chain_genesis_default(&g, "localnet", 0) || chain_init(st, &g, h) ||
	    chain_open(&c, st, g.np, 0) || chain_gen_blocks(c, 20, 50, 0, 3, &why))
		die("cannot build the chain");

	/* A receipt and a funded account to ask about. */
	struct block b;
	uint8_t txh[32], sk[32], addr[20];
	char txs[67] = "0x", as[43] = "0x", body[512];
	if (chain_block_at(c, 10, &b) || !b.ntxs || tx_eth_hash(&b.txs[0], txh) ||
	    chain_localnet_account(1, sk, addr))
		die("cannot pick a transaction");
	block_free(&b);
	hex_encode(txh, 32, txs + 2);
	hex_encode(addr, 20, as + 2);

	struct rpc_server *srv;
	struct rpc_server_config cfg = {.threads = 2};
	if (rpc_server_start(&srv, st, g.np, 0, &cfg, NULL))
		die("cannot start the server");
	uint16_t port = rpc_server_port(srv);

	measure(port, "blocknumber", "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_blockNumber\"}");
	snprintf(body, sizeof body,
	         "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_getBalance\",\"params\":[\"%s\",\"latest\"]}",
	         as);
	measure(port, "getbalance", body);
	measure(port, "getblock", "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_getBlockByNumber\","
	                          "\"params\":[\"latest\",false]}");
	snprintf(body, sizeof body,
	         "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_getTransactionReceipt\",\"params\":[\"%s\"]}",
	         txs);
	measure(port, "receipt", body);

	rpc_server_stop(srv);
	chain_genesis_free(&g);
	chain_close(c);
	store_close(st);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	return system(cmd) ? 1 : 0;
}
