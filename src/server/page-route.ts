// The live page: `/` (HTML with a strict Content-Security-Policy), its bundled scripts under
// /page/, and the page's own token source, POST /page/token, which only a local page may use.
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pathToFileURL } from 'node:url';
import { protocolError, statusForCode, type ProtocolErrorItem } from '../protocol/index.js';
import { ownerOf } from './auth.js';
import { sendJson } from './json-response.js';
import { pageHtml, pageStyleSource } from './page-html.js';
import { mintedItem } from './token-route.js';
import type { TokenIssuer } from './tokens.js';

/** Options of the live page (`createServer({ page })`). */
export interface PageOptions {
  /**
   * The folder holding the bundled page scripts (`page.js`, `imagewire.browser.js`).
   * @default the package's `dist/web/`, written by the build
   */
  assetsDir?: string | URL;
  /**
   * Serve POST /page/token, which mints session tokens for the page without an API key.
   * `"loopback"` allows it only for requests from and addressed to a loopback address (a local
   * development page). A deployment leaves this off and has its own backend call POST /v1/tokens.
   * @default "loopback"
   */
  devTokens?: boolean | 'loopback';
  /** Lifetime of the page's tokens, seconds (bounded by the server's maxTtlSeconds). @default 300 */
  tokenTtlSeconds?: number;
}

/** The scripts the page may load, and their file names in the assets folder. */
const assets: Readonly<Record<string, string>> = {
  '/page/page.js': 'page.js',
  '/page/imagewire.browser.js': 'imagewire.browser.js',
};

const TOKEN_PATH = '/page/token';
const LOOPBACK_HOSTS: ReadonlySet<string> = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

function isLoopbackAddress(address: string | undefined): boolean {
  if (address === undefined) return false;
  return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');
}

function hostName(host: string | undefined): string | undefined {
  if (host === undefined) return undefined;
  try {
    return new URL(`http://${host}`).hostname;
  } catch {
    return undefined;
  }
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
  readonly #devTokens: boolean | 'loopback';
  readonly #ttlSeconds: number;
  readonly #tokens: TokenIssuer;
  /** The page's own owner: its sessions and tasks are nobody else's. */
  readonly #owner = ownerOf(`imagewire-page:${randomUUID()}`);
  readonly #cache = new Map<string, Buffer>();
  /** The page is the same for every request: built once. */
  readonly #html: Buffer;

  constructor(options: PageOptions, tokens: TokenIssuer) {
    const dir = options.assetsDir ?? new URL('../web/', import.meta.url);
    const href = dir instanceof URL ? dir.href : pathToFileURL(dir).href;
    this.#assetsDir = new URL(href.endsWith('/') ? href : `${href}/`);
    this.#devTokens = options.devTokens ?? 'loopback';
    this.#ttlSeconds = Math.min(options.tokenTtlSeconds ?? 300, tokens.maxTtlSeconds);
    if (!Number.isInteger(this.#ttlSeconds) || this.#ttlSeconds < 1) throw new RangeError('page.tokenTtlSeconds must be an integer >= 1');
    this.#tokens = tokens;
    this.#html = Buffer.from(pageHtml(this.#devTokens === false ? '' : TOKEN_PATH));
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

  /** Mints a token for the page; refused unless dev tokens are on for this request. */
  #token(req: IncomingMessage, res: ServerResponse): void {
    // Tokens are credentials: no cache may keep an answer of this route.
    const headers = { 'cache-control': 'no-store', ...baseHeaders() };
    const refuse = (status: number, error: ProtocolErrorItem): void => sendJson(res, status, { errors: [error] }, headers);
    if (this.#devTokens === false) {
      refuse(404, protocolError('invalidFrame', 'this server hands out no page tokens; a backend mints them with POST /v1/tokens'));
      return;
    }
    if (req.method !== 'POST') {
      res.writeHead(405, { allow: 'POST', ...baseHeaders() }).end();
      return;
    }
    const host = req.headers.host;
    // The custom header makes a cross-site request need a preflight, which is never answered; the
    // Origin check covers browsers that send one; loopback checks keep a LAN (and DNS rebinding) out.
    const sameOrigin = req.headers.origin === undefined || req.headers.origin === `http://${host ?? ''}`;
    const local = this.#devTokens === true || (isLoopbackAddress(req.socket.remoteAddress) && LOOPBACK_HOSTS.has(hostName(host) ?? ''));
    if (req.headers['x-imagewire-page'] !== '1' || !sameOrigin || !local) {
      const error = protocolError('tokenNotAllowed', 'page tokens are only handed to the local page');
      refuse(statusForCode(error.code), error);
      return;
    }
    sendJson(res, 200, { data: [mintedItem(this.#tokens, this.#owner, this.#ttlSeconds)] }, headers);
  }
}
