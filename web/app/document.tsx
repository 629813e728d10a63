import type { ReactNode } from 'react';

/**
 * The whole HTML document, rendered by React on the server and hydrated as `document` in the browser.
 * `state` is the JSON the browser needs to render the same tree (dehydrated queries, CSRF token,
 * asset links); it travels in a non-executable JSON script, escaped so it cannot close the element.
 */
export interface DocumentAssets {
  stylesheets: string[];
  preloads: string[];
}

export function serializeState(state: unknown): string {
  return JSON.stringify(state)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

export function Document(props: {
  assets: DocumentAssets;
  stateJson: string;
  children: ReactNode;
  /** The App Portal's: a fixed theme (`light`/`dark`) or the system's (`auto`, the dashboard's way). */
  theme?: 'light' | 'dark' | 'auto' | undefined;
  /** The App Portal's theme variables, in a style element carrying the response's nonce (server only). */
  styleCss?: string | undefined;
  nonce?: string | undefined;
}) {
  const fixed = props.theme === 'light' || props.theme === 'dark' ? props.theme : undefined;
  return (
    <html lang="en" data-theme={fixed}>
      <head>
        <meta charSet="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="color-scheme" content={fixed ?? 'light dark'} />
        {props.styleCss ? (
          // The browser hides a nonce from the DOM, so the hydrating render cannot repeat it.
          <style
            nonce={props.nonce}
            suppressHydrationWarning
            // biome-ignore lint/security/noDangerouslySetInnerHtml: checked values only (features/portal/theme.ts)
            dangerouslySetInnerHTML={{ __html: props.styleCss }}
          />
        ) : null}
        <link rel="icon" href="data:," />
        {props.assets.stylesheets.map((href) => (
          <link key={href} rel="stylesheet" href={href} />
        ))}
        {props.assets.preloads.map((href) => (
          <link key={href} rel="modulepreload" href={href} />
        ))}
      </head>
      <body>
        {props.children}
        <script
          id="hookyard-state"
          type="application/json"
          // biome-ignore lint/security/noDangerouslySetInnerHtml: escaped JSON (serializeState), not markup
          dangerouslySetInnerHTML={{ __html: props.stateJson }}
        />
      </body>
    </html>
  );
}
