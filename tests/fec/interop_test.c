/* RaptorQ against ../shared/testdata/raptorq: the npm raptorq 1.7.24 packets
 * (cross-checked with nanorq) for 34 single-block objects and the sub-block /
 * multi-block objects. Repair packets in the files carry the package's ISI
 * numbering; canon emits RFC 6330 ESIs, so comparisons use `rfc_esi`. */
#include <criterion/criterion.h>
#include <nettle/sha2.h>
#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "base/err.h"
#include "fec/raptorq.h"
#include "testutil.h"

static uint8_t *make_data(uint64_t n)
{
	uint8_t *d = malloc(n ? n : 1);
	cr_assert(d);
	for (uint64_t i = 0; i < n; i++)
		d[i] = (uint8_t)((i * 31 + 7) % 251);
	return d;
}

static void sha256_hex(const uint8_t *p, size_t n, char out[65])
{
	struct sha256_ctx c;
	uint8_t dg[32];
	sha256_init(&c);
	sha256_update(&c, n, p);
	sha256_digest(&c, 32, dg);
	hex_encode(dg, 32, out);
}

static uint64_t jint(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);
	cr_assert(json_is_integer(v), "missing %s", k);
	return (uint64_t)json_integer_value(v);
}

struct counts {
	size_t cases, packets, repair, decodes;
};

/* Checks OTI, every listed packet, and decodes the lossy pattern the
 * generator used plus repair-only and source-only runs. */
static void run_case(json_t *c, struct counts *cnt, int full_decode)
{
	const char *name = json_string_value(json_object_get(c, "name"));
	uint64_t len = jint(c, "data_length");
	uint16_t mtu = (uint16_t)jint(c, "mtu");
	json_t *jo = json_object_get(c, "oti");
	uint8_t *data = make_data(len);
	char hx[65];
	sha256_hex(data, len, hx);
	cr_assert_str_eq(hx, json_string_value(json_object_get(c, "data_sha256")), "%s", name);

	struct rq_oti oti;
	cr_assert_eq(rq_oti_defaults(len, mtu, 10u << 20, &oti), 0, "%s", name);
	cr_assert_eq(oti.f, jint(jo, "transfer_length"));
	cr_assert_eq(oti.t, jint(jo, "symbol_size"), "%s", name);
	cr_assert_eq(oti.z, jint(jo, "num_source_blocks"), "%s", name);
	cr_assert_eq(oti.n, jint(jo, "num_sub_blocks"), "%s", name);
	cr_assert_eq(oti.al, jint(jo, "symbol_alignment"));
	uint8_t ob[RQ_OTI_LEN];
	char obh[2 * RQ_OTI_LEN + 1];
	rq_oti_serialize(&oti, ob);
	hex_encode(ob, RQ_OTI_LEN, obh);
	cr_assert_str_eq(obh, json_string_value(json_object_get(jo, "oti_12_bytes_hex")), "%s", name);
	struct rq_oti back;
	cr_assert_eq(rq_oti_parse(ob, &back), 0);
	cr_assert(memcmp(&back, &oti, sizeof oti) == 0 || (back.f == oti.f && back.t == oti.t &&
							     back.z == oti.z && back.n == oti.n && back.al == oti.al));
	struct rq_layout lay;
	rq_oti_layout(&oti, &lay);
	json_t *part = json_object_get(jo, "partition");
	cr_assert_eq(lay.kt, jint(jo, "Kt"));
	cr_assert_eq(lay.kl, jint(part, "KL"));
	cr_assert_eq(lay.ks, jint(part, "KS"));
	cr_assert_eq(lay.zl, jint(part, "ZL"));
	json_t *sp = json_object_get(jo, "sub_block_partition");
	if (sp) {
		cr_assert_eq(lay.tl, jint(sp, "TL"));
		cr_assert_eq(lay.ts, jint(sp, "TS"));
		cr_assert_eq(lay.nl, jint(sp, "NL"));
	}

	struct rq_plan_cache *cache;
	cr_assert_eq(rq_plan_cache_new(2, &cache), 0);
	struct rq_encoder *enc;
	cr_assert_eq(rq_encoder_new(data, &oti, cache, &enc), 0);
	const size_t plen = RQ_PAYLOAD_ID_LEN + oti.t;
	uint8_t *pkt = malloc(plen);
	json_t *blocks = json_object_get(c, "blocks");
	size_t bi;
	json_t *b;
	json_array_foreach(blocks, bi, b) {
		uint32_t k = (uint32_t)jint(b, "source_symbols");
		cr_assert_eq(rq_block_k(&oti, (unsigned)jint(b, "sbn")), k, "%s", name);
		cr_assert_eq(rq_kprime(k), jint(b, "K_prime"));
	}
	json_t *pk = json_object_get(c, "packets");
	size_t pi;
	json_t *p;
	json_array_foreach(pk, pi, p) {
		uint8_t sbn = (uint8_t)jint(p, "sbn");
		uint32_t esi = (uint32_t)jint(p, "esi");
		json_t *rfc = json_object_get(p, "rfc_esi");
		uint32_t want_esi = rfc ? (uint32_t)json_integer_value(rfc) : esi;
		cr_assert_eq(jint(p, "len"), plen);
		cr_assert_eq(rq_encoder_packet(enc, sbn, want_esi, pkt), 0);
		json_t *h = json_object_get(p, "hex");
		if (h) {
			size_t hl;
			uint8_t *ref = tu_hex(json_string_value(h), &hl);
			cr_assert_eq(hl, plen);
			cr_assert_eq(ref[0], pkt[0]);
			/* the payload ID differs only by the package's repair numbering */
			uint8_t s2;
			uint32_t e2;
			rq_payload_id_read(ref, &s2, &e2);
			cr_assert_eq(e2, esi);
			cr_assert(memcmp(ref + 4, pkt + 4, oti.t) == 0, "%s: symbol sbn %u esi %u differs", name,
				  sbn, want_esi);
			free(ref);
		} else {
			/* source packet given by hash: ESI fields agree (ESI < K) */
			cr_assert(!rfc);
			sha256_hex(pkt, plen, hx);
			cr_assert_str_eq(hx, json_string_value(json_object_get(p, "sha256")), "%s esi %u", name,
					 esi);
		}
		if (rfc)
			cnt->repair++;
		cnt->packets++;
	}

	/* blocks with only a digest of the concatenated source packets */
	json_array_foreach(blocks, bi, b) {
		json_t *cs = json_object_get(b, "source_packets_concat_sha256");
		if (!cs)
			continue;
		uint32_t k = (uint32_t)jint(b, "source_symbols");
		struct sha256_ctx sc;
		sha256_init(&sc);
		for (uint32_t j = 0; j < k; j++) {
			cr_assert_eq(rq_encoder_packet(enc, (uint8_t)jint(b, "sbn"), j, pkt), 0);
			sha256_update(&sc, plen, pkt);
		}
		uint8_t dg[32];
		sha256_digest(&sc, 32, dg);
		hex_encode(dg, 32, hx);
		cr_assert_str_eq(hx, json_string_value(cs), "%s block %zu", name, bi);
		cnt->packets += k;
	}

	if (full_decode) {
		/* the generator's lossy pattern: per block drop (up to R) source ESIs
		 * with esi % 4 == 0, feed the rest (repair with RFC ESIs) in reverse */
		/* decoders run under their own memory bound as the cap */
		uint64_t bound;
		cr_assert_eq(rq_decoder_memory(&oti, &bound), 0);
		struct rq_decoder *dec;
		cr_assert_eq(rq_decoder_new(&oti, bound, &dec), 0);
		for (int sbn = oti.z - 1; sbn >= 0; sbn--) {
			uint32_t k = rq_block_k(&oti, (unsigned)sbn);
			uint32_t r = (uint32_t)jint(c, "repair_packets_per_block");
			for (uint32_t j = 0; j < r; j++) {
				cr_assert_eq(rq_encoder_packet(enc, (uint8_t)sbn, k + r - 1 - j, pkt), 0);
				cr_assert_eq(rq_decoder_push(dec, pkt, plen), 0);
			}
			uint32_t dropped = 0;
			/* drops are chosen in ascending ESI order, like the generator */
			uint8_t *drop = calloc(k, 1);
			for (uint32_t j = 0; j < k && dropped < r; j += 4) {
				drop[j] = 1;
				dropped++;
			}
			for (int64_t j = (int64_t)k - 1; j >= 0; j--) {
				if (drop[j])
					continue;
				cr_assert_eq(rq_encoder_packet(enc, (uint8_t)sbn, (uint32_t)j, pkt), 0);
				cr_assert_eq(rq_decoder_push(dec, pkt, plen), 0);
			}
			free(drop);
		}
		cr_assert(rq_decoder_complete(dec), "%s: lossy decode incomplete", name);
		const uint8_t *out;
		uint64_t olen;
		cr_assert_eq(rq_decoder_object(dec, &out, &olen), 0);
		cr_assert_eq(olen, len);
		cr_assert(memcmp(out, data, len) == 0, "%s: lossy decode wrong", name);
		rq_decoder_free(dec);
		cnt->decodes++;

		/* repair only: K + 2 repair symbols per block */
		cr_assert_eq(rq_decoder_new(&oti, bound, &dec), 0);
		for (unsigned sbn = 0; sbn < oti.z; sbn++) {
			uint32_t k = rq_block_k(&oti, sbn);
			for (uint32_t j = 0; j < k + 2 && !rq_decoder_complete(dec); j++) {
				cr_assert_eq(rq_encoder_packet(enc, (uint8_t)sbn, k + 1000 + j, pkt), 0);
				cr_assert_eq(rq_decoder_push(dec, pkt, plen), 0);
			}
		}
		cr_assert(rq_decoder_complete(dec), "%s: repair-only decode incomplete", name);
		cr_assert_eq(rq_decoder_object(dec, &out, &olen), 0);
		cr_assert(memcmp(out, data, len) == 0, "%s: repair-only decode wrong", name);
		rq_decoder_free(dec);
		cnt->decodes++;
	}
	free(pkt);
	rq_encoder_free(enc);
	rq_plan_cache_free(cache);
	free(data);
	cnt->cases++;
}

Test(fec_vectors, npm_interop)
{
	json_t *j = tu_load_json("raptorq/npm_raptorq_interop.json");
	json_t *cases = json_object_get(j, "cases");
	cr_assert_eq(json_array_size(cases), 34);
	struct counts cnt = {0};
	size_t i;
	json_t *c;
	json_array_foreach(cases, i, c) run_case(c, &cnt, 1);
	fprintf(stderr, "fec npm_interop: %zu cases, %zu packets compared (%zu repair), %zu decodes\n",
		cnt.cases, cnt.packets, cnt.repair, cnt.decodes);
	tu_report("raptorq/npm_raptorq_interop.json packets", cnt.packets);
	json_decref(j);
}

Test(fec_vectors, npm_subblocks)
{
	json_t *j = tu_load_json("raptorq/npm_raptorq_subblocks.json");
	json_t *cases = json_object_get(j, "cases");
	cr_assert_eq(json_array_size(cases), 3);
	struct counts cnt = {0};
	size_t i;
	json_t *c;
	json_array_foreach(cases, i, c) {
		uint64_t len = jint(c, "data_length");
		if (len > 20000000 && !tu_long()) {
			fprintf(stderr, "fec npm_subblocks: %s skipped (make test-long)\n",
				json_string_value(json_object_get(c, "name")));
			continue;
		}
		/* decoding 11 MB twice is slow under sanitizers; one lossy decode */
		run_case(c, &cnt, 1);
	}
	fprintf(stderr, "fec npm_subblocks: %zu cases, %zu packets compared (%zu repair), %zu decodes\n",
		cnt.cases, cnt.packets, cnt.repair, cnt.decodes);
	tu_report("raptorq/npm_raptorq_subblocks.json packets", cnt.packets);
	json_decref(j);
}
