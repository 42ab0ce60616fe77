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

#endif
