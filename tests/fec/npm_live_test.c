/* Live interop with npm raptorq 1.7.24 (WASM build of cberner/raptorq), run
 * through tests/clients/raptorq_interop.mjs: packets from canon's encoder
 * decode with the npm decoder and packets from the npm encoder decode with
 * canon's, for objects of 1 byte to 4 MiB at MTU 1280 and 1400, under loss
 * (random sources dropped), repair-only delivery, reordering and duplicates.
 *
 * The package numbers repair symbols from K' (its ISI) where RFC 6330 uses K;
 * this harness, not canon, translates repair ESIs by K' - K in each direction.
 * A separate test shows that without the translation the two disagree
 * exactly when K != K'. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/err.h"
#include "fec/raptorq.h"
#include "testutil.h"

#define NODE_SCRIPT "tests/clients/raptorq_interop.mjs"

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint32_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state >> 16);
}

struct pset {
	uint8_t *buf;
	size_t n, cap, plen;
};

static void pset_add(struct pset *s, const uint8_t *p)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 64;
		s->buf = realloc(s->buf, s->cap * s->plen);
		cr_assert(s->buf);
	}
	memcpy(s->buf + s->n++ * s->plen, p, s->plen);
}

static void pset_shuffle(struct pset *s)
{
	uint8_t *tmp = malloc(s->plen);
	for (size_t i = s->n; i > 1; i--) {
		size_t j = rnd() % i;
		memcpy(tmp, s->buf + (i - 1) * s->plen, s->plen);
		memcpy(s->buf + (i - 1) * s->plen, s->buf + j * s->plen, s->plen);
		memcpy(s->buf + j * s->plen, tmp, s->plen);
	}
	free(tmp);
}

static void pset_write(const struct pset *s, const char *path)
{
	FILE *f = fopen(path, "wb");
	cr_assert(f, "cannot write %s", path);
	for (size_t i = 0; i < s->n; i++) {
		uint8_t l[4] = {(uint8_t)(s->plen >> 24), (uint8_t)(s->plen >> 16), (uint8_t)(s->plen >> 8),
				(uint8_t)s->plen};
		cr_assert_eq(fwrite(l, 1, 4, f), 4);
		cr_assert_eq(fwrite(s->buf + i * s->plen, 1, s->plen, f), s->plen);
	}
	fclose(f);
}

static void pset_read(struct pset *s, const char *path)
{
	size_t len;
	uint8_t *b = tu_read_file(path, &len);
	for (size_t off = 0; off < len;) {
		cr_assert(off + 4 <= len);
		size_t n = (size_t)b[off] << 24 | (size_t)b[off + 1] << 16 | (size_t)b[off + 2] << 8 | b[off + 3];
		cr_assert_eq(n, s->plen, "npm packet length %zu", n);
		cr_assert(off + 4 + n <= len);
		pset_add(s, b + off + 4);
		off += 4 + n;
	}
	free(b);
}

static void set_esi(uint8_t *p, uint32_t esi)
{
	rq_payload_id_write(p, p[0], esi);
}

/* Decodes a packet set with canon; 1 if the object came back intact. */
static int canon_decode(const struct rq_oti *oti, const struct pset *s, const uint8_t *data)
{
	/* the cap is the decoder's own bound: real decodes must fit in it */
	uint64_t bound;
	cr_assert_eq(rq_decoder_memory(oti, &bound), 0);
	struct rq_decoder *d;
	cr_assert_eq(rq_decoder_new(oti, bound, &d), 0);
	for (size_t i = 0; i < s->n; i++)
		cr_assert_eq(rq_decoder_push(d, s->buf + i * s->plen, s->plen), 0);
	int ok = 0;
	if (rq_decoder_complete(d)) {
		const uint8_t *out;
		uint64_t len;
		cr_assert_eq(rq_decoder_object(d, &out, &len), 0);
		ok = len == oti->f && memcmp(out, data, len) == 0;
	}
	rq_decoder_free(d);
	return ok;
}

struct stats {
	size_t cases, c2n_decodes, n2c_decodes, npm_packets, symbols_cmp, kk_equal, kk_differ;
};

/* translated: check the three loss patterns with ESIs translated by the
 * harness; otherwise check only the untranslated sets and symbols. */
static void run_case(const char *tmp, uint64_t len, uint16_t mtu, struct stats *st, int translated)
{
	char path[512], job[512], cmd[1200];
	uint8_t *data = malloc(len);
	for (uint64_t i = 0; i < len; i++)
		data[i] = (uint8_t)rnd();
	snprintf(path, sizeof path, "%s/data.bin", tmp);
	FILE *f = fopen(path, "wb");
	cr_assert(f);
	cr_assert_eq(fwrite(data, 1, len, f), len);
	fclose(f);

	struct rq_oti oti;
	cr_assert_eq(rq_oti_defaults(len, mtu, 10u << 20, &oti), 0);
	const size_t plen = RQ_PAYLOAD_ID_LEN + oti.t;
	struct rq_encoder *enc;
	cr_assert_eq(rq_encoder_new(data, &oti, NULL, &enc), 0);
	uint8_t *pkt = malloc(plen);
	int all_kk = 1; /* K == K' in every block */
	uint32_t kmax = 0;
	for (unsigned b = 0; b < oti.z; b++) {
		uint32_t k = rq_block_k(&oti, b);
		all_kk &= rq_kprime(k) == k;
		kmax = k > kmax ? k : kmax;
	}

	/* ---- canon -> npm: four packet files ---- */
	struct pset sets[4] = {{.plen = plen}, {.plen = plen}, {.plen = plen}, {.plen = plen}};
	for (unsigned b = 0; b < oti.z; b++) {
		uint32_t k = rq_block_k(&oti, b), off = rq_kprime(k) - k;
		/* 0: ~20% of sources dropped at random, as many repair + 2 */
		uint32_t dropped = 0;
		for (uint32_t j = 0; j < k; j++) {
			if (rnd() % 5 == 0 || k == 1) {
				dropped++;
				continue;
			}
			cr_assert_eq(rq_encoder_packet(enc, (uint8_t)b, j, pkt), 0);
			pset_add(&sets[0], pkt);
		}
		for (uint32_t j = 0; j < dropped + 2; j++) {
			cr_assert_eq(rq_encoder_packet(enc, (uint8_t)b, k + j, pkt), 0);
			set_esi(pkt, k + j + off);
			pset_add(&sets[0], pkt);
		}
		/* 1: repair only (K + 3), 3: the same untranslated */
		for (uint32_t j = 0; j < k + 3; j++) {
			cr_assert_eq(rq_encoder_packet(enc, (uint8_t)b, k + 50 + j, pkt), 0);
			pset_add(&sets[3], pkt);
			set_esi(pkt, k + 50 + j + off);
			pset_add(&sets[1], pkt);
		}
		/* 2: everything reordered, every third packet duplicated */
		for (uint32_t j = 0; j < k + 2; j++) {
			cr_assert_eq(rq_encoder_packet(enc, (uint8_t)b, j, pkt), 0);
			if (j >= k)
				set_esi(pkt, j + off);
			pset_add(&sets[2], pkt);
			if (j % 3 == 0)
				pset_add(&sets[2], pkt);
		}
	}
	for (int i = 0; i < 4; i++) {
		pset_shuffle(&sets[i]);
		snprintf(path, sizeof path, "%s/c2n_%d.bin", tmp, i);
		pset_write(&sets[i], path);
	}

	/* ---- one node run: npm decodes ours, npm encodes its own ---- */
	snprintf(job, sizeof job, "%s/job.json", tmp);
	f = fopen(job, "w");
	cr_assert(f);
	fprintf(f, "{\"tasks\":[");
	for (int i = 0; i < 4; i++)
		fprintf(f, "{\"op\":\"decode\",\"len\":%llu,\"mtu\":%u,\"in\":\"%s/c2n_%d.bin\",\"out\":\"%s/c2n_%d.out\"},",
			(unsigned long long)len, mtu, tmp, i, tmp, i);
	fprintf(f, "{\"op\":\"encode\",\"data\":\"%s/data.bin\",\"mtu\":%u,\"repair\":%u,\"out\":\"%s/n2c.bin\"}]}",
		tmp, mtu, kmax + 5, tmp);
	fclose(f);
	snprintf(cmd, sizeof cmd, "node %s %s", NODE_SCRIPT, job);
	FILE *p = popen(cmd, "r");
	cr_assert(p, "cannot run node");
	char out[4096];
	size_t got = fread(out, 1, sizeof out - 1, p);
	out[got] = 0;
	cr_assert_eq(pclose(p), 0, "node failed: %s", out);
	json_error_t jerr;
	json_t *res = json_loads(out, 0, &jerr);
	cr_assert(json_is_array(res) && json_array_size(res) == 5, "node said: %s", out);

	for (int i = 0; i < 4; i++) {
		json_t *r = json_array_get(res, (size_t)i);
		int ok = json_is_true(json_object_get(r, "ok"));
		if (ok) {
			size_t olen;
			snprintf(path, sizeof path, "%s/c2n_%d.out", tmp, i);
			uint8_t *o = tu_read_file(path, &olen);
			ok = olen == len && memcmp(o, data, len) == 0;
			free(o);
			unlink(path);
		}
		if (i < 3 && translated) {
			cr_assert(ok, "len %llu mtu %u: npm failed to decode canon set %d", (unsigned long long)len,
				  mtu, i);
			st->c2n_decodes++;
		} else if (i == 3 && !translated) {
			cr_assert_eq(ok, all_kk, "len %llu mtu %u: untranslated canon repair %s",
				     (unsigned long long)len, mtu, ok ? "decoded" : "failed");
			st->c2n_decodes++;
		}
		free(sets[i].buf);
	}

	/* ---- npm -> canon ---- */
	struct pset npm = {.plen = plen};
	snprintf(path, sizeof path, "%s/n2c.bin", tmp);
	pset_read(&npm, path);
	st->npm_packets += npm.n;
	struct pset in[4] = {{.plen = plen}, {.plen = plen}, {.plen = plen}, {.plen = plen}};
	size_t mism = 0, cmp = 0;
	uint8_t *mine = malloc(plen);
	for (size_t i = 0; i < npm.n; i++) {
		uint8_t *q = npm.buf + i * plen, sbn;
		uint32_t esi;
		rq_payload_id_read(q, &sbn, &esi);
		cr_assert(sbn < oti.z);
		uint32_t k = rq_block_k(&oti, sbn), off = rq_kprime(k) - k;
		if (esi < k) {
			/* sources: byte-identical packets */
			cr_assert_eq(rq_encoder_packet(enc, sbn, esi, mine), 0);
			cr_assert(memcmp(mine, q, plen) == 0, "source sbn %u esi %u", sbn, esi);
			if (rnd() % 5 != 0 || k == 1)
				pset_add(&in[0], q);
			pset_add(&in[2], q);
			if (esi % 3 == 0)
				pset_add(&in[2], q);
			continue;
		}
		cr_assert(esi >= k + off, "npm repair ESI %u below K' = %u", esi, k + off);
		/* the same symbol at the RFC ESI, and at the untranslated one only if K == K' */
		cr_assert_eq(rq_encoder_packet(enc, sbn, esi - off, mine), 0);
		cr_assert(memcmp(mine + 4, q + 4, oti.t) == 0, "repair sbn %u esi %u", sbn, esi);
		cr_assert_eq(rq_encoder_packet(enc, sbn, esi, mine), 0);
		mism += memcmp(mine + 4, q + 4, oti.t) != 0;
		cmp++;
		pset_add(&in[3], q);
		memcpy(mine, q, plen);
		set_esi(mine, esi - off);
		pset_add(&in[0], mine);
		pset_add(&in[1], mine);
		if (esi - off < k + 2)
			pset_add(&in[2], mine);
	}
	st->symbols_cmp += cmp;
	if (!translated && all_kk) {
		cr_assert_eq(mism, 0);
		st->kk_equal++;
	} else if (!translated) {
		cr_assert(mism > 0, "len %llu: untranslated ESIs agree though K != K'", (unsigned long long)len);
		st->kk_differ++;
	}
	for (int i = 0; i < 4; i++) {
		if ((i < 3) == (translated != 0)) {
			pset_shuffle(&in[i]);
			int ok = canon_decode(&oti, &in[i], data);
			if (i < 3)
				cr_assert(ok, "len %llu mtu %u: canon failed to decode npm set %d",
					  (unsigned long long)len, mtu, i);
			else
				cr_assert_eq(ok, all_kk, "len %llu mtu %u: untranslated npm repair %s",
					     (unsigned long long)len, mtu, ok ? "decoded" : "failed");
			st->n2c_decodes++;
		}
		free(in[i].buf);
	}
	free(npm.buf);
	free(mine);
	json_decref(res);
	free(pkt);
	rq_encoder_free(enc);
	free(data);
	st->cases++;
}

static void live(const uint64_t *lens, size_t nlens, int translated, struct stats *st)
{
	struct stat sb;
	cr_assert(stat("tests/clients/node_modules/raptorq/raptorq_bg.wasm", &sb) == 0,
		  "npm raptorq missing: run scripts/deps.sh (npm ci in tests/clients)");
	char tmp[] = "/tmp/canon-rq-XXXXXX";
	cr_assert(mkdtemp(tmp));
	const uint16_t mtus[] = {1280, 1400};
	for (size_t i = 0; i < nlens; i++)
		for (size_t m = 0; m < 2; m++)
			run_case(tmp, lens[i], mtus[m], st, translated);
	char cmd[600];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
	cr_assert_eq(system(cmd), 0);
}

Test(fec_npm_live, both_directions)
{
	const uint64_t lens[] = {1, 1000, 1280, 1281, 12800, 16800, 65537, 1000003, 4u << 20};
	struct stats st = {0};
	live(lens, sizeof lens / sizeof lens[0], 1, &st);
	fprintf(stderr,
		"fec npm live: %zu cases, npm decoded %zu canon packet sets, canon decoded %zu npm sets "
		"(%zu npm packets, %zu repair symbols compared at translated ESIs)\n",
		st.cases, st.c2n_decodes, st.n2c_decodes, st.npm_packets, st.symbols_cmp);
	tu_report("raptorq npm live cases", st.cases);
}

/* Without the K' - K translation canon and the package agree exactly when
 * K == K' (12800 B at either MTU has K = K' = 10, 16800 B at MTU 1400 has
 * K = K' = 12): repair symbols at the same ESI field, and repair-only decodes
 * in both directions. */
Test(fec_npm_live, esi_translation_needed)
{
	const uint64_t lens[] = {1, 1000, 12800, 16800, 65537};
	struct stats st = {0};
	live(lens, sizeof lens / sizeof lens[0], 0, &st);
	cr_assert(st.kk_equal >= 3 && st.kk_differ >= 5);
	fprintf(stderr,
		"fec npm live untranslated: %zu cases; ESIs agree in all %zu K=K' cases and disagree in "
		"all %zu K!=K' cases (symbols and repair-only decodes both ways)\n",
		st.cases, st.kk_equal, st.kk_differ);
	tu_report("raptorq npm untranslated-ESI cases", st.cases);
}
