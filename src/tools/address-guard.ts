/**
 * Refuses backend requests to link-local and cloud-metadata addresses (SSRF to instance
 * credentials). Literal IPs are checked from the URL's normalized host; host names are
 * resolved (all addresses, cached briefly) and refused when any address is a metadata one.
 * `guardedLookup` closes the window between that check and the connect when it is installed
 * as the `connect.lookup` of the process's undici Agent.
 *
 * Hosts that tool arguments choose (a templated URL host) are held to more: no loopback,
 * private or reserved address, no address of the gateway's machine, and never the gateway's
 * or its registry's own endpoints (`ArgumentHostGuard`), checked before the request and again
 * on the addresses the connection is made to.
 */
import { lookup as dnsLookup } from 'node:dns';
import type { LookupAddress, LookupAllOptions, LookupOptions } from 'node:dns';
import { BlockList, isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import { Agent, buildConnector } from 'undici';
import type { Dispatcher } from 'undici';

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

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

/** Private, shared, unspecified, multicast and reserved ranges: never where an argument may send a request. */
const PRIVATE = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['172.16.0.0', 12], ['192.0.0.0', 24], ['192.168.0.0', 16],
  ['198.18.0.0', 15], ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) PRIVATE.addSubnet(net, bits, 'ipv4');
for (const [net, bits] of [['::', 128], ['fc00::', 7], ['fec0::', 10], ['ff00::', 8], ['64:ff9b:1::', 48], ['100::', 64]] as const) PRIVATE.addSubnet(net, bits, 'ipv6');

/** Sixteen-bit groups of an IPv6 address (any textual form Node accepts). */
function ipv6Groups(ip: string): number[] | undefined {
  let host: string;
  try {
    host = new URL(`http://[${ip}]/`).hostname.slice(1, -1);
  } catch {
    return undefined;
  }
  const [head = '', tail] = host.split('::');
  const parse = (part: string): number[] => (part === '' ? [] : part.split(':').map((g) => parseInt(g, 16)));
  const h = parse(head);
  const t = tail === undefined ? [] : parse(tail);
  return [...h, ...new Array<number>(8 - h.length - t.length).fill(0), ...t];
}

/** The IPv4 address an IPv6 one carries (mapped, compatible, NAT64 64:ff9b::/96, 6to4 2002::/16), if any. */
function embeddedIPv4(ip: string): string | undefined {
  const g = ipv6Groups(ip);
  if (!g || g.length !== 8) return undefined;
  const v4 = (hi: number, lo: number): string => `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;
  const zeros = (from: number, to: number): boolean => g.slice(from, to).every((x) => x === 0);
  if (zeros(0, 5) && (g[5] === 0xffff || (g[5] === 0 && (g[6] !== 0 || (g[7] as number) > 1)))) return v4(g[6] as number, g[7] as number);
  if (g[0] === 0x64 && g[1] === 0xff9b && zeros(2, 6)) return v4(g[6] as number, g[7] as number);
  if (g[0] === 0x2002) return v4(g[1] as number, g[2] as number);
  return undefined;
}

/** What kind of address a host chosen by arguments resolved to, when it is one they may not reach. */
export type RefusedAddressKind = 'metadata' | 'loopback' | 'private';

/**
 * Classifies an IP address: metadata (link-local, cloud metadata), loopback, private (RFC 1918,
 * CGNAT, ULA, unspecified, multicast, reserved), also in IPv6 forms that carry an IPv4 address;
 * undefined for a public address or a string that is not an IP.
 */
export function addressKind(ip: string): RefusedAddressKind | undefined {
  const bare = ip.startsWith('[') && ip.endsWith(']') ? ip.slice(1, -1) : ip;
  const family = isIP(bare);
  if (family === 0) return undefined;
  const type = family === 4 ? 'ipv4' : 'ipv6';
  if (METADATA.check(bare, type)) return 'metadata';
  if (LOOPBACK.check(bare, type)) return 'loopback';
  if (PRIVATE.check(bare, type)) return 'private';
  if (family === 6) {
    const v4 = embeddedIPv4(bare);
    if (v4 !== undefined) return addressKind(v4);
  }
  return undefined;
}

const LOCAL_TTL_MS = 60_000;
let localCache: { addresses: ReadonlySet<string>; until: number } | undefined;

/** The addresses of this machine's network interfaces (refreshed every minute). */
function localAddresses(): ReadonlySet<string> {
  if (localCache && localCache.until > Date.now()) return localCache.addresses;
  const addresses = new Set<string>();
  for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) addresses.add(canonical(a.address.replace(/%.*$/, '')));
  localCache = { addresses, until: Date.now() + LOCAL_TTL_MS };
  return addresses;
}

/** One spelling per address, so that addresses compare as strings. */
function canonical(ip: string): string {
  const bare = ip.startsWith('[') && ip.endsWith(']') ? ip.slice(1, -1) : ip;
  if (isIP(bare) !== 6) return bare;
  const v4 = embeddedIPv4(bare);
  const g = ipv6Groups(bare);
  if (v4 !== undefined && g?.[5] === 0xffff) return v4;
  return g ? g.map((x) => x.toString(16)).join(':') : bare;
}

function isLocalAddress(ip: string): boolean {
  const c = canonical(ip);
  const kind = addressKind(c);
  return kind === 'loopback' || c === '0.0.0.0' || c === '0:0:0:0:0:0:0:0' || localAddresses().has(c);
}

function resolveAddresses(hostname: string): Promise<string[]> {
  const bare = hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
  if (isIP(bare) !== 0) return Promise.resolve([bare]);
  return resolveAll(bare).then((list) => list.map((a) => a.address));
}

/**
 * The endpoints of this gateway and of the registry it belongs to: ports it listens on (on any
 * of this machine's addresses) and registry URLs it follows. A host chosen by arguments may
 * never be one of them, whatever the server allows.
 */
export class OwnEndpoints {
  private readonly localPorts = new Set<number>();
  private readonly remote: { readonly host: string; readonly port: number }[] = [];
  private readonly resolved = new Map<string, { addresses: ReadonlySet<string>; until: number }>();

  /** A port this process listens on. */
  addLocalPort(port: number): void {
    if (port > 0) this.localPorts.add(port);
  }

  /** A registry (or other own service) by URL: its port on this machine, or its resolved addresses elsewhere. */
  addUrl(url: string): void {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return;
    }
    const port = Number(parsed.port) || (parsed.protocol === 'https:' ? 443 : 80);
    const host = parsed.hostname;
    const bare = host.startsWith('[') ? host.slice(1, -1) : host;
    if (bare === 'localhost' || (isIP(bare) !== 0 && isLocalAddress(bare))) this.addLocalPort(port);
    else this.remote.push({ host: bare, port });
  }

  /** Whether `address:port` (a resolved address) is one of these endpoints. */
  async includes(address: string, port: number): Promise<boolean> {
    if (this.localPorts.has(port) && isLocalAddress(address)) return true;
    const c = canonical(address);
    for (const r of this.remote) {
      if (r.port !== port) continue;
      if (isIP(r.host) !== 0 ? canonical(r.host) === c : (await this.addressesOf(r.host)).has(c)) return true;
    }
    return false;
  }

  private async addressesOf(host: string): Promise<ReadonlySet<string>> {
    const hit = this.resolved.get(host);
    if (hit && hit.until > Date.now()) return hit.addresses;
    let addresses: ReadonlySet<string>;
    try {
      addresses = new Set((await resolveAddresses(host)).map(canonical));
    } catch {
      addresses = new Set();
    }
    this.resolved.set(host, { addresses, until: Date.now() + DNS_TTL_MS });
    return addresses;
  }
}

/** What a server allows the hosts its tools' arguments choose. */
export interface ArgumentHostPolicy {
  /** Loopback, private and reserved addresses, and this machine's (not its own endpoints). */
  readonly allowPrivate: boolean;
  /** Link-local and cloud-metadata addresses. */
  readonly allowMetadata: boolean;
}

/** Calling hosts chosen by arguments under one server's policy. */
export interface ArgumentHostAccess {
  /** Why `hostname:port` may not be called (its DNS answer checked, cached briefly); undefined when it may. */
  check(hostname: string, port: number): Promise<HostVerdict>;
  /** A dispatcher whose connections are made only to addresses that pass the same check. */
  readonly dispatcher: Dispatcher;
}

/** A connection refused because a host chosen by arguments resolved to an address they may not reach. */
export class ArgumentHostRefused extends Error {
  override readonly name = 'ArgumentHostRefused';
  readonly code = 'EARGUMENTHOST';
}

/**
 * Checks hosts chosen by tool arguments and connects to them: one undici Agent per policy, whose
 * connector resolves the name, refuses it when any address may not be reached, and connects to
 * the checked address (TLS still verifies the name), so a DNS answer cannot change in between.
 */
export class ArgumentHostGuard {
  private readonly agents = new Map<string, Agent>();
  private readonly answers = new Map<string, { addresses: readonly string[]; until: number }>();

  constructor(readonly own: OwnEndpoints = new OwnEndpoints()) {}

  /** Why `address:port` may not be reached under `policy`, or undefined. */
  async verdict(address: string, port: number, policy: ArgumentHostPolicy): Promise<HostVerdict> {
    const kind = addressKind(address);
    if (kind === 'metadata' && !policy.allowMetadata) return `resolves to a link-local or cloud-metadata address (${address})`;
    if (await this.own.includes(address, port)) return `${address}:${port} is an endpoint of this gateway or its registry`;
    if (policy.allowPrivate) return undefined;
    if (kind === 'loopback') return `resolves to a loopback address (${address})`;
    if (kind === 'private') return `resolves to a private or reserved address (${address})`;
    if (isLocalAddress(address)) return `resolves to an address of the gateway's machine (${address})`;
    return undefined;
  }

  /** Resolves `hostname` (answers cached 10 s) and checks every address; undefined when it may be called. */
  async check(hostname: string, port: number, policy: ArgumentHostPolicy): Promise<HostVerdict> {
    let addresses: readonly string[];
    const hit = this.answers.get(hostname);
    if (hit && hit.until > Date.now()) addresses = hit.addresses;
    else {
      try {
        addresses = await resolveAddresses(hostname);
      } catch {
        return undefined; // the connection fails with the DNS error
      }
      if (this.answers.size >= CACHE_LIMIT) this.answers.clear();
      this.answers.set(hostname, { addresses, until: Date.now() + DNS_TTL_MS });
    }
    for (const a of addresses) {
      const why = await this.verdict(a, port, policy);
      if (why !== undefined) return why;
    }
    return undefined;
  }

  /** The check and the dispatcher of one policy. */
  access(policy: ArgumentHostPolicy): ArgumentHostAccess {
    return { check: (hostname, port) => this.check(hostname, port, policy), dispatcher: this.dispatcher(policy) };
  }

  /** The Agent of one policy (created once). */
  dispatcher(policy: ArgumentHostPolicy): Dispatcher {
    const key = `${policy.allowPrivate}/${policy.allowMetadata}`;
    let agent = this.agents.get(key);
    if (!agent) {
      const base = buildConnector({});
      const connect: buildConnector.connector = (options, callback) => {
        const port = Number(options.port) || (options.protocol === 'https:' ? 443 : 80);
        resolveAddresses(options.hostname).then(async (addresses) => {
          for (const a of addresses) {
            const why = await this.verdict(a, port, policy);
            if (why !== undefined) throw new ArgumentHostRefused(`${options.hostname} ${why}`);
          }
          const first = addresses[0];
          if (first === undefined) throw Object.assign(new Error(`no address for ${options.hostname}`), { code: 'ENOTFOUND' });
          base({ ...options, hostname: first }, callback);
        }).catch((err: unknown) => callback(err instanceof Error ? err : new Error(String(err)), null));
      };
      agent = new Agent({ keepAliveTimeout: 30_000, connections: 64, pipelining: 1, connect });
      this.agents.set(key, agent);
    }
    return agent;
  }

  /** Closes the Agents. */
  async close(): Promise<void> {
    const agents = [...this.agents.values()];
    this.agents.clear();
    await Promise.all(agents.map((a) => a.close()));
  }
}
