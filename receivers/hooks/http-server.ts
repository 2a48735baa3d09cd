/**
 * The hooks endpoint: POST /v1/hooks (Claude Code) and POST /v1/hooks/{agent} with the hook
 * payload as a JSON object. A request is checked, converted to session views and handed to the
 * intake, and answered 200 `{}` at once: agents treat the body of an HTTP hook's answer as hook
 * output, and an empty object asks nothing of them. Publishing to the pipeline happens afterwards.
 */
import type http from 'node:http';
import { toNs, type AgentName, type SessionCapture } from '../../core/agent/session-spans.ts';
import { log } from '../../core/log.ts';
import type { AuthCheck } from '../../core/http/auth.ts';
import { ReceiverHttpServer, sendBody } from '../../core/http/server.ts';
import type { Endpoint } from '../../core/http/listen-config.ts';
import { readBody } from '../../core/http/body.ts';
import { HttpError } from '../../core/http/errors.ts';
import { AGENTS, DEFAULT_AGENT, hookFormats } from './formats.ts';
import { type HookFormat, HookPayloadError } from './hook-format.ts';
import type { RejectReason } from './hook-metrics.ts';
import { hookResource, hookTime, RESOURCE_ATTRIBUTES_HEADER } from './hook-context.ts';

const PATH = '/v1/hooks';
const ACCEPTED = Buffer.from('{}');
const RETRY_AFTER_SECONDS = '1';

/** A request answered with an error status; `reason` labels the rejection counter. */
export class Rejection extends Error {
  override name = 'Rejection';
  constructor(
    readonly status: number,
    readonly reason: RejectReason,
    message: string,
    readonly headers: http.OutgoingHttpHeaders = {},
  ) {
    super(message);
  }
}

/** Where accepted captures go, and what is counted. */
export interface Intake {
  /** Takes an accepted capture; false when there is no room (answered 503). */
  offer(capture: SessionCapture): boolean;
  accepted(agent: AgentName): void;
  rejected(reason: RejectReason): void;
}

function isJson(contentType: string | undefined): boolean {
  return (contentType ?? '').split(';', 1)[0]!.trim().toLowerCase() === 'application/json';
}

export class HooksHttpServer extends ReceiverHttpServer {
  constructor(
    private readonly receiverId: string,
    private readonly config: { endpoint: Endpoint; maxBodySize: number },
    private readonly authorized: AuthCheck,
    private readonly intake: Intake,
  ) {
    super(config.endpoint);
  }

  protected async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const receivedNs = toNs(Date.now())!;
    try {
      const format = this.route(req);
      const payload = await this.readPayload(req);
      const capture = format.toCapture(payload, hookTime(payload) ?? receivedNs);
      const resource = hookResource(payload, req.headers[RESOURCE_ATTRIBUTES_HEADER]);
      if (Object.keys(resource).length > 0) capture.resource = { ...capture.resource, ...resource };
      if (!this.intake.offer(capture)) {
        throw new Rejection(503, 'queue_full', 'the hooks receiver is over capacity (queue and spool full); retry later', {
          'retry-after': RETRY_AFTER_SECONDS,
        });
      }
      this.intake.accepted(format.agent);
      send(res, 200, ACCEPTED);
    } catch (err) {
      this.fail(res, err);
    }
  }

  /** The hook format the request is for, after authentication, path, method and content type checks. */
  private route(req: http.IncomingMessage): HookFormat {
    if (!this.authorized(req.headers.authorization)) {
      throw new Rejection(401, 'unauthorized', 'missing or invalid bearer token (Authorization: Bearer <token>)', {
        'www-authenticate': 'Bearer',
      });
    }
    const path = (req.url ?? '').split('?', 1)[0]!;
    const agent = path === PATH ? DEFAULT_AGENT : path.startsWith(`${PATH}/`) ? path.slice(PATH.length + 1) : undefined;
    if (agent === undefined) {
      throw new Rejection(404, 'not_found', `no hooks endpoint at ${JSON.stringify(path)}; use ${PATH} or ${PATH}/{agent}`);
    }
    if (!(AGENTS as readonly string[]).includes(agent)) {
      throw new Rejection(404, 'not_found', `unknown agent ${JSON.stringify(agent)} in ${path}; agents: ${AGENTS.join(', ')}`);
    }
    const format = hookFormats[agent as AgentName];
    if (!format) {
      const served = Object.keys(hookFormats).join(', ');
      throw new Rejection(404, 'not_found', `hooks of ${agent} are not supported by this version yet (supported: ${served})`);
    }
    if (req.method !== 'POST')
      throw new Rejection(405, 'method_not_allowed', `method ${req.method} not allowed on ${path}; use POST`, { allow: 'POST' });
    if (!isJson(req.headers['content-type'])) {
      throw new Rejection(
        415,
        'unsupported_media_type',
        `unsupported Content-Type ${JSON.stringify(req.headers['content-type'] ?? '')}; send the hook payload as application/json`,
      );
    }
    return format;
  }

  private async readPayload(req: http.IncomingMessage): Promise<Record<string, unknown>> {
    let body: Buffer;
    try {
      body = await readBody(req, this.config.maxBodySize);
    } catch (err) {
      if (!(err instanceof HttpError)) throw err;
      if (err.status === 413) {
        throw new Rejection(
          413,
          'too_large',
          `request body exceeds the limit of ${this.config.maxBodySize} bytes (max_body_size)`,
          err.headers,
        );
      }
      throw new Rejection(400, 'invalid_body', err.message);
    }
    let payload: unknown;
    try {
      payload = JSON.parse(body.toString('utf8'));
    } catch (err) {
      throw new Rejection(400, 'invalid_body', `the body is not JSON: ${(err as Error).message}`);
    }
    if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) {
      throw new Rejection(400, 'invalid_body', 'the body must be a JSON object (the hook payload)');
    }
    return payload as Record<string, unknown>;
  }

  private fail(res: http.ServerResponse, err: unknown): void {
    if (err instanceof HookPayloadError) err = new Rejection(400, 'invalid_payload', err.message);
    if (err instanceof Rejection) {
      this.intake.rejected(err.reason);
      return send(res, err.status, Buffer.from(JSON.stringify({ error: err.message })), err.headers);
    }
    log('error', 'hooks receiver: unexpected error handling a request', { receiver: this.receiverId, error: (err as Error).message });
    send(res, 500, Buffer.from(JSON.stringify({ error: 'internal error' })));
  }
}

function send(res: http.ServerResponse, status: number, body: Buffer, headers: http.OutgoingHttpHeaders = {}): void {
  sendBody(res, status, 'application/json', body, headers);
}
