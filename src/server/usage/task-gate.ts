// The check every task passes before any work (before the engine, before any fetch): a session
// token's scope (models, sizes, results, steps), then its rate window and budget in the usage store,
// which also counts the task for its key and token.
import { protocolError, type ImageUploadTask, type ProtocolErrorItem, type ResolvedImageInference } from '../../protocol/index.js';
import type { TokenGrant, TokenScope } from './token-scope.js';
import type { UsageAdmission, UsageStore } from './usage-store.js';

/** A task the gate checks. */
export type GatedTask = ResolvedImageInference | ImageUploadTask;

/** The first field of an imageInference task outside `scope`, as an `outsideTokenScope` item; undefined when inside. */
export function outsideScope(task: ResolvedImageInference, scope: TokenScope): ProtocolErrorItem | undefined {
  const named = { taskType: task.taskType, taskUUID: task.taskUUID };
  const refuse = (parameter: string, message: string): ProtocolErrorItem => protocolError('outsideTokenScope', message, { parameter, type: parameter === 'model' ? 'string' : 'integer', ...named });
  if (scope.models !== undefined) {
    const wanted = task.model.toLowerCase();
    if (!scope.models.some((model) => model.toLowerCase() === wanted)) return refuse('model', `the session token may only use the models ${scope.models.join(', ')}; got ${task.model}`);
  }
  const bounds: [keyof TokenScope, 'numberResults' | 'width' | 'height' | 'steps', number][] = [
    ['maxNumberResults', 'numberResults', task.numberResults],
    ['maxWidth', 'width', task.width],
    ['maxHeight', 'height', task.height],
    ['maxSteps', 'steps', task.steps],
  ];
  for (const [bound, field, value] of bounds) {
    const max = scope[bound];
    if (typeof max === 'number' && value > max) return refuse(field, `the session token allows ${field} up to ${max} (scope.${bound}); got ${value}`);
  }
  return undefined;
}

/** The error item of a refused admission. */
export function admissionError(admission: Exclude<UsageAdmission, { ok: true }>, task: GatedTask): ProtocolErrorItem {
  const named = { taskType: task.taskType, taskUUID: task.taskUUID };
  switch (admission.reason) {
    case 'rateLimited': {
      const seconds = Math.max(1, Math.ceil(admission.retryAfterMs / 1000));
      return protocolError('rateLimited', `the session token may submit ${admission.limit} tasks per minute (scope.tasksPerMinute); send it again in ${seconds} s`, named);
    }
    case 'budgetExhausted':
      return protocolError('budgetExhausted', `the session token spent ${round(admission.spent)} USD of its budget of ${admission.budget} USD (scope.budget); it runs no more tasks`, named);
    case 'full': {
      const seconds = Math.max(1, Math.ceil(admission.retryAfterMs / 1000));
      return protocolError('rateLimited', `the server tracks as many session tokens as it allows (limits.maxUsageTokens); send it again in ${seconds} s`, named);
    }
  }
}

function round(usd: number): number {
  return Math.round(usd * 1e6) / 1e6;
}

/**
 * Checks one task of `owner` submitted through `grant`: the refusal item, or undefined when it may
 * run (and is now counted). Answers at once when the store does (memory); a promise otherwise,
 * which rejects when the store is out of reach.
 */
export function gateTask(usage: UsageStore, owner: string, grant: TokenGrant, task: GatedTask): ProtocolErrorItem | undefined | Promise<ProtocolErrorItem | undefined> {
  if (task.taskType === 'imageInference') {
    const outside = outsideScope(task, grant.scope);
    if (outside !== undefined) return outside;
  }
  const admission = usage.admit(owner, { id: grant.id, expiresAtMs: grant.expiresAtMs, tasksPerMinute: grant.scope.tasksPerMinute, budget: grant.scope.budget });
  const answer = (settled: UsageAdmission): ProtocolErrorItem | undefined => (settled.ok ? undefined : admissionError(settled, task));
  return admission instanceof Promise ? admission.then(answer) : answer(admission);
}
