/* net_packet.c — hostile datagrams against an endpoint pair with a live
 * session (so receiver indices, replay windows and keys exist).
 *
 * Input: a sequence of records [dest(1)][len(2, little-endian)][bytes]; dest
 * bit 0 picks the receiving endpoint, bit 1 a stranger's source address, bits
 * 2-7 advance the clock by that many seconds (timers fire). The whole input
 * is also parsed as a locator record. */
#include <stddef.h>
#include <stdint.h>

#include "net_fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct net_locator rec;
	if (net_locator_decode(&rec, data, size) == 0) {
		uint8_t buf[NET_LOCATOR_MAX_LEN];
		size_t len;
		if (net_locator_encode(&rec, buf, sizeof buf, &len) != 0 || len != size ||
		    memcmp(buf, data, len) != 0)
			abort(); /* decode accepted a non-canonical encoding */
	}
	net_packet_classify(data, size);

	struct nf f;
	if (nf_setup(&f, 1000) || nf_connect(&f))
		abort();
	size_t k = 0;
	while (size - k >= 3) {
		uint8_t dest = data[k];
		size_t len = (size_t)data[k + 1] | (size_t)data[k + 2] << 8;
		k += 3;
		if (len > size - k)
			len = size - k;
		f.now += (uint64_t)(dest >> 2) * 1000;
		int to = dest & 1;
		struct net_addr from = f.addr[1 - to];
		if (dest & 2)
			net_addr_v4(&from, 203, 0, 113, dest, 4444);
		struct net_input in = {.kind = NET_IN_DATAGRAM, .addr = from, .data = data + k, .len = len};
		nf_step(&f, to, &in);
		k += len;
	}
	/* The session still works after whatever came in (unless time ran out). */
	struct net_input in = {.kind = NET_IN_SEND, .data = (const uint8_t *)"x", .len = 1,
			       .peer = f.id[1].node_id};
	nf_step(&f, 0, &in);
	nf_free(&f);
	return 0;
}
