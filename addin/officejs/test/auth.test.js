// auth.js, the task pane's sign-in: the local token, and a Cognito user pool on the test session's moto server
// (USER_PASSWORD_AUTH, the SOFTWARE_TOKEN_MFA challenge with real TOTP codes, REFRESH_TOKEN_AUTH).
"use strict";
const test = require("node:test");
const assert = require("node:assert/strict");
const crypto = require("node:crypto");
const fs = require("node:fs");
const { load, signedIn, invocation, env, CustomFunctionsError } = require("./harness");

function cognito() {
  return JSON.parse(fs.readFileSync(env("SHIFTWORK_COGNITO"), "utf-8"));
}

// what an authenticator app shows now for a base32 secret (RFC 6238: HMAC-SHA1, 30 s steps, 6 digits)
function totp(secret, now = Date.now()) {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = "";
  for (const char of secret.toUpperCase().replace(/=+$/, "")) bits += alphabet.indexOf(char).toString(2).padStart(5, "0");
  const key = Buffer.from(bits.match(/.{8}/g).map((byte) => parseInt(byte, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(now / 30000)));
  const digest = crypto.createHmac("sha1", key).update(counter).digest();
  const offset = digest[digest.length - 1] & 0xf;
  return String((digest.readUInt32BE(offset) & 0x7fffffff) % 1000000).padStart(6, "0");
}

function claims(jwt) {
  return JSON.parse(Buffer.from(jwt.split(".")[1], "base64url").toString());
}

const targets = (requests) => requests.filter((r) => r.init.headers && r.init.headers["X-Amz-Target"]);

test("the local server's config asks for its token, which the functions then send", async () => {
  const { auth, functions, requests } = load("PRICER");
  const config = await auth.loadConfig(env("SHIFTWORK_URL"));
  assert.equal(config.auth, "token");
  await assert.rejects(auth.signInWithToken(config.endpoint, "  "), /paste the token `shiftwork excel serve` printed/);
  await auth.signInWithToken(config.endpoint, env("SHIFTWORK_TOKEN"));
  await functions.PRICE_OPTION(100, 95, 0.2, 0.01, 1);
  const sent = requests.find((r) => r.url.endsWith("/excel/call"));
  assert.equal(sent.init.headers.Authorization, `Bearer ${env("SHIFTWORK_TOKEN")}`);
  await auth.signOut();
  assert.equal(await auth.session(), null);
});

test("Cognito: a user name and password give an IdToken the functions send to api_url", async () => {
  const { config, users, password } = cognito();
  const { auth, functions, requests } = load("PRICER");
  const pool = Object.assign({}, config, { endpoint: env("SHIFTWORK_URL"), api_url: env("SHIFTWORK_URL") });
  const outcome = await auth.signInWithPassword(pool, users.plain, password);
  assert.equal(outcome.signedIn, true);
  assert.equal(claims(outcome.session.token)["cognito:username"], users.plain);
  const first = targets(requests)[0];
  assert.equal(first.init.headers["X-Amz-Target"], "AWSCognitoIdentityProviderService.InitiateAuth");
  assert.equal(first.init.headers["Content-Type"], "application/x-amz-json-1.1");
  assert.equal(first.body.AuthFlow, "USER_PASSWORD_AUTH");
  // the local server takes only its own token: the cell shows the sign-in message, after sending the IdToken
  await assert.rejects(functions.PRICE_OPTION(100, 95, 0.2, 0.01, 1), /^Error: sign in in the Shiftwork task pane/);
  const call = requests.find((r) => r.url === `${env("SHIFTWORK_URL")}/excel/call`);
  assert.equal(call.init.headers.Authorization, `Bearer ${outcome.session.token}`);
});

test("Cognito: a wrong password is refused with Cognito's message", async () => {
  const { config, users } = cognito();
  const { auth } = load("PRICER");
  await assert.rejects(auth.signInWithPassword(config, users.plain, "wrong-Password-1"), (error) => {
    assert.equal(error.code, "NotAuthorizedException");
    assert.match(error.message, /Incorrect username or password/);
    return true;
  });
  assert.equal(await auth.session(), null);
});

test("Cognito: a user with MFA answers the SOFTWARE_TOKEN_MFA challenge with the 6-digit code", async () => {
  const { config, users, password, totp_secret: secret } = cognito();
  const { auth, requests } = load("PRICER");
  const outcome = await auth.signInWithPassword(config, users.mfa, password);
  assert.equal(outcome.challenge, "SOFTWARE_TOKEN_MFA");
  assert.equal(await auth.session(), null);
  await assert.rejects(auth.answerMfa(outcome.pending, "12 34"), /give the 6-digit code/);
  const wrong = totp(secret) === "000000" ? "111111" : "000000";
  await assert.rejects(auth.answerMfa(outcome.pending, wrong), (error) => error.code === "CodeMismatchException");
  const retry = await auth.signInWithPassword(config, users.mfa, password); // a failed answer spends the session
  const done = await auth.answerMfa(retry.pending, totp(secret));
  assert.equal(done.signedIn, true);
  assert.equal(claims(done.session.token)["cognito:username"], users.mfa);
  const answer = targets(requests).find((r) => r.body.ChallengeName === "SOFTWARE_TOKEN_MFA" && r.body.Session);
  assert.equal(answer.init.headers["X-Amz-Target"], "AWSCognitoIdentityProviderService.RespondToAuthChallenge");
});

test("Cognito: an IdToken about to expire is refreshed (REFRESH_TOKEN_AUTH) before a call", async () => {
  const { config, users, password } = cognito();
  const { auth, requests } = load("PRICER");
  const { session } = await auth.signInWithPassword(config, users.plain, password);
  await auth.storage.setItem("shiftwork.session", JSON.stringify(Object.assign({}, session, { expiresAt: Date.now() })));
  auth.forget();
  const fresh = await auth.credentials();
  const refresh = targets(requests).pop();
  assert.equal(refresh.body.AuthFlow, "REFRESH_TOKEN_AUTH");
  assert.equal(refresh.body.AuthParameters.REFRESH_TOKEN, session.refreshToken);
  assert.ok(fresh.expiresAt > Date.now() + 60000);
  assert.equal(claims(fresh.token)["cognito:username"], users.plain);
  assert.equal(fresh.refreshToken, session.refreshToken); // Cognito sends no new refresh token: the old one stays
});

test("Cognito, first sign-in of an invited user: a new password, then an authenticator set up, then codes", async () => {
  const { config, username, temporary } = cognito().first_sign_in;
  const { auth } = load("PRICER");
  const pool = Object.assign({}, config, { endpoint: env("SHIFTWORK_URL"), api_url: env("SHIFTWORK_URL") });
  const first = await auth.signInWithPassword(pool, username, temporary);
  assert.equal(first.challenge, "NEW_PASSWORD_REQUIRED");
  await assert.rejects(auth.answerNewPassword(first.pending, ""), /choose a new password/);
  const setup = await auth.answerNewPassword(first.pending, "Chosen-password-42");
  assert.equal(setup.challenge, "MFA_SETUP");
  assert.ok(setup.pending.secret.length >= 8, setup.pending.secret); // the key the user types into the app
  assert.ok(setup.pending.otpauth.startsWith("otpauth://totp/Shiftwork%3Anewcomer?secret="));
  await assert.rejects(auth.answerMfaSetup(setup.pending, "12ab"), /6-digit code/);
  const done = await auth.answerMfaSetup(setup.pending, totp(setup.pending.secret));
  assert.equal(done.signedIn, true);
  assert.equal(claims(done.session.token)["cognito:username"], username);
  // from now on: the chosen password, then the authenticator's code
  await auth.signOut();
  const again = await auth.signInWithPassword(pool, username, "Chosen-password-42");
  assert.equal(again.challenge, "SOFTWARE_TOKEN_MFA");
  const signedInAgain = await auth.answerMfa(again.pending, totp(setup.pending.secret));
  assert.equal(signedInAgain.signedIn, true);
});

test("served apart from the API (CloudFront on AWS), the sign-in settings come from config.json beside the files", async () => {
  const { config } = cognito();
  const addin = load("PRICER");
  const files = "https://d111111abcdef8.cloudfront.net";
  const shipped = Object.assign({}, config, { api_url: env("SHIFTWORK_URL") });
  addin.context.location = { origin: files };
  const real = addin.context.fetch;
  addin.context.fetch = async (url, init) => {
    if (String(url) === `${files}/config.json`) {
      addin.requests.push({ url: String(url), init, body: null });
      return new Response(JSON.stringify(shipped), { status: 200, headers: { "Content-Type": "application/json" } });
    }
    return real(url, init);
  };
  const loaded = await addin.auth.loadConfig(env("SHIFTWORK_URL"));
  assert.equal(loaded.auth, "cognito");
  assert.equal(loaded.endpoint, env("SHIFTWORK_URL"));
  assert.equal(loaded.client_id, config.client_id);
  assert.deepEqual(addin.requests.map((r) => r.url), [`${files}/config.json`]); // the API was not asked
  // another server typed in the task pane: its own /excel/config says how to sign in there
  await assert.rejects(addin.auth.loadConfig("http://127.0.0.1:9"), /^AuthError: cannot reach http:\/\/127\.0\.0\.1:9/);
  assert.ok(addin.requests.some((r) => r.url === "http://127.0.0.1:9/excel/config"));
});

test("a streaming cell refused for its token shows the sign-in message and stops", async () => {
  const { functions, requests } = await signedIn("PRICER", "not-the-token");
  const cell = invocation();
  functions.TICKER(100, 0.2, 0.05, cell);
  await cell.until(1);
  assert.ok(cell.values[0] instanceof CustomFunctionsError);
  assert.equal(requests.filter((r) => r.url.endsWith("/excel/streams")).length, 1);
});

test("the task pane's test connection lists the namespaces and functions the server answers for", async () => {
  const { Shiftwork } = await signedIn("PRICER");
  const described = await Shiftwork.describe();
  assert.equal(described.apiUrl, env("SHIFTWORK_URL"));
  assert.deepEqual(described.addins.map((addin) => addin.namespace), ["PRICER", "SHIFTWORK"]);
  const pricer = described.addins[0].functions.map((fn) => fn.signature);
  assert.ok(pricer.includes("=PRICER.PRICE_OPTION(spot, strike, vol, rate, expiry, [call])"), pricer.join("; "));
  const refused = await signedIn("PRICER", "not-the-token");
  await assert.rejects(refused.Shiftwork.describe(), /^Error: sign in in the Shiftwork task pane/);
});
