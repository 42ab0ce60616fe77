/* rpc.c — `canon rpc`: serve JSON-RPC from a chain database that another
 * process writes (read-only LMDB; readers never block the writer). */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/flags.h"
#include "chain/chain.h"
#include "cli/cli.h"
#include "core/core.h"
#include "rpc/rpc.h"
#include "store/store.h"

static const char usage_line[] =
	"canon rpc --datadir D --network N [--shard S] [--http.addr A --http.port P ...]";

/* Standalone there are no peers: the best height is our own unless the
 * operator names one (useful to test load-balancer health checks). */
static int fixed_peer_height(void *ctx, uint64_t *out)
{
	*out = *(const uint64_t *)ctx;
	return 0;
}

int cli_rpc(int argc, char **argv)
{
	const char *datadir = NULL, *network = "localnet", *addr = "127.0.0.1", *cors = "*";
	uint64_t shard = 0, port = 0, threads = 4, max_body = 5u << 20, max_batch = 100,
		 max_lag = 5, best = 0, inflight = 256, max_log_blocks = 1024, max_ws = 64;
	const char *rate_s = "0", *burst_s = "0";
	int ws = 1;
	uint64_t ws_port = 0;
	struct cn_flag flags[] = {
		{"datadir", CN_FLAG_STRING, &datadir, "DIR", "data directory holding <network>/shard<S>", 0},
		{"network", CN_FLAG_STRING, &network, "NAME", "mainnet, testnet, partner or localnet", 0},
		{"shard", CN_FLAG_UINT, &shard, "S", "shard to serve", 0},
		{"http.addr", CN_FLAG_STRING, &addr, "IP", "IPv4 address to listen on", 0},
		{"http.port", CN_FLAG_UINT, &port, "PORT", "HTTP port (default 9500; localnet 9500+2*S; 0 = any free port)", 0},
		{"ws", CN_FLAG_BOOL, &ws, NULL, "also listen for WebSocket on --ws.port (always accepted on the HTTP port)", 0},
		{"ws.port", CN_FLAG_UINT, &ws_port, "PORT", "WebSocket port (default 9800; localnet 9800+2*S; 0 = any free port)", 0},
		{"http.cors", CN_FLAG_STRING, &cors, "ORIGIN", "Access-Control-Allow-Origin", 0},
		{"http.threads", CN_FLAG_UINT, &threads, "N", "server threads", 0},
		{"rate", CN_FLAG_STRING, &rate_s, "R", "requests per second per client IP (0: unlimited)", 0},
		{"burst", CN_FLAG_STRING, &burst_s, "B", "token bucket size per client IP", 0},
		{"max-body", CN_FLAG_UINT, &max_body, "BYTES", "largest request body", 0},
		{"max-batch", CN_FLAG_UINT, &max_batch, "N", "most requests in one batch", 0},
		{"max-inflight", CN_FLAG_UINT, &inflight, "N", "requests served at once (then 503)", 0},
		{"max-log-blocks", CN_FLAG_UINT, &max_log_blocks, "N", "widest eth_getLogs block range", 0},
		{"max-ws-conns", CN_FLAG_UINT, &max_ws, "N", "WebSocket connections at once (a thread each)", 0},
		{"health.maxlag", CN_FLAG_UINT, &max_lag, "BLOCKS", "/health is 503 beyond this lag", 0},
		{"peer-height", CN_FLAG_UINT, &best, "N", "best known peer height (default: own height)", 0},
		{NULL, 0, NULL, NULL, NULL, 0},
	};
	struct cn_flags_result res;
	char err[256];
	if (cn_flags_parse(flags, argc - 1, argv + 1, &res, err, sizeof err)) {
		fprintf(stderr, "canon rpc: %s\n", err);
		return 2;
	}
	int help = res.help;
	size_t npos = res.n_positional;
	cn_flags_result_free(&res);
	if (help) {
		cn_flags_help(stdout, usage_line, flags);
		return 0;
	}
	if (npos) {
		fprintf(stderr, "canon rpc: unexpected argument (see --help)\n");
		return 2;
	}
	if (!datadir) {
		fprintf(stderr, "canon rpc: --datadir is required\n");
		return 2;
	}
	const struct netparams *np;
	if (netparams_get(network, &np)) {
		fprintf(stderr, "canon rpc: unknown network '%s'\n", network);
		return 2;
	}
	if (shard >= np->num_shards) {
		fprintf(stderr, "canon rpc: %s has shards 0..%u\n", np->name, np->num_shards - 1);
		return 2;
	}
	char *end;
	double rate = strtod(rate_s, &end);
	if (*end || rate < 0 || rate != rate) {
		fprintf(stderr, "canon rpc: --rate: '%s' is not a rate\n", rate_s);
		return 2;
	}
	double burst = strtod(burst_s, &end);
	if (*end || burst < 0 || burst != burst) {
		fprintf(stderr, "canon rpc: --burst: '%s' is not a number\n", burst_s);
		return 2;
	}
	if (port > 65535 || ws_port > 65535 || threads == 0 || threads > 1024 || !max_body || !max_batch || !inflight ||
	    !max_log_blocks || !max_ws || max_ws > 4096 || inflight > 1u << 20) {
		fprintf(stderr, "canon rpc: a port, thread count or limit is out of range\n");
		return 2;
	}
	int port_given = 0;
	for (struct cn_flag *f = flags; f->name; f++)
		if (!strcmp(f->name, "http.port"))
			port_given = f->set;
	int ws_port_given = 0;
	for (struct cn_flag *f = flags; f->name; f++)
		if (!strcmp(f->name, "ws.port"))
			ws_port_given = f->set;
	int best_given = 0;
	for (struct cn_flag *f = flags; f->name; f++)
		if (!strcmp(f->name, "peer-height"))
			best_given = f->set;

	char path[4096];
	struct store *st;
	struct store_opts so = {.readonly = 1, .errmsg = err, .errmsg_cap = sizeof err};
	err[0] = 0;
	int rc;
	if ((rc = store_chain_path(path, sizeof path, datadir, np->name, (uint32_t)shard)) ||
	    (rc = store_open(&st, path, &so))) {
		fprintf(stderr, "canon rpc: cannot open %s: %s\n", path, err[0] ? err : cn_strerror(rc));
		return 1;
	}
	/* Check that the database holds this network's shard before serving. */
	struct chain *c;
	if ((rc = chain_open(&c, st, np, (uint32_t)shard))) {
		fprintf(stderr, "canon rpc: %s holds no %s shard %u chain: %s\n", path, np->name,
		        (unsigned)shard, cn_strerror(rc));
		store_close(st);
		return 1;
	}
	chain_close(c);

	struct rpc_server_config cfg = {
		.addr = addr,
		.port = port_given ? (uint16_t)port : rpc_default_port(np->name, (uint32_t)shard),
		.cors_origin = cors,
		.threads = (unsigned)threads,
		.max_inflight = (unsigned)inflight,
		.rate = rate,
		.burst = burst,
		.health_max_lag = max_lag,
		.ws_listen = ws,
		.ws_port = ws_port_given ? (uint16_t)ws_port : rpc_default_ws_port(np->name, (uint32_t)shard),
		.max_ws_conns = (unsigned)max_ws,
		.limits = {.max_body = max_body, .max_batch = max_batch, .max_log_blocks = max_log_blocks},
	};
	struct rpc_backend be = {0};
	if (best_given) {
		be.ctx = &best;
		be.peer_height = fixed_peer_height;
	}
	/* Block the signals before the server's threads start so that they
	 * inherit the mask and only sigwait below sees them. */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	struct rpc_server *srv;
	if ((rc = rpc_server_start(&srv, st, np, (uint32_t)shard, &cfg, &be))) {
		fprintf(stderr, "canon rpc: cannot listen on %s:%u: %s\n", addr, (unsigned)cfg.port,
		        cn_strerror(rc));
		store_close(st);
		return 1;
	}
	printf("canon rpc: serving %s shard %u from %s on http://%s:%u\n", np->name,
	       (unsigned)shard, path, addr, (unsigned)rpc_server_port(srv));
	if (ws)
		printf("canon rpc: websocket on ws://%s:%u\n", addr, (unsigned)rpc_server_ws_port(srv));
	fflush(stdout);
	int sig;
	sigwait(&set, &sig);
	rpc_server_stop(srv);
	store_close(st);
	return 0;
}
