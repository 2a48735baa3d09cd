/**
 * agentotel instruments itself with the OpenTelemetry Node SDK: with
 * service.telemetry.traces.endpoint set, a span per batch of each stage reaches that OTLP
 * endpoint under service.name "agentotel".
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { getString } from '../../core/otlp/attributes.ts';
import { eachSpan } from '../../core/otlp/traces.ts';
import { startTestReceiver, type TestReceiver } from '../../receivers/otlp/test-harness.ts';
import { loadServiceConfig, runEmbedded } from '../../service/service.ts';
import { startSelfTelemetry, stopSelfTelemetry } from '../../service/self-telemetry.ts';
import { createSdkTracer, emitSpans } from '../helpers/otel-sdk.ts';
import { INGEST_TOKEN, pipelineEnv, tempDir } from '../helpers/pipeline.ts';

let collector: TestReceiver;
afterAll(async () => {
  await collector?.stop();
});

describe('self-instrumentation', () => {
  it('exports a span per stage batch to service.telemetry.traces.endpoint', async () => {
    collector = await startTestReceiver({ protocols: { grpc: { endpoint: '127.0.0.1:0' } } }, ['traces']);
    const dir = tempDir('self-telemetry');
    const file = path.join(dir, 'config.yaml');
    writeFileSync(
      file,
      `
data_dir: ${path.join(dir, 'data')}
receivers:
  otlp: { protocols: { http: { endpoint: 127.0.0.1:0 } }, auth: { tokens: ${INGEST_TOKEN} } }
processors:
  redaction: {}
exporters:
  clickhouse: { database: agentotel }
service:
  pipelines:
    traces: { receivers: [otlp], processors: [redaction], exporters: [clickhouse] }
  telemetry:
    metrics: { address: 127.0.0.1:0 }
    traces: { endpoint: http://${collector.grpc} }
`,
    );
    const config = await loadServiceConfig(file, pipelineEnv(dir));
    startSelfTelemetry('embedded', config.telemetry.tracesEndpoint);
    const service = await runEmbedded(config);
    const sdk = createSdkTracer({ protocol: 'http/protobuf', endpoint: service.endpoints['otlp.http']!, token: INGEST_TOKEN });
    emitSpans(sdk.tracer, 20, 'self');
    await sdk.flush();
    await sdk.shutdown();
    await service.stop(); // drains every stage, so each has handled its batch
    await stopSelfTelemetry(); // flushes the SDK's batch processor

    const spans = collector.received.traces.flatMap((t) => [...eachSpan(t)]);
    const names = new Set(spans.map((s) => s.span.name));
    expect(names).toContain('process redaction');
    expect(names).toContain('export clickhouse');
    expect(new Set(spans.map((s) => getString(s.resource?.attributes, 'service.name')))).toEqual(new Set(['agentotel']));
  });
});
