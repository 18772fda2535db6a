/**
 * Refuses backend requests to link-local and cloud-metadata addresses (SSRF to instance
 * credentials). Literal IPs are checked from the URL's normalized host; host names are
 * resolved (all addresses, cached briefly) and refused when any address is a metadata one.
 * `guardedLookup` closes the window between that check and the connect when it is installed
 * as the `connect.lookup` of the process's undici Agent.
 */
import { lookup as dnsLookup } from 'node:dns';
import type { LookupAddress, LookupAllOptions, LookupOptions } from 'node:dns';
import { BlockList, isIP } from 'node:net';

const METADATA = new BlockList();
METADATA.addSubnet('169.254.0.0', 16, 'ipv4');
METADATA.addAddress('100.100.100.200', 'ipv4');
METADATA.addSubnet('fe80::', 10, 'ipv6');
METADATA.addAddress('fd00:ec2::254', 'ipv6');
METADATA.addSubnet('64:ff9b::a9fe:0', 112, 'ipv6');

/** Host names of metadata services, refused without resolving them. */
const METADATA_NAMES: ReadonlySet<string> = new Set(['metadata.google.internal', 'metadata.goog', 'metadata.azure.internal']);

const DNS_TTL_MS = 10_000;
const CACHE_LIMIT = 4096;

/** True for a link-local or cloud-metadata IP (169.254.0.0/16, fe80::/10, fd00:ec2::254, 100.100.100.200, mapped forms). */
export function isMetadataAddress(ip: string): boolean {
  const bare = ip.startsWith('[') && ip.endsWith(']') ? ip.slice(1, -1) : ip;
  const family = isIP(bare);
  if (family === 0) return false;
  return METADATA.check(bare, family === 4 ? 'ipv4' : 'ipv6');
}

/** True for a host name that designates a metadata service. */
export function isMetadataName(hostname: string): boolean {
  return METADATA_NAMES.has(hostname.toLowerCase().replace(/\.$/, ''));
}

function resolveAll(hostname: string): Promise<LookupAddress[]> {
  return new Promise((resolve, reject) => {
    dnsLookup(hostname, { all: true }, (err, addresses) => (err ? reject(err) : resolve(addresses)));
  });
}

/** Why a host is refused, or undefined when it may be called. */
export type HostVerdict = string | undefined;

/** Checks hosts against the metadata ranges, caching literal verdicts and DNS answers. */
export class AddressGuard {
  private readonly literal = new Map<string, HostVerdict>();
  private readonly resolved = new Map<string, { verdict: HostVerdict; until: number }>();

  /**
   * The verdict for a WHATWG-normalized hostname (`URL.hostname`, IPv6 in brackets): sync for
   * IP literals and known names, a promise when DNS must be asked.
   */
  check(hostname: string): HostVerdict | Promise<HostVerdict> {
    const known = this.literal.get(hostname);
    if (known !== undefined || this.literal.has(hostname)) return known;
    const bare = hostname.startsWith('[') ? hostname.slice(1, -1) : hostname;
    if (isIP(bare) !== 0 || isMetadataName(bare)) {
      const verdict = isMetadataAddress(bare) || isMetadataName(bare) ? `${hostname} is a link-local or cloud-metadata address` : undefined;
      if (this.literal.size >= CACHE_LIMIT) this.literal.clear();
      this.literal.set(hostname, verdict);
      return verdict;
    }
    const cached = this.resolved.get(hostname);
    if (cached && cached.until > Date.now()) return cached.verdict;
    return this.resolve(hostname);
  }

  private async resolve(hostname: string): Promise<HostVerdict> {
    let addresses: LookupAddress[];
    try {
      addresses = await resolveAll(hostname);
    } catch {
      return undefined;
    }
    const bad = addresses.find((a) => isMetadataAddress(a.address));
    const verdict = bad ? `${hostname} resolves to a link-local or cloud-metadata address` : undefined;
    if (this.resolved.size >= CACHE_LIMIT) this.resolved.clear();
    this.resolved.set(hostname, { verdict, until: Date.now() + DNS_TTL_MS });
    return verdict;
  }
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/** An error a guarded lookup answers for a metadata address. */
export class MetadataAddressError extends Error {
  override readonly name = 'MetadataAddressError';
  readonly code = 'EMETADATA';
}

/**
 * A `dns.lookup` replacement for undici's `connect.lookup` that fails with `EMETADATA` when a
 * name resolves to a metadata address, so the check and the connect use the same answer.
 */
export function guardedLookup(hostname: string, options: LookupOptions, callback: LookupCallback): void {
  if (isMetadataName(hostname)) {
    callback(new MetadataAddressError(`${hostname} is a cloud-metadata host`), '', 0);
    return;
  }
  dnsLookup(hostname, { ...options, all: true } as LookupAllOptions, (err, addresses) => {
    if (err) return callback(err, '', 0);
    if (addresses.some((a) => isMetadataAddress(a.address))) {
      return callback(new MetadataAddressError(`${hostname} resolves to a link-local or cloud-metadata address`), '', 0);
    }
    if ((options as LookupAllOptions).all) return callback(null, addresses);
    const first = addresses[0];
    if (!first) return callback(Object.assign(new Error(`no address for ${hostname}`), { code: 'ENOTFOUND' }), '', 0);
    callback(null, first.address, first.family);
  });
}
