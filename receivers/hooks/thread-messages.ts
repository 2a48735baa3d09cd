/** What the receiver (main thread) and its HTTP endpoint thread (http-thread-main.ts) tell each other. */
import type { SessionCapture } from '../../core/agent/session-spans.ts';
import type { Endpoint } from '../../core/http/listen-config.ts';
import type { RejectReason } from './hook-metrics.ts';

export interface EndpointThreadConfig {
  receiverId: string;
  endpoint: Endpoint;
  maxBodySize: number;
  tokens: string[];
  /** Captures the thread may hand over before the receiver grants more (the memory queue's room). */
  credits: number;
}

export type ToEndpointThread = { type: 'credits'; n: number } | { type: 'shutdown' };

export type FromEndpointThread =
  | { type: 'listening'; address: string }
  | { type: 'failed'; message: string }
  /** Accepted captures and the counts of requests since the last intake message. */
  | { type: 'intake'; captures: SessionCapture[]; accepted: Record<string, number>; rejected: Partial<Record<RejectReason, number>> }
  /** The server is closed and every accepted capture was handed over. */
  | { type: 'closed' };
