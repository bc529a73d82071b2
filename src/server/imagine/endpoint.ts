// The imagine endpoint as one face: its store of imagined images, its routes (POST
// /v1/images/imagine; GET, DELETE and publish of /v1/images/{id}) and the public image URLs.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Clock } from '../../internal/clock.js';
import type { TaskCore } from '../core/task-core.js';
import type { ServerLimits } from '../limits.js';
import type { FaceRoute, FaceRoutes } from '../openai/face.js';
import { handleDeleteImage, handleGetImage, handleImagine, handlePublish, publicImagePath, servePublishedImage, type ImagineDeps } from './routes.js';
import { MemoryImagineStore, type ImagineStore } from './store.js';

/** What the endpoint needs from the server. */
export interface ImagineEndpointDeps {
  readonly router: TaskCore;
  readonly limits: ServerLimits;
  readonly clock: Clock;
  /** Base of public URLs, read at use. */
  publicUrl(): string;
  /** Where the images are kept (a cluster's Redis); undefined: in memory. */
  readonly store?: ImagineStore | undefined;
}

/** The imagine endpoint of one server, with the images it keeps. */
export class ImagineEndpoint implements FaceRoutes {
  readonly #store: ImagineStore;
  readonly #deps: ImagineDeps;

  constructor(deps: ImagineEndpointDeps) {
    const { limits, clock } = deps;
    const bounds = {
      maxPublished: limits.maxPublishedImages,
      maxPublishedPerKey: limits.maxPublishedImagesPerKey,
      maxUnpublished: limits.maxImaginedImages,
      maxUnpublishedPerKey: limits.maxImaginedImagesPerKey,
      publishedLifetimeMs: limits.publishedImageLifetimeMs,
    };
    this.#store = deps.store ?? new MemoryImagineStore(bounds, clock);
    this.#deps = { router: deps.router, limits, store: this.#store, clock, publicUrl: () => deps.publicUrl() };
  }

  /** /v1/images and its sub-paths other than the images API's, and the public images. */
  handles(pathname: string): boolean {
    return pathname === '/v1/images' || pathname.startsWith('/v1/images/') || pathname.startsWith('/public/images/');
  }

  route(pathname: string): FaceRoute | undefined {
    const parts = pathname.split('/').slice(1);
    if (parts[0] !== 'v1' || parts[1] !== 'images') return undefined;
    const [first, second, ...rest] = parts.slice(2);
    if (first === undefined || first === '' || rest.length > 0) return undefined;
    const deps = this.#deps;
    if (second === undefined) {
      if (first === 'imagine') return { methods: ['POST'], run: (req, res, caller) => handleImagine(req, res, caller, deps) };
      return {
        methods: ['GET', 'DELETE'],
        run: (req, res, { owner }) => (req.method === 'DELETE' ? handleDeleteImage(res, first, owner, deps) : handleGetImage(res, first, owner, deps)),
      };
    }
    if (second === 'publish') return { methods: ['POST'], run: (_req, res, { owner }) => handlePublish(res, first, owner, deps) };
    return undefined;
  }

  async servePublic(pathname: string, req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    if (!pathname.startsWith('/public/images/')) return false;
    if (publicImagePath.test(pathname)) await servePublishedImage(pathname, req, res, this.#store, this.#deps.clock.now());
    else res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('image not found\n');
    return true;
  }

  /** Forgets every imagined image (a restart without keepState, or close). */
  clear(): void {
    this.#store.clear();
  }

  /** Forgets published images whose lifetime ended; called by the server's sweep. */
  sweep(): void {
    this.#store.sweep();
  }
}
