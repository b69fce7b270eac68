// The steps `pnpm start` takes before it runs the servers: check that the services named in the
// environment answer (one line, within seconds, when they do not) and build with a line per step.
import { spawn } from 'node:child_process';
import net from 'node:net';
import { fileURLToPath } from 'node:url';

// Each service is asked something only it answers: a TCP connection alone proves little where a
// proxy or firewall accepts every connection.
const SERVICES = [
  {
    name: 'REDIS_URL',
    schemes: ['redis:', 'rediss:'],
    port: 6379,
    what: 'Redis',
    // rediss:// speaks TLS first: a TLS alert or handshake byte (0x15, 0x16) is an answer too.
    hello: Buffer.from('PING\r\n'),
    answers: (first) => [0x2b, 0x2d, 0x15, 0x16].includes(first), // '+PONG', '-NOAUTH …'
  },
  {
    name: 'DATABASE_URL',
    schemes: ['postgres:', 'postgresql:'],
    port: 5432,
    what: 'PostgreSQL',
    // SSLRequest (protocol 3.0 §55.2.10): the server answers one byte, 'S' or 'N'.
    hello: Buffer.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f]),
    answers: (first) => first === 0x53 || first === 0x4e,
  },
];

/** Resolves undefined when host:port answers `hello` like the service within `timeoutMs`. */
function unreachable(host, port, { hello, answers, what }, timeoutMs) {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (why) => {
      socket.destroy();
      resolve(why);
    };
    const timer = setTimeout(() => done(`no answer within ${timeoutMs / 1000} s`), timeoutMs);
    socket.once('connect', () => socket.write(hello));
    socket.once('data', (chunk) => {
      clearTimeout(timer);
      done(answers(chunk[0]) ? undefined : `something answered, but not ${what}`);
    });
    socket.once('error', (error) => {
      clearTimeout(timer);
      done(error.code ?? error.message);
    });
    socket.once('close', () => {
      clearTimeout(timer);
      done('the connection was closed');
    });
  });
}

/**
 * Every service URL that is set must be reachable: otherwise one line naming the variable and
 * exit 1, within 5 s, instead of servers retrying for minutes.
 * @param {NodeJS.ProcessEnv} env
 */
export async function checkServices(env) {
  const problems = await Promise.all(
    SERVICES.map(async (service) => {
      const { name, schemes, port, what } = service;
      const value = env[name]?.trim();
      if (!value) return undefined;
      let url;
      try {
        url = new URL(value);
      } catch {
        return `${name} is not a URL`;
      }
      if (!schemes.includes(url.protocol)) {
        return `${name} must start with ${schemes.map((s) => `${s}//`).join(' or ')}`;
      }
      const host = url.hostname.replace(/^\[(.*)\]$/, '$1') || '127.0.0.1';
      const why = await unreachable(host, Number(url.port) || port, service, 5000);
      return (
        why && `${name}: cannot reach ${what} at ${url.host} (${why}); start it, or unset ${name}`
      );
    }),
  );
  const first = problems.find(Boolean);
  if (first) {
    console.error(first);
    process.exit(1);
  }
}

// What is worth a line of `next build`'s output: its steps, not its route table.
const NEXT_STEP =
  /^\s*(✓ |▲ |Creating an optimized|Compiled|Running TypeScript|Collecting|Generating|Finalizing|Skipping)/;

/**
 * `turbo run build` with one line per step: each package as it starts (or is found up to date)
 * and the steps of `next build`. On failure, the full log of what failed.
 * @param {URL} root the repository root
 */
export function build(root) {
  const started = Date.now();
  console.log('Building (a first build takes a minute or two; later ones are cached)…');
  const turbo = fileURLToPath(new URL('node_modules/.bin/turbo', root));
  const child = spawn(turbo, ['run', 'build', '--output-logs=new-only'], {
    cwd: root,
    env: { ...process.env, FORCE_COLOR: '0', NEXT_TELEMETRY_DISABLED: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const log = [];
  const line = (text) => {
    log.push(text);
    const task = /^(@[\w-]+\/[\w-]+):build: (.*)$/.exec(text);
    if (!task) return;
    const [, name, rest] = task;
    if (/^cache hit/.test(rest)) console.log(`  ✓ ${name} (up to date)`);
    else if (/^cache (miss|bypass)/.test(rest)) console.log(`  … ${name}: building`);
    else if (/^\$ /.test(rest)) console.log(`    ${name}: ${rest.slice(2)}`);
    else if (NEXT_STEP.test(rest)) console.log(`    ${name}: ${rest.trim()}`);
  };
  for (const stream of [child.stdout, child.stderr]) {
    let rest = '';
    stream.on('data', (chunk) => {
      const lines = (rest + chunk).split('\n');
      rest = lines.pop() ?? '';
      for (const text of lines) line(text);
    });
  }
  return new Promise((resolve) => {
    child.on('error', (error) => {
      console.error(`The build could not start: ${error.message}`);
      process.exit(1);
    });
    child.on('exit', (code) => {
      if (code !== 0) {
        console.error(log.slice(-120).join('\n'));
        console.error(`The build failed (exit ${code}); its output is above.`);
        process.exit(1);
      }
      console.log(`Built in ${Math.round((Date.now() - started) / 1000)} s.`);
      resolve();
    });
  });
}
