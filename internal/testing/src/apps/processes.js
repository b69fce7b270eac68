// Child processes for the app tests, the end-to-end tests and the bench: each in its own process
// group, so stopping one also stops what it spawned (next start forks a worker).
// Plain JavaScript with JSDoc types on purpose: the e2e bench imports it under plain `node`.
import { spawn } from 'node:child_process';

// A free TCP port on 127.0.0.1, below the kernel's ephemeral range (see ../ports.mjs).
export { freePort } from '../ports.mjs';

/**
 * @typedef {object} Spawned
 * @property {import('node:child_process').ChildProcess} child
 * @property {() => string} output the last 256 KB of stdout and stderr
 * @property {Promise<{ code: number | null, signal: NodeJS.Signals | null }>} exited
 * @property {(signal?: NodeJS.Signals) => Promise<void>} stop SIGTERM (or `signal`) to the group, SIGKILL after 10 s
 */

/**
 * Spawns a command in its own process group, keeping its output.
 * @param {string} command
 * @param {string[]} args
 * @param {{ cwd: string, env: NodeJS.ProcessEnv, onOutput?: (text: string) => void }} options
 * @returns {Spawned}
 */
export function spawnGroup(command, args, { cwd, env, onOutput }) {
  const child = spawn(command, args, {
    cwd,
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  /** @param {Buffer} chunk */
  const keep = (chunk) => {
    const text = chunk.toString();
    log = (log + text).slice(-262_144);
    onOutput?.(text);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  /** @type {Promise<{ code: number | null, signal: NodeJS.Signals | null }>} */
  const exited = new Promise((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const running = () => child.exitCode === null && child.signalCode === null;
  /** @param {NodeJS.Signals} signal */
  const signalGroup = (signal) => {
    try {
      process.kill(-(/** @type {number} */ (child.pid)), signal);
    } catch {
      // the group is already gone
    }
  };
  return {
    child,
    output: () => log,
    exited,
    async stop(signal = 'SIGTERM') {
      if (!running()) return;
      signalGroup(signal);
      const timer = setTimeout(() => signalGroup('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
      // A worker left behind in the group (the parent died first) goes too.
      signalGroup('SIGKILL');
    },
  };
}

/**
 * Polls `probe` until it resolves true; fails early when the process exits.
 * @param {string} what
 * @param {() => Promise<boolean>} probe
 * @param {{ timeoutMs: number, spawned?: Spawned }} options
 */
export async function waitFor(what, probe, { timeoutMs, spawned }) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (spawned && (spawned.child.exitCode !== null || spawned.child.signalCode !== null)) {
      throw new Error(`${what} exited early:\n${spawned.output()}`);
    }
    if (await probe().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${what} not ready after ${timeoutMs} ms:\n${spawned?.output() ?? ''}`);
}
