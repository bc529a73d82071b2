// The error a task handler throws to end its task with protocol error items (never a crash).
import { protocolError, type ErrorCode, type ParameterType, type ProtocolErrorItem } from '../protocol/index.js';

export class TaskFailure extends Error {
  readonly code: ErrorCode;
  readonly parameter: string | undefined;
  readonly type: ParameterType | undefined;

  constructor(code: ErrorCode, message: string, options: { parameter?: string | undefined; type?: ParameterType | undefined; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TaskFailure';
    this.code = code;
    this.parameter = options.parameter;
    this.type = options.type;
  }

  /** The error item for a task. */
  item(taskType: string, taskUUID: string): ProtocolErrorItem {
    return protocolError(this.code, this.message, { parameter: this.parameter, type: this.type, taskType, taskUUID });
  }
}
