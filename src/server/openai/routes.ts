// The routes of the OpenAI-style images API: POST /v1/images/generations and /edits, GET /v1/models
// and /v1/models/{id}.
import type { FaceRoute, FaceRoutes } from './face.js';
import { sendJson } from '../http/json-response.js';
import { findPreset, modelObject, modelPresets } from './model-presets.js';
import { OpenAiError } from './errors.js';
import { handleImageRequest, type OpenAiImagesDeps } from './images.js';

/** A percent-decoded path segment; malformed escapes are left as they are. */
function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function modelRoute(rest: readonly string[]): FaceRoute | undefined {
  if (rest.length === 0) return { methods: ['GET'], run: (_req, res) => sendJson(res, 200, { object: 'list', data: modelPresets.map(modelObject) }) };
  const id = rest.length === 1 ? rest[0] : undefined;
  if (id === undefined || id === '') return undefined;
  return {
    methods: ['GET'],
    run: (_req, res) => {
      const preset = findPreset(decodeSegment(id));
      if (preset === undefined) throw new OpenAiError(404, `The model '${id}' does not exist`, { param: 'model', code: 'model_not_found' });
      sendJson(res, 200, modelObject(preset));
    },
  };
}

/** The images API's routes. */
export function imagesApiRoutes(deps: OpenAiImagesDeps): FaceRoutes {
  return {
    handles: (pathname) => pathname === '/v1/models' || pathname.startsWith('/v1/models/') || pathname === '/v1/images/generations' || pathname === '/v1/images/edits',
    route(pathname) {
      const parts = pathname.split('/').slice(1);
      if (parts[1] === 'models') return modelRoute(parts.slice(2));
      const operation = parts[2] === 'generations' ? 'generation' : 'edit';
      return { methods: ['POST'], run: (req, res, caller) => handleImageRequest(req, res, caller, operation, deps) };
    },
  };
}
