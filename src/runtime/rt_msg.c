/* rt_msg.c — net_msg over rt_net. */
#include "runtime/rt_msg.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "base/bytes.h"
#include "base/err.h"

static void msg_timer_cb(uv_timer_t *t);

struct rt_held {
	struct rt_held *next;
	uint32_t peer;
	size_t len;
	uint8_t data[];
};

static uint64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static struct rt_cc *cc_of(struct rt_msg *rm, uint32_t peer)
{
	if (!rm->use_cc || peer >= rm->max_peers)
		return NULL;
	if (!rm->cc[peer]) {
		struct rt_cc *c = calloc(1, sizeof *c);
		if (!c)
			return NULL;
		if (net_cc_init(&c->cc, NULL) != 0) {
			free(c);
			return NULL;
		}
		net_cc_ackset_init(&c->rx);
		rm->cc[peer] = c;
	}
	return rm->cc[peer];
}

struct net_cc *rt_msg_cc(struct rt_msg *rm, uint32_t peer)
{
	struct rt_cc *c = cc_of(rm, peer);
	return c ? &c->cc : NULL;
}

/* A payload onto the session: numbered for net_cc when it runs. */
static void wire_send(struct rt_msg *rm, uint32_t peer, const uint8_t *data, size_t len)
{
	struct rt_cc *c = cc_of(rm, peer);
	if (!c) {
		rt_net_send(&rm->net, rm->ids[peer], data, len);
		return;
	}
	uint8_t p[9 + NET_MSG_MTU];
	if (len > NET_MSG_MTU)
		return;
	uint64_t pn = c->next_pn++;
	p[0] = RT_MSG_T_CC_DATA;
	store_be64(p + 1, pn);
	memcpy(p + 9, data, len);
	if (rt_net_send(&rm->net, rm->ids[peer], p, 9 + len) == 0)
		/* UDP payload bytes as net_cc counts them: ours plus the
		 * session's header, inner type and tag. */
		net_cc_on_sent(&c->cc, now_us(), pn, (uint32_t)(9 + len + 33), 1);
}

static void emit(struct rt_msg *rm, uint32_t peer, const uint8_t *data, size_t len)
{
	struct net_session_info info;
	int up = net_endpoint_session(rm->net.ep, rm->ids[peer], &info) == 0 &&
		 info.state == NET_SESSION_ESTABLISHED;
	if (up || !rm->kicked[peer]) {
		rm->kicked[peer] = !up;
		/* Errors here are the session's (e.g. closed): net_msg's repair
		 * rounds and deadline handle the loss. */
		wire_send(rm, peer, data, len);
		return;
	}
	struct rt_held *h;
	if (rm->held_bytes + len > RT_MSG_HOLD_MAX_BYTES || !(h = malloc(sizeof *h + len))) {
		rm->held_dropped++;
		return;
	}
	h->next = NULL;
	h->peer = peer;
	h->len = len;
	memcpy(h->data, data, len);
	*rm->held_tail = h;
	rm->held_tail = &h->next;
	rm->held_bytes += len;
	rm->held_total++;
}

/* Sends (send != 0) or drops every payload held for peer, in order. */
static void release(struct rt_msg *rm, uint32_t peer, int send)
{
	rm->kicked[peer] = 0;
	struct rt_held **pp = &rm->held_head, *h;
	while ((h = *pp) != NULL) {
		if (h->peer != peer) {
			pp = &h->next;
			continue;
		}
		*pp = h->next;
		rm->held_bytes -= h->len;
		if (send && !rm->net.closing)
			wire_send(rm, peer, h->data, h->len);
		free(h);
	}
	rm->held_tail = pp;
	while (*rm->held_tail)
		rm->held_tail = &(*rm->held_tail)->next;
}

static void arm(struct rt_msg *rm, uint64_t at_ms)
{
	if (rm->net.closing)
		return;
	if (at_ms == UINT64_MAX) {
		uv_timer_stop(&rm->timer);
		return;
	}
	uv_update_time(rm->net.loop);
	uint64_t now = rt_now_ms();
	rm->timer_at_ms = at_ms;
	uv_timer_start(&rm->timer, msg_timer_cb, at_ms > now ? at_ms - now + 1 : 0, 0);
}

/* One net_msg step with its own output, so callbacks may step again. */
static int msg_step(struct rt_msg *rm, const struct net_msg_input *in)
{
	struct net_msg_out out;
	net_msg_out_init(&out);
	int rc = net_msg_step(rm->msg, rt_now_ms(), in, &out);
	arm(rm, out.next_timer_ms);
	for (size_t i = 0; i < out.n && !rm->net.closing; i++) {
		const struct net_msg_action *a = &out.a[i];
		if (a->peer >= rm->n_peers)
			continue;
		switch (a->kind) {
		case NET_MSG_A_SEND:
			emit(rm, a->peer, a->data, a->len);
			break;
		case NET_MSG_A_DELIVER:
			if (rm->cb.deliver)
				rm->cb.deliver(rm->ctx, rm, a->peer, a->data, a->len);
			break;
		case NET_MSG_A_SENT:
		case NET_MSG_A_FAILED:
			if (rm->cb.result)
				rm->cb.result(rm->ctx, rm, a->peer, a->msg_id,
					      a->kind == NET_MSG_A_SENT ? 0 : (a->err ? a->err : -CN_ELIMIT));
			break;
		}
	}
	net_msg_out_free(&out);
	return rc;
}

static void msg_timer_cb(uv_timer_t *t)
{
	struct rt_msg *rm = t->data;
	if (rt_now_ms() < rm->timer_at_ms) {
		arm(rm, rm->timer_at_ms);
		return;
	}
	struct net_msg_input in = {.kind = NET_MSG_IN_TIMER};
	msg_step(rm, &in);
}

int rt_msg_peer(struct rt_msg *rm, const uint8_t node_id[NET_NODE_ID_LEN], uint32_t *index)
{
	for (uint32_t i = 0; i < rm->n_peers; i++)
		if (!memcmp(rm->ids[i], node_id, NET_NODE_ID_LEN)) {
			*index = i;
			return 0;
		}
	if (rm->n_peers == rm->max_peers)
		return -CN_ELIMIT;
	memcpy(rm->ids[rm->n_peers], node_id, NET_NODE_ID_LEN);
	*index = rm->n_peers++;
	return 0;
}

const uint8_t *rt_msg_peer_id(const struct rt_msg *rm, uint32_t index)
{
	return index < rm->n_peers ? rm->ids[index] : NULL;
}

/* Records a numbered payload; acknowledges every few, or when the last ACK
 * is old. Returns 0 for a number out of range. */
static int on_cc_data(struct rt_msg *rm, uint32_t peer, uint64_t pn)
{
	struct rt_cc *c = cc_of(rm, peer);
	if (!c || net_cc_ackset_add(&c->rx, pn) < 0)
		return 0;
	c->rx_unacked++;
	uint64_t now = rt_now_ms();
	if (c->rx_unacked < RT_MSG_ACK_EVERY && now - c->last_ack_ms < RT_MSG_ACK_MS)
		return 1;
	struct net_cc_ack ack;
	uint8_t f[1 + 16 + NET_CC_ACK_MAX_RANGES * 16];
	size_t n, written;
	if (net_cc_ackset_to_ack(&c->rx, 0, &ack) == 0 &&
	    net_cc_ack_encode(&ack, f + 1, sizeof f - 1, &n, &written) == 0) {
		f[0] = RT_MSG_T_CC_ACK;
		rt_net_send(&rm->net, rm->ids[peer], f, 1 + n);
		rm->cc_acks_out++;
	}
	c->rx_unacked = 0;
	c->last_ack_ms = now;
	return 1;
}

static void on_cc_ack(struct rt_msg *rm, uint32_t peer, const uint8_t *d, size_t len)
{
	struct rt_cc *c = cc_of(rm, peer);
	struct net_cc_ack ack;
	struct net_cc_events ev;
	size_t used;
	uint64_t t = now_us();
	if (!c || net_cc_ack_decode(&ack, d, len, &used) != 0 || used != len ||
	    net_cc_on_ack(&c->cc, t, &ack, &ev) != 0) {
		rm->cc_bad++;
		return;
	}
	rm->cc_acks_in++;
	/* Loss and probe timers are not armed; time-threshold losses are
	 * found here instead, so in-flight accounting stays right. */
	net_cc_on_timeout(&c->cc, t, &ev);
	if (!c->cc.rtt.has_sample)
		return;
	/* The RTT only. net_cc's pacing rate is advice for a sender that paces
	 * by it, which rt_msg does not yet; handed to net_msg while sends go
	 * out unpaced, a window shrunk by random loss pushed every repair timer
	 * far into the future and transfers stalled. */
	uint64_t srtt = c->cc.rtt.smoothed_us / 1000 + 1;
	struct net_msg_input in = {.kind = NET_MSG_IN_RTT, .peer = peer, .rtt_ms = srtt};
	msg_step(rm, &in);
}

static void on_net_event(void *ctx, struct rt_net *rt, const struct net_action *a,
			 const uint8_t *data, size_t len)
{
	struct rt_msg *rm = ctx;
	uint32_t peer;
	if (a->kind == NET_ACT_DELIVER) {
		if (rt_msg_peer(rm, a->peer, &peer) != 0) {
			rm->unknown_dropped++;
			return;
		}
		if (rm->use_cc && len && data[0] == RT_MSG_T_CC_ACK) {
			on_cc_ack(rm, peer, data + 1, len - 1);
			return;
		}
		if (rm->use_cc && len && data[0] == RT_MSG_T_CC_DATA) {
			if (len < 9 || !on_cc_data(rm, peer, load_be64(data + 1))) {
				rm->cc_bad++;
				return;
			}
			data += 9;
			len -= 9;
			if (!len)
				return;
		}
		if (rm->cb.raw && len && (data[0] == NET_MCAST_T_DIRECT || data[0] == NET_MCAST_T_RELAY)) {
			rm->cb.raw(rm->ctx, rm, peer, data, len);
			return;
		}
		struct net_msg_input in = {.kind = NET_MSG_IN_DATAGRAM, .peer = peer, .data = data, .len = len};
		msg_step(rm, &in);
		return;
	}
	for (peer = 0; peer < rm->n_peers; peer++) {
		if (memcmp(rm->ids[peer], a->peer, NET_NODE_ID_LEN) != 0)
			continue;
		if (a->kind == NET_ACT_ESTABLISHED)
			release(rm, peer, 1);
		if (a->kind == NET_ACT_CLOSED) {
			release(rm, peer, 0);
			/* Partial messages from the old session cannot complete. */
			struct net_msg_input in = {.kind = NET_MSG_IN_PEER_RESET, .peer = peer};
			msg_step(rm, &in);
		}
	}
	if (rm->cb.session)
		rm->cb.session(rm->ctx, rt, a, data, len);
}

int rt_msg_start(struct rt_msg *rm, uv_loop_t *loop, struct net_endpoint *ep,
		 const struct net_addr *bind_addr, uint32_t max_peers,
		 const struct rt_msg_callbacks *cb, void *ctx)
{
	return rt_msg_start_opts(rm, loop, ep, bind_addr, max_peers, NULL, cb, ctx);
}

int rt_msg_start_opts(struct rt_msg *rm, uv_loop_t *loop, struct net_endpoint *ep,
		      const struct net_addr *bind_addr, uint32_t max_peers,
		      const struct rt_msg_opts *opts, const struct rt_msg_callbacks *cb, void *ctx)
{
	memset(rm, 0, sizeof *rm);
	if (max_peers == 0)
		return -CN_EINVAL;
	rm->cb = *cb;
	rm->ctx = ctx;
	rm->max_peers = max_peers;
	rm->use_cc = opts && opts->cc;
	if (rm->use_cc && !(rm->cc = calloc(max_peers, sizeof *rm->cc)))
		return -CN_ENOMEM;
	rm->held_tail = &rm->held_head;
	if (!(rm->ids = calloc(max_peers, sizeof *rm->ids)) || !(rm->kicked = calloc(max_peers, 1))) {
		free(rm->ids);
		rm->ids = NULL;
		return -CN_ENOMEM;
	}
	struct net_msg_config cfg = {.max_peers = max_peers, .max_outgoing = opts ? opts->max_outgoing : 0,
				     .min_rtt_ms = opts ? opts->min_rtt_ms : 0};
	randombytes_buf(&cfg.id_seed, sizeof cfg.id_seed);
	int rc = net_msg_new(&cfg, &rm->msg);
	if (rc) {
		free(rm->ids);
		free(rm->kicked);
		rm->ids = NULL;
		rm->kicked = NULL;
		return rc;
	}
	/* rt_net_start zeroes rm->net; the timer lives beside it. */
	if ((rc = rt_net_start_opts(&rm->net, loop, ep, bind_addr, opts ? &opts->net : NULL, on_net_event, rm)) != 0)
		return rc;
	uv_timer_init(loop, &rm->timer);
	rm->timer.data = rm;
	return 0;
}

int rt_msg_send(struct rt_msg *rm, uint32_t peer, const uint8_t *data, size_t len,
		uint64_t deadline_ms, uint64_t *msg_id)
{
	if (rm->net.closing)
		return -CN_ESTATE;
	if (peer >= rm->n_peers)
		return -CN_EINVAL;
	struct net_msg_input in = {.kind = NET_MSG_IN_SEND, .peer = peer, .data = data, .len = len,
				   .deadline_ms = deadline_ms, .msg_id = msg_id};
	return msg_step(rm, &in);
}

int rt_msg_send_raw(struct rt_msg *rm, uint32_t peer, const uint8_t *data, size_t len)
{
	if (rm->net.closing)
		return -CN_ESTATE;
	if (peer >= rm->n_peers || len == 0 || len > NET_MSG_MTU)
		return -CN_EINVAL;
	emit(rm, peer, data, len);
	return 0;
}

int rt_msg_rtt(struct rt_msg *rm, uint32_t peer, uint64_t rtt_ms, uint64_t rate_bytes_per_ms)
{
	if (rm->net.closing)
		return -CN_ESTATE;
	if (peer >= rm->n_peers)
		return -CN_EINVAL;
	struct net_msg_input in = {.kind = NET_MSG_IN_RTT, .peer = peer, .rtt_ms = rtt_ms,
				   .rate_bytes_per_ms = rate_bytes_per_ms};
	return msg_step(rm, &in);
}

void rt_msg_close(struct rt_msg *rm)
{
	if (rm->timer.type == UV_TIMER && !uv_is_closing((uv_handle_t *)&rm->timer))
		uv_close((uv_handle_t *)&rm->timer, NULL);
	rt_net_close(&rm->net);
}

void rt_msg_free(struct rt_msg *rm)
{
	while (rm->held_head) {
		struct rt_held *h = rm->held_head;
		rm->held_head = h->next;
		free(h);
	}
	rm->held_tail = &rm->held_head;
	rm->held_bytes = 0;
	for (uint32_t i = 0; rm->cc && i < rm->max_peers; i++)
		if (rm->cc[i]) {
			net_cc_free(&rm->cc[i]->cc);
			free(rm->cc[i]);
		}
	free(rm->cc);
	rm->cc = NULL;
	net_msg_free(rm->msg);
	free(rm->ids);
	free(rm->kicked);
	rm->msg = NULL;
	rm->ids = NULL;
	rm->kicked = NULL;
}
