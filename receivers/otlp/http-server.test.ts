/**
 * OTLP/HTTP with raw requests: every encoding and signal, and each bad input answered with
 * the status the OTLP specification prescribes while the server keeps serving.
 */
import { DataTooLargeError } from '../../core/component.ts';
import http from 'node:http';
import { gzipSync } from 'node:zlib';
import { afterAll, afterEach, beforeAll, describe, expect, it, onTestFinished, vi } from 'vitest';
import { encodeProtobuf, responseType } from '../../core/otlp/codec.ts';
import type { Signal, SignalData } from '../../core/otlp/model.ts';
import { countSpans } from '../../core/otlp/traces.ts';
import { decodeStatus } from './test-status.ts';
import { logsRequest, metricsRequest, startTestReceiver, tracesRequest, type TestReceiver } from './test-harness.ts';

const LIMIT = 64 * 1024;
const PROTOBUF = 'application/x-protobuf';
const JSON_TYPE = 'application/json';

interface Reply {
  status: number;
  headers: Headers;
  body: Buffer;
}

async function post(
  rx: TestReceiver,
  path: string,
  body: Uint8Array | string,
  headers: Record<string, string>,
  method = 'POST',
): Promise<Reply> {
  const res = await fetch(`http://${rx.http}${path}`, {
    method,
    body: method === 'GET' ? undefined : typeof body === 'string' ? body : new Uint8Array(body),
    headers,
  });
  return { status: res.status, headers: res.headers, body: Buffer.from(await res.arrayBuffer()) };
}

const protobufBody = <S extends Signal>(signal: S, data: SignalData[S]) => encodeProtobuf(signal, structuredClone(data));

/** The Status in an error reply, decoded from the reply's own content type. */
function statusOf(reply: Reply): { code: number; message: string } {
  const type = reply.headers.get('content-type');
  if (type === JSON_TYPE) return JSON.parse(reply.body.toString('utf8')) as { code: number; message: string };
  expect(type).toBe(PROTOBUF);
  return decodeStatus(reply.body);
}

describe('OTLP/HTTP receiver', () => {
  let rx: TestReceiver;
  beforeAll(async () => {
    rx = await startTestReceiver({ protocols: { http: { endpoint: '127.0.0.1:0', max_request_body_size: LIMIT } } });
  });
  afterAll(() => rx.stop());

  /** After every case, a valid request still succeeds. */
  afterEach(async () => {
    rx.refuseNext(0);
    rx.received.traces.length = 0;
    const reply = await post(rx, '/v1/traces', protobufBody('traces', tracesRequest(2)), { 'content-type': PROTOBUF });
    expect(reply.status).toBe(200);
    expect(countSpans(rx.received.traces[0]!)).toBe(2);
    rx.received.traces.length = 0;
    rx.received.logs.length = 0;
    rx.received.metrics.length = 0;
  });

  it('serves only the protocols configured', () => {
    expect(rx.http).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(rx.grpc).toBe('');
  });

  describe('accepts every signal in both encodings', () => {
    const requests = { traces: tracesRequest(3), logs: logsRequest(4), metrics: metricsRequest(5) };
    for (const signal of ['traces', 'logs', 'metrics'] as const) {
      it(`${signal} as protobuf, answered with an empty protobuf response`, async () => {
        const reply = await post(rx, `/v1/${signal}`, protobufBody(signal, requests[signal]), { 'content-type': PROTOBUF });
        expect(reply.status).toBe(200);
        expect(reply.headers.get('content-type')).toBe(PROTOBUF);
        expect(reply.body.length).toBe(0);
        expect(rx.received[signal]).toEqual([requests[signal]]);
      });

      it(`${signal} as JSON with gzip, answered with {}`, async () => {
        const body = gzipSync(JSON.stringify(requests[signal]));
        const reply = await post(rx, `/v1/${signal}`, body, {
          'content-type': 'application/json; charset=utf-8',
          'content-encoding': 'gzip',
        });
        expect(reply.status).toBe(200);
        expect(reply.headers.get('content-type')).toBe(JSON_TYPE);
        expect(JSON.parse(reply.body.toString())).toEqual({});
        expect(rx.received[signal]).toEqual([requests[signal]]);
      });
    }

    it('counts accepted items per signal and transport', () => {
      const get = (name: string) => rx.metrics.counter(name, '').get({ receiver: 'otlp', transport: 'http' });
      expect(get('agentotel_receiver_accepted_log_records_total')).toBe(8);
      expect(get('agentotel_receiver_accepted_metric_points_total')).toBe(10);
    });
  });

  describe('partial success for spans with invalid ids', () => {
    const request = () => tracesRequest(5, [{}, { traceId: '00'.repeat(16) }, { spanId: 'abcd' }, {}, { parentSpanId: '0102' }]);

    it('over protobuf: forwards the valid spans and reports the rejected ones', async () => {
      const reply = await post(rx, '/v1/traces', protobufBody('traces', request()), { 'content-type': PROTOBUF });
      expect(reply.status).toBe(200);
      const response = responseType('traces').toObject(responseType('traces').decode(reply.body), { longs: String }) as {
        partialSuccess: { rejectedSpans: string; errorMessage: string };
      };
      expect(response.partialSuccess.rejectedSpans).toBe('3');
      expect(response.partialSuccess.errorMessage).toBe(
        'rejected 3 of 5 spans: ' +
          'resourceSpans[0].scopeSpans[0].spans[1]: traceId must be 16 bytes and not all zero (got 0x00000000000000000000000000000000); ' +
          'resourceSpans[0].scopeSpans[0].spans[2]: spanId must be 8 bytes and not all zero (got 0xabcd); ' +
          'resourceSpans[0].scopeSpans[0].spans[4]: parentSpanId must be empty or 8 bytes and not all zero (got 0x0102)',
      );
      expect(rx.received.traces).toHaveLength(1);
      expect(rx.received.traces[0]!.resourceSpans![0]!.scopeSpans![0]!.spans!.map((s) => s.name)).toEqual(['span 0', 'span 3']);
      expect(rx.metrics.counter('agentotel_receiver_refused_spans_total', '').get({ receiver: 'otlp', transport: 'http' })).toBe(3);
    });

    it('over JSON: answers partialSuccess in JSON; a request of only invalid spans forwards nothing', async () => {
      const reply = await post(rx, '/v1/traces', JSON.stringify(tracesRequest(2, [{ spanId: '' }, { traceId: 'ab' }])), {
        'content-type': JSON_TYPE,
      });
      expect(reply.status).toBe(200);
      const { partialSuccess } = JSON.parse(reply.body.toString()) as { partialSuccess: { rejectedSpans: string; errorMessage: string } };
      expect(partialSuccess.rejectedSpans).toBe('2');
      expect(partialSuccess.errorMessage).toMatch(
        /^rejected 2 of 2 spans: .*spanId must be 8 bytes .*\(got empty\).*traceId must be 16 bytes .*\(got 0xab\)$/,
      );
      expect(rx.received.traces).toHaveLength(0);
    });
  });

  describe('bad input', () => {
    it('malformed protobuf → 400 with the decoder error as protobuf google.rpc.Status', async () => {
      const reply = await post(rx, '/v1/traces', Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01]), { 'content-type': PROTOBUF });
      expect(reply.status).toBe(400);
      const status = statusOf(reply);
      expect(status.code).toBe(3);
      expect(status.message).toMatch(/^invalid OTLP protobuf traces request: /);
    });

    it('truncated protobuf → 400', async () => {
      const whole = protobufBody('traces', tracesRequest(3));
      const reply = await post(rx, '/v1/traces', whole.subarray(0, whole.length - 7), { 'content-type': PROTOBUF });
      expect(reply.status).toBe(400);
      expect(statusOf(reply).message).toMatch(/^invalid OTLP protobuf traces request: index out of range/);
      expect(rx.received.traces).toHaveLength(0);
    });

    it('invalid JSON → 400 with a JSON Status', async () => {
      const reply = await post(rx, '/v1/logs', '{"resourceLogs": [', { 'content-type': JSON_TYPE });
      expect(reply.status).toBe(400);
      expect(statusOf(reply)).toEqual({ code: 3, message: expect.stringMatching(/^invalid JSON: /) });
    });

    it('JSON that is not an OTLP request → 400 naming the field', async () => {
      const bad = JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: 'not-hex', spanId: '0102030405060708' }] }] }] });
      const reply = await post(rx, '/v1/traces', bad, { 'content-type': JSON_TYPE });
      expect(reply.status).toBe(400);
      expect(statusOf(reply).message).toBe('request.resourceSpans[0].scopeSpans[0].spans[0].traceId: expected a hex string, got "not-hex"');
      const notObject = await post(rx, '/v1/metrics', '[1,2]', { 'content-type': JSON_TYPE });
      expect(notObject.status).toBe(400);
      expect(statusOf(notObject).message).toBe('OTLP/JSON metrics request must be a JSON object');
    });

    it('unsupported Content-Type → 415', async () => {
      const reply = await post(rx, '/v1/traces', 'hello', { 'content-type': 'text/plain' });
      expect(reply.status).toBe(415);
      expect(statusOf(reply).message).toBe('unsupported Content-Type "text/plain"; use application/x-protobuf or application/json');
    });

    it('unsupported Content-Encoding → 415 with Accept-Encoding', async () => {
      const reply = await post(rx, '/v1/traces', '{}', { 'content-type': JSON_TYPE, 'content-encoding': 'br' });
      expect(reply.status).toBe(415);
      expect(reply.headers.get('accept-encoding')).toBe('gzip, identity');
      expect(statusOf(reply).message).toMatch(/^unsupported Content-Encoding "br"/);
    });

    it('bad gzip → 400; truncated gzip → 400', async () => {
      const notGzip = await post(rx, '/v1/traces', protobufBody('traces', tracesRequest(1)), {
        'content-type': PROTOBUF,
        'content-encoding': 'gzip',
      });
      expect(notGzip.status).toBe(400);
      expect(statusOf(notGzip).message).toBe('invalid gzip body: incorrect header check');
      const gz = gzipSync(protobufBody('traces', tracesRequest(20)));
      const truncated = await post(rx, '/v1/traces', gz.subarray(0, gz.length - 10), {
        'content-type': PROTOBUF,
        'content-encoding': 'gzip',
      });
      expect(truncated.status).toBe(400);
      expect(statusOf(truncated).message).toBe('invalid gzip body: unexpected end of file');
    });

    it('body over the limit by Content-Length → 413 before reading it', async () => {
      const reply = await rawRequest(rx.http, { 'content-type': PROTOBUF, 'content-length': String(LIMIT + 1) }, []);
      expect(reply.status).toBe(413);
      expect(decodeStatus(reply.body)).toEqual({
        code: 8,
        message: `request body (Content-Length ${LIMIT + 1}) exceeds the limit of ${LIMIT} bytes (max_request_body_size)`,
      });
    });

    it('chunked body growing over the limit → 413 while streaming', async () => {
      const chunk = Buffer.alloc(16 * 1024, 1);
      const reply = await rawRequest(rx.http, { 'content-type': JSON_TYPE, 'transfer-encoding': 'chunked' }, Array(10).fill(chunk));
      expect(reply.status).toBe(413);
      expect(JSON.parse(reply.body.toString())).toEqual({
        code: 8,
        message: `request body exceeds the limit of ${LIMIT} bytes (max_request_body_size)`,
      });
    });

    it('gzip bomb (small on the wire, large decompressed) → 413', async () => {
      const bomb = gzipSync(Buffer.alloc(10 * LIMIT));
      expect(bomb.length).toBeLessThan(LIMIT);
      const reply = await post(rx, '/v1/traces', bomb, { 'content-type': PROTOBUF, 'content-encoding': 'gzip' });
      expect(reply.status).toBe(413);
      expect(statusOf(reply).message).toBe(`decompressed request body exceeds the limit of ${LIMIT} bytes (max_request_body_size)`);
    });

    it('wrong method → 405 with Allow; unknown path → 404', async () => {
      const get = await post(rx, '/v1/traces', '', { 'content-type': JSON_TYPE }, 'GET');
      expect(get.status).toBe(405);
      expect(get.headers.get('allow')).toBe('POST');
      expect(statusOf(get).message).toBe('method GET not allowed on /v1/traces; use POST');
      const unknown = await post(rx, '/v1/spans', '{}', { 'content-type': JSON_TYPE });
      expect(unknown.status).toBe(404);
      expect(statusOf(unknown)).toEqual({
        code: 5,
        message: 'no OTLP endpoint at "/v1/spans"; this receiver serves /v1/traces, /v1/logs, /v1/metrics',
      });
    });

    it('pipeline refusing → 503 with Retry-After and UNAVAILABLE status; nothing counted as accepted', async () => {
      rx.refuseNext(1);
      const reply = await post(rx, '/v1/logs', protobufBody('logs', logsRequest(2)), { 'content-type': PROTOBUF });
      expect(reply.status).toBe(503);
      expect(reply.headers.get('retry-after')).toBe('1');
      expect(statusOf(reply)).toEqual({ code: 14, message: 'the pipeline cannot accept logs right now; retry later' });
      expect(rx.received.logs).toHaveLength(0);
      expect(rx.metrics.counter('agentotel_receiver_refused_log_records_total', '').get({ receiver: 'otlp', transport: 'http' })).toBe(2);
    });

    it('data the pipeline can never take (a span over the bus limit) → 413, not a retryable 503', async () => {
      rx.refuseNext(1, new DataTooLargeError('a span of 2000000 bytes (encoded) is over the bus limit of 1000000 bytes'));
      const reply = await post(rx, '/v1/traces', protobufBody('traces', tracesRequest(1)), { 'content-type': PROTOBUF });
      expect(reply.status).toBe(413);
      expect(reply.headers.get('retry-after')).toBeNull();
      expect(statusOf(reply)).toEqual({ code: 8, message: 'a span of 2000000 bytes (encoded) is over the bus limit of 1000000 bytes' });
    });
  });
});

describe('OTLP/HTTP receiver with bearer-token auth', () => {
  let rx: TestReceiver;
  beforeAll(async () => {
    rx = await startTestReceiver({ protocols: { http: { endpoint: '127.0.0.1:0' } }, auth: { tokens: ['tok-1'] } });
  });
  afterAll(() => rx.stop());

  it('missing, wrong or malformed Authorization → 401 with WWW-Authenticate; the right token → 200', async () => {
    const body = protobufBody('traces', tracesRequest(1));
    const logged: string[] = [];
    const write = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => (logged.push(String(chunk)), true));
    onTestFinished(() => write.mockRestore());
    for (const authorization of [undefined, 'Bearer tok-2', 'Bearer tok-1x', 'Basic tok-1', 'tok-1']) {
      const reply = await post(rx, '/v1/traces', body, { 'content-type': PROTOBUF, ...(authorization ? { authorization } : {}) });
      expect(reply.status, String(authorization)).toBe(401);
      expect(reply.headers.get('www-authenticate')).toBe('Bearer');
      expect(statusOf(reply).code).toBe(16);
    }
    expect(rx.received.traces).toHaveLength(0);
    const ok = await post(rx, '/v1/traces', body, { 'content-type': PROTOBUF, authorization: 'bearer tok-1' });
    expect(ok.status).toBe(200);
    expect(rx.received.traces).toHaveLength(1);
    expect(logged.join('')).not.toMatch(/tok-/);
  });
});

describe('OTLP/HTTP receiver without a logs or metrics pipeline', () => {
  it('answers 404 for the signals nobody consumes', async () => {
    const rx = await startTestReceiver({ protocols: { http: { endpoint: '127.0.0.1:0' } } }, ['traces']);
    try {
      const reply = await post(rx, '/v1/logs', protobufBody('logs', logsRequest(1)), { 'content-type': PROTOBUF });
      expect(reply.status).toBe(404);
      expect(statusOf(reply).message).toBe('no OTLP endpoint at "/v1/logs"; this receiver serves /v1/traces');
    } finally {
      await rx.stop();
    }
  });
});

describe('OTLP/HTTP receiver shutdown', () => {
  it('finishes the requests in flight and then refuses connections', async () => {
    const rx = await startTestReceiver({ protocols: { http: { endpoint: '127.0.0.1:0' } } });
    let release!: () => void;
    rx.holdNext(new Promise<void>((r) => (release = r)));
    const inFlight = post(rx, '/v1/traces', protobufBody('traces', tracesRequest(3)), { 'content-type': PROTOBUF });
    await new Promise((r) => setTimeout(r, 100));
    let stopped = false;
    const stopping = rx.stop().then(() => (stopped = true));
    await new Promise((r) => setTimeout(r, 100));
    expect(stopped).toBe(false);
    release();
    expect((await inFlight).status).toBe(200);
    await stopping;
    expect(countSpans(rx.received.traces[0]!)).toBe(3);
    await expect(post(rx, '/v1/traces', '{}', { 'content-type': JSON_TYPE })).rejects.toThrow();
  });
});

/** A request written by hand with node:http, so the body can be declared or streamed freely. */
function rawRequest(endpoint: string, headers: Record<string, string>, chunks: Buffer[]): Promise<{ status: number; body: Buffer }> {
  const [host, port] = endpoint.split(':');
  return new Promise((resolve, reject) => {
    const req = http.request({ host, port: Number(port), method: 'POST', path: '/v1/traces', headers }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c)).on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(parts) }));
    });
    req.on('error', reject);
    req.flushHeaders();
    const writeNext = (i: number) => {
      if (i < chunks.length && !req.destroyed) req.write(chunks[i], () => setImmediate(() => writeNext(i + 1)));
    };
    writeNext(0);
  });
}
