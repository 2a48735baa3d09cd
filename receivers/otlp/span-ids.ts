/**
 * The OTLP receiver's one check on span content: a span needs a valid trace id (16 bytes,
 * not all zero) and span id (8 bytes, not all zero), and a parent span id that is empty or
 * a valid span id. Spans failing it are removed and reported as partial success; the rest
 * of the request is accepted.
 */
import { isSpanId, isTraceId } from '../../core/ids.ts';
import type { Span, TracesData } from '../../core/otlp/model.ts';
import { filterSpans } from '../../core/otlp/traces.ts';
import type { PartialSuccess } from './responses.ts';

const EXAMPLES = 3;

function problemOf(span: Span): string | undefined {
  if (!isTraceId(span.traceId)) return `traceId must be 16 bytes and not all zero (got ${shown(span.traceId)})`;
  if (!isSpanId(span.spanId)) return `spanId must be 8 bytes and not all zero (got ${shown(span.spanId)})`;
  if (span.parentSpanId && !isSpanId(span.parentSpanId)) {
    return `parentSpanId must be empty or 8 bytes and not all zero (got ${shown(span.parentSpanId)})`;
  }
  return undefined;
}

const shown = (hexId: string | undefined) => (hexId ? `0x${hexId}` : 'empty');

export interface CheckedSpans {
  data: TracesData;
  /** Set when spans were removed. */
  partial?: PartialSuccess;
}

export function removeInvalidSpans(data: TracesData): CheckedSpans {
  const invalid = new Set<Span>();
  const examples: string[] = [];
  let total = 0;
  (data.resourceSpans ?? []).forEach((rs, r) =>
    (rs.scopeSpans ?? []).forEach((ss, s) =>
      (ss.spans ?? []).forEach((span, i) => {
        total++;
        const problem = problemOf(span);
        if (!problem) return;
        invalid.add(span);
        if (examples.length < EXAMPLES) examples.push(`resourceSpans[${r}].scopeSpans[${s}].spans[${i}]: ${problem}`);
      }),
    ),
  );
  if (invalid.size === 0) return { data };
  const more = invalid.size > examples.length ? `; and ${invalid.size - examples.length} more` : '';
  return {
    data: filterSpans(data, (span) => !invalid.has(span)),
    partial: {
      rejected: invalid.size,
      errorMessage: `rejected ${invalid.size} of ${total} spans: ${examples.join('; ')}${more}`,
    },
  };
}
