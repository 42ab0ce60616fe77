/* msg_int.h — the receive and pacing machinery that unicast (msg.c) and
 * multicast (mcast.c) share (not public).
 *
 * Both layers rebuild messages from RaptorQ symbols that arrive from a
 * source (a peer, or a multicast sender) in per-source slots: one decoder
 * per partial message, a bitmap of the ESIs seen, the decoder bytes reserved
 * up front and charged to the source, and a ring of recently delivered ids
 * so a message is delivered once. They differ in what they do around it
 * (acknowledging, relaying, signature checks, which slot to give up), so the
 * policy stays in each file and only the bookkeeping lives here. */
#ifndef CANON_NET_MSG_INT_H
#define CANON_NET_MSG_INT_H

#include <stddef.h>
#include <stdint.h>

#include "fec/raptorq.h"
#include "net/msg.h"

struct net_inslot {
	int used;
	int done;                  /* decoded; kept only to drop late symbols (mcast) */
	uint64_t id;
	uint8_t oti_raw[RQ_OTI_LEN];
	struct rq_decoder *dec;
	uint8_t *seen;             /* one bit per ESI below esi_lim */
	uint32_t esi_lim;
	uint64_t reserved;
	uint64_t last_ms;
};

struct net_inpeer {
	struct net_inslot *slots;  /* NULL until the source first sends to us */
	uint64_t *ring;            /* recently delivered ids */
	uint32_t ring_n, ring_pos;
	uint64_t reserved;         /* sum of the slots' reserved bytes */
};

/* Appends an action; data (may be NULL) passes to the list. On failure the
 * data is freed and out->oom set, so callers need not check. */
struct net_msg_action *net_msg_out_push(struct net_msg_out *out, enum net_msg_action_kind kind,
					uint32_t peer, uint64_t id, uint8_t *data, size_t len);

/* The transfer length of a raw OTI (40 bits, RFC 6330 3.3.2), read before
 * the OTI is checked so that oversize announcements are told apart. */
uint64_t net_oti_raw_f(const uint8_t *p);

/* Pacing: *drain_us is when the bytes emitted so far will have left at rate
 * bytes/ms (0: unknown, no pacing). */
void net_pace_now(uint64_t rate, uint64_t *drain_us, uint64_t now_ms);
void net_pace_emitted(uint64_t rate, uint64_t *drain_us, size_t len);
/* Timers count from when our queued bytes are out (see msg.h). */
uint64_t net_pace_base(uint64_t rate, uint64_t drain_us, uint64_t now_ms);

/* Allocates p->slots (nslots) if not yet done; -CN_ENOMEM on failure. */
int net_in_slots_init(struct net_inpeer *p, uint32_t nslots);
int net_in_ring_has(const struct net_inpeer *p, uint64_t id);
void net_in_ring_add(struct net_inpeer *p, uint32_t window, uint64_t id);
/* Frees a slot's decoder and bitmap and returns its bytes to p. */
void net_in_slot_free(struct net_inpeer *p, struct net_inslot *s);
/* Frees every used slot (the source's session was replaced). */
void net_in_slots_drop(struct net_inpeer *p, uint32_t nslots);
/* Frees everything p holds. */
void net_in_peer_free(struct net_inpeer *p, uint32_t nslots);
/* Bytes a new slot for oti reserves: the decoder's worst case plus the
 * bitmap for lim ESIs. -CN_EINVAL when the decoder refuses the OTI. */
int net_in_slot_mem(const struct rq_oti *oti, uint32_t lim, uint64_t *mem);
/* Opens the unused slot s for message id (raw OTI oti_raw) reserving mem
 * bytes (from net_in_slot_mem) against p; -CN_ENOMEM leaves s unused. */
int net_in_slot_open(struct net_inpeer *p, struct net_inslot *s, const struct rq_oti *oti,
		     const uint8_t *oti_raw, uint64_t id, uint32_t lim, uint64_t mem);
int net_in_seen(const struct net_inslot *s, uint32_t esi);
void net_in_mark_seen(struct net_inslot *s, uint32_t esi);
/* Once s's decoder is complete: copies the object out as a DELIVER action
 * from peer. Returns 1 if the action was recorded, 2 if the copy was made but
 * the list could not take it, 0 otherwise (out->oom set on any failure). */
int net_in_deliver(struct net_inslot *s, uint32_t peer, struct net_msg_out *out);
/* Frees the slots idle since timeout_ms before now; returns how many of them
 * were still being decoded. */
uint64_t net_in_expire(struct net_inpeer *p, uint32_t nslots, uint64_t now, uint64_t timeout_ms);
/* The earliest expiry of p's slots, or t if that is sooner. */
uint64_t net_in_next_expiry(const struct net_inpeer *p, uint32_t nslots, uint64_t timeout_ms, uint64_t t);

#endif
