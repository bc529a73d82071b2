// Node entry of `imagewire`. Until the client lands it exposes the shared protocol module:
// types, validation, defaults and frame codecs.
export * from './protocol/index.js';
