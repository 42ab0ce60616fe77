# rpc.sh — `canon rpc` serving a chain that `canon chain` wrote, read by
# ethers v6 (tests/clients/rpc_ethers.mjs), web3.js v4 (rpc_web3.mjs) and
# the Harmony SDK @harmony-js/core (rpc_harmony.mjs).
# Sourced by tests/cli.sh.

rpc_dir=build/cli-rpc.$$
rm -rf "$rpc_dir" && mkdir -p "$rpc_dir"
"$canon" chain init --network localnet --shard 0 --datadir "$rpc_dir/d" >/dev/null
"$canon" chain gen --datadir "$rpc_dir/d" --blocks 3 --txs 5 >/dev/null

check "rpc without datadir" 2 "$canon" rpc --network localnet
check "rpc unknown network" 2 "$canon" rpc --datadir "$rpc_dir/d" --network nope
check "rpc bad rate" 2 "$canon" rpc --datadir "$rpc_dir/d" --rate fast
check "rpc zero max-log-blocks" 2 "$canon" rpc --datadir "$rpc_dir/d" --max-log-blocks 0
check "rpc missing chain" 1 "$canon" rpc --datadir "$rpc_dir/empty" --network localnet --http.port 0

# Node's fetch as the HTTP client: POST body or GET path, prints "status body".
rpc_http() { # port, path, [body]
	node -e '
const [port, path, body] = process.argv.slice(1);
const opt = body === undefined ? {} : {method: "POST", body, headers: {"content-type": "application/json"}};
fetch(`http://127.0.0.1:${port}${path}`, opt).then(async r => console.log(r.status, await r.text()))
  .catch(e => { console.log("error", e.message); process.exit(1); });' "$@"
}

rpc_start() { # log file, extra flags... ; sets rpc_pid and rpc_port
	local log=$1; shift
	"$canon" rpc --datadir "$rpc_dir/d" --network localnet --http.port 0 --ws.port 0 "$@" >"$log" 2>&1 &
	rpc_pid=$!
	rpc_port= rpc_ws_port=
	for _ in $(seq 50); do
		rpc_port=$(grep -o 'http://127.0.0.1:[0-9]*' "$log" | sed 's/.*://')
		rpc_ws_port=$(grep -o 'ws://127.0.0.1:[0-9]*' "$log" | sed 's/.*://')
		[ -n "$rpc_port" ] && [ -n "$rpc_ws_port" ] && break
		sleep 0.1
	done
}

rpc_start "$rpc_dir/a.log"
if [ -z "$rpc_port" ]; then
	check "canon rpc starts" 0 false
else
	check "rpc eth_blockNumber" 0 bash -c "$(declare -f rpc_http); rpc_http $rpc_port / \
		'{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_blockNumber\"}' | grep -qF '200 {\"jsonrpc\":\"2.0\",\"id\":1,\"result\":\"0x3\"}'"
	check "rpc health 200" 0 bash -c "$(declare -f rpc_http); rpc_http $rpc_port /health | grep -q '^200 .*\"lag\":0'"
	check "rpc send without pool refused" 0 bash -c "$(declare -f rpc_http); rpc_http $rpc_port / \
		'{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_sendRawTransaction\",\"params\":[\"0xf86c\"]}' | grep -q '\"code\":-32000'"
	if [ -d tests/clients/node_modules/ethers ]; then
		check "rpc read by ethers v6" 0 bash -c "cd tests/clients && node rpc_ethers.mjs http://127.0.0.1:$rpc_port 1666700000 3"
	else
		check "ethers installed (npm ci in tests/clients)" 0 false
	fi
	if [ -d tests/clients/node_modules/web3 ]; then
		check "rpc read by web3.js v4" 0 bash -c "cd tests/clients && node rpc_web3.mjs http://127.0.0.1:$rpc_port 1666700000 3"
	else
		check "web3 installed (npm ci in tests/clients)" 0 false
	fi
	if [ -d tests/clients/node_modules/@harmony-js/core ]; then
		check "rpc read by @harmony-js/core (hmy_, hmyv2_, one1 balance)" 0 bash -c "cd tests/clients && node rpc_harmony.mjs read http://127.0.0.1:$rpc_port 3"
	else
		check "@harmony-js/core installed (npm ci in tests/clients)" 0 false
	fi
	# Another process (canon chain gen) writes a block while ethers listens
	# on the WebSocket: the notification must cross processes.
	if [ -d tests/clients/node_modules/ethers ]; then
		(cd tests/clients && exec node rpc_ethers_ws.mjs "ws://127.0.0.1:$rpc_ws_port" 3) >"$rpc_dir/ws.out" 2>&1 &
		ws_pid=$!
		for _ in $(seq 100); do grep -q subscribed "$rpc_dir/ws.out" && break; sleep 0.1; done
		"$canon" chain gen --datadir "$rpc_dir/d" --blocks 1 --txs 2 >/dev/null
		wait "$ws_pid"
		check "rpc newHeads over WebSocket to ethers v6" 0 grep -q "rpc_ethers_ws: ok" "$rpc_dir/ws.out"
	fi
	check "rpc metrics" 0 bash -c "$(declare -f rpc_http); rpc_http $rpc_port /metrics | grep -q 'rpc_requests_total{method=\"eth_getTransactionReceipt\"}'"
	kill "$rpc_pid" && wait "$rpc_pid"
	check "rpc exits cleanly on SIGTERM" 0 test $? = 0
fi

# Behind a peer 10 blocks ahead: unhealthy.
head=$("$canon" chain info --datadir "$rpc_dir/d" | awk '$1=="head"{print $2}')
rpc_start "$rpc_dir/b.log" --peer-height $((head + 10)) --health.maxlag 5 --max-log-blocks 2
if [ -n "$rpc_port" ]; then
	check "rpc health 503 when lagging" 0 bash -c "$(declare -f rpc_http); rpc_http $rpc_port /health | grep -q '^503 .*\"lag\":10'"
	check "rpc --max-log-blocks limits eth_getLogs" 0 bash -c "$(declare -f rpc_http); rpc_http $rpc_port / \
		'{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_getLogs\",\"params\":[{\"fromBlock\":\"0x0\",\"toBlock\":\"0x3\"}]}' | grep -q 'block range too large: 4 blocks, limit 2'"
	check "rpc eth_getLogs within --max-log-blocks" 0 bash -c "$(declare -f rpc_http); rpc_http $rpc_port / \
		'{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_getLogs\",\"params\":[{\"fromBlock\":\"0x2\",\"toBlock\":\"0x3\"}]}' | grep -qF '\"result\":[]'"
	kill "$rpc_pid" && wait "$rpc_pid"
else
	check "canon rpc starts with --peer-height" 0 false
fi
rm -rf "$rpc_dir"
