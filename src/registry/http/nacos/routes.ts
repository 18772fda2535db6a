import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import type { RegistryServices } from '../../services.js';
import { registerConfigRoutes } from './configs.js';
import { registerMcpRoutes } from './mcp.js';
import { registerNamingRoutes } from './naming.js';

/**
 * The Nacos-compatible APIs under /nacos (COMPAT.md §1–§2): naming v1 and v2, operator metrics,
 * login, the Nacos 3 MCP admin API, and the MCP configs as Nacos config reads. Errors answer as Nacos does per family: v1 as
 * `caused: …` text, v2/v3 as the `{code, message, data}` envelope.
 */
export function nacosRoutes(services: RegistryServices): FastifyPluginAsync {
  return async (app: FastifyInstance) => {
    registerNamingRoutes(app, services);
    registerMcpRoutes(app, services);
    registerConfigRoutes(app, services);
  };
}
