/* runtime.c — round trips through the libuv driver between two processes.
 *
 * A forked child runs an echo endpoint on 127.0.0.1 (port chosen by the
 * kernel, reported through a pipe); the parent opens a session and sends
 * 64-byte messages one at a time. Figure: the median over runs of each run's
 * p50 round-trip time, handshake excluded. A second echo driver in the child
 * runs rt_msg: msg_1mb_rtt_ms is the same for 1 MB RaptorQ-coded messages. */
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "net/net.h"
#include "runtime/rt_msg.h"
#include "runtime/rt_net.h"

#define MSGS_PER_RUN 2000
#define MSG_SIZE 64
#define BIG_SIZE 1000000
#define BIGS_PER_RUN 10

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

static void msg_echo(void *ctx, struct rt_msg *rm, uint32_t peer, const uint8_t *d, size_t len)
{
	rt_msg_send(rm, peer, d, len, rt_now_ms() + 30000, NULL);
}

static struct rt_msg child_rm;

/* The child echoes on two drivers until the parent kills it. */
static void child(int wfd)
{
	struct net_identity id, id2;
	identity(&id, 2);
	identity(&id2, 3);
	struct net_endpoint *ep, *ep2;
	uv_loop_t loop;
	static struct rt_net rt;
	struct net_addr a, a2;
	net_addr_v4(&a, 127, 0, 0, 1, 0);
	a2 = a;
	struct rt_msg_callbacks cb = {.deliver = msg_echo};
	if (net_endpoint_new(&ep, &id, NULL) || net_endpoint_new(&ep2, &id2, NULL) ||
	    uv_loop_init(&loop) || rt_net_start(&rt, &loop, ep, &a, echo_event, NULL) ||
	    rt_net_local_addr(&rt, &a) || rt_msg_start(&child_rm, &loop, ep2, &a2, 4, &cb, NULL) ||
	    rt_net_local_addr(&child_rm.net, &a2))
		_exit(1);
	uint16_t ports[2] = {a.port, a2.port};
	if (write(wfd, ports, sizeof ports) != sizeof ports)
		_exit(1);
	close(wfd);
	uv_run(&loop, UV_RUN_DEFAULT);
	_exit(0);
}

struct big {
	struct rt_msg rm;
	uint8_t *msg;
	int got, failed;
	uint64_t t0;
	double rtt_ms[BIGS_PER_RUN + 1];
	int n_rtt;
};

static void big_send(struct big *b)
{
	b->msg[0]++;
	b->t0 = uv_hrtime();
	if (rt_msg_send(&b->rm, 0, b->msg, BIG_SIZE, rt_now_ms() + 30000, NULL)) {
		b->failed = 1;
		rt_msg_close(&b->rm);
	}
}

static void big_deliver(void *ctx, struct rt_msg *rm, uint32_t peer, const uint8_t *d, size_t len)
{
	struct big *b = ctx;
	if (len != BIG_SIZE || memcmp(d, b->msg, len)) {
		b->failed = 1;
		rt_msg_close(rm);
		return;
	}
	/* The first message (with the handshake) is not timed. */
	if (b->got++ > 0)
		b->rtt_ms[b->n_rtt++] = (double)(uv_hrtime() - b->t0) / 1e6;
	if (b->got == BIGS_PER_RUN + 1)
		rt_msg_close(rm);
	else
		big_send(b);
}

static void big_result(void *ctx, struct rt_msg *rm, uint32_t peer, uint64_t id, int err)
{
	struct big *b = ctx;
	if (err) {
		b->failed = 1;
		rt_msg_close(rm);
	}
}

/* Median over runs of each run's p50 for 1 MB echoes; -1 on failure. */
static double big_bench(uint16_t port, const struct net_identity *them)
{
	struct net_identity me;
	identity(&me, 4);
	static struct big b;
	b.msg = calloc(1, BIG_SIZE);
	int runs = bench_runs();
	double p50[1000], res = -1;
	if (!b.msg)
		return -1;
	struct net_endpoint *ep;
	struct net_locator rec;
	memset(&rec, 0, sizeof rec);
	rec.n_addrs = 1;
	rec.seq = 1;
	net_addr_v4(&rec.addrs[0], 127, 0, 0, 1, port);
	if (net_endpoint_new(&ep, &me, NULL))
		goto out;
	if (net_locator_sign(&rec, them) || net_endpoint_add_peer(ep, &rec))
		goto out_ep;
	for (int r = 0; r < runs; r++) {
		uv_loop_t loop;
		uv_loop_init(&loop);
		b.got = b.failed = b.n_rtt = 0;
		struct net_addr a;
		net_addr_v4(&a, 127, 0, 0, 1, 0);
		struct rt_msg_callbacks cb = {.deliver = big_deliver, .result = big_result};
		uint32_t idx;
		if (rt_msg_start(&b.rm, &loop, ep, &a, 4, &cb, &b) == 0 &&
		    rt_msg_peer(&b.rm, them->node_id, &idx) == 0)
			big_send(&b);
		else
			b.failed = 1;
		uv_run(&loop, UV_RUN_DEFAULT);
		uv_loop_close(&loop);
		rt_msg_free(&b.rm);
		if (b.failed || b.n_rtt != BIGS_PER_RUN) {
			fprintf(stderr, "bench runtime: 1 MB run %d failed after %d echoes\n", r, b.n_rtt);
			goto out_ep;
		}
		p50[r] = bench_median(b.rtt_ms, b.n_rtt);
	}
	res = bench_median(p50, runs);
out_ep:
	net_endpoint_free(ep);
out:
	free(b.msg);
	return res;
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
	uint16_t ports[2];
	if (read(fds[0], ports, sizeof ports) != sizeof ports) {
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
	net_addr_v4(&rec.addrs[0], 127, 0, 0, 1, ports[0]);
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
	if (!status) {
		bench_report("runtime", "loopback_rtt_us", bench_median(p50, runs), "us");
		struct net_identity msg_them;
		identity(&msg_them, 3);
		double big = big_bench(ports[1], &msg_them);
		if (big < 0)
			status = 1;
		else
			bench_report("runtime", "msg_1mb_rtt_ms", big, "ms");
	}
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	net_endpoint_free(ep);
	return status;
}
