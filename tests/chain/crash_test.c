/* Crash safety: a child process inserts blocks and is killed with SIGKILL
 * at a random moment; every reopen must find a consistent database whose
 * head is the last block the child committed (or the one it was committing
 * when it died, if that commit completed), and further inserts must work.
 * 15 kills under `make test`, 100 under `make test-long`. */
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "helpers.h"

#include "base/prng.h"
#include "testutil.h"

/* Inserts blocks forever, reporting each committed head on fd. */
static void child(const char *dir, int fd, uint64_t seed)
{
	struct store *st;
	struct chain *c;
	const struct netparams *np;
	struct chain_why w;
	if (store_open_chain(&st, dir, "localnet", 0, NULL) || netparams_get("localnet", &np) ||
	    chain_open(&c, st, np, 0))
		_exit(3);
	for (int i = 0; i < 100000; i++) {
		if (chain_gen_blocks(c, 1, 40, 20, seed + (uint64_t)i, &w))
			_exit(4);
		uint64_t n = chain_head(c)->number;
		if (write(fd, &n, sizeof n) != sizeof n)
			_exit(5);
	}
	_exit(0);
}

Test(chain_crash, sigkill_while_inserting, .timeout = 600)
{
	struct tchain T;
	tchain_new(&T, 0);
	tchain_close(&T);
	int rounds = tu_long() ? 100 : 15;
	struct cn_prng r;
	cn_prng_seed(&r, 20261122);
	uint64_t known = 0;     /* last head the parent knows was committed */
	int mid_commit = 0;
	for (int round = 0; round < rounds; round++) {
		int p[2];
		cr_assert_eq(pipe(p), 0);
		pid_t pid = fork();
		cr_assert(pid >= 0);
		if (pid == 0) {
			close(p[0]);
			child(T.dir, p[1], cn_prng_next_u64(&r));
		}
		close(p[1]);
		/* From just after start-up (mid-open) to several blocks in. */
		struct timespec ts = {0, (long)(1 + cn_prng_uniform(&r, 150)) * 1000000L};
		nanosleep(&ts, NULL);
		cr_assert_eq(kill(pid, SIGKILL), 0);
		int status;
		cr_assert_eq(waitpid(pid, &status, 0), pid);
		cr_assert(WIFSIGNALED(status), "child exited by itself (status %d)", status);
		uint64_t n;
		while (read(p[0], &n, sizeof n) == (ssize_t)sizeof n) {
			cr_assert_gt(n, known);
			known = n;
		}
		close(p[0]);

		tchain_open_at(&T, T.dir, 0, 0);
		uint64_t head = chain_head(T.c)->number;
		/* Committed but not yet reported is the only allowed difference. */
		cr_assert(head == known || head == known + 1, "round %d: head %llu, last committed %llu",
		          round, (unsigned long long)head, (unsigned long long)known);
		mid_commit += head == known + 1;
		struct chain_why w;
		cr_assert_eq(chain_verify_db(T.c, &w), 0, "round %d: %s", round, w.msg);
		cr_assert_eq(chain_gen_blocks(T.c, 1, 5, 20, 1000 + (uint64_t)round, &w), 0,
		             "round %d: %s", round, w.msg);
		known = chain_head(T.c)->number;
		tchain_close(&T);
	}
	tchain_open_at(&T, T.dir, 0, 0);
	cr_log_info("chain crash: %d kills, final head #%llu, %d kills landed after a commit "
	            "before its report", rounds, (unsigned long long)chain_head(T.c)->number,
	            mid_commit);
	tu_report("chain crash kills", (size_t)rounds);
	tchain_free(&T);
}
