// state_root.mjs — an independent Ethereum state root, for tests/state.
//
// Usage: node state_root.mjs FILE
// FILE holds {"accounts": [{"address": "0x…20 bytes", "nonce": "0x…",
// "balance": "0x…", "code": "0x…", "storage": {"0x…slot": "0x…value"}}]}
// (slots and values are 32-byte big-endian hex; a zero value means no slot).
// Prints the state root as 0x + 64 hex digits. The tries, RLP and Keccak are
// @ethereumjs/trie, @ethereumjs/rlp and ethereum-cryptography: code that canon
// does not share, so agreement checks canon's account encoding, storage
// encoding and secure-trie keying end to end.
import { readFileSync } from 'node:fs';
import { Trie } from '@ethereumjs/trie';
import { RLP } from '@ethereumjs/rlp';
import { keccak256 } from 'ethereum-cryptography/keccak.js';

function bytes(hex) {
	if (typeof hex !== 'string' || !hex.startsWith('0x') || hex.length % 2)
		throw new Error(`bad hex ${hex}`);
	return Uint8Array.from(Buffer.from(hex.slice(2), 'hex'));
}

// Minimal big-endian bytes of an integer (zero is the empty string).
function minimal(b) {
	let i = 0;
	while (i < b.length && b[i] === 0)
		i++;
	return b.subarray(i);
}

const file = process.argv[2];
if (!file) {
	console.error('usage: node state_root.mjs FILE');
	process.exit(2);
}
const { accounts } = JSON.parse(readFileSync(file, 'utf8'));
const state = await Trie.create({ useKeyHashing: true });
for (const a of accounts) {
	const storage = await Trie.create({ useKeyHashing: true });
	for (const [slot, value] of Object.entries(a.storage ?? {})) {
		const v = minimal(bytes(value));
		if (v.length)
			await storage.put(bytes(slot), RLP.encode(v));
	}
	const account = RLP.encode([
		minimal(bytes(a.nonce)),
		minimal(bytes(a.balance)),
		storage.root(),
		keccak256(bytes(a.code ?? '0x')),
	]);
	await state.put(bytes(a.address), account);
}
console.log('0x' + Buffer.from(state.root()).toString('hex'));
