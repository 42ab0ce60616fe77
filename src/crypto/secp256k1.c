/* secp256k1.c — recoverable ECDSA and account addresses on libsecp256k1.
 *
 * libsecp256k1 does the curve work in constant time; this file owns the
 * process-wide context, translates between Ethereum's r || s || v and the
 * library's types, and applies Ethereum's acceptance rules (crypto.h) before
 * the library sees a signature, so that every caller gets the same answer a Go
 * node would give. */
#include "crypto/crypto.h"

#include <pthread.h>
#include <secp256k1.h>
#include <secp256k1_recovery.h>
#include <sodium.h>
#include <string.h>

#include "base/bytes.h"
#include "base/err.h"

/* The group order n and n/2, big-endian, for the range checks Ethereum makes
 * on r and s (go-ethereum crypto.ValidateSignatureValues). */
static const uint8_t order_n[32] = {
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe,
	0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48, 0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41,
};
static const uint8_t half_n[32] = {
	0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0x5d, 0x57, 0x6e, 0x73, 0x57, 0xa4, 0x50, 0x1d, 0xdf, 0xe9, 0x2f, 0x46, 0x68, 0x1b, 0x20, 0xa0,
};

static pthread_once_t ctx_once = PTHREAD_ONCE_INIT;
static secp256k1_context *ctx;

static void ctx_create(void)
{
	if (sodium_init() < 0)
		return;
	secp256k1_context *c = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
	if (!c)
		return;
	/* Blinding only hardens against side channels; a context that could not be
	 * randomized still computes correct results, but we insist on it because
	 * the seed comes from the OS and cannot fail for a sane process. */
	uint8_t seed[32];
	randombytes_buf(seed, sizeof seed);
	int ok = secp256k1_context_randomize(c, seed);
	bytes_wipe(seed, sizeof seed);
	if (!ok) {
		secp256k1_context_destroy(c);
		return;
	}
	ctx = c;
}

/* The context, or NULL if it could not be created (out of memory). The
 * context is never destroyed: it lives as long as the process. */
static const secp256k1_context *get_ctx(void)
{
	pthread_once(&ctx_once, ctx_create);
	return ctx;
}

/* Big-endian comparison of two 32-byte numbers: <0, 0, >0. Not constant
 * time; used on public signature values only. */
static int cmp32(const uint8_t *a, const uint8_t *b)
{
	return memcmp(a, b, 32);
}

static int is_zero32(const uint8_t *a)
{
	uint8_t acc = 0;
	for (int i = 0; i < 32; i++)
		acc |= a[i];
	return acc == 0;
}

/* Ethereum's rules on r, s, v (see crypto.h). */
static int check_sig_values(const uint8_t *sig, int allow_high_s)
{
	const uint8_t *r = sig, *s = sig + 32;
	if (is_zero32(r) || is_zero32(s) || cmp32(r, order_n) >= 0 || cmp32(s, order_n) >= 0)
		return -CN_EINVAL;
	if (!allow_high_s && cmp32(s, half_n) > 0)
		return -CN_EINVAL;
	return 0;
}

static int pubkey_parse64(const secp256k1_context *c, secp256k1_pubkey *pk, const uint8_t pub[64])
{
	uint8_t ser[65];
	ser[0] = 0x04;
	memcpy(ser + 1, pub, 64);
	return secp256k1_ec_pubkey_parse(c, pk, ser, sizeof ser) ? 0 : -CN_EINVAL;
}

static void pubkey_serialize64(const secp256k1_context *c, const secp256k1_pubkey *pk, uint8_t pub[64])
{
	uint8_t ser[65];
	size_t len = sizeof ser;
	secp256k1_ec_pubkey_serialize(c, ser, &len, pk, SECP256K1_EC_UNCOMPRESSED);
	memcpy(pub, ser + 1, 64);
}

int secp_keygen(uint8_t secret[SECP_SECRET_LEN])
{
	const secp256k1_context *c = get_ctx();
	if (!c)
		return -CN_ENOMEM;
	/* A uniform 256-bit string is out of range with probability ~2^-128;
	 * drawing again keeps the distribution uniform on [1, n-1]. */
	do
		randombytes_buf(secret, SECP_SECRET_LEN);
	while (!secp256k1_ec_seckey_verify(c, secret));
	return 0;
}

int secp_secret_check(const uint8_t secret[SECP_SECRET_LEN])
{
	const secp256k1_context *c = get_ctx();
	if (!c)
		return -CN_ENOMEM;
	return secp256k1_ec_seckey_verify(c, secret) ? 0 : -CN_EINVAL;
}

int secp_pubkey_from_secret(const uint8_t secret[SECP_SECRET_LEN], uint8_t pub[SECP_PUBKEY_LEN])
{
	const secp256k1_context *c = get_ctx();
	if (!c)
		return -CN_ENOMEM;
	secp256k1_pubkey pk;
	if (!secp256k1_ec_pubkey_create(c, &pk, secret))
		return -CN_EINVAL;
	pubkey_serialize64(c, &pk, pub);
	return 0;
}

int secp_pubkey_check(const uint8_t pub[SECP_PUBKEY_LEN])
{
	const secp256k1_context *c = get_ctx();
	if (!c)
		return -CN_ENOMEM;
	secp256k1_pubkey pk;
	return pubkey_parse64(c, &pk, pub);
}

int secp_sign_recoverable(const uint8_t secret[SECP_SECRET_LEN], const uint8_t hash[32],
                          uint8_t sig[SECP_SIG_LEN])
{
	const secp256k1_context *c = get_ctx();
	if (!c)
		return -CN_ENOMEM;
	secp256k1_ecdsa_recoverable_signature rs;
	/* NULL nonce function = secp256k1_nonce_function_rfc6979, the
	 * deterministic nonce every Ethereum signer uses. */
	if (!secp256k1_ecdsa_sign_recoverable(c, &rs, hash, secret, NULL, NULL))
		return -CN_EINVAL;
	int recid;
	secp256k1_ecdsa_recoverable_signature_serialize_compact(c, sig, &recid, &rs);
	bytes_wipe(&rs, sizeof rs);
	/* Ids 2 and 3 need r >= n after reduction, which no one has ever seen;
	 * Ethereum cannot encode them, so refuse rather than emit them. */
	if (recid > 1) {
		bytes_wipe(sig, SECP_SIG_LEN);
		return -CN_ERANGE;
	}
	sig[64] = (uint8_t)recid;
	return 0;
}

static int recover(const uint8_t hash[32], const uint8_t sig[SECP_SIG_LEN], uint8_t pub[SECP_PUBKEY_LEN],
                   int allow_high_s)
{
	const secp256k1_context *c = get_ctx();
	if (!c)
		return -CN_ENOMEM;
	if (sig[64] > 1)
		return -CN_EINVAL;
	int rc = check_sig_values(sig, allow_high_s);
	if (rc)
		return rc;
	secp256k1_ecdsa_recoverable_signature rs;
	if (!secp256k1_ecdsa_recoverable_signature_parse_compact(c, &rs, sig, sig[64]))
		return -CN_EINVAL;
	secp256k1_pubkey pk;
	/* Fails when r is not the x coordinate of a curve point, or the result is
	 * the point at infinity. */
	if (!secp256k1_ecdsa_recover(c, &pk, &rs, hash))
		return -CN_EVERIFY;
	pubkey_serialize64(c, &pk, pub);
	return 0;
}

int secp_recover(const uint8_t hash[32], const uint8_t sig[SECP_SIG_LEN], uint8_t pub[SECP_PUBKEY_LEN])
{
	return recover(hash, sig, pub, 0);
}

int secp_recover_any(const uint8_t hash[32], const uint8_t sig[SECP_SIG_LEN], uint8_t pub[SECP_PUBKEY_LEN])
{
	return recover(hash, sig, pub, 1);
}

int secp_verify(const uint8_t hash[32], const uint8_t sig64[64], const uint8_t pub[SECP_PUBKEY_LEN])
{
	const secp256k1_context *c = get_ctx();
	if (!c)
		return -CN_ENOMEM;
	int rc = check_sig_values(sig64, 0);
	if (rc)
		return rc;
	secp256k1_pubkey pk;
	if ((rc = pubkey_parse64(c, &pk, pub)))
		return rc;
	secp256k1_ecdsa_signature es;
	if (!secp256k1_ecdsa_signature_parse_compact(c, &es, sig64))
		return -CN_EINVAL;
	return secp256k1_ecdsa_verify(c, &es, hash, &pk) ? 0 : -CN_EVERIFY;
}

/* ---- addresses ------------------------------------------------------------ */

void addr_from_pubkey(const uint8_t pub[SECP_PUBKEY_LEN], uint8_t addr[ADDR_LEN])
{
	uint8_t h[KECCAK256_LEN];
	keccak256(pub, SECP_PUBKEY_LEN, h);
	memcpy(addr, h + KECCAK256_LEN - ADDR_LEN, ADDR_LEN);
}

int addr_from_secret(const uint8_t secret[SECP_SECRET_LEN], uint8_t addr[ADDR_LEN])
{
	uint8_t pub[SECP_PUBKEY_LEN];
	int rc = secp_pubkey_from_secret(secret, pub);
	if (rc)
		return rc;
	addr_from_pubkey(pub, addr);
	return 0;
}

/* EIP-55: digit i is upper case iff nibble i of keccak256(lower hex) >= 8. */
static int eip55_upper(const uint8_t h[KECCAK256_LEN], int i)
{
	uint8_t nib = i % 2 ? h[i / 2] & 0x0f : h[i / 2] >> 4;
	return nib >= 8;
}

void addr_to_hex(const uint8_t addr[ADDR_LEN], char out[ADDR_HEX_LEN + 1])
{
	char *d = out + 2;
	out[0] = '0';
	out[1] = 'x';
	hex_encode(addr, ADDR_LEN, d);
	uint8_t h[KECCAK256_LEN];
	keccak256(d, 2 * ADDR_LEN, h);
	for (int i = 0; i < 2 * ADDR_LEN; i++)
		if (d[i] >= 'a' && eip55_upper(h, i))
			d[i] = (char)(d[i] - 'a' + 'A');
}

int addr_from_hex(const char *text, size_t len, uint8_t addr[ADDR_LEN])
{
	if (len != ADDR_HEX_LEN || text[0] != '0' || (text[1] != 'x' && text[1] != 'X'))
		return -CN_EPARSE;
	const char *d = text + 2;
	char lower[2 * ADDR_LEN];
	int has_lower = 0, has_upper = 0;
	for (int i = 0; i < 2 * ADDR_LEN; i++) {
		char ch = d[i];
		if (ch >= 'A' && ch <= 'F') {
			has_upper = 1;
			ch = (char)(ch - 'A' + 'a');
		} else if (ch >= 'a' && ch <= 'f') {
			has_lower = 1;
		} else if (ch < '0' || ch > '9') {
			return -CN_EPARSE;
		}
		lower[i] = ch;
	}
	size_t n;
	if (hex_decode(lower, sizeof lower, addr, ADDR_LEN, &n) || n != ADDR_LEN)
		return -CN_EPARSE;
	if (has_lower && has_upper) {
		uint8_t h[KECCAK256_LEN];
		keccak256(lower, sizeof lower, h);
		for (int i = 0; i < 2 * ADDR_LEN; i++) {
			if (d[i] <= '9')
				continue;
			int upper = d[i] <= 'F';
			if (upper != eip55_upper(h, i)) {
				memset(addr, 0, ADDR_LEN);
				return -CN_EVERIFY;
			}
		}
	}
	return 0;
}
