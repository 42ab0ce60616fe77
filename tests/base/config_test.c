/* The node config: per-network defaults, dump → parse → load round trips,
 * overrides from files and from flags, and errors with their position. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/config.h"
#include "base/err.h"
#include "base/toml.h"

static char *dump(const struct cn_config *c, size_t *len)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);
	cr_assert_eq(cn_config_dump(c, f), 0);
	fclose(f);
	*len = n;
	return buf;
}

static struct cn_config *new_cfg(void)
{
	struct cn_config *c = calloc(1, sizeof *c);
	cr_assert_not_null(c);
	return c;
}

Test(config, sync_defaults_per_network)
{
	struct { enum cn_network net; int64_t v[8]; } want[] = {
		{CN_NET_MAINNET, {6, 6, 8, 8, 6, 128, 8, 60}},
		{CN_NET_TESTNET, {3, 3, 3, 3, 3, 1024, 3, 5}},
		{CN_NET_LOCALNET, {4, 4, 4, 4, 4, 1024, 8, 5}},
		{CN_NET_PARTNER, {3, 3, 3, 3, 3, 1024, 5, 5}},
	};
	struct cn_config *c = new_cfg();
	for (size_t i = 0; i < 4; i++) {
		cn_config_defaults(c, want[i].net);
		int64_t got[8] = {c->sync.concurrency, c->sync.min_peers, c->sync.init_streams,
				  c->sync.disc_soft_low_cap, c->sync.disc_hard_low_cap, c->sync.disc_high_cap,
				  c->sync.disc_batch, c->sync.max_advertise_wait_time};
		for (int k = 0; k < 8; k++)
			cr_assert_eq(got[k], want[i].v[k], "%s field %d", cn_network_name(want[i].net), k);
		cr_assert(!c->sync.staged.double_check_block_hashes);
		cr_assert_eq(c->sync.staged.max_blocks_per_sync_cycle, 512);
		cr_assert_eq(c->sync.staged.max_background_blocks, 512);
		cr_assert_eq(c->sync.staged.insert_chain_batch_size, 128);
		cr_assert(!c->sync.staged.verify_all_sig);
		cr_assert_eq(c->sync.staged.verify_header_batch_size, 100);
		cr_assert_eq(c->sync.staged.max_mem_sync_cycle_size, 1024);
		cr_assert(c->sync.staged.use_mem_db);
		cr_assert(!c->sync.staged.log_progress);
		cr_assert(!c->sync.staged.debug_mode);
		cr_assert_str_eq(c->network.network_type, cn_network_name(want[i].net));
		cr_assert_eq(cn_config_validate(c, NULL, 0), 0);
	}
	free(c);
}

Test(config, dump_parses_and_loads_back_identically_for_every_network)
{
	struct cn_config *c = new_cfg(), *back = new_cfg();
	for (int net = 0; net < CN_NET_COUNT; net++) {
		cn_config_defaults(c, (enum cn_network)net);
		size_t len;
		char *text = dump(c, &len);
		struct cn_toml_doc *doc;
		char err[256];
		cr_assert_eq(cn_toml_parse(text, len, &doc, err, sizeof err), 0, "%s", err);
		int64_t v;
		cr_assert_eq(cn_toml_get_int(cn_toml_root(doc), "Sync.Concurrency", &v), 0);
		cr_assert_eq(v, c->sync.concurrency);
		cn_toml_free(doc);
		/* Start from another network's defaults: the file must win. */
		memset(back, 0x5a, sizeof *back);
		cr_assert_eq(cn_config_load(back, (enum cn_network)((net + 1) % CN_NET_COUNT), text, len,
					    err, sizeof err), 0, "%s", err);
		cr_assert(cn_config_equal(c, back), "%s does not round-trip", cn_network_name(net));
		size_t len2;
		char *text2 = dump(back, &len2);
		cr_assert_str_eq(text, text2);
		free(text);
		free(text2);
	}
	/* Unusual values survive too: escapes, lists, durations with fractions. */
	cn_config_defaults(c, CN_NET_LOCALNET);
	char err[256];
	cr_assert_eq(cn_config_set(c, "General.DataDir", "/data/\"odd\" \\ dir\t", err, sizeof err), 0, "%s", err);
	cr_assert_eq(cn_config_set(c, "Network.TrustedNodes", "/ip4/1.2.3.4/tcp/9000, /ip4/5.6.7.8/tcp/9001", err, sizeof err), 0);
	cr_assert_eq(c->network.trusted_nodes.n, 2);
	cr_assert_str_eq(c->network.trusted_nodes.v[1], "/ip4/5.6.7.8/tcp/9001");
	cr_assert_eq(cn_config_set(c, "Pprof.ProfileIntervals", "1,2,3", err, sizeof err), 0);
	cr_assert_eq(cn_config_set(c, "HTTP.ReadTimeout", "1.5s", err, sizeof err), 0);
	cr_assert_eq(c->http.read_timeout_ms, 1500);
	size_t len;
	char *text = dump(c, &len);
	cr_assert_eq(cn_config_load(back, CN_NET_MAINNET, text, len, err, sizeof err), 0, "%s", err);
	cr_assert(cn_config_equal(c, back));
	back->pprof.profile_intervals.v[2] = 4;
	cr_assert(!cn_config_equal(c, back));
	free(text);
	free(c);
	free(back);
}

Test(config, file_overrides_defaults)
{
	const char *text =
		"[Network]\n"
		"  NetworkType = \"testnet\"\n"
		"[P2P]\n"
		"  Port = 9100\n"
		"[TxPool]\n"
		"  PriceLimit = 100e9\n"
		"  Lifetime = 1800000000000\n"
		"[Sync.StagedSyncCfg]\n"
		"  UseMemDB = false\n"
		"[Log]\n"
		"  VerbosePrints = { Config = false }\n";
	struct cn_config *c = new_cfg(), *want = new_cfg();
	char err[256];
	cr_assert_eq(cn_config_load(c, CN_NET_MAINNET, text, strlen(text), err, sizeof err), 0, "%s", err);
	cn_config_defaults(want, CN_NET_TESTNET);
	want->p2p.port = 9100;
	want->sync.staged.use_mem_db = false;
	want->log.verbose_prints_config = false;
	cr_assert(cn_config_equal(c, want));
	cr_assert_eq(c->tx_pool.price_limit, 100000000000LL);
	cr_assert_eq(c->tx_pool.lifetime_ms, 30 * 60000);
	cr_assert_eq(c->sync.concurrency, 3); /* testnet's, from the file's network */
	/* No network in the file: the caller's default network. */
	cr_assert_eq(cn_config_load(c, CN_NET_LOCALNET, "", 0, err, sizeof err), 0);
	cn_config_defaults(want, CN_NET_LOCALNET);
	cr_assert(cn_config_equal(c, want));
	free(c);
	free(want);
}

Test(config, harmony_style_file_loads)
{
	/* The shape Harmony's own dump writes: keys sorted alphabetically,
	 * durations such as "120s" and "30m", PriceLimit as a float, zeros in
	 * the staged-sync sizes, a tab-indented key. */
	const char *text =
		"Version = \"2.5.13\"\n\n"
		"[DNSSync]\n  Client = true\n  Port = 6000\n  Server = true\n  ServerPort = 6000\n  Zone = \"t.hmny.io\"\n\n"
		"[General]\n  DataDir = \"/data\"\n  IsArchival = true\n  NodeType = \"explorer\"\n  ShardID = 0\n\n"
		"[HTTP]\n  IdleTimeout = \"120s\"\n  IP = \"0.0.0.0\"\n  RosettaEnabled = true\n\n"
		"[Sync]\n  Concurrency = 7\n  Downloader = false\n  Enabled = false\n\n"
		"  [Sync.StagedSyncCfg]\n    InsertChainBatchSize = 0\n    MaxBlocksPerSyncCycle = 0\n    TurboMode = false\n\n"
		"[TxPool]\n  Lifetime = \"30m\"\n  PriceLimit = 100e9\n"
		"\tGlobalQueue = 5120\n";
	struct cn_config *c = new_cfg();
	char err[256];
	cr_assert_eq(cn_config_load(c, CN_NET_MAINNET, text, strlen(text), err, sizeof err), 0, "%s", err);
	cr_assert_str_eq(c->version, "2.5.13");
	cr_assert_str_eq(c->general.node_type, "explorer");
	cr_assert_eq(c->http.idle_timeout_ms, 120000);
	cr_assert_eq(c->tx_pool.lifetime_ms, 1800000);
	cr_assert_eq(c->sync.concurrency, 7);
	cr_assert_eq(c->sync.min_peers, 6);
	cr_assert_eq(c->sync.staged.insert_chain_batch_size, 0);
	cr_assert(!c->sync.staged.turbo_mode);
	cr_assert(c->sync.staged.use_mem_db);
	free(c);
}

static void load_err(const char *text, int want_rc, const char *want)
{
	struct cn_config *c = new_cfg();
	cn_config_defaults(c, CN_NET_MAINNET);
	struct cn_config *before = new_cfg();
	memcpy(before, c, sizeof *c);
	char err[256];
	cr_assert_eq(cn_config_load(c, CN_NET_MAINNET, text, strlen(text), err, sizeof err), want_rc,
		     "input:\n%s\nerr: %s", text, err);
	cr_assert_str_eq(err, want, "input:\n%s", text);
	cr_assert(cn_config_equal(c, before), "config changed on error");
	free(c);
	free(before);
}

Test(config, errors_name_line_and_column)
{
	load_err("[P2P]\nPort 9000\n", -CN_EPARSE, "line 2, column 6: expected '=' after key, found '9'");
	load_err("[P2P]\n  Port = 0\n", -CN_EINVAL, "line 2, column 10: P2P.Port must be between 1 and 65535, got 0");
	load_err("[WS]\nAuthPort = 65536\n", -CN_EINVAL, "line 2, column 12: WS.AuthPort must be between 1 and 65535, got 65536");
	load_err("[General]\nNodeType = \"miner\"\n", -CN_EINVAL,
		 "line 2, column 12: General.NodeType must be one of validator, explorer, got 'miner'");
	load_err("[Network]\nNetworkType = \"devnet\"\n", -CN_EINVAL,
		 "line 2, column 15: unknown network 'devnet' (known: mainnet, testnet, localnet, partner)");
	load_err("[Network]\nNetworkType = 3\n", -CN_EINVAL,
		 "line 2, column 15: Network.NetworkType must be a string, got integer");
	load_err("[Gossip]\nx = 1\n", -CN_EINVAL, "line 1, column 2: unknown section [Gossip]");
	load_err("[Sync.Other]\n", -CN_EINVAL, "line 1, column 7: unknown section [Sync.Other]");
	load_err("[Sync]\nConcurency = 3\n", -CN_EINVAL, "line 2, column 1: unknown key 'Concurency' in [Sync]");
	load_err("Versionn = \"1\"\n", -CN_EINVAL, "line 1, column 1: unknown top-level key 'Versionn'");
	load_err("[Log]\nVerbosity = 6\n", -CN_EINVAL, "line 2, column 13: Log.Verbosity must be between 0 and 5, got 6");
	load_err("[Log]\nVerbosity = 1.5\n", -CN_EINVAL, "line 2, column 13: Log.Verbosity must be an integer, got float");
	load_err("[HTTP]\nEnabled = \"yes\"\n", -CN_EINVAL, "line 2, column 11: HTTP.Enabled must be true or false, got string");
	load_err("[HTTP]\nReadTimeout = \"30 s\"\n", -CN_EINVAL,
		 "line 2, column 15: HTTP.ReadTimeout: '30 s' is not a duration like \"30s\", \"5m\" or \"1h30m\"");
	load_err("[Network]\nBootNodes = [\"a\", 2]\n", -CN_EINVAL,
		 "line 2, column 19: Network.BootNodes entries must be strings, got integer");
	load_err("[Network]\nBootNodes = \"a\"\n", -CN_EINVAL,
		 "line 2, column 13: Network.BootNodes must be an array of strings, got string");
	load_err("[Pprof]\nProfileDebugValues = [0, 3]\n", -CN_EINVAL,
		 "line 2, column 26: Pprof.ProfileDebugValues must be between 0 and 2, got 3");
	load_err("[TxPool]\nPriceLimit = -1\n", -CN_EINVAL, "line 2, column 14: TxPool.PriceLimit must be at least 0, got -1");
	load_err("[General]\nNodeType = \"explorer\"\n", -CN_EINVAL,
		 "line 2, column 1: General.NodeType: an explorer node needs General.ShardID set to a shard (>= 0)");
	load_err("[General]\nIsOffline = true\n", -CN_EINVAL,
		 "line 2, column 1: General.IsOffline: offline mode needs P2P.IP = \"127.0.0.1\"");
	load_err("[DNSSync]\nClient = false\n", -CN_EINVAL,
		 "line 2, column 1: no sync client: enable Sync.Downloader or DNSSync.Client");
	load_err("[P2P]\nConnManagerLowWatermark = 500\n", -CN_EINVAL,
		 "line 2, column 1: P2P.ConnManagerLowWatermark (500) is above P2P.ConnManagerHighWatermark (192)");
	char long_text[600] = "[General]\nDataDir = \"";
	memset(long_text + strlen(long_text), 'x', 300);
	strcat(long_text, "\"\n");
	load_err(long_text, -CN_EINVAL, "line 2, column 11: General.DataDir is longer than 255 bytes");
	load_err("[General]\nDataDir = \"a\\u0000b\"\n", -CN_EINVAL,
		 "line 2, column 11: General.DataDir contains a NUL character");
	load_err("[Network]\nTrustedNodes = [\"1\",\"2\",\"3\",\"4\",\"5\",\"6\",\"7\",\"8\",\"9\",\"10\",\"11\",\"12\",\"13\",\"14\",\"15\",\"16\",\"17\"]\n",
		 -CN_EINVAL, "line 2, column 16: Network.TrustedNodes has 17 entries, at most 16 allowed");
	load_err("\"General.NodeType\" = \"x\"\n", -CN_EINVAL, "line 1, column 1: unknown top-level key 'General.NodeType'");
}

Test(config, set_like_flags)
{
	struct cn_config *c = new_cfg();
	cn_config_defaults(c, CN_NET_MAINNET);
	char err[256];
	cr_assert_eq(cn_config_set(c, "P2P.Port", "9001", err, sizeof err), 0);
	cr_assert_eq(c->p2p.port, 9001);
	cr_assert_eq(cn_config_set(c, "Sync.Concurrency", "010", err, sizeof err), 0);
	cr_assert_eq(c->sync.concurrency, 10);
	cr_assert_eq(cn_config_set(c, "Sync.Concurrency", "0x10", err, sizeof err), 0);
	cr_assert_eq(c->sync.concurrency, 16);
	cr_assert_eq(cn_config_set(c, "Sync.StagedSyncCfg.UseMemDB", "false", err, sizeof err), 0);
	cr_assert(!c->sync.staged.use_mem_db);
	cr_assert_eq(cn_config_set(c, "Log.VerbosePrints.Config", "false", err, sizeof err), 0);
	cr_assert(!c->log.verbose_prints_config);
	cr_assert_eq(cn_config_set(c, "Version", "2.6.6", err, sizeof err), 0);
	cr_assert_eq(cn_config_set(c, "BLSKeys.KeyFiles", "", err, sizeof err), 0);
	cr_assert_eq(c->bls_keys.key_files.n, 0);
	cr_assert_eq(cn_config_set(c, "P2P.Port", "99999", err, sizeof err), -CN_EINVAL);
	cr_assert_str_eq(err, "P2P.Port must be between 1 and 65535, got 99999");
	cr_assert_eq(c->p2p.port, 9001);
	cr_assert_eq(cn_config_set(c, "P2P.Port", "90x", err, sizeof err), -CN_EINVAL);
	cr_assert_str_eq(err, "P2P.Port: '90x' is not an integer");
	cr_assert_eq(cn_config_set(c, "P2P.Nope", "1", err, sizeof err), -CN_EINVAL);
	cr_assert_str_eq(err, "unknown config key 'P2P.Nope'");
	cr_assert_eq(cn_config_set(c, "HTTP.Enabled", "yes", err, sizeof err), -CN_EINVAL);
	cr_assert_str_eq(err, "HTTP.Enabled: 'yes' is not true or false");
	cr_assert_eq(cn_config_set(c, "General.NodeType", "miner", err, sizeof err), -CN_EINVAL);
	cr_assert_str_eq(err, "General.NodeType must be one of validator, explorer, got 'miner'");
	cr_assert_eq(cn_config_set(c, "Pprof.ProfileDebugValues", "0, 9", err, sizeof err), -CN_EINVAL);
	cr_assert_str_eq(err, "Pprof.ProfileDebugValues must be between 0 and 2, got 9");
	cr_assert_eq(cn_config_set(c, "General.DataDir", "bad\xff", err, sizeof err), -CN_EINVAL);
	cr_assert_str_eq(err, "General.DataDir is not valid UTF-8");
	cr_assert_eq(cn_config_set(c, "Network.BootNodes", "ok,\xed\xa0\x80", err, sizeof err), -CN_EINVAL);
	cr_assert_str_eq(err, "Network.BootNodes is not valid UTF-8");
	cr_assert_eq(cn_config_set(c, "General.DataDir", "d\xc3\xa9j\xc3\xa0", err, sizeof err), 0);
	cr_assert_eq(cn_config_set(c, "General.NodeType", "explorer", err, sizeof err), 0);
	cr_assert_eq(cn_config_validate(c, err, sizeof err), -CN_EINVAL);
	cr_assert_str_eq(err, "General.NodeType: an explorer node needs General.ShardID set to a shard (>= 0)");
	cr_assert_eq(cn_config_set(c, "General.ShardID", "1", err, sizeof err), 0);
	cr_assert_eq(cn_config_validate(c, err, sizeof err), 0);
	free(c);
}

Test(config, networks_and_files)
{
	enum cn_network n;
	cr_assert_eq(cn_network_parse("partner", &n), 0);
	cr_assert_eq(n, CN_NET_PARTNER);
	cr_assert_eq(cn_network_parse("Mainnet", &n), -CN_EINVAL);
	cr_assert_str_eq(cn_network_name(CN_NET_LOCALNET), "localnet");
	struct cn_config *c = new_cfg();
	char err[256];
	cr_assert_eq(cn_config_load_file(c, CN_NET_MAINNET, "/nonexistent/harmony.conf", err, sizeof err), -CN_EIO);
	cr_assert(strstr(err, "/nonexistent/harmony.conf"));
	char path[] = "/tmp/canon-config-XXXXXX";
	int fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	FILE *f = fdopen(fd, "w");
	fputs("[Sync]\nConcurrency = 7\n", f);
	fclose(f);
	cr_assert_eq(cn_config_load_file(c, CN_NET_MAINNET, path, err, sizeof err), 0, "%s", err);
	cr_assert_eq(c->sync.concurrency, 7);
	cr_assert_eq(c->sync.min_peers, 6);
	unlink(path);
	free(c);
}
