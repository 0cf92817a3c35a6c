// The task pane: pick the server, sign in as its /excel/config says (a pasted token locally, Cognito on AWS),
// test the connection and list the functions it serves. The sign-in logic is auth.js's (tested under node);
// this file only wires it to the page.
/* global document, Office, Shiftwork, ShiftworkAuth */
(function () {
  "use strict";
  if (typeof document === "undefined") return;

  let config = null;
  let pending = null;
  const $ = (id) => document.getElementById(id);

  function status(text, kind) {
    $("status").textContent = text;
    $("status").className = kind || "";
  }

  function show(form) {
    for (const id of ["token-form", "password-form", "mfa-form", "new-password-form", "mfa-setup-form"]) {
      $(id).hidden = id !== form;
    }
  }

  async function connect() {
    try {
      config = await ShiftworkAuth.loadConfig($("endpoint").value);
      $("endpoint").value = config.endpoint;
      if (config.auth === "cognito") {
        $("mode").textContent = `Sign in with your Shiftwork user (functions call ${config.api_url || config.endpoint}).`;
        show("password-form");
      } else {
        $("mode").textContent = "Local server: paste the token `shiftwork excel serve` printed.";
        show("token-form");
      }
      status("");
    } catch (error) {
      status(error.message, "error");
    }
  }

  async function signedIn(text) {
    show(null);
    status(text, "ok");
    await test();
  }

  async function saveToken() {
    try {
      await ShiftworkAuth.signInWithToken(config ? config.endpoint : $("endpoint").value, $("token").value);
      try {
        await Shiftwork.describe(); // a token the server refuses is not kept: the form stays to paste another
      } catch (error) {
        await ShiftworkAuth.signOut();
        throw error;
      }
      $("token").value = "";
      await signedIn("Signed in with the token.");
    } catch (error) {
      status(error.message, "error");
    }
  }

  // each step of a sign-in: signed in, or the form for the challenge Cognito sent
  async function step(outcome) {
    pending = outcome.pending || null;
    if (!outcome.challenge) return signedIn(`Signed in as ${$("username").value}.`);
    if (outcome.challenge === "NEW_PASSWORD_REQUIRED") {
      show("new-password-form");
      return status("First sign-in: choose a new password.");
    }
    if (outcome.challenge === "MFA_SETUP") {
      $("mfa-secret").textContent = pending.secret;
      $("mfa-link").href = pending.otpauth;
      show("mfa-setup-form");
      return status("Add Shiftwork to your authenticator app with this key, then enter the code it shows.");
    }
    show("mfa-form");
    return status("Enter the 6-digit code from your authenticator app.");
  }

  function guarded(action) {
    return async () => {
      try {
        await step(await action());
      } catch (error) {
        status(error.message, "error");
      }
    };
  }

  const signIn = guarded(async () => {
    const outcome = await ShiftworkAuth.signInWithPassword(config, $("username").value, $("password").value);
    $("password").value = "";
    return outcome;
  });
  const sendCode = guarded(() => ShiftworkAuth.answerMfa(pending, $("code").value));
  const sendNewPassword = guarded(() => ShiftworkAuth.answerNewPassword(pending, $("new-password").value));
  const sendSetupCode = guarded(() => ShiftworkAuth.answerMfaSetup(pending, $("setup-code").value));

  function listFunctions(described) {
    const list = $("functions");
    list.textContent = "";
    for (const addin of described.addins) {
      for (const fn of addin.functions) {
        const item = document.createElement("li");
        const code = document.createElement("code");
        code.textContent = fn.signature + (fn.streaming ? "  (streams)" : "");
        const text = document.createElement("span");
        text.className = "description";
        text.textContent = fn.description;
        item.append(code, text);
        list.append(item);
      }
    }
  }

  async function test() {
    const started = Date.now();
    try {
      const described = await Shiftwork.describe();
      const count = described.addins.reduce((n, addin) => n + addin.functions.length, 0);
      const namespaces = described.addins.map((addin) => addin.namespace).join(", ");
      status(`Connected to ${described.apiUrl} in ${Date.now() - started} ms: ${count} functions (${namespaces}).`, "ok");
      listFunctions(described);
    } catch (error) {
      status(error.message, "error");
    }
  }

  async function signOut() {
    await ShiftworkAuth.signOut();
    status("Signed out.");
    await connect();
  }

  async function start() {
    $("title").textContent = Shiftwork.settings.name || "Shiftwork";
    const session = await ShiftworkAuth.session();
    $("endpoint").value = (session && session.endpoint) || Shiftwork.defaultEndpoint();
    $("connect").onclick = connect;
    $("save-token").onclick = saveToken;
    $("sign-in").onclick = signIn;
    $("send-code").onclick = sendCode;
    $("send-new-password").onclick = sendNewPassword;
    $("send-setup-code").onclick = sendSetupCode;
    $("test").onclick = test;
    $("sign-out").onclick = signOut;
    if (session) await test();
    else await connect();
  }

  if (typeof Office !== "undefined" && Office.onReady) Office.onReady(start);
  else document.addEventListener("DOMContentLoaded", start);
})();
