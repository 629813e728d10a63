import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';

/**
 * Certificates made at test time with the `openssl` CLI (no private key is committed): a CA that
 * signs the receiver's certificate (for 127.0.0.1), a second CA that signs client certificates, and
 * two client certificates. Undefined when openssl is not installed, so tests can skip with a reason.
 */
export interface TlsFixtures {
  serverCa: string;
  serverCert: string;
  serverKey: string;
  clientCa: string;
  clientCert: string;
  clientKey: string;
  /** Another client identity, signed by the same client CA. */
  otherClientCert: string;
  otherClientKey: string;
  /** A key that belongs to no certificate here. */
  strayKey: string;
}

export const OPENSSL_MISSING =
  'the openssl CLI is not installed: the TLS tests make their certificates with it';

function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

let made: TlsFixtures | undefined;

export function tlsFixtures(): TlsFixtures | undefined {
  if (made) return made;
  if (!hasOpenssl()) return undefined;
  const dir = mkdtempSync(join(tmpdir(), 'hookyard-tls-'));
  try {
    const run = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
    const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
    const ca = (name: string) =>
      run(
        'req',
        '-x509',
        ...ec,
        '-keyout',
        `${name}.key`,
        '-out',
        `${name}.crt`,
        '-days',
        '2',
        '-subj',
        `/CN=${name}`,
      );
    const leaf = (name: string, issuer: string, ext: string) => {
      writeFileSync(join(dir, `${name}.ext`), ext);
      run('req', ...ec, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`);
      run(
        'x509',
        '-req',
        '-in',
        `${name}.csr`,
        '-CA',
        `${issuer}.crt`,
        '-CAkey',
        `${issuer}.key`,
        '-CAcreateserial',
        '-out',
        `${name}.crt`,
        '-days',
        '2',
        '-extfile',
        `${name}.ext`,
      );
    };
    ca('hookyard-test-server-ca');
    ca('hookyard-test-client-ca');
    leaf(
      'hookyard-test-receiver',
      'hookyard-test-server-ca',
      'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n',
    );
    leaf('hookyard-test-client', 'hookyard-test-client-ca', 'extendedKeyUsage=clientAuth\n');
    leaf('hookyard-test-other-client', 'hookyard-test-client-ca', 'extendedKeyUsage=clientAuth\n');
    run('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-out', 'stray.key');
    const read = (file: string) => readFileSync(join(dir, file), 'utf8');
    made = {
      serverCa: read('hookyard-test-server-ca.crt'),
      serverCert: read('hookyard-test-receiver.crt'),
      serverKey: read('hookyard-test-receiver.key'),
      clientCa: read('hookyard-test-client-ca.crt'),
      clientCert: read('hookyard-test-client.crt'),
      clientKey: read('hookyard-test-client.key'),
      otherClientCert: read('hookyard-test-other-client.crt'),
      otherClientKey: read('hookyard-test-other-client.key'),
      strayKey: read('stray.key'),
    };
    return made;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface TlsDelivery {
  body: string;
  /** The CN of the client certificate presented, or null without one. */
  clientCn: string | null;
}

export interface TlsReceiver {
  readonly url: string;
  readonly deliveries: TlsDelivery[];
  /** TLS handshakes that failed (no or an untrusted client certificate). */
  readonly refusals: string[];
  close(): Promise<void>;
}

/**
 * An HTTPS receiver on 127.0.0.1 with a certificate of the test server CA (not a public one);
 * `requireClientCert` makes it refuse any client without a certificate of the test client CA.
 */
export async function startTlsReceiver(
  fixtures: TlsFixtures,
  options: { requireClientCert: boolean },
): Promise<TlsReceiver> {
  const deliveries: TlsDelivery[] = [];
  const refusals: string[] = [];
  const server: Server = createServer(
    {
      key: fixtures.serverKey,
      cert: fixtures.serverCert,
      ca: fixtures.clientCa,
      requestCert: options.requireClientCert,
      rejectUnauthorized: options.requireClientCert,
    },
    (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const peer = (req.socket as TLSSocket).getPeerCertificate();
        const cn = peer && 'subject' in peer && peer.subject ? String(peer.subject.CN) : null;
        deliveries.push({ body: Buffer.concat(chunks).toString('utf8'), clientCn: cn });
        res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      });
    },
  );
  server.on('tlsClientError', (error) => refusals.push(error.message));
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `https://127.0.0.1:${port}`,
    deliveries,
    refusals,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
