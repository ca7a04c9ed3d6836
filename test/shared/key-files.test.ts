import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createKeyFiles, loadOrCreateKeyPair, parsePublicKey, readKeyPair, readPublicKeyFile } from '../../shared/key-files.js';
import { tempDir } from '../helpers/temp.js';

describe('key files', () => {
  it('writes a 0600 secret key and a public key that read back to the same pair', () => {
    const dir = join(tempDir('keys'), 'site-key');
    const made = createKeyFiles(dir, 'site');
    expect(statSync(made.files.secret).mode & 0o777).toBe(0o600);
    expect(readFileSync(made.files.public, 'utf8')).toBe(`fedrx-ed25519-public-key:${made.publicKey}\n`);
    const read = readKeyPair(dir, 'site');
    expect(read.publicKey).toBe(made.publicKey);
    expect(Buffer.from(read.secretKey).equals(Buffer.from(made.secretKey))).toBe(true);
    expect(readPublicKeyFile(made.files.public)).toBe(made.publicKey);
  });

  it('refuses to overwrite a key, to read a key others can read, and malformed files', () => {
    const dir = tempDir('keys');
    const made = createKeyFiles(dir, 'site');
    expect(() => createKeyFiles(dir, 'site')).toThrow(expect.objectContaining({ code: 'E_KEY_EXISTS' }));
    chmodSync(made.files.secret, 0o644);
    expect(() => readKeyPair(dir, 'site')).toThrow(/readable by other users/);
    chmodSync(made.files.secret, 0o600);
    writeFileSync(made.files.secret, 'not a key\n');
    expect(() => readKeyPair(dir, 'site')).toThrow(expect.objectContaining({ code: 'E_KEY_FILE' }));
    expect(() => readKeyPair(dir, 'nobody')).toThrow(/no secret key/);
    expect(() => parsePublicKey('abc', 'x')).toThrow(/not an Ed25519 public key/);
    expect(parsePublicKey(`  ${'AB'.repeat(32)}\n`, 'x')).toBe('ab'.repeat(32));
  });

  it('loadOrCreateKeyPair makes the key once, then reads it', () => {
    const dir = tempDir('keys');
    const first = loadOrCreateKeyPair(dir, 'coordinator');
    const second = loadOrCreateKeyPair(dir, 'coordinator');
    expect([first.created, second.created]).toEqual([true, false]);
    expect(second.publicKey).toBe(first.publicKey);
  });
});
