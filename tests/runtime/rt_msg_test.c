/* rt_msg_test.c — whole messages, RaptorQ-coded, echoed between two rt_msg
 * drivers over loopback UDP. */
#include <criterion/criterion.h>
#include <string.h>

#include "base/err.h"
#include "net/net.h"
#include "runtime/rt_msg.h"

struct node {
	struct net_identity id;
	struct net_endpoint *ep;
	struct rt_msg rm;
};

struct echo_test {
	uv_loop_t loop;
	struct node a, b;
	uv_timer_t guard;
	uint8_t *msg;
	size_t sizes[8];
	int n_sizes, next, got, mismatched, sent_ok, failed, guard_fired;
	uint32_t b_index;
};

static void finish(struct echo_test *t)
{
	rt_msg_close(&t->a.rm);
	rt_msg_close(&t->b.rm);
	if (!uv_is_closing((uv_handle_t *)&t->guard))
		uv_close((uv_handle_t *)&t->guard, NULL);
}

static void send_next(struct echo_test *t)
{
	size_t n = t->sizes[t->next];
	for (size_t i = 0; i < n; i++)
		t->msg[i] = (uint8_t)(i * 7 + (size_t)t->next);
	cr_assert_eq(rt_msg_send(&t->a.rm, t->b_index, t->msg, n, rt_now_ms() + 10000, NULL), 0);
}

static void a_deliver(void *ctx, struct rt_msg *rm, uint32_t peer, const uint8_t *data, size_t len)
{
	struct echo_test *t = ctx;
	size_t want = t->sizes[t->next];
	if (len != want || memcmp(data, t->msg, len))
		t->mismatched++;
	t->got++;
	if (++t->next == t->n_sizes)
		finish(t);
	else
		send_next(t);
}

static void b_deliver(void *ctx, struct rt_msg *rm, uint32_t peer, const uint8_t *data, size_t len)
{
	cr_assert_eq(rt_msg_send(rm, peer, data, len, rt_now_ms() + 10000, NULL), 0);
}

static void a_result(void *ctx, struct rt_msg *rm, uint32_t peer, uint64_t id, int err)
{
	struct echo_test *t = ctx;
	if (err)
		t->failed++;
	else
		t->sent_ok++;
}

static void on_guard(uv_timer_t *g)
{
	struct echo_test *t = g->data;
	t->guard_fired = 1;
	finish(t);
}

static void start_node(struct echo_test *t, struct node *n, uint8_t s, const struct rt_msg_callbacks *cb)
{
	uint8_t seed[32];
	memset(seed, s, sizeof seed);
	cr_assert_eq(net_identity_from_seed(&n->id, seed), 0);
	cr_assert_eq(net_endpoint_new(&n->ep, &n->id, NULL), 0);
	struct net_addr any;
	net_addr_v4(&any, 127, 0, 0, 1, 0);
	cr_assert_eq(rt_msg_start(&n->rm, &t->loop, n->ep, &any, 4, cb, t), 0);
}

Test(rt_msg, echoes_whole_messages_of_many_sizes)
{
	static struct echo_test t;
	memset(&t, 0, sizeof t);
	cr_assert_eq(uv_loop_init(&t.loop), 0);
	struct rt_msg_callbacks ca = {.deliver = a_deliver, .result = a_result};
	struct rt_msg_callbacks cb = {.deliver = b_deliver};
	start_node(&t, &t.a, 1, &ca);
	start_node(&t, &t.b, 2, &cb);
	struct net_locator rec;
	memset(&rec, 0, sizeof rec);
	rec.n_addrs = 1;
	rec.seq = 1;
	cr_assert_eq(rt_net_local_addr(&t.b.rm.net, &rec.addrs[0]), 0);
	cr_assert_eq(net_locator_sign(&rec, &t.b.id), 0);
	cr_assert_eq(net_endpoint_add_peer(t.a.ep, &rec), 0);
	cr_assert_eq(rt_msg_peer(&t.a.rm, t.b.id.node_id, &t.b_index), 0);
	/* The first message goes out while the handshake runs: its whole first
	 * burst must wait in the driver, not overflow the endpoint's queue. */
	size_t sizes[] = {300000, 1, NET_MSG_MTU, 5000, 100000, 1u << 20, 3};
	t.n_sizes = (int)(sizeof sizes / sizeof sizes[0]);
	memcpy(t.sizes, sizes, sizeof sizes);
	t.msg = malloc(1u << 20);
	cr_assert_not_null(t.msg);
	uv_timer_init(&t.loop, &t.guard);
	t.guard.data = &t;
	uv_timer_start(&t.guard, on_guard, 20000, 0);
	send_next(&t);
	uv_run(&t.loop, UV_RUN_DEFAULT);
	cr_assert_eq(t.guard_fired, 0, "timed out after %d of %d echoes", t.got, t.n_sizes);
	cr_assert_eq(t.got, t.n_sizes);
	cr_assert_eq(t.mismatched, 0);
	cr_assert_eq(t.failed, 0);
	cr_assert_eq(uv_loop_close(&t.loop), 0);
	cr_assert_geq(net_msg_stats(t.b.rm.msg)->delivered, (uint64_t)t.n_sizes);
	cr_assert_eq(t.b.rm.n_peers, 1, "b met a when it first sent");
	cr_assert_gt(t.a.rm.held_total, 200, "the first burst waited for the handshake");
	cr_assert_eq(t.a.rm.held_dropped, 0);
	cr_assert_eq(net_endpoint_stat(t.a.ep, NET_STAT_DROP_LIMIT), 0);
	rt_msg_free(&t.a.rm);
	rt_msg_free(&t.b.rm);
	net_endpoint_free(t.a.ep);
	net_endpoint_free(t.b.ep);
	free(t.msg);
}

Test(rt_msg, peer_table_is_bounded)
{
	uv_loop_t loop;
	cr_assert_eq(uv_loop_init(&loop), 0);
	struct net_identity id;
	uint8_t seed[32] = {9};
	cr_assert_eq(net_identity_from_seed(&id, seed), 0);
	struct net_endpoint *ep;
	cr_assert_eq(net_endpoint_new(&ep, &id, NULL), 0);
	struct net_addr any;
	net_addr_v4(&any, 127, 0, 0, 1, 0);
	static struct rt_msg rm;
	struct rt_msg_callbacks cb = {0};
	cr_assert_eq(rt_msg_start(&rm, &loop, ep, &any, 2, &cb, NULL), 0);
	uint8_t n1[32] = {1}, n2[32] = {2}, n3[32] = {3};
	uint32_t i;
	cr_assert_eq(rt_msg_peer(&rm, n1, &i), 0);
	cr_assert_eq(i, 0);
	cr_assert_eq(rt_msg_peer(&rm, n2, &i), 0);
	cr_assert_eq(i, 1);
	cr_assert_eq(rt_msg_peer(&rm, n1, &i), 0);
	cr_assert_eq(i, 0);
	cr_assert_eq(rt_msg_peer(&rm, n3, &i), -CN_ELIMIT);
	cr_assert_eq(rt_msg_send(&rm, 2, n1, 1, rt_now_ms() + 1000, NULL), -CN_EINVAL);
	cr_assert_null(rt_msg_peer_id(&rm, 2));
	rt_msg_close(&rm);
	uv_run(&loop, UV_RUN_DEFAULT);
	cr_assert_eq(uv_loop_close(&loop), 0);
	rt_msg_free(&rm);
	net_endpoint_free(ep);
}
