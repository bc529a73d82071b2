// Routes of the OpenAI-style faces (/v1/images/*, /v1/models, /public/images/*): checks the method,
// then the key, then hands the request to the images API or the imagine endpoint.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { bearerCredential, type Authenticator } from './auth.js';
import { ImagineStore } from './imagine-store.js';
import { handleDeleteImage, handleGetImage, handleImagine, handlePublish, servePublishedImage, publicImagePath, type ImagineDeps } from './imagine.js';
import { sendJson } from './json-response.js';
import type { ServerLimits } from './limits.js';
import { errorMessage, type Logger } from './logger.js';
import { findPreset, modelObject, modelPresets } from './model-presets.js';
import { OpenAiError, sendOpenAiError } from './openai-errors.js';
import { handleImageRequest, type OpenAiImagesDeps } from './openai-images.js';
import type { TaskRouter } from './task-router.js';

/** What the routes need from the server. */
export interface OpenAiRoutesDeps {
  readonly router: TaskRouter;
  readonly authenticate: Authenticator;
  readonly limits: ServerLimits;
  readonly logger: Logger;
  /** Base of image URLs, read at use (known only once the server listens). */
  publicUrl(): string;
}

/** A matched route: the methods it answers and what runs for an authenticated request. */
interface Route {
  readonly methods: readonly string[];
  run(req: IncomingMessage, res: ServerResponse, owner: string): Promise<void> | void;
}

/** A percent-decoded path segment; malformed escapes are left as they are. */
function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** The OpenAI-style routes of one server, with the imagine store they own. */
export class OpenAiRoutes {
  readonly #deps: OpenAiRoutesDeps;
  readonly #store: ImagineStore;
  readonly #images: OpenAiImagesDeps;
  readonly #imagine: ImagineDeps;

  constructor(deps: OpenAiRoutesDeps) {
    this.#deps = deps;
    const { limits } = deps;
    this.#store = new ImagineStore({
      maxPublished: limits.maxPublishedImages,
      maxPublishedPerKey: limits.maxPublishedImagesPerKey,
      maxUnpublished: limits.maxImaginedImages,
      maxUnpublishedPerKey: limits.maxImaginedImagesPerKey,
      publishedLifetimeMs: limits.publishedImageLifetimeMs,
    });
    const publicUrl = (): string => deps.publicUrl();
    this.#images = { router: deps.router, limits: deps.limits, publicUrl };
    this.#imagine = { router: deps.router, limits: deps.limits, store: this.#store, publicUrl };
  }

  /** True for every path these faces own (their unknown sub-paths get OpenAI-shaped 404s). */
  handles(pathname: string): boolean {
    return pathname === '/v1/models' || pathname.startsWith('/v1/models/') || pathname === '/v1/images' || pathname.startsWith('/v1/images/') || pathname.startsWith('/public/images/');
  }

  /** Forgets every imagined image (a restart without keepState, or close). */
  clear(): void {
    this.#store.clear();
  }

  /** Forgets published images whose lifetime ended; called by the server's sweep. */
  sweep(): void {
    this.#store.sweep();
  }

  /** Answers one request on a path {@link handles} accepted. Never rejects. */
  async handle(req: IncomingMessage, res: ServerResponse, pathname: string): Promise<void> {
    try {
      if (pathname.startsWith('/public/images/')) {
        if (publicImagePath.test(pathname)) servePublishedImage(pathname, req, res, this.#store);
        else res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('image not found\n');
        return;
      }
      const route = this.#route(pathname);
      const method = req.method ?? 'GET';
      if (route === undefined) throw new OpenAiError(404, `Invalid URL (${method} ${pathname})`, { code: 'unknown_url' });
      if (!route.methods.includes(method)) {
        throw new OpenAiError(405, `${method} is not allowed on ${pathname}; use ${route.methods.join(' or ')}`, { code: 'method_not_allowed', headers: { allow: route.methods.join(', ') } });
      }
      const key = bearerCredential(req);
      if (key === undefined) {
        throw new OpenAiError(401, 'You did not provide an API key: send it as Authorization: Bearer KEY', { code: 'missing_api_key', headers: { 'www-authenticate': 'Bearer' } });
      }
      // The key itself is never echoed or logged; only its digest (the owner) is kept.
      const outcome = await this.#deps.authenticate(key);
      if (!outcome.ok) {
        const expired = outcome.code === 'expiredToken';
        throw new OpenAiError(401, expired ? 'The session token has expired' : 'Incorrect API key provided', { code: expired ? 'expired_token' : 'invalid_api_key', headers: { 'www-authenticate': 'Bearer' } });
      }
      await route.run(req, res, outcome.owner);
    } catch (error) {
      this.#fail(res, error);
    }
  }

  #fail(res: ServerResponse, error: unknown): void {
    const known = error instanceof OpenAiError;
    if (!known) this.#deps.logger.error('images api request failed', { error: errorMessage(error) });
    if (res.headersSent) {
      res.destroy();
      return;
    }
    sendOpenAiError(res, known ? error : new OpenAiError(500, 'the server failed to answer this request', { code: 'internal_server_error' }));
  }

  #route(pathname: string): Route | undefined {
    const parts = pathname.split('/').slice(1);
    if (parts[0] !== 'v1') return undefined;
    if (parts[1] === 'models') return this.#modelRoute(parts.slice(2));
    if (parts[1] !== 'images') return undefined;
    const [first, second, ...rest] = parts.slice(2);
    if (first === undefined || first === '' || rest.length > 0) return undefined;
    if (second === undefined) {
      if (first === 'generations' || first === 'edits') {
        const operation = first === 'generations' ? 'generation' : 'edit';
        return { methods: ['POST'], run: (req, res, owner) => handleImageRequest(req, res, owner, operation, this.#images) };
      }
      if (first === 'imagine') return { methods: ['POST'], run: (req, res, owner) => handleImagine(req, res, owner, this.#imagine) };
      return {
        methods: ['GET', 'DELETE'],
        run: (req, res, owner) => (req.method === 'DELETE' ? handleDeleteImage(res, first, owner, this.#imagine) : handleGetImage(res, first, owner, this.#imagine)),
      };
    }
    if (second === 'publish') return { methods: ['POST'], run: (_req, res, owner) => handlePublish(res, first, owner, this.#imagine) };
    return undefined;
  }

  #modelRoute(rest: readonly string[]): Route | undefined {
    if (rest.length === 0) return { methods: ['GET'], run: (_req, res) => sendJson(res, 200, { object: 'list', data: modelPresets.map(modelObject) }) };
    const id = rest.length === 1 ? rest[0] : undefined;
    if (id === undefined || id === '') return undefined;
    return {
      methods: ['GET'],
      run: (_req, res) => {
        const preset = findPreset(decodeSegment(id));
        if (preset === undefined) throw new OpenAiError(404, `The model '${id}' does not exist`, { param: 'model', code: 'model_not_found' });
        sendJson(res, 200, modelObject(preset));
      },
    };
  }
}
