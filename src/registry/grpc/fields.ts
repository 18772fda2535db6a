/**
 * Reading the fields of a request's JSON body: each getter checks the type and names the field
 * in the error (VALIDATION_FAILED / PARAMETER_MISSING), so that bad input never reaches the
 * domain services half-read.
 */
import { AppError, invalid, missing } from '../../lib/errors.js';
import { PUBLIC_NAMESPACE } from '../../model/model.js';

/** A request body: a JSON object. */
export type Body = Record<string, unknown>;

function isObject(v: unknown): v is Body {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The value at `name` of `body`, own properties only. */
function at(body: Body, name: string): unknown {
  return Object.hasOwn(body, name) ? body[name] : undefined;
}

/** A string field; undefined when absent or null. */
export function optString(body: Body, name: string, path = name): string | undefined {
  const v = at(body, name);
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw invalid(path, `must be a string, got ${typeof v}`);
  return v;
}

/** A non-empty string field. */
export function reqString(body: Body, name: string, path = name): string {
  const v = optString(body, name, path);
  if (v === undefined || v === '') throw missing(path);
  return v;
}

/** An integer field (numbers, or digits in a string, as Jackson accepts). */
export function optInt(body: Body, name: string, path = name): number | undefined {
  const v = at(body, name);
  if (v === undefined || v === null) return undefined;
  const n = typeof v === 'string' && /^-?\d{1,15}$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n)) throw invalid(path, `must be an integer, got ${JSON.stringify(v)?.slice(0, 40)}`);
  return n;
}

/** A number field. */
export function optNumber(body: Body, name: string, path = name): number | undefined {
  const v = at(body, name);
  if (v === undefined || v === null) return undefined;
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isFinite(n)) throw invalid(path, `must be a number, got ${JSON.stringify(v)?.slice(0, 40)}`);
  return n;
}

/** A boolean field (true/false, or their strings). */
export function optBool(body: Body, name: string, path = name): boolean | undefined {
  const v = at(body, name);
  if (v === undefined || v === null) return undefined;
  if (v === 'true') return true;
  if (v === 'false') return false;
  if (typeof v !== 'boolean') throw invalid(path, `must be a boolean, got ${JSON.stringify(v)?.slice(0, 40)}`);
  return v;
}

/** An object field. */
export function optObject(body: Body, name: string, path = name): Body | undefined {
  const v = at(body, name);
  if (v === undefined || v === null) return undefined;
  if (!isObject(v)) throw invalid(path, 'must be an object');
  return v;
}

/** An array field of objects. */
export function optObjects(body: Body, name: string, path = name, max = 10_000): Body[] | undefined {
  const v = at(body, name);
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) throw invalid(path, 'must be an array');
  if (v.length > max) throw invalid(path, `at most ${max} entries, got ${v.length}`);
  return v.map((e, i) => {
    if (!isObject(e)) throw invalid(`${path}[${i}]`, 'must be an object');
    return e;
  });
}

/** A map of string values (instance metadata, labels). */
export function optStringMap(body: Body, name: string, path = name): Record<string, string> | undefined {
  const v = optObject(body, name, path);
  if (!v) return undefined;
  const out: Record<string, string> = {};
  for (const [k, value] of Object.entries(v)) {
    if (typeof value !== 'string') throw invalid(`${path}.${k}`, 'values must be strings');
    Object.defineProperty(out, k, { value, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/** The namespace a request names: Nacos clients send '' (or nothing) for `public`. */
export function namespaceOf(value: string | undefined): string {
  return value === undefined || value === '' ? PUBLIC_NAMESPACE : value;
}

/** Parse the JSON body of a frame into an object. */
export function parseBody(text: string, type: string, parse: (t: string, field: string) => unknown): Body {
  const v = text.trim() === '' ? {} : parse(text, 'body');
  if (!isObject(v)) throw new AppError('GRPC_MALFORMED_PAYLOAD', `the body of a ${type} must be a JSON object`, 'body');
  return v;
}

/**
 * The service name a request gives: Nacos clients may send it grouped (`group@@name`); then the
 * group in it must agree with `groupName` (when given).
 */
export function serviceOf(body: Body, fallbackGroup: string): { group: string; service: string } {
  const raw = reqString(body, 'serviceName');
  const groupName = optString(body, 'groupName');
  const at2 = raw.indexOf('@@');
  if (at2 < 0) return { group: groupName || fallbackGroup, service: raw };
  const group = raw.slice(0, at2);
  if (groupName && groupName !== group) throw invalid('groupName', `'${groupName}' does not match the group in serviceName '${raw}'`);
  return { group, service: raw.slice(at2 + 2) };
}
