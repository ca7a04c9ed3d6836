import { useCallback, useEffect, useState } from 'preact/hooks';

/** Calls `fetcher` when `deps` change; returns [data, error, reload]. */
export function useLoad(fetcher, deps) {
  const [state, setState] = useState({ data: null, error: null });
  const load = useCallback(() => {
    let live = true;
    fetcher().then(
      (data) => live && setState({ data, error: null }),
      (error) => live && setState({ data: null, error }),
    );
    return () => {
      live = false;
    };
  }, deps);
  useEffect(load, [load]);
  return [state.data, state.error, load];
}
