// rpc_web3.mjs — web3.js v4 (a second client canon did not write) reads a
// chain through `canon rpc`: chain ID, block number, blocks by number and
// hash, a transaction, its receipt, balance, nonce, an eth_call and an
// eth_estimateGas of a transfer, and eth_getLogs (empty: no EVM, no logs),
// cross-checked against each other.
//
//   node rpc_web3.mjs <url> <expected chain id> <expected head number>
import { Web3 } from "web3";

const [url, wantChainId, wantHead] = process.argv.slice(2);
if (!url || !wantChainId || !wantHead) {
  console.error("usage: node rpc_web3.mjs URL CHAIN_ID HEAD");
  process.exit(2);
}

function check(cond, what) {
  if (!cond) {
    console.error(`rpc_web3: FAIL ${what}`);
    process.exit(1);
  }
}

const web3 = new Web3(url);
const chainId = await web3.eth.getChainId();
check(chainId === BigInt(wantChainId), `chainId ${chainId} != ${wantChainId}`);

const head = await web3.eth.getBlockNumber();
check(head === BigInt(wantHead), `blockNumber ${head} != ${wantHead}`);

const block = await web3.eth.getBlock(head);
check(block && block.number === head, "block by number");
check(block.transactions.length > 0, "block has transactions");
const byHash = await web3.eth.getBlock(block.hash);
check(byHash.hash === block.hash && byHash.parentHash === block.parentHash, "block by hash");
const parent = await web3.eth.getBlock(head - 1n);
check(parent.hash === block.parentHash, "parent hash links");
const full = await web3.eth.getBlock(head, true);
check(full.transactions[0].hash === block.transactions[0], "full block's first transaction");

const txHash = block.transactions[0];
const tx = await web3.eth.getTransaction(txHash);
check(tx && tx.hash === txHash, "transaction by hash");
check(tx.blockNumber === head && tx.blockHash === block.hash, "transaction's block");
check(tx.gas === 21000n, "transaction gas limit");
check(tx.to && BigInt(tx.value) > 0n, "transaction to/value");

const receipt = await web3.eth.getTransactionReceipt(txHash);
check(receipt && receipt.transactionHash === txHash, "receipt by hash");
check(receipt.status === 1n, "receipt status");
check(receipt.gasUsed === 21000n, "receipt gasUsed");
check(receipt.from === tx.from && receipt.to === tx.to, "receipt from/to match the tx");
check(receipt.blockHash === block.hash && receipt.transactionIndex === 0n, "receipt position");

const bal = await web3.eth.getBalance(tx.to);
check(bal >= BigInt(tx.value), "recipient balance covers the transfer");
const nonce = await web3.eth.getTransactionCount(tx.from);
check(nonce > BigInt(tx.nonce), "sender nonce advanced");

const call = await web3.eth.call({ from: tx.from, to: tx.to, value: 1n });
check(call === "0x", `eth_call to an account without code: ${call}`);
const gas = await web3.eth.estimateGas({ from: tx.from, to: tx.to, value: 1n, data: "0x00ff" });
check(gas === 21000n + 4n + 16n, `estimateGas ${gas}`);
const logs = await web3.eth.getPastLogs({ fromBlock: 0n, toBlock: head });
check(Array.isArray(logs) && logs.length === 0, "getPastLogs over the chain (no EVM, no logs)");

console.log(`rpc_web3: ok (chainId ${chainId}, head ${head}, tx ${txHash})`);
