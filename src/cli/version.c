/* version.c — `canon version`. The commit and flags are baked in by the Makefile. */
#include <stdio.h>

#include "cli/cli.h"

#ifndef CANON_GIT_COMMIT
#define CANON_GIT_COMMIT "unknown"
#endif
#ifndef CANON_BUILD_FLAGS
#define CANON_BUILD_FLAGS "unknown"
#endif
#define CANON_VERSION "0.1.0"

int cli_version(int argc, char **argv)
{
	printf("canon %s\ncommit %s\nbuilt with %s\n", CANON_VERSION, CANON_GIT_COMMIT,
	       CANON_BUILD_FLAGS);
	return 0;
}
