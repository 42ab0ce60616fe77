/* fuzz/rpc_ws_frame.c — the WebSocket frame parser on arbitrary bytes.
 *
 * The input is a stream of client frames, parsed one after another as the
 * connection thread does. The parser must never read past the bytes it is
 * given, never report a frame longer than those bytes or a payload above
 * the limit, and stop at the first frame RFC 6455 forbids. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rpc/ws_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	size_t off = 0;
	const size_t max = 1024;
	for (;;) {
		struct rpc_ws_frame f;
		int rc = rpc_ws_parse_frame(buf + off, size - off, max, &f);
		if (rc == 1)
			break;
		if (rc) {
			if (rc != 1002 && rc != 1009)
				abort();
			break;
		}
		if (f.frame_len > size - off || f.len > max || f.payload + f.len > buf + off + f.frame_len ||
		    (f.opcode >= 8 && (f.len > 125 || !f.fin)))
			abort();
		off += f.frame_len;
	}
	free(buf);
	return 0;
}
