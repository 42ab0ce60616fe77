/* tx.c — plain transactions: Harmony and Ethereum forms. */
#include "core/core_int.h"

#include "base/bytes.h"
#include "crypto/crypto.h"

/* Chain IDs from here up are Ethereum-compatible (params.IsEthCompatible):
 * a Harmony-form tx signed with one does not sign its shard fields. */
#define ETH_CHAIN_ID_MIN 1666600000ull

const char core_tag_marker[7] = {'H', 'm', 'n', 'y', 'T', 'g', 'd'};

const uint8_t core_empty_root[CORE_HASH_LEN] = {
	0x56, 0xe8, 0x1f, 0x17, 0x1b, 0xcc, 0x55, 0xa6, 0xff, 0x83, 0x45, 0xe6, 0x92, 0xc0, 0xf8, 0x6e,
	0x5b, 0x48, 0xe0, 0x1b, 0x99, 0x6c, 0xad, 0xc0, 0x01, 0x62, 0x2f, 0xb5, 0xe3, 0x63, 0xb4, 0x21,
};

int core_finish(struct rlp_enc *e, uint8_t **out, size_t *out_len)
{
	int rc = rlp_enc_finish(e, out, out_len);
	rlp_enc_free(e);
	return rc;
}

int core_hash_enc(struct rlp_enc *e, uint8_t out[CORE_HASH_LEN])
{
	uint8_t *buf;
	size_t len;
	TRY(core_finish(e, &buf, &len));
	keccak256(buf, len, out);
	free(buf);
	return 0;
}

int core_untag(const struct rlp_item *outer, const uint8_t **tag, size_t *tag_len,
               struct rlp_item *inner)
{
	struct rlp_cursor c;
	const uint8_t *m;
	size_t mlen;
	if (!outer->is_list)
		return -CN_EINVAL;
	TRY(rlp_enter(outer, &c));
	TRY(rlp_read_bytes(&c, &m, &mlen));
	if (mlen != sizeof core_tag_marker || memcmp(m, core_tag_marker, mlen) != 0)
		return -CN_EUNSUPPORTED;   /* legacy (untagged) versions */
	TRY(rlp_read_bytes(&c, tag, tag_len));
	TRY(rlp_next(&c, inner));
	return rlp_expect_end(&c);
}

void core_tag_begin(struct rlp_enc *e, const char *tag)
{
	rlp_list_begin(e);
	rlp_put_bytes(e, core_tag_marker, sizeof core_tag_marker);
	rlp_put_bytes(e, tag, strlen(tag));
}

void tx_free(struct tx *tx)
{
	if (!tx)
		return;
	free(tx->data);
	for (size_t i = 0; i < tx->naccess; i++)
		free(tx->access[i].keys);
	free(tx->access);
	memset(tx, 0, sizeof *tx);
}

static int read_access_list(struct rlp_cursor *c, struct tx *tx)
{
	size_t n;
	struct rlp_cursor list;
	TRY(peek_count(c, &n));
	TRY(rlp_read_list(c, &list));
	if (!n)
		return 0;
	if (!(tx->access = calloc(n, sizeof *tx->access)))
		return -CN_ENOMEM;
	tx->naccess = n;
	for (size_t i = 0; i < n; i++) {
		struct rlp_cursor tup, keys;
		struct tx_access *a = &tx->access[i];
		size_t nk;
		TRY(rlp_read_list(&list, &tup));
		TRY(rlp_read_fixed(&tup, a->addr, CORE_ADDR_LEN));
		TRY(peek_count(&tup, &nk));
		TRY(rlp_read_list(&tup, &keys));
		TRY(rlp_expect_end(&tup));
		if (nk && !(a->keys = malloc(nk * CORE_HASH_LEN)))
			return -CN_ENOMEM;
		a->nkeys = nk;
		for (size_t k = 0; k < nk; k++)
			TRY(rlp_read_fixed(&keys, a->keys[k], CORE_HASH_LEN));
		TRY(rlp_expect_end(&keys));
	}
	return rlp_expect_end(&list);
}

static int read_data(struct rlp_cursor *c, struct tx *tx)
{
	const uint8_t *p;
	size_t len;
	TRY(rlp_read_bytes(c, &p, &len));
	if (len) {
		if (!(tx->data = malloc(len)))
			return -CN_ENOMEM;
		memcpy(tx->data, p, len);
	}
	tx->data_len = len;
	return 0;
}

/* Chain ID and validity of a legacy-style v. */
static int chain_id_from_v(const struct u256 *v, uint64_t *chain_id)
{
	uint64_t small;
	if (u256_to_u64(v, &small) && (small == 27 || small == 28)) {
		*chain_id = 0;
		return 0;
	}
	struct u256 t, k35 = u256_from_u64(35);
	if (u256_sub(&t, v, &k35))
		return -CN_EINVAL;          /* v < 35 and not 27/28 */
	u256_shr(&t, &t, 1);
	if (!u256_to_u64(&t, chain_id))
		return -CN_ERANGE;
	if (*chain_id == 0)
		return -CN_EINVAL;          /* 35/36 would claim chain ID 0 */
	return 0;
}

static int decode_fields(struct tx *tx, struct rlp_cursor *c, size_t count)
{
	if (tx->type == TX_ACCESS_LIST || tx->type == TX_DYNAMIC_FEE) {
		struct u256 cid;
		if (count != (tx->type == TX_ACCESS_LIST ? 11u : 12u))
			return -CN_EINVAL;
		TRY(read_u256(c, &cid));
		if (!u256_to_u64(&cid, &tx->chain_id))
			return -CN_ERANGE;
	}
	TRY(rlp_read_u64(c, &tx->nonce));
	if (tx->type == TX_DYNAMIC_FEE) {
		TRY(read_u256(c, &tx->gas_tip_cap));
		TRY(read_u256(c, &tx->gas_fee_cap));
	} else {
		TRY(read_u256(c, &tx->gas_price));
	}
	TRY(rlp_read_u64(c, &tx->gas_limit));
	if (tx->type == TX_HARMONY) {
		TRY(read_u32(c, &tx->shard_id));
		TRY(read_u32(c, &tx->to_shard_id));
	}
	TRY(read_opt_fixed(c, &tx->has_to, tx->to, CORE_ADDR_LEN));
	TRY(read_u256(c, &tx->value));
	TRY(read_data(c, tx));
	if (tx->type == TX_ACCESS_LIST || tx->type == TX_DYNAMIC_FEE)
		TRY(read_access_list(c, tx));
	TRY(read_u256(c, &tx->v));
	TRY(read_u256(c, &tx->r));
	TRY(read_u256(c, &tx->s));
	TRY(rlp_expect_end(c));
	if (tx->type == TX_ACCESS_LIST || tx->type == TX_DYNAMIC_FEE) {
		uint64_t y;
		if (!u256_to_u64(&tx->v, &y) || y > 1)
			return -CN_EINVAL;
		return 0;
	}
	return chain_id_from_v(&tx->v, &tx->chain_id);
}

int tx_decode(struct tx *tx, const uint8_t *raw, size_t len)
{
	memset(tx, 0, sizeof *tx);
	if (len == 0)
		return -CN_ETRUNC;
	if (len > TX_MAX_SIZE)
		return -CN_ELIMIT;
	struct rlp_item it;
	struct rlp_cursor c;
	int rc;
	if (raw[0] >= 0xc0) {
		rc = rlp_decode_one(raw, len, &it);
	} else if (raw[0] == 0x01 || raw[0] == 0x02) {
		tx->type = raw[0] == 0x01 ? TX_ACCESS_LIST : TX_DYNAMIC_FEE;
		rc = rlp_decode_one(raw + 1, len - 1, &it);
		if (!rc && !it.is_list)
			rc = -CN_EINVAL;
	} else {
		return raw[0] < 0x80 ? -CN_EUNSUPPORTED : -CN_EINVAL;
	}
	size_t count = 0;
	if (!rc)
		rc = rlp_list_count(&it, &count);
	if (!rc && raw[0] >= 0xc0) {
		if (count == 11)
			tx->type = TX_HARMONY;
		else if (count == 9)
			tx->type = TX_LEGACY;
		else
			rc = -CN_EINVAL;
	}
	if (!rc)
		rc = rlp_enter(&it, &c);
	if (!rc)
		rc = decode_fields(tx, &c, count);
	if (rc)
		tx_free(tx);
	return rc;
}

enum tx_mode {
	MODE_SIGNED,       /* network encoding */
	MODE_UNSIGNED,     /* signing payload */
	MODE_ETH,          /* Harmony tx as a 9-field legacy tx (Ethereum hash) */
};

static void put_access_list(struct rlp_enc *e, const struct tx *tx)
{
	rlp_list_begin(e);
	for (size_t i = 0; i < tx->naccess; i++) {
		rlp_list_begin(e);
		rlp_put_bytes(e, tx->access[i].addr, CORE_ADDR_LEN);
		rlp_list_begin(e);
		for (size_t k = 0; k < tx->access[i].nkeys; k++)
			rlp_put_bytes(e, tx->access[i].keys[k], CORE_HASH_LEN);
		rlp_list_end(e);
		rlp_list_end(e);
	}
	rlp_list_end(e);
}

/* The RLP list (without a type byte) of tx in the given mode. */
static void put_list(struct rlp_enc *e, const struct tx *tx, enum tx_mode mode)
{
	int typed = tx->type == TX_ACCESS_LIST || tx->type == TX_DYNAMIC_FEE;
	/* Which shape the unsigned Harmony payload takes depends on the chain
	 * ID: unprotected keeps the shard fields without the EIP-155 tail, an
	 * Ethereum chain ID drops them. */
	int shard_fields = tx->type == TX_HARMONY && mode != MODE_ETH &&
	                   !(mode == MODE_UNSIGNED && tx->chain_id >= ETH_CHAIN_ID_MIN);
	rlp_list_begin(e);
	if (typed)
		rlp_put_u64(e, tx->chain_id);
	rlp_put_u64(e, tx->nonce);
	if (tx->type == TX_DYNAMIC_FEE) {
		put_u256(e, &tx->gas_tip_cap);
		put_u256(e, &tx->gas_fee_cap);
	} else {
		put_u256(e, &tx->gas_price);
	}
	rlp_put_u64(e, tx->gas_limit);
	if (shard_fields) {
		rlp_put_u64(e, tx->shard_id);
		rlp_put_u64(e, tx->to_shard_id);
	}
	rlp_put_bytes(e, tx->to, tx->has_to ? CORE_ADDR_LEN : 0);
	put_u256(e, &tx->value);
	rlp_put_bytes(e, tx->data, tx->data_len);
	if (typed)
		put_access_list(e, tx);
	if (mode != MODE_UNSIGNED) {
		put_u256(e, &tx->v);
		put_u256(e, &tx->r);
		put_u256(e, &tx->s);
	} else if (!typed && tx->chain_id) {
		rlp_put_u64(e, tx->chain_id);
		rlp_put_u64(e, 0);
		rlp_put_u64(e, 0);
	}
	rlp_list_end(e);
}

static int encode_mode(const struct tx *tx, enum tx_mode mode, uint8_t **out, size_t *out_len)
{
	struct rlp_enc e;
	rlp_enc_init(&e);
	int typed = tx->type == TX_ACCESS_LIST || tx->type == TX_DYNAMIC_FEE;
	put_list(&e, tx, mode);
	if (!typed)
		return core_finish(&e, out, out_len);
	size_t n = rlp_enc_size(&e);
	uint8_t *buf = malloc(n + 1);
	if (!buf) {
		rlp_enc_free(&e);
		return -CN_ENOMEM;
	}
	buf[0] = tx->type == TX_ACCESS_LIST ? 0x01 : 0x02;
	int rc = rlp_enc_write(&e, buf + 1);
	rlp_enc_free(&e);
	if (rc) {
		free(buf);
		return rc;
	}
	*out = buf;
	*out_len = n + 1;
	return 0;
}

int tx_put(struct rlp_enc *e, const struct tx *tx)
{
	if (tx->type != TX_HARMONY)
		return -CN_EUNSUPPORTED;   /* blocks store the Harmony form (tx_from_eth) */
	put_list(e, tx, MODE_SIGNED);
	return 0;
}

int tx_encode(const struct tx *tx, uint8_t **out, size_t *out_len)
{
	return encode_mode(tx, MODE_SIGNED, out, out_len);
}

static int hash_mode(const struct tx *tx, enum tx_mode mode, uint8_t out[CORE_HASH_LEN])
{
	uint8_t *buf;
	size_t len;
	TRY(encode_mode(tx, mode, &buf, &len));
	keccak256(buf, len, out);
	free(buf);
	return 0;
}

int tx_hash(const struct tx *tx, uint8_t out[CORE_HASH_LEN])
{
	return hash_mode(tx, MODE_SIGNED, out);
}

int tx_eth_hash(const struct tx *tx, uint8_t out[CORE_HASH_LEN])
{
	return hash_mode(tx, tx->type == TX_HARMONY ? MODE_ETH : MODE_SIGNED, out);
}

int tx_signing_hash(const struct tx *tx, uint8_t out[CORE_HASH_LEN])
{
	return hash_mode(tx, MODE_UNSIGNED, out);
}

int tx_recovery_id(const struct tx *tx, int *recid)
{
	uint64_t v;
	if (!u256_to_u64(&tx->v, &v))
		return -CN_EINVAL;
	if (tx->type == TX_ACCESS_LIST || tx->type == TX_DYNAMIC_FEE) {
		if (v > 1)
			return -CN_EINVAL;
		*recid = (int)v;
		return 0;
	}
	if (tx->chain_id == 0) {
		if (v != 27 && v != 28)
			return -CN_EINVAL;
		*recid = (int)(v - 27);
		return 0;
	}
	if (tx->chain_id > (UINT64_MAX - 36) / 2)
		return -CN_EINVAL;
	uint64_t base = 35 + 2 * tx->chain_id;
	if (v != base && v != base + 1)
		return -CN_EINVAL;
	*recid = (int)(v - base);
	return 0;
}

int tx_sender(const struct tx *tx, uint8_t addr[CORE_ADDR_LEN])
{
	uint8_t h[32], sig[SECP_SIG_LEN], pub[SECP_PUBKEY_LEN];
	int recid;
	TRY(tx_recovery_id(tx, &recid));
	TRY(tx_signing_hash(tx, h));
	u256_to_be32(&tx->r, sig);
	u256_to_be32(&tx->s, sig + 32);
	sig[64] = (uint8_t)recid;
	TRY(secp_recover(h, sig, pub));
	addr_from_pubkey(pub, addr);
	return 0;
}

int tx_sign(struct tx *tx, const uint8_t secret[32])
{
	uint8_t h[32], sig[SECP_SIG_LEN];
	TRY(tx_signing_hash(tx, h));
	TRY(secp_sign_recoverable(secret, h, sig));
	u256_from_be32(&tx->r, sig);
	u256_from_be32(&tx->s, sig + 32);
	if (tx->type == TX_ACCESS_LIST || tx->type == TX_DYNAMIC_FEE)
		tx->v = u256_from_u64(sig[64]);
	else if (tx->chain_id == 0)
		tx->v = u256_from_u64(27u + sig[64]);
	else if (tx->chain_id > (UINT64_MAX - 36) / 2)
		return -CN_ERANGE;
	else
		tx->v = u256_from_u64(35 + 2 * tx->chain_id + sig[64]);
	bytes_wipe(sig, sizeof sig);
	return 0;
}

int tx_from_eth(struct tx *tx, uint64_t eth_chain_base, uint32_t num_shards)
{
	if (tx->type != TX_LEGACY || tx->chain_id < eth_chain_base ||
	    tx->chain_id - eth_chain_base >= num_shards || eth_chain_base < ETH_CHAIN_ID_MIN)
		return -CN_EINVAL;
	tx->type = TX_HARMONY;
	tx->shard_id = tx->to_shard_id = (uint32_t)(tx->chain_id - eth_chain_base);
	return 0;
}
