/**
 * A processor plugin (examples/plugins/tag-processor) named under `plugins:` in the config
 * is loaded, validated and run in the pipeline like a built-in.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../core/config/fields.ts';
import { queryRows } from '../../exporters/clickhouse/index.ts';
import { loadServiceConfig, runEmbedded } from '../../service/service.ts';
import { createSdkTracer, emitSpans } from '../helpers/otel-sdk.ts';
import { count, embeddedClient, INGEST_TOKEN, pipelineEnv, repoRoot, tempDir } from '../helpers/pipeline.ts';
import { waitFor } from '../helpers/wait.ts';

const dir = tempDir('plugin');
const plugin = path.join(repoRoot, 'examples/plugins/tag-processor/index.ts');

function writeConfig(tagBlock: string): string {
  const file = path.join(dir, `config-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(
    file,
    `
data_dir: ${path.join(dir, 'data')}
plugins: [${JSON.stringify(path.relative(dir, plugin))}]
receivers:
  otlp:
    protocols: { http: { endpoint: 127.0.0.1:0 } }
    auth: { tokens: ${INGEST_TOKEN} }
processors:
  tag:
${tagBlock}
  dedupe: {}
exporters:
  clickhouse: { database: agentotel }
service:
  pipelines:
    traces: { receivers: [otlp], processors: [tag, dedupe], exporters: [clickhouse] }
  telemetry: { metrics: { address: 127.0.0.1:0 } }
`,
  );
  return file;
}

const stops: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const stop of stops) await stop();
});

describe('processor plugins', () => {
  it('loads a local plugin module and runs it in the pipeline', async () => {
    const file = writeConfig('    attributes: { deployment.environment: plugin-test, cost_center: 4711 }');
    const service = await runEmbedded(await loadServiceConfig(file, pipelineEnv(dir)));
    stops.push(() => service.stop());
    const sdk = createSdkTracer({ protocol: 'http/protobuf', endpoint: service.endpoints['otlp.http']!, token: INGEST_TOKEN });
    emitSpans(sdk.tracer, 50, 'plugin');
    await sdk.flush();
    await sdk.shutdown();

    const client = embeddedClient(path.join(dir, 'data'));
    stops.push(() => client.close());
    await waitFor(
      () => count(client, 'SELECT count() AS n FROM agentotel.otel_traces'),
      (n) => n >= 50,
      30_000,
      '50 rows',
    );
    const rows = await queryRows<{ env: string; cc: string }>(
      client,
      "SELECT DISTINCT SpanAttributes['deployment.environment'] AS env, SpanAttributes['cost_center'] AS cc FROM agentotel.otel_traces",
    );
    expect(rows).toEqual([{ env: 'plugin-test', cc: '4711' }]);
  });

  it("validates the plugin's config block with the key named", async () => {
    const file = writeConfig('    attributes: {}');
    await expect(loadServiceConfig(file, pipelineEnv(dir))).rejects.toThrow(
      new ConfigError('processors.tag.attributes', 'must name at least one attribute'),
    );
  });

  it('names a plugin that cannot be loaded or exports no factory', async () => {
    const missing = path.join(dir, 'missing.yaml');
    writeFileSync(missing, 'plugins: [./does-not-exist.ts]\n');
    await expect(loadServiceConfig(missing)).rejects.toThrow(/plugins\[0\]: cannot load "\.\/does-not-exist\.ts"/);
    const notFactory = path.join(dir, 'not-a-factory.mjs');
    writeFileSync(notFactory, 'export const factory = { kind: "processor" };\n');
    const bad = path.join(dir, 'bad.yaml');
    writeFileSync(bad, 'plugins: [./not-a-factory.mjs]\n');
    await expect(loadServiceConfig(bad)).rejects.toThrow(/plugins\[0\]: "\.\/not-a-factory\.mjs" exports no component factory/);
  });
});
