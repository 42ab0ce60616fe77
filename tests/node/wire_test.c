/* The node's byte formats: seals, certified blocks, sync requests, and the
 * vote record file (round trips and every refusal). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/err.h"
#include "node/node_int.h"

static void cert_fill(struct fbft_cert *c, uint64_t height, uint32_t nkeys)
{
	memset(c, 0, sizeof *c);
	c->height = height;
	c->view = 7;
	for (int i = 0; i < 32; i++)
		c->hash[i] = (uint8_t)(i * 3 + 1);
	for (uint32_t k = 0; k < nkeys; k += 2)
		c->bitmap[k / 8] |= (uint8_t)(1u << (k % 8));
	for (int i = 0; i < NODE_SIG_LEN; i++)
		c->sig[i] = (uint8_t)(0xa0 ^ i);
}

Test(node_wire, seal_round_trip_and_refusals)
{
	for (uint32_t nkeys = 1; nkeys <= 20; nkeys++) {
		struct fbft_cert c, d;
		cert_fill(&c, 42, nkeys);
		uint8_t buf[8 + 2 + FBFT_BITMAP_MAX + NODE_SIG_LEN];
		size_t sl = node_seal_len(nkeys);
		cr_assert_eq(sl, 8 + 2 + (nkeys + 7) / 8 + NODE_SIG_LEN);
		node_seal_encode(&c, nkeys, buf);
		cr_assert_eq(node_seal_decode(buf, sl, nkeys, 42, c.hash, &d), 0);
		cr_assert_eq(d.height, 42);
		cr_assert_eq(d.view, 7);
		cr_assert_arr_eq(d.hash, c.hash, 32);
		cr_assert_arr_eq(d.bitmap, c.bitmap, FBFT_BITMAP_MAX);
		cr_assert_arr_eq(d.sig, c.sig, NODE_SIG_LEN);
		/* wrong length, wrong committee size, a bit past the committee */
		cr_assert_eq(node_seal_decode(buf, sl - 1, nkeys, 42, c.hash, &d), -CN_EINVAL);
		cr_assert_eq(node_seal_decode(buf, sl, nkeys + 8, 42, c.hash, &d), -CN_EINVAL);
		if (nkeys % 8) {
			buf[10 + (nkeys + 7) / 8 - 1] |= 0x80;
			cr_assert_eq(node_seal_decode(buf, sl, nkeys, 42, c.hash, &d), -CN_EINVAL);
		}
	}
	uint8_t z[200] = {0};
	struct fbft_cert d;
	cr_assert_eq(node_seal_decode(z, 200, 0, 1, z, &d), -CN_EINVAL);
}

Test(node_wire, certified_block_split)
{
	uint8_t p[64] = {0, 0, 0, 10};
	const uint8_t *b, *s;
	size_t bl, sl;
	cr_assert_eq(node_cblock_split(p, 30, &b, &bl, &s, &sl), 0);
	cr_assert_eq(b, p + 4);
	cr_assert_eq(bl, 10);
	cr_assert_eq(s, p + 14);
	cr_assert_eq(sl, 16);
	cr_assert_eq(node_cblock_split(p, 13, &b, &bl, &s, &sl), -CN_EINVAL);   /* block past the end */
	cr_assert_eq(node_cblock_split(p, 3, &b, &bl, &s, &sl), -CN_ETRUNC);
	p[3] = 0;
	cr_assert_eq(node_cblock_split(p, 30, &b, &bl, &s, &sl), -CN_EINVAL);   /* empty block */
	p[0] = 0xff;
	cr_assert_eq(node_cblock_split(p, 30, &b, &bl, &s, &sl), -CN_EINVAL);
}

Test(node_wire, sync_request)
{
	uint8_t r[NODE_SYNC_REQ_LEN];
	uint64_t from;
	uint32_t max;
	node_sync_req_encode(123456789012ull, 64, r);
	cr_assert_eq(node_sync_req_decode(r, sizeof r, &from, &max), 0);
	cr_assert_eq(from, 123456789012ull);
	cr_assert_eq(max, 64);
	cr_assert_eq(node_sync_req_decode(r, sizeof r - 1, &from, &max), -CN_EINVAL);
	node_sync_req_encode(0, 64, r);
	cr_assert_eq(node_sync_req_decode(r, sizeof r, &from, &max), -CN_EINVAL);
	node_sync_req_encode(5, 0, r);
	cr_assert_eq(node_sync_req_decode(r, sizeof r, &from, &max), -CN_EINVAL);
	node_sync_req_encode(5, 1, r);
	r[0] = 2;
	cr_assert_eq(node_sync_req_decode(r, sizeof r, &from, &max), -CN_EINVAL);
}

static char dir[64];
static void mkdir_tmp(void)
{
	snprintf(dir, sizeof dir, "/tmp/canon-node-wire-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
}
static void rm_tmp(void)
{
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}

Test(node_wire, vote_record_round_trip_and_damage, .init = mkdir_tmp, .fini = rm_tmp)
{
	char path[128];
	snprintf(path, sizeof path, "%s/fbft-votes", dir);
	uint8_t gen[32], other[32];
	memset(gen, 0x11, 32);
	memset(other, 0x22, 32);
	struct fbft_persist ps, got;
	uint8_t *lock;
	cr_assert_eq(node_persist_read(path, gen, &got, &lock), -CN_ENOTFOUND);
	memset(&ps, 0, sizeof ps);
	ps.height = 77;
	ps.view = 3;
	memset(ps.head_hash, 0x33, 32);
	ps.has_head_cert = 1;
	cert_fill(&ps.head_cert, 76, 6);
	ps.has_pvote = ps.has_cvote = 1;
	ps.pvote_view = 3;
	ps.cvote_view = 2;
	memset(ps.pvote_hash, 0x44, 32);
	memset(ps.cvote_hash, 0x55, 32);
	ps.has_lock = 1;
	cert_fill(&ps.lock, 77, 6);
	ps.lock.view = 2;
	static const uint8_t block[] = "the locked block's bytes";
	ps.lock_block = block;
	ps.lock_block_len = sizeof block;
	cr_assert_eq(node_persist_write(path, gen, &ps, 1), 0);
	cr_assert_eq(node_persist_read(path, gen, &got, &lock), 0);
	cr_assert_eq(got.height, 77);
	cr_assert_eq(got.view, 3);
	cr_assert_arr_eq(got.head_hash, ps.head_hash, 32);
	cr_assert(got.has_head_cert && got.has_pvote && got.has_cvote && !got.has_proposed && got.has_lock);
	cr_assert_eq(got.head_cert.height, 76);
	cr_assert_arr_eq(got.head_cert.sig, ps.head_cert.sig, FBFT_SIG_MAX);
	cr_assert_eq(got.pvote_view, 3);
	cr_assert_eq(got.cvote_view, 2);
	cr_assert_arr_eq(got.cvote_hash, ps.cvote_hash, 32);
	cr_assert_eq(got.lock.view, 2);
	cr_assert_eq(got.lock_block_len, sizeof block);
	cr_assert_arr_eq(got.lock_block, block, sizeof block);
	free(lock);
	/* another chain's record */
	cr_assert_eq(node_persist_read(path, other, &got, &lock), -CN_EVERIFY);
	/* every single flipped byte is caught */
	FILE *f = fopen(path, "rb");
	cr_assert_not_null(f);
	uint8_t buf[2048];
	size_t n = fread(buf, 1, sizeof buf, f);
	fclose(f);
	cr_assert_lt(n, sizeof buf);
	for (size_t i = 0; i < n; i += 7) {
		buf[i] ^= 0x40;
		f = fopen(path, "wb");
		cr_assert_eq(fwrite(buf, 1, n, f), n);
		fclose(f);
		cr_assert_eq(node_persist_read(path, gen, &got, &lock), -CN_EVERIFY, "byte %zu", i);
		buf[i] ^= 0x40;
	}
	/* truncated */
	f = fopen(path, "wb");
	cr_assert_eq(fwrite(buf, 1, n - 1, f), n - 1);
	fclose(f);
	cr_assert_eq(node_persist_read(path, gen, &got, &lock), -CN_EVERIFY);
	/* a newer record replaces it whole; no temporary file is left */
	ps.height = 78;
	ps.has_lock = 0;
	cr_assert_eq(node_persist_write(path, gen, &ps, 0), 0);
	cr_assert_eq(node_persist_read(path, gen, &got, &lock), 0);
	cr_assert_eq(got.height, 78);
	cr_assert(!got.has_lock);
	cr_assert_null(lock);
	char tmp[160];
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	cr_assert_neq(access(tmp, F_OK), 0);
}
