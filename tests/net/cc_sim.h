/* cc_sim.h — a deterministic bottleneck for driving net_cc controllers
 * (header only; shared by tests/net/cc_test.c and bench/net_cc.c).
 *
 * Bulk senders (always something to send) share one link of fixed bandwidth
 * with a drop-tail queue in front of it and a fixed propagation delay after
 * it; packets may also be dropped at random (seeded PRNG) on the way to the
 * receiver, standing in for loss that is not congestion. Receivers record
 * packet numbers in a net_cc_ackset and acknowledge every second packet, at
 * once when a gap appears, else after a short delayed-ACK timer; ACK frames
 * go back encoded with net_cc_ack_encode over an uncongested path and are
 * decoded by the sender. Everything is integer time (ns for the link, µs for
 * the controllers), so a run depends only on its parameters and seed. */
#ifndef CANON_TESTS_NET_CC_SIM_H
#define CANON_TESTS_NET_CC_SIM_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/prng.h"
#include "net/cc.h"

#define CCS_MAX_FLOWS 4
#define CCS_ACK_BYTES 256
#define CCS_NEVER UINT64_MAX

struct ccs_params {
	uint64_t bw_bytes_per_s;        /* bottleneck rate */
	uint64_t delay_us;              /* one-way propagation, each direction */
	uint64_t queue_bytes;           /* drop-tail capacity in front of the link */
	uint32_t loss_ppm;              /* random loss after the queue, per million */
	uint64_t ack_delay_us;          /* receiver's delayed-ACK timer */
	uint64_t seed;
	uint64_t duration_us;
	uint64_t measure_from_us;       /* throughput counted from here to the end */
	int n_flows;
	uint64_t start_us[CCS_MAX_FLOWS];
	struct net_cc_config cfg;       /* every flow's controller */
};

enum { CCS_EV_RECV, CCS_EV_ACK, CCS_EV_ACK_TIMER };

struct ccs_event {
	uint64_t t_us, seq;
	int kind, flow;
	uint64_t pn, gen;
	uint32_t size;
	uint16_t ack_len;
	uint8_t ack[CCS_ACK_BYTES];
};

struct ccs_flow {
	struct net_cc cc;
	uint64_t next_pn, wake_us;
	/* receiver */
	struct net_cc_ackset rx;
	uint64_t rx_largest, rx_largest_t, rx_pending, ack_gen;
	int rx_any;
	/* results */
	uint64_t delivered;             /* unique bytes at the receiver in the window */
	uint64_t sent, congestion, bad_reductions, max_cwnd;
	uint64_t cwnd_sum, cwnd_samples;
};

struct ccs {
	struct ccs_params p;
	struct cn_prng rng;
	uint64_t now_us, seq;
	uint64_t link_free_ns;
	struct ccs_event *heap;
	size_t n_ev, cap_ev;
	struct ccs_flow flow[CCS_MAX_FLOWS];
	/* results */
	uint64_t drops_queue, drops_random, enqueued;
	uint64_t backlog_sum, backlog_max;  /* bytes queued ahead, sampled per arrival */
	int error;                          /* a controller call failed */
};

struct ccs_result {
	double utilization;                 /* delivered / capacity over the window */
	double share[CCS_MAX_FLOWS];        /* each flow's fraction of the capacity */
	double avg_queue_fill;              /* mean backlog seen by arriving packets / queue size */
	uint64_t drops_queue, drops_random, congestion, bad_reductions, max_cwnd;
	double avg_cwnd;
	int error;
};

static inline void ccs_params_default(struct ccs_params *p)
{
	memset(p, 0, sizeof *p);
	p->bw_bytes_per_s = 1250000;    /* 10 Mbit/s */
	p->delay_us = 20000;            /* 40 ms RTT */
	p->queue_bytes = 50000;         /* one bandwidth-delay product */
	p->ack_delay_us = 5000;
	p->seed = 1;
	p->duration_us = 30000000;
	p->measure_from_us = 10000000;
	p->n_flows = 1;
	net_cc_config_default(&p->cfg);
}

static inline int ccs_before(const struct ccs_event *a, const struct ccs_event *b)
{
	return a->t_us < b->t_us || (a->t_us == b->t_us && a->seq < b->seq);
}

static inline void ccs_push(struct ccs *s, const struct ccs_event *e)
{
	if (s->n_ev == s->cap_ev) {
		size_t ncap = s->cap_ev ? s->cap_ev * 2 : 256;
		struct ccs_event *h = realloc(s->heap, ncap * sizeof *h);
		if (!h) {
			s->error = 1;
			return;
		}
		s->heap = h;
		s->cap_ev = ncap;
	}
	size_t i = s->n_ev++;
	s->heap[i] = *e;
	s->heap[i].seq = s->seq++;
	while (i && ccs_before(&s->heap[i], &s->heap[(i - 1) / 2])) {
		struct ccs_event t = s->heap[i];
		s->heap[i] = s->heap[(i - 1) / 2];
		s->heap[(i - 1) / 2] = t;
		i = (i - 1) / 2;
	}
}

static inline void ccs_pop(struct ccs *s, struct ccs_event *out)
{
	*out = s->heap[0];
	s->heap[0] = s->heap[--s->n_ev];
	size_t i = 0;
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < s->n_ev && ccs_before(&s->heap[l], &s->heap[m]))
			m = l;
		if (r < s->n_ev && ccs_before(&s->heap[r], &s->heap[m]))
			m = r;
		if (m == i)
			break;
		struct ccs_event t = s->heap[i];
		s->heap[i] = s->heap[m];
		s->heap[m] = t;
		i = m;
	}
}

/* A packet reaches the bottleneck: dropped if the queue is full, else it
 * leaves the link after everything ahead of it and arrives one delay later. */
static inline void ccs_link(struct ccs *s, int f, uint64_t pn, uint32_t size)
{
	uint64_t now_ns = s->now_us * 1000;
	uint64_t ahead_ns = s->link_free_ns > now_ns ? s->link_free_ns - now_ns : 0;
	uint64_t backlog = ahead_ns * s->p.bw_bytes_per_s / 1000000000u;
	s->backlog_sum += backlog;
	s->enqueued++;
	if (backlog > s->backlog_max)
		s->backlog_max = backlog;
	if (backlog + size > s->p.queue_bytes) {
		s->drops_queue++;
		return;
	}
	uint64_t start = s->link_free_ns > now_ns ? s->link_free_ns : now_ns;
	s->link_free_ns = start + (uint64_t)size * 1000000000u / s->p.bw_bytes_per_s;
	if (s->p.loss_ppm && cn_prng_uniform(&s->rng, 1000000) < s->p.loss_ppm) {
		s->drops_random++;
		return;
	}
	struct ccs_event e = {.t_us = (s->link_free_ns + 999) / 1000 + s->p.delay_us,
			      .kind = CCS_EV_RECV, .flow = f, .pn = pn, .size = size};
	ccs_push(s, &e);
}

static inline void ccs_send_ack(struct ccs *s, int f)
{
	struct ccs_flow *fl = &s->flow[f];
	struct net_cc_ack ack;
	struct ccs_event e = {.t_us = s->now_us + s->p.delay_us, .kind = CCS_EV_ACK, .flow = f};
	size_t len, nw;
	if (net_cc_ackset_to_ack(&fl->rx, s->now_us - fl->rx_largest_t, &ack) ||
	    net_cc_ack_encode(&ack, e.ack, sizeof e.ack, &len, &nw)) {
		s->error = 1;
		return;
	}
	e.ack_len = (uint16_t)len;
	fl->rx_pending = 0;
	fl->ack_gen++;
	ccs_push(s, &e);
}

static inline void ccs_on_recv(struct ccs *s, const struct ccs_event *e)
{
	struct ccs_flow *fl = &s->flow[e->flow];
	int fresh = net_cc_ackset_add(&fl->rx, e->pn);
	if (fresh < 0) {
		s->error = 1;
		return;
	}
	if (fresh && s->now_us >= s->p.measure_from_us)
		fl->delivered += e->size;
	int gap = fl->rx_any && e->pn != fl->rx_largest + 1;
	if (!fl->rx_any || e->pn > fl->rx_largest) {
		fl->rx_largest = e->pn;
		fl->rx_largest_t = s->now_us;
		fl->rx_any = 1;
	}
	fl->rx_pending++;
	if (gap || fl->rx_pending >= 2) {
		ccs_send_ack(s, e->flow);
	} else if (fl->rx_pending == 1) {
		struct ccs_event t = {.t_us = s->now_us + s->p.ack_delay_us, .kind = CCS_EV_ACK_TIMER,
				      .flow = e->flow, .gen = fl->ack_gen};
		ccs_push(s, &t);
	}
}

static inline void ccs_note(struct ccs *s, struct ccs_flow *fl, uint64_t cwnd_before,
			    const struct net_cc_events *ev)
{
	if (ev->congestion) {
		fl->congestion++;
		if (fl->cc.cwnd >= cwnd_before && fl->cc.cwnd > (uint64_t)fl->cc.cfg.min_window * fl->cc.cfg.mss)
			fl->bad_reductions++;
	}
}

static inline void ccs_on_ack(struct ccs *s, const struct ccs_event *e)
{
	struct ccs_flow *fl = &s->flow[e->flow];
	struct net_cc_ack ack;
	struct net_cc_events ev;
	size_t used;
	uint64_t before = fl->cc.cwnd;
	if (net_cc_ack_decode(&ack, e->ack, e->ack_len, &used) || used != e->ack_len ||
	    net_cc_on_ack(&fl->cc, s->now_us, &ack, &ev)) {
		s->error = 1;
		return;
	}
	ccs_note(s, fl, before, &ev);
}

/* Lets flow f act at now: fire its timer if due, then send while the
 * controller allows, and compute when it next wants to run. */
static inline void ccs_sender(struct ccs *s, int f)
{
	struct ccs_flow *fl = &s->flow[f];
	if (s->now_us < s->p.start_us[f]) {
		fl->wake_us = s->p.start_us[f];
		return;
	}
	if (s->now_us >= net_cc_timer(&fl->cc)) {
		struct net_cc_events ev;
		uint64_t before = fl->cc.cwnd;
		if (net_cc_on_timeout(&fl->cc, s->now_us, &ev)) {
			s->error = 1;
			return;
		}
		ccs_note(s, fl, before, &ev);
	}
	while (net_cc_next_send(&fl->cc, s->now_us) <= s->now_us) {
		uint32_t size = fl->cc.cfg.mss;
		if (net_cc_on_sent(&fl->cc, s->now_us, fl->next_pn, size, 1)) {
			s->error = 1;
			return;
		}
		fl->next_pn++;
		fl->sent++;
		ccs_link(s, f, fl->next_pn - 1, size);
	}
	if (s->now_us >= s->p.measure_from_us) {
		fl->cwnd_sum += fl->cc.cwnd;
		fl->cwnd_samples++;
	}
	if (fl->cc.cwnd > fl->max_cwnd)
		fl->max_cwnd = fl->cc.cwnd;
	uint64_t t = net_cc_next_send(&fl->cc, s->now_us);
	uint64_t timer = net_cc_timer(&fl->cc);
	fl->wake_us = t < timer ? t : timer;
}

static inline void ccs_free(struct ccs *s)
{
	for (int f = 0; f < s->p.n_flows; f++)
		net_cc_free(&s->flow[f].cc);
	free(s->heap);
	s->heap = NULL;
}

/* Runs the whole scenario. The caller frees with ccs_free() (the flows'
 * controllers stay inspectable until then). */
static inline int ccs_run(struct ccs *s, const struct ccs_params *p, struct ccs_result *res)
{
	memset(s, 0, sizeof *s);
	memset(res, 0, sizeof *res);
	s->p = *p;
	if (p->n_flows < 1 || p->n_flows > CCS_MAX_FLOWS)
		return -1;
	cn_prng_seed(&s->rng, p->seed);
	for (int f = 0; f < p->n_flows; f++) {
		if (net_cc_init(&s->flow[f].cc, &p->cfg))
			return -1;
		net_cc_ackset_init(&s->flow[f].rx);
		s->flow[f].wake_us = p->start_us[f];
	}
	while (!s->error) {
		uint64_t t = s->n_ev ? s->heap[0].t_us : CCS_NEVER;
		int who = -1;
		for (int f = 0; f < p->n_flows; f++)
			if (s->flow[f].wake_us < t) {
				t = s->flow[f].wake_us;
				who = f;
			}
		if (t >= p->duration_us)
			break;
		s->now_us = t;
		if (who >= 0) {
			ccs_sender(s, who);
			continue;
		}
		struct ccs_event e;
		ccs_pop(s, &e);
		if (e.kind == CCS_EV_RECV) {
			ccs_on_recv(s, &e);
		} else if (e.kind == CCS_EV_ACK_TIMER) {
			if (e.gen == s->flow[e.flow].ack_gen && s->flow[e.flow].rx_pending)
				ccs_send_ack(s, e.flow);
		} else {
			ccs_on_ack(s, &e);
			ccs_sender(s, e.flow);
		}
	}
	double window_s = (double)(p->duration_us - p->measure_from_us) * 1e-6;
	double capacity = (double)p->bw_bytes_per_s * window_s;
	uint64_t cwnd_sum = 0, cwnd_n = 0;
	for (int f = 0; f < p->n_flows; f++) {
		const struct ccs_flow *fl = &s->flow[f];
		res->share[f] = (double)fl->delivered / capacity;
		res->utilization += res->share[f];
		res->congestion += fl->congestion;
		res->bad_reductions += fl->bad_reductions;
		if (fl->max_cwnd > res->max_cwnd)
			res->max_cwnd = fl->max_cwnd;
		cwnd_sum += fl->cwnd_sum;
		cwnd_n += fl->cwnd_samples;
	}
	res->avg_cwnd = cwnd_n ? (double)cwnd_sum / (double)cwnd_n : 0;
	res->avg_queue_fill = s->enqueued ? (double)s->backlog_sum / (double)s->enqueued /
						    (double)p->queue_bytes
					  : 0;
	res->drops_queue = s->drops_queue;
	res->drops_random = s->drops_random;
	res->error = s->error;
	return s->error ? -1 : 0;
}

#endif
