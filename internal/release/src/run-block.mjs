// Runs one README block (a module file) the way a reader would: to its end, including what it
// starts asynchronously. A block that leaves only long-lived I/O behind (a listening server, an
// open client connection, their timers) has reached its steady state: it passed. Anything else
// (a pending file operation, a WASM start-up, a failed promise) is waited for, so its error
// fails the block.
import { pathToFileURL } from 'node:url';

const LONG_LIVED = new Set(['TCPServerWrap', 'TCPSocketWrap', 'PipeServerWrap', 'PipeWrap']);

process.on('unhandledRejection', (error) => {
  console.error(error);
  process.exit(1);
});

await import(pathToFileURL(process.argv[2] ?? '').href);

const watch = setInterval(() => {
  const active = process.getActiveResourcesInfo().filter((name) => name !== 'TTYWrap');
  const io = active.filter((name) => name !== 'Timeout');
  if (io.length > 0 && io.every((name) => LONG_LIVED.has(name))) process.exit(0);
}, 100);
watch.unref();
