/** Test support: decoding the protobuf google.rpc.Status of an OTLP/HTTP error reply. */
import protobuf from 'protobufjs';

const Status = new protobuf.Type('Status').add(new protobuf.Field('code', 1, 'int32')).add(new protobuf.Field('message', 2, 'string'));

export function decodeStatus(bytes: Uint8Array): { code: number; message: string } {
  return Status.toObject(Status.decode(bytes), { defaults: true }) as { code: number; message: string };
}
