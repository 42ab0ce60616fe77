// rpc_ethers.mjs — ethers v6 (a client canon did not write) reads a chain
// through `canon rpc`: chain ID, block number, a block, a transaction and its
// receipt, cross-checked against each other.
//
//   node rpc_ethers.mjs <url> <expected chain id> <expected head number>
import { JsonRpcProvider } from "ethers";

const [url, wantChainId, wantHead] = process.argv.slice(2);
if (!url || !wantChainId || !wantHead) {
  console.error("usage: node rpc_ethers.mjs URL CHAIN_ID HEAD");
  process.exit(2);
}

function check(cond, what) {
  if (!cond) {
    console.error(`rpc_ethers: FAIL ${what}`);
    process.exit(1);
  }
}

const provider = new JsonRpcProvider(url, undefined, { staticNetwork: null, batchMaxCount: 1 });
const net = await provider.getNetwork();
check(net.chainId === BigInt(wantChainId), `chainId ${net.chainId} != ${wantChainId}`);

const head = await provider.getBlockNumber();
check(head === Number(wantHead), `blockNumber ${head} != ${wantHead}`);

const block = await provider.getBlock(head);
check(block && block.number === head, "block by number");
check(block.transactions.length > 0, "block has transactions");
const byHash = await provider.getBlock(block.hash);
check(byHash.hash === block.hash && byHash.parentHash === block.parentHash, "block by hash");
const parent = await provider.getBlock(head - 1);
check(parent.hash === block.parentHash, "parent hash links");

const txHash = block.transactions[0];
const tx = await provider.getTransaction(txHash);
check(tx && tx.hash === txHash, "transaction by hash");
check(tx.blockNumber === head && tx.blockHash === block.hash, "transaction's block");
check(tx.gasLimit === 21000n, "transaction gas limit");
check(tx.to !== null && tx.value > 0n, "transaction to/value");

const receipt = await provider.getTransactionReceipt(txHash);
check(receipt && receipt.hash === txHash, "receipt by hash");
check(receipt.status === 1, "receipt status");
check(receipt.gasUsed === 21000n, "receipt gasUsed");
check(receipt.from === tx.from && receipt.to === tx.to, "receipt from/to match the tx");
check(receipt.blockHash === block.hash && receipt.index === 0, "receipt position");

const bal = await provider.getBalance(tx.to);
check(bal >= tx.value, "recipient balance covers the transfer");
const nonce = await provider.getTransactionCount(tx.from);
check(nonce > tx.nonce, "sender nonce advanced");

console.log(`rpc_ethers: ok (chainId ${net.chainId}, head ${head}, tx ${txHash})`);
provider.destroy();
