/* benchtx.c — `canon bench tx`: a transfer load generator for a running shard.
 *
 * It signs Harmony-form transfers from the localnet's funded accounts
 * (nonces start at each account's eth_getTransactionCount "pending"), all
 * before the clock starts so that signing does not limit the rate, then
 * submits them with eth_sendRawTransaction at a fixed rate over a few
 * kept-alive HTTP connections to the shard's RPC node(s).
 *
 * The localnet's genesis funds only a few accounts, and the pool rightly keeps
 * any one account from holding much of it (16 pending per account once the
 * pool is under pressure, 64 queued): at rates where a block's worth of
 * transfers waits in the pool, a few senders hit those limits long before the
 * chain's capacity. With --accounts N the load comes instead from N fresh
 * accounts, derived deterministically (secret keccak256("canon-bench-tx-
 * sender-<i>")), which the genesis accounts first fund with one round of
 * transfers; the clock starts once those are final. One connection
 * carries all of an account's transactions, in nonce order, so that the
 * pool never sees a gap it would have to queue; once a transaction of an
 * account is refused, that account's later ones are skipped (they could
 * only wait behind the missing nonce).
 *
 * Finality is observed, not assumed: a poller follows the chain head with
 * eth_blockNumber and reads each new block's transaction hashes with
 * eth_getBlockByNumber; a transaction is final when it is seen in a block
 * (a block is only written once FBFT committed it). Latency is from just
 * before the submitting request was written to when the poller saw the
 * block, so it includes up to one poll interval (--poll, default 20 ms).
 * Throughput is the finalized count over the window from the first
 * submission to the last finalization seen (conservative: it includes the
 * time before the first block); "steady" counts only what the blocks after
 * the first carried, over the time from the first to the last block. */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "base/bytes.h"
#include "base/err.h"
#include "base/flags.h"
#include "base/u256.h"
#include "chain/chain.h"
#include "cli/cli.h"
#include "cli/httpc.h"
#include "cli/localnet.h"
#include "core/core.h"
#include "crypto/crypto.h"
#include "rpc/rpc.h"

#define MAX_URLS 16
#define MAX_CONNS 32
#define MAX_SENDERS 65536
#define HTTP_TIMEOUT_MS 10000

static uint64_t mono_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static void sleep_us(uint64_t us)
{
	struct timespec ts = {.tv_sec = (time_t)(us / 1000000), .tv_nsec = (long)(us % 1000000) * 1000};
	while (nanosleep(&ts, &ts) && errno == EINTR) {
	}
}

enum { TX_UNSENT, TX_ACCEPTED, TX_REFUSED };

struct btx {
	char *body;             /* the whole JSON-RPC request */
	size_t body_len;
	uint8_t hash[32], eth_hash[32];
	uint64_t submit_us;
	uint64_t final_us;      /* 0 until seen in a block (atomic) */
	int state;              /* TX_* (atomic) */
};

struct url {
	char host[64];
	uint16_t port;
};

struct bench {
	struct btx *tx;
	size_t ntx;
	size_t naccts;          /* senders; tx i is sent by account i % naccts */
	/* hash -> tx index + 1, open addressing on the first 8 bytes */
	uint32_t *table;
	size_t tmask;
	struct url urls[MAX_URLS];
	size_t nurls;
	size_t conns;
	double rate;
	uint64_t t0_us;
	uint64_t poll_us;
	/* progress (atomic) */
	size_t accepted, refused, skipped, finalized, blocks;
	int submit_done;
	pthread_mutex_t err_mu;
	char first_err[3][200];
	size_t nerr_kinds;
};

static uint64_t key64(const uint8_t h[32])
{
	uint64_t k;
	memcpy(&k, h, 8);
	return k;
}

static void table_put(struct bench *b, const uint8_t h[32], uint32_t idx)
{
	for (size_t i = key64(h) & b->tmask;; i = (i + 1) & b->tmask) {
		if (!b->table[i]) {
			b->table[i] = idx + 1;
			return;
		}
	}
}

static long table_get(const struct bench *b, const uint8_t h[32])
{
	for (size_t i = key64(h) & b->tmask;; i = (i + 1) & b->tmask) {
		uint32_t v = b->table[i];
		if (!v)
			return -1;
		const struct btx *t = &b->tx[v - 1];
		if (!memcmp(t->hash, h, 32) || !memcmp(t->eth_hash, h, 32))
			return (long)v - 1;
	}
}

/* One JSON-RPC call; *result is a new reference to "result" (or NULL and
 * msg set from "error"). */
static int rpc_call(struct httpc *c, const char *body, size_t len, json_t **result, char *msg,
                    size_t cap)
{
	int status;
	char *resp;
	size_t rlen;
	*result = NULL;
	int rc = httpc_request(c, "POST", "/", body, len, &status, &resp, &rlen);
	if (rc) {
		snprintf(msg, cap, "HTTP: %s", cn_strerror(rc));
		return rc;
	}
	json_error_t jerr;
	json_t *j = json_loadb(resp, rlen, 0, &jerr);
	if (!j) {
		snprintf(msg, cap, "HTTP %d: %.120s", status, resp);
		free(resp);
		return -CN_EPARSE;
	}
	free(resp);
	json_t *r = json_object_get(j, "result");
	if (r && !json_is_null(r)) {
		*result = json_incref(r);
		json_decref(j);
		return 0;
	}
	json_t *e = json_object_get(j, "error");
	const char *m = e ? json_string_value(json_object_get(e, "message")) : NULL;
	snprintf(msg, cap, "%s", m ? m : (r ? "null result" : "no result"));
	json_decref(j);
	return r ? -CN_ENOTFOUND : -CN_EINVAL;
}

static int rpc_simple(struct httpc *c, const char *method, const char *params, json_t **result,
                      char *msg, size_t cap)
{
	char body[512];
	int n = snprintf(body, sizeof body, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"%s\",\"params\":%s}",
	                 method, params);
	if (n < 0 || (size_t)n >= sizeof body)
		return -CN_EINVAL;
	return rpc_call(c, body, (size_t)n, result, msg, cap);
}

static int parse_hex_u64(json_t *v, uint64_t *out)
{
	const char *s = json_string_value(v);
	if (!s || strncmp(s, "0x", 2) || !s[2])
		return -CN_EPARSE;
	char *end;
	errno = 0;
	unsigned long long x = strtoull(s + 2, &end, 16);
	if (errno || *end)
		return -CN_EPARSE;
	*out = x;
	return 0;
}

static void note_error(struct bench *b, const char *msg)
{
	pthread_mutex_lock(&b->err_mu);
	int seen = 0;
	for (size_t i = 0; i < b->nerr_kinds; i++)
		seen |= !strcmp(b->first_err[i], msg);
	if (!seen && b->nerr_kinds < 3)
		snprintf(b->first_err[b->nerr_kinds++], sizeof b->first_err[0], "%s", msg);
	pthread_mutex_unlock(&b->err_mu);
}

struct worker {
	struct bench *b;
	size_t id;
};

/* Submits the txs of its accounts (tx i belongs to worker (i % accounts) %
 * conns) at their scheduled times: tx i is due at t0 + i / rate. */
static void *submit_main(void *arg)
{
	struct worker *w = arg;
	struct bench *b = w->b;
	const struct url *u = &b->urls[w->id % b->nurls];
	struct httpc c;
	httpc_init(&c, u->host, u->port, HTTP_TIMEOUT_MS);
	/* After a refusal the account's later nonces could only queue behind
	 * the gap; they are skipped rather than sent to fill the pool's queue. */
	unsigned char *broken = calloc(b->naccts, 1);
	for (size_t i = 0; i < b->ntx; i++) {
		if ((i % b->naccts) % b->conns != w->id)
			continue;
		struct btx *t = &b->tx[i];
		if (!broken || broken[i % b->naccts]) {
			__atomic_add_fetch(&b->skipped, 1, __ATOMIC_RELAXED);
			continue;
		}
		uint64_t due = b->t0_us + (uint64_t)((double)i * 1e6 / b->rate);
		uint64_t now = mono_us();
		if (due > now)
			sleep_us(due - now);
		t->submit_us = mono_us();
		json_t *res;
		char msg[200];
		int rc = rpc_call(&c, t->body, t->body_len, &res, msg, sizeof msg);
		json_decref(res);
		if (rc) {
			__atomic_store_n(&t->state, TX_REFUSED, __ATOMIC_RELEASE);
			__atomic_add_fetch(&b->refused, 1, __ATOMIC_RELAXED);
			broken[i % b->naccts] = 1;
			note_error(b, msg);
		} else {
			__atomic_store_n(&t->state, TX_ACCEPTED, __ATOMIC_RELEASE);
			__atomic_add_fetch(&b->accepted, 1, __ATOMIC_RELAXED);
		}
	}
	if (!broken)
		note_error(b, "out of memory (nothing sent on this connection)");
	free(broken);
	httpc_close(&c);
	return NULL;
}

struct poller {
	struct bench *b;
	uint64_t from;          /* first block number to read */
	uint64_t drain_us;      /* after submission: wait this long for the rest */
	uint64_t last_final_us;
	int err;
	char msg[200];
};

static int read_block(struct bench *b, struct httpc *c, uint64_t n, char *msg, size_t cap)
{
	char params[64];
	snprintf(params, sizeof params, "[\"0x%" PRIx64 "\",false]", n);
	json_t *blk;
	int rc = rpc_simple(c, "eth_getBlockByNumber", params, &blk, msg, cap);
	if (rc)
		return rc;
	uint64_t now = mono_us();
	json_t *txs = json_object_get(blk, "transactions");
	size_t i;
	json_t *v;
	json_array_foreach(txs, i, v) {
		const char *s = json_string_value(v);
		uint8_t h[32];
		size_t hl;
		if (!s || strncmp(s, "0x", 2) || hex_decode(s + 2, strlen(s + 2), h, 32, &hl) || hl != 32)
			continue;
		long idx = table_get(b, h);
		if (idx < 0)
			continue;
		struct btx *t = &b->tx[idx];
		uint64_t zero = 0;
		if (__atomic_compare_exchange_n(&t->final_us, &zero, now, 0, __ATOMIC_ACQ_REL,
		                                __ATOMIC_ACQUIRE))
			__atomic_add_fetch(&b->finalized, 1, __ATOMIC_RELAXED);
	}
	json_decref(blk);
	b->blocks++;
	return 0;
}

static void *poll_main(void *arg)
{
	struct poller *p = arg;
	struct bench *b = p->b;
	struct httpc c;
	httpc_init(&c, b->urls[0].host, b->urls[0].port, HTTP_TIMEOUT_MS);
	uint64_t next = p->from, drain_end = 0;
	for (;;) {
		json_t *r;
		uint64_t head;
		if (rpc_simple(&c, "eth_blockNumber", "[]", &r, p->msg, sizeof p->msg) == 0 &&
		    parse_hex_u64(r, &head) == 0) {
			for (; next <= head; next++)
				if ((p->err = read_block(b, &c, next, p->msg, sizeof p->msg)))
					break;
		}
		json_decref(r);
		size_t fin = __atomic_load_n(&b->finalized, __ATOMIC_RELAXED);
		if (fin)
			p->last_final_us = mono_us();
		if (__atomic_load_n(&b->submit_done, __ATOMIC_ACQUIRE)) {
			if (!drain_end)
				drain_end = mono_us() + p->drain_us;
			if (fin >= __atomic_load_n(&b->accepted, __ATOMIC_RELAXED) || mono_us() >= drain_end)
				break;
		}
		sleep_us(b->poll_us);
	}
	httpc_close(&c);
	return NULL;
}

/* Signs a transfer and fills t with its eth_sendRawTransaction request and
 * both of its hashes. */
static int sign_request(const struct netparams *np, uint32_t shard, const uint8_t secret[32],
                        uint64_t nonce, const uint8_t to[20], const struct u256 *val, struct btx *t)
{
	struct tx tx;
	memset(&tx, 0, sizeof tx);
	uint8_t *raw = NULL;
	size_t rl;
	int rc;
	if ((rc = chain_sign_transfer(&tx, np, shard, shard, secret, nonce, to, val)) ||
	    (rc = tx_hash(&tx, t->hash)) || (rc = tx_eth_hash(&tx, t->eth_hash)) ||
	    (rc = tx_encode(&tx, &raw, &rl))) {
		tx_free(&tx);
		return rc;
	}
	tx_free(&tx);
	static const char pre[] = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_sendRawTransaction\",\"params\":[\"0x";
	static const char post[] = "\"]}";
	size_t bl = sizeof pre - 1 + 2 * rl + sizeof post - 1;
	char *body = malloc(bl + 1);
	if (!body) {
		free(raw);
		return -CN_ENOMEM;
	}
	memcpy(body, pre, sizeof pre - 1);
	hex_encode(raw, rl, body + sizeof pre - 1);
	memcpy(body + sizeof pre - 1 + 2 * rl, post, sizeof post);
	free(raw);
	t->body = body;
	t->body_len = bl;
	return 0;
}

/* eth_getTransactionCount(addr, tag). */
static int get_nonce(struct httpc *c, const uint8_t addr[20], const char *tag, uint64_t *out,
                     char *msg, size_t cap)
{
	char hex[ADDR_HEX_LEN + 1], params[112];
	addr_to_hex(addr, hex);
	snprintf(params, sizeof params, "[\"%s\",\"%s\"]", hex, tag);
	json_t *r;
	int rc = rpc_simple(c, "eth_getTransactionCount", params, &r, msg, cap);
	if (!rc && (rc = parse_hex_u64(r, out)))
		snprintf(msg, cap, "bad answer");
	json_decref(r);
	return rc;
}

/* The secret of fresh sender i. */
static int sender_secret(size_t i, uint8_t secret[32], uint8_t addr[20])
{
	char seed[64];
	int n = snprintf(seed, sizeof seed, "canon-bench-tx-sender-%zu", i);
	keccak256(seed, (size_t)n, secret);
	int rc = secp_secret_check(secret);
	return rc ? rc : addr_from_secret(secret, addr);
}

/* One round of transfers from the genesis accounts (secrets gsec, next
 * nonces gnonce, advanced here) gives each of the n fresh senders `amount`;
 * returns once every one of them is in a block, or -CN_ETIMEDOUT after
 * wait_ms. */
static int fund_senders(struct httpc *c, const struct netparams *np, uint32_t shard,
                        uint8_t gsec[][32], uint64_t *gnonce, uint8_t (*addr)[20], size_t n,
                        const struct u256 *amount, uint64_t wait_ms, char *msg, size_t cap)
{
	uint64_t t0 = mono_us();
	int rc = 0;
	for (size_t i = 0; i < n && !rc; i++) {
		unsigned a = (unsigned)(i % CHAIN_LOCALNET_ACCOUNTS);
		struct btx t = {0};
		json_t *r = NULL;
		if ((rc = sign_request(np, shard, gsec[a], gnonce[a], addr[i], amount, &t)))
			snprintf(msg, cap, "signing: %s", cn_strerror(rc));
		else if ((rc = rpc_call(c, t.body, t.body_len, &r, msg, cap)) == 0)
			gnonce[a]++;
		json_decref(r);
		free(t.body);
	}
	if (rc)
		return rc;
	/* Final once each funding account's mined nonce caught up. */
	for (unsigned a = 0; a < CHAIN_LOCALNET_ACCOUNTS && a < n; a++) {
		uint8_t ga[20];
		if ((rc = addr_from_secret(gsec[a], ga)))
			return rc;
		for (;;) {
			uint64_t mined;
			if ((rc = get_nonce(c, ga, "latest", &mined, msg, cap)))
				return rc;
			if (mined >= gnonce[a])
				break;
			if (mono_us() - t0 > wait_ms * 1000) {
				snprintf(msg, cap, "funding transfers not final after %" PRIu64 " ms", wait_ms);
				return -CN_ETIMEDOUT;
			}
			sleep_us(50000);
		}
	}
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static const char usage_line[] =
	"canon bench tx --shard S --rate R --duration D [--rpc URL,...] [--dir DIR] [--conns N] [--accounts N] [--bench]";

static int cmd_tx(int argc, char **argv)
{
	uint64_t shard = 0, naccts = 0, dur_ms = 10000, conns = 4, drain_ms = 30000, poll_ms = 20, value = 1;
	const char *rate_s = "100", *rpc_list = NULL, *dir = "localnet", *to_s = NULL;
	int bench_out = 0;
	struct cn_flag flags[] = {
		{"shard", CN_FLAG_UINT, &shard, "S", "shard to load", 0},
		{"rate", CN_FLAG_STRING, &rate_s, "R", "transactions per second offered", 0},
		{"duration", CN_FLAG_DURATION, &dur_ms, "D", "how long to submit (e.g. 10s)", 0},
		{"rpc", CN_FLAG_STRING, &rpc_list, "URL,...", "RPC endpoints of the shard (default: the localnet's RPC node)", 0},
		{"dir", CN_FLAG_STRING, &dir, "DIR", "localnet directory (for its port offset; default ./localnet)", 0},
		{"conns", CN_FLAG_UINT, &conns, "N", "HTTP connections (default 4)", 0},
		{"accounts", CN_FLAG_UINT, &naccts, "N", "send from N fresh accounts the genesis accounts fund first (default 0: the genesis accounts themselves)", 0},
		{"to", CN_FLAG_STRING, &to_s, "0xADDR", "send every transfer to this address (default: fresh addresses)", 0},
		{"value", CN_FLAG_UINT, &value, "ATTO", "value of each transfer (default 1)", 0},
		{"drain", CN_FLAG_DURATION, &drain_ms, "DUR", "after submitting, wait up to this long for finality (default 30s)", 0},
		{"poll", CN_FLAG_DURATION, &poll_ms, "DUR", "head polling interval (default 20ms)", 0},
		{"bench", CN_FLAG_BOOL, &bench_out, NULL, "also print `bench node/...` lines", 0},
		{NULL, 0, NULL, NULL, NULL, 0},
	};
	struct cn_flags_result res;
	char err[256];
	if (cn_flags_parse(flags, argc - 1, argv + 1, &res, err, sizeof err)) {
		fprintf(stderr, "canon bench tx: %s\n", err);
		return 2;
	}
	int help = res.help;
	size_t npos = res.n_positional;
	cn_flags_result_free(&res);
	if (help) {
		cn_flags_help(stdout, usage_line, flags);
		return 0;
	}
	if (npos) {
		fprintf(stderr, "canon bench tx: unexpected argument (see --help)\n");
		return 2;
	}
	const struct netparams *np;
	netparams_get("localnet", &np);
	char *end;
	double rate = strtod(rate_s, &end);
	if (*end || !(rate > 0) || rate > 1e6) {
		fprintf(stderr, "canon bench tx: --rate: '%s' is not a positive rate\n", rate_s);
		return 2;
	}
	if (shard >= np->num_shards || !conns || conns > MAX_CONNS || !dur_ms || !poll_ms ||
	    naccts > MAX_SENDERS) {
		fprintf(stderr, "canon bench tx: --shard, --conns, --accounts, --duration or --poll out of range\n");
		return 2;
	}
	uint8_t to_fixed[20];
	if (to_s && addr_from_hex(to_s, strlen(to_s), to_fixed)) {
		fprintf(stderr, "canon bench tx: --to: '%s' is not an address\n", to_s);
		return 2;
	}
	static struct bench b;
	memset(&b, 0, sizeof b);
	pthread_mutex_init(&b.err_mu, NULL);
	if (rpc_list) {
		char *copy = strdup(rpc_list), *save = NULL;
		for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
			if (b.nurls == MAX_URLS || httpc_parse_url(t, b.urls[b.nurls].host, &b.urls[b.nurls].port)) {
				fprintf(stderr, "canon bench tx: --rpc: bad or too many URLs at '%s'\n", t);
				free(copy);
				return 2;
			}
			b.nurls++;
		}
		free(copy);
	} else {
		uint64_t off = 0;
		localnet_read_offset(dir, &off);
		snprintf(b.urls[0].host, sizeof b.urls[0].host, "127.0.0.1");
		b.urls[0].port = (uint16_t)(rpc_default_port("localnet", (uint32_t)shard) + off);
		b.nurls = 1;
	}
	if (!b.nurls) {
		fprintf(stderr, "canon bench tx: no RPC endpoint\n");
		return 2;
	}
	b.conns = conns;
	b.rate = rate;
	b.poll_us = poll_ms * 1000;
	double total = rate * (double)dur_ms / 1000.0;
	if (total < 1 || total > 2e6) {
		fprintf(stderr, "canon bench tx: rate x duration gives %.0f transactions (1..2000000)\n", total);
		return 2;
	}
	b.ntx = (size_t)total;

	/* Starting nonces and the head, before anything is sent. */
	struct httpc c;
	httpc_init(&c, b.urls[0].host, b.urls[0].port, HTTP_TIMEOUT_MS);
	uint64_t gnonce[CHAIN_LOCALNET_ACCOUNTS], head0 = 0;
	uint8_t gsec[CHAIN_LOCALNET_ACCOUNTS][32];
	char msg[200] = "";
	int rc = 0;
	json_t *r;
	if ((rc = rpc_simple(&c, "eth_blockNumber", "[]", &r, msg, sizeof msg)) ||
	    (rc = parse_hex_u64(r, &head0))) {
		fprintf(stderr, "canon bench tx: eth_blockNumber on %s:%u: %s\n", b.urls[0].host,
		        (unsigned)b.urls[0].port, rc == -CN_EPARSE ? "bad answer" : msg);
		json_decref(r);
		httpc_close(&c);
		return 1;
	}
	json_decref(r);
	for (unsigned a = 0; a < CHAIN_LOCALNET_ACCOUNTS && !rc; a++) {
		uint8_t addr[20];
		if (!(rc = chain_localnet_account(a, gsec[a], addr)))
			rc = get_nonce(&c, addr, "pending", &gnonce[a], msg, sizeof msg);
	}
	if (rc) {
		fprintf(stderr, "canon bench tx: eth_getTransactionCount: %s\n", msg);
		httpc_close(&c);
		bytes_wipe(gsec, sizeof gsec);
		return 1;
	}

	/* The senders: the genesis accounts themselves, or fresh ones they fund. */
	b.naccts = naccts ? (size_t)naccts : CHAIN_LOCALNET_ACCOUNTS;
	uint8_t (*secret)[32] = calloc(b.naccts, 32);
	uint8_t (*saddr)[20] = calloc(b.naccts, 20);
	uint64_t *nonce = calloc(b.naccts, sizeof *nonce);
	b.tx = calloc(b.ntx, sizeof *b.tx);
	size_t tcap = 1;
	while (tcap < 4 * b.ntx)
		tcap <<= 1;
	b.table = calloc(tcap, sizeof *b.table);
	b.tmask = tcap - 1;
	if (!secret || !saddr || !nonce || !b.tx || !b.table) {
		fprintf(stderr, "canon bench tx: out of memory\n");
		rc = -CN_ENOMEM;
		httpc_close(&c);
		goto out;
	}
	struct u256 val = u256_from_u64(value);
	if (!naccts) {
		memcpy(secret, gsec, sizeof gsec);
		memcpy(nonce, gnonce, sizeof gnonce);
	} else {
		for (size_t i = 0; i < b.naccts && !rc; i++)
			rc = sender_secret(i, secret[i], saddr[i]);
		/* Enough for this run's share of transfers and their gas. */
		struct u256 amount, per_tx = u256_from_u64(CHAIN_TX_GAS), price = u256_from_u64(np->min_gas_price),
		                    count = u256_from_u64((uint64_t)((b.ntx + b.naccts - 1) / b.naccts));
		u256_mul(&per_tx, &per_tx, &price);
		u256_add(&per_tx, &per_tx, &val);
		u256_mul(&amount, &per_tx, &count);
		uint64_t f0 = mono_us();
		if (rc || (rc = fund_senders(&c, np, (uint32_t)shard, gsec, gnonce, saddr, b.naccts, &amount,
		                             drain_ms, msg, sizeof msg))) {
			fprintf(stderr, "canon bench tx: funding %zu senders: %s\n", b.naccts,
			        rc == -CN_ETIMEDOUT || !msg[0] ? cn_strerror(rc) : msg);
			httpc_close(&c);
			goto out;
		}
		for (size_t i = 0; i < b.naccts && !rc; i++)
			rc = get_nonce(&c, saddr[i], "pending", &nonce[i], msg, sizeof msg);
		if (!rc && !(rc = rpc_simple(&c, "eth_blockNumber", "[]", &r, msg, sizeof msg))) {
			rc = parse_hex_u64(r, &head0);
			json_decref(r);
		}
		if (rc) {
			fprintf(stderr, "canon bench tx: after funding: %s\n", msg);
			httpc_close(&c);
			goto out;
		}
		printf("bench tx: funded %zu fresh senders in %.2f s\n", b.naccts,
		       (double)(mono_us() - f0) / 1e6);
	}
	httpc_close(&c);

	/* Sign everything up front. */
	uint64_t sign_t0 = mono_us();
	for (size_t i = 0; i < b.ntx && !rc; i++) {
		size_t a = i % b.naccts;
		uint8_t to[20], seed[32];
		if (to_s) {
			memcpy(to, to_fixed, 20);
		} else {
			char s[64];
			int n = snprintf(s, sizeof s, "canon-bench-tx-%zu-%" PRIu64, i, head0);
			keccak256(s, (size_t)n, seed);
			memcpy(to, seed + 12, 20);
		}
		if ((rc = sign_request(np, (uint32_t)shard, secret[a], nonce[a] + i / b.naccts, to, &val,
		                       &b.tx[i])))
			break;
		table_put(&b, b.tx[i].hash, (uint32_t)i);
		table_put(&b, b.tx[i].eth_hash, (uint32_t)i);
	}
	if (rc) {
		fprintf(stderr, "canon bench tx: signing failed: %s\n", cn_strerror(rc));
		goto out;
	}
	double sign_s = (double)(mono_us() - sign_t0) / 1e6;
	char dur[32];
	cn_flags_format_duration_ms(dur_ms, dur, sizeof dur);
	printf("bench tx: shard %u, %zu transfers from %zu accounts signed in %.2f s; offering %.0f tx/s "
	       "for %s over %zu connection(s) to %zu endpoint(s) (first %s:%u)\n",
	       (unsigned)shard, b.ntx, b.naccts, sign_s, rate, dur, b.conns, b.nurls,
	       b.urls[0].host, (unsigned)b.urls[0].port);
	fflush(stdout);

	struct poller p = {.b = &b, .from = head0 + 1, .drain_us = drain_ms * 1000};
	struct worker w[MAX_CONNS];
	pthread_t th[MAX_CONNS], pth;
	b.t0_us = mono_us() + 50000;
	if (pthread_create(&pth, NULL, poll_main, &p)) {
		fprintf(stderr, "canon bench tx: cannot start a thread\n");
		rc = -CN_ENOMEM;
		goto out;
	}
	size_t started = 0;
	for (size_t i = 0; i < b.conns; i++) {
		w[i] = (struct worker){.b = &b, .id = i};
		if (pthread_create(&th[i], NULL, submit_main, &w[i]))
			break;
		started++;
	}
	for (size_t i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	uint64_t submit_end = mono_us();
	__atomic_store_n(&b.submit_done, 1, __ATOMIC_RELEASE);
	pthread_join(pth, NULL);
	if (started < b.conns) {
		fprintf(stderr, "canon bench tx: could start only %zu of %zu connections\n", started, b.conns);
		rc = -CN_ENOMEM;
		goto out;
	}

	/* Latencies of the finalized ones. */
	uint64_t *lat = malloc((b.finalized + 1) * sizeof *lat), first_final = 0, last_final = 0;
	size_t nl = 0;
	for (size_t i = 0; i < b.ntx && lat; i++) {
		uint64_t f = b.tx[i].final_us;
		if (!f)
			continue;
		lat[nl++] = f > b.tx[i].submit_us ? f - b.tx[i].submit_us : 0;
		if (!first_final || f < first_final)
			first_final = f;
		if (f > last_final)
			last_final = f;
	}
	qsort(lat, nl, sizeof *lat, cmp_u64);
	/* Steady state: what the blocks after the first one carried, over the
	 * time between the first and the last block seen (the pipeline's fill
	 * time before the first block does not count). */
	size_t in_first = 0;
	for (size_t i = 0; i < b.ntx; i++)
		in_first += b.tx[i].final_us && b.tx[i].final_us == first_final;
	double steady = last_final > first_final
	                        ? (double)(nl - in_first) / ((double)(last_final - first_final) / 1e6)
	                        : 0;
	double window = last_final > b.t0_us ? (double)(last_final - b.t0_us) / 1e6 : 0;
	double tps = window > 0 ? (double)nl / window : 0;
	double offered = (double)(submit_end - b.t0_us) / 1e6;
	double p50 = nl ? (double)lat[(nl - 1) / 2] / 1000.0 : 0;
	double p99 = nl ? (double)lat[(size_t)((double)(nl - 1) * 0.99)] / 1000.0 : 0;
	size_t sent = b.ntx - b.skipped;
	printf("submitted %zu in %.2f s (%.0f tx/s)  accepted %zu  refused %zu  skipped %zu  finalized %zu "
	       "in %zu blocks\n",
	       sent, offered, offered > 0 ? (double)sent / offered : 0, b.accepted, b.refused, b.skipped,
	       nl, b.blocks);
	printf("throughput %.1f tx/s finalized (first submission to last finalization: %.2f s); "
	       "steady %.1f tx/s (first to last block seen)\n",
	       tps, window, steady);
	printf("latency submit->final p50 %.0f ms  p99 %.0f ms\n", p50, p99);
	for (size_t i = 0; i < b.nerr_kinds; i++)
		printf("refusal: %s\n", b.first_err[i]);
	if (p.err)
		printf("poller error: %s\n", p.msg);
	if (bench_out) {
		printf("bench node/tx_per_s_shard %.1f tx/s\n", tps);
		printf("bench node/tx_per_s_shard_steady %.1f tx/s\n", steady);
		printf("bench node/tx_latency_p50_ms %.0f ms\n", p50);
		printf("bench node/tx_latency_p99_ms %.0f ms\n", p99);
	}
	free(lat);
	rc = (b.refused || b.skipped || nl < b.accepted || p.err) ? 1 : 0;
	if (rc)
		printf("bench tx: NOT all transfers finalized (%zu of %zu accepted; %zu refused)\n", nl,
		       b.accepted, b.refused);
out:
	bytes_wipe(gsec, sizeof gsec);
	if (secret)
		bytes_wipe(secret, b.naccts * 32);
	free(secret);
	free(saddr);
	free(nonce);
	for (size_t i = 0; b.tx && i < b.ntx; i++)
		free(b.tx[i].body);
	free(b.tx);
	free(b.table);
	return rc ? 1 : 0;
}

int cli_bench(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fprintf(argc < 2 ? stderr : stdout,
		        "usage: canon bench tx [options]   (canon bench tx --help)\n"
		        "  tx   sign transfers from the localnet's funded accounts, submit them to a\n"
		        "       shard's RPC nodes at a fixed rate, report finalized tx/s and latency\n");
		return argc < 2 ? 2 : 0;
	}
	if (!strcmp(argv[1], "tx"))
		return cmd_tx(argc - 1, argv + 1);
	fprintf(stderr, "canon bench: unknown command '%s'\n", argv[1]);
	return 2;
}
