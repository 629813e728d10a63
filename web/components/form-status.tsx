import { errorText } from './mutation.ts';

/** What a form's last submission did: the API's message on failure (the input is kept), or a note. */
export function FormStatus(props: { error: unknown; success?: string | null | undefined }) {
  const message = errorText(props.error);
  if (message)
    return (
      <p className="form-error" role="alert">
        {message}
      </p>
    );
  if (props.success)
    return (
      <p className="form-ok" role="status">
        {props.success}
      </p>
    );
  return null;
}
