/**
 * OTLP/gRPC with a raw grpc-js client: the three collector services, gzip, partial
 * success, and each bad input answered with its gRPC status while the server keeps serving.
 */
import * as grpc from '@grpc/grpc-js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { encodeProtobuf, responseType } from '../../core/otlp/codec.ts';
import type { Signal, SignalData } from '../../core/otlp/model.ts';
import { countSpans } from '../../core/otlp/traces.ts';
import { grpcExport, logsRequest, metricsRequest, startTestReceiver, tracesRequest, type TestReceiver } from './test-harness.ts';

const MAX_MIB = 0.0625; // 64 KiB
const protobufBody = <S extends Signal>(signal: S, data: SignalData[S]) => encodeProtobuf(signal, structuredClone(data));

describe('OTLP/gRPC receiver', () => {
  let rx: TestReceiver;
  beforeAll(async () => {
    rx = await startTestReceiver({ protocols: { grpc: { endpoint: '127.0.0.1:0', max_recv_msg_size_mib: MAX_MIB } } });
  });
  afterAll(() => rx.stop());

  afterEach(async () => {
    rx.refuseNext(0);
    rx.received.traces.length = 0;
    const { error } = await grpcExport(rx.grpc, 'traces', protobufBody('traces', tracesRequest(2)));
    expect(error).toBeNull();
    expect(countSpans(rx.received.traces[0]!)).toBe(2);
    rx.received.traces.length = 0;
    rx.received.logs.length = 0;
    rx.received.metrics.length = 0;
  });

  it('serves only the protocols configured', () => {
    expect(rx.grpc).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(rx.http).toBe('');
  });

  const requests = { traces: tracesRequest(3), logs: logsRequest(4), metrics: metricsRequest(5) };
  for (const signal of ['traces', 'logs', 'metrics'] as const) {
    for (const gzip of [false, true]) {
      it(`accepts ${signal}${gzip ? ' compressed with gzip' : ''} and answers an empty Export response`, async () => {
        const { error, response } = await grpcExport(rx.grpc, signal, protobufBody(signal, requests[signal]), { gzip });
        expect(error).toBeNull();
        expect(response!.length).toBe(0);
        expect(rx.received[signal]).toEqual([requests[signal]]);
      });
    }
  }

  it('counts accepted items per signal on the grpc transport', () => {
    const get = (name: string) => rx.metrics.counter(name, '').get({ receiver: 'otlp', transport: 'grpc' });
    expect(get('agentotel_receiver_accepted_log_records_total')).toBe(8);
    expect(get('agentotel_receiver_accepted_metric_points_total')).toBe(10);
  });

  it('answers partial success for spans with invalid ids and forwards the rest', async () => {
    const request = tracesRequest(3, [{ spanId: '0000000000000000' }, {}, { traceId: '0102' }]);
    const { error, response } = await grpcExport(rx.grpc, 'traces', protobufBody('traces', request));
    expect(error).toBeNull();
    const decoded = responseType('traces').toObject(responseType('traces').decode(response!), { longs: String });
    expect(decoded).toEqual({
      partialSuccess: {
        rejectedSpans: '2',
        errorMessage:
          'rejected 2 of 3 spans: resourceSpans[0].scopeSpans[0].spans[0]: spanId must be 8 bytes and not all zero (got 0x0000000000000000); ' +
          'resourceSpans[0].scopeSpans[0].spans[2]: traceId must be 16 bytes and not all zero (got 0x0102)',
      },
    });
    expect(rx.received.traces[0]!.resourceSpans![0]!.scopeSpans![0]!.spans!.map((s) => s.name)).toEqual(['span 1']);
  });

  it('malformed protobuf → INVALID_ARGUMENT with the decoder error', async () => {
    const { error } = await grpcExport(rx.grpc, 'metrics', Buffer.from([0x0a, 0x05, 0x01]));
    expect(error!.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(error!.details).toMatch(/^invalid OTLP protobuf metrics request: index out of range/);
  });

  it('message over max_recv_msg_size_mib → RESOURCE_EXHAUSTED', async () => {
    const big = protobufBody('logs', logsRequest(2_000));
    expect(big.length).toBeGreaterThan(MAX_MIB * 1024 * 1024);
    const { error } = await grpcExport(rx.grpc, 'logs', big);
    expect(error!.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(rx.received.logs).toHaveLength(0);
  });

  it('gzip message decompressing over the limit → RESOURCE_EXHAUSTED', async () => {
    // Highly compressible: one long attribute value.
    const request = tracesRequest(1, [{}]);
    request.resourceSpans![0]!.scopeSpans![0]!.spans![0]!.attributes = [{ key: 'big', value: { stringValue: 'a'.repeat(1024 * 1024) } }];
    const { error } = await grpcExport(rx.grpc, 'traces', protobufBody('traces', request), { gzip: true });
    expect(error!.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(error!.details).toMatch(/decompresses to a size larger than 65536/);
  });

  it('pipeline refusing → UNAVAILABLE', async () => {
    rx.refuseNext(1);
    const { error } = await grpcExport(rx.grpc, 'metrics', protobufBody('metrics', metricsRequest(3)));
    expect(error!.code).toBe(grpc.status.UNAVAILABLE);
    expect(error!.details).toBe('the pipeline cannot accept metrics right now; retry later');
    expect(rx.metrics.counter('agentotel_receiver_refused_metric_points_total', '').get({ receiver: 'otlp', transport: 'grpc' })).toBe(3);
  });
});

describe('OTLP/gRPC receiver with bearer-token auth', () => {
  let rx: TestReceiver;
  beforeAll(async () => {
    rx = await startTestReceiver({ protocols: { grpc: { endpoint: '127.0.0.1:0' } }, auth: { tokens: ['tok-a', 'tok-b'] } });
  });
  afterAll(() => rx.stop());

  it('missing or wrong token → UNAUTHENTICATED; any configured token → OK', async () => {
    const body = protobufBody('traces', tracesRequest(1));
    for (const token of [undefined, 'tok-c', '']) {
      const { error } = await grpcExport(rx.grpc, 'traces', body, token === undefined ? {} : { token });
      expect(error!.code, String(token)).toBe(grpc.status.UNAUTHENTICATED);
    }
    expect(rx.received.traces).toHaveLength(0);
    for (const token of ['tok-a', 'tok-b']) expect((await grpcExport(rx.grpc, 'traces', body, { token })).error).toBeNull();
    expect(rx.received.traces).toHaveLength(2);
  });
});

describe('OTLP/gRPC receiver without a logs pipeline', () => {
  it('answers UNIMPLEMENTED for the logs service', async () => {
    const rx = await startTestReceiver({ protocols: { grpc: { endpoint: '127.0.0.1:0' } } }, ['traces', 'metrics']);
    try {
      const { error } = await grpcExport(rx.grpc, 'logs', protobufBody('logs', logsRequest(1)));
      expect(error!.code).toBe(grpc.status.UNIMPLEMENTED);
    } finally {
      await rx.stop();
    }
  });
});

describe('OTLP/gRPC receiver shutdown', () => {
  it('answers the calls in flight before it stops', async () => {
    const rx = await startTestReceiver({ protocols: { grpc: { endpoint: '127.0.0.1:0' } } });
    let release!: () => void;
    rx.holdNext(new Promise<void>((r) => (release = r)));
    const inFlight = grpcExport(rx.grpc, 'traces', protobufBody('traces', tracesRequest(4)));
    await new Promise((r) => setTimeout(r, 100));
    let stopped = false;
    const stopping = rx.stop().then(() => (stopped = true));
    await new Promise((r) => setTimeout(r, 100));
    expect(stopped).toBe(false);
    release();
    expect((await inFlight).error).toBeNull();
    await stopping;
    expect(countSpans(rx.received.traces[0]!)).toBe(4);
    expect((await grpcExport(rx.grpc, 'traces', protobufBody('traces', tracesRequest(1)))).error!.code).toBe(grpc.status.UNAVAILABLE);
  });
});
