/* boot.c — bootnode frames and the bootnode's table. */
#include "net/boot.h"

#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "base/err.h"
#include "base/prng.h"

/* ---- frames ------------------------------------------------------------------ */

int boot_topic_valid(const char *s)
{
	size_t n = 0;
	if (!s)
		return 0;
	for (; s[n]; n++)
		if (n >= BOOT_TOPIC_MAX || s[n] < 0x21 || s[n] > 0x7e)
			return 0;
	return n > 0;
}

int boot_is_frame(const uint8_t *p, size_t len)
{
	return len > 0 && p[0] >= 0x41 && p[0] <= 0x4f;
}

struct wr {
	uint8_t *p;
	size_t cap, n;
	int err;
};

static void put(struct wr *w, const void *d, size_t len)
{
	if (w->err)
		return;
	if (w->cap - w->n < len) {
		w->err = -CN_ERANGE;
		return;
	}
	memcpy(w->p + w->n, d, len);
	w->n += len;
}

static void put8(struct wr *w, uint8_t v)
{
	put(w, &v, 1);
}

static void put16(struct wr *w, uint16_t v)
{
	uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};
	put(w, b, 2);
}

static void put32(struct wr *w, uint32_t v)
{
	uint8_t b[4];
	store_be32(b, v);
	put(w, b, 4);
}

static int addr_ok(const struct net_addr *a)
{
	if (a->family == 4) {
		for (int i = 4; i < 16; i++)
			if (a->ip[i])
				return 0;
		return a->port != 0;
	}
	return a->family == 6 && a->port != 0;
}

static void put_addr(struct wr *w, const struct net_addr *a)
{
	if (!addr_ok(a)) {
		if (!w->err)
			w->err = -CN_EINVAL;
		return;
	}
	put8(w, a->family);
	put(w, a->ip, 16);
	put16(w, a->port);
}

static void put_locator(struct wr *w, const struct net_locator *loc)
{
	uint8_t b[NET_LOCATOR_MAX_LEN];
	size_t len;
	if (w->err)
		return;
	if (net_locator_encode(loc, b, sizeof b, &len) != 0) {
		w->err = -CN_EINVAL;
		return;
	}
	put16(w, (uint16_t)len);
	put(w, b, len);
}

static void put_topic(struct wr *w, const char *t)
{
	if (!boot_topic_valid(t)) {
		if (!w->err)
			w->err = -CN_EINVAL;
		return;
	}
	size_t n = strlen(t);
	put8(w, (uint8_t)n);
	put(w, t, n);
}

static int finish(struct wr *w, size_t *len)
{
	if (w->err)
		return w->err;
	*len = w->n;
	return 0;
}

int boot_encode_register(const struct net_locator *loc, const char *const *topics, size_t n,
			 uint8_t *out, size_t cap, size_t *len)
{
	if (n > BOOT_MAX_TOPICS)
		return -CN_EINVAL;
	struct wr w = {out, cap, 0, 0};
	put8(&w, BOOT_T_REGISTER);
	put_locator(&w, loc);
	put8(&w, (uint8_t)n);
	for (size_t i = 0; i < n; i++)
		put_topic(&w, topics[i]);
	return finish(&w, len);
}

int boot_encode_observed(const struct net_addr *a, uint32_t ttl_ms, uint8_t *out, size_t cap,
			 size_t *len)
{
	struct wr w = {out, cap, 0, 0};
	put8(&w, BOOT_T_OBSERVED);
	put_addr(&w, a);
	put32(&w, ttl_ms);
	return finish(&w, len);
}

int boot_encode_lookup_id(uint32_t req, const uint8_t id[NET_NODE_ID_LEN], uint8_t *out, size_t cap,
			  size_t *len)
{
	struct wr w = {out, cap, 0, 0};
	put8(&w, BOOT_T_LOOKUP_ID);
	put32(&w, req);
	put(&w, id, NET_NODE_ID_LEN);
	return finish(&w, len);
}

int boot_encode_lookup_topic(uint32_t req, const char *topic, uint8_t max, uint8_t *out, size_t cap,
			     size_t *len)
{
	struct wr w = {out, cap, 0, 0};
	put8(&w, BOOT_T_LOOKUP_TOPIC);
	put32(&w, req);
	put8(&w, max);
	put_topic(&w, topic);
	return finish(&w, len);
}

int boot_encode_result(uint32_t req, const struct boot_entry *e, size_t n, uint8_t *out, size_t cap,
		       size_t *len)
{
	if (n > BOOT_MAX_RESULTS)
		return -CN_EINVAL;
	struct wr w = {out, cap, 0, 0};
	put8(&w, BOOT_T_RESULT);
	put32(&w, req);
	put8(&w, (uint8_t)n);
	for (size_t i = 0; i < n; i++) {
		put_locator(&w, &e[i].loc);
		put_addr(&w, &e[i].observed);
	}
	return finish(&w, len);
}

static int encode_id_frame(uint8_t type, const uint8_t id[NET_NODE_ID_LEN], uint8_t *out, size_t cap,
			   size_t *len)
{
	struct wr w = {out, cap, 0, 0};
	put8(&w, type);
	put(&w, id, NET_NODE_ID_LEN);
	return finish(&w, len);
}

int boot_encode_connect(const uint8_t target[NET_NODE_ID_LEN], uint8_t *out, size_t cap, size_t *len)
{
	return encode_id_frame(BOOT_T_CONNECT, target, out, cap, len);
}

int boot_encode_connect_fail(const uint8_t target[NET_NODE_ID_LEN], uint8_t *out, size_t cap,
			     size_t *len)
{
	return encode_id_frame(BOOT_T_CONNECT_FAIL, target, out, cap, len);
}

int boot_encode_connect_from(const struct net_locator *loc, const struct net_addr *observed,
			     uint8_t *out, size_t cap, size_t *len)
{
	struct wr w = {out, cap, 0, 0};
	put8(&w, BOOT_T_CONNECT_FROM);
	put_addr(&w, observed);
	put_locator(&w, loc);
	return finish(&w, len);
}

struct rd {
	const uint8_t *p;
	size_t len, at;
	int err;
};

static const uint8_t *take(struct rd *r, size_t n)
{
	if (r->err)
		return NULL;
	if (r->len - r->at < n) {
		r->err = -CN_ETRUNC;
		return NULL;
	}
	const uint8_t *p = r->p + r->at;
	r->at += n;
	return p;
}

static uint8_t get8(struct rd *r)
{
	const uint8_t *p = take(r, 1);
	return p ? p[0] : 0;
}

static uint16_t get16(struct rd *r)
{
	const uint8_t *p = take(r, 2);
	return p ? (uint16_t)(p[0] << 8 | p[1]) : 0;
}

static uint32_t get32(struct rd *r)
{
	const uint8_t *p = take(r, 4);
	return p ? load_be32(p) : 0;
}

static void get_addr(struct rd *r, struct net_addr *a)
{
	const uint8_t *p = take(r, BOOT_ADDR_LEN);
	if (!p)
		return;
	memset(a, 0, sizeof *a);
	a->family = p[0];
	memcpy(a->ip, p + 1, 16);
	a->port = (uint16_t)(p[17] << 8 | p[18]);
	if (!addr_ok(a))
		r->err = -CN_EINVAL;
}

static void get_locator(struct rd *r, struct net_locator *loc)
{
	uint16_t n = get16(r);
	if (!r->err && n > NET_LOCATOR_MAX_LEN) {
		r->err = -CN_EINVAL;
		return;
	}
	const uint8_t *p = take(r, n);
	if (p && net_locator_decode(loc, p, n) != 0)
		r->err = -CN_EINVAL;
}

static void get_topic(struct rd *r, char out[BOOT_TOPIC_MAX + 1])
{
	uint8_t n = get8(r);
	if (!r->err && (n == 0 || n > BOOT_TOPIC_MAX)) {
		r->err = -CN_EINVAL;
		return;
	}
	const uint8_t *p = take(r, n);
	if (!p)
		return;
	/* Byte by byte: a NUL inside would end the C string early and make
	 * two encodings of one topic. */
	for (uint8_t i = 0; i < n; i++)
		if (p[i] < 0x21 || p[i] > 0x7e) {
			r->err = -CN_EINVAL;
			return;
		}
	memcpy(out, p, n);
	out[n] = 0;
}

int boot_decode(const uint8_t *in, size_t len, struct boot_msg *m)
{
	struct rd r = {in, len, 0, 0};
	memset(m, 0, sizeof *m);
	if (len == 0)
		return -CN_ETRUNC;
	m->type = get8(&r);
	switch (m->type) {
	case BOOT_T_REGISTER:
		get_locator(&r, &m->loc);
		m->n_topics = get8(&r);
		if (!r.err && m->n_topics > BOOT_MAX_TOPICS)
			return -CN_ELIMIT;
		for (size_t i = 0; i < m->n_topics && !r.err; i++)
			get_topic(&r, m->topics[i]);
		break;
	case BOOT_T_OBSERVED:
		get_addr(&r, &m->addr);
		m->ttl_ms = get32(&r);
		break;
	case BOOT_T_LOOKUP_ID:
		m->req = get32(&r);
		if (!r.err && take(&r, NET_NODE_ID_LEN))
			memcpy(m->id, in + r.at - NET_NODE_ID_LEN, NET_NODE_ID_LEN);
		break;
	case BOOT_T_LOOKUP_TOPIC:
		m->req = get32(&r);
		m->max = get8(&r);
		m->n_topics = 1;
		get_topic(&r, m->topics[0]);
		break;
	case BOOT_T_RESULT:
		m->req = get32(&r);
		m->n_results = get8(&r);
		if (!r.err && m->n_results > BOOT_MAX_RESULTS)
			return -CN_ELIMIT;
		for (size_t i = 0; i < m->n_results && !r.err; i++) {
			get_locator(&r, &m->results[i].loc);
			get_addr(&r, &m->results[i].observed);
		}
		break;
	case BOOT_T_CONNECT:
	case BOOT_T_CONNECT_FAIL:
		if (take(&r, NET_NODE_ID_LEN))
			memcpy(m->id, in + 1, NET_NODE_ID_LEN);
		break;
	case BOOT_T_CONNECT_FROM:
		get_addr(&r, &m->addr);
		get_locator(&r, &m->loc);
		break;
	default:
		return -CN_EINVAL;
	}
	if (r.err)
		return r.err;
	return r.at == len ? 0 : -CN_ETRAILING;
}

/* ---- output list ------------------------------------------------------------- */

void boot_out_init(struct boot_out *o)
{
	memset(o, 0, sizeof *o);
}

void boot_out_reset(struct boot_out *o)
{
	for (size_t i = 0; i < o->n; i++)
		free(o->a[i].data);
	o->n = 0;
}

void boot_out_free(struct boot_out *o)
{
	boot_out_reset(o);
	free(o->a);
	boot_out_init(o);
}

static int out_push(struct boot_out *o, const uint8_t to[NET_NODE_ID_LEN], const uint8_t *d, size_t len)
{
	if (o->n == o->cap) {
		size_t cap = o->cap ? o->cap * 2 : 4;
		struct boot_action *a = realloc(o->a, cap * sizeof *a);
		if (!a)
			return -CN_ENOMEM;
		o->a = a, o->cap = cap;
	}
	uint8_t *p = malloc(len);
	if (!p)
		return -CN_ENOMEM;
	memcpy(p, d, len);
	struct boot_action *a = &o->a[o->n++];
	memcpy(a->to, to, NET_NODE_ID_LEN);
	a->data = p;
	a->len = len;
	return 0;
}

/* ---- server ------------------------------------------------------------------ */

struct entry {
	int used;
	uint8_t id[NET_NODE_ID_LEN];
	struct boot_entry e;
	uint64_t expires_ms;
	uint8_t n_topics;
	char topics[BOOT_MAX_TOPICS][BOOT_TOPIC_MAX + 1];
};

struct boot_server {
	struct boot_config cfg;
	struct entry *v;                  /* max_entries slots; linear scans are cheap at this size */
	size_t n;
	struct cn_prng rng;
	struct boot_stats st;
};

int boot_server_new(const struct boot_config *cfg, struct boot_server **out)
{
	struct boot_server *s = calloc(1, sizeof *s);
	if (!s)
		return -CN_ENOMEM;
	if (cfg)
		s->cfg = *cfg;
	if (!s->cfg.max_entries)
		s->cfg.max_entries = 4096;
	if (!s->cfg.ttl_ms)
		s->cfg.ttl_ms = 120000;
	if (!(s->v = calloc(s->cfg.max_entries, sizeof *s->v))) {
		free(s);
		return -CN_ENOMEM;
	}
	cn_prng_seed(&s->rng, s->cfg.seed);
	*out = s;
	return 0;
}

void boot_server_free(struct boot_server *s)
{
	if (!s)
		return;
	free(s->v);
	free(s);
}

static struct entry *find(const struct boot_server *s, uint64_t now, const uint8_t id[NET_NODE_ID_LEN])
{
	for (size_t i = 0; i < s->cfg.max_entries; i++) {
		struct entry *e = &s->v[i];
		if (e->used && e->expires_ms > now && !memcmp(e->id, id, NET_NODE_ID_LEN))
			return e;
	}
	return NULL;
}

uint64_t boot_server_timer(struct boot_server *s, uint64_t now)
{
	uint64_t next = UINT64_MAX;
	for (size_t i = 0; i < s->cfg.max_entries; i++) {
		struct entry *e = &s->v[i];
		if (!e->used)
			continue;
		if (e->expires_ms <= now) {
			e->used = 0;
			s->n--;
			s->st.expired++;
		} else if (e->expires_ms < next) {
			next = e->expires_ms;
		}
	}
	return next;
}

/* A slot for a new node: a free or expired one, else the entry that would
 * expire first (the longest unrefreshed). */
static struct entry *slot_for_new(struct boot_server *s, uint64_t now)
{
	struct entry *victim = NULL;
	for (size_t i = 0; i < s->cfg.max_entries; i++) {
		struct entry *e = &s->v[i];
		if (!e->used)
			return e;
		if (e->expires_ms <= now) {
			e->used = 0;
			s->n--;
			s->st.expired++;
			return e;
		}
		if (!victim || e->expires_ms < victim->expires_ms)
			victim = e;
	}
	victim->used = 0;
	s->n--;
	s->st.evicted++;
	return victim;
}

static int on_register(struct boot_server *s, uint64_t now, const uint8_t from[NET_NODE_ID_LEN],
		       const struct net_addr *seen, const struct boot_msg *m, struct boot_out *out)
{
	uint8_t id[NET_NODE_ID_LEN];
	net_node_id(m->loc.pk, id);
	if (memcmp(id, from, NET_NODE_ID_LEN) != 0) {
		s->st.not_owner++;
		return 0;
	}
	struct entry *e = find(s, now, id);
	if (e) {
		int changed;
		int rc = net_locator_merge(&e->e.loc, &m->loc, &changed);
		if (rc == -CN_EEXIST) {
			s->st.equivocation++;
			return 0;
		}
		if (rc == 0 && !changed && m->loc.seq < e->e.loc.seq) {
			s->st.stale++;
			return 0;
		}
		s->st.refreshed++;
	} else {
		e = slot_for_new(s, now);
		memset(e, 0, sizeof *e);
		e->used = 1;
		memcpy(e->id, id, NET_NODE_ID_LEN);
		e->e.loc = m->loc;
		s->n++;
		s->st.registered++;
	}
	e->e.observed = *seen;
	e->expires_ms = now + s->cfg.ttl_ms;
	e->n_topics = (uint8_t)m->n_topics;
	memcpy(e->topics, m->topics, sizeof e->topics);
	uint8_t f[64];
	size_t len;
	int rc = boot_encode_observed(seen, s->cfg.ttl_ms, f, sizeof f, &len);
	return rc ? 0 : out_push(out, from, f, len);
}

static int has_topic(const struct entry *e, const char *t)
{
	for (size_t i = 0; i < e->n_topics; i++)
		if (!strcmp(e->topics[i], t))
			return 1;
	return 0;
}

static int answer(struct boot_out *out, const uint8_t to[NET_NODE_ID_LEN], uint32_t req,
		  const struct boot_entry *r, size_t n)
{
	uint8_t *f = malloc(BOOT_FRAME_MAX);
	size_t len;
	if (!f)
		return -CN_ENOMEM;
	int rc = boot_encode_result(req, r, n, f, BOOT_FRAME_MAX, &len);
	if (rc == 0)
		rc = out_push(out, to, f, len);
	free(f);
	return rc == -CN_ENOMEM ? rc : 0;
}

static int on_lookup_topic(struct boot_server *s, uint64_t now, const uint8_t from[NET_NODE_ID_LEN],
			   const struct boot_msg *m, struct boot_out *out)
{
	struct boot_entry r[BOOT_MAX_RESULTS];
	size_t n = 0, want = m->max < BOOT_MAX_RESULTS ? m->max : BOOT_MAX_RESULTS;
	/* Start at a random slot so that many askers get different subsets of
	 * a large topic and the mesh does not converge on a few nodes. */
	size_t cap = s->cfg.max_entries, start = (size_t)cn_prng_uniform(&s->rng, cap);
	for (size_t k = 0; k < cap && n < want; k++) {
		const struct entry *e = &s->v[(start + k) % cap];
		if (e->used && e->expires_ms > now && memcmp(e->id, from, NET_NODE_ID_LEN) != 0 &&
		    has_topic(e, m->topics[0]))
			r[n++] = e->e;
	}
	return answer(out, from, m->req, r, n);
}

static int on_connect(struct boot_server *s, uint64_t now, const uint8_t from[NET_NODE_ID_LEN],
		      const struct boot_msg *m, struct boot_out *out)
{
	const struct entry *t = find(s, now, m->id), *me = find(s, now, from);
	uint8_t f[BOOT_ADDR_LEN + NET_LOCATOR_MAX_LEN + 8];
	size_t len;
	/* The requester must be registered too: CONNECT_FROM carries its
	 * record, which the target needs to open the session. */
	if (!t || !me || !memcmp(m->id, from, NET_NODE_ID_LEN)) {
		s->st.connect_unknown++;
		if (boot_encode_connect_fail(m->id, f, sizeof f, &len) == 0)
			return out_push(out, from, f, len);
		return 0;
	}
	s->st.connects++;
	if (boot_encode_connect_from(&me->e.loc, &me->e.observed, f, sizeof f, &len) != 0)
		return 0;
	return out_push(out, t->id, f, len);
}

int boot_server_receive(struct boot_server *s, uint64_t now, const uint8_t from[NET_NODE_ID_LEN],
			const struct net_addr *seen, const uint8_t *frame, size_t len,
			struct boot_out *out)
{
	struct boot_msg *m = malloc(sizeof *m);
	if (!m)
		return -CN_ENOMEM;
	int rc = 0;
	if (boot_decode(frame, len, m) != 0) {
		s->st.malformed++;
		goto done;
	}
	switch (m->type) {
	case BOOT_T_REGISTER:
		if (!addr_ok(seen)) {
			s->st.malformed++;
			break;
		}
		rc = on_register(s, now, from, seen, m, out);
		break;
	case BOOT_T_LOOKUP_ID: {
		s->st.lookups++;
		const struct entry *e = find(s, now, m->id);
		rc = answer(out, from, m->req, e ? &e->e : NULL, e ? 1 : 0);
		break;
	}
	case BOOT_T_LOOKUP_TOPIC:
		s->st.lookups++;
		rc = on_lookup_topic(s, now, from, m, out);
		break;
	case BOOT_T_CONNECT:
		rc = on_connect(s, now, from, m, out);
		break;
	default:
		s->st.unexpected++;
		break;
	}
done:
	free(m);
	return rc;
}

int boot_server_get(const struct boot_server *s, uint64_t now, const uint8_t id[NET_NODE_ID_LEN],
		    struct boot_entry *e)
{
	const struct entry *x = find(s, now, id);
	if (!x)
		return -CN_ENOTFOUND;
	*e = x->e;
	return 0;
}

size_t boot_server_count(const struct boot_server *s)
{
	return s->n;
}

const struct boot_stats *boot_server_stats(const struct boot_server *s)
{
	return &s->st;
}
