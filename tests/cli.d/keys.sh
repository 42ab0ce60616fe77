# keys.sh — `canon keys bls`, sourced by tests/cli.sh (uses $canon and check).
# Key files use the interactive Argon2id level to keep each run short.

keys_dir=build/cli-keys.$$
rm -rf "$keys_dir" && mkdir -p "$keys_dir"
printf 'open sesame\n' >"$keys_dir/pass"
printf 'open sesame \n' >"$keys_dir/wrong"
printf 'open sesame\r\n' >"$keys_dir/crlf"

keys_eq() { [ "$1" = "$2" ]; }
keys_match() { [[ $1 =~ $2 ]]; }
# Expected exit status, text the combined output must contain, command...
keys_says() {
	local want=$1 text=$2; shift 2
	local out rc
	out=$("$@" 2>&1); rc=$?
	[ "$rc" = "$want" ] && grep -qF -- "$text" <<<"$out"
}

keys_pub=$("$canon" keys bls new --dir "$keys_dir" --passphrase-file "$keys_dir/pass" \
	--kdf interactive 2>/dev/null)
keys_file=$keys_dir/$keys_pub.key
check "keys new prints a public key" 0 keys_match "$keys_pub" '^[0-9a-f]{96}$'
check "keys new writes <pubkey>.key" 0 test -f "$keys_file"
check "keys new: file is 0600" 0 keys_eq "$(stat -c %a "$keys_file")" 600
check "keys new: file starts with the magic" 0 keys_eq "$(head -c 8 "$keys_file")" CNBLSKEY
check "keys show prints the public key" 0 keys_eq \
	"$("$canon" keys bls show "$keys_file" --passphrase-file "$keys_dir/pass")" "$keys_pub"
check "keys show: CRLF passphrase file" 0 keys_eq \
	"$("$canon" keys bls show "$keys_file" --passphrase-file "$keys_dir/crlf")" "$keys_pub"
check "keys show: wrong passphrase" 0 keys_says 1 "wrong passphrase" \
	"$canon" keys bls show "$keys_file" --passphrase-file "$keys_dir/wrong"
check "keys show: no tty and no passphrase file" 0 keys_says 1 "no passphrase" \
	"$canon" keys bls show "$keys_file" </dev/null
check "keys show: missing file" 0 keys_says 1 "no such key file" \
	"$canon" keys bls show "$keys_dir/nope.key" --passphrase-file "$keys_dir/pass"

keys_sig=$("$canon" keys bls sign "$keys_file" --message-text hello \
	--passphrase-file "$keys_dir/pass" 2>/dev/null)
check "keys sign prints a signature" 0 keys_match "$keys_sig" '^[0-9a-f]{192}$'
check "keys sign: same message, same signature" 0 keys_eq "$keys_sig" \
	"$("$canon" keys bls sign "$keys_file" --message 68656c6c6f --passphrase-file "$keys_dir/pass")"
check "keys sign: wrong passphrase" 0 keys_says 1 "wrong passphrase" \
	"$canon" keys bls sign "$keys_file" --message-text hello --passphrase-file "$keys_dir/wrong"
check "keys sign: needs exactly one message" 2 "$canon" keys bls sign "$keys_file" \
	--passphrase-file "$keys_dir/pass"
check "keys verify: valid" 0 keys_says 0 valid "$canon" keys bls verify --pubkey "$keys_pub" \
	--message-text hello --signature "$keys_sig"
check "keys verify: hex message" 0 "$canon" keys bls verify --pubkey "$keys_pub" \
	--message 68656c6c6f --signature "$keys_sig"
check "keys verify: other message" 0 keys_says 1 invalid "$canon" keys bls verify \
	--pubkey "$keys_pub" --message-text hellO --signature "$keys_sig"
# Flip one byte in the middle of the signature (it may then not even decode;
# either way it must not verify).
keys_flip=${keys_sig:0:100}$(printf '%02x' $((0x${keys_sig:100:2} ^ 0x01)))${keys_sig:102}
check "keys verify: flipped signature byte" 1 "$canon" keys bls verify --pubkey "$keys_pub" \
	--message-text hello --signature "$keys_flip"
keys_flip=${keys_sig:0:190}$(printf '%02x' $((0x${keys_sig:190:2} ^ 0x80)))
check "keys verify: flipped last signature byte" 1 "$canon" keys bls verify \
	--pubkey "$keys_pub" --message-text hello --signature "$keys_flip"
check "keys verify: malformed signature hex" 2 "$canon" keys bls verify --pubkey "$keys_pub" \
	--message-text hello --signature abcd

# Damaged and misnamed files.
keys_other=$keys_dir/$(printf 'a%.0s' {1..96}).key
cp "$keys_file" "$keys_other"
check "keys show: file name must match its key" 0 keys_says 1 "file name does not match" \
	"$canon" keys bls show "$keys_other" --passphrase-file "$keys_dir/pass"
rm -f "$keys_other"
keys_bad=$keys_dir/bad && mkdir -p "$keys_bad"
head -c 100 "$keys_file" >"$keys_bad/$keys_pub.key"
check "keys show: truncated file" 0 keys_says 1 "truncated" \
	"$canon" keys bls show "$keys_bad/$keys_pub.key" --passphrase-file "$keys_dir/pass"
cp "$keys_file" "$keys_bad/$keys_pub.key.tmp"
printf '\x55' | dd of="$keys_bad/$keys_pub.key.tmp" bs=1 seek=130 conv=notrunc status=none
mv "$keys_bad/$keys_pub.key.tmp" "$keys_bad/$keys_pub.key"
check "keys show: corrupted file" 0 keys_says 1 "corrupted" \
	"$canon" keys bls show "$keys_bad/$keys_pub.key" --passphrase-file "$keys_dir/pass"

# Interop: import secret keys from the shared vectors (signatures computed by
# blst and noble) and reproduce their signatures byte for byte through files.
keys_vectors=$(awk '/^ "sign": \[/ { s = 1; next } s && /^ \]/ { exit }
	s && /"privkey"/ { gsub(/[",]/, "", $2); k = $2 }
	s && /"message"/ { gsub(/[",]/, "", $2); m = $2 }
	s && /"output"/ { gsub(/[",]/, "", $2); print k, (m == "" ? "-" : m), $2 }' \
	../shared/testdata/bls/bls_vectors.json)
keys_n=0 keys_keys=0 keys_last=
while read -r keys_sk keys_msg keys_want; do
	[ "$keys_want" = null ] && continue
	if [ "$keys_sk" != "$keys_last" ]; then
		[ "$keys_keys" = 5 ] && break
		keys_last=$keys_sk keys_signed=0 keys_keys=$((keys_keys + 1))
		keys_vpub=$("$canon" keys bls import --secret-hex "$keys_sk" --dir "$keys_dir" \
			--passphrase-file "$keys_dir/pass" --kdf interactive 2>/dev/null)
	fi
	[ "$keys_signed" = 2 ] && continue
	keys_signed=$((keys_signed + 1))
	[ "$keys_msg" = - ] && keys_msg=
	keys_got=$("$canon" keys bls sign "$keys_dir/$keys_vpub.key" --message "$keys_msg" \
		--passphrase-file "$keys_dir/pass" 2>&1)
	check "keys import+sign reproduces vector (key ${keys_sk:0:8}, msg '${keys_msg:0:8}')" 0 \
		keys_eq "$keys_got" "$keys_want"
	check "keys verify accepts vector (key ${keys_sk:0:8})" 0 "$canon" keys bls verify \
		--pubkey "$keys_vpub" --message "$keys_msg" --signature "$keys_want"
	keys_n=$((keys_n + 1))
done <<<"$keys_vectors"
check "keys: at least 8 vectors reproduced" 0 test "$keys_n" -ge 8
echo "vectors bls sign via canon keys: $keys_n ran"

check "keys import: same key twice is refused" 0 keys_says 1 "already exists" \
	"$canon" keys bls import --secret-hex "$keys_last" --dir "$keys_dir" \
	--passphrase-file "$keys_dir/pass" --kdf interactive
mkdir -p "$keys_dir/from-file"
printf '0x%s\n' "$keys_last" >"$keys_dir/secret"
check "keys import --secret-file gives the same key as --secret-hex" 0 keys_eq \
	"$("$canon" keys bls import --secret-file "$keys_dir/secret" --dir "$keys_dir/from-file" \
		--passphrase-file "$keys_dir/pass" --kdf interactive 2>/dev/null)" "$keys_vpub"
check "keys import: zero key is refused" 0 keys_says 1 "not a valid BLS secret key" \
	"$canon" keys bls import --secret-hex "$(printf '0%.0s' {1..64})" --dir "$keys_dir" \
	--passphrase-file "$keys_dir/pass" --kdf interactive
check "keys import: short hex" 2 "$canon" keys bls import --secret-hex abcd --dir "$keys_dir" \
	--passphrase-file "$keys_dir/pass"
check "keys new: unknown kdf level" 2 "$canon" keys bls new --dir "$keys_dir" \
	--passphrase-file "$keys_dir/pass" --kdf cheap
check "keys: unknown subcommand" 2 "$canon" keys bls frobnicate
check "keys --help" 0 "$canon" keys bls --help
rm -rf "$keys_dir"
