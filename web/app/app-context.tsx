import { createContext, useContext } from 'react';
import type { Api } from '../api/client.ts';
import type { PageLoader } from './page-loader.tsx';

/**
 * What every component may need from the page it runs in: the API client (its transport differs
 * between server and browser), the session's CSRF token (for the sign-out form), and the page loader.
 * Made once per request on the server and once per page load in the browser, never a module global.
 */
export interface AppContextValue {
  readonly api: Api;
  readonly csrfToken: string;
  readonly pages: PageLoader;
  /**
   * In the App Portal: what its token may do (Svix's capabilities; the API enforces them, pages use
   * them to show only what works). Absent on the dashboard, where the admin may do everything.
   */
  readonly capabilities?: readonly string[] | undefined;
}

export const AppContext = createContext<AppContextValue | null>(null);

export function useAppContext(): AppContextValue {
  const value = useContext(AppContext);
  if (!value) throw new Error('useAppContext outside <AppContext>');
  return value;
}

export function useApi(): Api {
  return useAppContext().api;
}

/**
 * `can('ManageEndpoint')`: whether the page may offer that action. Several names: any of them. Always
 * true on the dashboard.
 */
export function useCan(): (...capabilities: string[]) => boolean {
  const granted = useAppContext().capabilities;
  return (...capabilities) => granted === undefined || capabilities.some((name) => granted.includes(name));
}

/** True in the App Portal (pages leave out operator-only links such as the application list). */
export function useInPortal(): boolean {
  return useAppContext().capabilities !== undefined;
}
