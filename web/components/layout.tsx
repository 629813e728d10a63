import type { ReactNode } from 'react';
import { Link, useLocation } from 'wouter';
import { useAppContext } from '../app/app-context.tsx';

const NAV = [
  { href: '/', label: 'Overview' },
  { href: '/apps', label: 'Applications' },
  { href: '/messages', label: 'Messages' },
  { href: '/event-types', label: 'Event types' },
  { href: '/live', label: 'Live tail' },
];

/** The frame of every signed-in page: skip link, navigation, sign-out (a plain form: works without JS). */
export function Layout({ children }: { children: ReactNode }) {
  const [location] = useLocation();
  const { csrfToken } = useAppContext();
  // A message or attempt lives under its application's path but belongs to the explorer's section.
  const section = /^\/apps\/[^/]+\/messages\//.test(location) ? '/messages' : location;
  const current = (href: string) => (href === '/' ? section === '/' : section.startsWith(href));
  return (
    <>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="top">
        <Link href="/" className="brand">
          Hookyard
        </Link>
        <nav aria-label="Main">
          <ul>
            {NAV.map((item) => (
              <li key={item.href}>
                <Link href={item.href} aria-current={current(item.href) ? 'page' : undefined}>
                  {item.label}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
        <form method="post" action="/ui/logout" className="signout">
          <input type="hidden" name="csrf" value={csrfToken} />
          <button type="submit">Sign out</button>
        </form>
      </header>
      <main id="main" tabIndex={-1}>
        {children}
      </main>
    </>
  );
}
