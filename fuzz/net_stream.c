/* net_stream.c — hostile frames from peers into a stream core with open
 * streams both ways, requests queued, in flight and being served.
 *
 * Input: records [ctl(1)][len(2, little-endian)][bytes]. ctl bits 0-1 pick
 * the peer (0..3), bits 2-4 advance the clock by that many seconds first
 * (a timer call follows: requests and opens time out), bit 5 answers the
 * latest request the core handed us, with the bytes as the response, bit 6
 * opens a stream to the peer and sends the bytes as a request on it, bit 7
 * takes the peer down first. Invariants: no failure on hostile input, only
 * well-formed frames out, stream counts within their caps. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "base/err.h"
#include "net/stream.h"

#define P1 "harmony/sync/localnet/1/1.0.0"

struct last {
	int have;
	uint32_t peer, stream, req;
};

static void drain(struct stream_out *out, struct last *l)
{
	for (size_t i = 0; i < out->n; i++) {
		const struct stream_action *a = &out->a[i];
		if (a->peer >= 4)
			abort();
		if (a->kind == STREAM_A_SEND &&
		    (a->len < 5 || a->data[0] < STREAM_T_OPEN || a->data[0] > STREAM_T_CANCEL ||
		     load_be32(a->data + 1) > 0x7fffffffu))
			abort();
		if (a->kind == STREAM_A_REQUEST) {
			if (!(a->stream & STREAM_INCOMING) || a->len > 256)
				abort();
			l->have = 1;
			l->peer = a->peer;
			l->stream = a->stream;
			l->req = a->req_id;
		}
		if ((a->kind == STREAM_A_FAILED || a->kind == STREAM_A_OPEN_FAILED || a->kind == STREAM_A_CLOSED) &&
		    a->err >= 0)
			abort();
		if (a->kind == STREAM_A_RESPONSE && a->len > 512)
			abort();
	}
	stream_out_reset(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct stream_config c = {.max_peers = 4, .max_streams_per_peer = 3, .max_inflight = 4,
				  .max_request = 256, .max_response = 512, .request_timeout_ms = 3000,
				  .open_timeout_ms = 2000};
	struct stream *s;
	if (stream_new(&c, &s) || stream_register(s, P1, NULL) || stream_register(s, "canon/other/1", NULL))
		abort();
	struct stream_out out;
	stream_out_init(&out);
	struct last l = {0};
	uint64_t now = 1000;
	/* Our streams 0 and 1 to peer 1 (0 accepted, with requests 0..1 in
	 * flight; 1 still opening with one queued); peer 2's stream 7 to us with
	 * request 3 being served. */
	uint32_t sid, rid;
	static const uint8_t ok0[5] = {STREAM_T_OPEN_OK, 0, 0, 0, 0};
	uint8_t open7[6 + sizeof P1 - 1] = {STREAM_T_OPEN, 0, 0, 0, 7, sizeof P1 - 1};
	memcpy(open7 + 6, P1, sizeof P1 - 1);
	static const uint8_t req7[10] = {STREAM_T_REQ, 0, 0, 0, 7, 0, 0, 0, 3, 'q'};
	if (stream_open(s, now, 1, P1, &sid, &out) || stream_request(s, now, 1, sid, (const uint8_t *)"a", 1, &rid, &out) ||
	    stream_request(s, now, 1, sid, (const uint8_t *)"b", 1, &rid, &out) ||
	    stream_receive(s, now, 1, ok0, sizeof ok0, &out) || stream_open(s, now, 1, P1, &sid, &out) ||
	    stream_request(s, now, 1, sid, NULL, 0, &rid, &out) ||
	    stream_receive(s, now, 2, open7, sizeof open7, &out) || stream_receive(s, now, 2, req7, sizeof req7, &out))
		abort();
	drain(&out, &l);
	size_t k = 0;
	while (size - k >= 3) {
		uint8_t ctl = data[k];
		size_t len = (size_t)data[k + 1] | (size_t)data[k + 2] << 8;
		k += 3;
		if (len > size - k)
			len = size - k;
		uint32_t peer = ctl & 3;
		if (ctl & 0x1c) {
			now += (uint64_t)((ctl >> 2) & 7) * 1000;
			if (stream_timer(s, now, &out))
				abort();
		}
		if (ctl & 0x80 && stream_peer_down(s, now, peer, &out))
			abort();
		if ((ctl & 0x20) && l.have) {
			int err = stream_respond(s, now, l.peer, l.stream, l.req, 0, data + k, len, &out);
			if (err && err != -CN_ENOTFOUND && !(err == -CN_ELIMIT && len > c.max_response))
				abort();
			l.have = 0;
		} else if (ctl & 0x40) {
			int err = stream_open(s, now, peer, P1, &sid, &out);
			if (!err)
				err = stream_request(s, now, peer, sid, data + k, len, &rid, &out);
			if (err && err != -CN_ELIMIT)
				abort();
		} else if (stream_receive(s, now, peer, data + k, len, &out)) {
			abort();
		}
		drain(&out, &l);
		for (uint32_t p = 0; p < 4; p++)
			if (stream_count(s, p) > 2 * c.max_streams_per_peer)
				abort();
		k += len;
	}
	stream_out_free(&out);
	stream_free(s);
	return 0;
}
