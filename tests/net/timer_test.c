/* timer_test.c — a driver that handles a step's actions in order and steps
 * again from one of them (answering a delivery at once, as rt_net's callers
 * do) must end up with the newest deadline. The step's NET_ACT_TIMER comes
 * first among its actions for that; when it came last, the outer step's
 * older deadline overwrote the nested one and a path timeout was never
 * serviced. */
#include <criterion/criterion.h>
#include <string.h>

#include "harness.h"

#define A 0
#define B 1

static void echo(struct tn_net *net, int node, const uint8_t *msg, size_t len)
{
	if (node == B && len == 4 && !memcmp(msg, "ping", 4))
		cr_assert_eq(tn_send(net, B, A, "pong", 4), 0);
}

struct silence {
	int on, b_initiations;
};

static int silence_a(struct tn_net *net, const struct tn_pkt *p, void *ctx)
{
	struct silence *s = ctx;
	if (net_addr_equal(&p->from, &net->n[B].addrs[0]) && p->data[0] == NET_PKT_INITIATION)
		s->b_initiations++;
	return !(s->on && net_addr_equal(&p->from, &net->n[A].addrs[0]));
}

Test(net_timer, nested_step_keeps_the_newest_deadline)
{
	struct tn_net net;
	tn_init(&net, 2, 93, NULL);
	struct silence s = {0};
	net.tap = silence_a;
	net.tap_ctx = &s;
	tn_introduce(&net, A, B);
	tn_introduce(&net, B, A);
	cr_assert_eq(tn_send(&net, A, B, "hi", 2), 0);
	tn_run(&net, net.now + 1000);
	cr_assert_eq(net.n[B].delivered, 1);
	tn_run(&net, net.now + 20000); /* keepalives settle */
	/* B answers A's ping from inside the step that delivers it; then A
	 * goes silent, so B's pong stays unanswered and B's path timeout
	 * (15 s) must start a new handshake. */
	net.on_deliver = echo;
	cr_assert_eq(tn_send(&net, A, B, "ping", 4), 0);
	s.on = 1;
	int before = s.b_initiations;
	tn_run(&net, net.now + 17000);
	cr_assert_eq(net.n[B].delivered, 2);
	cr_assert_gt(s.b_initiations, before, "B's path timeout never fired");
	tn_free(&net);
}
