// rpc_ethers_send.mjs — ethers v6 sends through a running canon node: a
// Wallet signs a transfer (ethers fills in chain ID, nonce, gas and gas
// price from the node), sends it and waits for the receipt; the receipt,
// the transaction and both balances must agree. Then the same Wallet sends
// with a nonce already used and must get the error ethers recognises
// (NONCE_EXPIRED, from go-ethereum's "nonce too low"), and a transaction
// signed for shard 1 is refused with a message naming its shard.
//
//   node rpc_ethers_send.mjs <url> <private key hex> <recipient 0x>
import { JsonRpcProvider, Wallet, isError, parseEther } from "ethers";

const [url, key, to] = process.argv.slice(2);
if (!url || !key || !to) {
  console.error("usage: node rpc_ethers_send.mjs URL KEY TO");
  process.exit(2);
}
const fail = (what) => {
  console.error(`rpc_ethers_send: FAIL ${what}`);
  process.exit(1);
};
const check = (cond, what) => cond || fail(what);
setTimeout(() => fail("timed out after 90 s"), 90000).unref();

const provider = new JsonRpcProvider(url, undefined, { staticNetwork: null, batchMaxCount: 1, pollingInterval: 250 });
const wallet = new Wallet(key, provider);
const value = parseEther("0.5");
const before = await provider.getBalance(to);
const fromBefore = await provider.getBalance(wallet.address);

const tx = await wallet.sendTransaction({ to, value });
check(tx.hash && tx.hash.length === 66, "a transaction hash");
const receipt = await tx.wait(1, 60000);
check(receipt && receipt.status === 1, `receipt status ${receipt && receipt.status}`);
check(receipt.hash === tx.hash, "receipt names the transaction ethers computed");
check(receipt.from === wallet.address && receipt.to === to, "receipt from/to");
check(receipt.gasUsed === 21000n, `gasUsed ${receipt.gasUsed}`);

const got = await provider.getTransaction(tx.hash);
check(got && got.blockNumber === receipt.blockNumber && got.nonce === tx.nonce, "getTransaction after mining");
const after = await provider.getBalance(to);
check(after - before === value, `recipient balance grew by ${after - before}, wanted ${value}`);
const fromAfter = await provider.getBalance(wallet.address);
const fee = receipt.gasUsed * receipt.gasPrice;
check(fromBefore - fromAfter === value + fee, `sender paid ${fromBefore - fromAfter}, wanted ${value + fee}`);

// A nonce already used.
try {
  const stale = await wallet.sendTransaction({ to, value: 1n, nonce: tx.nonce });
  fail(`a reused nonce was accepted (${stale.hash})`);
} catch (e) {
  check(isError(e, "NONCE_EXPIRED"), `reused nonce: wanted NONCE_EXPIRED, got ${e.code}: ${e.shortMessage || e.message}`);
}

// Signed for shard 1 (its Ethereum chain ID), sent to shard 0's endpoint:
// refused with a message naming the shard the transaction is for.
const net = await provider.getNetwork();
const other = await wallet.signTransaction({
  to, value: 1n, nonce: tx.nonce + 1, gasLimit: 21000n, gasPrice: tx.gasPrice, chainId: net.chainId + 1n, type: 0,
});
try {
  await provider.send("eth_sendRawTransaction", [other]);
  fail("a transaction for shard 1 was accepted by shard 0");
} catch (e) {
  const msg = e.error ? e.error.message : e.message;
  // On localnet shard 1's endpoint is shard 0's port + 2.
  const u = new URL(url);
  const want = `transaction is for shard 1, this node serves shard 0: send it to http://127.0.0.1:${Number(u.port) + 2}`;
  check(msg === want, `other shard: "${msg}", wanted "${want}"`);
}

console.log(`rpc_ethers_send: ok (tx ${tx.hash} in block ${receipt.blockNumber}, stale nonce -> NONCE_EXPIRED, other shard refused)`);
provider.destroy();
process.exit(0);
