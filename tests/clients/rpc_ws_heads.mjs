// rpc_ws_heads.mjs — a WebSocket client (ethers v6's WebSocketProvider)
// subscribes to newHeads on a running canon node and must receive COUNT
// consecutive blocks, each the child of the one before.
//
//   node rpc_ws_heads.mjs <ws url> <count>
import { WebSocketProvider } from "ethers";

const [url, countArg] = process.argv.slice(2);
const count = Number(countArg || 5);
const fail = (what) => {
  console.error(`rpc_ws_heads: FAIL ${what}`);
  process.exit(1);
};
setTimeout(() => fail(`fewer than ${count} blocks within 60 s`), 60000).unref();

const provider = new WebSocketProvider(url);
const seen = [];
const done = new Promise((resolve) => {
  provider.on("block", (n) => {
    seen.push(n);
    if (seen.length === count) resolve();
  });
});
await done;
for (let i = 1; i < seen.length; i++)
  if (seen[i] !== seen[i - 1] + 1) fail(`blocks ${seen.join(",")} are not consecutive`);
let prev = await provider.getBlock(seen[0]);
for (let i = 1; i < seen.length; i++) {
  const b = await provider.getBlock(seen[i]);
  if (!b || b.parentHash !== prev.hash) fail(`block ${seen[i]} does not link to ${seen[i - 1]}`);
  prev = b;
}
console.log(`rpc_ws_heads: ok (blocks ${seen[0]}..${seen[seen.length - 1]})`);
await provider.destroy();
process.exit(0);
