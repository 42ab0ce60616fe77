/* main.c — `canon`: dispatch to subcommands. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static const struct cli_command commands[] = {
	{"version", "print version, git commit and build flags", cli_version},
	{"sim", "run the deterministic consensus simulator", cli_sim},
	{"keys", "create, import, show and use encrypted BLS key files", cli_keys},
	{"config", "print default or check harmony.conf-style TOML configs", cli_config},
	{"chain", "init, inspect, export and import a chain database", cli_chain},
	{"rpc", "serve JSON-RPC (eth_, hmy_, hmyv2_) from a chain database", cli_rpc},
};
#define N_COMMANDS (sizeof commands / sizeof commands[0])

static void usage(FILE *f)
{
	fprintf(f, "canon — a node for a Harmony-style sharded proof-of-stake blockchain\n\n"
		   "usage: canon <command> [options]\n\ncommands:\n");
	for (size_t i = 0; i < N_COMMANDS; i++)
		fprintf(f, "  %-12s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\n`canon <command> --help` describes a command's options.\n");
}

int main(int argc, char **argv)
{
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
