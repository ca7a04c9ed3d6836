import { describe, expect, it } from 'vitest';
import { isFedrxError } from '../../shared/errors.js';
import { isCertificateError, normalizeFingerprint } from '../../shared/tls.js';

const HEX = '3cfc59ea5bf0bddc342f74ee2db35a0d40c663f3431180940d07356ddc053d86';
const NODE_FORM = '3C:FC:59:EA:5B:F0:BD:DC:34:2F:74:EE:2D:B3:5A:0D:40:C6:63:F3:43:11:80:94:0D:07:35:6D:DC:05:3D:86';

function codeOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    return isFedrxError(e) ? e.code : `not coded: ${String(e)}`;
  }
  return 'no error';
}

describe('certificate fingerprints', () => {
  it.each([
    ['64 lower-case hex digits', HEX],
    ['64 upper-case hex digits', HEX.toUpperCase()],
    ["Node's colon form", NODE_FORM],
    ['colon pairs in lower case', NODE_FORM.toLowerCase()],
    ['mixed case with blanks around', `  ${HEX.slice(0, 32).toUpperCase()}${HEX.slice(32)}\n`],
    ["openssl's output line", `sha256 Fingerprint=${NODE_FORM}`],
    ['a sha256: prefix', `SHA256:${HEX}`],
  ])('normalises %s to the form Node reports', (_label, text) => {
    expect(normalizeFingerprint(text)).toBe(NODE_FORM);
  });

  it.each([
    ['63 hex digits', HEX.slice(1)],
    ['65 hex digits', `${HEX}0`],
    ['a SHA-1 fingerprint (40 hex digits)', HEX.slice(0, 40)],
    ['a non-hex digit', `g${HEX.slice(1)}`],
    ['colons in the wrong places', `${HEX.slice(0, 3)}:${HEX.slice(3)}`],
    ['a trailing colon', `${NODE_FORM}:`],
    ['nothing', ''],
  ])('refuses %s with E_TLS_CONFIG', (_label, text) => {
    expect(codeOf(() => normalizeFingerprint(text))).toBe('E_TLS_CONFIG');
  });

  it('names what it got in the error', () => {
    expect(() => normalizeFingerprint('abc')).toThrow(/64 hex digits.*"abc"/);
  });
});

describe('certificate errors', () => {
  it.each(['DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'CERT_HAS_EXPIRED', 'ERR_TLS_CERT_ALTNAME_INVALID'])(
    'recognises %s',
    (code) => {
      expect(isCertificateError(Object.assign(new Error('x'), { code }))).toBe(true);
    },
  );

  it.each(['ECONNREFUSED', 'ECONNRESET', 'EPROTO', undefined])('does not take %s for a certificate problem', (code) => {
    expect(isCertificateError(Object.assign(new Error('x'), { code }))).toBe(false);
  });
});
