/* localnet.c — `canon localnet up|down|status`: a whole network on loopback.
 *
 * `up` lays out DIR (keys, one data directory per process), starts a
 * bootnode, four validator processes per shard and one RPC-serving
 * non-validating node per shard, each detached in its own session with its
 * log in DIR/<name>/node.log and its pid in DIR/<name>/pid, then waits until
 * every shard's RPC node holds a finalized block and prints the endpoints and
 * the funded accounts. Processes are ordinary `canon node` / `canon bootnode`
 * runs: everything `up` does can be done by hand, and the command lines are
 * in the logs' first line for that reason.
 *
 * A pid file alone is not trusted: the pid may have been reused. A process
 * counts as ours only if /proc/<pid>/cmdline carries its data directory, so
 * `down` never signals a stranger. The settings `up` chose (block time,
 * port offset) are kept in DIR/localnet.conf so that `status` and `down`
 * find the same ports without being told again. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "base/bytes.h"
#include "base/err.h"
#include "base/flags.h"
#include "chain/chain.h"
#include "cli/cli.h"
#include "cli/httpc.h"
#include "cli/localnet.h"
#include "codec/bech32.h"
#include "core/core.h"
#include "crypto/bls.h"
#include "crypto/crypto.h"
#include "crypto/keyfile.h"
#include "net/net.h"
#include "rpc/rpc.h"

#define LN_VALIDATORS 4     /* processes per shard */

static uint64_t now_wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint64_t now_mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};
	while (nanosleep(&ts, &ts) && errno == EINTR) {
	}
}

/* ---- layout ------------------------------------------------------------------ */

int localnet_shards(uint32_t *out)
{
	const struct netparams *np;
	int rc = netparams_get("localnet", &np);
	if (rc)
		return rc;
	*out = np->num_shards;
	return 0;
}

int localnet_procs(uint32_t port_offset, struct localnet_proc *out, size_t cap, size_t *n)
{
	uint32_t shards;
	int rc = localnet_shards(&shards);
	if (rc)
		return rc;
	size_t need = 1 + (size_t)shards * (LN_VALIDATORS + 1);
	if (cap < need)
		return -CN_ERANGE;
	if (port_offset > 65535 - 20000)
		return -CN_ERANGE;
	size_t k = 0;
	struct localnet_proc *p = &out[k++];
	memset(p, 0, sizeof *p);
	snprintf(p->name, sizeof p->name, "boot");
	p->kind = LOCALNET_BOOT;
	p->p2p_port = (uint16_t)(19000 + port_offset);
	for (uint32_t s = 0; s < shards; s++) {
		for (unsigned i = 0; i < LN_VALIDATORS; i++) {
			p = &out[k++];
			memset(p, 0, sizeof *p);
			snprintf(p->name, sizeof p->name, "s%uv%u", (unsigned)s, i);
			p->kind = LOCALNET_VALIDATOR;
			p->shard = s;
			p->index = i;
			p->p2p_port = (uint16_t)(19100 + 10 * s + i + port_offset);
			p->prom_port = (uint16_t)(19300 + 10 * s + i + port_offset);
		}
		p = &out[k++];
		memset(p, 0, sizeof *p);
		snprintf(p->name, sizeof p->name, "s%urpc", (unsigned)s);
		p->kind = LOCALNET_RPC;
		p->shard = s;
		p->p2p_port = (uint16_t)(19109 + 10 * s + port_offset);
		p->prom_port = (uint16_t)(19309 + 10 * s + port_offset);
		p->http_port = (uint16_t)(rpc_default_port("localnet", s) + port_offset);
		p->ws_port = (uint16_t)(rpc_default_ws_port("localnet", s) + port_offset);
	}
	*n = k;
	return 0;
}

/* Committee keys process i of a shard holds: key i, and process j also key
 * LN_VALIDATORS + j while the committee has keys beyond one per process. */
static size_t proc_keys(unsigned i, unsigned keys[2])
{
	size_t n = 0;
	keys[n++] = i;
	if (LN_VALIDATORS + i < CHAIN_LOCALNET_VALIDATORS)
		keys[n++] = LN_VALIDATORS + i;
	return n;
}

struct ln {
	char dir[1024];           /* absolute; short enough that every path under it fits */
	uint64_t block_ms;
	uint64_t offset;
	char exe[PATH_MAX];
	struct localnet_proc procs[LOCALNET_MAX_PROCS];
	size_t nprocs;
};

static int path_of(char *out, size_t cap, const struct ln *ln, const char *a, const char *b)
{
	int n = b ? snprintf(out, cap, "%s/%s/%s", ln->dir, a, b) : snprintf(out, cap, "%s/%s", ln->dir, a);
	return n < 0 || (size_t)n >= cap ? -CN_ERANGE : 0;
}

static int mkdir_p(const char *path, mode_t mode)
{
	char tmp[PATH_MAX];
	if (snprintf(tmp, sizeof tmp, "%s", path) >= (int)sizeof tmp)
		return -CN_ERANGE;
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(tmp, mode) && errno != EEXIST)
			return -CN_EIO;
		*p = '/';
	}
	if (mkdir(tmp, mode) && errno != EEXIST)
		return -CN_EIO;
	return 0;
}

/* DIR/localnet.conf: "key = value" lines written by up. */
static int conf_read(struct ln *ln, int *found)
{
	char path[PATH_MAX];
	*found = 0;
	if (path_of(path, sizeof path, ln, "localnet.conf", NULL))
		return -CN_ERANGE;
	FILE *f = fopen(path, "r");
	if (!f)
		return errno == ENOENT ? 0 : -CN_EIO;
	char line[256];
	while (fgets(line, sizeof line, f)) {
		char key[64];
		unsigned long long v;
		if (sscanf(line, " %63[a-z_] = %llu", key, &v) != 2)
			continue;
		if (!strcmp(key, "block_time_ms"))
			ln->block_ms = v;
		else if (!strcmp(key, "port_offset"))
			ln->offset = v;
	}
	fclose(f);
	*found = 1;
	return 0;
}

int localnet_read_offset(const char *dir, uint64_t *offset)
{
	char path[4096];
	if (snprintf(path, sizeof path, "%s/localnet.conf", dir) >= (int)sizeof path)
		return -CN_ERANGE;
	FILE *f = fopen(path, "r");
	if (!f)
		return -CN_ENOTFOUND;
	char line[256];
	while (fgets(line, sizeof line, f)) {
		unsigned long long v;
		if (sscanf(line, " port_offset = %llu", &v) == 1)
			*offset = v;
	}
	fclose(f);
	return 0;
}

static int conf_write(const struct ln *ln)
{
	char path[PATH_MAX];
	if (path_of(path, sizeof path, ln, "localnet.conf", NULL))
		return -CN_ERANGE;
	FILE *f = fopen(path, "w");
	if (!f)
		return -CN_EIO;
	fprintf(f, "# written by `canon localnet up`; status and down read it\n"
	           "block_time_ms = %" PRIu64 "\nport_offset = %" PRIu64 "\n",
	        ln->block_ms, ln->offset);
	return fclose(f) ? -CN_EIO : 0;
}

/* ---- processes --------------------------------------------------------------- */

/* The pid in DIR/<name>/pid if that process is alive and is the one
 * running with DIR/<name> as its data directory; else 0. */
static pid_t proc_pid(const struct ln *ln, const struct localnet_proc *p)
{
	char path[PATH_MAX], datadir[PATH_MAX];
	if (path_of(path, sizeof path, ln, p->name, "pid") ||
	    path_of(datadir, sizeof datadir, ln, p->name, NULL))
		return 0;
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	long pid = 0;
	int ok = fscanf(f, "%ld", &pid) == 1;
	fclose(f);
	if (!ok || pid <= 1)
		return 0;
	/* A zombie no longer runs: its cmdline is empty, so the test below
	 * fails for it as for a stranger. */
	snprintf(path, sizeof path, "/proc/%ld/cmdline", pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	static char cmd[65536];
	ssize_t len = read(fd, cmd, sizeof cmd - 1);
	close(fd);
	if (len <= 0)
		return 0;
	cmd[len] = 0;
	size_t dl = strlen(datadir);
	for (ssize_t i = 0; i < len;) {
		size_t al = strlen(cmd + i);
		if (al == dl && !memcmp(cmd + i, datadir, dl))
			return (pid_t)pid;
		i += (ssize_t)al + 1;
	}
	return 0;
}

static void remove_pid(const struct ln *ln, const struct localnet_proc *p)
{
	char path[PATH_MAX];
	if (!path_of(path, sizeof path, ln, p->name, "pid"))
		unlink(path);
}

static void key_path(const struct ln *ln, uint32_t shard, unsigned k, char *out, size_t cap)
{
	struct bls_secret_key sk;
	struct bls_public_key pk;
	uint8_t pkb[BLS_PK_LEN];
	char name[KEYFILE_NAME_LEN + 1];
	chain_localnet_bls(shard, k, &sk);
	bls_sk_to_pk(&sk, &pk);
	bls_pk_to_bytes(&pk, pkb);
	bytes_wipe(&sk, sizeof sk);
	keyfile_name(pkb, name);
	snprintf(out, cap, "%s/keys/%s", ln->dir, name);
}

/* Writes what `up` needs before starting anything: the passphrase, the
 * committee's key files and the bootnode's host key. */
static int prepare(struct ln *ln, char *bootnode, size_t cap)
{
	char path[PATH_MAX], pass[65];
	int rc;
	if (path_of(path, sizeof path, ln, "keys", NULL) || (rc = mkdir_p(path, 0700))) {
		fprintf(stderr, "canon localnet: cannot create %s/keys\n", ln->dir);
		return -1;
	}
	path_of(path, sizeof path, ln, "keys", "pass");
	FILE *f = fopen(path, "r");
	if (f) {
		int ok = fgets(pass, sizeof pass, f) != NULL;
		fclose(f);
		if (!ok) {
			fprintf(stderr, "canon localnet: %s is empty\n", path);
			return -1;
		}
		pass[strcspn(pass, "\r\n")] = 0;
	} else {
		/* A fresh random passphrase: the key files are a local test
		 * network's, but they are encrypted as any node's so that the
		 * node's ordinary start-up path (and its KDF policy) is exercised. */
		uint8_t r[16];
		randombytes_buf(r, sizeof r);
		hex_encode(r, sizeof r, pass);
		int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0 || write(fd, pass, 32) != 32 || write(fd, "\n", 1) != 1) {
			fprintf(stderr, "canon localnet: cannot write %s: %s\n", path, strerror(errno));
			if (fd >= 0)
				close(fd);
			return -1;
		}
		close(fd);
	}
	uint32_t shards = 0;
	localnet_shards(&shards);
	char kdir[PATH_MAX];
	path_of(kdir, sizeof kdir, ln, "keys", NULL);
	for (uint32_t s = 0; s < shards; s++) {
		for (unsigned k = 0; k < CHAIN_LOCALNET_VALIDATORS; k++) {
			key_path(ln, s, k, path, sizeof path);
			if (access(path, F_OK) == 0)
				continue;
			struct bls_secret_key sk;
			chain_localnet_bls(s, k, &sk);
			rc = keyfile_bls_save(kdir, &sk, pass, strlen(pass), &keyfile_kdf_interactive,
			                      NULL, 0, NULL);
			bytes_wipe(&sk, sizeof sk);
			if (rc) {
				fprintf(stderr, "canon localnet: cannot write key file %s: %s\n", path,
				        cn_strerror(rc));
				bytes_wipe(pass, sizeof pass);
				return -1;
			}
		}
	}
	bytes_wipe(pass, sizeof pass);

	char bdir[PATH_MAX];
	path_of(bdir, sizeof bdir, ln, "boot", NULL);
	if (net_identity_path(bdir, path, sizeof path)) {
		fprintf(stderr, "canon localnet: path too long\n");
		return -1;
	}
	struct net_identity id;
	rc = net_identity_load(&id, path);
	if (rc == -CN_ENOTFOUND || (rc && access(path, F_OK) != 0)) {
		if ((rc = net_identity_generate(&id)) == 0)
			rc = net_identity_save(&id, path);
	}
	if (rc) {
		fprintf(stderr, "canon localnet: bootnode host key %s: %s\n", path, cn_strerror(rc));
		net_identity_wipe(&id);
		return -1;
	}
	char hex[65];
	hex_encode(id.pk, 32, hex);
	net_identity_wipe(&id);
	snprintf(bootnode, cap, "%s@127.0.0.1:%u", hex, (unsigned)ln->procs[0].p2p_port);
	return 0;
}

#define MAX_ARGS 48

struct argv_buf {
	char *v[MAX_ARGS + 1];
	char store[MAX_ARGS][PATH_MAX];
	int n;
};

static void arg(struct argv_buf *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void arg(struct argv_buf *a, const char *fmt, ...)
{
	if (a->n >= MAX_ARGS)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(a->store[a->n], PATH_MAX, fmt, ap);
	va_end(ap);
	a->v[a->n] = a->store[a->n];
	a->v[++a->n] = NULL;
}

static void build_args(const struct ln *ln, const struct localnet_proc *p, const char *bootnode,
                       struct argv_buf *a)
{
	char dur[32];
	cn_flags_format_duration_ms(ln->block_ms, dur, sizeof dur);
	a->n = 0;
	arg(a, "%s", ln->exe);
	if (p->kind == LOCALNET_BOOT) {
		arg(a, "bootnode");
		arg(a, "--datadir");
		arg(a, "%s/%s", ln->dir, p->name);
		arg(a, "--p2p.ip");
		arg(a, "127.0.0.1");
		arg(a, "--p2p.port");
		arg(a, "%u", (unsigned)p->p2p_port);
		return;
	}
	arg(a, "node");
	arg(a, "--network");
	arg(a, "localnet");
	arg(a, "--run");
	arg(a, p->kind == LOCALNET_VALIDATOR ? "validator" : "explorer");
	arg(a, "--datadir");
	arg(a, "%s/%s", ln->dir, p->name);
	arg(a, "--run.shard");
	arg(a, "%u", (unsigned)p->shard);
	arg(a, "--p2p.ip");
	arg(a, "127.0.0.1");
	arg(a, "--p2p.port");
	arg(a, "%u", (unsigned)p->p2p_port);
	arg(a, "--bootnodes");
	arg(a, "%s", bootnode);
	arg(a, "--prometheus.port");
	arg(a, "%u", (unsigned)p->prom_port);
	arg(a, "--block-time");
	arg(a, "%s", dur);
	if (p->kind == LOCALNET_VALIDATOR) {
		unsigned keys[2];
		size_t nk = proc_keys(p->index, keys);
		char list[2 * PATH_MAX + 2] = "";
		for (size_t k = 0; k < nk; k++) {
			char kp[PATH_MAX];
			key_path(ln, p->shard, keys[k], kp, sizeof kp);
			if (k)
				strcat(list, ",");
			strcat(list, kp);
		}
		arg(a, "--bls.keys");
		arg(a, "%s", list);
		arg(a, "--bls.pass.file");
		arg(a, "%s/keys/pass", ln->dir);
	} else {
		arg(a, "--http");
		arg(a, "--http.ip");
		arg(a, "127.0.0.1");
		arg(a, "--http.port");
		arg(a, "%u", (unsigned)p->http_port);
		arg(a, "--ws.port");
		arg(a, "%u", (unsigned)p->ws_port);
	}
}

/* Starts one process detached: its own session (a Ctrl-C in the terminal
 * that ran `up` does not reach it), stdin from /dev/null, output appended to
 * its log. Returns its pid, or -1. */
static pid_t spawn(const struct ln *ln, const struct localnet_proc *p, const char *bootnode)
{
	char dir[PATH_MAX], log[PATH_MAX], pidf[PATH_MAX];
	if (path_of(dir, sizeof dir, ln, p->name, NULL) || mkdir_p(dir, 0700) ||
	    path_of(log, sizeof log, ln, p->name, "node.log") ||
	    path_of(pidf, sizeof pidf, ln, p->name, "pid"))
		return -1;
	static struct argv_buf a;
	build_args(ln, p, bootnode, &a);
	int lfd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (lfd < 0) {
		fprintf(stderr, "canon localnet: cannot open %s: %s\n", log, strerror(errno));
		return -1;
	}
	/* The command line heads each run's log, so a process can be rerun
	 * by hand under a debugger. */
	dprintf(lfd, "# %s:", p->name);
	for (int i = 0; i < a.n; i++)
		dprintf(lfd, " %s", a.v[i]);
	dprintf(lfd, "\n");
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		close(lfd);
		return -1;
	}
	if (pid == 0) {
		setsid();
		int nul = open("/dev/null", O_RDONLY);
		if (nul >= 0)
			dup2(nul, 0);
		dup2(lfd, 1);
		dup2(lfd, 2);
		/* Nothing else of ours (a caller's pipe, say) stays open in a
		 * process that outlives us. */
		for (int fd = 3; fd < 1024; fd++)
			close(fd);
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGPIPE, SIG_DFL);
		execv(a.v[0], a.v);
		dprintf(2, "canon localnet: exec %s: %s\n", a.v[0], strerror(errno));
		_exit(127);
	}
	close(lfd);
	FILE *f = fopen(pidf, "w");
	if (!f || fprintf(f, "%ld\n", (long)pid) < 0 || fclose(f)) {
		fprintf(stderr, "canon localnet: cannot write %s\n", pidf);
		kill(pid, SIGKILL);
		return -1;
	}
	return pid;
}

static void log_tail(const struct ln *ln, const struct localnet_proc *p, int lines)
{
	char log[PATH_MAX];
	if (path_of(log, sizeof log, ln, p->name, "node.log"))
		return;
	FILE *f = fopen(log, "r");
	if (!f)
		return;
	static char ring[64][512];
	int n = 0;
	while (fgets(ring[n % 64], sizeof ring[0], f))
		n++;
	fclose(f);
	if (lines > 64)
		lines = 64;
	int from = n > lines ? n - lines : 0;
	fprintf(stderr, "--- last lines of %s ---\n", log);
	for (int i = from; i < n; i++)
		fputs(ring[i % 64], stderr);
}

/* ---- /status ---------------------------------------------------------------- */

int localnet_fetch_status(uint16_t port, struct localnet_status *st, int timeout_ms)
{
	memset(st, 0, sizeof *st);
	int http;
	char *body;
	size_t len;
	int rc = httpc_get("127.0.0.1", port, "/status", timeout_ms, &http, &body, &len);
	if (rc)
		return rc;
	json_error_t jerr;
	json_t *j = http == 200 ? json_loadb(body, len, 0, &jerr) : NULL;
	free(body);
	if (!j || !json_is_object(j)) {
		json_decref(j);
		return -CN_EPARSE;
	}
	json_t *v;
	if ((v = json_object_get(j, "shard")) && json_is_integer(v))
		st->shard = (uint32_t)json_integer_value(v);
	if ((v = json_object_get(j, "height")) && json_is_integer(v))
		st->height = (uint64_t)json_integer_value(v);
	if ((v = json_object_get(j, "view")) && json_is_integer(v))
		st->view = (uint64_t)json_integer_value(v);
	if ((v = json_object_get(j, "last_final_ms")) && json_is_integer(v))
		st->last_final_ms = (uint64_t)json_integer_value(v);
	if ((v = json_object_get(j, "peers")) && json_is_integer(v))
		st->peers = (uint64_t)json_integer_value(v);
	if ((v = json_object_get(j, "pool_pending")) && json_is_integer(v))
		st->pool_pending = (uint64_t)json_integer_value(v);
	if ((v = json_object_get(j, "pid")) && json_is_integer(v))
		st->pid = (long)json_integer_value(v);
	st->viewchange = json_is_true(json_object_get(j, "viewchange"));
	if ((v = json_object_get(j, "role")) && json_is_string(v))
		snprintf(st->role, sizeof st->role, "%s", json_string_value(v));
	if ((v = json_object_get(j, "head")) && json_is_string(v))
		snprintf(st->head, sizeof st->head, "%s", json_string_value(v));
	if ((v = json_object_get(j, "state_root")) && json_is_string(v))
		snprintf(st->state_root, sizeof st->state_root, "%s", json_string_value(v));
	if ((v = json_object_get(j, "leader")) && json_is_string(v))
		snprintf(st->leader, sizeof st->leader, "%s", json_string_value(v));
	json_decref(j);
	return 0;
}

/* "0x8a1f…93c2" from a long hex key. */
static void short_key(const char *k, char *out, size_t cap)
{
	size_t n = strlen(k);
	if (n <= 14)
		snprintf(out, cap, "%s", n ? k : "-");
	else
		snprintf(out, cap, "%.6s..%s", k, k + n - 4);
}

/* ---- commands ------------------------------------------------------------------ */

static void print_accounts(void)
{
	printf("funded accounts (the same on every shard; 10^10 ONE each):\n");
	printf("  %-2s  %-42s  %-42s  %s\n", "#", "address", "one1 address", "private key");
	for (unsigned i = 0; i < CHAIN_LOCALNET_ACCOUNTS; i++) {
		uint8_t sk[32], addr[20];
		char hex[ADDR_HEX_LEN + 1], one[BECH32_ONE_ADDR_LEN + 1], skh[65];
		if (chain_localnet_account(i, sk, addr))
			continue;
		addr_to_hex(addr, hex);
		bech32_one_encode(addr, one);
		hex_encode(sk, 32, skh);
		bytes_wipe(sk, sizeof sk);
		printf("  %-2u  %s  %s  0x%s\n", i, hex, one, skh);
	}
}

static void print_endpoints(const struct ln *ln)
{
	const char *first_addr = NULL;
	uint16_t first_port = 0;
	static char a0[ADDR_HEX_LEN + 1];
	uint8_t sk[32], addr[20];
	if (!chain_localnet_account(0, sk, addr)) {
		addr_to_hex(addr, a0);
		first_addr = a0;
	}
	bytes_wipe(sk, sizeof sk);
	for (size_t i = 0; i < ln->nprocs; i++) {
		const struct localnet_proc *p = &ln->procs[i];
		if (p->kind != LOCALNET_RPC)
			continue;
		if (!first_port)
			first_port = p->http_port;
		printf("shard %u%s: RPC http://127.0.0.1:%u  WS ws://127.0.0.1:%u  status "
		       "http://127.0.0.1:%u/status\n",
		       (unsigned)p->shard, p->shard == 0 ? " (beacon)" : "", (unsigned)p->http_port,
		       (unsigned)p->ws_port, (unsigned)p->prom_port);
	}
	print_accounts();
	if (first_addr)
		printf("try: curl -s -H 'content-type: application/json' -d "
		       "'{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_getBalance\",\"params\":[\"%s\","
		       "\"latest\"]}' http://127.0.0.1:%u\n",
		       first_addr, (unsigned)first_port);
}

static int stop_all(struct ln *ln, uint64_t timeout_ms, int quiet);

static int cmd_up(struct ln *ln, uint64_t wait_ms)
{
	pid_t running[LOCALNET_MAX_PROCS] = {0};
	size_t nrun = 0;
	for (size_t i = 0; i < ln->nprocs; i++)
		if ((running[i] = proc_pid(ln, &ln->procs[i])))
			nrun++;
	if (nrun == ln->nprocs) {
		printf("localnet in %s is already running (%zu processes)\n", ln->dir, nrun);
		print_endpoints(ln);
		return 0;
	}
	char bootnode[256];
	if (prepare(ln, bootnode, sizeof bootnode))
		return 1;
	if (conf_write(ln)) {
		fprintf(stderr, "canon localnet: cannot write %s/localnet.conf\n", ln->dir);
		return 1;
	}
	/* Ours to reap: those started now (the others belong to an earlier up). */
	pid_t started[LOCALNET_MAX_PROCS] = {0};
	for (size_t i = 0; i < ln->nprocs; i++) {
		if (running[i])
			continue;
		if ((started[i] = spawn(ln, &ln->procs[i], bootnode)) < 0) {
			fprintf(stderr, "canon localnet: cannot start %s\n", ln->procs[i].name);
			stop_all(ln, 5000, 1);
			return 1;
		}
		/* The bootnode first, so that the others find it at once. */
		if (i == 0)
			sleep_ms(200);
	}
	char dur[32];
	cn_flags_format_duration_ms(ln->block_ms, dur, sizeof dur);
	printf("localnet: %zu processes %s in %s (%s blocks, port offset %" PRIu64
	       "); waiting for every shard to finalize a block...\n",
	       ln->nprocs - nrun, nrun ? "restarted" : "started", ln->dir, dur, ln->offset);
	fflush(stdout);
	uint64_t deadline = now_mono_ms() + wait_ms;
	for (;;) {
		for (size_t i = 0; i < ln->nprocs; i++) {
			int ws;
			if (started[i] > 0 && waitpid(started[i], &ws, WNOHANG) == started[i]) {
				fprintf(stderr, "canon localnet: %s exited (%s %d) during start-up\n",
				        ln->procs[i].name, WIFEXITED(ws) ? "status" : "signal",
				        WIFEXITED(ws) ? WEXITSTATUS(ws) : WTERMSIG(ws));
				log_tail(ln, &ln->procs[i], 20);
				/* A fresh start that failed leaves nothing behind; a
				 * restart of some processes leaves the others running. */
				if (!nrun) {
					fprintf(stderr, "canon localnet: stopping the others\n");
					stop_all(ln, 10000, 1);
				}
				return 1;
			}
		}
		size_t ready = 0, shards = 0;
		for (size_t i = 0; i < ln->nprocs; i++) {
			const struct localnet_proc *p = &ln->procs[i];
			if (p->kind != LOCALNET_RPC)
				continue;
			shards++;
			struct localnet_status st;
			if (!localnet_fetch_status(p->prom_port, &st, 1000) && st.height >= 1)
				ready++;
		}
		if (ready == shards)
			break;
		if (now_mono_ms() >= deadline) {
			fprintf(stderr,
			        "canon localnet: only %zu of %zu shards finalized a block within %" PRIu64
			        " s; the processes keep running (logs: %s/<name>/node.log; "
			        "stop them with `canon localnet down --dir %s`)\n",
			        ready, shards, wait_ms / 1000, ln->dir, ln->dir);
			return 1;
		}
		sleep_ms(250);
	}
	printf("localnet up: every shard finalized a block\n");
	print_endpoints(ln);
	printf("follow it with `canon localnet status --dir %s`; stop it with `canon localnet down "
	       "--dir %s`\n",
	       ln->dir, ln->dir);
	return 0;
}

static int stop_all(struct ln *ln, uint64_t timeout_ms, int quiet)
{
	pid_t pids[LOCALNET_MAX_PROCS] = {0};
	size_t n = 0;
	/* Reverse order: the bootnode last, so that the nodes do not spend
	 * their last moments looking for it. */
	for (size_t i = ln->nprocs; i-- > 0;) {
		if ((pids[i] = proc_pid(ln, &ln->procs[i]))) {
			kill(pids[i], SIGTERM);
			n++;
		} else {
			remove_pid(ln, &ln->procs[i]);
		}
	}
	uint64_t deadline = now_mono_ms() + timeout_ms;
	size_t left = n, killed = 0;
	while (left) {
		left = 0;
		for (size_t i = 0; i < ln->nprocs; i++) {
			if (!pids[i])
				continue;
			/* A child of ours (up stopping after a failure) must be reaped
			 * or it lingers as a zombie. */
			waitpid(pids[i], NULL, WNOHANG);
			if (proc_pid(ln, &ln->procs[i]))
				left++;
		}
		if (!left)
			break;
		if (now_mono_ms() >= deadline) {
			for (size_t i = 0; i < ln->nprocs; i++) {
				if (pids[i] && proc_pid(ln, &ln->procs[i])) {
					if (!quiet)
						fprintf(stderr, "canon localnet: %s (pid %ld) ignored SIGTERM; killing it\n",
						        ln->procs[i].name, (long)pids[i]);
					kill(pids[i], SIGKILL);
					killed++;
				}
			}
			uint64_t hard = now_mono_ms() + 5000;
			while (now_mono_ms() < hard) {
				size_t still = 0;
				for (size_t i = 0; i < ln->nprocs; i++) {
					if (pids[i]) {
						waitpid(pids[i], NULL, WNOHANG);
						still += proc_pid(ln, &ln->procs[i]) != 0;
					}
				}
				if (!still)
					break;
				sleep_ms(50);
			}
			break;
		}
		sleep_ms(50);
	}
	for (size_t i = 0; i < ln->nprocs; i++)
		if (!proc_pid(ln, &ln->procs[i]))
			remove_pid(ln, &ln->procs[i]);
	if (!quiet)
		printf("localnet: stopped %zu processes%s (data kept in %s)\n", n,
		       killed ? " (some with SIGKILL)" : "", ln->dir);
	return 0;
}

static int cmd_status(struct ln *ln)
{
	uint64_t now = now_wall_ms();
	uint32_t cur = UINT32_MAX;
	for (size_t i = 0; i < ln->nprocs; i++) {
		const struct localnet_proc *p = &ln->procs[i];
		pid_t pid = proc_pid(ln, p);
		if (p->kind == LOCALNET_BOOT) {
			printf("bootnode  127.0.0.1:%u  %s\n", (unsigned)p->p2p_port, pid ? "up" : "down");
			continue;
		}
		if (p->shard != cur) {
			cur = p->shard;
			printf("\nshard %u%s\n  %-7s %-8s %8s %9s %6s %-16s %5s %6s\n", (unsigned)cur,
			       cur == 0 ? " (beacon)" : "", "node", "pid", "height", "final", "view",
			       "leader", "peers", "pool");
		}
		if (!pid) {
			printf("  %-7s %-8s\n", p->name, "down");
			continue;
		}
		struct localnet_status st;
		if (localnet_fetch_status(p->prom_port, &st, 1000)) {
			printf("  %-7s %-8ld (no answer on :%u/status)\n", p->name, (long)pid,
			       (unsigned)p->prom_port);
			continue;
		}
		char ago[32], lk[32];
		if (!st.last_final_ms)
			snprintf(ago, sizeof ago, "-");
		else if (now >= st.last_final_ms)
			snprintf(ago, sizeof ago, "%.1fs ago", (double)(now - st.last_final_ms) / 1000.0);
		else
			snprintf(ago, sizeof ago, "0.0s ago");
		short_key(st.leader, lk, sizeof lk);
		printf("  %-7s %-8ld %8" PRIu64 " %9s %5" PRIu64 "%s %-16s %5" PRIu64 " %6" PRIu64 "\n",
		       p->name, (long)pid, st.height, ago, st.view, st.viewchange ? "*" : " ", lk,
		       st.peers, st.pool_pending);
	}
	printf("(final: time since the last finalized block; * after the view: view change under way)\n");
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: canon localnet up|down|status [options]\n\n"
	        "  up      create DIR if needed (keys, data) and start a bootnode, 4 validator\n"
	        "          processes and one RPC node per shard on 127.0.0.1; wait until every\n"
	        "          shard finalized a block; print the RPC endpoints and funded accounts.\n"
	        "          Processes already running are left alone; data is kept across runs.\n"
	        "  down    stop every process (SIGTERM, then SIGKILL after --timeout); data stays\n"
	        "  status  one line per node from its /status: height, time since the last final\n"
	        "          block, view, leader key, peers, pool\n"
	        "  inject  (tests) join a shard as a hostile peer: random and replayed consensus\n"
	        "          messages, random datagrams (canon localnet inject --help)\n\n"
	        "options:\n"
	        "  --dir DIR          data directory (default ./localnet)\n"
	        "  --block-time DUR   block time, >= 500ms (up; default 2s, or what DIR was last run with)\n"
	        "  --port-offset N    added to every port (up; default 0, or what DIR was last run with)\n"
	        "  --wait DUR         how long up waits for the first final block (default 60s)\n"
	        "  --timeout DUR      how long down waits after SIGTERM (default 15s)\n\n"
	        "Ports: bootnode 19000; shard S validator I: p2p 19100+10S+I, status/metrics\n"
	        "19300+10S+I; shard S RPC node: p2p 19109+10S, status 19309+10S, HTTP 9500+2S,\n"
	        "WS 9800+2S (each plus the offset). Logs: DIR/<name>/node.log, names boot, sSvI, sSrpc.\n");
}

int cli_localnet(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	const char *cmd = argv[1];
	if (!strcmp(cmd, "inject"))
		return localnet_inject(argc - 1, argv + 1);
	if (strcmp(cmd, "up") && strcmp(cmd, "down") && strcmp(cmd, "status")) {
		fprintf(stderr, "canon localnet: unknown command '%s' (see canon localnet --help)\n", cmd);
		return 2;
	}
	const char *dir = "localnet";
	uint64_t block_ms = 2000, offset = 0, wait_ms = 60000, timeout_ms = 15000;
	struct cn_flag flags[] = {
		{"dir", CN_FLAG_STRING, &dir, "DIR", "data directory", 0},
		{"block-time", CN_FLAG_DURATION, &block_ms, "DUR", "block time", 0},
		{"port-offset", CN_FLAG_UINT, &offset, "N", "added to every port", 0},
		{"wait", CN_FLAG_DURATION, &wait_ms, "DUR", "up: wait for the first final block", 0},
		{"timeout", CN_FLAG_DURATION, &timeout_ms, "DUR", "down: wait after SIGTERM", 0},
		{NULL, 0, NULL, NULL, NULL, 0},
	};
	struct cn_flags_result res;
	char err[256];
	if (cn_flags_parse(flags, argc - 2, argv + 2, &res, err, sizeof err)) {
		fprintf(stderr, "canon localnet %s: %s\n", cmd, err);
		return 2;
	}
	int help = res.help;
	size_t npos = res.n_positional;
	cn_flags_result_free(&res);
	if (help) {
		usage(stdout);
		return 0;
	}
	if (npos) {
		fprintf(stderr, "canon localnet %s: unexpected argument (see --help)\n", cmd);
		return 2;
	}
	int bt_set = flags[1].set, off_set = flags[2].set;
	if (bt_set && block_ms < 500) {
		fprintf(stderr, "canon localnet: --block-time must be at least 500ms\n");
		return 2;
	}
	if (offset > 65535 - 20000) {
		fprintf(stderr, "canon localnet: --port-offset %" PRIu64 " puts ports above 65535\n", offset);
		return 2;
	}
	static struct ln ln;
	memset(&ln, 0, sizeof ln);
	ln.block_ms = 2000;
	if (!strcmp(cmd, "up") && mkdir_p(dir, 0700)) {
		fprintf(stderr, "canon localnet: cannot create %s: %s\n", dir, strerror(errno));
		return 1;
	}
	char real[PATH_MAX];
	if (!realpath(dir, real)) {
		fprintf(stderr, "canon localnet: %s: %s%s\n", dir, strerror(errno),
		        errno == ENOENT ? " (no localnet there; start one with `canon localnet up`)" : "");
		return 1;
	}
	if (strlen(real) >= sizeof ln.dir) {
		fprintf(stderr, "canon localnet: %s: path too long\n", real);
		return 2;
	}
	memcpy(ln.dir, real, strlen(real) + 1);
	int found;
	if (conf_read(&ln, &found)) {
		fprintf(stderr, "canon localnet: cannot read %s/localnet.conf\n", ln.dir);
		return 1;
	}
	if (!found && strcmp(cmd, "up")) {
		fprintf(stderr, "canon localnet: %s holds no localnet (no localnet.conf)\n", ln.dir);
		return 1;
	}
	uint64_t old_off = ln.offset, old_bt = ln.block_ms;
	if (bt_set)
		ln.block_ms = block_ms;
	if (off_set)
		ln.offset = offset;
	if (localnet_procs((uint32_t)ln.offset, ln.procs, LOCALNET_MAX_PROCS, &ln.nprocs)) {
		fprintf(stderr, "canon localnet: bad port offset\n");
		return 2;
	}
	if (!strcmp(cmd, "up")) {
		ssize_t n = readlink("/proc/self/exe", ln.exe, sizeof ln.exe - 1);
		if (n <= 0) {
			fprintf(stderr, "canon localnet: cannot find my own executable\n");
			return 1;
		}
		ln.exe[n] = 0;
		/* Changing ports or the block time under running processes would
		 * leave a network split between two settings. */
		if (found && (old_off != ln.offset || old_bt != ln.block_ms)) {
			struct ln old = ln;
			old.offset = old_off;
			old.block_ms = old_bt;
			localnet_procs((uint32_t)old_off, old.procs, LOCALNET_MAX_PROCS, &old.nprocs);
			for (size_t i = 0; i < old.nprocs; i++) {
				if (proc_pid(&old, &old.procs[i])) {
					fprintf(stderr,
					        "canon localnet: %s runs with other settings (port offset %" PRIu64
					        ", block time %" PRIu64 " ms); run `canon localnet down` first\n",
					        ln.dir, old_off, old_bt);
					return 1;
				}
			}
		}
		return cmd_up(&ln, wait_ms);
	}
	if (!strcmp(cmd, "down"))
		return stop_all(&ln, timeout_ms, 0);
	return cmd_status(&ln);
}
