/* core_int.h — helpers shared by the core module's encoders and decoders
 * (private to src/core/). */
#ifndef CANON_CORE_INT_H
#define CANON_CORE_INT_H

#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "codec/rlp.h"
#include "core/core.h"

/* Propagates an error code. */
#define TRY(expr) do { int try_rc_ = (expr); if (try_rc_) return try_rc_; } while (0)

static inline void put_u256(struct rlp_enc *e, const struct u256 *v)
{
	uint8_t be[32];
	u256_to_be32(v, be);
	rlp_put_uint_be(e, be, 32);
}

static inline int read_u256(struct rlp_cursor *c, struct u256 *v)
{
	uint8_t be[32];
	TRY(rlp_read_u256(c, be));
	u256_from_be32(v, be);
	return 0;
}

static inline int read_u32(struct rlp_cursor *c, uint32_t *v)
{
	uint64_t x;
	TRY(rlp_read_u64(c, &x));
	if (x > UINT32_MAX)
		return -CN_ERANGE;
	*v = (uint32_t)x;
	return 0;
}

/* A string that is either empty (absent) or exactly n bytes. */
static inline int read_opt_fixed(struct rlp_cursor *c, int *has, uint8_t *out, size_t n)
{
	const uint8_t *p;
	size_t len;
	TRY(rlp_read_bytes(c, &p, &len));
	if (len == 0) {
		*has = 0;
		memset(out, 0, n);
		return 0;
	}
	if (len != n)
		return -CN_EINVAL;
	memcpy(out, p, n);
	*has = 1;
	return 0;
}

/* A byte string copied into an owned buffer. */
static inline int read_buf(struct rlp_cursor *c, struct core_buf *b)
{
	const uint8_t *p;
	size_t len;
	TRY(rlp_read_bytes(c, &p, &len));
	b->p = NULL;
	b->len = 0;
	if (!len)
		return 0;
	if (!(b->p = malloc(len)))
		return -CN_ENOMEM;
	memcpy(b->p, p, len);
	b->len = len;
	return 0;
}

static inline void buf_free(struct core_buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = 0;
}

static inline int buf_copy(struct core_buf *dst, const struct core_buf *src)
{
	dst->p = NULL;
	dst->len = 0;
	if (!src->len)
		return 0;
	if (!(dst->p = malloc(src->len)))
		return -CN_ENOMEM;
	memcpy(dst->p, src->p, src->len);
	dst->len = src->len;
	return 0;
}

/* Opens the single top-level list spanning all of raw. */
static inline int open_top_list(const uint8_t *raw, size_t len, struct rlp_cursor *inner)
{
	struct rlp_item it;
	TRY(rlp_decode_one(raw, len, &it));
	if (!it.is_list)
		return -CN_EINVAL;
	return rlp_enter(&it, inner);
}

/* Counts the items of a list the cursor is positioned on without moving it. */
static inline int peek_count(const struct rlp_cursor *c, size_t *n)
{
	struct rlp_cursor tmp = *c;
	struct rlp_item it;
	TRY(rlp_next(&tmp, &it));
	if (!it.is_list)
		return -CN_EINVAL;
	return rlp_list_count(&it, n);
}

/* Tagged-RLP envelope: reads ["HmnyTgd", tag, inner] and returns the tag
 * and the inner item. */
int core_untag(const struct rlp_item *outer, const uint8_t **tag, size_t *tag_len,
               struct rlp_item *inner);
void core_tag_begin(struct rlp_enc *e, const char *tag);
static inline void core_tag_end(struct rlp_enc *e) { rlp_list_end(e); }

/* Finishes an encoder into *out and frees it. */
int core_finish(struct rlp_enc *e, uint8_t **out, size_t *out_len);
/* keccak256 of an encoder's output. */
int core_hash_enc(struct rlp_enc *e, uint8_t out[CORE_HASH_LEN]);

/* Encoders that append into an open writer (used by composite types). */
int tx_put(struct rlp_enc *e, const struct tx *tx);
int stx_put(struct rlp_enc *e, const struct stx *stx);
void header_put(struct rlp_enc *e, const struct header *h);
void cx_receipt_put(struct rlp_enc *e, const struct cx_receipt *c);
void cx_receipts_proof_put(struct rlp_enc *e, const struct cx_receipts_proof *p);
void crosslink_put(struct rlp_enc *e, const struct crosslink *c);
/* Decoders of one item already read. */
int header_decode_item(struct header *h, const struct rlp_item *it);
int cx_receipt_decode_cursor(struct cx_receipt *c, struct rlp_cursor *outer);
int cx_receipts_proof_decode_item(struct cx_receipts_proof *p, const struct rlp_item *it);
int crosslink_decode_item(struct crosslink *c, const struct rlp_item *it);

#endif
