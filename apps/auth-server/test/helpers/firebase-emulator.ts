import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AUTH_DIR, freePort, spawnGroup, waitFor } from '@portcullis/internal-testing/apps';

export const FIREBASE_PROJECT = 'demo-portcullis';
const FIREBASE_BIN = path.join(AUTH_DIR, 'node_modules/firebase-tools/lib/bin/firebase.js');

/** The Firebase Auth emulator (firebase-tools), offline, on free ports. */
export async function startFirebaseEmulator(): Promise<{
  host: string;
  createUser: (email: string, password: string) => Promise<string>;
  stop: () => Promise<void>;
}> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'portcullis-firebase-'));
  const [auth, hub, logging] = [await freePort(), await freePort(), await freePort()];
  writeFileSync(
    path.join(dir, 'firebase.json'),
    JSON.stringify({
      emulators: {
        auth: { port: auth, host: '127.0.0.1' },
        hub: { port: hub, host: '127.0.0.1' },
        logging: { port: logging, host: '127.0.0.1' },
        ui: { enabled: false },
        singleProjectMode: true,
      },
    }),
  );
  const spawned = spawnGroup(
    process.execPath,
    [FIREBASE_BIN, 'emulators:start', '--only', 'auth', '--project', FIREBASE_PROJECT],
    {
      cwd: dir,
      env: {
        ...process.env,
        HOME: dir,
        NO_UPDATE_NOTIFIER: '1',
        FIREBASE_CLI_DISABLE_UPDATE_CHECK: 'true',
      },
    },
  );
  const host = `127.0.0.1:${auth}`;
  try {
    await waitFor('firebase auth emulator', async () => (await fetch(`http://${host}/`)).ok, {
      // Its start takes over a minute on a busy two-core machine.
      timeoutMs: 150_000,
      spawned,
    });
  } catch (error) {
    await spawned.stop();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    host,
    async createUser(email, password) {
      const response = await fetch(
        `http://${host}/identitytoolkit.googleapis.com/v1/accounts:signUp?key=emulator`,
        {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            email,
            password,
            displayName: 'Fiona Firebase',
            returnSecureToken: true,
          }),
        },
      );
      if (!response.ok) throw new Error(`signUp failed: ${await response.text()}`);
      return ((await response.json()) as { localId: string }).localId;
    },
    stop: async () => {
      await spawned.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
