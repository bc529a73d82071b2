// WebSocket close codes the server uses, with the reason each is chosen.

export const closeCodes = {
  /** Idle timeout: the protocol closes a socket after its quiet window; nothing went wrong. */
  normal: 1000,
  /** The server is shutting down or restarting: reconnect (and resume) later. */
  goingAway: 1001,
  /** Authentication timed out, failed too often, or the session was dropped for breaking a limit. */
  policyViolation: 1008,
  /**
   * A message beyond limits.maxSocketMessageBytes (sent by `ws` itself), or a frame beyond
   * limits.maxUnauthenticatedFrameBytes before the socket authenticated.
   */
  messageTooBig: 1009,
  /** An unexpected failure of the server while handling this socket's input; the process goes on serving. */
  internalError: 1011,
  /** The contract's session takeover: another socket authenticated with this session. */
  sessionTakenOver: 4000,
  /**
   * The peer reads too slowly: its unsent output reached limits.maxSocketBufferedBytes and a reply
   * did not fit, or it read nothing for a sweep while a task output waited. Its session stays
   * resumable: reconnect and resume.
   */
  sendBufferFull: 4001,
} as const;
