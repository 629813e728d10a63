/** Parsing of the endpoint and application forms' free-text fields (pure, shared). */
export type Parsed<T> = { ok: true; value: T } | { ok: false; message: string };

/** A JSON object whose values are strings (metadata, headers); empty text is `{}`. */
export function parseJsonObject(text: string): Parsed<Record<string, string>> {
  if (text.trim() === '') return { ok: true, value: {} };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, message: 'not valid JSON' };
  }
  if (!value || typeof value !== 'object' || Array.isArray(value))
    return { ok: false, message: 'must be a JSON object' };
  for (const [key, item] of Object.entries(value)) {
    if (typeof item !== 'string') return { ok: false, message: `the value of ${key} must be a string` };
  }
  return { ok: true, value: value as Record<string, string> };
}

/** Comma- or space-separated names; empty is null (= all). */
export function parseList(text: string): string[] | null {
  const items = text
    .split(/[\s,]+/)
    .map((item) => item.trim())
    .filter(Boolean);
  return items.length === 0 ? null : [...new Set(items)];
}
