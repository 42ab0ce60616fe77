# localnet.sh — `canon localnet` and `canon bench tx`: command-line checks.
# Sourced by tests/cli.sh (which defines check and $canon).

check "localnet without command" 2 "$canon" localnet
check "localnet unknown command" 2 "$canon" localnet sideways
check "localnet --help" 0 "$canon" localnet --help
check "localnet block time below 500ms" 2 "$canon" localnet up --dir build/ln-none --block-time 100ms
check "localnet port offset too large" 2 "$canon" localnet up --dir build/ln-none --port-offset 60000
check "localnet status of nothing" 1 "$canon" localnet status --dir build/ln-does-not-exist
check "bench without command" 2 "$canon" bench
check "bench tx --help" 0 "$canon" bench tx --help
check "bench tx bad rate" 2 "$canon" bench tx --rate fast
check "bench tx bad shard" 2 "$canon" bench tx --shard 99
check "bench tx bad --to" 2 "$canon" bench tx --to 0x1234
check "bench tx nothing listening" 1 "$canon" bench tx --rpc http://127.0.0.1:1 --duration 1s
