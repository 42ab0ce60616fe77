/* config.c — the key table, defaults per network, load/set/dump/compare. */
#include "base/config.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/flags.h"
#include "base/toml.h"

enum kind { K_STR, K_INT, K_BOOL, K_DUR, K_STRS, K_INTS };

struct field {
	const char *section;     /* "" for top-level keys */
	const char *key;
	enum kind kind;
	size_t off;
	int64_t min, max;        /* K_INT, K_INTS */
	const char *const *choices; /* K_STR: NULL-terminated allowed values */
};

static const char *const node_types[] = {"validator", "explorer", NULL};
static const char *const networks[] = {"mainnet", "testnet", "localnet", "partner", NULL};
static const char *const pass_src_types[] = {"auto", "file", "prompt", NULL};
static const char *const kms_src_types[] = {"shared", "prompt", "file", NULL};

#define OFF(m) offsetof(struct cn_config, m)
#define STR(s, k, m) {s, k, K_STR, OFF(m), 0, 0, NULL}
#define STRC(s, k, m, c) {s, k, K_STR, OFF(m), 0, 0, c}
#define INT(s, k, m, lo, hi) {s, k, K_INT, OFF(m), lo, hi, NULL}
#define BOOL(s, k, m) {s, k, K_BOOL, OFF(m), 0, 0, NULL}
#define DUR(s, k, m) {s, k, K_DUR, OFF(m), 0, 0, NULL}
#define STRS(s, k, m) {s, k, K_STRS, OFF(m), 0, 0, NULL}
#define INTS(s, k, m, lo, hi) {s, k, K_INTS, OFF(m), lo, hi, NULL}
#define NONNEG(s, k, m) INT(s, k, m, 0, INT64_MAX)
#define PORT(s, k, m) INT(s, k, m, 1, 65535)
#define COUNT(s, k, m) INT(s, k, m, 0, 1000000)

/* Order here is the order of a dump: sections as in Harmony's HarmonyConfig,
 * and a sub-table ([Sync.StagedSyncCfg]) after all keys of its parent. */
static const struct field fields[] = {
	STR("", "Version", version),

	STRC("General", "NodeType", general.node_type, node_types),
	BOOL("General", "NoStaking", general.no_staking),
	INT("General", "ShardID", general.shard_id, -1, 1023),
	BOOL("General", "IsArchival", general.is_archival),
	BOOL("General", "IsBackup", general.is_backup),
	BOOL("General", "IsBeaconArchival", general.is_beacon_archival),
	BOOL("General", "IsOffline", general.is_offline),
	STR("General", "DataDir", general.data_dir),
	BOOL("General", "TraceEnable", general.trace_enable),
	BOOL("General", "EnablePruneBeaconChain", general.enable_prune_beacon_chain),
	BOOL("General", "RunElasticMode", general.run_elastic_mode),

	STRC("Network", "NetworkType", network.network_type, networks),
	STRS("Network", "BootNodes", network.boot_nodes),
	STRS("Network", "TrustedNodes", network.trusted_nodes),

	PORT("P2P", "Port", p2p.port),
	STR("P2P", "IP", p2p.ip),
	STR("P2P", "KeyFile", p2p.key_file),
	COUNT("P2P", "DiscConcurrency", p2p.disc_concurrency),
	COUNT("P2P", "MaxConnsPerIP", p2p.max_conns_per_ip),
	BOOL("P2P", "DisablePrivateIPScan", p2p.disable_private_ip_scan),
	COUNT("P2P", "MaxPeers", p2p.max_peers),
	COUNT("P2P", "ConnManagerLowWatermark", p2p.conn_manager_low_watermark),
	COUNT("P2P", "ConnManagerHighWatermark", p2p.conn_manager_high_watermark),
	BOOL("P2P", "ResourceMgrEnabled", p2p.resource_mgr_enabled),
	NONNEG("P2P", "ResourceMgrMemoryLimitBytes", p2p.resource_mgr_memory_limit_bytes),
	NONNEG("P2P", "ResourceMgrFileDescriptorsLimit", p2p.resource_mgr_file_descriptors_limit),
	BOOL("P2P", "WaitForEachPeerToConnect", p2p.wait_for_each_peer_to_connect),
	BOOL("P2P", "NoTransportSecurity", p2p.no_transport_security),
	BOOL("P2P", "NAT", p2p.nat),
	STR("P2P", "UserAgent", p2p.user_agent),
	DUR("P2P", "DialTimeout", p2p.dial_timeout_ms),
	STR("P2P", "Muxer", p2p.muxer),
	BOOL("P2P", "NoRelay", p2p.no_relay),

	BOOL("HTTP", "Enabled", http.enabled),
	STR("HTTP", "IP", http.ip),
	PORT("HTTP", "Port", http.port),
	PORT("HTTP", "AuthPort", http.auth_port),
	BOOL("HTTP", "RosettaEnabled", http.rosetta_enabled),
	PORT("HTTP", "RosettaPort", http.rosetta_port),
	DUR("HTTP", "ReadTimeout", http.read_timeout_ms),
	DUR("HTTP", "WriteTimeout", http.write_timeout_ms),
	DUR("HTTP", "IdleTimeout", http.idle_timeout_ms),

	BOOL("WS", "Enabled", ws.enabled),
	STR("WS", "IP", ws.ip),
	PORT("WS", "Port", ws.port),
	PORT("WS", "AuthPort", ws.auth_port),

	BOOL("RPCOpt", "DebugEnabled", rpc_opt.debug_enabled),
	BOOL("RPCOpt", "EthRPCsEnabled", rpc_opt.eth_rpcs_enabled),
	BOOL("RPCOpt", "StakingRPCsEnabled", rpc_opt.staking_rpcs_enabled),
	BOOL("RPCOpt", "LegacyRPCsEnabled", rpc_opt.legacy_rpcs_enabled),
	STR("RPCOpt", "RpcFilterFile", rpc_opt.rpc_filter_file),
	BOOL("RPCOpt", "RateLimterEnabled", rpc_opt.rate_limiter_enabled),
	INT("RPCOpt", "RequestsPerSecond", rpc_opt.requests_per_second, 1, 100000000),
	DUR("RPCOpt", "EvmCallTimeout", rpc_opt.evm_call_timeout_ms),
	BOOL("RPCOpt", "PreimagesEnabled", rpc_opt.preimages_enabled),

	STR("BLSKeys", "KeyDir", bls_keys.key_dir),
	STRS("BLSKeys", "KeyFiles", bls_keys.key_files),
	INT("BLSKeys", "MaxKeys", bls_keys.max_keys, 0, 1000),
	BOOL("BLSKeys", "PassEnabled", bls_keys.pass_enabled),
	STRC("BLSKeys", "PassSrcType", bls_keys.pass_src_type, pass_src_types),
	STR("BLSKeys", "PassFile", bls_keys.pass_file),
	BOOL("BLSKeys", "SavePassphrase", bls_keys.save_passphrase),
	BOOL("BLSKeys", "KMSEnabled", bls_keys.kms_enabled),
	STRC("BLSKeys", "KMSConfigSrcType", bls_keys.kms_config_src_type, kms_src_types),
	STR("BLSKeys", "KMSConfigFile", bls_keys.kms_config_file),

	STR("TxPool", "BlacklistFile", tx_pool.blacklist_file),
	STR("TxPool", "AllowedTxsFile", tx_pool.allowed_txs_file),
	STR("TxPool", "RosettaFixFile", tx_pool.rosetta_fix_file),
	STR("TxPool", "LocalAccountsFile", tx_pool.local_accounts_file),
	COUNT("TxPool", "AccountSlots", tx_pool.account_slots),
	COUNT("TxPool", "GlobalSlots", tx_pool.global_slots),
	COUNT("TxPool", "AccountQueue", tx_pool.account_queue),
	COUNT("TxPool", "GlobalQueue", tx_pool.global_queue),
	DUR("TxPool", "Lifetime", tx_pool.lifetime_ms),
	NONNEG("TxPool", "PriceLimit", tx_pool.price_limit),
	INT("TxPool", "PriceBump", tx_pool.price_bump, 0, 1000),

	BOOL("Pprof", "Enabled", pprof.enabled),
	STR("Pprof", "ListenAddr", pprof.listen_addr),
	STR("Pprof", "Folder", pprof.folder),
	STRS("Pprof", "ProfileNames", pprof.profile_names),
	INTS("Pprof", "ProfileIntervals", pprof.profile_intervals, 0, 86400 * 365),
	INTS("Pprof", "ProfileDebugValues", pprof.profile_debug_values, 0, 2),

	BOOL("Log", "Console", log.console),
	STR("Log", "Folder", log.folder),
	STR("Log", "FileName", log.file_name),
	COUNT("Log", "RotateSize", log.rotate_size),
	COUNT("Log", "RotateCount", log.rotate_count),
	COUNT("Log", "RotateMaxAge", log.rotate_max_age),
	INT("Log", "Verbosity", log.verbosity, 0, 5),
	BOOL("Log.VerbosePrints", "Config", log.verbose_prints_config),

	BOOL("Sync", "Enabled", sync.enabled),
	INT("Sync", "SyncMode", sync.sync_mode, 0, 2),
	BOOL("Sync", "Downloader", sync.downloader),
	BOOL("Sync", "StagedSync", sync.staged_sync),
	INT("Sync", "Concurrency", sync.concurrency, 1, 1024),
	INT("Sync", "MinPeers", sync.min_peers, 1, 1024),
	INT("Sync", "InitStreams", sync.init_streams, 1, 1024),
	COUNT("Sync", "DiscSoftLowCap", sync.disc_soft_low_cap),
	COUNT("Sync", "DiscHardLowCap", sync.disc_hard_low_cap),
	INT("Sync", "DiscHighCap", sync.disc_high_cap, 1, 1000000),
	INT("Sync", "DiscBatch", sync.disc_batch, 1, 1024),
	COUNT("Sync", "MaxAdvertiseWaitTime", sync.max_advertise_wait_time),
	BOOL("Sync.StagedSyncCfg", "TurboMode", sync.staged.turbo_mode),
	BOOL("Sync.StagedSyncCfg", "DoubleCheckBlockHashes", sync.staged.double_check_block_hashes),
	/* 0 is valid in the staged-sync sizes: Harmony reads it as "no limit" or
	 * "use the built-in value", and its sample configs contain it. */
	COUNT("Sync.StagedSyncCfg", "MaxBlocksPerSyncCycle", sync.staged.max_blocks_per_sync_cycle),
	COUNT("Sync.StagedSyncCfg", "MaxBackgroundBlocks", sync.staged.max_background_blocks),
	COUNT("Sync.StagedSyncCfg", "InsertChainBatchSize", sync.staged.insert_chain_batch_size),
	BOOL("Sync.StagedSyncCfg", "VerifyAllSig", sync.staged.verify_all_sig),
	COUNT("Sync.StagedSyncCfg", "VerifyHeaderBatchSize", sync.staged.verify_header_batch_size),
	COUNT("Sync.StagedSyncCfg", "MaxMemSyncCycleSize", sync.staged.max_mem_sync_cycle_size),
	BOOL("Sync.StagedSyncCfg", "UseMemDB", sync.staged.use_mem_db),
	BOOL("Sync.StagedSyncCfg", "LogProgress", sync.staged.log_progress),
	BOOL("Sync.StagedSyncCfg", "DebugMode", sync.staged.debug_mode),

	STR("Sys", "NtpServer", sys.ntp_server),

	INT("Consensus", "MinPeers", consensus.min_peers, 0, 1000),
	BOOL("Consensus", "AggregateSig", consensus.aggregate_sig),

	BOOL("Prometheus", "Enabled", prometheus.enabled),
	STR("Prometheus", "IP", prometheus.ip),
	PORT("Prometheus", "Port", prometheus.port),
	BOOL("Prometheus", "EnablePush", prometheus.enable_push),
	STR("Prometheus", "Gateway", prometheus.gateway),

	PORT("DNSSync", "Port", dns_sync.port),
	STR("DNSSync", "Zone", dns_sync.zone),
	BOOL("DNSSync", "Client", dns_sync.client),
	BOOL("DNSSync", "Server", dns_sync.server),
	PORT("DNSSync", "ServerPort", dns_sync.server_port),

	BOOL("ShardData", "EnableShardData", shard_data.enable_shard_data),
	COUNT("ShardData", "DiskCount", shard_data.disk_count),
	COUNT("ShardData", "ShardCount", shard_data.shard_count),
	COUNT("ShardData", "CacheTime", shard_data.cache_time),
	COUNT("ShardData", "CacheSize", shard_data.cache_size),

	INT("GPO", "Blocks", gpo.blocks, 1, 100000),
	INT("GPO", "Transactions", gpo.transactions, 0, 100000),
	INT("GPO", "Percentile", gpo.percentile, 0, 100),
	NONNEG("GPO", "DefaultPrice", gpo.default_price),
	NONNEG("GPO", "MaxPrice", gpo.max_price),
	INT("GPO", "LowUsageThreshold", gpo.low_usage_threshold, 0, 100),
	NONNEG("GPO", "BlockGasLimit", gpo.block_gas_limit),

	BOOL("Cache", "Disabled", cache.disabled),
	COUNT("Cache", "TrieNodeLimit", cache.trie_node_limit),
	COUNT("Cache", "TriesInMemory", cache.tries_in_memory),
	DUR("Cache", "TrieTimeLimit", cache.trie_time_limit_ms),
	COUNT("Cache", "SnapshotLimit", cache.snapshot_limit),
	BOOL("Cache", "SnapshotNoBuild", cache.snapshot_no_build),
	BOOL("Cache", "SnapshotWait", cache.snapshot_wait),
	BOOL("Cache", "Preimages", cache.preimages),

	INT("Localnet", "BlocksPerEpoch", localnet.blocks_per_epoch, 1, INT64_MAX),
	INT("Localnet", "BlocksPerEpochV2", localnet.blocks_per_epoch_v2, 1, INT64_MAX),
};
#define N_FIELDS (sizeof fields / sizeof fields[0])

#define AT(c, f, type) ((type *)((char *)(c) + (f)->off))
#define CAT(c, f, type) ((const type *)((const char *)(c) + (f)->off))

int cn_network_parse(const char *name, enum cn_network *out)
{
	for (int i = 0; networks[i]; i++)
		if (!strcmp(name, networks[i])) {
			*out = (enum cn_network)i;
			return 0;
		}
	return -CN_EINVAL;
}

const char *cn_network_name(enum cn_network net)
{
	return (unsigned)net < CN_NET_COUNT ? networks[net] : "unknown";
}

static void set_str(char *dst, const char *s)
{
	snprintf(dst, CN_CFG_STR, "%s", s);
}

/* Sync defaults per network (cmd/config/default.go). Enabled, Downloader
 * and StagedSync follow docs/reference (harmony-sync-p2p.md §10), except that
 * partner turns the stream downloader on: with Harmony's values partner would
 * have neither the stream nor the DNS client and fail its own validation. */
struct sync_defaults {
	bool enabled, downloader, staged;
	int64_t concurrency, min_peers, init_streams, soft, hard, high, batch, adv_wait;
};

static const struct sync_defaults sync_by_net[CN_NET_COUNT] = {
	[CN_NET_MAINNET] = {false, false, false, 6, 6, 8, 8, 6, 128, 8, 60},
	[CN_NET_TESTNET] = {true, false, false, 3, 3, 3, 3, 3, 1024, 3, 5},
	[CN_NET_LOCALNET] = {true, true, true, 4, 4, 4, 4, 4, 1024, 8, 5},
	[CN_NET_PARTNER] = {true, true, true, 3, 3, 3, 3, 3, 1024, 5, 5},
};

void cn_config_defaults(struct cn_config *c, enum cn_network net)
{
	if ((unsigned)net >= CN_NET_COUNT)
		net = CN_NET_MAINNET;
	memset(c, 0, sizeof *c);
	set_str(c->version, CN_CONFIG_VERSION);

	set_str(c->general.node_type, "validator");
	c->general.shard_id = -1;
	set_str(c->general.data_dir, "./");

	set_str(c->network.network_type, networks[net]);
	static const char *const boot[CN_NET_COUNT] = {
		[CN_NET_MAINNET] = "/dnsaddr/bootstrap.t.hmny.io",
		[CN_NET_TESTNET] = "/dnsaddr/bootstrap.b.hmny.io",
		[CN_NET_PARTNER] = "/dnsaddr/bootstrap.ps.hmny.io",
	};
	if (boot[net]) {
		set_str(c->network.boot_nodes.v[0], boot[net]);
		c->network.boot_nodes.n = 1;
	}

	c->p2p.port = 9000;
	set_str(c->p2p.ip, "0.0.0.0");
	set_str(c->p2p.key_file, "./.hmykey");
	c->p2p.max_conns_per_ip = 10;
	c->p2p.conn_manager_low_watermark = 160;
	c->p2p.conn_manager_high_watermark = 192;
	c->p2p.nat = true;
	c->p2p.dial_timeout_ms = 60000;
	set_str(c->p2p.muxer, "mplex, yamux");
	c->p2p.no_relay = true;

	c->http.enabled = true;
	set_str(c->http.ip, "127.0.0.1");
	c->http.port = 9500;
	c->http.auth_port = 9501;
	c->http.rosetta_port = 9700;
	c->http.read_timeout_ms = 30000;
	c->http.write_timeout_ms = 30000;
	c->http.idle_timeout_ms = 120000;

	c->ws.enabled = true;
	set_str(c->ws.ip, "127.0.0.1");
	c->ws.port = 9800;
	c->ws.auth_port = 9801;

	c->rpc_opt.eth_rpcs_enabled = true;
	c->rpc_opt.staking_rpcs_enabled = true;
	c->rpc_opt.legacy_rpcs_enabled = true;
	set_str(c->rpc_opt.rpc_filter_file, "./.hmy/rpc_filter.txt");
	c->rpc_opt.rate_limiter_enabled = true;
	c->rpc_opt.requests_per_second = 1000;
	c->rpc_opt.evm_call_timeout_ms = 5000;

	set_str(c->bls_keys.key_dir, "./.hmy/blskeys");
	c->bls_keys.max_keys = 10;
	c->bls_keys.pass_enabled = true;
	set_str(c->bls_keys.pass_src_type, "auto");
	set_str(c->bls_keys.kms_config_src_type, "shared");

	set_str(c->tx_pool.blacklist_file, "./.hmy/blacklist.txt");
	set_str(c->tx_pool.allowed_txs_file, "./.hmy/allowedtxs.txt");
	set_str(c->tx_pool.local_accounts_file, "./.hmy/locals.txt");
	c->tx_pool.account_slots = 16;
	c->tx_pool.global_slots = 4096;
	c->tx_pool.account_queue = 64;
	c->tx_pool.global_queue = 5120;
	c->tx_pool.lifetime_ms = 30 * 60000;
	c->tx_pool.price_limit = 100000000000LL;
	c->tx_pool.price_bump = 1;

	set_str(c->pprof.listen_addr, "127.0.0.1:6060");
	set_str(c->pprof.folder, "./profiles");
	c->pprof.profile_intervals.n = 1;
	c->pprof.profile_intervals.v[0] = 600;
	c->pprof.profile_debug_values.n = 1;

	set_str(c->log.folder, "./latest");
	set_str(c->log.file_name, "harmony.log");
	c->log.rotate_size = 100;
	c->log.verbosity = 3;
	c->log.verbose_prints_config = true;

	const struct sync_defaults *s = &sync_by_net[net];
	c->sync.enabled = s->enabled;
	c->sync.downloader = s->downloader;
	c->sync.staged_sync = s->staged;
	c->sync.concurrency = s->concurrency;
	c->sync.min_peers = s->min_peers;
	c->sync.init_streams = s->init_streams;
	c->sync.disc_soft_low_cap = s->soft;
	c->sync.disc_hard_low_cap = s->hard;
	c->sync.disc_high_cap = s->high;
	c->sync.disc_batch = s->batch;
	c->sync.max_advertise_wait_time = s->adv_wait;
	c->sync.staged.turbo_mode = true;
	c->sync.staged.max_blocks_per_sync_cycle = 512;
	c->sync.staged.max_background_blocks = 512;
	c->sync.staged.insert_chain_batch_size = 128;
	c->sync.staged.verify_header_batch_size = 100;
	c->sync.staged.max_mem_sync_cycle_size = 1024;
	c->sync.staged.use_mem_db = true;

	set_str(c->sys.ntp_server, "1.pool.ntp.org,0.beevik-ntp.pool.ntp.org");

	c->consensus.min_peers = 6;
	c->consensus.aggregate_sig = true;

	c->prometheus.enabled = true;
	set_str(c->prometheus.ip, "0.0.0.0");
	c->prometheus.port = 9900;
	set_str(c->prometheus.gateway, "https://gateway.harmony.one");

	static const char *const zones[CN_NET_COUNT] = {
		[CN_NET_MAINNET] = "t.hmny.io", [CN_NET_TESTNET] = "b.hmny.io",
		[CN_NET_LOCALNET] = "", [CN_NET_PARTNER] = "ps.hmny.io",
	};
	c->dns_sync.port = 6000;
	set_str(c->dns_sync.zone, zones[net]);
	c->dns_sync.client = net == CN_NET_MAINNET || net == CN_NET_TESTNET;
	c->dns_sync.server = true;
	c->dns_sync.server_port = 6000;

	c->shard_data.disk_count = 8;
	c->shard_data.shard_count = 4;
	c->shard_data.cache_time = 10;
	c->shard_data.cache_size = 512;

	c->gpo.blocks = 20;
	c->gpo.transactions = 3;
	c->gpo.percentile = 60;
	c->gpo.default_price = 100000000000LL;
	c->gpo.max_price = 1000000000000LL;
	c->gpo.low_usage_threshold = 50;

	c->cache.disabled = net != CN_NET_LOCALNET;
	c->cache.trie_node_limit = 256;
	c->cache.tries_in_memory = 128;
	c->cache.trie_time_limit_ms = 2 * 60000;
	c->cache.snapshot_wait = true;
	c->cache.preimages = net != CN_NET_LOCALNET;

	c->localnet.blocks_per_epoch = 16;
	c->localnet.blocks_per_epoch_v2 = 16;
}

/* ---- errors ------------------------------------------------------------ */

__attribute__((format(printf, 5, 6)))
static int errf(char *err, size_t cap, int line, int col, const char *fmt, ...)
{
	if (!cap)
		return -CN_EINVAL;
	int n = 0;
	if (line > 0)
		n = snprintf(err, cap, "line %d, column %d: ", line, col);
	if (n >= 0 && (size_t)n < cap) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err + n, cap - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return -CN_EINVAL;
}

static void field_name(const struct field *f, char *buf, size_t cap)
{
	if (f->section[0])
		snprintf(buf, cap, "%s.%s", f->section, f->key);
	else
		snprintf(buf, cap, "%s", f->key);
}

static const struct field *find_field(const char *section, const char *key)
{
	for (size_t i = 0; i < N_FIELDS; i++)
		if (!strcmp(fields[i].section, section) && !strcmp(fields[i].key, key))
			return &fields[i];
	return NULL;
}

static const struct field *find_path(const char *path)
{
	const char *dot = strrchr(path, '.');
	char section[128];
	if (!dot)
		return find_field("", path);
	size_t n = (size_t)(dot - path);
	if (n >= sizeof section)
		return NULL;
	memcpy(section, path, n);
	section[n] = 0;
	return find_field(section, dot + 1);
}

static int section_known(const char *section)
{
	for (size_t i = 0; i < N_FIELDS; i++)
		if (!strcmp(fields[i].section, section))
			return 1;
	return 0;
}

/* Value checks shared by files and cn_config_set; where says where. */
struct where {
	int line, col;
	const char *name;
};

static int check_int(const struct field *f, int64_t v, const struct where *w, char *err, size_t cap)
{
	if (v < f->min || v > f->max) {
		if (f->max == INT64_MAX)
			return errf(err, cap, w->line, w->col, "%s must be at least %lld, got %lld", w->name,
				    (long long)f->min, (long long)v);
		return errf(err, cap, w->line, w->col, "%s must be between %lld and %lld, got %lld", w->name,
			    (long long)f->min, (long long)f->max, (long long)v);
	}
	return 0;
}

/* Strings set from the command line must be UTF-8 too, or a dump of the
 * config would not load again. */
static int valid_utf8(const unsigned char *p, size_t len)
{
	static const uint32_t min[] = {0, 0, 0x80, 0x800, 0x10000};
	for (size_t i = 0; i < len;) {
		unsigned char c = p[i];
		size_t n = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
		if (!n || len - i < n)
			return 0;
		uint32_t cp = n == 1 ? c : c & (0x7f >> n);
		for (size_t k = 1; k < n; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (p[i + k] & 0x3f);
		}
		if (cp < min[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += n;
	}
	return 1;
}

static int check_str(const struct field *f, const char *s, size_t len, const struct where *w,
		     char *err, size_t cap)
{
	if (!valid_utf8((const unsigned char *)s, len))
		return errf(err, cap, w->line, w->col, "%s is not valid UTF-8", w->name);
	if (len >= CN_CFG_STR)
		return errf(err, cap, w->line, w->col, "%s is longer than %d bytes", w->name, CN_CFG_STR - 1);
	if (strlen(s) != len)
		return errf(err, cap, w->line, w->col, "%s contains a NUL character", w->name);
	if (!f->choices)
		return 0;
	for (int i = 0; f->choices[i]; i++)
		if (!strcmp(s, f->choices[i]))
			return 0;
	char list[128] = "";
	for (int i = 0; f->choices[i]; i++)
		snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "", f->choices[i]);
	return errf(err, cap, w->line, w->col, "%s must be one of %s, got '%s'", w->name, list, s);
}

/* ---- loading from TOML ------------------------------------------------- */

struct pos {
	int line, col;
};

struct loader {
	struct cn_config *c;
	struct pos at[N_FIELDS];   /* where each key was set, for later checks */
	char *err;
	size_t cap;
};

/* TOML integer, or a float holding an integer (Harmony writes PriceLimit as
 * 100e9). */
static int toml_int(const struct cn_toml_value *v, int64_t *out)
{
	if (cn_toml_as_int(v, out) == 0)
		return 0;
	double d;
	if (cn_toml_type(v) == CN_TOML_FLOAT && cn_toml_as_float(v, &d) == 0 && isfinite(d) &&
	    d == floor(d) && fabs(d) < 9.2e18) {
		*out = (int64_t)d;
		return 0;
	}
	return -CN_EINVAL;
}

static int apply(struct loader *L, const struct field *f, const struct cn_toml_value *v)
{
	char name[160];
	field_name(f, name, sizeof name);
	struct where w = {cn_toml_line(v), cn_toml_column(v), name};
	const char *want = NULL;
	enum cn_toml_type t = cn_toml_type(v);
	switch (f->kind) {
	case K_STR: {
		const char *s;
		size_t len;
		if (cn_toml_as_string(v, &s, &len)) {
			want = "a string";
			break;
		}
		if (check_str(f, s, len, &w, L->err, L->cap))
			return -CN_EINVAL;
		set_str(AT(L->c, f, char), s);
		return 0;
	}
	case K_INT: {
		int64_t x;
		if (toml_int(v, &x)) {
			want = "an integer";
			break;
		}
		if (check_int(f, x, &w, L->err, L->cap))
			return -CN_EINVAL;
		*AT(L->c, f, int64_t) = x;
		return 0;
	}
	case K_BOOL: {
		int b;
		if (cn_toml_as_bool(v, &b)) {
			want = "true or false";
			break;
		}
		*AT(L->c, f, bool) = b;
		return 0;
	}
	case K_DUR: {
		const char *s;
		int64_t ns;
		uint64_t ms;
		if (cn_toml_as_string(v, &s, NULL) == 0) {
			if (cn_flags_parse_duration_ms(s, &ms))
				return errf(L->err, L->cap, w.line, w.col,
					    "%s: '%s' is not a duration like \"30s\", \"5m\" or \"1h30m\"", name, s);
		} else if (cn_toml_as_int(v, &ns) == 0 && ns >= 0) {
			ms = (uint64_t)ns / 1000000;   /* Go's time.Duration counts nanoseconds */
		} else {
			want = "a duration string like \"30s\"";
			break;
		}
		*AT(L->c, f, uint64_t) = ms;
		return 0;
	}
	case K_STRS:
	case K_INTS: {
		if (t != CN_TOML_ARRAY) {
			want = f->kind == K_STRS ? "an array of strings" : "an array of integers";
			break;
		}
		size_t n = cn_toml_array_len(v);
		if (n > CN_CFG_LIST)
			return errf(L->err, L->cap, w.line, w.col, "%s has %zu entries, at most %d allowed",
				    name, n, CN_CFG_LIST);
		for (size_t i = 0; i < n; i++) {
			const struct cn_toml_value *e = cn_toml_array_at(v, i);
			struct where we = {cn_toml_line(e), cn_toml_column(e), name};
			if (f->kind == K_STRS) {
				const char *s;
				size_t len;
				if (cn_toml_as_string(e, &s, &len))
					return errf(L->err, L->cap, we.line, we.col, "%s entries must be strings, got %s",
						    name, cn_toml_type_name(cn_toml_type(e)));
				if (check_str(f, s, len, &we, L->err, L->cap))
					return -CN_EINVAL;
				set_str(AT(L->c, f, struct cn_cfg_strs)->v[i], s);
			} else {
				int64_t x;
				if (toml_int(e, &x))
					return errf(L->err, L->cap, we.line, we.col, "%s entries must be integers, got %s",
						    name, cn_toml_type_name(cn_toml_type(e)));
				if (check_int(f, x, &we, L->err, L->cap))
					return -CN_EINVAL;
				AT(L->c, f, struct cn_cfg_ints)->v[i] = x;
			}
		}
		if (f->kind == K_STRS)
			AT(L->c, f, struct cn_cfg_strs)->n = n;
		else
			AT(L->c, f, struct cn_cfg_ints)->n = n;
		return 0;
	}
	}
	return errf(L->err, L->cap, w.line, w.col, "%s must be %s, got %s", name, want, cn_toml_type_name(t));
}

static int walk(struct loader *L, const struct cn_toml_value *t, const char *section)
{
	for (size_t i = 0; i < cn_toml_table_len(t); i++) {
		const char *key = cn_toml_table_key(t, i);
		const struct cn_toml_value *v = cn_toml_table_value(t, i);
		int line = cn_toml_key_line(t, i), col = cn_toml_key_column(t, i);
		const struct field *f = strchr(key, '.') ? NULL : find_field(section, key);
		if (f) {
			if (apply(L, f, v))
				return -CN_EINVAL;
			L->at[f - fields] = (struct pos){line, col};
			continue;
		}
		char sub[160];
		snprintf(sub, sizeof sub, "%s%s%s", section, section[0] ? "." : "", key);
		if (cn_toml_type(v) == CN_TOML_TABLE && !strchr(key, '.') && section_known(sub)) {
			if (walk(L, v, sub))
				return -CN_EINVAL;
			continue;
		}
		if (cn_toml_type(v) == CN_TOML_TABLE)
			return errf(L->err, L->cap, line, col, "unknown section [%s]", sub);
		if (!section[0])
			return errf(L->err, L->cap, line, col, "unknown top-level key '%s'", key);
		return errf(L->err, L->cap, line, col, "unknown key '%s' in [%s]", key, section);
	}
	return 0;
}

static int validate(const struct cn_config *c, const struct loader *L, char *err, size_t cap)
{
#define WHERE(path) (L ? L->at[find_path(path) - fields] : (struct pos){0, 0})
	struct pos p;
	if (!strcmp(c->general.node_type, "explorer") && c->general.shard_id < 0) {
		p = WHERE("General.NodeType");
		return errf(err, cap, p.line, p.col,
			    "General.NodeType: an explorer node needs General.ShardID set to a shard (>= 0)");
	}
	if (c->general.is_offline && strcmp(c->p2p.ip, "127.0.0.1")) {
		p = WHERE("General.IsOffline");
		return errf(err, cap, p.line, p.col, "General.IsOffline: offline mode needs P2P.IP = \"127.0.0.1\"");
	}
	if (!c->sync.downloader && !c->dns_sync.client) {
		p = WHERE("Sync.Downloader");
		if (!p.line)
			p = WHERE("DNSSync.Client");
		return errf(err, cap, p.line, p.col,
			    "no sync client: enable Sync.Downloader or DNSSync.Client");
	}
	if (c->p2p.conn_manager_low_watermark > c->p2p.conn_manager_high_watermark) {
		p = WHERE("P2P.ConnManagerLowWatermark");
		return errf(err, cap, p.line, p.col,
			    "P2P.ConnManagerLowWatermark (%lld) is above P2P.ConnManagerHighWatermark (%lld)",
			    (long long)c->p2p.conn_manager_low_watermark,
			    (long long)c->p2p.conn_manager_high_watermark);
	}
	return 0;
#undef WHERE
}

int cn_config_validate(const struct cn_config *c, char *err, size_t errcap)
{
	return validate(c, NULL, err, errcap);
}

int cn_config_load(struct cn_config *c, enum cn_network default_net, const char *text, size_t len,
		   char *err, size_t errcap)
{
	char tmp[8];
	if (!errcap) {
		err = tmp;
		errcap = sizeof tmp;
	}
	err[0] = 0;
	struct cn_toml_doc *doc;
	int rc = cn_toml_parse(text, len, &doc, err, errcap);
	if (rc)
		return rc;
	const struct cn_toml_value *root = cn_toml_root(doc);
	enum cn_network net = default_net;
	const struct cn_toml_value *nt = cn_toml_get_path(root, "Network.NetworkType");
	const char *name;
	if (nt && cn_toml_as_string(nt, &name, NULL) == 0 && cn_network_parse(name, &net)) {
		rc = errf(err, errcap, cn_toml_line(nt), cn_toml_column(nt),
			  "unknown network '%s' (known: mainnet, testnet, localnet, partner)", name);
		cn_toml_free(doc);
		return rc;
	}
	struct loader *L = calloc(1, sizeof *L);
	struct cn_config *tmpc = malloc(sizeof *tmpc);
	if (!L || !tmpc) {
		free(L);
		free(tmpc);
		cn_toml_free(doc);
		snprintf(err, errcap, "out of memory");
		return -CN_ENOMEM;
	}
	cn_config_defaults(tmpc, net);
	L->c = tmpc;
	L->err = err;
	L->cap = errcap;
	rc = walk(L, root, "");
	if (!rc)
		rc = validate(tmpc, L, err, errcap);
	if (!rc)
		memcpy(c, tmpc, sizeof *c);
	free(L);
	free(tmpc);
	cn_toml_free(doc);
	return rc;
}

int cn_config_load_file(struct cn_config *c, enum cn_network default_net, const char *path,
			char *err, size_t errcap)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		if (errcap)
			snprintf(err, errcap, "%s: %s", path, strerror(errno));
		return -CN_EIO;
	}
	char *buf = NULL;
	size_t len = 0, cap = 0;
	for (;;) {
		if (len == cap) {
			cap = cap ? 2 * cap : 65536;
			if (cap > 16 * 1024 * 1024) {
				free(buf);
				fclose(f);
				if (errcap)
					snprintf(err, errcap, "%s: file larger than 16 MiB", path);
				return -CN_ELIMIT;
			}
			char *nb = realloc(buf, cap);
			if (!nb) {
				free(buf);
				fclose(f);
				return -CN_ENOMEM;
			}
			buf = nb;
		}
		size_t n = fread(buf + len, 1, cap - len, f);
		len += n;
		if (n == 0)
			break;
	}
	int bad = ferror(f);
	fclose(f);
	if (bad) {
		free(buf);
		if (errcap)
			snprintf(err, errcap, "%s: read error", path);
		return -CN_EIO;
	}
	int rc = cn_config_load(c, default_net, buf, len, err, errcap);
	free(buf);
	return rc;
}

/* ---- set from text ----------------------------------------------------- */

static int parse_int_text(const char *s, int64_t *out)
{
	char *end;
	errno = 0;
	const char *d = *s == '-' || *s == '+' ? s + 1 : s;
	/* Decimal, or hex after 0x; a leading zero does not mean octal. */
	long long v = strtoll(s, &end, d[0] == '0' && (d[1] == 'x' || d[1] == 'X') ? 16 : 10);
	if (!*s || *end || errno)
		return -CN_EINVAL;
	*out = v;
	return 0;
}

int cn_config_set(struct cn_config *c, const char *path, const char *value, char *err, size_t errcap)
{
	char tmp[8];
	if (!errcap) {
		err = tmp;
		errcap = sizeof tmp;
	}
	const struct field *f = find_path(path);
	if (!f)
		return errf(err, errcap, 0, 0, "unknown config key '%s'", path);
	struct where w = {0, 0, path};
	switch (f->kind) {
	case K_STR:
		if (check_str(f, value, strlen(value), &w, err, errcap))
			return -CN_EINVAL;
		set_str(AT(c, f, char), value);
		return 0;
	case K_INT: {
		int64_t x;
		if (parse_int_text(value, &x))
			return errf(err, errcap, 0, 0, "%s: '%s' is not an integer", path, value);
		if (check_int(f, x, &w, err, errcap))
			return -CN_EINVAL;
		*AT(c, f, int64_t) = x;
		return 0;
	}
	case K_BOOL:
		if (!strcmp(value, "true"))
			*AT(c, f, bool) = true;
		else if (!strcmp(value, "false"))
			*AT(c, f, bool) = false;
		else
			return errf(err, errcap, 0, 0, "%s: '%s' is not true or false", path, value);
		return 0;
	case K_DUR:
		if (cn_flags_parse_duration_ms(value, AT(c, f, uint64_t)))
			return errf(err, errcap, 0, 0, "%s: '%s' is not a duration like 30s, 5m or 1h30m", path, value);
		return 0;
	case K_STRS:
	case K_INTS: {
		struct cn_cfg_strs strs = {0};
		struct cn_cfg_ints ints = {0};
		const char *p = value;
		while (*p) {
			const char *comma = strchr(p, ',');
			size_t n = comma ? (size_t)(comma - p) : strlen(p);
			while (n && (*p == ' ' || *p == '\t')) {
				p++;
				n--;
			}
			while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
				n--;
			if (strs.n == CN_CFG_LIST || ints.n == CN_CFG_LIST)
				return errf(err, errcap, 0, 0, "%s: at most %d entries allowed", path, CN_CFG_LIST);
			char item[CN_CFG_STR];
			if (n >= sizeof item)
				return errf(err, errcap, 0, 0, "%s: entry longer than %d bytes", path, CN_CFG_STR - 1);
			memcpy(item, p, n);
			item[n] = 0;
			if (f->kind == K_STRS) {
				if (check_str(f, item, n, &w, err, errcap))
					return -CN_EINVAL;
				set_str(strs.v[strs.n++], item);
			} else {
				int64_t x;
				if (parse_int_text(item, &x))
					return errf(err, errcap, 0, 0, "%s: '%s' is not an integer", path, item);
				if (check_int(f, x, &w, err, errcap))
					return -CN_EINVAL;
				ints.v[ints.n++] = x;
			}
			if (!comma)
				break;
			p = comma + 1;
		}
		if (f->kind == K_STRS)
			*AT(c, f, struct cn_cfg_strs) = strs;
		else
			*AT(c, f, struct cn_cfg_ints) = ints;
		return 0;
	}
	}
	return -CN_EINVAL;
}

/* ---- dump and compare -------------------------------------------------- */

static void put_quoted(FILE *out, const char *s)
{
	char buf[2 * CN_CFG_STR * 3];
	cn_toml_quote(s, strlen(s), buf, sizeof buf);
	fputs(buf, out);
}

int cn_config_dump(const struct cn_config *c, FILE *out)
{
	const char *section = "";
	int indent = 0;
	for (size_t i = 0; i < N_FIELDS; i++) {
		const struct field *f = &fields[i];
		if (strcmp(f->section, section)) {
			section = f->section;
			int dots = 0;
			for (const char *p = section; *p; p++)
				dots += *p == '.';
			fprintf(out, "\n%*s[%s]\n", 2 * dots, "", section);
			indent = 2 * (dots + 1);
		}
		fprintf(out, "%*s%s = ", indent, "", f->key);
		switch (f->kind) {
		case K_STR:
			put_quoted(out, CAT(c, f, char));
			break;
		case K_INT:
			fprintf(out, "%lld", (long long)*CAT(c, f, int64_t));
			break;
		case K_BOOL:
			fputs(*CAT(c, f, bool) ? "true" : "false", out);
			break;
		case K_DUR: {
			char d[64];
			cn_flags_format_duration_ms(*CAT(c, f, uint64_t), d, sizeof d);
			put_quoted(out, d);
			break;
		}
		case K_STRS: {
			const struct cn_cfg_strs *l = CAT(c, f, struct cn_cfg_strs);
			fputc('[', out);
			for (size_t k = 0; k < l->n; k++) {
				if (k)
					fputs(", ", out);
				put_quoted(out, l->v[k]);
			}
			fputc(']', out);
			break;
		}
		case K_INTS: {
			const struct cn_cfg_ints *l = CAT(c, f, struct cn_cfg_ints);
			fputc('[', out);
			for (size_t k = 0; k < l->n; k++)
				fprintf(out, "%s%lld", k ? ", " : "", (long long)l->v[k]);
			fputc(']', out);
			break;
		}
		}
		fputc('\n', out);
	}
	return ferror(out) ? -CN_EIO : 0;
}

int cn_config_equal(const struct cn_config *a, const struct cn_config *b)
{
	for (size_t i = 0; i < N_FIELDS; i++) {
		const struct field *f = &fields[i];
		switch (f->kind) {
		case K_STR:
			if (strcmp(CAT(a, f, char), CAT(b, f, char)))
				return 0;
			break;
		case K_INT:
			if (*CAT(a, f, int64_t) != *CAT(b, f, int64_t))
				return 0;
			break;
		case K_BOOL:
			if (*CAT(a, f, bool) != *CAT(b, f, bool))
				return 0;
			break;
		case K_DUR:
			if (*CAT(a, f, uint64_t) != *CAT(b, f, uint64_t))
				return 0;
			break;
		case K_STRS: {
			const struct cn_cfg_strs *x = CAT(a, f, struct cn_cfg_strs), *y = CAT(b, f, struct cn_cfg_strs);
			if (x->n != y->n)
				return 0;
			for (size_t k = 0; k < x->n; k++)
				if (strcmp(x->v[k], y->v[k]))
					return 0;
			break;
		}
		case K_INTS: {
			const struct cn_cfg_ints *x = CAT(a, f, struct cn_cfg_ints), *y = CAT(b, f, struct cn_cfg_ints);
			if (x->n != y->n || memcmp(x->v, y->v, x->n * sizeof x->v[0]))
				return 0;
			break;
		}
		}
	}
	return 1;
}
