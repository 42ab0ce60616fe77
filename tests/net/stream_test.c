/* stream_test.c — request/response streams: cores of several peers joined
 * by a seeded network (latency, jitter so frames reorder across streams),
 * with every limit, timeout and failure path, and hostile frames. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "base/err.h"
#include "base/prng.h"
#include "net/stream.h"
#include "testutil.h"

#define MSGNET_ASSERT(x) cr_assert(x)
#include "msgnet.h"

#define P1 "harmony/sync/localnet/1/1.0.0"
#define P2 "canon/test/echo/1"
#define MAXN 8

/* ---- a small world: node i is peer i to everyone -------------------------------- */

struct ev {
	uint32_t node;
	struct stream_action a;   /* data copied */
	uint64_t at;
};

struct world {
	uint32_t n;
	struct stream *s[MAXN];
	uint64_t timer[MAXN];
	struct mnet net;
	uint64_t now;
	struct stream_out out;
	uint8_t cut[MAXN][MAXN];  /* frames from i to j are dropped */
	struct ev *ev;
	size_t nev, cap;
	int echo[MAXN];           /* answer requests at once: reversed data, status = len */
	size_t frames;
};

static void flush(struct world *w, uint32_t i)
{
	for (size_t k = 0; k < w->out.n; k++) {
		struct stream_action *a = &w->out.a[k];
		if (a->kind == STREAM_A_SEND) {
			cr_assert(a->len >= 5 && a->data[0] >= STREAM_T_OPEN && a->data[0] <= STREAM_T_CANCEL);
			w->frames++;
			if (!w->cut[i][a->peer])
				mnet_send(&w->net, w->now, i, a->peer, a->data, a->len);
			continue;
		}
		if (w->nev == w->cap) {
			w->cap = w->cap ? 2 * w->cap : 256;
			w->ev = realloc(w->ev, w->cap * sizeof *w->ev);
			cr_assert(w->ev);
		}
		struct ev *e = &w->ev[w->nev++];
		e->node = i;
		e->a = *a;
		e->at = w->now;
		e->a.data = a->len ? malloc(a->len) : NULL;
		if (a->len)
			memcpy(e->a.data, a->data, a->len);
	}
	w->timer[i] = w->out.next_timer_ms;
	stream_out_reset(&w->out);
}

static void answer_echo(struct world *w, uint32_t i, const struct ev *e)
{
	uint8_t *r = malloc(e->a.len + 1);
	for (size_t k = 0; k < e->a.len; k++)
		r[k] = e->a.data[e->a.len - 1 - k];
	cr_assert_eq(stream_respond(w->s[i], w->now, e->a.peer, e->a.stream, e->a.req_id, (int32_t)e->a.len, r,
				    e->a.len, &w->out), 0);
	free(r);
	flush(w, i);
}

static void wmk(struct world *w, uint32_t n, const struct stream_config *cfgs, uint64_t seed, uint64_t jitter)
{
	memset(w, 0, sizeof *w);
	w->n = n;
	cn_prng_seed(&w->net.r, seed);
	w->net.lat = 5;
	w->net.jit = jitter;
	stream_out_init(&w->out);
	w->now = 1000;
	for (uint32_t i = 0; i < n; i++) {
		struct stream_config c = cfgs ? cfgs[i] : (struct stream_config){0};
		c.max_peers = MAXN;
		cr_assert_eq(stream_new(&c, &w->s[i]), 0);
		uint32_t pi;
		cr_assert_eq(stream_register(w->s[i], P1, &pi), 0);
		cr_assert_eq(pi, 0);
		cr_assert_eq(stream_register(w->s[i], P2, &pi), 0);
		cr_assert_eq(pi, 1);
		w->timer[i] = UINT64_MAX;
	}
}

static void wfree(struct world *w)
{
	for (uint32_t i = 0; i < w->n; i++)
		stream_free(w->s[i]);
	for (size_t k = 0; k < w->nev; k++)
		free(w->ev[k].a.data);
	free(w->ev);
	stream_out_free(&w->out);
	mnet_free(&w->net);
}

static void run(struct world *w, uint64_t until)
{
	for (;;) {
		uint64_t tp = w->net.n ? w->net.h[0].t : UINT64_MAX, tt = UINT64_MAX;
		uint32_t ti = 0;
		for (uint32_t i = 0; i < w->n; i++)
			if (w->timer[i] < tt)
				tt = w->timer[i], ti = i;
		uint64_t t = tp < tt ? tp : tt;
		if (t > until)
			break;
		if (t > w->now)
			w->now = t;
		if (tp <= tt) {
			struct mpkt p = mnet_pop(&w->net);
			size_t before = w->nev;
			cr_assert_eq(stream_receive(w->s[p.dst], w->now, p.src, p.d, p.len, &w->out), 0);
			flush(w, p.dst);
			free(p.d);
			if (w->echo[p.dst])
				for (size_t k = before; k < w->nev; k++)
					if (w->ev[k].node == p.dst && w->ev[k].a.kind == STREAM_A_REQUEST) {
						struct ev e = w->ev[k];
						answer_echo(w, p.dst, &e);
					}
		} else {
			w->timer[ti] = UINT64_MAX;
			cr_assert_eq(stream_timer(w->s[ti], w->now, &w->out), 0);
			flush(w, ti);
		}
	}
	if (w->now < until)
		w->now = until;
}

static size_t nevents(const struct world *w, uint32_t node, enum stream_action_kind k)
{
	size_t c = 0;
	for (size_t i = 0; i < w->nev; i++)
		c += w->ev[i].node == node && w->ev[i].a.kind == k;
	return c;
}

static const struct stream_action *last_event(const struct world *w, uint32_t node, enum stream_action_kind k)
{
	for (size_t i = w->nev; i-- > 0;)
		if (w->ev[i].node == node && w->ev[i].a.kind == k)
			return &w->ev[i].a;
	return NULL;
}

static uint32_t wopen(struct world *w, uint32_t from, uint32_t to, const char *proto)
{
	uint32_t sid;
	cr_assert_eq(stream_open(w->s[from], w->now, to, proto, &sid, &w->out), 0);
	flush(w, from);
	return sid;
}

static uint32_t wreq(struct world *w, uint32_t from, uint32_t to, uint32_t sid, const char *data)
{
	uint32_t rid;
	cr_assert_eq(stream_request(w->s[from], w->now, to, sid, (const uint8_t *)data, strlen(data), &rid, &w->out),
		     0);
	flush(w, from);
	return rid;
}

/* ---- two peers -------------------------------------------------------------------- */

Test(net_stream, open_request_response)
{
	struct world w;
	wmk(&w, 2, NULL, 1, 0);
	uint32_t sid = wopen(&w, 0, 1, P1);
	cr_assert_eq(sid, 0);
	/* Before OPEN_OK: the request waits in the stream. */
	uint32_t r0 = wreq(&w, 0, 1, sid, "hello");
	uint32_t r1 = wreq(&w, 0, 1, sid, "");
	cr_assert_neq(r0, r1);
	cr_assert_eq(w.net.n, 1, "only the OPEN is on the wire");
	uint8_t open[6 + sizeof P1 - 1] = {STREAM_T_OPEN, 0, 0, 0, 0, sizeof P1 - 1};
	memcpy(open + 6, P1, sizeof P1 - 1);
	cr_assert_eq(w.net.h[0].len, sizeof open);
	cr_assert_arr_eq(w.net.h[0].d, open, sizeof open);
	cr_assert_eq(stream_count(w.s[0], 1), 1);
	run(&w, 2000);
	cr_assert_eq(nevents(&w, 0, STREAM_A_OPENED), 1);
	cr_assert_eq(nevents(&w, 1, STREAM_A_REQUEST), 2);
	const struct stream_action *q = NULL;
	for (size_t i = 0; i < w.nev; i++)
		if (w.ev[i].node == 1 && w.ev[i].a.kind == STREAM_A_REQUEST && w.ev[i].a.req_id == r0)
			q = &w.ev[i].a;
	cr_assert(q);
	cr_assert_eq(q->stream, sid | STREAM_INCOMING);
	cr_assert_eq(q->proto_index, 0);
	cr_assert_eq(q->peer, 0);
	cr_assert_eq(q->len, 5);
	cr_assert_arr_eq(q->data, "hello", 5);
	cr_assert_eq(stream_count(w.s[1], 0), 1);
	/* Answers in either order. */
	cr_assert_eq(stream_respond(w.s[1], w.now, 0, sid | STREAM_INCOMING, r1, -7, NULL, 0, &w.out), 0);
	flush(&w, 1);
	cr_assert_eq(stream_respond(w.s[1], w.now, 0, sid | STREAM_INCOMING, r0, 0, (const uint8_t *)"world", 5,
				    &w.out), 0);
	flush(&w, 1);
	cr_assert_eq(stream_respond(w.s[1], w.now, 0, sid | STREAM_INCOMING, r0, 0, NULL, 0, &w.out),
		     -CN_ENOTFOUND, "answered already");
	cr_assert_eq(stream_respond(w.s[1], w.now, 0, sid, r0, 0, NULL, 0, &w.out), -CN_EINVAL,
		     "not an incoming handle");
	run(&w, 3000);
	cr_assert_eq(nevents(&w, 0, STREAM_A_RESPONSE), 2);
	const struct stream_action *a = last_event(&w, 0, STREAM_A_RESPONSE);
	cr_assert_eq(a->req_id, r0);
	cr_assert_eq(a->status, 0);
	cr_assert_eq(a->len, 5);
	cr_assert_arr_eq(a->data, "world", 5);
	for (size_t i = 0; i < w.nev; i++)
		if (w.ev[i].a.kind == STREAM_A_RESPONSE && w.ev[i].a.req_id == r1)
			cr_assert_eq(w.ev[i].a.status, -7, "negative status codes travel");
	/* Nothing fails later: no timers left that fire anything. */
	run(&w, 60000);
	cr_assert_eq(nevents(&w, 0, STREAM_A_FAILED), 0);
	cr_assert_eq(stream_stats(w.s[0])->requests_out, 2);
	cr_assert_eq(stream_stats(w.s[0])->responses_in, 2);
	cr_assert_eq(stream_stats(w.s[1])->requests_in, 2);
	cr_assert_eq(stream_stats(w.s[1])->responses_out, 2);
	/* A second protocol on the same peer is a separate stream. */
	uint32_t sid2 = wopen(&w, 0, 1, P2);
	cr_assert_neq(sid2, sid);
	w.echo[1] = 1;
	uint32_t r = wreq(&w, 0, 1, sid2, "abc");
	run(&w, 61000);
	a = last_event(&w, 0, STREAM_A_RESPONSE);
	cr_assert_eq(a->stream, sid2);
	cr_assert_eq(a->req_id, r);
	cr_assert_arr_eq(a->data, "cba", 3);
	cr_assert_eq(last_event(&w, 1, STREAM_A_REQUEST)->proto_index, 1);
	wfree(&w);
}

Test(net_stream, unknown_protocol_fails_cleanly)
{
	struct world w;
	wmk(&w, 2, NULL, 2, 0);
	uint32_t sid = wopen(&w, 0, 1, "harmony/sync/mainnet/0/1.0.0");
	uint32_t rid = wreq(&w, 0, 1, sid, "q");
	run(&w, 2000);
	const struct stream_action *f = last_event(&w, 0, STREAM_A_OPEN_FAILED);
	cr_assert(f);
	cr_assert_eq(f->stream, sid);
	cr_assert_eq(f->err, -CN_EUNSUPPORTED);
	const struct stream_action *rf = last_event(&w, 0, STREAM_A_FAILED);
	cr_assert(rf);
	cr_assert_eq(rf->req_id, rid);
	cr_assert_eq(rf->err, -CN_EUNSUPPORTED);
	cr_assert_eq(nevents(&w, 1, STREAM_A_REQUEST), 0);
	cr_assert_eq(stream_stats(w.s[1])->refused_in, 1);
	cr_assert_eq(stream_count(w.s[0], 1), 0);
	cr_assert_eq(stream_count(w.s[1], 0), 0);
	cr_assert_eq(stream_request(w.s[0], w.now, 1, sid, (const uint8_t *)"x", 1, &rid, &w.out), -CN_ENOTFOUND);
	/* Registration rules. */
	char longp[STREAM_PROTO_MAX + 2];
	memset(longp, 'p', sizeof longp - 1);
	longp[sizeof longp - 1] = 0;
	cr_assert_eq(stream_register(w.s[1], longp, NULL), -CN_EINVAL);
	longp[STREAM_PROTO_MAX] = 0;
	cr_assert_eq(stream_register(w.s[1], longp, NULL), 0);
	cr_assert_eq(stream_register(w.s[1], P1, NULL), -CN_EEXIST);
	cr_assert_eq(stream_register(w.s[1], "", NULL), -CN_EINVAL);
	/* A 128-byte protocol id opens. */
	sid = wopen(&w, 0, 1, longp);
	run(&w, 3000);
	cr_assert_eq(last_event(&w, 0, STREAM_A_OPENED)->stream, sid);
	wfree(&w);
}

Test(net_stream, stream_caps_local_and_remote)
{
	struct stream_config c[2] = {{.max_streams_per_peer = 3}, {.max_streams_per_peer = 2}};
	struct world w;
	wmk(&w, 2, c, 3, 0);
	uint32_t s0 = wopen(&w, 0, 1, P1), s1 = wopen(&w, 0, 1, P1), s2 = wopen(&w, 0, 1, P1), sx;
	cr_assert_eq(stream_open(w.s[0], w.now, 1, P1, &sx, &w.out), -CN_ELIMIT, "local cap 3");
	run(&w, 2000);
	cr_assert_eq(nevents(&w, 0, STREAM_A_OPENED), 2);
	const struct stream_action *f = last_event(&w, 0, STREAM_A_OPEN_FAILED);
	cr_assert(f);
	cr_assert_eq(f->stream, s2);
	cr_assert_eq(f->err, -CN_ELIMIT, "the server holds only 2");
	/* Closing one frees a slot on both sides. */
	cr_assert_eq(stream_close(w.s[0], w.now, 1, s0, &w.out), 0);
	flush(&w, 0);
	cr_assert_eq(stream_close(w.s[0], w.now, 1, s0, &w.out), -CN_ENOTFOUND);
	run(&w, 3000);
	cr_assert_eq(last_event(&w, 1, STREAM_A_CLOSED)->stream, s0 | STREAM_INCOMING);
	cr_assert_eq(last_event(&w, 1, STREAM_A_CLOSED)->err, -CN_ECLOSED);
	uint32_t s3 = wopen(&w, 0, 1, P1);
	run(&w, 4000);
	cr_assert_eq(last_event(&w, 0, STREAM_A_OPENED)->stream, s3);
	cr_assert_eq(stream_count(w.s[1], 0), 2);
	(void)s1;
	/* The cap is per peer: the server opens its own streams to us. */
	uint32_t b0 = wopen(&w, 1, 0, P2);
	run(&w, 5000);
	cr_assert_eq(last_event(&w, 1, STREAM_A_OPENED)->stream, b0);
	cr_assert_eq(b0, 0, "ids are per direction: 0 again");
	cr_assert_eq(stream_count(w.s[0], 1), 3);
	wfree(&w);
}

Test(net_stream, inflight_caps_local_and_remote)
{
	struct stream_config c[2] = {{.max_inflight = 4}, {.max_inflight = 2}};
	struct world w;
	wmk(&w, 2, c, 4, 0);
	uint32_t sid = wopen(&w, 0, 1, P1), rid;
	for (int i = 0; i < 4; i++)
		wreq(&w, 0, 1, sid, "r");
	cr_assert_eq(stream_request(w.s[0], w.now, 1, sid, (const uint8_t *)"r", 1, &rid, &w.out), -CN_ELIMIT);
	run(&w, 2000);
	/* The server took two, then the third broke its cap: stream reset. */
	cr_assert_eq(nevents(&w, 1, STREAM_A_REQUEST), 2);
	cr_assert_eq(stream_stats(w.s[1])->violations, 1);
	/* one for the broken cap, one for the 4th request on the dead stream */
	cr_assert_eq(stream_stats(w.s[1])->resets_out, 2);
	cr_assert_eq(nevents(&w, 0, STREAM_A_FAILED), 4);
	for (size_t i = 0; i < w.nev; i++)
		if (w.ev[i].node == 0 && w.ev[i].a.kind == STREAM_A_FAILED)
			cr_assert_eq(w.ev[i].a.err, -CN_ELIMIT);
	cr_assert_eq(last_event(&w, 0, STREAM_A_CLOSED)->err, -CN_ELIMIT);
	cr_assert_eq(last_event(&w, 1, STREAM_A_CLOSED)->err, -CN_ELIMIT);
	cr_assert_eq(stream_count(w.s[0], 1), 0);
	cr_assert_eq(stream_count(w.s[1], 0), 0);
	/* Within the cap, answered requests make room for more. */
	w.echo[1] = 1;
	sid = wopen(&w, 0, 1, P1);
	for (int round = 0; round < 10; round++) {
		wreq(&w, 0, 1, sid, "ab");
		wreq(&w, 0, 1, sid, "cd");
		run(&w, w.now + 100);
	}
	cr_assert_eq(nevents(&w, 0, STREAM_A_RESPONSE), 20);
	cr_assert_eq(stream_stats(w.s[1])->violations, 1);
	wfree(&w);
}

Test(net_stream, size_limits_both_sides)
{
	struct stream_config c[2] = {{.max_request = 100, .max_response = 50},
				     {.max_request = 10, .max_response = 1000}};
	struct world w;
	wmk(&w, 2, c, 5, 0);
	uint8_t big[2000];
	memset(big, 'z', sizeof big);
	uint32_t sid = wopen(&w, 0, 1, P1), rid;
	cr_assert_eq(stream_request(w.s[0], w.now, 1, sid, big, 101, &rid, &w.out), -CN_ELIMIT);
	cr_assert_eq(stream_request(w.s[0], w.now, 1, sid, big, 10, &rid, &w.out), 0);
	flush(&w, 0);
	run(&w, 2000);
	const struct stream_action *q = last_event(&w, 1, STREAM_A_REQUEST);
	cr_assert_eq(q->len, 10);
	/* The server may not send more than its own limit... */
	cr_assert_eq(stream_respond(w.s[1], w.now, 0, q->stream, q->req_id, 0, big, 1001, &w.out), -CN_ELIMIT);
	/* ...and the client refuses more than its limit: reset, request failed. */
	cr_assert_eq(stream_respond(w.s[1], w.now, 0, q->stream, q->req_id, 0, big, 51, &w.out), 0);
	flush(&w, 1);
	run(&w, 3000);
	cr_assert_eq(nevents(&w, 0, STREAM_A_RESPONSE), 0);
	cr_assert_eq(last_event(&w, 0, STREAM_A_FAILED)->err, -CN_ELIMIT);
	cr_assert_eq(stream_stats(w.s[0])->violations, 1);
	cr_assert_eq(last_event(&w, 1, STREAM_A_CLOSED)->err, -CN_ELIMIT);
	/* A request over the server's limit resets the stream there. */
	sid = wopen(&w, 0, 1, P1);
	cr_assert_eq(stream_request(w.s[0], w.now, 1, sid, big, 11, &rid, &w.out), 0);
	flush(&w, 0);
	run(&w, 4000);
	cr_assert_eq(stream_stats(w.s[1])->violations, 1);
	cr_assert_eq(nevents(&w, 1, STREAM_A_REQUEST), 1);
	const struct stream_action *f = last_event(&w, 0, STREAM_A_FAILED);
	cr_assert_eq(f->req_id, rid);
	cr_assert_eq(f->err, -CN_ELIMIT);
	/* Exactly at the limits is fine. */
	w.echo[1] = 1;
	sid = wopen(&w, 0, 1, P1);
	cr_assert_eq(stream_request(w.s[0], w.now, 1, sid, big, 10, &rid, &w.out), 0);
	flush(&w, 0);
	run(&w, 5000);
	cr_assert_eq(last_event(&w, 0, STREAM_A_RESPONSE)->len, 10);
	wfree(&w);
}

Test(net_stream, request_timeout_cancels_at_server)
{
	struct stream_config c[2] = {{.request_timeout_ms = 3000}, {0}};
	struct world w;
	wmk(&w, 2, c, 6, 0);
	uint32_t sid = wopen(&w, 0, 1, P1);
	uint32_t r0 = wreq(&w, 0, 1, sid, "slow");
	uint32_t r1;
	cr_assert_eq(stream_request_timeout(w.s[0], w.now, 1, sid, (const uint8_t *)"slower", 6, 8000, &r1, &w.out),
		     0);
	flush(&w, 0);
	run(&w, 1000 + 2999);
	cr_assert_eq(nevents(&w, 0, STREAM_A_FAILED), 0);
	run(&w, 1000 + 3000);
	const struct stream_action *f = last_event(&w, 0, STREAM_A_FAILED);
	cr_assert(f);
	cr_assert_eq(f->req_id, r0);
	cr_assert_eq(f->err, -CN_ETIMEDOUT);
	run(&w, 1000 + 3100);
	/* The server was told: its late answer is refused locally. */
	const struct stream_action *q = last_event(&w, 1, STREAM_A_REQUEST);
	uint32_t h = q->stream;
	cr_assert_eq(stream_respond(w.s[1], w.now, 0, h, r0, 0, NULL, 0, &w.out), -CN_ENOTFOUND);
	/* The stream itself lives on: r1 has its own timeout. */
	cr_assert_eq(stream_respond(w.s[1], w.now, 0, h, r1, 0, (const uint8_t *)"ok", 2, &w.out), 0);
	flush(&w, 1);
	run(&w, 1000 + 9000);
	cr_assert_eq(nevents(&w, 0, STREAM_A_FAILED), 1);
	cr_assert_eq(last_event(&w, 0, STREAM_A_RESPONSE)->req_id, r1);
	cr_assert_eq(stream_stats(w.s[0])->timeouts, 1);
	wfree(&w);
}

Test(net_stream, late_response_after_timeout_is_stray)
{
	struct stream_config c[2] = {{.request_timeout_ms = 100}, {0}};
	struct world w;
	wmk(&w, 2, c, 7, 0);
	uint32_t sid = wopen(&w, 0, 1, P1);
	uint32_t r0 = wreq(&w, 0, 1, sid, "q");
	run(&w, 1050);
	const struct stream_action *q = last_event(&w, 1, STREAM_A_REQUEST);
	/* Cut the client's frames so the CANCEL never arrives; answer late. */
	w.cut[0][1] = 1;
	run(&w, 1200);
	cr_assert_eq(last_event(&w, 0, STREAM_A_FAILED)->err, -CN_ETIMEDOUT);
	cr_assert_eq(stream_respond(w.s[1], w.now, 0, q->stream, r0, 0, (const uint8_t *)"late", 4, &w.out), 0);
	flush(&w, 1);
	run(&w, 1300);
	cr_assert_eq(nevents(&w, 0, STREAM_A_RESPONSE), 0);
	cr_assert_eq(stream_stats(w.s[0])->stray, 1);
	wfree(&w);
}

Test(net_stream, open_timeout)
{
	struct stream_config c[2] = {{.open_timeout_ms = 2000}, {0}};
	struct world w;
	wmk(&w, 2, c, 8, 0);
	w.cut[1][0] = 1;     /* the server's answers are lost */
	uint32_t sid = wopen(&w, 0, 1, P1);
	uint32_t rid = wreq(&w, 0, 1, sid, "q");
	run(&w, 1000 + 1999);
	cr_assert_eq(nevents(&w, 0, STREAM_A_OPEN_FAILED), 0);
	cr_assert_eq(stream_count(w.s[1], 0), 1);
	run(&w, 1000 + 2100);
	const struct stream_action *f = last_event(&w, 0, STREAM_A_OPEN_FAILED);
	cr_assert(f);
	cr_assert_eq(f->err, -CN_ETIMEDOUT);
	cr_assert_eq(last_event(&w, 0, STREAM_A_FAILED)->req_id, rid);
	cr_assert_eq(last_event(&w, 0, STREAM_A_FAILED)->err, -CN_ETIMEDOUT);
	/* The RESET the opener sent frees the server's slot. */
	cr_assert_eq(stream_count(w.s[1], 0), 0);
	cr_assert_eq(stream_count(w.s[0], 1), 0);
	cr_assert_eq(nevents(&w, 1, STREAM_A_REQUEST), 0);
	wfree(&w);
}

Test(net_stream, peer_down_fails_everything)
{
	struct world w;
	wmk(&w, 3, NULL, 9, 0);
	uint32_t a = wopen(&w, 0, 1, P1), b = wopen(&w, 0, 1, P2);
	wreq(&w, 0, 1, a, "1");
	wreq(&w, 0, 1, a, "2");
	run(&w, 2000);
	uint32_t c = wopen(&w, 0, 1, P1);   /* not yet accepted */
	wreq(&w, 0, 1, c, "3");
	wreq(&w, 0, 1, b, "4");
	uint32_t in = wopen(&w, 1, 0, P1);   /* and the peer's stream to us */
	(void)in;
	/* A stream with another peer is not touched. */
	uint32_t other = wopen(&w, 0, 2, P1);
	wreq(&w, 0, 2, other, "5");
	run(&w, 2001);   /* the peer's OPEN is delivered at 2005: not yet */
	size_t before = w.nev;
	cr_assert_eq(stream_peer_down(w.s[0], w.now, 1, &w.out), 0);
	flush(&w, 0);
	cr_assert_eq(stream_peer_down(w.s[1], w.now, 0, &w.out), 0);
	flush(&w, 1);
	size_t failed = 0, open_failed = 0, closed = 0;
	for (size_t i = before; i < w.nev; i++) {
		const struct ev *e = &w.ev[i];
		if (e->node != 0)
			continue;
		cr_assert_eq(e->a.peer, 1);
		cr_assert_eq(e->a.err, -CN_ECLOSED);
		failed += e->a.kind == STREAM_A_FAILED;
		open_failed += e->a.kind == STREAM_A_OPEN_FAILED;
		closed += e->a.kind == STREAM_A_CLOSED;
	}
	cr_assert_eq(failed, 4);
	cr_assert_eq(open_failed, 1, "stream c never opened");
	cr_assert_eq(closed, 2, "a and b");
	cr_assert_eq(nevents(&w, 1, STREAM_A_CLOSED), 2, "the server's view: a and b gone");
	cr_assert_eq(stream_count(w.s[0], 1), 0);
	cr_assert_eq(nevents(&w, 1, STREAM_A_OPEN_FAILED), 1, "its own stream to us was still opening");
	cr_assert_eq(stream_count(w.s[1], 0), 0);
	cr_assert_eq(stream_count(w.s[0], 2), 1);
	/* Frames still in flight from the old session do no harm. */
	run(&w, 3000);
	cr_assert_eq(stream_count(w.s[0], 2), 1);
	/* After the peer is back, streams work again with fresh ids. */
	w.echo[1] = 1;
	uint32_t d = wopen(&w, 0, 1, P1);
	cr_assert_neq(d, a);
	wreq(&w, 0, 1, d, "again");
	run(&w, 4000);
	cr_assert_eq(last_event(&w, 0, STREAM_A_RESPONSE)->stream, d);
	wfree(&w);
}

Test(net_stream, close_by_either_side)
{
	struct world w;
	wmk(&w, 2, NULL, 10, 0);
	uint32_t sid = wopen(&w, 0, 1, P1);
	wreq(&w, 0, 1, sid, "q");
	run(&w, 2000);
	const struct stream_action *q = last_event(&w, 1, STREAM_A_REQUEST);
	cr_assert_eq(stream_close(w.s[1], w.now, 0, q->stream, &w.out), 0);
	flush(&w, 1);
	run(&w, 3000);
	cr_assert_eq(last_event(&w, 0, STREAM_A_FAILED)->err, -CN_ECLOSED);
	cr_assert_eq(last_event(&w, 0, STREAM_A_CLOSED)->stream, sid);
	cr_assert_eq(stream_count(w.s[0], 1), 0);
	/* The client closing its own stream gets no events of its own. */
	sid = wopen(&w, 0, 1, P1);
	wreq(&w, 0, 1, sid, "q");
	size_t before = w.nev;
	cr_assert_eq(stream_close(w.s[0], w.now, 1, sid, &w.out), 0);
	flush(&w, 0);
	run(&w, 60000);
	for (size_t i = before; i < w.nev; i++)
		cr_assert_neq(w.ev[i].node, 0);
	cr_assert_eq(stream_count(w.s[1], 0), 0);
	wfree(&w);
}

/* ---- several peers, interleaved ------------------------------------------------ */

/* Every node opens streams on both protocols to every other node and sends
 * requests of random sizes; servers answer some at once and hold others
 * for a random time, so answers come back out of order and frames of
 * different streams interleave on the (jittery) network. Every request gets
 * exactly its own answer. */
Test(net_stream, interleaved_many_peers)
{
	enum { N = 5, PER = 40 };
	struct world w;
	wmk(&w, N, NULL, 11, 30);
	struct cn_prng r;
	cn_prng_seed(&r, 99);
	uint32_t sids[N][N][2];
	for (uint32_t i = 0; i < N; i++)
		for (uint32_t j = 0; j < N; j++)
			if (i != j)
				for (int p = 0; p < 2; p++)
					sids[i][j][p] = wopen(&w, i, j, p ? P2 : P1);
	/* Requests carry (from, to, proto, n) so the answer can be checked. */
	size_t sent = 0;
	for (int k = 0; k < PER; k++) {
		for (uint32_t i = 0; i < N; i++)
			for (uint32_t j = 0; j < N; j++) {
				if (i == j)
					continue;
				int p = (int)cn_prng_uniform(&r, 2);
				uint8_t req[3000];
				size_t len = 16 + (size_t)cn_prng_uniform(&r, sizeof req - 16);
				cn_prng_fill(&r, req, len);
				req[0] = (uint8_t)i, req[1] = (uint8_t)j, req[2] = (uint8_t)p;
				uint32_t rid;
				cr_assert_eq(stream_request(w.s[i], w.now, j, sids[i][j][p], req, len, &rid, &w.out), 0);
				flush(&w, i);
				sent++;
			}
		run(&w, w.now + 7);
		/* Servers answer pending requests in random order, some now. */
		for (size_t e = 0; e < w.nev; e++) {
			struct ev *x = &w.ev[e];
			if (x->a.kind != STREAM_A_REQUEST || x->a.len == 0 || cn_prng_uniform(&r, 3) == 0)
				continue;
			cr_assert_eq(x->a.data[1], x->node);
			cr_assert_eq(x->a.data[0], x->a.peer);
			cr_assert_eq(x->a.data[2], x->a.proto_index);
			struct ev copy = *x;
			answer_echo(&w, x->node, &copy);
			x = &w.ev[e];   /* answer_echo may have grown the array */
			x->a.len = 0;   /* answered */
		}
	}
	for (int rounds = 0; rounds < 20; rounds++) {
		run(&w, w.now + 50);
		for (size_t e = 0; e < w.nev; e++) {
			struct ev *x = &w.ev[e];
			if (x->a.kind != STREAM_A_REQUEST || x->a.len == 0)
				continue;
			struct ev copy = *x;
			answer_echo(&w, x->node, &copy);
			w.ev[e].a.len = 0;
		}
	}
	run(&w, w.now + 1000);
	size_t got = 0;
	for (size_t e = 0; e < w.nev; e++) {
		const struct ev *x = &w.ev[e];
		cr_assert(x->a.kind != STREAM_A_FAILED && x->a.kind != STREAM_A_OPEN_FAILED &&
			  x->a.kind != STREAM_A_CLOSED);
		if (x->a.kind != STREAM_A_RESPONSE)
			continue;
		got++;
		/* The echo reverses the request: its last bytes name the path. */
		cr_assert_eq((size_t)x->a.status, x->a.len);
		cr_assert_eq(x->a.data[x->a.len - 1], x->node);
		cr_assert_eq(x->a.data[x->a.len - 2], x->a.peer);
		cr_assert_eq(x->a.stream, sids[x->node][x->a.peer][x->a.data[x->a.len - 3]]);
	}
	cr_assert_eq(got, sent);
	for (uint32_t i = 0; i < N; i++) {
		cr_assert_eq(stream_stats(w.s[i])->violations, 0);
		cr_assert_eq(stream_stats(w.s[i])->malformed, 0);
	}
	tu_report("stream interleaved requests", sent);
	wfree(&w);
}

/* ---- hostile frames ---------------------------------------------------------------- */

static void feed(struct stream *s, uint32_t peer, const uint8_t *f, size_t n, struct stream_out *o)
{
	cr_assert_eq(stream_receive(s, 1000, peer, f, n, o), 0);
}

static size_t count_sends(const struct stream_out *o, uint8_t type)
{
	size_t c = 0;
	for (size_t i = 0; i < o->n; i++)
		c += o->a[i].kind == STREAM_A_SEND && o->a[i].data[0] == type;
	return c;
}

Test(net_stream, hostile_frames)
{
	struct stream_config c = {.max_peers = 4, .max_request = 64};
	struct stream *s;
	cr_assert_eq(stream_new(&c, &s), 0);
	cr_assert_eq(stream_register(s, P1, NULL), 0);
	struct stream_out o;
	stream_out_init(&o);
	cr_assert_eq(stream_receive(s, 0, 4, (const uint8_t *)"\x31", 1, &o), -CN_EINVAL, "bad peer index");
	struct {
		const char *d;
		size_t n;
	} bad[] = {
		{"", 0},
		{"\x31", 1},
		{"\x31\0\0\0", 4},
		{"\x30\0\0\0\0", 5},                 /* types outside 0x31..0x38 */
		{"\x39\0\0\0\0", 5},
		{"\x21\0\0\0\0", 5},
		{"\x31\x80\0\0\0\x01p", 7},          /* sid >= 2^31 */
		{"\x32\0\0\0\0\0", 6},               /* OPEN_OK with a tail */
		{"\x33\0\0\0\0", 5},                 /* OPEN_ERR without a reason */
		{"\x34\0\0\0\0\0\0\0", 8},           /* REQ without a full id */
		{"\x35\0\0\0\0\0\0\0\0\0\0\0", 12},  /* RESP without a full status */
		{"\x36\0\0\0\0\0", 6},               /* RESET without a reason */
		{"\x36\0\0\0\0\x02\x01", 7},         /* dir 2 */
		{"\x37\0\0\0\0", 5},
		{"\x37\0\0\0\0\0\0", 7},
		{"\x38\0\0\0\0\0\0\0", 8},
	};
	size_t nb = sizeof bad / sizeof bad[0];
	for (size_t i = 0; i < nb; i++) {
		stream_out_reset(&o);
		feed(s, 1, (const uint8_t *)bad[i].d, bad[i].n, &o);
		cr_assert_eq(stream_stats(s)->malformed, i + 1, "frame %zu", i);
		cr_assert_eq(count_sends(&o, STREAM_T_RESET), 0, "no answer to %zu", i);
	}
	/* Malformed OPENs are refused with a RESET so the opener does not wait. */
	const char *bad_open[] = {"\x31\0\0\0\x07", "\x31\0\0\0\x07\x00", "\x31\0\0\0\x07\x05" "abc",
				  "\x31\0\0\0\x07\x01" "ab"};
	size_t bad_open_n[] = {5, 6, 9, 8};
	for (size_t i = 0; i < 4; i++) {
		stream_out_reset(&o);
		feed(s, 1, (const uint8_t *)bad_open[i], bad_open_n[i], &o);
		cr_assert_eq(count_sends(&o, STREAM_T_RESET), 1);
	}
	cr_assert_eq(stream_count(s, 1), 0);
	/* Strays: answers and ends of streams we do not have. */
	uint64_t stray0 = stream_stats(s)->stray;
	stream_out_reset(&o);
	feed(s, 1, (const uint8_t *)"\x32\0\0\0\x09", 5, &o);
	feed(s, 1, (const uint8_t *)"\x33\0\0\0\x09\x01", 6, &o);
	feed(s, 1, (const uint8_t *)"\x35\0\0\0\x09\0\0\0\0\0\0\0\0", 13, &o);
	feed(s, 1, (const uint8_t *)"\x36\0\0\0\x09\0\x03", 7, &o);
	feed(s, 1, (const uint8_t *)"\x37\0\0\0\x09\x01", 6, &o);
	feed(s, 1, (const uint8_t *)"\x38\0\0\0\x09\0\0\0\0", 9, &o);
	cr_assert_eq(stream_stats(s)->stray, stray0 + 6);
	cr_assert_eq(o.n, 0, "strays are not answered");
	/* A REQ on an unknown stream is answered with RESET (unknown). */
	feed(s, 1, (const uint8_t *)"\x34\0\0\0\x09\0\0\0\0", 9, &o);
	cr_assert_eq(count_sends(&o, STREAM_T_RESET), 1);
	cr_assert_eq(o.a[0].len, 7);
	cr_assert_eq(o.a[0].data[5], 1, "dir: the receiver's stream");
	cr_assert_eq(o.a[0].data[6], STREAM_R_UNKNOWN);
	/* Open a real stream, then break its rules. */
	stream_out_reset(&o);
	uint8_t op[6 + sizeof P1 - 1] = {STREAM_T_OPEN, 0, 0, 0, 5, sizeof P1 - 1};
	memcpy(op + 6, P1, sizeof P1 - 1);
	feed(s, 1, op, sizeof op, &o);
	cr_assert_eq(count_sends(&o, STREAM_T_OPEN_OK), 1);
	uint8_t rq[9 + 65] = {STREAM_T_REQ, 0, 0, 0, 5, 0, 0, 0, 1};
	feed(s, 1, rq, 9 + 3, &o);
	cr_assert_eq(o.a[o.n - 1].kind, STREAM_A_REQUEST);
	feed(s, 1, rq, 9 + 3, &o);   /* same request id again */
	cr_assert_eq(stream_stats(s)->violations, 1);
	cr_assert_eq(stream_count(s, 1), 0);
	stream_out_reset(&o);
	feed(s, 1, op, sizeof op, &o);
	feed(s, 1, op, sizeof op, &o);   /* OPEN of a live id */
	cr_assert_eq(stream_stats(s)->violations, 2);
	cr_assert_eq(stream_count(s, 1), 0);
	feed(s, 1, op, sizeof op, &o);
	feed(s, 1, rq, sizeof rq, &o);   /* 65 > max_request */
	cr_assert_eq(stream_stats(s)->violations, 3);
	/* A RESET is never answered with a RESET. */
	stream_out_reset(&o);
	feed(s, 1, (const uint8_t *)"\x36\0\0\0\x05\0\x03", 7, &o);
	cr_assert_eq(count_sends(&o, STREAM_T_RESET), 0);
	/* A RESP before OPEN_OK is a violation on our own stream. */
	uint32_t sid;
	cr_assert_eq(stream_open(s, 1000, 2, P1, &sid, &o), 0);
	uint8_t rs[13] = {STREAM_T_RESP};
	store_be32(rs + 1, sid);
	stream_out_reset(&o);
	feed(s, 2, rs, sizeof rs, &o);
	cr_assert_eq(stream_stats(s)->violations, 4);
	cr_assert_eq(count_sends(&o, STREAM_T_RESET), 1);
	cr_assert_eq(o.a[0].data[5], 0, "dir: the sender's own stream");
	stream_out_free(&o);
	stream_free(s);
}
