// `imagewire/gateway`: an Engine backed by a Runware-compatible upstream service, for servers and
// workers that keep the upstream's key away from browsers. Node only.
export { createUpstreamEngine, defaultModelAliases, type UpstreamEngine, type UpstreamEngineOptions, type UpstreamLogger } from './upstream-engine.js';
