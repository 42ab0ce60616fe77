# bls_ct.sh — constant-time check of BLS secret-key code under valgrind,
# sourced by tests/cli.sh (uses $canon and check). Builds
# tests/bls/ctime/bls_ct.c against the library next to $canon. Skipped in the
# sanitizer build: valgrind cannot run ASan binaries.
bls_ct_build=$(dirname "$canon")
if [ -f "$bls_ct_build/libcanon.a" ] && [ "$(basename "$bls_ct_build")" != build-san ]; then
	check "bls_ct builds" 0 ${CC:-cc} -std=gnu17 -O2 -g -march=x86-64-v2 -Isrc \
		-o "$bls_ct_build/bls_ct" tests/bls/ctime/bls_ct.c "$bls_ct_build/libcanon.a" \
		-lnettle -lsodium -lm
	check "bls secret-key code is constant time (valgrind)" 0 \
		valgrind -q --error-exitcode=1 "$bls_ct_build/bls_ct"
fi
