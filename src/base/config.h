/* config.h — the node configuration: harmony.conf as a typed C struct.
 *
 * struct cn_config mirrors Harmony's HarmonyConfig section by section
 * ([General], [Network], [P2P], [HTTP], [WS], [RPCOpt], [BLSKeys], [TxPool],
 * [Pprof], [Log], [Sync] with [Sync.StagedSyncCfg], [Sys], [Consensus],
 * [Prometheus], [DNSSync], [ShardData], [GPO], [Cache], [Localnet]) with the
 * same key names, so a harmony.conf written by Harmony's `config dump` loads
 * as it is. Harmony's optional maintenance sections ([Devnet], [Revert],
 * [Preimage], [TiKV], [Legacy]) and retired keys are not part of canon's
 * config and are reported as unknown.
 *
 * The intended flow: cn_config_defaults() for the chosen network, then
 * cn_config_load() to override from a file (a file naming another network
 * starts from that network's defaults), then cn_config_set() for each
 * command-line override, then cn_config_validate(). cn_config_dump() writes
 * the struct back as TOML that loads into an identical struct.
 *
 * One table (config.c) describes every key: its section, type, place in the
 * struct and allowed range. Loading, dumping, setting and comparing all walk
 * that table, so a new key is one line there plus its struct member. */
#ifndef CANON_BASE_CONFIG_H
#define CANON_BASE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define CN_CFG_STR 256      /* bytes per string value, NUL included */
#define CN_CFG_LIST 16      /* entries per list value */
#define CN_CONFIG_VERSION "2.6.6"

enum cn_network {
	CN_NET_MAINNET,
	CN_NET_TESTNET,
	CN_NET_LOCALNET,
	CN_NET_PARTNER,
	CN_NET_COUNT
};

struct cn_cfg_strs {
	size_t n;
	char v[CN_CFG_LIST][CN_CFG_STR];
};

struct cn_cfg_ints {
	size_t n;
	int64_t v[CN_CFG_LIST];
};

/* Durations are milliseconds; in TOML they are Go-style strings ("30s"). */
struct cn_config {
	char version[CN_CFG_STR];
	struct {
		char node_type[CN_CFG_STR];    /* validator | explorer */
		bool no_staking;
		int64_t shard_id;              /* -1: from the BLS keys */
		bool is_archival, is_backup, is_beacon_archival, is_offline;
		char data_dir[CN_CFG_STR];
		bool trace_enable, enable_prune_beacon_chain, run_elastic_mode;
	} general;
	struct {
		char network_type[CN_CFG_STR];
		struct cn_cfg_strs boot_nodes, trusted_nodes;
	} network;
	struct {
		int64_t port;
		char ip[CN_CFG_STR], key_file[CN_CFG_STR];
		int64_t disc_concurrency, max_conns_per_ip;
		bool disable_private_ip_scan;
		int64_t max_peers, conn_manager_low_watermark, conn_manager_high_watermark;
		bool resource_mgr_enabled;
		int64_t resource_mgr_memory_limit_bytes, resource_mgr_file_descriptors_limit;
		bool wait_for_each_peer_to_connect, no_transport_security, nat;
		char user_agent[CN_CFG_STR];
		uint64_t dial_timeout_ms;
		char muxer[CN_CFG_STR];
		bool no_relay;
	} p2p;
	struct {
		bool enabled;
		char ip[CN_CFG_STR];
		int64_t port, auth_port;
		bool rosetta_enabled;
		int64_t rosetta_port;
		uint64_t read_timeout_ms, write_timeout_ms, idle_timeout_ms;
	} http;
	struct {
		bool enabled;
		char ip[CN_CFG_STR];
		int64_t port, auth_port;
	} ws;
	struct {
		bool debug_enabled, eth_rpcs_enabled, staking_rpcs_enabled, legacy_rpcs_enabled;
		char rpc_filter_file[CN_CFG_STR];
		bool rate_limiter_enabled;         /* key "RateLimterEnabled" (sic, as Harmony) */
		int64_t requests_per_second;
		uint64_t evm_call_timeout_ms;
		bool preimages_enabled;
	} rpc_opt;
	struct {
		char key_dir[CN_CFG_STR];
		struct cn_cfg_strs key_files;
		int64_t max_keys;
		bool pass_enabled;
		char pass_src_type[CN_CFG_STR];    /* auto | file | prompt */
		char pass_file[CN_CFG_STR];
		bool save_passphrase, kms_enabled;
		char kms_config_src_type[CN_CFG_STR]; /* shared | prompt | file */
		char kms_config_file[CN_CFG_STR];
	} bls_keys;
	struct {
		char blacklist_file[CN_CFG_STR], allowed_txs_file[CN_CFG_STR];
		char rosetta_fix_file[CN_CFG_STR], local_accounts_file[CN_CFG_STR];
		int64_t account_slots, global_slots, account_queue, global_queue;
		uint64_t lifetime_ms;
		int64_t price_limit;               /* atto per gas */
		int64_t price_bump;                /* percent */
	} tx_pool;
	struct {
		bool enabled;
		char listen_addr[CN_CFG_STR], folder[CN_CFG_STR];
		struct cn_cfg_strs profile_names;
		struct cn_cfg_ints profile_intervals, profile_debug_values;
	} pprof;
	struct {
		bool console;
		char folder[CN_CFG_STR], file_name[CN_CFG_STR];
		int64_t rotate_size, rotate_count, rotate_max_age;
		int64_t verbosity;                 /* 0 silent .. 5 trace (base/log.h) */
		bool verbose_prints_config;        /* [Log.VerbosePrints] Config */
	} log;
	struct {
		bool enabled;                      /* run the stream sync protocol (server side) */
		int64_t sync_mode;                 /* 0 full */
		bool downloader;                   /* run the stream sync client */
		bool staged_sync;                  /* use the staged pipeline */
		int64_t concurrency, min_peers, init_streams;
		int64_t disc_soft_low_cap, disc_hard_low_cap, disc_high_cap, disc_batch;
		int64_t max_advertise_wait_time;   /* minutes */
		struct {
			bool turbo_mode, double_check_block_hashes;
			int64_t max_blocks_per_sync_cycle, max_background_blocks, insert_chain_batch_size;
			bool verify_all_sig;
			int64_t verify_header_batch_size, max_mem_sync_cycle_size;
			bool use_mem_db, log_progress, debug_mode;
		} staged;
	} sync;
	struct {
		char ntp_server[CN_CFG_STR];
	} sys;
	struct {
		int64_t min_peers;
		bool aggregate_sig;
	} consensus;
	struct {
		bool enabled;
		char ip[CN_CFG_STR];
		int64_t port;
		bool enable_push;
		char gateway[CN_CFG_STR];
	} prometheus;
	struct {
		int64_t port;
		char zone[CN_CFG_STR];
		bool client, server;
		int64_t server_port;
	} dns_sync;
	struct {
		bool enable_shard_data;
		int64_t disk_count, shard_count, cache_time, cache_size;
	} shard_data;
	struct {
		int64_t blocks, transactions, percentile;
		int64_t default_price, max_price;  /* atto */
		int64_t low_usage_threshold, block_gas_limit;
	} gpo;
	struct {
		bool disabled;
		int64_t trie_node_limit, tries_in_memory;
		uint64_t trie_time_limit_ms;
		int64_t snapshot_limit;
		bool snapshot_no_build, snapshot_wait, preimages;
	} cache;
	struct {
		int64_t blocks_per_epoch, blocks_per_epoch_v2;
	} localnet;
};

/* "mainnet" … "partner" → enum; -CN_EINVAL for anything else. */
int cn_network_parse(const char *name, enum cn_network *out);
const char *cn_network_name(enum cn_network net);

/* Fills every field with the network's defaults (Harmony's code defaults). */
void cn_config_defaults(struct cn_config *c, enum cn_network net);

/* Loads TOML text: starts from the defaults of the file's
 * Network.NetworkType (else of default_net) and overrides every key the file
 * sets, then validates. Unknown sections or keys, wrong types, bad values
 * and inconsistent settings are errors. Returns -CN_EPARSE for TOML syntax,
 * -CN_EINVAL for the rest; err gets "line L, column C: ..." whenever the
 * problem has a place in the file. c is only written on success. */
int cn_config_load(struct cn_config *c, enum cn_network default_net, const char *text, size_t len,
		   char *err, size_t errcap);
/* The same for a file (-CN_EIO if it cannot be read). */
int cn_config_load_file(struct cn_config *c, enum cn_network default_net, const char *path,
			char *err, size_t errcap);

/* Sets one key from text, as a flag would: path is "Section.Key" (for
 * example "P2P.Port", "Sync.StagedSyncCfg.UseMemDB"); lists take
 * comma-separated items. Range-checked like a file value. */
int cn_config_set(struct cn_config *c, const char *path, const char *value, char *err, size_t errcap);

/* Checks the rules that involve several keys (explorer needs a shard,
 * offline needs P2P.IP 127.0.0.1, some sync client must be on, ...). */
int cn_config_validate(const struct cn_config *c, char *err, size_t errcap);

/* Writes the whole config as TOML. */
int cn_config_dump(const struct cn_config *c, FILE *f);

/* Nonzero when every key has the same value in a and b. */
int cn_config_equal(const struct cn_config *a, const struct cn_config *b);

#endif
