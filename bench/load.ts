/** Synthetic OTLP load for the benchmarks: pre-encoded ExportTraceServiceRequest bodies of agent-like spans. */
import { randomBytes } from 'node:crypto';
import { encodeProtobuf } from '../core/otlp/codec.ts';
import type { Span, TracesData } from '../core/otlp/model.ts';
import { toAnyValue } from '../core/otlp/attributes.ts';

const models = ['claude-sonnet-4-5', 'claude-opus-4-6', 'claude-haiku-4-5'];
const tools = ['Bash', 'Read', 'Edit', 'Grep', 'Write'];

function span(traceId: string, parent: string | undefined, i: number, startNs: bigint): Span {
  const isModel = i % 3 === 0;
  const attrs: Record<string, string | number> = isModel
    ? {
        'gen_ai.operation.name': 'chat',
        'gen_ai.provider.name': 'anthropic',
        'gen_ai.request.model': models[i % models.length]!,
        'gen_ai.usage.input_tokens': 12_000 + (i % 500),
        'gen_ai.usage.output_tokens': 300 + (i % 90),
        'gen_ai.usage.cache_read.input_tokens': 10_000,
        'gen_ai.usage.cache_creation.input_tokens': 1_200,
      }
    : {
        'gen_ai.operation.name': 'execute_tool',
        'gen_ai.tool.name': tools[i % tools.length]!,
        'gen_ai.tool.call.arguments': `{"command":"ls -la /home/dev/project/src/module${i}"}`,
      };
  return {
    traceId,
    spanId: randomBytes(8).toString('hex'),
    parentSpanId: parent,
    name: isModel ? `chat ${attrs['gen_ai.request.model']}` : `execute_tool ${attrs['gen_ai.tool.name']}`,
    kind: isModel ? 3 : 1,
    startTimeUnixNano: String(startNs),
    endTimeUnixNano: String(startNs + 250_000_000n),
    attributes: Object.entries(attrs).map(([key, v]) => ({ key, value: toAnyValue(v) })),
  };
}

/**
 * `requests` bodies of `spansPerRequest` spans each; every request holds a few sessions
 * (traces) of about 50 spans, as agents send them.
 */
export function makeRequests(requests: number, spansPerRequest: number, serviceName = 'bench-agent'): Uint8Array[] {
  const bodies: Uint8Array[] = [];
  const now = BigInt(Date.now()) * 1_000_000n;
  for (let r = 0; r < requests; r++) {
    const spans: Span[] = [];
    let traceId = '';
    let root = '';
    for (let i = 0; i < spansPerRequest; i++) {
      if (i % 50 === 0) {
        traceId = randomBytes(16).toString('hex');
        root = '';
      }
      const s = span(traceId, root || undefined, i, now + BigInt(r * spansPerRequest + i) * 1_000_000n);
      if (!root) root = s.spanId;
      spans.push(s);
    }
    const data: TracesData = {
      resourceSpans: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: serviceName } }, { key: 'team', value: { stringValue: `team-${r % 20}` } }] },
          scopeSpans: [{ scope: { name: 'bench' }, spans }],
        },
      ],
    };
    bodies.push(encodeProtobuf('traces', data));
  }
  return bodies;
}
