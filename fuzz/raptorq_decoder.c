/* Fuzz target: the RaptorQ decoder fed an arbitrary OTI and packets.
 *
 * Input: 12 OTI bytes, then records of (1 control byte, 2-byte big-endian
 * length, bytes). Control bit 0 set: the record's first 4 bytes name (SBN,
 * ESI) and the packet is made by canon's encoder for a fixed object of F
 * bytes (reaching real decodes); clear: the bytes are pushed as a raw packet.
 * Checks: no crash, the decoder never holds more than its memory cap, and an
 * object decoded from encoder-made packets only is the original. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fec/raptorq.h"

#define CAP (24u << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < RQ_OTI_LEN)
		return 0;
	struct rq_oti oti;
	if (rq_oti_parse(data, &oti))
		return 0;
	struct rq_decoder *dec;
	if (rq_decoder_new(&oti, CAP, &dec))
		return 0;
	const size_t plen = RQ_PAYLOAD_ID_LEN + oti.t;
	uint8_t *obj = NULL, *pkt = malloc(plen);
	struct rq_encoder *enc = NULL;
	if (oti.f <= (1u << 16)) {
		obj = malloc(oti.f);
		for (uint64_t i = 0; i < oti.f; i++)
			obj[i] = (uint8_t)(i * 131 + 17);
		if (rq_encoder_new(obj, &oti, NULL, &enc))
			abort();
	}
	int honest = 1;
	size_t off = RQ_OTI_LEN;
	while (off + 3 <= size && pkt) {
		uint8_t ctl = data[off];
		size_t n = (size_t)data[off + 1] << 8 | data[off + 2];
		off += 3;
		if (n > size - off)
			n = size - off;
		const uint8_t *rec = data + off;
		off += n;
		if ((ctl & 1) && enc && n >= 4) {
			uint8_t sbn;
			uint32_t esi;
			rq_payload_id_read(rec, &sbn, &esi);
			sbn = (uint8_t)(sbn % oti.z);
			if (rq_encoder_packet(enc, sbn, esi, pkt))
				abort();
			if (rq_decoder_push(dec, pkt, plen))
				abort();
		} else {
			int rc = rq_decoder_push(dec, rec, n);
			if (rc == 0 && n == plen)
				honest = 0;
		}
		if (rq_decoder_allocated(dec) > CAP)
			abort();
	}
	if (honest && obj && rq_decoder_complete(dec)) {
		const uint8_t *out;
		uint64_t len;
		if (rq_decoder_object(dec, &out, &len) || len != oti.f || memcmp(out, obj, len))
			abort();
	}
	rq_decoder_free(dec);
	rq_encoder_free(enc);
	free(obj);
	free(pkt);
	return 0;
}
