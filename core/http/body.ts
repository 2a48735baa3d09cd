/**
 * Reading an OTLP/HTTP request body within the size limit: on the wire (Content-Length, then
 * counted while streaming) and after gzip decompression, which stops at the limit so a
 * gzip bomb costs no more memory than an honest body.
 */
import type { IncomingMessage } from 'node:http';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { HttpError, RpcCode, tooLarge } from './errors.ts';

const gunzipAsync = promisify(gunzip);

export type ContentCoding = 'gzip' | 'identity';

export function contentCodingOf(header: string | undefined): ContentCoding {
  const coding = (header ?? '').trim().toLowerCase();
  if (coding === '' || coding === 'identity') return 'identity';
  if (coding === 'gzip') return 'gzip';
  throw new HttpError(415, RpcCode.UNIMPLEMENTED, `unsupported Content-Encoding ${JSON.stringify(header)}; use gzip or identity`, {
    'accept-encoding': 'gzip, identity',
  });
}

export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (declared > limit) return Promise.reject(tooLarge(`request body (Content-Length ${declared})`, limit));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const stop = () => {
      req.off('data', onData).off('end', onEnd).off('error', onError).off('close', onClose);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) return void chunks.push(chunk);
      stop();
      req.resume(); // discard the rest until the connection closes
      reject(tooLarge('request body', limit));
    };
    const onEnd = () => {
      stop();
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    };
    const onError = (err: Error) => {
      stop();
      reject(new HttpError(400, RpcCode.INVALID_ARGUMENT, `request body could not be read: ${err.message}`));
    };
    const onClose = () => {
      if (!req.complete) onError(new Error('connection closed before the body was complete'));
    };
    req.on('data', onData).on('end', onEnd).on('error', onError).on('close', onClose);
  });
}

export async function decodeContent(body: Buffer, coding: ContentCoding, limit: number): Promise<Buffer> {
  if (coding === 'identity') return body;
  try {
    return await gunzipAsync(body, { maxOutputLength: limit });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw tooLarge('decompressed request body', limit);
    throw new HttpError(400, RpcCode.INVALID_ARGUMENT, `invalid gzip body: ${(err as Error).message}`);
  }
}
