import { AppError } from '../../lib/errors.js';
import { checkJsonDepth } from '../../lib/json-depth.js';
import type { McpServerInput } from '../model.js';
import type { McpServerSpec } from '../model.js';
import type { SpecWarning } from '../spec-validation.js';
import { fromHigress } from './higress.js';
import { fromNacos } from './nacos.js';

/**
 * Read an import: a Higress definition (YAML or JSON) or a Nacos MCP document (the three
 * specifications of the v3 API, or a server detail with `toolSpec`), into server fields and a spec.
 */
export function parseImport(format: 'higress' | 'nacos', content: string): { input: McpServerInput; spec: McpServerSpec; warnings: SpecWarning[] } {
  if (format === 'higress') {
    const { name, spec, warnings } = fromHigress(content);
    return { input: { name, description: spec.description }, spec, warnings };
  }
  let doc: Record<string, unknown>;
  checkJsonDepth(content, 'content');
  try {
    doc = JSON.parse(content) as Record<string, unknown>;
  } catch (err) {
    throw new AppError('INVALID_JSON', `content: not valid JSON (${(err as Error).message})`, 'content');
  }
  const { server, spec } = fromNacos({
    serverSpecification: doc.serverSpecification ?? doc, toolSpecification: doc.toolSpecification ?? doc.toolSpec, endpointSpecification: doc.endpointSpecification,
  });
  return { input: server as McpServerInput, spec, warnings: [] };
}
