/**
 * Which names (config keys, header names, query parameters, log fields) hold credentials. One
 * rule for the registry's redaction, the console's "try it" masking and the logger: the name,
 * lower-cased with `-`, `_`, `.` and spaces removed, contains a word that is always a secret
 * (`password`, `secret`, `apikey`, `authorization`, `cookie`…) or ends with one that names one
 * at the end (`…token`, `…key`, `…auth`, `…pwd`). `maxTokens`, `tokenUrl` and `keyId` are not
 * secrets; `apiKey`, `X-Auth-Token`, `client_secret` and `GITHUB_PERSONAL_ACCESS_TOKEN` are.
 */

const CONTAINS = ['password', 'passwd', 'passphrase', 'secret', 'credential', 'apikey', 'privatekey', 'authorization', 'cookie', 'connectionstring', 'signature'];
const ENDS_WITH = ['token', 'key', 'auth', 'pwd', 'sig', 'dsn'];

const cache = new Map<string, boolean>();

/** Whether a field, header or parameter named `name` holds a credential. */
export function isSecretName(name: string): boolean {
  const hit = cache.get(name);
  if (hit !== undefined) return hit;
  const flat = name.toLowerCase().replace(/[-_.\s]/g, '');
  const secret = flat !== '' && (CONTAINS.some((w) => flat.includes(w)) || ENDS_WITH.some((w) => flat.endsWith(w)));
  if (cache.size > 10_000) cache.clear();
  cache.set(name, secret);
  return secret;
}

/** Values that are credentials whatever their name: mcpgate consumer keys (`mgk_`) and registry API tokens (`mgt_`). */
export const SECRET_VALUE = /^(mgk_|mgt_)/;
