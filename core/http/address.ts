import type { AddressInfo } from 'node:net';

/** host:port of a bound socket, IPv6 hosts in brackets. */
export function formatAddress(address: AddressInfo): string {
  return address.family === 'IPv6' ? `[${address.address}]:${address.port}` : `${address.address}:${address.port}`;
}
