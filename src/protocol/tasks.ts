// Wire types of the tasks a client sends and the items a server answers with.
// Names are the wire's own (taskUUID, CFGScale, connectionSessionUUID), kept verbatim.

/** Longest apiKey accepted; keys and session tokens are far shorter. */
export const MAX_API_KEY_LENGTH = 4096;

/** Every taskType this protocol module knows. */
export const taskTypes = ['authentication', 'ping', 'imageInference', 'imageUpload', 'getResponse', 'cancel', 'enableExtensions'] as const;
export type TaskType = (typeof taskTypes)[number];

export type OutputType = 'base64Data' | 'dataURI' | 'URL';
export type OutputFormat = 'JPG' | 'PNG' | 'WEBP';
export type DeliveryMethod = 'sync' | 'async';
export type PromptWeighting = 'compel' | 'sdEmbeds';
export type ControlMode = 'prompt' | 'controlnet' | 'balanced';

/**
 * First task of every connection (and of an HTTP task array without a bearer key). A client sends
 * only `taskType`, `apiKey` and `connectionSessionUUID`, the protocol's own fields; session
 * extensions are turned on afterwards with {@link EnableExtensionsTask}.
 */
export interface AuthenticationTask {
  taskType: 'authentication';
  apiKey: string;
  /** Resume the session of an earlier connection and collect its undelivered results. */
  connectionSessionUUID?: string;
  /**
   * @deprecated Accepted from older imagewire clients: session extensions for this socket only.
   * Send an {@link EnableExtensionsTask} after the authentication instead.
   */
  extensions?: SessionExtension[];
  /**
   * @deprecated Accepted from older imagewire clients: on resume with the `ack` extension, the
   * highest sequence number received. Send it in an {@link EnableExtensionsTask} instead.
   */
  ack?: number;
}

/** Keepalive. The server answers `{taskType:"ping", pong:true}`. */
export interface PingTask {
  taskType: 'ping';
  ping: true;
  /** With the `ack` extension: every sequenced frame up to this number was received. */
  ack?: number;
}

/**
 * imagewire extensions, offered in the authentication reply. `ack` and `binaryResults` are turned
 * on per session with an {@link EnableExtensionsTask}; `previews` is asked for per task; `cancel`
 * is a task type.
 */
export const extensionNames = ['ack', 'binaryResults', 'previews', 'cancel'] as const;
export type ExtensionName = (typeof extensionNames)[number];
/** The extensions a client turns on for a whole session. */
export type SessionExtension = 'ack' | 'binaryResults';
export const sessionExtensions = ['ack', 'binaryResults'] as const satisfies readonly SessionExtension[];

/**
 * imagewire: sets the session extensions on, from this task on. Sent after the authentication
 * (right after it, without waiting for its reply, so that the tasks that follow get them) to a
 * server whose authentication reply offered them; a server that did not is never sent one. The
 * server answers with an {@link EnableExtensionsResult}.
 */
export interface EnableExtensionsTask {
  taskType: 'enableExtensions';
  /** The session extensions to have on; those not listed are turned off (`[]` turns all off). */
  extensions: SessionExtension[];
  /**
   * With the `ack` extension: the highest sequence number this client received in this session.
   * The server forgets the frames up to it before the new set takes effect (on resume: the replayed
   * frames the client already had).
   */
  ack?: number;
}

/** Extends the canvas of a seed image; sides are multiples of 64. */
export interface Outpaint {
  top?: number;
  right?: number;
  bottom?: number;
  left?: number;
  /** Pixels of blur at the seam, 0 to 32. Default 0. */
  blur?: number;
}

/** SDXL refiner taking over at a step (one of startStep, startStepPercentage). */
export interface Refiner {
  model: string;
  startStep?: number;
  startStepPercentage?: number;
}

export interface Embedding {
  model: string;
  /** -4 to 4. Default 1. */
  weight?: number;
}

export interface ControlNet {
  model: string;
  guideImage: string;
  /** 0 to 1. Default 1. */
  weight?: number;
  startStep?: number;
  startStepPercentage?: number;
  endStep?: number;
  endStepPercentage?: number;
  controlMode?: ControlMode;
}

export interface Lora {
  model: string;
  /** -4 to 4. Default 1. */
  weight?: number;
}

export interface IpAdapter {
  model: string;
  guideImage: string;
  /** 0 to 1. Default 1. */
  weight?: number;
}

/**
 * imagewire's preview extension, opt-in per task: step-by-step partial images of each result.
 * `true` asks for the server's default preview size and format, one preview per step. `count` asks
 * for at most that many per result, at the steps {@link previewSteps} picks.
 */
export type PreviewsOption = boolean | { maxSide?: number; format?: 'JPG' | 'WEBP'; count?: number };

/** Parameters of an imageInference task, as in the protocol's parameter tables. */
export interface ImageInferenceParams {
  positivePrompt: string;
  negativePrompt?: string;
  model: string;
  width: number;
  height: number;
  outputType?: OutputType;
  outputFormat?: OutputFormat;
  outputQuality?: number;
  uploadEndpoint?: string;
  checkNSFW?: boolean;
  includeCost?: boolean;
  seedImage?: string;
  maskImage?: string;
  maskMargin?: number;
  strength?: number;
  outpaint?: Outpaint;
  vae?: string;
  steps?: number;
  scheduler?: string;
  /**
   * 1 to 9223372036854775807; result k carries seed + k, so seed + numberResults - 1 must not pass
   * that top either. A bigint is written with its exact digits; seeds above 2^53 - 1 need one, as
   * a number cannot hold them (decoded frames give them as bigints).
   */
  seed?: number | bigint;
  CFGScale?: number;
  clipSkip?: number;
  promptWeighting?: PromptWeighting;
  /** Older name: `true` means promptWeighting "compel". */
  usePromptWeighting?: boolean;
  numberResults?: number;
  refiner?: Refiner;
  embeddings?: Embedding[];
  controlNet?: ControlNet[];
  lora?: Lora[];
  ipAdapters?: IpAdapter[];
  deliveryMethod?: DeliveryMethod;
  webhookURL?: string;
  ttl?: number;
  /** imagewire extension, see {@link PreviewsOption}. */
  previews?: PreviewsOption;
}

export interface ImageInferenceTask extends ImageInferenceParams {
  taskType: 'imageInference';
  taskUUID: string;
}

/** Stores an image and answers with its imageUUID for later use as seedImage, maskImage or guideImage. */
export interface ImageUploadTask {
  taskType: 'imageUpload';
  taskUUID: string;
  /** A data URI, raw base64 or a URL. */
  image: string;
}

/** Asks for everything a task produced so far (used with `deliveryMethod: "async"` and for recovery). */
export interface GetResponseTask {
  taskType: 'getResponse';
  /** The taskUUID of the task being asked about. */
  taskUUID: string;
}

/** imagewire's cancel extension: stop a running task. `taskUUID` names the task to stop. */
export interface CancelTask {
  taskType: 'cancel';
  taskUUID: string;
}

/** Any task a client may send. */
export type ClientTask = AuthenticationTask | PingTask | ImageInferenceTask | ImageUploadTask | GetResponseTask | CancelTask | EnableExtensionsTask;

/** The task-specific parameters of a task type, without taskType and taskUUID. */
export type TaskParams<T extends ClientTask> = Omit<T, 'taskType' | 'taskUUID'>;

// ---- Server items ----------------------------------------------------------------------------

export interface AuthenticationResult {
  taskType: 'authentication';
  connectionSessionUUID: string;
  /** imagewire: true when an earlier session was resumed and its held results follow. */
  resumed?: boolean;
  /** imagewire: why a requested session could not be resumed (a fresh one was started). */
  resumeError?: 'sessionNotFound';
  /** imagewire: every extension this server supports, offered without being asked. */
  extensions?: ExtensionName[];
  /**
   * imagewire: the session extensions on for this socket: none on a new session, those the session
   * had on a resumed one (or those an older client asked for in this authentication).
   */
  enabledExtensions?: SessionExtension[];
}

/** imagewire: the answer to an {@link EnableExtensionsTask}. */
export interface EnableExtensionsResult {
  taskType: 'enableExtensions';
  /** The session extensions now on. */
  enabledExtensions: SessionExtension[];
}

export interface PongResult {
  taskType: 'ping';
  pong: true;
}

/** imagewire preview extension: one partial image of result `index` at `step` of `steps`. */
export interface ImagePreviewItem {
  taskType: 'imageInference';
  taskUUID: string;
  preview: true;
  index: number;
  step: number;
  steps: number;
  imageBase64Data: string;
  imageFormat: 'JPG' | 'WEBP';
  width: number;
  height: number;
}

/** Answer to a cancel task. `cancelled` is false when the task had already ended. */
export interface CancelResult {
  taskType: 'cancel';
  taskUUID: string;
  cancelled: boolean;
}

/** Status of an item returned by getResponse or an async acknowledgement. */
export type TaskStatus = 'processing' | 'success' | 'error';

/** One generated image. Exactly one of imageURL, imageBase64Data, imageDataURI is set, by outputType. */
export interface ImageInferenceResult {
  taskType: 'imageInference';
  taskUUID: string;
  imageUUID: string;
  imageURL?: string;
  imageBase64Data?: string;
  imageDataURI?: string;
  /**
   * The seed this image was made with: the task's seed + index. The wire carries its exact digits;
   * read with JSON.parse, as clients do, a seed above 2^53 - 1 comes out rounded to a nearby double.
   */
  seed?: number;
  NSFWContent?: boolean;
  cost?: number;
  status?: TaskStatus;
  /** imagewire: which of the task's numberResults images this is (0-based). */
  index?: number;
  /** imagewire: marks a final image when the task asked for previews. */
  final?: true;
  /** imagewire: the encoded format, PNG, JPG or WEBP. */
  imageFormat?: OutputFormat;
}

export interface ImageUploadResult {
  taskType: 'imageUpload';
  taskUUID: string;
  imageUUID: string;
  imageURL?: string;
}

/** Any item of `{"data":[...]}`. Unknown task types and extension fields pass through. */
export interface ServerDataItem {
  taskType: string;
  taskUUID?: string;
  [field: string]: unknown;
}
