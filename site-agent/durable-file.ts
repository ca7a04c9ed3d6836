// A small file of the agent's state replaced whole and durably: written to a temporary file,
// flushed to disk, then renamed over the old one, so a crash leaves the old file or the new one,
// never half of either.

import { open, rename } from 'node:fs/promises';

export async function writeFileDurably(file: string, data: string | Uint8Array): Promise<void> {
  const fh = await open(`${file}.tmp`, 'w');
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(`${file}.tmp`, file);
}
