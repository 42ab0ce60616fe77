/* err.h — canon's error codes.
 *
 * Functions that can fail return int: 0 on success, a negative -CN_E… code on
 * failure, and write their results through out-parameters. cn_strerror() turns
 * a code (negative or positive) into a short human message. New codes go at the
 * end of the list so that numbers stay stable in logs. */
#ifndef CANON_BASE_ERR_H
#define CANON_BASE_ERR_H

enum cn_err {
	CN_OK = 0,
	CN_EINVAL,     /* invalid argument or malformed input */
	CN_ENOMEM,     /* out of memory */
	CN_ERANGE,     /* value out of range / arithmetic overflow */
	CN_EPARSE,     /* text could not be parsed */
	CN_ETRUNC,     /* input ended early */
	CN_ETRAILING,  /* bytes left after a complete value */
	CN_ENONCANON,  /* encoding is valid but not canonical */
	CN_EIO,        /* read/write failed */
	CN_ENOTFOUND,  /* no such key, file or entry */
	CN_EEXIST,     /* already exists */
	CN_EVERIFY,    /* signature, proof or checksum does not verify */
	CN_ELIMIT,     /* a configured limit would be exceeded */
	CN_ESTATE,     /* operation not valid in the current state */
	CN_EUNSUPPORTED, /* recognised but not supported */
	CN_EPASS,      /* wrong passphrase */
	CN_ETIMEDOUT,  /* no answer before the deadline */
	CN_ECLOSED,    /* the peer, session or stream went away */
	CN_E_COUNT
};

/* Short message for an error code; accepts -CN_E… or CN_E…. Never NULL. */
const char *cn_strerror(int err);

#endif
