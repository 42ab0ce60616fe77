/* p2p_keys.c — `canon keys p2p new|show`: the node's Ed25519 host key.
 *
 * The host key names the node on the network (node ID = BLAKE2b-256 of the
 * public key) and lives in <datadir>/p2p/hostkey, mode 0600, in the format
 * described in docs/net.md. `new` never overwrites an existing key: losing
 * it changes the node's identity. Neither command prints the secret. */
#include <stdio.h>
#include <string.h>

#include "base/bytes.h"
#include "base/err.h"
#include "base/flags.h"
#include "cli/cli.h"
#include "net/net.h"

static void usage_p2p(FILE *f)
{
	fprintf(f,
		"usage: canon keys p2p <command> [--datadir D]\n\n"
		"commands:\n"
		"  new    create D/p2p/hostkey (Ed25519, mode 0600) and print the node identity\n"
		"  show   print the node identity of D/p2p/hostkey\n\n"
		"D defaults to the current directory. The output lists the node ID\n"
		"(BLAKE2b-256 of the public key), its short tag for logs, and the public key.\n");
}

static void print_identity(const struct net_identity *id, const char *path)
{
	char hex[65], tag[NET_TAG_CHARS + 1];
	hex_encode(id->node_id, 32, hex);
	net_node_tag(id->node_id, tag);
	printf("node-id    %s\n", hex);
	printf("tag        %s\n", tag);
	hex_encode(id->pk, 32, hex);
	printf("public-key %s\n", hex);
	printf("file       %s\n", path);
}

int cli_keys_p2p(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage_p2p(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	const char *cmd = argv[1], *datadir = ".";
	if (strcmp(cmd, "new") != 0 && strcmp(cmd, "show") != 0) {
		fprintf(stderr, "canon keys p2p: unknown command '%s' (see canon keys p2p --help)\n", cmd);
		return 2;
	}
	struct cn_flag flags[] = {
		{"datadir", CN_FLAG_STRING, &datadir, "D", "data directory (default .)", 0},
		{NULL, 0, NULL, NULL, NULL, 0},
	};
	struct cn_flags_result res;
	char err[256];
	if (cn_flags_parse(flags, argc - 2, argv + 2, &res, err, sizeof err) != 0) {
		fprintf(stderr, "canon keys p2p %s: %s\n", cmd, err);
		return 2;
	}
	int help = res.help, extra = res.n_positional > 0;
	cn_flags_result_free(&res);
	if (help) {
		usage_p2p(stdout);
		return 0;
	}
	if (extra) {
		fprintf(stderr, "canon keys p2p %s: unexpected argument\n", cmd);
		return 2;
	}
	char path[4096];
	if (net_identity_path(datadir, path, sizeof path) != 0) {
		fprintf(stderr, "canon keys p2p: data directory path too long\n");
		return 2;
	}
	struct net_identity id;
	int rc;
	if (!strcmp(cmd, "new")) {
		if ((rc = net_identity_generate(&id)) == 0)
			rc = net_identity_save(&id, path);
		if (rc == -CN_EEXIST)
			fprintf(stderr, "canon keys p2p new: %s already exists; not replacing a host key\n", path);
		else if (rc)
			fprintf(stderr, "canon keys p2p new: cannot write %s: %s\n", path, cn_strerror(rc));
	} else {
		rc = net_identity_load(&id, path);
		if (rc == -CN_EVERIFY)
			fprintf(stderr, "canon keys p2p show: %s is readable by group or others; chmod 600 it\n",
				path);
		else if (rc)
			fprintf(stderr, "canon keys p2p show: cannot load %s: %s\n", path, cn_strerror(rc));
	}
	if (rc == 0)
		print_identity(&id, path);
	net_identity_wipe(&id);
	return rc ? 1 : 0;
}
