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
