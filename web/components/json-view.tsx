import { lazy, Suspense } from 'react';
import { useHydrated } from './use-hydrated.ts';

const JsonTree = lazy(() => import('./json-tree.tsx'));

/**
 * A JSON value, pretty-printed. The server (and a browser without JavaScript) shows formatted text;
 * once hydrated the collapsible tree is loaded on demand, in its own chunk.
 */
export function JsonView({ value, label }: { value: unknown; label: string }) {
  const hydrated = useHydrated();
  const text = JSON.stringify(value, null, 2) ?? 'undefined';
  const plain = <pre className="json">{text}</pre>;
  return (
    // A labelled region that takes focus: long payloads scroll, and scrolling must work by keyboard.
    // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable region has to be focusable (WCAG 2.1.1)
    <section className="json-wrap" aria-label={label} tabIndex={0}>
      {hydrated ? (
        <Suspense fallback={plain}>
          <JsonTree value={value} />
        </Suspense>
      ) : (
        plain
      )}
    </section>
  );
}
