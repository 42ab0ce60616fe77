// rpc_web3_send.mjs — web3.js v4 through a running canon node: reads
// (chain ID, block number, the head block by number and by hash, balance,
// nonce, gas price) and a transfer signed by a web3 wallet account, sent
// with eth_sendRawTransaction and awaited until its receipt; receipt,
// transaction and balances must agree.
//
//   node rpc_web3_send.mjs <url> <expected chain id> <private key hex> <recipient 0x>
import { Web3 } from "web3";

const [url, wantChainId, key, to] = process.argv.slice(2);
if (!url || !wantChainId || !key || !to) {
  console.error("usage: node rpc_web3_send.mjs URL CHAIN_ID KEY TO");
  process.exit(2);
}
const fail = (what) => {
  console.error(`rpc_web3_send: FAIL ${what}`);
  process.exit(1);
};
const check = (cond, what) => cond || fail(what);
setTimeout(() => fail("timed out after 90 s"), 90000).unref();

const web3 = new Web3(url);
web3.eth.transactionPollingInterval = 250;
const chainId = await web3.eth.getChainId();
check(chainId === BigInt(wantChainId), `chainId ${chainId} != ${wantChainId}`);
const head = await web3.eth.getBlockNumber();
check(head > 0n, "the localnet has blocks");
const block = await web3.eth.getBlock(head);
check(block.number === head, "block by number");
const byHash = await web3.eth.getBlock(block.hash);
check(byHash.hash === block.hash && byHash.parentHash === block.parentHash, "block by hash");
const parent = await web3.eth.getBlock(head - 1n);
check(parent.hash === block.parentHash, "parent hash links");

const acct = web3.eth.accounts.privateKeyToAccount(key);
web3.eth.accounts.wallet.add(acct);
const gasPrice = await web3.eth.getGasPrice();
check(gasPrice > 0n, "gas price");
const nonce = await web3.eth.getTransactionCount(acct.address);
const before = await web3.eth.getBalance(to);
const value = 10n ** 17n;

const receipt = await web3.eth.sendTransaction({ from: acct.address, to, value, gas: 21000n, gasPrice, type: 0n });
check(receipt.status === 1n, `receipt status ${receipt.status}`);
check(receipt.from === acct.address.toLowerCase() && receipt.to === to.toLowerCase(), "receipt from/to");
check(receipt.gasUsed === 21000n, `gasUsed ${receipt.gasUsed}`);
const tx = await web3.eth.getTransaction(receipt.transactionHash);
check(tx.hash === receipt.transactionHash && tx.blockNumber === receipt.blockNumber, "getTransaction");
check(BigInt(tx.nonce) === nonce, `tx nonce ${tx.nonce} != ${nonce}`);
const after = await web3.eth.getBalance(to);
check(after - before === value, `recipient balance grew by ${after - before}`);
check((await web3.eth.getTransactionCount(acct.address)) === nonce + 1n, "sender nonce advanced");

console.log(`rpc_web3_send: ok (chainId ${chainId}, tx ${receipt.transactionHash} in block ${receipt.blockNumber})`);
process.exit(0);
