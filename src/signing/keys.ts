import {
  createHmac,
  createPrivateKey,
  createPublicKey,
  createSecretKey,
  sign as edSign,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
} from 'node:crypto';

/**
 * Standard Webhooks key material. `whsec_` + base64 is a v1 (HMAC-SHA256) secret; `whsk_` + base64 of
 * the 32-byte ed25519 seed followed by the 32-byte public key is a v1a signing key, and `whpk_` + base64
 * of the public key is what receivers verify v1a with.
 */
export const SECRET_PREFIX = 'whsec_';
export const SIGNING_KEY_PREFIX = 'whsk_';
export const PUBLIC_KEY_PREFIX = 'whpk_';

/** Svix makes 24 random bytes; receivers' libraries accept anything the pattern below allows. */
const SECRET_BYTES = 24;
const SECRET_PATTERN = /^(whsec_)?[a-zA-Z0-9+/=]{32,100}$/;
const BASE64_PATTERN = /^[A-Za-z0-9+/]+={0,2}$/;

// DER headers that turn a raw ed25519 seed / public key into PKCS8 / SPKI for node:crypto (RFC 8410).
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_ED25519_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

// HMAC keys are held as KeyObjects: createHmac with a raw Buffer builds one on every call, which
// costs five times the signing itself for a 1 KB body.
export type SigningKey =
  | { readonly version: 'v1'; readonly hmacKey: KeyObject }
  | { readonly version: 'v1a'; readonly privateKey: KeyObject };

export type VerifyingKey =
  | { readonly version: 'v1'; readonly hmacKey: KeyObject }
  | { readonly version: 'v1a'; readonly publicKey: KeyObject };

export function generateSecret(): string {
  return SECRET_PREFIX + randomBytes(SECRET_BYTES).toString('base64');
}

/** A v1a key pair: `secretKey` (whsk_) signs, `publicKey` (whpk_) is handed to the receiver. */
export function generateSigningKeyPair(): { secretKey: string; publicKey: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const seed = privateKey.export({ format: 'der', type: 'pkcs8' }).subarray(PKCS8_ED25519_PREFIX.length);
  const pub = publicKey.export({ format: 'der', type: 'spki' }).subarray(SPKI_ED25519_PREFIX.length);
  return {
    secretKey: SIGNING_KEY_PREFIX + Buffer.concat([seed, pub]).toString('base64'),
    publicKey: PUBLIC_KEY_PREFIX + pub.toString('base64'),
  };
}

/** The `whpk_` public key matching a `whsk_` signing key, or undefined when it is not one. */
export function publicKeyOf(signingKey: string): string | undefined {
  const raw = decodeSigningKey(signingKey);
  return raw && PUBLIC_KEY_PREFIX + raw.subarray(32).toString('base64');
}

export type NormalisedSecret = { ok: true; secret: string } | { ok: false; reason: string };

/**
 * Accepts a user-supplied endpoint secret the way Svix does: `whsec_` optional, 32 to 100 base64
 * characters, at least 24 bytes once decoded. `whsk_` v1a keys are accepted when well formed.
 * Returns the stored form (always prefixed).
 */
export function normaliseSecret(input: string): NormalisedSecret {
  const value = input.trim();
  if (value.startsWith(SIGNING_KEY_PREFIX)) {
    return decodeSigningKey(value)
      ? { ok: true, secret: value }
      : {
          ok: false,
          reason: 'a whsk_ key must be base64 of a 32-byte ed25519 seed and its 32-byte public key',
        };
  }
  if (!SECRET_PATTERN.test(value)) {
    return { ok: false, reason: 'the secret must match ^(whsec_)?[a-zA-Z0-9+/=]{32,100}$' };
  }
  const body = value.startsWith(SECRET_PREFIX) ? value.slice(SECRET_PREFIX.length) : value;
  if (!BASE64_PATTERN.test(body) || Buffer.from(body, 'base64').length < SECRET_BYTES) {
    return { ok: false, reason: 'the secret must be base64 of at least 24 bytes' };
  }
  return { ok: true, secret: SECRET_PREFIX + body };
}

// Parsing a key (base64 decode, and for ed25519 building a KeyObject) is far dearer than signing a
// small payload, and the same few thousand keys sign every delivery: keep the parsed forms.
const CACHE_LIMIT = 10_000;
const signingCache = new Map<string, SigningKey | null>();
const verifyingCache = new Map<string, VerifyingKey | null>();

function cached<T>(cache: Map<string, T | null>, key: string, parse: () => T | undefined): T | undefined {
  let value = cache.get(key);
  if (value === undefined) {
    if (cache.size >= CACHE_LIMIT) cache.clear();
    value = parse() ?? null;
    cache.set(key, value);
  }
  return value ?? undefined;
}

/** Parses a stored `whsec_` or `whsk_` secret; undefined when it is neither. */
export function parseSigningKey(secret: string): SigningKey | undefined {
  return cached(signingCache, secret, () => {
    if (secret.startsWith(SECRET_PREFIX)) {
      const raw = decodeBase64(secret.slice(SECRET_PREFIX.length));
      return raw && { version: 'v1', hmacKey: createSecretKey(raw) };
    }
    const raw = decodeSigningKey(secret);
    if (!raw) return undefined;
    const privateKey = createPrivateKey({
      key: Buffer.concat([PKCS8_ED25519_PREFIX, raw.subarray(0, 32)]),
      format: 'der',
      type: 'pkcs8',
    });
    return { version: 'v1a', privateKey };
  });
}

/** Parses a receiver-side secret: `whsec_` (v1) or `whpk_` (v1a public key). */
export function parseVerifyingKey(secret: string): VerifyingKey | undefined {
  return cached(verifyingCache, secret, () => {
    if (secret.startsWith(SECRET_PREFIX)) {
      const raw = decodeBase64(secret.slice(SECRET_PREFIX.length));
      return raw && { version: 'v1', hmacKey: createSecretKey(raw) };
    }
    if (secret.startsWith(PUBLIC_KEY_PREFIX)) {
      const raw = decodeBase64(secret.slice(PUBLIC_KEY_PREFIX.length));
      if (raw?.length !== 32) return undefined;
      const publicKey = createPublicKey({
        key: Buffer.concat([SPKI_ED25519_PREFIX, raw]),
        format: 'der',
        type: 'spki',
      });
      return { version: 'v1a', publicKey };
    }
    return undefined;
  });
}

/** One `<version>,<base64>` signature entry over `${id}.${timestamp}.${body}`. */
export function signWith(key: SigningKey, content: Buffer | string): string {
  if (key.version === 'v1') {
    return `v1,${createHmac('sha256', key.hmacKey).update(content).digest('base64')}`;
  }
  return `v1a,${edSign(null, typeof content === 'string' ? Buffer.from(content) : content, key.privateKey).toString('base64')}`;
}

function decodeSigningKey(value: string): Buffer | undefined {
  if (!value.startsWith(SIGNING_KEY_PREFIX)) return undefined;
  const raw = decodeBase64(value.slice(SIGNING_KEY_PREFIX.length));
  if (raw?.length !== 64) return undefined;
  // A key whose second half is not the seed's public key would sign with one key and advertise another.
  const derived = createPublicKey(
    createPrivateKey({
      key: Buffer.concat([PKCS8_ED25519_PREFIX, raw.subarray(0, 32)]),
      format: 'der',
      type: 'pkcs8',
    }),
  )
    .export({ format: 'der', type: 'spki' })
    .subarray(SPKI_ED25519_PREFIX.length);
  return derived.equals(raw.subarray(32)) ? raw : undefined;
}

function decodeBase64(text: string): Buffer | undefined {
  if (!BASE64_PATTERN.test(text)) return undefined;
  const bytes = Buffer.from(text, 'base64');
  return bytes.length > 0 ? bytes : undefined;
}
