// A real OpenID provider for the single sign-on tests: panva's oidc-provider (OpenID
// certified) on 127.0.0.1, with one confidential client and a few accounts. Its own login
// pages are its development ones: any account below, any password (the tests drive them as a
// browser would: GET the form, POST it). Consent is given for the first-party client.
//
//   node provider.js PORT REDIRECT_URI [REDIRECT_URI...]
//
// Prints "ready <issuer>" once it listens; stops on SIGTERM or when its parent's stdin closes.
import Provider from 'oidc-provider';

const [port, ...redirects] = process.argv.slice(2);
const issuer = `http://127.0.0.1:${port}`;

/** The accounts: their claims as the ID token carries them. */
const accounts = {
  ann: { email: 'ann@example.com', name: 'Ann', groups: ['staff'], author: 2 },
  bob: { email: 'bob@example.com', name: 'Bob', groups: ['ops', 'staff'], author: 3 },
  cid: { email: 'cid@example.com', name: 'Cid', groups: ['visitors'], author: 2 },
  // Named as a user of the admin's own login: the provider's may not pass for them.
  root: { email: 'root', name: 'Not root', groups: ['ops'], author: 2 },
};

const provider = new Provider(issuer, {
  clients: [{
    client_id: 'autoadmin',
    client_secret: 'autoadmin-test-client-secret',
    redirect_uris: redirects,
    grant_types: ['authorization_code'],
    response_types: ['code'],
  }],
  pkce: { required: () => true },
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name'],
    groups: ['groups'],
    author: ['author'],
  },
  scopes: ['openid', 'email', 'profile', 'groups', 'author'],
  // The scopes' claims in the ID token itself, as many providers put groups there.
  conformIdTokenClaims: false,
  cookies: { keys: ['autoadmin-oidc-test-cookie-key'] },
  features: { devInteractions: { enabled: true } },
  async findAccount(ctx, id) {
    const account = accounts[id];
    if (!account) return undefined;
    return {
      accountId: id,
      async claims() {
        return { sub: id, email_verified: true, ...account };
      },
    };
  },
  // First-party client: the scopes asked for are granted without a consent page.
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId
      || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope(ctx.oidc.params.scope);
    await grant.save();
    return grant;
  },
});

// Its warnings are for a deployment, not for tests; and a parent that stops reading must not
// make it fail.
process.stdout.on('error', () => {});
const server = provider.listen(Number(port), '127.0.0.1', () => console.log(`ready ${issuer}`));
const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.stdin.on('end', stop);
process.stdin.resume();
