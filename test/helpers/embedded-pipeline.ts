/**
 * The default pipeline run embedded (`runEmbedded`, config/agentotel.yaml with pipelineEnv) for
 * the tests of one file: started before them in a temporary data dir, stopped after them, with a
 * client on the ClickHouse it writes to. Call it at the top of a test file.
 */
import { afterAll, beforeAll } from 'vitest';
import type { ClickHouseClient } from '../../exporters/clickhouse/index.ts';
import { loadServiceConfig, runEmbedded, type RunningService } from '../../service/service.ts';
import { defaultConfigFile, embeddedClient, pipelineEnv, tempDir } from './pipeline.ts';

export interface EmbeddedPipeline {
  readonly dataDir: string;
  /** The running service (its endpoints); only inside the tests and their hooks. */
  readonly service: RunningService;
  readonly client: ClickHouseClient;
}

export function useEmbeddedPipeline(name: string): EmbeddedPipeline {
  const dataDir = tempDir(name);
  let service: RunningService | undefined;
  let client: ClickHouseClient | undefined;
  beforeAll(async () => {
    service = await runEmbedded(await loadServiceConfig(defaultConfigFile, pipelineEnv(dataDir)));
    client = embeddedClient(dataDir);
  });
  afterAll(async () => {
    await service?.stop();
    await client?.close();
  });
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error(`the ${name} pipeline is not running (did its start fail?)`);
    return value;
  };
  return {
    dataDir,
    get service() {
      return started(service);
    },
    get client() {
      return started(client);
    },
  };
}
