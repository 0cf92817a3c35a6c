// The server-sent events reader's framing, on the text the server sends (protocol.sse).
"use strict";
const test = require("node:test");
const assert = require("node:assert/strict");
const fs = require("fs");
const path = require("path");
const vm = require("vm");

function runtime() {
  const context = { CustomFunctions: {}, TextDecoder, setTimeout };
  vm.createContext(context);
  vm.runInContext(fs.readFileSync(path.join(__dirname, "..", "src", "runtime.js"), "utf-8"), context);
  return context.Shiftwork;
}

test("events split at blank lines; a trailing part waits for the next chunk", () => {
  const { splitEvents } = runtime();
  const split = splitEvents('data: {"value":1}\n\n: heartbeat\n\ndata: {"va', false);
  assert.deepEqual(Array.from(split.blocks), ['data: {"value":1}', ": heartbeat"]);
  assert.equal(split.rest, 'data: {"va');
});

test("an end event, CRLF line ends, and a comment carry no data", () => {
  const { splitEvents, parseEvent } = runtime();
  const blocks = splitEvents('event: end\r\ndata: {"reason": "window"}\r\n\r\n', true).blocks;
  assert.deepEqual({ ...parseEvent(blocks[0]) }, { type: "end", data: '{"reason": "window"}' });
  assert.equal(parseEvent(": heartbeat"), null);
});

// the batch splitting, with a fetch that answers every cell with its position: no server sends 10,001 cells in a
// test's time, and what is checked here is only how the runtime cuts its queue
function batching() {
  const bodies = [];
  const context = {
    setTimeout,
    CustomFunctions: { Error, ErrorCode: {} },
    fetch: async (url, init) => {
      const body = JSON.parse(init.body);
      bodies.push(Object.assign({ url }, body));
      return { ok: true, status: 200, json: async () => ({ results: body.calls.map((_, i) => ({ value: i })) }) };
    },
  };
  vm.createContext(context);
  for (const name of ["auth.js", "runtime.js"]) {
    vm.runInContext(fs.readFileSync(path.join(__dirname, "..", "src", name), "utf-8"), context);
  }
  context.Shiftwork.configure({ endpoint: "http://127.0.0.1:1" });
  return { Shiftwork: context.Shiftwork, bodies };
}

test("more than 10,000 cells in one tick go in requests of at most 10,000, each cell answered from its slot", async () => {
  const { Shiftwork, bodies } = batching();
  const values = await Promise.all(Array.from({ length: 10001 }, (_, i) => Shiftwork.call("PRICER.GRID", [i])));
  assert.deepEqual(bodies.map((body) => body.calls.length), [10000, 1]);
  assert.equal(bodies[0].url, "http://127.0.0.1:1/excel/call"); // the build's --api-url, nobody signed in
  assert.equal(values[9999], 9999);
  assert.equal(values[10000], 0); // the first slot of the second request
});

test("cells whose arguments add up past 5 MB go in more than one request", async () => {
  const { Shiftwork, bodies } = batching();
  const text = "x".repeat(2000000);
  await Promise.all([1, 2, 3].map(() => Shiftwork.call("PRICER.WORDS", [text])));
  assert.deepEqual(bodies.map((body) => body.calls.length), [2, 1]);
});
