// Ed25519 key files of a site or a coordinator: `NAME.key` (secret, mode 0600) and `NAME.pub`,
// one labelled line of hex each, so they can be read, mailed and diffed by people.

import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { FedrxError } from './errors.js';
import { generateKeyPair, publicKeyOf, PUBLIC_KEY_HEX, type KeyPair } from './signing.js';

const SECRET_LABEL = 'fedrx-ed25519-secret-key';
const PUBLIC_LABEL = 'fedrx-ed25519-public-key';

export const keyFiles = (dir: string, name: string): { secret: string; public: string } => ({
  secret: join(dir, `${name}.key`),
  public: join(dir, `${name}.pub`),
});

/** Makes a new key pair in `dir`; refuses to overwrite one (a lost key is a lost identity). */
export function createKeyFiles(dir: string, name: string): KeyPair & { files: { secret: string; public: string } } {
  const files = keyFiles(dir, name);
  if (existsSync(files.secret) || existsSync(files.public)) {
    throw new FedrxError('E_KEY_EXISTS', `${files.secret} or ${files.public} already exists; refusing to overwrite a key`);
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const pair = generateKeyPair();
  // `wx`: fail rather than follow a file someone created in between.
  writeFileSync(files.secret, `${SECRET_LABEL}:${bytesToHex(pair.secretKey)}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(files.secret, 0o600); // the umask may have narrowed the mode, never widen beyond 0600
  writeFileSync(files.public, `${PUBLIC_LABEL}:${pair.publicKey}\n`, { mode: 0o644, flag: 'wx' });
  return { ...pair, files };
}

/** Reads `dir/NAME.key`; refuses a key file that others can read, as ssh does. */
export function readKeyPair(dir: string, name: string): KeyPair {
  const { secret } = keyFiles(dir, name);
  if (!existsSync(secret)) throw new FedrxError('E_KEY_FILE', `no secret key at ${secret}`);
  if (process.platform !== 'win32' && (statSync(secret).mode & 0o077) !== 0) {
    throw new FedrxError('E_KEY_FILE', `${secret} is readable by other users; run chmod 600 on it`);
  }
  const m = /^fedrx-ed25519-secret-key:([0-9a-f]{64})\s*$/.exec(readFileSync(secret, 'utf8'));
  if (m === null) throw new FedrxError('E_KEY_FILE', `${secret} is not a fedrx secret key file`);
  const secretKey = hexToBytes(m[1]!);
  return { secretKey, publicKey: publicKeyOf(secretKey) };
}

/** Reads or creates the key pair: for the coordinator's own signing key. */
export function loadOrCreateKeyPair(dir: string, name: string): KeyPair & { created: boolean } {
  if (existsSync(keyFiles(dir, name).secret)) return { ...readKeyPair(dir, name), created: false };
  return { ...createKeyFiles(dir, name), created: true };
}

/** A public key from a `.pub` file or a bare 64-hex-digit string. */
export function parsePublicKey(text: string, what: string): string {
  const t = text.trim().toLowerCase();
  const bare = t.startsWith(`${PUBLIC_LABEL}:`) ? t.slice(PUBLIC_LABEL.length + 1) : t;
  if (!PUBLIC_KEY_HEX.test(bare)) throw new FedrxError('E_KEY_FILE', `${what} is not an Ed25519 public key (64 hex digits)`);
  return bare;
}

export function readPublicKeyFile(file: string): string {
  if (!existsSync(file)) throw new FedrxError('E_KEY_FILE', `no public key file at ${file}`);
  return parsePublicKey(readFileSync(file, 'utf8'), file);
}
