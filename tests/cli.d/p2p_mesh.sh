# p2p_mesh.sh — real processes through rt_host: one `canon bootnode` and ten
# `canon p2p mesh` nodes on loopback find each other through the bootnode and
# gossip messages of mixed sizes (100 B .. 4 KiB log-uniform, every 100th
# 1 MiB), every node checking it delivered each message of the others exactly
# once and intact; then the same with 5% of datagrams dropped both ways
# (CANON_TEST_DROP: unprivileged network namespaces with netem are not
# available here); then stream requests between two processes, and a
# protocol the server does not speak. `make test` runs 200 messages per node
# (2,000 in all); CANON_TEST_LONG=1 (make test-long) runs the 10,000
# (1,000 per node, every 1000th 1 MiB), 6-30 s per run here, in which now and
# then one node misses a few messages of one publisher (open problem, see
# docs/runtime.md); a failing node names the messages it missed.
# Sourced by tests/cli.sh (uses $canon and check). Every process runs under
# `timeout`; leftovers are killed on exit.
pm_dir=build/cli-p2pmesh.$$
pm_boot=
pm_server=
pm_cleanup() {
	[ -n "$pm_boot" ] && kill "$pm_boot" 2>/dev/null
	[ -n "$pm_server" ] && kill "$pm_server" 2>/dev/null
	[ -z "${PM_KEEP:-}" ] && rm -rf "$pm_dir"
}
trap pm_cleanup EXIT
mkdir -p "$pm_dir"
pm_nodes=10
pm_publish=200
pm_big=100
pm_max=4096
if [ "${CANON_TEST_LONG:-}" = 1 ]; then pm_publish=1000 pm_big=1000; fi

# No `timeout` around the bootnode: its own exit status is checked at the end,
# and the EXIT trap stops it if the script dies first.
"$canon" --log.verbosity 2 bootnode --datadir "$pm_dir/boot" --p2p.port 0 \
	>"$pm_dir/boot.out" 2>"$pm_dir/boot.log" &
pm_boot=$!
pm_addr=
for _ in $(seq 100); do
	pm_addr=$(sed -n 's/^bootnode \([0-9a-f]\{64\}@127\.0\.0\.1:[0-9]*\)$/\1/p' "$pm_dir/boot.out")
	[ -n "$pm_addr" ] && break
	sleep 0.1
done
check "bootnode prints its address" 0 test -n "$pm_addr"

# One run: every node must end with "received 9000 ... duplicates 0 bad 0".
pm_run() { # name, drop fraction
	local name=$1 drop=$2 pids=() i rc=0
	for i in $(seq $pm_nodes); do
		CANON_TEST_DROP=$drop timeout 58 "$canon" --log.verbosity 2 p2p mesh \
			--datadir "$pm_dir/$name$i" --bootnodes "$pm_addr" --topic "canon/test/$name/tx" \
			--publish $pm_publish --expect $((pm_publish * (pm_nodes - 1))) \
			--wait-peers $((pm_nodes - 1)) --rate 250 --fanout 1 --max-size $pm_max \
			--big-every $pm_big --timeout 55s >"$pm_dir/$name$i.out" 2>"$pm_dir/$name$i.log" &
		pids+=($!)
	done
	for i in "${pids[@]}"; do wait "$i" || rc=1; done
	cat "$pm_dir"/$name*.out | grep '^mesh'
	local good
	good=$(grep -h '^mesh' "$pm_dir"/$name*.out |
		grep -c " received $((pm_publish * (pm_nodes - 1))) (1 MiB: $((pm_publish / pm_big * (pm_nodes - 1)))) expected [0-9]* duplicates 0 bad 0 ")
	[ "$rc" = 0 ] && [ "$good" = "$pm_nodes" ]
}
check "p2p mesh: 10 processes, $((pm_publish * pm_nodes)) gossip messages, each delivered once" 0 pm_run plain 0
check "p2p mesh: the same with 5% datagram loss" 0 pm_run loss 0.05
check "p2p mesh: loss knob really dropped datagrams" 0 \
	bash -c "grep -h '^mesh' '$pm_dir'/loss*.out | grep -qv ' test_dropped 0 '"

# Streams between two processes: a node serving canon/echo/1 and a client.
timeout 60 "$canon" --log.verbosity 2 p2p mesh --datadir "$pm_dir/server" --publish 0 --expect 0 \
	--serve canon/echo/1 --linger 50s --timeout 55s >"$pm_dir/server.out" 2>"$pm_dir/server.log" &
pm_server=$!
pm_saddr=
for _ in $(seq 100); do
	pm_saddr=$(sed -n 's/^node \([0-9a-f]\{64\}@127\.0\.0\.1:[0-9]*\)$/\1/p' "$pm_dir/server.out")
	[ -n "$pm_saddr" ] && break
	sleep 0.1
done
check "p2p stream: 50 echoed requests of 20 kB" 0 timeout 30 "$canon" --log.verbosity 2 p2p request \
	--datadir "$pm_dir/client" --peer "$pm_saddr" --proto canon/echo/1 --count 50 --size 20000
# The same client key each time: the server must see each new process as a
# restart (its HELLO carries a new instance number) and drop the streams of
# the previous one, whose ids the new process reuses.
check "p2p stream: unknown protocol is refused" 0 timeout 30 "$canon" --log.verbosity 2 p2p request \
	--datadir "$pm_dir/client" --peer "$pm_saddr" --proto canon/nope/1 --expect-unsupported
check "p2p stream: unknown protocol fails a plain request" 1 timeout 30 "$canon" --log.verbosity 2 p2p request \
	--datadir "$pm_dir/client" --peer "$pm_saddr" --proto canon/nope/1
kill "$pm_server" 2>/dev/null
wait "$pm_server" 2>/dev/null
pm_server=

kill -TERM "$pm_boot" 2>/dev/null
wait "$pm_boot"; pm_rc=$?
check "bootnode exits 0 on SIGTERM (exit $pm_rc)" 0 test "$pm_rc" = 0
pm_boot=
pm_cleanup
trap - EXIT
