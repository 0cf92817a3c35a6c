// Signing in, shared by the task pane and the functions (one page: the shared runtime). Locally the token that
// `shiftwork excel serve` printed; on AWS a Cognito user pool (USER_PASSWORD_AUTH, then a TOTP code if the user
// has MFA), whose IdToken the functions send as `Authorization: Bearer`. The session is kept in
// OfficeRuntime.storage (Office's storage for add-ins), or in memory where there is none (node's tests).
/* global OfficeRuntime */
(function (root) {
  "use strict";

  const SESSION_KEY = "shiftwork.session";
  const REFRESH_MARGIN_MS = 60 * 1000; // refresh an IdToken a minute before it expires, not when a call fails
  const COGNITO_TARGET = "AWSCognitoIdentityProviderService.";

  class AuthError extends Error {
    constructor(message, code) {
      super(message);
      this.name = "AuthError";
      this.code = code || "SignInFailed";
    }
  }

  function memoryStorage() {
    const items = new Map();
    return {
      getItem: async (key) => (items.has(key) ? items.get(key) : null),
      setItem: async (key, value) => void items.set(key, String(value)),
      removeItem: async (key) => void items.delete(key),
    };
  }

  const storage =
    typeof OfficeRuntime !== "undefined" && OfficeRuntime.storage ? OfficeRuntime.storage : memoryStorage();
  let cached; // undefined: not read yet; null: signed out
  let refreshing = null;

  function pageOrigin() {
    return root.location && root.location.origin && root.location.origin !== "null" ? root.location.origin : "";
  }

  function trimmed(url) {
    return String(url || "").trim().replace(/\/+$/, "");
  }

  async function load() {
    if (cached === undefined) {
      const text = await storage.getItem(SESSION_KEY);
      try {
        cached = text ? JSON.parse(text) : null;
      } catch (error) {
        cached = null; // a corrupt entry is a signed-out user, who signs in again
      }
    }
    return cached;
  }

  async function save(session) {
    cached = session;
    if (session) await storage.setItem(SESSION_KEY, JSON.stringify(session));
    else await storage.removeItem(SESSION_KEY);
    return session;
  }

  async function readJson(response) {
    const text = await response.text();
    try {
      return text ? JSON.parse(text) : {};
    } catch (error) {
      return { message: text.slice(0, 200) };
    }
  }

  // how to sign in: the add-in's own config.json when its files are served apart from the API (on AWS, where
  // CloudFront serves them and the API has no anonymous route), else GET {endpoint}/excel/config (the local server)
  async function loadConfig(endpoint) {
    const base = trimmed(endpoint || pageOrigin());
    const origin = pageOrigin();
    if (origin && origin !== base) {
      const shipped = await shippedConfig(origin);
      if (shipped && (!endpoint || trimmed(shipped.api_url) === base)) {
        return Object.assign({}, shipped, { endpoint: trimmed(shipped.api_url) });
      }
    }
    let response;
    try {
      response = await fetch(`${base}/excel/config`, { headers: { Accept: "application/json" } });
    } catch (error) {
      throw new AuthError(`cannot reach ${base}: ${error.message}`, "Unreachable");
    }
    const body = await readJson(response);
    if (!response.ok) {
      throw new AuthError(`${base}/excel/config answered ${response.status}: ${body.message || ""}`, "BadEndpoint");
    }
    return Object.assign({ endpoint: base }, body);
  }

  async function shippedConfig(origin) {
    try {
      const response = await fetch(`${origin}/config.json`, { headers: { Accept: "application/json" } });
      const body = response.ok ? await readJson(response) : {};
      return body.auth && body.api_url ? body : null;
    } catch (error) {
      return null; // no config.json beside the files: the server's /excel/config says
    }
  }

  async function signInWithToken(endpoint, token) {
    const value = String(token || "").trim();
    if (!value) throw new AuthError("paste the token `shiftwork excel serve` printed", "MissingToken");
    const base = trimmed(endpoint || pageOrigin());
    return save({ auth: "token", endpoint: base, apiUrl: base, token: value });
  }

  async function cognito(config, action, body) {
    const url = config.cognito_endpoint || `https://cognito-idp.${config.region}.amazonaws.com/`;
    let response;
    try {
      response = await fetch(url, {
        method: "POST",
        headers: { "Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": COGNITO_TARGET + action },
        body: JSON.stringify(body),
      });
    } catch (error) {
      throw new AuthError(`cannot reach Cognito at ${url}: ${error.message}`, "Unreachable");
    }
    const answer = await readJson(response);
    if (!response.ok) {
      const type = String(answer.__type || answer.code || "CognitoError").split("#").pop();
      throw new AuthError(answer.message || answer.Message || `Cognito refused ${action} (${type})`, type);
    }
    return answer;
  }

  function sessionFrom(config, result, previous) {
    const refreshToken = result.RefreshToken || (previous && previous.refreshToken);
    return {
      auth: "cognito",
      endpoint: config.endpoint,
      apiUrl: trimmed(config.api_url || config.endpoint),
      region: config.region,
      clientId: config.client_id,
      cognitoEndpoint: config.cognito_endpoint || null,
      username: config.username || (previous && previous.username) || null,
      token: result.IdToken,
      refreshToken,
      expiresAt: Date.now() + Number(result.ExpiresIn || 3600) * 1000,
    };
  }

  // -> {signedIn: true, session} or {challenge: "SOFTWARE_TOKEN_MFA", pending} (then answerMfa(pending, code))
  async function signInWithPassword(config, username, password) {
    if (!config || config.auth !== "cognito" || !config.client_id || !config.region) {
      throw new AuthError("this server does not sign in with Cognito: read its /excel/config first", "BadConfig");
    }
    if (!username || !password) throw new AuthError("give your user name and password", "MissingPassword");
    const answer = await cognito(config, "InitiateAuth", {
      AuthFlow: "USER_PASSWORD_AUTH",
      ClientId: config.client_id,
      AuthParameters: { USERNAME: username, PASSWORD: password },
    });
    return finish(Object.assign({}, config, { username }), answer);
  }

  // a sign-in's next step: signed in, or the challenge the task pane asks the user about. A user the admin made
  // starts with NEW_PASSWORD_REQUIRED, then (the pool requires an authenticator) MFA_SETUP; later, SOFTWARE_TOKEN_MFA
  async function finish(config, answer) {
    if (answer.AuthenticationResult) {
      return { signedIn: true, session: await save(sessionFrom(config, answer.AuthenticationResult)) };
    }
    const pending = { config, session: answer.Session };
    if (answer.ChallengeName === "SOFTWARE_TOKEN_MFA" || answer.ChallengeName === "NEW_PASSWORD_REQUIRED") {
      return { challenge: answer.ChallengeName, pending };
    }
    if (answer.ChallengeName === "MFA_SETUP") {
      const associated = await cognito(config, "AssociateSoftwareToken", { Session: answer.Session });
      pending.session = associated.Session || answer.Session;
      pending.secret = associated.SecretCode;
      const label = encodeURIComponent(`Shiftwork:${config.username}`);
      pending.otpauth = `otpauth://totp/${label}?secret=${associated.SecretCode}&issuer=Shiftwork`;
      return { challenge: "MFA_SETUP", pending };
    }
    throw new AuthError(
      `Cognito asks for ${answer.ChallengeName || "an unknown step"}, which this task pane cannot do: ask the ` +
        "stack's admin to reset the user (aws cognito-idp admin-reset-user-password)",
      "UnsupportedChallenge",
    );
  }

  function sixDigits(code) {
    const digits = String(code || "").trim();
    if (!/^[0-9]{6}$/.test(digits)) throw new AuthError("give the 6-digit code from your authenticator app", "BadCode");
    return digits;
  }

  async function answerMfa(pending, code) {
    const answer = await cognito(pending.config, "RespondToAuthChallenge", {
      ChallengeName: "SOFTWARE_TOKEN_MFA",
      ClientId: pending.config.client_id,
      Session: pending.session,
      ChallengeResponses: { USERNAME: pending.config.username, SOFTWARE_TOKEN_MFA_CODE: sixDigits(code) },
    });
    return finish(pending.config, answer);
  }

  // the first sign-in: the temporary password the invitation gave is replaced
  async function answerNewPassword(pending, password) {
    if (!password) throw new AuthError("choose a new password (12 characters or more)", "MissingPassword");
    const answer = await cognito(pending.config, "RespondToAuthChallenge", {
      ChallengeName: "NEW_PASSWORD_REQUIRED",
      ClientId: pending.config.client_id,
      Session: pending.session,
      ChallengeResponses: { USERNAME: pending.config.username, NEW_PASSWORD: password },
    });
    return finish(pending.config, answer);
  }

  // the first sign-in: the authenticator app that now holds pending.secret proves it with a code
  async function answerMfaSetup(pending, code) {
    const verified = await cognito(pending.config, "VerifySoftwareToken", {
      Session: pending.session,
      UserCode: sixDigits(code),
      FriendlyDeviceName: "Shiftwork Excel add-in",
    });
    if (verified.Status !== "SUCCESS") throw new AuthError("the code was not accepted: try the next one", "BadCode");
    const answer = await cognito(pending.config, "RespondToAuthChallenge", {
      ChallengeName: "MFA_SETUP",
      ClientId: pending.config.client_id,
      Session: verified.Session || pending.session,
      ChallengeResponses: { USERNAME: pending.config.username },
    });
    return finish(pending.config, answer);
  }

  async function refresh(session) {
    const config = {
      auth: "cognito",
      endpoint: session.endpoint,
      api_url: session.apiUrl,
      region: session.region,
      client_id: session.clientId,
      cognito_endpoint: session.cognitoEndpoint,
      username: session.username,
    };
    const answer = await cognito(config, "InitiateAuth", {
      AuthFlow: "REFRESH_TOKEN_AUTH",
      ClientId: session.clientId,
      AuthParameters: { REFRESH_TOKEN: session.refreshToken },
    });
    return save(sessionFrom(config, answer.AuthenticationResult, session));
  }

  // {apiUrl, token} for a call, the IdToken refreshed first when it is about to expire; null: not signed in
  async function credentials() {
    const session = await load();
    if (!session) return null;
    if (session.auth !== "cognito" || session.expiresAt - REFRESH_MARGIN_MS > Date.now()) return session;
    if (!session.refreshToken) return null;
    refreshing = refreshing || refresh(session).finally(() => (refreshing = null));
    try {
      return await refreshing;
    } catch (error) {
      await save(null); // an expired or revoked refresh token: the user signs in again
      return null;
    }
  }

  async function signOut() {
    await save(null);
  }

  // what the next read sees when another page changed the storage
  function forget() {
    cached = undefined;
  }

  const api = {
    AuthError,
    loadConfig,
    signInWithToken,
    signInWithPassword,
    answerMfa,
    answerNewPassword,
    answerMfaSetup,
    refresh,
    credentials,
    session: load,
    signOut,
    forget,
    pageOrigin,
    storage,
  };
  root.ShiftworkAuth = api;
  if (typeof module !== "undefined" && module.exports) module.exports = api;
})(typeof globalThis !== "undefined" ? globalThis : this);
