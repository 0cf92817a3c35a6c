// The client every generated functions.js forwards to: cells batched into one POST /excel/call per short timer
// (Microsoft's batching pattern for custom functions), every streaming cell on one POST /excel/streams (server-sent
// events, reconnected after each window), and failures as CustomFunctions.Error with the server's message.
// Plain ES2017 for Office's shared runtime (a browser page); node's tests run it in a vm context.
/* global CustomFunctions, ShiftworkAuth */
(function (root) {
  "use strict";

  const MAX_CALLS = 10000; // the server's cells per request (protocol.MAX_CALLS)
  const MAX_BODY = 5000000; // under the 6 MB a Lambda takes, with room for the envelope
  const SIGN_IN = "sign in in the Shiftwork task pane (Home tab, Shiftwork button)";
  const RETRY_MS = [1000, 2000, 5000, 10000, 30000]; // a dropped stream reconnects after these, then every 30 s

  const settings = { namespace: "", name: "", endpoint: null, errorCodes: {}, flushMs: 10, windowSeconds: 25 };
  let queue = [];
  let timer = null;

  function configure(values) {
    Object.assign(settings, values || {});
  }

  function officeError(code, message) {
    if (typeof CustomFunctions === "undefined") return new Error(message); // the page outside Excel
    const codes = CustomFunctions.ErrorCode;
    const name = settings.errorCodes[code] || code;
    const known = Object.prototype.hasOwnProperty.call(codes, name) ? codes[name] : codes.invalidValue;
    return new CustomFunctions.Error(known, String(message || "").slice(0, 255));
  }

  // where the functions call and with which token: the signed-in server's, else the one the build was given
  // (--api-url), else the page's own origin (locally the files and the functions share one server)
  async function connection() {
    const session = await ShiftworkAuth.credentials();
    const apiUrl = ((session && session.apiUrl) || defaultEndpoint()).replace(/\/+$/, "");
    const headers = { "Content-Type": "application/json", Accept: "application/json" };
    if (session && session.token) headers.Authorization = `Bearer ${session.token}`;
    return { apiUrl, headers, signedIn: Boolean(session) };
  }

  function defaultEndpoint() {
    return settings.endpoint || ShiftworkAuth.pageOrigin();
  }

  async function failure(response, apiUrl) {
    let message = "";
    try {
      const body = JSON.parse(await response.text());
      message = body.message || body.error || "";
    } catch (error) {
      message = response.statusText || "";
    }
    if (response.status === 401 || response.status === 403) {
      return officeError("#N/A", `${SIGN_IN}: ${apiUrl} refused the token (${response.status})`);
    }
    const code = response.status === 429 || response.status >= 500 ? "#N/A" : "#VALUE!";
    return officeError(code, `${apiUrl} answered ${response.status}: ${message}`);
  }

  function unreachable(apiUrl, error) {
    return officeError("#N/A", `cannot reach ${apiUrl || "the Shiftwork server"}: ${error && error.message}`);
  }

  // -- batched calls ------------------------------------------------------------------------------------------
  function call(name, args) {
    return new Promise((resolve, reject) => {
      queue.push({ function: name, args: args.map(argument), resolve, reject });
      if (timer === null) timer = setTimeout(flush, settings.flushMs);
    });
  }

  // JSON has no undefined: a missing optional argument is null, as the protocol says
  function argument(value) {
    return value === undefined ? null : value;
  }

  function batches(entries) {
    const out = [];
    let current = [];
    let size = 0;
    for (const entry of entries) {
      const bytes = JSON.stringify({ function: entry.function, args: entry.args }).length + 1;
      if (current.length && (current.length >= MAX_CALLS || size + bytes > MAX_BODY)) {
        out.push(current);
        current = [];
        size = 0;
      }
      current.push(entry);
      size += bytes;
    }
    if (current.length) out.push(current);
    return out;
  }

  async function flush() {
    timer = null;
    const entries = queue;
    queue = [];
    if (!entries.length) return;
    await Promise.all(batches(entries).map(send));
  }

  async function send(entries) {
    let apiUrl = "";
    try {
      const target = await connection();
      apiUrl = target.apiUrl;
      const calls = entries.map((entry) => ({ function: entry.function, args: entry.args }));
      const response = await fetch(`${apiUrl}/excel/call`, {
        method: "POST",
        headers: target.headers,
        body: JSON.stringify({ calls }),
      });
      if (!response.ok) {
        const error = await failure(response, apiUrl);
        entries.forEach((entry) => entry.reject(error));
        return;
      }
      const body = await response.json();
      entries.forEach((entry, index) => settle(entry, body.results && body.results[index]));
    } catch (error) {
      const refusal = unreachable(apiUrl, error);
      entries.forEach((entry) => entry.reject(refusal));
    }
  }

  function settle(entry, result) {
    if (!result) entry.reject(officeError("#N/A", "the server sent fewer results than cells: recalculate"));
    else if (result.error) entry.reject(officeError(result.error.code, result.error.message));
    else entry.resolve(result.value);
  }

  // -- streaming ----------------------------------------------------------------------------------------------
  // Every streaming cell rides on ONE POST /excel/streams: a browser keeps about six connections to a server, and
  // a request per streaming cell would hold them all while every other call waited. When a cell is added or
  // cleared the connection is opened again (on the same short timer as calls), with each cell's `last` value,
  // which the server then does not send again.
  const live = new Map(); // id -> {function, args, last, show}
  let nextId = 1;
  let link = null; // {controller} of the open connection
  let reopenTimer = null;
  let failures = 0;

  function stream(name, args, invocation) {
    const id = `c${nextId++}`;
    const cell = { function: name, args: args.map(argument), last: null, show: null };
    cell.show = (value) => {
      if (live.get(id) === cell) invocation.setResult(value);
    };
    invocation.onCanceled = () => {
      live.delete(id);
      reopen();
    };
    live.set(id, cell);
    reopen();
  }

  function reopen(delayMs = settings.flushMs) {
    if (reopenTimer !== null) return;
    reopenTimer = setTimeout(() => {
      reopenTimer = null;
      if (link) link.controller.abort(); // the old set of cells: its functions are closed by the server
      link = null;
      if (live.size) follow().catch(() => {});
    }, delayMs);
  }

  async function follow() {
    const mine = { controller: new AbortController() };
    link = mine;
    const cells = new Map(live);
    let apiUrl = "";
    let reason;
    try {
      const target = await connection();
      apiUrl = target.apiUrl;
      const streams = [...cells].map(([id, cell]) => ({ id, function: cell.function, args: cell.args, last: cell.last }));
      const response = await fetch(`${apiUrl}/excel/streams`, {
        method: "POST",
        headers: Object.assign({}, target.headers, { Accept: "text/event-stream" }),
        body: JSON.stringify({ streams, window_seconds: settings.windowSeconds }),
        signal: mine.controller.signal,
      });
      if (!response.ok) {
        // a refusal (no token, a bad request) stays on its cells until they are entered again
        const error = await failure(response, apiUrl);
        cells.forEach((cell, id) => (cell.show(error), live.delete(id)));
        return;
      }
      reason = await readEvents(response, (event) => {
        const cell = cells.get(event.id);
        if (!cell) return;
        if (event.done !== undefined) live.delete(event.id); // its function ended: it keeps what it shows
        else if ("value" in event) {
          cell.last = event.value;
          failures = 0;
          cell.show(event.value);
        } else if (event.error) cell.show(officeError(event.error.code, event.error.message));
      });
    } catch (error) {
      if (link !== mine) return; // aborted to open a new connection: nothing went wrong
      cells.forEach((cell) => cell.show(unreachable(apiUrl, error)));
    }
    if (link !== mine) return;
    link = null;
    if (!live.size) return;
    if (reason === "window" || reason === "done") reopen(0); // "done": the cells that ended are gone from live
    else reopen(RETRY_MS[Math.min(failures++, RETRY_MS.length - 1)]); // the connection dropped
  }

  // calls onData per `data:` event; returns the `event: end` reason, or undefined when the connection dropped
  async function readEvents(response, onData) {
    let reason;
    const handle = (block) => {
      const event = parseEvent(block);
      if (!event || event.data === "") return;
      const data = JSON.parse(event.data);
      if (event.type === "end") reason = data.reason;
      else if (event.type === "done") onData({ id: data.id, done: data.reason });
      else onData(data);
    };
    if (!response.body || typeof response.body.getReader !== "function") {
      splitEvents(await response.text(), true).blocks.forEach(handle);
      return reason;
    }
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      const { done, value } = await reader.read();
      buffer += decoder.decode(value || new Uint8Array(), { stream: !done });
      const split = splitEvents(buffer, done);
      buffer = split.rest;
      split.blocks.forEach(handle);
      if (done || reason !== undefined) {
        if (!done) reader.cancel().catch(() => {});
        return reason;
      }
    }
  }

  function splitEvents(text, final) {
    const parts = text.replace(/\r\n?/g, "\n").split("\n\n");
    const rest = final ? "" : parts.pop();
    return { blocks: parts.filter((part) => part.trim() !== ""), rest };
  }

  function parseEvent(block) {
    const event = { type: "message", data: [] };
    for (const line of block.split("\n")) {
      if (line === "" || line.startsWith(":")) continue; // a heartbeat comment
      const colon = line.indexOf(":");
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
      if (field === "event") event.type = value;
      else if (field === "data") event.data.push(value);
    }
    return event.data.length ? { type: event.type, data: event.data.join("\n") } : null;
  }

  // the task pane's "test connection": what this server serves, with the token the functions would send
  async function describe() {
    const target = await connection();
    let response;
    try {
      response = await fetch(`${target.apiUrl}/excel/functions`, { headers: target.headers });
    } catch (error) {
      throw unreachable(target.apiUrl, error);
    }
    if (!response.ok) throw await failure(response, target.apiUrl);
    return Object.assign({ apiUrl: target.apiUrl }, await response.json());
  }

  const api = {
    configure,
    call,
    stream,
    flush,
    describe,
    defaultEndpoint,
    settings,
    parseEvent,
    splitEvents,
    SIGN_IN,
    liveCells: () => live.size,
  };
  root.Shiftwork = api;
  if (typeof module !== "undefined" && module.exports) module.exports = api;
})(typeof globalThis !== "undefined" ? globalThis : this);
