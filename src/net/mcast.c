/* mcast.c — signed, relayed RaptorQ multicast (see mcast.h for the design).
 *
 * Wire format (integers big-endian), DIRECT (sender to member) and RELAY
 * (member to member) differ only in the type byte, which is not signed:
 *   type (1) | group id (8) | sender (2) | msg id (8) | OTI (12) |
 *   signature (64) | SBN (1) ESI (3) | symbol (T)
 * The payload ID sits right before the symbol so that the tail is exactly
 * the packet rq_decoder_push() takes. */
#include "net/mcast.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "base/err.h"
#include "base/prng.h"
#include "net/msg_int.h"

#define OFF_GROUP 1
#define OFF_SENDER 9
#define OFF_ID 11
#define OFF_OTI 19
#define OFF_SIG 31
#define OFF_PKT 95
#define BACKOFF_MAX_SHIFT 3

static const char DOMAIN[] = "canon-mcast-v1";

struct mout {
	int used;
	uint64_t id;
	uint8_t *data;
	struct rq_encoder *enc;
	uint32_t k, s, next_esi, esi_lim, rounds;
	uint64_t next_ms, deadline_ms;
};

struct net_mcast {
	struct net_mcast_config cfg;
	struct net_mcast_stats st;
	uint8_t (*pks)[32];
	uint8_t sk[64];
	int can_send;
	uint64_t *strikes;
	struct net_inpeer *senders;
	struct mout *outs;
	uint64_t next_id, srtt;
	uint64_t drain_us;         /* when the bytes emitted so far will have left */
	struct cn_prng prng;
	struct rq_plan_cache *cache;
};

int net_mcast_plan(uint32_t n, uint32_t k, uint32_t cp, uint64_t len, uint32_t *s_out, struct rq_oti *oti)
{
	if (n < 2 || n > NET_MCAST_MAX_MEMBERS || k >= n - 1 || len == 0 || len > NET_MSG_MAX_SIZE)
		return -CN_EINVAL;
	uint64_t h = n - 1 - k;
	uint64_t k0 = (len + NET_MCAST_T_MAX - 1) / NET_MCAST_T_MAX;
	uint64_t s = (k0 + cp + h - 1) / h;
	if (s * h <= cp)
		s = (cp + 1 + h - 1) / h;
	if ((uint64_t)s * (n - 1) > RQ_MAX_ESI / 2)
		return -CN_ELIMIT;
	int rc = net_msg_oti_for(len, NET_MCAST_T_MAX, (uint32_t)(s * h - cp), oti);
	if (rc)
		return rc;
	*s_out = (uint32_t)s;
	return 0;
}

static uint32_t esi_limit(uint32_t n, uint32_t s, uint32_t k)
{
	uint64_t lim = (uint64_t)(n - 1) * s + (uint64_t)k * 8 + 1024;
	return lim > RQ_MAX_ESI ? RQ_MAX_ESI : (uint32_t)lim;
}

int net_mcast_new(const struct net_mcast_config *cfg, struct net_mcast **out)
{
	if (!cfg || cfg->n < 2 || cfg->n > NET_MCAST_MAX_MEMBERS || cfg->k >= cfg->n - 1 ||
	    cfg->self >= cfg->n || !cfg->pks)
		return -CN_EINVAL;
	if (sodium_init() < 0)
		return -CN_ENOMEM;
	struct net_mcast *sm = calloc(1, sizeof *sm);
	if (!sm)
		return -CN_ENOMEM;
	sm->cfg = *cfg;
	struct net_mcast_config *c = &sm->cfg;
	if (!c->cp)
		c->cp = 2;
	/* As many as a sender may have in flight by default (max_outgoing):
	 * a member that turns a message away neither decodes nor relays its
	 * share, so an honest sender within its own limit must find room. */
	if (!c->max_incoming)
		c->max_incoming = 16;
	if (!c->max_outgoing)
		c->max_outgoing = 16;
	if (!c->dedup_window)
		c->dedup_window = 256;
	if (!c->rtt_ms)
		c->rtt_ms = 200;
	if (!c->incoming_timeout_ms)
		c->incoming_timeout_ms = 30000;
	if (!c->sender_mem_cap) {
		struct rq_oti oti;
		uint32_t s;
		uint64_t mem = 0;
		if (net_mcast_plan(c->n, c->k, c->cp, NET_MSG_MAX_SIZE, &s, &oti) == 0)
			rq_decoder_memory(&oti, &mem);
		c->sender_mem_cap = mem + RQ_MAX_ESI / 8 + (1u << 20);
	}
	c->pks = NULL;
	c->sk = NULL;
	sm->srtt = c->rtt_ms;
	cn_prng_seed(&sm->prng, c->seed);
	sm->next_id = cn_prng_next_u64(&sm->prng);
	sm->pks = malloc((size_t)c->n * 32);
	sm->strikes = calloc(c->n, sizeof *sm->strikes);
	sm->senders = calloc(c->n, sizeof *sm->senders);
	sm->outs = calloc(c->max_outgoing, sizeof *sm->outs);
	if (!sm->pks || !sm->strikes || !sm->senders || !sm->outs || rq_plan_cache_new(4, &sm->cache)) {
		net_mcast_free(sm);
		return -CN_ENOMEM;
	}
	memcpy(sm->pks, cfg->pks, (size_t)c->n * 32);
	if (cfg->sk) {
		memcpy(sm->sk, cfg->sk, 64);
		sm->can_send = 1;
	}
	*out = sm;
	return 0;
}

static void slot_release_decoder(struct net_inpeer *ms, struct net_inslot *sl)
{
	rq_decoder_free(sl->dec);
	sl->dec = NULL;
	uint64_t keep = sl->esi_lim / 8 + 1;
	ms->reserved -= sl->reserved - keep;
	sl->reserved = keep;
}

static void mout_free(struct mout *o)
{
	rq_encoder_free(o->enc);
	free(o->data);
	memset(o, 0, sizeof *o);
}

void net_mcast_free(struct net_mcast *sm)
{
	if (!sm)
		return;
	if (sm->senders)
		for (uint32_t i = 0; i < sm->cfg.n; i++)
			net_in_peer_free(&sm->senders[i], sm->cfg.max_incoming);
	if (sm->outs)
		for (uint32_t i = 0; i < sm->cfg.max_outgoing; i++)
			if (sm->outs[i].used)
				mout_free(&sm->outs[i]);
	free(sm->senders);
	free(sm->outs);
	free(sm->strikes);
	free(sm->pks);
	rq_plan_cache_free(sm->cache);
	sodium_memzero(sm->sk, sizeof sm->sk);
	free(sm);
}

const struct net_mcast_stats *net_mcast_stats(const struct net_mcast *sm)
{
	return &sm->st;
}

uint64_t net_mcast_peer_strikes(const struct net_mcast *sm, uint32_t peer)
{
	return peer < sm->cfg.n ? sm->strikes[peer] : 0;
}

uint64_t net_mcast_sender_reserved(const struct net_mcast *sm, uint32_t sender)
{
	return sender < sm->cfg.n ? sm->senders[sender].reserved : 0;
}

/* What the sender signs: everything in the datagram but the type byte and
 * the signature itself, with the symbol replaced by its hash. */
static void sig_digest(const uint8_t *d, size_t len, uint8_t out[32])
{
	uint8_t hsym[32];
	crypto_generichash(hsym, 32, d + OFF_PKT + RQ_PAYLOAD_ID_LEN, len - OFF_PKT - RQ_PAYLOAD_ID_LEN,
			   NULL, 0);
	crypto_generichash_state st;
	crypto_generichash_init(&st, NULL, 0, 32);
	crypto_generichash_update(&st, (const uint8_t *)DOMAIN, sizeof DOMAIN - 1);
	crypto_generichash_update(&st, d + OFF_GROUP, OFF_SIG - OFF_GROUP);
	crypto_generichash_update(&st, d + OFF_PKT, RQ_PAYLOAD_ID_LEN);
	crypto_generichash_update(&st, hsym, 32);
	crypto_generichash_final(&st, out, 32);
}

static void emit(struct net_mcast *sm, struct net_msg_out *out, uint32_t peer, uint8_t *buf, size_t len)
{
	if (!net_msg_out_push(out, NET_MSG_A_SEND, peer, 0, buf, len))
		return;
	sm->st.datagrams_out++;
	sm->st.bytes_out += len;
	net_pace_emitted(sm->cfg.pace_bytes_per_ms, &sm->drain_us, len);
}

static uint64_t pace_base(struct net_mcast *sm, uint64_t now)
{
	return net_pace_base(sm->cfg.pace_bytes_per_ms, sm->drain_us, now);
}

/* ---- sending ------------------------------------------------------------------ */

static void send_symbol(struct net_mcast *sm, struct mout *o, uint32_t member, uint32_t esi,
			struct net_msg_out *out)
{
	const struct rq_oti *oti = rq_encoder_oti(o->enc);
	size_t len = NET_MCAST_HDR + oti->t;
	uint8_t *b = malloc(len);
	if (!b) {
		out->oom = 1;
		return;
	}
	b[0] = NET_MCAST_T_DIRECT;
	store_be64(b + OFF_GROUP, sm->cfg.group_id);
	b[OFF_SENDER] = (uint8_t)(sm->cfg.self >> 8);
	b[OFF_SENDER + 1] = (uint8_t)sm->cfg.self;
	store_be64(b + OFF_ID, o->id);
	rq_oti_serialize(oti, b + OFF_OTI);
	if (rq_encoder_packet(o->enc, 0, esi, b + OFF_PKT)) {
		free(b);
		out->oom = 1;
		return;
	}
	uint8_t dig[32];
	sig_digest(b, len, dig);
	crypto_sign_detached(b + OFF_SIG, NULL, dig, 32, sm->sk);
	emit(sm, out, member, b, len);
}

/* The j-th member other than the sender. */
static uint32_t member_at(const struct net_mcast *sm, uint32_t j)
{
	return j < sm->cfg.self ? j : j + 1;
}

static int do_send(struct net_mcast *sm, uint64_t now, const struct net_mcast_input *in,
		   struct net_msg_out *out)
{
	if (!sm->can_send || !in->data || in->len == 0)
		return -CN_EINVAL;
	if (in->len > NET_MSG_MAX_SIZE)
		return -CN_ELIMIT;
	struct mout *o = NULL;
	for (uint32_t i = 0; i < sm->cfg.max_outgoing && !o; i++)
		if (!sm->outs[i].used)
			o = &sm->outs[i];
	if (!o)
		return -CN_ELIMIT;
	struct rq_oti oti;
	uint32_t s;
	int rc = net_mcast_plan(sm->cfg.n, sm->cfg.k, sm->cfg.cp, in->len, &s, &oti);
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
	o->id = sm->next_id++;
	o->k = rq_block_k(&oti, 0);
	o->s = s;
	o->esi_lim = esi_limit(sm->cfg.n, s, o->k);
	o->deadline_ms = in->deadline_ms;
	o->next_ms = 0; /* set once the burst is queued */
	if (in->msg_id_out)
		*in->msg_id_out = o->id;
	sm->st.sent_msgs++;
	/* Symbol by symbol round the members rather than share by share, so
	 * that every member can start relaying as early as possible. */
	for (uint32_t i = 0; i < s; i++)
		for (uint32_t j = 0; j < sm->cfg.n - 1; j++)
			send_symbol(sm, o, member_at(sm, j), j * s + i, out);
	o->next_esi = (sm->cfg.n - 1) * s;
	o->next_ms = pace_base(sm, now) + 3 * sm->srtt;
	return 0;
}

static void repair_round(struct net_mcast *sm, uint64_t now, struct mout *o, struct net_msg_out *out)
{
	uint32_t r = o->k / 8 + 1;
	if (r < sm->cfg.cp)
		r = sm->cfg.cp;
	for (uint32_t i = 0; i < r && o->next_esi < o->esi_lim; i++) {
		uint32_t j = (uint32_t)cn_prng_uniform(&sm->prng, sm->cfg.n - 1);
		send_symbol(sm, o, member_at(sm, j), o->next_esi++, out);
		sm->st.repair_symbols++;
	}
	o->rounds++;
	uint64_t half = sm->srtt / 2;
	unsigned shift = o->rounds < BACKOFF_MAX_SHIFT ? o->rounds : BACKOFF_MAX_SHIFT;
	o->next_ms = pace_base(sm, now) + ((half ? half : 1) << shift);
}

/* ---- receiving ------------------------------------------------------------------- */

static void strike(struct net_mcast *sm, uint32_t peer)
{
	sm->strikes[peer]++;
}

/* A slot for a new message: a free one, else the stalest decoded one (its
 * id is in the ring, so it stays deduplicated). */
static struct net_inslot *slot_alloc(struct net_mcast *sm, struct net_inpeer *ms)
{
	struct net_inslot *best = NULL;
	for (uint32_t i = 0; i < sm->cfg.max_incoming; i++) {
		struct net_inslot *sl = &ms->slots[i];
		if (!sl->used)
			return sl;
		if (sl->done && (!best || sl->last_ms < best->last_ms))
			best = sl;
	}
	if (best)
		net_in_slot_free(ms, best);
	return best;
}

static void on_symbol(struct net_mcast *sm, uint64_t now, uint32_t peer, const uint8_t *d, size_t len,
		      struct net_msg_out *out)
{
	int direct = d[0] == NET_MCAST_T_DIRECT;
	if (len < NET_MCAST_HDR + NET_MSG_AL) {
		sm->st.drop_malformed++;
		return;
	}
	if (load_be64(d + OFF_GROUP) != sm->cfg.group_id) {
		sm->st.drop_wrong_group++;
		return;
	}
	uint32_t sender = (uint32_t)d[OFF_SENDER] << 8 | d[OFF_SENDER + 1];
	if (sender >= sm->cfg.n || sender == sm->cfg.self || peer == sm->cfg.self) {
		sm->st.drop_malformed++;
		return;
	}
	if (direct && peer != sender) {
		sm->st.drop_not_sender++;
		strike(sm, peer);
		return;
	}
	uint64_t id = load_be64(d + OFF_ID);
	struct rq_oti oti, want;
	uint32_t s;
	if (net_oti_raw_f(d + OFF_OTI) > NET_MSG_MAX_SIZE) {
		sm->st.drop_oversize++;
		return;
	}
	if (rq_oti_parse(d + OFF_OTI, &oti)) {
		sm->st.drop_malformed++;
		return;
	}
	/* The OTI is a function of the length: anything else is not ours. */
	if (net_mcast_plan(sm->cfg.n, sm->cfg.k, sm->cfg.cp, oti.f, &s, &want) ||
	    want.f != oti.f || want.t != oti.t || want.z != oti.z || want.n != oti.n || want.al != oti.al) {
		sm->st.drop_inconsistent++;
		return;
	}
	uint8_t sbn;
	uint32_t esi;
	rq_payload_id_read(d + OFF_PKT, &sbn, &esi);
	uint32_t k = rq_block_k(&oti, 0);
	uint32_t lim = esi_limit(sm->cfg.n, s, k);
	if (oti.t != len - NET_MCAST_HDR || sbn != 0 || esi >= lim) {
		sm->st.drop_malformed++;
		return;
	}
	struct net_inpeer *ms = &sm->senders[sender];
	if (net_in_slots_init(ms, sm->cfg.max_incoming)) {
		out->oom = 1;
		return;
	}
	struct net_inslot *sl = NULL;
	for (uint32_t i = 0; i < sm->cfg.max_incoming && !sl; i++)
		if (ms->slots[i].used && ms->slots[i].id == id)
			sl = &ms->slots[i];
	if (sl && memcmp(sl->oti_raw, d + OFF_OTI, RQ_OTI_LEN) != 0) {
		sm->st.drop_inconsistent++;
		return;
	}
	if (!sl && net_in_ring_has(ms, id)) {
		sm->st.drop_after_decode++;
		return;
	}
	if (sl && net_in_seen(sl, esi)) {
		sm->st.drop_duplicate++;
		return;
	}
	if (sl && sl->done && !direct) {
		/* Decoded already: a relay can teach us nothing, skip the check. */
		sm->st.drop_after_decode++;
		return;
	}
	uint8_t dig[32];
	sig_digest(d, len, dig);
	if (crypto_sign_verify_detached(d + OFF_SIG, dig, 32, sm->pks[sender]) != 0) {
		sm->st.drop_forged++;
		strike(sm, peer);
		return;
	}
	sm->st.verified++;
	if (!sl) {
		uint64_t mem;
		if (net_in_slot_mem(&oti, lim, &mem)) {
			sm->st.drop_malformed++;
			return;
		}
		struct net_inslot *cand = NULL;
		for (uint32_t i = 0; i < sm->cfg.max_incoming && !cand; i++)
			if (!ms->slots[i].used || ms->slots[i].done)
				cand = &ms->slots[i];
		if (!cand) {
			sm->st.refused_busy++;
			return;
		}
		sl = slot_alloc(sm, ms);
		if (ms->reserved + mem > sm->cfg.sender_mem_cap) {
			sm->st.refused_memory++;
			return;
		}
		if (net_in_slot_open(ms, sl, &oti, d + OFF_OTI, id, lim, mem)) {
			out->oom = 1;
			return;
		}
	}
	sl->last_ms = now;
	net_in_mark_seen(sl, esi);
	if (direct) {
		for (uint32_t m = 0; m < sm->cfg.n; m++) {
			if (m == sm->cfg.self || m == sender)
				continue;
			uint8_t *b = malloc(len);
			if (!b) {
				out->oom = 1;
				break;
			}
			memcpy(b, d, len);
			b[0] = NET_MCAST_T_RELAY;
			emit(sm, out, m, b, len);
			sm->st.relayed++;
		}
	}
	if (sl->done)
		return;
	if (rq_decoder_push(sl->dec, d + OFF_PKT, len - OFF_PKT)) {
		sm->st.drop_malformed++;
		return;
	}
	if (!rq_decoder_complete(sl->dec))
		return;
	/* Counted once the copy is made, even if the list could not take it. */
	if (net_in_deliver(sl, sender, out))
		sm->st.delivered++;
	net_in_ring_add(ms, sm->cfg.dedup_window, id);
	sl->done = 1;
	slot_release_decoder(ms, sl);
}

/* ---- timers and the step ---------------------------------------------------------- */

static void on_timer(struct net_mcast *sm, uint64_t now, struct net_msg_out *out)
{
	for (uint32_t i = 0; i < sm->cfg.max_outgoing; i++) {
		struct mout *o = &sm->outs[i];
		if (!o->used)
			continue;
		if (now >= o->deadline_ms) {
			struct net_msg_action *a = net_msg_out_push(out, NET_MSG_A_FAILED, sm->cfg.self, o->id, NULL, 0);
			if (a)
				a->err = -CN_ELIMIT;
			sm->st.failed_msgs++;
			mout_free(o);
		} else if (now >= o->next_ms) {
			repair_round(sm, now, o, out);
		}
	}
	for (uint32_t i = 0; i < sm->cfg.n; i++)
		sm->st.expired_incoming +=
			net_in_expire(&sm->senders[i], sm->cfg.max_incoming, now, sm->cfg.incoming_timeout_ms);
}

static uint64_t next_timer(const struct net_mcast *sm)
{
	uint64_t t = UINT64_MAX;
	for (uint32_t i = 0; i < sm->cfg.max_outgoing; i++) {
		const struct mout *o = &sm->outs[i];
		if (o->used) {
			if (o->next_ms < t)
				t = o->next_ms;
			if (o->deadline_ms < t)
				t = o->deadline_ms;
		}
	}
	for (uint32_t i = 0; i < sm->cfg.n; i++)
		t = net_in_next_expiry(&sm->senders[i], sm->cfg.max_incoming, sm->cfg.incoming_timeout_ms, t);
	return t;
}

int net_mcast_step(struct net_mcast *sm, uint64_t now, const struct net_mcast_input *in, struct net_msg_out *out)
{
	int rc = 0;
	net_pace_now(sm->cfg.pace_bytes_per_ms, &sm->drain_us, now);
	switch (in->kind) {
	case NET_MCAST_IN_SEND:
		rc = do_send(sm, now, in, out);
		break;
	case NET_MCAST_IN_DATAGRAM:
		if (in->peer >= sm->cfg.n) {
			rc = -CN_EINVAL;
			break;
		}
		sm->st.datagrams_in++;
		if (!in->data || in->len == 0)
			sm->st.drop_malformed++;
		else if (in->data[0] == NET_MCAST_T_DIRECT || in->data[0] == NET_MCAST_T_RELAY)
			on_symbol(sm, now, in->peer, in->data, in->len, out);
		else
			sm->st.drop_malformed++;
		break;
	case NET_MCAST_IN_TIMER:
		on_timer(sm, now, out);
		break;
	case NET_MCAST_IN_QUORUM:
		for (uint32_t i = 0; i < sm->cfg.max_outgoing; i++)
			if (sm->outs[i].used && sm->outs[i].id == in->msg_id) {
				net_msg_out_push(out, NET_MSG_A_SENT, sm->cfg.self, in->msg_id, NULL, 0);
				sm->st.quorum_msgs++;
				mout_free(&sm->outs[i]);
				break;
			}
		break;
	case NET_MCAST_IN_RTT:
		if (in->rtt_ms)
			sm->srtt = (sm->srtt * 7 + in->rtt_ms) / 8;
		if (in->rate_bytes_per_ms)
			sm->cfg.pace_bytes_per_ms = in->rate_bytes_per_ms;
		if (!sm->srtt)
			sm->srtt = 1;
		break;
	default:
		rc = -CN_EINVAL;
	}
	out->next_timer_ms = next_timer(sm);
	return rc;
}
