/**
 * The read side of the Nacos config API (`GET /nacos/v1/cs/configs`), for the MCP configs only
 * (domain/nacos-configs.ts): what Higress' Nacos MCP provider calls to list MCP servers
 * (`search=blur&dataId=*mcp-versions.json&group=mcp-server-versions`) and, without `search`,
 * to read one config's content. Other configs are not found; config writes are not served
 * (mcpgate is not a general configuration centre: docs/nacos-grpc.md).
 */
import type { FastifyInstance } from 'fastify';
import { AppError, invalid } from '../../../lib/errors.js';
import { PUBLIC_NAMESPACE } from '../../../model/model.js';
import { authorize } from '../../domain/auth.js';
import { searchMcpConfigs } from '../../domain/nacos-configs.js';
import type { RegistryServices } from '../../services.js';
import { NacosParams } from './params.js';

const V1 = { config: { family: 'nacos-v1' as const } };

/** Register the config read route. */
export function registerConfigRoutes(app: FastifyInstance, svc: RegistryServices): void {
  app.get('/v1/cs/configs', V1, async (req, reply) => {
    const p = NacosParams.of(req);
    const namespace = p.str('tenant') || p.str('namespaceId') || PUBLIC_NAMESPACE;
    authorize(req.principal, namespace, 'viewer');
    const search = p.str('search');
    if (search !== undefined) {
      if (search !== 'blur' && search !== 'accurate') throw invalid('search', `must be 'blur' or 'accurate', got '${search}'`);
      const pageNo = Math.max(1, p.int('pageNo') ?? 1);
      const pageSize = Math.min(Math.max(1, p.int('pageSize') ?? 10), 500);
      const page = await searchMcpConfigs(svc, svc.nacosConfigs, req.principal, namespace, {
        dataId: p.str('dataId') ?? '', group: p.str('group') ?? '', blur: search === 'blur', pageNo, pageSize,
      });
      return {
        totalCount: page.total, pageNumber: pageNo, pagesAvailable: Math.ceil(page.total / pageSize),
        pageItems: page.items.map((i, n) => ({ id: (pageNo - 1) * pageSize + n + 1, dataId: i.dataId, group: i.group, content: i.content.content, md5: i.content.md5, tenant: p.str('tenant') ?? '', appName: '', type: 'json' })),
      };
    }
    const dataId = p.str('dataId');
    const group = p.str('group');
    if (!dataId) throw new AppError('PARAMETER_MISSING', "required parameter 'dataId' is missing", 'dataId');
    if (!group) throw new AppError('PARAMETER_MISSING', "required parameter 'group' is missing", 'group');
    const found = await svc.nacosConfigs.read(req.principal, namespace, group, dataId);
    if (!found) {
      reply.code(404).type('text/plain; charset=utf-8');
      return 'config data not exist';
    }
    reply.type('text/plain; charset=utf-8').header('Content-MD5', found.md5).header('Config-Type', 'json')
      .header('Last-Modified', new Date(found.lastModified).toUTCString());
    return found.content;
  });
}
