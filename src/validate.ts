// Entry `imagewire/validate`: the protocol's request validation for the client, kept apart so that
// a browser app that leaves validation to the server does not ship it.
export { validateRequests } from './client/validate-requests.js';
export type { OutgoingTask, RequestValidator } from './client/tasks/request-validator.js';
