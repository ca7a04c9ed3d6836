/** The code a call throws with ('no error' if it returns, 'no code' for a plain Error). */
export function thrownCode(f: () => unknown): string {
  try {
    f();
    return 'no error';
  } catch (e) {
    return (e as { code?: string }).code ?? 'no code';
  }
}
