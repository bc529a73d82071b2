// The hook through which a client checks a request before sending it. The full protocol check
// (validateRequests, in its own entry) is opt-in so that an app which leaves it to the server does
// not ship it; without it the client checks only the taskUUID, which it needs to route answers.
import type { GetResponseTask, ImageInferenceTask, ImageUploadTask, ProtocolErrorItem } from '../../protocol/index.js';
import { isUuidV4 } from '../../protocol/task-uuid.js';
import { ValidationError } from '../errors.js';

/** A task as the client is about to send it: `taskType`, `taskUUID` and the wire parameters. */
export type OutgoingTask = ImageInferenceTask | ImageUploadTask | GetResponseTask;

/**
 * Checks a task before it is sent; returns every problem as protocol error items (empty when the
 * task is valid). {@link validateRequests} is the protocol's own check, the one the server runs.
 */
export type RequestValidator = (task: OutgoingTask) => readonly ProtocolErrorItem[];

/**
 * The ValidationError a task ends with before anything is sent, or undefined to send it. Without
 * a validator only the taskUUID is checked: answers are routed by it, so a malformed one (which the
 * server would echo cut or not at all) could leave the task waiting for its deadline.
 */
export function refusal(validate: RequestValidator | undefined, task: OutgoingTask): ValidationError | undefined {
  const errors = validate === undefined ? taskUUIDProblems(task) : validate(task);
  return errors.length === 0 ? undefined : new ValidationError(errors, task.taskType, task.taskUUID);
}

function taskUUIDProblems(task: OutgoingTask): readonly ProtocolErrorItem[] {
  if (isUuidV4(task.taskUUID)) return [];
  const message = 'taskUUID must be a UUID v4 string (xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx)';
  return [{ code: 'invalidTaskUUID', message, parameter: 'taskUUID', type: 'string', taskType: task.taskType }];
}
