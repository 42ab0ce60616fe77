/* stream.c — request/response streams (see stream.h).
 *
 * Wire format (integers big-endian; docs/net-gossip.md has the rules):
 *   OPEN      31 | sid (4) | plen (1) | proto (plen, 1..128)
 *   OPEN_OK   32 | sid (4)
 *   OPEN_ERR  33 | sid (4) | reason (1) | text (0..255, informative)
 *   REQ       34 | sid (4) | req (4) | data (0..max_request)
 *   RESP      35 | sid (4) | req (4) | status (4, two's complement) | data
 *   RESET     36 | sid (4) | dir (1) | reason (1)
 *   CLOSE     37 | sid (4) | dir (1)
 *   CANCEL    38 | sid (4) | req (4)
 * sid < 2^31 is the opener's id. OPEN, REQ and CANCEL go opener -> acceptor,
 * OPEN_OK, OPEN_ERR and RESP acceptor -> opener; RESET and CLOSE go either
 * way, so dir says whose stream it is: 0 the sender's (it opened it), 1 the
 * receiver's. We never answer a RESET or a stray frame with a RESET, so two
 * confused peers cannot ping-pong. */
#include "net/stream.h"

#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "base/err.h"

#define SID_MAX 0x7fffffffu

enum sstate { S_FREE = 0, S_OPENING, S_OPEN };

/* A request: on our streams, one we sent or queued (data kept until sent);
 * on the peer's streams, one we have not answered yet. */
struct sreq {
	uint32_t id;
	uint8_t sent;
	uint64_t deadline;
	uint8_t *data;
	size_t len;
};

struct sstream {
	uint8_t state;
	uint32_t id;
	uint32_t proto_index;      /* incoming */
	uint64_t open_deadline;    /* outgoing, while opening */
	uint32_t next_req;
	struct sreq *reqs;         /* max_inflight */
	uint32_t nreq;
};

struct speer {
	struct sstream *out, *in;  /* max_streams_per_peer each */
	uint32_t n_out, n_in;
	uint32_t next_sid;
};

struct stream {
	struct stream_config cfg;
	struct stream_stats st;
	struct speer **peers;      /* allocated on first use */
	char **protos;
	uint32_t n_protos;
	uint64_t next_deadline;    /* no deadline is earlier (may be stale-early) */
};

/* ---- actions --------------------------------------------------------------- */

void stream_out_init(struct stream_out *out)
{
	memset(out, 0, sizeof *out);
	out->next_timer_ms = UINT64_MAX;
}

void stream_out_reset(struct stream_out *out)
{
	for (size_t i = 0; i < out->n; i++)
		free(out->a[i].data);
	out->n = 0;
	out->oom = 0;
	out->next_timer_ms = UINT64_MAX;
}

void stream_out_free(struct stream_out *out)
{
	stream_out_reset(out);
	free(out->a);
	memset(out, 0, sizeof *out);
}

/* Takes ownership of data (freed on failure). */
static struct stream_action *push(struct stream_out *out, enum stream_action_kind kind, uint32_t peer,
				  uint32_t stream, uint8_t *data, size_t len)
{
	if (out->n == out->cap) {
		size_t cap = out->cap ? out->cap * 2 : 32;
		struct stream_action *a = realloc(out->a, cap * sizeof *a);
		if (!a) {
			free(data);
			out->oom = 1;
			return NULL;
		}
		out->a = a;
		out->cap = cap;
	}
	struct stream_action *a = &out->a[out->n++];
	memset(a, 0, sizeof *a);
	a->kind = kind;
	a->peer = peer;
	a->stream = stream;
	a->data = data;
	a->len = len;
	return a;
}

static void event(struct stream_out *out, enum stream_action_kind kind, uint32_t peer, uint32_t stream,
		  uint32_t req_id, int err)
{
	struct stream_action *a = push(out, kind, peer, stream, NULL, 0);
	if (a) {
		a->req_id = req_id;
		a->err = err;
	}
}

/* Sends hdr (hlen bytes) followed by body. */
static int send2(struct stream_out *out, uint32_t peer, const uint8_t *hdr, size_t hlen, const uint8_t *body,
		 size_t blen)
{
	uint8_t *d = malloc(hlen + blen);
	if (!d) {
		out->oom = 1;
		return -CN_ENOMEM;
	}
	memcpy(d, hdr, hlen);
	if (blen)
		memcpy(d + hlen, body, blen);
	return push(out, STREAM_A_SEND, peer, 0, d, hlen + blen) ? 0 : -CN_ENOMEM;
}

static void send_sid(struct stream_out *out, uint32_t peer, uint8_t type, uint32_t sid)
{
	uint8_t f[5] = {type};
	store_be32(f + 1, sid);
	send2(out, peer, f, sizeof f, NULL, 0);
}

static void send_reset(struct stream *s, struct stream_out *out, uint32_t peer, uint32_t sid, int theirs,
		       uint8_t reason)
{
	uint8_t f[7] = {STREAM_T_RESET};
	store_be32(f + 1, sid);
	f[5] = theirs ? 1 : 0;  /* 1: the receiver opened it */
	f[6] = reason;
	send2(out, peer, f, sizeof f, NULL, 0);
	s->st.resets_out++;
}

/* ---- lifecycle ------------------------------------------------------------- */

int stream_new(const struct stream_config *cfg, struct stream **out)
{
	if (!cfg || cfg->max_peers == 0 || cfg->max_peers > (1u << 20))
		return -CN_EINVAL;
	struct stream *s = calloc(1, sizeof *s);
	if (!s)
		return -CN_ENOMEM;
	s->cfg = *cfg;
	struct stream_config *c = &s->cfg;
	if (!c->max_streams_per_peer)
		c->max_streams_per_peer = 16;
	if (c->max_streams_per_peer > 4096)
		c->max_streams_per_peer = 4096;
	if (!c->max_inflight)
		c->max_inflight = 32;
	if (c->max_inflight > 65536)
		c->max_inflight = 65536;
	if (!c->max_request)
		c->max_request = 1u << 20;
	if (!c->max_response)
		c->max_response = 16u << 20;
	if (!c->request_timeout_ms)
		c->request_timeout_ms = 10000;
	if (!c->open_timeout_ms)
		c->open_timeout_ms = 5000;
	if (!c->max_protocols)
		c->max_protocols = 64;
	s->next_deadline = UINT64_MAX;
	s->peers = calloc(c->max_peers, sizeof *s->peers);
	s->protos = calloc(c->max_protocols, sizeof *s->protos);
	if (!s->peers || !s->protos) {
		stream_free(s);
		return -CN_ENOMEM;
	}
	*out = s;
	return 0;
}

static void stream_clear(struct sstream *x)
{
	for (uint32_t i = 0; i < x->nreq; i++)
		free(x->reqs[i].data);
	free(x->reqs);
	memset(x, 0, sizeof *x);
}

void stream_free(struct stream *s)
{
	if (!s)
		return;
	if (s->peers)
		for (uint32_t p = 0; p < s->cfg.max_peers; p++) {
			struct speer *sp = s->peers[p];
			if (!sp)
				continue;
			for (uint32_t i = 0; i < s->cfg.max_streams_per_peer; i++) {
				stream_clear(&sp->out[i]);
				stream_clear(&sp->in[i]);
			}
			free(sp->out);
			free(sp->in);
			free(sp);
		}
	if (s->protos)
		for (uint32_t i = 0; i < s->n_protos; i++)
			free(s->protos[i]);
	free(s->protos);
	free(s->peers);
	free(s);
}

const struct stream_stats *stream_stats(const struct stream *s)
{
	return &s->st;
}

static int proto_valid(const char *proto, size_t *len)
{
	if (!proto)
		return 0;
	*len = strnlen(proto, STREAM_PROTO_MAX + 1);
	return *len >= 1 && *len <= STREAM_PROTO_MAX;
}

static int proto_find(const struct stream *s, const char *p, size_t len, uint32_t *index)
{
	for (uint32_t i = 0; i < s->n_protos; i++)
		if (strlen(s->protos[i]) == len && memcmp(s->protos[i], p, len) == 0) {
			*index = i;
			return 1;
		}
	return 0;
}

int stream_register(struct stream *s, const char *proto, uint32_t *proto_index)
{
	size_t len;
	uint32_t i;
	if (!proto_valid(proto, &len))
		return -CN_EINVAL;
	if (proto_find(s, proto, len, &i))
		return -CN_EEXIST;
	if (s->n_protos >= s->cfg.max_protocols)
		return -CN_ELIMIT;
	char *c = strndup(proto, len);
	if (!c)
		return -CN_ENOMEM;
	s->protos[s->n_protos] = c;
	if (proto_index)
		*proto_index = s->n_protos;
	s->n_protos++;
	return 0;
}

/* ---- lookup ---------------------------------------------------------------- */

static struct speer *peer_get(struct stream *s, uint32_t peer)
{
	if (s->peers[peer])
		return s->peers[peer];
	struct speer *sp = calloc(1, sizeof *sp);
	if (!sp)
		return NULL;
	sp->out = calloc(s->cfg.max_streams_per_peer, sizeof *sp->out);
	sp->in = calloc(s->cfg.max_streams_per_peer, sizeof *sp->in);
	if (!sp->out || !sp->in) {
		free(sp->out);
		free(sp->in);
		free(sp);
		return NULL;
	}
	s->peers[peer] = sp;
	return sp;
}

static struct sstream *find(const struct stream *s, const struct sstream *arr, uint32_t sid)
{
	for (uint32_t i = 0; i < s->cfg.max_streams_per_peer; i++)
		if (arr[i].state != S_FREE && arr[i].id == sid)
			return (struct sstream *)&arr[i];
	return NULL;
}

static struct sstream *slot_new(struct stream *s, struct sstream *arr, uint32_t sid)
{
	for (uint32_t i = 0; i < s->cfg.max_streams_per_peer; i++)
		if (arr[i].state == S_FREE) {
			struct sstream *x = &arr[i];
			memset(x, 0, sizeof *x);
			x->reqs = calloc(s->cfg.max_inflight, sizeof *x->reqs);
			if (!x->reqs)
				return NULL;
			x->id = sid;
			return x;
		}
	return NULL;
}

static struct sreq *req_find(struct sstream *x, uint32_t id)
{
	for (uint32_t i = 0; i < x->nreq; i++)
		if (x->reqs[i].id == id)
			return &x->reqs[i];
	return NULL;
}

/* Requests stay in send order: queued ones leave in the order asked. */
static void req_remove(struct sstream *x, struct sreq *r)
{
	free(r->data);
	size_t i = (size_t)(r - x->reqs);
	memmove(&x->reqs[i], &x->reqs[i + 1], (x->nreq - i - 1) * sizeof *r);
	x->nreq--;
}

static void lower_deadline(struct stream *s, uint64_t t)
{
	if (t < s->next_deadline)
		s->next_deadline = t;
}

static void set_timer(const struct stream *s, struct stream_out *out)
{
	if (s->next_deadline < out->next_timer_ms)
		out->next_timer_ms = s->next_deadline;
}

/* Ends one of our streams: every pending request fails with err, then the
 * stream itself (OPEN_FAILED if it never opened, else CLOSED). */
static void end_out(struct stream *s, struct speer *sp, uint32_t peer, struct sstream *x, int err,
		    struct stream_out *out)
{
	for (uint32_t i = 0; i < x->nreq; i++) {
		event(out, STREAM_A_FAILED, peer, x->id, x->reqs[i].id, err);
		s->st.failed++;
	}
	event(out, x->state == S_OPENING ? STREAM_A_OPEN_FAILED : STREAM_A_CLOSED, peer, x->id, 0, err);
	stream_clear(x);
	sp->n_out--;
}

static void end_in(struct stream *s, struct speer *sp, uint32_t peer, struct sstream *x, int err,
		   struct stream_out *out)
{
	event(out, STREAM_A_CLOSED, peer, x->id | STREAM_INCOMING, 0, err);
	stream_clear(x);
	sp->n_in--;
}

/* ---- client ---------------------------------------------------------------- */

int stream_open(struct stream *s, uint64_t now_ms, uint32_t peer, const char *proto, uint32_t *stream,
		struct stream_out *out)
{
	size_t plen;
	if (peer >= s->cfg.max_peers || !proto_valid(proto, &plen) || !stream)
		return -CN_EINVAL;
	struct speer *sp = peer_get(s, peer);
	if (!sp)
		return -CN_ENOMEM;
	if (sp->n_out >= s->cfg.max_streams_per_peer)
		return -CN_ELIMIT;
	/* Ids wrap after 2^31 opens; skip any still in use. */
	uint32_t sid;
	do {
		sid = sp->next_sid;
		sp->next_sid = (sp->next_sid + 1) & SID_MAX;
	} while (find(s, sp->out, sid));
	struct sstream *x = slot_new(s, sp->out, sid);
	if (!x)
		return -CN_ENOMEM;
	uint8_t h[6] = {STREAM_T_OPEN};
	store_be32(h + 1, sid);
	h[5] = (uint8_t)plen;
	if (send2(out, peer, h, sizeof h, (const uint8_t *)proto, plen)) {
		stream_clear(x);
		return -CN_ENOMEM;
	}
	x->state = S_OPENING;
	x->open_deadline = now_ms + s->cfg.open_timeout_ms;
	lower_deadline(s, x->open_deadline);
	sp->n_out++;
	s->st.opened_out++;
	*stream = sid;
	set_timer(s, out);
	return 0;
}

static void send_req(struct stream_out *out, uint32_t peer, uint32_t sid, struct sreq *r)
{
	uint8_t h[9] = {STREAM_T_REQ};
	store_be32(h + 1, sid);
	store_be32(h + 5, r->id);
	send2(out, peer, h, sizeof h, r->data, r->len);
	free(r->data);
	r->data = NULL;
	r->sent = 1;
}

int stream_request_timeout(struct stream *s, uint64_t now_ms, uint32_t peer, uint32_t stream,
			   const uint8_t *data, size_t len, uint64_t timeout_ms, uint32_t *req_id,
			   struct stream_out *out)
{
	if (peer >= s->cfg.max_peers || (stream & STREAM_INCOMING) || (len && !data))
		return -CN_EINVAL;
	struct speer *sp = s->peers[peer];
	struct sstream *x = sp ? find(s, sp->out, stream) : NULL;
	if (!x)
		return -CN_ENOTFOUND;
	if (len > s->cfg.max_request || x->nreq >= s->cfg.max_inflight)
		return -CN_ELIMIT;
	uint8_t *copy = NULL;
	if (len) {
		copy = malloc(len);
		if (!copy)
			return -CN_ENOMEM;
		memcpy(copy, data, len);
	}
	struct sreq *r = &x->reqs[x->nreq++];
	memset(r, 0, sizeof *r);
	r->id = x->next_req++;
	r->data = copy;
	r->len = len;
	r->deadline = now_ms + (timeout_ms ? timeout_ms : s->cfg.request_timeout_ms);
	lower_deadline(s, r->deadline);
	if (x->state == S_OPEN)
		send_req(out, peer, x->id, r);
	s->st.requests_out++;
	if (req_id)
		*req_id = r->id;
	set_timer(s, out);
	return out->oom ? -CN_ENOMEM : 0;
}

int stream_request(struct stream *s, uint64_t now_ms, uint32_t peer, uint32_t stream, const uint8_t *data,
		   size_t len, uint32_t *req_id, struct stream_out *out)
{
	return stream_request_timeout(s, now_ms, peer, stream, data, len, 0, req_id, out);
}

/* ---- server ---------------------------------------------------------------- */

int stream_respond(struct stream *s, uint64_t now_ms, uint32_t peer, uint32_t stream, uint32_t req_id,
		   int32_t status, const uint8_t *data, size_t len, struct stream_out *out)
{
	if (peer >= s->cfg.max_peers || !(stream & STREAM_INCOMING) || (len && !data))
		return -CN_EINVAL;
	struct speer *sp = s->peers[peer];
	struct sstream *x = sp ? find(s, sp->in, stream & SID_MAX) : NULL;
	struct sreq *r = x ? req_find(x, req_id) : NULL;
	if (!r)
		return -CN_ENOTFOUND;
	if (len > s->cfg.max_response)
		return -CN_ELIMIT;
	uint8_t h[13] = {STREAM_T_RESP};
	store_be32(h + 1, x->id);
	store_be32(h + 5, req_id);
	store_be32(h + 9, (uint32_t)status);
	int err = send2(out, peer, h, sizeof h, data, len);
	if (err)
		return err;
	req_remove(x, r);
	s->st.responses_out++;
	set_timer(s, out);
	return 0;
}

int stream_close(struct stream *s, uint64_t now_ms, uint32_t peer, uint32_t stream, struct stream_out *out)
{
	if (peer >= s->cfg.max_peers)
		return -CN_EINVAL;
	struct speer *sp = s->peers[peer];
	int theirs = (stream & STREAM_INCOMING) != 0;
	struct sstream *x = sp ? find(s, theirs ? sp->in : sp->out, stream & SID_MAX) : NULL;
	if (!x)
		return -CN_ENOTFOUND;
	uint8_t f[6] = {STREAM_T_CLOSE};
	store_be32(f + 1, x->id);
	f[5] = theirs ? 1 : 0;
	send2(out, peer, f, sizeof f, NULL, 0);
	stream_clear(x);
	if (theirs)
		sp->n_in--;
	else
		sp->n_out--;
	set_timer(s, out);
	return out->oom ? -CN_ENOMEM : 0;
}

/* ---- receiving ------------------------------------------------------------- */

static void violation(struct stream *s, struct speer *sp, uint32_t peer, struct sstream *x, int theirs,
		      uint8_t reason, struct stream_out *out)
{
	s->st.violations++;
	send_reset(s, out, peer, x->id, theirs, reason);
	int err = reason == STREAM_R_LIMIT ? -CN_ELIMIT : -CN_EINVAL;
	if (theirs)
		end_in(s, sp, peer, x, err, out);
	else
		end_out(s, sp, peer, x, err, out);
}

static void on_open(struct stream *s, struct speer *sp, uint32_t peer, uint32_t sid, const uint8_t *p,
		    size_t len, struct stream_out *out)
{
	if (len < 1 || p[0] == 0 || p[0] > STREAM_PROTO_MAX || len != 1 + (size_t)p[0]) {
		s->st.malformed++;
		send_reset(s, out, peer, sid, 1, STREAM_R_VIOLATION);
		return;
	}
	struct sstream *x = find(s, sp->in, sid);
	if (x) {
		/* Reusing a live id: the peer lost track of its streams. */
		violation(s, sp, peer, x, 1, STREAM_R_VIOLATION, out);
		return;
	}
	uint32_t pi;
	static const char unsupported[] = "protocol not supported", busy[] = "too many streams";
	uint8_t h[6] = {STREAM_T_OPEN_ERR};
	store_be32(h + 1, sid);
	if (!proto_find(s, (const char *)p + 1, p[0], &pi)) {
		h[5] = STREAM_R_UNSUPPORTED;
		send2(out, peer, h, sizeof h, (const uint8_t *)unsupported, sizeof unsupported - 1);
		s->st.refused_in++;
		return;
	}
	if (sp->n_in >= s->cfg.max_streams_per_peer || !(x = slot_new(s, sp->in, sid))) {
		h[5] = STREAM_R_TOO_MANY;
		send2(out, peer, h, sizeof h, (const uint8_t *)busy, sizeof busy - 1);
		s->st.refused_in++;
		return;
	}
	x->state = S_OPEN;
	x->proto_index = pi;
	sp->n_in++;
	s->st.opened_in++;
	send_sid(out, peer, STREAM_T_OPEN_OK, sid);
}

static void on_open_ok(struct stream *s, struct speer *sp, uint32_t peer, uint32_t sid, size_t rest,
		       struct stream_out *out)
{
	if (rest) {
		s->st.malformed++;
		return;
	}
	struct sstream *x = find(s, sp->out, sid);
	if (!x || x->state != S_OPENING) {
		s->st.stray++;
		return;
	}
	x->state = S_OPEN;
	event(out, STREAM_A_OPENED, peer, sid, 0, 0);
	for (uint32_t i = 0; i < x->nreq; i++)
		send_req(out, peer, sid, &x->reqs[i]);
}

static void on_open_err(struct stream *s, struct speer *sp, uint32_t peer, uint32_t sid, const uint8_t *p,
			size_t len, struct stream_out *out)
{
	if (len < 1 || len > 256) {
		s->st.malformed++;
		return;
	}
	struct sstream *x = find(s, sp->out, sid);
	if (!x || x->state != S_OPENING) {
		s->st.stray++;
		return;
	}
	int err = p[0] == STREAM_R_UNSUPPORTED ? -CN_EUNSUPPORTED
		: p[0] == STREAM_R_TOO_MANY   ? -CN_ELIMIT
					      : -CN_ECLOSED;
	end_out(s, sp, peer, x, err, out);
}

static void on_req(struct stream *s, struct speer *sp, uint32_t peer, uint32_t sid, const uint8_t *p,
		   size_t len, struct stream_out *out)
{
	if (len < 4) {
		s->st.malformed++;
		return;
	}
	struct sstream *x = find(s, sp->in, sid);
	if (!x) {
		/* The opener believes in a stream we do not have (closed, or
		 * forgotten across a reconnect): tell it. */
		s->st.stray++;
		send_reset(s, out, peer, sid, 1, STREAM_R_UNKNOWN);
		return;
	}
	uint32_t rid = load_be32(p);
	size_t dlen = len - 4;
	if (dlen > s->cfg.max_request || x->nreq >= s->cfg.max_inflight) {
		violation(s, sp, peer, x, 1, STREAM_R_LIMIT, out);
		return;
	}
	if (req_find(x, rid)) {
		violation(s, sp, peer, x, 1, STREAM_R_VIOLATION, out);
		return;
	}
	uint8_t *copy = NULL;
	if (dlen) {
		copy = malloc(dlen);
		if (!copy) {
			out->oom = 1;
			return;
		}
		memcpy(copy, p + 4, dlen);
	}
	struct stream_action *a = push(out, STREAM_A_REQUEST, peer, sid | STREAM_INCOMING, copy, dlen);
	if (!a)
		return;
	a->req_id = rid;
	a->proto_index = x->proto_index;
	struct sreq *r = &x->reqs[x->nreq++];
	memset(r, 0, sizeof *r);
	r->id = rid;
	s->st.requests_in++;
}

static void on_resp(struct stream *s, struct speer *sp, uint32_t peer, uint32_t sid, const uint8_t *p,
		    size_t len, struct stream_out *out)
{
	if (len < 8) {
		s->st.malformed++;
		return;
	}
	struct sstream *x = find(s, sp->out, sid);
	if (!x) {
		s->st.stray++;
		return;
	}
	if (x->state != S_OPEN) {
		violation(s, sp, peer, x, 0, STREAM_R_VIOLATION, out);
		return;
	}
	uint32_t rid = load_be32(p);
	struct sreq *r = req_find(x, rid);
	if (!r || !r->sent) {
		/* Most likely an answer that came after our timeout. */
		s->st.stray++;
		return;
	}
	size_t dlen = len - 8;
	if (dlen > s->cfg.max_response) {
		violation(s, sp, peer, x, 0, STREAM_R_LIMIT, out);
		return;
	}
	uint8_t *copy = NULL;
	if (dlen) {
		copy = malloc(dlen);
		if (!copy) {
			out->oom = 1;
			return;
		}
		memcpy(copy, p + 8, dlen);
	}
	struct stream_action *a = push(out, STREAM_A_RESPONSE, peer, sid, copy, dlen);
	if (!a)
		return;
	a->req_id = rid;
	a->status = (int32_t)load_be32(p + 4);
	req_remove(x, r);
	s->st.responses_in++;
}

static void on_end(struct stream *s, struct speer *sp, uint32_t peer, uint32_t sid, int reset,
		   const uint8_t *p, size_t len, struct stream_out *out)
{
	if (len != (reset ? 2u : 1u) || p[0] > 1) {
		s->st.malformed++;
		return;
	}
	if (reset)
		s->st.resets_in++;
	/* dir 0: the sender opened it, so it is one of the peer's streams here. */
	int theirs = p[0] == 0;
	struct sstream *x = find(s, theirs ? sp->in : sp->out, sid);
	if (!x) {
		s->st.stray++;
		return;
	}
	int err = -CN_ECLOSED;
	if (reset && p[1] == STREAM_R_LIMIT)
		err = -CN_ELIMIT;
	if (theirs)
		end_in(s, sp, peer, x, err, out);
	else
		end_out(s, sp, peer, x, err, out);
}

static void on_cancel(struct stream *s, struct speer *sp, uint32_t sid, const uint8_t *p, size_t len)
{
	if (len != 4) {
		s->st.malformed++;
		return;
	}
	struct sstream *x = find(s, sp->in, sid);
	struct sreq *r = x ? req_find(x, load_be32(p)) : NULL;
	if (!r) {
		s->st.stray++;
		return;
	}
	req_remove(x, r);
}

int stream_receive(struct stream *s, uint64_t now_ms, uint32_t peer, const uint8_t *frame, size_t len,
		   struct stream_out *out)
{
	if (peer >= s->cfg.max_peers || (len && !frame))
		return -CN_EINVAL;
	if (len < 5 || frame[0] < STREAM_T_OPEN || frame[0] > STREAM_T_CANCEL || load_be32(frame + 1) > SID_MAX) {
		s->st.malformed++;
		goto done;
	}
	struct speer *sp = peer_get(s, peer);
	if (!sp) {
		out->oom = 1;
		goto done;
	}
	uint32_t sid = load_be32(frame + 1);
	const uint8_t *p = frame + 5;
	size_t n = len - 5;
	switch (frame[0]) {
	case STREAM_T_OPEN:
		on_open(s, sp, peer, sid, p, n, out);
		break;
	case STREAM_T_OPEN_OK:
		on_open_ok(s, sp, peer, sid, n, out);
		break;
	case STREAM_T_OPEN_ERR:
		on_open_err(s, sp, peer, sid, p, n, out);
		break;
	case STREAM_T_REQ:
		on_req(s, sp, peer, sid, p, n, out);
		break;
	case STREAM_T_RESP:
		on_resp(s, sp, peer, sid, p, n, out);
		break;
	case STREAM_T_RESET:
		on_end(s, sp, peer, sid, 1, p, n, out);
		break;
	case STREAM_T_CLOSE:
		on_end(s, sp, peer, sid, 0, p, n, out);
		break;
	case STREAM_T_CANCEL:
		on_cancel(s, sp, sid, p, n);
		break;
	}
done:
	set_timer(s, out);
	return out->oom ? -CN_ENOMEM : 0;
}

/* ---- peer down and timers -------------------------------------------------- */

int stream_peer_down(struct stream *s, uint64_t now_ms, uint32_t peer, struct stream_out *out)
{
	if (peer >= s->cfg.max_peers)
		return -CN_EINVAL;
	struct speer *sp = s->peers[peer];
	if (sp)
		for (uint32_t i = 0; i < s->cfg.max_streams_per_peer; i++) {
			if (sp->out[i].state != S_FREE)
				end_out(s, sp, peer, &sp->out[i], -CN_ECLOSED, out);
			if (sp->in[i].state != S_FREE)
				end_in(s, sp, peer, &sp->in[i], -CN_ECLOSED, out);
		}
	set_timer(s, out);
	return out->oom ? -CN_ENOMEM : 0;
}

int stream_timer(struct stream *s, uint64_t now_ms, struct stream_out *out)
{
	if (now_ms < s->next_deadline) {
		set_timer(s, out);
		return 0;
	}
	uint64_t next = UINT64_MAX;
	for (uint32_t p = 0; p < s->cfg.max_peers; p++) {
		struct speer *sp = s->peers[p];
		if (!sp || !sp->n_out)
			continue;
		for (uint32_t i = 0; i < s->cfg.max_streams_per_peer; i++) {
			struct sstream *x = &sp->out[i];
			if (x->state == S_FREE)
				continue;
			if (x->state == S_OPENING && x->open_deadline <= now_ms) {
				/* If the OPEN did arrive late, the reset frees the peer's slot. */
				send_reset(s, out, p, x->id, 0, STREAM_R_TIMEOUT);
				s->st.timeouts++;
				end_out(s, sp, p, x, -CN_ETIMEDOUT, out);
				continue;
			}
			if (x->state == S_OPENING && x->open_deadline < next)
				next = x->open_deadline;
			for (uint32_t j = 0; j < x->nreq;) {
				struct sreq *r = &x->reqs[j];
				if (r->deadline > now_ms) {
					if (r->deadline < next)
						next = r->deadline;
					j++;
					continue;
				}
				if (r->sent) {
					uint8_t f[9] = {STREAM_T_CANCEL};
					store_be32(f + 1, x->id);
					store_be32(f + 5, r->id);
					send2(out, p, f, sizeof f, NULL, 0);
				}
				event(out, STREAM_A_FAILED, p, x->id, r->id, -CN_ETIMEDOUT);
				s->st.timeouts++;
				s->st.failed++;
				req_remove(x, r);
			}
		}
	}
	s->next_deadline = next;
	set_timer(s, out);
	return out->oom ? -CN_ENOMEM : 0;
}

size_t stream_count(const struct stream *s, uint32_t peer)
{
	if (peer >= s->cfg.max_peers || !s->peers[peer])
		return 0;
	return s->peers[peer]->n_out + s->peers[peer]->n_in;
}
