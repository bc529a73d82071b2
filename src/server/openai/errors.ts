// Errors of the OpenAI-style faces (/v1/images/*, /v1/models): `{"error":{message,type,param,code}}`
// with its HTTP status, and the mapping from the task router's protocol error items onto that shape.
import type { ServerResponse } from 'node:http';
import { cutText, errorBounds, statusForCode, type ProtocolErrorItem } from '../../protocol/index.js';
import { sendJson } from '../http/json-response.js';

/** The `type` field. As OpenAI's API does, every 4xx (401 and 404 too) is `invalid_request_error`. */
export type OpenAiErrorType = 'invalid_request_error' | 'server_error';

/** The body of an error answer. */
export interface OpenAiErrorBody {
  error: { message: string; type: OpenAiErrorType; param: string | null; code: string | null };
}

/** An error answer waiting to be sent: thrown by the request handlers, caught once per request. */
export class OpenAiError extends Error {
  readonly status: number;
  readonly type: OpenAiErrorType;
  readonly param: string | null;
  readonly code: string | null;
  /** Extra response headers, e.g. `allow` on 405. */
  readonly headers: Readonly<Record<string, string>>;

  constructor(status: number, message: string, details: { type?: OpenAiErrorType; param?: string | null; code?: string | null; headers?: Record<string, string> } = {}) {
    super(message);
    this.name = 'OpenAiError';
    this.status = status;
    this.type = details.type ?? typeForStatus(status);
    this.param = details.param ?? null;
    this.code = details.code ?? null;
    this.headers = details.headers ?? {};
  }

  /**
   * The JSON body, with its keys in OpenAI's order, each text cut to the caps of protocol error items
   * (`errorBounds`), so an answer stays small whatever parameter name or value it quotes.
   */
  body(): OpenAiErrorBody {
    const field = errorBounds.maxFieldLength;
    return {
      error: {
        message: cutText(this.message, errorBounds.maxMessageLength),
        type: this.type,
        param: this.param === null ? null : cutText(this.param, errorBounds.maxParameterLength),
        code: this.code === null ? null : cutText(this.code, field),
      },
    };
  }
}

function typeForStatus(status: number): OpenAiErrorType {
  return status >= 500 ? 'server_error' : 'invalid_request_error';
}

/** 400 for a parameter the caller got wrong. */
export function invalidParam(param: string, message: string, code = 'invalid_value'): OpenAiError {
  return new OpenAiError(400, message, { param, code });
}

/** Sends an error answer. */
export function sendOpenAiError(res: ServerResponse, error: OpenAiError): void {
  sendJson(res, error.status, error.body(), error.headers);
}

/** Parameter names of the image-inference protocol as the OpenAI-style faces call them. */
const paramNames: Readonly<Record<string, string>> = {
  positivePrompt: 'prompt',
  negativePrompt: 'negative_prompt',
  CFGScale: 'guidance_scale',
  numberResults: 'n',
  seedImage: 'image',
  width: 'size',
  height: 'size',
};

/** Wire codes whose snake_case form would differ from what this face uses for the same problem. */
const codeNames: Readonly<Record<string, string>> = { invalidSeedImage: 'invalid_image', unknownModel: 'model_not_found' };

/** camelCase wire codes become snake_case, the style of OpenAI's codes (`invalidSeedImage` → `invalid_seed_image`). */
function snakeCase(code: string): string {
  return code.replace(/([a-z0-9])([A-Z])/g, '$1_$2').replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2').toLowerCase();
}

/**
 * The OpenAI-shaped error for an error item the task router produced: same status as `POST /v1`
 * gives it, parameter renamed to this face's name, code in snake_case. `internalServerError` keeps
 * its message generic (the router already logged the cause).
 */
export function fromProtocolError(item: ProtocolErrorItem): OpenAiError {
  const status = statusForCode(item.code);
  // Own names only: a parameter called `constructor` must not find Object.prototype's.
  const renamed = item.parameter !== undefined && Object.prototype.hasOwnProperty.call(paramNames, item.parameter) ? paramNames[item.parameter] : undefined;
  const param = item.parameter === undefined ? null : (renamed ?? item.parameter);
  // A task cancelled on the server's side (it shut down) reads as "unavailable", not as the caller's fault.
  if (item.code === 'serverShuttingDown') return new OpenAiError(503, item.message, { type: 'server_error', code: 'server_shutting_down' });
  const code = Object.prototype.hasOwnProperty.call(codeNames, item.code) ? codeNames[item.code] : undefined;
  return new OpenAiError(status, item.message, { param, code: code ?? snakeCase(item.code) });
}
