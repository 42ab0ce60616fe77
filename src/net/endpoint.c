/* endpoint.c — handshakes, sessions, cookies, roaming and multihoming.
 *
 * The protocol follows WireGuard's design (Noise IK, cookie replies, replay
 * window, rekey timers) with canon's names: a peer is an Ed25519 host key,
 * its X25519 static key is the converted host key, and the initiator's
 * encrypted static is its Ed25519 public key, so the responder learns the
 * node ID it is talking to. docs/net.md has the message layouts.
 *
 * Sessions live in an array of pointers (addresses stay stable) and are
 * found through two hash maps, by node ID and by receiver index. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "base/bytes.h"
#include "base/err.h"
#include "base/log.h"
#include "base/metrics.h"
#include "net/net.h"
#include "net/net_int.h"

#define NONE UINT64_MAX
#define WINDOW_BITS 2048
#define WINDOW_WORDS (WINDOW_BITS / 64)
#define COOKIE_SECRET_MS 120000
#define COOKIE_VALID_MS 110000   /* a little less than the secret's life, as WireGuard */

#define RL_SLOTS 1024

#define INNER_APP 0
#define INNER_LOCATOR 1
#define INNER_LOCATOR_ACK 2
#define LOCATOR_ACK_LEN (1 + 8)

static const char CONSTRUCTION[] = "canon Noise_IK_25519_ChaChaPoly_BLAKE2b";
static const char IDENTIFIER[] = "canon-net v1";
static const char LABEL_MAC1[] = "mac1----";
static const char LABEL_COOKIE[] = "cookie--";

/* Offsets inside the handshake messages. */
enum {
	I_SENDER = 4, I_EPH = 8, I_STATIC = 40, I_TS = 88, I_MAC1 = 112, I_MAC2 = 128,
	R_SENDER = 4, R_RECEIVER = 8, R_EPH = 12, R_EMPTY = 44, R_MAC1 = 60, R_MAC2 = 76,
	C_RECEIVER = 4, C_NONCE = 8, C_COOKIE = 32,
	D_RECEIVER = 4, D_COUNTER = 8,
};

static void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8), p[2] = (uint8_t)(v >> 16), p[3] = (uint8_t)(v >> 24);
}

static uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

struct replay {
	uint64_t top;
	int any;
	uint64_t bits[WINDOW_WORDS];
};

struct keypair {
	int valid;
	int initiator;                  /* we sent the initiation that made it */
	uint32_t local_idx, remote_idx;
	uint8_t send_key[32], recv_key[32];
	uint64_t send_ctr, created_ms;
	struct replay rp;
};

struct qpkt {
	size_t len;
	uint8_t data[1 + NET_MAX_PAYLOAD];
};

struct session {
	uint8_t peer_pk[32], peer_id[32], peer_xpk[32];
	uint8_t ss[32];                 /* static-static DH, computed once */
	int have_ss;
	uint8_t h0[32];                 /* handshake hash after mixing the peer's static */
	uint8_t mac1_key[32], cookie_key[32];
	int have_locator;
	struct net_locator loc;
	unsigned loc_idx;
	struct net_addr addr;
	int have_addr;
	uint64_t last_ts_seen;          /* newest initiation timestamp accepted from the peer */
	struct keypair cur, prev, next;
	int established;

	/* our initiation in flight */
	int hs_running;
	uint32_t hs_idx, hs_attempts;
	uint8_t hs_eph_sk[32], hs_eph_pk[32], hs_c[32], hs_h[32];
	uint64_t hs_sent_ms;
	int heard_since_hs;             /* an authentic packet arrived after our last initiation */
	uint8_t hs_mac1[16];
	int hs_mac1_valid;              /* a cookie reply may still answer hs_mac1 */
	uint8_t cookie[16];
	uint64_t cookie_ms;
	int have_cookie;

	uint64_t unanswered_since;      /* first data sent since we last heard from the peer */
	uint64_t keepalive_due;
	/* Our locator record is repeated until the peer acknowledges it: an
	 * announcement lost on the way would otherwise leave the peer with
	 * our old addresses for good. */
	uint64_t loc_sent_seq;          /* the record last sent (0: none) */
	uint64_t loc_retry_at;          /* NONE: acknowledged, given up or nothing to send */
	uint32_t loc_tries;
	struct qpkt *q;
	size_t qn;
};

/* Open-addressing hash slots (linear probing); s == NULL is empty. */
struct slot {
	uint64_t key;
	struct session *s;
};

struct map {
	struct slot *v;
	size_t cap, n;                  /* cap is a power of two or 0 */
};

struct net_endpoint {
	struct net_identity id;
	struct net_config cfg;
	uint8_t ck0[32], hbase[32], h0_self[32];
	uint8_t mac1_key_self[32], cookie_key_self[32];
	struct session **s;
	size_t ns, cap;
	/* Node ID (first 8 bytes) → session, and receiver index → session.
	 * The index map may hold stale entries (keys that were dropped):
	 * lookups check the session still uses the index, and the map is
	 * rebuilt from the live sessions when it fills up or a session is
	 * freed, so entries never outlive their session. */
	struct map by_id, by_idx;
	uint8_t cookie_secret[32];
	uint64_t cookie_secret_ms;
	int have_secret;
	uint64_t load_window_ms;
	uint32_t load_count;
	/* Token buckets per source IP (hashed; colliding IPs share one, which
	 * only makes the limit stricter). Tokens are in thousandths. */
	struct {
		uint64_t key, last_ms;
		uint64_t milli;
	} rl[RL_SLOTS];
	uint64_t last_ts_sent;
	struct net_locator own;
	int have_own;
	uint64_t stats[NET_STAT_COUNT];
	struct cn_metric_child *mc[NET_STAT_COUNT];
	uint64_t timer_armed;
};

static const char *const stat_names[NET_STAT_COUNT] = {
	"rx", "tx", "drop_malformed", "drop_oversize", "drop_mac", "drop_auth", "drop_replay",
	"drop_handshake_replay", "drop_unknown", "drop_limit", "drop_locator", "cookie_sent",
	"cookie_received", "dh", "handshake_done", "rekey", "roam", "path_switch",
	"drop_ratelimit",
};

const char *net_stat_name(enum net_stat s)
{
	return (unsigned)s < NET_STAT_COUNT ? stat_names[s] : "unknown";
}

static void count(struct net_endpoint *ep, enum net_stat s)
{
	ep->stats[s]++;
	if (ep->mc[s])
		cn_counter_inc(ep->mc[s]);
}

uint64_t net_endpoint_stat(const struct net_endpoint *ep, enum net_stat s)
{
	return (unsigned)s < NET_STAT_COUNT ? ep->stats[s] : 0;
}

int net_endpoint_attach_metrics(struct net_endpoint *ep, struct cn_metrics *r)
{
	static const char *const labels[] = {"event"};
	struct cn_metric *m;
	int err = cn_metrics_counter(r, "canon_net_events_total",
				     "Datagrams handled, dropped (by reason) and work done by the transport",
				     labels, 1, &m);
	if (err)
		return err;
	for (int i = 0; i < NET_STAT_COUNT; i++) {
		const char *v[] = {stat_names[i]};
		if ((err = cn_metric_with(m, v, &ep->mc[i])) != 0)
			return err;
		if (ep->stats[i])
			cn_counter_add(ep->mc[i], (double)ep->stats[i]);
	}
	return 0;
}

/* ---- output ----------------------------------------------------------------- */

void net_out_init(struct net_out *out)
{
	memset(out, 0, sizeof *out);
}

void net_out_reset(struct net_out *out)
{
	out->n = 0;
	out->used = 0;
}

void net_out_free(struct net_out *out)
{
	free(out->act);
	free(out->buf);
	memset(out, 0, sizeof *out);
}

const uint8_t *net_action_data(const struct net_out *out, const struct net_action *a)
{
	static const uint8_t empty[1];
	return out->buf ? out->buf + a->off : empty;
}

static struct net_action *out_push(struct net_out *out, enum net_action_kind kind,
				   const uint8_t *data, size_t len)
{
	if (out->n == out->cap) {
		size_t cap = out->cap ? out->cap * 2 : 16;
		struct net_action *a = realloc(out->act, cap * sizeof *a);
		if (!a)
			return NULL;
		out->act = a, out->cap = cap;
	}
	if (out->bufcap - out->used < len) {
		size_t cap = out->bufcap ? out->bufcap : 4096;
		while (cap - out->used < len)
			cap *= 2;
		uint8_t *b = realloc(out->buf, cap);
		if (!b)
			return NULL;
		out->buf = b, out->bufcap = cap;
	}
	struct net_action *a = &out->act[out->n++];
	memset(a, 0, sizeof *a);
	a->kind = kind;
	a->off = out->used;
	a->len = len;
	if (len)
		memcpy(out->buf + out->used, data, len);
	out->used += len;
	return a;
}

static int out_send(struct net_endpoint *ep, struct net_out *out, const struct net_addr *to,
		    const uint8_t *p, size_t len)
{
	struct net_action *a = out_push(out, NET_ACT_SEND, p, len);
	if (!a)
		return -CN_ENOMEM;
	a->addr = *to;
	count(ep, NET_STAT_TX);
	return 0;
}

static int out_event(struct net_out *out, enum net_action_kind kind, const struct session *s,
		     const uint8_t *data, size_t len, int reason)
{
	struct net_action *a = out_push(out, kind, data, len);
	if (!a)
		return -CN_ENOMEM;
	memcpy(a->peer, s->peer_id, 32);
	a->reason = reason;
	if (s->have_addr)
		a->addr = s->addr;
	if ((kind == NET_ACT_ESTABLISHED || kind == NET_ACT_CLOSED) && cn_log_enabled(CN_LOG_DEBUG)) {
		char tag[NET_TAG_CHARS + 1], addr[64], why[16];
		net_node_tag(s->peer_id, tag);
		net_addr_format(&s->addr, addr, sizeof addr);
		snprintf(why, sizeof why, "%d", reason);
		struct cn_log_field f[] = {{"peer", tag}, {"addr", s->have_addr ? addr : "-"},
					   {"reason", why}};
		cn_log_fields(CN_LOG_DEBUG, kind == NET_ACT_ESTABLISHED ? "net session established"
									: "net session closed",
			      f, kind == NET_ACT_CLOSED ? 3 : 2);
	}
	return 0;
}

/* ---- config, endpoint, sessions ---------------------------------------------- */

void net_config_default(struct net_config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	/* WireGuard's constants. */
	cfg->rekey_after_messages = UINT64_C(1) << 60;
	cfg->reject_after_messages = UINT64_MAX - (UINT64_C(1) << 13);
	cfg->rekey_after_ms = 120000;
	cfg->reject_after_ms = 180000;
	cfg->rekey_timeout_ms = 5000;
	cfg->keepalive_ms = 10000;
	cfg->path_timeout_ms = 15000;
	cfg->handshake_attempts = 18;   /* 90 s of retries, as WireGuard */
	cfg->attempts_per_locator = 2;
	cfg->load_threshold = 256;
	cfg->handshake_rate = 20;       /* WireGuard's ratelimiter: 20/s, burst 5 */
	cfg->handshake_burst = 5;
	cfg->max_peers = 4096;
	cfg->max_queued = 32;
	cfg->accept_unknown = 1;
}

static void random_bytes(struct net_endpoint *ep, uint8_t *buf, size_t len)
{
	if (ep->cfg.random)
		ep->cfg.random(ep->cfg.random_ctx, buf, len);
	else
		randombytes_buf(buf, len);
}

static void mixed_label_key(uint8_t out[32], const char *label, const uint8_t pk[32])
{
	net_hash2(out, (const uint8_t *)label, 8, pk, 32);
}

int net_endpoint_new(struct net_endpoint **out, const struct net_identity *id,
		     const struct net_config *cfg)
{
	if (sodium_init() < 0)
		return -CN_EIO;
	struct net_endpoint *ep = calloc(1, sizeof *ep);
	if (!ep)
		return -CN_ENOMEM;
	ep->id = *id;
	if (cfg)
		ep->cfg = *cfg;
	else
		net_config_default(&ep->cfg);
	if (!ep->cfg.attempts_per_locator)
		ep->cfg.attempts_per_locator = 1;
	net_hash2(ep->ck0, (const uint8_t *)CONSTRUCTION, sizeof CONSTRUCTION - 1, NULL, 0);
	net_hash2(ep->hbase, ep->ck0, 32, (const uint8_t *)IDENTIFIER, sizeof IDENTIFIER - 1);
	net_hash2(ep->h0_self, ep->hbase, 32, id->x_pk, 32);
	mixed_label_key(ep->mac1_key_self, LABEL_MAC1, id->pk);
	mixed_label_key(ep->cookie_key_self, LABEL_COOKIE, id->pk);
	ep->timer_armed = NONE;
	*out = ep;
	return 0;
}

static void keypair_clear(struct keypair *kp)
{
	bytes_wipe(kp, sizeof *kp);
}

static void session_free(struct session *s)
{
	if (!s)
		return;
	if (s->q)
		bytes_wipe(s->q, s->qn * sizeof *s->q);
	free(s->q);
	bytes_wipe(s, sizeof *s);
	free(s);
}

void net_endpoint_free(struct net_endpoint *ep)
{
	if (!ep)
		return;
	for (size_t i = 0; i < ep->ns; i++)
		session_free(ep->s[i]);
	free(ep->s);
	free(ep->by_id.v);
	free(ep->by_idx.v);
	bytes_wipe(ep, sizeof *ep);
	free(ep);
}

/* ---- session maps ----------------------------------------------------------- */

static size_t slot_of(const struct map *m, uint64_t key)
{
	/* Keys are hash outputs or random indices already: a multiply mixes
	 * enough for a power-of-two table. */
	return (size_t)((key * UINT64_C(0x9E3779B97F4A7C15)) >> 32) & (m->cap - 1);
}

static int map_put(struct map *m, uint64_t key, struct session *s)
{
	if ((m->n + 1) * 2 > m->cap)
		return -CN_ELIMIT; /* the caller rebuilds */
	size_t i = slot_of(m, key);
	while (m->v[i].s && m->v[i].key != key)
		i = (i + 1) & (m->cap - 1);
	if (!m->v[i].s)
		m->n++;
	m->v[i].key = key;
	m->v[i].s = s;
	return 0;
}

static int session_uses_idx(const struct session *s, uint32_t idx)
{
	return (s->hs_running && s->hs_idx == idx) || (s->cur.valid && s->cur.local_idx == idx) ||
	       (s->prev.valid && s->prev.local_idx == idx) || (s->next.valid && s->next.local_idx == idx);
}

static uint64_t id_key(const uint8_t id[32])
{
	return load_le64(id);
}

/* Rebuilds both maps from the live sessions, sized for `extra` more entries. */
static int maps_rebuild(struct net_endpoint *ep, size_t extra)
{
	struct map m[2];
	size_t want[2] = {ep->ns + extra, 3 * ep->ns + extra};
	for (int k = 0; k < 2; k++) {
		size_t cap = 16;
		while (cap < 4 * want[k])
			cap *= 2;
		m[k].v = calloc(cap, sizeof *m[k].v);
		m[k].cap = cap;
		m[k].n = 0;
		if (!m[k].v) {
			free(m[0].v);
			return -CN_ENOMEM;
		}
	}
	for (size_t i = 0; i < ep->ns; i++) {
		struct session *s = ep->s[i];
		map_put(&m[0], id_key(s->peer_id), s);
		if (s->hs_running)
			map_put(&m[1], s->hs_idx, s);
		const struct keypair *k[3] = {&s->cur, &s->prev, &s->next};
		for (int j = 0; j < 3; j++)
			if (k[j]->valid)
				map_put(&m[1], k[j]->local_idx, s);
	}
	free(ep->by_id.v);
	free(ep->by_idx.v);
	ep->by_id = m[0];
	ep->by_idx = m[1];
	return 0;
}

static int map_insert(struct net_endpoint *ep, struct map *m, uint64_t key, struct session *s)
{
	if (map_put(m, key, s) == 0)
		return 0;
	int err = maps_rebuild(ep, 16);
	return err ? err : map_put(m, key, s);
}

static struct session *find_by_id(const struct net_endpoint *ep, const uint8_t id[32])
{
	const struct map *m = &ep->by_id;
	if (!m->cap)
		return NULL;
	uint64_t key = id_key(id);
	for (size_t i = slot_of(m, key); m->v[i].s; i = (i + 1) & (m->cap - 1))
		if (m->v[i].key == key && !memcmp(m->v[i].s->peer_id, id, 32))
			return m->v[i].s;
	return NULL;
}

static struct session *find_by_idx(const struct net_endpoint *ep, uint32_t idx)
{
	const struct map *m = &ep->by_idx;
	if (!m->cap)
		return NULL;
	for (size_t i = slot_of(m, idx); m->v[i].s; i = (i + 1) & (m->cap - 1))
		if (m->v[i].key == idx && session_uses_idx(m->v[i].s, idx))
			return m->v[i].s;
	return NULL;
}

/* A session that only exists because someone once handshaked with us and
 * that holds nothing now: no keys, no handshake, no queue, no locator. */
static int session_idle_inbound(const struct session *s)
{
	return !s->have_locator && !s->cur.valid && !s->prev.valid && !s->next.valid &&
	       !s->hs_running && !s->qn;
}

/* Half-open: an unknown key sent an initiation and we answered, but no
 * packet under the new keys has come back (only "next" keys). Initiations
 * from spoofed addresses leave exactly this behind, at up to load_threshold
 * a second without any cookie, so when the table is full these must give
 * way (oldest first, like a SYN queue) or the flood locks every newcomer out
 * until the keys expire. A real initiator whose half-open state goes simply
 * retries. */
static int session_half_open(const struct session *s)
{
	return !s->have_locator && !s->cur.valid && !s->prev.valid && s->next.valid &&
	       !s->hs_running && !s->qn;
}

static int session_new(struct net_endpoint *ep, const uint8_t pk[32], struct session **out)
{
	if (ep->ns >= ep->cfg.max_peers) {
		/* Inbound peers are accepted without introduction, so the table
		 * must not fill up with the dead ones: recycle an idle one. Its
		 * initiation-timestamp memory goes with it; a replay of an old
		 * initiation could then only create keys nobody holds. */
		size_t i = 0;
		while (i < ep->ns && !session_idle_inbound(ep->s[i]))
			i++;
		if (i == ep->ns) {
			size_t old = ep->ns;
			for (size_t j = 0; j < ep->ns; j++)
				if (session_half_open(ep->s[j]) &&
				    (old == ep->ns || ep->s[j]->next.created_ms < ep->s[old]->next.created_ms))
					old = j;
			/* Counted either way: the table was full. */
			count(ep, NET_STAT_DROP_LIMIT);
			if (old == ep->ns)
				return -CN_ELIMIT;
			i = old;
		}
		session_free(ep->s[i]);
		ep->s[i] = ep->s[--ep->ns];
		int err = maps_rebuild(ep, 1);
		if (err)
			return err;
	}
	struct session *s = calloc(1, sizeof *s);
	if (!s)
		return -CN_ENOMEM;
	memcpy(s->peer_pk, pk, 32);
	if (crypto_sign_ed25519_pk_to_curve25519(s->peer_xpk, pk) != 0) {
		free(s);
		return -CN_EVERIFY;
	}
	net_node_id(pk, s->peer_id);
	net_hash2(s->h0, ep->hbase, 32, s->peer_xpk, 32);
	mixed_label_key(s->mac1_key, LABEL_MAC1, pk);
	mixed_label_key(s->cookie_key, LABEL_COOKIE, pk);
	s->unanswered_since = NONE;
	s->keepalive_due = NONE;
	s->loc_retry_at = NONE;
	if (ep->ns == ep->cap) {
		size_t cap = ep->cap ? ep->cap * 2 : 8;
		struct session **v = realloc(ep->s, cap * sizeof *v);
		if (!v) {
			free(s);
			return -CN_ENOMEM;
		}
		ep->s = v, ep->cap = cap;
	}
	ep->s[ep->ns++] = s;
	int err = map_insert(ep, &ep->by_id, id_key(s->peer_id), s);
	if (err) {
		ep->ns--;
		free(s);
		return err;
	}
	*out = s;
	return 0;
}

int net_endpoint_add_peer(struct net_endpoint *ep, const struct net_locator *rec)
{
	int err = net_locator_verify(rec);
	if (err)
		return err;
	if (!memcmp(rec->pk, ep->id.pk, 32))
		return -CN_EINVAL;
	uint8_t id[32];
	net_node_id(rec->pk, id);
	struct session *s = find_by_id(ep, id);
	if (!s && (err = session_new(ep, rec->pk, &s)) != 0)
		return err;
	if (!s->have_locator) {
		s->loc = *rec;
		s->have_locator = 1;
		return 0;
	}
	int changed;
	return net_locator_merge(&s->loc, rec, &changed);
}

int net_endpoint_add_peer_addr(struct net_endpoint *ep, const uint8_t pk[NET_PK_LEN],
			       const struct net_addr *addr)
{
	if (!memcmp(pk, ep->id.pk, 32) || (addr->family != 4 && addr->family != 6) || addr->port == 0)
		return -CN_EINVAL;
	uint8_t id[32];
	net_node_id(pk, id);
	struct session *s = find_by_id(ep, id);
	int err;
	if (!s && (err = session_new(ep, pk, &s)) != 0)
		return err;
	/* An established session already knows where the peer is. */
	if (!s->cur.valid) {
		s->addr = *addr;
		s->have_addr = 1;
	}
	return 0;
}

int net_endpoint_session(const struct net_endpoint *ep, const uint8_t peer[NET_NODE_ID_LEN],
			 struct net_session_info *info)
{
	const struct session *s = find_by_id(ep, peer);
	if (!s)
		return -CN_ENOTFOUND;
	memset(info, 0, sizeof *info);
	info->state = s->cur.valid ? NET_SESSION_ESTABLISHED
		      : s->hs_running ? NET_SESSION_HANDSHAKE : NET_SESSION_NONE;
	info->addr = s->addr;
	info->have_addr = s->have_addr;
	info->send_counter = s->cur.send_ctr;
	info->local_index = s->cur.local_idx;
	info->keys_created_ms = s->cur.created_ms;
	info->handshake_running = s->hs_running;
	info->have_locator = s->have_locator;
	if (s->have_locator)
		info->locator = s->loc;
	return 0;
}

/* Picks a receiver index no live keypair or handshake of ours uses and
 * maps it to s (the caller then stores it in s). */
static int fresh_index(struct net_endpoint *ep, struct session *s, uint32_t *out)
{
	for (;;) {
		uint8_t b[4];
		random_bytes(ep, b, 4);
		uint32_t idx = load_be32(b);
		if (!find_by_idx(ep, idx)) {
			*out = idx;
			return map_insert(ep, &ep->by_idx, idx, s);
		}
	}
}

static int dh(struct net_endpoint *ep, uint8_t out[32], const uint8_t sk[32], const uint8_t pk[32])
{
	count(ep, NET_STAT_DH);
	/* libsodium refuses an all-zero result (a small-order point). */
	return crypto_scalarmult(out, sk, pk) == 0 ? 0 : -CN_EVERIFY;
}

static void new_ephemeral(struct net_endpoint *ep, uint8_t sk[32], uint8_t pk[32])
{
	random_bytes(ep, sk, 32);
	count(ep, NET_STAT_DH);
	crypto_scalarmult_base(pk, sk);
}

static void mix_hash(uint8_t h[32], const uint8_t *data, size_t len)
{
	net_hash2(h, h, 32, data, len);
}

static void aead_nonce(uint8_t nonce[12], uint64_t ctr)
{
	memset(nonce, 0, 4);
	store_le64(nonce + 4, ctr);
}

static void aead_seal(uint8_t *c, const uint8_t key[32], uint64_t ctr, const uint8_t *m, size_t mlen,
		      const uint8_t *ad, size_t adlen)
{
	uint8_t nonce[12];
	aead_nonce(nonce, ctr);
	crypto_aead_chacha20poly1305_ietf_encrypt(c, NULL, m, mlen, ad, adlen, NULL, nonce, key);
}

static int aead_open(uint8_t *m, const uint8_t key[32], uint64_t ctr, const uint8_t *c, size_t clen,
		     const uint8_t *ad, size_t adlen)
{
	uint8_t nonce[12];
	aead_nonce(nonce, ctr);
	return crypto_aead_chacha20poly1305_ietf_decrypt(m, NULL, NULL, c, clen, ad, adlen, nonce,
							 key) == 0 ? 0 : -CN_EVERIFY;
}

static int ensure_ss(struct net_endpoint *ep, struct session *s)
{
	if (s->have_ss)
		return 0;
	int err = dh(ep, s->ss, ep->id.x_sk, s->peer_xpk);
	s->have_ss = err == 0;
	return err;
}

static void addr_bytes(const struct net_addr *a, uint8_t out[19])
{
	out[0] = a->family;
	memcpy(out + 1, a->ip, 16);
	out[17] = (uint8_t)(a->port >> 8);
	out[18] = (uint8_t)a->port;
}

/* ---- replay window (RFC 6479's ring of bitmap words) --------------------------- */

static int replay_check(const struct replay *r, uint64_t c)
{
	if (!r->any || c > r->top)
		return 1;
	if (r->top - c >= WINDOW_BITS - 64)
		return 0;
	uint64_t bit = c % WINDOW_BITS;
	return !((r->bits[bit / 64] >> (bit % 64)) & 1);
}

static void replay_update(struct replay *r, uint64_t c)
{
	if (!r->any || c > r->top) {
		if (r->any) {
			uint64_t from = r->top / 64 + 1, to = c / 64;
			uint64_t n = to - from + 1;
			if (to >= from) {
				if (n > WINDOW_WORDS)
					n = WINDOW_WORDS;
				for (uint64_t i = 0; i < n; i++)
					r->bits[(from + i) % WINDOW_WORDS] = 0;
			}
		}
		r->top = c;
		r->any = 1;
	}
	uint64_t bit = c % WINDOW_BITS;
	r->bits[bit / 64] |= UINT64_C(1) << (bit % 64);
}

/* ---- data packets -------------------------------------------------------------- */

static int key_usable_send(const struct net_endpoint *ep, const struct keypair *kp, uint64_t now)
{
	return kp->valid && kp->send_ctr < ep->cfg.reject_after_messages &&
	       now - kp->created_ms < ep->cfg.reject_after_ms;
}

static int start_handshake(struct net_endpoint *ep, struct session *s, uint64_t now,
			   struct net_out *out);
static int queue_push(struct net_endpoint *ep, struct session *s, const uint8_t *p, size_t len);

/* Seals inner plaintext (empty = keepalive) under the current keypair. */
static int send_inner(struct net_endpoint *ep, struct session *s, uint64_t now, const uint8_t *p,
		      size_t len, struct net_out *out)
{
	struct keypair *kp = &s->cur;
	if (!key_usable_send(ep, kp, now)) {
		/* Out of messages or time mid-burst (flushing a queue): hold the
		 * rest for the next keys; a keepalive has no value later. */
		int err = len ? queue_push(ep, s, p, len) : 0;
		if (!err && len && !s->hs_running)
			err = start_handshake(ep, s, now, out);
		return err;
	}
	uint8_t pkt[NET_DATA_HEADER_LEN + 1 + NET_LOCATOR_MAX_LEN + NET_MAX_PAYLOAD + 16];
	memset(pkt, 0, NET_DATA_HEADER_LEN);
	pkt[0] = NET_PKT_DATA;
	store_le64(pkt + D_COUNTER, kp->send_ctr);
	put_le32(pkt + D_RECEIVER, kp->remote_idx);
	aead_seal(pkt + NET_DATA_HEADER_LEN, kp->send_key, kp->send_ctr, p, len, NULL, 0);
	kp->send_ctr++;
	int err = out_send(ep, out, &s->addr, pkt, NET_DATA_HEADER_LEN + len + 16);
	if (err)
		return err;
	if (len) {
		if (s->unanswered_since == NONE)
			s->unanswered_since = now;
	}
	s->keepalive_due = NONE;
	if (!s->hs_running &&
	    (kp->send_ctr >= ep->cfg.rekey_after_messages ||
	     (kp->initiator && now - kp->created_ms >= ep->cfg.rekey_after_ms))) {
		count(ep, NET_STAT_REKEY);
		return start_handshake(ep, s, now, out);
	}
	return 0;
}

static int queue_push(struct net_endpoint *ep, struct session *s, const uint8_t *p, size_t len)
{
	if (!s->q) {
		s->q = calloc(ep->cfg.max_queued ? ep->cfg.max_queued : 1, sizeof *s->q);
		if (!s->q)
			return -CN_ENOMEM;
	}
	if (s->qn >= ep->cfg.max_queued) {
		/* Newest data matters most to a live protocol: drop the oldest. */
		count(ep, NET_STAT_DROP_LIMIT);
		if (!s->qn)
			return 0;
		memmove(s->q, s->q + 1, (s->qn - 1) * sizeof *s->q);
		s->qn--;
	}
	s->q[s->qn].len = len;
	memcpy(s->q[s->qn].data, p, len);
	s->qn++;
	return 0;
}

static int flush_queue(struct net_endpoint *ep, struct session *s, uint64_t now, struct net_out *out)
{
	/* Detached first: sending may queue again (keys used up mid-flush). */
	struct qpkt *q = s->q;
	size_t n = s->qn;
	s->q = NULL;
	s->qn = 0;
	int err = 0;
	for (size_t i = 0; i < n && !err; i++)
		err = send_inner(ep, s, now, q[i].data, q[i].len, out);
	if (q)
		bytes_wipe(q, n * sizeof *q);
	free(q);
	return err;
}

static int send_own_locator(struct net_endpoint *ep, struct session *s, uint64_t now,
			    struct net_out *out)
{
	uint8_t p[1 + NET_LOCATOR_MAX_LEN];
	size_t len;
	p[0] = INNER_LOCATOR;
	int err = net_locator_encode(&ep->own, p + 1, sizeof p - 1, &len);
	if (err)
		return err;
	if (s->loc_sent_seq != ep->own.seq) {
		s->loc_sent_seq = ep->own.seq;
		s->loc_tries = 0;
	}
	s->loc_tries++;
	/* Repeated at the handshake's retransmission interval until the
	 * acknowledgement, at most handshake_attempts times in all. */
	s->loc_retry_at = s->loc_tries < ep->cfg.handshake_attempts ? now + ep->cfg.rekey_timeout_ms : NONE;
	return send_inner(ep, s, now, p, 1 + len, out);
}

/* Keys confirmed in both directions for the first time. */
static int on_established(struct net_endpoint *ep, struct session *s, uint64_t now,
			  struct net_out *out)
{
	int err = 0;
	if (!s->established) {
		s->established = 1;
		err = out_event(out, NET_ACT_ESTABLISHED, s, NULL, 0, 0);
		if (!err && ep->have_own)
			err = send_own_locator(ep, s, now, out);
	}
	return err;
}

static int on_peer_locator(struct net_endpoint *ep, struct session *s, uint64_t now, const uint8_t *p,
			   size_t len, struct net_out *out)
{
	struct net_locator rec;
	int changed = 0;
	if (net_locator_decode(&rec, p, len) != 0 || memcmp(rec.pk, s->peer_pk, 32) != 0) {
		count(ep, NET_STAT_DROP_LOCATOR);
		return 0;
	}
	if (!s->have_locator) {
		s->loc = rec;
		s->have_locator = 1;
		changed = 1;
	} else if (net_locator_merge(&s->loc, &rec, &changed) != 0) {
		count(ep, NET_STAT_DROP_LOCATOR);
		return 0;
	}
	int err = 0;
	if (changed) {
		s->loc_idx = 0;
		err = out_event(out, NET_ACT_PEER_LOCATOR, s, p, len, 0);
	}
	/* Every accepted copy is acknowledged (also an old or repeated one:
	 * the first acknowledgement may have been lost), with the sequence
	 * number we now hold. */
	uint8_t ack[LOCATOR_ACK_LEN] = {INNER_LOCATOR_ACK};
	store_le64(ack + 1, s->loc.seq);
	return err ? err : send_inner(ep, s, now, ack, sizeof ack, out);
}

static void on_locator_ack(struct net_endpoint *ep, struct session *s, const uint8_t *p, size_t len)
{
	if (len != LOCATOR_ACK_LEN) {
		count(ep, NET_STAT_DROP_MALFORMED);
		return;
	}
	/* An acknowledgement of an older record than the one in flight does
	 * not stop the retries. */
	if (load_le64(p + 1) >= s->loc_sent_seq)
		s->loc_retry_at = NONE;
}

static struct keypair *find_keypair(struct net_endpoint *ep, uint32_t idx, struct session **sp)
{
	struct session *s = find_by_idx(ep, idx);
	if (!s)
		return NULL;
	struct keypair *k[3] = {&s->cur, &s->next, &s->prev};
	for (int j = 0; j < 3; j++)
		if (k[j]->valid && k[j]->local_idx == idx) {
			*sp = s;
			return k[j];
		}
	return NULL;
}

static int on_data(struct net_endpoint *ep, uint64_t now, const struct net_addr *from,
		   const uint8_t *p, size_t len, struct net_out *out)
{
	uint32_t idx = get_le32(p + 4);
	uint64_t ctr = load_le64(p + D_COUNTER);
	struct session *s;
	struct keypair *kp = find_keypair(ep, idx, &s);
	if (!kp) {
		count(ep, NET_STAT_DROP_UNKNOWN);
		return 0;
	}
	if (now - kp->created_ms >= ep->cfg.reject_after_ms) {
		count(ep, NET_STAT_DROP_AUTH);
		return 0;
	}
	/* Check the window before spending the AEAD on the packet. */
	if (ctr >= ep->cfg.reject_after_messages || !replay_check(&kp->rp, ctr)) {
		count(ep, NET_STAT_DROP_REPLAY);
		return 0;
	}
	uint8_t m[NET_MAX_DATAGRAM];
	size_t mlen = len - NET_DATA_HEADER_LEN - 16;
	if (aead_open(m, kp->recv_key, ctr, p + NET_DATA_HEADER_LEN, len - NET_DATA_HEADER_LEN,
		      NULL, 0) != 0) {
		count(ep, NET_STAT_DROP_AUTH);
		return 0;
	}
	replay_update(&kp->rp, ctr);
	int err = 0;
	if (kp == &s->next) {
		/* The initiator used the keys we derived: they are confirmed. */
		keypair_clear(&s->prev);
		s->prev = s->cur;
		s->cur = s->next;
		memset(&s->next, 0, sizeof s->next);
		kp = &s->cur;
		count(ep, NET_STAT_HANDSHAKE_DONE);
	}
	/* Roaming: an authentic packet is proof the peer is at its source. */
	if (!s->have_addr || !net_addr_equal(&s->addr, from)) {
		if (s->have_addr)
			count(ep, NET_STAT_ROAM);
		s->addr = *from;
		s->have_addr = 1;
	}
	s->unanswered_since = NONE;
	s->heard_since_hs = 1;
	if ((err = on_established(ep, s, now, out)) != 0)
		return err;
	if (s->qn && key_usable_send(ep, &s->cur, now) && (err = flush_queue(ep, s, now, out)) != 0)
		return err;
	if (mlen == 0)
		goto maybe_rekey; /* keepalive */
	if (m[0] > INNER_LOCATOR_ACK) {
		count(ep, NET_STAT_DROP_MALFORMED);
		goto maybe_rekey;
	}
	if (s->keepalive_due == NONE)
		s->keepalive_due = now + ep->cfg.keepalive_ms;
	if (m[0] == INNER_APP)
		err = out_event(out, NET_ACT_DELIVER, s, m + 1, mlen - 1, 0);
	else if (m[0] == INNER_LOCATOR)
		err = on_peer_locator(ep, s, now, m + 1, mlen - 1, out);
	else
		on_locator_ack(ep, s, m, mlen);
maybe_rekey:
	bytes_wipe(m, mlen);
	/* A peer that only receives would otherwise let the keys age out. */
	if (!err && kp->initiator && !s->hs_running && now - kp->created_ms >= ep->cfg.rekey_after_ms) {
		count(ep, NET_STAT_REKEY);
		err = start_handshake(ep, s, now, out);
	}
	return err;
}

/* ---- handshake: initiator ---------------------------------------------------------- */

static int send_initiation(struct net_endpoint *ep, struct session *s, uint64_t now,
			   struct net_out *out)
{
	if (!s->have_addr) {
		if (!s->have_locator)
			return -CN_ESTATE;
		s->addr = s->loc.addrs[s->loc_idx % s->loc.n_addrs];
		s->have_addr = 1;
	}
	int err = ensure_ss(ep, s);
	if (err)
		return err;
	uint8_t msg[NET_INITIATION_LEN] = {NET_PKT_INITIATION};
	uint8_t k[32], dhout[32], ts[8];
	uint32_t idx;
	/* The flag goes down first so the old index stops resolving here. */
	s->hs_running = 0;
	if ((err = fresh_index(ep, s, &idx)) != 0)
		return err;
	s->hs_idx = idx;
	s->hs_running = 1;
	put_le32(msg + I_SENDER, s->hs_idx);
	memcpy(s->hs_c, ep->ck0, 32);
	memcpy(s->hs_h, s->h0, 32);
	new_ephemeral(ep, s->hs_eph_sk, s->hs_eph_pk);
	memcpy(msg + I_EPH, s->hs_eph_pk, 32);
	net_kdf2(s->hs_c, s->hs_eph_pk, 32, s->hs_c, NULL);
	mix_hash(s->hs_h, s->hs_eph_pk, 32);
	if ((err = dh(ep, dhout, s->hs_eph_sk, s->peer_xpk)) != 0)
		goto out;
	net_kdf2(s->hs_c, dhout, 32, s->hs_c, k);
	aead_seal(msg + I_STATIC, k, 0, ep->id.pk, 32, s->hs_h, 32);
	mix_hash(s->hs_h, msg + I_STATIC, 48);
	net_kdf2(s->hs_c, s->ss, 32, s->hs_c, k);
	/* Strictly increasing, so the responder can refuse replayed initiations. */
	uint64_t t = now > ep->last_ts_sent ? now : ep->last_ts_sent + 1;
	ep->last_ts_sent = t;
	store_be64(ts, t);
	aead_seal(msg + I_TS, k, 0, ts, 8, s->hs_h, 32);
	mix_hash(s->hs_h, msg + I_TS, 24);
	net_mac(msg + I_MAC1, 16, s->mac1_key, 32, msg, I_MAC1);
	memcpy(s->hs_mac1, msg + I_MAC1, 16);
	s->hs_mac1_valid = 1;
	if (s->have_cookie && now - s->cookie_ms < COOKIE_VALID_MS)
		net_mac(msg + I_MAC2, 16, s->cookie, 16, msg, I_MAC2);
	s->hs_sent_ms = now;
	s->heard_since_hs = 0;
	s->hs_attempts++;
	err = out_send(ep, out, &s->addr, msg, sizeof msg);
out:
	bytes_wipe(k, sizeof k);
	bytes_wipe(dhout, sizeof dhout);
	return err;
}

static int start_handshake(struct net_endpoint *ep, struct session *s, uint64_t now,
			   struct net_out *out)
{
	s->hs_running = 1;
	s->hs_attempts = 0;
	int err = send_initiation(ep, s, now, out);
	if (err)
		s->hs_running = 0;
	return err;
}

static int on_response(struct net_endpoint *ep, uint64_t now, const struct net_addr *from,
		       const uint8_t *p, struct net_out *out)
{
	uint8_t mac[16];
	net_mac(mac, 16, ep->mac1_key_self, 32, p, R_MAC1);
	if (!bytes_equal_ct(mac, p + R_MAC1, 16)) {
		count(ep, NET_STAT_DROP_MAC);
		return 0;
	}
	uint32_t idx = get_le32(p + R_RECEIVER);
	struct session *s = find_by_idx(ep, idx);
	if (!s || !s->hs_running || s->hs_idx != idx) {
		count(ep, NET_STAT_DROP_UNKNOWN);
		return 0;
	}
	uint8_t c[32], h[32], k[32], d[32], t1[32], t2[32];
	int err = 0;
	memcpy(c, s->hs_c, 32);
	memcpy(h, s->hs_h, 32);
	net_kdf2(c, p + R_EPH, 32, c, NULL);
	mix_hash(h, p + R_EPH, 32);
	if (dh(ep, d, s->hs_eph_sk, p + R_EPH) != 0)
		goto bad;
	net_kdf2(c, d, 32, c, NULL);
	if (dh(ep, d, ep->id.x_sk, p + R_EPH) != 0)
		goto bad;
	net_kdf2(c, d, 32, c, k);
	if (aead_open(NULL, k, 0, p + R_EMPTY, 16, h, 32) != 0)
		goto bad;
	net_kdf2(c, NULL, 0, t1, t2);

	keypair_clear(&s->prev);
	s->prev = s->cur;
	struct keypair *kp = &s->cur;
	memset(kp, 0, sizeof *kp);
	kp->valid = 1;
	kp->initiator = 1;
	kp->local_idx = s->hs_idx;
	kp->remote_idx = get_le32(p + 4);
	memcpy(kp->send_key, t1, 32);
	memcpy(kp->recv_key, t2, 32);
	kp->created_ms = now;
	s->hs_running = 0;
	s->hs_mac1_valid = 0;
	bytes_wipe(s->hs_eph_sk, 32);
	if (!net_addr_equal(&s->addr, from))
		count(ep, NET_STAT_ROAM);
	s->addr = *from;
	s->have_addr = 1;
	s->unanswered_since = NONE;
	count(ep, NET_STAT_HANDSHAKE_DONE);
	if (!(err = on_established(ep, s, now, out))) {
		/* The responder holds the keys as "next" until it sees a packet
		 * under them: confirm at once, with data if any is waiting. */
		if (s->qn)
			err = flush_queue(ep, s, now, out);
		else if (kp->send_ctr == 0)
			err = send_inner(ep, s, now, NULL, 0, out);
	}
	goto out;
bad:
	count(ep, NET_STAT_DROP_AUTH);
out:
	bytes_wipe(c, 32), bytes_wipe(k, 32), bytes_wipe(d, 32), bytes_wipe(t1, 32), bytes_wipe(t2, 32);
	return err;
}

static int on_cookie(struct net_endpoint *ep, uint64_t now, const uint8_t *p, struct net_out *out)
{
	uint32_t idx = get_le32(p + 4);
	struct session *s = find_by_idx(ep, idx);
	if (!s || !s->hs_running || !s->hs_mac1_valid || s->hs_idx != idx) {
		count(ep, NET_STAT_DROP_UNKNOWN);
		return 0;
	}
	uint8_t cookie[16];
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(cookie, NULL, NULL, p + C_COOKIE, 32, s->hs_mac1,
						       16, p + C_NONCE, s->cookie_key) != 0) {
		count(ep, NET_STAT_DROP_AUTH);
		return 0;
	}
	count(ep, NET_STAT_COOKIE_RECEIVED);
	memcpy(s->cookie, cookie, 16);
	s->cookie_ms = now;
	s->have_cookie = 1;
	s->hs_mac1_valid = 0;
	/* Retry at once with mac2: the responder is busy, not gone. One retry
	 * per cookie reply, and a reply only answers our latest mac1. */
	return send_initiation(ep, s, now, out);
}

/* ---- handshake: responder ------------------------------------------------------------ */

static void cookie_for(struct net_endpoint *ep, uint64_t now, const struct net_addr *from,
		       uint8_t cookie[16])
{
	if (!ep->have_secret || now - ep->cookie_secret_ms >= COOKIE_SECRET_MS) {
		random_bytes(ep, ep->cookie_secret, 32);
		ep->cookie_secret_ms = now;
		ep->have_secret = 1;
	}
	uint8_t a[19];
	addr_bytes(from, a);
	net_mac(cookie, 16, ep->cookie_secret, 32, a, sizeof a);
}

static int send_cookie_reply(struct net_endpoint *ep, uint64_t now, const struct net_addr *from,
			     const uint8_t *init, struct net_out *out)
{
	uint8_t msg[NET_COOKIE_LEN] = {NET_PKT_COOKIE}, cookie[16];
	memcpy(msg + C_RECEIVER, init + I_SENDER, 4);
	random_bytes(ep, msg + C_NONCE, 24);
	cookie_for(ep, now, from, cookie);
	crypto_aead_xchacha20poly1305_ietf_encrypt(msg + C_COOKIE, NULL, cookie, 16, init + I_MAC1, 16,
						   NULL, msg + C_NONCE, ep->cookie_key_self);
	count(ep, NET_STAT_COOKIE_SENT);
	return out_send(ep, out, from, msg, sizeof msg);
}

/* Under load, a cookie proves the source can receive, not that it is
 * polite: each source IP gets handshake_rate DH-costing initiations per
 * second (burst handshake_burst). Ports are ignored, as one host has many. */
static int rate_ok(struct net_endpoint *ep, uint64_t now, const struct net_addr *from)
{
	uint8_t a[17], h[8];
	a[0] = from->family;
	memcpy(a + 1, from->ip, 16);
	/* Keyed with the (secret) cookie key so that nobody can aim for a
	 * victim's bucket; cookie_for() has set it up by now. */
	net_mac(h, 8, ep->cookie_secret, 32, a, sizeof a);
	uint64_t key = load_le64(h) | 1;
	uint64_t burst = (uint64_t)ep->cfg.handshake_burst * 1000;
	size_t i = (size_t)(key % RL_SLOTS);
	if (ep->rl[i].key != key || now < ep->rl[i].last_ms) {
		ep->rl[i].key = key;
		ep->rl[i].milli = burst;
	} else {
		uint64_t add = (now - ep->rl[i].last_ms) * ep->cfg.handshake_rate;
		ep->rl[i].milli = add >= burst - ep->rl[i].milli ? burst : ep->rl[i].milli + add;
	}
	ep->rl[i].last_ms = now;
	if (ep->rl[i].milli < 1000)
		return 0;
	ep->rl[i].milli -= 1000;
	return 1;
}

static int on_initiation(struct net_endpoint *ep, uint64_t now, const struct net_addr *from,
			 const uint8_t *p, struct net_out *out)
{
	uint8_t mac[16];
	net_mac(mac, 16, ep->mac1_key_self, 32, p, I_MAC1);
	if (!bytes_equal_ct(mac, p + I_MAC1, 16)) {
		count(ep, NET_STAT_DROP_MAC);
		return 0;
	}
	/* Load is judged by initiations with a valid mac1 per second: those
	 * are what would cost us Diffie-Hellman. Above the threshold only an
	 * initiation carrying a cookie for its source address gets the DH. */
	if (now - ep->load_window_ms >= 1000 || now < ep->load_window_ms) {
		ep->load_window_ms = now;
		ep->load_count = 0;
	}
	if (++ep->load_count > ep->cfg.load_threshold) {
		uint8_t cookie[16];
		cookie_for(ep, now, from, cookie);
		net_mac(mac, 16, cookie, 16, p, I_MAC2);
		if (!bytes_equal_ct(mac, p + I_MAC2, 16))
			return send_cookie_reply(ep, now, from, p, out);
		if (!rate_ok(ep, now, from)) {
			count(ep, NET_STAT_DROP_RATELIMIT);
			return 0;
		}
	}

	uint8_t c[32], h[32], k[32], d[32], pk[32], ts[8], t1[32], t2[32];
	uint8_t esk[32], epk[32];
	struct session *s = NULL;
	int err = 0;
	memcpy(c, ep->ck0, 32);
	memcpy(h, ep->h0_self, 32);
	net_kdf2(c, p + I_EPH, 32, c, NULL);
	mix_hash(h, p + I_EPH, 32);
	if (dh(ep, d, ep->id.x_sk, p + I_EPH) != 0)
		goto bad;
	net_kdf2(c, d, 32, c, k);
	if (aead_open(pk, k, 0, p + I_STATIC, 48, h, 32) != 0)
		goto bad;
	mix_hash(h, p + I_STATIC, 48);
	uint8_t id[32];
	net_node_id(pk, id);
	s = find_by_id(ep, id);
	if (!s) {
		if (!ep->cfg.accept_unknown || !memcmp(pk, ep->id.pk, 32)) {
			count(ep, NET_STAT_DROP_UNKNOWN);
			goto out;
		}
		if ((err = session_new(ep, pk, &s)) != 0) {
			/* The peer table is full (counted) or the key is not a
			 * curve point (an authentic-looking forgery). */
			if (err == -CN_EVERIFY)
				count(ep, NET_STAT_DROP_AUTH);
			err = err == -CN_ENOMEM ? err : 0;
			goto out;
		}
	}
	if (ensure_ss(ep, s) != 0)
		goto bad;
	net_kdf2(c, s->ss, 32, c, k);
	if (aead_open(ts, k, 0, p + I_TS, 24, h, 32) != 0)
		goto bad;
	mix_hash(h, p + I_TS, 24);
	uint64_t t = load_be64(ts);
	if (s->last_ts_seen && t <= s->last_ts_seen) {
		count(ep, NET_STAT_DROP_HS_REPLAY);
		goto out;
	}
	s->last_ts_seen = t ? t : 1;

	uint8_t msg[NET_RESPONSE_LEN] = {NET_PKT_RESPONSE};
	uint32_t idx;
	/* Old "next" keys are replaced: their index must not resolve any more. */
	keypair_clear(&s->next);
	if ((err = fresh_index(ep, s, &idx)) != 0)
		goto out;
	put_le32(msg + R_SENDER, idx);
	memcpy(msg + R_RECEIVER, p + I_SENDER, 4);
	new_ephemeral(ep, esk, epk);
	memcpy(msg + R_EPH, epk, 32);
	net_kdf2(c, epk, 32, c, NULL);
	mix_hash(h, epk, 32);
	if (dh(ep, d, esk, p + I_EPH) != 0)
		goto bad;
	net_kdf2(c, d, 32, c, NULL);
	if (dh(ep, d, esk, s->peer_xpk) != 0)
		goto bad;
	net_kdf2(c, d, 32, c, k);
	aead_seal(msg + R_EMPTY, k, 0, NULL, 0, h, 32);
	net_mac(msg + R_MAC1, 16, s->mac1_key, 32, msg, R_MAC1);
	net_kdf2(c, NULL, 0, t1, t2);

	struct keypair *kp = &s->next;
	kp->valid = 1;
	kp->local_idx = idx;
	kp->remote_idx = get_le32(p + 4);
	memcpy(kp->send_key, t2, 32);
	memcpy(kp->recv_key, t1, 32);
	kp->created_ms = now;
	if (s->have_addr && !net_addr_equal(&s->addr, from))
		count(ep, NET_STAT_ROAM);
	s->addr = *from;
	s->have_addr = 1;
	s->heard_since_hs = 1;
	err = out_send(ep, out, from, msg, sizeof msg);
	goto out;
bad:
	count(ep, NET_STAT_DROP_AUTH);
out:
	bytes_wipe(c, 32), bytes_wipe(k, 32), bytes_wipe(d, 32), bytes_wipe(t1, 32);
	bytes_wipe(t2, 32), bytes_wipe(esk, 32);
	return err;
}

/* ---- framing ----------------------------------------------------------------------- */

int net_packet_classify(const uint8_t *p, size_t len)
{
	if (len > NET_MAX_DATAGRAM)
		return -CN_ELIMIT;
	if (len < 4 || p[1] || p[2] || p[3])
		return -CN_EINVAL;
	switch (p[0]) {
	case NET_PKT_INITIATION:
		return len == NET_INITIATION_LEN ? NET_PKT_INITIATION : -CN_EINVAL;
	case NET_PKT_RESPONSE:
		return len == NET_RESPONSE_LEN ? NET_PKT_RESPONSE : -CN_EINVAL;
	case NET_PKT_COOKIE:
		return len == NET_COOKIE_LEN ? NET_PKT_COOKIE : -CN_EINVAL;
	case NET_PKT_DATA:
		return len >= NET_DATA_MIN_LEN ? NET_PKT_DATA : -CN_EINVAL;
	default:
		return -CN_EINVAL;
	}
}

/* ---- timers -------------------------------------------------------------------------- */

static void close_session(struct net_endpoint *ep, struct session *s)
{
	keypair_clear(&s->cur);
	keypair_clear(&s->prev);
	keypair_clear(&s->next);
	s->hs_running = 0;
	s->hs_mac1_valid = 0;
	bytes_wipe(s->hs_eph_sk, 32);
	s->established = 0;
	s->unanswered_since = NONE;
	s->keepalive_due = NONE;
	s->loc_retry_at = NONE;
	s->loc_sent_seq = 0;            /* a new session is told afresh */
	if (s->q)
		bytes_wipe(s->q, s->qn * sizeof *s->q);
	s->qn = 0;
}

/* Moves the session off its current address to the next locator entry. */
static void next_locator(struct net_endpoint *ep, struct session *s)
{
	if (!s->have_locator)
		return;
	unsigned n = s->loc.n_addrs, at = s->loc_idx % n;
	if (s->have_addr)
		for (unsigned i = 0; i < n; i++)
			if (net_addr_equal(&s->loc.addrs[i], &s->addr))
				at = i;
	s->loc_idx = (at + 1) % n;
	if (s->have_addr && net_addr_equal(&s->addr, &s->loc.addrs[s->loc_idx]))
		return; /* a single-address record: nowhere else to go */
	s->addr = s->loc.addrs[s->loc_idx];
	s->have_addr = 1;
	count(ep, NET_STAT_PATH_SWITCH);
}

static int service_session(struct net_endpoint *ep, struct session *s, uint64_t now,
			   struct net_out *out)
{
	int err = 0;
	struct keypair *k[3] = {&s->cur, &s->prev, &s->next};
	for (int j = 0; j < 3; j++)
		if (k[j]->valid && now - k[j]->created_ms >= ep->cfg.reject_after_ms)
			keypair_clear(k[j]);
	if (s->established && !s->cur.valid && !s->next.valid && !s->hs_running) {
		close_session(ep, s);
		return out_event(out, NET_ACT_CLOSED, s, NULL, 0, NET_CLOSE_EXPIRED);
	}
	if (s->hs_running && now - s->hs_sent_ms >= ep->cfg.rekey_timeout_ms) {
		if (s->hs_attempts >= ep->cfg.handshake_attempts) {
			s->hs_running = 0;
			s->hs_mac1_valid = 0;
			if (!key_usable_send(ep, &s->cur, now)) {
				close_session(ep, s);
				return out_event(out, NET_ACT_CLOSED, s, NULL, 0,
						 NET_CLOSE_HANDSHAKE_TIMEOUT);
			}
			return 0;
		}
		/* Unanswered initiations move on to the next locator, unless
		 * the peer was heard from since the last one: then the path
		 * works (the session may well be carrying data on it) and only
		 * handshake packets were lost, so moving would break it. */
		if (s->hs_attempts % ep->cfg.attempts_per_locator == 0 && s->have_locator &&
		    !s->heard_since_hs)
			next_locator(ep, s);
		if ((err = send_initiation(ep, s, now, out)) != 0)
			return err;
	}
	if (s->unanswered_since != NONE && now - s->unanswered_since >= ep->cfg.path_timeout_ms) {
		/* Data went out and nothing authentic came back: the path (or
		 * the peer) is gone. A fresh handshake on the next locator. */
		s->unanswered_since = NONE;
		if (s->have_locator && s->loc.n_addrs > 1)
			next_locator(ep, s);
		if (!s->hs_running && (s->have_addr || s->have_locator) &&
		    (err = start_handshake(ep, s, now, out)) != 0)
			return err;
	}
	if (s->qn && !s->hs_running && !key_usable_send(ep, &s->cur, now) &&
	    (s->have_addr || s->have_locator) &&
	    !(s->next.valid && now - s->next.created_ms < ep->cfg.rekey_timeout_ms) &&
	    (err = start_handshake(ep, s, now, out)) != 0)
		return err;
	if (s->loc_retry_at != NONE && now >= s->loc_retry_at) {
		s->loc_retry_at = NONE;
		if (s->established && ep->have_own) {
			if (!key_usable_send(ep, &s->cur, now))
				s->loc_retry_at = now + ep->cfg.rekey_timeout_ms; /* after the rekey */
			else if ((err = send_own_locator(ep, s, now, out)) != 0)
				return err;
		}
	}
	if (s->keepalive_due != NONE && now >= s->keepalive_due) {
		s->keepalive_due = NONE;
		if (key_usable_send(ep, &s->cur, now))
			err = send_inner(ep, s, now, NULL, 0, out);
	}
	return err;
}

static uint64_t session_deadline(const struct net_endpoint *ep, const struct session *s)
{
	uint64_t d = NONE;
#define AT(t) do { uint64_t t_ = (t); if (t_ < d) d = t_; } while (0)
	if (s->hs_running)
		AT(s->hs_sent_ms + ep->cfg.rekey_timeout_ms);
	if (s->unanswered_since != NONE)
		AT(s->unanswered_since + ep->cfg.path_timeout_ms);
	if (s->keepalive_due != NONE)
		AT(s->keepalive_due);
	if (s->loc_retry_at != NONE)
		AT(s->loc_retry_at);
	if (s->qn && !s->hs_running && s->next.valid)
		AT(s->next.created_ms + ep->cfg.rekey_timeout_ms);
	const struct keypair *k[3] = {&s->cur, &s->prev, &s->next};
	for (int j = 0; j < 3; j++)
		if (k[j]->valid)
			AT(k[j]->created_ms + ep->cfg.reject_after_ms);
#undef AT
	return d;
}

/* ---- step ---------------------------------------------------------------------------- */

static int on_datagram(struct net_endpoint *ep, uint64_t now, const struct net_input *in,
		       struct net_out *out)
{
	count(ep, NET_STAT_RX);
	if (!in->data && in->len)
		return -CN_EINVAL;
	int type = net_packet_classify(in->data, in->len);
	if (type == -CN_ELIMIT) {
		count(ep, NET_STAT_DROP_OVERSIZE);
		return 0;
	}
	if (type < 0 || (in->addr.family != 4 && in->addr.family != 6)) {
		count(ep, NET_STAT_DROP_MALFORMED);
		return 0;
	}
	switch (type) {
	case NET_PKT_INITIATION:
		return on_initiation(ep, now, &in->addr, in->data, out);
	case NET_PKT_RESPONSE:
		return on_response(ep, now, &in->addr, in->data, out);
	case NET_PKT_COOKIE:
		return on_cookie(ep, now, in->data, out);
	default:
		return on_data(ep, now, &in->addr, in->data, in->len, out);
	}
}

static int awaiting_confirmation(const struct net_endpoint *ep, const struct session *s,
				 uint64_t now)
{
	return s->next.valid && now - s->next.created_ms < ep->cfg.rekey_timeout_ms;
}

static int on_send(struct net_endpoint *ep, uint64_t now, const struct net_input *in,
		   struct net_out *out)
{
	if (!in->peer || in->len > NET_MAX_PAYLOAD || (!in->data && in->len))
		return -CN_EINVAL;
	struct session *s = find_by_id(ep, in->peer);
	if (!s)
		return -CN_ENOTFOUND;
	uint8_t p[1 + NET_MAX_PAYLOAD];
	p[0] = INNER_APP;
	if (in->len)
		memcpy(p + 1, in->data, in->len);
	if (key_usable_send(ep, &s->cur, now))
		return send_inner(ep, s, now, p, 1 + in->len, out);
	int err = queue_push(ep, s, p, 1 + in->len);
	/* Keys we answered a handshake with are confirmed within a round trip
	 * by the initiator's first packet; starting our own handshake now would
	 * only collide with it. The timer covers a lost confirmation. */
	if (!err && !s->hs_running && !awaiting_confirmation(ep, s, now)) {
		if (!s->have_addr && !s->have_locator)
			return -CN_ESTATE;
		err = start_handshake(ep, s, now, out);
	}
	return err;
}

static int on_announce(struct net_endpoint *ep, uint64_t now, const struct net_locator *rec,
		       struct net_out *out)
{
	if (!rec || memcmp(rec->pk, ep->id.pk, 32) != 0 || net_locator_verify(rec) != 0)
		return -CN_EINVAL;
	if (ep->have_own && rec->seq <= ep->own.seq)
		return -CN_ESTATE;
	ep->own = *rec;
	ep->have_own = 1;
	for (size_t i = 0; i < ep->ns; i++) {
		struct session *s = ep->s[i];
		if (!s->established)
			continue; /* told when the session comes up */
		if (!key_usable_send(ep, &s->cur, now)) {
			s->loc_retry_at = now + ep->cfg.rekey_timeout_ms;
			continue;
		}
		int err = send_own_locator(ep, s, now, out);
		if (err)
			return err;
	}
	return 0;
}

int net_endpoint_step(struct net_endpoint *ep, uint64_t now, const struct net_input *in,
		      struct net_out *out)
{
	int err = 0;
	size_t first = out->n;
	for (size_t i = 0; i < ep->ns && !err; i++)
		err = service_session(ep, ep->s[i], now, out);
	if (!err && in) {
		switch (in->kind) {
		case NET_IN_TIMER:
			break;
		case NET_IN_DATAGRAM:
			err = on_datagram(ep, now, in, out);
			break;
		case NET_IN_SEND:
			err = on_send(ep, now, in, out);
			break;
		case NET_IN_ANNOUNCE:
			err = on_announce(ep, now, in->locator, out);
			break;
		case NET_IN_CLOSE: {
			struct session *s = in->peer ? find_by_id(ep, in->peer) : NULL;
			if (!s) {
				err = -CN_ENOTFOUND;
				break;
			}
			close_session(ep, s);
			err = out_event(out, NET_ACT_CLOSED, s, NULL, 0, NET_CLOSE_LOCAL);
			break;
		}
		default:
			err = -CN_EINVAL;
		}
	}
	uint64_t d = NONE;
	for (size_t i = 0; i < ep->ns; i++) {
		uint64_t t = session_deadline(ep, ep->s[i]);
		if (t < d)
			d = t;
	}
	if (d != NONE && d != ep->timer_armed) {
		struct net_action *a = out_push(out, NET_ACT_TIMER, NULL, 0);
		if (!a)
			return -CN_ENOMEM;
		a->at_ms = d;
		/* First among this step's actions: a driver that handles them in
		 * order may step again from one of them (a delivery answered at
		 * once), and the deadline that nested step arms is the newer one,
		 * so ours must not come after it. */
		struct net_action t = *a;
		memmove(out->act + first + 1, out->act + first, (out->n - 1 - first) * sizeof *out->act);
		out->act[first] = t;
	}
	ep->timer_armed = d;
	return err;
}
