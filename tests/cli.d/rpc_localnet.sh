# rpc_localnet.sh — real clients send transfers through a localnet that the
# test starts (`canon localnet up`, 1 s blocks, ports + 2000) and stops:
# ethers v6 (a Wallet transfer awaited to its receipt; a reused nonce gets
# NONCE_EXPIRED), web3.js v4 (reads and a transfer), @harmony-js/core (a
# Harmony-format same-shard transfer, confirmed), and WebSocket clients
# that receive newHeads for 5 consecutive blocks and a newPendingTransactions
# announcement of a transfer that is then mined. Sourced by tests/cli.sh.

rpcln_skip=
if ! "$canon" localnet --help >/dev/null 2>&1; then
	rpcln_skip="canon localnet does not exist"
elif ! "$canon" node --help >/dev/null 2>&1; then
	rpcln_skip="canon node does not exist"
elif [ ! -d tests/clients/node_modules/ethers ] || [ ! -d tests/clients/node_modules/web3 ] ||
	[ ! -d tests/clients/node_modules/@harmony-js/core ]; then
	check "rpc_localnet: npm clients installed (npm ci in tests/clients)" 0 false
	rpcln_skip="npm clients missing"
fi

if [ -n "$rpcln_skip" ]; then
	echo "SKIP: localnet not available ($rpcln_skip): tests/cli.d/rpc_localnet.sh"
else
	rpcln_dir=$(mktemp -d /tmp/canon-rpcln.XXXXXX)
	rpcln_down() { "$canon" localnet down --dir "$rpcln_dir/ln" >/dev/null 2>&1; rm -rf "$rpcln_dir"; }
	trap rpcln_down EXIT
	# Port offset 2000, or the next free one: bench/node.c also uses 2000
	# and another engineer's run may hold it (bootnode UDP 19000, RPC 9500
	# and status 19300, each + offset, checked).
	rpcln_off=
	for o in 2000 3000 4000 5000; do
		if ! ss -Hln 2>/dev/null | awk '{print $5}' | grep -qE ":($((19000 + o))|$((9500 + o))|$((19300 + o)))\$"; then
			rpcln_off=$o
			break
		fi
	done
	if [ -n "$rpcln_off" ] && "$canon" localnet up --dir "$rpcln_dir/ln" --port-offset "$rpcln_off" \
		--block-time 1s >"$rpcln_dir/up.out" 2>&1; then
		rpcln_http=$(grep -o '^shard 0.*RPC http://127.0.0.1:[0-9]*' "$rpcln_dir/up.out" | grep -o 'http://.*')
		rpcln_ws=$(grep '^shard 0' "$rpcln_dir/up.out" | grep -o 'ws://127.0.0.1:[0-9]*')
		# "  <i>  0x<address>  one1<address>  0x<private key>"
		rpcln_acct() { awk -v i="$1" -v f="$2" '$1==i && $2 ~ /^0x/ && $3 ~ /^one1/ {print $f}' "$rpcln_dir/up.out"; }
		rpcln_to=$(rpcln_acct 3 2)
		check "rpc_localnet: up prints shard 0 endpoints and accounts" 0 \
			test -n "$rpcln_http" -a -n "$rpcln_ws" -a -n "$rpcln_to" -a -n "$(rpcln_acct 1 4)"
		# The WebSocket clients listen while the transfers are made.
		(cd tests/clients && exec node rpc_ws_heads.mjs "$rpcln_ws" 5) >"$rpcln_dir/ws.out" 2>&1 &
		rpcln_ws_pid=$!
		(cd tests/clients && exec node rpc_ws_pending.mjs "$rpcln_ws") >"$rpcln_dir/pending.out" 2>&1 &
		rpcln_pending_pid=$!
		for _ in $(seq 100); do grep -q subscribed "$rpcln_dir/pending.out" && break; sleep 0.1; done
		check "rpc_localnet: ethers v6 Wallet transfer, receipt, NONCE_EXPIRED on a reused nonce" 0 \
			bash -c "cd tests/clients && node rpc_ethers_send.mjs '$rpcln_http' '$(rpcln_acct 1 4)' '$rpcln_to'"
		check "rpc_localnet: web3.js v4 reads and transfer" 0 \
			bash -c "cd tests/clients && node rpc_web3_send.mjs '$rpcln_http' 1666700000 '$(rpcln_acct 2 4)' '$rpcln_to'"
		check "rpc_localnet: @harmony-js/core Harmony-format transfer" 0 \
			bash -c "cd tests/clients && node rpc_harmony.mjs send '$rpcln_http' '$(rpcln_acct 4 4)' '$(rpcln_acct 3 3)' 0"
		wait "$rpcln_pending_pid"
		check "rpc_localnet: WebSocket newPendingTransactions announces a transfer that is then mined" 0 \
			grep -q "rpc_ws_pending: ok" "$rpcln_dir/pending.out"
		grep -q "rpc_ws_pending: ok" "$rpcln_dir/pending.out" || cat "$rpcln_dir/pending.out"
		wait "$rpcln_ws_pid"
		check "rpc_localnet: WebSocket newHeads for 5 consecutive blocks" 0 grep -q "rpc_ws_heads: ok" "$rpcln_dir/ws.out"
		grep -q "rpc_ws_heads: ok" "$rpcln_dir/ws.out" || cat "$rpcln_dir/ws.out"
	else
		check "rpc_localnet: canon localnet up (port offset ${rpcln_off:-none free})" 0 false
		tail -20 "$rpcln_dir/up.out" 2>/dev/null
	fi
	rpcln_down
	trap - EXIT
fi
