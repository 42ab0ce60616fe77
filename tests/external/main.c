/* An outside program that uses canon only through its public headers and
 * libcanon.a: it proves the headers stand alone. */
#include <stdio.h>
#include <string.h>

#include "base/bytes.h"
#include "base/err.h"
#include "crypto/crypto.h"

int main(void)
{
	uint8_t h[32];
	char hex[65];
	keccak256("", 0, h);
	hex_encode(h, 32, hex);
	if (strcmp(hex, "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470") != 0) {
		fprintf(stderr, "external-check: keccak256 of empty input is wrong\n");
		return 1;
	}
	printf("external-check: public headers and libcanon.a usable from outside C programs\n");
	return 0;
}
