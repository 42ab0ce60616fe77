/* net_ack.c — the ACK frame decoder on hostile bytes, and the congestion
 * controller on whatever it yields.
 *
 * A decoded frame must re-encode to exactly the bytes it was read from (the
 * encoding is canonical), and feeding it to a controller with packets in
 * flight must keep its books consistent: bytes in flight equal to the sum
 * over packets neither acknowledged nor lost. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/cc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct net_cc_ack ack;
	size_t used;
	if (net_cc_ack_decode(&ack, data, size, &used) != 0)
		return 0;
	if (used > size || ack.n_ranges == 0)
		abort();
	uint8_t buf[1024];
	size_t len, nw;
	if (net_cc_ack_encode(&ack, buf, sizeof buf, &len, &nw) != 0 || nw != ack.n_ranges ||
	    len != used || memcmp(buf, data, used) != 0)
		abort();

	/* Packets 0..199 (every third one not ack-eliciting) in flight around
	 * the acknowledged numbers, then the ACK, then a timeout. */
	struct net_cc cc;
	if (net_cc_init(&cc, NULL))
		abort();
	uint64_t top = ack.ranges[0].hi, base = top > 150 ? top - 150 : 0;
	if (base > NET_CC_VARINT_MAX - 199)
		base = NET_CC_VARINT_MAX - 199;   /* the ACK may then name unsent numbers */
	uint64_t total = 0;
	for (uint64_t i = 0; i < 200; i++) {
		int el = i % 3 != 0;
		if (net_cc_on_sent(&cc, 1000 * i, base + i, 1000 + (uint32_t)i, el))
			abort();
		total += el ? 1000 + i : 0;
	}
	struct net_cc_events ev;
	int err = net_cc_on_ack(&cc, 300000, &ack, &ev);
	if (err && cc.bytes_in_flight != total)
		abort();
	uint64_t gone = 0;
	for (size_t i = 0; i < ev.n_acked; i++)
		gone += ev.acked[i].ack_eliciting ? ev.acked[i].bytes : 0;
	for (size_t i = 0; i < ev.n_lost; i++)
		gone += ev.lost[i].ack_eliciting ? ev.lost[i].bytes : 0;
	if (cc.bytes_in_flight != total - gone)
		abort();
	uint64_t t = net_cc_timer(&cc);
	if (t != NET_CC_NEVER && net_cc_on_timeout(&cc, t, &ev))
		abort();
	(void)net_cc_next_send(&cc, t == NET_CC_NEVER ? 400000 : t);
	net_cc_free(&cc);
	return 0;
}
