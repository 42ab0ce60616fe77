/* validate.c — checking a proposed block without writing it, and seals. */
#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "base/err.h"
#include "chain/chain_int.h"
#include "state/state.h"
#include "store/store.h"

/* A proposal is validated by every validator before it votes and inserted
 * only once it is final, so validation must leave no trace: it runs in a
 * read transaction (LMDB snapshot) on a state opened fresh at the head
 * root, never on the chain's cached head state, and the transaction is
 * dropped at the end. */
int chain_validate(struct chain *c, const struct block *b, struct chain_why *why)
{
	if (why) {
		why->reason = CHAIN_OK;
		why->tx_index = -1;
		why->msg[0] = 0;
	}
	int rc = chain_check_static_(c, b, why);
	if (rc)
		return rc;
	uint8_t (*senders)[CORE_ADDR_LEN] = NULL;
	if ((rc = chain_recover_senders_(c, b, &senders, why)))
		return rc;
	uint8_t (*hashes)[32] = malloc((b->ntxs ? b->ntxs : 1) * sizeof *hashes);
	if (!hashes) {
		free(senders);
		return -CN_ENOMEM;
	}
	const struct header *h = &b->header;
	struct store_txn *t = NULL;
	struct state *s = NULL;
	struct chain_exec x;
	chain_exec_init(&x, chain_params(c), chain_shard(c), NULL, h->gas_limit);
	uint8_t root[32], bloom[CORE_BLOOM_LEN];
	if ((rc = store_begin(chain_store_(c), 0, &t)) ||
	    (rc = state_open(&s, t, chain_head(c)->root)))
		goto out;
	x.st = s;
	if ((rc = chain_execute_(c, &x, t, b, (const uint8_t(*)[CORE_ADDR_LEN])senders, hashes, why)))
		goto out;
	if (x.gas_used != h->gas_used) {
		rc = chain_reject(why, CHAIN_R_GAS_USED, -1, "header %llu, execution used %llu",
		                  (unsigned long long)h->gas_used, (unsigned long long)x.gas_used);
		goto out;
	}
	if ((rc = receipts_root(x.receipts, x.nreceipts, root)))
		goto out;
	if (memcmp(root, h->receipt_hash, 32)) {
		rc = chain_hexcmp_reject_(why, CHAIN_R_RECEIPT_ROOT, h->receipt_hash, root);
		goto out;
	}
	chain_bloom_of_(&x, bloom);
	if (memcmp(bloom, h->bloom, CORE_BLOOM_LEN)) {
		rc = chain_reject(why, CHAIN_R_BLOOM, -1, NULL);
		goto out;
	}
	if ((rc = cx_outgoing_root(x.cx, x.ncx, root)))
		goto out;
	if (memcmp(root, h->outgoing_receipt_hash, 32)) {
		rc = chain_hexcmp_reject_(why, CHAIN_R_OUT_ROOT, h->outgoing_receipt_hash, root);
		goto out;
	}
	if ((rc = state_root(s, root)))
		goto out;
	if (memcmp(root, h->root, 32))
		rc = chain_hexcmp_reject_(why, CHAIN_R_STATE_ROOT, h->root, root);
out:
	state_free(s);
	store_abort(t);
	chain_exec_free(&x);
	free(senders);
	free(hashes);
	return rc;
}

int chain_seal_at(struct chain *c, uint64_t number, uint8_t **out, size_t *len)
{
	*out = NULL;
	*len = 0;
	uint8_t k[sizeof CHAIN_META_SEAL - 1 + 8];
	memcpy(k, CHAIN_META_SEAL, sizeof CHAIN_META_SEAL - 1);
	store_be64(k + sizeof CHAIN_META_SEAL - 1, number);
	struct store_txn *t;
	int rc = store_begin(chain_store_(c), 0, &t);
	if (rc)
		return rc;
	const uint8_t *v;
	size_t vl;
	if (!(rc = store_get(t, STORE_META, k, sizeof k, &v, &vl))) {
		*out = malloc(vl ? vl : 1);
		if (!*out)
			rc = -CN_ENOMEM;
		else {
			memcpy(*out, v, vl);
			*len = vl;
		}
	}
	store_abort(t);
	return rc;
}
