// rpc_ws_pending.mjs — a WebSocket client (ethers v6's WebSocketProvider)
// subscribes to newPendingTransactions on a running canon node, prints
// "subscribed", and must then hear of a transaction (sent meanwhile by
// another client) whose receipt appears with status 1.
//
//   node rpc_ws_pending.mjs <ws url>
import { WebSocketProvider } from "ethers";

const [url] = process.argv.slice(2);
const fail = (what) => {
  console.error(`rpc_ws_pending: FAIL ${what}`);
  process.exit(1);
};
setTimeout(() => fail("no pending transaction mined within 60 s"), 60000).unref();

const provider = new WebSocketProvider(url);
await provider.getBlockNumber();
const first = new Promise((resolve) => provider.once("pending", resolve));
// ethers subscribes asynchronously; give the eth_subscribe call time to land.
await new Promise((r) => setTimeout(r, 500));
console.log("subscribed");
const hash = await first;
if (typeof hash !== "string" || !/^0x[0-9a-f]{64}$/.test(hash)) fail(`pending hash ${hash}`);
let receipt = null;
for (let i = 0; i < 100 && !receipt; i++) {
  receipt = await provider.getTransactionReceipt(hash);
  if (!receipt) await new Promise((r) => setTimeout(r, 300));
}
if (!receipt || receipt.status !== 1) fail(`announced ${hash} was not mined with status 1`);
console.log(`rpc_ws_pending: ok (${hash} announced, mined in block ${receipt.blockNumber})`);
await provider.destroy();
process.exit(0);
