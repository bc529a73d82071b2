// WebSocket close codes the server uses, with the reason each is chosen.

export const closeCodes = {
  /** Idle timeout: the protocol closes a socket after its quiet window; nothing went wrong. */
  normal: 1000,
  /** The server is shutting down or restarting: reconnect (and resume) later. */
  goingAway: 1001,
  /** Authentication timed out, failed too often, or the session was dropped for breaking a limit. */
  policyViolation: 1008,
  /** A message beyond limits.maxSocketMessageBytes (sent by `ws` itself). */
  messageTooBig: 1009,
  /** The contract's session takeover: another socket authenticated with this session. */
  sessionTakenOver: 4000,
} as const;
