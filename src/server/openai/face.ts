// How the OpenAI-style faces answer a request (the images API and the imagine endpoint alike):
// find the route, check its method, then the bearer key, run it; every failure becomes an
// OpenAI-shaped error, and nothing a handler throws escapes.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { bearerCredential, type Authenticator, type Caller } from '../auth/auth.js';
import { errorMessage, type Logger } from '../logger.js';
import { OpenAiError, sendOpenAiError } from './errors.js';

/** A matched route: the methods it answers and what runs for an authenticated request. */
export interface FaceRoute {
  readonly methods: readonly string[];
  /** `caller` is the request's owner and token scope. */
  run(req: IncomingMessage, res: ServerResponse, caller: Caller): Promise<void> | void;
}

/** The routes of one face. */
export interface FaceRoutes {
  /** True for the paths this face owns; an unknown one of them gets an OpenAI-shaped 404. */
  handles(pathname: string): boolean;
  /** The route of a path this face owns, or undefined when there is none. */
  route(pathname: string): FaceRoute | undefined;
  /** Answers a path that needs no key (a published image) and returns true; false for any other. */
  servePublic?(pathname: string, req: IncomingMessage, res: ServerResponse): boolean | Promise<boolean>;
}

/** What the faces share from the server. */
export interface FaceDeps {
  readonly authenticate: Authenticator;
  readonly logger: Logger;
}

/** The OpenAI-style faces of one server, tried in order. */
export class OpenAiFace {
  readonly #deps: FaceDeps;
  readonly #faces: readonly FaceRoutes[];

  constructor(deps: FaceDeps, faces: readonly FaceRoutes[]) {
    this.#deps = deps;
    this.#faces = faces;
  }

  /** True for every path one of the faces owns. */
  handles(pathname: string): boolean {
    return this.#faces.some((face) => face.handles(pathname));
  }

  /** Answers one request on a path {@link handles} accepted. Never rejects. */
  async handle(req: IncomingMessage, res: ServerResponse, pathname: string): Promise<void> {
    try {
      for (const face of this.#faces) if ((await face.servePublic?.(pathname, req, res)) === true) return;
      const route = this.#faces.find((face) => face.handles(pathname))?.route(pathname);
      const method = req.method ?? 'GET';
      if (route === undefined) throw new OpenAiError(404, `Invalid URL (${method} ${pathname})`, { code: 'unknown_url' });
      if (!route.methods.includes(method)) {
        throw new OpenAiError(405, `${method} is not allowed on ${pathname}; use ${route.methods.join(' or ')}`, { code: 'method_not_allowed', headers: { allow: route.methods.join(', ') } });
      }
      await route.run(req, res, await this.#caller(req));
    } catch (error) {
      this.#fail(res, error);
    }
  }

  /** The owner (and token scope) of the request's bearer credential; it is never echoed or logged. */
  async #caller(req: IncomingMessage): Promise<Caller> {
    const key = bearerCredential(req);
    if (key === undefined) {
      throw new OpenAiError(401, 'You did not provide an API key: send it as Authorization: Bearer KEY', { code: 'missing_api_key', headers: { 'www-authenticate': 'Bearer' } });
    }
    const outcome = await this.#deps.authenticate(key);
    if (!outcome.ok) {
      const expired = outcome.code === 'expiredToken';
      throw new OpenAiError(401, expired ? 'The session token has expired' : 'Incorrect API key provided', { code: expired ? 'expired_token' : 'invalid_api_key', headers: { 'www-authenticate': 'Bearer' } });
    }
    return { owner: outcome.owner, grant: outcome.grant };
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
}
