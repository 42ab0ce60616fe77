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

rm -rf "$node_dir"
