# config.sh — `canon config dump|check`, sourced by tests/cli.sh (uses $canon and check).

cfg_dir=build/cli-config.$$
rm -rf "$cfg_dir" && mkdir -p "$cfg_dir"

# Prints the [Sync] values in the order Concurrency MinPeers InitStreams
# DiscSoftLowCap DiscHardLowCap DiscHighCap DiscBatch MaxAdvertiseWaitTime.
cfg_sync_values() {
	awk '/^\[/ { sec = $1 } /^ *\[/ { sec = $1 }
	     sec == "[Sync]" && $2 == "=" { v[$1] = $3 }
	     END { print v["Concurrency"], v["MinPeers"], v["InitStreams"], v["DiscSoftLowCap"],
	                 v["DiscHardLowCap"], v["DiscHighCap"], v["DiscBatch"], v["MaxAdvertiseWaitTime"] }' "$1"
}
cfg_staged_values() {
	awk '/^ *\[/ { sec = $1 } sec == "[Sync.StagedSyncCfg]" && $2 == "=" { printf "%s=%s ", $1, $3 }' "$1"
}
cfg_expect_sync() { # network, expected values
	"$canon" config dump --network "$1" >"$cfg_dir/$1.toml" &&
	[ "$(cfg_sync_values "$cfg_dir/$1.toml")" = "$2" ] &&
	[ "$(cfg_staged_values "$cfg_dir/$1.toml")" = "TurboMode=true DoubleCheckBlockHashes=false MaxBlocksPerSyncCycle=512 MaxBackgroundBlocks=512 InsertChainBatchSize=128 VerifyAllSig=false VerifyHeaderBatchSize=100 MaxMemSyncCycleSize=1024 UseMemDB=true LogProgress=false DebugMode=false " ] &&
	grep -q "^  NetworkType = \"$1\"$" "$cfg_dir/$1.toml"
}
cfg_says() { # expected exit status, text the combined output must contain, command...
	local want=$1 text=$2; shift 2
	local out rc
	out=$("$@" 2>&1); rc=$?
	[ "$rc" = "$want" ] && grep -qF -- "$text" <<<"$out"
}

check "config dump mainnet Sync values" 0 cfg_expect_sync mainnet "6 6 8 8 6 128 8 60"
check "config dump testnet Sync values" 0 cfg_expect_sync testnet "3 3 3 3 3 1024 3 5"
check "config dump localnet Sync values" 0 cfg_expect_sync localnet "4 4 4 4 4 1024 8 5"
check "config dump partner Sync values" 0 cfg_expect_sync partner "3 3 3 3 3 1024 5 5"
check "config dump defaults to mainnet" 0 bash -c "'$canon' config dump | cmp -s - '$cfg_dir/mainnet.toml'"
for n in mainnet testnet localnet partner; do
	check "config dump $n | config check" 0 cfg_says 0 ok "$canon" config check "$cfg_dir/$n.toml"
done
check "config dump FILE writes the file" 0 bash -c "'$canon' config dump --network partner '$cfg_dir/out.toml' && cmp -s '$cfg_dir/out.toml' '$cfg_dir/partner.toml'"
check "config dump to an unwritable path" 1 "$canon" config dump "$cfg_dir/no/such/dir/x.toml"
check "config dump two files" 2 "$canon" config dump a b
check "config dump unknown network" 2 "$canon" config dump --network devnet
check "config dump unknown flag" 0 cfg_says 2 "unknown flag --nope" "$canon" config dump --nope
check "config dump --help" 0 cfg_says 0 "--network NAME" "$canon" config dump --help

# A syntax error: line 3, column 10 is where '=' was expected.
printf 'Version = "2.6.6"\n[General]\nNodeType "validator"\n' >"$cfg_dir/syntax.toml"
check "config check syntax error names line and column" 0 \
	cfg_says 1 "line 3, column 10: expected '=' after key" "$canon" config check "$cfg_dir/syntax.toml"
# A port out of range inside an otherwise valid dump.
sed 's/^  Port = 9500$/  Port = 70000/' "$cfg_dir/mainnet.toml" >"$cfg_dir/port.toml"
port_line=$(grep -n '^  Port = 70000$' "$cfg_dir/port.toml" | cut -d: -f1)
check "config check port range names line and column" 0 \
	cfg_says 1 "line $port_line, column 10: HTTP.Port must be between 1 and 65535, got 70000" \
	"$canon" config check "$cfg_dir/port.toml"
printf '[General]\nShardId = 1\n' >"$cfg_dir/key.toml"
check "config check unknown key" 0 \
	cfg_says 1 "line 2, column 1: unknown key 'ShardId' in [General]" "$canon" config check "$cfg_dir/key.toml"
printf '[Network]\nNetworkType = "devnet"\n' >"$cfg_dir/net.toml"
check "config check unknown network" 0 \
	cfg_says 1 "line 2, column 15: unknown network 'devnet'" "$canon" config check "$cfg_dir/net.toml"
printf '[Log]\nVerbosity = "high"\n' >"$cfg_dir/type.toml"
check "config check wrong type" 0 \
	cfg_says 1 "line 2, column 13: Log.Verbosity must be an integer, got string" "$canon" config check "$cfg_dir/type.toml"
check "config check missing file" 1 "$canon" config check "$cfg_dir/does-not-exist.toml"
check "config check needs a file" 2 "$canon" config check
check "config unknown subcommand" 2 "$canon" config frobnicate
rm -rf "$cfg_dir"
