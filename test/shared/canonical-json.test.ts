import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../shared/canonical-json.js';

describe('canonicalJson', () => {
  it('sorts keys, whatever the insertion order', () => {
    expect(canonicalJson({ b: 1, a: 2, c: 3 })).toBe('{"a":2,"b":1,"c":3}');
    expect(canonicalJson({ c: 3, a: 2, b: 1 })).toBe('{"a":2,"b":1,"c":3}');
    // Code-unit order: upper case before lower case, "10" before "9".
    expect(canonicalJson({ b: 0, B: 0, '9': 0, '10': 0, a: 0 })).toBe('{"10":0,"9":0,"B":0,"a":0,"b":0}');
  });

  it('handles nested arrays and objects, keeping array order', () => {
    const x = { z: [3, { y: true, x: null }, [1, 'a']], a: { d: { f: 'ü"\n', e: -1.5 }, c: [] } };
    const y = { a: { c: [], d: { e: -1.5, f: 'ü"\n' } }, z: [3, { x: null, y: true }, [1, 'a']] };
    const expected = '{"a":{"c":[],"d":{"e":-1.5,"f":"ü\\"\\n"}},"z":[3,{"x":null,"y":true},[1,"a"]]}';
    expect(canonicalJson(x)).toBe(expected);
    expect(canonicalJson(y)).toBe(expected);
    expect(canonicalJson([2, 1])).not.toBe(canonicalJson([1, 2]));
    expect(canonicalJson({})).toBe('{}');
    expect(canonicalJson('s')).toBe('"s"');
    expect(canonicalJson(false)).toBe('false');
    expect(canonicalJson(1e21)).toBe('1e+21');
    expect(canonicalJson(-0)).toBe('0');
    // A flat row of cells (written in one call) reads the same as element by element.
    expect(canonicalJson([1, 'a"', null, true, -0, 1e21, 0.1])).toBe('[1,"a\\"",null,true,0,1e+21,0.1]');
  });

  it('rejects NaN and ±Infinity anywhere', () => {
    expect(() => canonicalJson(Number.NaN)).toThrow(TypeError);
    expect(() => canonicalJson({ a: Number.POSITIVE_INFINITY })).toThrow(TypeError);
    expect(() => canonicalJson([1, [Number.NEGATIVE_INFINITY]])).toThrow(TypeError);
    expect(() => canonicalJson({ deep: { list: [0, Number.NaN] } })).toThrow(TypeError);
  });

  it('rejects undefined in arrays, functions, symbols and bigints', () => {
    expect(() => canonicalJson([1, undefined])).toThrow(TypeError);
    expect(() => canonicalJson(undefined)).toThrow(TypeError);
    expect(() => canonicalJson(() => 1)).toThrow(TypeError);
    expect(() => canonicalJson({ f: () => 1 })).toThrow(TypeError);
    expect(() => canonicalJson([Symbol('s')])).toThrow(TypeError);
    expect(() => canonicalJson({ n: 1n })).toThrow(TypeError);
  });

  it('omits undefined object members (like JSON.stringify)', () => {
    expect(canonicalJson({ a: 1, b: undefined, c: { d: undefined } })).toBe('{"a":1,"c":{}}');
    expect(canonicalJson({ a: 1, b: undefined })).toBe(canonicalJson({ a: 1 }));
  });
});
