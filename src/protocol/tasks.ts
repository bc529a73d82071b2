// Wire types of the tasks a client sends and the items a server answers with.
// Names are the wire's own (taskUUID, CFGScale, connectionSessionUUID), kept verbatim.

/** Every taskType this protocol module knows. */
export const taskTypes = ['authentication', 'ping', 'imageInference', 'imageUpload', 'getResponse', 'cancel'] as const;
export type TaskType = (typeof taskTypes)[number];

export type OutputType = 'base64Data' | 'dataURI' | 'URL';
export type OutputFormat = 'JPG' | 'PNG' | 'WEBP';
export type DeliveryMethod = 'sync' | 'async';
export type PromptWeighting = 'compel' | 'sdEmbeds';
export type ControlMode = 'prompt' | 'controlnet' | 'balanced';

/** First task of every connection (and of an HTTP task array without a bearer key). */
export interface AuthenticationTask {
  taskType: 'authentication';
  apiKey: string;
  /** Resume the session of an earlier connection and collect its undelivered results. */
  connectionSessionUUID?: string;
  /** imagewire extensions this client asks for on the session (see docs/protocol.md). */
  extensions?: SessionExtension[];
  /** With the `ack` extension on resume: the highest sequence number this client received. */
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
 * imagewire extensions. `ack` and `binaryResults` are asked for per session in the
 * authentication task; `previews` is asked for per task; `cancel` is a task type.
 */
export const extensionNames = ['ack', 'binaryResults', 'previews', 'cancel'] as const;
export type ExtensionName = (typeof extensionNames)[number];
/** The extensions a client turns on for a whole session. */
export type SessionExtension = 'ack' | 'binaryResults';
export const sessionExtensions = ['ack', 'binaryResults'] as const satisfies readonly SessionExtension[];

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
export type ClientTask = AuthenticationTask | PingTask | ImageInferenceTask | ImageUploadTask | GetResponseTask | CancelTask;

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
  /** imagewire: every extension this server supports. */
  extensions?: ExtensionName[];
  /** imagewire: the session extensions now on (asked for and supported). */
  enabledExtensions?: SessionExtension[];
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
