/* testutil.h — shared helpers for canon's Criterion tests.
 *
 * Vector files are read from ../shared/testdata (override with the
 * CANON_TESTDATA environment variable); tests run from the repository root. */
#ifndef CANON_TESTUTIL_H
#define CANON_TESTUTIL_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* Path of a file under the shared test data directory (static buffer). */
const char *tu_testdata(const char *rel);

/* Loads a JSON file under the test data directory; aborts the test on error. */
json_t *tu_load_json(const char *rel);

/* Decodes a hex string (optional 0x) into a malloc'd buffer; aborts on error.
 * Never returns NULL. */
uint8_t *tu_hex(const char *hex, size_t *len);

/* Reads a whole file into a malloc'd buffer; aborts on error. */
uint8_t *tu_read_file(const char *path, size_t *len);

/* Prints "<suite>: <n> vectors ran" so that the test output states counts. */
void tu_report(const char *what, size_t n);

/* Nonzero when CANON_TEST_LONG is set (make test-long). */
int tu_long(void);

#endif
