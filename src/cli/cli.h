/* cli.h — the `canon` command line: one entry per subcommand.
 *
 * Each subcommand lives in its own file under src/cli/ and is listed in the
 * table in main.c. A subcommand gets argv starting at its own name and returns
 * the process exit status (0 ok, 1 failure, 2 usage error). */
#ifndef CANON_CLI_H
#define CANON_CLI_H

#include <stddef.h>

struct cli_command {
	const char *name;
	const char *summary;   /* one line for `canon --help` */
	int (*run)(int argc, char **argv);
};

int cli_version(int argc, char **argv);
int cli_sim(int argc, char **argv);
int cli_keys(int argc, char **argv);
int cli_keys_p2p(int argc, char **argv);   /* argv starts at "p2p" */
int cli_config(int argc, char **argv);
int cli_chain(int argc, char **argv);
int cli_rpc(int argc, char **argv);
int cli_p2p(int argc, char **argv);        /* locator, ping over UDP (src/runtime) */
int cli_p2p_host(int argc, char **argv);   /* p2p mesh|request through rt_host (p2p_mesh.c) */
int cli_localnet(int argc, char **argv);   /* up/down/status of a loopback network */
int cli_bench(int argc, char **argv);      /* load generators against running nodes */
int cli_bootnode(int argc, char **argv);   /* transport-only bootnode (bootnode.c) */
int cli_node(int argc, char **argv);       /* validator, full node or bootnode (node.c) */

struct net_addr;
/* Runs a bootnode with the host key of datadir on bind until SIGINT/SIGTERM;
 * prints "bootnode <pk hex>@ip:port" on stdout. Returns the exit status. */
int cli_bootnode_run(const char *datadir, const struct net_addr *bind);

/* Reads a passphrase: the first line of path without its line end (keys.c;
 * no stdio buffer keeps a copy). Prints the problem and returns -1. */
int cli_pass_file(const char *path, char *buf, size_t cap, size_t *len);
/* Asks for a passphrase on the terminal with echo off; -1 when stdin is
 * not a terminal or reading fails. */
int cli_pass_prompt(const char *prompt, char *buf, size_t cap, size_t *len);

#endif
