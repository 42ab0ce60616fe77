/* lninject.c — `canon localnet inject`: a hostile peer for the end-to-end tests.
 *
 * It joins a running localnet's shard like any node (a fresh host key,
 * the localnet's bootnode, the shard's consensus, block and transaction
 * topics), records the consensus messages it sees for a while, then:
 *
 *  - publishes random bytes of random lengths on each of the three topics;
 *  - replays every recorded consensus message unchanged (gossip should
 *    drop them as already seen) and with one byte flipped (the node core
 *    must refuse them: a bad signature, a bad encoding or an old height);
 *  - sends random UDP datagrams straight to every node's p2p port, outside
 *    any session.
 *
 * The localnet must not notice: the tests check that every node keeps
 * finalizing blocks with the same head and state root. The tool reports
 * what it did, so that a test can tell "nothing happened" from "nothing
 * was sent" (it exits 1 when it never had a peer on the topics). */
#include <arpa/inet.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sodium.h>
#include <uv.h>

#include "base/bytes.h"
#include "base/err.h"
#include "base/flags.h"
#include "cli/localnet.h"
#include "net/net.h"
#include "node/node.h"
#include "runtime/rt_host.h"

#define MAX_CAPTURE 256

struct inj {
	uv_loop_t loop;
	uv_timer_t timer;
	struct rt_host *h;
	char topics[NODE_TOPIC_COUNT][128];
	uint8_t *cap[MAX_CAPTURE];
	size_t cap_len[MAX_CAPTURE];
	size_t ncap;
	uint64_t count;
	int phase;              /* 0 listening, 1 injecting, 2 done */
	uint64_t garbage, replayed, mutated, refused_local;
	size_t max_peers;
};

static void on_deliver(void *ctx, const char *topic, const uint8_t from[32], const uint8_t *data,
                       size_t len)
{
	struct inj *j = ctx;
	if (j->phase != 0 || strcmp(topic, j->topics[NODE_TOPIC_CONS]) || j->ncap == MAX_CAPTURE)
		return;
	uint8_t *c = malloc(len ? len : 1);
	if (!c)
		return;
	memcpy(c, data, len);
	j->cap[j->ncap] = c;
	j->cap_len[j->ncap++] = len;
}

static void publish(struct inj *j, int topic, const uint8_t *d, size_t len, uint64_t *counter)
{
	if (rt_host_publish(j->h, j->topics[topic], d, len) == 0)
		(*counter)++;
	else
		j->refused_local++;
}

static void on_timer(uv_timer_t *t)
{
	struct inj *j = t->data;
	size_t peers = rt_host_peer_count(j->h);
	if (peers > j->max_peers)
		j->max_peers = peers;
	if (j->phase == 0) {
		j->phase = 1;
		uint8_t buf[2048];
		for (uint64_t i = 0; i < j->count; i++) {
			size_t len = 1 + randombytes_uniform(sizeof buf);
			randombytes_buf(buf, len);
			publish(j, (int)(i % NODE_TOPIC_COUNT), buf, len, &j->garbage);
		}
		for (size_t i = 0; i < j->ncap; i++) {
			publish(j, NODE_TOPIC_CONS, j->cap[i], j->cap_len[i], &j->replayed);
			if (!j->cap_len[i])
				continue;
			j->cap[i][randombytes_uniform((uint32_t)j->cap_len[i])] ^=
				(uint8_t)(1 + randombytes_uniform(255));
			publish(j, NODE_TOPIC_CONS, j->cap[i], j->cap_len[i], &j->mutated);
		}
		/* Give the transport a moment to put it all on the wire. */
		uv_timer_start(&j->timer, on_timer, 2000, 0);
		return;
	}
	j->phase = 2;
	uv_timer_stop(&j->timer);
	uv_close((uv_handle_t *)&j->timer, NULL);
	rt_host_close(j->h);
}

/* Datagrams outside any session, to every node of the localnet. */
static uint64_t udp_garbage(const struct localnet_proc *procs, size_t n, uint64_t per_node)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 0;
	uint64_t sent = 0;
	uint8_t buf[1400];
	for (size_t i = 0; i < n; i++) {
		struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(procs[i].p2p_port)};
		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		for (uint64_t k = 0; k < per_node; k++) {
			size_t len = 1 + randombytes_uniform(sizeof buf);
			randombytes_buf(buf, len);
			/* Some with a plausible first byte, so that they get past the
			 * cheapest check and reach the packet parsers. */
			if (k % 2)
				buf[0] = (uint8_t)(k % 8);
			if (sendto(fd, buf, len, 0, (struct sockaddr *)&sa, sizeof sa) == (ssize_t)len)
				sent++;
		}
	}
	close(fd);
	return sent;
}

int localnet_inject(int argc, char **argv)
{
	uint64_t shard = 0, listen_ms = 4000, count = 300, udp = 200;
	const char *dir = "localnet";
	struct cn_flag own[] = {
		{"dir", CN_FLAG_STRING, &dir, "DIR", "localnet directory (default ./localnet)", 0},
		{"shard", CN_FLAG_UINT, &shard, "S", "shard whose topics to attack", 0},
		{"listen", CN_FLAG_DURATION, &listen_ms, "DUR", "record consensus messages this long first (default 4s)", 0},
		{"count", CN_FLAG_UINT, &count, "N", "random payloads to publish (default 300)", 0},
		{"udp", CN_FLAG_UINT, &udp, "N", "random datagrams to each node's p2p port (default 200)", 0},
		{NULL, 0, NULL, NULL, NULL, 0},
	};
	struct cn_flags_result res;
	char err[256];
	if (cn_flags_parse(own, argc - 1, argv + 1, &res, err, sizeof err)) {
		fprintf(stderr, "canon localnet inject: %s\n", err);
		return 2;
	}
	int help = res.help;
	size_t npos = res.n_positional;
	cn_flags_result_free(&res);
	if (help) {
		cn_flags_help(stdout, "canon localnet inject --dir DIR --shard S [--listen DUR] [--count N] [--udp N]", own);
		return 0;
	}
	if (npos) {
		fprintf(stderr, "canon localnet inject: unexpected argument\n");
		return 2;
	}
	uint64_t offset = 0;
	if (localnet_read_offset(dir, &offset)) {
		fprintf(stderr, "canon localnet inject: %s holds no localnet\n", dir);
		return 1;
	}
	uint32_t shards;
	if (localnet_shards(&shards) || shard >= shards || count > 100000 || udp > 100000) {
		fprintf(stderr, "canon localnet inject: --shard, --count or --udp out of range\n");
		return 2;
	}
	struct localnet_proc procs[LOCALNET_MAX_PROCS];
	size_t nprocs;
	if (localnet_procs(offset, procs, LOCALNET_MAX_PROCS, &nprocs))
		return 2;

	char path[4096], bootdir[4096], bootnode[256], mydir[4096];
	snprintf(bootdir, sizeof bootdir, "%s/boot", dir);
	struct net_identity id;
	if (net_identity_path(bootdir, path, sizeof path) || net_identity_load(&id, path)) {
		fprintf(stderr, "canon localnet inject: no bootnode host key under %s\n", bootdir);
		return 1;
	}
	char hex[65];
	hex_encode(id.pk, 32, hex);
	net_identity_wipe(&id);
	snprintf(bootnode, sizeof bootnode, "%s@127.0.0.1:%u", hex, (unsigned)procs[0].p2p_port);
	/* A fresh identity every run: a peer nobody has seen before. */
	snprintf(mydir, sizeof mydir, "%s/inject.%ld", dir, (long)getpid());

	static struct inj j;
	memset(&j, 0, sizeof j);
	j.count = count;
	for (int t = 0; t < NODE_TOPIC_COUNT; t++)
		if (node_topic_name("localnet", (uint32_t)shard, t, j.topics[t], sizeof j.topics[t])) {
			fprintf(stderr, "canon localnet inject: topic name\n");
			return 1;
		}
	uv_loop_init(&j.loop);
	const char *bn[1] = {bootnode};
	struct rt_host_config hc = {.datadir = mydir, .bootnodes = bn, .n_bootnodes = 1};
	net_addr_v4(&hc.bind, 127, 0, 0, 1, 0);
	struct rt_host_callbacks cb = {.deliver = on_deliver};
	int rc = rt_host_start(&j.h, &j.loop, &hc, &cb, &j);
	if (rc) {
		fprintf(stderr, "canon localnet inject: cannot start a host: %s\n", cn_strerror(rc));
		uv_loop_close(&j.loop);
		return 1;
	}
	for (int t = 0; t < NODE_TOPIC_COUNT && !rc; t++)
		rc = rt_host_subscribe(j.h, j.topics[t]);
	if (rc) {
		fprintf(stderr, "canon localnet inject: subscribe: %s\n", cn_strerror(rc));
		rt_host_close(j.h);
		uv_run(&j.loop, UV_RUN_DEFAULT);
		rt_host_free(j.h);
		uv_loop_close(&j.loop);
		return 1;
	}
	uv_timer_init(&j.loop, &j.timer);
	j.timer.data = &j;
	uv_timer_start(&j.timer, on_timer, listen_ms, 0);
	uv_run(&j.loop, UV_RUN_DEFAULT);
	rt_host_free(j.h);
	uv_loop_close(&j.loop);
	for (size_t i = 0; i < j.ncap; i++)
		free(j.cap[i]);

	uint64_t dgrams = udp_garbage(procs, nprocs, udp);
	printf("inject: shard %u: peers %zu, recorded %zu consensus messages; published %" PRIu64
	       " random payloads, %" PRIu64 " replays, %" PRIu64 " altered replays (%" PRIu64
	       " refused locally); %" PRIu64 " raw datagrams to %zu nodes\n",
	       (unsigned)shard, j.max_peers, j.ncap, j.garbage, j.replayed, j.mutated, j.refused_local,
	       dgrams, nprocs);
	if (!j.max_peers) {
		fprintf(stderr, "canon localnet inject: never had a peer: nothing reached the localnet\n");
		return 1;
	}
	return 0;
}
