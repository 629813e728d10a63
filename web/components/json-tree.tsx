/** The collapsible JSON tree (loaded on demand by json-view.tsx): objects and arrays fold with <details>. */
export default function JsonTree({ value }: { value: unknown }) {
  return (
    <div className="json json-tree">
      <Node value={value} depth={0} />
    </div>
  );
}

function Node({ value, depth, name }: { value: unknown; depth: number; name?: string }) {
  const key = name === undefined ? null : <span className="json-key">{JSON.stringify(name)}: </span>;
  if (value === null || typeof value !== 'object') {
    return (
      <div className="json-line">
        {key}
        <span className={`json-${value === null ? 'null' : typeof value}`}>{JSON.stringify(value)}</span>
      </div>
    );
  }
  const entries = Array.isArray(value)
    ? value.map((item, index) => [String(index), item] as const)
    : Object.entries(value as Record<string, unknown>);
  const [open, close] = Array.isArray(value) ? ['[', ']'] : ['{', '}'];
  if (entries.length === 0)
    return (
      <div className="json-line">
        {key}
        {open}
        {close}
      </div>
    );
  return (
    <details open={depth < 3} className="json-node">
      <summary>
        {key}
        {open}
        <span className="muted">
          {' '}
          {entries.length} {entries.length === 1 ? 'item' : 'items'}{' '}
        </span>
      </summary>
      <div className="json-children">
        {entries.map(([childName, child]) => (
          <Node
            key={childName}
            value={child}
            depth={depth + 1}
            {...(Array.isArray(value) ? {} : { name: childName })}
          />
        ))}
      </div>
      <div className="json-line">{close}</div>
    </details>
  );
}
