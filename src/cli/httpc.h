/* httpc.h — a small blocking HTTP/1.1 client for the command-line tools.
 *
 * `canon localnet` asks each node for GET /status and `canon bench tx`
 * posts JSON-RPC requests; both talk to servers on loopback that they
 * started themselves. This client keeps one connection alive across
 * requests (reconnecting once if the server closed it), reads responses
 * framed by Content-Length or chunked transfer coding, and bounds every
 * wait with a timeout so that a hung node cannot hang the tool. It is not a
 * general web client: no TLS, no redirects, no proxies, IPv4 literals or
 * "localhost" only. */
#ifndef CANON_CLI_HTTPC_H
#define CANON_CLI_HTTPC_H

#include <stddef.h>
#include <stdint.h>

/* Largest response body accepted (a status page or one RPC answer). */
#define HTTPC_MAX_BODY (8u << 20)

struct httpc {
	char host[64];
	uint16_t port;
	int fd;                 /* -1 while not connected */
	int timeout_ms;
	char *buf;              /* bytes received and not consumed yet */
	size_t len, cap;
};

/* Parses "http://HOST:PORT[/...]" or "HOST:PORT" into host and port. */
int httpc_parse_url(const char *url, char host[64], uint16_t *port);

void httpc_init(struct httpc *c, const char *host, uint16_t port, int timeout_ms);
void httpc_close(struct httpc *c);

/* One request on the kept-alive connection. body may be NULL (GET). On
 * success *status is the HTTP status and *resp a NUL-terminated malloc'd
 * body of *resp_len bytes (caller frees). Errors: -CN_EIO (connect, send,
 * receive, timeout, server closed), -CN_EPARSE (not HTTP/1.x),
 * -CN_ELIMIT (body above HTTPC_MAX_BODY), -CN_ENOMEM. */
int httpc_request(struct httpc *c, const char *method, const char *path, const char *body,
                  size_t body_len, int *status, char **resp, size_t *resp_len);

/* One-shot GET on a fresh connection. */
int httpc_get(const char *host, uint16_t port, const char *path, int timeout_ms, int *status,
              char **resp, size_t *resp_len);

#endif
