/* LMDB store: lifecycle, schema check, atomicity, read-only access from
 * another process, snapshot isolation with many readers, map growth. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/bytes.h"
#include "base/err.h"
#include "store/store.h"
#include "trie/trie.h"
#include "testutil.h"

static char tmpdir[256];

static void mk_tmp(void)
{
	snprintf(tmpdir, sizeof tmpdir, "/tmp/canon-store-XXXXXX");
	cr_assert_not_null(mkdtemp(tmpdir));
}

static void rm_tmp(void)
{
	char cmd[512];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(store, .init = mk_tmp, .fini = rm_tmp);

static void put_str(struct store_txn *t, enum store_db db, const char *k, const char *v)
{
	cr_assert_eq(store_put(t, db, k, strlen(k), v, strlen(v)), 0);
}

static int has(struct store_txn *t, enum store_db db, const char *k, const char *want)
{
	const uint8_t *v;
	size_t n;
	int err = store_get(t, db, k, strlen(k), &v, &n);
	if (err)
		return err;
	return n == strlen(want) && memcmp(v, want, n) == 0 ? 1 : 0;
}

Test(store, open_close_reopen_and_layout)
{
	struct store *s;
	cr_assert_eq(store_open_chain(&s, tmpdir, "localnet", 1, NULL), 0);
	cr_assert_eq(store_schema_version(s), STORE_SCHEMA_VERSION);
	struct store_txn *t;
	cr_assert_eq(store_begin(s, 1, &t), 0);
	put_str(t, STORE_HEADERS, "h1", "header-one");
	put_str(t, STORE_BODIES, "h1", "body-one");     /* same key, other db */
	cr_assert_eq(store_commit(t), 0);
	store_close(s);

	char path[512];
	cr_assert_eq(store_chain_path(path, sizeof path, tmpdir, "localnet", 1), 0);
	char file[600];
	snprintf(file, sizeof file, "%s/data.mdb", path);
	cr_assert_eq(access(file, F_OK), 0, "expected %s", file);

	cr_assert_eq(store_open(&s, path, NULL), 0);
	cr_assert_eq(store_begin(s, 0, &t), 0);
	cr_assert_eq(has(t, STORE_HEADERS, "h1", "header-one"), 1);
	cr_assert_eq(has(t, STORE_BODIES, "h1", "body-one"), 1);
	cr_assert_eq(has(t, STORE_RECEIPTS, "h1", ""), -CN_ENOTFOUND);
	cr_assert_eq(store_put(t, STORE_HEADERS, "x", 1, "y", 1), -CN_ESTATE);
	store_abort(t);
	store_close(s);

	char small[8];
	cr_assert_eq(store_chain_path(small, sizeof small, tmpdir, "localnet", 1), -CN_ERANGE);
	for (int i = 0; i < STORE_DB_COUNT; i++)
		cr_assert(strcmp(store_db_name(i), "?") != 0);
}

Test(store, schema_mismatch_is_refused)
{
	struct store *s;
	cr_assert_eq(store_open(&s, tmpdir, NULL), 0);
	struct store_txn *t;
	cr_assert_eq(store_begin(s, 1, &t), 0);
	uint8_t v[4];
	store_be32(v, STORE_SCHEMA_VERSION + 7);
	cr_assert_eq(store_put(t, STORE_META, "schema_version", 14, v, 4), 0);
	cr_assert_eq(store_commit(t), 0);
	store_close(s);

	char msg[200] = "";
	struct store_opts o = {.errmsg = msg, .errmsg_cap = sizeof msg};
	cr_assert_eq(store_open(&s, tmpdir, &o), -CN_EUNSUPPORTED);
	cr_assert_null(s);
	cr_assert(strstr(msg, "schema version") != NULL, "message: %s", msg);
	o.readonly = 1;
	cr_assert_eq(store_open(&s, tmpdir, &o), -CN_EUNSUPPORTED);
}

Test(store, readonly_open_of_missing_db_fails)
{
	char path[400];
	snprintf(path, sizeof path, "%s/nothing", tmpdir);
	struct store_opts o = {.readonly = 1};
	struct store *s;
	cr_assert_eq(store_open(&s, path, &o), -CN_ENOTFOUND);
}

Test(store, abort_leaves_nothing)
{
	struct store *s;
	cr_assert_eq(store_open(&s, tmpdir, NULL), 0);
	struct store_txn *t;
	cr_assert_eq(store_begin(s, 1, &t), 0);
	put_str(t, STORE_CANON, "k", "committed");
	cr_assert_eq(store_commit(t), 0);

	/* A "block" touching many sub-databases, then aborted. */
	cr_assert_eq(store_begin(s, 1, &t), 0);
	for (int db = 0; db < STORE_DB_COUNT; db++)
		put_str(t, db, "blk", "data");
	put_str(t, STORE_CANON, "k", "changed");
	cr_assert_eq(store_del(t, STORE_CANON, "k", 1), 0);
	cr_assert_eq(has(t, STORE_CANON, "k", ""), -CN_ENOTFOUND);
	store_abort(t);

	cr_assert_eq(store_begin(s, 0, &t), 0);
	for (int db = 0; db < STORE_DB_COUNT; db++)
		cr_assert_eq(has(t, db, "blk", "data"), -CN_ENOTFOUND, "db %s", store_db_name(db));
	cr_assert_eq(has(t, STORE_CANON, "k", "committed"), 1);
	store_abort(t);
	store_close(s);
}

Test(store, bad_keys_rejected)
{
	struct store *s;
	cr_assert_eq(store_open(&s, tmpdir, NULL), 0);
	struct store_txn *t;
	cr_assert_eq(store_begin(s, 1, &t), 0);
	uint8_t big[600] = {0};
	cr_assert_eq(store_put(t, STORE_CODE, big, 0, "v", 1), -CN_EINVAL);
	cr_assert_eq(store_put(t, STORE_CODE, big, sizeof big, "v", 1), -CN_EINVAL);
	cr_assert_eq(store_put(t, (enum store_db)99, "k", 1, "v", 1), -CN_EINVAL);
	/* empty values are fine */
	cr_assert_eq(store_put(t, STORE_CODE, "e", 1, "", 0), 0);
	cr_assert_eq(has(t, STORE_CODE, "e", ""), 1);
	cr_assert_eq(store_commit(t), 0);
	store_close(s);
}

static int collect(void *ctx, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl)
{
	int *n = ctx;
	(void)v;
	(void)vl;
	cr_assert(kl >= 2 && k[0] == 'a');
	return ++*n == 100 ? 1 : 0;
}

Test(store, iterate_prefix_in_order)
{
	struct store *s;
	cr_assert_eq(store_open(&s, tmpdir, NULL), 0);
	struct store_txn *t;
	cr_assert_eq(store_begin(s, 1, &t), 0);
	char k[16];
	for (int i = 0; i < 50; i++) {
		snprintf(k, sizeof k, "a%03d", i);
		put_str(t, STORE_CROSSLINKS, k, k);
		snprintf(k, sizeof k, "b%03d", i);
		put_str(t, STORE_CROSSLINKS, k, k);
	}
	put_str(t, STORE_CROSSLINKS, "a", "exact");
	cr_assert_eq(store_commit(t), 0);
	cr_assert_eq(store_begin(s, 0, &t), 0);
	int n = 0;
	cr_assert_eq(store_iterate(t, STORE_CROSSLINKS, "a0", 2, collect, &n), 0);
	cr_assert_eq(n, 50);
	size_t cnt;
	cr_assert_eq(store_count(t, STORE_CROSSLINKS, &cnt), 0);
	cr_assert_eq(cnt, 101);
	store_abort(t);
	store_close(s);
}

/* Another process opens the database read-only while this one holds it open
 * for writing, and must see exactly what was committed. */
Test(store, readonly_process_sees_committed_data)
{
	struct store *s;
	cr_assert_eq(store_open_chain(&s, tmpdir, "testnet", 0, NULL), 0);
	struct store_txn *t;
	cr_assert_eq(store_begin(s, 1, &t), 0);
	put_str(t, STORE_TXLOOKUP, "tx", "visible");
	cr_assert_eq(store_commit(t), 0);
	cr_assert_eq(store_begin(s, 1, &t), 0);
	put_str(t, STORE_TXLOOKUP, "pending", "not yet");

	pid_t pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		struct store *r;
		struct store_opts o = {.readonly = 1};
		int code = 0;
		if (store_open_chain(&r, tmpdir, "testnet", 0, &o) != 0)
			_exit(10);
		struct store_txn *rt;
		if (store_begin(r, 0, &rt) != 0)
			_exit(11);
		if (has(rt, STORE_TXLOOKUP, "tx", "visible") != 1)
			code = 12;
		else if (has(rt, STORE_TXLOOKUP, "pending", "not yet") != -CN_ENOTFOUND)
			code = 13;
		else if (store_begin(r, 1, &(struct store_txn *){0}) != -CN_ESTATE)
			code = 14;
		store_abort(rt);
		store_close(r);
		_exit(code);
	}
	int st;
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_assert(WIFEXITED(st));
	cr_assert_eq(WEXITSTATUS(st), 0, "child failed with %d", WEXITSTATUS(st));
	cr_assert_eq(store_commit(t), 0);
	store_close(s);
}

struct reader_arg {
	struct store *s;
	int seen_before, seen_after;
	pthread_barrier_t *bar;
};

static void *reader(void *p)
{
	struct reader_arg *a = p;
	struct store_txn *t;
	if (store_begin(a->s, 0, &t) != 0)
		return (void *)1;
	pthread_barrier_wait(a->bar);  /* all readers hold a snapshot */
	pthread_barrier_wait(a->bar);  /* the writer has committed */
	a->seen_before = has(t, STORE_STAKING, "v", "old");
	store_abort(t);
	if (store_begin(a->s, 0, &t) != 0)
		return (void *)1;
	a->seen_after = has(t, STORE_STAKING, "v", "new");
	store_abort(t);
	return NULL;
}

Test(store, many_readers_keep_their_snapshot)
{
	enum { N = 16 };
	struct store *s;
	cr_assert_eq(store_open(&s, tmpdir, NULL), 0);
	struct store_txn *t;
	cr_assert_eq(store_begin(s, 1, &t), 0);
	put_str(t, STORE_STAKING, "v", "old");
	cr_assert_eq(store_commit(t), 0);

	pthread_barrier_t bar;
	pthread_barrier_init(&bar, NULL, N + 1);
	pthread_t th[N];
	struct reader_arg a[N];
	for (int i = 0; i < N; i++) {
		a[i] = (struct reader_arg){.s = s, .bar = &bar};
		cr_assert_eq(pthread_create(&th[i], NULL, reader, &a[i]), 0);
	}
	pthread_barrier_wait(&bar);
	cr_assert_eq(store_begin(s, 1, &t), 0);
	put_str(t, STORE_STAKING, "v", "new");
	cr_assert_eq(store_commit(t), 0);
	pthread_barrier_wait(&bar);
	for (int i = 0; i < N; i++) {
		void *r;
		pthread_join(th[i], &r);
		cr_assert_null(r);
		cr_assert_eq(a[i].seen_before, 1, "reader %d lost its snapshot", i);
		cr_assert_eq(a[i].seen_after, 1, "reader %d missed the commit", i);
	}
	pthread_barrier_destroy(&bar);
	store_close(s);
}

/* A write transaction much larger than the initial map must still commit,
 * whole, after the store grows the map behind the caller's back. */
Test(store, map_full_grows_and_retries)
{
	struct store *s;
	struct store_opts o = {.map_size = 1 << 20};
	cr_assert_eq(store_open(&s, tmpdir, &o), 0);
	size_t before = store_map_size(s);
	struct store_txn *t;
	cr_assert_eq(store_begin(s, 1, &t), 0);
	uint8_t val[1000];
	for (int i = 0; i < 8000; i++) {
		uint8_t key[8];
		store_be64(key, (uint64_t)i);
		memset(val, i & 0xff, sizeof val);
		cr_assert_eq(store_put(t, STORE_TRIE, key, 8, val, sizeof val), 0, "put %d", i);
	}
	cr_assert_eq(store_commit(t), 0);
	cr_assert_gt(store_map_size(s), before);
	store_close(s);

	cr_assert_eq(store_open(&s, tmpdir, NULL), 0);
	cr_assert_eq(store_begin(s, 0, &t), 0);
	size_t n;
	cr_assert_eq(store_count(t, STORE_TRIE, &n), 0);
	cr_assert_eq(n, 8000);
	const uint8_t *v;
	size_t vl;
	uint8_t key[8];
	store_be64(key, 7777);
	cr_assert_eq(store_get(t, STORE_TRIE, key, 8, &v, &vl), 0);
	cr_assert_eq(vl, 1000);
	cr_assert_eq(v[999], 7777 & 0xff);
	store_abort(t);
	store_close(s);

	/* A hard cap turns growth into a clean error that leaves no trace. */
	struct store_opts cap = {.map_size = 1 << 20, .max_map_size = 1 << 20};
	char path[400];
	snprintf(path, sizeof path, "%s/capped", tmpdir);
	cr_assert_eq(store_open(&s, path, &cap), 0);
	cr_assert_eq(store_begin(s, 1, &t), 0);
	int err = 0;
	for (int i = 0; i < 8000 && !err; i++) {
		store_be64(key, (uint64_t)i);
		err = store_put(t, STORE_TRIE, key, 8, val, sizeof val);
	}
	cr_assert_eq(err, -CN_ELIMIT);
	store_abort(t);
	cr_assert_eq(store_begin(s, 0, &t), 0);
	cr_assert_eq(store_count(t, STORE_TRIE, &n), 0);
	cr_assert_eq(n, 0);
	store_abort(t);
	store_close(s);
}

/* The trie stores its nodes through the store's adapter; after a commit and
 * a reopen, a trie opened from the root finds every value. */
Test(store, trie_nodes_persist)
{
	struct store *s;
	cr_assert_eq(store_open(&s, tmpdir, NULL), 0);
	struct store_txn *t;
	cr_assert_eq(store_begin(s, 1, &t), 0);
	struct trie_db db = {t, store_trie_get, store_trie_put};
	struct trie tr;
	cr_assert_eq(trie_init(&tr, &db, NULL, TRIE_SECURE), 0);
	char k[32], v[64];
	for (int i = 0; i < 300; i++) {
		snprintf(k, sizeof k, "key-%d", i);
		snprintf(v, sizeof v, "value-%d-with-some-length-to-avoid-embedding", i);
		cr_assert_eq(trie_put(&tr, (uint8_t *)k, strlen(k), (uint8_t *)v, strlen(v)), 0);
	}
	uint8_t root[32];
	cr_assert_eq(trie_commit(&tr, root), 0);
	trie_free(&tr);
	cr_assert_eq(store_commit(t), 0);
	store_close(s);

	cr_assert_eq(store_open(&s, tmpdir, NULL), 0);
	cr_assert_eq(store_begin(s, 0, &t), 0);
	size_t n;
	cr_assert_eq(store_count(t, STORE_TRIE, &n), 0);
	cr_assert_gt(n, 10);
	db.ctx = t;
	cr_assert_eq(trie_init(&tr, &db, root, TRIE_SECURE), 0);
	for (int i = 0; i < 300; i += 7) {
		snprintf(k, sizeof k, "key-%d", i);
		snprintf(v, sizeof v, "value-%d-with-some-length-to-avoid-embedding", i);
		const uint8_t *got;
		size_t gl;
		cr_assert_eq(trie_get(&tr, (uint8_t *)k, strlen(k), &got, &gl), 0, "key %d", i);
		cr_assert(gl == strlen(v) && memcmp(got, v, gl) == 0);
	}
	trie_free(&tr);
	store_abort(t);
	store_close(s);
}

/* Another process grows the map past this process's size; this process
 * must adopt the new size (MDB_MAP_RESIZED) instead of failing, and read
 * what was written. */
Test(store, adopts_map_grown_by_another_process)
{
	struct store *s;
	struct store_opts small = {.map_size = 1 << 20};
	cr_assert_eq(store_open(&s, tmpdir, &small), 0);
	size_t before = store_map_size(s);

	pid_t pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		struct store *w;
		struct store_opts big = {.map_size = 64 << 20};
		if (store_open(&w, tmpdir, &big) != 0)
			_exit(10);
		struct store_txn *t;
		if (store_begin(w, 1, &t) != 0)
			_exit(11);
		uint8_t val[1000] = {0};
		for (int i = 0; i < 4000; i++) {
			uint8_t key[8];
			store_be64(key, (uint64_t)i);
			val[0] = (uint8_t)i;
			if (store_put(t, STORE_BODIES, key, 8, val, sizeof val) != 0)
				_exit(12);
		}
		if (store_commit(t) != 0)
			_exit(13);
		store_close(w);
		_exit(0);
	}
	int st;
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child status %d", WEXITSTATUS(st));

	struct store_txn *t;
	cr_assert_eq(store_begin(s, 0, &t), 0);
	size_t n;
	cr_assert_eq(store_count(t, STORE_BODIES, &n), 0);
	cr_assert_eq(n, 4000);
	store_abort(t);
	cr_assert_gt(store_map_size(s), before);
	/* and it can still write */
	cr_assert_eq(store_begin(s, 1, &t), 0);
	put_str(t, STORE_BODIES, "after", "resize");
	cr_assert_eq(store_commit(t), 0);
	store_close(s);
}
