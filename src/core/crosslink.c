/* crosslink.c — crosslinks and shard states (committees). */
#include "core/core_int.h"

/* A header's crossLinks field holds at most a few dozen crosslinks (16 per
 * block by the leader's rule); this bound only stops absurd allocations. */
#define CROSSLINKS_MAX 4096
#define SHARD_STATE_MAX_SHARDS 1024
#define SHARD_STATE_MAX_SLOTS 65536

void crosslink_free(struct crosslink *c)
{
	if (c)
		buf_free(&c->bitmap);
}

void crosslink_put(struct rlp_enc *e, const struct crosslink *c)
{
	rlp_list_begin(e);
	rlp_put_bytes(e, c->hash, CORE_HASH_LEN);
	rlp_put_u64(e, c->block_number);
	rlp_put_u64(e, c->view_id);
	rlp_put_bytes(e, c->signature, CORE_BLS_SIG_LEN);
	rlp_put_bytes(e, c->bitmap.p, c->bitmap.len);
	rlp_put_u64(e, c->shard_id);
	rlp_put_u64(e, c->epoch);
	rlp_list_end(e);
}

int crosslink_decode_item(struct crosslink *c, const struct rlp_item *it)
{
	struct rlp_cursor l;
	memset(c, 0, sizeof *c);
	TRY(rlp_enter(it, &l));
	TRY(rlp_read_fixed(&l, c->hash, CORE_HASH_LEN));
	TRY(rlp_read_u64(&l, &c->block_number));
	TRY(rlp_read_u64(&l, &c->view_id));
	TRY(rlp_read_fixed(&l, c->signature, CORE_BLS_SIG_LEN));
	TRY(read_buf(&l, &c->bitmap));
	TRY(read_u32(&l, &c->shard_id));
	TRY(rlp_read_u64(&l, &c->epoch));
	return rlp_expect_end(&l);
}

int crosslink_decode(struct crosslink *c, const uint8_t *raw, size_t len)
{
	struct rlp_item it;
	int rc;
	memset(c, 0, sizeof *c);
	if ((rc = rlp_decode_one(raw, len, &it)) != 0)
		return rc;
	if (!it.is_list)
		return -CN_EINVAL;
	if ((rc = crosslink_decode_item(c, &it)) != 0)
		crosslink_free(c);
	return rc;
}

int crosslink_encode(const struct crosslink *c, uint8_t **out, size_t *out_len)
{
	struct rlp_enc e;
	rlp_enc_init(&e);
	crosslink_put(&e, c);
	return core_finish(&e, out, out_len);
}

int crosslink_cmp(const struct crosslink *a, const struct crosslink *b)
{
	if (a->shard_id != b->shard_id)
		return a->shard_id < b->shard_id ? -1 : 1;
	if (a->block_number != b->block_number)
		return a->block_number < b->block_number ? -1 : 1;
	if (a->view_id != b->view_id)
		return a->view_id < b->view_id ? -1 : 1;
	return 0;
}

void crosslinks_free(struct crosslink *c, size_t n)
{
	for (size_t i = 0; i < n; i++)
		crosslink_free(&c[i]);
	free(c);
}

int crosslinks_decode(struct crosslink **out, size_t *n_out, const uint8_t *raw, size_t len)
{
	struct rlp_cursor l;
	struct rlp_item it;
	size_t n;
	*out = NULL;
	*n_out = 0;
	if (len > BLOCK_MAX_SIZE)
		return -CN_ELIMIT;
	TRY(rlp_decode_one(raw, len, &it));
	if (!it.is_list)
		return -CN_EINVAL;
	TRY(rlp_list_count(&it, &n));
	TRY(rlp_enter(&it, &l));
	if (n > CROSSLINKS_MAX)
		return -CN_ELIMIT;
	struct crosslink *c = n ? calloc(n, sizeof *c) : NULL;
	if (n && !c)
		return -CN_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		struct rlp_item ci;
		int rc = rlp_next(&l, &ci);
		if (!rc && !ci.is_list)
			rc = -CN_EINVAL;
		if (!rc)
			rc = crosslink_decode_item(&c[i], &ci);
		if (rc) {
			crosslinks_free(c, i + 1);
			return rc;
		}
	}
	*out = c;
	*n_out = n;
	return 0;
}

int crosslinks_encode(const struct crosslink *c, size_t n, uint8_t **out, size_t *out_len)
{
	struct rlp_enc e;
	rlp_enc_init(&e);
	rlp_list_begin(&e);
	for (size_t i = 0; i < n; i++)
		crosslink_put(&e, &c[i]);
	rlp_list_end(&e);
	return core_finish(&e, out, out_len);
}

/* ---- shard state ---------------------------------------------------------- */

void shard_state_free(struct shard_state *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->ncommittees; i++)
		free(s->committees[i].slots);
	free(s->committees);
	memset(s, 0, sizeof *s);
}

static int read_committees(struct shard_state *s, struct rlp_cursor *c)
{
	struct rlp_cursor l;
	size_t n;
	TRY(peek_count(c, &n));
	if (n > SHARD_STATE_MAX_SHARDS)
		return -CN_ELIMIT;
	TRY(rlp_read_list(c, &l));
	if (n && !(s->committees = calloc(n, sizeof *s->committees)))
		return -CN_ENOMEM;
	s->ncommittees = n;
	for (size_t i = 0; i < n; i++) {
		struct shard_committee *cm = &s->committees[i];
		struct rlp_cursor cc, sl;
		size_t ns;
		TRY(rlp_read_list(&l, &cc));
		TRY(read_u32(&cc, &cm->shard_id));
		TRY(peek_count(&cc, &ns));
		if (ns > SHARD_STATE_MAX_SLOTS)
			return -CN_ELIMIT;
		TRY(rlp_read_list(&cc, &sl));
		TRY(rlp_expect_end(&cc));
		if (ns && !(cm->slots = calloc(ns, sizeof *cm->slots)))
			return -CN_ENOMEM;
		cm->nslots = ns;
		for (size_t k = 0; k < ns; k++) {
			struct shard_slot *slot = &cm->slots[k];
			struct rlp_cursor sc;
			TRY(rlp_read_list(&sl, &sc));
			TRY(rlp_read_fixed(&sc, slot->addr, CORE_ADDR_LEN));
			TRY(rlp_read_fixed(&sc, slot->bls_key, CORE_BLS_PUB_LEN));
			if (!s->legacy) {
				/* effectiveStake: [dec] or 0xc0 (nil, Harmony slot) */
				struct rlp_cursor dc;
				TRY(rlp_read_list(&sc, &dc));
				if (!rlp_at_end(&dc)) {
					slot->has_stake = 1;
					TRY(read_u256(&dc, &slot->stake));
					TRY(rlp_expect_end(&dc));
				}
			}
			TRY(rlp_expect_end(&sc));
		}
	}
	return rlp_expect_end(&l);
}

static int decode_staking(struct shard_state *s, const uint8_t *raw, size_t len)
{
	struct rlp_cursor c;
	TRY(open_top_list(raw, len, &c));
	TRY(rlp_read_u64(&c, &s->epoch));
	TRY(read_committees(s, &c));
	return rlp_expect_end(&c);
}

int shard_state_decode(struct shard_state *s, const uint8_t *raw, size_t len)
{
	memset(s, 0, sizeof *s);
	if (len > BLOCK_MAX_SIZE)
		return -CN_ELIMIT;
	int rc = decode_staking(s, raw, len);
	if (!rc)
		return 0;
	shard_state_free(s);
	/* Legacy form: the list of committees itself. */
	s->legacy = 1;
	struct rlp_cursor top;
	rlp_cursor_init(&top, raw, len);
	int rc2 = read_committees(s, &top);
	if (!rc2)
		rc2 = rlp_expect_end(&top);
	if (rc2) {
		shard_state_free(s);
		return rc;
	}
	return 0;
}

int shard_state_encode(const struct shard_state *s, uint8_t **out, size_t *out_len)
{
	struct rlp_enc e;
	rlp_enc_init(&e);
	if (!s->legacy) {
		rlp_list_begin(&e);
		rlp_put_u64(&e, s->epoch);
	}
	rlp_list_begin(&e);
	for (size_t i = 0; i < s->ncommittees; i++) {
		const struct shard_committee *cm = &s->committees[i];
		rlp_list_begin(&e);
		rlp_put_u64(&e, cm->shard_id);
		rlp_list_begin(&e);
		for (size_t k = 0; k < cm->nslots; k++) {
			rlp_list_begin(&e);
			rlp_put_bytes(&e, cm->slots[k].addr, CORE_ADDR_LEN);
			rlp_put_bytes(&e, cm->slots[k].bls_key, CORE_BLS_PUB_LEN);
			if (!s->legacy) {
				rlp_list_begin(&e);
				if (cm->slots[k].has_stake)
					put_u256(&e, &cm->slots[k].stake);
				rlp_list_end(&e);
			}
			rlp_list_end(&e);
		}
		rlp_list_end(&e);
		rlp_list_end(&e);
	}
	rlp_list_end(&e);
	if (!s->legacy)
		rlp_list_end(&e);
	return core_finish(&e, out, out_len);
}

const struct shard_committee *shard_state_find(const struct shard_state *s, uint32_t shard)
{
	for (size_t i = 0; i < s->ncommittees; i++)
		if (s->committees[i].shard_id == shard)
			return &s->committees[i];
	return NULL;
}
