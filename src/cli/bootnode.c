/* bootnode.c — `canon bootnode`: a transport-only node that other nodes meet
 * at (src/net/boot.h through rt_host with serve_bootnode).
 *
 * It prints its address line "bootnode <pk hex>@ip:port" on stdout once the
 * socket is bound, so scripts can hand it to `--bootnodes`, logs to stderr,
 * and exits 0 on SIGINT or SIGTERM. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "base/err.h"
#include "base/flags.h"
#include "base/log.h"
#include "cli/cli.h"
#include "net/net.h"
#include "runtime/rt_host.h"
#include "runtime/rt_net.h"

struct bootnode {
	struct rt_host *h;
	uv_signal_t sigint, sigterm;
	uv_timer_t status;
	int signaled;
};

static void on_signal(uv_signal_t *s, int signum)
{
	struct bootnode *b = s->data;
	b->signaled = signum;
	uv_close((uv_handle_t *)&b->sigint, NULL);
	uv_close((uv_handle_t *)&b->sigterm, NULL);
	uv_close((uv_handle_t *)&b->status, NULL);
	rt_host_close(b->h);
}

static void on_status(uv_timer_t *t)
{
	struct bootnode *b = t->data;
	struct rt_host_stats st;
	rt_host_stats(b->h, &st);
	cn_log_info("bootnode: %zu registered nodes, %zu sessions, %llu datagrams in, %llu out",
		    st.boot_entries, st.peers, (unsigned long long)st.datagrams_in,
		    (unsigned long long)st.datagrams_out);
}

static void report_handle(uv_handle_t *hd, void *arg)
{
	cn_log_error("bootnode: handle of type %s still open at exit%s", uv_handle_type_name(hd->type),
		     uv_is_closing(hd) ? " (closing)" : "");
}

int cli_bootnode_run(const char *datadir, const struct net_addr *bind)
{
	uv_loop_t loop;
	struct bootnode b;
	memset(&b, 0, sizeof b);
	if (uv_loop_init(&loop) != 0)
		return 1;
	/* Signals first: a script may stop us the moment it reads the address. */
	b.sigint.data = b.sigterm.data = b.status.data = &b;
	uv_signal_init(&loop, &b.sigint);
	uv_signal_init(&loop, &b.sigterm);
	uv_signal_start(&b.sigint, on_signal, SIGINT);
	uv_signal_start(&b.sigterm, on_signal, SIGTERM);
	struct rt_host_config cfg = {.datadir = datadir, .bind = *bind, .serve_bootnode = 1};
	int rc = rt_host_start(&b.h, &loop, &cfg, NULL, NULL);
	if (rc) {
		fprintf(stderr, "canon bootnode: cannot start: %s\n", cn_strerror(rc));
		uv_close((uv_handle_t *)&b.sigint, NULL);
		uv_close((uv_handle_t *)&b.sigterm, NULL);
		uv_run(&loop, UV_RUN_DEFAULT);
		uv_loop_close(&loop);
		return 1;
	}
	char addr[256];
	rt_host_address(b.h, addr, sizeof addr);
	printf("bootnode %s\n", addr);
	fflush(stdout);
	uv_timer_init(&loop, &b.status);
	uv_timer_start(&b.status, on_status, 60000, 60000);
	uv_run(&loop, UV_RUN_DEFAULT);
	rt_host_free(b.h);
	int closed = uv_loop_close(&loop);
	if (closed != 0) {
		/* Name what is still open: a leak here is a bug worth seeing. */
		uv_walk(&loop, report_handle, NULL);
		uv_run(&loop, UV_RUN_DEFAULT);
		closed = uv_loop_close(&loop);
	}
	cn_log_info("bootnode: stopped (signal %d)", b.signaled);
	return closed == 0 ? 0 : 1;
}

int cli_bootnode(int argc, char **argv)
{
	const char *datadir = ".", *ip = "127.0.0.1";
	uint64_t port = 19000;
	struct cn_flag flags[] = {
		{"datadir", CN_FLAG_STRING, &datadir, "D", "data directory: host key in D/p2p/hostkey (created if missing)", 0},
		{"p2p.ip", CN_FLAG_STRING, &ip, "IP", "address to listen on (default 127.0.0.1)", 0},
		{"p2p.port", CN_FLAG_UINT, &port, "P", "UDP port (default 19000; 0 picks one)", 0},
		{NULL, 0, NULL, NULL, NULL, 0},
	};
	struct cn_flags_result res;
	char err[256];
	if (cn_flags_parse(flags, argc - 1, argv + 1, &res, err, sizeof err) != 0) {
		fprintf(stderr, "canon bootnode: %s\n", err);
		return 2;
	}
	int help = res.help, extra = res.n_positional > 0;
	cn_flags_result_free(&res);
	if (help) {
		cn_flags_help(stdout, "canon bootnode [--datadir D] [--p2p.ip IP] [--p2p.port P]", flags);
		return 0;
	}
	char a[128];
	struct net_addr bind;
	snprintf(a, sizeof a, strchr(ip, ':') ? "[%s]:%llu" : "%s:%llu", ip, (unsigned long long)port);
	if (extra || port > 65535 || rt_addr_parse(a, &bind) != 0) {
		fprintf(stderr, "canon bootnode: bad --p2p.ip/--p2p.port '%s'\n", a);
		return 2;
	}
	return cli_bootnode_run(datadir, &bind);
}
