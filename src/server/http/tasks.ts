// The HTTP face: `POST /v1` with a JSON array of tasks, authenticated by `Authorization: Bearer KEY`
// or by an authentication task first. The same task router runs the tasks; the answer waits for
// all of them and is `{"data":[...]}`, or `{"errors":[...]}` (plus the `data` that did succeed)
// with the status of the first error's code.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { boundErrorItems, decodeClientFrame, isRecord, protocolError, statusForCode, validateTask, type ProtocolErrorItem, type ServerDataItem } from '../../protocol/index.js';
import { authError, bearerCredential, type Authenticator } from '../auth/auth.js';
import type { ServerLimits } from '../limits.js';
import { inlineImageItem, type ServerFrame } from '../core/server-frame.js';
import { sendJson } from './json-response.js';
import { acceptedBodyType, mediaType } from './media-type.js';
import { readBounded } from './read-bounded.js';
import type { OutputTarget } from '../core/output-target.js';
import type { TaskContext } from '../core/task-router.js';
import type { TaskCore } from '../core/task-core.js';

export interface HttpTaskDeps {
  readonly router: TaskCore;
  readonly authenticate: Authenticator;
  readonly limits: ServerLimits;
}

/** Collects what the router sends for one request. */
class Collector implements OutputTarget {
  readonly data: ServerDataItem[] = [];
  readonly errors: ProtocolErrorItem[] = [];
  readonly reattachable = false;
  reachable = true;

  deliver(frame: ServerFrame): void {
    switch (frame.kind) {
      case 'data':
        this.data.push(...frame.items);
        break;
      case 'errors':
        this.errors.push(...frame.errors);
        break;
      case 'image':
        this.data.push(inlineImageItem(frame));
        break;
    }
  }

  deliverPreview(): void {
    // HTTP answers once: previews have nowhere to go.
  }

  forgetTask(): void {
    // Nothing is held for a request.
  }
}

/** The error answer: every task's errors in one bounded list ({@link boundErrorItems}), with what did succeed. */
function sendErrors(res: ServerResponse, errors: readonly ProtocolErrorItem[], data: readonly ServerDataItem[] = []): void {
  const status = statusForCode(errors[0]?.code ?? 'internalServerError');
  const bounded = boundErrorItems(errors);
  sendJson(res, status, data.length > 0 ? { errors: bounded, data } : { errors: bounded });
}

/** Answers one `POST /v1`. */
export async function handleHttpTasks(req: IncomingMessage, res: ServerResponse, deps: HttpTaskDeps): Promise<void> {
  if (req.method !== 'POST') {
    sendJson(res, 405, { errors: [protocolError('invalidFrame', 'use POST with a JSON array of tasks, or a WebSocket upgrade', { type: 'frame' })] }, { allow: 'POST' });
    return;
  }
  // Only JSON: a page elsewhere can send text/plain or a form without a CORS preflight.
  if (acceptedBodyType(req, ['application/json']) === undefined) {
    const given = mediaType(req);
    sendErrors(res, [protocolError('unsupportedMediaType', `send the tasks as content-type: application/json; got ${given === '' ? 'no content-type' : given}`, { type: 'frame' })]);
    return;
  }
  const body = await readBounded(req, deps.limits.maxFrameBytes);
  if (body === undefined) {
    sendErrors(res, [protocolError('frameTooLarge', `a request body must be at most ${deps.limits.maxFrameBytes} bytes`, { type: 'frame' })]);
    return;
  }
  const decoded = decodeClientFrame(body, deps.limits);
  if (!decoded.ok) {
    sendErrors(res, [decoded.error]);
    return;
  }
  const entries = decoded.entries;
  let key = bearerCredential(req);
  let start = 0;
  const first = entries[0];
  if (isRecord(first) && first.taskType === 'authentication') {
    const auth = validateTask(first, 0);
    if (!auth.ok) {
      sendErrors(res, auth.errors);
      return;
    }
    if (auth.task.taskType === 'authentication') key = auth.task.apiKey;
    start = 1;
  }
  if (key === undefined) {
    sendErrors(res, [protocolError('missingApiKey', 'authenticate with an Authorization: Bearer header or an authentication task first', { parameter: 'apiKey', type: 'string', taskType: 'authentication' })]);
    return;
  }
  const outcome = await deps.authenticate(key);
  if (!outcome.ok) {
    sendErrors(res, [authError(outcome.code)]);
    return;
  }
  // One collector per task, joined in task order, so the answer does not depend on timing.
  const { owner, grant } = outcome;
  const connection = { inFlight: 0 };
  const collectors = entries.slice(start).map(() => new Collector());
  await Promise.all(
    collectors.map((collector, offset) => {
      const ctx: TaskContext = { owner, target: collector, reply: (frame) => collector.deliver(frame), connection, previews: false, grant };
      return deps.router.dispatch(entries[start + offset], start + offset, ctx);
    }),
  );
  const data = collectors.flatMap((collector) => collector.data);
  const errors = collectors.flatMap((collector) => collector.errors);
  for (const collector of collectors) collector.reachable = false;
  if (errors.length > 0) sendErrors(res, errors, data);
  else sendJson(res, 200, { data });
}
