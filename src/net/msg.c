/* msg.c — unicast RaptorQ messaging (see msg.h for the protocol).
 *
 * Wire format (all integers big-endian):
 *   DATA  01 | msg id (8) | OTI (12) | SBN (1) ESI (3) | symbol (T)
 *   ACK   02 | msg id (8)
 * The OTI rides in every DATA payload so that any one symbol starts a
 * decoder: symbols are lost and reordered freely. */
#include "net/msg.h"
#include "net/msg_int.h"

#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "base/err.h"

#define ACK_LEN 9
#define BACKOFF_MAX_SHIFT 3

uint64_t net_oti_raw_f(const uint8_t *p)
{
	return (uint64_t)p[0] << 32 | (uint64_t)p[1] << 24 | (uint64_t)p[2] << 16 | (uint64_t)p[3] << 8 | p[4];
}

/* ---- actions --------------------------------------------------------------- */

void net_msg_out_init(struct net_msg_out *out)
{
	memset(out, 0, sizeof *out);
	out->next_timer_ms = UINT64_MAX;
}

void net_msg_out_reset(struct net_msg_out *out)
{
	for (size_t i = 0; i < out->n; i++)
		free(out->a[i].data);
	out->n = 0;
	out->oom = 0;
	out->next_timer_ms = UINT64_MAX;
}

void net_msg_out_free(struct net_msg_out *out)
{
	net_msg_out_reset(out);
	free(out->a);
	memset(out, 0, sizeof *out);
}

struct net_msg_action *net_msg_out_push(struct net_msg_out *out, enum net_msg_action_kind kind,
					uint32_t peer, uint64_t id, uint8_t *data, size_t len)
{
	if (out->n == out->cap) {
		size_t cap = out->cap ? out->cap * 2 : 64;
		struct net_msg_action *a = realloc(out->a, cap * sizeof *a);
		if (!a) {
			free(data);
			out->oom = 1;
			return NULL;
		}
		out->a = a;
		out->cap = cap;
	}
	struct net_msg_action *a = &out->a[out->n++];
	memset(a, 0, sizeof *a);
	a->kind = kind;
	a->peer = peer;
	a->msg_id = id;
	a->data = data;
	a->len = len;
	return a;
}

int net_msg_oti_for(uint64_t len, uint16_t t_max, uint32_t k_target, struct rq_oti *oti)
{
	if (len == 0 || t_max < NET_MSG_AL || k_target == 0)
		return -CN_EINVAL;
	uint64_t t = (len + k_target - 1) / k_target;
	t = (t + NET_MSG_AL - 1) / NET_MSG_AL * NET_MSG_AL;
	uint64_t tmax = t_max / NET_MSG_AL * NET_MSG_AL;
	if (t > tmax)
		t = tmax;
	oti->f = len;
	oti->t = (uint16_t)t;
	oti->z = 1;
	oti->n = 1;
	oti->al = NET_MSG_AL;
	if ((len + t - 1) / t > RQ_MAX_KPRIME)
		return -CN_ELIMIT;
	return rq_oti_check(oti);
}

/* ---- state ----------------------------------------------------------------- */

struct upeer {
	struct net_inpeer in;
	uint64_t srtt;
	int has_rtt;
};

struct outmsg {
	int used;
	uint32_t peer;
	uint64_t id;
	uint8_t *data;
	struct rq_encoder *enc;
	uint32_t k, next_esi, esi_lim, rounds;
	uint64_t sent_ms, next_ms, deadline_ms;
};

struct net_msg {
	struct net_msg_config cfg;
	struct net_msg_stats st;
	struct upeer *peers;
	struct outmsg *outs;
	uint64_t next_id;
	uint64_t drain_us;         /* when the bytes emitted so far will have left */
	struct rq_plan_cache *cache;
};

/* The highest ESI either side uses: the sender stops repairing there and the
 * receiver's bitmap of seen symbols is this long. 8K is far more than any
 * loss rate a session survives needs. */
static uint32_t esi_limit(uint32_t k)
{
	uint64_t lim = (uint64_t)k * 8 + 1024;
	return lim > RQ_MAX_ESI ? RQ_MAX_ESI : (uint32_t)lim;
}

int net_msg_new(const struct net_msg_config *cfg, struct net_msg **out)
{
	if (!cfg || cfg->max_peers == 0 || cfg->max_peers > (1u << 20))
		return -CN_EINVAL;
	struct net_msg *sm = calloc(1, sizeof *sm);
	if (!sm)
		return -CN_ENOMEM;
	sm->cfg = *cfg;
	struct net_msg_config *c = &sm->cfg;
	if (!c->max_incoming)
		c->max_incoming = 8;
	if (!c->max_outgoing)
		c->max_outgoing = 256;
	if (!c->dedup_window)
		c->dedup_window = 1024;
	if (!c->initial_rtt_ms)
		c->initial_rtt_ms = 200;
	if (!c->incoming_timeout_ms)
		c->incoming_timeout_ms = 30000;
	if (!c->overhead)
		c->overhead = 2;
	if (!c->peer_mem_cap) {
		struct rq_oti oti;
		uint64_t mem = 0;
		if (net_msg_oti_for(NET_MSG_MAX_SIZE, NET_MSG_T_MAX, 1, &oti) == 0)
			rq_decoder_memory(&oti, &mem);
		c->peer_mem_cap = mem + esi_limit(RQ_MAX_KPRIME) / 8 + (1u << 20);
	}
	sm->next_id = c->id_seed;
	sm->peers = calloc(c->max_peers, sizeof *sm->peers);
	sm->outs = calloc(c->max_outgoing, sizeof *sm->outs);
	if (!sm->peers || !sm->outs || rq_plan_cache_new(4, &sm->cache)) {
		net_msg_free(sm);
		return -CN_ENOMEM;
	}
	*out = sm;
	return 0;
}

static void outmsg_free(struct outmsg *o)
{
	rq_encoder_free(o->enc);
	free(o->data);
	memset(o, 0, sizeof *o);
}

void net_msg_free(struct net_msg *sm)
{
	if (!sm)
		return;
	if (sm->peers)
		for (uint32_t i = 0; i < sm->cfg.max_peers; i++)
			net_in_peer_free(&sm->peers[i].in, sm->cfg.max_incoming);
	if (sm->outs)
		for (uint32_t i = 0; i < sm->cfg.max_outgoing; i++)
			if (sm->outs[i].used)
				outmsg_free(&sm->outs[i]);
	free(sm->peers);
	free(sm->outs);
	rq_plan_cache_free(sm->cache);
	free(sm);
}

const struct net_msg_stats *net_msg_stats(const struct net_msg *sm)
{
	return &sm->st;
}

uint64_t net_msg_peer_reserved(const struct net_msg *sm, uint32_t peer)
{
	return peer < sm->cfg.max_peers ? sm->peers[peer].in.reserved : 0;
}

static uint64_t srtt_of(const struct net_msg *sm, const struct upeer *p)
{
	uint64_t r = p->has_rtt ? p->srtt : sm->cfg.initial_rtt_ms;
	return r < sm->cfg.min_rtt_ms ? sm->cfg.min_rtt_ms : r;
}

uint64_t net_msg_peer_srtt(const struct net_msg *sm, uint32_t peer)
{
	return peer < sm->cfg.max_peers ? srtt_of(sm, &sm->peers[peer]) : 0;
}

static void rtt_sample(struct upeer *p, uint64_t rtt)
{
	if (rtt == 0)
		rtt = 1;
	if (!p->has_rtt) {
		p->srtt = rtt;
		p->has_rtt = 1;
	} else {
		p->srtt = (p->srtt * 7 + rtt) / 8;
		if (p->srtt == 0)
			p->srtt = 1;
	}
}

/* ---- shared with mcast.c (msg_int.h) ------------------------------------------ */

void net_pace_now(uint64_t rate, uint64_t *drain_us, uint64_t now_ms)
{
	if (rate && *drain_us < now_ms * 1000)
		*drain_us = now_ms * 1000;
}

void net_pace_emitted(uint64_t rate, uint64_t *drain_us, size_t len)
{
	if (rate)
		*drain_us += (uint64_t)len * 1000 / rate + 1;
}

uint64_t net_pace_base(uint64_t rate, uint64_t drain_us, uint64_t now_ms)
{
	if (!rate)
		return now_ms;
	uint64_t t = (drain_us + 999) / 1000;
	return t > now_ms ? t : now_ms;
}

int net_in_slots_init(struct net_inpeer *p, uint32_t nslots)
{
	if (!p->slots && !(p->slots = calloc(nslots, sizeof *p->slots)))
		return -CN_ENOMEM;
	return 0;
}

int net_in_ring_has(const struct net_inpeer *p, uint64_t id)
{
	for (uint32_t i = 0; i < p->ring_n; i++)
		if (p->ring[i] == id)
			return 1;
	return 0;
}

void net_in_ring_add(struct net_inpeer *p, uint32_t window, uint64_t id)
{
	if (!p->ring && !(p->ring = calloc(window, sizeof *p->ring)))
		return;
	p->ring[p->ring_pos] = id;
	p->ring_pos = (p->ring_pos + 1) % window;
	if (p->ring_n < window)
		p->ring_n++;
}

void net_in_slot_free(struct net_inpeer *p, struct net_inslot *s)
{
	rq_decoder_free(s->dec);
	free(s->seen);
	p->reserved -= s->reserved;
	memset(s, 0, sizeof *s);
}

void net_in_slots_drop(struct net_inpeer *p, uint32_t nslots)
{
	if (p->slots)
		for (uint32_t j = 0; j < nslots; j++)
			if (p->slots[j].used)
				net_in_slot_free(p, &p->slots[j]);
}

void net_in_peer_free(struct net_inpeer *p, uint32_t nslots)
{
	net_in_slots_drop(p, nslots);
	free(p->slots);
	free(p->ring);
}

int net_in_slot_mem(const struct rq_oti *oti, uint32_t lim, uint64_t *mem)
{
	if (rq_decoder_memory(oti, mem))
		return -CN_EINVAL;
	*mem += lim / 8 + 1;
	return 0;
}

int net_in_slot_open(struct net_inpeer *p, struct net_inslot *s, const struct rq_oti *oti,
		     const uint8_t *oti_raw, uint64_t id, uint32_t lim, uint64_t mem)
{
	s->seen = calloc(lim / 8 + 1, 1);
	if (!s->seen || rq_decoder_new(oti, mem, &s->dec)) {
		free(s->seen);
		memset(s, 0, sizeof *s);
		return -CN_ENOMEM;
	}
	s->used = 1;
	s->id = id;
	memcpy(s->oti_raw, oti_raw, RQ_OTI_LEN);
	s->esi_lim = lim;
	s->reserved = mem;
	p->reserved += mem;
	return 0;
}

int net_in_seen(const struct net_inslot *s, uint32_t esi)
{
	return (s->seen[esi / 8] & (1u << (esi % 8))) != 0;
}

void net_in_mark_seen(struct net_inslot *s, uint32_t esi)
{
	s->seen[esi / 8] |= (uint8_t)(1u << (esi % 8));
}

int net_in_deliver(struct net_inslot *s, uint32_t peer, struct net_msg_out *out)
{
	const uint8_t *obj;
	uint64_t olen;
	if (rq_decoder_object(s->dec, &obj, &olen) != 0)
		return 0;
	uint8_t *copy = malloc(olen);
	if (!copy) {
		out->oom = 1;
		return 0;
	}
	memcpy(copy, obj, olen);
	return net_msg_out_push(out, NET_MSG_A_DELIVER, peer, s->id, copy, olen) ? 1 : 2;
}

uint64_t net_in_expire(struct net_inpeer *p, uint32_t nslots, uint64_t now, uint64_t timeout_ms)
{
	uint64_t expired = 0;
	if (!p->slots)
		return 0;
	for (uint32_t j = 0; j < nslots; j++) {
		struct net_inslot *s = &p->slots[j];
		if (s->used && now >= s->last_ms + timeout_ms) {
			if (!s->done)
				expired++;
			net_in_slot_free(p, s);
		}
	}
	return expired;
}

uint64_t net_in_next_expiry(const struct net_inpeer *p, uint32_t nslots, uint64_t timeout_ms, uint64_t t)
{
	if (!p->slots)
		return t;
	for (uint32_t j = 0; j < nslots; j++)
		if (p->slots[j].used && p->slots[j].last_ms + timeout_ms < t)
			t = p->slots[j].last_ms + timeout_ms;
	return t;
}

/* ---- sending ---------------------------------------------------------------- */

static void emit(struct net_msg *sm, struct net_msg_out *out, uint32_t peer, uint8_t *buf, size_t len)
{
	if (!net_msg_out_push(out, NET_MSG_A_SEND, peer, 0, buf, len))
		return;
	sm->st.datagrams_out++;
	sm->st.bytes_out += len;
	net_pace_emitted(sm->cfg.pace_bytes_per_ms, &sm->drain_us, len);
}

static uint64_t pace_base(struct net_msg *sm, uint64_t now)
{
	return net_pace_base(sm->cfg.pace_bytes_per_ms, sm->drain_us, now);
}

static void send_symbols(struct net_msg *sm, struct outmsg *o, uint32_t count, struct net_msg_out *out)
{
	const struct rq_oti *oti = rq_encoder_oti(o->enc);
	size_t len = NET_MSG_HDR + oti->t;
	for (uint32_t i = 0; i < count && o->next_esi < o->esi_lim; i++) {
		uint8_t *b = malloc(len);
		if (!b) {
			out->oom = 1;
			return;
		}
		b[0] = NET_MSG_T_DATA;
		store_be64(b + 1, o->id);
		rq_oti_serialize(oti, b + 9);
		if (rq_encoder_packet(o->enc, 0, o->next_esi, b + 21)) {
			free(b);
			out->oom = 1;
			return;
		}
		if (o->next_esi >= o->k)
			sm->st.repair_symbols++;
		o->next_esi++;
		emit(sm, out, o->peer, b, len);
	}
}

static void send_ack(struct net_msg *sm, uint32_t peer, uint64_t id, struct net_msg_out *out)
{
	uint8_t *b = malloc(ACK_LEN);
	if (!b) {
		out->oom = 1;
		return;
	}
	b[0] = NET_MSG_T_ACK;
	store_be64(b + 1, id);
	sm->st.acks_out++;
	emit(sm, out, peer, b, ACK_LEN);
}

static int do_send(struct net_msg *sm, uint64_t now, const struct net_msg_input *in, struct net_msg_out *out)
{
	if (in->peer >= sm->cfg.max_peers || !in->data || in->len == 0)
		return -CN_EINVAL;
	if (in->len > NET_MSG_MAX_SIZE)
		return -CN_ELIMIT;
	struct outmsg *o = NULL;
	for (uint32_t i = 0; i < sm->cfg.max_outgoing && !o; i++)
		if (!sm->outs[i].used)
			o = &sm->outs[i];
	if (!o)
		return -CN_ELIMIT;
	struct rq_oti oti;
	int rc = net_msg_oti_for(in->len, NET_MSG_T_MAX, 1, &oti);
	if (rc)
		return rc;
	o->data = malloc(in->len);
	if (!o->data)
		return -CN_ENOMEM;
	memcpy(o->data, in->data, in->len);
	rc = rq_encoder_new(o->data, &oti, sm->cache, &o->enc);
	if (rc) {
		free(o->data);
		o->data = NULL;
		return rc;
	}
	o->used = 1;
	o->peer = in->peer;
	o->id = sm->next_id++;
	o->k = rq_block_k(&oti, 0);
	o->esi_lim = esi_limit(o->k);
	o->sent_ms = now;
	o->deadline_ms = in->deadline_ms;
	if (in->msg_id)
		*in->msg_id = o->id;
	sm->st.sent_msgs++;
	send_symbols(sm, o, o->k + sm->cfg.overhead, out);
	uint64_t srtt = srtt_of(sm, &sm->peers[o->peer]);
	o->next_ms = pace_base(sm, now) + srtt + srtt / 2;
	return 0;
}

/* ---- receiving --------------------------------------------------------------- */

static void on_data(struct net_msg *sm, uint64_t now, uint32_t peer, const uint8_t *d, size_t len,
		    struct net_msg_out *out)
{
	struct net_inpeer *p = &sm->peers[peer].in;
	if (len < NET_MSG_HDR + NET_MSG_AL) {
		sm->st.drop_malformed++;
		return;
	}
	uint64_t id = load_be64(d + 1);
	struct rq_oti oti;
	if (net_oti_raw_f(d + 9) > NET_MSG_MAX_SIZE) {
		sm->st.drop_oversize++;
		return;
	}
	if (rq_oti_parse(d + 9, &oti) || oti.z != 1 || oti.n != 1) {
		sm->st.drop_malformed++;
		return;
	}
	uint8_t sbn;
	uint32_t esi;
	rq_payload_id_read(d + 21, &sbn, &esi);
	uint32_t k = rq_block_k(&oti, 0);
	if (oti.t != len - NET_MSG_HDR || sbn != 0 || esi >= esi_limit(k)) {
		sm->st.drop_malformed++;
		return;
	}
	if (net_in_slots_init(p, sm->cfg.max_incoming)) {
		out->oom = 1;
		return;
	}
	struct net_inslot *s = NULL, *free_slot = NULL;
	for (uint32_t i = 0; i < sm->cfg.max_incoming; i++) {
		if (p->slots[i].used && p->slots[i].id == id)
			s = &p->slots[i];
		else if (!p->slots[i].used && !free_slot)
			free_slot = &p->slots[i];
	}
	if (s && memcmp(s->oti_raw, d + 9, RQ_OTI_LEN) != 0) {
		sm->st.drop_inconsistent++;
		return;
	}
	if (!s) {
		if (net_in_ring_has(p, id)) {
			/* The sender missed our ACK (or this is a replay): say it again. */
			sm->st.drop_duplicate++;
			send_ack(sm, peer, id, out);
			return;
		}
		if (!free_slot) {
			sm->st.refused_busy++;
			return;
		}
		uint32_t lim = esi_limit(k);
		uint64_t mem;
		if (net_in_slot_mem(&oti, lim, &mem)) {
			sm->st.drop_malformed++;
			return;
		}
		if (p->reserved + mem > sm->cfg.peer_mem_cap) {
			sm->st.refused_memory++;
			return;
		}
		s = free_slot;
		if (net_in_slot_open(p, s, &oti, d + 9, id, lim, mem)) {
			out->oom = 1;
			return;
		}
	}
	s->last_ms = now;
	if (net_in_seen(s, esi)) {
		sm->st.drop_duplicate++;
		return;
	}
	if (rq_decoder_push(s->dec, d + 21, len - 21)) {
		sm->st.drop_malformed++;
		return;
	}
	net_in_mark_seen(s, esi);
	if (!rq_decoder_complete(s->dec))
		return;
	if (net_in_deliver(s, peer, out) == 1)
		sm->st.delivered++;
	net_in_ring_add(p, sm->cfg.dedup_window, id);
	net_in_slot_free(p, s);
	send_ack(sm, peer, id, out);
}

static void on_ack(struct net_msg *sm, uint64_t now, uint32_t peer, const uint8_t *d, size_t len,
		   struct net_msg_out *out)
{
	if (len != ACK_LEN) {
		sm->st.drop_malformed++;
		return;
	}
	sm->st.acks_in++;
	uint64_t id = load_be64(d + 1);
	for (uint32_t i = 0; i < sm->cfg.max_outgoing; i++) {
		struct outmsg *o = &sm->outs[i];
		if (!o->used || o->peer != peer || o->id != id)
			continue;
		/* Karn: only a message answered before any repair times the path. */
		if (o->rounds == 0 && now >= o->sent_ms)
			rtt_sample(&sm->peers[peer], now - o->sent_ms);
		net_msg_out_push(out, NET_MSG_A_SENT, peer, id, NULL, 0);
		sm->st.sent_ok++;
		outmsg_free(o);
		return;
	}
	sm->st.ack_unknown++;
}

/* ---- timers ------------------------------------------------------------------ */

static void on_timer(struct net_msg *sm, uint64_t now, struct net_msg_out *out)
{
	for (uint32_t i = 0; i < sm->cfg.max_outgoing; i++) {
		struct outmsg *o = &sm->outs[i];
		if (!o->used)
			continue;
		if (now >= o->deadline_ms) {
			struct net_msg_action *a = net_msg_out_push(out, NET_MSG_A_FAILED, o->peer, o->id, NULL, 0);
			if (a)
				a->err = -CN_ELIMIT;
			sm->st.sent_failed++;
			outmsg_free(o);
			continue;
		}
		if (now < o->next_ms)
			continue;
		/* A round adds an eighth of K: enough for a loss rate the session
		 * survives in a few rounds, small enough not to flood a path that
		 * merely lost the ACK. */
		uint32_t r = o->k / 8 + 1;
		send_symbols(sm, o, r < 2 ? 2 : r, out);
		o->rounds++;
		uint64_t half = srtt_of(sm, &sm->peers[o->peer]) / 2;
		unsigned shift = o->rounds < BACKOFF_MAX_SHIFT ? o->rounds : BACKOFF_MAX_SHIFT;
		o->next_ms = pace_base(sm, now) + ((half ? half : 1) << shift);
	}
	for (uint32_t i = 0; i < sm->cfg.max_peers; i++)
		sm->st.expired_incoming +=
			net_in_expire(&sm->peers[i].in, sm->cfg.max_incoming, now, sm->cfg.incoming_timeout_ms);
}

static uint64_t next_timer(const struct net_msg *sm)
{
	uint64_t t = UINT64_MAX;
	for (uint32_t i = 0; i < sm->cfg.max_outgoing; i++) {
		const struct outmsg *o = &sm->outs[i];
		if (!o->used)
			continue;
		if (o->next_ms < t)
			t = o->next_ms;
		if (o->deadline_ms < t)
			t = o->deadline_ms;
	}
	for (uint32_t i = 0; i < sm->cfg.max_peers; i++)
		t = net_in_next_expiry(&sm->peers[i].in, sm->cfg.max_incoming, sm->cfg.incoming_timeout_ms, t);
	return t;
}

int net_msg_step(struct net_msg *sm, uint64_t now, const struct net_msg_input *in, struct net_msg_out *out)
{
	int rc = 0;
	net_pace_now(sm->cfg.pace_bytes_per_ms, &sm->drain_us, now);
	switch (in->kind) {
	case NET_MSG_IN_SEND:
		rc = do_send(sm, now, in, out);
		break;
	case NET_MSG_IN_DATAGRAM:
		if (in->peer >= sm->cfg.max_peers) {
			rc = -CN_EINVAL;
			break;
		}
		sm->st.datagrams_in++;
		if (!in->data || in->len == 0)
			sm->st.drop_malformed++;
		else if (in->data[0] == NET_MSG_T_DATA)
			on_data(sm, now, in->peer, in->data, in->len, out);
		else if (in->data[0] == NET_MSG_T_ACK)
			on_ack(sm, now, in->peer, in->data, in->len, out);
		else
			sm->st.drop_malformed++;
		break;
	case NET_MSG_IN_TIMER:
		on_timer(sm, now, out);
		break;
	case NET_MSG_IN_RTT:
		if (in->peer >= sm->cfg.max_peers) {
			rc = -CN_EINVAL;
			break;
		}
		if (in->rtt_ms)
			rtt_sample(&sm->peers[in->peer], in->rtt_ms);
		if (in->rate_bytes_per_ms)
			sm->cfg.pace_bytes_per_ms = in->rate_bytes_per_ms;
		break;
	case NET_MSG_IN_PEER_RESET:
		if (in->peer >= sm->cfg.max_peers) {
			rc = -CN_EINVAL;
			break;
		}
		net_in_slots_drop(&sm->peers[in->peer].in, sm->cfg.max_incoming);
		break;
	default:
		rc = -CN_EINVAL;
	}
	out->next_timer_ms = next_timer(sm);
	return rc;
}
