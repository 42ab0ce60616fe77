/* net_proc.c — unicast throughput between two processes on loopback.
 *
 *   net/unicast_mb_s        MB/s (10^6 bytes) of 1 MiB RaptorQ messages from
 *                           one process to another through rt_msg (encrypted
 *                           sessions, net_msg with ACKs and repair), four
 *                           messages in flight, time until the last ACK
 *   net/unicast_mb_s_loss5  the same with 5% of datagrams dropped both ways
 *                           by the runtime's test loss knob
 *
 * The receiver is a forked child with its own loop; it tells the parent its
 * port through a pipe. Each figure is the median of CANON_BENCH_RUNS runs of
 * 32 MiB after a warm-up message that pays for the handshake. rt_msg is
 * configured as rt_host configures it (net_cc RTT samples, RTT floor 20 ms for repairs). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <uv.h>

#include "bench.h"
#include "base/err.h"
#include "base/log.h"
#include "net/net.h"
#include "runtime/rt_msg.h"

#define MSG (1u << 20)
#define TOTAL_MSGS 32
#define WINDOW 4
#define RTT_FLOOR_MS 20

static void ident(struct net_identity *id, uint8_t b)
{
	uint8_t seed[32];
	memset(seed, b, sizeof seed);
	if (net_identity_from_seed(id, seed))
		abort();
}

static void child_deliver(void *ctx, struct rt_msg *rm, uint32_t peer, const uint8_t *d, size_t len)
{
}

static void child(int wfd, double drop)
{
	uv_loop_t loop;
	struct net_identity id;
	struct net_endpoint *ep;
	struct rt_msg rm;
	struct net_addr a, local;
	ident(&id, 2);
	uv_loop_init(&loop);
	net_endpoint_new(&ep, &id, NULL);
	net_addr_v4(&a, 127, 0, 0, 1, 0);
	struct rt_msg_opts o = {.net = {.test_drop = drop, .drop_seed = 2}, .min_rtt_ms = RTT_FLOOR_MS, .cc = 1};
	struct rt_msg_callbacks cb = {.deliver = child_deliver};
	if (rt_msg_start_opts(&rm, &loop, ep, &a, 4, &o, &cb, NULL) || rt_net_local_addr(&rm.net, &local))
		_exit(1);
	if (write(wfd, &local.port, sizeof local.port) != sizeof local.port)
		_exit(1);
	close(wfd);
	uv_run(&loop, UV_RUN_DEFAULT);   /* until SIGTERM closes the handles */
	rt_msg_free(&rm);
	uv_loop_close(&loop);
	net_endpoint_free(ep);
	_exit(0);
}

struct sender {
	uv_loop_t loop;
	struct rt_msg rm;
	uint8_t *msg;
	uint32_t peer;
	int want, sent, acked, failed;
};

static void send_more(struct sender *s)
{
	while (s->sent < s->want && s->sent - s->acked < WINDOW) {
		if (rt_msg_send(&s->rm, s->peer, s->msg, MSG, rt_now_ms() + 60000, NULL) != 0) {
			s->failed = 1;
			uv_stop(&s->loop);
			return;
		}
		s->sent++;
	}
}

static void on_result(void *ctx, struct rt_msg *rm, uint32_t peer, uint64_t id, int err)
{
	struct sender *s = ctx;
	if (err) {
		s->failed = 1;
		uv_stop(&s->loop);
		return;
	}
	s->acked++;
	if (s->acked == s->want)
		uv_stop(&s->loop);
	else
		send_more(s);
}

/* Seconds to move n messages (all acknowledged). */
static double transfer(struct sender *s, int n)
{
	s->want = n;
	s->sent = s->acked = 0;
	double t0 = bench_now_s();
	send_more(s);
	uv_run(&s->loop, UV_RUN_DEFAULT);
	if (s->failed) {
		fprintf(stderr, "net_proc: a message missed its deadline\n");
		exit(1);
	}
	return bench_now_s() - t0;
}

static double measure(double drop)
{
	int fds[2];
	if (pipe(fds))
		abort();
	pid_t pid = fork();
	if (pid == 0) {
		close(fds[0]);
		child(fds[1], drop);
	}
	close(fds[1]);
	uint16_t port;
	if (read(fds[0], &port, sizeof port) != sizeof port) {
		fprintf(stderr, "net_proc: receiver did not start\n");
		exit(1);
	}
	close(fds[0]);

	struct sender *s = calloc(1, sizeof *s);
	struct net_identity me, peer;
	struct net_endpoint *ep;
	struct net_addr any, to;
	ident(&me, 1);
	ident(&peer, 2);
	uv_loop_init(&s->loop);
	net_endpoint_new(&ep, &me, NULL);
	net_addr_v4(&any, 127, 0, 0, 1, 0);
	net_addr_v4(&to, 127, 0, 0, 1, port);
	if (net_endpoint_add_peer_addr(ep, peer.pk, &to))
		abort();
	struct rt_msg_opts o = {.net = {.no_signals = 1, .test_drop = drop, .drop_seed = 1},
				.min_rtt_ms = RTT_FLOOR_MS, .cc = 1};
	struct rt_msg_callbacks cb = {.result = on_result};
	if (rt_msg_start_opts(&s->rm, &s->loop, ep, &any, 4, &o, &cb, s) ||
	    rt_msg_peer(&s->rm, peer.node_id, &s->peer))
		abort();
	s->msg = malloc(MSG);
	for (size_t i = 0; i < MSG; i++)
		s->msg[i] = (uint8_t)(i * 131 + 7);
	transfer(s, 1); /* handshake */
	int runs = bench_runs();
	double mbs[1000];
	for (int r = 0; r < runs; r++)
		mbs[r] = (double)TOTAL_MSGS * MSG / 1e6 / transfer(s, TOTAL_MSGS);
	rt_msg_close(&s->rm);
	uv_run(&s->loop, UV_RUN_DEFAULT);
	rt_msg_free(&s->rm);
	uv_loop_close(&s->loop);
	net_endpoint_free(ep);
	free(s->msg);
	free(s);
	kill(pid, SIGTERM);
	int st;
	waitpid(pid, &st, 0);
	return bench_median(mbs, runs);
}

int main(void)
{
	cn_log_set_verbosity(CN_LOG_ERROR);
	bench_report("net", "unicast_mb_s", measure(0), "MB/s");
	bench_report("net", "unicast_mb_s_loss5", measure(0.05), "MB/s");
	return 0;
}
