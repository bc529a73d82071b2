// What an authentication settles, without a socket: the reply (resumed or new, resumeError, the
// extensions offered and on, in the order the server sends them) and what the socket attaches with.
import { describe, expect, it } from 'vitest';
import type { AuthenticationTask } from '../../src/protocol/index.js';
import { negotiate, sessionToResume } from '../../src/server/ws/negotiation.js';
import { noFlags } from '../../src/server/ws/session-record.js';

const uuid = '3f1c2b4a-5d6e-4f70-8a9b-0c1d2e3f4a5b';
const other = '8d0e6f3c-2b1a-4c5d-9e8f-7a6b5c4d3e2f';
const all = ['ack', 'binaryResults', 'previews', 'cancel'];

function task(extra: Partial<AuthenticationTask> = {}): AuthenticationTask {
  return { taskType: 'authentication', apiKey: 'k', ...extra };
}

describe('negotiate', () => {
  it('answers a new session with every extension offered and none on', () => {
    const settled = negotiate(task(), { uuid, carriedFlags: noFlags }, false);
    expect(JSON.stringify(settled.reply)).toBe(JSON.stringify({ taskType: 'authentication', connectionSessionUUID: uuid, resumed: false, extensions: all, enabledExtensions: [] }));
    expect(settled).toMatchObject({ asked: undefined, ack: undefined });
  });

  it('says sessionNotFound when the session asked for was not the one got', () => {
    const settled = negotiate(task({ connectionSessionUUID: other, ack: 4 }), { uuid, carriedFlags: noFlags }, false);
    expect(JSON.stringify(settled.reply)).toBe(
      JSON.stringify({ taskType: 'authentication', connectionSessionUUID: uuid, resumed: false, resumeError: 'sessionNotFound', extensions: all, enabledExtensions: [] }),
    );
    // An ack means nothing to a new session.
    expect(settled.ack).toBeUndefined();
  });

  it('resumes with the flags the session carries, and the ack an older client resumes from', () => {
    const settled = negotiate(task({ connectionSessionUUID: uuid, ack: 7 }), { uuid, carriedFlags: { ack: true, binary: true } }, true);
    expect(settled.reply).toMatchObject({ resumed: true, enabledExtensions: ['ack', 'binaryResults'] });
    expect(settled.reply.resumeError).toBeUndefined();
    expect(settled).toMatchObject({ asked: undefined, ack: 7 });
  });

  it('lets an older client ask for its socket, over what the session carries', () => {
    const settled = negotiate(task({ connectionSessionUUID: uuid, extensions: ['binaryResults', 'binaryResults'] }), { uuid, carriedFlags: { ack: true, binary: false } }, true);
    expect(settled.reply.enabledExtensions).toEqual(['binaryResults']);
    expect(settled.asked).toEqual({ ack: false, binary: true });
  });

  it('reads the session to resume from the task', () => {
    expect(sessionToResume(task())).toBeUndefined();
    expect(sessionToResume(task({ connectionSessionUUID: uuid }))).toBe(uuid);
  });
});
