// What an authentication settles for a WebSocket session, decided without a socket: the session to
// look for, the reply (resumed or new, the extensions offered and on), and what the socket attaches
// with (the extensions an older client asked for, the ack its resume starts from).
import type { ResumeRequest } from './session-store.js';
import { extensionNames, type AuthenticationResult, type AuthenticationTask, type ExtensionName } from '../../protocol/index.js';
import { flagsOf, flagsOnAttach, namesOf, type SessionFlags } from './session-record.js';

/** What a session that an authentication got (resumed or new) shows to the negotiation. */
export interface NegotiatedSession {
  readonly uuid: string;
  /** The flags it carries to a socket that resumes it without asking for any. */
  readonly carriedFlags: SessionFlags;
}

/** The outcome of an authentication that got a session. */
export interface Negotiation {
  /** The authentication result item, keys in the order the server has always sent them. */
  readonly reply: AuthenticationResult;
  /** The extensions the task asked for (older clients ask here, for this socket); undefined when it named none. */
  readonly asked: SessionFlags | undefined;
  /** The acknowledgement an older client's resume under ack starts from; undefined for a new session. */
  readonly ack: number | undefined;
}

/** Every extension, offered unasked: a client sends enableExtensions only to a server that lists them. */
const offered: ExtensionName[] = [...extensionNames];

/** The session an authentication task asks to resume, if any. */
export function sessionToResume(task: AuthenticationTask): string | undefined {
  return task.connectionSessionUUID ?? undefined;
}

/** What a resume of the task's session will attach with: the same `asked` and `ack` as {@link negotiate}'s. */
export function resumeRequest(task: AuthenticationTask): ResumeRequest {
  return { asked: task.extensions === undefined ? undefined : flagsOf(task.extensions), ack: task.ack };
}

/**
 * The reply and the attach arguments of an authentication that got `session`: `resumed` when it is
 * the one the task asked for, else a new one (with `resumeError` when the task asked for another:
 * another key's session, an expired one and an unknown one look the same).
 */
export function negotiate(task: AuthenticationTask, session: NegotiatedSession, resumed: boolean): Negotiation {
  // The same request a shared store's lookup attached with: the two must not drift apart.
  const { asked, ack } = resumeRequest(task);
  const reply: AuthenticationResult = { taskType: 'authentication', connectionSessionUUID: session.uuid, resumed };
  if (sessionToResume(task) !== undefined && !resumed) reply.resumeError = 'sessionNotFound';
  reply.extensions = offered;
  reply.enabledExtensions = namesOf(flagsOnAttach(asked, session.carriedFlags));
  return { reply, asked, ack: resumed ? ack : undefined };
}
