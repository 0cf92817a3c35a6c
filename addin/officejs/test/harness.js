// Loads a built add-in (auth.js, runtime.js and one namespace's generated functions.js) into a fresh vm context,
// as Office's shared runtime loads taskpane.html's scripts, with a CustomFunctions shim and a fetch that counts.
"use strict";
const fs = require("fs");
const path = require("path");
const vm = require("vm");

// CustomFunctions.ErrorCode's values are the errors Excel shows (custom-functions-runtime's d.ts)
const ERROR_CODES = {
  invalidValue: "#VALUE!",
  notAvailable: "#N/A",
  divisionByZero: "#DIV/0!",
  invalidNumber: "#NUM!",
  nullReference: "#NULL!",
  invalidName: "#NAME?",
  invalidReference: "#REF!",
};

class CustomFunctionsError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

function env(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run these tests through tests/excel/test_officejs.py`);
  return value;
}

function expected() {
  return JSON.parse(fs.readFileSync(env("SHIFTWORK_EXPECTED"), "utf-8"));
}

// {functions, requests, context}: functions[ID] is what CustomFunctions.associate got; requests, every fetch
function load(namespace) {
  const out = env("SHIFTWORK_ADDIN_DIR");
  const functions = {};
  const requests = [];
  const context = {
    console,
    setTimeout,
    clearTimeout,
    AbortController,
    TextDecoder,
    Uint8Array,
    URL,
    fetch: (url, init = {}) => {
      requests.push({ url: String(url), init, body: init.body ? JSON.parse(init.body) : null });
      return fetch(url, init);
    },
    CustomFunctions: {
      Error: CustomFunctionsError,
      ErrorCode: ERROR_CODES,
      associate: (id, fn) => {
        functions[id] = fn;
      },
    },
  };
  vm.createContext(context);
  const scripts = ["auth.js", "runtime.js", path.join("addins", namespace.toLowerCase(), "functions.js")];
  for (const script of scripts) {
    const file = path.join(out, script);
    vm.runInContext(fs.readFileSync(file, "utf-8"), context, { filename: file });
  }
  return { functions, requests, context, Shiftwork: context.Shiftwork, auth: context.ShiftworkAuth };
}

// a loaded add-in signed in with a token, as the task pane leaves it
async function signedIn(namespace, token = env("SHIFTWORK_TOKEN")) {
  const addin = load(namespace);
  await addin.auth.signInWithToken(env("SHIFTWORK_URL"), token);
  return addin;
}

function invocation() {
  const values = [];
  const waiters = [];
  const self = {
    values,
    setResult(value) {
      values.push(value);
      waiters.filter((w) => values.length >= w.count).forEach((w) => w.resolve());
    },
    onCanceled: null,
    until(count, ms = 5000) {
      if (values.length >= count) return Promise.resolve();
      return new Promise((resolve, reject) => {
        // cleared once met: a pending timer would keep node's test process alive for its full length
        const timer = setTimeout(() => reject(new Error(`${values.length} values after ${ms} ms, not ${count}`)), ms);
        waiters.push({ count, resolve: () => (clearTimeout(timer), resolve()) });
      });
    },
  };
  return self;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

module.exports = { load, signedIn, invocation, expected, env, sleep, CustomFunctionsError, ERROR_CODES };
