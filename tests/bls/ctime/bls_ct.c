/* bls_ct.c — checks that BLS secret-key code does not branch on or index
 * memory with secret data (the technique of libsecp256k1's ctime_tests).
 *
 * The secret inputs are marked undefined with valgrind's client requests;
 * memcheck then reports every conditional jump or address that depends on
 * them. Results that are public by nature (a public key, a signature, "the
 * key is zero") are declassified inside the library. Run it as
 *   valgrind --error-exitcode=1 ./bls_ct
 * tests/cli.d/bls_ct.sh does that during `make test`. */
#include <stdio.h>
#include <string.h>
#include <valgrind/memcheck.h>

#include "crypto/bls.h"

#define SECRET(p, n) VALGRIND_MAKE_MEM_UNDEFINED((p), (n))
#define PUBLIC(p, n) VALGRIND_MAKE_MEM_DEFINED((p), (n))

int main(void)
{
	uint8_t ikm[32], info[4] = {'c', 't', 0, 1}, msg[32], skb[32];
	struct bls_secret_key sk, sks[3];
	struct bls_public_key pk;
	struct bls_signature sig, multi, proof;
	int rc, fails = 0;

	for (int i = 0; i < 32; i++) {
		ikm[i] = (uint8_t)(i * 7 + 3);
		msg[i] = (uint8_t)i;
	}
	SECRET(ikm, sizeof ikm);
	rc = bls_keygen(ikm, sizeof ikm, info, sizeof info, &sk);
	PUBLIC(&rc, sizeof rc);
	fails += rc != 0;

	SECRET(&sk, sizeof sk);
	bls_sk_to_pk(&sk, &pk);
	bls_sign(&sk, msg, sizeof msg, &sig);
	bls_pop_prove(&sk, &proof);
	bls_sk_to_bytes(&sk, skb);
	for (int i = 0; i < 3; i++) {
		uint8_t b[32];
		memcpy(b, skb, 32);
		b[31] ^= (uint8_t)(i + 1);
		rc = bls_sk_from_bytes(b, &sks[i]);
		PUBLIC(&rc, sizeof rc);
		fails += rc != 0;
	}
	rc = bls_sign_multi(sks, 3, msg, sizeof msg, &multi);
	PUBLIC(&rc, sizeof rc);
	fails += rc != 0;

	/* the results are public: check them without tripping memcheck */
	PUBLIC(&sk, sizeof sk);
	PUBLIC(sks, sizeof sks);
	PUBLIC(&pk, sizeof pk);
	PUBLIC(&sig, sizeof sig);
	PUBLIC(&multi, sizeof multi);
	PUBLIC(&proof, sizeof proof);
	fails += bls_verify(&pk, msg, sizeof msg, &sig) != 0;
	fails += bls_pop_verify(&pk, &proof) != 0;
	struct bls_public_key pks[3];
	for (int i = 0; i < 3; i++)
		bls_sk_to_pk(&sks[i], &pks[i]);
	fails += bls_fast_aggregate_verify(pks, 3, msg, sizeof msg, &multi) != 0;
	if (fails) {
		fprintf(stderr, "bls_ct: %d functional failures\n", fails);
		return 1;
	}
	return 0;
}
