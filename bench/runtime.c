/* runtime.c — round trips through the libuv driver between two processes.
 *
 * A forked child runs an echo endpoint on 127.0.0.1 (port chosen by the
 * kernel, reported through a pipe); the parent opens a session and sends
 * 64-byte messages one at a time. Figure: the median over runs of each run's
 * p50 round-trip time, handshake excluded. */
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "net/net.h"
#include "runtime/rt_net.h"

#define MSGS_PER_RUN 2000
#define MSG_SIZE 64

struct pinger {
	struct rt_net rt;
	uint8_t peer[NET_NODE_ID_LEN];
	uint8_t msg[MSG_SIZE];
	int got, want, failed;
	uint64_t t0;
	double rtt_us[MSGS_PER_RUN];
	int n_rtt;
};

static void echo_event(void *ctx, struct rt_net *rt, const struct net_action *a, const uint8_t *d,
		       size_t len)
{
	if (a->kind == NET_ACT_DELIVER)
		rt_net_send(rt, a->peer, d, len);
}

static void ping_event(void *ctx, struct rt_net *rt, const struct net_action *a, const uint8_t *d,
		       size_t len)
{
	struct pinger *p = ctx;
	if (a->kind == NET_ACT_CLOSED) {
		p->failed = 1;
		rt_net_close(rt);
	}
	if (a->kind != NET_ACT_DELIVER)
		return;
	if (len != MSG_SIZE || memcmp(d, p->msg, len)) {
		p->failed = 1;
		rt_net_close(rt);
		return;
	}
	if (p->got >= 0 && p->n_rtt < MSGS_PER_RUN)
		p->rtt_us[p->n_rtt++] = (double)(uv_hrtime() - p->t0) / 1000.0;
	if (++p->got == p->want) {
		rt_net_close(rt);
		return;
	}
	p->msg[0]++;
	p->t0 = uv_hrtime();
	rt_net_send(rt, p->peer, p->msg, MSG_SIZE);
}

static void identity(struct net_identity *id, uint8_t b)
{
	uint8_t seed[32];
	memset(seed, b, sizeof seed);
	if (net_identity_from_seed(id, seed))
		exit(1);
}

static void child(int wfd)
{
	struct net_identity id;
	identity(&id, 2);
	struct net_endpoint *ep;
	uv_loop_t loop;
	static struct rt_net rt;
	struct net_addr a;
	net_addr_v4(&a, 127, 0, 0, 1, 0);
	if (net_endpoint_new(&ep, &id, NULL) || uv_loop_init(&loop) ||
	    rt_net_start(&rt, &loop, ep, &a, echo_event, NULL) || rt_net_local_addr(&rt, &a))
		_exit(1);
	if (write(wfd, &a.port, sizeof a.port) != sizeof a.port)
		_exit(1);
	close(wfd);
	uv_run(&loop, UV_RUN_DEFAULT);
	uv_loop_close(&loop);
	net_endpoint_free(ep);
	_exit(0);
}

int main(void)
{
	int fds[2];
	if (pipe(fds))
		return 1;
	pid_t pid = fork();
	if (pid < 0)
		return 1;
	if (pid == 0) {
		close(fds[0]);
		child(fds[1]);
	}
	close(fds[1]);
	uint16_t port;
	if (read(fds[0], &port, sizeof port) != sizeof port) {
		fprintf(stderr, "bench runtime: echo child did not start\n");
		return 1;
	}
	struct net_identity me, them;
	identity(&me, 1);
	identity(&them, 2);
	struct net_endpoint *ep;
	struct net_locator rec;
	memset(&rec, 0, sizeof rec);
	rec.n_addrs = 1;
	rec.seq = 1;
	net_addr_v4(&rec.addrs[0], 127, 0, 0, 1, port);
	if (net_endpoint_new(&ep, &me, NULL) || net_locator_sign(&rec, &them) ||
	    net_endpoint_add_peer(ep, &rec))
		return 1;
	int runs = bench_runs(), status = 0;
	double p50[1000];
	static struct pinger p;
	for (int r = 0; r < runs && !status; r++) {
		uv_loop_t loop;
		uv_loop_init(&loop);
		memset(&p, 0, sizeof p);
		memcpy(p.peer, them.node_id, sizeof p.peer);
		struct net_addr a;
		net_addr_v4(&a, 127, 0, 0, 1, 0);
		if (rt_net_start(&p.rt, &loop, ep, &a, ping_event, &p)) {
			status = 1;
			break;
		}
		/* The first echo (which may carry the handshake) is not timed. */
		p.got = -1;
		p.want = MSGS_PER_RUN;
		p.t0 = uv_hrtime();
		rt_net_send(&p.rt, p.peer, p.msg, MSG_SIZE);
		uv_run(&loop, UV_RUN_DEFAULT);
		uv_loop_close(&loop);
		if (p.failed || p.n_rtt != MSGS_PER_RUN) {
			fprintf(stderr, "bench runtime: run %d failed after %d echoes\n", r, p.n_rtt);
			status = 1;
			break;
		}
		p50[r] = bench_median(p.rtt_us, p.n_rtt);
	}
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	net_endpoint_free(ep);
	if (!status)
		bench_report("runtime", "loopback_rtt_us", bench_median(p50, runs), "us");
	return status;
}
