/* Staking transactions against the Harmony JS SDK 0.1.58 vectors
 * (../shared/testdata/harmony-tx/harmony_staking.json). CreateValidator and
 * EditValidator there use the SDK's older 7-field messages (see the set's
 * README); canon decodes both that form and the current one and re-encodes
 * whichever it read. */
#include <criterion/criterion.h>
#include <string.h>

#include "base/err.h"
#include "base/u256.h"
#include "codec/rlp.h"
#include "codec/bech32.h"
#include "core/core.h"
#include "crypto/crypto.h"
#include "testutil.h"

static const char *jstr(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);
	cr_assert(json_is_string(v), "missing string %s", k);
	return json_string_value(v);
}

static void expect_hex(const uint8_t *got, size_t n, const char *want_hex, const char *what, size_t idx)
{
	size_t wl;
	uint8_t *want = tu_hex(want_hex, &wl);
	cr_assert_eq(wl, n, "%s length, vector %zu", what, idx);
	cr_assert(n == 0 || memcmp(got, want, n) == 0, "%s, vector %zu", what, idx);
	free(want);
}

static void expect_one(const uint8_t addr[20], json_t *o, const char *k, size_t idx)
{
	const char *s = jstr(o, k);
	uint8_t want[20];
	const char *why;
	cr_assert_eq(bech32_one_decode(s, strlen(s), want, &why), 0, "%s", s);
	cr_assert(memcmp(addr, want, 20) == 0, "%s, vector %zu", k, idx);
}

static void expect_int(const struct u256 *got, json_t *o, const char *k, size_t idx)
{
	json_t *v = json_object_get(o, k);
	cr_assert(json_is_integer(v), "%s", k);
	struct u256 w = u256_from_u64((uint64_t)json_integer_value(v));
	cr_assert(u256_eq(got, &w), "%s, vector %zu", k, idx);
}

/* "0.05" -> 5 * 10^16 (numeric.Dec scaling). */
static void expect_dec(const struct u256 *got, const char *text, size_t idx)
{
	char digits[80];
	const char *dot = strchr(text, '.');
	size_t ip = dot ? (size_t)(dot - text) : strlen(text);
	size_t fl = dot ? strlen(dot + 1) : 0;
	cr_assert(fl <= 18);
	memcpy(digits, text, ip);
	if (fl)
		memcpy(digits + ip, dot + 1, fl);
	memset(digits + ip + fl, '0', 18 - fl);
	digits[ip + 18] = 0;
	struct u256 w;
	cr_assert_eq(u256_parse_dec(&w, digits, strlen(digits)), 0);
	cr_assert(u256_eq(got, &w), "rate %s, vector %zu", text, idx);
}

static void expect_desc(const struct stx_description *d, json_t *a, size_t idx)
{
	const uint8_t *f[5] = {d->name, d->identity, d->website, d->security_contact, d->details};
	size_t l[5] = {d->name_len, d->identity_len, d->website_len, d->security_contact_len,
	               d->details_len};
	for (int i = 0; i < 5; i++) {
		const char *s = json_string_value(json_array_get(a, (size_t)i));
		cr_assert_eq(l[i], strlen(s), "description %d, vector %zu", i, idx);
		cr_assert(memcmp(f[i], s, l[i]) == 0);
	}
}

Test(core_stx, harmony_sdk_vectors)
{
	json_t *j = tu_load_json("harmony-tx/harmony_staking.json");
	json_t *txs = json_object_get(j, "staking");
	size_t i, n = 0, per[5] = {0};
	json_t *v;
	json_array_foreach(txs, i, v) {
		size_t rl;
		uint8_t *raw = tu_hex(jstr(v, "raw"), &rl);
		struct stx stx;
		cr_assert_eq(stx_decode(&stx, raw, rl), 0, "decode, vector %zu", i);
		uint8_t *enc;
		size_t el;
		cr_assert_eq(stx_encode(&stx, &enc, &el), 0);
		cr_assert(el == rl && memcmp(enc, raw, rl) == 0, "re-encoding, vector %zu", i);
		free(enc);

		int dir = (int)json_integer_value(json_object_get(v, "directive"));
		cr_assert_eq((int)stx.directive, dir);
		per[dir]++;
		cr_assert_eq(stx.chain_id, (uint64_t)json_integer_value(json_object_get(v, "chainId")));
		struct u256 wv = u256_from_u64((uint64_t)json_integer_value(json_object_get(v, "v")));
		cr_assert(u256_eq(&stx.v, &wv));

		uint8_t h[32], addr[20];
		cr_assert_eq(stx_hash(&stx, h), 0);
		expect_hex(h, 32, jstr(v, "hash"), "hash", i);
		cr_assert_eq(stx_signing_hash(&stx, h), 0);
		expect_hex(h, 32, jstr(v, "signingHash"), "signing hash", i);
		size_t ul;
		uint8_t *unsig = tu_hex(jstr(v, "unsignedRaw"), &ul);
		uint8_t hu[32];
		keccak256(unsig, ul, hu);
		cr_assert(memcmp(hu, h, 32) == 0);
		free(unsig);
		cr_assert_eq(stx_sender(&stx, addr), 0, "sender, vector %zu", i);
		char hex[ADDR_HEX_LEN + 1];
		addr_to_hex(addr, hex);
		cr_assert_str_eq(hex, jstr(v, "sender"));
		cr_assert(memcmp(stx_expected_signer(&stx), addr, 20) == 0, "signer, vector %zu", i);

		json_t *f = json_object_get(v, "fields");
		switch (stx.directive) {
		case STX_CREATE_VALIDATOR: {
			struct stx_create_validator *m = &stx.msg.create;
			cr_assert_eq(m->has_slot_key_sigs, 0);   /* the SDK's 7-field form */
			expect_one(m->validator, f, "validatorAddress", i);
			expect_desc(&m->desc, json_object_get(f, "description"), i);
			json_t *cr = json_object_get(f, "commissionRates");
			expect_dec(&m->rate, jstr(cr, "rate"), i);
			expect_dec(&m->max_rate, jstr(cr, "maxRate"), i);
			expect_dec(&m->max_change_rate, jstr(cr, "maxChangeRate"), i);
			expect_int(&m->min_self_delegation, f, "minSelfDelegation", i);
			expect_int(&m->max_total_delegation, f, "maxTotalDelegation", i);
			expect_int(&m->amount, f, "amount", i);
			json_t *keys = json_object_get(f, "slotPubKeys");
			cr_assert_eq(m->nslot_keys, json_array_size(keys));
			for (size_t k = 0; k < m->nslot_keys; k++)
				expect_hex(m->slot_keys[k], 48, json_string_value(json_array_get(keys, k)),
				           "slot key", i);
			break;
		}
		case STX_EDIT_VALIDATOR: {
			struct stx_edit_validator *m = &stx.msg.edit;
			cr_assert_eq(m->has_sig_and_status, 0);
			expect_one(m->validator, f, "validatorAddress", i);
			expect_desc(&m->desc, json_object_get(f, "description"), i);
			cr_assert(m->has_rate);
			expect_dec(&m->rate, jstr(f, "commissionRate"), i);
			expect_int(&m->min_self_delegation, f, "minSelfDelegation", i);
			expect_int(&m->max_total_delegation, f, "maxTotalDelegation", i);
			cr_assert(m->has_key_to_remove && m->has_key_to_add);
			expect_hex(m->key_to_remove, 48, jstr(f, "slotKeyToRemove"), "remove", i);
			expect_hex(m->key_to_add, 48, jstr(f, "slotKeyToAdd"), "add", i);
			break;
		}
		case STX_DELEGATE:
		case STX_UNDELEGATE:
			expect_one(stx.msg.delegate.delegator, f, "delegatorAddress", i);
			expect_one(stx.msg.delegate.validator, f, "validatorAddress", i);
			expect_int(&stx.msg.delegate.amount, f, "amount", i);
			break;
		case STX_COLLECT_REWARDS:
			expect_one(stx.msg.collect_delegator, f, "delegatorAddress", i);
			break;
		}

		/* Re-signing from the key reproduces the signature (RFC 6979). */
		size_t kl;
		uint8_t *key = tu_hex(jstr(v, "privateKey"), &kl);
		struct u256 r = stx.r, s = stx.s;
		stx.r = stx.s = u256_from_u64(0);
		cr_assert_eq(stx_sign(&stx, key), 0);
		cr_assert(u256_eq(&r, &stx.r) && u256_eq(&s, &stx.s) && u256_eq(&wv, &stx.v));
		free(key);

		/* Truncations never decode. */
		struct stx bad;
		for (size_t cut = 1; cut < rl; cut += 7)
			cr_assert_neq(stx_decode(&bad, raw, rl - cut), 0);
		stx_free(&stx);
		free(raw);
		n++;
	}
	cr_assert_eq(n, 30);
	for (int d = 0; d < 5; d++)
		cr_assert_eq(per[d], 6, "directive %d", d);
	json_decref(j);
	tu_report("harmony staking transactions", n);
}

/* The current node's message forms (with slot key signatures, and with the
 * key-add signature and status) round-trip and sign too. */
Test(core_stx, current_forms_round_trip)
{
	uint8_t key[32];
	memset(key, 0x11, 32);
	uint8_t addr[20];
	cr_assert_eq(addr_from_secret(key, addr), 0);

	struct stx c = {.directive = STX_CREATE_VALIDATOR, .nonce = 3, .gas_limit = 5300000,
	                .chain_id = 2};
	c.gas_price = u256_from_u64(100000000000ull);
	struct stx_create_validator *m = &c.msg.create;
	memcpy(m->validator, addr, 20);
	memcpy(m->desc.name, "val", 3);
	m->desc.name_len = 3;
	m->rate = u256_from_u64(100000000000000000ull);
	m->max_rate = u256_from_u64(900000000000000000ull);
	m->max_change_rate = u256_from_u64(50000000000000000ull);
	m->min_self_delegation = u256_from_u64(10000);
	m->max_total_delegation = u256_from_u64(20000);
	m->amount = u256_from_u64(10000);
	m->has_slot_key_sigs = 1;
	m->nslot_keys = m->nslot_key_sigs = 2;
	m->slot_keys = calloc(2, 48);
	m->slot_key_sigs = calloc(2, 96);
	memset(m->slot_keys[1], 0xab, 48);
	memset(m->slot_key_sigs[1], 0xcd, 96);
	cr_assert_eq(stx_sign(&c, key), 0);
	uint8_t *enc;
	size_t el;
	cr_assert_eq(stx_encode(&c, &enc, &el), 0);
	struct stx d;
	cr_assert_eq(stx_decode(&d, enc, el), 0);
	cr_assert_eq(d.msg.create.has_slot_key_sigs, 1);
	cr_assert_eq(d.msg.create.nslot_key_sigs, 2);
	cr_assert(memcmp(d.msg.create.slot_key_sigs[1], m->slot_key_sigs[1], 96) == 0);
	uint8_t who[20];
	cr_assert_eq(stx_sender(&d, who), 0);
	cr_assert(memcmp(who, addr, 20) == 0);
	stx_free(&d);
	free(enc);
	stx_free(&c);

	struct stx e = {.directive = STX_EDIT_VALIDATOR, .chain_id = 1};
	memcpy(e.msg.edit.validator, addr, 20);
	e.msg.edit.has_sig_and_status = 1;
	e.msg.edit.has_key_to_add = e.msg.edit.has_key_to_add_sig = 1;
	e.msg.edit.epos_status = 2;
	cr_assert_eq(stx_sign(&e, key), 0);
	cr_assert_eq(stx_encode(&e, &enc, &el), 0);
	cr_assert_eq(stx_decode(&d, enc, el), 0);
	cr_assert_eq(d.msg.edit.has_rate, 0);
	cr_assert_eq(d.msg.edit.epos_status, 2);
	cr_assert_eq(d.msg.edit.has_key_to_remove, 0);
	cr_assert_eq(d.msg.edit.has_key_to_add_sig, 1);
	cr_assert_eq(stx_sender(&d, who), 0);
	cr_assert(memcmp(who, addr, 20) == 0);
	stx_free(&d);
	free(enc);
}

/* Envelope of a Delegate message with chosen directive, v and message. */
static void build(struct rlp_enc *e, uint64_t directive, uint64_t v, int long_name, int nkeys)
{
	rlp_enc_init(e);
	rlp_list_begin(e);
	rlp_put_u64(e, directive);
	rlp_list_begin(e);
	uint8_t addr[20] = {1}, name[141], key[48] = {2};
	memset(name, 'a', sizeof name);
	rlp_put_bytes(e, addr, 20);
	if (long_name || nkeys) {          /* a CreateValidator message */
		rlp_list_begin(e);
		rlp_put_bytes(e, name, long_name ? 141 : 3);
		for (int i = 0; i < 4; i++)
			rlp_put_bytes(e, "", 0);
		rlp_list_end(e);
		rlp_list_begin(e);
		for (int i = 0; i < 3; i++) {
			rlp_list_begin(e);
			rlp_put_u64(e, 1);
			rlp_list_end(e);
		}
		rlp_list_end(e);
		rlp_put_u64(e, 1);
		rlp_put_u64(e, 1);
		rlp_list_begin(e);
		for (int i = 0; i < nkeys; i++)
			rlp_put_bytes(e, key, 48);
		rlp_list_end(e);
		rlp_put_u64(e, 1);
	} else {
		rlp_put_bytes(e, addr, 20);
		rlp_put_u64(e, 5);
	}
	rlp_list_end(e);
	rlp_put_u64(e, 0);
	rlp_put_u64(e, 1);
	rlp_put_u64(e, 25000);
	rlp_put_u64(e, v);
	rlp_put_u64(e, 1);
	rlp_put_u64(e, 1);
	rlp_list_end(e);
}

static int try_decode(uint64_t directive, uint64_t v, int long_name, int nkeys)
{
	struct rlp_enc e;
	build(&e, directive, v, long_name, nkeys);
	uint8_t *buf;
	size_t len;
	cr_assert_eq(rlp_enc_finish(&e, &buf, &len), 0);
	rlp_enc_free(&e);
	struct stx s;
	int rc = stx_decode(&s, buf, len);
	if (!rc)
		stx_free(&s);
	free(buf);
	return rc;
}

Test(core_stx, hostile_messages_refused)
{
	cr_assert_eq(try_decode(STX_DELEGATE, 37, 0, 0), 0);
	cr_assert_eq(try_decode(5, 37, 0, 0), -CN_EINVAL);          /* no such directive */
	cr_assert_eq(try_decode(STX_DELEGATE, 27, 0, 0), -CN_EINVAL); /* unprotected */
	cr_assert_eq(try_decode(STX_DELEGATE, 36, 0, 0), -CN_EINVAL); /* chain ID 0 */
	cr_assert_eq(try_decode(STX_CREATE_VALIDATOR, 37, 0, 1), 0);
	cr_assert_eq(try_decode(STX_CREATE_VALIDATOR, 37, 1, 1), -CN_ELIMIT);
	cr_assert_eq(try_decode(STX_CREATE_VALIDATOR, 37, 0, STX_MAX_SLOT_KEYS), 0);
	cr_assert_eq(try_decode(STX_CREATE_VALIDATOR, 37, 0, STX_MAX_SLOT_KEYS + 1), -CN_ELIMIT);
	/* A Delegate body under the CreateValidator directive has the wrong shape. */
	cr_assert_neq(try_decode(STX_CREATE_VALIDATOR, 37, 0, 0), 0);
}
