import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider from 'oidc-provider';

export const AUTH0_CLIENT_ID = 'portcullis-auth-server';
export const AUTH0_CLIENT_SECRET = 'a-test-secret-for-the-local-oidc-provider-0123456789';

/**
 * A local OpenID Provider (oidc-provider 9) standing in for Auth0: any login name is accepted
 * by its development interactions, and the account has an email and a name.
 */
export async function startOidcProvider(redirectUri: string): Promise<{
  issuer: string;
  close: () => Promise<void>;
}> {
  const server = http.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: AUTH0_CLIENT_ID,
        client_secret: AUTH0_CLIENT_SECRET,
        redirect_uris: [redirectUri],
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
      },
    ],
    async findAccount(_ctx, id) {
      return {
        accountId: id,
        async claims() {
          return {
            sub: id,
            email: `${id}@auth0.example`,
            email_verified: true,
            name: `Auth0 ${id}`,
            nickname: id,
          };
        },
      };
    },
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name', 'nickname'],
    },
    // next-auth v4 reads name and email from the ID token.
    conformIdTokenClaims: false,
    features: { devInteractions: { enabled: true } },
    cookies: { keys: ['oidc-provider-test-cookie-key'] },
  });
  // oidc-provider warns about its development-only defaults; they are what this test wants.
  server.on('request', provider.callback());
  return {
    issuer,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
