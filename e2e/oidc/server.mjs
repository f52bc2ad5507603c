// A Keycloak-shaped OpenID provider for the end-to-end tests (npm oidc-provider).
// Same URL layout as Keycloak (/realms/<realm>/protocol/openid-connect/...), the same login form ids
// (#username, #password, #kc-login), realm roles in realm_access.roles of the ID and access tokens, JWT access
// tokens for the API audience, PKCE required, PAR advertised. Users: alice/alice (admin), bob/bob (viewer),
// carol/carol (operator).
//
//   PORT=0 REALM=codetether REDIRECT_URIS=http://127.0.0.1:5000/signin-oidc node server.mjs
// prints "OIDC READY <issuer>" once listening.
import http from 'node:http';
import crypto from 'node:crypto';
import Provider from 'oidc-provider';

const realm = process.env.REALM || 'codetether';
const prefix = `/realms/${realm}`;
const clientId = process.env.CLIENT_ID || 'codetether-dashboard';
const clientSecret = process.env.CLIENT_SECRET || 'secret';
const audience = process.env.AUDIENCE || 'codetether-api';
const redirectUris = (process.env.REDIRECT_URIS || '').split(',').map(s => s.trim()).filter(Boolean);
const postLogoutUris = (process.env.POST_LOGOUT_REDIRECT_URIS || redirectUris.map(u => u.replace(/\/signin-oidc$/, '/signout-callback-oidc')).join(','))
  .split(',').map(s => s.trim()).filter(Boolean);
const accessTokenTtl = Number(process.env.ACCESS_TOKEN_TTL || 300);

const users = {
  alice: { password: 'alice', name: 'Alice Admin', email: 'alice@example.com', roles: ['admin', 'default-roles-codetether'] },
  bob: { password: 'bob', name: 'Bob Viewer', email: 'bob@example.com', roles: ['viewer', 'default-roles-codetether'] },
  carol: { password: 'carol', name: 'Carol Operator', email: 'carol@example.com', roles: ['operator', 'default-roles-codetether'] },
};

const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const jwk = { ...privateKey.export({ format: 'jwk' }), kid: 'standin-1', alg: 'RS256', use: 'sig' };

function claimsOf(id) {
  const u = users[id];
  return {
    sub: id, preferred_username: id, name: u.name, email: u.email, email_verified: true,
    realm_access: { roles: u.roles },
    resource_access: { [clientId]: { roles: [] } },
  };
}

const server = http.createServer();
await new Promise(resolve => server.listen(Number(process.env.PORT || 0), '127.0.0.1', resolve));
const port = server.address().port;
const issuer = `http://127.0.0.1:${port}${prefix}`;

const provider = new Provider(issuer, {
  clients: [{
    client_id: clientId, client_secret: clientSecret, token_endpoint_auth_method: 'client_secret_post',
    redirect_uris: redirectUris, post_logout_redirect_uris: postLogoutUris,
    grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'],
  }],
  pkce: { required: () => true },
  routes: {
    authorization: '/protocol/openid-connect/auth',
    token: '/protocol/openid-connect/token',
    jwks: '/protocol/openid-connect/certs',
    userinfo: '/protocol/openid-connect/userinfo',
    end_session: '/protocol/openid-connect/logout',
    revocation: '/protocol/openid-connect/revoke',
    introspection: '/protocol/openid-connect/token/introspect',
    pushed_authorization_request: '/protocol/openid-connect/ext/par/request',
  },
  jwks: { keys: [jwk] },
  cookies: { keys: [crypto.randomBytes(16).toString('hex')] },
  scopes: ['openid', 'profile', 'email', 'roles', 'offline_access'],
  claims: {
    openid: ['sub'], profile: ['name', 'preferred_username'], email: ['email', 'email_verified'],
    roles: ['realm_access', 'resource_access'],
  },
  conformIdTokenClaims: false,
  ttl: { AccessToken: accessTokenTtl, IdToken: accessTokenTtl, RefreshToken: 3600, Session: 3600, Grant: 3600, Interaction: 600 },
  findAccount: async (ctx, id) => users[id] ? { accountId: id, claims: async () => claimsOf(id) } : undefined,
  issueRefreshToken: async (ctx, client) => client.grantTypeAllowed('refresh_token'),
  extraTokenClaims: async (ctx, token) => {
    if (!token.accountId || !users[token.accountId]) return undefined;
    const c = claimsOf(token.accountId);
    return { typ: 'Bearer', azp: clientId, preferred_username: c.preferred_username, email: c.email, realm_access: c.realm_access, resource_access: c.resource_access };
  },
  // Keycloak asks no consent by default: every sign-in gets a grant for all scopes and the API audience.
  loadExistingGrant: async (ctx) => {
    const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    let grant = grantId ? await ctx.oidc.provider.Grant.find(grantId) : undefined;
    if (!grant) grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope('openid profile email roles offline_access');
    grant.addOIDCClaims(['realm_access', 'resource_access', 'preferred_username', 'name', 'email']);
    grant.addResourceScope('urn:codetether:api', 'profile email roles');
    await grant.save();
    return grant;
  },
  interactions: { url: (ctx, interaction) => `${prefix}/login-actions/authenticate/${interaction.uid}` },
  features: {
    devInteractions: { enabled: false },
    pushedAuthorizationRequests: { enabled: process.env.PAR !== '0' },
    revocation: { enabled: true },
    introspection: { enabled: true },
    rpInitiatedLogout: {
      enabled: true,
      // Keycloak ends the session when the RP sends id_token_hint; answer the confirmation form ourselves.
      logoutSource: async (ctx, form) => {
        ctx.body = `<!DOCTYPE html><html><head><title>Signing out</title></head><body>${form}
          <button type="submit" form="op.logoutForm" name="logout" value="yes" id="kc-logout">Sign out</button>
          <script>document.getElementById('kc-logout').click()</script></body></html>`;
      },
    },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => 'urn:codetether:api',
      useGrantedResource: () => true,
      getResourceServerInfo: () => ({ audience, accessTokenFormat: 'jwt', scope: 'profile email roles', accessTokenTTL: accessTokenTtl, jwt: { sign: { alg: 'RS256' } } }),
    },
  },
});
provider.proxy = false;

const page = (uid, error) => `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Sign in to ${realm}</title>
<style>body{font-family:sans-serif;background:#f0f0f0;display:grid;place-items:center;min-height:100vh;margin:0}
form{background:#fff;padding:2rem;border-radius:6px;box-shadow:0 2px 8px #0002;display:grid;gap:.6rem;min-width:18rem}
#kc-login{background:#0066cc;color:#fff;border:0;padding:.6rem;border-radius:4px}</style></head><body>
<form id="kc-form-login" method="post" action="${prefix}/login-actions/authenticate/${uid}">
<h1 id="kc-page-title">Sign in to your account</h1>${error ? `<div id="input-error" role="alert">${error}</div>` : ''}
<label for="username">Username</label><input id="username" name="username" autofocus autocomplete="username">
<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password">
<input id="kc-login" type="submit" value="Sign In"></form></body></html>`;

async function readForm(req) {
  let body = '';
  for await (const chunk of req) body += chunk;
  return Object.fromEntries(new URLSearchParams(body));
}

const callback = provider.callback();
server.on('request', async (req, res) => {
  try {
    const url = new URL(req.url, issuer);
    const login = url.pathname.match(new RegExp(`^${prefix}/login-actions/authenticate/([^/]+)$`));
    if (login) {
      const details = await provider.interactionDetails(req, res);
      if (req.method === 'POST') {
        const form = await readForm(req);
        const user = users[form.username];
        if (!user || user.password !== form.password) {
          res.writeHead(200, { 'content-type': 'text/html' });
          return res.end(page(details.uid, 'Invalid username or password.'));
        }
        return await provider.interactionFinished(req, res, { login: { accountId: form.username } }, { mergeWithLastSubmission: false });
      }
      res.writeHead(200, { 'content-type': 'text/html' });
      return res.end(page(details.uid));
    }
    if (url.pathname === prefix || url.pathname.startsWith(prefix + '/')) {
      req.originalUrl = req.url; // oidc-provider derives its mount path from what was stripped
      req.url = req.url.slice(prefix.length) || '/';
      return callback(req, res);
    }
    res.writeHead(404); res.end();
  } catch (err) {
    console.error(err);
    if (!res.headersSent) { res.writeHead(500, { 'content-type': 'text/plain' }); }
    res.end(String(err?.message || err));
  }
});

console.log(`OIDC READY ${issuer}`);
process.on('SIGTERM', () => server.close(() => process.exit(0)));
