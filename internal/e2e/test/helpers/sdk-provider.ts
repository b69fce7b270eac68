import { randomBytes } from 'node:crypto';
import type { OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js';
import type {
  OAuthClientInformationMixed,
  OAuthClientMetadata,
  OAuthTokens,
} from '@modelcontextprotocol/sdk/shared/auth.js';
import type { Loopback } from '@portcullis/internal-testing/apps';

export interface AuthorizationResponse {
  url: URL;
  code: string;
}

/**
 * An in-memory `OAuthClientProvider`, as a native MCP client would implement it: its redirect
 * URI is a loopback listener, `redirectToAuthorization` hands the URL to a user agent (here a
 * Chromium page), and the authorization response is checked the way RFC 9207 and RFC 6749
 * §10.12 ask (the `state` it sent, the `iss` of the server it talked to) before its code is
 * handed back to the SDK.
 */
export class TestOAuthProvider implements OAuthClientProvider {
  clientMetadataUrl?: string;
  /** Every authorization URL the SDK asked the user agent to open. */
  readonly authorizationUrls: URL[] = [];
  private client: OAuthClientInformationMixed | undefined;
  private saved: OAuthTokens | undefined;
  private verifier: string | undefined;
  private lastState: string | undefined;
  private response: AuthorizationResponse | undefined;

  constructor(
    private readonly options: {
      loopback: Loopback;
      issuer: string;
      clientName: string;
      /** Opens the URL in the user agent and lets the person sign in and approve. */
      userAgent: (url: URL) => Promise<void>;
      clientMetadataUrl?: string;
    },
  ) {
    if (options.clientMetadataUrl) this.clientMetadataUrl = options.clientMetadataUrl;
  }

  get redirectUrl(): string {
    return this.options.loopback.redirectUri;
  }

  get clientMetadata(): OAuthClientMetadata {
    return {
      client_name: this.options.clientName,
      redirect_uris: [this.options.loopback.redirectUri],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    };
  }

  state(): string {
    this.lastState = randomBytes(16).toString('base64url');
    return this.lastState;
  }

  clientInformation() {
    return this.client;
  }

  saveClientInformation(info: OAuthClientInformationMixed) {
    this.client = info;
  }

  tokens() {
    return this.saved;
  }

  saveTokens(tokens: OAuthTokens) {
    this.saved = tokens;
  }

  saveCodeVerifier(verifier: string) {
    this.verifier = verifier;
  }

  codeVerifier(): string {
    if (!this.verifier) throw new Error('no code verifier saved');
    return this.verifier;
  }

  invalidateCredentials(scope: 'all' | 'client' | 'tokens' | 'verifier' | 'discovery') {
    if (scope === 'all' || scope === 'client') this.client = undefined;
    if (scope === 'all' || scope === 'tokens') this.saved = undefined;
    if (scope === 'all' || scope === 'verifier') this.verifier = undefined;
  }

  async redirectToAuthorization(url: URL): Promise<void> {
    this.authorizationUrls.push(url);
    const arrival = this.options.loopback.next();
    await this.options.userAgent(url);
    const back = await arrival;
    if (back.searchParams.get('state') !== this.lastState) {
      throw new Error('the authorization response carries another state');
    }
    // RFC 9207 §2.4: the response must come from the authorization server the request went to.
    if (back.searchParams.get('iss') !== this.options.issuer) {
      throw new Error(`the authorization response has iss=${back.searchParams.get('iss')}`);
    }
    const code = back.searchParams.get('code');
    if (!code)
      throw new Error(`no code in the authorization response: ${back.search} for ${url.search}`);
    this.response = { url: back, code };
  }

  /** The checked authorization response, once; the SDK exchanges its code. */
  takeAuthorizationResponse(): AuthorizationResponse {
    const response = this.response;
    if (!response) throw new Error('no authorization response arrived');
    this.response = undefined;
    return response;
  }
}

export interface Exchange {
  method: string;
  url: URL;
  status: number;
  /** For token requests: the grant_type sent. */
  grantType?: string | null;
  /** For token requests: the scope granted. */
  scope?: string;
}

/**
 * A fetch that records every request the SDK makes (method, URL, status), for asserting the
 * order of the flow: 401, metadata, registration, token, MCP.
 */
export function recordingFetch(log: Exchange[]): typeof fetch {
  return async (input, init) => {
    const request = new Request(input, init);
    const body = request.method === 'POST' ? await request.clone().text() : '';
    const response = await fetch(request);
    const entry: Exchange = {
      method: request.method,
      url: new URL(request.url),
      status: response.status,
    };
    if (entry.url.pathname === '/token') {
      entry.grantType = new URLSearchParams(body).get('grant_type');
      if (response.ok) {
        entry.scope = ((await response.clone().json()) as { scope?: string }).scope ?? '';
      }
    }
    log.push(entry);
    return response;
  };
}

/**
 * A fetch that can hold the MCP server's 401 answers until `parties` of them have arrived and
 * then hand them over together. MCP SDK 1.32.2's transport keeps one "auth just completed" flag
 * per connection: a parallel call whose 401 arrives after another call's refresh but before that
 * call's retry is answered throws "Server returned 401 after successful authentication" (a client
 * bug, timing-dependent). Released together, every call sees its 401 before any refresh ends, so
 * all of them refresh at once with the same refresh token: the race the server must win, every
 * time, instead of sometimes.
 */
export function holdingUnauthorized(inner: typeof fetch, { timeoutMs = 20_000 } = {}) {
  let parties = 0;
  let waiting: (() => void)[] = [];
  const release = () => {
    parties = 0;
    for (const resume of waiting.splice(0)) resume();
  };
  const held: typeof fetch = async (input, init) => {
    const response = await inner(input, init);
    const path = new URL(input instanceof Request ? input.url : String(input)).pathname;
    if (parties > 0 && response.status === 401 && path !== '/token') {
      await new Promise<void>((resume) => {
        waiting.push(resume);
        if (waiting.length >= parties) release();
      });
    }
    return response;
  };
  return {
    fetch: held,
    /** The next `count` 401s are held until all have arrived (or `timeoutMs`, then released). */
    hold(count: number) {
      parties = count;
      waiting = [];
      const timer = setTimeout(release, timeoutMs);
      timer.unref();
    },
    /** How many 401s are waiting now. */
    get waiting() {
      return waiting.length;
    },
  };
}
