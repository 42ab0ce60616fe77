/* Receipts, bloom, header, block, CX proofs, crosslinks, shard state,
 * network parameters and DeriveSha. Published vectors where they exist
 * (go-ethereum's bloom test), hand-built encodings otherwise, and the
 * canonical-form property for every decoder: if bytes decode, they
 * re-encode to exactly the same bytes. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "base/bytes.h"
#include "base/err.h"
#include "codec/rlp.h"
#include "core/core.h"
#include "crypto/crypto.h"
#include "testutil.h"
#include "trie/trie.h"

static void hexeq(const uint8_t *got, const char *want)
{
	size_t n;
	uint8_t *w = tu_hex(want, &n);
	cr_assert(memcmp(got, w, n) == 0, "expected %s", want);
	free(w);
}

/* ---- bloom ------------------------------------------------------------- */

Test(core_bloom, geth_vectors)
{
	uint8_t b[256] = {0}, h[32];
	/* go-ethereum core/types/bloom9_test.go TestBloomExtensively */
	for (int i = 0; i < 100; i++) {
		char data[64];
		int n = snprintf(data, sizeof data, "xxxxxxxxxx data %d yyyyyyyyyyyyyy", i);
		bloom_add(b, (const uint8_t *)data, (size_t)n);
	}
	keccak256(b, 256, h);
	hexeq(h, "c8d3ca65cdb4874300a9e39475508f23ed6da09fdbc487f89a2dcf50b09eb263");

	/* keccak256("") = c5d2460186f7…: bits 1490, 1537, 1783. */
	uint8_t e[256] = {0}, want[256] = {0};
	bloom_add(e, (const uint8_t *)"", 0);
	want[69] = 4;
	want[63] = 2;
	want[33] = 128;
	cr_assert(memcmp(e, want, 256) == 0);

	/* TestBloom: positives test true, these negatives test false. */
	uint8_t t[256] = {0};
	const char *pos[] = {"testtest", "test", "hallo", "other"};
	for (int i = 0; i < 4; i++)
		bloom_add(t, (const uint8_t *)pos[i], strlen(pos[i]));
	for (int i = 0; i < 4; i++)
		cr_assert(bloom_test(t, (const uint8_t *)pos[i], strlen(pos[i])));
	cr_assert_not(bloom_test(t, (const uint8_t *)"tes", 3));
	cr_assert_not(bloom_test(t, (const uint8_t *)"lo", 2));
	tu_report("bloom (go-ethereum)", 3);
}

/* ---- helpers: canonical round trip and hostile variants ---------------- */

typedef int (*roundtrip_fn)(const uint8_t *raw, size_t len, uint8_t **out, size_t *out_len);

/* Truncations must fail; byte flips must fail or round-trip exactly. */
static void hostile(roundtrip_fn fn, const uint8_t *raw, size_t len)
{
	uint8_t *out;
	size_t ol;
	cr_assert_eq(fn(raw, len, &out, &ol), 0);
	cr_assert(ol == len && memcmp(out, raw, len) == 0, "round trip");
	free(out);
	for (size_t cut = 1; cut <= len; cut += 1 + len / 64)
		cr_assert_neq(fn(raw, len - cut, &out, &ol), 0, "truncated by %zu", cut);
	uint8_t *m = malloc(len + 1);
	for (size_t i = 0; i < len; i += 1 + len / 97) {
		for (int bit = 0; bit < 8; bit += 3) {
			memcpy(m, raw, len);
			m[i] ^= (uint8_t)(1u << bit);
			if (fn(m, len, &out, &ol) == 0) {
				cr_assert(ol == len && memcmp(out, m, len) == 0, "flip at %zu", i);
				free(out);
			}
		}
	}
	/* A trailing byte is never part of a value. */
	memcpy(m, raw, len);
	m[len] = 0;
	cr_assert_neq(fn(m, len + 1, &out, &ol), 0);
	free(m);
}

#define ROUNDTRIP(name, type, dec, enc, fr)                                               \
	static int name(const uint8_t *raw, size_t len, uint8_t **out, size_t *out_len)     \
	{                                                                                     \
		type v;                                                                           \
		int rc = dec(&v, raw, len);                                                       \
		if (rc)                                                                           \
			return rc;                                                                    \
		rc = enc(&v, out, out_len);                                                       \
		fr(&v);                                                                           \
		return rc;                                                                        \
	}

static void cx_noop(struct cx_receipt *c) { (void)c; }
ROUNDTRIP(rt_receipt, struct receipt, receipt_decode, receipt_encode, receipt_free)
ROUNDTRIP(rt_header, struct header, header_decode, header_encode, header_free)
ROUNDTRIP(rt_block, struct block, block_decode, block_encode, block_free)
ROUNDTRIP(rt_cx, struct cx_receipt, cx_receipt_decode, cx_receipt_encode, cx_noop)
ROUNDTRIP(rt_cxp, struct cx_receipts_proof, cx_receipts_proof_decode, cx_receipts_proof_encode,
          cx_receipts_proof_free)
ROUNDTRIP(rt_cl, struct crosslink, crosslink_decode, crosslink_encode, crosslink_free)
ROUNDTRIP(rt_ss, struct shard_state, shard_state_decode, shard_state_encode, shard_state_free)

/* ---- receipts ---------------------------------------------------------- */

static void sample_receipt(struct receipt *r, int nlogs, int status)
{
	memset(r, 0, sizeof *r);
	r->status = status;
	r->cumulative_gas = 21000u * (unsigned)(nlogs + 1);
	r->nlogs = (size_t)nlogs;
	r->logs = calloc((size_t)nlogs + 1, sizeof *r->logs);
	for (int i = 0; i < nlogs; i++) {
		struct core_log *l = &r->logs[i];
		memset(l->addr, 0x10 + i, 20);
		l->ntopics = (size_t)(i % 5);
		l->topics = l->ntopics ? calloc(l->ntopics, 32) : NULL;
		for (size_t t = 0; t < l->ntopics; t++)
			memset(l->topics[t], (int)(0x40 + t), 32);
		l->data_len = (size_t)i * 17;
		l->data = l->data_len ? malloc(l->data_len) : NULL;
		if (l->data_len)
			memset(l->data, 0xee, l->data_len);
	}
	bloom_add_logs(r->bloom, r->logs, r->nlogs);
}

Test(core_receipt, round_trip_and_fields)
{
	for (int variant = 0; variant < 3; variant++) {
		struct receipt r, d;
		sample_receipt(&r, variant * 3, variant != 1);
		if (variant == 2) {
			r.has_post_state = 1;
			memset(r.post_state, 0x77, 32);
		}
		uint8_t *enc;
		size_t el;
		cr_assert_eq(receipt_encode(&r, &enc, &el), 0);
		cr_assert_eq(receipt_decode(&d, enc, el), 0);
		if (!r.has_post_state)
			cr_assert_eq(d.status, r.status);
		cr_assert_eq(d.has_post_state, r.has_post_state);
		cr_assert_eq(d.cumulative_gas, r.cumulative_gas);
		cr_assert_eq(d.nlogs, r.nlogs);
		cr_assert(memcmp(d.bloom, r.bloom, 256) == 0);
		for (size_t i = 0; i < d.nlogs; i++) {
			cr_assert(bloom_test(d.bloom, d.logs[i].addr, 20));
			cr_assert_eq(d.logs[i].ntopics, r.logs[i].ntopics);
			cr_assert_eq(d.logs[i].data_len, r.logs[i].data_len);
		}
		hostile(rt_receipt, enc, el);
		free(enc);
		receipt_free(&d);
		receipt_free(&r);
	}
	/* Status byte other than empty/0x01/32 bytes is refused. */
	uint8_t bad[] = {0xc4 + 0, 0x02, 0x80, 0x80, 0xc0};
	struct receipt d;
	cr_assert_neq(receipt_decode(&d, bad, sizeof bad), 0);
}

/* ---- header, block ----------------------------------------------------- */

static void sample_header(struct header *h, uint64_t number)
{
	memset(h, 0, sizeof *h);
	memset(h->parent_hash, 1, 32);
	memset(h->coinbase, 2, 20);
	memset(h->root, 3, 32);
	memcpy(h->tx_hash, core_empty_root, 32);
	memcpy(h->receipt_hash, core_empty_root, 32);
	memcpy(h->outgoing_receipt_hash, core_empty_root, 32);
	memcpy(h->incoming_receipt_hash, core_empty_root, 32);
	h->bloom[7] = 0x80;
	h->number = number;
	h->gas_limit = 30000000;
	h->gas_used = 21000;
	h->time = 1700000000;
	h->view_id = number + 3;
	h->epoch = number / 16;
	h->shard_id = 1;
	memset(h->last_commit_sig, 0x99, 96);
	h->last_commit_bitmap.len = 2;
	h->last_commit_bitmap.p = malloc(2);
	h->last_commit_bitmap.p[0] = 0xff;
	h->last_commit_bitmap.p[1] = 0x01;
	h->vrf.len = 128;
	h->vrf.p = calloc(1, 128);
	h->vrf.p[5] = 5;
}

Test(core_header, round_trip_hash_and_tag)
{
	struct header h, d;
	sample_header(&h, 1234);
	uint8_t *enc;
	size_t el;
	cr_assert_eq(header_encode(&h, &enc, &el), 0);
	uint8_t hh[32], k[32];
	cr_assert_eq(header_hash(&h, hh), 0);
	keccak256(enc, el, k);
	cr_assert(memcmp(hh, k, 32) == 0);
	/* The envelope: ["HmnyTgd", "v3", [24 items]]. */
	struct rlp_item it, inner;
	struct rlp_cursor c, f;
	const uint8_t *p;
	size_t n;
	cr_assert_eq(rlp_decode_one(enc, el, &it), 0);
	cr_assert_eq(rlp_enter(&it, &c), 0);
	cr_assert_eq(rlp_read_bytes(&c, &p, &n), 0);
	cr_assert(n == 7 && !memcmp(p, "HmnyTgd", 7));
	cr_assert_eq(rlp_read_bytes(&c, &p, &n), 0);
	cr_assert(n == 2 && !memcmp(p, "v3", 2));
	cr_assert_eq(rlp_next(&c, &inner), 0);
	cr_assert_eq(rlp_list_count(&inner, &n), 0);
	cr_assert_eq(n, 24);
	cr_assert_eq(rlp_enter(&inner, &f), 0);
	for (int i = 0; i < 8; i++)
		cr_assert_eq(rlp_next(&f, &it), 0);
	uint64_t num;
	cr_assert_eq(rlp_read_u64(&f, &num), 0);   /* field 9 is the number */
	cr_assert_eq(num, 1234);

	cr_assert_eq(header_decode(&d, enc, el), 0);
	cr_assert_eq(d.number, 1234);
	cr_assert_eq(d.view_id, 1237);
	cr_assert_eq(d.shard_id, 1);
	cr_assert_eq(d.vrf.len, 128);
	cr_assert_eq(d.last_commit_bitmap.len, 2);
	cr_assert(memcmp(d.last_commit_sig, h.last_commit_sig, 96) == 0);
	struct header cp;
	cr_assert_eq(header_copy(&cp, &d), 0);
	uint8_t h2[32];
	cr_assert_eq(header_hash(&cp, h2), 0);
	cr_assert(memcmp(h2, hh, 32) == 0);
	header_free(&cp);
	header_free(&d);
	hostile(rt_header, enc, el);

	/* Other tags and untagged lists are not v3 headers. */
	uint8_t *v2 = malloc(el);
	memcpy(v2, enc, el);
	uint8_t *tagpos = memmem(v2, el, "v3", 2);
	cr_assert_not_null(tagpos);
	tagpos[1] = '2';
	cr_assert_eq(header_decode(&d, v2, el), -CN_EUNSUPPORTED);
	free(v2);
	cr_assert_eq(header_decode(&d, inner.raw, inner.raw_len), -CN_EUNSUPPORTED);
	free(enc);
	header_free(&h);
}

static void load_harmony_txs(struct tx *txs, size_t n)
{
	json_t *j = tu_load_json("harmony-tx/harmony_transactions.json");
	json_t *arr = json_object_get(j, "transactions");
	for (size_t i = 0; i < n; i++) {
		size_t rl;
		uint8_t *raw = tu_hex(json_string_value(json_object_get(json_array_get(arr, i), "raw")), &rl);
		cr_assert_eq(tx_decode(&txs[i], raw, rl), 0);
		free(raw);
	}
	json_decref(j);
}

static void load_staking_txs(struct stx *stxs, size_t n)
{
	json_t *j = tu_load_json("harmony-tx/harmony_staking.json");
	json_t *arr = json_object_get(j, "staking");
	for (size_t i = 0; i < n; i++) {
		size_t rl;
		uint8_t *raw = tu_hex(json_string_value(json_object_get(json_array_get(arr, i), "raw")), &rl);
		cr_assert_eq(stx_decode(&stxs[i], raw, rl), 0);
		free(raw);
	}
	json_decref(j);
}

static void sample_proof(struct cx_receipts_proof *p)
{
	memset(p, 0, sizeof *p);
	p->nreceipts = 2;
	p->receipts = calloc(2, sizeof *p->receipts);
	for (int i = 0; i < 2; i++) {
		memset(p->receipts[i].tx_hash, 0xa0 + i, 32);
		memset(p->receipts[i].from, 0xb0 + i, 20);
		memset(p->receipts[i].to, 0xc0 + i, 20);
		p->receipts[i].shard_id = 0;
		p->receipts[i].to_shard_id = 1;
		p->receipts[i].amount = u256_from_u64(1000000000000000000ull + (uint64_t)i);
	}
	p->proof.block_num = 77;
	memset(p->proof.block_hash, 0x12, 32);
	cr_assert_eq(cx_outgoing_root(p->receipts, 2, p->proof.cx_receipt_hash), 0);
	p->proof.nshards = 1;
	p->proof.shard_ids = malloc(sizeof(uint32_t));
	p->proof.shard_ids[0] = 1;
	p->proof.shard_hashes = malloc(32);
	memset(p->proof.shard_hashes[0], 0x34, 32);
	sample_header(&p->header, 77);
	p->header.shard_id = 0;
	memset(p->commit_sig, 0x56, 96);
	p->commit_bitmap.len = 1;
	p->commit_bitmap.p = malloc(1);
	p->commit_bitmap.p[0] = 0x7f;
}

Test(core_block, round_trip_body_and_roots)
{
	struct block b;
	memset(&b, 0, sizeof b);
	sample_header(&b.header, 99);
	b.ntxs = 3;
	b.txs = calloc(3, sizeof *b.txs);
	load_harmony_txs(b.txs, 3);
	b.nstxs = 2;
	b.stxs = calloc(2, sizeof *b.stxs);
	load_staking_txs(b.stxs, 2);
	b.nincoming = 1;
	b.incoming = calloc(1, sizeof *b.incoming);
	sample_proof(&b.incoming[0]);
	cr_assert_eq(block_tx_root(&b, b.header.tx_hash), 0);
	cr_assert_eq(block_incoming_root(&b, b.header.incoming_receipt_hash), 0);
	cr_assert(memcmp(b.header.tx_hash, core_empty_root, 32) != 0);
	{
		/* Same root as the trie's own list root (checked against
		 * ethereumjs) over plain then staking encodings, one index run. */
		struct trie_blob items[5];
		uint8_t *bufs[5];
		size_t lens[5];
		for (size_t i = 0; i < 5; i++) {
			if (i < 3)
				cr_assert_eq(tx_encode(&b.txs[i], &bufs[i], &lens[i]), 0);
			else
				cr_assert_eq(stx_encode(&b.stxs[i - 3], &bufs[i], &lens[i]), 0);
			items[i] = (struct trie_blob){bufs[i], lens[i]};
		}
		uint8_t lr[32];
		cr_assert_eq(trie_list_root(items, 5, lr), 0);
		cr_assert(memcmp(lr, b.header.tx_hash, 32) == 0);
		for (size_t i = 0; i < 5; i++)
			free(bufs[i]);
	}

	uint8_t *enc;
	size_t el;
	cr_assert_eq(block_encode(&b, &enc, &el), 0);
	struct block d;
	cr_assert_eq(block_decode(&d, enc, el), 0);
	cr_assert_eq(d.ntxs, 3);
	cr_assert_eq(d.nstxs, 2);
	cr_assert_eq(d.nincoming, 1);
	cr_assert_eq(d.incoming[0].nreceipts, 2);
	cr_assert_eq(d.incoming[0].proof.block_num, 77);
	uint8_t r1[32], r2[32];
	cr_assert_eq(block_tx_root(&d, r1), 0);
	cr_assert(memcmp(r1, b.header.tx_hash, 32) == 0);
	cr_assert_eq(header_hash(&d.header, r1), 0);
	cr_assert_eq(header_hash(&b.header, r2), 0);
	cr_assert(memcmp(r1, r2, 32) == 0);
	block_free(&d);
	hostile(rt_block, enc, el);

	/* Body alone, then put back under the header. */
	uint8_t *body;
	size_t bl;
	cr_assert_eq(block_body_encode(&b, &body, &bl), 0);
	struct block e;
	memset(&e, 0, sizeof e);
	cr_assert_eq(header_copy(&e.header, &b.header), 0);
	cr_assert_eq(block_body_decode(&e, body, bl), 0);
	uint8_t *enc2;
	size_t el2;
	cr_assert_eq(block_encode(&e, &enc2, &el2), 0);
	cr_assert(el2 == el && memcmp(enc2, enc, el) == 0);
	free(enc2);
	free(body);
	block_free(&e);

	/* A block carrying an Ethereum-form tx: the encoder will not write one,
	 * and a hand-built one does not decode. */
	struct tx saved = b.txs[0];
	b.txs[0].type = TX_LEGACY;
	uint8_t *bad;
	size_t badl;
	cr_assert_eq(block_encode(&b, &bad, &badl), -CN_EUNSUPPORTED);
	uint8_t *legacy_raw, *hdr;
	size_t lrl, hl;
	cr_assert_eq(tx_encode(&b.txs[0], &legacy_raw, &lrl), 0);   /* 9-field list */
	b.txs[0] = saved;
	cr_assert_eq(header_encode(&b.header, &hdr, &hl), 0);
	struct rlp_enc w;
	rlp_enc_init(&w);
	rlp_list_begin(&w);
	rlp_put_bytes(&w, "HmnyTgd", 7);
	rlp_put_bytes(&w, "v2", 2);
	rlp_list_begin(&w);
	rlp_put_raw(&w, hdr, hl);
	rlp_list_begin(&w);
	rlp_put_raw(&w, legacy_raw, lrl);
	rlp_list_end(&w);
	for (int i = 0; i < 3; i++) {
		rlp_list_begin(&w);
		rlp_list_end(&w);
	}
	rlp_list_end(&w);
	rlp_list_end(&w);
	cr_assert_eq(rlp_enc_finish(&w, &bad, &badl), 0);
	rlp_enc_free(&w);
	cr_assert_eq(block_decode(&d, bad, badl), -CN_EINVAL);
	free(bad);
	free(hdr);
	free(legacy_raw);
	free(enc);
	block_free(&b);
}

Test(core_block, empty_block_roots)
{
	struct block b;
	memset(&b, 0, sizeof b);
	uint8_t r[32], k[32];
	cr_assert_eq(block_tx_root(&b, r), 0);
	keccak256("\x80", 1, k);
	cr_assert(memcmp(r, k, 32) == 0);
	cr_assert(memcmp(r, core_empty_root, 32) == 0);
	cr_assert_eq(block_incoming_root(&b, r), 0);
	cr_assert(memcmp(r, core_empty_root, 32) == 0);
	cr_assert_eq(receipts_root(NULL, 0, r), 0);
	cr_assert(memcmp(r, core_empty_root, 32) == 0);
	cr_assert_eq(cx_outgoing_root(NULL, 0, r), 0);
	cr_assert(memcmp(r, core_empty_root, 32) == 0);
}

/* A one-item trie is a single leaf [hp(key nibbles), value] — built here by
 * hand, independently of the trie code: key rlp(0) = 0x80 gives nibbles 8,0,
 * hex-prefix for an even leaf = 0x20 0x80. */
Test(core_roots, single_item_derive_sha_by_hand)
{
	struct tx tx;
	load_harmony_txs(&tx, 1);
	uint8_t *raw;
	size_t rl;
	cr_assert_eq(tx_encode(&tx, &raw, &rl), 0);
	struct rlp_enc e;
	rlp_enc_init(&e);
	rlp_list_begin(&e);
	rlp_put_bytes(&e, "\x20\x80", 2);
	rlp_put_bytes(&e, raw, rl);
	rlp_list_end(&e);
	uint8_t *leaf;
	size_t ll;
	cr_assert_eq(rlp_enc_finish(&e, &leaf, &ll), 0);
	rlp_enc_free(&e);
	uint8_t want[32], got[32];
	keccak256(leaf, ll, want);
	struct block b = {.txs = &tx, .ntxs = 1};
	cr_assert_eq(block_tx_root(&b, got), 0);
	cr_assert(memcmp(got, want, 32) == 0);
	const uint8_t *items[1] = {raw};
	cr_assert_eq(core_derive_sha(items, &rl, 1, got), 0);
	cr_assert(memcmp(got, want, 32) == 0);

	/* Outgoing CX root of one receipt: keccak(be32(shard) || that leaf root). */
	struct cx_receipt c = {.to_shard_id = 3, .amount = u256_from_u64(5)};
	uint8_t *cenc;
	size_t cl;
	cr_assert_eq(cx_receipt_encode(&c, &cenc, &cl), 0);
	rlp_enc_init(&e);
	rlp_list_begin(&e);
	rlp_put_bytes(&e, "\x20\x80", 2);
	rlp_put_bytes(&e, cenc, cl);
	rlp_list_end(&e);
	free(leaf);
	cr_assert_eq(rlp_enc_finish(&e, &leaf, &ll), 0);
	rlp_enc_free(&e);
	uint8_t cat[36];
	store_be32(cat, 3);
	keccak256(leaf, ll, cat + 4);
	keccak256(cat, 36, want);
	cr_assert_eq(cx_outgoing_root(&c, 1, got), 0);
	cr_assert(memcmp(got, want, 32) == 0);
	free(leaf);
	free(cenc);
	free(raw);
	tx_free(&tx);
}

/* ---- CX, crosslinks, shard state --------------------------------------- */

Test(core_cx, receipts_and_proofs)
{
	struct cx_receipts_proof p;
	sample_proof(&p);
	uint8_t *enc;
	size_t el;
	cr_assert_eq(cx_receipt_encode(&p.receipts[0], &enc, &el), 0);
	hostile(rt_cx, enc, el);
	free(enc);
	cr_assert_eq(cx_receipts_proof_encode(&p, &enc, &el), 0);
	hostile(rt_cxp, enc, el);
	struct cx_receipts_proof d;
	cr_assert_eq(cx_receipts_proof_decode(&d, enc, el), 0);
	cr_assert(u256_eq(&d.receipts[1].amount, &p.receipts[1].amount));
	cr_assert_eq(d.proof.shard_ids[0], 1);
	cr_assert_eq(d.header.number, 77);
	cx_receipts_proof_free(&d);
	free(enc);
	cx_receipts_proof_free(&p);
}

Test(core_crosslink, round_trip_and_order)
{
	struct crosslink c[3];
	memset(c, 0, sizeof c);
	for (int i = 0; i < 3; i++) {
		memset(c[i].hash, i + 1, 32);
		c[i].shard_id = 1 + (uint32_t)(i == 2);
		c[i].block_number = 100 + (uint64_t)i;
		c[i].view_id = 200 + (uint64_t)i;
		c[i].epoch = 5;
		memset(c[i].signature, 0x5a, 96);
		c[i].bitmap.len = 3;
		c[i].bitmap.p = calloc(1, 3);
	}
	cr_assert_lt(crosslink_cmp(&c[0], &c[1]), 0);
	cr_assert_lt(crosslink_cmp(&c[1], &c[2]), 0);
	cr_assert_eq(crosslink_cmp(&c[1], &c[1]), 0);
	uint8_t *enc;
	size_t el;
	cr_assert_eq(crosslink_encode(&c[0], &enc, &el), 0);
	hostile(rt_cl, enc, el);
	free(enc);
	cr_assert_eq(crosslinks_encode(c, 3, &enc, &el), 0);
	struct crosslink *d;
	size_t n;
	cr_assert_eq(crosslinks_decode(&d, &n, enc, el), 0);
	cr_assert_eq(n, 3);
	cr_assert_eq(d[2].shard_id, 2);
	cr_assert_eq(d[1].view_id, 201);
	crosslinks_free(d, n);
	cr_assert_neq(crosslinks_decode(&d, &n, enc, el - 1), 0);
	free(enc);
	for (int i = 0; i < 3; i++)
		crosslink_free(&c[i]);
}

Test(core_shard_state, staking_and_legacy_forms)
{
	for (int legacy = 0; legacy < 2; legacy++) {
		struct shard_state s = {.legacy = legacy, .epoch = legacy ? 0 : 42};
		s.ncommittees = 2;
		s.committees = calloc(2, sizeof *s.committees);
		for (uint32_t i = 0; i < 2; i++) {
			s.committees[i].shard_id = i;
			s.committees[i].nslots = 3;
			s.committees[i].slots = calloc(3, sizeof(struct shard_slot));
			for (int k = 0; k < 3; k++) {
				struct shard_slot *sl = &s.committees[i].slots[k];
				memset(sl->addr, 0x20 + k, 20);
				memset(sl->bls_key, 0x30 + k, 48);
				if (!legacy && k > 0) {
					sl->has_stake = 1;
					sl->stake = u256_from_u64(1000000000000000000ull * (uint64_t)k);
				}
			}
		}
		uint8_t *enc;
		size_t el;
		cr_assert_eq(shard_state_encode(&s, &enc, &el), 0);
		struct shard_state d;
		cr_assert_eq(shard_state_decode(&d, enc, el), 0);
		cr_assert_eq(d.legacy, legacy);
		cr_assert_eq(d.epoch, s.epoch);
		const struct shard_committee *cm = shard_state_find(&d, 1);
		cr_assert_not_null(cm);
		cr_assert_eq(cm->nslots, 3);
		cr_assert_eq(cm->slots[2].has_stake, !legacy);
		cr_assert_null(shard_state_find(&d, 7));
		shard_state_free(&d);
		hostile(rt_ss, enc, el);
		free(enc);
		shard_state_free(&s);
	}
}

/* ---- network parameters ------------------------------------------------ */

Test(core_netparams, chain_ids_and_epochs)
{
	const struct netparams *m, *t, *p, *l;
	cr_assert_eq(netparams_get("mainnet", &m), 0);
	cr_assert_eq(netparams_get("testnet", &t), 0);
	cr_assert_eq(netparams_get("partner", &p), 0);
	cr_assert_eq(netparams_get("localnet", &l), 0);
	cr_assert_eq(netparams_get("devnet-x", &l), -CN_ENOTFOUND);
	cr_assert_eq(netparams_get("localnet", &l), 0);
	cr_assert_eq(m->chain_id, 1);
	cr_assert_eq(t->chain_id, 2);
	cr_assert_eq(p->chain_id, 4);
	cr_assert_eq(l->chain_id, 2);
	cr_assert_eq(netparams_eth_chain_id(m, 1), 1666600001);
	cr_assert_eq(netparams_eth_chain_id(t, 0), 1666700000);
	cr_assert_eq(netparams_eth_chain_id(p, 1), 1666900001);
	cr_assert_eq(netparams_eth_chain_id(l, 1), 1666700001);
	cr_assert_eq(m->blocks_per_epoch, 32768);
	cr_assert_eq(t->blocks_per_epoch, 8192);
	cr_assert_lt(l->blocks_per_epoch, 100);
	cr_assert_eq(m->min_gas_price, 100000000000ull);
	cr_assert_eq(m->block_gas_limit, 30000000);
	cr_assert_eq(m->block_time_ms, 2000);
	cr_assert(netparams_accepts_chain_id(m, 1, 1));
	cr_assert(netparams_accepts_chain_id(m, 1, 1666600001));
	cr_assert_not(netparams_accepts_chain_id(m, 1, 1666600000));
	cr_assert_not(netparams_accepts_chain_id(m, 0, 2));
	cr_assert_eq(netparams_epoch_of(m, 32767), 0);
	cr_assert_eq(netparams_epoch_of(m, 32768), 1);
}

/* ---- transactions: hostile encodings ----------------------------------- */

static int rt_tx(const uint8_t *raw, size_t len, uint8_t **out, size_t *out_len)
{
	struct tx t;
	int rc = tx_decode(&t, raw, len);
	if (rc)
		return rc;
	rc = tx_encode(&t, out, out_len);
	tx_free(&t);
	return rc;
}

static int rt_stx(const uint8_t *raw, size_t len, uint8_t **out, size_t *out_len)
{
	struct stx t;
	int rc = stx_decode(&t, raw, len);
	if (rc)
		return rc;
	rc = stx_encode(&t, out, out_len);
	stx_free(&t);
	return rc;
}

Test(core_tx, hostile_variants_of_vectors)
{
	json_t *j = tu_load_json("tx/ethers_transactions.json");
	json_t *arr = json_object_get(j, "transactions");
	for (size_t i = 0; i < json_array_size(arr); i += 9) {
		size_t rl;
		uint8_t *raw = tu_hex(json_string_value(json_object_get(json_array_get(arr, i), "raw")), &rl);
		hostile(rt_tx, raw, rl);
		free(raw);
	}
	json_decref(j);
	j = tu_load_json("harmony-tx/harmony_staking.json");
	arr = json_object_get(j, "staking");
	for (size_t i = 0; i < json_array_size(arr); i += 3) {
		size_t rl;
		uint8_t *raw = tu_hex(json_string_value(json_object_get(json_array_get(arr, i), "raw")), &rl);
		hostile(rt_stx, raw, rl);
		free(raw);
	}
	json_decref(j);

	/* Non-canonical integer (leading zero nonce) and bad v are refused. */
	struct tx t;
	uint8_t lz[] = {0xcb, 0x81, 0x00, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x1b, 0x01, 0x01};
	cr_assert_neq(tx_decode(&t, lz, sizeof lz), 0);
	uint8_t badv[] = {0xc9, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x1d, 0x01, 0x01};
	cr_assert_eq(tx_decode(&t, badv, sizeof badv), -CN_EINVAL);
	uint8_t okv[] = {0xc9, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x1b, 0x01, 0x01};
	cr_assert_eq(tx_decode(&t, okv, sizeof okv), 0);
	cr_assert_eq(t.chain_id, 0);
	tx_free(&t);
	uint8_t typ3[] = {0x03, 0xc0};
	cr_assert_eq(tx_decode(&t, typ3, sizeof typ3), -CN_EUNSUPPORTED);
	uint8_t big[TX_MAX_SIZE + 1];
	memset(big, 0xc0, sizeof big);
	cr_assert_eq(tx_decode(&t, big, sizeof big), -CN_ELIMIT);
}
