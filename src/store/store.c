/* store.c — the LMDB backend of store.h. */
#include "store/store.h"

#include <errno.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/bytes.h"
#include "base/err.h"

#define DEFAULT_MAP_SIZE ((size_t)256 << 20)
#define DEFAULT_MAX_MAP ((size_t)1 << 40)
#define DEFAULT_READERS 256
#define MAX_KEY 511 /* LMDB's default MDB_MAXKEYSIZE */

static const char *const db_names[STORE_DB_COUNT] = {
	[STORE_HEADERS] = "headers",
	[STORE_CANON] = "canonical",
	[STORE_BODIES] = "bodies",
	[STORE_RECEIPTS] = "receipts",
	[STORE_TXLOOKUP] = "txlookup",
	[STORE_TRIE] = "trie",
	[STORE_CODE] = "code",
	[STORE_CX_OUT] = "cx_out",
	[STORE_CX_SPENT] = "cx_spent",
	[STORE_CROSSLINKS] = "crosslinks",
	[STORE_SHARD_STATES] = "shard_states",
	[STORE_STAKING] = "staking",
	[STORE_META] = "meta",
};

static const char SCHEMA_KEY[] = "schema_version";

struct store {
	MDB_env *env;
	MDB_dbi dbi[STORE_DB_COUNT];
	int readonly;
	size_t map_size, max_map_size;
	uint32_t schema;
	/* Read transactions hold this shared; changing the map size takes it
	 * exclusively, because LMDB remaps and would pull memory from under
	 * live readers. */
	pthread_rwlock_t remap;
};

/* One logged change of a write transaction, replayed after the map grows. */
struct op {
	enum store_db db;
	int del;
	uint8_t *key, *val;
	size_t klen, vlen;
};

struct store_txn {
	struct store *s;
	MDB_txn *txn;
	int write;
	struct op *ops;
	size_t nops, capops;
};

const char *store_db_name(enum store_db db)
{
	return (unsigned)db < STORE_DB_COUNT ? db_names[db] : "?";
}

static void set_msg(const struct store_opts *o, const char *fmt, ...)
{
	if (!o || !o->errmsg || !o->errmsg_cap)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(o->errmsg, o->errmsg_cap, fmt, ap);
	va_end(ap);
}

static int map_err(int rc)
{
	switch (rc) {
	case 0: return 0;
	case MDB_NOTFOUND: return -CN_ENOTFOUND;
	case ENOENT: return -CN_ENOTFOUND;
	case ENOMEM: return -CN_ENOMEM;
	case MDB_MAP_FULL:
	case MDB_TXN_FULL:
	case MDB_READERS_FULL:
	case MDB_DBS_FULL: return -CN_ELIMIT;
	case MDB_BAD_VALSIZE: return -CN_EINVAL;
	case EACCES: return -CN_EIO;
	default: return -CN_EIO;
	}
}

/* Re-reads the map size after another process grew it. Needs no live
 * transaction in this process, hence the exclusive lock. */
static int adopt_foreign_size(struct store *s)
{
	pthread_rwlock_wrlock(&s->remap);
	int rc = mdb_env_set_mapsize(s->env, 0);
	if (!rc) {
		MDB_envinfo info;
		mdb_env_info(s->env, &info);
		s->map_size = info.me_mapsize;
	}
	pthread_rwlock_unlock(&s->remap);
	return rc;
}

static int grow(struct store *s)
{
	if (s->map_size >= s->max_map_size)
		return -CN_ELIMIT;
	size_t want = s->map_size * 2;
	if (want > s->max_map_size || want < s->map_size)
		want = s->max_map_size;
	pthread_rwlock_wrlock(&s->remap);
	int rc = mdb_env_set_mapsize(s->env, want);
	if (!rc)
		s->map_size = want;
	pthread_rwlock_unlock(&s->remap);
	return rc ? map_err(rc) : 0;
}

static int begin_raw(struct store *s, int write, MDB_txn **out)
{
	for (int tries = 0; tries < 4; tries++) {
		int rc = mdb_txn_begin(s->env, NULL, write ? 0 : MDB_RDONLY, out);
		if (rc != MDB_MAP_RESIZED)
			return map_err(rc);
		if (!write)
			pthread_rwlock_unlock(&s->remap);
		rc = adopt_foreign_size(s);
		if (!write)
			pthread_rwlock_rdlock(&s->remap);
		if (rc)
			return map_err(rc);
	}
	return -CN_EIO;
}

static int ensure_schema(struct store *s, const struct store_opts *o)
{
	MDB_txn *txn;
	int rc = mdb_txn_begin(s->env, NULL, s->readonly ? MDB_RDONLY : 0, &txn);
	if (rc == MDB_MAP_RESIZED) {
		mdb_env_set_mapsize(s->env, 0);
		rc = mdb_txn_begin(s->env, NULL, s->readonly ? MDB_RDONLY : 0, &txn);
	}
	if (rc) {
		set_msg(o, "cannot begin transaction: %s", mdb_strerror(rc));
		return map_err(rc);
	}
	for (int i = 0; i < STORE_DB_COUNT; i++) {
		rc = mdb_dbi_open(txn, db_names[i], s->readonly ? 0 : MDB_CREATE, &s->dbi[i]);
		if (rc) {
			set_msg(o, "sub-database %s: %s", db_names[i], mdb_strerror(rc));
			mdb_txn_abort(txn);
			return rc == MDB_NOTFOUND ? -CN_ENOTFOUND : map_err(rc);
		}
	}
	MDB_val k = {sizeof SCHEMA_KEY - 1, (void *)SCHEMA_KEY}, v;
	rc = mdb_get(txn, s->dbi[STORE_META], &k, &v);
	if (rc == MDB_NOTFOUND && !s->readonly) {
		uint8_t ver[4];
		store_be32(ver, STORE_SCHEMA_VERSION);
		v.mv_size = 4;
		v.mv_data = ver;
		rc = mdb_put(txn, s->dbi[STORE_META], &k, &v, 0);
		s->schema = STORE_SCHEMA_VERSION;
	} else if (rc == MDB_NOTFOUND) {
		set_msg(o, "database has no schema version (not initialised by a writer)");
		mdb_txn_abort(txn);
		return -CN_ENOTFOUND;
	} else if (!rc) {
		if (v.mv_size != 4) {
			set_msg(o, "database schema version record is malformed");
			mdb_txn_abort(txn);
			return -CN_EUNSUPPORTED;
		}
		s->schema = load_be32(v.mv_data);
		if (s->schema != STORE_SCHEMA_VERSION) {
			set_msg(o, "database schema version %u, this build reads version %u",
			        (unsigned)s->schema, (unsigned)STORE_SCHEMA_VERSION);
			mdb_txn_abort(txn);
			return -CN_EUNSUPPORTED;
		}
	}
	if (rc) {
		set_msg(o, "schema version: %s", mdb_strerror(rc));
		mdb_txn_abort(txn);
		return map_err(rc);
	}
	rc = mdb_txn_commit(txn);
	if (rc) {
		set_msg(o, "cannot commit schema: %s", mdb_strerror(rc));
		return map_err(rc);
	}
	return 0;
}

int store_open(struct store **out, const char *path, const struct store_opts *opts)
{
	*out = NULL;
	struct store_opts def = {0};
	const struct store_opts *o = opts ? opts : &def;
	struct store *s = calloc(1, sizeof *s);
	if (!s)
		return -CN_ENOMEM;
	s->readonly = o->readonly;
	s->map_size = o->map_size ? o->map_size : DEFAULT_MAP_SIZE;
	s->max_map_size = o->max_map_size ? o->max_map_size : DEFAULT_MAX_MAP;
	if (s->max_map_size < s->map_size)
		s->max_map_size = s->map_size;
	pthread_rwlock_init(&s->remap, NULL);

	int rc = mdb_env_create(&s->env);
	if (rc) {
		set_msg(o, "mdb_env_create: %s", mdb_strerror(rc));
		goto fail;
	}
	mdb_env_set_maxdbs(s->env, STORE_DB_COUNT + 3);
	mdb_env_set_maxreaders(s->env, o->max_readers ? o->max_readers : DEFAULT_READERS);
	mdb_env_set_mapsize(s->env, s->map_size);
	if (!s->readonly && mkdir(path, 0755) != 0 && errno != EEXIST) {
		set_msg(o, "cannot create %s: %s", path, strerror(errno));
		rc = errno;
		goto fail;
	}
	/* NOTLS: read transactions belong to the caller, not to the thread, so
	 * one thread may hold several and hand them around. */
	unsigned flags = MDB_NOTLS | (s->readonly ? MDB_RDONLY : 0);
	rc = mdb_env_open(s->env, path, flags, 0644);
	if (rc) {
		set_msg(o, "cannot open database %s: %s", path, mdb_strerror(rc));
		goto fail;
	}
	/* A database written by another process may already be larger. */
	MDB_envinfo info;
	mdb_env_info(s->env, &info);
	s->map_size = info.me_mapsize;
	if (s->max_map_size < s->map_size)
		s->max_map_size = s->map_size;
	int err = ensure_schema(s, o);
	if (err) {
		mdb_env_close(s->env);
		pthread_rwlock_destroy(&s->remap);
		free(s);
		return err;
	}
	*out = s;
	return 0;
fail:
	if (s->env)
		mdb_env_close(s->env);
	pthread_rwlock_destroy(&s->remap);
	free(s);
	return map_err(rc);
}

int store_chain_path(char *out, size_t cap, const char *datadir, const char *network,
                     uint32_t shard)
{
	int n = snprintf(out, cap, "%s/%s/shard%u", datadir, network, (unsigned)shard);
	return n < 0 || (size_t)n >= cap ? -CN_ERANGE : 0;
}

static int mkdir_p(const char *path)
{
	char buf[4096];
	size_t len = strlen(path);
	if (len >= sizeof buf)
		return -CN_ERANGE;
	memcpy(buf, path, len + 1);
	for (size_t i = 1; i <= len; i++) {
		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		char c = buf[i];
		buf[i] = '\0';
		if (mkdir(buf, 0755) != 0 && errno != EEXIST)
			return -CN_EIO;
		buf[i] = c;
	}
	return 0;
}

int store_open_chain(struct store **out, const char *datadir, const char *network,
                     uint32_t shard, const struct store_opts *opts)
{
	char path[4096];
	int err = store_chain_path(path, sizeof path, datadir, network, shard);
	if (err)
		return err;
	if (!(opts && opts->readonly) && (err = mkdir_p(path)) != 0) {
		set_msg(opts, "cannot create %s", path);
		*out = NULL;
		return err;
	}
	return store_open(out, path, opts);
}

void store_close(struct store *s)
{
	if (!s)
		return;
	mdb_env_close(s->env);
	pthread_rwlock_destroy(&s->remap);
	free(s);
}

size_t store_map_size(const struct store *s) { return s->map_size; }
uint32_t store_schema_version(const struct store *s) { return s->schema; }

int store_begin(struct store *s, int write, struct store_txn **out)
{
	*out = NULL;
	if (write && s->readonly)
		return -CN_ESTATE;
	struct store_txn *t = calloc(1, sizeof *t);
	if (!t)
		return -CN_ENOMEM;
	t->s = s;
	t->write = write;
	if (!write)
		pthread_rwlock_rdlock(&s->remap);
	int err = begin_raw(s, write, &t->txn);
	if (err) {
		if (!write)
			pthread_rwlock_unlock(&s->remap);
		free(t);
		return err;
	}
	*out = t;
	return 0;
}

static void free_ops(struct store_txn *t)
{
	for (size_t i = 0; i < t->nops; i++) {
		free(t->ops[i].key);
		free(t->ops[i].val);
	}
	free(t->ops);
	t->ops = NULL;
	t->nops = t->capops = 0;
}

static void txn_free(struct store_txn *t)
{
	if (!t->write)
		pthread_rwlock_unlock(&t->s->remap);
	free_ops(t);
	free(t);
}

void store_abort(struct store_txn *t)
{
	if (!t)
		return;
	if (t->txn)
		mdb_txn_abort(t->txn);
	txn_free(t);
}

static int apply(struct store_txn *t, const struct op *op)
{
	MDB_val k = {op->klen, op->key};
	if (op->del) {
		int rc = mdb_del(t->txn, t->s->dbi[op->db], &k, NULL);
		return rc == MDB_NOTFOUND ? 0 : rc;
	}
	MDB_val v = {op->vlen, op->val};
	return mdb_put(t->txn, t->s->dbi[op->db], &k, &v, 0);
}

/* After MDB_MAP_FULL the LMDB transaction is dead: abort it, grow the map
 * and redo every logged change in a fresh one. Repeats while still full. */
static int grow_and_replay(struct store_txn *t)
{
	for (;;) {
		mdb_txn_abort(t->txn);
		t->txn = NULL;
		int err = grow(t->s);
		if (err)
			return err;
		if ((err = begin_raw(t->s, 1, &t->txn)) != 0) {
			t->txn = NULL;
			return err;
		}
		int rc = 0;
		for (size_t i = 0; i < t->nops && !rc; i++)
			rc = apply(t, &t->ops[i]);
		if (rc == MDB_MAP_FULL)
			continue;
		return map_err(rc);
	}
}

static int check_key(enum store_db db, size_t klen)
{
	return (unsigned)db >= STORE_DB_COUNT || klen == 0 || klen > MAX_KEY ? -CN_EINVAL : 0;
}

static int log_op(struct store_txn *t, enum store_db db, int del, const void *key, size_t klen,
                  const void *val, size_t vlen)
{
	if (t->nops == t->capops) {
		size_t cap = t->capops ? t->capops * 2 : 16;
		struct op *n = realloc(t->ops, cap * sizeof *n);
		if (!n)
			return -CN_ENOMEM;
		t->ops = n;
		t->capops = cap;
	}
	struct op *op = &t->ops[t->nops];
	op->db = db;
	op->del = del;
	op->klen = klen;
	op->vlen = vlen;
	op->key = malloc(klen);
	op->val = malloc(vlen ? vlen : 1);
	if (!op->key || !op->val) {
		free(op->key);
		free(op->val);
		return -CN_ENOMEM;
	}
	memcpy(op->key, key, klen);
	if (vlen)
		memcpy(op->val, val, vlen);
	t->nops++;
	return 0;
}

static int change(struct store_txn *t, enum store_db db, int del, const void *key, size_t klen,
                  const void *val, size_t vlen)
{
	if (!t->write)
		return -CN_ESTATE;
	if (!t->txn)
		return -CN_ESTATE;   /* an earlier growth failed; only abort is left */
	int err = check_key(db, klen);
	if (err)
		return err;
	if ((err = log_op(t, db, del, key, klen, val, vlen)) != 0)
		return err;
	int rc = apply(t, &t->ops[t->nops - 1]);
	if (rc == MDB_MAP_FULL)
		return grow_and_replay(t);
	if (rc) {
		/* A failed put leaves LMDB's transaction unusable too. */
		t->nops--;
		free(t->ops[t->nops].key);
		free(t->ops[t->nops].val);
	}
	return map_err(rc);
}

int store_put(struct store_txn *t, enum store_db db, const void *key, size_t klen,
              const void *val, size_t vlen)
{
	return change(t, db, 0, key, klen, val, vlen);
}

int store_del(struct store_txn *t, enum store_db db, const void *key, size_t klen)
{
	return change(t, db, 1, key, klen, NULL, 0);
}

int store_commit(struct store_txn *t)
{
	if (!t->txn) {
		store_abort(t);
		return -CN_ESTATE;
	}
	for (;;) {
		int rc = mdb_txn_commit(t->txn);
		t->txn = NULL;
		if (rc == MDB_MAP_FULL && t->write) {
			/* The commit itself needed pages (free list, meta): grow and
			 * redo. mdb_txn_commit already freed the transaction. */
			int err = grow(t->s);
			if (!err && !(err = begin_raw(t->s, 1, &t->txn))) {
				int r2 = 0;
				for (size_t i = 0; i < t->nops && !r2; i++)
					r2 = apply(t, &t->ops[i]);
				if (r2 == MDB_MAP_FULL)
					err = grow_and_replay(t);
				else
					err = map_err(r2);
				if (!err)
					continue;
			}
			store_abort(t);
			return err;
		}
		txn_free(t);
		return map_err(rc);
	}
}

int store_get(struct store_txn *t, enum store_db db, const void *key, size_t klen,
              const uint8_t **val, size_t *vlen)
{
	int err = check_key(db, klen);
	if (err)
		return err;
	if (!t->txn)
		return -CN_ESTATE;
	MDB_val k = {klen, (void *)key}, v;
	int rc = mdb_get(t->txn, t->s->dbi[db], &k, &v);
	if (rc)
		return map_err(rc);
	*val = v.mv_data;
	*vlen = v.mv_size;
	return 0;
}

int store_iterate(struct store_txn *t, enum store_db db, const void *prefix, size_t plen,
                  store_iter_fn fn, void *ctx)
{
	if ((unsigned)db >= STORE_DB_COUNT || plen > MAX_KEY)
		return -CN_EINVAL;
	if (!t->txn)
		return -CN_ESTATE;
	MDB_cursor *c;
	int rc = mdb_cursor_open(t->txn, t->s->dbi[db], &c);
	if (rc)
		return map_err(rc);
	MDB_val k = {plen, (void *)prefix}, v;
	rc = mdb_cursor_get(c, &k, &v, plen ? MDB_SET_RANGE : MDB_FIRST);
	int ret = 0;
	while (!rc) {
		if (k.mv_size < plen || memcmp(k.mv_data, prefix, plen) != 0)
			break;
		int r = fn(ctx, k.mv_data, k.mv_size, v.mv_data, v.mv_size);
		if (r) {
			ret = r < 0 ? r : 0;
			break;
		}
		rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
	}
	if (rc && rc != MDB_NOTFOUND)
		ret = map_err(rc);
	mdb_cursor_close(c);
	return ret;
}

int store_count(struct store_txn *t, enum store_db db, size_t *count)
{
	if ((unsigned)db >= STORE_DB_COUNT)
		return -CN_EINVAL;
	if (!t->txn)
		return -CN_ESTATE;
	MDB_stat st;
	int rc = mdb_stat(t->txn, t->s->dbi[db], &st);
	if (rc)
		return map_err(rc);
	*count = st.ms_entries;
	return 0;
}

int store_trie_get(void *txn, const uint8_t hash[32], const uint8_t **val, size_t *len)
{
	return store_get(txn, STORE_TRIE, hash, 32, val, len);
}

int store_trie_put(void *txn, const uint8_t hash[32], const uint8_t *val, size_t len)
{
	return store_put(txn, STORE_TRIE, hash, 32, val, len);
}
