/* Fuzz target: the node core fed hostile network bytes.
 *
 * One full node of localnet shard 0 (in a temporary directory, opened on the
 * first input) and one validator node holding key 2 share the inputs. The
 * first byte picks the entry point: 0-2 gossip of that topic (node_validate,
 * then node_deliver when accepted), 3 a sync response, 4 a sync request to
 * serve, 5 the vote record file parser. Nothing may crash, and txs, sync
 * requests and vote records never move a head (blocks and consensus
 * messages may: localnet keys are public, so the seeds hold real
 * certificates). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chain/chain.h"
#include "crypto/bls.h"
#include "node/node.h"
#include "node/node_int.h"

static struct node *nodes[2];
static char dir[64];
static uint64_t now = 1800000000000ull;

static void cleanup(void)
{
	for (int i = 0; i < 2; i++)
		node_close(nodes[i]);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd))
		fprintf(stderr, "could not remove %s\n", dir);
}

static void init(void)
{
	snprintf(dir, sizeof dir, "/tmp/canon-fuzz-node-XXXXXX");
	if (!mkdtemp(dir))
		abort();
	struct bls_secret_key sk;
	if (chain_localnet_bls(0, 2, &sk))
		abort();
	for (int i = 0; i < 2; i++) {
		char d[128];
		snprintf(d, sizeof d, "%s/%d", dir, i);
		struct node_config cfg = {.datadir = d, .network = "localnet", .shard = 0,
		                          .role = i ? NODE_VALIDATOR : NODE_FULL, .keys = &sk,
		                          .n_keys = (size_t)i, .no_fsync = 1};
		struct node_out o;
		node_out_init(&o);
		if (node_open(&nodes[i], &cfg) || node_start(nodes[i], now, &o))
			abort();
		node_out_free(&o);
	}
	atexit(cleanup);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!nodes[0])
		init();
	if (size < 1)
		return 0;
	uint8_t sel = data[0] % 6;
	data++;
	size--;
	now += 10;
	for (int i = 0; i < 2; i++) {
		struct node *n = nodes[i];
		struct node_out o;
		node_out_init(&o);
		struct node_status before, after;
		node_status(n, &before);
		if (sel < 3) {
			if (node_validate(n, sel, data, size) == NODE_ACCEPT)
				node_deliver(n, now, sel, data, size, &o);
		} else if (sel == 3) {
			node_sync_response(n, now, 0, data, size, &o);
		} else if (sel == 4) {
			uint8_t *resp;
			size_t rl;
			if (!node_serve_sync(n, data, size, &resp, &rl))
				free(resp);
		} else if (i == 0) {
			char path[128];
			snprintf(path, sizeof path, "%s/record", dir);
			FILE *f = fopen(path, "wb");
			if (f) {
				fwrite(data, 1, size, f);
				fclose(f);
				struct fbft_persist ps;
				uint8_t *lock, gen[32] = {0};
				if (size >= 37)
					memcpy(gen, data + 5, 32);
				if (!node_persist_read(path, gen, &ps, &lock))
					free(lock);
			}
		}
		node_tick(n, now, &o);
		node_out_free(&o);
		node_status(n, &after);
		if (after.height != before.height && (sel == 0 || sel >= 4))
			abort();
	}
	return 0;
}
