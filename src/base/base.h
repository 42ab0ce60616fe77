/* base.h — everything in canon's base layer in one include.
 *
 * The base layer depends on libc alone: errors, logging, hex/bytes, arenas,
 * 256-bit integers, the deterministic PRNG, clocks, the TOML reader, command
 * line flags, the metrics registry and the node configuration. */
#ifndef CANON_BASE_BASE_H
#define CANON_BASE_BASE_H

#include "base/arena.h"
#include "base/bytes.h"
#include "base/clock.h"
#include "base/config.h"
#include "base/err.h"
#include "base/flags.h"
#include "base/log.h"
#include "base/metrics.h"
#include "base/prng.h"
#include "base/toml.h"
#include "base/u256.h"

#endif
