/**
 * The portal's look, from the query string of its URL (what svix-react's `<AppPortal>` appends:
 * `darkMode`, `primaryColor`, `fontFamily`, `icon`) over the application's metadata (`portal.darkMode`,
 * `portal.primaryColor`, `portal.fontFamily`, `portal.icon`, `portal.title`). Every value is checked
 * here, since it ends up in a style sheet and an image address: a colour is 3, 6 or 8 hex digits, a
 * font a plain name, an icon an https (or same-origin) URL; anything else is ignored.
 */
export interface PortalTheme {
  /** `light`, `dark`, or `auto` (the visitor's system setting). */
  mode: 'light' | 'dark' | 'auto';
  primaryColor: string | null;
  fontFamily: string | null;
  icon: string | null;
  title: string | null;
}

export const DEFAULT_THEME: PortalTheme = {
  mode: 'light',
  primaryColor: null,
  fontFamily: null,
  icon: null,
  title: null,
};

function color(value: string | null | undefined): string | null {
  const text = (value ?? '').trim().replace(/^#/, '');
  return /^([0-9a-f]{3}|[0-9a-f]{6}|[0-9a-f]{8})$/i.test(text) ? `#${text.toLowerCase()}` : null;
}

function font(value: string | null | undefined): string | null {
  const text = (value ?? '').trim();
  return /^[A-Za-z0-9 _-]{1,64}$/.test(text) ? text : null;
}

function icon(value: string | null | undefined): string | null {
  const text = (value ?? '').trim();
  if (text === '' || text.length > 2048) return null;
  if (text.startsWith('/') && !text.startsWith('//')) return text;
  try {
    return new URL(text).protocol === 'https:' ? text : null;
  } catch {
    return null;
  }
}

function mode(value: string | null | undefined): PortalTheme['mode'] | null {
  const text = (value ?? '').trim().toLowerCase();
  if (text === 'true' || text === 'dark') return 'dark';
  if (text === 'auto') return 'auto';
  if (text === 'false' || text === 'light') return 'light';
  return null;
}

export function themeFrom(
  search: URLSearchParams,
  metadata: Readonly<Record<string, string>> = {},
): PortalTheme {
  const title = (metadata['portal.title'] ?? '').trim().slice(0, 80);
  return {
    mode: mode(search.get('darkMode')) ?? mode(metadata['portal.darkMode']) ?? DEFAULT_THEME.mode,
    primaryColor: color(search.get('primaryColor')) ?? color(metadata['portal.primaryColor']),
    fontFamily: font(search.get('fontFamily')) ?? font(metadata['portal.fontFamily']),
    icon: icon(search.get('icon')) ?? icon(metadata['portal.icon']),
    title: title === '' ? null : title,
  };
}

/** The custom properties the theme sets (the style sheet's `--accent`, `--focus`, font). */
export function themeVariables(theme: PortalTheme): Record<string, string> {
  const variables: Record<string, string> = {};
  if (theme.primaryColor) {
    variables['--accent'] = theme.primaryColor;
    variables['--focus'] = theme.primaryColor;
    variables['--accent-text'] = readableOn(theme.primaryColor);
  }
  if (theme.fontFamily) variables['--portal-font'] = `"${theme.fontFamily}", system-ui, sans-serif`;
  return variables;
}

/** `:root{…}` for the document's nonced style element (values already checked). */
export function themeCss(theme: PortalTheme): string {
  const entries = Object.entries(themeVariables(theme));
  return entries.length === 0
    ? ''
    : `:root:root:root{${entries.map(([name, value]) => `${name}:${value}`).join(';')}}`;
}

/** Black or white text on a button of that colour, whichever contrasts more (WCAG luminance). */
function readableOn(hex: string): string {
  const digits = hex.slice(1);
  const full = digits.length === 3 ? [...digits].map((d) => d + d).join('') : digits.slice(0, 6);
  const channel = (offset: number) => {
    const value = Number.parseInt(full.slice(offset, offset + 2), 16) / 255;
    return value <= 0.03928 ? value / 12.92 : ((value + 0.055) / 1.055) ** 2.4;
  };
  const luminance = 0.2126 * channel(0) + 0.7152 * channel(2) + 0.0722 * channel(4);
  return luminance > 0.179 ? '#000000' : '#ffffff';
}
