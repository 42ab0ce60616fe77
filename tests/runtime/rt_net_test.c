/* rt_net_test.c — the libuv driver moving real UDP datagrams between two
 * endpoints on loopback in one event loop. */
#include <criterion/criterion.h>
#include <string.h>

#include "base/err.h"
#include "net/net.h"
#include "runtime/rt_net.h"

struct side {
	struct net_identity id;
	struct net_endpoint *ep;
	struct rt_net rt;
	int echo;
	uint64_t delivered, established;
};

struct pair {
	uv_loop_t loop;
	struct side a, b;
	uint8_t msg[NET_MAX_PAYLOAD];
	size_t size;
	int want, got, mismatched;
	uv_timer_t guard;
	int guard_fired;
};

static void close_all(struct pair *p)
{
	rt_net_close(&p->a.rt);
	rt_net_close(&p->b.rt);
	if (!uv_is_closing((uv_handle_t *)&p->guard))
		uv_close((uv_handle_t *)&p->guard, NULL);
}

static void send_next(struct pair *p)
{
	for (size_t i = 0; i < p->size; i++)
		p->msg[i] = (uint8_t)(p->got * 31 + i);
	cr_assert_eq(rt_net_send(&p->a.rt, p->b.id.node_id, p->msg, p->size), 0);
}

static struct pair *g_pair;

static void on_event(void *ctx, struct rt_net *rt, const struct net_action *a, const uint8_t *data,
		     size_t len)
{
	struct side *s = ctx;
	struct pair *p = g_pair;
	if (a->kind == NET_ACT_ESTABLISHED)
		s->established++;
	if (a->kind != NET_ACT_DELIVER)
		return;
	s->delivered++;
	if (s->echo) {
		cr_assert_eq(rt_net_send(rt, a->peer, data, len), 0);
		return;
	}
	if (len != p->size || memcmp(data, p->msg, len) != 0)
		p->mismatched++;
	if (++p->got == p->want)
		close_all(p);
	else
		send_next(p);
}

static void on_guard(uv_timer_t *t)
{
	struct pair *p = t->data;
	p->guard_fired = 1;
	close_all(p);
}

static void setup_side(struct pair *p, struct side *s, uint8_t seed_byte, int echo)
{
	uint8_t seed[32];
	memset(seed, seed_byte, sizeof seed);
	cr_assert_eq(net_identity_from_seed(&s->id, seed), 0);
	cr_assert_eq(net_endpoint_new(&s->ep, &s->id, NULL), 0);
	s->echo = echo;
	struct net_addr any;
	net_addr_v4(&any, 127, 0, 0, 1, 0);
	cr_assert_eq(rt_net_start(&s->rt, &p->loop, s->ep, &any, on_event, s), 0);
}

static void setup_pair(struct pair *p)
{
	memset(p, 0, sizeof *p);
	g_pair = p;
	cr_assert_eq(uv_loop_init(&p->loop), 0);
	setup_side(p, &p->a, 1, 0);
	setup_side(p, &p->b, 2, 1);
	struct net_locator rec;
	memset(&rec, 0, sizeof rec);
	rec.n_addrs = 1;
	rec.seq = 1;
	cr_assert_eq(rt_net_local_addr(&p->b.rt, &rec.addrs[0]), 0);
	cr_assert_neq(rec.addrs[0].port, 0);
	cr_assert_eq(net_locator_sign(&rec, &p->b.id), 0);
	cr_assert_eq(net_endpoint_add_peer(p->a.ep, &rec), 0);
	uv_timer_init(&p->loop, &p->guard);
	p->guard.data = p;
	uv_timer_start(&p->guard, on_guard, 10000, 0);
}

static void teardown_pair(struct pair *p)
{
	cr_assert_eq(uv_loop_close(&p->loop), 0, "every handle must be closed");
	net_endpoint_free(p->a.ep);
	net_endpoint_free(p->b.ep);
}

Test(rt_net, echoes_messages_over_loopback_udp)
{
	static struct pair p;
	setup_pair(&p);
	p.size = NET_MAX_PAYLOAD;
	p.want = 300;
	send_next(&p);
	cr_assert_eq(uv_run(&p.loop, UV_RUN_DEFAULT), 0);
	cr_assert_eq(p.guard_fired, 0, "timed out after %d of %d echoes", p.got, p.want);
	cr_assert_eq(p.got, 300);
	cr_assert_eq(p.mismatched, 0);
	cr_assert_eq(p.a.established, 1);
	cr_assert_eq(p.b.delivered, 300);
	cr_assert_geq(net_endpoint_stat(p.a.ep, NET_STAT_RX), 301);
	teardown_pair(&p);
}

Test(rt_net, drops_oversize_datagrams_before_the_endpoint)
{
	static struct pair p;
	setup_pair(&p);
	/* A raw 3000-byte datagram at b: truncated into the bounded buffer and
	 * dropped by the driver, so the endpoint never counts it. */
	uv_udp_t raw;
	cr_assert_eq(uv_udp_init(&p.loop, &raw), 0);
	struct net_addr b_addr;
	cr_assert_eq(rt_net_local_addr(&p.b.rt, &b_addr), 0);
	struct sockaddr_in to;
	uv_ip4_addr("127.0.0.1", b_addr.port, &to);
	static uint8_t big[3000];
	memset(big, 0x04, sizeof big);
	uv_buf_t buf = uv_buf_init((char *)big, sizeof big);
	cr_assert_eq(uv_udp_try_send(&raw, &buf, 1, (struct sockaddr *)&to), (int)sizeof big);
	buf = uv_buf_init((char *)big, NET_DATA_MIN_LEN);
	cr_assert_eq(uv_udp_try_send(&raw, &buf, 1, (struct sockaddr *)&to), NET_DATA_MIN_LEN);
	uv_close((uv_handle_t *)&raw, NULL);
	/* No session traffic: only the two raw datagrams can arrive. */
	uv_timer_start(&p.guard, on_guard, 300, 0);
	uv_run(&p.loop, UV_RUN_DEFAULT);
	cr_assert_eq(net_endpoint_stat(p.b.ep, NET_STAT_RX), 1, "only the small datagram reaches the endpoint");
	cr_assert_eq(net_endpoint_stat(p.b.ep, NET_STAT_DROP_OVERSIZE), 0);
	teardown_pair(&p);
}

Test(rt_net, bind_failure_is_an_error_and_the_loop_still_closes)
{
	uv_loop_t loop;
	cr_assert_eq(uv_loop_init(&loop), 0);
	struct net_identity id;
	uint8_t seed[32] = {7};
	cr_assert_eq(net_identity_from_seed(&id, seed), 0);
	struct net_endpoint *ep;
	cr_assert_eq(net_endpoint_new(&ep, &id, NULL), 0);
	struct net_addr a;
	net_addr_v4(&a, 127, 0, 0, 1, 0);
	static struct rt_net first, second;
	cr_assert_eq(rt_net_start(&first, &loop, ep, &a, NULL, NULL), 0);
	cr_assert_eq(rt_net_local_addr(&first, &a), 0);
	cr_assert_eq(rt_net_start(&second, &loop, ep, &a, NULL, NULL), -CN_EIO);
	rt_net_close(&first);
	uv_run(&loop, UV_RUN_DEFAULT);
	cr_assert_eq(uv_loop_close(&loop), 0);
	net_endpoint_free(ep);
}

Test(rt_net, parses_addresses)
{
	struct net_addr a;
	cr_assert_eq(rt_addr_parse("127.0.0.1:30000", &a), 0);
	cr_assert_eq(a.family, 4);
	cr_assert_eq(a.port, 30000);
	cr_assert_eq(a.ip[0], 127);
	cr_assert_eq(a.ip[3], 1);
	cr_assert_eq(rt_addr_parse("[::1]:9", &a), 0);
	cr_assert_eq(a.family, 6);
	cr_assert_eq(a.ip[15], 1);
	cr_assert_eq(a.port, 9);
	const char *bad[] = {"", "127.0.0.1", "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:-1",
			     "127.0.0.1:1x", "1.2.3:4", "[::1:4", "[::1]4", ":80", "host.example:80"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		cr_assert_eq(rt_addr_parse(bad[i], &a), -CN_EINVAL, "%s", bad[i]);
}
