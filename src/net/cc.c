/* cc.c — loss detection (RFC 9002 §5–6), congestion control (RFC 9002 §7
 * NewReno, RFC 9438 CUBIC), pacing, and the ACK frame codec. */
#include "net/cc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/metrics.h"

enum { ST_OUT = 0, ST_ACKED = 1, ST_LOST = 2 };

#define INITIAL_CAP 64
#define CUBIC_C 0.4
#define CUBIC_BETA 0.7
/* Keeps byte arithmetic far from overflow whatever a caller does. */
#define MAX_CWND (UINT64_C(1) << 40)
#define MAX_PTO_SHIFT 16

void net_cc_config_default(struct net_cc_config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->algo = NET_CC_CUBIC;
	cfg->mss = NET_CC_DEFAULT_MSS;
	cfg->initial_window = 10;
	cfg->min_window = 2;
	cfg->initial_rtt_us = 333000;
	cfg->max_ack_delay_us = 25000;
	cfg->granularity_us = 1000;
	cfg->packet_threshold = 3;
	cfg->pacing_burst = 10;
	cfg->max_tracked = 1u << 16;
	cfg->fast_convergence = 1;
}

static uint64_t min64(uint64_t a, uint64_t b) { return a < b ? a : b; }
static uint64_t max64(uint64_t a, uint64_t b) { return a > b ? a : b; }

static struct net_cc_sent *at(const struct net_cc *cc, size_t i)
{
	return &cc->ring[(cc->head + i) & (cc->cap - 1)];
}

int net_cc_init(struct net_cc *cc, const struct net_cc_config *cfg)
{
	memset(cc, 0, sizeof *cc);
	if (cfg)
		cc->cfg = *cfg;
	else
		net_cc_config_default(&cc->cfg);
	const struct net_cc_config *c = &cc->cfg;
	if (c->algo != NET_CC_CUBIC && c->algo != NET_CC_NEWRENO)
		return -CN_EINVAL;
	if (c->mss < 64 || c->mss > 65535 || c->min_window < 1 || c->initial_window < c->min_window ||
	    (uint64_t)c->initial_window * c->mss > MAX_CWND || c->initial_rtt_us == 0 ||
	    c->initial_rtt_us > 60000000 || c->max_ack_delay_us > 60000000 ||
	    c->granularity_us > 60000000 || c->packet_threshold < 1 || c->pacing_burst < 1 ||
	    c->pacing_burst > 1u << 16 || c->max_tracked < 16 || c->max_tracked > 1u << 24 ||
	    (c->max_tracked & (c->max_tracked - 1)))
		return -CN_EINVAL;
	cc->cap = min64(INITIAL_CAP, c->max_tracked);
	cc->ring = calloc(cc->cap, sizeof *cc->ring);
	cc->ev_acked = calloc(cc->cap, sizeof *cc->ev_acked);
	cc->ev_lost = calloc(cc->cap, sizeof *cc->ev_lost);
	if (!cc->ring || !cc->ev_acked || !cc->ev_lost) {
		net_cc_free(cc);
		return -CN_ENOMEM;
	}
	cc->rtt.smoothed_us = c->initial_rtt_us;
	cc->rtt.var_us = c->initial_rtt_us / 2;
	cc->loss_time_us = NET_CC_NEVER;
	cc->cwnd = (uint64_t)c->initial_window * c->mss;
	cc->ssthresh = UINT64_MAX;
	cc->pace_tokens = (uint64_t)c->pacing_burst * c->mss;
	return 0;
}

void net_cc_free(struct net_cc *cc)
{
	free(cc->ring);
	free(cc->ev_acked);
	free(cc->ev_lost);
	cc->ring = cc->ev_acked = cc->ev_lost = NULL;
	cc->cap = cc->n = cc->head = 0;
}

/* ---- metrics ------------------------------------------------------------ */

static void publish(struct net_cc *cc)
{
	if (!cc->m_cwnd)
		return;
	cn_gauge_set(cc->m_cwnd, (double)cc->cwnd);
	cn_gauge_set(cc->m_srtt, (double)cc->rtt.smoothed_us * 1e-6);
	cn_gauge_set(cc->m_rttvar, (double)cc->rtt.var_us * 1e-6);
	cn_gauge_set(cc->m_inflight, (double)cc->bytes_in_flight);
	if (cc->n_lost > cc->m_lost_done) {
		cn_counter_add(cc->m_lost, (double)(cc->n_lost - cc->m_lost_done));
		cc->m_lost_done = cc->n_lost;
	}
	if (cc->n_pto > cc->m_pto_done) {
		cn_counter_add(cc->m_pto, (double)(cc->n_pto - cc->m_pto_done));
		cc->m_pto_done = cc->n_pto;
	}
}

int net_cc_metrics_register(struct cn_metrics *r, struct net_cc_metrics *m)
{
	static const char *const labels[] = {"peer"};
	int err;
	memset(m, 0, sizeof *m);
	if ((err = cn_metrics_gauge(r, "canon_net_cc_cwnd_bytes",
				    "Congestion window toward the peer, bytes.", labels, 1, &m->cwnd)) ||
	    (err = cn_metrics_gauge(r, "canon_net_cc_srtt_seconds", "Smoothed RTT to the peer.",
				    labels, 1, &m->srtt)) ||
	    (err = cn_metrics_gauge(r, "canon_net_cc_rttvar_seconds",
				    "RTT variation to the peer.", labels, 1, &m->rttvar)) ||
	    (err = cn_metrics_gauge(r, "canon_net_cc_bytes_in_flight",
				    "Bytes sent to the peer and not yet acknowledged or lost.", labels,
				    1, &m->inflight)) ||
	    (err = cn_metrics_counter(r, "canon_net_cc_lost_packets_total",
				      "Packets to the peer declared lost.", labels, 1, &m->lost)) ||
	    (err = cn_metrics_counter(r, "canon_net_cc_pto_total",
				      "Probe timeouts toward the peer.", labels, 1, &m->pto)))
		return err;
	return 0;
}

int net_cc_attach_metrics(struct net_cc *cc, const struct net_cc_metrics *m, const char *peer_tag)
{
	const char *v[1] = {peer_tag};
	struct cn_metric_child *c[6];
	struct cn_metric *fam[6] = {m->cwnd, m->srtt, m->rttvar, m->inflight, m->lost, m->pto};
	if (!peer_tag)
		return -CN_EINVAL;
	for (int i = 0; i < 6; i++) {
		if (!fam[i])
			return -CN_EINVAL;
		int err = cn_metric_with(fam[i], v, &c[i]);
		if (err)
			return err;
	}
	cc->m_cwnd = c[0];
	cc->m_srtt = c[1];
	cc->m_rttvar = c[2];
	cc->m_inflight = c[3];
	cc->m_lost = c[4];
	cc->m_pto = c[5];
	/* Counts from before the attachment are still this peer's. */
	cc->m_lost_done = 0;
	cc->m_pto_done = 0;
	publish(cc);
	return 0;
}

/* ---- pacing ------------------------------------------------------------- */

static uint64_t srtt_for_rate(const struct net_cc *cc)
{
	return max64(cc->rtt.smoothed_us, 1);
}

/* Tokens refill at 1.25 · cwnd / srtt: the 25% headroom lets a paced flow
 * still fill its window within one RTT (RFC 9002 §7.7). */
static uint64_t pace_tokens_at(const struct net_cc *cc, uint64_t now_us)
{
	uint64_t burst = (uint64_t)cc->cfg.pacing_burst * cc->cfg.mss;
	if (now_us <= cc->pace_time_us || cc->pace_tokens >= burst)
		return min64(cc->pace_tokens, burst);
	unsigned __int128 add = (unsigned __int128)(now_us - cc->pace_time_us) * 5 * cc->cwnd /
				((unsigned __int128)4 * srtt_for_rate(cc));
	if (add >= burst - cc->pace_tokens)
		return burst;
	return cc->pace_tokens + (uint64_t)add;
}

double net_cc_pacing_rate(const struct net_cc *cc)
{
	return 1.25 * (double)cc->cwnd / ((double)srtt_for_rate(cc) * 1e-6);
}

uint64_t net_cc_next_send(const struct net_cc *cc, uint64_t now_us)
{
	if (cc->probes)
		return now_us;
	if (cc->bytes_in_flight + cc->cfg.mss > cc->cwnd)
		return NET_CC_NEVER;
	uint64_t tokens = pace_tokens_at(cc, now_us);
	if (tokens >= cc->cfg.mss)
		return now_us;
	/* Counted from the last update, so the answer does not depend on when
	 * the caller asks. */
	uint64_t need = cc->cfg.mss - min64(cc->pace_tokens, cc->cfg.mss);
	unsigned __int128 num = (unsigned __int128)need * 4 * srtt_for_rate(cc);
	unsigned __int128 den = (unsigned __int128)5 * cc->cwnd;
	uint64_t at = cc->pace_time_us + (uint64_t)((num + den - 1) / den);
	return at > now_us ? at : now_us;
}

/* ---- sending ------------------------------------------------------------ */

static int grow(struct net_cc *cc)
{
	size_t ncap = cc->cap * 2;
	if (ncap > cc->cfg.max_tracked)
		return -CN_ELIMIT;
	struct net_cc_sent *ring = malloc(ncap * sizeof *ring);
	struct net_cc_sent *a = malloc(ncap * sizeof *a);
	struct net_cc_sent *l = malloc(ncap * sizeof *l);
	if (!ring || !a || !l) {
		free(ring);
		free(a);
		free(l);
		return -CN_ENOMEM;
	}
	for (size_t i = 0; i < cc->n; i++)
		ring[i] = *at(cc, i);
	free(cc->ring);
	free(cc->ev_acked);
	free(cc->ev_lost);
	cc->ring = ring;
	cc->ev_acked = a;
	cc->ev_lost = l;
	cc->head = 0;
	cc->cap = ncap;
	return 0;
}

int net_cc_on_sent(struct net_cc *cc, uint64_t now_us, uint64_t pn, uint32_t bytes,
		   int ack_eliciting)
{
	if (pn > NET_CC_VARINT_MAX || (cc->any_sent && pn <= cc->largest_sent) || bytes == 0)
		return -CN_EINVAL;
	if (cc->n == cc->cap) {
		int err = grow(cc);
		if (err)
			return err;
	}
	uint64_t tokens = pace_tokens_at(cc, now_us);
	cc->pace_tokens = tokens - min64(tokens, bytes);
	cc->pace_time_us = max64(cc->pace_time_us, now_us);

	struct net_cc_sent *e = at(cc, cc->n++);
	e->pn = pn;
	e->time_us = now_us;
	e->bytes = bytes;
	e->ack_eliciting = ack_eliciting != 0;
	e->state = ST_OUT;
	cc->largest_sent = pn;
	cc->any_sent = 1;
	cc->n_sent++;
	if (e->ack_eliciting) {
		cc->bytes_in_flight += bytes;
		cc->ack_eliciting_in_flight++;
		cc->last_ack_eliciting_us = now_us;
		if (cc->probes)
			cc->probes--;
	}
	cc->peak_in_flight = max64(cc->peak_in_flight, cc->bytes_in_flight);
	if (cc->m_inflight)
		cn_gauge_set(cc->m_inflight, (double)cc->bytes_in_flight);
	return 0;
}

/* ---- RTT ---------------------------------------------------------------- */

static void update_rtt(struct net_cc *cc, uint64_t now_us, uint64_t latest, uint64_t ack_delay)
{
	struct net_cc_rtt *r = &cc->rtt;
	r->latest_us = latest;
	if (!r->has_sample) {
		r->has_sample = 1;
		r->first_sample_us = now_us;
		r->min_us = latest;
		r->smoothed_us = latest;
		r->var_us = latest / 2;
		return;
	}
	r->min_us = min64(r->min_us, latest);
	/* The peer's own delay is trusted only up to what it promised, and never
	 * so far that the sample would fall below the path's minimum. */
	ack_delay = min64(ack_delay, cc->cfg.max_ack_delay_us);
	uint64_t adjusted = latest;
	if (latest >= r->min_us + ack_delay)
		adjusted = latest - ack_delay;
	uint64_t diff = r->smoothed_us > adjusted ? r->smoothed_us - adjusted : adjusted - r->smoothed_us;
	r->var_us = (3 * r->var_us + diff) / 4;
	r->smoothed_us = (7 * r->smoothed_us + adjusted) / 8;
}

uint64_t net_cc_pto(const struct net_cc *cc)
{
	const struct net_cc_rtt *r = &cc->rtt;
	uint64_t base = r->smoothed_us + max64(4 * r->var_us, cc->cfg.granularity_us) +
			cc->cfg.max_ack_delay_us;
	uint32_t shift = cc->pto_count < MAX_PTO_SHIFT ? cc->pto_count : MAX_PTO_SHIFT;
	return base << shift;
}

uint64_t net_cc_timer(const struct net_cc *cc)
{
	if (cc->loss_time_us != NET_CC_NEVER)
		return cc->loss_time_us;
	if (cc->ack_eliciting_in_flight == 0)
		return NET_CC_NEVER;
	uint64_t pto = net_cc_pto(cc);
	if (cc->last_ack_eliciting_us > NET_CC_NEVER - 1 - pto)
		return NET_CC_NEVER - 1;
	return cc->last_ack_eliciting_us + pto;
}

/* ---- congestion control ------------------------------------------------- */

static uint64_t min_window(const struct net_cc *cc)
{
	return (uint64_t)cc->cfg.min_window * cc->cfg.mss;
}

static int in_recovery(const struct net_cc *cc, uint64_t sent_us)
{
	return cc->in_recovery_valid && sent_us <= cc->recovery_start_us;
}

static void on_congestion_event(struct net_cc *cc, uint64_t now_us, uint64_t sent_us,
				struct net_cc_events *ev)
{
	/* One reduction per round trip: losses of packets sent before the
	 * current recovery period began are the same congestion event. */
	if (in_recovery(cc, sent_us))
		return;
	cc->recovery_start_us = now_us;
	cc->in_recovery_valid = 1;
	cc->n_congestion++;
	ev->congestion = 1;
	double w = (double)cc->cwnd;
	uint64_t ss;
	if (cc->cfg.algo == NET_CC_CUBIC) {
		/* Fast convergence: a flow whose window is shrinking from one
		 * event to the next gives up more, leaving room for newcomers. */
		if (cc->cfg.fast_convergence && w < cc->cubic.w_max)
			cc->cubic.w_max = w * (1.0 + CUBIC_BETA) / 2.0;
		else
			cc->cubic.w_max = w;
		cc->cubic.cwnd_prior = w;
		cc->cubic.epoch_valid = 0;
		ss = (uint64_t)(w * CUBIC_BETA);
	} else {
		ss = cc->cwnd / 2;
	}
	cc->ssthresh = max64(ss, min_window(cc));
	cc->cwnd = cc->ssthresh;
	cc->ca_acc = 0;
}

static double cubic_w(const struct net_cc *cc, double t)
{
	double d = t - cc->cubic.k;
	return CUBIC_C * d * d * d * cc->cfg.mss + cc->cubic.w_max;
}

static void cubic_avoid(struct net_cc *cc, uint64_t now_us, uint64_t acked)
{
	double mss = cc->cfg.mss, cwnd = (double)cc->cwnd;
	if (!cc->cubic.epoch_valid) {
		cc->cubic.epoch_valid = 1;
		cc->cubic.t_epoch_us = now_us;
		cc->cubic.frac = 0;
		cc->cubic.w_est = cwnd;
		if (cc->cubic.w_max <= cwnd) {
			/* Entered from slow start above the old maximum: the curve
			 * starts at its inflection point and probes upward. */
			cc->cubic.w_max = cwnd;
			cc->cubic.k = 0;
		} else {
			cc->cubic.k = cbrt((cc->cubic.w_max - cwnd) / mss / CUBIC_C);
		}
	}
	/* A clock that stepped back must not look like a long-grown epoch. */
	uint64_t since = now_us > cc->cubic.t_epoch_us ? now_us - cc->cubic.t_epoch_us : 0;
	double t = (double)since * 1e-6;
	double rtt = (double)cc->rtt.smoothed_us * 1e-6;

	/* Reno-friendly estimate: AIMD with the same β as CUBIC grows by
	 * α = 3(1-β)/(1+β) segments per RTT until it passes the old window. */
	double alpha = cc->cubic.w_est >= cc->cubic.cwnd_prior
			       ? 1.0
			       : 3.0 * (1.0 - CUBIC_BETA) / (1.0 + CUBIC_BETA);
	cc->cubic.w_est += alpha * mss * (double)acked / cwnd;

	double target;
	if (cubic_w(cc, t) < cc->cubic.w_est) {
		target = cc->cubic.w_est;
		if (target > cwnd) {
			cc->cwnd = (uint64_t)target;
			cc->cubic.frac = 0;
		}
		return;
	}
	target = cubic_w(cc, t + rtt);
	if (target < cwnd)
		target = cwnd;
	if (target > 1.5 * cwnd)
		target = 1.5 * cwnd;
	cc->cubic.frac += (target - cwnd) * (double)acked / cwnd;
	if (cc->cubic.frac >= 1.0) {
		double whole = floor(cc->cubic.frac);
		cc->cwnd += (uint64_t)whole;
		cc->cubic.frac -= whole;
	}
}

static void on_acked_cc(struct net_cc *cc, uint64_t now_us, uint64_t flight_before,
			const struct net_cc_events *ev)
{
	uint64_t acked = 0;
	for (size_t i = 0; i < ev->n_acked; i++) {
		const struct net_cc_sent *p = &ev->acked[i];
		if (p->ack_eliciting && !in_recovery(cc, p->time_us))
			acked += p->bytes;
	}
	/* A window the sender does not fill says nothing about the path and
	 * must not grow (RFC 9002 §7.8): slow start needs half of it used, as
	 * Linux does, congestion avoidance all but three packets. */
	uint64_t used = max64(cc->peak_in_flight, flight_before);
	uint64_t mss = cc->cfg.mss;
	int limited = cc->cwnd < cc->ssthresh ? 2 * used >= cc->cwnd : used + 3 * mss >= cc->cwnd;
	cc->peak_in_flight = cc->bytes_in_flight;
	if (!acked || !limited)
		return;
	if (cc->cwnd < cc->ssthresh) {
		cc->cwnd += acked;
	} else if (cc->cfg.algo == NET_CC_CUBIC) {
		cubic_avoid(cc, now_us, acked);
	} else {
		cc->ca_acc += acked;
		while (cc->ca_acc >= cc->cwnd) {
			cc->ca_acc -= cc->cwnd;
			cc->cwnd += mss;
		}
	}
	cc->cwnd = min64(cc->cwnd, MAX_CWND);
}

/* ---- loss detection ----------------------------------------------------- */

static void remove_from_flight(struct net_cc *cc, const struct net_cc_sent *e)
{
	if (!e->ack_eliciting)
		return;
	cc->bytes_in_flight -= e->bytes;
	cc->ack_eliciting_in_flight--;
}

static void pop_head(struct net_cc *cc)
{
	while (cc->n && at(cc, 0)->state != ST_OUT) {
		cc->head = (cc->head + 1) & (cc->cap - 1);
		cc->n--;
	}
}

/* Declares lost every outstanding packet at or below the largest acknowledged
 * that three later packets overtook or that is 9/8 RTT older than now, arms
 * loss_time for the rest, then applies the losses to the window. */
static void detect_lost(struct net_cc *cc, uint64_t now_us, struct net_cc_events *ev)
{
	const struct net_cc_rtt *r = &cc->rtt;
	uint64_t delay = max64(r->latest_us, r->smoothed_us);
	delay = max64(delay + delay / 8, cc->cfg.granularity_us);
	uint64_t pc_duration = (r->smoothed_us + max64(4 * r->var_us, cc->cfg.granularity_us) +
				cc->cfg.max_ack_delay_us) * 3;
	uint64_t run_start = 0, last_lost_sent = 0;
	int run = 0, persistent = 0, any_in_flight = 0;

	cc->loss_time_us = NET_CC_NEVER;
	if (!cc->any_acked)
		return;
	for (size_t i = 0; i < cc->n; i++) {
		struct net_cc_sent *e = at(cc, i);
		if (e->pn > cc->largest_acked)
			break;
		if (e->state == ST_ACKED) {
			/* Something got through in between: not persistent. */
			run = 0;
			continue;
		}
		if (e->state != ST_OUT)
			continue;
		if (e->time_us + delay <= now_us ||
		    cc->largest_acked - e->pn >= cc->cfg.packet_threshold) {
			e->state = ST_LOST;
			cc->ev_lost[ev->n_lost++] = *e;
			remove_from_flight(cc, e);
			cc->n_lost++;
			if (!e->ack_eliciting)
				continue;
			any_in_flight = 1;
			last_lost_sent = max64(last_lost_sent, e->time_us);
			/* Before the first RTT sample the PTO ran on a guessed RTT;
			 * losses from then cannot prove persistent congestion. */
			if (!r->has_sample || e->time_us <= r->first_sample_us)
				continue;
			if (!run) {
				run = 1;
				run_start = e->time_us;
			} else if (e->time_us > run_start && e->time_us - run_start > pc_duration) {
				persistent = 1;
			}
		} else {
			cc->loss_time_us = min64(cc->loss_time_us, e->time_us + delay);
		}
	}
	if (any_in_flight)
		on_congestion_event(cc, now_us, last_lost_sent, ev);
	if (persistent) {
		cc->cwnd = min_window(cc);
		cc->in_recovery_valid = 0;
		cc->cubic.epoch_valid = 0;
		cc->ca_acc = 0;
		cc->n_persistent++;
		ev->persistent = 1;
	}
}

static void events_reset(struct net_cc *cc, struct net_cc_events *ev)
{
	memset(ev, 0, sizeof *ev);
	ev->acked = cc->ev_acked;
	ev->lost = cc->ev_lost;
}

/* Index of the first remembered packet with a number >= pn. */
static size_t lower_bound(const struct net_cc *cc, uint64_t pn)
{
	size_t lo = 0, hi = cc->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (at(cc, mid)->pn < pn)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int net_cc_on_ack(struct net_cc *cc, uint64_t now_us, const struct net_cc_ack *ack,
		  struct net_cc_events *ev)
{
	events_reset(cc, ev);
	if (ack->n_ranges == 0 || ack->n_ranges > NET_CC_ACK_MAX_RANGES)
		return -CN_EINVAL;
	for (size_t i = 0; i < ack->n_ranges; i++) {
		const struct net_cc_range *g = &ack->ranges[i];
		if (g->lo > g->hi || (i && g->hi >= ack->ranges[i - 1].lo))
			return -CN_EINVAL;
	}
	uint64_t largest = ack->ranges[0].hi;
	if (!cc->any_sent || largest > cc->largest_sent)
		return -CN_EINVAL;

	uint64_t flight_before = cc->bytes_in_flight;
	if (!cc->any_acked || largest > cc->largest_acked)
		cc->largest_acked = largest;
	cc->any_acked = 1;

	int eliciting = 0;
	for (size_t i = ack->n_ranges; i-- > 0;) {
		const struct net_cc_range *g = &ack->ranges[i];
		for (size_t j = lower_bound(cc, g->lo); j < cc->n; j++) {
			struct net_cc_sent *e = at(cc, j);
			if (e->pn > g->hi)
				break;
			if (e->state != ST_OUT)
				continue;
			e->state = ST_ACKED;
			cc->ev_acked[ev->n_acked++] = *e;
			remove_from_flight(cc, e);
			eliciting |= e->ack_eliciting;
			cc->n_acked++;
		}
	}
	if (ev->n_acked == 0)
		return 0;

	const struct net_cc_sent *newest = &cc->ev_acked[ev->n_acked - 1];
	if (newest->pn == largest && eliciting) {
		uint64_t latest = now_us > newest->time_us ? now_us - newest->time_us : 0;
		update_rtt(cc, now_us, latest, ack->ack_delay_us);
		ev->rtt_sampled = 1;
	}
	detect_lost(cc, now_us, ev);
	on_acked_cc(cc, now_us, flight_before, ev);
	cc->pto_count = 0;
	pop_head(cc);
	publish(cc);
	return 0;
}

int net_cc_on_timeout(struct net_cc *cc, uint64_t now_us, struct net_cc_events *ev)
{
	events_reset(cc, ev);
	uint64_t due = net_cc_timer(cc);
	if (due == NET_CC_NEVER || now_us < due)
		return 0;
	if (cc->loss_time_us != NET_CC_NEVER) {
		detect_lost(cc, now_us, ev);
		pop_head(cc);
	} else {
		/* Nothing is declared lost on a PTO: the probes either get an
		 * ACK that settles it, or time out again with doubled patience. */
		if (cc->pto_count < UINT32_MAX)
			cc->pto_count++;
		cc->n_pto++;
		cc->probes = 2;
		ev->probes = 2;
	}
	publish(cc);
	return 0;
}

/* ---- ACK frames --------------------------------------------------------- */

static size_t varint_len(uint64_t v)
{
	return v < 64 ? 1 : v < 16384 ? 2 : v < (UINT64_C(1) << 30) ? 4 : 8;
}

static uint8_t *varint_put(uint8_t *p, uint64_t v)
{
	size_t n = varint_len(v);
	static const uint8_t tag[9] = {0, 0x00, 0x40, 0, 0x80, 0, 0, 0, 0xc0};
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
	p[0] |= tag[n];
	return p + n;
}

static int varint_get(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
	if (*p >= end)
		return -CN_ETRUNC;
	size_t n = (size_t)1 << (**p >> 6);
	if ((size_t)(end - *p) < n)
		return -CN_ETRUNC;
	uint64_t x = **p & 0x3f;
	for (size_t i = 1; i < n; i++)
		x = x << 8 | (*p)[i];
	if (varint_len(x) != n)
		return -CN_ENONCANON;
	*p += n;
	*v = x;
	return 0;
}

int net_cc_ack_encode(const struct net_cc_ack *ack, uint8_t *out, size_t cap, size_t *len,
		      size_t *n_written)
{
	size_t n = ack->n_ranges;
	if (n == 0 || n > NET_CC_ACK_MAX_RANGES || ack->ack_delay_us > NET_CC_VARINT_MAX)
		return -CN_EINVAL;
	for (size_t i = 0; i < n; i++) {
		const struct net_cc_range *g = &ack->ranges[i];
		if (g->lo > g->hi || g->hi > NET_CC_VARINT_MAX)
			return -CN_EINVAL;
		/* A gap of zero missing numbers would be one range written twice. */
		if (i && (ack->ranges[i - 1].lo < 2 || g->hi > ack->ranges[i - 1].lo - 2))
			return -CN_EINVAL;
	}
	const struct net_cc_range *r = ack->ranges;
	/* The count fits in one byte (NET_CC_ACK_MAX_RANGES - 1 < 64). */
	size_t used = varint_len(r[0].hi) + varint_len(ack->ack_delay_us) + 1 +
		      varint_len(r[0].hi - r[0].lo);
	if (used > cap)
		return -CN_ERANGE;
	size_t k = 1;
	for (; k < n; k++) {
		size_t s = varint_len(r[k - 1].lo - r[k].hi - 2) + varint_len(r[k].hi - r[k].lo);
		if (used + s > cap)
			break;
		used += s;
	}
	uint8_t *p = out;
	p = varint_put(p, r[0].hi);
	p = varint_put(p, ack->ack_delay_us);
	p = varint_put(p, k - 1);
	p = varint_put(p, r[0].hi - r[0].lo);
	for (size_t i = 1; i < k; i++) {
		p = varint_put(p, r[i - 1].lo - r[i].hi - 2);
		p = varint_put(p, r[i].hi - r[i].lo);
	}
	*len = (size_t)(p - out);
	if (n_written)
		*n_written = k;
	return 0;
}

int net_cc_ack_decode(struct net_cc_ack *ack, const uint8_t *in, size_t len, size_t *used)
{
	const uint8_t *p = in, *end = in + len;
	uint64_t largest, delay, count, first;
	int err;
	ack->n_ranges = 0;
	if ((err = varint_get(&p, end, &largest)) || (err = varint_get(&p, end, &delay)) ||
	    (err = varint_get(&p, end, &count)))
		return err;
	if (count >= NET_CC_ACK_MAX_RANGES)
		return -CN_ELIMIT;
	if ((err = varint_get(&p, end, &first)))
		return err;
	if (first > largest)
		return -CN_EINVAL;
	ack->ack_delay_us = delay;
	ack->ranges[0].hi = largest;
	ack->ranges[0].lo = largest - first;
	for (uint64_t i = 1; i <= count; i++) {
		uint64_t gap, rlen, prev_lo = ack->ranges[i - 1].lo;
		if ((err = varint_get(&p, end, &gap)) || (err = varint_get(&p, end, &rlen)))
			return err;
		if (prev_lo < 2 || gap > prev_lo - 2)
			return -CN_EINVAL;
		uint64_t hi = prev_lo - gap - 2;
		if (rlen > hi)
			return -CN_EINVAL;
		ack->ranges[i].hi = hi;
		ack->ranges[i].lo = hi - rlen;
	}
	ack->n_ranges = (size_t)count + 1;
	*used = (size_t)(p - in);
	return 0;
}

/* ---- receiver side ------------------------------------------------------ */

void net_cc_ackset_init(struct net_cc_ackset *s)
{
	memset(s, 0, sizeof *s);
}

int net_cc_ackset_add(struct net_cc_ackset *s, uint64_t pn)
{
	if (pn > NET_CC_VARINT_MAX)
		return -CN_EINVAL;
	size_t i = 0;
	for (; i < s->n; i++) {
		struct net_cc_range *g = &s->r[i];
		if (pn > g->hi + 1)
			break;                  /* a new range above this one */
		if (pn >= g->lo) {
			if (pn <= g->hi)
				return 0;
			/* pn == hi + 1; the range above starts beyond pn + 1, or the
			 * previous iteration would have joined it. */
			g->hi = pn;
			return 1;
		}
		if (pn + 1 == g->lo) {
			g->lo = pn;
			if (i + 1 < s->n && s->r[i + 1].hi + 1 == pn) {
				g->lo = s->r[i + 1].lo;
				memmove(&s->r[i + 1], &s->r[i + 2], (s->n - i - 2) * sizeof s->r[0]);
				s->n--;
			}
			return 1;
		}
	}
	if (s->n == NET_CC_ACKSET_MAX) {
		if (i == s->n)
			return 0;              /* older than all we remember */
		s->n--;                        /* forget the oldest range */
	}
	memmove(&s->r[i + 1], &s->r[i], (s->n - i) * sizeof s->r[0]);
	s->r[i].lo = s->r[i].hi = pn;
	s->n++;
	return 1;
}

void net_cc_ackset_forget_below(struct net_cc_ackset *s, uint64_t pn)
{
	while (s->n && s->r[s->n - 1].hi < pn)
		s->n--;
	if (s->n && s->r[s->n - 1].lo < pn)
		s->r[s->n - 1].lo = pn;
}

int net_cc_ackset_to_ack(const struct net_cc_ackset *s, uint64_t ack_delay_us, struct net_cc_ack *ack)
{
	if (!s->n)
		return -CN_ESTATE;
	size_t n = s->n < NET_CC_ACK_MAX_RANGES ? s->n : NET_CC_ACK_MAX_RANGES;
	ack->ack_delay_us = ack_delay_us;
	ack->n_ranges = n;
	memcpy(ack->ranges, s->r, n * sizeof s->r[0]);
	return 0;
}
