/* net_boot.c — hostile bootnode frames: the decoder (and a re-encode of
 * whatever it accepts must give the same bytes back), then the same bytes as
 * a sequence of frames into a small bootnode from a few senders, with the
 * clock moving so entries expire and the table overflows. */
#include <stdlib.h>
#include <string.h>

#include "net/boot.h"

static int reencode(const struct boot_msg *m, uint8_t *out, size_t cap, size_t *len)
{
	const char *t[BOOT_MAX_TOPICS];
	for (size_t i = 0; i < m->n_topics && i < BOOT_MAX_TOPICS; i++)
		t[i] = m->topics[i];
	switch (m->type) {
	case BOOT_T_REGISTER:
		return boot_encode_register(&m->loc, t, m->n_topics, out, cap, len);
	case BOOT_T_OBSERVED:
		return boot_encode_observed(&m->addr, m->ttl_ms, out, cap, len);
	case BOOT_T_LOOKUP_ID:
		return boot_encode_lookup_id(m->req, m->id, out, cap, len);
	case BOOT_T_LOOKUP_TOPIC:
		return boot_encode_lookup_topic(m->req, t[0], m->max, out, cap, len);
	case BOOT_T_RESULT:
		return boot_encode_result(m->req, m->results, m->n_results, out, cap, len);
	case BOOT_T_CONNECT:
		return boot_encode_connect(m->id, out, cap, len);
	case BOOT_T_CONNECT_FROM:
		return boot_encode_connect_from(&m->loc, &m->addr, out, cap, len);
	case BOOT_T_CONNECT_FAIL:
		return boot_encode_connect_fail(m->id, out, cap, len);
	}
	abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct boot_msg m;
	static uint8_t buf[BOOT_FRAME_MAX];
	size_t len;
	if (boot_decode(data, size, &m) == 0) {
		if (reencode(&m, buf, sizeof buf, &len) != 0 || len != size || memcmp(buf, data, size))
			abort(); /* two encodings of one frame */
	}

	struct boot_server *s;
	struct boot_config cfg = {.max_entries = 3, .ttl_ms = 5000, .seed = 1};
	if (boot_server_new(&cfg, &s))
		abort();
	struct boot_out out;
	boot_out_init(&out);
	uint64_t now = 1000;
	size_t k = 0;
	/* Records: [sender(1)][len(2, little-endian)][frame]. */
	while (size - k >= 3) {
		uint8_t who = data[k];
		size_t n = (size_t)data[k + 1] | (size_t)data[k + 2] << 8;
		k += 3;
		if (n > size - k)
			n = size - k;
		uint8_t from[32] = {0};
		from[0] = who & 3;
		struct net_addr seen;
		net_addr_v4(&seen, 127, 0, 0, 1, (uint16_t)(1 + (who & 3)));
		now += (uint64_t)(who >> 2) * 500;
		if (boot_server_receive(s, now, from, &seen, data + k, n, &out) != 0)
			abort();
		for (size_t i = 0; i < out.n; i++)
			if (boot_decode(out.a[i].data, out.a[i].len, &m) != 0)
				abort(); /* the server emitted a frame it cannot read back */
		boot_out_reset(&out);
		boot_server_timer(s, now);
		k += n;
	}
	boot_out_free(&out);
	boot_server_free(s);
	return 0;
}
