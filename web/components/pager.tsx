import { Link, useLocation, useSearch } from 'wouter';

/**
 * Cursor pagination through the URL (`?iterator=`), so every page of a list is a link that works
 * without JavaScript and survives a reload; the server renders the page the cursor names.
 */
export function Pager(props: { iterator: string | null; done: boolean; label: string }) {
  const [location] = useLocation();
  const search = new URLSearchParams(useSearch());
  const current = search.get('iterator');
  const href = (iterator: string | null) => {
    const next = new URLSearchParams(search);
    if (iterator) next.set('iterator', iterator);
    else next.delete('iterator');
    const text = next.toString();
    return text ? `${location}?${text}` : location;
  };
  if (!current && props.done) return null;
  return (
    <nav className="pager" aria-label={`${props.label} pages`}>
      {current ? <Link href={href(null)}>First page</Link> : null}
      {!props.done && props.iterator ? <Link href={href(props.iterator)}>Next page</Link> : null}
    </nav>
  );
}
