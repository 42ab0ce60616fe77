/* node.c — `canon node`: run a validator, a non-validating full node or a
 * bootnode.
 *
 * The settings are a harmony.conf (base/config.h): the network's defaults,
 * then --config FILE, then the flags, which are Harmony's flag names for the
 * same keys. What harmony.conf has no key for (the block time, the bootnode
 * role) are flags only. --dump-config prints the result and exits, so an
 * operator sees exactly what a start would use.
 *
 * Without --config the node starts from the network's defaults with three
 * differences that suit running several nodes on one machine: P2P listens
 * and Prometheus on 127.0.0.1; JSON-RPC, WebSocket and Prometheus are off
 * until asked for (--http, --ws, --prometheus.port); the RPC rate limit is
 * off; the data directory is ".". A harmony.conf is taken as written.
 *
 * Validator keys are the encrypted files of `canon keys bls` (--bls.keys, or
 * every *.key in BLSKeys.KeyDir); the passphrase is the first line of
 * --bls.pass.file. Without --run.shard the shard is the one whose genesis
 * committee holds the keys. The driver is src/runtime/rt_node.c.
 *
 * Exit status: 0 after SIGINT/SIGTERM, 2 for bad flags or settings, 1 for
 * what fails at start (missing or undecryptable key, busy port, store). */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sodium.h>

#include "base/bytes.h"
#include "base/config.h"
#include "base/err.h"
#include "base/flags.h"
#include "base/log.h"
#include "chain/chain.h"
#include "cli/cli.h"
#include "core/core.h"
#include "crypto/bls.h"
#include "crypto/keyfile.h"
#include "rpc/rpc.h"
#include "runtime/rt_net.h"
#include "runtime/rt_node.h"

#define PASS_CAP 1025
#define MAX_KEYS CN_CFG_LIST

static const char usage_line[] =
	"canon node [--network N] [--config FILE] [--run validator|explorer|bootnode] [options]";

/* Options as given; NULL / unset means "not on the command line". */
struct opts {
	const char *network, *config, *run, *datadir, *bls_keys, *bls_dir, *bls_pass_file;
	const char *p2p_ip, *bootnodes, *http_ip, *ws_ip, *prom_ip, *verbosity, *log_format;
	uint64_t shard, p2p_port, http_port, ws_port, prom_port, max_peers;
	uint64_t block_time_ms;
	int http, ws, prometheus, dump;
};

static int flag_set(const struct cn_flag *flags, const char *name)
{
	for (const struct cn_flag *f = flags; f->name; f++)
		if (!strcmp(f->name, name))
			return f->set;
	return 0;
}

static int set_key(struct cn_config *c, const char *path, const char *value)
{
	char err[256];
	if (cn_config_set(c, path, value, err, sizeof err)) {
		fprintf(stderr, "canon node: %s\n", err);
		return -1;
	}
	return 0;
}

static int set_uint(struct cn_config *c, const char *path, uint64_t v)
{
	char buf[32];
	snprintf(buf, sizeof buf, "%" PRIu64, v);
	return set_key(c, path, buf);
}

/* The flags over the loaded config, as Harmony's flags override its file. */
static int apply_flags(struct cn_config *c, const struct cn_flag *flags, const struct opts *o)
{
	struct {
		const char *flag, *key, *value;
	} strs[] = {
		{"datadir", "General.DataDir", o->datadir},
		{"bls.keys", "BLSKeys.KeyFiles", o->bls_keys},
		{"bls.dir", "BLSKeys.KeyDir", o->bls_dir},
		{"bls.pass.file", "BLSKeys.PassFile", o->bls_pass_file},
		{"p2p.ip", "P2P.IP", o->p2p_ip},
		{"bootnodes", "Network.BootNodes", o->bootnodes},
		{"http.ip", "HTTP.IP", o->http_ip},
		{"ws.ip", "WS.IP", o->ws_ip},
		{"prometheus.ip", "Prometheus.IP", o->prom_ip},
		{"log.verbosity", "Log.Verbosity", o->verbosity},
	};
	for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++)
		if (flag_set(flags, strs[i].flag) && set_key(c, strs[i].key, strs[i].value))
			return -1;
	struct {
		const char *flag, *key;
		uint64_t value;
	} nums[] = {
		{"run.shard", "General.ShardID", o->shard},
		{"p2p.port", "P2P.Port", o->p2p_port},
		{"http.port", "HTTP.Port", o->http_port},
		{"ws.port", "WS.Port", o->ws_port},
		{"prometheus.port", "Prometheus.Port", o->prom_port},
		{"p2p.maxpeers", "P2P.MaxPeers", o->max_peers},
	};
	for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++)
		if (flag_set(flags, nums[i].flag) && set_uint(c, nums[i].key, nums[i].value))
			return -1;
	if (flag_set(flags, "bls.pass.file") && set_key(c, "BLSKeys.PassSrcType", "file"))
		return -1;
	if (flag_set(flags, "http"))
		c->http.enabled = o->http;
	if (flag_set(flags, "ws"))
		c->ws.enabled = o->ws;
	/* Naming a port asks for the service. */
	if (flag_set(flags, "prometheus"))
		c->prometheus.enabled = o->prometheus;
	else if (flag_set(flags, "prometheus.port"))
		c->prometheus.enabled = true;
	if (flag_set(flags, "ws.port") && !flag_set(flags, "ws"))
		c->ws.enabled = true;
	if (o->run && strcmp(o->run, "bootnode") && set_key(c, "General.NodeType", o->run))
		return -1;
	return 0;
}

/* ---- keys ----------------------------------------------------------------------- */

struct keyset {
	size_t n;
	char path[MAX_KEYS][4096];
	uint8_t pub[MAX_KEYS][KEYFILE_PUBKEY_LEN];
	struct bls_secret_key sk[MAX_KEYS];
};

static int by_name(const void *a, const void *b)
{
	return strcmp((const char *)a, (const char *)b);
}

/* BLSKeys.KeyFiles, or every *.key in BLSKeys.KeyDir (sorted, so that a
 * node's keys keep their order across restarts). */
static int key_paths(const struct cn_config *c, struct keyset *ks)
{
	ks->n = 0;
	if (c->bls_keys.key_files.n) {
		for (size_t i = 0; i < c->bls_keys.key_files.n; i++)
			snprintf(ks->path[ks->n++], sizeof ks->path[0], "%s", c->bls_keys.key_files.v[i]);
		return 0;
	}
	DIR *d = opendir(c->bls_keys.key_dir);
	if (!d)
		return 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name);
		if (len < 5 || strcmp(e->d_name + len - 4, ".key"))
			continue;
		if (ks->n == MAX_KEYS) {
			closedir(d);
			fprintf(stderr, "canon node: more than %d key files in %s\n", MAX_KEYS,
				c->bls_keys.key_dir);
			return -1;
		}
		snprintf(ks->path[ks->n++], sizeof ks->path[0], "%s/%s", c->bls_keys.key_dir, e->d_name);
	}
	closedir(d);
	qsort(ks->path, ks->n, sizeof ks->path[0], by_name);
	return 0;
}

/* Reads each file's public key (no passphrase needed) after the checks
 * that need none, so that a bad file fails before anything is decrypted. */
static int key_headers(struct keyset *ks, uint8_t (*raw)[KEYFILE_SIZE + 1], size_t *raw_len)
{
	for (size_t i = 0; i < ks->n; i++) {
		struct keyfile_header h;
		const char *why = NULL;
		int rc = keyfile_read(ks->path[i], raw[i], KEYFILE_SIZE + 1, &raw_len[i]);
		if (rc) {
			fprintf(stderr, "canon node: BLS key %s: %s\n", ks->path[i],
				rc == -CN_ENOTFOUND ? "no such file" : "cannot read it");
			return -1;
		}
		rc = keyfile_parse(raw[i], raw_len[i], &keyfile_policy_default, &h, &why);
		if (!rc && keyfile_check_name(ks->path[i], h.pubkey)) {
			rc = -CN_EVERIFY;
			why = "file name does not match the public key in it (<public key hex>.key)";
		}
		if (rc) {
			fprintf(stderr, "canon node: BLS key %s: %s\n", ks->path[i], why ? why : cn_strerror(rc));
			return -1;
		}
		memcpy(ks->pub[i], h.pubkey, KEYFILE_PUBKEY_LEN);
		for (size_t j = 0; j < i; j++)
			if (!memcmp(ks->pub[j], ks->pub[i], KEYFILE_PUBKEY_LEN)) {
				fprintf(stderr, "canon node: BLS key %s is given twice\n", ks->path[i]);
				return -1;
			}
	}
	return 0;
}

/* The shard of the network whose genesis committee holds every key. */
static int shard_of_keys(const char *network, const struct netparams *np, const struct keyset *ks,
			 int64_t *shard)
{
	for (uint32_t s = 0; s < np->num_shards; s++) {
		struct chain_genesis g;
		if (chain_genesis_default(&g, network, s))
			continue;
		const struct shard_committee *cm = shard_state_find(&g.committee, s);
		size_t found = 0;
		for (size_t i = 0; cm && i < ks->n; i++)
			for (size_t j = 0; j < cm->nslots; j++)
				if (!memcmp(cm->slots[j].bls_key, ks->pub[i], KEYFILE_PUBKEY_LEN)) {
					found++;
					break;
				}
		chain_genesis_free(&g);
		if (found == ks->n) {
			*shard = s;
			return 0;
		}
		if (found) {
			fprintf(stderr, "canon node: the BLS keys belong to different shards' committees\n");
			return -1;
		}
	}
	fprintf(stderr, "canon node: no shard's genesis committee of %s holds these BLS keys; "
			"give --run.shard S\n", network);
	return -1;
}

/* From here a SIGINT or SIGTERM waits until rt_node_run has its handlers
 * and then stops the node cleanly (exit 0). Not before the passphrase is
 * read: Ctrl-C at the prompt ends the command at once. */
static void hold_stop_signals(void)
{
	sigset_t sigs;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
}

static int decrypt_keys(const struct cn_config *c, struct keyset *ks,
			uint8_t (*raw)[KEYFILE_SIZE + 1], const size_t *raw_len)
{
	char pass[PASS_CAP];
	size_t pass_len = 0;
	pass[0] = 0;
	if (c->bls_keys.pass_enabled) {
		/* PassSrcType: file, prompt, or auto (the file if one is named,
		 * else the terminal), as Harmony reads it. */
		const char *src = c->bls_keys.pass_src_type;
		int use_file = !strcmp(src, "file") || (!strcmp(src, "auto") && c->bls_keys.pass_file[0]);
		if (use_file && !c->bls_keys.pass_file[0]) {
			fprintf(stderr, "canon node: BLSKeys.PassSrcType is file but no file is named: give "
					"--bls.pass.file F\n");
			return -1;
		}
		if (use_file && cli_pass_file(c->bls_keys.pass_file, pass, sizeof pass, &pass_len))
			return -1;
		if (!use_file && cli_pass_prompt("BLS key passphrase: ", pass, sizeof pass, &pass_len)) {
			fprintf(stderr, "canon node: the BLS keys need a passphrase: give --bls.pass.file F "
					"(stdin is not a terminal to ask on)\n");
			return -1;
		}
	}
	hold_stop_signals();
	int bad = 0;
	for (size_t i = 0; i < ks->n && !bad; i++) {
		const char *why = NULL;
		uint8_t pub[KEYFILE_PUBKEY_LEN];
		int rc = keyfile_bls_open(raw[i], raw_len[i], pass, pass_len, &keyfile_policy_default,
					  &ks->sk[i], pub, &why);
		if (rc) {
			fprintf(stderr, "canon node: BLS key %s: %s\n", ks->path[i],
				rc == -CN_EPASS ? "wrong passphrase" : why ? why : cn_strerror(rc));
			bad = 1;
		}
	}
	bytes_wipe(pass, sizeof pass);
	return bad ? -1 : 0;
}

/* ---- bootnode ------------------------------------------------------------------- */

static int run_bootnode(const struct cn_config *c)
{
	char bind[CN_CFG_STR + 16];
	struct net_addr addr;
	snprintf(bind, sizeof bind, "%s:%lld", c->p2p.ip, (long long)c->p2p.port);
	if (rt_addr_parse(bind, &addr)) {
		fprintf(stderr, "canon node: P2P address %s is not IP:PORT\n", bind);
		return 2;
	}
	return cli_bootnode_run(c->general.data_dir, &addr);
}

/* ---- the command ------------------------------------------------------------------- */

static void dump(const struct cn_config *c, const char *run, uint64_t block_time_ms)
{
	char bt[32];
	cn_flags_format_duration_ms(block_time_ms, bt, sizeof bt);
	printf("# canon node settings without a harmony.conf key:\n"
	       "#   --run %s\n#   --block-time %s\n",
	       run, bt);
	cn_config_dump(c, stdout);
}

int cli_node(int argc, char **argv)
{
	struct opts o = {.network = "mainnet"};
	struct cn_flag flags[] = {
		{"network", CN_FLAG_STRING, &o.network, "N", "mainnet (default), testnet, partner or localnet", 0},
		{"config", CN_FLAG_STRING, &o.config, "FILE", "harmony.conf-style TOML; flags override it", 0},
		{"run", CN_FLAG_STRING, &o.run, "ROLE", "validator (default), explorer (full node) or bootnode", 0},
		{"run.shard", CN_FLAG_UINT, &o.shard, "S", "shard to run (validators: default from the keys)", 0},
		{"datadir", CN_FLAG_STRING, &o.datadir, "DIR", "data directory (General.DataDir)", 0},
		{"bls.keys", CN_FLAG_STRING, &o.bls_keys, "F1,F2", "BLS key files (canon keys bls new)", 0},
		{"bls.dir", CN_FLAG_STRING, &o.bls_dir, "DIR", "directory of *.key files when --bls.keys is not given", 0},
		{"bls.pass.file", CN_FLAG_STRING, &o.bls_pass_file, "FILE", "passphrase of the key files: first line of FILE", 0},
		{"p2p.ip", CN_FLAG_STRING, &o.p2p_ip, "IP", "UDP address to listen on (default 127.0.0.1)", 0},
		{"p2p.port", CN_FLAG_UINT, &o.p2p_port, "P", "UDP port (default 9000)", 0},
		{"p2p.maxpeers", CN_FLAG_UINT, &o.max_peers, "N", "most peers (0: the transport's default)", 0},
		{"bootnodes", CN_FLAG_STRING, &o.bootnodes, "LIST", "<pk hex>@ip:port,... of bootnodes", 0},
		{"http", CN_FLAG_BOOL, &o.http, NULL, "serve JSON-RPC over HTTP", 0},
		{"http.ip", CN_FLAG_STRING, &o.http_ip, "IP", "JSON-RPC address (default 127.0.0.1)", 0},
		{"http.port", CN_FLAG_UINT, &o.http_port, "P", "JSON-RPC port (default 9500; localnet 9500+2*shard)", 0},
		{"ws", CN_FLAG_BOOL, &o.ws, NULL, "also listen for WebSocket JSON-RPC on --ws.port", 0},
		{"ws.ip", CN_FLAG_STRING, &o.ws_ip, "IP", "WebSocket address (must equal --http.ip)", 0},
		{"ws.port", CN_FLAG_UINT, &o.ws_port, "P", "WebSocket port (default 9800; localnet 9800+2*shard)", 0},
		{"prometheus", CN_FLAG_BOOL, &o.prometheus, NULL, "serve GET /metrics and /status", 0},
		{"prometheus.ip", CN_FLAG_STRING, &o.prom_ip, "IP", "address of /metrics and /status (default 127.0.0.1)", 0},
		{"prometheus.port", CN_FLAG_UINT, &o.prom_port, "P", "port of /metrics and /status (turns them on)", 0},
		{"block-time", CN_FLAG_DURATION, &o.block_time_ms, "DUR", "time between blocks (default 2s; localnet >= 500ms)", 0},
		{"log.verbosity", CN_FLAG_STRING, &o.verbosity, "N", "0 silent .. 5 trace (Log.Verbosity)", 0},
		{"log.format", CN_FLAG_STRING, &o.log_format, "F", "text or json", 0},
		{"dump-config", CN_FLAG_BOOL, &o.dump, NULL, "print the resulting config as TOML and exit", 0},
		{NULL, 0, NULL, NULL, NULL, 0},
	};
	struct cn_flags_result res;
	char err[512];
	if (cn_flags_parse(flags, argc - 1, argv + 1, &res, err, sizeof err)) {
		fprintf(stderr, "canon node: %s\n", err);
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
		fprintf(stderr, "canon node: unexpected argument (see --help)\n");
		return 2;
	}
	enum cn_network net;
	if (cn_network_parse(o.network, &net)) {
		fprintf(stderr, "canon node: unknown network '%s' (mainnet, testnet, localnet, partner)\n",
			o.network);
		return 2;
	}
	const char *run = o.run ? o.run : "validator";
	int bootnode = !strcmp(run, "bootnode");
	if (!bootnode && strcmp(run, "validator") && strcmp(run, "explorer")) {
		fprintf(stderr, "canon node: --run must be validator, explorer or bootnode, not '%s'\n", run);
		return 2;
	}
	if (o.log_format) {
		enum cn_log_format fmt;
		if (cn_log_parse_format(o.log_format, &fmt)) {
			fprintf(stderr, "canon node: --log.format must be text or json\n");
			return 2;
		}
		cn_log_set_format(fmt);
	}

	static struct cn_config cfg;
	if (o.config) {
		int rc = cn_config_load_file(&cfg, net, o.config, err, sizeof err);
		if (rc) {
			if (rc == -CN_EIO || rc == -CN_ELIMIT)
				fprintf(stderr, "canon node: %s\n", err);
			else
				fprintf(stderr, "canon node: %s: %s\n", o.config, err);
			return 2;
		}
		/* A file naming a network and a different --network: the flag wins,
		 * as every flag does. */
		if (flag_set(flags, "network") && set_key(&cfg, "Network.NetworkType", o.network))
			return 2;
		/* The global --log.verbosity (before `node`) beats the file. */
		if (!flag_set(flags, "log.verbosity") && cn_log_verbosity() != CN_LOG_DEFAULT_VERBOSITY)
			cfg.log.verbosity = cn_log_verbosity();
	} else {
		cn_config_defaults(&cfg, net);
		snprintf(cfg.p2p.ip, sizeof cfg.p2p.ip, "127.0.0.1");
		snprintf(cfg.prometheus.ip, sizeof cfg.prometheus.ip, "127.0.0.1");
		cfg.http.enabled = cfg.ws.enabled = cfg.prometheus.enabled = false;
		/* Harmony's 1000 requests/s per client IP would throttle a load
		 * generator on the same machine; a config file can turn it on. */
		cfg.rpc_opt.rate_limiter_enabled = false;
		cfg.log.verbosity = cn_log_verbosity();
		snprintf(cfg.general.data_dir, sizeof cfg.general.data_dir, ".");
	}
	if (apply_flags(&cfg, flags, &o))
		return 2;
	if (cn_network_parse(cfg.network.network_type, &net)) {
		fprintf(stderr, "canon node: unknown network '%s'\n", cfg.network.network_type);
		return 2;
	}
	const char *network = cn_network_name(net);
	const struct netparams *np;
	if (netparams_get(network, &np)) {
		fprintf(stderr, "canon node: no parameters for network %s\n", network);
		return 2;
	}
	if (cfg.general.shard_id >= (int64_t)np->num_shards) {
		fprintf(stderr, "canon node: %s has shards 0..%u\n", network, np->num_shards - 1);
		return 2;
	}
	uint64_t min_bt = net == CN_NET_LOCALNET ? 500 : 1000;
	if (flag_set(flags, "block-time") && o.block_time_ms < min_bt) {
		fprintf(stderr, "canon node: --block-time must be at least %" PRIu64 "ms on %s\n", min_bt,
			network);
		return 2;
	}
	if (!bootnode && !strcmp(cfg.general.node_type, "explorer") && cfg.general.shard_id < 0) {
		fprintf(stderr, "canon node: an explorer node needs --run.shard S\n");
		return 2;
	}
	if (cn_config_validate(&cfg, err, sizeof err)) {
		fprintf(stderr, "canon node: %s\n", err);
		return 2;
	}
	cn_log_set_verbosity((int)cfg.log.verbosity);

	int validator = !bootnode && !strcmp(cfg.general.node_type, "validator");
	run = bootnode ? "bootnode" : cfg.general.node_type;   /* a config file may name the role */
	static struct keyset ks;
	static uint8_t raw[MAX_KEYS][KEYFILE_SIZE + 1];
	size_t raw_len[MAX_KEYS];
	memset(&ks, 0, sizeof ks);
	if (validator) {
		if (key_paths(&cfg, &ks))
			return 1;
		if (!ks.n) {
			fprintf(stderr, "canon node: a validator needs BLS keys: --bls.keys F1,F2 or *.key "
					"files in %s (or run --run explorer)\n", cfg.bls_keys.key_dir);
			return 1;
		}
		if ((int64_t)ks.n > cfg.bls_keys.max_keys) {
			fprintf(stderr, "canon node: %zu BLS keys, BLSKeys.MaxKeys is %lld\n", ks.n,
				(long long)cfg.bls_keys.max_keys);
			return 2;
		}
		if (key_headers(&ks, raw, raw_len))
			return 1;
		if (cfg.general.shard_id < 0 && shard_of_keys(network, np, &ks, &cfg.general.shard_id))
			return 1;
	}
	uint32_t shard = cfg.general.shard_id < 0 ? 0 : (uint32_t)cfg.general.shard_id;
	if (cfg.general.shard_id < 0)
		cfg.general.shard_id = 0;
	/* Ports left at the generic default follow the shard, as the network
	 * advertises them (rpc_default_port). */
	if (!o.config && !flag_set(flags, "http.port"))
		cfg.http.port = rpc_default_port(network, shard);
	if (!o.config && !flag_set(flags, "ws.port"))
		cfg.ws.port = rpc_default_ws_port(network, shard);

	if (o.dump) {
		dump(&cfg, run, o.block_time_ms ? o.block_time_ms : np->block_time_ms);
		return fflush(stdout) ? 1 : 0;
	}
	if (bootnode)
		return run_bootnode(&cfg);

	if (sodium_init() < 0) {
		fprintf(stderr, "canon node: libsodium failed to initialise\n");
		return 1;
	}
	if (validator && decrypt_keys(&cfg, &ks, raw, raw_len)) {
		bytes_wipe(&ks, sizeof ks);
		return 1;
	}
	bytes_wipe(raw, sizeof raw);

	hold_stop_signals();
	static struct rt_node_config rc_cfg;
	memset(&rc_cfg, 0, sizeof rc_cfg);
	rc_cfg.node.datadir = cfg.general.data_dir;
	rc_cfg.node.network = network;
	rc_cfg.node.shard = shard;
	rc_cfg.node.role = validator ? NODE_VALIDATOR : NODE_FULL;
	rc_cfg.node.keys = validator ? ks.sk : NULL;
	rc_cfg.node.n_keys = validator ? ks.n : 0;
	rc_cfg.node.block_time_ms = o.block_time_ms;
	rc_cfg.node.pool_slots = (size_t)cfg.tx_pool.global_slots;
	rc_cfg.node.pool_queue = (size_t)cfg.tx_pool.global_queue;

	const char *bn[CN_CFG_LIST];
	size_t n_bn = 0;
	for (size_t i = 0; i < cfg.network.boot_nodes.n; i++) {
		/* Harmony's libp2p multiaddrs (the mainnet defaults) mean nothing
		 * to this transport. */
		if (cfg.network.boot_nodes.v[i][0] == '/') {
			cn_log_warn("ignoring bootnode %s: canon bootnodes are <pk hex>@ip:port",
				    cfg.network.boot_nodes.v[i]);
			continue;
		}
		bn[n_bn++] = cfg.network.boot_nodes.v[i];
	}
	rc_cfg.host.datadir = cfg.general.data_dir;
	char bind[CN_CFG_STR + 16];
	snprintf(bind, sizeof bind, "%s:%lld", cfg.p2p.ip, (long long)cfg.p2p.port);
	if (rt_addr_parse(bind, &rc_cfg.host.bind)) {
		fprintf(stderr, "canon node: P2P address %s is not IP:PORT\n", bind);
		bytes_wipe(&ks, sizeof ks);
		return 2;
	}
	rc_cfg.host.bootnodes = bn;
	rc_cfg.host.n_bootnodes = n_bn;
	rc_cfg.host.max_peers = (uint32_t)cfg.p2p.max_peers;

	rc_cfg.rpc = cfg.http.enabled;
	rc_cfg.rpc_cfg.addr = cfg.http.ip;
	rc_cfg.rpc_cfg.port = (uint16_t)cfg.http.port;
	rc_cfg.rpc_cfg.ws_listen = cfg.ws.enabled;
	rc_cfg.rpc_cfg.ws_port = (uint16_t)cfg.ws.port;
	if (cfg.rpc_opt.rate_limiter_enabled)
		rc_cfg.rpc_cfg.rate = (double)cfg.rpc_opt.requests_per_second;
	if (!cfg.http.enabled && cfg.ws.enabled)
		cn_log_warn("WS.Enabled without HTTP.Enabled: WebSocket is served with JSON-RPC over "
			    "HTTP only (give --http)");
	if (cfg.http.enabled && cfg.ws.enabled && strcmp(cfg.ws.ip, cfg.http.ip))
		cn_log_warn("WS.IP %s differs from HTTP.IP %s: WebSocket listens on %s", cfg.ws.ip,
			    cfg.http.ip, cfg.http.ip);
	rc_cfg.prometheus = cfg.prometheus.enabled;
	rc_cfg.prometheus_ip = cfg.prometheus.ip;
	rc_cfg.prometheus_port = (uint16_t)cfg.prometheus.port;

	cn_log_info("starting %s node: %s shard %u, %zu BLS key(s), datadir %s", run, network,
		    (unsigned)shard, rc_cfg.node.n_keys, cfg.general.data_dir);
	int rc = rt_node_run(&rc_cfg, err, sizeof err);
	bytes_wipe(&ks, sizeof ks);
	if (rc) {
		fprintf(stderr, "canon node: %s\n", err);
		return 1;
	}
	return 0;
}
