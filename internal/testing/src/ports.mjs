// Free ports for the servers the tests start. A port the kernel hands out for `listen(0)` comes
// from its ephemeral range, the same range it draws the local ports of outgoing connections from:
// between the probe's release and the server's own listen, any connection on the machine (this
// test's, another worker's, a browser's) can take it, and the server fails with EADDRINUSE (seen
// once in CI: `next start` on 127.0.0.1:40777). Ports below that range are never handed out so.
// Plain JavaScript so that the bench can use it too.
import { randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import net from 'node:net';

// Above the usual fixed ports of development servers and above every port browsers refuse to
// open (Chromium's restricted list ends at 10080).
const LOWEST = 10_100;

/** The first port of the kernel's ephemeral range (Linux), else IANA's (49152). */
function ephemeralStart() {
  try {
    const [low] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8')
      .trim()
      .split(/\s+/);
    const port = Number(low);
    if (Number.isInteger(port) && port > 0) return port;
  } catch {}
  return 49_152;
}

function listenOn(port) {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

/**
 * A server listening on a free port of 127.0.0.1 below the ephemeral range (random, so two
 * workers seldom try the same one, and one in use is skipped); on a machine whose range starts
 * too low to leave room, a port the kernel chooses.
 * @returns {Promise<net.Server>}
 */
async function listenOnFreePort() {
  const end = ephemeralStart();
  if (end - LOWEST >= 1000) {
    for (let attempt = 0; attempt < 50; attempt++) {
      const port = randomInt(LOWEST, end);
      try {
        return await listenOn(port);
      } catch (error) {
        if (error?.code !== 'EADDRINUSE' && error?.code !== 'EACCES') throw error;
      }
    }
  }
  return listenOn(0);
}

/**
 * `count` distinct free ports of 127.0.0.1 (held together while chosen, then released).
 * @param {number} count
 * @returns {Promise<number[]>}
 */
export async function freePorts(count) {
  const servers = [];
  try {
    while (servers.length < count) servers.push(await listenOnFreePort());
    return servers.map((server) => /** @type {net.AddressInfo} */ (server.address()).port);
  } finally {
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  }
}

/**
 * A free port of 127.0.0.1 (bound, then released) below the ephemeral range.
 * @returns {Promise<number>}
 */
export async function freePort() {
  const [port] = await freePorts(1);
  return /** @type {number} */ (port);
}
