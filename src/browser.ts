// Browser entry of `imagewire`: browser-safe code only (no ws, no Node built-ins, no server).
// Until the client lands it exposes the shared protocol module.
export * from './protocol/index.js';
