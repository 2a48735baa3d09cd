/** The OTLP receiver: OTLP/gRPC and OTLP/HTTP (protobuf, JSON, gzip) for traces, logs and metrics. */
export { otlpReceiverFactory } from './factory.ts';
export type { OtlpReceiverConfig } from './config.ts';
