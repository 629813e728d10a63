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
