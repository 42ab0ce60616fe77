/* bls.h — BLS12-381 signatures for canon (consensus votes, validator keys).
 *
 * Ciphersuite BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_ of the IETF BLS
 * signature draft, as used by Ethereum and Harmony: public keys are points of
 * G1 (48 bytes compressed), signatures points of G2 (96 bytes compressed),
 * messages are hashed to G2 with RFC 9380 (expand_message_xmd over SHA-256,
 * simplified SWU, 3-isogeny). Rogue-key attacks are countered with proofs of
 * possession (bls_pop_prove / bls_pop_verify), which is what makes
 * bls_fast_aggregate_verify safe; a node must only aggregate keys whose proof
 * it has checked once.
 *
 * Encodings follow ZCash/Ethereum: big-endian x (G2: x.c1 || x.c0) with three
 * flag bits in the top of the first byte: 0x80 compressed, 0x40 infinity,
 * 0x20 sign of y (the lexicographically larger root). Decoding rejects wrong
 * lengths, bad or non-canonical flags, x >= p, points off the curve and points
 * outside the prime-order subgroup (bls_sig_from_bytes_unchecked and
 * bls_aggregate_sigs_from_bytes defer the last check, see there).
 *
 * The structs below have a fixed size so they can live in arrays and other
 * structs, but their contents are private (affine Montgomery coordinates);
 * only the functions here may read or write them. Operations on secret keys
 * (KeyGen, SkToPk, Sign, PopProve) run in constant time.
 *
 * Functions that return int give 0 on success, -CN_EINVAL for a malformed or
 * invalid input and -CN_EVERIFY for a signature that does not verify. */
#ifndef CANON_CRYPTO_BLS_H
#define CANON_CRYPTO_BLS_H

#include <stddef.h>
#include <stdint.h>

#define BLS_SK_LEN 32              /* big-endian scalar, 0 < sk < r */
#define BLS_PK_LEN 48              /* compressed G1 */
#define BLS_PK_UNCOMPRESSED_LEN 96
#define BLS_SIG_LEN 96             /* compressed G2 */
#define BLS_SIG_UNCOMPRESSED_LEN 192

/* The ciphersuite's domain separation tags. */
#define BLS_DST_SIG "BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_"
#define BLS_DST_POP "BLS_POP_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_"

/* A secret scalar modulo r (little-endian limbs; wipe with bytes_wipe). */
struct bls_secret_key {
	uint64_t l[4];
};

/* A point of G1 (affine; `inf` set for the identity). Private layout. */
struct bls_public_key {
	uint64_t x[6], y[6];
	uint64_t inf;
};

/* A point of G2 (affine over Fp2; `inf` set for the identity). Private layout. */
struct bls_signature {
	uint64_t x[12], y[12];
	uint64_t inf;
};

/* KeyGen of the draft (HKDF-SHA256, salt "BLS-SIG-KEYGEN-SALT-" hashed until
 * the key is nonzero). ikm must be at least 32 bytes (-CN_EINVAL otherwise);
 * key_info may be empty (NULL with info_len 0). */
int bls_keygen(const uint8_t *ikm, size_t ikm_len, const uint8_t *key_info, size_t info_len,
               struct bls_secret_key *sk);

/* 32 big-endian bytes; -CN_EINVAL unless 0 < value < r. */
int bls_sk_from_bytes(const uint8_t in[BLS_SK_LEN], struct bls_secret_key *sk);
void bls_sk_to_bytes(const struct bls_secret_key *sk, uint8_t out[BLS_SK_LEN]);

/* SkToPk: pk = sk * g1. */
void bls_sk_to_pk(const struct bls_secret_key *sk, struct bls_public_key *pk);

/* Public keys. Decoding performs KeyValidate: on the curve, in the subgroup
 * and not the identity. */
int bls_pk_from_bytes(const uint8_t in[BLS_PK_LEN], struct bls_public_key *pk);
int bls_pk_from_bytes_uncompressed(const uint8_t in[BLS_PK_UNCOMPRESSED_LEN],
                                   struct bls_public_key *pk);
void bls_pk_to_bytes(const struct bls_public_key *pk, uint8_t out[BLS_PK_LEN]);
void bls_pk_to_bytes_uncompressed(const struct bls_public_key *pk,
                                  uint8_t out[BLS_PK_UNCOMPRESSED_LEN]);
/* 1 if equal (same group element), 0 otherwise. */
int bls_pk_equal(const struct bls_public_key *a, const struct bls_public_key *b);

/* Signatures. Decoding checks the curve and the subgroup; the identity is a
 * valid encoding (it is what an aggregate of s and -s is) but never verifies. */
int bls_sig_from_bytes(const uint8_t in[BLS_SIG_LEN], struct bls_signature *sig);
int bls_sig_from_bytes_uncompressed(const uint8_t in[BLS_SIG_UNCOMPRESSED_LEN],
                                    struct bls_signature *sig);

/* Decoding without the subgroup check, for signatures that will only be
 * summed: each rejects exactly what its checked counterpart rejects (flags,
 * coordinates >= p, no point on E2 with that x / (x, y) not on E2) except
 * points of E2 outside G2. The uncompressed form needs no square root, which
 * is why FBFT votes carry it (docs/consensus.md). Such a value
 * must not be verified, stored or forwarded on its own until
 * bls_sig_check_subgroup (0 if sig is in G2, -CN_EINVAL if not) accepts it.
 * Why skipping the check is sound for aggregation: FastAggregateVerify only
 * pairs the aggregate, and the IETF draft's Aggregate does not check its
 * inputs; CoreVerify checks the aggregate, which is the value whose
 * membership in G2 the pairing argument needs. Terms outside G2 whose
 * non-G2 parts cancel change nothing: the G2 parts then sum to the same
 * aggregate, which verifies only if every key signed (proofs of possession,
 * see above). Public keys are a different matter: each must pass KeyValidate
 * on its own, which bls_pk_from_bytes does. */
int bls_sig_from_bytes_unchecked(const uint8_t in[BLS_SIG_LEN], struct bls_signature *sig);
int bls_sig_from_bytes_uncompressed_unchecked(const uint8_t in[BLS_SIG_UNCOMPRESSED_LEN],
                                              struct bls_signature *sig);
int bls_sig_check_subgroup(const struct bls_signature *sig);
void bls_sig_to_bytes(const struct bls_signature *sig, uint8_t out[BLS_SIG_LEN]);
void bls_sig_to_bytes_uncompressed(const struct bls_signature *sig,
                                   uint8_t out[BLS_SIG_UNCOMPRESSED_LEN]);
int bls_sig_equal(const struct bls_signature *a, const struct bls_signature *b);

/* Sign: sig = sk * H(msg) with the signature DST. */
void bls_sign(const struct bls_secret_key *sk, const uint8_t *msg, size_t len,
              struct bls_signature *sig);

/* Several keys of one node sign the same message: the result equals
 * bls_aggregate_sigs of the n single signatures (n >= 1, else -CN_EINVAL). */
int bls_sign_multi(const struct bls_secret_key *sks, size_t n, const uint8_t *msg, size_t len,
                   struct bls_signature *sig);

/* 0 if sig is a valid signature of msg under pk, -CN_EVERIFY otherwise (also
 * for an identity pk or identity signature). */
int bls_verify(const struct bls_public_key *pk, const uint8_t *msg, size_t len,
               const struct bls_signature *sig);

/* Sums of points. n == 0 gives -CN_EINVAL. */
int bls_aggregate_sigs(const struct bls_signature *sigs, size_t n, struct bls_signature *out);
int bls_aggregate_pks(const struct bls_public_key *pks, size_t n, struct bls_public_key *out);
/* Decodes n compressed signatures stored back to back (in, n * BLS_SIG_LEN
 * bytes) without subgroup checks, sums them and subgroup-checks only the sum:
 * -CN_EINVAL if any encoding is bad or off the curve, or if the sum is not in
 * G2 (then some term is not in G2 either, and the caller must find it by
 * checking the terms one by one with bls_sig_from_bytes). n == 0 →
 * -CN_EINVAL. About n times cheaper in subgroup checks than decoding each
 * with bls_sig_from_bytes and calling bls_aggregate_sigs. */
int bls_aggregate_sigs_from_bytes(const uint8_t *in, size_t n, struct bls_signature *out);
/* The same over uncompressed encodings (n * BLS_SIG_UNCOMPRESSED_LEN bytes):
 * no square roots, so decoding is a few multiplications per signature. */
int bls_aggregate_sigs_from_bytes_uncompressed(const uint8_t *in, size_t n, struct bls_signature *out);

/* All n keys signed the same msg and sig is their aggregate. Requires proofs
 * of possession for the keys. n == 0 → -CN_EVERIFY. */
int bls_fast_aggregate_verify(const struct bls_public_key *pks, size_t n, const uint8_t *msg,
                              size_t len, const struct bls_signature *sig);

/* pks[i] signed msgs[i] (lens[i] bytes) and sig aggregates them. The messages
 * must be pairwise distinct (the draft's basic-scheme rule), n >= 1. */
int bls_aggregate_verify(const struct bls_public_key *pks, const uint8_t *const *msgs,
                         const size_t *lens, size_t n, const struct bls_signature *sig);

/* Proof of possession: sk signs the 48-byte encoding of its own public key
 * with the PoP DST. */
void bls_pop_prove(const struct bls_secret_key *sk, struct bls_signature *proof);
int bls_pop_verify(const struct bls_public_key *pk, const struct bls_signature *proof);

/* One (public key, message, signature) triple of a batch. */
struct bls_batch_item {
	const struct bls_public_key *pk;
	const uint8_t *msg;
	size_t msg_len;
	const struct bls_signature *sig;
};

/* Verifies n independent signatures at once with a random linear combination
 * (64-bit random scalars): 0 only if (with overwhelming probability) every one
 * verifies, -CN_EVERIFY if any does not; it does not say which. The scalars
 * are derived from seed (32 bytes) when given, else from libsodium's
 * randombytes. n == 0 → -CN_EVERIFY. */
int bls_batch_verify(const struct bls_batch_item *items, size_t n, const uint8_t *seed32);

#endif
