# p2p_keys.sh — `canon keys p2p`, sourced by tests/cli.sh (uses $canon and check).
p2p_dir=build/cli-p2p.$$
rm -rf "$p2p_dir"
check "keys p2p new" 0 "$canon" keys p2p new --datadir "$p2p_dir"
check "keys p2p hostkey is 0600" 0 bash -c "[ \"\$(stat -c %a '$p2p_dir/p2p/hostkey')\" = 600 ]"
check "keys p2p new refuses to overwrite" 1 "$canon" keys p2p new --datadir "$p2p_dir"
check "keys p2p show matches new" 0 bash -c "[ \"\$('$canon' keys p2p show --datadir '$p2p_dir' | grep ^node-id)\" = \
	\"\$('$canon' keys p2p show --datadir '$p2p_dir' | grep ^node-id)\" ] && \
	'$canon' keys p2p show --datadir '$p2p_dir' | grep -Eq '^node-id +[0-9a-f]{64}$'"
check "keys p2p show tag is the node-id prefix" 0 bash -c "out=\$('$canon' keys p2p show --datadir '$p2p_dir'); \
	id=\$(awk '/^node-id/{print \$2}' <<<\"\$out\"); tag=\$(awk '/^tag/{print \$2}' <<<\"\$out\"); [ \"\${id:0:8}\" = \"\$tag\" ]"
chmod 644 "$p2p_dir/p2p/hostkey"
check "keys p2p show refuses a world-readable key" 1 "$canon" keys p2p show --datadir "$p2p_dir"
check "keys p2p show without a key" 1 "$canon" keys p2p show --datadir "$p2p_dir/none"
check "keys p2p unknown command" 2 "$canon" keys p2p frob
check "keys p2p bad flag" 2 "$canon" keys p2p show --nope
rm -rf "$p2p_dir"
