/* pool.c — eth_sendRawTransaction's backend over src/txpool. */
#include <stdio.h>
#include <string.h>

#include "rpc/rpc.h"
#include "txpool/txpool.h"

/* The pool checks chain IDs, shards, size, signature, nonce, price and
 * balance itself and words its refusals as go-ethereum does; RPC returns
 * the message as is. The hash given back is the one the namespace shows:
 * Ethereum's for eth_, Harmony's for hmy_. */
static int submit(void *ctx, const uint8_t *raw, size_t len, int eth_form, uint8_t hash[32],
                  char *msg, size_t msgcap)
{
	struct txpool_result res;
	memset(&res, 0, sizeof res);
	int rc = txpool_add_raw(ctx, raw, len, &res);
	if (rc) {
		snprintf(msg, msgcap, "%s", res.msg[0] ? res.msg : txpool_reason_str(res.reason));
		return rc;
	}
	memcpy(hash, eth_form ? res.eth_hash : res.hash, 32);
	return 0;
}

void rpc_backend_use_txpool(struct rpc_backend *be, struct txpool *pool)
{
	be->submit_tx = submit;
	be->submit_ctx = pool;
}
