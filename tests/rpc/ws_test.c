/* WebSocket: handshake, JSON-RPC over frames, eth_subscribe newHeads as
 * blocks are inserted, newPendingTransactions fed through
 * rpc_server_pending_tx, and hostile frames closed with the right status. */
#include <sys/time.h>

#include "helpers.h"
#include "base/bytes.h"
#include "rpc/ws_int.h"

static struct tnode N;
static struct rpc_server *S;

static void setup(void)
{
	tnode_new(&N, 2, 2);
	struct rpc_server_config cfg = {.limits = {.max_body = 4096}, .ws_listen = 1};
	cr_assert_eq(rpc_server_start(&S, N.st, N.np, 0, &cfg, NULL), 0);
}

static void teardown(void)
{
	rpc_server_stop(S);
	tnode_free(&N);
}

TestSuite(rpc_ws, .init = setup, .fini = teardown);

/* Connects and upgrades; returns the socket or -1. status gets the HTTP status. */
static uint16_t ws_port_used;   /* 0: the HTTP port */

static int ws_open(const char *version, int *status)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	uint16_t port = ws_port_used ? ws_port_used : rpc_server_port(S);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	struct timeval tv = {.tv_sec = 5};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	char req[512];
	int n = snprintf(req, sizeof req,
	                 "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
	                 "Connection: keep-alive, Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
	                 "Sec-WebSocket-Version: %s\r\n\r\n", version);
	cr_assert_eq(write(fd, req, (size_t)n), n);
	char buf[1024];
	size_t len = 0;
	while (len < sizeof buf - 1) {
		ssize_t k = read(fd, buf + len, 1);
		if (k <= 0)
			break;
		len++;
		if (len >= 4 && !memcmp(buf + len - 4, "\r\n\r\n", 4))
			break;
	}
	buf[len] = 0;
	cr_assert_eq(sscanf(buf, "HTTP/1.1 %d", status), 1, "%s", buf);
	if (*status == 101)
		cr_assert(strstr(buf, "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo="), "%s", buf);
	return fd;
}

static void ws_send(int fd, int first_byte, const void *p, uint64_t n, int len_form)
{
	uint8_t h[14], mask[4] = {0x12, 0x34, 0x56, 0x78};
	size_t hl = 2;
	h[0] = (uint8_t)first_byte;
	if (len_form == 0 && n < 126) {
		h[1] = (uint8_t)(0x80 | n);
	} else if (len_form <= 1 && n <= 0xffff) {
		h[1] = 0x80 | 126;
		h[2] = (uint8_t)(n >> 8);
		h[3] = (uint8_t)n;
		hl = 4;
	} else {
		h[1] = 0x80 | 127;
		for (int i = 0; i < 8; i++)
			h[2 + i] = (uint8_t)(n >> (56 - 8 * i));
		hl = 10;
	}
	memcpy(h + hl, mask, 4);
	cr_assert_eq(write(fd, h, hl + 4), (ssize_t)(hl + 4));
	uint8_t *m = malloc(n + 1);
	for (uint64_t i = 0; i < n; i++)
		m[i] = ((const uint8_t *)p)[i] ^ mask[i & 3];
	if (n)
		cr_assert_eq(write(fd, m, n), (ssize_t)n);
	free(m);
}

static void ws_text(int fd, const char *s)
{
	ws_send(fd, 0x81, s, strlen(s), 0);
}

static int read_n(int fd, uint8_t *p, size_t n)
{
	while (n) {
		ssize_t k = read(fd, p, n);
		if (k <= 0)
			return -1;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

/* Reads one server frame; returns its opcode (payload NUL-terminated in a
 * malloc'd *out), or -1 on EOF/timeout. */
static int ws_recv(int fd, char **out, size_t *len)
{
	uint8_t h[2];
	if (read_n(fd, h, 2))
		return -1;
	cr_assert_eq(h[1] & 0x80, 0, "server frames are unmasked");
	uint64_t n = h[1] & 0x7f;
	if (n == 126) {
		uint8_t e[2];
		cr_assert_eq(read_n(fd, e, 2), 0);
		n = (uint64_t)e[0] << 8 | e[1];
	} else if (n == 127) {
		uint8_t e[8];
		cr_assert_eq(read_n(fd, e, 8), 0);
		n = 0;
		for (int i = 0; i < 8; i++)
			n = n << 8 | e[i];
	}
	*out = malloc(n + 1);
	cr_assert_eq(read_n(fd, (uint8_t *)*out, n), 0);
	(*out)[n] = 0;
	*len = n;
	return h[0] & 0x0f;
}

static unsigned expect_close(int fd)
{
	char *p;
	size_t n;
	int op = ws_recv(fd, &p, &n);
	cr_assert_eq(op, 8, "expected a close frame, got opcode %d", op);
	cr_assert_eq(n, 2);
	unsigned code = (unsigned)((uint8_t)p[0] << 8 | (uint8_t)p[1]);
	free(p);
	return code;
}

static json_t *ws_call(int fd, const char *body)
{
	char *p;
	size_t n;
	ws_text(fd, body);
	cr_assert_eq(ws_recv(fd, &p, &n), 1);
	json_error_t e;
	json_t *j = json_loads(p, 0, &e);
	cr_assert_not_null(j, "%s", p);
	free(p);
	return j;
}

Test(rpc_ws, accept_key_of_rfc6455)
{
	char out[29];
	rpc_ws_accept_key("dGhlIHNhbXBsZSBub25jZQ==", out);
	cr_assert_str_eq(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

/* This one goes to the separate WebSocket listener (Harmony's 9800). */
Test(rpc_ws, calls_fragments_ping_and_close)
{
	cr_assert_neq(rpc_server_ws_port(S), 0);
	cr_assert_neq(rpc_server_ws_port(S), rpc_server_port(S));
	ws_port_used = rpc_server_ws_port(S);
	int st, fd = ws_open("13", &st);
	cr_assert_eq(st, 101);
	json_t *r = ws_call(fd, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_blockNumber\"}");
	cr_assert_str_eq(json_string_value(tresult(r)), "0x2");
	json_decref(r);
	/* a message in three fragments with a ping in between */
	const char *a = "{\"jsonrpc\":\"2.0\",", *b = "\"id\":2,\"method\":", *c = "\"eth_chainId\"}";
	ws_send(fd, 0x01, a, strlen(a), 0);
	ws_send(fd, 0x00, b, strlen(b), 0);
	ws_send(fd, 0x89, "hi", 2, 0);
	char *p;
	size_t n;
	cr_assert_eq(ws_recv(fd, &p, &n), 0xA);
	cr_assert_str_eq(p, "hi");
	free(p);
	ws_send(fd, 0x80, c, strlen(c), 0);
	cr_assert_eq(ws_recv(fd, &p, &n), 1);
	cr_assert(strstr(p, "\"id\":2,\"result\":\"0x"), "%s", p);
	free(p);
	/* a 16-bit length */
	char big[300];
	snprintf(big, sizeof big, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"web3_sha3\",\"params\":[\"0x%0200d\"]}", 0);
	ws_send(fd, 0x81, big, strlen(big), 1);
	cr_assert_eq(ws_recv(fd, &p, &n), 1);
	cr_assert(strstr(p, "\"id\":3,\"result\":\"0x"), "%s", p);
	free(p);
	/* close handshake */
	ws_send(fd, 0x88, "\x03\xe8", 2, 0);
	cr_assert_eq(expect_close(fd), 1000);
	close(fd);
}

Test(rpc_ws, new_heads_subscription)
{
	int st, fd = ws_open("13", &st);
	cr_assert_eq(st, 101);
	json_t *r = ws_call(fd, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_subscribe\",\"params\":[\"newHeads\"]}");
	const char *id0 = json_string_value(tresult(r));
	cr_assert_eq(strlen(id0), 34);
	char id[40];
	snprintf(id, sizeof id, "%s", id0);
	json_decref(r);
	r = ws_call(fd, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"eth_subscribe\",\"params\":[\"syncing\"]}");
	cr_assert_eq(terr_code(r), RPC_E_SERVER);
	json_decref(r);

	/* two blocks arrive: two notifications in order, with the right hashes */
	struct chain_why why;
	cr_assert_eq(chain_gen_blocks(N.c, 2, 1, 0, 99, &why), 0, "%s", why.msg);
	for (uint64_t want = 3; want <= 4; want++) {
		char *p;
		size_t n;
		cr_assert_eq(ws_recv(fd, &p, &n), 1);
		json_t *j = json_loads(p, 0, NULL);
		cr_assert_not_null(j, "%s", p);
		cr_assert_str_eq(json_string_value(json_object_get(j, "method")), "eth_subscription");
		json_t *params = json_object_get(j, "params");
		cr_assert_str_eq(json_string_value(json_object_get(params, "subscription")), id);
		json_t *hd = json_object_get(params, "result");
		char num[8];
		snprintf(num, sizeof num, "0x%llx", (unsigned long long)want);
		cr_assert_str_eq(json_string_value(json_object_get(hd, "number")), num);
		uint8_t h[32];
		char hs[67] = "0x";
		cr_assert_eq(chain_hash_at(N.c, want, h), 0);
		hex_encode(h, 32, hs + 2);
		cr_assert_str_eq(json_string_value(json_object_get(hd, "hash")), hs);
		json_decref(j);
		free(p);
	}
	char body[200];
	snprintf(body, sizeof body,
	         "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"eth_unsubscribe\",\"params\":[\"%s\"]}", id);
	r = ws_call(fd, body);
	cr_assert(json_is_true(tresult(r)));
	json_decref(r);
	r = ws_call(fd, body);
	cr_assert(json_is_false(tresult(r)));
	json_decref(r);
	close(fd);

	/* over HTTP there are no subscriptions */
	struct thttp h;
	cr_assert_eq(thttp_post(rpc_server_port(S), NULL,
	                        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_subscribe\",\"params\":[\"newHeads\"]}", &h), 0);
	cr_assert(strstr(h.body, "notifications not supported"), "%s", h.body);
	thttp_free(&h);
}

Test(rpc_ws, hostile_frames_close_with_the_right_status)
{
	struct {
		int first;
		int masked;
		uint64_t len;
		int len_form;
		unsigned want;
	} cases[] = {
		{0xC1, 1, 2, 0, 1002},          /* RSV1 without an extension */
		{0x81, 0, 2, 0, 1002},          /* unmasked */
		{0x82, 1, 2, 0, 1003},          /* binary */
		{0x83, 1, 2, 0, 1002},          /* reserved opcode */
		{0x09, 1, 2, 0, 1002},          /* fragmented ping */
		{0x89, 1, 126, 1, 1002},        /* ping longer than 125 */
		{0x80, 1, 2, 0, 1002},          /* continuation without a start */
		{0x81, 1, 5000, 1, 1009},       /* above the 4096-byte limit */
		{0x81, 1, 1ull << 62, 2, 1009}, /* absurd 64-bit length */
		{0x81, 1, 1ull << 63, 2, 1009}, /* length with the top bit set */
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int st, fd = ws_open("13", &st);
		cr_assert_eq(st, 101);
		uint8_t h[14] = {(uint8_t)cases[i].first};
		size_t hl = 2;
		uint64_t n = cases[i].len;
		uint8_t mbit = cases[i].masked ? 0x80 : 0;
		if (cases[i].len_form == 0) {
			h[1] = (uint8_t)(mbit | n);
		} else if (cases[i].len_form == 1) {
			h[1] = mbit | 126;
			h[2] = (uint8_t)(n >> 8);
			h[3] = (uint8_t)n;
			hl = 4;
		} else {
			h[1] = mbit | 127;
			for (int k = 0; k < 8; k++)
				h[2 + k] = (uint8_t)(n >> (56 - 8 * k));
			hl = 10;
		}
		if (cases[i].masked)
			hl += 4;           /* a zero mask */
		cr_assert_eq(write(fd, h, hl), (ssize_t)hl);
		if (n <= 2)
			cr_assert_eq(write(fd, "{}", 2), 2);
		cr_assert_eq(expect_close(fd), cases[i].want, "case %zu", i);
		close(fd);
	}
	/* bad handshakes */
	int st, fd = ws_open("8", &st);
	cr_assert_eq(st, 426);
	close(fd);
	/* and the server still serves */
	struct thttp r;
	cr_assert_eq(thttp_post(rpc_server_port(S), NULL,
	                        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_blockNumber\"}", &r), 0);
	cr_assert_eq(r.status, 200);
	thttp_free(&r);
}

/* WebSocket messages spend the client's tokens too: a burst is answered
 * with -32005 errors on a connection that stays open. */
Test(rpc_ws, messages_are_rate_limited)
{
	struct rpc_server *s2;
	struct rpc_server_config cfg = {.rate = 2, .burst = 3};
	cr_assert_eq(rpc_server_start(&s2, N.st, N.np, 0, &cfg, NULL), 0);
	ws_port_used = rpc_server_port(s2);
	int st, fd = ws_open("13", &st);     /* the upgrade spends one token */
	cr_assert_eq(st, 101);
	int ok = 0, limited = 0;
	for (int i = 0; i < 10; i++) {
		json_t *r = ws_call(fd, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_chainId\"}");
		if (json_object_get(r, "result"))
			ok++;
		else if (terr_code(r) == RPC_E_LIMIT)
			limited++;
		json_decref(r);
	}
	cr_assert_geq(limited, 6, "ok %d limited %d", ok, limited);
	cr_assert_geq(ok, 1);
	usleep(1100000);                     /* two tokens come back */
	json_t *r = ws_call(fd, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_chainId\"}");
	cr_assert_not_null(json_object_get(r, "result"));
	json_decref(r);
	close(fd);
	ws_port_used = 0;
	rpc_server_stop(s2);
}

/* The node announces admitted transactions through rpc_server_pending_tx
 * (here from this thread); a subscriber gets each hash once, in order, and
 * nothing after unsubscribing. */
Test(rpc_ws, new_pending_transactions_subscription)
{
	int st, fd = ws_open("13", &st);
	cr_assert_eq(st, 101);
	json_t *r = ws_call(fd, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_subscribe\",\"params\":[\"newPendingTransactions\"]}");
	char id[40];
	cr_assert(json_is_string(tresult(r)), "%s", json_dumps(r, 0));
	snprintf(id, sizeof id, "%s", json_string_value(tresult(r)));
	json_decref(r);
	uint8_t h[3][32];
	for (int i = 0; i < 3; i++) {
		memset(h[i], 0x40 + i, 32);
		rpc_server_pending_tx(S, h[i]);
	}
	for (int i = 0; i < 3; i++) {
		char *p, want[67] = "0x";
		size_t n;
		cr_assert_eq(ws_recv(fd, &p, &n), 1);
		json_t *j = json_loads(p, 0, NULL);
		cr_assert_not_null(j, "%s", p);
		json_t *params = json_object_get(j, "params");
		cr_assert_str_eq(json_string_value(json_object_get(params, "subscription")), id);
		hex_encode(h[i], 32, want + 2);
		cr_assert_str_eq(json_string_value(json_object_get(params, "result")), want);
		json_decref(j);
		free(p);
	}
	char body[200];
	snprintf(body, sizeof body,
	         "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"eth_unsubscribe\",\"params\":[\"%s\"]}", id);
	r = ws_call(fd, body);
	cr_assert(json_is_true(tresult(r)));
	json_decref(r);
	rpc_server_pending_tx(S, h[0]);
	/* the next message must be the answer to this call, not a notification */
	r = ws_call(fd, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"eth_chainId\"}");
	cr_assert_eq(json_integer_value(json_object_get(r, "id")), 3);
	json_decref(r);
	close(fd);
}
