/* localnet.h — what `canon localnet` and the tools that drive a localnet
 * (`canon bench tx`) share: the process layout and its ports, and the
 * parsed GET /status of a node (contract: /status JSON of `canon node`). */
#ifndef CANON_CLI_LOCALNET_H
#define CANON_CLI_LOCALNET_H

#include <stddef.h>
#include <stdint.h>

#define LOCALNET_MAX_PROCS 64

enum localnet_kind { LOCALNET_BOOT, LOCALNET_VALIDATOR, LOCALNET_RPC };

struct localnet_proc {
	char name[16];            /* "boot", "s<S>v<I>", "s<S>rpc" */
	enum localnet_kind kind;
	uint32_t shard;
	unsigned index;           /* validator process number in its shard */
	uint16_t p2p_port, prom_port, http_port, ws_port;   /* 0: none */
};

/* How many shards a localnet runs (the localnet network's shard count). */
int localnet_shards(uint32_t *out);
/* Every process of a localnet with its ports (offset added). */
int localnet_procs(uint32_t port_offset, struct localnet_proc *out, size_t cap, size_t *n);

/* The port offset DIR/localnet.conf records (-CN_ENOTFOUND: no localnet). */
int localnet_read_offset(const char *dir, uint64_t *offset);

/* `canon localnet inject` (lninject.c); argv starts at "inject". */
int localnet_inject(int argc, char **argv);

struct localnet_status {
	uint32_t shard;
	char role[16];
	uint64_t height, view, last_final_ms, peers, pool_pending;
	int viewchange;
	long pid;
	char head[70], state_root[70], leader[100];
};

/* GET http://127.0.0.1:<port>/status, parsed. Missing fields stay 0/"".
 * -CN_EIO when nothing answers, -CN_EPARSE for a body that is not JSON. */
int localnet_fetch_status(uint16_t port, struct localnet_status *st, int timeout_ms);

#endif
