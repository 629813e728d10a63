import { useState } from 'react';

/**
 * A destructive action that asks first: the button turns into a question with Confirm and Cancel, in
 * the page (keyboard and screen-reader friendly, no `window.confirm`).
 */
export function ConfirmButton(props: {
  label: string;
  question: string;
  confirmLabel?: string;
  onConfirm: () => void;
  disabled?: boolean;
  danger?: boolean;
}) {
  const [asking, setAsking] = useState(false);
  if (!asking)
    return (
      <button
        type="button"
        className={props.danger === false ? '' : 'danger'}
        disabled={props.disabled}
        onClick={() => setAsking(true)}
      >
        {props.label}
      </button>
    );
  return (
    <fieldset className="confirm">
      <legend>{props.question}</legend>
      <button
        type="button"
        className="danger"
        // biome-ignore lint/a11y/noAutofocus: focus moves to the question the user just opened
        autoFocus
        onClick={() => {
          setAsking(false);
          props.onConfirm();
        }}
      >
        {props.confirmLabel ?? 'Confirm'}
      </button>
      <button type="button" onClick={() => setAsking(false)}>
        Cancel
      </button>
    </fieldset>
  );
}
