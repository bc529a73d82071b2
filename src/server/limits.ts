// Every limit of the reference server in one place: its default, and the error code a client gets
// (or what happens) when it is hit. The server keeps serving everyone else when one client hits one.
import { defaultMaxInputPixels } from '../engine/index.js';
import type { ErrorCode } from '../protocol/index.js';

/** Bounds the server enforces. Every field has a default in {@link defaultLimits}. */
export interface ServerLimits {
  /** Largest client frame, UTF-8 bytes; larger ones are answered with `frameTooLarge`. @default 8 MiB */
  maxFrameBytes: number;
  /**
   * Largest message the WebSocket layer buffers at all; beyond it `ws` closes the socket with 1009.
   * Frames between `maxFrameBytes` and this get a `frameTooLarge` error and the socket stays usable.
   * @default 4 × maxFrameBytes
   */
  maxSocketMessageBytes: number;
  /** Most tasks in one frame (`tooManyTasks`). @default 256 */
  maxTasksPerFrame: number;
  /**
   * Deepest nesting of arrays and objects in a frame or JSON request body, the frame's own array
   * being level 1 (`frameTooComplex`, checked before the text is parsed). A valid task needs 4. @default 16
   */
  maxFrameDepth: number;
  /**
   * Most JSON values (arrays, objects, strings, numbers, booleans, nulls; member names not counted)
   * in a frame or JSON request body (`frameTooComplex`, checked before the text is parsed). 256 tasks
   * with every list full need about 110,000. @default 131_072
   */
  maxFrameValues: number;
  /** Tasks running or queued for one connection (one socket, or one HTTP request) (`tooManyTasksInFlight`). @default 32 */
  maxInFlightPerConnection: number;
  /** Tasks running or queued for one API key across all its connections (`tooManyTasksInFlight`). @default 128 */
  maxInFlightPerKey: number;
  /** Tasks the engine works on at once, server-wide; more wait in a queue. @default 64 */
  maxConcurrentTasks: number;
  /** Tasks waiting for the engine, server-wide (`queueFull`). @default 10_000 */
  maxQueuedTasks: number;
  /** Sessions kept (attached or held for resume); at the limit the key holding the most loses its oldest held one, and with none to drop a new authentication gets `sessionLimitReached`. @default 10_000 */
  maxHeldSessions: number;
  /** Sessions one API key keeps; at it the key's own oldest held one is dropped, and with all of them attached its new authentication gets `sessionLimitReached`. @default maxHeldSessions / 4 (2 500) */
  maxHeldSessionsPerKey: number;
  /** Bytes of results one session holds for resume; past it a detached session is dropped (its resume then starts fresh, `resumeError: "sessionNotFound"`). @default 64 MiB */
  maxHeldBytesPerSession: number;
  /** Bytes of results all sessions hold; past it the key holding the most loses its oldest detached sessions, then its unacknowledged frames. @default 512 MiB */
  maxHeldBytesTotal: number;
  /** Bytes of results the sessions of one API key hold; past it the key's own oldest detached sessions are dropped, then its unacknowledged frames. @default maxHeldBytesTotal / 4 (128 MiB) */
  maxHeldBytesPerKey: number;
  /** Largest input image (imageUpload, seedImage, maskImage, guide images), decoded bytes (`imageTooLarge`; over a URL, `fetchFailed`). @default 32 MiB */
  maxUploadBytes: number;
  /**
   * Most pixels (width × height, as the image's header declares them) of an input image; larger
   * ones are refused before anything decodes them (`imageDimensionsTooLarge`). Results are at most
   * 2048 × 2048, so 4096 × 4096 leaves a seed image four times the largest output, a 4K frame or a
   * 12-megapixel photo, while one decode costs at most about 64 MiB of RGBA.
   * @default 16_777_216 (4096 × 4096)
   */
  maxInputPixels: number;
  /** Bytes of images kept for URLs, getResponse and reuse by imageUUID; past it the key holding the most loses its least recently used. @default 1 GiB */
  maxStoredImageBytes: number;
  /** Bytes of images of one API key; past it the key's own least recently used go. @default maxStoredImageBytes / 4 (256 MiB) */
  maxStoredImageBytesPerKey: number;
  /** Finished task records kept for getResponse and conflict checks; past it the key holding the most loses its oldest. Running tasks are never dropped. @default 100_000 */
  maxTaskRecords: number;
  /** Finished task records of one API key; past it the key's own oldest go. @default maxTaskRecords / 4 (25 000) */
  maxTaskRecordsPerKey: number;
  /** Time to fetch an input image from its URL (`fetchFailed`). @default 10_000 */
  fetchTimeoutMs: number;
  /** Time to PUT a result to its uploadEndpoint (`uploadFailed`). @default 30_000 */
  uploadTimeoutMs: number;
  /** Time one webhookURL POST may take before it counts as failed. @default 10_000 */
  webhookTimeoutMs: number;
  /** POSTs of one item to its webhookURL before it is given up (and logged). @default 3 */
  webhookAttempts: number;
  /**
   * Webhook deliveries in progress server-wide. When full, a key under its share
   * (`maxPendingWebhooksPerKey`) takes the place of the oldest delivery of the key holding the most;
   * otherwise the new one is dropped and logged. @default 1_000
   */
  maxPendingWebhooks: number;
  /** Webhook deliveries in progress for one key; beyond it that key's new ones are dropped and logged. @default 100 */
  maxPendingWebhooksPerKey: number;
  /** Time from the WebSocket upgrade to a successful authentication; then the socket is closed with 1008. @default 10_000 */
  authTimeoutMs: number;
  /**
   * Largest frame a socket may send before its authentication: its bytes are counted as they
   * arrive on the TCP socket, and past this the socket is closed with 1009 before the frame is
   * buffered whole. While an authentication is being checked, one pipelined frame of up to
   * `maxFrameBytes` may follow it. @default 64 KiB
   */
  maxUnauthenticatedFrameBytes: number;
  /** WebSocket upgrades not yet authenticated, server-wide; more are refused with HTTP 503 before the handshake. @default 1_024 */
  maxUnauthenticatedSockets: number;
  /** WebSocket upgrades not yet authenticated from one remote address (an IPv6 /64 counts as one); more get HTTP 429. @default 64 */
  maxUnauthenticatedSocketsPerAddress: number;
  /** Authenticated sockets of one API key (its session tokens count as the key); one more gets `tooManyConnections` and is closed with 1008. @default 128 */
  maxConnectionsPerKey: number;
  /**
   * Bytes a socket may have queued and unsent. A frame is always written when nothing is queued;
   * otherwise one that would pass this is not: a reply (a getResponse answer, an error) closes the
   * socket with 4001 "send buffer full", and a task output stays held in its session and is
   * written as the peer reads (see sendStallTimeoutMs). @default 16 MiB
   */
  maxSocketBufferedBytes: number;
  /**
   * A socket whose task output waits for its send buffer (maxSocketBufferedBytes) and whose queue
   * does not go down for this long is closed with 4001 "send buffer full"; its session stays
   * resumable. Checked by the server's sweep (at most a second apart). @default 5_000
   */
  sendStallTimeoutMs: number;
  /** Time a client may take to send a request's headers (node:http `headersTimeout`); then 408. @default 10_000 */
  httpHeadersTimeoutMs: number;
  /** Time a client may take to send a whole request, body included (node:http `requestTimeout`); then 408. Not the time to answer it. @default 60_000 */
  httpRequestTimeoutMs: number;
  /** An idle keep-alive HTTP connection is closed after this long (node:http `keepAliveTimeout`). @default 5_000 */
  httpKeepAliveTimeoutMs: number;
  /** Largest request head (request line and headers) of HTTP requests and upgrades; more is answered 431. @default 16 KiB */
  maxHttpHeaderBytes: number;
  /** Failed authentications on one socket before it is closed with 1008. @default 3 */
  maxFailedAuths: number;
  /** Bytes queued on a socket above which previews are skipped (finals never are). @default 1 MiB */
  previewBackpressureBytes: number;
  /** Published images of the imagine endpoint kept; publishing more is refused (507 `publish_limit_reached`) until one expires or is deleted. @default 256 */
  maxPublishedImages: number;
  /** Published images of one API key; publishing more is refused (507 `publish_limit_reached`). @default maxPublishedImages / 4 (64) */
  maxPublishedImagesPerKey: number;
  /** How long a published imagine image is kept (and served) after it was published. @default 86_400_000 (24 h) */
  publishedImageLifetimeMs: number;
  /** Unpublished images of the imagine endpoint kept; beyond it the key holding the most loses its oldest unpublished one (then 404). @default 128 */
  maxImaginedImages: number;
  /** Unpublished images of one API key; beyond it the key's own oldest unpublished one is dropped. @default maxImaginedImages / 4 (32) */
  maxImaginedImagesPerKey: number;
  /** API keys whose usage (GET /v1/usage) is kept; beyond it the one unused longest is forgotten. @default 10_000 */
  maxUsageOwners: number;
  /**
   * Session tokens whose usage, rate window and spent budget are kept (in memory; Redis keeps every
   * live one, each expiring). When full of live tokens, a task of a token not yet counted is refused
   * with the retryable `rateLimited` until one expires. @default 100_000
   */
  maxUsageTokens: number;
  /** How long usage counters are kept after their last change (a token's: after its expiry). @default 86_400_000 (24 h) */
  usageRetentionMs: number;
}

/**
 * The part of each store bound one API key may hold unless its per-key limit is given: a quarter.
 * One key then never holds more than a quarter of any store, so at least four keys must be at their
 * share before a total is even reached (and then the key holding the most gives way); a server with
 * a single key still has ample room (2 500 sessions, 256 MiB of images, 25 000 finished tasks).
 */
export const perKeyShare = 0.25;

/** Each per-key limit and the total it is a share of. */
export const perKeyLimits = {
  maxHeldSessionsPerKey: 'maxHeldSessions',
  maxHeldBytesPerKey: 'maxHeldBytesTotal',
  maxStoredImageBytesPerKey: 'maxStoredImageBytes',
  maxTaskRecordsPerKey: 'maxTaskRecords',
  maxPublishedImagesPerKey: 'maxPublishedImages',
  maxImaginedImagesPerKey: 'maxImaginedImages',
} as const satisfies Partial<Record<keyof ServerLimits, keyof ServerLimits>>;

const MiB = 1024 * 1024;

/** The defaults of {@link ServerLimits}. */
export const defaultLimits: Readonly<ServerLimits> = Object.freeze({
  maxFrameBytes: 8 * MiB,
  maxSocketMessageBytes: 32 * MiB,
  maxTasksPerFrame: 256,
  maxFrameDepth: 16,
  maxFrameValues: 131_072,
  maxInFlightPerConnection: 32,
  maxInFlightPerKey: 128,
  maxConcurrentTasks: 64,
  maxQueuedTasks: 10_000,
  maxHeldSessions: 10_000,
  maxHeldSessionsPerKey: 2_500,
  maxHeldBytesPerSession: 64 * MiB,
  maxHeldBytesTotal: 512 * MiB,
  maxHeldBytesPerKey: 128 * MiB,
  maxUploadBytes: 32 * MiB,
  maxInputPixels: defaultMaxInputPixels,
  maxStoredImageBytes: 1024 * MiB,
  maxStoredImageBytesPerKey: 256 * MiB,
  maxTaskRecords: 100_000,
  maxTaskRecordsPerKey: 25_000,
  fetchTimeoutMs: 10_000,
  uploadTimeoutMs: 30_000,
  webhookTimeoutMs: 10_000,
  webhookAttempts: 3,
  maxPendingWebhooks: 1_000,
  // A tenth of the server-wide bound: ten keys at their full share fill it, and none can crowd out the rest.
  maxPendingWebhooksPerKey: 100,
  authTimeoutMs: 10_000,
  maxUnauthenticatedFrameBytes: 64 * 1024,
  maxUnauthenticatedSockets: 1_024,
  maxUnauthenticatedSocketsPerAddress: 64,
  maxConnectionsPerKey: 128,
  maxSocketBufferedBytes: 16 * MiB,
  sendStallTimeoutMs: 5_000,
  httpHeadersTimeoutMs: 10_000,
  httpRequestTimeoutMs: 60_000,
  httpKeepAliveTimeoutMs: 5_000,
  maxHttpHeaderBytes: 16 * 1024,
  maxFailedAuths: 3,
  previewBackpressureBytes: MiB,
  // A 1024x1024 procedural PNG is about 0.1 to 1 MB, so at most about 0.4 GB in all.
  maxPublishedImages: 256,
  maxPublishedImagesPerKey: 64,
  // As long as the public URL's cache lifetime (a day).
  publishedImageLifetimeMs: 24 * 60 * 60 * 1000,
  maxImaginedImages: 128,
  maxImaginedImagesPerKey: 32,
  maxUsageOwners: 10_000,
  maxUsageTokens: 100_000,
  usageRetentionMs: 24 * 60 * 60 * 1000,
});

/** The error code a client gets when it hits a limit; limits without one are enforced by dropping held state (see docs/server.md). */
export const limitCodes = {
  maxFrameBytes: 'frameTooLarge',
  maxTasksPerFrame: 'tooManyTasks',
  maxFrameDepth: 'frameTooComplex',
  maxFrameValues: 'frameTooComplex',
  maxInFlightPerConnection: 'tooManyTasksInFlight',
  maxInFlightPerKey: 'tooManyTasksInFlight',
  maxQueuedTasks: 'queueFull',
  maxHeldSessions: 'sessionLimitReached',
  maxConnectionsPerKey: 'tooManyConnections',
  maxUnauthenticatedSocketsPerAddress: 'tooManyConnections',
  maxUnauthenticatedSockets: 'tooManyConnections',
  maxHeldSessionsPerKey: 'sessionLimitReached',
  maxUploadBytes: 'imageTooLarge',
  maxInputPixels: 'imageDimensionsTooLarge',
  fetchTimeoutMs: 'fetchFailed',
  uploadTimeoutMs: 'uploadFailed',
  maxUsageTokens: 'rateLimited',
} as const satisfies Partial<Record<keyof ServerLimits, ErrorCode>>;

/**
 * Defaults filled in; `maxSocketMessageBytes` follows `maxFrameBytes`, and each per-key limit
 * follows its total ({@link perKeyShare} of it, at least 1), unless given. Throws RangeError on nonsense.
 */
export function resolveLimits(given: Partial<ServerLimits> = {}): ServerLimits {
  const maxFrameBytes = given.maxFrameBytes ?? defaultLimits.maxFrameBytes;
  const explicit = withoutUndefined(given);
  const resolved: ServerLimits = {
    ...defaultLimits,
    maxSocketMessageBytes: Math.max(4 * maxFrameBytes, 1024),
    ...explicit,
  };
  for (const [perKey, total] of Object.entries(perKeyLimits) as [keyof typeof perKeyLimits, keyof ServerLimits][]) {
    if (explicit[perKey] === undefined) resolved[perKey] = Math.max(1, Math.ceil(resolved[total] * perKeyShare));
  }
  for (const [name, value] of Object.entries(resolved)) {
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw new RangeError(`limits.${name} must be a finite number >= 0; got ${String(value)}`);
    }
  }
  if (resolved.maxSocketMessageBytes < resolved.maxFrameBytes) {
    throw new RangeError('limits.maxSocketMessageBytes must be at least limits.maxFrameBytes');
  }
  // node:http refuses a headers timeout longer than the request timeout.
  if (resolved.httpRequestTimeoutMs > 0 && resolved.httpHeadersTimeoutMs > resolved.httpRequestTimeoutMs) {
    throw new RangeError('limits.httpHeadersTimeoutMs must be at most limits.httpRequestTimeoutMs');
  }
  return resolved;
}

function withoutUndefined(given: Partial<ServerLimits>): Partial<ServerLimits> {
  const out: Partial<ServerLimits> = {};
  for (const key of Object.keys(given) as (keyof ServerLimits)[]) {
    const value = given[key];
    if (value !== undefined) out[key] = value;
  }
  return out;
}
