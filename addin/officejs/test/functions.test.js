// The generated PRICER and SHIFTWORK functions against the real local server (tests/excel/test_officejs.py
// starts it, builds the add-in and computes the expected values by calling examples/pricer.py in Python).
"use strict";
const test = require("node:test");
const assert = require("node:assert/strict");
const { signedIn, invocation, expected, sleep, CustomFunctionsError } = require("./harness");

const near = (actual, wanted) => assert.ok(Math.abs(actual - wanted) < 1e-9, `${actual} is not ${wanted}`);
const calls = (requests) => requests.filter((r) => r.url.endsWith("/excel/call"));
const streams = (requests) => requests.filter((r) => r.url.endsWith("/excel/streams"));

test("PRICER.PRICE_OPTION gives the Python function's price", async () => {
  const { functions } = await signedIn("PRICER");
  near(await functions.PRICE_OPTION(100, 95, 0.2, 0.01, 1), expected().price_option.call);
  near(await functions.PRICE_OPTION(100, 95, 0.2, 0.01, 1, false), expected().price_option.put);
  near(await functions.PRICE_OPTION(100, 95, 0.2, 0.01, 1, null), expected().price_option.call); // [call] omitted
});

test("200 cells recalculated in one tick make one /excel/call request", async () => {
  const { functions, requests } = await signedIn("PRICER");
  const spots = Array.from({ length: 200 }, (_, i) => 50 + i);
  const values = await Promise.all(spots.map((spot) => functions.PRICE_OPTION(spot, 95, 0.2, 0.01, 1)));
  assert.equal(calls(requests).length, 1);
  assert.equal(calls(requests)[0].body.calls.length, 200);
  values.forEach((value, i) => near(value, expected().batch[i]));
});

test("a range argument and a spilled 2-D result (PRICER.GRID)", async () => {
  const { functions } = await signedIn("PRICER");
  const grid = await functions.GRID([[90, 100], [110, 120]], 95);
  assert.equal(grid.length, 2);
  grid.forEach((row, r) => row.forEach((value, c) => near(value, expected().grid[r][c])));
});

test("a date is an Excel serial number, forwarded as is (PRICER.YEAR_FRACTION)", async () => {
  const { functions } = await signedIn("PRICER");
  const { args, value } = expected().year_fraction; // 2027-01-01 from 2026-01-01, as serials
  near(await functions.YEAR_FRACTION(...args), value);
});

test("an error cell is a CustomFunctions.Error with the code and the server's message", async () => {
  const { functions } = await signedIn("PRICER");
  await assert.rejects(functions.PRICE_OPTION("x", 95, 0.2, 0.01, 1), (error) => {
    assert.ok(error instanceof CustomFunctionsError);
    assert.equal(error.code, "#VALUE!"); // CustomFunctions.ErrorCode.invalidValue
    assert.equal(error.message, expected().errors.text_spot);
    return true;
  });
  await assert.rejects(functions.PRICE_OPTION(-1, 95, 0.2, 0.01, 1), (error) => {
    assert.equal(error.code, "#NUM!"); // invalidNumber: the function raised ExcelError("#NUM!", ...)
    assert.equal(error.message, expected().errors.negative_spot);
    return true;
  });
});

test("one bad cell fails alone: the rest of its batch gets values", async () => {
  const { functions, requests } = await signedIn("PRICER");
  const results = await Promise.allSettled([
    functions.PRICE_OPTION(100, 95, 0.2, 0.01, 1),
    functions.PRICE_OPTION("x", 95, 0.2, 0.01, 1),
  ]);
  assert.equal(calls(requests).length, 1);
  near(results[0].value, expected().price_option.call);
  assert.equal(results[1].reason.code, "#VALUE!");
});

test("a streaming cell (PRICER.TICKER) gets values until cancelled, and cancelling aborts the request", async () => {
  const { functions, requests } = await signedIn("PRICER");
  const cell = invocation();
  functions.TICKER(100, 0.2, 0.05, cell);
  await cell.until(3);
  assert.deepEqual(cell.values.slice(0, 3), expected().ticker.slice(0, 3));
  assert.equal(typeof cell.onCanceled, "function");
  const request = streams(requests)[0];
  assert.equal(request.init.signal.aborted, false);
  cell.onCanceled();
  await sleep(50); // the connection is closed on the calls' short timer
  assert.equal(request.init.signal.aborted, true);
  const shown = cell.values.length;
  await sleep(300); // six more ticks' time
  assert.equal(cell.values.length, shown);
  assert.equal(streams(requests).length, 1);
});

test("eight streaming cells share one connection; clearing one reopens it with the other seven", async () => {
  const { functions, requests, Shiftwork } = await signedIn("PRICER");
  const cells = Array.from({ length: 8 }, () => invocation());
  cells.forEach((cell, row) => functions.TICKER(100 + row, 0.2, 0.05, cell));
  await Promise.all(cells.map((cell) => cell.until(2)));
  assert.equal(streams(requests).length, 1);
  assert.equal(streams(requests)[0].body.streams.length, 8);
  cells.forEach((cell, row) => assert.equal(cell.values[0], 100 + row));
  cells[3].onCanceled();
  await sleep(50);
  assert.equal(streams(requests)[0].init.signal.aborted, true);
  assert.equal(streams(requests).length, 2);
  const reopened = streams(requests)[1].body.streams;
  assert.equal(reopened.length, 7);
  assert.ok(reopened.every((sent) => sent.last !== null), "each cell reconnects with the value it shows");
  const before = cells.map((cell) => cell.values.length);
  await Promise.all(cells.filter((_, row) => row !== 3).map((cell, i) => cell.until(before[i < 3 ? i : i + 1] + 2)));
  const cleared = cells[3].values.length;
  await sleep(200);
  assert.equal(cells[3].values.length, cleared);
  cells.forEach((cell) => cell.onCanceled && cell.onCanceled());
  await sleep(50);
  assert.equal(Shiftwork.liveCells(), 0);
});

test("a stream's window ends and the cell reconnects with the value it shows, which is not sent again", async () => {
  const { functions, requests, Shiftwork } = await signedIn("PRICER");
  Shiftwork.configure({ windowSeconds: 0.12 });
  const cell = invocation();
  functions.TICKER(100, 0.2, 0.05, cell);
  await cell.until(6);
  cell.onCanceled();
  const sent = streams(requests);
  assert.ok(sent.length >= 2, `${sent.length} stream requests`);
  assert.equal(sent[0].body.streams[0].last, null);
  const last = sent[1].body.streams[0].last;
  assert.ok(cell.values.includes(last), `reconnected with last=${last}`);
  for (let i = 1; i < cell.values.length; i += 1) assert.notEqual(cell.values[i], cell.values[i - 1]);
});

test("without a readable body (a buffering proxy) a stream's events are read from text(), window after window", async () => {
  const addin = await signedIn("PRICER");
  const fetchWithBody = addin.context.fetch;
  addin.context.fetch = async (url, init) => {
    const response = await fetchWithBody(url, init);
    if (!String(url).endsWith("/excel/streams")) return response;
    return { ok: response.ok, status: response.status, body: null, text: () => response.text() };
  };
  addin.Shiftwork.configure({ windowSeconds: 0.12 });
  const cell = invocation();
  addin.functions.TICKER(100, 0.2, 0.05, cell);
  await cell.until(4);
  cell.onCanceled();
  assert.deepEqual(cell.values.slice(0, 2), expected().ticker.slice(0, 2));
  assert.ok(streams(addin.requests).length >= 2);
});

test("a wrong token: the cell says to sign in in the task pane", async () => {
  const { functions } = await signedIn("PRICER", "not-the-token");
  await assert.rejects(functions.PRICE_OPTION(100, 95, 0.2, 0.01, 1), (error) => {
    assert.equal(error.code, "#N/A");
    assert.match(error.message, /^sign in in the Shiftwork task pane/);
    assert.match(error.message, /401/);
    return true;
  });
  const cell = invocation();
  functions.TICKER(100, 0.2, 0.05, cell);
  await cell.until(1);
  assert.ok(cell.values[0] instanceof CustomFunctionsError);
  assert.match(cell.values[0].message, /^sign in in the Shiftwork task pane/);
});

test("a server that is not there: the cell says it cannot be reached", async () => {
  const { functions, auth } = await signedIn("PRICER");
  await auth.signInWithToken("http://127.0.0.1:9", "token"); // the discard port: nothing listens
  await assert.rejects(functions.PRICE_OPTION(100, 95, 0.2, 0.01, 1), (error) => {
    assert.equal(error.code, "#N/A");
    assert.match(error.message, /^cannot reach http:\/\/127\.0\.0\.1:9: /);
    return true;
  });
});

test("SHIFTWORK.NEXT_FIRES spills a column of date serials; RUN forwards its repeating arguments", async () => {
  const { functions, requests } = await signedIn("SHIFTWORK");
  const fires = await functions.NEXT_FIRES("0 9 * * *", "UTC", 3);
  assert.deepEqual(fires, expected().next_fires);
  await assert.rejects(functions.RUN("no-such-definition", ["day", "2026-12-01"]), (error) => {
    assert.equal(error.code, expected().errors.run_unknown.code);
    assert.equal(error.message, expected().errors.run_unknown.message);
    return true;
  });
  assert.deepEqual(calls(requests)[1].body.calls[0].args, ["no-such-definition", "day", "2026-12-01"]);
});
