/* p2p.c — `canon p2p locator|ping`: the encrypted transport over real UDP.
 *
 * `locator` prints this node's signed locator record (hex) for an address:
 * it is what another node needs to open a session (the node's public key and
 * where to find it), since a node ID alone cannot start a Noise-IK handshake.
 * `ping` runs one endpoint with the libuv driver (src/runtime): without
 * --peer it listens and echoes every message back; with --peer it sends
 * --count messages of --size bytes one after the other, checks each echo
 * byte for byte and prints round-trip percentiles. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>
#include <uv.h>

#include "base/bytes.h"
#include "base/err.h"
#include "base/flags.h"
#include "cli/cli.h"
#include "net/net.h"
#include "runtime/rt_msg.h"
#include "runtime/rt_net.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: canon p2p <command> [options]\n\n"
		"commands:\n"
		"  locator --datadir D --addr IP:PORT\n"
		"      print the signed locator record (hex) of D/p2p/hostkey at that address\n"
		"  ping --datadir D --listen IP:PORT\n"
		"      listen and echo every message back until SIGINT/SIGTERM (or --timeout)\n"
		"  ping --datadir D --listen IP:PORT --peer LOCATOR [--count N] [--size S] [--timeout T]\n"
		"      send N messages of S bytes (<= %d) to the node of LOCATOR (hex, from\n"
		"      `canon p2p locator`), one at a time; exit 0 only if every echo came back\n"
		"      identical within T (default 30s). Prints sent, received, rtt p50/p99.\n"
		"  mesh --bootnodes LIST --datadir D [--publish N --expect M ...]\n"
		"      join a gossip topic through bootnodes, publish, check every message\n"
		"      of the others arrives once and intact (see canon p2p mesh --help)\n"
		"  request --peer <pk hex>@ip:port [--proto P --count N --size S]\n"
		"      stream requests to one node, echoes checked (see canon p2p request --help)\n",
		NET_MAX_PAYLOAD);
}

static int load_identity(const char *datadir, struct net_identity *id, const char *who)
{
	char path[4096];
	int rc;
	if (net_identity_path(datadir, path, sizeof path) != 0) {
		fprintf(stderr, "%s: data directory path too long\n", who);
		return -1;
	}
	if ((rc = net_identity_load(id, path)) != 0) {
		fprintf(stderr, "%s: cannot load host key %s: %s (create one with `canon keys p2p new`)\n",
			who, path, cn_strerror(rc));
		return -1;
	}
	return 0;
}

static int cmd_locator(int argc, char **argv)
{
	const char *datadir = ".", *addr_s = NULL;
	uint64_t seq = 0;
	struct cn_flag flags[] = {
		{"datadir", CN_FLAG_STRING, &datadir, "D", "data directory (default .)", 0},
		{"addr", CN_FLAG_STRING, &addr_s, "IP:PORT", "UDP address to announce", 0},
		{"seq", CN_FLAG_UINT, &seq, "N", "sequence number (default: now in ms)", 0},
		{NULL, 0, NULL, NULL, NULL, 0},
	};
	struct cn_flags_result res;
	char err[256];
	if (cn_flags_parse(flags, argc, argv, &res, err, sizeof err) != 0) {
		fprintf(stderr, "canon p2p locator: %s\n", err);
		return 2;
	}
	int help = res.help, extra = res.n_positional > 0;
	cn_flags_result_free(&res);
	if (help) {
		usage(stdout);
		return 0;
	}
	struct net_locator rec;
	memset(&rec, 0, sizeof rec);
	if (extra || !addr_s || rt_addr_parse(addr_s, &rec.addrs[0]) != 0) {
		fprintf(stderr, "canon p2p locator: need --addr IP:PORT\n");
		return 2;
	}
	struct net_identity id;
	if (load_identity(datadir, &id, "canon p2p locator"))
		return 1;
	rec.n_addrs = 1;
	rec.seq = flags[2].set ? seq : rt_now_ms();
	uint8_t enc[NET_LOCATOR_MAX_LEN];
	size_t len;
	int rc = net_locator_sign(&rec, &id);
	if (!rc)
		rc = net_locator_encode(&rec, enc, sizeof enc, &len);
	net_identity_wipe(&id);
	if (rc) {
		fprintf(stderr, "canon p2p locator: %s\n", cn_strerror(rc));
		return 1;
	}
	char hex[2 * NET_LOCATOR_MAX_LEN + 1];
	hex_encode(enc, len, hex);
	printf("%s\n", hex);
	return 0;
}

struct ping {
	int pinger;
	uint8_t peer[NET_NODE_ID_LEN];
	char peer_tag[NET_TAG_CHARS + 1];
	uint64_t count, size, sent, received, mismatched, strays;
	uint8_t nonce[8];                /* starts every message of this run (size >= 16) */
	uint8_t *msg;
	uint64_t timeout_ms;
	uint64_t sent_at_ns;
	uint64_t *rtt_ns;
	int failed, timed_out;
	const char *why;
	uv_timer_t deadline;
	struct rt_net *rt;
	struct rt_msg *rm;               /* --raptorq: whole messages through rt_msg */
	uint32_t peer_index;
};

static void stop(struct ping *p)
{
	if (p->rm)
		rt_msg_close(p->rm);
	else
		rt_net_close(p->rt);
	if (p->deadline.type == UV_TIMER && !uv_is_closing((uv_handle_t *)&p->deadline))
		uv_close((uv_handle_t *)&p->deadline, NULL);
}

static void send_next(struct ping *p)
{
	randombytes_buf(p->msg, p->size);
	if (p->size >= 16) {
		memcpy(p->msg, p->nonce, 8);
		memcpy(p->msg + 8, &p->sent, 8);
	}
	p->sent_at_ns = uv_hrtime();
	int rc = p->rm ? rt_msg_send(p->rm, p->peer_index, p->msg, p->size,
				     rt_now_ms() + p->timeout_ms, NULL)
		       : rt_net_send(p->rt, p->peer, p->msg, p->size);
	if (rc) {
		p->failed = 1;
		p->why = cn_strerror(rc);
		stop(p);
		return;
	}
	p->sent++;
}

/* An echo came back (pinger) from the node we ping. */
static void got_echo(struct ping *p, const uint8_t *data, size_t len)
{
	/* A peer that served an earlier run may still be repairing the echoes
	 * that run never acknowledged; they are not ours to compare. */
	if (p->size >= 16 && (len < 8 || memcmp(data, p->nonce, 8) != 0)) {
		p->strays++;
		return;
	}
	if (len != p->size || memcmp(data, p->msg, len) != 0) {
		p->mismatched++;
		p->failed = 1;
		p->why = "echo differs from what was sent";
		stop(p);
		return;
	}
	p->rtt_ns[p->received++] = uv_hrtime() - p->sent_at_ns;
	if (p->received == p->count)
		stop(p);
	else
		send_next(p);
}

static void on_msg(void *ctx, struct rt_msg *rm, uint32_t peer, const uint8_t *data, size_t len)
{
	struct ping *p = ctx;
	if (!p->pinger)
		rt_msg_send(rm, peer, data, len, rt_now_ms() + 30000, NULL);
	else if (peer == p->peer_index)
		got_echo(p, data, len);
}

static void on_msg_result(void *ctx, struct rt_msg *rm, uint32_t peer, uint64_t id, int err)
{
	struct ping *p = ctx;
	if (err && p->pinger) {
		p->failed = 1;
		p->why = "message missed its deadline";
		stop(p);
	}
}

static void on_event(void *ctx, struct rt_net *rt, const struct net_action *a, const uint8_t *data,
		     size_t len)
{
	struct ping *p = ctx;
	char tag[NET_TAG_CHARS + 1];
	net_node_tag(a->peer, tag);
	switch (a->kind) {
	case NET_ACT_DELIVER:
		if (!p->pinger)
			rt_net_send(rt, a->peer, data, len);
		else if (!memcmp(a->peer, p->peer, NET_NODE_ID_LEN))
			got_echo(p, data, len);
		return;
	case NET_ACT_ESTABLISHED:
		fprintf(stderr, "session with %s established\n", tag);
		return;
	case NET_ACT_CLOSED:
		fprintf(stderr, "session with %s closed (%s)\n", tag,
			a->reason == NET_CLOSE_HANDSHAKE_TIMEOUT ? "handshake failed: no answer"
			: a->reason == NET_CLOSE_EXPIRED	 ? "keys expired"
								 : "closed locally");
		if (p->pinger && !memcmp(a->peer, p->peer, NET_NODE_ID_LEN)) {
			p->failed = 1;
			p->why = a->reason == NET_CLOSE_HANDSHAKE_TIMEOUT
					 ? "handshake failed: no answer (wrong node key or address?)"
					 : "session closed";
			stop(p);
		}
		return;
	default:
		return;
	}
}

static void on_deadline(uv_timer_t *t)
{
	struct ping *p = t->data;
	p->failed = 1;
	p->timed_out = 1;
	p->why = "timed out";
	stop(p);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static int cmd_ping(int argc, char **argv)
{
	const char *datadir = ".", *listen_s = NULL, *peer_s = NULL;
	uint64_t count = 10, size = 64, timeout_ms = 30000, hs_ms = 1000;
	int raptorq = 0;
	struct cn_flag flags[] = {
		{"datadir", CN_FLAG_STRING, &datadir, "D", "data directory (default .)", 0},
		{"listen", CN_FLAG_STRING, &listen_s, "IP:PORT", "UDP address to bind", 0},
		{"peer", CN_FLAG_STRING, &peer_s, "LOCATOR", "hex locator record of the node to ping", 0},
		{"count", CN_FLAG_UINT, &count, "N", "messages to send (default 10)", 0},
		{"size", CN_FLAG_UINT, &size, "S", "bytes per message (default 64)", 0},
		{"timeout", CN_FLAG_DURATION, &timeout_ms, "T", "give up after T (default 30s)", 0},
		{"handshake-retry", CN_FLAG_DURATION, &hs_ms, "T",
		 "handshake retransmission interval (default 1s; 5 attempts)", 0},
		{"raptorq", CN_FLAG_BOOL, &raptorq, NULL,
		 "whole RaptorQ-coded messages (up to 32 MiB) instead of single packets; both sides", 0},
		{NULL, 0, NULL, NULL, NULL, 0},
	};
	struct cn_flags_result res;
	char err[256];
	if (cn_flags_parse(flags, argc, argv, &res, err, sizeof err) != 0) {
		fprintf(stderr, "canon p2p ping: %s\n", err);
		return 2;
	}
	int help = res.help, extra = res.n_positional > 0;
	cn_flags_result_free(&res);
	if (help) {
		usage(stdout);
		return 0;
	}
	struct net_addr bind_addr;
	if (extra || !listen_s || rt_addr_parse(listen_s, &bind_addr) != 0) {
		fprintf(stderr, "canon p2p ping: need --listen IP:PORT\n");
		return 2;
	}
	uint64_t max_size = raptorq ? NET_MSG_MAX_SIZE : NET_MAX_PAYLOAD;
	if (peer_s && (count == 0 || size == 0 || size > max_size || count > 100000000)) {
		fprintf(stderr, "canon p2p ping: need 1 <= --size <= %" PRIu64 " and --count >= 1\n", max_size);
		return 2;
	}
	struct net_locator peer_rec;
	if (peer_s) {
		uint8_t enc[NET_LOCATOR_MAX_LEN];
		size_t n = 0;
		if (hex_decode(peer_s, strlen(peer_s), enc, sizeof enc, &n) != 0 ||
		    net_locator_decode(&peer_rec, enc, n) != 0) {
			fprintf(stderr, "canon p2p ping: --peer is not a valid signed locator record\n");
			return 2;
		}
	}
	struct net_identity id;
	if (load_identity(datadir, &id, "canon p2p ping"))
		return 1;
	struct net_config cfg;
	net_config_default(&cfg);
	cfg.rekey_timeout_ms = hs_ms ? hs_ms : 1;
	cfg.handshake_attempts = 5;
	struct net_endpoint *ep = NULL;
	int rc = net_endpoint_new(&ep, &id, &cfg);
	if (!rc && peer_s)
		rc = net_endpoint_add_peer(ep, &peer_rec);
	char tag[NET_TAG_CHARS + 1];
	net_node_tag(id.node_id, tag);
	net_identity_wipe(&id);
	if (rc) {
		fprintf(stderr, "canon p2p ping: %s\n", cn_strerror(rc));
		net_endpoint_free(ep);
		return 1;
	}
	struct ping p;
	memset(&p, 0, sizeof p);
	p.pinger = peer_s != NULL;
	p.count = count;
	p.size = size;
	p.timeout_ms = timeout_ms;
	randombytes_buf(p.nonce, sizeof p.nonce);
	if (p.pinger) {
		net_node_id(peer_rec.pk, p.peer);
		net_node_tag(p.peer, p.peer_tag);
		if (!(p.rtt_ns = calloc(count, sizeof *p.rtt_ns)) || !(p.msg = malloc(size))) {
			free(p.rtt_ns);
			net_endpoint_free(ep);
			return 1;
		}
	}
	uv_loop_t loop;
	uv_loop_init(&loop);
	struct rt_msg *rm = raptorq ? calloc(1, sizeof *rm) : NULL;
	struct rt_net *rt = raptorq ? (rm ? &rm->net : NULL) : malloc(sizeof *rt);
	int status = 1;
	if (!rt)
		goto out;
	p.rt = rt;
	p.rm = rm;
	struct rt_msg_callbacks mcb = {.deliver = on_msg, .result = on_msg_result, .session = on_event};
	if ((rm ? rt_msg_start(rm, &loop, ep, &bind_addr, 64, &mcb, &p)
		: rt_net_start(rt, &loop, ep, &bind_addr, on_event, &p)) != 0 ||
	    (rm && p.pinger && rt_msg_peer(rm, p.peer, &p.peer_index) != 0)) {
		fprintf(stderr, "canon p2p ping: cannot bind %s\n", listen_s);
		uv_run(&loop, UV_RUN_DEFAULT);
		goto out;
	}
	struct net_addr local;
	char local_s[64] = "?";
	if (rt_net_local_addr(rt, &local) == 0)
		net_addr_format(&local, local_s, sizeof local_s);
	fprintf(stderr, "node %s listening on %s\n", tag, local_s);
	if (p.pinger || flags[5].set) {
		/* Unreferenced: a signal that closes the driver ends the run even
		 * while the deadline is pending; it is closed below. */
		uv_timer_init(&loop, &p.deadline);
		p.deadline.data = &p;
		uv_timer_start(&p.deadline, on_deadline, timeout_ms, 0);
		uv_unref((uv_handle_t *)&p.deadline);
	}
	if (p.pinger)
		send_next(&p);
	uv_run(&loop, UV_RUN_DEFAULT);
	stop(&p);
	uv_run(&loop, UV_RUN_DEFAULT);
	if (p.pinger) {
		qsort(p.rtt_ns, p.received, sizeof *p.rtt_ns, cmp_u64);
		double p50 = 0, p99 = 0;
		if (p.received) {
			p50 = (double)p.rtt_ns[(p.received - 1) / 2] / 1000.0;
			p99 = (double)p.rtt_ns[(p.received * 99 - 1) / 100] / 1000.0;
		}
		printf("peer %s sent %" PRIu64 " received %" PRIu64 " size %" PRIu64
		       " rtt_p50_us %.1f rtt_p99_us %.1f strays %" PRIu64 "\n",
		       p.peer_tag, p.sent, p.received, p.size, p50, p99, p.strays);
		if (rm) {
			const struct net_msg_stats *st = net_msg_stats(rm->msg);
			fprintf(stderr,
				"raptorq: datagrams out %" PRIu64 " in %" PRIu64 " repair symbols %" PRIu64
				" acks out %" PRIu64 " in %" PRIu64 " refused busy %" PRIu64 " memory %" PRIu64
				" duplicates %" PRIu64 " srtt %" PRIu64 " ms\n",
				st->datagrams_out, st->datagrams_in, st->repair_symbols, st->acks_out,
				st->acks_in, st->refused_busy, st->refused_memory, st->drop_duplicate,
				net_msg_peer_srtt(rm->msg, p.peer_index));
		}
		if (p.failed || p.received != p.count)
			fprintf(stderr, "canon p2p ping: %s\n", p.why ? p.why : "interrupted");
		else
			status = 0;
	} else {
		/* A listener ends by a signal or at the end of its --timeout lifetime. */
		status = rt->signaled || p.timed_out ? 0 : 1;
	}
out:
	if (uv_loop_close(&loop) != 0)
		fprintf(stderr, "canon p2p ping: event loop did not close cleanly\n");
	if (rm) {
		rt_msg_free(rm);
		free(rm);
	} else {
		free(rt);
	}
	free(p.rtt_ns);
	free(p.msg);
	net_endpoint_free(ep);
	return status;
}

int cli_p2p(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (!strcmp(argv[1], "locator"))
		return cmd_locator(argc - 2, argv + 2);
	if (!strcmp(argv[1], "ping"))
		return cmd_ping(argc - 2, argv + 2);
	if (!strcmp(argv[1], "mesh") || !strcmp(argv[1], "request"))
		return cli_p2p_host(argc - 1, argv + 1);
	fprintf(stderr, "canon p2p: unknown command '%s' (see canon p2p --help)\n", argv[1]);
	return 2;
}
