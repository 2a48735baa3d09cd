/**
 * Topic names and encodings. Values are OTLP protobuf Export*ServiceRequest, the encoding
 * of the OTel Collector's Kafka exporter `otlp_proto`, so a stock otelcol can read and write
 * them. Keys are the hex trace id for traces.
 */
import { decodeProtobuf, encodeProtobuf } from '../otlp/codec.ts';
import type { Signal } from '../otlp/model.ts';
import type { Codec, SignalTopic, Topic } from './bus.ts';

export function otlpCodec<S extends Signal>(signal: S): Codec<import('../otlp/model.ts').SignalData[S]> {
  return {
    encode: (value) => encodeProtobuf(signal, value),
    decode: (bytes) => decodeProtobuf(signal, bytes),
  };
}

export const rawCodec: Codec<Uint8Array> = { encode: (v) => v, decode: (b) => b };

/**
 * The topic a pipeline stage reads. Stage 0 is what the receivers publish; stage i+1 is
 * what the i-th processor publishes; the exporters read the last one.
 *   agentotel.traces.received -> redaction -> agentotel.traces.redaction -> ...
 */
export function stageTopicName(prefix: string, signal: Signal, producer: string): string {
  return `${prefix}${signal}.${producer}`;
}

export function signalTopic<S extends Signal>(name: string, signal: S): SignalTopic<S> {
  return { name, codec: otlpCodec(signal) };
}

/** Dead letters keep the original bytes; headers say where they came from and why. */
export function deadLetterTopic(prefix: string): Topic<Uint8Array> {
  return { name: `${prefix}deadletter`, codec: rawCodec };
}

export const DEAD_LETTER_HEADERS = {
  error: 'agentotel.error',
  stage: 'agentotel.stage',
  sourceTopic: 'agentotel.source.topic',
  sourcePartition: 'agentotel.source.partition',
  sourceOffset: 'agentotel.source.offset',
} as const;

/** On a message `agentotel dlq replay` sent again: the dead letter it came from. */
export const REPLAYED_FROM_HEADER = 'agentotel.replayed.from';

/** Which dead letters `agentotel dlq replay` sent again (key: the letter's partition:offset; no payload). */
export function replayedLettersTopic(deadLetterTopicName: string): Topic<Uint8Array> {
  return { name: `${deadLetterTopicName}.replayed`, codec: rawCodec };
}
