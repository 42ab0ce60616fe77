/* secp256k1 against ../shared/testdata/tx/secp256k1.json and
 * tx/ethers_transactions.json (ethers 6.17, re-checked with libsecp256k1 and
 * XKCP by the generator), plus Ethereum's acceptance rules. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <string.h>

#include "base/bytes.h"
#include "base/err.h"
#include "crypto/crypto.h"
#include "testutil.h"

static const char *jstr(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	cr_assert(s, "missing %s", k);
	return s;
}

/* Hex into a fixed-size buffer; the vector must have exactly that size. */
static void hex_fixed(const char *hex, uint8_t *out, size_t len)
{
	size_t n;
	uint8_t *b = tu_hex(hex, &n);
	cr_assert_eq(n, len, "%s: %zu bytes, want %zu", hex, n, len);
	memcpy(out, b, len);
	free(b);
}

/* 32-byte big-endian number from a 0x quantity that may have lost leading
 * zeros (ethers prints r and s as full 32 bytes, but do not rely on it). */
static void quantity32(const char *hex, uint8_t out[32])
{
	size_t n;
	uint8_t *b = tu_hex(hex, &n);
	cr_assert(n <= 32);
	memset(out, 0, 32);
	memcpy(out + 32 - n, b, n);
	free(b);
}

Test(secp, key_address_sign_recover_vectors)
{
	json_t *j = tu_load_json("tx/secp256k1.json");
	json_t *vs = json_object_get(j, "vectors");
	cr_assert(json_array_size(vs) > 0);
	size_t i, n = 0;
	json_t *v;
	json_array_foreach(vs, i, v) {
		uint8_t sk[32], pub65[65], hash[32], want_sig[65], pub[64], addr[20], sig[65];
		hex_fixed(jstr(v, "privateKey"), sk, 32);
		hex_fixed(jstr(v, "publicKeyUncompressed"), pub65, 65);
		hex_fixed(jstr(v, "messageHash"), hash, 32);
		json_t *js = json_object_get(v, "signature");
		hex_fixed(jstr(js, "compact65"), want_sig, 65);
		uint8_t r[32], s[32];
		quantity32(jstr(js, "r"), r);
		quantity32(jstr(js, "s"), s);
		int vv = (int)json_integer_value(json_object_get(js, "v"));
		int yp = (int)json_integer_value(json_object_get(js, "yParity"));
		cr_assert(memcmp(r, want_sig, 32) == 0 && memcmp(s, want_sig + 32, 32) == 0);
		cr_assert_eq(vv, 27 + yp);
		cr_assert_eq(want_sig[64], vv);

		cr_assert_eq(secp_secret_check(sk), 0);
		cr_assert_eq(secp_pubkey_from_secret(sk, pub), 0);
		cr_assert_eq(pub65[0], 0x04);
		cr_assert(memcmp(pub, pub65 + 1, 64) == 0, "vector %zu: public key", i);
		cr_assert_eq(secp_pubkey_check(pub), 0);

		char text[ADDR_HEX_LEN + 1];
		addr_from_pubkey(pub, addr);
		addr_to_hex(addr, text);
		cr_assert_str_eq(text, jstr(v, "address"), "vector %zu", i);
		uint8_t want_addr[20];
		hex_fixed(jstr(v, "addressLower"), want_addr, 20);
		cr_assert(memcmp(addr, want_addr, 20) == 0);
		uint8_t addr2[20];
		cr_assert_eq(addr_from_secret(sk, addr2), 0);
		cr_assert(memcmp(addr2, addr, 20) == 0);

		/* RFC 6979 makes signing deterministic: r, s and v byte for byte. */
		cr_assert_eq(secp_sign_recoverable(sk, hash, sig), 0);
		cr_assert(memcmp(sig, want_sig, 64) == 0, "vector %zu: r||s", i);
		cr_assert_eq(sig[64], yp, "vector %zu: recovery id", i);

		/* Recovery from the vector's own signature gives the signer. */
		uint8_t in[65], rec[64], rec_addr[20];
		memcpy(in, want_sig, 64);
		in[64] = (uint8_t)yp;
		cr_assert_eq(secp_recover(hash, in, rec), 0);
		cr_assert(memcmp(rec, pub, 64) == 0, "vector %zu: recovered key", i);
		addr_from_pubkey(rec, rec_addr);
		addr_to_hex(rec_addr, text);
		cr_assert_str_eq(text, jstr(v, "recoveredAddress"));
		cr_assert_eq(secp_verify(hash, in, pub), 0);

		/* The other parity recovers a different key (or none). */
		in[64] ^= 1;
		int rc = secp_recover(hash, in, rec);
		cr_assert(rc == -CN_EVERIFY || (rc == 0 && memcmp(rec, pub, 64) != 0));
		n++;
	}
	json_decref(j);
	tu_report("secp256k1 keys/addresses/signatures", n);
}

Test(secp, ethers_transaction_senders)
{
	json_t *j = tu_load_json("tx/ethers_transactions.json");
	json_t *txs = json_object_get(j, "transactions");
	cr_assert(json_array_size(txs) > 0);
	size_t i, n = 0;
	json_t *t;
	json_array_foreach(txs, i, t) {
		uint8_t hash[32], sig[65], pub[64], addr[20];
		hex_fixed(jstr(t, "signingHash"), hash, 32);
		json_t *js = json_object_get(t, "signature");
		quantity32(jstr(js, "r"), sig);
		quantity32(jstr(js, "s"), sig + 32);
		json_int_t yp = json_integer_value(json_object_get(js, "yParity"));
		cr_assert(yp == 0 || yp == 1);
		sig[64] = (uint8_t)yp;
		cr_assert_eq(secp_recover(hash, sig, pub), 0, "tx %zu", i);
		addr_from_pubkey(pub, addr);
		char text[ADDR_HEX_LEN + 1];
		addr_to_hex(addr, text);
		cr_assert_str_eq(text, jstr(t, "sender"), "tx %zu", i);
		n++;
	}
	json_decref(j);
	tu_report("ethers tx sender recovery", n);
}

/* n - s for a 32-byte big-endian s < n. */
static void negate_mod_n(const uint8_t s[32], uint8_t out[32])
{
	static const uint8_t n[32] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe,
		0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48, 0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41,
	};
	int borrow = 0;
	for (int i = 31; i >= 0; i--) {
		int d = n[i] - s[i] - borrow;
		borrow = d < 0;
		out[i] = (uint8_t)(d + (borrow ? 256 : 0));
	}
}

Test(secp, ethereum_acceptance_rules)
{
	uint8_t sk[32], pub[64], hash[32], sig[65], rec[64], bad[65];
	cr_assert_eq(secp_keygen(sk), 0);
	cr_assert_eq(secp_pubkey_from_secret(sk, pub), 0);
	keccak256("canon", 5, hash);
	cr_assert_eq(secp_sign_recoverable(sk, hash, sig), 0);
	cr_assert(sig[64] <= 1);
	cr_assert_eq(secp_recover(hash, sig, rec), 0);
	cr_assert(memcmp(rec, pub, 64) == 0);

	/* High s: the malleated twin (n - s, flipped parity) is the same
	 * signature mathematically. Transactions refuse it; ecrecover takes it. */
	memcpy(bad, sig, 65);
	negate_mod_n(sig + 32, bad + 32);
	bad[64] ^= 1;
	cr_assert_eq(secp_recover(hash, bad, rec), -CN_EINVAL);
	cr_assert_eq(secp_verify(hash, bad, pub), -CN_EINVAL);
	cr_assert_eq(secp_recover_any(hash, bad, rec), 0);
	cr_assert(memcmp(rec, pub, 64) == 0);

	/* Recovery ids other than 0/1 (27/28 is the caller's job to translate). */
	for (int v = 2; v < 256; v += v < 4 ? 1 : 23) {
		memcpy(bad, sig, 65);
		bad[64] = (uint8_t)v;
		cr_assert_eq(secp_recover(hash, bad, rec), -CN_EINVAL, "v=%d", v);
		cr_assert_eq(secp_recover_any(hash, bad, rec), -CN_EINVAL, "v=%d", v);
	}

	/* r or s zero, equal to n, or all ones. */
	static const uint8_t n_be[32] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe,
		0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48, 0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41,
	};
	for (int part = 0; part < 2; part++) {
		memcpy(bad, sig, 65);
		memset(bad + 32 * part, 0, 32);
		cr_assert_eq(secp_recover_any(hash, bad, rec), -CN_EINVAL);
		cr_assert_eq(secp_verify(hash, bad, pub), -CN_EINVAL);
		memcpy(bad + 32 * part, n_be, 32);
		cr_assert_eq(secp_recover_any(hash, bad, rec), -CN_EINVAL);
		memset(bad + 32 * part, 0xff, 32);
		cr_assert_eq(secp_recover_any(hash, bad, rec), -CN_EINVAL);
	}

	/* r that is no curve point's x: x = 5 has no y on y^2 = x^3 + 7
	 * (132 is not a square mod p); recovery finds no key. */
	memcpy(bad, sig, 65);
	memset(bad, 0, 32);
	bad[31] = 5;
	cr_assert_eq(secp_recover(hash, bad, rec), -CN_EVERIFY);

	/* Wrong hash, wrong key. */
	uint8_t h2[32];
	memcpy(h2, hash, 32);
	h2[0] ^= 1;
	cr_assert_eq(secp_verify(h2, sig, pub), -CN_EVERIFY);
	cr_assert_eq(secp_recover(h2, sig, rec), 0);
	cr_assert(memcmp(rec, pub, 64) != 0);
	uint8_t sk2[32], pub2[64];
	cr_assert_eq(secp_keygen(sk2), 0);
	cr_assert(memcmp(sk, sk2, 32) != 0);
	cr_assert_eq(secp_pubkey_from_secret(sk2, pub2), 0);
	cr_assert_eq(secp_verify(hash, sig, pub2), -CN_EVERIFY);

	/* A point off the curve is not a public key. */
	memcpy(pub2, pub, 64);
	pub2[63] ^= 1;
	cr_assert_eq(secp_pubkey_check(pub2), -CN_EINVAL);
	cr_assert_eq(secp_verify(hash, sig, pub2), -CN_EINVAL);

	/* Secrets must be in [1, n-1]. */
	uint8_t zero[32] = {0};
	cr_assert_eq(secp_secret_check(zero), -CN_EINVAL);
	cr_assert_eq(secp_pubkey_from_secret(zero, pub2), -CN_EINVAL);
	cr_assert_eq(secp_sign_recoverable(zero, hash, bad), -CN_EINVAL);
	cr_assert_eq(secp_secret_check(n_be), -CN_EINVAL);
	bytes_wipe(sk, sizeof sk);
	bytes_wipe(sk2, sizeof sk2);
}

/* The context is created on first use; several threads racing to be first
 * must all get a working context (pthread_once) and correct answers. */
struct race {
	uint8_t sk[32], hash[32];
	int ok;
};

static void *race_thread(void *arg)
{
	struct race *r = arg;
	uint8_t pub[64], sig[65], rec[64];
	r->ok = secp_pubkey_from_secret(r->sk, pub) == 0 && secp_sign_recoverable(r->sk, r->hash, sig) == 0 &&
	        secp_recover(r->hash, sig, rec) == 0 && memcmp(rec, pub, 64) == 0 &&
	        secp_verify(r->hash, sig, pub) == 0;
	return NULL;
}

Test(secp, first_use_from_many_threads)
{
	enum { T = 8 };
	pthread_t th[T];
	struct race r[T];
	for (int i = 0; i < T; i++) {
		memset(r[i].sk, 0, 32);
		r[i].sk[31] = (uint8_t)(i + 1);
		keccak256(&i, sizeof i, r[i].hash);
		r[i].ok = 0;
	}
	for (int i = 0; i < T; i++)
		cr_assert_eq(pthread_create(&th[i], NULL, race_thread, &r[i]), 0);
	for (int i = 0; i < T; i++) {
		pthread_join(th[i], NULL);
		cr_assert(r[i].ok, "thread %d", i);
	}
}
