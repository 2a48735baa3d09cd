/** A failed HTTP request: the status to answer with and the message for the client. */
import type { OutgoingHttpHeaders } from 'node:http';

/** gRPC status codes (google.rpc.Code) used in error bodies. */
export const RpcCode = {
  INVALID_ARGUMENT: 3,
  NOT_FOUND: 5,
  RESOURCE_EXHAUSTED: 8,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
} as const;

export class HttpError extends Error {
  override name = 'HttpError';
  constructor(
    readonly status: number,
    /** The google.rpc.Code written into the Status body. */
    readonly rpcCode: number,
    message: string,
    readonly headers: OutgoingHttpHeaders = {},
  ) {
    super(message);
  }
}

export const tooLarge = (what: string, limit: number) =>
  // Stop reading what is left of a body this large: close the connection after answering.
  new HttpError(413, RpcCode.RESOURCE_EXHAUSTED, `${what} exceeds the limit of ${limit} bytes (max_request_body_size)`, {
    connection: 'close',
  });
