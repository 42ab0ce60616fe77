/* chain.c — `canon chain init|info|export|import|gen`: one chain's database. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/bytes.h"
#include "base/err.h"
#include "base/flags.h"
#include "chain/chain.h"
#include "cli/cli.h"
#include "store/store.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: canon chain <subcommand> [options]\n\n"
		   "subcommands:\n"
		   "  init --network N --shard S --datadir D   write the genesis block\n"
		   "  info --datadir D [--network N --shard S] head number, hash, state root, counts\n"
		   "  export --datadir D [--from A --to B]     write blocks A..B (default 1..head) as a\n"
		   "                                           stream of RLP blocks to stdout\n"
		   "  import --datadir D                       read such a stream from stdin; validate\n"
		   "                                           and insert each block\n"
		   "  gen --datadir D --blocks N [--txs M]     (localnet, for tests) build and insert N\n"
		   "                                           blocks of M signed transfers\n\n"
		   "--network/--shard may be left out when the datadir holds exactly one chain.\n");
}

struct opts {
	const char *datadir, *network;
	uint64_t shard, from, to, blocks, txs, cross, seed;
	struct cn_flag flags[10];
	size_t nflags;
};

static void add_flag(struct opts *o, const char *name, enum cn_flag_type ty, void *target,
                     const char *metavar, const char *help)
{
	struct cn_flag f = {name, ty, target, metavar, help, 0};
	o->flags[o->nflags++] = f;
}

static struct cn_flag *flag(struct opts *o, const char *name)
{
	for (size_t i = 0; i < o->nflags; i++)
		if (!strcmp(o->flags[i].name, name))
			return &o->flags[i];
	return NULL;
}

/* Parses the flags of one subcommand; returns -1 to go on, else an exit code. */
static int parse(struct opts *o, const char *cmd, int argc, char **argv, const char *usage_line)
{
	struct cn_flags_result res;
	char err[256];
	memset(&o->flags[o->nflags], 0, sizeof o->flags[0]);
	if (cn_flags_parse(o->flags, argc - 1, argv + 1, &res, err, sizeof err)) {
		fprintf(stderr, "canon chain %s: %s\n", cmd, err);
		return 2;
	}
	int help = res.help;
	size_t npos = res.n_positional;
	cn_flags_result_free(&res);
	if (help) {
		cn_flags_help(stdout, usage_line, o->flags);
		return 0;
	}
	if (npos) {
		fprintf(stderr, "canon chain %s: unexpected argument (see --help)\n", cmd);
		return 2;
	}
	if (!o->datadir) {
		fprintf(stderr, "canon chain %s: --datadir is required\n", cmd);
		return 2;
	}
	return -1;
}

/* Fills in network and shard from the one chain under datadir when they
 * were not given. */
static int discover(struct opts *o, const char *cmd)
{
	int net_set = flag(o, "network")->set, shard_set = flag(o, "shard")->set;
	if (net_set && shard_set)
		return -1;
	static char found_net[256];
	int found = 0;
	DIR *d = opendir(o->datadir);
	struct dirent *e;
	while (d && (e = readdir(d))) {
		const struct netparams *np;
		if (netparams_get(e->d_name, &np))
			continue;
		if (net_set && strcmp(e->d_name, o->network))
			continue;
		for (uint32_t s = 0; s < np->num_shards; s++) {
			if (shard_set && s != o->shard)
				continue;
			char p[4096];
			struct stat st;
			snprintf(p, sizeof p, "%s/%s/shard%u/data.mdb", o->datadir, e->d_name, s);
			if (stat(p, &st))
				continue;
			found++;
			if (strlen(e->d_name) >= sizeof found_net)
				continue;
			memcpy(found_net, e->d_name, strlen(e->d_name) + 1);
			o->network = found_net;
			o->shard = s;
		}
	}
	if (d)
		closedir(d);
	if (found == 1)
		return -1;
	if (!found)
		fprintf(stderr, "canon chain %s: no chain under %s (run canon chain init)\n", cmd,
		        o->datadir);
	else
		fprintf(stderr, "canon chain %s: %d chains under %s; pick one with --network and "
		        "--shard\n", cmd, found, o->datadir);
	return 1;
}

/* Opens the chain the options name. */
static int open_chain(struct opts *o, const char *cmd, int readonly, struct store **st,
                      struct chain **c)
{
	const struct netparams *np;
	if (netparams_get(o->network, &np)) {
		fprintf(stderr, "canon chain %s: unknown network '%s'\n", cmd, o->network);
		return 2;
	}
	if (o->shard >= np->num_shards) {
		fprintf(stderr, "canon chain %s: %s has %u shards\n", cmd, o->network, np->num_shards);
		return 2;
	}
	char msg[256] = "";
	struct store_opts so = {0};
	so.readonly = readonly;
	so.errmsg = msg;
	so.errmsg_cap = sizeof msg;
	int rc = store_open_chain(st, o->datadir, o->network, (uint32_t)o->shard, &so);
	if (rc) {
		fprintf(stderr, "canon chain %s: cannot open %s/%s/shard%llu: %s%s%s\n", cmd, o->datadir,
		        o->network, (unsigned long long)o->shard, cn_strerror(rc), *msg ? ": " : "", msg);
		return 1;
	}
	if ((rc = chain_open(c, *st, np, (uint32_t)o->shard))) {
		fprintf(stderr, "canon chain %s: %s\n", cmd,
		        rc == -CN_ENOTFOUND ? "no chain in this database (run canon chain init)"
		        : rc == -CN_EINVAL  ? "the database holds another network's or shard's chain"
		                            : cn_strerror(rc));
		store_close(*st);
		return 1;
	}
	return -1;
}

static void hex32(const uint8_t *h, char out[67])
{
	out[0] = '0';
	out[1] = 'x';
	hex_encode(h, 32, out + 2);
}

static int cmd_init(int argc, char **argv)
{
	struct opts o = {0};
	o.network = "localnet";
	add_flag(&o, "network", CN_FLAG_STRING, &o.network, "N", "mainnet, testnet, partner, localnet");
	add_flag(&o, "shard", CN_FLAG_UINT, &o.shard, "S", "shard ID");
	add_flag(&o, "datadir", CN_FLAG_STRING, &o.datadir, "D", "data directory");
	int rc = parse(&o, "init", argc, argv, "canon chain init --network N --shard S --datadir D");
	if (rc >= 0)
		return rc;
	struct chain_genesis g;
	if ((rc = chain_genesis_default(&g, o.network, (uint32_t)(o.shard > UINT32_MAX ? UINT32_MAX : o.shard)))) {
		fprintf(stderr, "canon chain init: %s\n",
		        rc == -CN_ENOTFOUND ? "unknown network" : rc == -CN_ERANGE ? "no such shard" : cn_strerror(rc));
		return 2;
	}
	struct store *st;
	char msg[256] = "";
	struct store_opts so = {0};
	so.errmsg = msg;
	so.errmsg_cap = sizeof msg;
	if ((rc = store_open_chain(&st, o.datadir, o.network, (uint32_t)o.shard, &so))) {
		fprintf(stderr, "canon chain init: %s %s\n", cn_strerror(rc), msg);
		chain_genesis_free(&g);
		return 1;
	}
	uint8_t h[32];
	rc = chain_init(st, &g, h);
	chain_genesis_free(&g);
	store_close(st);
	if (rc == -CN_EEXIST) {
		fprintf(stderr, "canon chain init: %s/%s/shard%llu already holds a chain\n", o.datadir,
		        o.network, (unsigned long long)o.shard);
		return 1;
	}
	if (rc) {
		fprintf(stderr, "canon chain init: %s\n", cn_strerror(rc));
		return 1;
	}
	char hx[67];
	hex32(h, hx);
	printf("genesis %s\n", hx);
	return 0;
}

static void chain_flags(struct opts *o)
{
	add_flag(o, "datadir", CN_FLAG_STRING, &o->datadir, "D", "data directory");
	add_flag(o, "network", CN_FLAG_STRING, &o->network, "N", "network (default: the one found)");
	add_flag(o, "shard", CN_FLAG_UINT, &o->shard, "S", "shard (default: the one found)");
}

static int cmd_info(int argc, char **argv)
{
	struct opts o = {0};
	chain_flags(&o);
	int rc = parse(&o, "info", argc, argv, "canon chain info --datadir D [--network N --shard S]");
	if (rc >= 0 || (rc = discover(&o, "info")) >= 0)
		return rc;
	struct store *st;
	struct chain *c;
	if ((rc = open_chain(&o, "info", 1, &st, &c)) >= 0)
		return rc;
	const struct header *h = chain_head(c);
	uint8_t hash[32], g[32];
	char hx[67];
	chain_head_hash(c, hash);
	printf("network %s\nshard %llu\n", o.network, (unsigned long long)o.shard);
	if (!chain_hash_at(c, 0, g)) {
		hex32(g, hx);
		printf("genesis %s\n", hx);
	}
	printf("head %llu\n", (unsigned long long)h->number);
	hex32(hash, hx);
	printf("hash %s\n", hx);
	hex32(h->root, hx);
	printf("state_root %s\n", hx);
	printf("epoch %llu\ntime %llu\n", (unsigned long long)h->epoch, (unsigned long long)h->time);
	static const struct {
		const char *name;
		enum store_db db;
	} counts[] = {{"headers", STORE_HEADERS}, {"tx_lookups", STORE_TXLOOKUP},
	              {"cx_out", STORE_CX_OUT}, {"trie_nodes", STORE_TRIE}};
	for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
		size_t n;
		if (!chain_count(c, (int)counts[i].db, &n))
			printf("%s %zu\n", counts[i].name, n);
	}
	chain_close(c);
	store_close(st);
	return 0;
}

static int cmd_export(int argc, char **argv)
{
	struct opts o = {0};
	chain_flags(&o);
	add_flag(&o, "from", CN_FLAG_UINT, &o.from, "A", "first block (default 1)");
	add_flag(&o, "to", CN_FLAG_UINT, &o.to, "B", "last block (default the head)");
	int rc = parse(&o, "export", argc, argv, "canon chain export --datadir D [--from A --to B] > FILE");
	if (rc >= 0 || (rc = discover(&o, "export")) >= 0)
		return rc;
	struct store *st;
	struct chain *c;
	if ((rc = open_chain(&o, "export", 1, &st, &c)) >= 0)
		return rc;
	uint64_t head = chain_head(c)->number;
	uint64_t from = flag(&o, "from")->set ? o.from : 1;
	uint64_t to = flag(&o, "to")->set ? o.to : head;
	int status = 0;
	if (from > to || to > head) {
		fprintf(stderr, "canon chain export: range %llu..%llu not within 0..%llu\n",
		        (unsigned long long)from, (unsigned long long)to, (unsigned long long)head);
		status = 2;
	}
	for (uint64_t n = from; !status && n <= to; n++) {
		uint8_t *p;
		size_t len;
		if ((rc = chain_block_rlp_at(c, n, &p, &len))) {
			fprintf(stderr, "canon chain export: block %llu: %s\n", (unsigned long long)n,
			        cn_strerror(rc));
			status = 1;
			break;
		}
		if (fwrite(p, 1, len, stdout) != len)
			status = 1;
		free(p);
	}
	if (fflush(stdout) && !status) {
		fprintf(stderr, "canon chain export: write failed\n");
		status = 1;
	}
	chain_close(c);
	store_close(st);
	return status;
}

static int cmd_import(int argc, char **argv)
{
	struct opts o = {0};
	chain_flags(&o);
	int rc = parse(&o, "import", argc, argv, "canon chain import --datadir D < FILE");
	if (rc >= 0 || (rc = discover(&o, "import")) >= 0)
		return rc;
	struct store *st;
	struct chain *c;
	if ((rc = open_chain(&o, "import", 0, &st, &c)) >= 0)
		return rc;
	struct chain_import_stats s;
	struct chain_why w;
	rc = chain_import(c, stdin, &s, &w);
	int status = 0;
	if (rc) {
		fprintf(stderr, "canon chain import: block %llu of the input: %s\n",
		        (unsigned long long)s.item, rc == -CN_EINVAL ? w.msg : cn_strerror(rc));
		fprintf(stderr, "canon chain import: stopped; %llu blocks before it were imported, "
		        "head is #%llu\n", (unsigned long long)s.imported,
		        (unsigned long long)chain_head(c)->number);
		status = 1;
	} else {
		uint8_t h[32];
		char hx[67];
		chain_head_hash(c, h);
		hex32(h, hx);
		printf("imported %llu blocks (%llu already present); head %llu %s\n",
		       (unsigned long long)s.imported, (unsigned long long)s.skipped,
		       (unsigned long long)chain_head(c)->number, hx);
	}
	chain_close(c);
	store_close(st);
	return status;
}

static int cmd_gen(int argc, char **argv)
{
	struct opts o = {0};
	chain_flags(&o);
	o.txs = 100;
	o.cross = 10;
	o.seed = 1;
	add_flag(&o, "blocks", CN_FLAG_UINT, &o.blocks, "N", "blocks to build");
	add_flag(&o, "txs", CN_FLAG_UINT, &o.txs, "M", "transfers per block (default 100)");
	add_flag(&o, "cross", CN_FLAG_UINT, &o.cross, "P", "percent cross-shard (default 10)");
	add_flag(&o, "seed", CN_FLAG_UINT, &o.seed, "X", "seed of the recipients (default 1)");
	int rc = parse(&o, "gen", argc, argv, "canon chain gen --datadir D --blocks N [--txs M]");
	if (rc >= 0 || (rc = discover(&o, "gen")) >= 0)
		return rc;
	if (o.txs > CHAIN_MAX_BLOCK_TXS || o.cross > 100 || o.blocks > 1000000) {
		fprintf(stderr, "canon chain gen: --txs at most %u, --cross at most 100\n",
		        CHAIN_MAX_BLOCK_TXS);
		return 2;
	}
	struct store *st;
	struct chain *c;
	if ((rc = open_chain(&o, "gen", 0, &st, &c)) >= 0)
		return rc;
	struct chain_why w;
	rc = chain_gen_blocks(c, (unsigned)o.blocks, (unsigned)o.txs, (unsigned)o.cross, o.seed, &w);
	int status = 0;
	if (rc) {
		fprintf(stderr, "canon chain gen: %s\n",
		        rc == -CN_EUNSUPPORTED ? "only localnet chains have funded test accounts"
		        : rc == -CN_EINVAL      ? w.msg
		                                : cn_strerror(rc));
		status = 1;
	} else {
		printf("head %llu\n", (unsigned long long)chain_head(c)->number);
	}
	chain_close(c);
	store_close(st);
	return status;
}

int cli_chain(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	static const struct {
		const char *name;
		int (*fn)(int, char **);
	} sub[] = {{"init", cmd_init}, {"info", cmd_info}, {"export", cmd_export},
	           {"import", cmd_import}, {"gen", cmd_gen}};
	for (size_t i = 0; i < sizeof sub / sizeof sub[0]; i++)
		if (!strcmp(argv[1], sub[i].name))
			return sub[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "canon chain: unknown subcommand '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
