// The fuzz child: imports one target module, then reads each probe path the parent sends and
// answers how the reader ended. It runs in its own process so that a crash, a hang or a
// runaway allocation in the reader costs only this process (the parent kills and replaces it).
//   node --conditions=@gpt/source --import tsx fuzz/child.ts <target module>

import { pathToFileURL } from 'node:url';
import type { FuzzTarget } from './harness.js';
import { classifyError } from './classify.js';

const modulePath = process.argv[2];
if (!modulePath || !process.send) {
  console.error('usage: started by fuzz/harness.ts with an IPC channel and a target module path');
  process.exit(2);
}
const send = process.send.bind(process);
const { target } = (await import(pathToFileURL(modulePath).href)) as { target: FuzzTarget };

process.on('message', async ({ path }: { path: string }) => {
  try {
    await target.read(path);
    send({ outcome: 'ok', detail: '' });
  } catch (error) {
    send(classifyError(error, path));
  }
});
send({ ready: true });
