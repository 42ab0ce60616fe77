/* gossip.c — topic pub/sub with eager push and IHAVE/IWANT (see gossip.h).
 *
 * Wire format (docs/net-gossip.md has the rules):
 *   SUB    21 | tlen (1) | topic
 *   UNSUB  22 | tlen (1) | topic
 *   MSG    23 | tlen (1) | topic | data (1..max_msg_size)
 *   IHAVE  24 | tlen (1) | topic | n (1) | n ids of 20 bytes
 *   IWANT  25 | n (1) | n ids of 20 bytes
 * with 1 <= tlen <= GOSSIP_TOPIC_MAX and 1 <= n <= GOSSIP_IDS_MAX; a frame
 * with bytes left over or missing is malformed.
 *
 * State: one ring of recently seen ids in arrival order (the dedup cache),
 * whose newest entries also hold the whole MSG frame (the message cache for
 * IWANT answers); a table of ids we asked for, with the other peers that
 * announced them; the topics with their subscribed peers; per-peer buckets,
 * scores and cooldowns. Id lookups go through open-addressing tables keyed
 * by SipHash with a key from the seed, since IHAVE ids are the sender's
 * choice and an unkeyed hash would let it pick colliding ones. */
#include "net/gossip.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/prng.h"

#define WANT_ALTS 4           /* announcers remembered per wanted id */
#define NIL UINT32_MAX

/* ---- actions --------------------------------------------------------------- */

void gossip_out_init(struct gossip_out *out)
{
	memset(out, 0, sizeof *out);
	out->next_timer_ms = UINT64_MAX;
}

void gossip_out_reset(struct gossip_out *out)
{
	for (size_t i = 0; i < out->n; i++)
		free(out->a[i].data);
	out->n = 0;
	out->oom = 0;
	out->next_timer_ms = UINT64_MAX;
}

void gossip_out_free(struct gossip_out *out)
{
	gossip_out_reset(out);
	free(out->a);
	memset(out, 0, sizeof *out);
}

/* Takes ownership of data (freed on failure). */
static struct gossip_action *push(struct gossip_out *out, enum gossip_action_kind kind, uint32_t peer,
				  uint8_t *data, size_t len)
{
	if (out->n == out->cap) {
		size_t cap = out->cap ? out->cap * 2 : 32;
		struct gossip_action *a = realloc(out->a, cap * sizeof *a);
		if (!a) {
			free(data);
			out->oom = 1;
			return NULL;
		}
		out->a = a;
		out->cap = cap;
	}
	struct gossip_action *a = &out->a[out->n++];
	memset(a, 0, sizeof *a);
	a->kind = kind;
	a->peer = peer;
	a->data = data;
	a->len = len;
	return a;
}

static void send_copy(struct gossip_out *out, uint32_t peer, const uint8_t *frame, size_t len)
{
	uint8_t *d = malloc(len);
	if (!d) {
		out->oom = 1;
		return;
	}
	memcpy(d, frame, len);
	push(out, GOSSIP_A_SEND, peer, d, len);
}

/* ---- id tables ------------------------------------------------------------- */

/* Maps a 20-byte id to a uint32_t value (an index into the owner's array,
 * where the id itself lives: keyof() finds it). Linear probing with
 * backward-shift deletion, so there are no tombstones to pile up. */
struct idmap {
	uint32_t *slot;           /* value, or NIL */
	uint32_t mask;
	const uint8_t *(*keyof)(const void *owner, uint32_t v);
	const void *owner;
	uint8_t key[crypto_shorthash_KEYBYTES];
};

static int idmap_init(struct idmap *m, uint32_t entries, const uint8_t key[crypto_shorthash_KEYBYTES],
		      const uint8_t *(*keyof)(const void *, uint32_t), const void *owner)
{
	uint32_t n = 16;
	while (n < 2 * (uint64_t)entries)
		n <<= 1;
	m->slot = malloc((size_t)n * sizeof *m->slot);
	if (!m->slot)
		return -CN_ENOMEM;
	memset(m->slot, 0xff, (size_t)n * sizeof *m->slot);
	m->mask = n - 1;
	m->keyof = keyof;
	m->owner = owner;
	memcpy(m->key, key, sizeof m->key);
	return 0;
}

static uint32_t idmap_hash(const struct idmap *m, const uint8_t id[GOSSIP_ID_LEN])
{
	uint8_t h[crypto_shorthash_BYTES];
	crypto_shorthash(h, id, GOSSIP_ID_LEN, m->key);
	return ((uint32_t)h[0] | (uint32_t)h[1] << 8 | (uint32_t)h[2] << 16 | (uint32_t)h[3] << 24) & m->mask;
}

static uint32_t idmap_get(const struct idmap *m, const uint8_t id[GOSSIP_ID_LEN])
{
	for (uint32_t i = idmap_hash(m, id);; i = (i + 1) & m->mask) {
		uint32_t v = m->slot[i];
		if (v == NIL)
			return NIL;
		if (memcmp(m->keyof(m->owner, v), id, GOSSIP_ID_LEN) == 0)
			return v;
	}
}

/* The id must not be present; the table is sized so it never fills. */
static void idmap_put(struct idmap *m, const uint8_t id[GOSSIP_ID_LEN], uint32_t v)
{
	uint32_t i = idmap_hash(m, id);
	while (m->slot[i] != NIL)
		i = (i + 1) & m->mask;
	m->slot[i] = v;
}

static void idmap_del(struct idmap *m, const uint8_t id[GOSSIP_ID_LEN])
{
	uint32_t i = idmap_hash(m, id);
	for (;; i = (i + 1) & m->mask) {
		if (m->slot[i] == NIL)
			return;
		if (memcmp(m->keyof(m->owner, m->slot[i]), id, GOSSIP_ID_LEN) == 0)
			break;
	}
	/* Shift later members of the probe run back over the hole when their
	 * home slot does not lie cyclically in (hole, j]. */
	uint32_t hole = i;
	for (uint32_t j = (i + 1) & m->mask; m->slot[j] != NIL; j = (j + 1) & m->mask) {
		uint32_t home = idmap_hash(m, m->keyof(m->owner, m->slot[j]));
		int stays = hole <= j ? (hole < home && home <= j) : (hole < home || home <= j);
		if (!stays) {
			m->slot[hole] = m->slot[j];
			hole = j;
		}
	}
	m->slot[hole] = NIL;
}

/* ---- state ----------------------------------------------------------------- */

struct seen {
	uint8_t id[GOSSIP_ID_LEN];
	uint64_t t;
	uint8_t *frame;            /* the MSG frame while in the message cache */
	size_t flen;
};

struct want {
	uint8_t id[GOSSIP_ID_LEN];
	uint64_t deadline;
	uint32_t peers[WANT_ALTS];
	uint32_t asked;            /* the announcer asked last */
	uint8_t n, next;           /* announcers known; the next to ask */
	uint8_t used;
	uint32_t free_next;
};

struct gtopic {
	char name[GOSSIP_TOPIC_MAX + 1];
	uint8_t len;
	uint8_t ours;
	uint32_t *peers;
	uint32_t n, cap;
};

struct gpeer {
	uint8_t up;
	int64_t score;
	uint64_t score_t;          /* recovery is counted from here */
	uint64_t cool_until;
	uint64_t msg_tok, byte_tok, serve_tok;   /* token buckets, scaled by 1000 */
	uint64_t tok_t;
	uint32_t ntopics;
	uint32_t asked;            /* wants waiting on this peer */
};

struct gossip {
	struct gossip_config cfg;
	struct gossip_stats st;
	struct cn_prng rng;
	uint64_t now;

	struct seen *ring;         /* dedup_entries slots; seq % cap */
	uint64_t head, tail, dtail;  /* next seq; oldest seq; oldest seq that may hold a frame */
	uint64_t cache_bytes;
	struct idmap seen_map;

	struct want *wants;
	uint32_t want_free, n_wants;
	uint64_t want_next;        /* earliest want deadline (UINT64_MAX: none) */
	struct idmap want_map;

	struct gtopic *topics;
	uint32_t n_topics, cap_topics;

	struct gpeer *peers;
	uint32_t *scratch;         /* max_peers, for fan-out picks */
};

static const uint8_t *seen_key(const void *owner, uint32_t v)
{
	const struct gossip *g = owner;
	return g->ring[v].id;
}

static const uint8_t *want_key(const void *owner, uint32_t v)
{
	const struct gossip *g = owner;
	return g->wants[v].id;
}

int gossip_new(const struct gossip_config *cfg, struct gossip **out)
{
	if (!cfg || cfg->max_peers == 0 || cfg->max_peers > (1u << 20))
		return -CN_EINVAL;
	struct gossip *g = calloc(1, sizeof *g);
	if (!g)
		return -CN_ENOMEM;
	g->cfg = *cfg;
	struct gossip_config *c = &g->cfg;
	if (!c->fanout)
		c->fanout = 6;
	if (!c->dedup_entries)
		c->dedup_entries = 16384;
	if (c->dedup_entries > (1u << 26))
		c->dedup_entries = 1u << 26;
	if (!c->dedup_ttl_ms)
		c->dedup_ttl_ms = 120000;
	if (!c->mcache_ms)
		c->mcache_ms = 5000;
	if (!c->mcache_bytes)
		c->mcache_bytes = 64u << 20;
	if (!c->iwant_timeout_ms)
		c->iwant_timeout_ms = 1000;
	if (!c->max_wants)
		c->max_wants = 4096;
	if (c->max_wants > (1u << 24))
		c->max_wants = 1u << 24;
	if (!c->max_wants_per_peer)
		c->max_wants_per_peer = 256;
	if (!c->max_msg_size)
		c->max_msg_size = 8u << 20;
	if (!c->max_topics)
		c->max_topics = 1024;
	if (!c->max_topics_per_peer)
		c->max_topics_per_peer = 64;
	if (!c->msgs_per_s)
		c->msgs_per_s = 1000;
	if (!c->msgs_burst)
		c->msgs_burst = 2 * c->msgs_per_s;
	if (!c->bytes_per_s)
		c->bytes_per_s = 64u << 20;
	if (!c->bytes_burst)
		c->bytes_burst = 2 * c->bytes_per_s;
	/* A bucket smaller than one largest frame would refuse that frame forever. */
	uint64_t big = (uint64_t)c->max_msg_size + 2 + GOSSIP_TOPIC_MAX;
	if (c->bytes_burst < big)
		c->bytes_burst = big;
	if (c->bytes_per_s > (1ull << 40))
		c->bytes_per_s = 1ull << 40;
	if (c->bytes_burst > (1ull << 42))
		c->bytes_burst = 1ull << 42;
	if (!c->score_invalid)
		c->score_invalid = -10;
	if (!c->score_ratelimited)
		c->score_ratelimited = -1;
	if (!c->score_threshold)
		c->score_threshold = -50;
	if (!c->score_recover_ms)
		c->score_recover_ms = 1000;
	if (!c->cooldown_ms)
		c->cooldown_ms = 60000;
	cn_prng_seed(&g->rng, c->seed);
	uint8_t key[crypto_shorthash_KEYBYTES];
	cn_prng_fill(&g->rng, key, sizeof key);

	g->ring = calloc(c->dedup_entries, sizeof *g->ring);
	g->wants = calloc(c->max_wants, sizeof *g->wants);
	g->peers = calloc(c->max_peers, sizeof *g->peers);
	g->scratch = calloc(c->max_peers, sizeof *g->scratch);
	if (!g->ring || !g->wants || !g->peers || !g->scratch ||
	    idmap_init(&g->seen_map, c->dedup_entries, key, seen_key, g) ||
	    idmap_init(&g->want_map, c->max_wants, key, want_key, g)) {
		gossip_free(g);
		return -CN_ENOMEM;
	}
	for (uint32_t i = 0; i < c->max_wants; i++)
		g->wants[i].free_next = i + 1 < c->max_wants ? i + 1 : NIL;
	g->want_free = 0;
	g->want_next = UINT64_MAX;
	for (uint32_t i = 0; i < c->max_peers; i++) {
		g->peers[i].msg_tok = (uint64_t)c->msgs_burst * 1000;
		g->peers[i].byte_tok = g->peers[i].serve_tok = c->bytes_burst * 1000;
	}
	*out = g;
	return 0;
}

void gossip_free(struct gossip *g)
{
	if (!g)
		return;
	if (g->ring)
		for (uint32_t i = 0; i < g->cfg.dedup_entries; i++)
			free(g->ring[i].frame);
	for (uint32_t i = 0; i < g->n_topics; i++)
		free(g->topics[i].peers);
	free(g->topics);
	free(g->ring);
	free(g->wants);
	free(g->peers);
	free(g->scratch);
	free(g->seen_map.slot);
	free(g->want_map.slot);
	free(g);
}

const struct gossip_stats *gossip_stats(const struct gossip *g)
{
	return &g->st;
}

/* ---- topics ---------------------------------------------------------------- */

int gossip_topic_valid(const char *topic, size_t len)
{
	if (!topic || len == 0 || len > GOSSIP_TOPIC_MAX)
		return 0;
	for (size_t i = 0; i < len; i++)
		if ((uint8_t)topic[i] < 0x21 || (uint8_t)topic[i] > 0x7e)
			return 0;
	return 1;
}

static size_t topic_len(const char *topic)
{
	return topic ? strnlen(topic, GOSSIP_TOPIC_MAX + 1) : 0;
}

int gossip_msg_id(const char *topic, const uint8_t *data, size_t len, uint8_t id[GOSSIP_ID_LEN])
{
	size_t tl = topic_len(topic);
	if (!gossip_topic_valid(topic, tl) || (len && !data))
		return -CN_EINVAL;
	uint8_t t = (uint8_t)tl, h[32];
	crypto_generichash_state st;
	crypto_generichash_init(&st, NULL, 0, sizeof h);
	crypto_generichash_update(&st, &t, 1);
	crypto_generichash_update(&st, (const uint8_t *)topic, tl);
	crypto_generichash_update(&st, data, len);
	crypto_generichash_final(&st, h, sizeof h);
	memcpy(id, h, GOSSIP_ID_LEN);
	return 0;
}

static struct gtopic *topic_find(const struct gossip *g, const char *name, size_t len)
{
	for (uint32_t i = 0; i < g->n_topics; i++)
		if (g->topics[i].len == len && memcmp(g->topics[i].name, name, len) == 0)
			return &g->topics[i];
	return NULL;
}

/* max_topics bounds what peers can make us hold; our own subscriptions are
 * always admitted, so peers filling the table cannot stop us subscribing. */
static struct gtopic *topic_add(struct gossip *g, const char *name, size_t len, int ours)
{
	if (!ours && g->n_topics >= g->cfg.max_topics)
		return NULL;
	if (g->n_topics == g->cap_topics) {
		uint32_t cap = g->cap_topics ? g->cap_topics * 2 : 8;
		struct gtopic *t = realloc(g->topics, cap * sizeof *t);
		if (!t)
			return NULL;
		g->topics = t;
		g->cap_topics = cap;
	}
	struct gtopic *t = &g->topics[g->n_topics++];
	memset(t, 0, sizeof *t);
	memcpy(t->name, name, len);
	t->len = (uint8_t)len;
	return t;
}

/* Drops a topic nobody here cares about any more. */
static void topic_gc(struct gossip *g, struct gtopic *t)
{
	if (t->ours || t->n)
		return;
	free(t->peers);
	*t = g->topics[--g->n_topics];
}

static int topic_has(const struct gtopic *t, uint32_t peer)
{
	for (uint32_t i = 0; i < t->n; i++)
		if (t->peers[i] == peer)
			return 1;
	return 0;
}

static int topic_add_peer(struct gtopic *t, uint32_t peer)
{
	if (t->n == t->cap) {
		uint32_t cap = t->cap ? t->cap * 2 : 8;
		uint32_t *p = realloc(t->peers, cap * sizeof *p);
		if (!p)
			return -CN_ENOMEM;
		t->peers = p;
		t->cap = cap;
	}
	t->peers[t->n++] = peer;
	return 0;
}

static int topic_del_peer(struct gtopic *t, uint32_t peer)
{
	for (uint32_t i = 0; i < t->n; i++)
		if (t->peers[i] == peer) {
			t->peers[i] = t->peers[--t->n];
			return 1;
		}
	return 0;
}

static void forget_peer_topics(struct gossip *g, uint32_t peer)
{
	for (uint32_t i = 0; i < g->n_topics;) {
		struct gtopic *t = &g->topics[i];
		topic_del_peer(t, peer);
		if (!t->ours && !t->n)
			topic_gc(g, t);   /* moves the last topic into i: look at i again */
		else
			i++;
	}
	g->peers[peer].ntopics = 0;
}

/* Builds SUB/UNSUB/MSG/IHAVE headers: type | tlen | topic. */
static size_t put_topic(uint8_t *p, uint8_t type, const char *topic, size_t tl)
{
	p[0] = type;
	p[1] = (uint8_t)tl;
	memcpy(p + 2, topic, tl);
	return 2 + tl;
}

/* ---- dedup ring and message cache ------------------------------------------ */

static void drop_frame(struct gossip *g, struct seen *e)
{
	if (e->frame) {
		g->cache_bytes -= e->flen;
		free(e->frame);
		e->frame = NULL;
		e->flen = 0;
	}
}

static void evict_tail(struct gossip *g)
{
	struct seen *e = &g->ring[g->tail % g->cfg.dedup_entries];
	idmap_del(&g->seen_map, e->id);
	drop_frame(g, e);
	g->tail++;
	if (g->dtail < g->tail)
		g->dtail = g->tail;
}

static void expire(struct gossip *g, uint64_t now)
{
	const struct gossip_config *c = &g->cfg;
	while (g->tail < g->head && g->ring[g->tail % c->dedup_entries].t + c->dedup_ttl_ms <= now)
		evict_tail(g);
	while (g->dtail < g->head) {
		struct seen *e = &g->ring[g->dtail % c->dedup_entries];
		if (e->frame && e->t + c->mcache_ms > now && g->cache_bytes <= c->mcache_bytes)
			break;
		drop_frame(g, e);
		g->dtail++;
	}
}

static int seen_has(const struct gossip *g, const uint8_t id[GOSSIP_ID_LEN])
{
	return idmap_get(&g->seen_map, id) != NIL;
}

static struct seen *seen_add(struct gossip *g, uint64_t now, const uint8_t id[GOSSIP_ID_LEN])
{
	if (g->head - g->tail == g->cfg.dedup_entries)
		evict_tail(g);
	uint32_t slot = (uint32_t)(g->head % g->cfg.dedup_entries);
	struct seen *e = &g->ring[slot];
	memcpy(e->id, id, GOSSIP_ID_LEN);
	e->t = now;
	e->frame = NULL;
	e->flen = 0;
	idmap_put(&g->seen_map, id, slot);
	g->head++;
	return e;
}

/* Keeps a copy of the MSG frame for IWANT answers (best effort). */
static void cache_frame(struct gossip *g, uint64_t now, struct seen *e, const uint8_t *frame, size_t len)
{
	if (len > g->cfg.mcache_bytes)
		return;
	e->frame = malloc(len);
	if (!e->frame)
		return;
	memcpy(e->frame, frame, len);
	e->flen = len;
	g->cache_bytes += len;
	expire(g, now);
}

/* ---- wants ----------------------------------------------------------------- */

static void want_del(struct gossip *g, uint32_t i)
{
	struct want *w = &g->wants[i];
	g->peers[w->asked].asked--;
	idmap_del(&g->want_map, w->id);
	w->used = 0;
	w->free_next = g->want_free;
	g->want_free = i;
	g->n_wants--;
}

static void want_forget(struct gossip *g, const uint8_t id[GOSSIP_ID_LEN])
{
	uint32_t i = idmap_get(&g->want_map, id);
	if (i != NIL)
		want_del(g, i);
}

/* ---- peers: scores and rate limits ------------------------------------------ */

static void settle_score(const struct gossip *g, struct gpeer *p, uint64_t now)
{
	if (now <= p->score_t)
		return;
	if (p->score >= 0) {
		p->score_t = now;
		return;
	}
	uint64_t steps = (now - p->score_t) / g->cfg.score_recover_ms;
	if (steps >= (uint64_t)-p->score) {
		p->score = 0;
		p->score_t = now;
	} else {
		p->score += (int64_t)steps;
		p->score_t += steps * g->cfg.score_recover_ms;
	}
}

static int cooling(const struct gpeer *p, uint64_t now)
{
	return now < p->cool_until;
}

static void penalize(struct gossip *g, uint64_t now, uint32_t peer, int32_t delta, struct gossip_out *out)
{
	struct gpeer *p = &g->peers[peer];
	settle_score(g, p, now);
	p->score += delta;
	if (p->score >= g->cfg.score_threshold || cooling(p, now))
		return;
	/* The cooldown is the punishment: the peer comes back with a clean slate. */
	p->cool_until = now + g->cfg.cooldown_ms;
	p->score = 0;
	p->score_t = now;
	p->up = 0;
	forget_peer_topics(g, peer);
	g->st.disconnects++;
	struct gossip_action *a = push(out, GOSSIP_A_DISCONNECT, peer, NULL, 0);
	if (a)
		a->until_ms = p->cool_until;
}

static uint64_t refill(uint64_t tok, uint64_t elapsed, uint64_t rate, uint64_t burst)
{
	uint64_t cap = burst * 1000;
	if (tok >= cap)
		return cap;
	/* elapsed is capped so that the product cannot overflow */
	uint64_t add = (elapsed > 1000000 ? 1000000 : elapsed) * rate;
	return cap - tok <= add ? cap : tok + add;
}

static void refill_peer(struct gossip *g, struct gpeer *p, uint64_t now)
{
	if (now <= p->tok_t)
		return;
	const struct gossip_config *c = &g->cfg;
	uint64_t el = now - p->tok_t;
	p->msg_tok = refill(p->msg_tok, el, c->msgs_per_s, c->msgs_burst);
	p->byte_tok = refill(p->byte_tok, el, c->bytes_per_s, c->bytes_burst);
	p->serve_tok = refill(p->serve_tok, el, c->bytes_per_s, c->bytes_burst);
	p->tok_t = now;
}

/* Takes one frame of len bytes from the peer's buckets; 0 if over the limit. */
static int admit(struct gossip *g, struct gpeer *p, uint64_t now, size_t len)
{
	refill_peer(g, p, now);
	uint64_t bytes = (uint64_t)len * 1000;
	if (p->msg_tok < 1000 || p->byte_tok < bytes)
		return 0;
	p->msg_tok -= 1000;
	p->byte_tok -= bytes;
	return 1;
}

int64_t gossip_peer_score(const struct gossip *g, uint32_t peer)
{
	if (peer >= g->cfg.max_peers)
		return 0;
	struct gpeer p = g->peers[peer];
	settle_score(g, &p, g->now);
	return p.score;
}

int gossip_peer_cooling(const struct gossip *g, uint64_t now_ms, uint32_t peer)
{
	return peer < g->cfg.max_peers && cooling(&g->peers[peer], now_ms);
}

/* ---- timers ---------------------------------------------------------------- */

static void set_timer(struct gossip *g, struct gossip_out *out)
{
	const struct gossip_config *c = &g->cfg;
	uint64_t t = g->want_next;
	if (g->tail < g->head) {
		uint64_t e = g->ring[g->tail % c->dedup_entries].t + c->dedup_ttl_ms;
		if (e < t)
			t = e;
	}
	for (uint64_t s = g->dtail; s < g->head; s++) {
		const struct seen *e = &g->ring[s % c->dedup_entries];
		if (e->frame) {
			if (e->t + c->mcache_ms < t)
				t = e->t + c->mcache_ms;
			break;
		}
	}
	if (t < out->next_timer_ms)
		out->next_timer_ms = t;
}

static void touch(struct gossip *g, uint64_t now)
{
	if (now > g->now)
		g->now = now;
	expire(g, now);
}

/* ---- sending --------------------------------------------------------------- */

static void send_sub(struct gossip *g, uint32_t peer, uint8_t type, const struct gtopic *t,
		     struct gossip_out *out)
{
	uint8_t f[2 + GOSSIP_TOPIC_MAX];
	size_t n = put_topic(f, type, t->name, t->len);
	send_copy(out, peer, f, n);
}

/* Eager push to up to fanout random subscribed peers, IHAVE to the rest;
 * skip[0..nskip) (the sender and peers that announced the id) have it. */
static void relay(struct gossip *g, const struct gtopic *t, const uint8_t id[GOSSIP_ID_LEN],
		  const uint8_t *frame, size_t flen, const uint32_t *skip, size_t nskip,
		  struct gossip_out *out)
{
	if (!t)
		return;
	uint32_t n = 0;
	for (uint32_t i = 0; i < t->n; i++) {
		int has = 0;
		for (size_t k = 0; k < nskip; k++)
			has |= t->peers[i] == skip[k];
		if (!has)
			g->scratch[n++] = t->peers[i];
	}
	uint32_t k = n < g->cfg.fanout ? n : g->cfg.fanout;
	for (uint32_t i = 0; i < k; i++) {
		uint32_t j = i + (uint32_t)cn_prng_uniform(&g->rng, n - i);
		uint32_t x = g->scratch[i];
		g->scratch[i] = g->scratch[j];
		g->scratch[j] = x;
		send_copy(out, g->scratch[i], frame, flen);
		g->st.relayed++;
	}
	if (k == n)
		return;
	uint8_t ih[2 + GOSSIP_TOPIC_MAX + 1 + GOSSIP_ID_LEN];
	size_t m = put_topic(ih, GOSSIP_T_IHAVE, t->name, t->len);
	ih[m++] = 1;
	memcpy(ih + m, id, GOSSIP_ID_LEN);
	m += GOSSIP_ID_LEN;
	for (uint32_t i = k; i < n; i++) {
		send_copy(out, g->scratch[i], ih, m);
		g->st.ihave_out++;
	}
}

/* ---- API ------------------------------------------------------------------- */

int gossip_subscribe(struct gossip *g, uint64_t now_ms, const char *topic, struct gossip_out *out)
{
	size_t tl = topic_len(topic);
	if (!gossip_topic_valid(topic, tl))
		return -CN_EINVAL;
	touch(g, now_ms);
	struct gtopic *t = topic_find(g, topic, tl);
	if (!t && !(t = topic_add(g, topic, tl, 1)))
		return -CN_ENOMEM;
	if (!t->ours) {
		t->ours = 1;
		for (uint32_t i = 0; i < g->cfg.max_peers; i++)
			if (g->peers[i].up)
				send_sub(g, i, GOSSIP_T_SUB, t, out);
	}
	set_timer(g, out);
	return 0;
}

int gossip_unsubscribe(struct gossip *g, uint64_t now_ms, const char *topic, struct gossip_out *out)
{
	size_t tl = topic_len(topic);
	if (!gossip_topic_valid(topic, tl))
		return -CN_EINVAL;
	touch(g, now_ms);
	struct gtopic *t = topic_find(g, topic, tl);
	if (t && t->ours) {
		t->ours = 0;
		for (uint32_t i = 0; i < g->cfg.max_peers; i++)
			if (g->peers[i].up)
				send_sub(g, i, GOSSIP_T_UNSUB, t, out);
		topic_gc(g, t);
	}
	set_timer(g, out);
	return 0;
}

static void bring_up(struct gossip *g, uint32_t peer, struct gossip_out *out)
{
	struct gpeer *p = &g->peers[peer];
	if (p->up)
		return;
	p->up = 1;
	for (uint32_t i = 0; i < g->n_topics; i++)
		if (g->topics[i].ours)
			send_sub(g, peer, GOSSIP_T_SUB, &g->topics[i], out);
}

int gossip_peer_up(struct gossip *g, uint64_t now_ms, uint32_t peer, struct gossip_out *out)
{
	if (peer >= g->cfg.max_peers)
		return -CN_EINVAL;
	touch(g, now_ms);
	if (cooling(&g->peers[peer], now_ms))
		return -CN_ESTATE;
	bring_up(g, peer, out);
	set_timer(g, out);
	return 0;
}

int gossip_peer_down(struct gossip *g, uint64_t now_ms, uint32_t peer)
{
	if (peer >= g->cfg.max_peers)
		return -CN_EINVAL;
	touch(g, now_ms);
	g->peers[peer].up = 0;
	forget_peer_topics(g, peer);
	return 0;
}

int gossip_publish(struct gossip *g, uint64_t now_ms, const char *topic, const uint8_t *data, size_t len,
		   struct gossip_out *out)
{
	size_t tl = topic_len(topic);
	if (!gossip_topic_valid(topic, tl) || !data || len == 0)
		return -CN_EINVAL;
	if (len > g->cfg.max_msg_size)
		return -CN_ELIMIT;
	touch(g, now_ms);
	uint8_t id[GOSSIP_ID_LEN];
	gossip_msg_id(topic, data, len, id);
	if (seen_has(g, id))
		return -CN_EEXIST;
	size_t flen = 2 + tl + len;
	uint8_t *frame = malloc(flen);
	if (!frame)
		return -CN_ENOMEM;
	size_t h = put_topic(frame, GOSSIP_T_MSG, topic, tl);
	memcpy(frame + h, data, len);
	want_forget(g, id);
	struct seen *e = seen_add(g, now_ms, id);
	cache_frame(g, now_ms, e, frame, flen);
	g->st.published++;
	relay(g, topic_find(g, topic, tl), id, frame, flen, NULL, 0, out);
	free(frame);
	set_timer(g, out);
	return out->oom ? -CN_ENOMEM : 0;
}

/* Parses "tlen | topic" at p[0..len); returns the bytes used or 0. */
static size_t get_topic(const uint8_t *p, size_t len, const char **topic)
{
	if (len < 1 || p[0] == 0 || (size_t)p[0] + 1 > len || !gossip_topic_valid((const char *)p + 1, p[0]))
		return 0;
	*topic = (const char *)p + 1;
	return 1 + (size_t)p[0];
}

static void malformed(struct gossip *g, uint64_t now, uint32_t peer, struct gossip_out *out)
{
	g->st.malformed++;
	penalize(g, now, peer, g->cfg.score_invalid, out);
}

static void on_sub(struct gossip *g, uint64_t now, uint32_t peer, int sub, const char *name, size_t tl,
		   struct gossip_out *out)
{
	struct gpeer *p = &g->peers[peer];
	struct gtopic *t = topic_find(g, name, tl);
	if (!sub) {
		if (t && topic_del_peer(t, peer)) {
			p->ntopics--;
			topic_gc(g, t);
		}
		return;
	}
	if (t && topic_has(t, peer))
		return;
	if (p->ntopics >= g->cfg.max_topics_per_peer) {
		malformed(g, now, peer, out);
		return;
	}
	if (!t && !(t = topic_add(g, name, tl, 0))) {
		g->st.refused_topics++;
		return;
	}
	if (topic_add_peer(t, peer)) {
		topic_gc(g, t);
		out->oom = 1;
		return;
	}
	p->ntopics++;
}

static void on_msg(struct gossip *g, uint64_t now, uint32_t peer, const uint8_t *frame, size_t len,
		   const char *name, size_t tl, struct gossip_out *out)
{
	const uint8_t *data = frame + 2 + tl;
	size_t dlen = len - 2 - tl;
	if (dlen == 0 || dlen > g->cfg.max_msg_size) {
		malformed(g, now, peer, out);
		return;
	}
	struct gtopic *t = topic_find(g, name, tl);
	if (!t || !t->ours) {
		/* A race with our UNSUB, or a peer ignoring it: no penalty. */
		g->st.unsubscribed++;
		return;
	}
	uint8_t id[GOSSIP_ID_LEN];
	char topic[GOSSIP_TOPIC_MAX + 1];
	memcpy(topic, name, tl);
	topic[tl] = 0;
	gossip_msg_id(topic, data, dlen, id);
	if (seen_has(g, id)) {
		g->st.duplicates++;
		return;
	}
	g->st.received++;
	uint32_t skip[1 + WANT_ALTS];
	size_t nskip = 0;
	skip[nskip++] = peer;
	uint32_t wi = idmap_get(&g->want_map, id);
	if (wi != NIL) {
		for (uint8_t j = 0; j < g->wants[wi].n; j++)
			skip[nskip++] = g->wants[wi].peers[j];
		want_del(g, wi);
	}
	/* Remembered before validation so that a bad message is judged once,
	 * however many peers send it. */
	struct seen *e = seen_add(g, now, id);
	enum gossip_verdict v = GOSSIP_ACCEPT;
	if (g->cfg.validate)
		v = g->cfg.validate(g->cfg.ctx, topic, peer, data, dlen);
	if (v == GOSSIP_REJECT) {
		g->st.rejected++;
		penalize(g, now, peer, g->cfg.score_invalid, out);
		return;
	}
	if (v != GOSSIP_ACCEPT) {
		g->st.ignored++;
		return;
	}
	uint8_t *copy = malloc(dlen);
	if (!copy) {
		out->oom = 1;
		return;
	}
	memcpy(copy, data, dlen);
	struct gossip_action *a = push(out, GOSSIP_A_DELIVER, peer, copy, dlen);
	if (a) {
		memcpy(a->topic, topic, tl + 1);
		memcpy(a->id, id, GOSSIP_ID_LEN);
		g->st.delivered++;
	}
	/* The validate hook may have changed subscriptions: look the topic up again. */
	t = topic_find(g, name, tl);
	relay(g, t, id, frame, len, skip, nskip, out);
	cache_frame(g, now, e, frame, len);
}

static void on_ihave(struct gossip *g, uint64_t now, uint32_t peer, const char *name, size_t tl,
		     const uint8_t *ids, size_t n, struct gossip_out *out)
{
	g->st.ihave_in++;
	struct gtopic *t = topic_find(g, name, tl);
	if (!t || !t->ours)
		return;
	uint8_t f[2 + GOSSIP_IDS_MAX * GOSSIP_ID_LEN];
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		const uint8_t *id = ids + i * GOSSIP_ID_LEN;
		if (seen_has(g, id))
			continue;
		uint32_t wi = idmap_get(&g->want_map, id);
		if (wi != NIL) {
			struct want *w = &g->wants[wi];
			int known = 0;
			for (uint8_t j = 0; j < w->n; j++)
				known |= w->peers[j] == peer;
			if (!known && w->n < WANT_ALTS)
				w->peers[w->n++] = peer;
			continue;
		}
		/* A peer announcing ids it never delivers may hold only its share
		 * of the table, not crowd out the announcements of others. */
		if (g->want_free == NIL || g->peers[peer].asked >= g->cfg.max_wants_per_peer) {
			g->st.wants_refused++;
			continue;
		}
		wi = g->want_free;
		struct want *w = &g->wants[wi];
		g->want_free = w->free_next;
		g->n_wants++;
		memcpy(w->id, id, GOSSIP_ID_LEN);
		w->used = 1;
		w->peers[0] = peer;
		w->asked = peer;
		g->peers[peer].asked++;
		w->n = 1;
		w->next = 1;
		w->deadline = now + g->cfg.iwant_timeout_ms;
		if (w->deadline < g->want_next)
			g->want_next = w->deadline;
		idmap_put(&g->want_map, id, wi);
		memcpy(f + 2 + k * GOSSIP_ID_LEN, id, GOSSIP_ID_LEN);
		k++;
	}
	if (!k)
		return;
	f[0] = GOSSIP_T_IWANT;
	f[1] = (uint8_t)k;
	send_copy(out, peer, f, 2 + k * GOSSIP_ID_LEN);
	g->st.iwant_out++;
}

static void on_iwant(struct gossip *g, uint64_t now, uint32_t peer, const uint8_t *ids, size_t n,
		     struct gossip_out *out)
{
	g->st.iwant_in++;
	struct gpeer *p = &g->peers[peer];
	refill_peer(g, p, now);
	for (size_t i = 0; i < n; i++) {
		uint32_t s = idmap_get(&g->seen_map, ids + i * GOSSIP_ID_LEN);
		if (s == NIL || !g->ring[s].frame)
			continue;
		const struct seen *e = &g->ring[s];
		/* Answers cost upload: a peer may not ask for more than it could send us. */
		uint64_t cost = (uint64_t)e->flen * 1000;
		if (p->serve_tok < cost) {
			g->st.iwant_refused++;
			continue;
		}
		p->serve_tok -= cost;
		send_copy(out, peer, e->frame, e->flen);
		g->st.relayed++;
	}
}

int gossip_receive(struct gossip *g, uint64_t now_ms, uint32_t peer, const uint8_t *frame, size_t len,
		   struct gossip_out *out)
{
	if (peer >= g->cfg.max_peers || (len && !frame))
		return -CN_EINVAL;
	touch(g, now_ms);
	struct gpeer *p = &g->peers[peer];
	if (cooling(p, now_ms)) {
		g->st.cooled++;
		goto done;
	}
	bring_up(g, peer, out);
	if (!admit(g, p, now_ms, len)) {
		g->st.ratelimited++;
		penalize(g, now_ms, peer, g->cfg.score_ratelimited, out);
		goto done;
	}
	if (len < 2) {
		malformed(g, now_ms, peer, out);
		goto done;
	}
	const char *name;
	size_t h;
	switch (frame[0]) {
	case GOSSIP_T_SUB:
	case GOSSIP_T_UNSUB:
		h = get_topic(frame + 1, len - 1, &name);
		if (!h || 1 + h != len) {
			malformed(g, now_ms, peer, out);
			break;
		}
		on_sub(g, now_ms, peer, frame[0] == GOSSIP_T_SUB, name, h - 1, out);
		break;
	case GOSSIP_T_MSG:
		h = get_topic(frame + 1, len - 1, &name);
		if (!h) {
			malformed(g, now_ms, peer, out);
			break;
		}
		on_msg(g, now_ms, peer, frame, len, name, h - 1, out);
		break;
	case GOSSIP_T_IHAVE: {
		h = get_topic(frame + 1, len - 1, &name);
		size_t off = 1 + h;
		if (!h || off >= len || frame[off] == 0 || frame[off] > GOSSIP_IDS_MAX ||
		    len != off + 1 + (size_t)frame[off] * GOSSIP_ID_LEN) {
			malformed(g, now_ms, peer, out);
			break;
		}
		on_ihave(g, now_ms, peer, name, h - 1, frame + off + 1, frame[off], out);
		break;
	}
	case GOSSIP_T_IWANT:
		if (frame[1] == 0 || frame[1] > GOSSIP_IDS_MAX || len != 2 + (size_t)frame[1] * GOSSIP_ID_LEN) {
			malformed(g, now_ms, peer, out);
			break;
		}
		on_iwant(g, now_ms, peer, frame + 2, frame[1], out);
		break;
	default:
		malformed(g, now_ms, peer, out);
		break;
	}
done:
	set_timer(g, out);
	return out->oom ? -CN_ENOMEM : 0;
}

int gossip_timer(struct gossip *g, uint64_t now_ms, struct gossip_out *out)
{
	touch(g, now_ms);
	if (now_ms >= g->want_next) {
		uint64_t next = UINT64_MAX;
		for (uint32_t i = 0; i < g->cfg.max_wants && g->n_wants; i++) {
			struct want *w = &g->wants[i];
			if (!w->used)
				continue;
			if (w->deadline > now_ms) {
				if (w->deadline < next)
					next = w->deadline;
				continue;
			}
			/* The announcer did not deliver: ask the next one that is still up. */
			while (w->next < w->n && !g->peers[w->peers[w->next]].up)
				w->next++;
			if (w->next >= w->n) {
				want_del(g, i);
				continue;
			}
			uint8_t f[2 + GOSSIP_ID_LEN] = {GOSSIP_T_IWANT, 1};
			memcpy(f + 2, w->id, GOSSIP_ID_LEN);
			g->peers[w->asked].asked--;
			w->asked = w->peers[w->next++];
			g->peers[w->asked].asked++;
			send_copy(out, w->asked, f, sizeof f);
			g->st.iwant_out++;
			w->deadline = now_ms + g->cfg.iwant_timeout_ms;
			if (w->deadline < next)
				next = w->deadline;
		}
		g->want_next = next;
	}
	set_timer(g, out);
	return out->oom ? -CN_ENOMEM : 0;
}

size_t gossip_topic_peers(const struct gossip *g, const char *topic, uint32_t *peers, size_t cap)
{
	size_t tl = topic_len(topic);
	if (!gossip_topic_valid(topic, tl))
		return 0;
	const struct gtopic *t = topic_find(g, topic, tl);
	if (!t)
		return 0;
	for (uint32_t i = 0; i < t->n && i < cap; i++)
		peers[i] = t->peers[i];
	return t->n;
}

int gossip_subscribed(const struct gossip *g, const char *topic)
{
	size_t tl = topic_len(topic);
	if (!gossip_topic_valid(topic, tl))
		return 0;
	const struct gtopic *t = topic_find(g, topic, tl);
	return t && t->ours;
}
