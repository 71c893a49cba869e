/**
 * Loaded before every test file: any outgoing connection to an address outside loopback fails the test, so a test
 * cannot quietly depend on the network.
 */
import net from 'node:net';

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '::1', '[::1]', '0.0.0.0']);

function isLoopback(host: string | undefined): boolean {
  if (host === undefined) return true;
  return LOOPBACK_HOSTS.has(host) || host.startsWith('127.') || host.startsWith('::ffff:127.');
}

const originalConnect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function guardedConnect(this: net.Socket, ...args: unknown[]) {
  const first = args[0];
  let host: string | undefined;
  let isUnixSocket = false;
  if (Array.isArray(first)) {
    const options = first[0] as net.NetConnectOpts;
    host = (options as net.TcpNetConnectOpts).host;
    isUnixSocket = 'path' in options;
  } else if (typeof first === 'object' && first !== null) {
    host = (first as net.TcpNetConnectOpts).host;
    isUnixSocket = 'path' in first;
  } else if (typeof first === 'string' && Number.isNaN(Number(first))) {
    isUnixSocket = true;
  } else if (typeof args[1] === 'string') {
    host = args[1];
  }
  if (!isUnixSocket && !isLoopback(host)) {
    throw new Error(`Test tried to connect to ${host}; tests may only use loopback addresses.`);
  }
  return (originalConnect as (...a: unknown[]) => net.Socket).apply(this, args);
} as typeof net.Socket.prototype.connect;
