import { type QueryKey, useMutation, useQueryClient } from '@tanstack/react-query';

/**
 * A change made through the API, then the cache entries it affects invalidated (refetched where
 * shown). The error stays on the mutation for the form to show; the form keeps what was typed.
 */
export function useApiMutation<Input, Output>(
  run: (input: Input) => Promise<Output>,
  invalidate: (input: Input, output: Output) => QueryKey[],
  onDone?: (output: Output, input: Input) => void,
) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: run,
    onSuccess: async (output, input) => {
      await Promise.all(
        invalidate(input, output).map((queryKey) => queryClient.invalidateQueries({ queryKey })),
      );
      onDone?.(output, input);
    },
  });
}

export function errorText(error: unknown): string | null {
  if (!error) return null;
  if (typeof error === 'object' && 'message' in error) return String((error as { message: unknown }).message);
  return 'The change failed.';
}
