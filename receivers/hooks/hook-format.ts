/**
 * What the hooks receiver asks of each agent's hook payloads: one payload (the JSON the agent
 * posts or pipes to a hook) becomes the views it tells of one session. Hook payloads carry no
 * timestamp, so the receiver passes the time it received the payload.
 */
import type { AgentName, SessionCapture } from '../../core/agent/session-spans.ts';

export interface HookFormat {
  agent: AgentName;
  /** Throws HookPayloadError when the payload cannot name a session (no session id). */
  toCapture(payload: Record<string, unknown>, receivedNs: bigint): SessionCapture;
}

/** A payload that can never become spans however often it is sent: answered with 400. */
export class HookPayloadError extends Error {
  override name = 'HookPayloadError';
}
