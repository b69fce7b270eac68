// A real Redis Cluster for tests and benches: three masters from the machine's redis-server
// (Debian's package), each on free ports with its own bus port, in a temporary directory, joined
// with `redis-cli --cluster create`. Plain JavaScript so that the bench can use it too.
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePorts } from './ports.mjs';

const run = promisify(execFile);

function startNode(dir, port, busPort) {
  const child = spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--cluster-port',
      String(busPort),
      '--bind',
      '127.0.0.1',
      '--cluster-enabled',
      'yes',
      '--cluster-config-file',
      `nodes-${port}.conf`,
      '--cluster-node-timeout',
      '5000',
      '--dir',
      dir,
      '--save',
      '',
      '--appendonly',
      'no',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  return new Promise((resolve, reject) => {
    let output = '';
    const onData = (chunk) => {
      output += chunk;
      if (output.includes('Ready to accept connections')) {
        child.stdout.off('data', onData);
        child.stdout.resume();
        resolve(child);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (chunk) => {
      output += chunk;
    });
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`redis-server exited (${code}): ${output}`)));
  });
}

async function clusterInfo(port) {
  const { stdout } = await run('redis-cli', [
    '-h',
    '127.0.0.1',
    '-p',
    String(port),
    'CLUSTER',
    'INFO',
  ]);
  return stdout;
}

/**
 * Starts `masters` cluster nodes with no replicas and waits until every node sees all 16384
 * slots served. Resolves `{ nodes: [{ host, port }], stop() }`; `stop()` kills the processes and
 * removes the directory (also done when this process exits).
 */
export async function startRedisCluster(masters = 3) {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-redis-cluster-'));
  const ports = await freePorts(masters * 2);
  const children = [];
  const kill = () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  };
  process.once('exit', kill);
  const stop = async () => {
    process.off('exit', kill);
    await Promise.all(
      children.map(
        (child) =>
          new Promise((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            child.once('exit', resolve);
            child.kill('SIGKILL');
          }),
      ),
    );
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < masters; i++) {
      children.push(await startNode(dir, ports[i], ports[masters + i]));
    }
    const nodes = ports.slice(0, masters).map((port) => ({ host: '127.0.0.1', port }));
    await run('redis-cli', [
      '--cluster',
      'create',
      ...nodes.map(({ host, port }) => `${host}:${port}`),
      '--cluster-replicas',
      '0',
      '--cluster-yes',
    ]);
    const deadline = Date.now() + 30_000;
    for (const { port } of nodes) {
      for (;;) {
        const info = await clusterInfo(port);
        if (
          info.includes('cluster_state:ok') &&
          info.includes('cluster_slots_ok:16384') &&
          info.includes(`cluster_known_nodes:${masters}`)
        ) {
          break;
        }
        if (Date.now() > deadline) throw new Error(`the cluster did not settle: ${info}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    return { nodes, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
