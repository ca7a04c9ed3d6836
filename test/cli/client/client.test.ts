// The REST client's reading of the coordinator's answers: a coded error is passed on only under a
// code of ours; anything else becomes E_INTERNAL that says what came back.

import { describe, expect, it } from 'vitest';
import { parseAnswer } from '../../../cli/client/client.js';
import { FedrxError } from '../../../shared/errors.js';

const thrown = (status: number, body: unknown): FedrxError => {
  try {
    parseAnswer(status, typeof body === 'string' ? body : JSON.stringify(body));
  } catch (e) {
    if (e instanceof FedrxError) return e;
    throw e;
  }
  throw new Error('no error');
};

describe('parseAnswer', () => {
  it('returns a 2xx body', () => {
    expect(parseAnswer(200, '{"runs":[]}')).toEqual({ runs: [] });
  });

  it('passes on a known code with its message and details', () => {
    const e = thrown(409, { error: { code: 'E_RUN_FINISHED', message: 'run run-1 is completed', details: { status: 'completed' } } });
    expect([e.code, e.message, e.details]).toEqual(['E_RUN_FINISHED', 'run run-1 is completed', { status: 'completed' }]);
  });

  it.each([
    [{ error: { code: 'toString', message: 'x' } }, 'coordinator answered 400 with unknown error code "toString": x'],
    [{ error: { code: 'E_FROM_THE_FUTURE' } }, 'coordinator answered 400 with unknown error code "E_FROM_THE_FUTURE"'],
    [{ error: { code: { nested: 1 } } }, 'coordinator answered 400 with unknown error code {"nested":1}'],
    [{ oops: true }, 'coordinator answered 400 with no error code'],
  ])('maps %j to E_INTERNAL', (body, message) => {
    const e = thrown(400, body);
    expect([e.code, e.message]).toEqual(['E_INTERNAL', message]);
  });

  it('a body that is not JSON is E_INTERNAL', () => {
    expect(thrown(502, '<html>bad gateway</html>').code).toBe('E_INTERNAL');
  });
});
