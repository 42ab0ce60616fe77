/* bech32.h — BIP-173 bech32 text and Harmony's one1… addresses.
 *
 * A bech32 string is hrp "1" data checksum: a human-readable part (ASCII
 * 33..126), the separator, then 5-bit groups written in a 32-character
 * alphabet, the last six of which are a BCH checksum over hrp and data. Harmony
 * shows a 20-byte account address as bech32 with hrp "one" and the address
 * regrouped from 8-bit bytes into 5-bit groups (zero-padded at the end).
 *
 * Decoders read untrusted text (RPC parameters, config files, CLI) and reject,
 * with a distinct error code and an optional static message in *why:
 *   -CN_ERANGE       total length over 90, empty hrp, data shorter than the
 *                    checksum, or (addresses) a payload that is not 20 bytes
 *   -CN_EPARSE       a character outside ASCII 33..126, no "1" separator, a
 *                    data character outside the alphabet, or mixed case
 *   -CN_EVERIFY      checksum mismatch (this includes bech32m strings)
 *   -CN_ENONCANON    when regrouping 5→8 bits: more than 4 padding bits or
 *                    non-zero padding
 *   -CN_EUNSUPPORTED a valid string whose hrp is not the expected one
 * Upper-case strings are valid and decode as their lower-case form; encoders
 * write lower case. */
#ifndef CANON_CODEC_BECH32_H
#define CANON_CODEC_BECH32_H

#include <stddef.h>
#include <stdint.h>

#define BECH32_MAX_LEN 90      /* BIP-173 limit on the whole string */
#define BECH32_CHECKSUM_LEN 6
#define BECH32_ONE_HRP "one"
#define BECH32_ONE_ADDR_LEN 42 /* "one1" + 32 data + 6 checksum */

/* Encodes hrp and 5-bit values (each < 32) as lower-case bech32 plus NUL into
 * out[cap]. -CN_EINVAL for a bad hrp (empty, upper case, characters outside
 * 33..126) or a value >= 32, -CN_ERANGE if the result would exceed
 * BECH32_MAX_LEN or does not fit cap. */
int bech32_encode(const char *hrp, const uint8_t *data5, size_t data_len, char *out, size_t cap);

/* Decodes text[len]. The hrp (lower case, NUL-terminated) goes to
 * hrp[hrp_cap], the 5-bit values without checksum to data5[data_cap] with
 * their count in *data_len. Errors as listed above; -CN_ERANGE also when an
 * output buffer is too small. why may be NULL. */
int bech32_decode(const char *text, size_t len, char *hrp, size_t hrp_cap, uint8_t *data5,
                  size_t data_cap, size_t *data_len, const char **why);

/* Regroups bit strings between widths (1..8 bits per value). Padding (pad
 * nonzero) appends zero bits to complete the last group, as encoding does;
 * without it, leftover bits must be fewer than from_bits and zero
 * (-CN_ENONCANON otherwise). -CN_ERANGE if out[cap] is too small, -CN_EINVAL
 * for a width outside 1..8 or an input value wider than from_bits. */
int bech32_convert_bits(uint8_t *out, size_t cap, size_t *out_len, int to_bits, const uint8_t *in,
                        size_t in_len, int from_bits, int pad);

/* The one1… form of a 20-byte address, NUL-terminated. Cannot fail. */
void bech32_one_encode(const uint8_t addr[20], char out[BECH32_ONE_ADDR_LEN + 1]);

/* Parses a one1… address (either case, not mixed). Errors as listed above;
 * why may be NULL. */
int bech32_one_decode(const char *text, size_t len, uint8_t addr[20], const char **why);

#endif
