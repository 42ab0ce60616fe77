/* bench/node_core.c — CPU cost of the node core, without the network.
 *
 * Four validator cores of localnet shard 0 (the six keys as in `canon
 * localnet`) run in this one process; every publish reaches the other three
 * at once (virtual time), so what is measured is the node core's own work:
 * BLS signing and verification, block building, validation, insertion,
 * vote records (fsync skipped: the disk is not the node core) and pool
 * admission with its signature recovery. Figures:
 *
 *   node_core/block_cpu_ms     CPU of the four nodes per empty block
 *   node_core/tx_cpu_us        CPU of the four nodes per finalized transfer
 *                              (blocks of about 2000 transfers)
 *   node_core/tx_per_s_cpu     finalized transfers per CPU second for the
 *                              whole shard (what one core could sustain)
 *
 * (bench/node.c measures the real localnet: finality and tx/s end to end.) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "base/err.h"
#include "chain/chain.h"
#include "core/core.h"
#include "crypto/bls.h"
#include "node/node.h"

#define NN 4

struct msg {
	int to, topic;
	uint8_t *data;
	size_t len;
};

static struct node *nd[NN];
static uint64_t wake[NN];
static char dirs[NN][64];
static uint64_t now;
static struct msg *q;
static size_t nq, capq;

static void die(const char *what, int rc)
{
	fprintf(stderr, "node_core: %s: %s\n", what, cn_strerror(rc));
	exit(1);
}

static void carry(int i, struct node_out *o)
{
	for (size_t k = 0; k < o->n; k++) {
		struct node_action *a = &o->a[k];
		if (a->kind != NODE_ACT_PUBLISH)
			continue;   /* nobody falls behind here: no sync */
		for (int j = 0; j < NN; j++) {
			if (j == i)
				continue;
			if (nq == capq) {
				capq = capq ? 2 * capq : 1024;
				if (!(q = realloc(q, capq * sizeof *q)))
					die("realloc", -CN_ENOMEM);
			}
			uint8_t *d = malloc(a->len);
			if (!d)
				die("malloc", -CN_ENOMEM);
			memcpy(d, a->data, a->len);
			q[nq++] = (struct msg){j, a->topic, d, a->len};
		}
	}
	wake[i] = o->wake_ms;
}

static void setup(void)
{
	static const unsigned keys[NN][2] = {{0, 4}, {1, 5}, {2, 0}, {3, 0}};
	now = 1800000000000ull;
	for (int i = 0; i < NN; i++) {
		snprintf(dirs[i], sizeof dirs[i], "/tmp/canon-bench-node-XXXXXX");
		if (!mkdtemp(dirs[i]))
			die("mkdtemp", -CN_EIO);
		struct bls_secret_key sk[2];
		size_t nk = i < 2 ? 2 : 1;
		for (size_t k = 0; k < nk; k++)
			if (chain_localnet_bls(0, keys[i][k], &sk[k]))
				die("key", -CN_EINVAL);
		struct node_config cfg = {.datadir = dirs[i], .network = "localnet", .shard = 0,
		                          .role = NODE_VALIDATOR, .keys = sk, .n_keys = nk,
		                          .block_time_ms = 1000, .no_fsync = 1, .pool_slots = 8192};
		int rc = node_open(&nd[i], &cfg);
		if (rc)
			die("node_open", rc);
		struct node_out o;
		node_out_init(&o);
		if ((rc = node_start(nd[i], now, &o)))
			die("node_start", rc);
		carry(i, &o);
		node_out_free(&o);
	}
}

static void teardown(void)
{
	for (int i = 0; i < NN; i++) {
		node_close(nd[i]);
		char cmd[400];
		snprintf(cmd, sizeof cmd, "rm -rf '%s'", dirs[i]);
		if (system(cmd))
			fprintf(stderr, "node_core: could not remove %s\n", dirs[i]);
	}
	for (size_t k = 0; k < nq; k++)
		free(q[k].data);
	nq = 0;
}

static uint64_t height(int i)
{
	struct node_status st;
	node_status(nd[i], &st);
	return st.height;
}

/* Runs until every node has height >= h. */
static void run_to(uint64_t h)
{
	struct node_out o;
	node_out_init(&o);
	for (;;) {
		int done = 1;
		for (int i = 0; i < NN; i++)
			done &= height(i) >= h;
		if (done)
			break;
		if (nq) {
			struct msg m = q[0];
			memmove(q, q + 1, --nq * sizeof *q);
			if (node_validate(nd[m.to], m.topic, m.data, m.len) == NODE_ACCEPT) {
				int rc = node_deliver(nd[m.to], now, m.topic, m.data, m.len, &o);
				if (rc)
					die("deliver", rc);
				carry(m.to, &o);
			}
			free(m.data);
			continue;
		}
		int w = -1;
		for (int i = 0; i < NN; i++)
			if (wake[i] && (w < 0 || wake[i] < wake[w]))
				w = i;
		if (w < 0)
			die("stalled", -CN_ESTATE);
		if (wake[w] > now)
			now = wake[w];
		int rc = node_tick(nd[w], now, &o);
		if (rc)
			die("tick", rc);
		if (o.wake_ms && o.wake_ms <= now)
			o.wake_ms = now + 1;
		carry(w, &o);
	}
	node_out_free(&o);
}

static double cpu_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(void)
{
	int runs = bench_runs();
	if (runs > 5)
		runs = 5;
	double blk[5], tx[5];
	const unsigned ntx = 2000, accounts = 16;
	for (int r = 0; r < runs; r++) {
		setup();
		run_to(2);
		double c0 = cpu_s();
		run_to(12);
		blk[r] = (cpu_s() - c0) / 10 * 1e3;

		/* signed up front: the client's work, not the node's */
		const struct netparams *np = node_params(nd[0]);
		uint8_t **raw = calloc(ntx, sizeof *raw);
		size_t *len = calloc(ntx, sizeof *len);
		if (!raw || !len)
			die("calloc", -CN_ENOMEM);
		static const uint8_t to[20] = {0xbe, 0x0c};
		for (unsigned k = 0; k < ntx; k++) {
			uint8_t sk[32], addr[20];
			struct tx t;
			struct u256 v = u256_from_u64(1);
			int rc;
			if ((rc = chain_localnet_account(k % accounts, sk, addr)) ||
			    (rc = chain_sign_transfer(&t, np, 0, 0, sk, k / accounts, to, &v)) ||
			    (rc = tx_encode(&t, &raw[k], &len[k])))
				die("sign", rc);
			tx_free(&t);
		}
		uint64_t h0 = height(0);
		c0 = cpu_s();
		for (unsigned k = 0; k < ntx; k++) {
			uint8_t hash[32];
			char m[200];
			int rc = node_submit_tx(nd[k % NN], raw[k], len[k], 0, hash, m, sizeof m);
			if (rc) {
				fprintf(stderr, "node_core: submit: %s\n", m);
				exit(1);
			}
		}
		uint64_t done = 0;
		for (uint64_t h = h0 + 1; done < ntx; h++) {
			run_to(h);
			struct node_status st;
			node_status(nd[3], &st);
			done = st.txs_final;
			if (h > h0 + 50)
				die("transfers not final", -CN_ESTATE);
		}
		tx[r] = (cpu_s() - c0) / ntx * 1e6;
		for (unsigned k = 0; k < ntx; k++)
			free(raw[k]);
		free(raw);
		free(len);
		teardown();
	}
	bench_report("node_core", "block_cpu_ms", bench_median(blk, runs), "ms");
	double t = bench_median(tx, runs);
	bench_report("node_core", "tx_cpu_us", t, "us");
	bench_report("node_core", "tx_per_s_cpu", 1e6 / t, "tx/s");
	free(q);
	return 0;
}
