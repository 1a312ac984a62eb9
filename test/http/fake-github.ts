import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeGitHubUser {
  id: number;
  login: string;
  name: string | null;
  emails: { email: string; primary: boolean; verified: boolean }[];
}

interface Grant {
  user: FakeGitHubUser;
  challenge: string;
  redirectUri: string;
}

/**
 * A fake GitHub on 127.0.0.1: the authorize page (approves at once for the user the test
 * chose), the token endpoint (checks client credentials and the PKCE verifier) and the REST
 * endpoints `/user` and `/user/emails`. `mode` makes it refuse codes, fail or hang.
 */
export class FakeGitHub {
  readonly clientId = 'fake-client-id';
  readonly clientSecret = 'fake-client-secret';
  mode: 'ok' | 'bad_code' | 'down' | 'slow' = 'ok';
  /** Every token request, to check what the server sent. */
  readonly tokenRequests: URLSearchParams[] = [];
  private readonly grants = new Map<string, Grant>();
  private readonly tokens = new Map<string, FakeGitHubUser>();
  private nextUser: FakeGitHubUser | undefined;
  private server: Server | undefined;
  url = '';

  async start(): Promise<this> {
    const server = createServer((req, res) => {
      this.handle(req, res).catch(() => {
        res.statusCode = 500;
        res.end();
      });
    });
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((resolve) => this.server?.close(resolve));
  }

  /** The user the next authorization approves. */
  signInAs(user: FakeGitHubUser): void {
    this.nextUser = user;
  }

  /**
   * Plays the browser at GitHub: follows the authorize URL the server redirected to and returns
   * the callback URL GitHub would send the browser back to (with `code` and `state`).
   */
  async approve(authorizeUrl: string): Promise<URL> {
    const res = await fetch(authorizeUrl, { redirect: 'manual' });
    const location = res.headers.get('location');
    if (res.status !== 302 || location === null) throw new Error(`authorize answered ${res.status}`);
    return new URL(location);
  }

  private json(res: ServerResponse, status: number, body: unknown): void {
    res.statusCode = status;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(body));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.url);
    if (this.mode === 'down') return this.json(res, 503, { message: 'unavailable' });
    if (this.mode === 'slow' && url.pathname !== '/login/oauth/authorize') {
      await new Promise((resolve) => setTimeout(resolve, 3000));
    }
    if (req.method === 'GET' && url.pathname === '/login/oauth/authorize') {
      const user = this.nextUser;
      const challenge = url.searchParams.get('code_challenge');
      const redirectUri = url.searchParams.get('redirect_uri');
      if (user === undefined || challenge === null || redirectUri === null) return this.json(res, 400, {});
      if (url.searchParams.get('code_challenge_method') !== 'S256') return this.json(res, 400, {});
      const code = randomBytes(10).toString('hex');
      this.grants.set(code, { user, challenge, redirectUri });
      const back = new URL(redirectUri);
      back.searchParams.set('code', code);
      back.searchParams.set('state', url.searchParams.get('state') ?? '');
      res.statusCode = 302;
      res.setHeader('location', back.toString());
      return void res.end();
    }
    if (req.method === 'POST' && url.pathname === '/login/oauth/access_token') {
      let raw = '';
      for await (const chunk of req) raw += String(chunk);
      const form = new URLSearchParams(raw);
      this.tokenRequests.push(form);
      const basic = Buffer.from(`${this.clientId}:${this.clientSecret}`).toString('base64');
      const authorized =
        req.headers.authorization === `Basic ${basic}` ||
        (form.get('client_id') === this.clientId && form.get('client_secret') === this.clientSecret);
      const grant = this.grants.get(form.get('code') ?? '');
      this.grants.delete(form.get('code') ?? '');
      const verifier = form.get('code_verifier') ?? '';
      const challenge = createHash('sha256').update(verifier).digest('base64url');
      if (
        this.mode === 'bad_code' ||
        !authorized ||
        grant === undefined ||
        grant.challenge !== challenge ||
        grant.redirectUri !== form.get('redirect_uri')
      ) {
        // GitHub answers a bad code with 200 and an error body.
        return this.json(res, 200, { error: 'bad_verification_code', error_description: 'The code is incorrect' });
      }
      const token = `gho_${randomBytes(12).toString('hex')}`;
      this.tokens.set(token, grant.user);
      return this.json(res, 200, { access_token: token, token_type: 'bearer', scope: 'read:user,user:email' });
    }
    const user = this.tokens.get((req.headers.authorization ?? '').replace(/^Bearer /, ''));
    if (url.pathname === '/user' || url.pathname === '/user/emails') {
      if (user === undefined) return this.json(res, 401, { message: 'Bad credentials' });
      if (url.pathname === '/user') return this.json(res, 200, { id: user.id, login: user.login, name: user.name });
      return this.json(res, 200, user.emails);
    }
    return this.json(res, 404, { message: 'Not Found' });
  }
}
