import { Ajv } from 'ajv';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { validationSchema } from '../model/spec-validation.js';

const addFormats = addFormatsModule as unknown as (ajv: Ajv | Ajv2020) => void;
const OPTIONS = { strict: false, allErrors: false, useDefaults: true, coerceTypes: false, validateSchema: false } as const;

/** Checks a tool call's arguments; answers the problem, naming the argument, or undefined when they are valid. */
export type ArgsValidator = (args: Record<string, unknown>) => string | undefined;

function describe(e: ErrorObject): string {
  const path = e.instancePath.split('/').filter(Boolean).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~')).join('.');
  if (e.keyword === 'required') {
    const name = String((e.params as { missingProperty?: string }).missingProperty);
    return `missing required argument '${path ? `${path}.` : ''}${name}'`;
  }
  if (e.keyword === 'additionalProperties') {
    const name = String((e.params as { additionalProperty?: string }).additionalProperty);
    return `unexpected argument '${path ? `${path}.` : ''}${name}'`;
  }
  const allowed = e.keyword === 'enum' ? `: ${JSON.stringify((e.params as { allowedValues?: unknown[] }).allowedValues)}` : '';
  return path ? `argument '${path}' ${e.message ?? 'is invalid'}${allowed}` : `arguments ${e.message ?? 'are invalid'}${allowed}`;
}

/**
 * Compiles input schemas into argument validators, once per snapshot. draft-07 when the
 * schema says so, JSON Schema 2020-12 otherwise (the MCP default). Defaults are filled in.
 */
export class ArgsCompiler {
  private readonly draft07 = new Ajv(OPTIONS);
  private readonly draft2020 = new Ajv2020(OPTIONS);

  constructor() {
    addFormats(this.draft07);
    addFormats(this.draft2020);
  }

  compile(schema: Record<string, unknown>): ArgsValidator {
    const ajv = typeof schema.$schema === 'string' && schema.$schema.includes('draft-07') ? this.draft07 : this.draft2020;
    // Constructs Higress passes through (a boolean `required` on a property) are not enforced.
    const { $id: _id, ...rest } = validationSchema(schema).schema;
    const validate: ValidateFunction = ajv.compile(rest);
    return (args) => (validate(args) ? undefined : describe(validate.errors?.[0] as ErrorObject));
  }
}
