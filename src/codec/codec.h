/* codec.h — the codec module's umbrella header.
 *
 * Byte-level encodings shared by every layer above: RLP (rlp.h), the
 * encoding of everything Ethereum-style that is hashed or signed, and
 * bech32 (bech32.h), the `one1…` form of addresses. Include this header, or
 * the one encoding you need. */
#ifndef CANON_CODEC_H
#define CANON_CODEC_H

#include "codec/bech32.h"
#include "codec/rlp.h"

#endif
