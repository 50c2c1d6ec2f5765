import net from 'node:net';
import { LOCAL_KAFKA_HOST } from './server-properties.js';

/**
 * `count` distinct free TCP ports on 127.0.0.1, chosen by the OS. All sockets stay open until every port is
 * known, so the same port is never returned twice. Another process may still take one before the broker binds
 * it; the caller retries on "Address already in use".
 */
export async function freePorts(count: number): Promise<number[]> {
  const servers: net.Server[] = [];
  try {
    const ports: number[] = [];
    for (let i = 0; i < count; i++) {
      const server = net.createServer();
      servers.push(server);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, LOCAL_KAFKA_HOST, resolve);
      });
      ports.push((server.address() as net.AddressInfo).port);
    }
    return ports;
  } finally {
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  }
}

/** True when something accepts TCP connections on host:port within `timeoutMs`. */
export function isPortOpen(port: number, host = LOCAL_KAFKA_HOST, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    const done = (open: boolean): void => {
      socket.destroy();
      resolve(open);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}
