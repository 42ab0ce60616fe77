/* err.c — messages for canon's error codes. */
#include "base/err.h"

static const char *const messages[CN_E_COUNT] = {
	[CN_OK] = "success",
	[CN_EINVAL] = "invalid argument or malformed input",
	[CN_ENOMEM] = "out of memory",
	[CN_ERANGE] = "value out of range",
	[CN_EPARSE] = "parse error",
	[CN_ETRUNC] = "input truncated",
	[CN_ETRAILING] = "trailing bytes after value",
	[CN_ENONCANON] = "non-canonical encoding",
	[CN_EIO] = "input/output error",
	[CN_ENOTFOUND] = "not found",
	[CN_EEXIST] = "already exists",
	[CN_EVERIFY] = "verification failed",
	[CN_ELIMIT] = "limit exceeded",
	[CN_ESTATE] = "invalid state for operation",
	[CN_EUNSUPPORTED] = "not supported",
	[CN_EPASS] = "wrong passphrase",
	[CN_ETIMEDOUT] = "timed out",
	[CN_ECLOSED] = "closed by peer or peer gone",
};

const char *cn_strerror(int err)
{
	if (err < 0)
		err = -err;
	if (err >= CN_E_COUNT || !messages[err])
		return "unknown error";
	return messages[err];
}
