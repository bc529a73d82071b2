// The dispatcher both task cores share: what it answers itself, what reaches an admission path (with
// the per-dispatch value), and how a path's failure is answered (internalServerError to the task's
// target, or serviceUnavailable straight to the asker when shared state is out of reach).
import { describe, expect, it } from 'vitest';
import { dispatchTask, type AdmissionPaths, type TaskContext } from '../../src/server/core/task-dispatch.js';
import type { ServerFrame } from '../../src/server/core/server-frame.js';
import { silentLogger } from '../../src/server/logger.js';

class Unreachable extends Error {}

function context(): { ctx: TaskContext; replies: ServerFrame[]; delivered: ServerFrame[] } {
  const replies: ServerFrame[] = [];
  const delivered: ServerFrame[] = [];
  const ctx: TaskContext = {
    owner: 'o',
    target: { deliver: (f) => delivered.push(f), deliverPreview: () => undefined, reachable: true, reattachable: false, forgetTask: () => undefined },
    reply: (f) => replies.push(f),
    connection: { inFlight: 0 },
    previews: false,
  };
  return { ctx, replies, delivered };
}

function paths(seen: string[], fail?: Error): AdmissionPaths<string> {
  return {
    logger: silentLogger,
    isUnavailable: (error) => error instanceof Unreachable,
    imageInference: (task, _ctx, _inputs, call) => {
      seen.push(`inference ${task.taskUUID} ${task.numberResults} ${call}`);
      if (fail !== undefined) throw fail;
    },
    imageUpload: (task, _ctx, call) => void seen.push(`upload ${task.taskUUID} ${call}`),
    getResponse: async (task) => void seen.push(`getResponse ${task.taskUUID}`),
    cancel: (task) => void seen.push(`cancel ${task.taskUUID}`),
  };
}

const uuid = '6f1c4c4e-8a8b-4a4a-9d9d-0e0e0e0e0e0e';
const inference = { taskType: 'imageInference', taskUUID: uuid, positivePrompt: 'a fox', model: 'runware:101@1', width: 512, height: 512 };

describe('dispatchTask', () => {
  it('hands a valid task, normalized, to its path with the per-dispatch value', async () => {
    const seen: string[] = [];
    const { ctx, replies } = context();
    await dispatchTask(paths(seen), inference, 0, ctx, undefined, 'mine');
    await dispatchTask(paths(seen), { taskType: 'getResponse', taskUUID: uuid }, 0, ctx, undefined, 'mine');
    await dispatchTask(paths(seen), { taskType: 'ping', ping: true }, 0, ctx, undefined, 'mine');
    expect(seen).toEqual([`inference ${uuid} 1 mine`, `getResponse ${uuid}`]);
    expect(replies).toEqual([{ kind: 'data', items: [{ taskType: 'ping', pong: true }] }]);
  });

  it('refuses an invalid task about a taskUUID on its target, without calling a path', async () => {
    const seen: string[] = [];
    const { ctx, replies, delivered } = context();
    await dispatchTask(paths(seen), { ...inference, width: 3 }, 0, ctx, undefined, 'x');
    expect(seen).toEqual([]);
    expect(replies).toEqual([]);
    expect(delivered).toMatchObject([{ kind: 'errors', errors: [{ taskUUID: uuid, parameter: 'width' }] }]);
  });

  it('answers a path that threw: internalServerError to the target, serviceUnavailable to the asker', async () => {
    const broken = context();
    await dispatchTask(paths([], new Error('boom')), inference, 0, broken.ctx, undefined, 'x');
    expect(broken.replies).toEqual([]);
    expect(broken.delivered).toMatchObject([{ kind: 'errors', errors: [{ code: 'internalServerError', taskUUID: uuid, taskType: 'imageInference' }] }]);
    const away = context();
    await dispatchTask(paths([], new Unreachable('redis')), inference, 0, away.ctx, undefined, 'x');
    expect(away.delivered).toEqual([]);
    expect(away.replies).toMatchObject([{ kind: 'errors', errors: [{ code: 'serviceUnavailable', taskUUID: uuid }] }]);
  });
});
