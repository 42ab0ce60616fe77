/* main.c — `canon`: dispatch to subcommands. */
#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "cli/cli.h"

static const struct cli_command commands[] = {
	{"version", "print version, git commit and build flags", cli_version},
	{"sim", "run the deterministic consensus simulator", cli_sim},
	{"keys", "create, import, show and use encrypted BLS key files", cli_keys},
	{"config", "print default or check harmony.conf-style TOML configs", cli_config},
	{"chain", "init, inspect, export and import a chain database", cli_chain},
	{"rpc", "serve JSON-RPC (eth_, hmy_, hmyv2_) from a chain database", cli_rpc},
	{"node", "run a validator, a full (RPC) node or a bootnode", cli_node},
	{"p2p", "print a locator record, ping a node over encrypted UDP", cli_p2p},
	{"localnet", "start, stop and watch a whole network on 127.0.0.1", cli_localnet},
	{"bench", "load generators against running nodes (bench tx)", cli_bench},
	{"bootnode", "run a bootnode: nodes register and find each other through it", cli_bootnode},
};
#define N_COMMANDS (sizeof commands / sizeof commands[0])

static void usage(FILE *f)
{
	fprintf(f, "canon — a node for a Harmony-style sharded proof-of-stake blockchain\n\n"
		   "usage: canon <command> [options]\n\ncommands:\n");
	for (size_t i = 0; i < N_COMMANDS; i++)
		fprintf(f, "  %-12s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\nglobal options (before the command):\n"
		   "  --log.verbosity N   0 silent, 1 error, 2 warn, 3 info (default), 4 debug, 5 trace\n"
		   "  --log.format F      text (default) or json, one object per line\n"
		   "\n`canon <command> --help` describes a command's options.\n");
}

/* Consumes the global logging options in front of the command, as Harmony
 * spells them; returns how many argv entries they took, or -1 after an error. */
static int global_options(int argc, char **argv)
{
	int i = 1;
	while (i < argc && !strncmp(argv[i], "--log.", 6)) {
		const char *arg = argv[i], *eq = strchr(arg, '='), *val;
		size_t name_len = eq ? (size_t)(eq - arg) : strlen(arg);
		if (eq)
			val = eq + 1;
		else if (i + 1 < argc)
			val = argv[++i];
		else {
			fprintf(stderr, "canon: %s needs a value\n", arg);
			return -1;
		}
		int rc, v;
		enum cn_log_format fmt;
		if (name_len == 15 && !strncmp(arg, "--log.verbosity", 15)) {
			if ((rc = cn_log_parse_verbosity(val, &v)) == 0)
				cn_log_set_verbosity(v);
		} else if (name_len == 12 && !strncmp(arg, "--log.format", 12)) {
			if ((rc = cn_log_parse_format(val, &fmt)) == 0)
				cn_log_set_format(fmt);
		} else {
			fprintf(stderr, "canon: unknown option '%.*s' (see canon --help)\n", (int)name_len, arg);
			return -1;
		}
		if (rc) {
			fprintf(stderr, "canon: bad value '%s' for %.*s\n", val, (int)name_len, arg);
			return -1;
		}
		i++;
	}
	return i - 1;
}

int main(int argc, char **argv)
{
	int used = global_options(argc, argv);
	if (used < 0)
		return 2;
	argc -= used;
	argv += used;
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version"))
		return cli_version(argc - 1, argv + 1);
	for (size_t i = 0; i < N_COMMANDS; i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "canon: unknown command '%s' (see canon --help)\n", argv[1]);
	return 2;
}
