// The protocol's own check of a request, the one the server runs, for a client that wants a bad
// request refused before anything is sent. Opt-in in browsers (entry `imagewire/validate`), where
// its rule tables would otherwise be most of what an app ships; the Node entry uses it by default.
import { validateTask } from '../protocol/validate/validate.js';
import type { RequestValidator } from './tasks/request-validator.js';

/**
 * Validates a request as the server would: every problem comes back as the server's own error
 * item (same `code`, `parameter` and message), and the task ends with a ValidationError unsent.
 * @example
 * import { validateRequests } from 'imagewire/validate';
 * const client = createClient({ apiKey, validate: validateRequests });
 */
export const validateRequests: RequestValidator = (task) => {
  const result = validateTask(task);
  return result.ok ? [] : result.errors;
};
