/* cc.h — per-peer loss detection and congestion control for canon's UDP
 * transport (RFC 9002 recovery, RFC 9438 CUBIC or NewReno, pacing).
 *
 * struct net_cc is the sender's view of one peer: it remembers every datagram
 * sent to that peer (a packet number that only grows, a size, a send time and
 * whether it asks for an acknowledgement), takes the peer's acknowledgements
 * (ranges of packet numbers plus the delay the peer held the ACK) and answers
 * which packets are newly acknowledged, which are now lost (three packets
 * overtook them, or they are 9/8 of an RTT older than an acknowledged one),
 * when the loss/probe timer is due, and when the next datagram may leave
 * (congestion window, bytes in flight, pacing at 1.25·cwnd/srtt with a burst
 * allowance). There is one packet-number space per peer: the messaging layer
 * above numbers every datagram it sends, whatever it carries.
 *
 * It is a sans-I/O state machine. Time is passed in by the caller in
 * MICROseconds (not the milliseconds other cores use): at datacenter RTTs and
 * link rates the pacing gap between two 1200-byte packets is tens of
 * microseconds, so milliseconds would make pacing and RTT samples meaningless.
 * Nothing here reads a clock, allocates outside net_cc_on_sent(), or logs.
 *
 * The ACK frame codec (net_cc_ack_encode/decode) is the wire form of an
 * acknowledgement, the same shape as a QUIC ACK frame: largest acknowledged,
 * ack delay, then alternating gaps and range lengths as QUIC variable-length
 * integers. The decoder takes hostile bytes. struct net_cc_ackset is the
 * receiver's side: the set of packet numbers it has seen, as a bounded list
 * of ranges, from which it builds ACK frames. */
#ifndef CANON_NET_CC_H
#define CANON_NET_CC_H

#include <stddef.h>
#include <stdint.h>

struct cn_metrics;
struct cn_metric;
struct cn_metric_child;

#define NET_CC_NEVER UINT64_MAX
/* 1200 bytes of messaging payload plus a session data packet's own bytes
 * (16-byte header, 1-byte inner type, 16-byte Poly1305 tag): the UDP payload
 * a full-sized packet occupies. Sizes are counted as UDP payload, like QUIC. */
#define NET_CC_DEFAULT_MSS (1200 + 33)
/* Largest packet number and delay the ACK codec carries (QUIC varint range). */
#define NET_CC_VARINT_MAX ((UINT64_C(1) << 62) - 1)
/* Ranges one ACK frame may carry (the decoder refuses more). */
#define NET_CC_ACK_MAX_RANGES 64

enum net_cc_algo {
	NET_CC_CUBIC = 0,
	NET_CC_NEWRENO = 1,
};

struct net_cc_config {
	enum net_cc_algo algo;
	uint32_t mss;                    /* bytes of a full-sized datagram */
	uint32_t initial_window;         /* packets (RFC 9002: 10) */
	uint32_t min_window;             /* packets (RFC 9002: 2) */
	uint64_t initial_rtt_us;         /* RTT assumed before the first sample (333 ms) */
	uint64_t max_ack_delay_us;       /* the peer's promise on how long it holds an ACK */
	uint64_t granularity_us;         /* timer granularity (1 ms) */
	uint32_t packet_threshold;       /* reordering tolerated in packets (3) */
	uint32_t pacing_burst;           /* packets that may leave back to back (10) */
	uint32_t max_tracked;            /* sent packets remembered at once (power of two) */
	int fast_convergence;            /* CUBIC: release bandwidth to newer flows (1) */
};

void net_cc_config_default(struct net_cc_config *cfg);

/* An inclusive range of packet numbers. */
struct net_cc_range {
	uint64_t lo, hi;
};

/* An acknowledgement: ranges in strictly descending order, separated by at
 * least one missing number (ranges[0].hi is the largest acknowledged). */
struct net_cc_ack {
	uint64_t ack_delay_us;
	size_t n_ranges;
	struct net_cc_range ranges[NET_CC_ACK_MAX_RANGES];
};

/* One remembered datagram. */
struct net_cc_sent {
	uint64_t pn;
	uint64_t time_us;
	uint32_t bytes;
	uint8_t ack_eliciting;           /* only these count in flight and arm the PTO */
	uint8_t state;                   /* private */
};

/* What one call learned. The arrays belong to the net_cc and stay valid until
 * the next call on it; both are in increasing packet-number order. */
struct net_cc_events {
	const struct net_cc_sent *acked;
	size_t n_acked;
	const struct net_cc_sent *lost;
	size_t n_lost;
	uint32_t probes;                 /* PTO fired: send this many ack-eliciting packets now */
	uint8_t rtt_sampled;             /* the RTT estimate changed */
	uint8_t congestion;              /* the window was reduced (start of a recovery period) */
	uint8_t persistent;              /* persistent congestion: window fell to the minimum */
};

struct net_cc_rtt {
	uint64_t latest_us, min_us, smoothed_us, var_us;
	uint64_t first_sample_us;        /* when the first sample was taken */
	int has_sample;
};

struct net_cc_metrics;

struct net_cc {
	struct net_cc_config cfg;
	struct net_cc_rtt rtt;

	/* Sent packets in packet-number order: a ring of `cap` slots, `n` used
	 * from `head`. Acknowledged and lost entries stay (marked) until every
	 * older one is gone, so that persistent congestion can see what was
	 * acknowledged between two losses. */
	struct net_cc_sent *ring;
	size_t cap, head, n;
	struct net_cc_sent *ev_acked, *ev_lost;   /* cap slots each */

	uint64_t largest_sent, largest_acked;
	int any_sent, any_acked;
	uint64_t loss_time_us;           /* earliest time-threshold loss; NET_CC_NEVER if none */
	uint64_t last_ack_eliciting_us;
	uint32_t pto_count;
	uint32_t probes;                 /* probe packets still allowed past the window */

	uint64_t bytes_in_flight;
	uint64_t ack_eliciting_in_flight;
	uint64_t peak_in_flight;         /* since the last ACK: was the window used? */

	uint64_t cwnd, ssthresh;         /* bytes */
	uint64_t recovery_start_us;
	int in_recovery_valid;           /* recovery_start_us means something */
	uint64_t ca_acc;                 /* NewReno: bytes acknowledged toward the next MSS */

	struct {
		double w_max;            /* bytes: window before the last reduction */
		double k;                /* seconds to grow back to w_max */
		double w_est;            /* bytes: Reno-friendly estimate */
		double cwnd_prior;       /* bytes: window when the last reduction began */
		double frac;             /* bytes of growth not yet added to cwnd */
		uint64_t t_epoch_us;     /* start of this congestion-avoidance stage */
		int epoch_valid;
	} cubic;

	uint64_t pace_tokens;            /* bytes that may leave without waiting */
	uint64_t pace_time_us;           /* when pace_tokens was last brought up to date */

	/* Totals since net_cc_init. */
	uint64_t n_sent, n_acked, n_lost, n_pto, n_congestion, n_persistent;

	/* Metrics (net_cc_attach_metrics). */
	struct cn_metric_child *m_cwnd, *m_srtt, *m_rttvar, *m_inflight, *m_lost, *m_pto;
	uint64_t m_lost_done, m_pto_done;
};

/* cfg NULL means net_cc_config_default(). -CN_EINVAL for a config that makes
 * no sense (zero MSS, min window above initial, max_tracked not a power of
 * two...), -CN_ENOMEM. */
int net_cc_init(struct net_cc *cc, const struct net_cc_config *cfg);
void net_cc_free(struct net_cc *cc);

/* The caller sent datagram `pn` of `bytes` bytes at now_us. Packet numbers
 * must increase (gaps are allowed): -CN_EINVAL otherwise. -CN_ELIMIT when
 * max_tracked packets are already remembered, -CN_ENOMEM. Nothing is refused
 * for being over the window: pacing and the window are advice the caller
 * takes through net_cc_next_send(). */
int net_cc_on_sent(struct net_cc *cc, uint64_t now_us, uint64_t pn, uint32_t bytes,
		   int ack_eliciting);

/* An acknowledgement from the peer arrived at now_us. Ranges are validated
 * first (descending, disjoint, nothing above the largest packet sent):
 * -CN_EINVAL and no state change otherwise. Numbers no longer remembered
 * (already acknowledged or declared lost) are ignored. */
int net_cc_on_ack(struct net_cc *cc, uint64_t now_us, const struct net_cc_ack *ack,
		  struct net_cc_events *ev);

/* The timer (net_cc_timer) fired: declares time-threshold losses, or counts a
 * PTO and asks for probes (ev->probes). Calling it early does nothing. */
int net_cc_on_timeout(struct net_cc *cc, uint64_t now_us, struct net_cc_events *ev);

/* When net_cc_on_timeout() is next due; NET_CC_NEVER if nothing is armed. */
uint64_t net_cc_timer(const struct net_cc *cc);

/* Earliest time (>= now_us) the next datagram of cfg.mss bytes may be sent;
 * NET_CC_NEVER when the window is full (wait for an ACK or the timer).
 * Pending probes may always leave. */
uint64_t net_cc_next_send(const struct net_cc *cc, uint64_t now_us);

/* Probe timeout currently in force (with backoff), microseconds. */
uint64_t net_cc_pto(const struct net_cc *cc);
/* Pacing rate in bytes per second: 1.25 · cwnd / srtt. */
double net_cc_pacing_rate(const struct net_cc *cc);

/* ---- metrics ------------------------------------------------------------ */

/* Metric families shared by every peer's controller, registered once per
 * registry: canon_net_cc_cwnd_bytes, canon_net_cc_srtt_seconds,
 * canon_net_cc_rttvar_seconds, canon_net_cc_bytes_in_flight (gauges) and
 * canon_net_cc_lost_packets_total, canon_net_cc_pto_total (counters), all
 * labelled by peer. */
struct net_cc_metrics {
	struct cn_metric *cwnd, *srtt, *rttvar, *inflight, *lost, *pto;
};

int net_cc_metrics_register(struct cn_metrics *r, struct net_cc_metrics *m);
/* Binds cc to the series labelled peer=peer_tag (created on first use; a
 * registry never forgets a series, so a returning peer continues its own
 * counters). The controller then updates them on every call. */
int net_cc_attach_metrics(struct net_cc *cc, const struct net_cc_metrics *m, const char *peer_tag);

/* ---- ACK frames --------------------------------------------------------- */

/* Writes ack as: varint largest, varint ack_delay_us, varint (ranges - 1),
 * varint first range length, then per further range varint gap and varint
 * length (QUIC's ACK frame body, delay in microseconds). Writes as many of the
 * newest ranges as fit in cap and says how many in *n_written. -CN_EINVAL for
 * ranges that are not descending and disjoint or exceed NET_CC_VARINT_MAX,
 * -CN_ERANGE if not even the first range fits. */
int net_cc_ack_encode(const struct net_cc_ack *ack, uint8_t *out, size_t cap, size_t *len,
		      size_t *n_written);

/* Reads one ACK frame from the start of in; *used says how many bytes it took
 * (the frame may be followed by other data). -CN_ETRUNC (input ended),
 * -CN_EINVAL (a range below packet number 0), -CN_ELIMIT (more than
 * NET_CC_ACK_MAX_RANGES ranges), -CN_ENONCANON (a varint longer than
 * needed: every frame has exactly one encoding). */
int net_cc_ack_decode(struct net_cc_ack *ack, const uint8_t *in, size_t len, size_t *used);

/* ---- receiver side ------------------------------------------------------ */

#define NET_CC_ACKSET_MAX 32

/* Packet numbers received, newest first, at most NET_CC_ACKSET_MAX ranges
 * (the oldest range is forgotten when a new one does not fit). */
struct net_cc_ackset {
	size_t n;
	struct net_cc_range r[NET_CC_ACKSET_MAX];
};

void net_cc_ackset_init(struct net_cc_ackset *s);
/* Records pn: 1 if new, 0 if already recorded or older than everything the
 * set still remembers (when full). -CN_EINVAL above NET_CC_VARINT_MAX. */
int net_cc_ackset_add(struct net_cc_ackset *s, uint64_t pn);
/* Forgets every number below pn (the peer has seen an ACK covering them). */
void net_cc_ackset_forget_below(struct net_cc_ackset *s, uint64_t pn);
/* The set as an ACK (newest NET_CC_ACK_MAX_RANGES ranges). -CN_ESTATE when empty. */
int net_cc_ackset_to_ack(const struct net_cc_ackset *s, uint64_t ack_delay_us, struct net_cc_ack *ack);

#endif
