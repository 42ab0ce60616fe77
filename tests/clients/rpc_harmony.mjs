// rpc_harmony.mjs — the Harmony SDK (@harmony-js/core, a client canon did
// not write) against canon's JSON-RPC.
//
//   node rpc_harmony.mjs read <url> <expected head number>
//     hmy_ reads through the SDK's Blockchain API (block number, a block, a
//     transaction, its receipt, hmy_getBalance with a one1 address) and
//     hmyv2_ reads through its messenger (decimal numbers), cross-checked
//     against each other and against the eth_ forms.
//   node rpc_harmony.mjs send <url> <private key hex> <recipient 0x or one1> [shard]
//     a Harmony-format same-shard transfer signed by the SDK's wallet (it
//     asks the node for the nonce), sent with hmy_sendRawTransaction and
//     confirmed by the SDK (it polls the receipt and the block number); the
//     recipient's balance must grow by the value.
import core from "@harmony-js/core";
import utils from "@harmony-js/utils";
import crypto from "@harmony-js/crypto";

const { Harmony } = core;
const { ChainType, ChainID, Unit } = utils;
const { toBech32, fromBech32 } = crypto;

const fail = (what) => {
  console.error(`rpc_harmony: FAIL ${what}`);
  process.exit(1);
};
const check = (cond, what) => cond || fail(what);

const [mode, url, ...rest] = process.argv.slice(2);
if (!url || (mode !== "read" && mode !== "send")) {
  console.error("usage: node rpc_harmony.mjs read URL HEAD | send URL KEY TO [SHARD]");
  process.exit(2);
}
setTimeout(() => fail("timed out after 90 s"), 90000).unref();

// canon's localnet uses Harmony's localnet chain ID (2).
const hmy = new Harmony(url, { chainType: ChainType.Harmony, chainId: ChainID.HmyLocal });

async function call(method, params, prefix) {
  const r = await hmy.messenger.send(method, params, prefix);
  if (r.error) fail(`${prefix || "hmy"} ${method}: ${JSON.stringify(r.error)}`);
  return r.result;
}

// Plain JSON-RPC for the eth_ forms the SDK does not speak.
async function raw(method, params) {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
  });
  const j = await res.json();
  if (j.error) fail(`${method}: ${JSON.stringify(j.error)}`);
  return j.result;
}

if (mode === "read") {
  const wantHead = Number(rest[0]);
  const bn = await hmy.blockchain.getBlockNumber();
  check(!bn.error && Number(bn.result) === wantHead, `hmy_blockNumber ${JSON.stringify(bn.result)} != ${wantHead}`);

  const blk = await hmy.blockchain.getBlockByNumber({ blockNumber: "0x" + wantHead.toString(16), returnObject: true });
  check(!blk.error, `hmy_getBlockByNumber: ${JSON.stringify(blk.error)}`);
  const b = blk.result;
  check(Number(b.number) === wantHead, "block number");
  check(b.miner.startsWith("one1"), `hmy block miner ${b.miner} is not one1`);
  check(b.transactions.length > 0 && typeof b.transactions[0] === "object", "block has full transactions");
  const tx = b.transactions[0];
  check(tx.from.startsWith("one1") && tx.to.startsWith("one1"), "hmy tx addresses are one1");

  const byHash = await hmy.blockchain.getBlockByHash({ blockHash: b.hash });
  check(!byHash.error && byHash.result.hash === b.hash, "hmy_getBlockByHash");

  const t = await hmy.blockchain.getTransactionByHash({ txnHash: tx.hash });
  check(!t.error && t.result.hash === tx.hash && t.result.blockHash === b.hash, "hmy_getTransactionByHash");
  const rc = await hmy.blockchain.getTransactionReceipt({ txnHash: tx.hash });
  check(!rc.error && rc.result.transactionHash === tx.hash, "hmy_getTransactionReceipt");
  check(Number(rc.result.status) === 1 && rc.result.from === tx.from, "receipt status and sender");

  // hmy_getBalance with a one1 address, the SDK's way, equals eth_getBalance
  // of the same account in 0x form.
  const hex = fromBech32(tx.to);
  check(toBech32(hex) === tx.to, "bech32 round trip");
  const bal = await hmy.blockchain.getBalance({ address: tx.to });
  check(!bal.error, `hmy_getBalance: ${JSON.stringify(bal.error)}`);
  const ethBal = await raw("eth_getBalance", [hex.toLowerCase(), "latest"]);
  check(BigInt(bal.result) === BigInt(ethBal), `hmy_getBalance(one1) ${bal.result} != eth_getBalance ${ethBal}`);
  check(BigInt(bal.result) >= BigInt(tx.value), "recipient balance covers the transfer");

  // hmyv2: the same block with decimal numbers, a range of blocks, the
  // balance as a JSON number.
  const v2 = await call("hmy_getBlockByNumber", [wantHead, { fullTx: true, inclStaking: true }], "hmyv2");
  check(v2.number === wantHead && v2.hash === b.hash, "hmyv2_getBlockByNumber");
  check(typeof v2.gasLimit === "number" && typeof v2.transactions[0].nonce === "number", "hmyv2 numbers are decimal");
  check(v2.transactions[0].hash === tx.hash, "hmyv2 and hmy agree on the first transaction");
  const blocks = await call("hmy_getBlocks", [1, wantHead, { fullTx: false }], "hmyv2");
  check(blocks.length === wantHead && blocks[wantHead - 1].hash === b.hash, "hmyv2_getBlocks");
  for (let i = 1; i < blocks.length; i++) check(blocks[i].parentHash === blocks[i - 1].hash, "hmyv2_getBlocks links");
  const v2bal = await call("hmy_getBalance", [tx.to], "hmyv2");
  check(BigInt(v2bal) === BigInt(ethBal), "hmyv2_getBalance");
  const meta = await call("hmy_getNodeMetadata", [], "hmyv2");
  check(meta["current-block-number"] === wantHead, "hmyv2_getNodeMetadata height");
  const ss = await hmy.blockchain.getShardingStructure();
  check(!ss.error && ss.result.some((s) => s.current), "hmy_getShardingStructure");

  console.log(`rpc_harmony: read ok (head ${wantHead}, tx ${tx.hash}, ${tx.to} balance ${bal.result})`);
  process.exit(0);
}

// send
const [key, toArg, shardArg] = rest;
const shard = Number(shardArg || 0);
const to = toArg.startsWith("one1") ? toArg : toBech32(toArg);
const acct = hmy.wallet.addByPrivateKey(key.startsWith("0x") ? key : "0x" + key);
const before = BigInt(await call("hmy_getBalance", [to, "latest"]));
const value = new Unit("1").asOne().toWei(); // 1 ONE
const txn = hmy.transactions.newTx({
  to,
  value,
  gasLimit: "21000",
  shardID: shard,
  toShardID: shard,
  gasPrice: new Unit("100").asGwei().toWei(),
});
const signed = await hmy.wallet.signTransaction(txn);
const [sent, hash] = await signed.sendTransaction();
check(typeof hash === "string" && hash.length === 66, `sendTransaction returned ${hash}`);
const confirmed = await sent.confirm(hash, 40, 1000);
check(confirmed.isConfirmed(), `transaction ${hash} not confirmed: ${confirmed.txStatus}`);
const rc = await call("hmy_getTransactionReceipt", [hash]);
check(rc && Number(rc.status) === 1, "receipt status");
check(rc.from === acct.bech32Address, `receipt from ${rc.from} != ${acct.bech32Address}`);
const after = BigInt(await call("hmy_getBalance", [to, "latest"]));
check(after - before === BigInt(value.toString()), `recipient balance grew by ${after - before}, wanted ${value}`);
console.log(`rpc_harmony: send ok (tx ${hash} in block ${Number(rc.blockNumber)}, ${acct.bech32Address} -> ${to})`);
process.exit(0);
