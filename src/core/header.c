/* header.c — the v3 block header, blocks and bodies. */
#include "core/core_int.h"

#include "crypto/crypto.h"

static const char HEADER_TAG[] = "v3";
static const char BLOCK_TAG[] = "v2";   /* blocks and bodies carrying a v3 header */

void header_free(struct header *h)
{
	if (!h)
		return;
	buf_free(&h->extra);
	buf_free(&h->last_commit_bitmap);
	buf_free(&h->vrf);
	buf_free(&h->vdf);
	buf_free(&h->shard_state);
	buf_free(&h->crosslinks);
	buf_free(&h->slashes);
}

int header_copy(struct header *dst, const struct header *src)
{
	*dst = *src;
	struct core_buf *d[] = {&dst->extra, &dst->last_commit_bitmap, &dst->vrf, &dst->vdf,
	                        &dst->shard_state, &dst->crosslinks, &dst->slashes};
	const struct core_buf *s[] = {&src->extra, &src->last_commit_bitmap, &src->vrf, &src->vdf,
	                              &src->shard_state, &src->crosslinks, &src->slashes};
	for (size_t i = 0; i < sizeof d / sizeof d[0]; i++)
		d[i]->p = NULL;
	for (size_t i = 0; i < sizeof d / sizeof d[0]; i++) {
		int rc = buf_copy(d[i], s[i]);
		if (rc) {
			header_free(dst);
			return rc;
		}
	}
	return 0;
}

static int read_fields(struct header *h, struct rlp_cursor *c)
{
	TRY(rlp_read_fixed(c, h->parent_hash, CORE_HASH_LEN));
	TRY(rlp_read_fixed(c, h->coinbase, CORE_ADDR_LEN));
	TRY(rlp_read_fixed(c, h->root, CORE_HASH_LEN));
	TRY(rlp_read_fixed(c, h->tx_hash, CORE_HASH_LEN));
	TRY(rlp_read_fixed(c, h->receipt_hash, CORE_HASH_LEN));
	TRY(rlp_read_fixed(c, h->outgoing_receipt_hash, CORE_HASH_LEN));
	TRY(rlp_read_fixed(c, h->incoming_receipt_hash, CORE_HASH_LEN));
	TRY(rlp_read_fixed(c, h->bloom, CORE_BLOOM_LEN));
	TRY(rlp_read_u64(c, &h->number));
	TRY(rlp_read_u64(c, &h->gas_limit));
	TRY(rlp_read_u64(c, &h->gas_used));
	TRY(rlp_read_u64(c, &h->time));
	TRY(read_buf(c, &h->extra));
	TRY(rlp_read_fixed(c, h->mix_digest, CORE_HASH_LEN));
	TRY(rlp_read_u64(c, &h->view_id));
	TRY(rlp_read_u64(c, &h->epoch));
	TRY(read_u32(c, &h->shard_id));
	TRY(rlp_read_fixed(c, h->last_commit_sig, CORE_BLS_SIG_LEN));
	TRY(read_buf(c, &h->last_commit_bitmap));
	TRY(read_buf(c, &h->vrf));
	TRY(read_buf(c, &h->vdf));
	TRY(read_buf(c, &h->shard_state));
	TRY(read_buf(c, &h->crosslinks));
	TRY(read_buf(c, &h->slashes));
	return rlp_expect_end(c);
}

int header_decode_item(struct header *h, const struct rlp_item *it)
{
	const uint8_t *tag;
	size_t tag_len;
	struct rlp_item inner;
	struct rlp_cursor c;
	memset(h, 0, sizeof *h);
	TRY(core_untag(it, &tag, &tag_len, &inner));
	if (tag_len != 2 || memcmp(tag, HEADER_TAG, 2) != 0)
		return -CN_EUNSUPPORTED;
	if (!inner.is_list)
		return -CN_EINVAL;
	TRY(rlp_enter(&inner, &c));
	return read_fields(h, &c);
}

int header_decode(struct header *h, const uint8_t *raw, size_t len)
{
	struct rlp_item it;
	int rc;
	memset(h, 0, sizeof *h);
	if (len > BLOCK_MAX_SIZE)
		return -CN_ELIMIT;
	if ((rc = rlp_decode_one(raw, len, &it)) != 0)
		return rc;
	if ((rc = header_decode_item(h, &it)) != 0)
		header_free(h);
	return rc;
}

void header_put(struct rlp_enc *e, const struct header *h)
{
	core_tag_begin(e, HEADER_TAG);
	rlp_list_begin(e);
	rlp_put_bytes(e, h->parent_hash, CORE_HASH_LEN);
	rlp_put_bytes(e, h->coinbase, CORE_ADDR_LEN);
	rlp_put_bytes(e, h->root, CORE_HASH_LEN);
	rlp_put_bytes(e, h->tx_hash, CORE_HASH_LEN);
	rlp_put_bytes(e, h->receipt_hash, CORE_HASH_LEN);
	rlp_put_bytes(e, h->outgoing_receipt_hash, CORE_HASH_LEN);
	rlp_put_bytes(e, h->incoming_receipt_hash, CORE_HASH_LEN);
	rlp_put_bytes(e, h->bloom, CORE_BLOOM_LEN);
	rlp_put_u64(e, h->number);
	rlp_put_u64(e, h->gas_limit);
	rlp_put_u64(e, h->gas_used);
	rlp_put_u64(e, h->time);
	rlp_put_bytes(e, h->extra.p, h->extra.len);
	rlp_put_bytes(e, h->mix_digest, CORE_HASH_LEN);
	rlp_put_u64(e, h->view_id);
	rlp_put_u64(e, h->epoch);
	rlp_put_u64(e, h->shard_id);
	rlp_put_bytes(e, h->last_commit_sig, CORE_BLS_SIG_LEN);
	rlp_put_bytes(e, h->last_commit_bitmap.p, h->last_commit_bitmap.len);
	rlp_put_bytes(e, h->vrf.p, h->vrf.len);
	rlp_put_bytes(e, h->vdf.p, h->vdf.len);
	rlp_put_bytes(e, h->shard_state.p, h->shard_state.len);
	rlp_put_bytes(e, h->crosslinks.p, h->crosslinks.len);
	rlp_put_bytes(e, h->slashes.p, h->slashes.len);
	rlp_list_end(e);
	core_tag_end(e);
}

int header_encode(const struct header *h, uint8_t **out, size_t *out_len)
{
	struct rlp_enc e;
	rlp_enc_init(&e);
	header_put(&e, h);
	return core_finish(&e, out, out_len);
}

int header_hash(const struct header *h, uint8_t out[CORE_HASH_LEN])
{
	struct rlp_enc e;
	rlp_enc_init(&e);
	header_put(&e, h);
	return core_hash_enc(&e, out);
}

/* ---- blocks and bodies --------------------------------------------------- */

void block_free(struct block *b)
{
	if (!b)
		return;
	header_free(&b->header);
	for (size_t i = 0; i < b->ntxs; i++)
		tx_free(&b->txs[i]);
	free(b->txs);
	for (size_t i = 0; i < b->nstxs; i++)
		stx_free(&b->stxs[i]);
	free(b->stxs);
	for (size_t i = 0; i < b->nincoming; i++)
		cx_receipts_proof_free(&b->incoming[i]);
	free(b->incoming);
	memset(b, 0, sizeof *b);
}

/* Reads [txs, stakingTxs, uncles, incoming] from c into b. */
static int read_body_lists(struct block *b, struct rlp_cursor *c)
{
	struct rlp_cursor l;
	struct rlp_item it;
	size_t n;

	TRY(peek_count(c, &n));
	TRY(rlp_read_list(c, &l));
	if (n && !(b->txs = calloc(n, sizeof *b->txs)))
		return -CN_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		TRY(rlp_next(&l, &it));
		if (!it.is_list)
			return -CN_EINVAL;
		TRY(tx_decode(&b->txs[i], it.raw, it.raw_len));
		b->ntxs++;
		if (b->txs[i].type != TX_HARMONY)
			return -CN_EINVAL;   /* blocks store the Harmony form */
	}

	TRY(peek_count(c, &n));
	TRY(rlp_read_list(c, &l));
	if (n && !(b->stxs = calloc(n, sizeof *b->stxs)))
		return -CN_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		TRY(rlp_next(&l, &it));
		if (!it.is_list)
			return -CN_EINVAL;
		TRY(stx_decode(&b->stxs[i], it.raw, it.raw_len));
		b->nstxs++;
	}

	TRY(peek_count(c, &n));
	if (n != 0)
		return -CN_EINVAL;    /* no uncles in Harmony */
	TRY(rlp_read_list(c, &l));

	TRY(peek_count(c, &n));
	TRY(rlp_read_list(c, &l));
	if (n && !(b->incoming = calloc(n, sizeof *b->incoming)))
		return -CN_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		TRY(rlp_next(&l, &it));
		if (!it.is_list)
			return -CN_EINVAL;
		b->nincoming++;
		TRY(cx_receipts_proof_decode_item(&b->incoming[i], &it));
	}
	return rlp_expect_end(c);
}

static int open_tagged(const uint8_t *raw, size_t len, struct rlp_cursor *c)
{
	struct rlp_item it, inner;
	const uint8_t *tag;
	size_t tag_len;
	if (len > BLOCK_MAX_SIZE)
		return -CN_ELIMIT;
	TRY(rlp_decode_one(raw, len, &it));
	TRY(core_untag(&it, &tag, &tag_len, &inner));
	if (tag_len != 2 || memcmp(tag, BLOCK_TAG, 2) != 0)
		return -CN_EUNSUPPORTED;
	if (!inner.is_list)
		return -CN_EINVAL;
	return rlp_enter(&inner, c);
}

int block_decode(struct block *b, const uint8_t *raw, size_t len)
{
	struct rlp_cursor c;
	struct rlp_item hi;
	int rc;
	memset(b, 0, sizeof *b);
	rc = open_tagged(raw, len, &c);
	if (!rc)
		rc = rlp_next(&c, &hi);
	if (!rc)
		rc = header_decode_item(&b->header, &hi);
	if (!rc)
		rc = read_body_lists(b, &c);
	if (rc)
		block_free(b);
	return rc;
}

int block_body_decode(struct block *b, const uint8_t *raw, size_t len)
{
	struct rlp_cursor c;
	b->txs = NULL;
	b->stxs = NULL;
	b->incoming = NULL;
	b->ntxs = b->nstxs = b->nincoming = 0;
	int rc = open_tagged(raw, len, &c);
	if (!rc)
		rc = read_body_lists(b, &c);
	if (rc) {
		struct header keep = b->header;
		memset(&b->header, 0, sizeof b->header);
		block_free(b);
		b->header = keep;
	}
	return rc;
}

static int put_body(struct rlp_enc *e, const struct block *b, int with_header)
{
	core_tag_begin(e, BLOCK_TAG);
	rlp_list_begin(e);
	if (with_header)
		header_put(e, &b->header);
	rlp_list_begin(e);
	for (size_t i = 0; i < b->ntxs; i++)
		TRY(tx_put(e, &b->txs[i]));
	rlp_list_end(e);
	rlp_list_begin(e);
	for (size_t i = 0; i < b->nstxs; i++)
		TRY(stx_put(e, &b->stxs[i]));
	rlp_list_end(e);
	rlp_list_begin(e);   /* uncles */
	rlp_list_end(e);
	rlp_list_begin(e);
	for (size_t i = 0; i < b->nincoming; i++)
		cx_receipts_proof_put(e, &b->incoming[i]);
	rlp_list_end(e);
	rlp_list_end(e);
	core_tag_end(e);
	return 0;
}

static int encode_body(const struct block *b, int with_header, uint8_t **out, size_t *out_len)
{
	struct rlp_enc e;
	rlp_enc_init(&e);
	int rc = put_body(&e, b, with_header);
	if (rc) {
		rlp_enc_free(&e);
		return rc;
	}
	return core_finish(&e, out, out_len);
}

int block_encode(const struct block *b, uint8_t **out, size_t *out_len)
{
	return encode_body(b, 1, out, out_len);
}

int block_body_encode(const struct block *b, uint8_t **out, size_t *out_len)
{
	return encode_body(b, 0, out, out_len);
}
