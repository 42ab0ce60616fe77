// rpc_ethers_ws.mjs — ethers v6 over WebSocket: reads the head through
// `canon rpc`'s WebSocket, subscribes to new blocks (eth_subscribe newHeads),
// prints "subscribed", then expects the next block (written meanwhile by
// another process) to arrive and to match eth_getBlockByNumber.
//
//   node rpc_ethers_ws.mjs <ws url> <expected head number>
import { WebSocketProvider } from "ethers";

const [url, wantHead] = process.argv.slice(2);
const fail = (what) => { console.error(`rpc_ethers_ws: FAIL ${what}`); process.exit(1); };
setTimeout(() => fail("no new block within 20 s"), 20000).unref();

const provider = new WebSocketProvider(url);
const head = await provider.getBlockNumber();
if (head !== Number(wantHead)) fail(`blockNumber ${head} != ${wantHead}`);

const seen = new Promise((resolve) => provider.on("block", resolve));
// ethers subscribes asynchronously; give the eth_subscribe call time to land.
await new Promise((r) => setTimeout(r, 500));
console.log("subscribed");
const n = await seen;
if (n !== head + 1) fail(`first new block ${n}, wanted ${head + 1}`);
const b = await provider.getBlock(n);
if (!b || b.number !== n) fail("getBlock of the new head");
console.log(`rpc_ethers_ws: ok (new block ${n} ${b.hash})`);
await provider.destroy();
process.exit(0);
