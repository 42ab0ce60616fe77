/* fbft_msg.c — the compact binary encoding of FBFT messages.
 *
 * Layout (integers little-endian):
 *   0xFB, version 1, type, sig_len, bitmap_len u16, height u64, view u64
 * then by type
 *   ANNOUNCE    sender u32, hash, block, has_cert u8, [cert], msg_sig
 *   PREPARE     hash, bitmap, sig
 *   COMMIT      hash, bitmap, sig
 *   PREPARED    sender u32, hash, bitmap, sig, block
 *   COMMITTED   sender u32, hash, bitmap, sig
 *   VIEWCHANGE  bitmap, sig, has_cert u8, [cert, block]
 *   NEWVIEW     sender u32, bitmap, sig, has_cert u8, [cert], hash, block, msg_sig
 * where block = u32 length ‖ bytes and cert = height u64 ‖ view u64 ‖ hash ‖
 * bitmap ‖ sig. Every length is checked against the buffer and the limits in
 * fbft.h; nothing is trusted. */
#include <string.h>

#include "base/bytes.h"
#include "base/err.h"
#include "consensus/fbft.h"
#include "crypto/crypto.h"

#define MAGIC 0xFB
#define VERSION 1

struct wr {
	uint8_t *p;
	size_t cap, len;
	int err;
};

static void put(struct wr *w, const void *d, size_t n)
{
	if (w->err || n > w->cap - w->len) {
		w->err = 1;
		return;
	}
	if (n)
		memcpy(w->p + w->len, d, n);
	w->len += n;
}
static void put_u8(struct wr *w, uint8_t v) { put(w, &v, 1); }
static void put_u16(struct wr *w, uint16_t v)
{
	uint8_t b[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
	put(w, b, 2);
}
static void put_u32(struct wr *w, uint32_t v)
{
	uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
	put(w, b, 4);
}
static void put_u64(struct wr *w, uint64_t v)
{
	uint8_t b[8];
	store_le64(b, v);
	put(w, b, 8);
}

struct rd {
	const uint8_t *p;
	size_t len, off;
	int err;
};

static const uint8_t *take(struct rd *r, size_t n)
{
	if (r->err || n > r->len - r->off) {
		r->err = 1;
		return NULL;
	}
	const uint8_t *q = r->p + r->off;
	r->off += n;
	return q;
}
static void get(struct rd *r, void *d, size_t n)
{
	const uint8_t *q = take(r, n);
	if (q && n)
		memcpy(d, q, n);
}
static uint8_t get_u8(struct rd *r)
{
	const uint8_t *q = take(r, 1);
	return q ? q[0] : 0;
}
static uint16_t get_u16(struct rd *r)
{
	const uint8_t *q = take(r, 2);
	return q ? (uint16_t)(q[0] | q[1] << 8) : 0;
}
static uint32_t get_u32(struct rd *r)
{
	const uint8_t *q = take(r, 4);
	return q ? (uint32_t)q[0] | (uint32_t)q[1] << 8 | (uint32_t)q[2] << 16 | (uint32_t)q[3] << 24 : 0;
}
static uint64_t get_u64(struct rd *r)
{
	const uint8_t *q = take(r, 8);
	return q ? load_le64(q) : 0;
}

static void put_cert(struct wr *w, const struct fbft_msg *m)
{
	put_u64(w, m->cert.height);
	put_u64(w, m->cert.view);
	put(w, m->cert.hash, FBFT_HASH_LEN);
	put(w, m->cert.bitmap, m->bitmap_len);
	put(w, m->cert.sig, m->sig_len);
}
static void get_cert(struct rd *r, struct fbft_msg *m)
{
	memset(&m->cert, 0, sizeof m->cert);
	m->cert.height = get_u64(r);
	m->cert.view = get_u64(r);
	get(r, m->cert.hash, FBFT_HASH_LEN);
	get(r, m->cert.bitmap, m->bitmap_len);
	get(r, m->cert.sig, m->sig_len);
}
static void put_block(struct wr *w, const struct fbft_msg *m)
{
	if (m->block_len > FBFT_MAX_BLOCK) {
		w->err = 1;
		return;
	}
	put_u32(w, m->block_len);
	put(w, m->block, m->block_len);
}
static void get_block(struct rd *r, struct fbft_msg *m)
{
	uint32_t n = get_u32(r);
	if (n > FBFT_MAX_BLOCK) {
		r->err = 1;
		return;
	}
	m->block_len = n;
	m->block = take(r, n);
}

static int valid_header(const struct fbft_msg *m)
{
	/* only votes have no certificate or message signature of the same length */
	size_t max = m->type == FBFT_PREPARE || m->type == FBFT_COMMIT ? FBFT_VOTE_SIG_MAX : FBFT_SIG_MAX;
	return m->type >= FBFT_ANNOUNCE && m->type <= FBFT_NEWVIEW && m->sig_len >= 1 &&
	       m->sig_len <= max && m->bitmap_len >= 1 && m->bitmap_len <= FBFT_BITMAP_MAX;
}

int fbft_msg_encode(const struct fbft_msg *m, uint8_t *buf, size_t cap, size_t *len)
{
	if (!valid_header(m))
		return -CN_EINVAL;
	struct wr w = {buf, cap, 0, 0};
	put_u8(&w, MAGIC);
	put_u8(&w, VERSION);
	put_u8(&w, m->type);
	put_u8(&w, m->sig_len);
	put_u16(&w, m->bitmap_len);
	put_u64(&w, m->height);
	put_u64(&w, m->view);
	switch (m->type) {
	case FBFT_ANNOUNCE:
		put_u32(&w, m->sender);
		put(&w, m->hash, FBFT_HASH_LEN);
		put_block(&w, m);
		put_u8(&w, m->has_cert ? 1 : 0);
		if (m->has_cert)
			put_cert(&w, m);
		put(&w, m->msg_sig, m->sig_len);
		break;
	case FBFT_PREPARE:
	case FBFT_COMMIT:
		put(&w, m->hash, FBFT_HASH_LEN);
		put(&w, m->bitmap, m->bitmap_len);
		put(&w, m->sig, m->sig_len);
		break;
	case FBFT_PREPARED:
	case FBFT_COMMITTED:
		put_u32(&w, m->sender);
		put(&w, m->hash, FBFT_HASH_LEN);
		put(&w, m->bitmap, m->bitmap_len);
		put(&w, m->sig, m->sig_len);
		if (m->type == FBFT_PREPARED)
			put_block(&w, m);
		break;
	case FBFT_VIEWCHANGE:
		put(&w, m->bitmap, m->bitmap_len);
		put(&w, m->sig, m->sig_len);
		put_u8(&w, m->has_cert ? 1 : 0);
		if (m->has_cert) {
			put_cert(&w, m);
			put_block(&w, m);
		}
		break;
	case FBFT_NEWVIEW:
		put_u32(&w, m->sender);
		put(&w, m->bitmap, m->bitmap_len);
		put(&w, m->sig, m->sig_len);
		put_u8(&w, m->has_cert ? 1 : 0);
		if (m->has_cert)
			put_cert(&w, m);
		put(&w, m->hash, FBFT_HASH_LEN);
		put_block(&w, m);
		put(&w, m->msg_sig, m->sig_len);
		break;
	}
	if (w.err)
		return -CN_ERANGE;
	*len = w.len;
	return 0;
}

int fbft_msg_decode(const uint8_t *buf, size_t len, struct fbft_msg *m)
{
	memset(m, 0, sizeof *m);
	struct rd r = {buf, len, 0, 0};
	if (get_u8(&r) != MAGIC || get_u8(&r) != VERSION)
		return -CN_EINVAL;
	m->type = get_u8(&r);
	m->sig_len = get_u8(&r);
	m->bitmap_len = get_u16(&r);
	m->height = get_u64(&r);
	m->view = get_u64(&r);
	if (r.err)
		return -CN_ETRUNC;
	if (!valid_header(m))
		return -CN_EINVAL;
	uint8_t flag;
	switch (m->type) {
	case FBFT_ANNOUNCE:
		m->sender = get_u32(&r);
		get(&r, m->hash, FBFT_HASH_LEN);
		get_block(&r, m);
		flag = get_u8(&r);
		if (flag > 1)
			return -CN_EINVAL;
		m->has_cert = flag;
		if (flag)
			get_cert(&r, m);
		get(&r, m->msg_sig, m->sig_len);
		break;
	case FBFT_PREPARE:
	case FBFT_COMMIT:
		get(&r, m->hash, FBFT_HASH_LEN);
		get(&r, m->bitmap, m->bitmap_len);
		get(&r, m->sig, m->sig_len);
		break;
	case FBFT_PREPARED:
	case FBFT_COMMITTED:
		m->sender = get_u32(&r);
		get(&r, m->hash, FBFT_HASH_LEN);
		get(&r, m->bitmap, m->bitmap_len);
		get(&r, m->sig, m->sig_len);
		if (m->type == FBFT_PREPARED)
			get_block(&r, m);
		break;
	case FBFT_VIEWCHANGE:
		get(&r, m->bitmap, m->bitmap_len);
		get(&r, m->sig, m->sig_len);
		flag = get_u8(&r);
		if (flag > 1)
			return -CN_EINVAL;
		m->has_cert = flag;
		if (flag) {
			get_cert(&r, m);
			get_block(&r, m);
		}
		break;
	case FBFT_NEWVIEW:
		m->sender = get_u32(&r);
		get(&r, m->bitmap, m->bitmap_len);
		get(&r, m->sig, m->sig_len);
		flag = get_u8(&r);
		if (flag > 1)
			return -CN_EINVAL;
		m->has_cert = flag;
		if (flag)
			get_cert(&r, m);
		get(&r, m->hash, FBFT_HASH_LEN);
		get_block(&r, m);
		get(&r, m->msg_sig, m->sig_len);
		break;
	}
	if (r.err)
		return -CN_ETRUNC;
	if (r.off != len)
		return -CN_ETRAILING;
	if (m->block == NULL)
		m->block_len = 0;
	return 0;
}

int fbft_msg_encode_signed(const struct fbft_crypto *c, uint32_t key, struct fbft_msg *m,
                           uint8_t *buf, size_t cap, size_t *len)
{
	if (m->type != FBFT_ANNOUNCE && m->type != FBFT_NEWVIEW)
		return -CN_EINVAL;
	memset(m->msg_sig, 0, sizeof m->msg_sig);
	int rc = fbft_msg_encode(m, buf, cap, len);
	if (rc)
		return rc;
	uint8_t digest[32];
	keccak256(buf, *len - m->sig_len, digest);
	rc = c->sign(c->ctx, key, digest, sizeof digest, m->msg_sig);
	if (rc)
		return rc;
	memcpy(buf + *len - m->sig_len, m->msg_sig, m->sig_len);
	return 0;
}

size_t fbft_prepare_payload(uint64_t height, uint64_t view, const uint8_t hash[32], uint8_t out[49])
{
	out[0] = FBFT_PREPARE;
	store_le64(out + 1, height);
	memcpy(out + 9, hash, 32);
	store_le64(out + 41, view);
	return 49;
}

size_t fbft_commit_payload(uint64_t height, uint64_t view, const uint8_t hash[32], uint8_t out[48])
{
	store_le64(out, height);
	memcpy(out + 8, hash, 32);
	store_le64(out + 40, view);
	return 48;
}

size_t fbft_viewchange_payload(uint64_t height, uint64_t view, uint8_t out[17])
{
	out[0] = FBFT_VIEWCHANGE;
	store_le64(out + 1, height);
	store_le64(out + 9, view);
	return 17;
}
