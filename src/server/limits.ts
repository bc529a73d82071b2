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
  /** Sessions kept (attached or held for resume); at the limit the oldest held one is dropped, and with none held a new authentication gets `sessionLimitReached`. @default 10_000 */
  maxHeldSessions: number;
  /** Bytes of results one session holds for resume; past it a detached session is dropped (its resume then starts fresh, `resumeError: "sessionNotFound"`). @default 64 MiB */
  maxHeldBytesPerSession: number;
  /** Bytes of results all sessions hold; past it the oldest detached sessions are dropped. @default 512 MiB */
  maxHeldBytesTotal: number;
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
  /** Bytes of images kept for URLs, getResponse and reuse by imageUUID; the least recently used go first. @default 1 GiB */
  maxStoredImageBytes: number;
  /** Task records kept for getResponse and conflict checks; the oldest finished go first. @default 100_000 */
  maxTaskRecords: number;
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
  /** Published images of the imagine endpoint kept while the server runs; publishing more is refused (507 `publish_limit_reached`). @default 256 */
  maxPublishedImages: number;
  /** Unpublished images of the imagine endpoint kept; beyond it the oldest unpublished one is dropped (then 404). @default 128 */
  maxImaginedImages: number;
}

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
  maxHeldBytesPerSession: 64 * MiB,
  maxHeldBytesTotal: 512 * MiB,
  maxUploadBytes: 32 * MiB,
  maxInputPixels: defaultMaxInputPixels,
  maxStoredImageBytes: 1024 * MiB,
  maxTaskRecords: 100_000,
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
  maxImaginedImages: 128,
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
  maxUploadBytes: 'imageTooLarge',
  maxInputPixels: 'imageDimensionsTooLarge',
  fetchTimeoutMs: 'fetchFailed',
  uploadTimeoutMs: 'uploadFailed',
} as const satisfies Partial<Record<keyof ServerLimits, ErrorCode>>;

/** Defaults filled in; `maxSocketMessageBytes` follows `maxFrameBytes` unless given. Throws RangeError on nonsense. */
export function resolveLimits(given: Partial<ServerLimits> = {}): ServerLimits {
  const maxFrameBytes = given.maxFrameBytes ?? defaultLimits.maxFrameBytes;
  const resolved: ServerLimits = {
    ...defaultLimits,
    maxSocketMessageBytes: Math.max(4 * maxFrameBytes, 1024),
    ...withoutUndefined(given),
  };
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
