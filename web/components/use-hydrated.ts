import { useSyncExternalStore } from 'react';

const subscribe = () => () => {};

/**
 * false on the server and during hydration, true afterwards: for what only the browser knows (its
 * time zone, the DOM for a chart) without a hydration mismatch.
 */
export function useHydrated(): boolean {
  return useSyncExternalStore(
    subscribe,
    () => true,
    () => false,
  );
}
