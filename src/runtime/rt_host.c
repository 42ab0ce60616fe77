/* rt_host.c — one node's transport: rt_msg + gossip + streams + bootnode. */
#include "runtime/rt_host.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "base/bytes.h"
#include "base/err.h"
#include "base/log.h"
#include "base/metrics.h"
#include "base/prng.h"
#include "net/boot.h"
#include "net/mcast.h"
#include "net/stream.h"
#include "runtime/rt_msg.h"

#define TICK_MS 50
#define LOOKUP_FAST_MS 2000
#define LOOKUP_SLOW_MS 30000
#define WANT_PEERS 8               /* per topic, before lookups slow down */
#define MSG_DEADLINE_MS 60000      /* a net_msg message gives up after this */
#define REGISTER_RETRY_MS 2000     /* no OBSERVED yet: register again */
#define DIAL_RETRY_MS 5000         /* the same peer is not dialled more often */
#define BACKLOG_MAX_BYTES (256u << 20)
#define MAX_TOPICS 32
#define MAX_SERVE 32

/* Multicast group announcement, carried as one net_msg message ahead of the
 * symbols: type(1) | group id(8) | k(4) | n(4) | n x Ed25519 pk(32). The
 * type sits beside net_msg's and mcast's own (0x01..0x12). */
#define HOST_T_MCAST_GROUP 0x13
/* 0x14 | instance(8): sent when a session comes up (and to open one). The
 * instance number is random per process start, so a peer that restarted
 * with the same key — which the endpoint takes for a rekey, with no
 * CLOSED/ESTABLISHED — is recognised and its gossip and stream state reset. */
#define HOST_T_HELLO 0x14
/* Several frames in one message: 0x15 | n x (len(4) | frame). */
#define HOST_T_BUNDLE 0x15
#define MCAST_GROUPS 16

/* Messages each peer has in flight at once. net_msg keeps repairing every
 * unacknowledged message on its own timer; with no window a burst of
 * hundreds of messages to a busy receiver turns into a storm of repair
 * symbols that keeps it busy (a collapse measured at 150 000 repair symbols
 * for 300 messages between two processes). The receiver also takes only a
 * few partial messages per peer at a time (net_msg max_incoming, 8). */
#define PEER_WINDOW_MSGS 16
#define PEER_WINDOW_BYTES (256u << 10)
#define RTT_FLOOR_MS 20

struct hpeer {
	int used;
	int is_boot;
	int up;                     /* session established */
	int gossip_up;              /* gossip_peer_up called, not yet down */
	int have_pk;
	uint8_t pk[NET_PK_LEN];
	uint64_t cool_until;
	uint64_t last_dial_ms;
	uint64_t last_connect_ms;   /* CONNECT through a bootnode */
	uint64_t instance;          /* from the peer's HELLO; 0: none yet */
	int hello_sent;             /* our HELLO went first on this session */
	uint32_t inflight;          /* net_msg messages not yet acknowledged or failed */
	uint64_t fl_id[PEER_WINDOW_MSGS];   /* their ids and sizes */
	uint32_t fl_len[PEER_WINDOW_MSGS];
	size_t fl_bytes;
	struct backlog *q_head, **q_tail;   /* frames waiting for the window */
};

struct backlog {
	struct backlog *next;
	uint32_t peer;
	size_t len;
	uint8_t data[];
};

struct serve {
	char proto[STREAM_PROTO_MAX + 1];
	uint32_t index;
	rt_host_serve_fn fn;
	void *ctx;
};

struct ostream {                    /* a stream we opened, reused per (peer, proto) */
	struct ostream *next;
	uint32_t peer, handle;
	char proto[STREAM_PROTO_MAX + 1];
};

struct pending {
	struct pending *next;
	uint32_t peer, stream, req_id;
	rt_host_response_fn fn;
	void *ctx;
};

struct rt_host_req {
	struct rt_host *h;
	uint32_t peer, stream, req_id;
	int answered;
};

struct mgroup {
	int used;
	uint64_t gid;
	uint32_t n;
	uint32_t *peer_of;          /* member index -> rt_msg peer index (UINT32_MAX: us) */
	uint8_t (*ids)[32];
	struct net_mcast *mc;
	uint64_t last_used_ms;
};

/* A multicast symbol for a group we do not know yet: the announcement is a
 * net_msg message and symbols are single datagrams, so symbols often
 * overtake it. They wait here (bounded) and are replayed when the group is
 * made; the sender's repair rounds cover any that do not fit. */
struct mpending {
	struct mpending *next;
	uint32_t peer;
	uint64_t at_ms;
	size_t len;
	uint8_t data[];
};
#define MPENDING_MAX_BYTES (8u << 20)
#define MPENDING_MS 5000

struct host_metrics {
	struct cn_metric_child *peers, *rtt, *boot_entries, *cwnd;
	struct cn_metric_child *dgrams_in, *dgrams_out, *bytes_in, *bytes_out, *dropped, *test_dropped;
	uint64_t last[6];
};

struct rt_host {
	uv_loop_t *loop;
	struct rt_host_callbacks cb;
	void *ctx;
	int serve_bootnode;
	uint32_t max_peers, table_peers;
	struct net_identity id;
	struct net_endpoint *ep;
	struct rt_msg rm;
	int rm_started;
	struct gossip *g;
	struct stream *st;
	struct boot_server *bs;
	uv_timer_t tick;
	int tick_started;
	int closing;
	struct hpeer *peers;        /* by rt_msg peer index */
	struct net_locator own;
	struct net_addr local;
	uint64_t gossip_due, stream_due, boot_due;

	size_t n_boot;
	uint32_t *boot_idx;
	uint64_t register_due, lookup_due;
	uint32_t register_ttl_ms;
	uint32_t lookup_req;

	char topics[MAX_TOPICS][GOSSIP_TOPIC_MAX + 1];
	size_t n_topics;

	struct serve serves[MAX_SERVE];
	size_t n_serves;
	struct ostream *ostreams;
	struct pending *pending;

	size_t bl_bytes;            /* bytes waiting in every peer's queue */

	struct mgroup groups[MCAST_GROUPS];
	struct mpending *mp_head;
	size_t mp_bytes;
	struct cn_prng rng;
	uint64_t instance;

	struct rt_host_stats st_;
	struct host_metrics m;
	int have_metrics;
};

/* ---- addresses ------------------------------------------------------------ */

int rt_host_parse_address(const char *s, uint8_t pk[NET_PK_LEN], struct net_addr *addr)
{
	const char *at = strchr(s, '@');
	size_t n;
	if (!at || at - s != 2 * NET_PK_LEN)
		return -CN_EINVAL;
	if (hex_decode(s, 2 * NET_PK_LEN, pk, NET_PK_LEN, &n) != 0 || n != NET_PK_LEN)
		return -CN_EINVAL;
	return rt_addr_parse(at + 1, addr);
}

int rt_host_address(const struct rt_host *h, char *out, size_t cap)
{
	char hex[2 * NET_PK_LEN + 1], a[64];
	hex_encode(h->id.pk, NET_PK_LEN, hex);
	net_addr_format(&h->local, a, sizeof a);
	int n = snprintf(out, cap, "%s@%s", hex, a);
	return n < 0 || (size_t)n >= cap ? -CN_ERANGE : 0;
}

const uint8_t *rt_host_node_id(const struct rt_host *h)
{
	return h->id.node_id;
}

/* ---- sending ---------------------------------------------------------------- */

/* Frames queued for one peer leave together as one BUNDLE message of up
 * to this many bytes: every net_msg message costs at least its first burst
 * and an ACK, and gossip emits many small frames (IHAVE, IWANT, relays). */
#define BUNDLE_MAX (64u << 10)

static void drop_head(struct rt_host *h, struct hpeer *p)
{
	struct backlog *b = p->q_head;
	p->q_head = b->next;
	if (!p->q_head)
		p->q_tail = &p->q_head;
	h->bl_bytes -= b->len;
	free(b);
}

static void drain_peer(struct rt_host *h, uint32_t peer)
{
	struct hpeer *p = &h->peers[peer];
	while (p->q_head && p->inflight < PEER_WINDOW_MSGS && !h->closing) {
		/* How many queued frames fit in one bundle. */
		size_t n = 0, total = 1;
		for (struct backlog *b = p->q_head; b && (n == 0 || total + 4 + b->len <= BUNDLE_MAX); b = b->next)
			n++, total += 4 + b->len;
		const uint8_t *data = p->q_head->data;
		size_t len = p->q_head->len;
		uint8_t *bundle = NULL;
		if (n > 1 && (bundle = malloc(total)) != NULL) {
			size_t at = 1;
			bundle[0] = HOST_T_BUNDLE;
			struct backlog *b = p->q_head;
			for (size_t i = 0; i < n; i++, b = b->next) {
				store_be32(bundle + at, (uint32_t)b->len);
				memcpy(bundle + at + 4, b->data, b->len);
				at += 4 + b->len;
			}
			data = bundle;
			len = total;
		} else {
			n = 1;
		}
		/* A window in bytes as well: the bursts of every peer must fit in
		 * the receiver's socket buffer, or the kernel drops them and the
		 * repairs that follow make it worse. A message bigger than the
		 * window goes alone. */
		if (p->fl_bytes && p->fl_bytes + len > PEER_WINDOW_BYTES) {
			free(bundle);
			return;
		}
		uint64_t id;
		int rc = rt_msg_send(&h->rm, peer, data, len, rt_now_ms() + MSG_DEADLINE_MS, &id);
		free(bundle);
		if (rc == -CN_ELIMIT)
			return;            /* net_msg's global table is full: wait for any result */
		if (rc == 0) {
			p->fl_id[p->inflight] = id;
			p->fl_len[p->inflight] = (uint32_t)len;
			p->fl_bytes += len;
			p->inflight++;
			h->st_.msgs_out++;
		}
		while (n--)
			drop_head(h, p);
	}
}

static void drain_backlog(struct rt_host *h)
{
	for (uint32_t i = 0; i < h->table_peers && !h->closing; i++)
		if (h->peers[i].q_head)
			drain_peer(h, i);
}

/* One frame as one net_msg message, queued behind the peer's window. Frames
 * over the backlog cap are dropped, which gossip and streams tolerate
 * (IWANT, timeouts). */
static void host_send(struct rt_host *h, uint32_t peer, const uint8_t *data, size_t len)
{
	if (h->closing || peer >= h->table_peers)
		return;
	struct hpeer *p = &h->peers[peer];
	if (!p->hello_sent) {
		/* Our HELLO is the first frame of every session, so that a peer
		 * sees a restart before it sees what we say after it. */
		uint8_t f[9] = {HOST_T_HELLO};
		p->hello_sent = 1;
		store_be64(f + 1, h->instance);
		host_send(h, peer, f, sizeof f);
	}
	if (len == 0)
		return;            /* only the HELLO was asked for */
	if (len > NET_MSG_MAX_SIZE || h->bl_bytes + len > BACKLOG_MAX_BYTES) {
		cn_log_debug("rt_host: frame of %zu bytes to peer %u dropped: backlog full", len, peer);
		return;
	}
	struct backlog *b = malloc(sizeof *b + len);
	if (!b)
		return;
	b->next = NULL;
	b->peer = peer;
	b->len = len;
	memcpy(b->data, data, len);
	if (!p->q_head)
		p->q_tail = &p->q_head;
	*p->q_tail = b;
	p->q_tail = &b->next;
	h->bl_bytes += len;
	drain_peer(h, peer);
}

/* ---- peers ------------------------------------------------------------------ */

static int peer_index(struct rt_host *h, const uint8_t id[32], uint32_t *idx)
{
	int rc = rt_msg_peer(&h->rm, id, idx);
	if (rc)
		return rc;
	h->peers[*idx].used = 1;
	return 0;
}

static const uint8_t *peer_id(struct rt_host *h, uint32_t idx)
{
	return rt_msg_peer_id(&h->rm, idx);
}

static size_t live_peers(const struct rt_host *h)
{
	size_t n = 0;
	for (uint32_t i = 0; i < h->table_peers; i++)
		if (h->peers[i].up && !h->peers[i].is_boot)
			n++;
	return n;
}

size_t rt_host_peer_count(struct rt_host *h)
{
	return live_peers(h);
}

static void process_gossip(struct rt_host *h, struct gossip_out *out);

static void gossip_up(struct rt_host *h, uint32_t idx)
{
	struct hpeer *p = &h->peers[idx];
	if (p->gossip_up || p->is_boot)
		return;
	struct gossip_out out;
	gossip_out_init(&out);
	if (gossip_peer_up(h->g, rt_now_ms(), idx, &out) == 0)
		p->gossip_up = 1;
	process_gossip(h, &out);
	gossip_out_free(&out);
}

/* Opens a session to a node we learned of (a lookup result or a CONNECT_FROM)
 * by sending it our subscriptions, which starts the handshake. */
static void dial(struct rt_host *h, const struct boot_entry *e)
{
	uint8_t id[32];
	uint32_t idx;
	net_node_id(e->loc.pk, id);
	if (!memcmp(id, h->id.node_id, 32))
		return;
	uint64_t now = rt_now_ms();
	if (peer_index(h, id, &idx) != 0)
		return;
	struct hpeer *p = &h->peers[idx];
	memcpy(p->pk, e->loc.pk, NET_PK_LEN);
	p->have_pk = 1;
	if (p->up || p->is_boot || now < p->cool_until || now - p->last_dial_ms < DIAL_RETRY_MS)
		return;
	if (live_peers(h) >= h->max_peers)
		return;
	p->last_dial_ms = now;
	/* The observed address first: it is where the node's packets came from,
	 * which beats a private address in its record behind a NAT. */
	net_endpoint_add_peer(h->ep, &e->loc);
	net_endpoint_add_peer_addr(h->ep, e->loc.pk, &e->observed);
	gossip_up(h, idx);
}

static void peer_event(struct rt_host *h, uint32_t idx, int up)
{
	if (h->cb.peer && !h->peers[idx].is_boot)
		h->cb.peer(h->ctx, peer_id(h, idx), up);
}

static void process_stream(struct rt_host *h, struct stream_out *out);

static void on_session(void *ctx, struct rt_net *rt, const struct net_action *a, const uint8_t *data,
		       size_t len)
{
	struct rt_host *h = ctx;
	uint32_t idx;
	uint64_t now = rt_now_ms();
	if (h->closing || peer_index(h, a->peer, &idx) != 0)
		return;
	struct hpeer *p = &h->peers[idx];
	switch (a->kind) {
	case NET_ACT_ESTABLISHED:
		if (now < p->cool_until) {
			h->st_.refused_cooling++;
			rt_net_close_peer(&h->rm.net, a->peer);
			return;
		}
		/* A HELLO on every new session, even for a peer we hold as up:
		 * the session may be a restarted peer's, which must learn our
		 * instance to notice our own restarts later. */
		p->hello_sent = 0;
		host_send(h, idx, NULL, 0);
		if (!p->up) {
			p->up = 1;
			gossip_up(h, idx);
			peer_event(h, idx, 1);
		}
		break;
	case NET_ACT_CLOSED: {
		int was_up = p->up;
		p->up = 0;
		p->hello_sent = 0;
		if (p->gossip_up) {
			gossip_peer_down(h->g, now, idx);
			p->gossip_up = 0;
		}
		struct stream_out so;
		stream_out_init(&so);
		stream_peer_down(h->st, now, idx, &so);
		process_stream(h, &so);
		stream_out_free(&so);
		if (was_up)
			peer_event(h, idx, 0);
		/* A node we could not reach directly: ask a bootnode to make it
		 * dial us too (both sides initiating opens most NATs). */
		if (a->reason == NET_CLOSE_HANDSHAKE_TIMEOUT && !p->is_boot && h->n_boot &&
		    now - p->last_connect_ms >= DIAL_RETRY_MS) {
			uint8_t f[64];
			size_t n;
			p->last_connect_ms = now;
			if (boot_encode_connect(a->peer, f, sizeof f, &n) == 0)
				host_send(h, h->boot_idx[0], f, n);
		}
		break;
	}
	case NET_ACT_PEER_LOCATOR: {
		struct net_locator rec;
		if (net_locator_decode(&rec, data, len) == 0) {
			memcpy(p->pk, rec.pk, NET_PK_LEN);
			p->have_pk = 1;
		}
		break;
	}
	default:
		break;
	}
}

/* ---- gossip ------------------------------------------------------------------ */

static enum gossip_verdict gossip_validate(void *ctx, const char *topic, uint32_t from, const uint8_t *data,
					   size_t len)
{
	struct rt_host *h = ctx;
	const uint8_t *id = peer_id(h, from);
	if (!h->cb.validate || !id)
		return id ? GOSSIP_ACCEPT : GOSSIP_IGNORE;
	return h->cb.validate(h->ctx, topic, id, data, len);
}

static void process_gossip(struct rt_host *h, struct gossip_out *out)
{
	for (size_t i = 0; i < out->n && !h->closing; i++) {
		const struct gossip_action *a = &out->a[i];
		const uint8_t *id = peer_id(h, a->peer);
		if (!id)
			continue;
		switch (a->kind) {
		case GOSSIP_A_SEND:
			host_send(h, a->peer, a->data, a->len);
			break;
		case GOSSIP_A_DELIVER:
			if (h->cb.deliver)
				h->cb.deliver(h->ctx, a->topic, id, a->data, a->len);
			break;
		case GOSSIP_A_DISCONNECT: {
			char tag[NET_TAG_CHARS + 1];
			net_node_tag(id, tag);
			cn_log_warn("rt_host: peer %s disconnected by gossip score, cooled down", tag);
			h->peers[a->peer].cool_until = a->until_ms;
			rt_net_close_peer(&h->rm.net, id);
			break;
		}
		}
	}
	if (out->next_timer_ms < h->gossip_due || h->gossip_due <= rt_now_ms())
		h->gossip_due = out->next_timer_ms;
}

int rt_host_subscribe(struct rt_host *h, const char *topic)
{
	if (!gossip_topic_valid(topic, strlen(topic)))
		return -CN_EINVAL;
	for (size_t i = 0; i < h->n_topics; i++)
		if (!strcmp(h->topics[i], topic))
			return 0;
	if (h->n_topics == MAX_TOPICS || h->n_topics == BOOT_MAX_TOPICS)
		return -CN_ELIMIT;
	struct gossip_out out;
	gossip_out_init(&out);
	int rc = gossip_subscribe(h->g, rt_now_ms(), topic, &out);
	process_gossip(h, &out);
	gossip_out_free(&out);
	if (rc)
		return rc;
	strcpy(h->topics[h->n_topics++], topic);
	/* Register the new topic and look it up right away. */
	h->register_due = h->lookup_due = 0;
	return 0;
}

int rt_host_publish(struct rt_host *h, const char *topic, const uint8_t *data, size_t len)
{
	if (h->closing)
		return -CN_ESTATE;
	struct gossip_out out;
	gossip_out_init(&out);
	int rc = gossip_publish(h->g, rt_now_ms(), topic, data, len, &out);
	process_gossip(h, &out);
	gossip_out_free(&out);
	return rc;
}

size_t rt_host_topic_peers(struct rt_host *h, const char *topic, uint8_t (*ids)[32], size_t cap)
{
	uint32_t *p = calloc(h->table_peers ? h->table_peers : 1, sizeof *p);
	if (!p)
		return 0;
	size_t n = gossip_topic_peers(h->g, topic, p, h->table_peers), k = 0;
	for (size_t i = 0; i < n && k < cap; i++) {
		const uint8_t *id = peer_id(h, p[i]);
		if (id)
			memcpy(ids[k++], id, 32);
	}
	free(p);
	return k;
}

/* ---- streams -------------------------------------------------------------------- */

static void finish_pending(struct rt_host *h, uint32_t peer, uint32_t stream, int all_of_stream,
			   uint32_t req_id, int err, int status, const uint8_t *data, size_t len)
{
	struct pending **pp = &h->pending, *q;
	while ((q = *pp) != NULL) {
		if (q->peer != peer || q->stream != stream || (!all_of_stream && q->req_id != req_id)) {
			pp = &q->next;
			continue;
		}
		*pp = q->next;
		q->fn(q->ctx, err, status, data, len);
		free(q);
		if (!all_of_stream)
			return;
	}
}

static void forget_ostream(struct rt_host *h, uint32_t peer, uint32_t handle)
{
	struct ostream **pp = &h->ostreams, *o;
	while ((o = *pp) != NULL) {
		if (o->peer == peer && o->handle == handle) {
			*pp = o->next;
			free(o);
			return;
		}
		pp = &o->next;
	}
}

int rt_host_reply(struct rt_host_req *r, int status, const uint8_t *data, size_t len)
{
	if (r->answered)
		return -CN_ESTATE;
	r->answered = 1;
	struct stream_out out;
	stream_out_init(&out);
	int rc = stream_respond(r->h->st, rt_now_ms(), r->peer, r->stream, r->req_id, status, data, len, &out);
	process_stream(r->h, &out);
	stream_out_free(&out);
	return rc;
}

static void process_stream(struct rt_host *h, struct stream_out *out)
{
	for (size_t i = 0; i < out->n && !h->closing; i++) {
		const struct stream_action *a = &out->a[i];
		switch (a->kind) {
		case STREAM_A_SEND:
			host_send(h, a->peer, a->data, a->len);
			break;
		case STREAM_A_OPENED:
			break;
		case STREAM_A_OPEN_FAILED:
			forget_ostream(h, a->peer, a->stream);
			finish_pending(h, a->peer, a->stream, 1, 0, a->err ? a->err : -CN_ECLOSED, 0, NULL, 0);
			break;
		case STREAM_A_CLOSED:
			forget_ostream(h, a->peer, a->stream);
			finish_pending(h, a->peer, a->stream, 1, 0, a->err ? a->err : -CN_ECLOSED, 0, NULL, 0);
			break;
		case STREAM_A_RESPONSE:
			finish_pending(h, a->peer, a->stream, 0, a->req_id, 0, a->status, a->data, a->len);
			break;
		case STREAM_A_FAILED:
			finish_pending(h, a->peer, a->stream, 0, a->req_id, a->err ? a->err : -CN_ECLOSED, 0,
				       NULL, 0);
			break;
		case STREAM_A_REQUEST: {
			struct rt_host_req r = {h, a->peer, a->stream, a->req_id, 0};
			const uint8_t *id = peer_id(h, a->peer);
			for (size_t k = 0; k < h->n_serves && id; k++)
				if (h->serves[k].index == a->proto_index) {
					h->serves[k].fn(h->serves[k].ctx, id, a->data, a->len, &r);
					break;
				}
			/* The contract is a synchronous answer; a server that gave
			 * none still owes the client one, or it waits for its timeout. */
			if (!r.answered && !h->closing)
				rt_host_reply(&r, -1, NULL, 0);
			break;
		}
		}
	}
	if (out->next_timer_ms < h->stream_due || h->stream_due <= rt_now_ms())
		h->stream_due = out->next_timer_ms;
}

int rt_host_serve(struct rt_host *h, const char *proto, rt_host_serve_fn fn, void *ctx)
{
	if (!fn || !proto || strlen(proto) > STREAM_PROTO_MAX)
		return -CN_EINVAL;
	if (h->n_serves == MAX_SERVE)
		return -CN_ELIMIT;
	struct serve *s = &h->serves[h->n_serves];
	int rc = stream_register(h->st, proto, &s->index);
	if (rc)
		return rc;
	strcpy(s->proto, proto);
	s->fn = fn;
	s->ctx = ctx;
	h->n_serves++;
	return 0;
}

int rt_host_request(struct rt_host *h, const uint8_t peer[32], const char *proto, const uint8_t *req,
		    size_t len, uint64_t timeout_ms, rt_host_response_fn fn, void *ctx)
{
	if (h->closing)
		return -CN_ESTATE;
	if (!fn || !proto || strlen(proto) > STREAM_PROTO_MAX || !memcmp(peer, h->id.node_id, 32))
		return -CN_EINVAL;
	struct net_session_info info;
	if (net_endpoint_session(h->ep, peer, &info) != 0)
		return -CN_ENOTFOUND;
	uint32_t idx;
	int rc = peer_index(h, peer, &idx);
	if (rc)
		return rc;
	uint64_t now = rt_now_ms();
	struct stream_out out;
	stream_out_init(&out);
	struct ostream *o;
	for (o = h->ostreams; o; o = o->next)
		if (o->peer == idx && !strcmp(o->proto, proto))
			break;
	if (!o) {
		if (!(o = calloc(1, sizeof *o))) {
			rc = -CN_ENOMEM;
			goto done;
		}
		if ((rc = stream_open(h->st, now, idx, proto, &o->handle, &out)) != 0) {
			free(o);
			goto done;
		}
		o->peer = idx;
		strcpy(o->proto, proto);
		o->next = h->ostreams;
		h->ostreams = o;
	}
	struct pending *q = calloc(1, sizeof *q);
	if (!q) {
		rc = -CN_ENOMEM;
		goto done;
	}
	if ((rc = stream_request_timeout(h->st, now, idx, o->handle, req, len, timeout_ms, &q->req_id, &out)) != 0) {
		free(q);
		goto done;
	}
	q->peer = idx;
	q->stream = o->handle;
	q->fn = fn;
	q->ctx = ctx;
	q->next = h->pending;
	h->pending = q;
done:
	process_stream(h, &out);
	stream_out_free(&out);
	return rc;
}

/* ---- bootnode ------------------------------------------------------------------- */

static void send_register(struct rt_host *h)
{
	uint8_t f[BOOT_ADDR_LEN + NET_LOCATOR_MAX_LEN + 1 + BOOT_MAX_TOPICS * (1 + BOOT_TOPIC_MAX) + 8];
	const char *t[BOOT_MAX_TOPICS];
	size_t n;
	for (size_t i = 0; i < h->n_topics && i < BOOT_MAX_TOPICS; i++)
		t[i] = h->topics[i];
	if (boot_encode_register(&h->own, t, h->n_topics < BOOT_MAX_TOPICS ? h->n_topics : BOOT_MAX_TOPICS,
				 f, sizeof f, &n) != 0)
		return;
	for (size_t i = 0; i < h->n_boot; i++)
		host_send(h, h->boot_idx[i], f, n);
}

static size_t topic_peer_count(struct rt_host *h, const char *topic)
{
	uint32_t p[WANT_PEERS];
	return gossip_topic_peers(h->g, topic, p, WANT_PEERS);
}

static void boot_tasks(struct rt_host *h, uint64_t now)
{
	if (!h->n_boot)
		return;
	if (now >= h->register_due) {
		send_register(h);
		h->register_due = now + (h->register_ttl_ms ? h->register_ttl_ms / 3 : REGISTER_RETRY_MS);
	}
	if (now >= h->lookup_due && h->n_topics) {
		int hungry = 0;
		for (size_t i = 0; i < h->n_topics; i++) {
			if (topic_peer_count(h, h->topics[i]) >= WANT_PEERS)
				continue;
			hungry = 1;
			uint8_t f[16 + BOOT_TOPIC_MAX];
			size_t n;
			if (boot_encode_lookup_topic(++h->lookup_req, h->topics[i], BOOT_MAX_RESULTS, f, sizeof f,
						     &n) == 0)
				for (size_t b = 0; b < h->n_boot; b++)
					host_send(h, h->boot_idx[b], f, n);
		}
		h->lookup_due = now + (hungry ? LOOKUP_FAST_MS : LOOKUP_SLOW_MS);
	}
}

/* A new observed address goes first in our record: it is how others see us. */
static void learn_observed(struct rt_host *h, const struct net_addr *seen)
{
	for (unsigned i = 0; i < h->own.n_addrs; i++)
		if (net_addr_equal(&h->own.addrs[i], seen))
			return;
	struct net_locator rec = h->own;
	unsigned n = rec.n_addrs < NET_LOCATOR_MAX_ADDRS ? rec.n_addrs : NET_LOCATOR_MAX_ADDRS - 1;
	memmove(&rec.addrs[1], &rec.addrs[0], n * sizeof rec.addrs[0]);
	rec.addrs[0] = *seen;
	rec.n_addrs = (uint8_t)(n + 1);
	rec.seq = h->own.seq + 1;
	if (net_locator_sign(&rec, &h->id) != 0 || rt_net_announce(&h->rm.net, &rec) != 0)
		return;
	h->own = rec;
	h->register_due = 0;
}

static void serve_boot(struct rt_host *h, uint32_t idx, const uint8_t *data, size_t len)
{
	struct net_session_info info;
	const uint8_t *from = peer_id(h, idx);
	if (!h->bs || !from || net_endpoint_session(h->ep, from, &info) != 0 || !info.have_addr)
		return;
	struct boot_out out;
	boot_out_init(&out);
	uint64_t now = rt_now_ms();
	boot_server_receive(h->bs, now, from, &info.addr, data, len, &out);
	for (size_t i = 0; i < out.n; i++) {
		uint32_t to;
		struct boot_entry e;
		if (net_endpoint_session(h->ep, out.a[i].to, &info) != 0 &&
		    boot_server_get(h->bs, now, out.a[i].to, &e) == 0) {
			net_endpoint_add_peer(h->ep, &e.loc);
			net_endpoint_add_peer_addr(h->ep, e.loc.pk, &e.observed);
		}
		if (peer_index(h, out.a[i].to, &to) == 0)
			host_send(h, to, out.a[i].data, out.a[i].len);
	}
	boot_out_free(&out);
}

static void on_boot_frame(struct rt_host *h, uint32_t idx, const uint8_t *data, size_t len)
{
	uint8_t t = data[0];
	if (t == BOOT_T_REGISTER || t == BOOT_T_LOOKUP_ID || t == BOOT_T_LOOKUP_TOPIC || t == BOOT_T_CONNECT) {
		serve_boot(h, idx, data, len);
		return;
	}
	/* Answers count only from the bootnodes we chose. */
	if (!h->peers[idx].is_boot) {
		h->st_.unroutable++;
		return;
	}
	struct boot_msg *m = malloc(sizeof *m);
	if (!m)
		return;
	if (boot_decode(data, len, m) != 0) {
		h->st_.unroutable++;
		free(m);
		return;
	}
	switch (m->type) {
	case BOOT_T_OBSERVED:
		h->st_.boot_registered++;
		h->register_ttl_ms = m->ttl_ms > 3000 ? m->ttl_ms : 3000;
		h->register_due = rt_now_ms() + h->register_ttl_ms / 3;
		learn_observed(h, &m->addr);
		break;
	case BOOT_T_RESULT:
		for (size_t i = 0; i < m->n_results; i++) {
			h->st_.boot_results++;
			dial(h, &m->results[i]);
		}
		break;
	case BOOT_T_CONNECT_FROM: {
		struct boot_entry e = {m->loc, m->addr};
		dial(h, &e);
		break;
	}
	default:
		break;
	}
	free(m);
}

/* ---- multicast ------------------------------------------------------------------ */

static void group_free(struct mgroup *g)
{
	net_mcast_free(g->mc);
	free(g->peer_of);
	free(g->ids);
	memset(g, 0, sizeof *g);
}

static struct mgroup *group_find(struct rt_host *h, uint64_t gid)
{
	for (size_t i = 0; i < MCAST_GROUPS; i++)
		if (h->groups[i].used && h->groups[i].gid == gid)
			return &h->groups[i];
	return NULL;
}

static void process_mcast(struct rt_host *h, struct mgroup *g, struct net_msg_out *out)
{
	for (size_t i = 0; i < out->n && !h->closing; i++) {
		const struct net_msg_action *a = &out->a[i];
		if (a->peer >= g->n)
			continue;
		if (a->kind == NET_MSG_A_SEND && g->peer_of[a->peer] != UINT32_MAX)
			rt_msg_send_raw(&h->rm, g->peer_of[a->peer], a->data, a->len);
		else if (a->kind == NET_MSG_A_DELIVER && h->cb.mcast_deliver)
			h->cb.mcast_deliver(h->ctx, g->ids[a->peer], a->data, a->len);
	}
}

/* The group of ids (sorted, unique, with us), created on first use. The
 * members' keys must be known: they sign and check the symbols. */
static int group_make(struct rt_host *h, uint64_t gid, uint32_t k, const uint8_t (*pks)[32], uint32_t n,
		      struct mgroup **out)
{
	struct mgroup *g = group_find(h, gid);
	if (g) {
		*out = g;
		return 0;
	}
	struct mgroup *slot = NULL;
	for (size_t i = 0; i < MCAST_GROUPS; i++)
		if (!h->groups[i].used && !slot)
			slot = &h->groups[i];
	if (!slot) {
		/* Replace the least recently used group. */
		slot = &h->groups[0];
		for (size_t i = 1; i < MCAST_GROUPS; i++)
			if (h->groups[i].last_used_ms < slot->last_used_ms)
				slot = &h->groups[i];
		group_free(slot);
	}
	g = slot;
	uint32_t self = UINT32_MAX;
	if (!(g->peer_of = calloc(n, sizeof *g->peer_of)) || !(g->ids = calloc(n, sizeof *g->ids))) {
		group_free(g);
		return -CN_ENOMEM;
	}
	for (uint32_t i = 0; i < n; i++) {
		net_node_id(pks[i], g->ids[i]);
		if (!memcmp(pks[i], h->id.pk, 32)) {
			self = i;
			g->peer_of[i] = UINT32_MAX;
			continue;
		}
		int rc = peer_index(h, g->ids[i], &g->peer_of[i]);
		if (rc) {
			group_free(g);
			return rc;
		}
		struct hpeer *p = &h->peers[g->peer_of[i]];
		memcpy(p->pk, pks[i], 32);
		p->have_pk = 1;
	}
	if (self == UINT32_MAX) {
		group_free(g);
		return -CN_EINVAL;
	}
	struct net_mcast_config mc = {.group_id = gid, .n = n, .k = k, .self = self, .pks = pks,
				      .sk = h->id.sk, .seed = cn_prng_next_u64(&h->rng)};
	int rc = net_mcast_new(&mc, &g->mc);
	if (rc) {
		group_free(g);
		return rc;
	}
	g->used = 1;
	g->gid = gid;
	g->n = n;
	*out = g;
	return 0;
}

static int cmp_id(const void *a, const void *b)
{
	return memcmp(a, b, 32);
}

int rt_host_multicast(struct rt_host *h, const uint8_t (*ids)[32], size_t n, size_t k, const uint8_t *data,
		      size_t len, uint64_t deadline_ms)
{
	if (h->closing)
		return -CN_ESTATE;
	if (n == 0 || n >= NET_MCAST_MAX_MEMBERS)
		return -CN_EINVAL;
	uint8_t (*sorted)[32] = calloc(n + 1, 32);
	uint8_t (*pks)[32] = calloc(n + 1, 32);
	uint8_t *ann = NULL;
	int rc = -CN_ENOMEM;
	if (!sorted || !pks)
		goto out;
	memcpy(sorted, ids, n * 32);
	memcpy(sorted[n], h->id.node_id, 32);
	qsort(sorted, n + 1, 32, cmp_id);
	size_t m = 0;
	for (size_t i = 0; i <= n; i++)
		if (m == 0 || memcmp(sorted[m - 1], sorted[i], 32))
			memcpy(sorted[m++], sorted[i], 32);
	rc = -CN_EINVAL;
	if (m < 2 || k + 1 >= m)
		goto out;
	for (size_t i = 0; i < m; i++) {
		uint32_t idx;
		if (!memcmp(sorted[i], h->id.node_id, 32)) {
			memcpy(pks[i], h->id.pk, 32);
			continue;
		}
		if (peer_index(h, sorted[i], &idx) != 0 || !h->peers[idx].have_pk) {
			rc = -CN_ENOTFOUND;
			goto out;
		}
		memcpy(pks[i], h->peers[idx].pk, 32);
	}
	/* The group id names the member set and k, so every member that gets
	 * the announcement builds the same group. */
	uint8_t hash[32];
	crypto_generichash_state hs;
	uint8_t kb[4];
	store_be32(kb, (uint32_t)k);
	crypto_generichash_init(&hs, NULL, 0, 32);
	crypto_generichash_update(&hs, kb, 4);
	crypto_generichash_update(&hs, (const uint8_t *)pks, m * 32);
	crypto_generichash_final(&hs, hash, 32);
	uint64_t gid = load_be64(hash);
	struct mgroup *g;
	if ((rc = group_make(h, gid, (uint32_t)k, (const uint8_t(*)[32])pks, (uint32_t)m, &g)) != 0)
		goto out;
	uint64_t now = rt_now_ms();
	g->last_used_ms = now;
	size_t alen = 1 + 8 + 4 + 4 + m * 32;
	rc = -CN_ENOMEM;
	if (!(ann = malloc(alen)))
		goto out;
	ann[0] = HOST_T_MCAST_GROUP;
	store_be64(ann + 1, gid);
	store_be32(ann + 9, (uint32_t)k);
	store_be32(ann + 13, (uint32_t)m);
	memcpy(ann + 17, pks, m * 32);
	for (size_t i = 0; i < m; i++)
		if (g->peer_of[i] != UINT32_MAX)
			host_send(h, g->peer_of[i], ann, alen);
	struct net_msg_out mo;
	net_msg_out_init(&mo);
	struct net_mcast_input in = {.kind = NET_MCAST_IN_SEND, .data = data, .len = len,
				     .deadline_ms = deadline_ms};
	rc = net_mcast_step(g->mc, now, &in, &mo);
	process_mcast(h, g, &mo);
	net_msg_out_free(&mo);
out:
	free(ann);
	free(sorted);
	free(pks);
	return rc;
}

static void on_raw(void *ctx, struct rt_msg *rm, uint32_t peer, const uint8_t *data, size_t len);

static void mpending_expire(struct rt_host *h, uint64_t now)
{
	struct mpending **pp = &h->mp_head, *q;
	while ((q = *pp) != NULL) {
		if (now - q->at_ms >= MPENDING_MS) {
			*pp = q->next;
			h->mp_bytes -= q->len;
			h->st_.unroutable++;
			free(q);
		} else {
			pp = &q->next;
		}
	}
}

static void on_group_announce(struct rt_host *h, const uint8_t *d, size_t len)
{
	if (len < 17)
		return;
	uint64_t gid = load_be64(d + 1);
	uint32_t k = load_be32(d + 9), n = load_be32(d + 13);
	if (n < 2 || n > NET_MCAST_MAX_MEMBERS || k + 1 >= n || len != 17 + (size_t)n * 32) {
		h->st_.unroutable++;
		return;
	}
	/* Recompute the id: an announcement cannot pin some other group's id
	 * to a member list of its choosing. */
	uint8_t hash[32], kb[4];
	crypto_generichash_state hs;
	store_be32(kb, k);
	crypto_generichash_init(&hs, NULL, 0, 32);
	crypto_generichash_update(&hs, kb, 4);
	crypto_generichash_update(&hs, d + 17, (size_t)n * 32);
	crypto_generichash_final(&hs, hash, 32);
	if (load_be64(hash) != gid) {
		h->st_.unroutable++;
		return;
	}
	struct mgroup *g;
	if (group_make(h, gid, k, (const uint8_t(*)[32])(d + 17), n, &g) != 0)
		return;
	g->last_used_ms = rt_now_ms();
	/* Symbols that came before the announcement, oldest first. */
	struct mpending *mine = NULL, **pp = &h->mp_head, *q;
	while ((q = *pp) != NULL) {
		if (load_be64(q->data + 1) == gid) {
			*pp = q->next;
			h->mp_bytes -= q->len;
			q->next = mine;
			mine = q;
		} else {
			pp = &q->next;
		}
	}
	while ((q = mine) != NULL) {
		mine = q->next;
		if (!h->closing)
			on_raw(h, &h->rm, q->peer, q->data, q->len);
		free(q);
	}
}

static void on_raw(void *ctx, struct rt_msg *rm, uint32_t peer, const uint8_t *data, size_t len)
{
	struct rt_host *h = ctx;
	/* DIRECT and RELAY carry the group id right after the type byte. */
	if (len < 9)
		return;
	struct mgroup *g = group_find(h, load_be64(data + 1));
	if (!g) {
		struct mpending *q;
		if (h->mp_bytes + len > MPENDING_MAX_BYTES || !(q = malloc(sizeof *q + len))) {
			h->st_.unroutable++;
			return;
		}
		q->peer = peer;
		q->at_ms = rt_now_ms();
		q->len = len;
		memcpy(q->data, data, len);
		q->next = h->mp_head;
		h->mp_head = q;
		h->mp_bytes += len;
		h->st_.mcast_early++;
		return;
	}
	uint32_t member = UINT32_MAX;
	for (uint32_t i = 0; i < g->n; i++)
		if (g->peer_of[i] == peer)
			member = i;
	if (member == UINT32_MAX)
		return;
	struct net_msg_out mo;
	net_msg_out_init(&mo);
	struct net_mcast_input in = {.kind = NET_MCAST_IN_DATAGRAM, .peer = member, .data = data, .len = len};
	net_mcast_step(g->mc, rt_now_ms(), &in, &mo);
	process_mcast(h, g, &mo);
	net_msg_out_free(&mo);
}

/* ---- message routing ------------------------------------------------------------ */

/* A peer's HELLO: a new instance number from a known peer means it
 * restarted. Our gossip still believes it knows our subscriptions and its
 * old streams; forget both and greet it as new. */
static void on_hello(struct rt_host *h, uint32_t peer, uint64_t instance)
{
	struct hpeer *p = &h->peers[peer];
	uint64_t old = p->instance;
	p->instance = instance;
	if (!old || old == instance || p->is_boot)
		return;
	h->st_.peer_restarts++;
	uint64_t now = rt_now_ms();
	if (p->gossip_up) {
		gossip_peer_down(h->g, now, peer);
		p->gossip_up = 0;
	}
	struct stream_out so;
	stream_out_init(&so);
	stream_peer_down(h->st, now, peer, &so);
	process_stream(h, &so);
	stream_out_free(&so);
	peer_event(h, peer, 0);
	/* Our HELLO first again: the new process does not know our instance. */
	p->hello_sent = 0;
	host_send(h, peer, NULL, 0);
	gossip_up(h, peer);
	peer_event(h, peer, 1);
}

static void route(struct rt_host *h, uint32_t peer, const uint8_t *data, size_t len, int nested)
{
	if (h->closing || len == 0)
		return;
	uint64_t now = rt_now_ms();
	uint8_t t = data[0];
	if (t == HOST_T_BUNDLE && !nested) {
		size_t at = 1;
		while (at < len && !h->closing) {
			uint32_t n;
			if (len - at < 4 || (n = load_be32(data + at)) == 0 || n > len - at - 4) {
				h->st_.unroutable++;
				return;
			}
			route(h, peer, data + at + 4, n, 1);
			at += 4 + (size_t)n;
		}
		return;
	}
	if (t >= 0x21 && t <= 0x2f) {
		struct gossip_out out;
		gossip_out_init(&out);
		gossip_receive(h->g, now, peer, data, len, &out);
		/* gossip brought the peer up implicitly on its first frame */
		h->peers[peer].gossip_up = !h->peers[peer].is_boot;
		process_gossip(h, &out);
		gossip_out_free(&out);
	} else if (t >= 0x31 && t <= 0x3f) {
		struct stream_out out;
		stream_out_init(&out);
		stream_receive(h->st, now, peer, data, len, &out);
		process_stream(h, &out);
		stream_out_free(&out);
	} else if (t >= 0x41 && t <= 0x4f) {
		on_boot_frame(h, peer, data, len);
	} else if (t == HOST_T_MCAST_GROUP) {
		on_group_announce(h, data, len);
	} else if (t == HOST_T_HELLO && len == 9) {
		on_hello(h, peer, load_be64(data + 1));
	} else {
		h->st_.unroutable++;
	}
}

static void on_deliver(void *ctx, struct rt_msg *rm, uint32_t peer, const uint8_t *data, size_t len)
{
	struct rt_host *h = ctx;
	if (peer >= h->table_peers)
		return;
	h->st_.msgs_in++;
	h->peers[peer].used = 1;
	route(h, peer, data, len, 0);
}

static void on_result(void *ctx, struct rt_msg *rm, uint32_t peer, uint64_t msg_id, int err)
{
	struct rt_host *h = ctx;
	if (peer >= h->table_peers)
		return;
	struct hpeer *p = &h->peers[peer];
	for (uint32_t i = 0; i < p->inflight; i++)
		if (p->fl_id[i] == msg_id) {
			p->fl_bytes -= p->fl_len[i];
			p->inflight--;
			p->fl_id[i] = p->fl_id[p->inflight];
			p->fl_len[i] = p->fl_len[p->inflight];
			break;
		}
	drain_peer(h, peer);
}

/* ---- timers, metrics -------------------------------------------------------------- */

static void update_metrics(struct rt_host *h)
{
	if (!h->have_metrics)
		return;
	const struct rt_net *n = &h->rm.net;
	uint64_t now_v[6] = {n->dgrams_in, n->dgrams_out, n->bytes_in, n->bytes_out, n->send_errors,
			     n->test_dropped};
	struct cn_metric_child *c[6] = {h->m.dgrams_in, h->m.dgrams_out, h->m.bytes_in, h->m.bytes_out,
					h->m.dropped, h->m.test_dropped};
	for (int i = 0; i < 6; i++) {
		cn_counter_add(c[i], (double)(now_v[i] - h->m.last[i]));
		h->m.last[i] = now_v[i];
	}
	size_t up = 0;
	double rtt = 0, cwnd = 0;
	for (uint32_t i = 0; i < h->table_peers; i++)
		if (h->peers[i].up) {
			const struct net_cc *cc = h->rm.cc ? h->rm.cc[i] ? &h->rm.cc[i]->cc : NULL : NULL;
			up++;
			rtt += (double)net_msg_peer_srtt(h->rm.msg, i);
			cwnd += cc ? (double)cc->cwnd : 0;
		}
	cn_gauge_set(h->m.cwnd, up ? cwnd / (double)up : 0);
	cn_gauge_set(h->m.peers, (double)live_peers(h));
	cn_gauge_set(h->m.rtt, up ? rtt / (double)up / 1000.0 : 0);
	if (h->bs)
		cn_gauge_set(h->m.boot_entries, (double)boot_server_count(h->bs));
}

static void on_tick(uv_timer_t *t)
{
	struct rt_host *h = t->data;
	if (h->closing)
		return;
	uint64_t now = rt_now_ms();
	if (now >= h->gossip_due) {
		struct gossip_out out;
		gossip_out_init(&out);
		h->gossip_due = UINT64_MAX;
		gossip_timer(h->g, now, &out);
		process_gossip(h, &out);
		gossip_out_free(&out);
	}
	if (now >= h->stream_due) {
		struct stream_out out;
		stream_out_init(&out);
		h->stream_due = UINT64_MAX;
		stream_timer(h->st, now, &out);
		process_stream(h, &out);
		stream_out_free(&out);
	}
	if (h->bs && now >= h->boot_due)
		h->boot_due = boot_server_timer(h->bs, now);
	for (size_t i = 0; i < MCAST_GROUPS; i++) {
		struct mgroup *g = &h->groups[i];
		if (!g->used)
			continue;
		struct net_msg_out mo;
		net_msg_out_init(&mo);
		struct net_mcast_input in = {.kind = NET_MCAST_IN_TIMER};
		net_mcast_step(g->mc, now, &in, &mo);
		process_mcast(h, g, &mo);
		net_msg_out_free(&mo);
	}
	mpending_expire(h, now);
	boot_tasks(h, now);
	drain_backlog(h);
	update_metrics(h);
}

static int register_metrics(struct rt_host *h, struct cn_metrics *r)
{
	struct cn_metric *peers, *rtt, *dg, *by, *drop, *tdrop, *be, *cw;
	const char *dir[] = {"dir"}, *in[] = {"in"}, *outv[] = {"out"};
	int rc;
	if ((rc = cn_metrics_gauge(r, "canon_net_peers", "Peers with an established session", NULL, 0, &peers)) ||
	    (rc = cn_metrics_gauge(r, "canon_net_rtt_seconds", "Mean smoothed RTT over established peers",
				   NULL, 0, &rtt)) ||
	    (rc = cn_metrics_counter(r, "canon_net_datagrams_total", "UDP datagrams", dir, 1, &dg)) ||
	    (rc = cn_metrics_counter(r, "canon_net_bytes_total", "UDP payload bytes", dir, 1, &by)) ||
	    (rc = cn_metrics_counter(r, "canon_net_send_errors_total", "Datagrams the kernel refused to send",
				     NULL, 0, &drop)) ||
	    (rc = cn_metrics_counter(r, "canon_net_test_dropped_total", "Datagrams dropped by the test loss knob",
				     NULL, 0, &tdrop)) ||
	    (rc = cn_metrics_gauge(r, "canon_net_boot_entries", "Live entries in the bootnode table", NULL, 0,
				   &be)) ||
	    (rc = cn_metrics_gauge(r, "canon_net_cwnd_bytes", "Mean congestion window (net_cc) over established peers",
				   NULL, 0, &cw)))
		return rc;
	if ((rc = cn_metric_with(peers, NULL, &h->m.peers)) || (rc = cn_metric_with(rtt, NULL, &h->m.rtt)) ||
	    (rc = cn_metric_with(dg, in, &h->m.dgrams_in)) || (rc = cn_metric_with(dg, outv, &h->m.dgrams_out)) ||
	    (rc = cn_metric_with(by, in, &h->m.bytes_in)) || (rc = cn_metric_with(by, outv, &h->m.bytes_out)) ||
	    (rc = cn_metric_with(drop, NULL, &h->m.dropped)) ||
	    (rc = cn_metric_with(tdrop, NULL, &h->m.test_dropped)) ||
	    (rc = cn_metric_with(be, NULL, &h->m.boot_entries)) || (rc = cn_metric_with(cw, NULL, &h->m.cwnd)))
		return rc;
	if ((rc = net_endpoint_attach_metrics(h->ep, r)) != 0)
		return rc;
	h->have_metrics = 1;
	return 0;
}

/* ---- lifecycle ---------------------------------------------------------------------- */

static int load_or_create_identity(const char *datadir, struct net_identity *id)
{
	char path[4096];
	int rc = net_identity_path(datadir, path, sizeof path);
	if (rc)
		return rc;
	rc = net_identity_load(id, path);
	if (rc != -CN_ENOTFOUND)
		return rc;
	if ((rc = net_identity_generate(id)) != 0 || (rc = net_identity_save(id, path)) != 0)
		return rc;
	cn_log_info("rt_host: created host key %s", path);
	return 0;
}

static int add_bootnode(struct rt_host *h, const char *s, size_t slot)
{
	uint8_t pk[NET_PK_LEN], id[32];
	struct net_addr a;
	uint32_t idx;
	int rc = rt_host_parse_address(s, pk, &a);
	if (rc)
		return rc;
	if (!memcmp(pk, h->id.pk, NET_PK_LEN))
		return -CN_EINVAL;
	net_node_id(pk, id);
	if ((rc = net_endpoint_add_peer_addr(h->ep, pk, &a)) != 0 || (rc = peer_index(h, id, &idx)) != 0)
		return rc;
	h->peers[idx].is_boot = 1;
	memcpy(h->peers[idx].pk, pk, NET_PK_LEN);
	h->peers[idx].have_pk = 1;
	h->boot_idx[slot] = idx;
	return 0;
}

int rt_host_connect(struct rt_host *h, const char *address)
{
	uint8_t pk[NET_PK_LEN], id[32];
	struct net_addr a;
	uint32_t idx;
	int rc = rt_host_parse_address(address, pk, &a);
	if (rc)
		return rc;
	net_node_id(pk, id);
	if ((rc = net_endpoint_add_peer_addr(h->ep, pk, &a)) != 0 || (rc = peer_index(h, id, &idx)) != 0)
		return rc;
	memcpy(h->peers[idx].pk, pk, NET_PK_LEN);
	h->peers[idx].have_pk = 1;
	if (h->n_topics) {
		gossip_up(h, idx);
		return 0;
	}
	/* Nothing to say yet: our HELLO alone starts the handshake. */
	h->peers[idx].hello_sent = 0;
	host_send(h, idx, NULL, 0);
	return 0;
}

static void on_tick_closed(uv_handle_t *hd)
{
}

int rt_host_start(struct rt_host **out, uv_loop_t *loop, const struct rt_host_config *cfg,
		  const struct rt_host_callbacks *cb, void *ctx)
{
	if (!cfg || !cfg->datadir || (cfg->n_bootnodes && !cfg->bootnodes))
		return -CN_EINVAL;
	struct rt_host *h = calloc(1, sizeof *h);
	if (!h)
		return -CN_ENOMEM;
	h->loop = loop;
	if (cb)
		h->cb = *cb;
	h->ctx = ctx;
	h->serve_bootnode = cfg->serve_bootnode;
	h->max_peers = cfg->max_peers ? cfg->max_peers : cfg->serve_bootnode ? 1024 : 64;
	/* rt_msg's index table only grows, so it is larger than the peers we
	 * keep at once: peers come and go. */
	h->table_peers = 4 * h->max_peers + (uint32_t)cfg->n_bootnodes + 16;
	h->gossip_due = h->stream_due = h->boot_due = UINT64_MAX;
	int rc;
	uint8_t seed[8];
	randombytes_buf(seed, sizeof seed);
	cn_prng_seed(&h->rng, load_be64(seed));
	h->instance = cn_prng_next_u64(&h->rng) | 1;
	if ((rc = load_or_create_identity(cfg->datadir, &h->id)) != 0) {
		cn_log_error("rt_host: host key in %s: %s", cfg->datadir, cn_strerror(rc));
		free(h);
		return rc == -CN_ENOMEM ? rc : rc == -CN_EINVAL ? rc : -CN_EIO;
	}
	struct net_config nc;
	net_config_default(&nc);
	nc.max_peers = h->table_peers;
	/* Messages are kept for IWANT longer than gossip's default 5 s: behind
	 * a busy peer's window an announcement can arrive late. The frame rate
	 * limit is 10x gossip's default: frames come in bundles, and at 2000
	 * messages/s across ten nodes honest peers hit 1000 frames/s (IHAVE
	 * included), got penalised and disconnected, and messages were lost. */
	struct gossip_config gc = {.max_peers = h->table_peers, .fanout = cfg->gossip_fanout,
				   .mcache_ms = 30000, .mcache_bytes = 256u << 20, .max_wants = 65536,
				   .max_wants_per_peer = 8192, .dedup_entries = 65536, .iwant_timeout_ms = 2000,
				   .msgs_per_s = 10000, .msgs_burst = 20000,
				   .seed = cn_prng_next_u64(&h->rng),
				   .validate = gossip_validate, .ctx = h};
	struct stream_config sc = {.max_peers = h->table_peers};
	if (!(h->peers = calloc(h->table_peers, sizeof *h->peers)) ||
	    !(h->boot_idx = calloc(cfg->n_bootnodes + 1, sizeof *h->boot_idx))) {
		rc = -CN_ENOMEM;
		goto fail;
	}
	if ((rc = net_endpoint_new(&h->ep, &h->id, &nc)) != 0 || (rc = gossip_new(&gc, &h->g)) != 0 ||
	    (rc = stream_new(&sc, &h->st)) != 0)
		goto fail;
	if (cfg->serve_bootnode) {
		struct boot_config bc = {.seed = cn_prng_next_u64(&h->rng)};
		if ((rc = boot_server_new(&bc, &h->bs)) != 0)
			goto fail;
	}
	double drop = cfg->test_drop;
	const char *env = getenv("CANON_TEST_DROP");
	if (drop == 0 && env && *env) {
		char *end;
		errno = 0;
		drop = strtod(env, &end);
		if (errno || *end || drop < 0 || drop >= 1) {
			cn_log_error("rt_host: CANON_TEST_DROP=%s is not a fraction in [0, 1)", env);
			rc = -CN_EINVAL;
			goto fail;
		}
	}
	if (drop > 0)
		cn_log_warn("rt_host: test loss knob on: dropping %.3f of datagrams both ways", drop);
	struct rt_msg_opts mo = {.net = {.no_signals = 1, .test_drop = drop,
					 .drop_seed = load_be64(h->id.node_id)},
				 .max_outgoing = 1024, .min_rtt_ms = RTT_FLOOR_MS, .cc = 1};
	struct rt_msg_callbacks mcb = {.deliver = on_deliver, .result = on_result, .session = on_session,
				       .raw = on_raw};
	if ((rc = rt_msg_start_opts(&h->rm, loop, h->ep, &cfg->bind, h->table_peers, &mo, &mcb, h)) != 0) {
		h->rm_started = 1;
		goto fail_loop;
	}
	h->rm_started = 1;
	if ((rc = rt_net_local_addr(&h->rm.net, &h->local)) != 0)
		goto fail_loop;
	/* An unspecified bind address is no use in a record: say loopback until
	 * a bootnode tells us what it sees. */
	int unspecified = 1;
	for (int i = 0; i < (h->local.family == 4 ? 4 : 16); i++)
		if (h->local.ip[i])
			unspecified = 0;
	if (unspecified) {
		if (h->local.family == 4)
			h->local.ip[0] = 127, h->local.ip[3] = 1;
		else
			h->local.ip[15] = 1;
	}
	memset(&h->own, 0, sizeof h->own);
	h->own.seq = rt_now_ms();
	h->own.n_addrs = 1;
	h->own.addrs[0] = h->local;
	if ((rc = net_locator_sign(&h->own, &h->id)) != 0 || (rc = rt_net_announce(&h->rm.net, &h->own)) != 0)
		goto fail_loop;
	for (size_t i = 0; i < cfg->n_bootnodes; i++) {
		if ((rc = add_bootnode(h, cfg->bootnodes[i], i)) != 0) {
			cn_log_error("rt_host: bad bootnode '%s' (want <pk hex>@ip:port)", cfg->bootnodes[i]);
			goto fail_loop;
		}
		h->n_boot++;
	}
	if (cfg->metrics && (rc = register_metrics(h, cfg->metrics)) != 0)
		goto fail_loop;
	uv_timer_init(loop, &h->tick);
	h->tick.data = h;
	h->tick_started = 1;
	uv_timer_start(&h->tick, on_tick, TICK_MS, TICK_MS);
	char addr[200];
	rt_host_address(h, addr, sizeof addr);
	cn_log_info("rt_host: %s%s, %zu bootnode(s)", addr, h->bs ? " (bootnode)" : "", h->n_boot);
	*out = h;
	return 0;
fail_loop:
	/* Handles may be open: close them and let the loop finish them here. */
	rt_msg_close(&h->rm);
	uv_run(loop, UV_RUN_NOWAIT);
	uv_run(loop, UV_RUN_NOWAIT);
fail:
	rt_host_free(h);
	return rc;
}

void rt_host_stats(const struct rt_host *h, struct rt_host_stats *st)
{
	*st = h->st_;
	st->datagrams_in = h->rm.net.dgrams_in;
	st->datagrams_out = h->rm.net.dgrams_out;
	st->bytes_in = h->rm.net.bytes_in;
	st->bytes_out = h->rm.net.bytes_out;
	st->test_dropped = h->rm.net.test_dropped;
	st->peers = live_peers(h);
	const struct net_msg_stats *ms = net_msg_stats(h->rm.msg);
	st->repair_symbols = ms->repair_symbols;
	st->refused_incoming = ms->refused_busy + ms->refused_memory;
	st->msgs_failed = ms->sent_failed;
	st->handshakes = net_endpoint_stat(h->ep, NET_STAT_HANDSHAKE_DONE);
	st->cc_acks_in = h->rm.cc_acks_in;
	st->cc_acks_out = h->rm.cc_acks_out;
	st->acks_out = ms->acks_out;
	st->acks_in = ms->acks_in;
	st->dup_symbols = ms->drop_duplicate;
	const struct gossip_stats *gs = gossip_stats(h->g);
	st->gossip_ratelimited = gs->ratelimited;
	st->gossip_disconnects = gs->disconnects;
	st->gossip_iwant_out = gs->iwant_out;
	st->boot_entries = h->bs ? boot_server_count(h->bs) : 0;
}

const struct gossip_stats *rt_host_gossip_stats(const struct rt_host *h)
{
	return gossip_stats(h->g);
}

void rt_host_close(struct rt_host *h)
{
	if (h->closing)
		return;
	h->closing = 1;
	if (h->tick_started && !uv_is_closing((uv_handle_t *)&h->tick))
		uv_close((uv_handle_t *)&h->tick, on_tick_closed);
	rt_msg_close(&h->rm);
}

void rt_host_free(struct rt_host *h)
{
	if (!h)
		return;
	/* Requests still waiting get their one answer. */
	while (h->pending) {
		struct pending *q = h->pending;
		h->pending = q->next;
		q->fn(q->ctx, -CN_ECLOSED, 0, NULL, 0);
		free(q);
	}
	while (h->ostreams) {
		struct ostream *o = h->ostreams;
		h->ostreams = o->next;
		free(o);
	}
	for (uint32_t i = 0; h->peers && i < h->table_peers; i++)
		while (h->peers[i].q_head) {
			struct backlog *b = h->peers[i].q_head;
			h->peers[i].q_head = b->next;
			free(b);
		}
	for (size_t i = 0; i < MCAST_GROUPS; i++)
		if (h->groups[i].used)
			group_free(&h->groups[i]);
	while (h->mp_head) {
		struct mpending *q = h->mp_head;
		h->mp_head = q->next;
		free(q);
	}
	if (h->rm_started)
		rt_msg_free(&h->rm);
	boot_server_free(h->bs);
	stream_free(h->st);
	gossip_free(h->g);
	net_endpoint_free(h->ep);
	net_identity_wipe(&h->id);
	free(h->peers);
	free(h->boot_idx);
	free(h);
}
