import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ConfigError, Fields } from '../../core/config/fields.ts';
import { otlpReceiverFactory } from './index.ts';

const parseAt = (raw: unknown) => otlpReceiverFactory.parseConfig(new Fields(raw, 'receivers.otlp'));
const testdata = (name: string) => parse(readFileSync(new URL(`testdata/${name}`, import.meta.url), 'utf8')) as unknown;
const MiB = 1024 * 1024;

describe('otlp receiver config', () => {
  it('parses testdata/valid.yaml', () => {
    expect(parseAt(testdata('valid.yaml'))).toEqual({
      grpc: { endpoint: { host: '0.0.0.0', port: 4317 }, maxRecvMsgSize: 16 * MiB },
      http: { endpoint: { host: '::1', port: 14318 }, maxRequestBodySize: 8 * MiB },
      tokens: ['ingest-token-1', 'ingest-token-2'],
    });
  });

  it('rejects testdata/invalid.yaml naming the key', () => {
    expect(() => parseAt(testdata('invalid.yaml'))).toThrow(
      new ConfigError('receivers.otlp.protocols.http.endpoint', 'must be host:port, e.g. 127.0.0.1:4318 (got "localhost")'),
    );
  });

  it('enables both protocols on localhost with the defaults when there is no protocols block', () => {
    const defaults = {
      grpc: { endpoint: { host: '127.0.0.1', port: 4317 }, maxRecvMsgSize: 4 * MiB },
      http: { endpoint: { host: '127.0.0.1', port: 4318 }, maxRequestBodySize: 20 * MiB },
      tokens: [],
    };
    expect(parseAt(undefined)).toEqual(defaults);
    expect(parseAt({})).toEqual(defaults);
    expect(parseAt({ protocols: { grpc: {}, http: {} } })).toEqual(defaults);
    expect(parseAt({ protocols: { grpc: null, http: null } })).toEqual(defaults);
  });

  it('starts only the protocols named', () => {
    expect(parseAt({ protocols: { grpc: null } })).toEqual({ grpc: { endpoint: { host: '127.0.0.1', port: 4317 }, maxRecvMsgSize: 4 * MiB }, tokens: [] });
    expect(parseAt({ protocols: { http: { endpoint: ':4318' } } })).toEqual({
      http: { endpoint: { host: '0.0.0.0', port: 4318 }, maxRequestBodySize: 20 * MiB },
      tokens: [],
    });
  });

  it.each([
    [{ protocols: null }, 'receivers.otlp.protocols: must enable at least one protocol: grpc, http'],
    [{ protocols: {} }, 'receivers.otlp.protocols: must enable at least one protocol: grpc, http'],
    [{ protocols: { thrift: {} } }, 'receivers.otlp.protocols.thrift: unknown key'],
    [{ protocols: 'grpc' }, 'receivers.otlp.protocols: must be a mapping (got "grpc")'],
    [{ protocols: { grpc: { endpoint: '127.0.0.1:70000' } } }, 'receivers.otlp.protocols.grpc.endpoint: must be host:port, e.g. 127.0.0.1:4317 (got "127.0.0.1:70000")'],
    [{ protocols: { grpc: { max_recv_msg_size_mib: 0 } } }, 'receivers.otlp.protocols.grpc.max_recv_msg_size_mib: must be at least 0.001 (got 0)'],
    [{ protocols: { grpc: { max_recv_msg_size: 4 } } }, 'receivers.otlp.protocols.grpc.max_recv_msg_size: unknown key'],
    [{ protocols: { http: { max_request_body_size: 'lots' } } }, 'receivers.otlp.protocols.http.max_request_body_size: must be a size such as 512KiB or 4MiB (got "lots")'],
    [{ protocols: { http: { max_request_body_size: 0 } } }, 'receivers.otlp.protocols.http.max_request_body_size: must be at least 1 byte'],
    [{ auth: { tokens: 'a,b' }, extra: 1 }, 'receivers.otlp.extra: unknown key'],
    [{ auth: { tokens: [7] } }, 'receivers.otlp.auth.tokens: must be a list of strings (got a list)'],
    [{ auth: { tokens: ['ok', ' '] } }, 'receivers.otlp.auth.tokens[1]: must not be empty'],
    [{ auth: { tokens: ['has space'] } }, 'receivers.otlp.auth.tokens[0]: must not contain whitespace'],
    [{ auth: { token: 'x' } }, 'receivers.otlp.auth.token: unknown key'],
  ])('rejects %j', (raw, message) => {
    expect(() => parseAt(raw)).toThrow(message);
  });

  it('never echoes a token in an error', () => {
    expect(() => parseAt({ auth: { tokens: ['secret value'] } })).toThrow(ConfigError);
    try {
      parseAt({ auth: { tokens: ['secret value'] } });
    } catch (err) {
      expect((err as Error).message).not.toContain('secret');
    }
  });
});
