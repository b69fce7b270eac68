import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp } from './app.js';
import { createVerifier } from './auth.js';
import { ConfigError, isLoopbackHost, loadConfig } from './config.js';
import { createLimiter } from './limiter.js';
import { createLogger } from './log.js';

async function main() {
  // Variables already set in the environment win over the file.
  if (existsSync('.env')) process.loadEnvFile('.env');
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      for (const line of error.problems) console.error(`config error: ${line}`);
      process.exit(1);
    }
    throw error;
  }
  const logger = createLogger(config.logLevel);

  if (config.authMode === 'none') {
    if (!isLoopbackHost(config.host) && !config.allowInsecureNoAuth) {
      console.error(
        `config error: AUTH_MODE=none refuses to listen on ${config.host}: use a loopback HOST, or set ALLOW_INSECURE_NO_AUTH=1 if you really mean it`,
      );
      process.exit(1);
    }
    logger.warn(
      'AUTH_MODE=none: every tool is open to anyone who can reach this server (development only)',
    );
  }

  const { limiter, replay, close: closeLimiter } = await createLimiter(config);
  const verification = createVerifier(config, (message) => logger.warn(message));
  const app = createApp({ config, verifier: verification.verifier, limiter, logger, replay });

  const server = createServer(app);
  server.listen(config.port, config.host);

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info('shutting down', { signal });
    verification.close();
    server.close(async () => {
      await closeLimiter();
      process.exit(0);
    });
    server.closeIdleConnections();
    setTimeout(() => process.exit(0), 5000).unref();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));

  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const { port } = server.address() as AddressInfo;
  logger.info('MCP server listening', {
    url: `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}${config.resource.pathname}`,
    resource: config.resource.href,
    authMode: config.authMode,
    issuer: config.authMode === 'oauth' ? config.issuer : undefined,
    rateLimitStore: config.redisUrl ? 'redis' : 'memory',
    revocationFeed: config.revocationFeed?.endpoint,
    dpop: config.dpop,
  });
}

main().catch((error) => {
  console.error(`fatal: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
