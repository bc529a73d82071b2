// The single table of stable error codes that imagewire speaks on the wire, and the error item shape.
// Codes follow the wire's camelCase style (`invalidApiKey` comes from the protocol itself).

/** What a code means and which HTTP status carries it on the HTTP faces. */
export interface ErrorCodeInfo {
  /** HTTP status used by `POST /v1` when this is the only error. */
  readonly status: number;
  /** One line for docs/errors.md. */
  readonly description: string;
}

/**
 * Every error code imagewire emits or understands. Adding a code means adding a row here;
 * nothing else defines codes.
 */
export const errorCodes = {
  // Frames
  invalidJSON: { status: 400, description: 'The frame is not valid JSON.' },
  invalidFrame: { status: 400, description: 'The frame is not a non-empty JSON array of task objects.' },
  frameTooLarge: { status: 413, description: 'The frame is larger than the server accepts.' },
  tooManyTasks: { status: 400, description: 'The frame carries more tasks than the server accepts in one frame.' },
  invalidTask: { status: 400, description: 'An element of the frame is not a task object.' },
  missingTaskType: { status: 400, description: 'A task has no taskType.' },
  unknownTaskType: { status: 400, description: 'The taskType is not one this server runs.' },
  missingTaskUUID: { status: 400, description: 'A task has no taskUUID.' },
  invalidTaskUUID: { status: 400, description: 'The taskUUID is not a UUID v4 string.' },
  conflictTaskUUID: { status: 409, description: 'The taskUUID is already used by another task.' },
  unknownParameter: { status: 400, description: 'The task carries a parameter its taskType does not define.' },
  conflictingParameters: { status: 400, description: 'Two parameters that are alternatives to each other were both given.' },
  frameTooComplex: { status: 400, description: 'The frame or request body nests deeper, or holds more values, than the server accepts.' },
  tooManyErrors: { status: 400, description: 'More problems were found than one error answer lists; this last item says how many were left out.' },
  unsupportedMediaType: { status: 415, description: 'The request body is not application/json (multipart/form-data only where an edit takes files).' },
  originNotAllowed: { status: 403, description: "The request's Origin is neither the server's own nor one of its allowed origins." },
  hostNotAllowed: { status: 403, description: "The request's Host names neither the server nor an allowed origin (an open-mode server on loopback answers only its own names, against DNS rebinding)." },
  invalidRequestTarget: { status: 400, description: 'The request target is not a valid absolute path (with an optional query).' },

  // Authentication and sessions
  missingApiKey: { status: 401, description: 'The authentication task has no apiKey.' },
  invalidApiKey: { status: 401, description: 'The API key (or session token) is not valid.' },
  invalidConnectionSessionUUID: { status: 400, description: 'connectionSessionUUID is not a UUID string.' },
  notAuthenticated: { status: 401, description: 'A task arrived before a successful authentication.' },
  invalidPing: { status: 400, description: 'The ping task is malformed.' },
  missingExtensions: { status: 400, description: 'The enableExtensions task has no extensions list.' },
  invalidExtensions: { status: 400, description: 'extensions is not a list of session extensions (ack, binaryResults).' },
  invalidAck: { status: 400, description: 'ack is not a non-negative integer sequence number.' },
  webSocketOnly: { status: 400, description: 'The task only has a meaning on a WebSocket connection (enableExtensions sets extensions of a WebSocket session); it was sent over HTTP.' },
  alreadyAuthenticated: { status: 400, description: 'An authentication task arrived on a connection that is already authenticated.' },
  expiredToken: { status: 401, description: 'The session token has expired; get a new one from POST /v1/tokens.' },
  tokenNotAllowed: { status: 403, description: 'A session token was used where only an API key is accepted (minting tokens).' },
  invalidPageSecret: { status: 401, description: 'POST /page/token without the page secret, or with a wrong one (the live page reads it from the URL imagewire serve prints).' },
  tooManyConnections: { status: 429, description: 'The API key, or the peer before authenticating, has as many open connections as the server allows.' },
  invalidTokenRequest: { status: 400, description: 'The body of POST /v1/tokens is not a JSON object with an optional integer ttlSeconds in range and an optional valid scope object; parameter names the field (scope.maxWidth).' },
  outsideTokenScope: { status: 403, description: 'The task asks for more than the scope of its session token allows (a model not listed, more results, a larger size or more steps); parameter names the task field, the message the bound. Nothing ran.' },
  rateLimited: { status: 429, description: "The session token has submitted as many tasks this minute as its scope's tasksPerMinute allows (or the server keeps as many tokens' usage as limits.maxUsageTokens allows and this token is new). Retryable: the message says in how many seconds to send it again." },
  budgetExhausted: { status: 402, description: "The cost spent by the session token's tasks has reached its scope's budget (USD); it runs no more tasks. Mint a new token." },
  adminKeyRequired: { status: 401, description: 'An operator route (GET /v1/usage) was called without the admin key, or with a wrong one.' },

  // imageInference parameters
  missingPositivePrompt: { status: 400, description: 'positivePrompt is required.' },
  invalidPositivePrompt: { status: 400, description: 'positivePrompt breaks its length or __BLANK__ rule.' },
  invalidNegativePrompt: { status: 400, description: 'negativePrompt breaks its length rule.' },
  missingModel: { status: 400, description: 'model is required.' },
  invalidModel: { status: 400, description: 'model is not an AIR identifier (source:id@version).' },
  unknownModel: { status: 400, description: 'The model is a valid AIR identifier that this server cannot run.' },
  missingWidth: { status: 400, description: 'width is required.' },
  invalidWidth: { status: 400, description: 'width is not a multiple of 64 from 128 to 2048.' },
  missingHeight: { status: 400, description: 'height is required.' },
  invalidHeight: { status: 400, description: 'height is not a multiple of 64 from 128 to 2048.' },
  invalidSteps: { status: 400, description: 'steps is not an integer from 1 to 100.' },
  invalidScheduler: { status: 400, description: 'scheduler is not a non-empty string.' },
  invalidSeed: { status: 400, description: 'seed is not an integer from 1 to 9223372036854775807, or seed + numberResults - 1 (the seed of the last result) is above 9223372036854775807.' },
  invalidCFGScale: { status: 400, description: 'CFGScale is not a number from 0 to 30.' },
  invalidClipSkip: { status: 400, description: 'clipSkip is not an integer from 0 to 2.' },
  invalidPromptWeighting: { status: 400, description: 'promptWeighting is not compel or sdEmbeds (or usePromptWeighting is not a boolean).' },
  invalidNumberResults: { status: 400, description: 'numberResults is not an integer from 1 to 20.' },
  invalidOutputType: { status: 400, description: 'outputType is not base64Data, dataURI or URL.' },
  invalidOutputFormat: { status: 400, description: 'outputFormat is not JPG, PNG or WEBP.' },
  invalidOutputQuality: { status: 400, description: 'outputQuality is not an integer from 20 to 99.' },
  invalidUploadEndpoint: { status: 400, description: 'uploadEndpoint is not an http(s) URL.' },
  invalidCheckNSFW: { status: 400, description: 'checkNSFW is not a boolean.' },
  invalidIncludeCost: { status: 400, description: 'includeCost is not a boolean.' },
  missingSeedImage: { status: 400, description: 'seedImage is required for inpainting and outpainting.' },
  invalidSeedImage: { status: 400, description: 'seedImage is not a UUID, data URI, base64 image or URL, or cannot be decoded.' },
  missingMaskImage: { status: 400, description: 'maskMargin needs a maskImage.' },
  invalidMaskImage: { status: 400, description: 'maskImage is not a UUID, data URI, base64 image or URL, or cannot be decoded.' },
  invalidMaskMargin: { status: 400, description: 'maskMargin is not an integer from 32 to 128.' },
  invalidStrength: { status: 400, description: 'strength is not a number from 0 to 1.' },
  invalidOutpaint: { status: 400, description: 'outpaint is malformed: sides must be multiples of 64 from 0, blur from 0 to 32, and the canvas must fit the seed image.' },
  invalidVae: { status: 400, description: 'vae is not an AIR identifier.' },
  invalidRefiner: { status: 400, description: 'refiner is malformed (model, startStep 2..steps or startStepPercentage 1..99).' },
  invalidEmbeddings: { status: 400, description: 'embeddings is malformed (model, weight -4..4).' },
  invalidControlNet: { status: 400, description: 'controlNet is malformed (model, guideImage, weight 0..1, step windows).' },
  invalidLora: { status: 400, description: 'lora is malformed (model, weight -4..4).' },
  invalidIpAdapters: { status: 400, description: 'ipAdapters is malformed (model, guideImage, weight 0..1).' },
  invalidDeliveryMethod: { status: 400, description: 'deliveryMethod is not sync or async.' },
  invalidWebhookURL: { status: 400, description: 'webhookURL is not an http(s) URL.' },
  invalidTtl: { status: 400, description: 'ttl is not an integer of at least 60 seconds, or is used without outputType URL.' },
  invalidPreviews: { status: 400, description: 'previews is not a boolean or a previews options object.' },

  // imageUpload
  missingImage: { status: 400, description: 'imageUpload needs an image.' },
  invalidImage: { status: 400, description: 'The image is not a data URI, base64 image or URL, or cannot be decoded.' },

  // Runtime
  taskNotFound: { status: 404, description: 'No task with this taskUUID is known to the server (getResponse, cancel).' },
  imageNotFound: { status: 404, description: 'An image UUID given as input is not known to the server.' },
  taskCancelled: { status: 409, description: 'The task was cancelled before it finished.' },
  taskTimeout: { status: 504, description: 'The task did not finish within its deadline.' },
  tooManyTasksInFlight: { status: 429, description: 'The connection or key has as many tasks running as the server allows.' },
  queueFull: { status: 429, description: 'The server queue for this key is full.' },
  sessionLimitReached: { status: 503, description: 'The server keeps as many resumable sessions as it allows.' },
  uploadFailed: { status: 502, description: 'Uploading the result to uploadEndpoint failed.' },
  fetchFailed: { status: 502, description: 'Fetching an input image from its URL failed.' },
  imageTooLarge: { status: 413, description: 'An input image is larger than the server accepts.' },
  imageDimensionsTooLarge: { status: 413, description: 'An input image declares more pixels than the server decodes (limits.maxInputPixels).' },
  missingDependency: { status: 500, description: 'An optional server dependency (such as sharp) is not installed.' },
  serverShuttingDown: { status: 503, description: 'The server is shutting down and takes no new tasks.' },
  serviceUnavailable: { status: 503, description: 'A cluster node cannot reach its shared state (Redis) right now; nothing was accepted. Retryable: send the task again shortly.' },
  taskLost: { status: 503, description: 'A cluster task was accepted but its job kept getting lost before it finished (queued again 3 times after its node stopped before queueing it, or the queue gave it up after repeated worker crashes). Retryable: send it again with a new taskUUID.' },
  // Gateway (a server whose engine is an upstream Runware-compatible service)
  upstreamUnavailable: { status: 503, description: 'A gateway cannot reach its upstream service right now (down, unreachable, or its queue is full); the task did not run or its result could not be fetched. Retryable: send the task again shortly.' },
  upstreamTimeout: { status: 504, description: 'The upstream service did not finish the task within the gateway\'s deadline. Retryable.' },
  upstreamAuthFailed: { status: 502, description: 'The upstream service refused the gateway\'s own key; the operator must fix it (the key is never shown). Not the client\'s key.' },
  upstreamRejected: { status: 502, description: 'The upstream service refused the task with an error this server does not know; the message carries the upstream\'s code and message.' },
  // Operations routes (/healthz, /readyz, /metrics)
  methodNotAllowed: { status: 405, description: 'The route does not answer this HTTP method (the Allow header lists the ones it does).' },
  invalidMetricsToken: { status: 401, description: 'GET /metrics without the bearer token the server was started with (metricsToken, --metrics-token), or with a wrong one.' },
  internalServerError: { status: 500, description: 'The server failed in a way it did not expect.' },
} as const satisfies Record<string, ErrorCodeInfo>;

/** A stable error code of the imagewire wire protocol. */
export type ErrorCode = keyof typeof errorCodes;

/** The JSON type a parameter was expected to have, as the wire's `type` field says it. */
export type ParameterType = 'string' | 'integer' | 'float' | 'boolean' | 'object' | 'array' | 'frame' | 'task';

/**
 * One error as it travels in `{"errors":[...]}`. `parameter` is a path for nested values
 * (`controlNet[0].endStep`); `taskType` and `taskUUID` are present whenever they are known.
 */
export interface ProtocolErrorItem {
  code: string;
  message: string;
  parameter?: string;
  type?: string;
  taskType?: string;
  taskUUID?: string;
}

/** Fields of an error item other than its code and message. */
export interface ErrorContext {
  parameter?: string | undefined;
  type?: ParameterType | undefined;
  taskType?: string | undefined;
  taskUUID?: string | undefined;
}

/** True when `code` is one of imagewire's codes (servers may send others). */
export function isKnownErrorCode(code: string): code is ErrorCode {
  return Object.prototype.hasOwnProperty.call(errorCodes, code);
}

/** HTTP status for a code; unknown codes map to 400 for the caller's side. */
export function statusForCode(code: string): number {
  return isKnownErrorCode(code) ? errorCodes[code].status : 400;
}

/** Builds an error item, leaving out context fields that are unknown. */
export function protocolError(code: ErrorCode, message: string, context: ErrorContext = {}): ProtocolErrorItem {
  const item: ProtocolErrorItem = { code, message };
  if (context.parameter !== undefined) item.parameter = context.parameter;
  if (context.type !== undefined) item.type = context.type;
  if (context.taskType !== undefined) item.taskType = context.taskType;
  if (context.taskUUID !== undefined) item.taskUUID = context.taskUUID;
  return item;
}
