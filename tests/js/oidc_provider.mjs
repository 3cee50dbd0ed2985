// A campus single sign-on stand-in for the tests: panva's oidc-provider (an OpenID
// Certified provider) on loopback, with a minimal login page of our own.
//
//   OIDC_CONFIG=config.json node tests/js/oidc_provider.mjs
//
// config.json: {"port", "issuer", "clients": [oidc-provider client metadata],
// "accounts": [{"login", "password", "claims": {"sub", "email", ...}}],
// "jwks": {"keys": [private JWKs]}, "cookie_keys": [...]}. tests/idp/oidc.py writes it.
//
// Prints `READY <issuer>` once listening; stops on SIGTERM. Authorization code flow with
// PKCE (S256) required, scopes openid, email and profile, ID tokens signed with the given
// keys, userinfo, and RP-initiated logout. Consent is implied for every client (they are
// all first-party), so signing in is: Username, Password, "Sign in".

import { readFileSync } from "node:fs";
import http from "node:http";

import Provider from "oidc-provider";

const config = JSON.parse(readFileSync(process.env.OIDC_CONFIG, "utf8"));
const accountsByLogin = new Map(config.accounts.map((account) => [account.login, account]));
const accountsBySub = new Map(config.accounts.map((account) => [account.claims.sub, account]));

function escapeHtml(text) {
  return String(text).replace(
    /[&<>"']/g,
    (char) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[char],
  );
}

function page(title, body) {
  return `<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>
<body>
<main>
${body}
</main>
</body>
</html>`;
}

// The subject is the account's `sub` claim, never its login name.
async function findAccount(ctx, sub) {
  const account = accountsBySub.get(sub);
  if (account === undefined) {
    return undefined;
  }
  return { accountId: sub, claims: async () => ({ ...account.claims }) };
}

// Instead of a consent screen: the grant covers whatever OpenID scopes and claims each
// authorization request asks for.
async function impliedConsent(ctx) {
  const { oidc } = ctx;
  const grantId = oidc.result?.consent?.grantId || oidc.session.grantIdFor(oidc.client.clientId);
  const grant =
    (grantId && (await oidc.provider.Grant.find(grantId))) ||
    new oidc.provider.Grant({ accountId: oidc.account.accountId, clientId: oidc.client.clientId });
  if (oidc.requestParamOIDCScopes.size > 0) {
    grant.addOIDCScope(oidc.requestParamOIDCScopes);
  }
  if (oidc.requestParamClaims.size > 0) {
    grant.addOIDCClaims(oidc.requestParamClaims);
  }
  await grant.save();
  return grant;
}

// The library asks for a confirmation click; submit it at once, signing out of the
// provider too, with a button for a browser without scripts.
async function logoutSource(ctx, form) {
  ctx.body = page(
    "Signing out",
    `<h1>Signing out</h1>
${form}
<input type="hidden" form="op.logoutForm" name="logout" value="yes">
<button type="submit" form="op.logoutForm">Sign out</button>
<script>document.getElementById("op.logoutForm").submit();</script>`,
  );
}

async function postLogoutSuccessSource(ctx) {
  ctx.body = page("Signed out", "<h1>Signed out</h1>");
}

async function renderError(ctx, out) {
  ctx.type = "html";
  const details = Object.entries(out)
    .map(([key, value]) => `<p>${escapeHtml(key)}: ${escapeHtml(value)}</p>`)
    .join("\n");
  ctx.body = page("Sign-in error", `<h1>Sign-in error</h1>\n${details}`);
}

const provider = new Provider(config.issuer, {
  clients: config.clients,
  jwks: config.jwks,
  cookies: { keys: config.cookie_keys },
  claims: {
    acr: null,
    auth_time: null,
    iss: null,
    sid: null,
    openid: ["sub"],
    email: ["email", "email_verified"],
    // A campus's own claim: the registrar's student number, which the portal links by.
    profile: ["name", "given_name", "family_name", "student_number"],
  },
  // Scope-requested claims in the ID token too, not only from userinfo.
  conformIdTokenClaims: false,
  pkce: { required: () => true },
  features: {
    devInteractions: { enabled: false },
    userinfo: { enabled: true },
    rpInitiatedLogout: { enabled: true, logoutSource, postLogoutSuccessSource },
  },
  findAccount,
  loadExistingGrant: impliedConsent,
  renderError,
  // The library's own defaults for the tokens, stated so it prints no notices about them.
  ttl: {
    AccessToken: 60 * 60,
    IdToken: 60 * 60,
    Interaction: 10 * 60,
    Session: 60 * 60,
    Grant: 60 * 60,
  },
});

function loginPage(uid, { login = "", error = "" } = {}) {
  const alert = error ? `<p role="alert">${escapeHtml(error)}</p>\n` : "";
  return page(
    "Sign in",
    `<h1>Campus sign-in</h1>
${alert}<form method="post" action="/interaction/${escapeHtml(uid)}">
<label for=login>Username</label>
<input id=login name=login autocomplete=username value="${escapeHtml(login)}" autofocus>
<label for=password>Password</label>
<input id=password name=password type=password autocomplete=current-password>
<button type=submit>Sign in</button>
</form>`,
  );
}

function sendHtml(res, status, html) {
  res.writeHead(status, {
    "Content-Type": "text/html; charset=utf-8",
    "Cache-Control": "no-store",
  });
  res.end(html);
}

async function formFields(req) {
  const chunks = [];
  for await (const chunk of req) {
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
}

function authenticate(login, password) {
  const account = accountsByLogin.get(login);
  return account !== undefined && account.password === password ? account : undefined;
}

async function showInteraction(req, res) {
  const { uid, prompt } = await provider.interactionDetails(req, res);
  if (prompt.name === "login") {
    sendHtml(res, 200, loginPage(uid));
  } else {
    await provider.interactionFinished(req, res, { consent: {} });
  }
}

async function submitLogin(req, res) {
  const { uid, prompt } = await provider.interactionDetails(req, res);
  if (prompt.name !== "login") {
    await showInteraction(req, res);
    return;
  }
  const fields = await formFields(req);
  const account = authenticate(fields.get("login"), fields.get("password"));
  if (account === undefined) {
    const error = "Invalid username or password";
    sendHtml(res, 200, loginPage(uid, { login: fields.get("login") ?? "", error }));
    return;
  }
  const result = { login: { accountId: account.claims.sub } };
  await provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false });
}

async function interaction(req, res) {
  try {
    if (req.method === "POST") {
      await submitLogin(req, res);
    } else {
      await showInteraction(req, res);
    }
  } catch (error) {
    const message = escapeHtml(`${error.name}: ${error.message}`);
    sendHtml(res, 400, page("Sign-in error", `<h1>Sign-in error</h1>\n<p>${message}</p>`));
  }
}

const providerHandler = provider.callback();
const server = http.createServer((req, res) => {
  if (/^\/interaction\/[\w-]+$/.test(new URL(req.url, config.issuer).pathname)) {
    interaction(req, res);
  } else {
    providerHandler(req, res);
  }
});

function stop() {
  server.close(() => process.exit(0));
  server.closeAllConnections();
}

process.on("SIGTERM", stop);
process.on("SIGINT", stop);

server.on("error", (error) => {
  console.error(`oidc_provider.mjs: ${error.code ?? error.name}: ${error.message}`);
  process.exit(2);
});

server.listen(config.port, "127.0.0.1", () => {
  console.log(`READY ${config.issuer}`);
});
