/**
 * What the OTLP receiver asks of each coding agent's native telemetry: its log events and its
 * own spans become views of the session's canonical spans (core/agent/session-spans.ts), so
 * they merge with what hooks and transcripts captured instead of being stored a second time.
 * Whatever an agent format does not understand comes back in `rest` and travels on unchanged.
 */
import type { SessionCapture, AgentName } from '../../../core/agent/session-spans.ts';
import type { LogRecord, Resource, ResourceLogs, ResourceSpans, Span } from '../../../core/otlp/model.ts';

export interface AgentTelemetry {
  agent: AgentName;
  /** True for a resource this agent sent (by service.name). */
  owns(resource: Resource | undefined): boolean;
  /** Its log records as session views; records it does not use come back in `rest`. */
  logs(resourceLogs: ResourceLogs): { captures: SessionCapture[]; rest: LogRecord[] };
  /** Its spans mapped onto canonical session spans; spans it does not map come back in `rest`. */
  spans(resourceSpans: ResourceSpans): { captures: SessionCapture[]; rest: Span[] };
}
