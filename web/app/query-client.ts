import { QueryClient } from '@tanstack/react-query';
import { ApiFailure } from '../api/client.ts';

/**
 * One QueryClient per server request (never shared between visitors) and one per page load in the
 * browser. Server: no retries (a failed read renders its panel's error at once). Browser: data from
 * the server stays fresh for 15 s so hydration does not refetch it; a 4xx is not retried.
 */
export function createQueryClient(server: boolean): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: {
        staleTime: 15_000,
        retry: server
          ? false
          : (count, error) => !(error instanceof ApiFailure && error.status < 500) && count < 2,
        refetchOnWindowFocus: false,
      },
    },
  });
}
