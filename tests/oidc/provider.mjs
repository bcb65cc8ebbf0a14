// A real OpenID Connect provider (node-oidc-provider) on loopback, for the sign-in tests only: never deploy it.
//
// Anyone may sign in under any name with any password: the name becomes the subject (`sub`), the email
// `<name>@example.test` (verified) and the display name. Consent is given on the person's behalf, and signing
// out at the provider needs no click, so a test drives only what the app itself shows. Its pages load nothing
// from other hosts. Everything secret (client secret, cookie keys, signing key) is made for this run by the
// caller or here, and printed nowhere.
//
// Environment: OIDC_PORT, OIDC_CLIENT_ID, OIDC_CLIENT_SECRET, OIDC_REDIRECT_URI (several: separated by spaces,
// one per app replica), OIDC_COOKIE_KEY.
// Prints one line, "ready <issuer>", once it accepts connections.

import { generateKeyPairSync } from 'node:crypto';
import { createServer } from 'node:http';

import Provider from 'oidc-provider';

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};

const port = Number(env('OIDC_PORT'));
const issuer = `http://127.0.0.1:${port}`;
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });

const page = (title, body) => `<!DOCTYPE html><html><head><meta charset="utf-8"><title>${title}</title></head>
<body><h1>${title}</h1>${body}</body></html>`;

const provider = new Provider(issuer, {
  clients: [{
    client_id: env('OIDC_CLIENT_ID'),
    client_secret: env('OIDC_CLIENT_SECRET'),
    redirect_uris: env('OIDC_REDIRECT_URI').split(' '),
    post_logout_redirect_uris: env('OIDC_REDIRECT_URI').split(' '),
  }],
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
  // Streamlit keeps the ID token's claims (Authlib does not call userinfo), so the token carries them.
  conformIdTokenClaims: false,
  cookies: { keys: [env('OIDC_COOKIE_KEY')] },
  jwks: { keys: [{ ...privateKey.export({ format: 'jwk' }), alg: 'RS256', use: 'sig', kid: 'test' }] },
  features: {
    devInteractions: { enabled: false },
    rpInitiatedLogout: {
      logoutSource: async (ctx, form) => {
        ctx.body = page('Signing out', `${form.replace('</form>', '<input type="hidden" name="logout" value="yes"></form>')}
<script>document.forms[0].submit()</script>`);
      },
    },
  },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  findAccount: async (ctx, id) => ({
    accountId: id,
    claims: async () => ({ sub: id, email: `${id}@example.test`, email_verified: true, name: id }),
  }),
  renderError: async (ctx, out) => {
    ctx.type = 'html';
    ctx.body = page('Sign-in failed', `<pre>${JSON.stringify(out).replace(/</g, '&lt;')}</pre>`);
  },
});

const loginForm = (uid) => page('Sign in to the test provider', `<form method="post" action="/interaction/${uid}">
<label>Name <input name="login" required></label>
<label>Password <input name="password" type="password" required></label>
<button type="submit">Sign in</button></form>`);

async function formBody(req) {
  let text = '';
  for await (const chunk of req) text += chunk;
  return new URLSearchParams(text);
}

// The interaction pages: a login form, then consent granted for the scopes the app asked for.
async function interaction(req, res) {
  const details = await provider.interactionDetails(req, res);
  if (details.prompt.name === 'login') {
    if (req.method === 'GET') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(loginForm(details.uid));
      return;
    }
    const login = (await formBody(req)).get('login');
    await provider.interactionFinished(req, res, { login: { accountId: login } }, { mergeWithLastSubmission: false });
    return;
  }
  const grant = new provider.Grant({ accountId: details.session.accountId, clientId: details.params.client_id });
  grant.addOIDCScope(details.prompt.details.missingOIDCScope?.join(' ') ?? 'openid');
  for (const claim of details.prompt.details.missingOIDCClaims ?? []) grant.addOIDCClaims([claim]);
  const grantId = await grant.save();
  await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
}

const handle = provider.callback();
createServer((req, res) => {
  if (req.url.startsWith('/interaction/')) {
    interaction(req, res).catch((error) => {
      res.writeHead(400, { 'content-type': 'text/plain' });
      res.end(`interaction failed: ${error.message}`);
    });
  } else {
    handle(req, res);
  }
}).listen(port, '127.0.0.1', () => console.log(`ready ${issuer}`));
