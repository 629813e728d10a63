import { useHydrated } from './use-hydrated.ts';

/**
 * A point in time: in the browser's own zone once hydrated (the server cannot know it, so it renders
 * UTC), with the exact ISO value on hover and in `dateTime`.
 */
export function Time({ value }: { value: string | null | undefined }) {
  const hydrated = useHydrated();
  if (!value) return <span className="muted">—</span>;
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return <span>{value}</span>;
  const text = hydrated
    ? date.toLocaleString(undefined, {
        year: 'numeric',
        month: 'short',
        day: 'numeric',
        hour: '2-digit',
        minute: '2-digit',
        second: '2-digit',
      })
    : `${date.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
  return (
    <time dateTime={value} title={value}>
      {text}
    </time>
  );
}
