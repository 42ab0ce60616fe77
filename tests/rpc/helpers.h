/* helpers.h — a small localnet chain and a raw-socket HTTP client for the
 * rpc tests. */
#ifndef CANON_TESTS_RPC_HELPERS_H
#define CANON_TESTS_RPC_HELPERS_H

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <jansson.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/err.h"
#include "chain/chain.h"
#include "chain/chain_int.h"
#include "core/core.h"
#include "rpc/rpc.h"
#include "store/store.h"

struct tnode {
	char dir[256];
	struct store *st;
	struct chain *c;
	const struct netparams *np;
	struct rpc_handler *h;
};

/* A localnet shard-0 chain of nblocks blocks of ntxs transfers each. */
static inline void tnode_new(struct tnode *t, unsigned nblocks, unsigned ntxs)
{
	char d[] = "/tmp/canon-rpc-XXXXXX";
	struct chain_genesis g;
	uint8_t h[32];
	struct chain_why why;
	cr_assert_not_null(mkdtemp(d));
	snprintf(t->dir, sizeof t->dir, "%s", d);
	cr_assert_eq(store_open_chain(&t->st, t->dir, "localnet", 0, NULL), 0);
	cr_assert_eq(chain_genesis_default(&g, "localnet", 0), 0);
	cr_assert_eq(chain_init(t->st, &g, h), 0);
	chain_genesis_free(&g);
	cr_assert_eq(netparams_get("localnet", &t->np), 0);
	cr_assert_eq(chain_open(&t->c, t->st, t->np, 0), 0);
	if (nblocks)
		cr_assert_eq(chain_gen_blocks(t->c, nblocks, ntxs, 0, 7, &why), 0, "%s", why.msg);
	t->h = NULL;
}

static inline void tnode_free(struct tnode *t)
{
	rpc_handler_free(t->h);
	chain_close(t->c);
	store_close(t->st);
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", t->dir);
	if (system(cmd)) {
	}
}

/* Calls the handler directly; returns the parsed response (NULL when the
 * response is empty). */
static inline json_t *tcall_raw(struct rpc_handler *h, const char *body)
{
	struct rpc_jw w;
	rpc_jw_init(&w);
	cr_assert_eq(rpc_handle(h, body, strlen(body), &w), 0);
	json_t *j = NULL;
	if (w.len) {
		json_error_t e;
		j = json_loadb(w.p, w.len, 0, &e);
		cr_assert_not_null(j, "bad response JSON: %s in %s", e.text, w.p);
	}
	rpc_jw_free(&w);
	return j;
}

/* The raw response text of one call (caller frees). */
static inline char *tcall_text(struct rpc_handler *h, const char *method, const char *params)
{
	char *body;
	struct rpc_jw w;
	cr_assert(asprintf(&body, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"%s\",\"params\":%s}",
	                   method, params) > 0);
	rpc_jw_init(&w);
	cr_assert_eq(rpc_handle(h, body, strlen(body), &w), 0);
	free(body);
	char *s = strdup(w.p ? w.p : "");
	rpc_jw_free(&w);
	return s;
}

/* One call with params (JSON text); returns the parsed response. */
static inline json_t *tcall(struct rpc_handler *h, const char *method, const char *params)
{
	char *body;
	cr_assert(asprintf(&body, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"%s\",\"params\":%s}",
	                   method, params) > 0);
	json_t *j = tcall_raw(h, body);
	free(body);
	return j;
}

static inline json_int_t terr_code(json_t *resp)
{
	json_t *e = json_object_get(resp, "error");
	cr_assert_not_null(e, "expected an error");
	return json_integer_value(json_object_get(e, "code"));
}

static inline const char *terr_msg(json_t *resp)
{
	return json_string_value(json_object_get(json_object_get(resp, "error"), "message"));
}

static inline json_t *tresult(json_t *resp)
{
	json_t *r = json_object_get(resp, "result");
	cr_assert_not_null(r, "expected a result, got %s",
	                   terr_msg(resp) ? terr_msg(resp) : "nothing");
	return r;
}

/* ---- HTTP over a raw socket --------------------------------------------- */

struct thttp {
	int status;
	char *body;
	size_t body_len;
	char *head;
};

static inline void thttp_free(struct thttp *r)
{
	free(r->body);
	free(r->head);
	memset(r, 0, sizeof *r);
}

/* Sends one request from source address src (e.g. "127.0.0.2") and reads
 * the whole response (Connection: close). extra_headers may be NULL. */
static inline int thttp_do(uint16_t port, const char *src, const char *method, const char *path,
                           const char *extra_headers, const char *body, size_t body_len,
                           struct thttp *out)
{
	memset(out, 0, sizeof *out);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		return -1;
	struct sockaddr_in sa = {.sin_family = AF_INET};
	if (src) {
		inet_pton(AF_INET, src, &sa.sin_addr);
		if (bind(fd, (struct sockaddr *)&sa, sizeof sa)) {
			close(fd);
			return -1;
		}
	}
	sa.sin_port = htons(port);
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa)) {
		close(fd);
		return -1;
	}
	char *req;
	int n = asprintf(&req,
	                 "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
	                 "Content-Length: %zu\r\nConnection: close\r\n%s\r\n",
	                 method, path, body_len, extra_headers ? extra_headers : "");
	if (n < 0) {
		close(fd);
		return -1;
	}
	int ok = write(fd, req, (size_t)n) == n;
	free(req);
	for (size_t off = 0; ok && off < body_len;) {
		ssize_t k = write(fd, body + off, body_len - off);
		if (k <= 0)
			break;    /* the server may answer 413 and close early */
		off += (size_t)k;
	}
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap);
	for (;;) {
		if (len + 1024 > cap)
			buf = realloc(buf, cap *= 2);
		ssize_t k = read(fd, buf + len, cap - len - 1);
		if (k <= 0)
			break;
		len += (size_t)k;
	}
	close(fd);
	buf[len] = 0;
	char *sep = strstr(buf, "\r\n\r\n");
	if (!sep || sscanf(buf, "HTTP/1.%*d %d", &out->status) != 1) {
		free(buf);
		return -1;
	}
	out->head = strndup(buf, (size_t)(sep - buf));
	out->body_len = len - (size_t)(sep + 4 - buf);
	out->body = strndup(sep + 4, out->body_len);
	free(buf);
	return 0;
}

static inline int thttp_post(uint16_t port, const char *src, const char *body, struct thttp *out)
{
	return thttp_do(port, src, "POST", "/", NULL, body, strlen(body), out);
}

/* Gives tx 0 of block `number` logs [(a, [t0, t1])] and tx 1 [(a2, [t1])];
 * the header bloom is rewritten in place (under the old hash key) unless
 * stale_bloom, which leaves the old, empty bloom to prove blocks are skipped
 * by it. */
static inline void tnode_add_logs(struct tnode *N, uint64_t number, const uint8_t a[20],
                                  const uint8_t t0[32], const uint8_t t1[32],
                                  const uint8_t a2[20], int stale_bloom)
{
	uint8_t bh[32];
	struct store_txn *t;
	struct receipt *r;
	size_t nr;
	cr_assert_eq(chain_hash_at(N->c, number, bh), 0);
	cr_assert_eq(store_begin(N->st, 1, &t), 0);
	cr_assert_eq(chain_txn_receipts(t, bh, &r, &nr), 0);
	cr_assert_geq(nr, 2);
	struct core_log *l0 = calloc(1, sizeof *l0), *l1 = calloc(1, sizeof *l1);
	memcpy(l0->addr, a, 20);
	l0->ntopics = 2;
	l0->topics = malloc(2 * 32);
	memcpy(l0->topics[0], t0, 32);
	memcpy(l0->topics[1], t1, 32);
	l0->data = malloc(3);
	memcpy(l0->data, "\x01\x02\x03", 3);
	l0->data_len = 3;
	memcpy(l1->addr, a2, 20);
	l1->ntopics = 1;
	l1->topics = malloc(32);
	memcpy(l1->topics[0], t1, 32);
	r[0].logs = l0;
	r[0].nlogs = 1;
	r[1].logs = l1;
	r[1].nlogs = 1;
	uint8_t bloom[CORE_BLOOM_LEN] = {0};
	for (size_t i = 0; i < nr; i++) {
		memset(r[i].bloom, 0, CORE_BLOOM_LEN);
		bloom_add_logs(r[i].bloom, r[i].logs, r[i].nlogs);
		for (size_t j = 0; j < CORE_BLOOM_LEN; j++)
			bloom[j] |= r[i].bloom[j];
	}
	uint8_t *p;
	size_t len;
	cr_assert_eq(chain_receipts_encode(r, nr, &p, &len), 0);
	cr_assert_eq(store_put(t, STORE_RECEIPTS, bh, 32, p, len), 0);
	free(p);
	for (size_t i = 0; i < nr; i++)
		receipt_free(&r[i]);
	free(r);
	if (!stale_bloom) {
		const uint8_t *hv;
		size_t hl;
		struct header h;
		cr_assert_eq(store_get(t, STORE_HEADERS, bh, 32, &hv, &hl), 0);
		cr_assert_eq(header_decode(&h, hv, hl), 0);
		memcpy(h.bloom, bloom, CORE_BLOOM_LEN);
		cr_assert_eq(header_encode(&h, &p, &len), 0);
		cr_assert_eq(store_put(t, STORE_HEADERS, bh, 32, p, len), 0);
		free(p);
		header_free(&h);
	}
	cr_assert_eq(store_commit(t), 0);
}

#endif
