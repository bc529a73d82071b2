// The live page: `/` (HTML with a strict Content-Security-Policy), its bundled scripts under
// /page/, and the page's own token source, POST /page/token, which answers only a caller holding the
// page secret: `imagewire serve` prints it in the page's URL, as Jupyter prints its token.
import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pathToFileURL } from 'node:url';
import { protocolError, statusForCode, type ProtocolErrorItem } from '../../protocol/index.js';
import { bearerCredential, ownerOf } from '../auth/auth.js';
import { sendJson } from '../http/json-response.js';
import { pageHtml, pageStyleSource } from './html.js';
import { mintedItem } from '../http/token-route.js';
import type { TokenIssuer } from '../auth/tokens.js';

/** Options of the live page (`createServer({ page })`). */
export interface PageOptions {
  /**
   * The folder holding the bundled page scripts (`page.js`, `imagewire.browser.js`).
   * @default the package's `dist/web/`, written by the build
   */
  assetsDir?: string | URL;
  /**
   * Serve POST /page/token, which mints session tokens for the page to a caller that sends the page
   * secret (`Authorization: Bearer <secret>`). A deployment turns it off and has its own backend
   * call POST /v1/tokens.
   * @default true
   */
  devTokens?: boolean;
  /**
   * The page secret: 16 to 256 characters of `A-Z a-z 0-9 _ -`. The page reads it from its URL's
   * fragment (`server.pageUrl`, `/#secret=...`), never from the peer's address.
   * @default 32 random bytes per server start, base64url
   */
  secret?: string;
  /** Lifetime of the page's tokens, seconds (bounded by the server's maxTtlSeconds). @default 300 */
  tokenTtlSeconds?: number;
}

/** The scripts the page may load, and their file names in the assets folder. */
const assets: Readonly<Record<string, string>> = {
  '/page/page.js': 'page.js',
  '/page/imagewire.browser.js': 'imagewire.browser.js',
};

const TOKEN_PATH = '/page/token';
const SECRET_PATTERN = /^[A-Za-z0-9_-]{16,256}$/;

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/** Security headers of every page response. */
function baseHeaders(): Record<string, string> {
  return { 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer', 'cross-origin-opener-policy': 'same-origin', 'cross-origin-resource-policy': 'same-origin' };
}

/** The page's content security policy: its own script, its inline style, images from blobs. */
const pageCsp = [
  "default-src 'none'",
  "script-src 'self'",
  `style-src ${pageStyleSource}`,
  "img-src 'self' blob: data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** Serves the page, its scripts and its token source. */
export class PageRoute {
  readonly #assetsDir: URL;
  readonly #devTokens: boolean;
  readonly #secret: string;
  /** Compared as digests, so neither the length nor the position of a mismatch shows in the timing. */
  readonly #secretDigest: Buffer;
  readonly #ttlSeconds: number;
  readonly #tokens: TokenIssuer;
  /** The page's own owner: its sessions and tasks are nobody else's. */
  readonly #owner = ownerOf(`imagewire-page:${randomUUID()}`);
  readonly #cache = new Map<string, Buffer>();
  /** The page is the same for every request: built once. */
  readonly #html: Buffer;

  constructor(options: PageOptions, tokens: TokenIssuer) {
    const dir = options.assetsDir ?? new URL('../../web/', import.meta.url);
    const href = dir instanceof URL ? dir.href : pathToFileURL(dir).href;
    this.#assetsDir = new URL(href.endsWith('/') ? href : `${href}/`);
    this.#devTokens = options.devTokens ?? true;
    const secret = options.secret ?? randomBytes(32).toString('base64url');
    if (typeof secret !== 'string' || !SECRET_PATTERN.test(secret)) throw new RangeError('page.secret must be 16 to 256 characters of A-Z, a-z, 0-9, _ and -');
    this.#secret = secret;
    this.#secretDigest = digest(secret);
    this.#ttlSeconds = Math.min(options.tokenTtlSeconds ?? 300, tokens.maxTtlSeconds);
    if (!Number.isInteger(this.#ttlSeconds) || this.#ttlSeconds < 1) throw new RangeError('page.tokenTtlSeconds must be an integer >= 1');
    this.#tokens = tokens;
    this.#html = Buffer.from(pageHtml(this.#devTokens ? TOKEN_PATH : ''));
  }

  /** The page's path with its secret in the fragment (`/#secret=...`); `/` when it hands out no tokens. */
  get entryPath(): string {
    return this.#devTokens ? `/#secret=${this.#secret}` : '/';
  }

  /** True for POST /page/token, which the server's origin check guards in every mode. */
  static isTokenPath(pathname: string): boolean {
    return pathname === TOKEN_PATH;
  }

  /** True for the paths this route answers. */
  handles(pathname: string): boolean {
    return pathname === '/' || pathname === '/index.html' || pathname === TOKEN_PATH || Object.hasOwn(assets, pathname) || pathname === '/favicon.ico';
  }

  /** Answers one request on a path {@link handles} accepted. */
  async handle(req: IncomingMessage, res: ServerResponse, pathname: string): Promise<void> {
    if (pathname === TOKEN_PATH) {
      this.#token(req, res);
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8', ...baseHeaders() }).end('method not allowed\n');
      return;
    }
    if (pathname === '/favicon.ico') {
      res.writeHead(204, baseHeaders()).end();
      return;
    }
    const file = Object.hasOwn(assets, pathname) ? assets[pathname] : undefined;
    if (file !== undefined) {
      await this.#script(req, res, file);
      return;
    }
    const html = this.#html;
    res.writeHead(200, {
      'content-type': 'text/html; charset=utf-8',
      'content-length': String(html.length),
      'cache-control': 'no-cache',
      'content-security-policy': pageCsp,
      ...baseHeaders(),
    });
    res.end(req.method === 'HEAD' ? undefined : html);
  }

  async #script(req: IncomingMessage, res: ServerResponse, file: string): Promise<void> {
    let body = this.#cache.get(file);
    if (body === undefined) {
      try {
        body = await readFile(new URL(file, this.#assetsDir));
      } catch {
        res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8', ...baseHeaders() }).end(`${file} is not built; run the build (it bundles the page into dist/web)\n`);
        return;
      }
      this.#cache.set(file, body);
    }
    res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8', 'content-length': String(body.length), 'cache-control': 'no-cache', ...baseHeaders() });
    res.end(req.method === 'HEAD' ? undefined : body);
  }

  /** Mints a token for the page; refused without the page secret. */
  #token(req: IncomingMessage, res: ServerResponse): void {
    // Tokens are credentials: no cache may keep an answer of this route.
    const headers = { 'cache-control': 'no-store', ...baseHeaders() };
    const refuse = (status: number, error: ProtocolErrorItem, extra: Record<string, string> = {}): void => sendJson(res, status, { errors: [error] }, { ...headers, ...extra });
    if (!this.#devTokens) {
      refuse(404, protocolError('invalidFrame', 'this server hands out no page tokens; a backend mints them with POST /v1/tokens'));
      return;
    }
    if (req.method !== 'POST') {
      res.writeHead(405, { allow: 'POST', ...baseHeaders() }).end();
      return;
    }
    // Sent as a header (a cross-site page cannot add one without a preflight the server never answers).
    const given = bearerCredential(req);
    if (given === undefined || !timingSafeEqual(digest(given), this.#secretDigest)) {
      refuse(statusForCode('invalidPageSecret'), protocolError('invalidPageSecret', 'send the page secret as Authorization: Bearer <secret>; open the page with the URL imagewire serve printed', { parameter: 'secret', type: 'string' }), {
        'www-authenticate': 'Bearer',
      });
      return;
    }
    sendJson(res, 200, { data: [mintedItem(this.#tokens, this.#owner, this.#ttlSeconds)] }, headers);
  }
}
