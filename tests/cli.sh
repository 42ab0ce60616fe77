#!/usr/bin/env bash
# Smoke tests of the canon binary's command line (run by `make test`).
set -uo pipefail
canon=${1:-./canon}
pass=0 fail=0
check() { # description, expected exit status, command...
	local what=$1 want=$2; shift 2
	local out; out=$("$@" 2>&1); local rc=$?
	if [ "$rc" = "$want" ]; then pass=$((pass+1)); else
		fail=$((fail+1)); echo "cli FAIL: $what (exit $rc, wanted $want)"; echo "$out" | head -20; fi
}
check "--help" 0 "$canon" --help
check "version" 0 "$canon" version
check "unknown command" 2 "$canon" no-such-command
check "version names commit" 0 bash -c "'$canon' version | grep -q '^commit '"
for t in tests/cli.d/*.sh; do [ -f "$t" ] && . "$t"; done
echo "cli: $pass passed, $fail failed"
[ "$fail" = 0 ]
