// The wire protocol shared by client and server: task and item types, the error code table,
// validation, defaults and frame encoding. Pure: no sockets, no timers, no Node built-ins.
export * from './error-codes.js';
export * from './tasks.js';
export * from './validate/rules.js';
export * from './task-uuid.js';
export * from './image-ref.js';
export { isRecord } from './is-record.js';
export { describeValue, cutText, quoteText, PREVIEW_LENGTH } from './validate/describe.js';
export { boundErrorItems, boundErrorItem, leftOutItem, errorBounds, MAX_ERROR_ITEM_BYTES, MAX_ERROR_FRAME_BYTES } from './validate/error-bounds.js';
export { parseJson, parseJsonWithin, defaultJsonBounds, type JsonBounds, type ParsedJson } from './json-parse.js';
export { stringifyJson } from './json-stringify.js';
export { validateTask, validateTaskOf, type ValidationResult } from './validate/validate.js';
export { MAX_LIST_ENTRIES } from './validate/validate-image-inference.js';
export { normalizeImageInference, type ResolvedImageInference, type ResolvedOutpaint, type ResolvedPreviews } from './validate/normalize.js';
export { previewSteps } from './previews.js';
export type { ImageObject } from './imagine.js';
export * from './frame.js';
export * from './binary-frame.js';
