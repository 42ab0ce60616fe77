/* fuzz/chain_import.c — `canon chain import` on arbitrary bytes.
 *
 * A localnet chain at genesis (in a temporary directory, removed at exit,
 * recreated whenever an input managed to extend it) receives every input as
 * an import stream: the reader must refuse bad framing,
 * the block decoder bad encodings, and validation everything else, without
 * crashing, and the database must stay consistent. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "chain/chain.h"
#include "store/store.h"

static struct store *st;
static struct chain *c;
static char dir[64];

static void cleanup(void)
{
	char cmd[128];
	chain_close(c);
	store_close(st);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd))
		fprintf(stderr, "chain_import: could not remove %s\n", dir);
}

static void setup_dir(void)
{
	struct chain_genesis g;
	uint8_t h[32];
	strcpy(dir, "/tmp/canon-fuzz-chain-XXXXXX");
	if (!mkdtemp(dir) || store_open_chain(&st, dir, "localnet", 0, NULL) ||
	    chain_genesis_default(&g, "localnet", 0) || chain_init(st, &g, h) ||
	    chain_open(&c, st, g.np, 0))
		abort();
	chain_genesis_free(&g);
}

static void setup(void)
{
	setup_dir();
	atexit(cleanup);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!c)
		setup();
	/* fmemopen refuses a zero-sized buffer: give an empty input a one-byte
	 * buffer of our own and consume that byte. */
	static uint8_t one[1];
	FILE *f = fmemopen(size ? (void *)data : one, size ? size : 1, "rb");
	if (!f)
		return 0;
	if (!size)
		fgetc(f);
	struct chain_import_stats s;
	struct chain_why w;
	chain_import(c, f, &s, &w);
	fclose(f);
	if (chain_verify_db(c, &w))
		abort();
	/* Keep the chain at genesis, so that mutants of a valid block 1 go
	 * through full validation instead of the "already canonical" check. */
	if (chain_head(c)->number > 0) {
		cleanup();
		c = NULL;
		setup_dir();
	}
	return 0;
}
