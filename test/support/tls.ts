import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

/**
 * A self-signed EC certificate and key in `dir` (`NAME.crt`, `NAME.key`), made by openssl.
 * `altName` is the subjectAltName, e.g. "IP:127.0.0.1"; without it the certificate names only `cn`.
 */
export function selfSignedCert(
  dir: string,
  name: string,
  cn = 'localhost',
  altName?: string,
): { cert: string; key: string } {
  const cert = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  execFileSync(
    'openssl',
    [
      ...['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'],
      ...['-subj', `/CN=${cn}`, ...(altName ? ['-addext', `subjectAltName=${altName}`] : [])],
      ...['-days', '1', '-keyout', key, '-out', cert],
    ],
    { stdio: 'ignore' },
  );
  return { cert, key };
}
