import dns, { type LookupAddress } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';

/**
 * Address ranges a webhook may not reach, so a subscription cannot make the server post to its own network: private
 * (RFC 1918, RFC 4193), shared (RFC 6598), link-local with cloud metadata services, unspecified, multicast, IETF
 * protocol assignments (192.0.0.0/24), benchmarking (198.18.0.0/15, which some networks use internally) and the IPv6
 * discard prefix (RFC 6666). Loopback is allowed only outside production, for development and tests.
 */
const NON_PUBLIC_ADDRESSES = new net.BlockList();
const NON_PUBLIC_IPV4 = [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['169.254.0.0', 16], ['172.16.0.0', 12], ['192.0.0.0', 24],
  ['192.168.0.0', 16], ['198.18.0.0', 15], ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const;
for (const [network, prefix] of NON_PUBLIC_IPV4) NON_PUBLIC_ADDRESSES.addSubnet(network, prefix, 'ipv4');
const NON_PUBLIC_IPV6 = [['::', 128], ['100::', 64], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8]] as const;
for (const [network, prefix] of NON_PUBLIC_IPV6) NON_PUBLIC_ADDRESSES.addSubnet(network, prefix, 'ipv6');

const LOOPBACK_ADDRESSES = new net.BlockList();
LOOPBACK_ADDRESSES.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK_ADDRESSES.addAddress('::1', 'ipv6');

function family(address: string): 'ipv4' | 'ipv6' {
  return net.isIPv6(address) ? 'ipv6' : 'ipv4';
}

/** Returns true for an IP address in a private, link-local or reserved range. */
export function isNonPublicAddress(address: string): boolean {
  return NON_PUBLIC_ADDRESSES.check(address, family(address));
}

/** Returns true for an IP address in 127.0.0.0/8 or ::1. */
export function isLoopbackAddress(address: string): boolean {
  return LOOPBACK_ADDRESSES.check(address, family(address));
}

/** Resolves a host name to all its addresses, as `dns.lookup` with `all: true` does. */
export type Resolver = (hostname: string, callback: (error: Error | null, addresses: LookupAddress[]) => void) => void;

const systemResolver: Resolver = (hostname, callback) => dns.lookup(hostname, { all: true }, (error, addresses) => callback(error, addresses ?? []));

type LookupCallback = (error: Error | null, address: string | LookupAddress[], family?: number) => void;

/**
 * Builds the `lookup` of a webhook connection: it resolves the host name and refuses to connect when any address is
 * non-public (or loopback, unless `allowLoopback`). The connection then goes to an address that passed the check, so a
 * host name cannot lead a delivery into the server's own network, whatever the name resolves to later.
 */
export function publicLookup(allowLoopback: boolean, resolve: Resolver = systemResolver) {
  return (hostname: string, options: { all?: boolean }, callback: LookupCallback): void => {
    resolve(hostname, (error, addresses) => {
      if (error) return callback(error, []);
      const rejected = addresses.find((entry) => isNonPublicAddress(entry.address) || (!allowLoopback && isLoopbackAddress(entry.address)));
      if (rejected) {
        return callback(new Error(`${hostname} resolves to ${rejected.address}, a private, link-local or reserved address, so nothing was sent. Use a host name that resolves to public addresses only`), []);
      }
      const first = addresses[0];
      if (!first) return callback(new Error(`${hostname} resolves to no address`), []);
      if (options.all) return callback(null, addresses);
      callback(null, first.address, first.family);
    });
  };
}

/**
 * Posts a JSON body and returns the response status, without reading the response body. Connections look host names up
 * with `lookup`, and redirects are not followed.
 */
export function postJson(url: URL, body: string, headers: Record<string, string>, lookup: ReturnType<typeof publicLookup>, timeoutMs: number): Promise<number> {
  const client = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const request = client.request(
      url,
      { method: 'POST', headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) }, lookup, signal: AbortSignal.timeout(timeoutMs), agent: false },
      (response) => {
        resolve(response.statusCode ?? 0);
        response.destroy();
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}
