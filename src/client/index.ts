// Everything public about the client, browser-safe: both package entries re-export this and
// differ only in the default WebSocket constructor they pass to createClient.
export { ImagewireClient, type ClientStats } from './client.js';
export { ImagewireHttpClient, createHttpClient, DEFAULT_HTTP_URL, type HttpClientOptions } from './http/http-client.js';
export { DEFAULT_URL, type ApiKeyProvider, type ClientOptions } from './options.js';
export { validateRequests } from './validate-requests.js';
export type { OutgoingTask, RequestValidator } from './tasks/request-validator.js';
export type { ReconnectPolicy } from './connection/backoff.js';
export type { KeepAliveOptions } from './connection/keepalive.js';
export type { OutboxOptions } from './connection/outbox.js';
export type { SessionStorageLike } from './connection/session-storage.js';
export type { NetworkEventSources } from './connection/network-events.js';
export type { SocketLike, WebSocketConstructor } from './socket/socket.js';
export type { ConnectionState, StateName } from './connection/connection-state.js';
export type { ClientEventName, ClientEvents, ConnectedInfo, DisconnectedInfo, StateChange } from './connection/events.js';
export type { ListenerTarget } from '../internal/disposer.js';
export type { Clock, TimerHandle } from '../internal/clock.js';
export {
  ApiError,
  AuthenticationError,
  ConnectionError,
  ImagewireError,
  QueueFullError,
  SessionLostError,
  TimeoutError,
  ValidationError,
  clientErrorCodes,
  isImagewireError,
  type ClientErrorCode,
  type ConnectionErrorCode,
  type ImagewireErrorCode,
  type ImagewireErrorOptions,
  type ServerErrorCode,
  type UnknownErrorCode,
  type TimeoutPhase,
} from './errors.js';
export { ImageResult } from './image-result.js';
export { TaskStream, type TaskState } from './tasks/task-stream.js';
export type { RunnableTask, RunResult, TaskApi } from './tasks/task-api.js';
export type {
  FinalEvent,
  GetResponseRequest,
  GetResponseResult,
  ImageInferenceEvent,
  ImageInferenceRequest,
  ImageUploadRequest,
  PingOptions,
  PingResult,
  PreviewEvent,
  TaskOptions,
  UploadedImage,
} from './tasks/requests.js';
export type {
  ImageInferenceParams,
  OutputFormat,
  OutputType,
  PreviewsOption,
  ProtocolErrorItem,
  ServerDataItem,
  TaskStatus,
} from '../protocol/index.js';
export {
  ImagesClient,
  createImagesClient,
  decodeB64Json,
  type CompletedImageEvent,
  type EditImagesParams,
  type GenerateImagesParams,
  type GeneratedImage,
  type ImageObject,
  type ImageStreamEvent,
  type ImagesFinalEvent,
  type ImagesPreviewEvent,
  type ImagesStreamEvent,
  type ImagesClientOptions,
  type ImagesModelId,
  type ImagesRequestOptions,
  type ImagesResponse,
  type ImagineParams,
  type ModelObject,
  type PartialImageEvent,
} from './http/images-api.js';
export { readServerSentEvents, type ServerSentEvent } from './http/sse-parser.js';
export {
  LiveSession,
  createLiveSession,
  type LiveDoneEvent,
  type LiveErrorEvent,
  type LiveEvent,
  type LiveFinalEvent,
  type LiveOptions,
  type LivePreviewEvent,
  type LiveRequest,
  type LiveStartEvent,
  type LiveStats,
  type LiveTaskSource,
} from './live.js';
