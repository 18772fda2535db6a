import type { FastifyRequest } from 'fastify';
import { invalid, missing } from '../../../lib/errors.js';
import { parseJsonInput } from '../../../lib/json-input.js';
import { authorize } from '../../domain/auth.js';
import type { Role } from '../../../model/model.js';
import { DEFAULT_GROUP, PUBLIC_NAMESPACE } from '../../../model/model.js';

type Raw = Record<string, unknown>;

/** Whether a value is a plain JSON object. */
export function isObject(v: unknown): v is Raw {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function kind(v: unknown): string {
  return Array.isArray(v) ? 'an array' : v === null ? 'null' : `a ${typeof v}`;
}

const INTEGER = /^[+-]?\d+$/;
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
/** Nacos' fallback metadata syntax: `k1=v1,k2=v2`. */
const PAIRS = /^[^=,{]+=[^=,]+(,[^=,]+=[^=,]+)*$/;

/**
 * The parameters of a Nacos request. Nacos reads servlet parameters, so a parameter may come
 * in the query string or in a form or JSON body; the query string wins when both carry it, and
 * the first of repeated values counts. Blank values count as absent (Nacos' defaults apply).
 */
export class NacosParams {
  private readonly values: Raw;

  constructor(query: unknown, body: unknown) {
    if (body !== undefined && body !== null && !isObject(body)) throw invalid('body', `must be an object of parameters, got ${kind(body)}`);
    this.values = { ...(body ?? {}), ...(isObject(query) ? query : {}) };
  }

  /** The merged parameters of a request. */
  static of(req: FastifyRequest): NacosParams {
    return new NacosParams(req.query, req.body);
  }

  /** The value as sent (the first of repeated ones); undefined when absent or blank. */
  raw(name: string): unknown {
    let v = this.values[name];
    if (Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'string')) v = v[0];
    if (v === undefined || v === null || (typeof v === 'string' && v.trim() === '')) return undefined;
    return v;
  }

  has(name: string): boolean {
    return this.raw(name) !== undefined;
  }

  str(name: string): string | undefined {
    const v = this.raw(name);
    if (v === undefined) return undefined;
    if (typeof v === 'string') return v.trim();
    if (typeof v === 'number' || typeof v === 'boolean') return String(v);
    throw invalid(name, `must be a string, got ${kind(v)}`);
  }

  required(name: string): string {
    const v = this.str(name);
    if (v === undefined) throw missing(name);
    return v;
  }

  int(name: string): number | undefined {
    const v = this.raw(name);
    if (v === undefined) return undefined;
    const n = typeof v === 'number' ? v : typeof v === 'string' && INTEGER.test(v.trim()) ? Number(v) : NaN;
    if (!Number.isSafeInteger(n)) throw invalid(name, `must be an integer, got ${typeof v === 'string' ? `'${v}'` : kind(v)}`);
    return n;
  }

  requiredInt(name: string): number {
    const v = this.int(name);
    if (v === undefined) throw missing(name);
    return v;
  }

  /** A TCP port (1-65535): refused here, before any lookup, so no database sees an out-of-range integer. */
  port(name: string): number | undefined {
    const v = this.int(name);
    if (v !== undefined && (v < 1 || v > 65535)) throw invalid(name, `must be an integer from 1 to 65535, got ${v}`);
    return v;
  }

  requiredPort(name: string): number {
    const v = this.port(name);
    if (v === undefined) throw missing(name);
    return v;
  }

  num(name: string): number | undefined {
    const v = this.raw(name);
    if (v === undefined) return undefined;
    const n = typeof v === 'number' ? v : typeof v === 'string' && NUMBER.test(v.trim()) ? Number(v) : NaN;
    if (!Number.isFinite(n)) throw invalid(name, `must be a number, got ${typeof v === 'string' ? `'${v}'` : kind(v)}`);
    return n;
  }

  bool(name: string): boolean | undefined {
    const v = this.raw(name);
    if (v === undefined) return undefined;
    if (typeof v === 'boolean') return v;
    const s = typeof v === 'string' ? v.trim().toLowerCase() : undefined;
    if (s === 'true') return true;
    if (s === 'false') return false;
    throw invalid(name, `must be true or false, got ${typeof v === 'string' ? `'${v}'` : kind(v)}`);
  }

  /** A JSON-valued parameter: a JSON text (form, query; nesting limited as bodies are) or already a value (JSON body). */
  json(name: string): unknown {
    const v = this.raw(name);
    if (typeof v !== 'string') return v;
    return parseJsonInput(v, name);
  }

  /** A metadata map: a JSON object (values as strings), or Nacos' `k1=v1,k2=v2` form. */
  metadata(name = 'metadata'): Record<string, string> | undefined {
    const v = this.raw(name);
    if (v === undefined) return undefined;
    if (typeof v === 'string' && PAIRS.test(v.trim())) {
      return Object.fromEntries(v.trim().split(',').map((pair) => pair.split('=') as [string, string]));
    }
    return stringMap(name, this.json(name));
  }

  /** The namespace, `public` when absent or blank. */
  namespace(): string {
    return this.str('namespaceId') ?? PUBLIC_NAMESPACE;
  }

  /** The service's group and name; `serviceName` may be `group@@name`, which wins over `groupName`. */
  service(): { group: string; service: string } {
    const raw = this.required('serviceName');
    if (!raw.includes('@@')) return { group: this.str('groupName') ?? DEFAULT_GROUP, service: raw };
    const parts = raw.split('@@');
    if (parts.length !== 2 || !parts[0] || !parts[1]) throw invalid('serviceName', `'${raw}' must be 'groupName@@serviceName'`);
    return { group: parts[0], service: parts[1] };
  }

  /** The cluster: `clusterName`, else `cluster`, else the default. */
  cluster(fallback: string): string {
    return this.str('clusterName') ?? this.str('cluster') ?? fallback;
  }
}

/** A JSON object whose values become strings (Jackson reads numbers and booleans into a Map<String,String>). */
export function stringMap(name: string, v: unknown): Record<string, string> {
  if (!isObject(v)) throw invalid(name, `must be a JSON object of strings, got ${kind(v)}`);
  const out: Record<string, string> = {};
  for (const [k, value] of Object.entries(v)) {
    if (typeof value === 'string') out[k] = value;
    else if (typeof value === 'number' || typeof value === 'boolean') out[k] = String(value);
    else if (value !== null) throw invalid(`${name}.${k}`, `must be a string, got ${kind(value)}`);
  }
  return out;
}

/** A request's parameters and namespace, after checking the caller holds `need` there (before anything else is read). */
export function scope(req: FastifyRequest, need: Role): { p: NacosParams; ns: string } {
  const p = NacosParams.of(req);
  const ns = p.namespace();
  authorize(req.principal, ns, need);
  return { p, ns };
}
