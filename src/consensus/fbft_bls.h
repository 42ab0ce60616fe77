/* fbft_bls.h — the FBFT signature interface over BLS12-381.
 *
 * Holds the committee's public keys (decoded and validated once) and the
 * secret keys of the keys this node runs, and exposes them as a struct
 * fbft_crypto: 96-byte compressed G2 signatures, aggregation by point
 * addition, FastAggregateVerify over the public keys a bitmap selects.
 * Rogue-key safety of FastAggregateVerify rests on proofs of possession: the
 * caller passes only committee keys whose proof was checked (the staking
 * layer checks it when a key is registered; fbft_bls_check_pops is there for
 * committees that come from elsewhere). */
#ifndef CANON_CONSENSUS_FBFT_BLS_H
#define CANON_CONSENSUS_FBFT_BLS_H

#include <stdint.h>

#include "consensus/fbft.h"
#include "crypto/bls.h"

struct fbft_bls;

/* pks: n compressed public keys in committee order. -CN_EINVAL if one is
 * invalid (KeyValidate). */
int fbft_bls_new(const uint8_t (*pks)[BLS_PK_LEN], uint32_t n, struct fbft_bls **out);
void fbft_bls_free(struct fbft_bls *b);
/* Lets this node sign as committee key `key`; -CN_EINVAL if sk does not
 * belong to that key. The secret is copied and wiped on free. */
int fbft_bls_add_secret(struct fbft_bls *b, uint32_t key, const struct bls_secret_key *sk);
/* Checks a proof of possession for every committee key (pops in order). */
int fbft_bls_check_pops(const struct fbft_bls *b, const uint8_t (*pops)[BLS_SIG_LEN]);
const struct fbft_crypto *fbft_bls_crypto(struct fbft_bls *b);

#endif
