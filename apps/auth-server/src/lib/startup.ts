import { ConfigError, getConfig } from './config';

/** Validates the configuration and prints one summary line; exits(1) with one line if bad. */
export function checkConfigAtStartup(): void {
  try {
    const config = getConfig();
    const providers = [
      config.devLogin && 'dev login (development only)',
      config.auth0 && 'Auth0',
      config.firebase && (config.firebase.emulatorHost ? 'Firebase (emulator)' : 'Firebase'),
    ].filter(Boolean);
    console.log(
      `[auth-server] issuer ${config.issuer} · store ${config.storage.kind} · sign-in: ${providers.join(', ')}${config.production ? '' : ' · development mode'}`,
    );
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }
}
