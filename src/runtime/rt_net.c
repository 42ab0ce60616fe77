/* rt_net.c — libuv UDP driver for net_endpoint. */
#include "runtime/rt_net.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/err.h"
#include "base/log.h"

uint64_t rt_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void to_sockaddr(const struct net_addr *a, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof *ss);
	if (a->family == 4) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
		s4->sin_family = AF_INET;
		s4->sin_port = htons(a->port);
		memcpy(&s4->sin_addr, a->ip, 4);
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(a->port);
		memcpy(&s6->sin6_addr, a->ip, 16);
	}
}

static int from_sockaddr(const struct sockaddr *sa, struct net_addr *a)
{
	memset(a, 0, sizeof *a);
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
		a->family = 4;
		memcpy(a->ip, &s4->sin_addr, 4);
		a->port = ntohs(s4->sin_port);
		return 0;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
		a->family = 6;
		memcpy(a->ip, &s6->sin6_addr, 16);
		a->port = ntohs(s6->sin6_port);
		return 0;
	}
	return -CN_EINVAL;
}

int rt_addr_parse(const char *s, struct net_addr *a)
{
	char host[64];
	const char *colon, *h = s;
	size_t hl;
	int v6 = s[0] == '[';
	if (v6) {
		const char *end = strchr(s, ']');
		if (!end || end[1] != ':')
			return -CN_EINVAL;
		h = s + 1;
		hl = (size_t)(end - h);
		colon = end + 1;
	} else {
		if (!(colon = strrchr(s, ':')))
			return -CN_EINVAL;
		hl = (size_t)(colon - s);
	}
	if (hl == 0 || hl >= sizeof host)
		return -CN_EINVAL;
	memcpy(host, h, hl);
	host[hl] = 0;
	char *endp;
	const char *ps = colon + 1;
	if (*ps < '0' || *ps > '9')
		return -CN_EINVAL;
	unsigned long port = strtoul(ps, &endp, 10);
	if (*endp || port > 65535)
		return -CN_EINVAL;
	struct sockaddr_storage ss;
	int rc = v6 ? uv_ip6_addr(host, (int)port, (struct sockaddr_in6 *)&ss)
		    : uv_ip4_addr(host, (int)port, (struct sockaddr_in *)&ss);
	if (rc)
		return -CN_EINVAL;
	return from_sockaddr((struct sockaddr *)&ss, a);
}

static void arm_timer(struct rt_net *rt, uint64_t at_ms);

struct send_req {
	uv_udp_send_t req;
	uint8_t data[];
};

static void on_sent(uv_udp_send_t *req, int status)
{
	struct rt_net *rt = req->handle->data;
	if (status)
		rt->send_errors++;
	free(req);
}

/* The test-only loss knob: a seeded coin per datagram. */
static int test_drop(struct rt_net *rt)
{
	if (rt->opts.test_drop <= 0 || cn_prng_double(&rt->drop_rng) >= rt->opts.test_drop)
		return 0;
	rt->test_dropped++;
	return 1;
}

static void udp_send(struct rt_net *rt, const struct net_addr *to, const uint8_t *p, size_t len)
{
	if (test_drop(rt))
		return;
	rt->dgrams_out++;
	rt->bytes_out += len;
	struct sockaddr_storage ss;
	to_sockaddr(to, &ss);
	uv_buf_t b = uv_buf_init((char *)p, (unsigned)len);
	int rc = uv_udp_try_send(&rt->udp, &b, 1, (struct sockaddr *)&ss);
	if (rc == (int)len)
		return;
	if (rc != UV_EAGAIN) {
		/* UDP is lossy anyway: the endpoint's retransmission timers cover it. */
		rt->send_errors++;
		return;
	}
	/* Socket buffer full (or sends already queued): libuv keeps order. */
	struct send_req *r = malloc(sizeof *r + len);
	if (!r) {
		rt->send_errors++;
		return;
	}
	memcpy(r->data, p, len);
	b = uv_buf_init((char *)r->data, (unsigned)len);
	if (uv_udp_send(&r->req, &rt->udp, &b, 1, (struct sockaddr *)&ss, on_sent)) {
		rt->send_errors++;
		free(r);
	}
}

/* One endpoint step and its actions. Each step gets its own output so that
 * a callback may step again (rt_net_send) while we are still iterating. */
static int step(struct rt_net *rt, const struct net_input *in)
{
	struct net_out out;
	net_out_init(&out);
	int rc = net_endpoint_step(rt->ep, rt_now_ms(), in, &out);
	for (size_t i = 0; i < out.n && !rt->closing; i++) {
		const struct net_action *a = &out.act[i];
		const uint8_t *d = net_action_data(&out, a);
		switch (a->kind) {
		case NET_ACT_SEND:
			udp_send(rt, &a->addr, d, a->len);
			break;
		case NET_ACT_TIMER:
			arm_timer(rt, a->at_ms);
			break;
		default:
			if (rt->on_event)
				rt->on_event(rt->ctx, rt, a, d, a->len);
			break;
		}
	}
	net_out_free(&out);
	return rc;
}

static void on_timer(uv_timer_t *t)
{
	struct rt_net *rt = t->data;
	/* libuv counts on a monotonic clock rounded to milliseconds, the
	 * endpoint on the wall clock: if we are early by its clock it would see
	 * nothing due and might not ask again, so wait out the difference. */
	if (rt_now_ms() < rt->timer_at_ms) {
		arm_timer(rt, rt->timer_at_ms);
		return;
	}
	struct net_input in = {.kind = NET_IN_TIMER};
	step(rt, &in);
}

static void arm_timer(struct rt_net *rt, uint64_t at_ms)
{
	uv_update_time(rt->loop);
	uint64_t now = rt_now_ms();
	rt->timer_at_ms = at_ms;
	uv_timer_start(&rt->timer, on_timer, at_ms > now ? at_ms - now + 1 : 0, 0);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct rt_net *rt = h->data;
	*buf = uv_buf_init((char *)rt->rxbuf, sizeof rt->rxbuf);
}

static void on_recv(uv_udp_t *u, ssize_t nread, const uv_buf_t *buf, const struct sockaddr *from,
		    unsigned flags)
{
	struct rt_net *rt = u->data;
	if (nread <= 0 || !from || rt->closing)
		return;
	if ((flags & UV_UDP_PARTIAL) || (size_t)nread > NET_MAX_DATAGRAM)
		return;
	if (test_drop(rt))
		return;
	rt->dgrams_in++;
	rt->bytes_in += (uint64_t)nread;
	struct net_input in = {.kind = NET_IN_DATAGRAM, .data = rt->rxbuf, .len = (size_t)nread};
	if (from_sockaddr(from, &in.addr))
		return;
	step(rt, &in);
}

static void on_signal(uv_signal_t *s, int signum)
{
	struct rt_net *rt = s->data;
	rt->signaled = signum;
	rt_net_close(rt);
}

static void on_closed(uv_handle_t *h)
{
	struct rt_net *rt = h->data;
	rt->open_handles--;
}

void rt_net_close(struct rt_net *rt)
{
	if (rt->closing)
		return;
	rt->closing = 1;
	uv_handle_t *hs[] = {(uv_handle_t *)&rt->udp, (uv_handle_t *)&rt->timer,
			     (uv_handle_t *)&rt->sigint, (uv_handle_t *)&rt->sigterm};
	for (size_t i = 0; i < sizeof hs / sizeof hs[0]; i++)
		if (hs[i]->type != UV_UNKNOWN_HANDLE && !uv_is_closing(hs[i]))
			uv_close(hs[i], on_closed);
}

int rt_net_start(struct rt_net *rt, uv_loop_t *loop, struct net_endpoint *ep,
		 const struct net_addr *bind_addr, rt_net_event_fn on_event, void *ctx)
{
	return rt_net_start_opts(rt, loop, ep, bind_addr, NULL, on_event, ctx);
}

int rt_net_start_opts(struct rt_net *rt, uv_loop_t *loop, struct net_endpoint *ep,
		      const struct net_addr *bind_addr, const struct rt_net_opts *opts,
		      rt_net_event_fn on_event, void *ctx)
{
	memset(rt, 0, sizeof *rt);
	if (opts)
		rt->opts = *opts;
	cn_prng_seed(&rt->drop_rng, rt->opts.drop_seed);
	rt->loop = loop;
	rt->ep = ep;
	rt->on_event = on_event;
	rt->ctx = ctx;
	rt->udp.data = rt->timer.data = rt->sigint.data = rt->sigterm.data = rt;
	struct sockaddr_storage ss;
	to_sockaddr(bind_addr, &ss);
	int rc;
	if ((rc = uv_udp_init(loop, &rt->udp)) != 0)
		return -CN_EIO;
	rt->open_handles++;
	rt->udp.data = rt;
	uv_timer_init(loop, &rt->timer);
	rt->open_handles++;
	rt->timer.data = rt;
	if (!rt->opts.no_signals) {
		uv_signal_init(loop, &rt->sigint);
		rt->sigint.data = rt;
		rt->open_handles++;
		uv_signal_init(loop, &rt->sigterm);
		rt->sigterm.data = rt;
		rt->open_handles++;
	}
	if ((rc = uv_udp_bind(&rt->udp, (struct sockaddr *)&ss, 0)) != 0 ||
	    (rc = uv_udp_recv_start(&rt->udp, on_alloc, on_recv)) != 0) {
		cn_log_error("rt_net: cannot bind UDP socket: %s", uv_strerror(rc));
		rt_net_close(rt);
		return -CN_EIO;
	}
	/* Best effort: a RaptorQ burst is hundreds of datagrams, and the
	 * default ~200 KiB receive buffer drops most of a large message before
	 * the loop gets to read it. The kernel caps this at rmem_max. */
	int bufsz = 4 << 20;
	uv_recv_buffer_size((uv_handle_t *)&rt->udp, &bufsz);
	bufsz = 4 << 20;
	uv_send_buffer_size((uv_handle_t *)&rt->udp, &bufsz);
	if (!rt->opts.no_signals) {
		uv_signal_start(&rt->sigint, on_signal, SIGINT);
		uv_signal_start(&rt->sigterm, on_signal, SIGTERM);
	}
	return 0;
}

int rt_net_local_addr(struct rt_net *rt, struct net_addr *out)
{
	struct sockaddr_storage ss;
	int len = sizeof ss;
	if (uv_udp_getsockname(&rt->udp, (struct sockaddr *)&ss, &len))
		return -CN_EIO;
	return from_sockaddr((struct sockaddr *)&ss, out);
}

int rt_net_send(struct rt_net *rt, const uint8_t peer[NET_NODE_ID_LEN], const uint8_t *data,
		size_t len)
{
	if (rt->closing)
		return -CN_ESTATE;
	struct net_input in = {.kind = NET_IN_SEND, .peer = peer, .data = data, .len = len};
	return step(rt, &in);
}

int rt_net_close_peer(struct rt_net *rt, const uint8_t peer[NET_NODE_ID_LEN])
{
	if (rt->closing)
		return -CN_ESTATE;
	struct net_input in = {.kind = NET_IN_CLOSE, .peer = peer};
	return step(rt, &in);
}

int rt_net_announce(struct rt_net *rt, const struct net_locator *rec)
{
	if (rt->closing)
		return -CN_ESTATE;
	struct net_input in = {.kind = NET_IN_ANNOUNCE, .locator = rec};
	return step(rt, &in);
}
