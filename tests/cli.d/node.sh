# node.sh — `canon node` and `canon keys bls localnet`. Sourced by
# tests/cli.sh (uses $canon and check). Every process is bounded in time and
# the trap kills whatever is left.

node_dir=build/cli-node.$$
rm -rf "$node_dir" && mkdir -p "$node_dir/keys"
printf 'localnet pass\n' >"$node_dir/pass"

# ---- localnet key files -------------------------------------------------------
node_pk=$("$canon" keys bls localnet --shard 0 --index 1 --out "$node_dir/keys" --pass-file "$node_dir/pass" 2>/dev/null)
check "keys bls localnet prints a public key" 0 bash -c "[[ '$node_pk' =~ ^[0-9a-f]{96}$ ]]"
check "keys bls localnet writes <pubkey>.key" 0 test -f "$node_dir/keys/$node_pk.key"
check "keys bls localnet key opens" 0 bash -c "[ \"\$('$canon' keys bls show '$node_dir/keys/$node_pk.key' \
	--passphrase-file '$node_dir/pass')\" = '$node_pk' ]"
mkdir -p "$node_dir/keys2"
check "keys bls localnet is deterministic" 0 bash -c "[ \"\$('$canon' keys bls localnet --shard 0 --index 1 \
	--out '$node_dir/keys2' --pass-file '$node_dir/pass' 2>/dev/null)\" = '$node_pk' ]"
check "keys bls localnet: other index, other key" 0 bash -c "k=\$('$canon' keys bls localnet --shard 0 --index 2 \
	--out '$node_dir/keys2' --pass-file '$node_dir/pass' 2>/dev/null) && [ -n \"\$k\" ] && [ \"\$k\" != '$node_pk' ]"
check "keys bls localnet: other shard, other key" 0 bash -c "k=\$('$canon' keys bls localnet --shard 1 --index 1 \
	--out '$node_dir/keys2' --pass-file '$node_dir/pass' 2>/dev/null) && [ -n \"\$k\" ] && [ \"\$k\" != '$node_pk' ]"
check "keys bls localnet: existing file refused" 1 "$canon" keys bls localnet --shard 0 --index 1 \
	--out "$node_dir/keys" --pass-file "$node_dir/pass"
check "keys bls localnet: index out of range" 2 "$canon" keys bls localnet --shard 0 --index 99 \
	--out "$node_dir/keys2" --pass-file "$node_dir/pass"
check "keys bls localnet: shard out of range" 2 "$canon" keys bls localnet --shard 999 --index 0 \
	--out "$node_dir/keys2" --pass-file "$node_dir/pass"
check "keys bls localnet: needs --shard and --index" 2 "$canon" keys bls localnet --out "$node_dir/keys2"

# ---- flags and config ------------------------------------------------------------
# Expected exit status, text the combined output must contain, command...
node_says() {
	local want=$1 text=$2; shift 2
	local out rc
	out=$(timeout 20 "$@" </dev/null 2>&1); rc=$?
	[ "$rc" = "$want" ] && grep -qF -- "$text" <<<"$out" || { echo "exit $rc: $out" | head -5; false; }
}
check "node: unknown flag" 0 node_says 2 "unknown flag --bogus" "$canon" node --bogus
check "node: unknown role" 0 node_says 2 "--run must be" "$canon" node --run miner --dump-config
check "node: unknown network" 0 node_says 2 "unknown network" "$canon" node --network moon --dump-config
check "node: missing config file" 0 node_says 2 "$node_dir/none.toml" "$canon" node --config "$node_dir/none.toml"
printf '[P2P]\nPort = "x"\n' >"$node_dir/bad.toml"
check "node: bad config value names its line" 0 node_says 2 "line 2" "$canon" node --config "$node_dir/bad.toml"
check "node: explorer needs a shard" 0 node_says 2 "--run.shard" "$canon" node --network localnet --run explorer --dump-config
check "node: shard out of range" 0 node_says 2 "has shards" "$canon" node --network localnet --run explorer \
	--run.shard 99 --dump-config
check "node: block time too short" 0 node_says 2 "at least 500ms" "$canon" node --network localnet --run explorer \
	--run.shard 0 --block-time 100ms --dump-config
check "node: bad block time" 0 node_says 2 "not a duration" "$canon" node --block-time soon
check "node: bad port" 0 node_says 2 "P2P.Port" "$canon" node --network localnet --run explorer --run.shard 0 \
	--p2p.port 70000 --dump-config
mkdir -p "$node_dir/empty"
check "node: validator without keys" 0 node_says 1 "needs BLS keys" "$canon" node --network localnet \
	--datadir "$node_dir/v" --bls.dir "$node_dir/empty"
check "node: missing key file" 0 node_says 1 "no such file" "$canon" node --network localnet \
	--datadir "$node_dir/v" --bls.keys "$node_dir/keys/nope.key" --bls.pass.file "$node_dir/pass"
printf 'not it\n' >"$node_dir/wrong"
check "node: wrong passphrase" 0 node_says 1 "wrong passphrase" "$canon" node --network localnet \
	--datadir "$node_dir/v" --bls.keys "$node_dir/keys/$node_pk.key" --bls.pass.file "$node_dir/wrong"
check "node: keys without passphrase file" 0 node_says 1 "--bls.pass.file" "$canon" node --network localnet \
	--datadir "$node_dir/v" --bls.keys "$node_dir/keys/$node_pk.key"

# --dump-config shows the flags applied, and what it prints loads again.
"$canon" node --network localnet --run explorer --run.shard 1 --p2p.port 21555 --http --http.port 21556 \
	--prometheus.port 21557 --bootnodes "$(printf 'ab%.0s' $(seq 32))@127.0.0.1:21550" --block-time 750ms \
	--dump-config >"$node_dir/dump.toml" 2>"$node_dir/dump.err"
check "node --dump-config exits 0" 0 test -s "$node_dir/dump.toml"
node_in() { # section, line
	awk -v s="[$1]" -v l="$2" '/^ *\[/{cur=$1} cur==s && index($0, l){f=1} END{exit !f}' "$node_dir/dump.toml"
}
check "dump: P2P.Port from the flag" 0 node_in P2P "Port = 21555"
check "dump: P2P.IP defaults to loopback" 0 node_in P2P 'IP = "127.0.0.1"'
check "dump: HTTP on" 0 node_in HTTP "Enabled = true"
check "dump: HTTP.Port from the flag" 0 node_in HTTP "Port = 21556"
check "dump: WS.Port follows the shard" 0 node_in WS "Port = 9802"
check "dump: Prometheus on with the port" 0 node_in Prometheus "Port = 21557"
check "dump: explorer" 0 node_in General 'NodeType = "explorer"'
check "dump: shard" 0 node_in General "ShardID = 1"
check "dump: network" 0 node_in Network 'NetworkType = "localnet"'
check "dump: bootnodes" 0 node_in Network '@127.0.0.1:21550"]'
check "dump: block time" 0 grep -q -- "--block-time 750ms" "$node_dir/dump.toml"
check "dump loads as a config" 0 node_says 0 ok "$canon" config check "$node_dir/dump.toml"
# The dump as --config, with a flag over it: the flag wins, the rest stays.
"$canon" node --config "$node_dir/dump.toml" --p2p.port 21558 --dump-config >"$node_dir/dump2.toml" 2>/dev/null
check "config file + flag: the flag wins" 0 bash -c "grep -q '^  Port = 21558' '$node_dir/dump2.toml'"
check "config file + flag: the file's values stay" 0 bash -c "diff <(grep -v -e '^#' -e 'Port = 2155[58]\$' '$node_dir/dump.toml') \
	<(grep -v -e '^#' -e 'Port = 2155[58]\$' '$node_dir/dump2.toml')"
# A validator's shard comes from its keys' committee.
node_pk1=$("$canon" keys bls localnet --shard 1 --index 0 --out "$node_dir/keys" --pass-file "$node_dir/pass" 2>/dev/null)
check "dump: validator shard from the key" 0 node_says 0 "ShardID = 1" "$canon" node --network localnet \
	--bls.keys "$node_dir/keys/$node_pk1.key" --dump-config
check "node: keys of two shards refused" 0 node_says 1 "different shards" "$canon" node --network localnet \
	--bls.keys "$node_dir/keys/$node_pk.key,$node_dir/keys/$node_pk1.key" --dump-config

# ---- a real run ---------------------------------------------------------------------
# A bootnode, the four validator processes of shard 0 (process i holds
# committee keys i, i+4, ...) and one RPC node, on loopback with 500 ms
# blocks. Ports come from 21000-21999, away from the other suites.
node_run=$node_dir/run
mkdir -p "$node_run/keys"
nb=$((21000 + (RANDOM % 45) * 20))
node_pids=()
node_cleanup() { local p; for p in "${node_pids[@]}"; do kill -9 "$p" 2>/dev/null; done; rm -rf "$node_dir"; }
trap node_cleanup EXIT
node_nkeys=0
while [ $node_nkeys -lt 16 ] && "$canon" keys bls localnet --shard 0 --index $node_nkeys --out "$node_run/keys" \
	--pass-file "$node_dir/pass" >"$node_run/pk$node_nkeys" 2>/dev/null; do
	node_nkeys=$((node_nkeys + 1))
done
check "localnet committee has at least 4 keys" 0 test $node_nkeys -ge 4
node_keys_of() {
	local k list=
	for ((k = $1; k < node_nkeys; k += 4)); do list="$list${list:+,}$node_run/keys/$(cat "$node_run/pk$k").key"; done
	echo "$list"
}
"$canon" keys p2p new --datadir "$node_run/boot" >"$node_run/boot.id"
node_boot="$(awk '$1=="public-key"{print $2}' "$node_run/boot.id")@127.0.0.1:$nb"
"$canon" bootnode --datadir "$node_run/boot" --p2p.ip 127.0.0.1 --p2p.port $nb >>"$node_run/boot.log" 2>&1 &
node_boot_pid=$!
node_pids+=($node_boot_pid)
declare -a node_vpid
node_start_v() { # validator i: p2p nb+1+i, status nb+10+i; validator 1 also serves RPC on nb+17
	local rpc=()
	[ "$1" = 1 ] && rpc=(--http --http.port $((nb + 17)))
	"$canon" node --network localnet --datadir "$node_run/v$1" --bls.keys "$(node_keys_of "$1")" \
		--bls.pass.file "$node_dir/pass" --p2p.port $((nb + 1 + $1)) --bootnodes "$node_boot" \
		--prometheus.port $((nb + 10 + $1)) --block-time 500ms "${rpc[@]}" 2>>"$node_run/v$1.log" &
	node_vpid[$1]=$!
	node_pids+=($!)
}
node_start_x() { # the RPC node: p2p nb+5, status nb+14, HTTP nb+15, WS nb+16
	"$canon" node --network localnet --run explorer --run.shard 0 --datadir "$node_run/x" \
		--p2p.port $((nb + 5)) --bootnodes "$node_boot" --prometheus.port $((nb + 14)) \
		--http --http.port $((nb + 15)) --ws.port $((nb + 16)) --block-time 500ms 2>>"$node_run/x.log" &
	node_xpid=$!
	node_pids+=($!)
}
node_height() { # status port -> height (empty if no answer)
	curl -s --max-time 2 "http://127.0.0.1:$1/status" | sed -n 's/.*"height":\([0-9]*\).*/\1/p'
}
node_wait_heights() { # minimum height, seconds: every validator and the RPC node reach it
	local want=$1 end=$((SECONDS + $2)) i h ok
	while [ $SECONDS -lt $end ]; do
		ok=1
		for i in 0 1 2 3 x; do
			if [ $i = x ]; then h=$(node_height $((nb + 14))); else h=$(node_height $((nb + 10 + i))); fi
			[ -n "$h" ] && [ "$h" -ge "$want" ] || ok=0
		done
		[ $ok = 1 ] && return 0
		sleep 0.5
	done
	return 1
}
node_stop_all() { # SIGTERM every node process; 0 if each exits 0 within 20 s
	local p rc=0 end
	for p in "${node_vpid[@]}" $node_xpid; do kill -TERM "$p" 2>/dev/null; done
	end=$((SECONDS + 20))
	for p in "${node_vpid[@]}" $node_xpid; do
		while kill -0 "$p" 2>/dev/null && [ $SECONDS -lt $end ]; do sleep 0.2; done
		kill -0 "$p" 2>/dev/null && { echo "process $p did not stop"; kill -9 "$p"; rc=1; }
		wait "$p"
		local st=$?
		[ $st = 0 ] || { echo "process $p exited $st"; rc=1; }
	done
	return $rc
}
node_show_logs() { for f in "$node_run"/*.log; do echo "--- $f"; tail -5 "$f"; done; }

for i in 0 1 2 3; do node_start_v $i; done
node_start_x
if node_wait_heights 5 40; then node_ok=0; else node_ok=1; node_show_logs; fi
check "4 validators and an RPC node reach height 5" 0 test $node_ok = 0
check "/status of a validator" 0 bash -c "curl -s --max-time 2 http://127.0.0.1:$((nb + 10))/status | \
	grep -q '\"role\":\"validator\".*\"leader\":\"0x[0-9a-f]\{96\}\"'"
check "/status counts peers" 0 bash -c "curl -s --max-time 2 http://127.0.0.1:$((nb + 11))/status | grep -q '\"peers\":[1-9]'"
check "/status of the RPC node" 0 bash -c "curl -s --max-time 2 http://127.0.0.1:$((nb + 14))/status | grep -q '\"role\":\"explorer\"'"
check "/metrics in Prometheus text" 0 bash -c "curl -s --max-time 2 http://127.0.0.1:$((nb + 12))/metrics | grep -q '^# TYPE canon_'"
check "/metrics of the RPC node has rpc metrics" 0 bash -c "curl -s --max-time 2 -o /dev/null http://127.0.0.1:$((nb + 15))/health; \
	curl -s --max-time 2 http://127.0.0.1:$((nb + 14))/metrics | grep -q '^# TYPE rpc_'"
check "unknown path is 404" 0 bash -c "curl -s --max-time 2 -o /dev/null -w '%{http_code}' http://127.0.0.1:$((nb + 13))/nope | grep -qx 404"
check "RPC node answers eth_blockNumber" 0 bash -c "curl -s --max-time 2 -H 'content-type: application/json' \
	--data '{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_blockNumber\"}' http://127.0.0.1:$((nb + 15))/ | \
	grep -q '\"result\":\"0x[1-9a-f]'"
# Transfers sent to validator 1's RPC are gossiped, finalized by the shard,
# and announced to the RPC node's WebSocket subscribers of pending txs.
if [ -d tests/clients/node_modules/ethers ]; then
	(cd tests/clients && exec timeout 40 node --input-type=module -e '
import { WebSocketProvider } from "ethers";
const p = new WebSocketProvider(process.argv[1]);
await p.getBlockNumber();
let n = 0;
p.on("pending", () => { n++; });
await new Promise((r) => setTimeout(r, 700));
console.log("subscribed");
setTimeout(async () => { console.log(`pending ${n}`); await p.destroy(); process.exit(0); }, Number(process.argv[2]));
' "ws://127.0.0.1:$((nb + 16))" 8000) >"$node_run/ws.out" 2>&1 &
	node_ws=$!
	for _ in $(seq 100); do grep -qs subscribed "$node_run/ws.out" && break; sleep 0.1; done
	timeout 60 "$canon" bench tx --shard 0 --rate 40 --duration 2s --rpc "http://127.0.0.1:$((nb + 17))" \
		--drain 20s >"$node_run/bench.out" 2>&1
	node_acc=$(sed -n 's/.* accepted \([0-9]*\) .*/\1/p' "$node_run/bench.out")
	node_ref=$(sed -n 's/.* refused \([0-9]*\) .*/\1/p' "$node_run/bench.out")
	node_fin=$(sed -n 's/.* finalized \([0-9]*\) in .*/\1/p' "$node_run/bench.out")
	check "transfers through a validator's RPC: all accepted and finalized" 0 bash -c "[ '${node_acc:-0}' -gt 0 ] && \
		[ '$node_ref' = 0 ] && [ '$node_fin' = '$node_acc' ] || { cat '$node_run/bench.out'; false; }"
	wait $node_ws
	node_pend=$(sed -n 's/^pending \([0-9]*\)$/\1/p' "$node_run/ws.out")
	# every one of them, whether the validator gossiped it alone or in a batch
	check "RPC node announces every gossiped tx to newPendingTransactions subscribers" 0 bash -c \
		"[ '${node_acc:-0}' -gt 0 ] && [ '${node_pend:-0}' = '${node_acc:-0}' ] || { cat '$node_run/ws.out'; false; }"
else
	check "ethers installed (npm ci in tests/clients)" 0 false
fi
check "busy status port: exit 1" 0 node_says 1 "$((nb + 10))" "$canon" node --network localnet --run explorer \
	--run.shard 0 --datadir "$node_run/busy" --p2p.port $((nb + 6)) --prometheus.port $((nb + 10))
check "busy p2p port: exit 1" 0 node_says 1 "$((nb + 1))" "$canon" node --network localnet --run explorer \
	--run.shard 0 --datadir "$node_run/busy" --p2p.port $((nb + 1))
check "busy RPC port: exit 1" 0 node_says 1 "$((nb + 15))" "$canon" node --network localnet --run explorer \
	--run.shard 0 --datadir "$node_run/busy" --p2p.port $((nb + 6)) --http --http.port $((nb + 15))
check "validator key outside the shard's committee: exit 1" 0 node_says 1 "committee" "$canon" node \
	--network localnet --run.shard 1 --datadir "$node_run/other" --bls.keys "$(node_keys_of 0)" \
	--bls.pass.file "$node_dir/pass" --p2p.port $((nb + 8))
# A signal during start-up (the key files are still being decrypted) waits
# for the handlers and stops the node cleanly.
"$canon" node --network localnet --datadir "$node_run/early" --bls.keys "$(node_keys_of 0)" \
	--bls.pass.file "$node_dir/pass" --p2p.port $((nb + 7)) 2>"$node_run/early.log" &
node_early=$!
# Signal once the process holds SIGINT and SIGTERM (SigBlk bits 2 and 15),
# i.e. while it decrypts its keys or, on a slow machine, just after.
for _ in $(seq 100); do
	node_blk=$(awk '$1=="SigBlk:"{print $2}' /proc/$node_early/status 2>/dev/null)
	[ -n "$node_blk" ] && (( (16#$node_blk & 0x4002) == 0x4002 )) && break
	sleep 0.05
done
kill -TERM $node_early
wait $node_early
check "SIGTERM during start-up: exit 0" 0 test $? = 0
declare -a node_hstop
for i in 0 1 2 3; do node_hstop[$i]=$(node_height $((nb + 10 + i))); done
# (wait works only in this shell, not in check's subshell)
node_stop_all; node_rc=$?
check "SIGTERM stops every node with exit 0" 0 test $node_rc = 0

# Restart on the same data: each validator starts where it stopped and the
# shard goes on.
node_vpid=() node_xpid=
for i in 0 1 2 3; do node_start_v $i; done
node_start_x
node_resumed=0
for i in 0 1 2 3; do
	h=
	for _ in $(seq 40); do h=$(node_height $((nb + 10 + i))); [ -n "$h" ] && break; sleep 0.25; done
	[ -n "$h" ] && [ -n "${node_hstop[$i]}" ] && [ "$h" -ge "${node_hstop[$i]}" ] || {
		echo "validator $i: height ${node_hstop[$i]} before the stop, '$h' after"; node_resumed=1; }
done
check "restart keeps every validator's height" 0 test $node_resumed = 0
node_max=0
for i in 0 1 2 3; do [ "${node_hstop[$i]:-0}" -gt $node_max ] && node_max=${node_hstop[$i]}; done
if node_wait_heights $((node_max + 3)) 40; then node_ok=0; else node_ok=1; node_show_logs; fi
check "after the restart the shard finalizes 3 more blocks" 0 test $node_ok = 0
node_stop_all; node_rc=$?
check "SIGTERM after the restart: exit 0" 0 test $node_rc = 0
# --run bootnode serves the same bootnode as `canon bootnode`.
"$canon" node --run bootnode --datadir "$node_run/boot2" --p2p.port $((nb + 9)) >"$node_run/boot2.out" 2>&1 &
node_boot2=$!
for _ in $(seq 50); do grep -q '^bootnode ' "$node_run/boot2.out" && break; sleep 0.1; done
check "node --run bootnode announces its address" 0 grep -Eq "^bootnode [0-9a-f]{64}@127.0.0.1:$((nb + 9))\$" "$node_run/boot2.out"
kill -TERM $node_boot2 2>/dev/null
wait $node_boot2
check "node --run bootnode exits 0 on SIGTERM" 0 test $? = 0
kill -TERM $node_boot_pid 2>/dev/null
wait $node_boot_pid
check "bootnode exits 0 on SIGTERM" 0 test $? = 0
node_pids=()
trap - EXIT

rm -rf "$node_dir"
