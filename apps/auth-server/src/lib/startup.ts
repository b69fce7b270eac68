import { ConfigError, getConfig } from './config';
import { installNodeGuard } from './node-guard';

/**
 * Validates the configuration, puts the Node guard in front of Next.js and prints one summary
 * line; exits(1) with one line if the configuration is bad.
 */
export function checkConfigAtStartup(): void {
  try {
    const config = getConfig();
    const loopbackOnly = !config.production && !config.devAllowRemote;
    installNodeGuard({ loopbackOnly });
    const providers = [
      config.devLogin && 'dev login (development only)',
      config.auth0 && 'Auth0',
      config.firebase && (config.firebase.emulatorHost ? 'Firebase (emulator)' : 'Firebase'),
    ].filter(Boolean);
    console.log(
      `[auth-server] issuer ${config.issuer} · store ${config.storage.kind} · sign-in: ${providers.join(', ')}${config.production ? '' : ' · development mode'}${loopbackOnly ? ' · connections from this machine only (DEV_ALLOW_REMOTE=true to allow others)' : ''}`,
    );
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }
}
