/* config.c — `canon config dump|check`: harmony.conf-style configuration. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/config.h"
#include "base/err.h"
#include "base/flags.h"
#include "cli/cli.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: canon config <subcommand> [options]\n\n"
		   "subcommands:\n"
		   "  dump [--network NAME] [FILE]\n"
		   "                          print (or write to FILE) a complete config with NAME's\n"
		   "                          defaults (mainnet, testnet, localnet, partner; default\n"
		   "                          mainnet)\n"
		   "  check FILE              validate FILE; print \"ok\" or the first error with\n"
		   "                          its line and column\n");
}

static int config_dump(int argc, char **argv)
{
	const char *network = "mainnet";
	struct cn_flag flags[] = {
		{"network", CN_FLAG_STRING, &network, "NAME",
		 "network whose defaults to print: mainnet, testnet, localnet, partner", 0},
		{NULL, 0, NULL, NULL, NULL, 0},
	};
	struct cn_flags_result res;
	char err[256];
	if (cn_flags_parse(flags, argc - 1, argv + 1, &res, err, sizeof err)) {
		fprintf(stderr, "canon config dump: %s\n", err);
		return 2;
	}
	int help = res.help;
	size_t npos = res.n_positional;
	const char *path = npos == 1 ? res.positional[0] : NULL;
	cn_flags_result_free(&res);
	if (help) {
		cn_flags_help(stdout, "canon config dump [--network NAME] [FILE]", flags);
		return 0;
	}
	if (npos > 1) {
		fprintf(stderr, "canon config dump: expected at most one FILE (see --help)\n");
		return 2;
	}
	enum cn_network net;
	if (cn_network_parse(network, &net)) {
		fprintf(stderr, "canon config dump: unknown network '%s' (mainnet, testnet, localnet, partner)\n",
			network);
		return 2;
	}
	static struct cn_config cfg;
	cn_config_defaults(&cfg, net);
	FILE *out = path ? fopen(path, "w") : stdout;
	if (!out) {
		fprintf(stderr, "canon config dump: %s: %s\n", path, strerror(errno));
		return 1;
	}
	int bad = cn_config_dump(&cfg, out) != 0;
	bad |= path ? fclose(out) != 0 : fflush(out) != 0;
	if (bad) {
		fprintf(stderr, "canon config dump: write failed\n");
		return 1;
	}
	return 0;
}

static int config_check(int argc, char **argv)
{
	struct cn_flag flags[] = {{NULL, 0, NULL, NULL, NULL, 0}};
	struct cn_flags_result res;
	char err[512];
	if (cn_flags_parse(flags, argc - 1, argv + 1, &res, err, sizeof err)) {
		fprintf(stderr, "canon config check: %s\n", err);
		return 2;
	}
	if (res.help) {
		cn_flags_result_free(&res);
		cn_flags_help(stdout, "canon config check FILE", flags);
		return 0;
	}
	if (res.n_positional != 1) {
		cn_flags_result_free(&res);
		fprintf(stderr, "canon config check: expected one FILE (see --help)\n");
		return 2;
	}
	const char *path = res.positional[0];
	cn_flags_result_free(&res);
	static struct cn_config cfg;
	int rc = cn_config_load_file(&cfg, CN_NET_MAINNET, path, err, sizeof err);
	if (rc) {
		if (rc == -CN_EIO || rc == -CN_ELIMIT)
			fprintf(stderr, "canon config check: %s\n", err);
		else
			fprintf(stderr, "%s: %s\n", path, err);
		return 1;
	}
	printf("ok\n");
	return 0;
}

int cli_config(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "dump"))
		return config_dump(argc - 1, argv + 1);
	if (!strcmp(argv[1], "check"))
		return config_check(argc - 1, argv + 1);
	fprintf(stderr, "canon config: unknown subcommand '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
