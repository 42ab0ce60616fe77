# chain.sh — `canon chain init|info|gen|export|import`, sourced by tests/cli.sh.

ch_dir=build/cli-chain.$$
rm -rf "$ch_dir" && mkdir -p "$ch_dir"
ch_says() { # expected exit status, text the combined output must contain, command...
	local want=$1 text=$2; shift 2
	local out rc
	out=$("$@" 2>&1); rc=$?
	[ "$rc" = "$want" ] && grep -qF -- "$text" <<<"$out"
}

check "chain init" 0 ch_says 0 "genesis 0x" "$canon" chain init --network localnet --shard 0 --datadir "$ch_dir/a"
check "chain init twice refused" 0 ch_says 1 "already holds a chain" \
	"$canon" chain init --network localnet --shard 0 --datadir "$ch_dir/a"
check "chain init unknown network" 2 "$canon" chain init --network nope --shard 0 --datadir "$ch_dir/x"
check "chain init shard out of range" 2 "$canon" chain init --network localnet --shard 9 --datadir "$ch_dir/x"
check "chain init without datadir" 2 "$canon" chain init --network localnet
check "chain info of genesis" 0 bash -c "[ \"\$('$canon' chain info --datadir '$ch_dir/a' | awk '\$1==\"head\"{print \$2}')\" = 0 ]"
check "chain gen 4 blocks" 0 ch_says 0 "head 4" "$canon" chain gen --datadir "$ch_dir/a" --blocks 4 --txs 30 --cross 20
check "chain info counts tx lookups" 0 bash -c "'$canon' chain info --datadir '$ch_dir/a' | grep -qx 'tx_lookups 240'"
check "chain export" 0 bash -c "'$canon' chain export --datadir '$ch_dir/a' > '$ch_dir/all.rlp' && [ -s '$ch_dir/all.rlp' ]"
check "chain export 2..3" 0 bash -c "'$canon' chain export --datadir '$ch_dir/a' --from 2 --to 3 > '$ch_dir/part.rlp' && [ -s '$ch_dir/part.rlp' ]"
check "chain export past head" 2 "$canon" chain export --datadir "$ch_dir/a" --from 1 --to 99
"$canon" chain init --network localnet --shard 0 --datadir "$ch_dir/b" >/dev/null
check "chain import fresh datadir" 0 ch_says 0 "imported 4 blocks" \
	bash -c "'$canon' chain import --datadir '$ch_dir/b' < '$ch_dir/all.rlp'"
check "chain import reproduces head hash and state root" 0 bash -c \
	"diff <('$canon' chain info --datadir '$ch_dir/a' | grep -E '^(hash|state_root) ') \
	      <('$canon' chain info --datadir '$ch_dir/b' | grep -E '^(hash|state_root) ')"
check "chain import again skips" 0 ch_says 0 "(4 already present)" \
	bash -c "'$canon' chain import --datadir '$ch_dir/b' < '$ch_dir/all.rlp'"
# Hostile inputs into a fresh chain: rejected, database left at genesis.
"$canon" chain init --network localnet --shard 0 --datadir "$ch_dir/c" >/dev/null
check "chain import garbage" 0 ch_says 1 "not a valid block encoding" \
	bash -c "printf 'garbage' | '$canon' chain import --datadir '$ch_dir/c'"
check "chain import part without block 1" 0 ch_says 1 "block number is not head + 1" \
	bash -c "'$canon' chain import --datadir '$ch_dir/c' < '$ch_dir/part.rlp'"
check "chain import truncated" 0 ch_says 1 "input truncated" \
	bash -c "head -c 2000 '$ch_dir/all.rlp' | '$canon' chain import --datadir '$ch_dir/c'"
check "chain hostile imports left genesis" 0 bash -c "'$canon' chain info --datadir '$ch_dir/c' | grep -qx 'head 0'"
"$canon" chain init --network localnet --shard 1 --datadir "$ch_dir/c" >/dev/null
check "chain info with two chains needs --shard" 0 ch_says 1 "pick one with --network and --shard" \
	"$canon" chain info --datadir "$ch_dir/c"
check "chain import into another shard refused" 0 ch_says 1 "block of another shard" \
	bash -c "'$canon' chain import --datadir '$ch_dir/c' --shard 1 < '$ch_dir/all.rlp'"
check "chain info on empty dir" 0 ch_says 1 "no chain under" "$canon" chain info --datadir "$ch_dir/none"
check "chain gen on testnet refused" 0 ch_says 1 "only localnet" bash -c \
	"'$canon' chain init --network testnet --shard 0 --datadir '$ch_dir/t' >/dev/null && '$canon' chain gen --datadir '$ch_dir/t' --blocks 1"
check "chain --help" 0 ch_says 0 "export" "$canon" chain --help
check "chain unknown subcommand" 2 "$canon" chain frobnicate
rm -rf "$ch_dir"
