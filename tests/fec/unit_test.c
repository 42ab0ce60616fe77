/* RaptorQ unit tests: the compiled RFC 6330 tables against the TSV files, the
 * GF(256) SIMD paths against the portable one, OTI parsing and limits, block
 * encode/decode round trips and the decoder's memory cap. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "fec/gf256.h"
#include "fec/raptorq.h"
#include "fec/rq_internal.h"
#include "fec/rq_tables.h"
#include "testutil.h"

/* Reads a TSV of unsigned integers (header line skipped) into rows. */
static size_t read_tsv(const char *rel, int ncol, uint64_t *out, size_t max_rows)
{
	FILE *f = fopen(tu_testdata(rel), "r");
	cr_assert(f, "cannot open %s", rel);
	char line[512];
	cr_assert(fgets(line, sizeof line, f));
	size_t n = 0;
	while (fgets(line, sizeof line, f)) {
		if (line[0] == '\n' || line[0] == 0)
			continue;
		cr_assert(n < max_rows);
		char *p = line;
		for (int c = 0; c < ncol; c++) {
			char *end;
			out[n * ncol + c] = strtoull(p, &end, 10);
			cr_assert(end != p, "%s row %zu", rel, n);
			p = end;
		}
		n++;
	}
	fclose(f);
	return n;
}

Test(fec_tables, match_tsv)
{
	static uint64_t rows[600 * 5];
	size_t n = read_tsv("raptorq/rfc6330/systematic_indices.tsv", 5, rows, 600);
	cr_assert_eq(n, RQ_SYSIDX_ROWS);
	for (size_t i = 0; i < n; i++) {
		const struct rq_sysidx *e = &rq_sysidx_table[i];
		cr_assert_eq(e->kp, rows[i * 5 + 0]);
		cr_assert_eq(e->j, rows[i * 5 + 1]);
		cr_assert_eq(e->s, rows[i * 5 + 2]);
		cr_assert_eq(e->h, rows[i * 5 + 3]);
		cr_assert_eq(e->w, rows[i * 5 + 4]);
	}
	size_t total = n;
	n = read_tsv("raptorq/rfc6330/rand_V.tsv", 5, rows, 600);
	cr_assert_eq(n, 256);
	for (size_t i = 0; i < n; i++) {
		cr_assert_eq(rows[i * 5], i);
		cr_assert_eq(rq_v0[i], rows[i * 5 + 1]);
		cr_assert_eq(rq_v1[i], rows[i * 5 + 2]);
		cr_assert_eq(rq_v2[i], rows[i * 5 + 3]);
		cr_assert_eq(rq_v3[i], rows[i * 5 + 4]);
	}
	total += n;
	n = read_tsv("raptorq/rfc6330/oct_exp.tsv", 2, rows, 600);
	cr_assert_eq(n, 510);
	for (size_t i = 0; i < n; i++)
		cr_assert_eq(rq_oct_exp[rows[i * 2]], rows[i * 2 + 1]);
	total += n;
	n = read_tsv("raptorq/rfc6330/oct_log.tsv", 2, rows, 600);
	cr_assert_eq(n, 255);
	for (size_t i = 0; i < n; i++)
		cr_assert_eq(rq_oct_log[rows[i * 2]], rows[i * 2 + 1]);
	total += n;
	tu_report("raptorq/rfc6330 table rows", total);
}

Test(fec_tables, params)
{
	struct rq_params pr;
	cr_assert_eq(rq_params_get(10, &pr), 0);
	cr_assert_eq(pr.l, 27);
	cr_assert_eq(pr.p, 10);
	cr_assert_eq(pr.p1, 11);
	cr_assert_eq(rq_params_get(11, &pr), -CN_EINVAL);
	cr_assert_eq(rq_kprime(1), 10);
	cr_assert_eq(rq_kprime(10), 10);
	cr_assert_eq(rq_kprime(11), 12);
	cr_assert_eq(rq_kprime(56403), 56403);
	cr_assert_eq(rq_kprime(56404), 0);
	cr_assert_eq(rq_kprime(0), 0);
}

/* ---- GF(256) ----------------------------------------------------------------- */

static uint8_t slow_mul(uint8_t a, uint8_t b)
{
	unsigned r = 0, x = a;
	for (int i = 0; i < 8; i++) {
		if (b >> i & 1)
			r ^= x;
		x <<= 1;
		if (x & 0x100)
			x ^= 0x11d;
	}
	return (uint8_t)r;
}

Test(fec_gf, mul_div)
{
	for (unsigned a = 0; a < 256; a++)
		for (unsigned b = 0; b < 256; b++) {
			cr_assert_eq(rq_gf_mul((uint8_t)a, (uint8_t)b), slow_mul((uint8_t)a, (uint8_t)b));
			if (b)
				cr_assert_eq(rq_gf_mul(rq_gf_div((uint8_t)a, (uint8_t)b), (uint8_t)b), a);
		}
}

Test(fec_gf, simd_matches_portable)
{
	enum rq_gf_impl impls[] = {RQ_GF_PORTABLE, RQ_GF_SSSE3, RQ_GF_AVX2};
	const char *names[] = {"portable", "ssse3", "avx2"};
	uint8_t src[1112], base[1112], ref[1112], got[1112];
	uint32_t x = 12345;
	for (size_t i = 0; i < sizeof src; i++) {
		x = x * 1103515245 + 12345;
		src[i] = (uint8_t)(x >> 16);
		x = x * 1103515245 + 12345;
		base[i] = (uint8_t)(x >> 16);
	}
	size_t checked = 0;
	for (int im = 1; im < 3; im++) {
		if (!rq_gf_supported(impls[im])) {
			fprintf(stderr, "fec gf: %s not supported here, skipped\n", names[im]);
			continue;
		}
		const size_t lens[] = {0, 1, 15, 16, 17, 31, 32, 33, 63, 64, 100, 1024, 1099};
		for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++) {
			size_t n = lens[li];
			for (unsigned c = 0; c < 256; c++) {
				for (int op = 0; op < 4; op++) {
					/* odd offsets exercise unaligned loads */
					memcpy(ref, base, sizeof ref);
					memcpy(got, base, sizeof got);
					cr_assert_eq(rq_gf_select(RQ_GF_PORTABLE), RQ_GF_PORTABLE);
					/* xor_many over 1 + c % 7 sources at staggered offsets */
					const uint8_t *many[7];
					unsigned nm = 1 + c % 7;
					for (unsigned q = 0; q < nm; q++)
						many[q] = q % 2 ? base + q : src + q;
					if (op == 0)
						rq_gf_muladd(ref + 1, src + 3, (uint8_t)c, n);
					else if (op == 1)
						rq_gf_scale(ref + 1, (uint8_t)c, n);
					else if (op == 2)
						rq_gf_add(ref + 1, src + 3, n);
					else
						rq_gf_xor_many(ref + 1, many, nm, n);
					cr_assert_eq(rq_gf_select(impls[im]), impls[im]);
					if (op == 0)
						rq_gf_muladd(got + 1, src + 3, (uint8_t)c, n);
					else if (op == 1)
						rq_gf_scale(got + 1, (uint8_t)c, n);
					else if (op == 2)
						rq_gf_add(got + 1, src + 3, n);
					else
						rq_gf_xor_many(got + 1, many, nm, n);
					cr_assert(memcmp(ref, got, sizeof ref) == 0, "%s op %d c %u n %zu", names[im],
						  op, c, n);
					checked++;
				}
			}
		}
		/* the portable path itself against the bit-serial multiply */
		memcpy(ref, base, sizeof ref);
		rq_gf_select(RQ_GF_PORTABLE);
		rq_gf_muladd(ref, src, 0x53, sizeof ref);
		for (size_t i = 0; i < sizeof ref; i++)
			cr_assert_eq(ref[i], base[i] ^ slow_mul(src[i], 0x53));
	}
	rq_gf_select(RQ_GF_BEST);
	fprintf(stderr, "fec gf: %zu SIMD row operations compared with portable\n", checked);
}

/* ---- OTI ----------------------------------------------------------------------- */

Test(fec_oti, parse_and_limits)
{
	struct rq_oti o = {.f = 1000, .t = 1280, .z = 1, .n = 1, .al = 8}, b;
	uint8_t buf[RQ_OTI_LEN];
	cr_assert_eq(rq_oti_check(&o), 0);
	rq_oti_serialize(&o, buf);
	const uint8_t want[RQ_OTI_LEN] = {0, 0, 0, 3, 0xe8, 0, 5, 0, 1, 0, 1, 8};
	cr_assert(memcmp(buf, want, sizeof want) == 0);
	cr_assert_eq(rq_oti_parse(buf, &b), 0);
	cr_assert_eq(b.f, 1000);
	buf[5] = 1; /* reserved */
	cr_assert_eq(rq_oti_parse(buf, &b), -CN_EINVAL);
	struct rq_oti bad[] = {
		{.f = 0, .t = 1280, .z = 1, .n = 1, .al = 8},                /* empty */
		{.f = RQ_MAX_F + 1, .t = 65535, .z = 255, .n = 1, .al = 1},  /* too long */
		{.f = 1000, .t = 1281, .z = 1, .n = 1, .al = 8},             /* T % Al */
		{.f = 1000, .t = 1280, .z = 0, .n = 1, .al = 8},             /* Z = 0 */
		{.f = 1000, .t = 1280, .z = 2, .n = 1, .al = 8},             /* Z > Kt */
		{.f = 1000, .t = 1280, .z = 1, .n = 161, .al = 8},           /* sub-symbol < Al */
		{.f = 1000, .t = 1280, .z = 1, .n = 1, .al = 0},             /* Al = 0 */
		{.f = 56404ull * 16, .t = 16, .z = 1, .n = 1, .al = 8},      /* K > 56403 */
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		cr_assert_eq(rq_oti_check(&bad[i]), -CN_EINVAL, "case %zu", i);
	struct rq_oti big = {.f = 56403ull * 255 * 65535, .t = 65535, .z = 255, .n = 1, .al = 1};
	cr_assert_eq(rq_oti_check(&big), 0);
	/* defaults: cberner with_defaults for a 1 MB object at MTU 1400 */
	cr_assert_eq(rq_oti_defaults(1000000, 1400, 10u << 20, &b), 0);
	cr_assert_eq(b.t, 1400);
	cr_assert_eq(b.z, 1);
	cr_assert_eq(rq_oti_defaults(5, 63, 10u << 20, &b), -CN_EINVAL); /* T < sub-symbol * Al */
}

Test(fec_oti, decoder_memory_cap)
{
	struct rq_oti o = {.f = 10000000, .t = 1280, .z = 2, .n = 1, .al = 8};
	uint64_t need;
	cr_assert_eq(rq_decoder_memory(&o, &need), 0);
	cr_assert(need > 2 * o.f, "bound %llu", (unsigned long long)need);
	struct rq_decoder *d;
	cr_assert_eq(rq_decoder_new(&o, need - 1, &d), -CN_ELIMIT);
	cr_assert_eq(rq_decoder_new(&o, need, &d), 0);
	rq_decoder_free(d);
	struct rq_oti big = {.f = 56403ull * 255 * 65535, .t = 65535, .z = 255, .n = 1, .al = 1};
	cr_assert_eq(rq_decoder_new(&big, 1ull << 30, &d), -CN_ELIMIT);
}

/* ---- block codec --------------------------------------------------------------- */

static uint32_t lcg(uint32_t *s)
{
	*s = *s * 1664525u + 1013904223u;
	return *s >> 8;
}

Test(fec_block, roundtrip_sizes)
{
	const uint32_t ks[] = {1, 2, 9, 10, 11, 55, 101, 500, 1001};
	const uint16_t t = 48;
	uint32_t seed = 7;
	size_t runs = 0;
	for (size_t i = 0; i < sizeof ks / sizeof ks[0]; i++) {
		uint32_t k = ks[i];
		uint8_t *src = malloc((size_t)k * t), *out = malloc((size_t)k * t);
		for (size_t j = 0; j < (size_t)k * t; j++)
			src[j] = (uint8_t)lcg(&seed);
		struct rq_block *b;
		cr_assert_eq(rq_block_encode(NULL, k, t, src, &b), 0);
		/* systematic: ESI < K gives the source back */
		uint8_t sym[48];
		for (uint32_t j = 0; j < k; j++) {
			cr_assert_eq(rq_block_symbol(b, j, sym), 0);
			cr_assert(memcmp(sym, src + (size_t)j * t, t) == 0, "k %u esi %u", k, j);
		}
		/* half the sources dropped, replaced by repair symbols with spread ESIs */
		uint32_t n = k + 2;
		uint32_t *esis = malloc(n * sizeof *esis);
		uint8_t *syms = malloc((size_t)n * t);
		for (uint32_t j = 0; j < n; j++) {
			esis[j] = j % 2 == 0 && j < k ? j : k + j * 37 + (lcg(&seed) % 7);
			cr_assert_eq(rq_block_symbol(b, esis[j], syms + (size_t)j * t), 0);
		}
		/* may rarely be rank deficient with K+2-ish symbols; add more then */
		int rc = rq_block_decode(k, t, n, esis, syms, out);
		cr_assert_eq(rc, 0, "k %u: %s", k, cn_strerror(rc));
		cr_assert(memcmp(out, src, (size_t)k * t) == 0, "k %u", k);
		rq_block_free(b);
		free(esis);
		free(syms);
		free(src);
		free(out);
		runs++;
	}
	fprintf(stderr, "fec block round trips: %zu sizes\n", runs);
}

Test(fec_block, too_few_symbols)
{
	const uint32_t k = 20;
	uint8_t src[20 * 16], out[20 * 16];
	memset(src, 0xa5, sizeof src);
	struct rq_block *b;
	cr_assert_eq(rq_block_encode(NULL, k, 16, src, &b), 0);
	uint32_t esis[19];
	uint8_t syms[19 * 16];
	for (uint32_t j = 0; j < 19; j++) {
		esis[j] = j + 1;
		rq_block_symbol(b, esis[j], syms + j * 16);
	}
	cr_assert_eq(rq_block_decode(k, 16, 19, esis, syms, out), -CN_EVERIFY);
	/* a duplicate does not count twice */
	esis[18] = esis[17];
	cr_assert_eq(rq_block_decode(k, 16, 19, esis, syms, out), -CN_EVERIFY);
	rq_block_free(b);
}

Test(fec_block, plan_reuse_matches)
{
	const uint32_t k = 300;
	const uint16_t t = 64;
	uint32_t seed = 99;
	uint8_t *src = malloc((size_t)k * t);
	for (size_t j = 0; j < (size_t)k * t; j++)
		src[j] = (uint8_t)lcg(&seed);
	struct rq_plan *plan;
	cr_assert_eq(rq_plan_new(rq_kprime(k), &plan), 0);
	cr_assert(rq_plan_bytes(plan) > 0);
	struct rq_block *a, *b;
	cr_assert_eq(rq_block_encode(plan, k, t, src, &a), 0);
	cr_assert_eq(rq_block_encode(NULL, k, t, src, &b), 0);
	uint8_t x[64], y[64];
	for (uint32_t e = 0; e < k + 50; e++) {
		rq_block_symbol(a, e, x);
		rq_block_symbol(b, e, y);
		cr_assert(memcmp(x, y, t) == 0);
	}
	/* a plan for another K' is refused */
	cr_assert_eq(rq_block_encode(plan, 10, t, src, &b), -CN_EINVAL);
	rq_block_free(a);
	rq_block_free(b);
	rq_plan_free(plan);
	free(src);
}

/* ---- streaming decoder ------------------------------------------------------- */

Test(fec_decoder, hostile_packets)
{
	struct rq_oti o = {.f = 5000, .t = 64, .z = 2, .n = 2, .al = 8};
	cr_assert_eq(rq_oti_check(&o), 0);
	uint8_t *data = malloc(o.f);
	for (size_t i = 0; i < o.f; i++)
		data[i] = (uint8_t)(i * 7);
	struct rq_encoder *e;
	cr_assert_eq(rq_encoder_new(data, &o, NULL, &e), 0);
	struct rq_decoder *d;
	cr_assert_eq(rq_decoder_new(&o, 1u << 26, &d), 0);
	uint8_t pkt[68];
	cr_assert_eq(rq_decoder_push(d, pkt, 10), -CN_EINVAL);
	cr_assert_eq(rq_encoder_packet(e, 2, 0, pkt), -CN_EINVAL);
	cr_assert_eq(rq_encoder_packet(e, 0, 1u << 24, pkt), -CN_EINVAL);
	pkt[0] = 2;
	cr_assert_eq(rq_decoder_push(d, pkt, sizeof pkt), -CN_EINVAL);
	const uint8_t *out;
	uint64_t olen;
	cr_assert_eq(rq_decoder_object(d, &out, &olen), -CN_ESTATE);
	/* garbage repair symbols that duplicate each other, then real ones */
	for (int i = 0; i < 500; i++) {
		memset(pkt, i, sizeof pkt);
		pkt[0] = 0;
		pkt[1] = 0;
		pkt[2] = 1;
		pkt[3] = (uint8_t)(i % 3);
		cr_assert_eq(rq_decoder_push(d, pkt, sizeof pkt), 0);
		cr_assert(rq_decoder_allocated(d) <= (1u << 26));
	}
	for (unsigned sbn = 0; sbn < 2; sbn++) {
		uint32_t k = rq_block_k(&o, sbn);
		for (uint32_t j = 0; j < k + 5; j++) {
			cr_assert_eq(rq_encoder_packet(e, (uint8_t)sbn, 1000 + j, pkt), 0);
			cr_assert_eq(rq_decoder_push(d, pkt, sizeof pkt), 0);
		}
	}
	/* block 0 holds 3 bogus symbols: the decode of it may be wrong only if
	 * they were used; with ESIs 256..258 they are inconsistent with the real
	 * ones, so what we check is that nothing crashes and the cap holds */
	cr_assert(rq_decoder_allocated(d) <= (1u << 26));
	rq_decoder_free(d);

	/* clean run: sources of block 1 only plus repair of block 0 */
	cr_assert_eq(rq_decoder_new(&o, 1u << 26, &d), 0);
	for (unsigned sbn = 0; sbn < 2; sbn++) {
		uint32_t k = rq_block_k(&o, sbn);
		for (uint32_t j = 0; j < k + 1; j++) {
			uint32_t esi = sbn ? j : 5000 + j;
			cr_assert_eq(rq_encoder_packet(e, (uint8_t)sbn, esi, pkt), 0);
			cr_assert_eq(rq_decoder_push(d, pkt, sizeof pkt), 0);
			cr_assert_eq(rq_decoder_push(d, pkt, sizeof pkt), 0); /* duplicate */
		}
	}
	cr_assert(rq_decoder_complete(d));
	cr_assert_eq(rq_decoder_object(d, &out, &olen), 0);
	cr_assert_eq(olen, o.f);
	cr_assert(memcmp(out, data, o.f) == 0);
	rq_decoder_free(d);
	rq_encoder_free(e);
	free(data);
}

/* The committed rq_tables.c is what the generator writes from the TSV files. */
Test(fec_tables, generated_file_fresh)
{
	char cmd[600];
	const char *root = getenv("CANON_TESTDATA");
	snprintf(cmd, sizeof cmd, "python3 scripts/gen_rq_tables.py %s", root ? root : "../shared/testdata");
	FILE *p = popen(cmd, "r");
	cr_assert(p, "cannot run the generator");
	size_t cap = 1 << 20, n = 0, flen;
	char *gen = malloc(cap);
	size_t got;
	while ((got = fread(gen + n, 1, cap - n, p)) > 0)
		n += got;
	cr_assert_eq(pclose(p), 0, "generator failed");
	uint8_t *file = tu_read_file("src/fec/rq_tables.c", &flen);
	cr_assert_eq(n, flen, "src/fec/rq_tables.c is stale: rerun scripts/gen_rq_tables.py");
	cr_assert(memcmp(gen, file, n) == 0, "src/fec/rq_tables.c is stale: rerun scripts/gen_rq_tables.py");
	free(gen);
	free(file);
}
