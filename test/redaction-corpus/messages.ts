/** The corpus as the redaction processor receives it: bus messages of tool call spans, one corpus text as each span's tool result. */
import type { KeyValue, Span, TracesData } from '../../core/otlp/model.ts';

const str = (key: string, value: string): KeyValue => ({ key, value: { stringValue: value } });

/** A tool call span as the receivers make them. */
function toolSpan(traceId: string, i: number, text: string): Span {
  return {
    traceId,
    spanId: i.toString(16).padStart(16, '0'),
    parentSpanId: '00000000000000ff',
    name: 'execute_tool Bash',
    kind: 1,
    startTimeUnixNano: '1795305424000000000',
    endTimeUnixNano: '1795305424100000000',
    attributes: [
      str('gen_ai.conversation.id', '99373b96-31d7-4208-8429-1809343e8cb1'),
      str('gen_ai.operation.name', 'execute_tool'),
      str('gen_ai.tool.name', 'Bash'),
      str('gen_ai.tool.call.id', `toolu_01${i.toString(36)}`),
      str('gen_ai.tool.call.result', text),
      str('agentotel.tool.outcome', 'success'),
      str('agentotel.span.kind', 'tool_call'),
      str('agentotel.capture.path', 'transcript'),
      str('agentotel.time.known', 'both'),
    ],
  };
}

/** The texts as messages of `perMessage` spans, one trace each. */
export function corpusMessages(texts: string[], perMessage = 20): TracesData[] {
  const messages: TracesData[] = [];
  for (let i = 0; i < texts.length; i += perMessage) {
    const traceId = (i / perMessage + 1).toString(16).padStart(32, '0');
    messages.push({
      resourceSpans: [
        {
          resource: { attributes: [str('service.name', 'claude-code'), str('service.version', '2.1.328')] },
          scopeSpans: [{ spans: texts.slice(i, i + perMessage).map((t, j) => toolSpan(traceId, i + j, t)) }],
        },
      ],
    });
  }
  return messages;
}
