/* stx.c — staking transactions (the five directives). */
#include "core/core_int.h"

#include "base/bytes.h"
#include "crypto/crypto.h"

void stx_free(struct stx *stx)
{
	if (!stx)
		return;
	if (stx->directive == STX_CREATE_VALIDATOR) {
		free(stx->msg.create.slot_keys);
		free(stx->msg.create.slot_key_sigs);
	}
	memset(stx, 0, sizeof *stx);
}

static int read_str(struct rlp_cursor *c, uint8_t *out, size_t cap, size_t *len)
{
	const uint8_t *p;
	TRY(rlp_read_bytes(c, &p, len));
	if (*len > cap)
		return -CN_ELIMIT;
	if (*len)
		memcpy(out, p, *len);
	return 0;
}

static int read_desc(struct rlp_cursor *c, struct stx_description *d)
{
	struct rlp_cursor l;
	TRY(rlp_read_list(c, &l));
	TRY(read_str(&l, d->name, STX_NAME_MAX, &d->name_len));
	TRY(read_str(&l, d->identity, STX_NAME_MAX, &d->identity_len));
	TRY(read_str(&l, d->website, STX_NAME_MAX, &d->website_len));
	TRY(read_str(&l, d->security_contact, STX_NAME_MAX, &d->security_contact_len));
	TRY(read_str(&l, d->details, STX_DETAILS_MAX, &d->details_len));
	return rlp_expect_end(&l);
}

static void put_desc(struct rlp_enc *e, const struct stx_description *d)
{
	rlp_list_begin(e);
	rlp_put_bytes(e, d->name, d->name_len);
	rlp_put_bytes(e, d->identity, d->identity_len);
	rlp_put_bytes(e, d->website, d->website_len);
	rlp_put_bytes(e, d->security_contact, d->security_contact_len);
	rlp_put_bytes(e, d->details, d->details_len);
	rlp_list_end(e);
}

/* numeric.Dec is a one-field struct: [scaled]. An empty list is a nil
 * pointer, allowed only where the field is optional. */
static int read_dec(struct rlp_cursor *c, int *has, struct u256 *v)
{
	struct rlp_cursor l;
	TRY(rlp_read_list(c, &l));
	if (rlp_at_end(&l)) {
		if (!has)
			return -CN_EINVAL;
		*has = 0;
		*v = u256_from_u64(0);
		return 0;
	}
	TRY(read_u256(&l, v));
	if (has)
		*has = 1;
	return rlp_expect_end(&l);
}

static void put_dec(struct rlp_enc *e, int has, const struct u256 *v)
{
	rlp_list_begin(e);
	if (has)
		put_u256(e, v);
	rlp_list_end(e);
}

static int read_create(struct rlp_cursor *c, struct stx_create_validator *m, size_t count)
{
	struct rlp_cursor rates, keys;
	size_t n;
	if (count != 7 && count != 8)
		return -CN_EINVAL;
	m->has_slot_key_sigs = count == 8;
	TRY(rlp_read_fixed(c, m->validator, CORE_ADDR_LEN));
	TRY(read_desc(c, &m->desc));
	TRY(rlp_read_list(c, &rates));
	TRY(read_dec(&rates, NULL, &m->rate));
	TRY(read_dec(&rates, NULL, &m->max_rate));
	TRY(read_dec(&rates, NULL, &m->max_change_rate));
	TRY(rlp_expect_end(&rates));
	TRY(read_u256(c, &m->min_self_delegation));
	TRY(read_u256(c, &m->max_total_delegation));
	TRY(peek_count(c, &n));
	if (n > STX_MAX_SLOT_KEYS)
		return -CN_ELIMIT;
	TRY(rlp_read_list(c, &keys));
	if (n && !(m->slot_keys = malloc(n * CORE_BLS_PUB_LEN)))
		return -CN_ENOMEM;
	m->nslot_keys = n;
	for (size_t i = 0; i < n; i++)
		TRY(rlp_read_fixed(&keys, m->slot_keys[i], CORE_BLS_PUB_LEN));
	if (m->has_slot_key_sigs) {
		struct rlp_cursor sigs;
		TRY(peek_count(c, &n));
		if (n > STX_MAX_SLOT_KEYS)
			return -CN_ELIMIT;
		TRY(rlp_read_list(c, &sigs));
		if (n && !(m->slot_key_sigs = malloc(n * CORE_BLS_SIG_LEN)))
			return -CN_ENOMEM;
		m->nslot_key_sigs = n;
		for (size_t i = 0; i < n; i++)
			TRY(rlp_read_fixed(&sigs, m->slot_key_sigs[i], CORE_BLS_SIG_LEN));
	}
	return read_u256(c, &m->amount);
}

static int read_edit(struct rlp_cursor *c, struct stx_edit_validator *m, size_t count)
{
	if (count != 7 && count != 9)
		return -CN_EINVAL;
	m->has_sig_and_status = count == 9;
	TRY(rlp_read_fixed(c, m->validator, CORE_ADDR_LEN));
	TRY(read_desc(c, &m->desc));
	TRY(read_dec(c, &m->has_rate, &m->rate));
	TRY(read_u256(c, &m->min_self_delegation));
	TRY(read_u256(c, &m->max_total_delegation));
	TRY(read_opt_fixed(c, &m->has_key_to_remove, m->key_to_remove, CORE_BLS_PUB_LEN));
	TRY(read_opt_fixed(c, &m->has_key_to_add, m->key_to_add, CORE_BLS_PUB_LEN));
	if (m->has_sig_and_status) {
		uint64_t st;
		TRY(read_opt_fixed(c, &m->has_key_to_add_sig, m->key_to_add_sig, CORE_BLS_SIG_LEN));
		TRY(rlp_read_u64(c, &st));
		if (st > 255)
			return -CN_ERANGE;
		m->epos_status = (uint8_t)st;
	}
	return 0;
}

static int read_msg(struct rlp_cursor *c, struct stx *stx)
{
	size_t count;
	struct rlp_cursor m;
	TRY(peek_count(c, &count));
	TRY(rlp_read_list(c, &m));
	switch (stx->directive) {
	case STX_CREATE_VALIDATOR:
		TRY(read_create(&m, &stx->msg.create, count));
		break;
	case STX_EDIT_VALIDATOR:
		TRY(read_edit(&m, &stx->msg.edit, count));
		break;
	case STX_DELEGATE:
	case STX_UNDELEGATE:
		TRY(rlp_read_fixed(&m, stx->msg.delegate.delegator, CORE_ADDR_LEN));
		TRY(rlp_read_fixed(&m, stx->msg.delegate.validator, CORE_ADDR_LEN));
		TRY(read_u256(&m, &stx->msg.delegate.amount));
		break;
	case STX_COLLECT_REWARDS:
		TRY(rlp_read_fixed(&m, stx->msg.collect_delegator, CORE_ADDR_LEN));
		break;
	}
	return rlp_expect_end(&m);
}

static int decode(struct stx *stx, const uint8_t *raw, size_t len)
{
	struct rlp_cursor c;
	uint64_t dir;
	if (len > TX_MAX_SIZE)
		return -CN_ELIMIT;
	TRY(open_top_list(raw, len, &c));
	TRY(rlp_read_u64(&c, &dir));
	if (dir > STX_COLLECT_REWARDS)
		return -CN_EINVAL;
	stx->directive = (enum stx_directive)dir;
	TRY(read_msg(&c, stx));
	TRY(rlp_read_u64(&c, &stx->nonce));
	TRY(read_u256(&c, &stx->gas_price));
	TRY(rlp_read_u64(&c, &stx->gas_limit));
	TRY(read_u256(&c, &stx->v));
	TRY(read_u256(&c, &stx->r));
	TRY(read_u256(&c, &stx->s));
	TRY(rlp_expect_end(&c));
	/* Staking txs are always EIP-155 protected: v = 35 + 2c + recid. */
	uint64_t v;
	if (!u256_to_u64(&stx->v, &v) || v < 37 || v > UINT64_MAX - 1)
		return -CN_EINVAL;
	stx->chain_id = (v - 35) / 2;
	return 0;
}

int stx_decode(struct stx *stx, const uint8_t *raw, size_t len)
{
	memset(stx, 0, sizeof *stx);
	int rc = decode(stx, raw, len);
	if (rc)
		stx_free(stx);
	return rc;
}

static void put_msg(struct rlp_enc *e, const struct stx *stx)
{
	rlp_list_begin(e);
	switch (stx->directive) {
	case STX_CREATE_VALIDATOR: {
		const struct stx_create_validator *m = &stx->msg.create;
		rlp_put_bytes(e, m->validator, CORE_ADDR_LEN);
		put_desc(e, &m->desc);
		rlp_list_begin(e);
		put_dec(e, 1, &m->rate);
		put_dec(e, 1, &m->max_rate);
		put_dec(e, 1, &m->max_change_rate);
		rlp_list_end(e);
		put_u256(e, &m->min_self_delegation);
		put_u256(e, &m->max_total_delegation);
		rlp_list_begin(e);
		for (size_t i = 0; i < m->nslot_keys; i++)
			rlp_put_bytes(e, m->slot_keys[i], CORE_BLS_PUB_LEN);
		rlp_list_end(e);
		if (m->has_slot_key_sigs) {
			rlp_list_begin(e);
			for (size_t i = 0; i < m->nslot_key_sigs; i++)
				rlp_put_bytes(e, m->slot_key_sigs[i], CORE_BLS_SIG_LEN);
			rlp_list_end(e);
		}
		put_u256(e, &m->amount);
		break;
	}
	case STX_EDIT_VALIDATOR: {
		const struct stx_edit_validator *m = &stx->msg.edit;
		rlp_put_bytes(e, m->validator, CORE_ADDR_LEN);
		put_desc(e, &m->desc);
		put_dec(e, m->has_rate, &m->rate);
		put_u256(e, &m->min_self_delegation);
		put_u256(e, &m->max_total_delegation);
		rlp_put_bytes(e, m->key_to_remove, m->has_key_to_remove ? CORE_BLS_PUB_LEN : 0);
		rlp_put_bytes(e, m->key_to_add, m->has_key_to_add ? CORE_BLS_PUB_LEN : 0);
		if (m->has_sig_and_status) {
			rlp_put_bytes(e, m->key_to_add_sig, m->has_key_to_add_sig ? CORE_BLS_SIG_LEN : 0);
			rlp_put_u64(e, m->epos_status);
		}
		break;
	}
	case STX_DELEGATE:
	case STX_UNDELEGATE:
		rlp_put_bytes(e, stx->msg.delegate.delegator, CORE_ADDR_LEN);
		rlp_put_bytes(e, stx->msg.delegate.validator, CORE_ADDR_LEN);
		put_u256(e, &stx->msg.delegate.amount);
		break;
	case STX_COLLECT_REWARDS:
		rlp_put_bytes(e, stx->msg.collect_delegator, CORE_ADDR_LEN);
		break;
	}
	rlp_list_end(e);
}

static void put_stx(struct rlp_enc *e, const struct stx *stx, int sign_payload)
{
	rlp_list_begin(e);
	rlp_put_u64(e, stx->directive);
	put_msg(e, stx);
	rlp_put_u64(e, stx->nonce);
	put_u256(e, &stx->gas_price);
	rlp_put_u64(e, stx->gas_limit);
	if (sign_payload) {
		rlp_put_u64(e, stx->chain_id);
		rlp_put_u64(e, 0);
		rlp_put_u64(e, 0);
	} else {
		put_u256(e, &stx->v);
		put_u256(e, &stx->r);
		put_u256(e, &stx->s);
	}
	rlp_list_end(e);
}

int stx_put(struct rlp_enc *e, const struct stx *stx)
{
	put_stx(e, stx, 0);
	return 0;
}

int stx_encode(const struct stx *stx, uint8_t **out, size_t *out_len)
{
	struct rlp_enc e;
	rlp_enc_init(&e);
	put_stx(&e, stx, 0);
	return core_finish(&e, out, out_len);
}

int stx_hash(const struct stx *stx, uint8_t out[CORE_HASH_LEN])
{
	struct rlp_enc e;
	rlp_enc_init(&e);
	put_stx(&e, stx, 0);
	return core_hash_enc(&e, out);
}

int stx_signing_hash(const struct stx *stx, uint8_t out[CORE_HASH_LEN])
{
	struct rlp_enc e;
	rlp_enc_init(&e);
	put_stx(&e, stx, 1);
	return core_hash_enc(&e, out);
}

int stx_sender(const struct stx *stx, uint8_t addr[CORE_ADDR_LEN])
{
	uint64_t v;
	if (!u256_to_u64(&stx->v, &v) || stx->chain_id == 0 || stx->chain_id > (UINT64_MAX - 36) / 2)
		return -CN_EINVAL;
	uint64_t base = 35 + 2 * stx->chain_id;
	if (v != base && v != base + 1)
		return -CN_EINVAL;
	uint8_t h[32], sig[SECP_SIG_LEN], pub[SECP_PUBKEY_LEN];
	TRY(stx_signing_hash(stx, h));
	u256_to_be32(&stx->r, sig);
	u256_to_be32(&stx->s, sig + 32);
	sig[64] = (uint8_t)(v - base);
	TRY(secp_recover(h, sig, pub));
	addr_from_pubkey(pub, addr);
	return 0;
}

int stx_sign(struct stx *stx, const uint8_t secret[32])
{
	if (stx->chain_id == 0 || stx->chain_id > (UINT64_MAX - 36) / 2)
		return -CN_EINVAL;
	uint8_t h[32], sig[SECP_SIG_LEN];
	TRY(stx_signing_hash(stx, h));
	TRY(secp_sign_recoverable(secret, h, sig));
	u256_from_be32(&stx->r, sig);
	u256_from_be32(&stx->s, sig + 32);
	stx->v = u256_from_u64(35 + 2 * stx->chain_id + sig[64]);
	bytes_wipe(sig, sizeof sig);
	return 0;
}

const uint8_t *stx_expected_signer(const struct stx *stx)
{
	switch (stx->directive) {
	case STX_CREATE_VALIDATOR: return stx->msg.create.validator;
	case STX_EDIT_VALIDATOR: return stx->msg.edit.validator;
	case STX_DELEGATE:
	case STX_UNDELEGATE: return stx->msg.delegate.delegator;
	case STX_COLLECT_REWARDS: return stx->msg.collect_delegator;
	}
	return NULL;
}
