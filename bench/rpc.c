/* bench/rpc.c — JSON-RPC over HTTP under load: requests/s and p99 latency
 * for four typical reads, measured with wrk (2 threads, 32 connections)
 * against an in-process server on a generated localnet chain (20 blocks of
 * 50 transfers). Each figure is the median of 3 runs of 2 s.
 *
 * For scale, the same load is put in the same run on two references the
 * bench starts itself on loopback ports: ganache 7.9.2 (tests/clients/
 * node_modules; eth_blockNumber, eth_getBalance and the receipt of one
 * transfer it mined) and nginx with one worker returning a fixed JSON body
 * (the ceiling for any HTTP server on this machine under this load). The
 * ratios canon/reference are printed too. Every process the bench starts is
 * killed on exit, on a fatal error and on SIGINT/SIGTERM; a reference that
 * is missing or does not come up within 30 s is skipped with a message
 * rather than failing the canon figures. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/bytes.h"
#include "bench.h"
#include "chain/chain.h"
#include "core/core.h"
#include "rpc/rpc.h"
#include "store/store.h"

#define RUNS 3
#define SECONDS 2
#define START_TIMEOUT_S 30

static char dir[64];
static pid_t children[2];
static int nchildren;

static void kill_children(void)
{
	for (int i = 0; i < nchildren; i++) {
		if (children[i] <= 0)
			continue;
		kill(-children[i], SIGTERM);
		/* Give it 3 s to go, then force it: the bench must not leave
		 * anything running behind it. */
		int gone = 0;
		for (int t = 0; t < 30 && !gone; t++) {
			if (waitpid(children[i], NULL, WNOHANG) == children[i])
				gone = 1;
			else
				usleep(100 * 1000);
		}
		if (!gone) {
			kill(-children[i], SIGKILL);
			waitpid(children[i], NULL, 0);
		}
		children[i] = 0;
	}
	nchildren = 0;
}

static void on_signal(int sig)
{
	(void)sig;
	exit(2); /* runs kill_children through atexit */
}

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

/* Prints <name>_rps and <name>_p99_ms (the latter unless p99 is not
 * wanted) and returns the median requests/s. */
static double measure_p(uint16_t port, const char *name, const char *body, int with_p99)
{
	double rps[RUNS], p99[RUNS];
	for (int i = 0; i < RUNS; i++)
		wrk_run(port, body, &rps[i], &p99[i]);
	char n[64];
	double r = bench_median(rps, RUNS);
	snprintf(n, sizeof n, "%s_rps", name);
	bench_report("rpc", n, r, "req/s");
	if (with_p99) {
		snprintf(n, sizeof n, "%s_p99_ms", name);
		bench_report("rpc", n, bench_median(p99, RUNS), "ms");
	}
	return r;
}

static double measure(uint16_t port, const char *name, const char *body)
{
	return measure_p(port, name, body, 1);
}

/* A loopback port nobody listens on now (the kernel picks it). */
static uint16_t free_port(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof a;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) ||
	    getsockname(fd, (struct sockaddr *)&a, &len))
		die("cannot find a free port");
	close(fd);
	return ntohs(a.sin_port);
}

/* One HTTP/1.1 POST of body to 127.0.0.1:port; the whole response (headers
 * and body) lands in out. Returns 0 on a complete exchange. The read stops
 * at Content-Length because ganache neither speaks HTTP/1.0 nor honours
 * Connection: close. */
static int http_post(uint16_t port, const char *body, char *out, size_t cap)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port),
	                        .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		return -1;
	struct timeval tv = {.tv_sec = 5};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	if (connect(fd, (struct sockaddr *)&a, sizeof a)) {
		close(fd);
		return -1;
	}
	char req[1024];
	int n = snprintf(req, sizeof req,
	                 "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
	                 "Content-Type: application/json\r\n"
	                 "Content-Length: %zu\r\n\r\n%s", strlen(body), body);
	if (n < 0 || (size_t)n >= sizeof req || write(fd, req, (size_t)n) != n) {
		close(fd);
		return -1;
	}
	size_t got = 0;
	ssize_t r;
	while (got + 1 < cap && (r = read(fd, out + got, cap - 1 - got)) > 0) {
		got += (size_t)r;
		out[got] = 0;
		const char *end = strstr(out, "\r\n\r\n");
		const char *cl = strcasestr(out, "\r\ncontent-length:");
		if (end && cl && cl < end && got >= (size_t)(end + 4 - out) + strtoul(cl + 17, NULL, 10))
			break;
	}
	out[got] = 0;
	close(fd);
	return got && !strncmp(out, "HTTP/1.", 7) ? 0 : -1;
}

/* Copies the string value of "result" from a JSON-RPC response. */
static int result_string(const char *resp, char *out, size_t cap)
{
	const char *p = strstr(resp, "\"result\":\"");
	if (!p)
		return -1;
	p += 10;
	const char *e = strchr(p, '"');
	if (!e || (size_t)(e - p) >= cap)
		return -1;
	memcpy(out, p, (size_t)(e - p));
	out[e - p] = 0;
	return 0;
}

/* Starts argv in its own process group (so kill_children reaches its
 * children too), output to log, and waits until port answers probe with
 * HTTP 200. Returns 0 when it is up; otherwise it is stopped again. */
static int spawn_and_wait(char *const argv[], const char *cwd, const char *log,
                          uint16_t port, const char *probe)
{
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		setpgid(0, 0);
		int l = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (l >= 0) {
			dup2(l, 1);
			dup2(l, 2);
		}
		if (cwd && chdir(cwd))
			_exit(127);
		execvp(argv[0], argv);
		_exit(127);
	}
	setpgid(pid, pid);
	children[nchildren++] = pid;
	char resp[4096];
	for (int t = 0; t < START_TIMEOUT_S * 10; t++) {
		if (waitpid(pid, NULL, WNOHANG) == pid) {
			children[--nchildren] = 0;
			return -1;
		}
		if (!http_post(port, probe, resp, sizeof resp) && strstr(resp, " 200 "))
			return 0;
		usleep(100 * 1000);
	}
	kill_children();
	return -1;
}

static void stop_last(void)
{
	/* Only one reference runs at a time: stopping all stops it. */
	kill_children();
}

int main(void)
{
	struct store *st;
	struct chain *c;
	struct chain_genesis g;
	struct chain_why why;
	uint8_t h[32];
	atexit(kill_children);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);
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

	double bn = measure(port, "blocknumber", "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_blockNumber\"}");
	snprintf(body, sizeof body,
	         "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_getBalance\",\"params\":[\"%s\",\"latest\"]}",
	         as);
	double bal = measure(port, "getbalance", body);
	measure(port, "getblock", "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_getBlockByNumber\","
	                          "\"params\":[\"latest\",false]}");
	snprintf(body, sizeof body,
	         "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_getTransactionReceipt\",\"params\":[\"%s\"]}",
	         txs);
	double rc = measure(port, "receipt", body);

	rpc_server_stop(srv);
	chain_genesis_free(&g);
	chain_close(c);
	store_close(st);

	static const char bn_body[] = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_blockNumber\"}";
	char resp[8192], pbuf[8], lg[128];
	double g_bn = 0, g_bal = 0, g_rc = 0, st_rps = 0;

	/* ganache, from the pinned npm package; its first deterministic
	 * account sends one transfer so there is a receipt to ask about. */
	static const char cli[] = "tests/clients/node_modules/ganache/dist/node/cli.js";
	if (access(cli, R_OK)) {
		fprintf(stderr, "bench rpc: %s missing (cd tests/clients && npm ci); ganache skipped\n", cli);
	} else {
		uint16_t gp = free_port();
		snprintf(pbuf, sizeof pbuf, "%u", (unsigned)gp);
		snprintf(lg, sizeof lg, "%s/ganache.log", dir);
		char *argv[] = {"node", (char *)cli, "--server.host", "127.0.0.1", "--server.port", pbuf,
		                "--logging.quiet", "--wallet.deterministic", NULL};
		if (spawn_and_wait(argv, NULL, lg, gp, bn_body)) {
			fprintf(stderr, "bench rpc: ganache did not come up in %d s (see %s); skipped\n",
			        START_TIMEOUT_S, lg);
		} else {
			char from[64], to[64], gtx[80];
			const char *a;
			if (http_post(gp, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_accounts\"}", resp,
			              sizeof resp) ||
			    !(a = strstr(resp, "\"result\":[\"")) || sscanf(a + 11, "%42[0-9a-fA-Fx]\",\"%42[0-9a-fA-Fx]", from, to) != 2)
				die("ganache gave no accounts");
			snprintf(body, sizeof body,
			         "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_sendTransaction\",\"params\":"
			         "[{\"from\":\"%s\",\"to\":\"%s\",\"value\":\"0x1\"}]}", from, to);
			if (http_post(gp, body, resp, sizeof resp) || result_string(resp, gtx, sizeof gtx))
				die("ganache did not take the transfer");
			g_bn = measure(gp, "ganache_blocknumber", bn_body);
			snprintf(body, sizeof body,
			         "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_getBalance\",\"params\":[\"%s\",\"latest\"]}",
			         from);
			g_bal = measure(gp, "ganache_getbalance", body);
			snprintf(body, sizeof body,
			         "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_getTransactionReceipt\",\"params\":[\"%s\"]}",
			         gtx);
			g_rc = measure(gp, "ganache_receipt", body);
			stop_last();
		}
	}

	/* nginx, one worker, answering every request with a fixed body. */
	if (system("command -v nginx >/dev/null 2>&1 || test -x /usr/sbin/nginx")) {
		fprintf(stderr, "bench rpc: nginx is not installed (scripts/deps.sh installs it); skipped\n");
	} else {
		uint16_t np = free_port();
		char conf[128];
		snprintf(conf, sizeof conf, "%s/nginx.conf", dir);
		snprintf(lg, sizeof lg, "%s/nginx.log", dir);
		FILE *f = fopen(conf, "w");
		if (!f)
			die("cannot write the nginx config");
		fprintf(f,
		        "daemon off;\nworker_processes 1;\npid %s/nginx.pid;\nerror_log %s/nginx-error.log;\n"
		        "events { worker_connections 1024; }\n"
		        "http {\n access_log off;\n client_body_temp_path %s/nginx-body;\n"
		        " server {\n  listen 127.0.0.1:%u;\n  location / {\n   default_type application/json;\n"
		        "   return 200 '{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":\"0x1\"}';\n  }\n }\n}\n",
		        dir, dir, dir, (unsigned)np);
		fclose(f);
		const char *bin = access("/usr/sbin/nginx", X_OK) ? "nginx" : "/usr/sbin/nginx";
		char *argv[] = {(char *)bin, "-p", dir, "-e", lg, "-c", conf, NULL};
		if (spawn_and_wait(argv, NULL, lg, np, bn_body)) {
			fprintf(stderr, "bench rpc: nginx did not come up (see %s); skipped\n", lg);
		} else {
			st_rps = measure_p(np, "static", bn_body, 0);
			stop_last();
		}
	}

	if (st_rps > 0) {
		bench_report("rpc", "blocknumber_vs_static", bn / st_rps, "x");
		bench_report("rpc", "getbalance_vs_static", bal / st_rps, "x");
		bench_report("rpc", "receipt_vs_static", rc / st_rps, "x");
	}
	if (g_bal > 0) {
		bench_report("rpc", "blocknumber_vs_ganache", bn / g_bn, "x");
		bench_report("rpc", "getbalance_vs_ganache", bal / g_bal, "x");
		bench_report("rpc", "receipt_vs_ganache", rc / g_rc, "x");
	}

	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	return system(cmd) ? 1 : 0;
}
