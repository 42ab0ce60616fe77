/* receipt.c — logs, the 2048-bit bloom, receipts and CX receipts. */
#include "core/core_int.h"

#include "crypto/crypto.h"

/* Three 11-bit indexes from the first six bytes of keccak256(x); bit k of
 * the filter lives in byte 255 - k/8 (the filter is big-endian). */
static void bloom_bits(const uint8_t *x, size_t len, unsigned idx[3])
{
	uint8_t h[32];
	keccak256(x, len, h);
	for (int i = 0; i < 3; i++)
		idx[i] = (((unsigned)h[2 * i] << 8) | h[2 * i + 1]) & 2047;
}

void bloom_add(uint8_t bloom[CORE_BLOOM_LEN], const uint8_t *x, size_t len)
{
	unsigned idx[3];
	bloom_bits(x, len, idx);
	for (int i = 0; i < 3; i++)
		bloom[CORE_BLOOM_LEN - 1 - idx[i] / 8] |= (uint8_t)(1u << (idx[i] % 8));
}

int bloom_test(const uint8_t bloom[CORE_BLOOM_LEN], const uint8_t *x, size_t len)
{
	unsigned idx[3];
	bloom_bits(x, len, idx);
	for (int i = 0; i < 3; i++)
		if (!(bloom[CORE_BLOOM_LEN - 1 - idx[i] / 8] & (1u << (idx[i] % 8))))
			return 0;
	return 1;
}

void bloom_add_logs(uint8_t bloom[CORE_BLOOM_LEN], const struct core_log *logs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		bloom_add(bloom, logs[i].addr, CORE_ADDR_LEN);
		for (size_t t = 0; t < logs[i].ntopics; t++)
			bloom_add(bloom, logs[i].topics[t], CORE_HASH_LEN);
	}
}

void core_log_free(struct core_log *l)
{
	free(l->topics);
	free(l->data);
	memset(l, 0, sizeof *l);
}

void receipt_free(struct receipt *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->nlogs; i++)
		core_log_free(&r->logs[i]);
	free(r->logs);
	memset(r, 0, sizeof *r);
}

static int read_log(struct rlp_cursor *c, struct core_log *l)
{
	struct rlp_cursor lc, tc;
	size_t nt;
	const uint8_t *p;
	size_t len;
	TRY(rlp_read_list(c, &lc));
	TRY(rlp_read_fixed(&lc, l->addr, CORE_ADDR_LEN));
	TRY(peek_count(&lc, &nt));
	if (nt > LOG_MAX_TOPICS)
		return -CN_ELIMIT;
	TRY(rlp_read_list(&lc, &tc));
	if (nt && !(l->topics = malloc(nt * CORE_HASH_LEN)))
		return -CN_ENOMEM;
	l->ntopics = nt;
	for (size_t t = 0; t < nt; t++)
		TRY(rlp_read_fixed(&tc, l->topics[t], CORE_HASH_LEN));
	TRY(rlp_read_bytes(&lc, &p, &len));
	if (len) {
		if (!(l->data = malloc(len)))
			return -CN_ENOMEM;
		memcpy(l->data, p, len);
	}
	l->data_len = len;
	return rlp_expect_end(&lc);
}

static int decode_receipt(struct receipt *r, const uint8_t *raw, size_t len)
{
	struct rlp_cursor c, lc;
	const uint8_t *p;
	size_t plen, n;
	if (len > BLOCK_MAX_SIZE)
		return -CN_ELIMIT;
	TRY(open_top_list(raw, len, &c));
	TRY(rlp_read_bytes(&c, &p, &plen));
	if (plen == CORE_HASH_LEN) {
		r->has_post_state = 1;
		memcpy(r->post_state, p, CORE_HASH_LEN);
	} else if (plen == 0) {
		r->status = 0;
	} else if (plen == 1 && p[0] == 1) {
		r->status = 1;
	} else {
		return -CN_EINVAL;
	}
	TRY(rlp_read_u64(&c, &r->cumulative_gas));
	TRY(rlp_read_fixed(&c, r->bloom, CORE_BLOOM_LEN));
	TRY(peek_count(&c, &n));
	if (n > RECEIPT_MAX_LOGS)
		return -CN_ELIMIT;
	TRY(rlp_read_list(&c, &lc));
	if (n && !(r->logs = calloc(n, sizeof *r->logs)))
		return -CN_ENOMEM;
	r->nlogs = n;
	for (size_t i = 0; i < n; i++)
		TRY(read_log(&lc, &r->logs[i]));
	return rlp_expect_end(&c);
}

int receipt_decode(struct receipt *r, const uint8_t *raw, size_t len)
{
	memset(r, 0, sizeof *r);
	int rc = decode_receipt(r, raw, len);
	if (rc)
		receipt_free(r);
	return rc;
}

static void put_receipt(struct rlp_enc *e, const struct receipt *r)
{
	rlp_list_begin(e);
	if (r->has_post_state)
		rlp_put_bytes(e, r->post_state, CORE_HASH_LEN);
	else
		rlp_put_bytes(e, "\x01", r->status ? 1 : 0);
	rlp_put_u64(e, r->cumulative_gas);
	rlp_put_bytes(e, r->bloom, CORE_BLOOM_LEN);
	rlp_list_begin(e);
	for (size_t i = 0; i < r->nlogs; i++) {
		const struct core_log *l = &r->logs[i];
		rlp_list_begin(e);
		rlp_put_bytes(e, l->addr, CORE_ADDR_LEN);
		rlp_list_begin(e);
		for (size_t t = 0; t < l->ntopics; t++)
			rlp_put_bytes(e, l->topics[t], CORE_HASH_LEN);
		rlp_list_end(e);
		rlp_put_bytes(e, l->data, l->data_len);
		rlp_list_end(e);
	}
	rlp_list_end(e);
	rlp_list_end(e);
}

int receipt_encode(const struct receipt *r, uint8_t **out, size_t *out_len)
{
	struct rlp_enc e;
	rlp_enc_init(&e);
	put_receipt(&e, r);
	return core_finish(&e, out, out_len);
}

/* ---- CX receipts --------------------------------------------------------- */

void cx_receipt_put(struct rlp_enc *e, const struct cx_receipt *c)
{
	rlp_list_begin(e);
	rlp_put_bytes(e, c->tx_hash, CORE_HASH_LEN);
	rlp_put_bytes(e, c->from, CORE_ADDR_LEN);
	rlp_put_bytes(e, c->to, CORE_ADDR_LEN);
	rlp_put_u64(e, c->shard_id);
	rlp_put_u64(e, c->to_shard_id);
	put_u256(e, &c->amount);
	rlp_list_end(e);
}

int cx_receipt_decode_cursor(struct cx_receipt *c, struct rlp_cursor *outer)
{
	struct rlp_cursor l;
	TRY(rlp_read_list(outer, &l));
	TRY(rlp_read_fixed(&l, c->tx_hash, CORE_HASH_LEN));
	TRY(rlp_read_fixed(&l, c->from, CORE_ADDR_LEN));
	TRY(rlp_read_fixed(&l, c->to, CORE_ADDR_LEN));
	TRY(read_u32(&l, &c->shard_id));
	TRY(read_u32(&l, &c->to_shard_id));
	TRY(read_u256(&l, &c->amount));
	return rlp_expect_end(&l);
}

int cx_receipt_decode(struct cx_receipt *c, const uint8_t *raw, size_t len)
{
	struct rlp_cursor top;
	memset(c, 0, sizeof *c);
	rlp_cursor_init(&top, raw, len);
	TRY(cx_receipt_decode_cursor(c, &top));
	return rlp_expect_end(&top);
}

int cx_receipt_encode(const struct cx_receipt *c, uint8_t **out, size_t *out_len)
{
	struct rlp_enc e;
	rlp_enc_init(&e);
	cx_receipt_put(&e, c);
	return core_finish(&e, out, out_len);
}

void cx_merkle_proof_free(struct cx_merkle_proof *p)
{
	free(p->shard_ids);
	free(p->shard_hashes);
	memset(p, 0, sizeof *p);
}

void cx_receipts_proof_free(struct cx_receipts_proof *p)
{
	if (!p)
		return;
	free(p->receipts);
	cx_merkle_proof_free(&p->proof);
	header_free(&p->header);
	free(p->commit_bitmap.p);
	memset(p, 0, sizeof *p);
}

static int read_merkle_proof(struct rlp_cursor *c, struct cx_merkle_proof *m)
{
	struct rlp_cursor l, ids, hashes;
	size_t n, nh;
	TRY(rlp_read_list(c, &l));
	TRY(rlp_read_u64(&l, &m->block_num));
	TRY(rlp_read_fixed(&l, m->block_hash, CORE_HASH_LEN));
	TRY(read_u32(&l, &m->shard_id));
	TRY(rlp_read_fixed(&l, m->cx_receipt_hash, CORE_HASH_LEN));
	TRY(peek_count(&l, &n));
	TRY(rlp_read_list(&l, &ids));
	TRY(peek_count(&l, &nh));
	if (n != nh)
		return -CN_EINVAL;   /* (shard, root) pairs */
	TRY(rlp_read_list(&l, &hashes));
	if (n) {
		m->shard_ids = malloc(n * sizeof *m->shard_ids);
		m->shard_hashes = malloc(n * CORE_HASH_LEN);
		if (!m->shard_ids || !m->shard_hashes)
			return -CN_ENOMEM;
	}
	m->nshards = n;
	for (size_t i = 0; i < n; i++) {
		TRY(read_u32(&ids, &m->shard_ids[i]));
		TRY(rlp_read_fixed(&hashes, m->shard_hashes[i], CORE_HASH_LEN));
	}
	return rlp_expect_end(&l);
}

int cx_receipts_proof_decode_item(struct cx_receipts_proof *p, const struct rlp_item *it)
{
	struct rlp_cursor c, rc;
	struct rlp_item hi;
	size_t n;
	memset(p, 0, sizeof *p);
	TRY(rlp_enter(it, &c));
	TRY(peek_count(&c, &n));
	TRY(rlp_read_list(&c, &rc));
	if (n && !(p->receipts = calloc(n, sizeof *p->receipts)))
		return -CN_ENOMEM;
	p->nreceipts = n;
	for (size_t i = 0; i < n; i++)
		TRY(cx_receipt_decode_cursor(&p->receipts[i], &rc));
	TRY(read_merkle_proof(&c, &p->proof));
	TRY(rlp_next(&c, &hi));
	TRY(header_decode_item(&p->header, &hi));
	TRY(rlp_read_fixed(&c, p->commit_sig, CORE_BLS_SIG_LEN));
	TRY(read_buf(&c, &p->commit_bitmap));
	return rlp_expect_end(&c);
}

int cx_receipts_proof_decode(struct cx_receipts_proof *p, const uint8_t *raw, size_t len)
{
	struct rlp_item it;
	int rc;
	memset(p, 0, sizeof *p);
	if (len > BLOCK_MAX_SIZE)
		return -CN_ELIMIT;
	if ((rc = rlp_decode_one(raw, len, &it)) != 0)
		return rc;
	if (!it.is_list)
		return -CN_EINVAL;
	if ((rc = cx_receipts_proof_decode_item(p, &it)) != 0)
		cx_receipts_proof_free(p);
	return rc;
}

void cx_receipts_proof_put(struct rlp_enc *e, const struct cx_receipts_proof *p)
{
	rlp_list_begin(e);
	rlp_list_begin(e);
	for (size_t i = 0; i < p->nreceipts; i++)
		cx_receipt_put(e, &p->receipts[i]);
	rlp_list_end(e);
	rlp_list_begin(e);
	rlp_put_u64(e, p->proof.block_num);
	rlp_put_bytes(e, p->proof.block_hash, CORE_HASH_LEN);
	rlp_put_u64(e, p->proof.shard_id);
	rlp_put_bytes(e, p->proof.cx_receipt_hash, CORE_HASH_LEN);
	rlp_list_begin(e);
	for (size_t i = 0; i < p->proof.nshards; i++)
		rlp_put_u64(e, p->proof.shard_ids[i]);
	rlp_list_end(e);
	rlp_list_begin(e);
	for (size_t i = 0; i < p->proof.nshards; i++)
		rlp_put_bytes(e, p->proof.shard_hashes[i], CORE_HASH_LEN);
	rlp_list_end(e);
	rlp_list_end(e);
	header_put(e, &p->header);
	rlp_put_bytes(e, p->commit_sig, CORE_BLS_SIG_LEN);
	rlp_put_bytes(e, p->commit_bitmap.p, p->commit_bitmap.len);
	rlp_list_end(e);
}

int cx_receipts_proof_encode(const struct cx_receipts_proof *p, uint8_t **out, size_t *out_len)
{
	struct rlp_enc e;
	rlp_enc_init(&e);
	cx_receipts_proof_put(&e, p);
	return core_finish(&e, out, out_len);
}
