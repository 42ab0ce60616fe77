/* msgnet.h — a small seeded in-process network for driving the messaging
 * layers (net_msg_, net_mcast_) in tests and benchmarks.
 *
 * Datagrams wait in a min-heap ordered by arrival time (ties by send order,
 * so runs are reproducible); mnet_send() applies latency with uniform
 * jitter, random loss and duplication from the network's own PRNG, and logs
 * every datagram offered so a test can replay them later. A bench that
 * models its own links may build packets itself and use only the heap.
 *
 * Header-only (static inline) so that tests/net/ and bench/ share one copy
 * without another object to link. Define MSGNET_ASSERT before including to
 * report allocation failure through the test framework; the default aborts. */
#ifndef CANON_TESTS_NET_MSGNET_H
#define CANON_TESTS_NET_MSGNET_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/prng.h"

#ifndef MSGNET_ASSERT
#define MSGNET_ASSERT(x)                                                                                   \
	do {                                                                                               \
		if (!(x))                                                                                  \
			abort();                                                                           \
	} while (0)
#endif

struct mpkt {
	uint64_t t, seq;
	uint32_t src, dst;
	uint8_t *d;
	size_t len;
};

struct mnet {
	struct cn_prng r;
	struct mpkt *h;
	size_t n, cap;
	uint64_t seq, lat, jit;
	double loss, dup;
	struct mpkt *log; /* every datagram offered, for replays */
	size_t nlog, caplog;
};

static inline int mnet_less(const struct mpkt *a, const struct mpkt *b)
{
	return a->t < b->t || (a->t == b->t && a->seq < b->seq);
}

static inline void mnet_push(struct mnet *m, struct mpkt p)
{
	if (m->n == m->cap) {
		m->cap = m->cap ? m->cap * 2 : 1024;
		m->h = realloc(m->h, m->cap * sizeof *m->h);
		MSGNET_ASSERT(m->h);
	}
	size_t i = m->n++;
	while (i > 0 && mnet_less(&p, &m->h[(i - 1) / 2])) {
		m->h[i] = m->h[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	m->h[i] = p;
}

static inline struct mpkt mnet_pop(struct mnet *m)
{
	struct mpkt top = m->h[0], last = m->h[--m->n];
	size_t i = 0;
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= m->n)
			break;
		if (c + 1 < m->n && mnet_less(&m->h[c + 1], &m->h[c]))
			c++;
		if (!mnet_less(&m->h[c], &last))
			break;
		m->h[i] = m->h[c];
		i = c;
	}
	if (m->n)
		m->h[i] = last;
	return top;
}

static inline void mnet_send(struct mnet *m, uint64_t now, uint32_t src, uint32_t dst, const uint8_t *d, size_t len)
{
	if (m->nlog == m->caplog) {
		m->caplog = m->caplog ? m->caplog * 2 : 1024;
		m->log = realloc(m->log, m->caplog * sizeof *m->log);
		MSGNET_ASSERT(m->log);
	}
	struct mpkt lp = {.src = src, .dst = dst, .len = len, .d = malloc(len)};
	memcpy(lp.d, d, len);
	m->log[m->nlog++] = lp;
	int copies = 1 + (cn_prng_double(&m->r) < m->dup);
	for (int c = 0; c < copies; c++) {
		if (cn_prng_double(&m->r) < m->loss)
			continue;
		struct mpkt p = {.t = now + m->lat + cn_prng_uniform(&m->r, m->jit + 1), .seq = m->seq++,
				 .src = src, .dst = dst, .len = len, .d = malloc(len)};
		memcpy(p.d, d, len);
		mnet_push(m, p);
	}
}

static inline void mnet_free(struct mnet *m)
{
	for (size_t i = 0; i < m->n; i++)
		free(m->h[i].d);
	for (size_t i = 0; i < m->nlog; i++)
		free(m->log[i].d);
	free(m->h);
	free(m->log);
}

#endif
