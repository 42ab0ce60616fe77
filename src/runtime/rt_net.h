/* rt_net.h — runs a sans-I/O net_endpoint over a real UDP socket with libuv.
 *
 * The endpoint (src/net) decides everything about sessions; this driver only
 * moves bytes and time in and out of it: each received datagram is stepped
 * in with the current Unix-epoch milliseconds, each NET_ACT_SEND becomes a
 * UDP send, the one NET_ACT_TIMER deadline arms one uv_timer_t, and the
 * remaining actions (deliver, established, closed, peer locator) are handed
 * to the application's callback. SIGINT and SIGTERM close every handle so
 * that uv_run() returns and the loop can be closed cleanly, unless the
 * caller says it handles signals itself (struct rt_net_opts).
 *
 * Datagrams larger than NET_MAX_DATAGRAM are truncated by the kernel into a
 * bounded buffer and dropped here; everything else hostile is the
 * endpoint's business. */
#ifndef CANON_RUNTIME_RT_NET_H
#define CANON_RUNTIME_RT_NET_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "base/prng.h"
#include "net/net.h"

struct rt_net;

/* Called for NET_ACT_DELIVER, _ESTABLISHED, _CLOSED and _PEER_LOCATOR;
 * data/len are the action's bytes (valid only during the call). The
 * callback may call rt_net_send() and rt_net_close(). */
typedef void (*rt_net_event_fn)(void *ctx, struct rt_net *rt, const struct net_action *a,
				 const uint8_t *data, size_t len);

/* Options of rt_net_start_opts; zero means rt_net_start's behaviour. */
struct rt_net_opts {
	int no_signals;               /* leave SIGINT/SIGTERM to the embedding process */
	double test_drop;             /* test-only: drop this fraction of datagrams, both ways */
	uint64_t drop_seed;           /* seeds the drop decisions (reproducible loss) */
};

struct rt_net {
	uv_loop_t *loop;
	uv_udp_t udp;
	uv_timer_t timer;
	uv_signal_t sigint, sigterm;
	struct net_endpoint *ep;      /* not owned */
	rt_net_event_fn on_event;
	void *ctx;
	int closing;
	int signaled;                 /* signal number that closed us, or 0 */
	int open_handles;
	uint64_t timer_at_ms;          /* wall-clock deadline the timer is armed for */
	uint64_t send_errors;         /* UDP sends the kernel refused */
	uint64_t dgrams_in, dgrams_out, bytes_in, bytes_out;
	uint64_t test_dropped;        /* datagrams eaten by opts.test_drop */
	struct rt_net_opts opts;
	struct cn_prng drop_rng;
	uint8_t rxbuf[2048];          /* > NET_MAX_DATAGRAM so oversize is detectable */
};

/* Milliseconds since the Unix epoch (what net_endpoint_step wants). */
uint64_t rt_now_ms(void);

/* "127.0.0.1:30000" or "[::1]:30000" → a. -CN_EINVAL. */
int rt_addr_parse(const char *s, struct net_addr *a);

/* Binds a UDP socket to bind_addr (port 0 picks one; see rt_net_local_addr)
 * and starts receiving. -CN_EIO if the socket cannot be bound; the handles
 * are then already closing, so run the loop once more before closing it. */
int rt_net_start(struct rt_net *rt, uv_loop_t *loop, struct net_endpoint *ep,
		 const struct net_addr *bind_addr, rt_net_event_fn on_event, void *ctx);
/* The same with options (opts NULL: defaults). */
int rt_net_start_opts(struct rt_net *rt, uv_loop_t *loop, struct net_endpoint *ep,
		      const struct net_addr *bind_addr, const struct rt_net_opts *opts,
		      rt_net_event_fn on_event, void *ctx);
int rt_net_local_addr(struct rt_net *rt, struct net_addr *out);

/* Steps NET_IN_SEND for peer (a node ID); the endpoint queues it if a
 * handshake has to run first. Errors are the endpoint's (-CN_EINVAL for an
 * unknown peer or too long a payload…). */
int rt_net_send(struct rt_net *rt, const uint8_t peer[NET_NODE_ID_LEN], const uint8_t *data,
		size_t len);

/* Steps NET_IN_ANNOUNCE: rec (ours, newer than the last) goes to every
 * established peer and to each new one. */
int rt_net_announce(struct rt_net *rt, const struct net_locator *rec);
/* Steps NET_IN_CLOSE for peer: the session is forgotten (NET_ACT_CLOSED
 * follows). -CN_ENOTFOUND if there is none. */
int rt_net_close_peer(struct rt_net *rt, const uint8_t peer[NET_NODE_ID_LEN]);

/* Closes every handle; uv_run() returns once they are gone. Idempotent. */
void rt_net_close(struct rt_net *rt);

#endif
