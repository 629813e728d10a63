const TEXT: Record<number, string> = { 0: 'success', 1: 'pending', 2: 'fail', 3: 'sending', 4: 'canceled' };

/** A delivery or attempt status as a word and a colour (never colour alone). */
export function StatusBadge({ status }: { status: number }) {
  const text = TEXT[status] ?? String(status);
  return <span className={`badge badge-${text}`}>{text}</span>;
}

export function Badge({ tone, children }: { tone: 'ok' | 'warn' | 'bad' | 'muted'; children: string }) {
  return <span className={`badge badge-${tone}`}>{children}</span>;
}
