# runtime.sh — `canon p2p`: two processes talking over encrypted UDP on
# loopback through the libuv driver (src/runtime). Sourced by tests/cli.sh
# (uses $canon and check). Every process is bounded by `timeout`, and the
# background listener is killed on exit whatever happens.
rt_dir=build/cli-runtime.$$
rm -rf "$rt_dir"
rt_listener=
rt_cleanup() { [ -n "$rt_listener" ] && kill "$rt_listener" 2>/dev/null; rm -rf "$rt_dir"; }
trap rt_cleanup EXIT
for n in a b c; do "$canon" keys p2p new --datadir "$rt_dir/$n" >/dev/null; done

# The listener binds port 0 and reports the port the kernel chose, so two
# test runs never fight over a port.
"$canon" p2p ping --datadir "$rt_dir/b" --listen 127.0.0.1:0 --timeout 60s 2>"$rt_dir/listener.log" &
rt_listener=$!
rt_port=
for _ in $(seq 50); do
	rt_port=$(sed -n 's/.* listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$rt_dir/listener.log")
	[ -n "$rt_port" ] && break
	sleep 0.1
done
check "p2p listener reports its port" 0 test -n "$rt_port"
rt_loc=$("$canon" p2p locator --datadir "$rt_dir/b" --addr "127.0.0.1:${rt_port:-1}")
check "p2p locator is hex" 0 bash -c "grep -Eq '^[0-9a-f]{100,}$' <<<'$rt_loc'"
check "p2p ping 1000 echoes over UDP" 0 bash -c "out=\$(timeout 30 '$canon' p2p ping --datadir '$rt_dir/a' \
	--listen 127.0.0.1:0 --peer '$rt_loc' --count 1000 --size 200) && echo \"\$out\" && \
	grep -q 'sent 1000 received 1000 size 200' <<<\"\$out\""
check "p2p ping full-size payload" 0 timeout 30 "$canon" p2p ping --datadir "$rt_dir/a" \
	--listen 127.0.0.1:0 --peer "$rt_loc" --count 50 --size 1400
check "p2p ping rejects oversize payload" 2 timeout 10 "$canon" p2p ping --datadir "$rt_dir/a" \
	--listen 127.0.0.1:0 --peer "$rt_loc" --size 1401
# Node c's key with the listener's address: the initiation is sealed to c's
# static key, so b cannot answer it and the handshake must fail cleanly.
rt_bad=$("$canon" p2p locator --datadir "$rt_dir/c" --addr "127.0.0.1:${rt_port:-1}")
check "p2p ping wrong node key fails the handshake" 0 bash -c "out=\$(timeout 20 '$canon' p2p ping \
	--datadir '$rt_dir/a' --listen 127.0.0.1:0 --peer '$rt_bad' --count 3 --handshake-retry 200ms 2>&1); \
	rc=\$?; echo \"\$out\"; [ \$rc = 1 ] && grep -q 'handshake failed' <<<\"\$out\""
check "p2p ping garbage locator" 2 timeout 10 "$canon" p2p ping --datadir "$rt_dir/a" \
	--listen 127.0.0.1:0 --peer 00ff
check "p2p listener still alive" 0 kill -0 "$rt_listener"
kill -TERM "$rt_listener" 2>/dev/null
wait "$rt_listener"; rt_rc=$?
check "p2p listener exits 0 on SIGTERM" 0 test "$rt_rc" = 0
rt_listener=

# --raptorq: whole messages, RaptorQ-coded, larger than one packet.
"$canon" p2p ping --datadir "$rt_dir/b" --listen 127.0.0.1:0 --raptorq --timeout 60s 2>"$rt_dir/listener2.log" &
rt_listener=$!
rt_port=
for _ in $(seq 50); do
	rt_port=$(sed -n 's/.* listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$rt_dir/listener2.log")
	[ -n "$rt_port" ] && break
	sleep 0.1
done
rt_loc=$("$canon" p2p locator --datadir "$rt_dir/b" --addr "127.0.0.1:${rt_port:-1}")
check "p2p ping --raptorq 200 small messages" 0 timeout 30 "$canon" p2p ping --datadir "$rt_dir/a" \
	--listen 127.0.0.1:0 --peer "$rt_loc" --raptorq --count 200 --size 100
check "p2p ping --raptorq 5 messages of 300 kB" 0 timeout 30 "$canon" p2p ping --datadir "$rt_dir/a" \
	--listen 127.0.0.1:0 --peer "$rt_loc" --raptorq --count 5 --size 300000 --timeout 25s
kill -TERM "$rt_listener" 2>/dev/null
wait "$rt_listener"; rt_rc=$?
check "p2p --raptorq listener exits 0 on SIGTERM" 0 test "$rt_rc" = 0
rt_listener=
rt_cleanup
trap - EXIT
