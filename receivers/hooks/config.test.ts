import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ConfigError, Fields } from '../../core/config/fields.ts';
import { hooksReceiverFactory } from './index.ts';

const parseAt = (raw: unknown) => hooksReceiverFactory.parseConfig(new Fields(raw, 'receivers.hooks'));
const testdata = (name: string) => parse(readFileSync(new URL(`testdata/${name}`, import.meta.url), 'utf8')) as unknown;
const MiB = 1024 * 1024;

describe('hooks receiver config', () => {
  it('parses testdata/valid.yaml', () => {
    expect(parseAt(testdata('valid.yaml'))).toEqual({
      endpoint: { host: '0.0.0.0', port: 14319 },
      tokens: ['hooks-token-1', 'hooks-token-2'],
      maxBodySize: 256 * 1024,
      queueSize: 2000,
      batchSize: 20,
      spoolMaxSize: 64 * MiB,
      retryInitialMs: 200,
      retryMaxMs: 10_000,
    });
  });

  it('rejects testdata/invalid.yaml naming the key', () => {
    expect(() => parseAt(testdata('invalid.yaml'))).toThrow(
      new ConfigError('receivers.hooks.retry.max_interval', 'must not be shorter than initial_interval (5000 ms)'),
    );
  });

  it('listens on 127.0.0.1:4319 without auth, taking 1 MiB bodies, by default', () => {
    const defaults = {
      endpoint: { host: '127.0.0.1', port: 4319 },
      tokens: [],
      maxBodySize: MiB,
      queueSize: 10_000,
      batchSize: 50,
      spoolMaxSize: 256 * MiB,
      retryInitialMs: 1_000,
      retryMaxMs: 30_000,
    };
    expect(parseAt(undefined)).toEqual(defaults);
    expect(parseAt({ auth: { tokens: '' }, spool: null, retry: {} })).toEqual(defaults);
  });

  it('takes the comma-separated token list the default config passes from the environment', () => {
    expect(parseAt({ auth: { tokens: 'a-token,another' } }).tokens).toEqual(['a-token', 'another']);
  });

  it.each([
    [{ endpoint: 'localhost' }, 'receivers.hooks.endpoint: must be host:port, e.g. 127.0.0.1:4319 (got "localhost")'],
    [{ max_body_size: 0 }, 'receivers.hooks.max_body_size: must be at least 1 byte'],
    [{ max_body_size: 'big' }, 'receivers.hooks.max_body_size: must be a size such as 512KiB or 4MiB (got "big")'],
    [{ queue_size: 0 }, 'receivers.hooks.queue_size: must be at least 1 (got 0)'],
    [{ queue_size: 10, batch_size: 11 }, 'receivers.hooks.batch_size: must be at most 10 (got 11)'],
    [{ batch_size: 2.5 }, 'receivers.hooks.batch_size: must be a whole number (got 2.5)'],
    [{ spool: { max_size: 'x' } }, 'receivers.hooks.spool.max_size: must be a size such as 512KiB or 4MiB (got "x")'],
    [{ spool: { dir: '/tmp' } }, 'receivers.hooks.spool.dir: unknown key'],
    [{ retry: { initial_interval: 0 } }, 'receivers.hooks.retry.initial_interval: must be at least 1ms'],
    [{ auth: { tokens: ['ok', ' '] } }, 'receivers.hooks.auth.tokens[1]: must not be empty'],
    [{ protocols: {} }, 'receivers.hooks.protocols: unknown key'],
  ])('rejects %j', (raw, message) => {
    expect(() => parseAt(raw)).toThrow(message);
  });

  it('never echoes a token in an error', () => {
    expect(() => parseAt({ auth: { tokens: ['secret value'] } })).toThrow(/tokens\[0\]: must not contain whitespace$/);
  });
});
