/** Where an MCP server's backend is: a service of the namespace, a direct address, or a URL. */
import type { TFunction } from 'i18next';
import { useTranslation } from 'react-i18next';
import { api, enc } from '../api.js';
import type { Endpoint, Page, ServiceRow } from '../api.js';
import { SelectField, TextField, useLoad } from '../ui.js';

export interface EndpointDraft {
  type: Endpoint['type'];
  service: string;
  address: string;
  port: string;
  url: string;
  /** The MCP path on the instances of an upstream MCP server (service and direct endpoints). */
  exportPath: string;
}

export function endpointDraft(e: Endpoint | undefined): EndpointDraft {
  const d: EndpointDraft = { type: e?.type ?? 'service', service: '', address: '', port: '', url: '', exportPath: '' };
  if ((e?.type === 'service' || e?.type === 'direct') && e.exportPath) d.exportPath = e.exportPath;
  if (e?.type === 'service') d.service = `${e.group}@@${e.service}`;
  if (e?.type === 'direct') {
    d.address = e.address;
    d.port = String(e.port);
  }
  if (e?.type === 'url') d.url = e.url;
  return d;
}

export function endpointOf(ns: string, d: EndpointDraft): Endpoint {
  const exportPath = d.exportPath.trim() ? { exportPath: d.exportPath.trim() } : {};
  switch (d.type) {
    case 'service': {
      const [group, service] = d.service.includes('@@') ? d.service.split('@@') : ['DEFAULT_GROUP', d.service];
      return { type: 'service', namespace: ns, group: group ?? 'DEFAULT_GROUP', service: service ?? '', ...exportPath };
    }
    case 'direct':
      return { type: 'direct', address: d.address.trim(), port: Number(d.port), ...exportPath };
    case 'url':
      return { type: 'url', url: d.url.trim() };
    default:
      return { type: 'none' };
  }
}

/**
 * The endpoint's fields; `error` maps a field (`endpoint.url`…) to its message. For a server
 * fronting an upstream MCP server (`protocol` mcp-streamable, mcp-sse), the URL is the server's
 * MCP URL and services and addresses take the MCP path on the instances (exportPath); a stdio
 * server has no endpoint (its command is in the draft's configuration).
 */
export function EndpointFields({ ns, value, onChange, error, protocol }: { ns: string; value: EndpointDraft; onChange: (d: EndpointDraft) => void; error: (field: string) => string | undefined; protocol?: string }) {
  const mcp = protocol === 'mcp-streamable' || protocol === 'mcp-sse';
  const { t } = useTranslation();
  const services = useLoad(() => api<Page<ServiceRow>>('GET', `/namespaces/${enc(ns)}/services?pageSize=1000`), [ns]);
  const set = (k: keyof EndpointDraft) => (e: { target: { value: string } }) => onChange({ ...value, [k]: e.target.value });
  return (
    <fieldset className="fieldset">
      <legend>{t('endpoint.legend')}</legend>
      <SelectField label={t('endpoint.type')} value={value.type} onChange={set('type')} error={error('endpoint.type')}>
        <option value="service">{t('endpoint.service')}</option>
        <option value="direct">{t('endpoint.direct')}</option>
        <option value="url">{t('endpoint.url')}</option>
        <option value="none">{t('endpoint.none')}</option>
      </SelectField>
      {value.type === 'service' && (
        <SelectField
          label={t('endpoint.serviceLabel')}
          value={value.service}
          onChange={set('service')}
          error={error('endpoint.service') ?? error('endpoint.namespace')}
          hint={services.error ? t('endpoint.servicesFailed', { message: services.error.message }) : services.loading && !services.data ? t('endpoint.servicesLoading') : undefined}
        >
          <option value="">{t('endpoint.choose')}</option>
          {services.data?.items.map((s) => (
            <option key={s.id} value={`${s.group}@@${s.name}`}>
              {s.group === 'DEFAULT_GROUP' ? s.name : `${s.group} / ${s.name}`} ({t('services.healthyOf', { healthy: s.healthyCount, total: s.instanceCount })})
            </option>
          ))}
          {value.service && !services.data?.items.some((s) => `${s.group}@@${s.name}` === value.service) && <option value={value.service}>{value.service.replace('@@', ' / ')}</option>}
        </SelectField>
      )}
      {value.type === 'direct' && (
        <div className="row">
          <TextField label={t('endpoint.address')} value={value.address} onChange={set('address')} placeholder="10.0.0.5" error={error('endpoint.address')} />
          <TextField label={t('endpoint.port')} type="number" min={1} max={65535} value={value.port} onChange={set('port')} error={error('endpoint.port')} />
        </div>
      )}
      {value.type === 'url' && (
        <TextField
          label={mcp ? t('endpoint.mcpUrl') : t('endpoint.baseUrl')} type="url" value={value.url} onChange={set('url')} error={error('endpoint.url')}
          placeholder={mcp ? (protocol === 'mcp-sse' ? 'https://mcp.example.com/sse' : 'https://mcp.example.com/mcp') : 'https://api.example.com/v1'}
        />
      )}
      {mcp && (value.type === 'service' || value.type === 'direct') && (
        <TextField
          label={t('endpoint.exportPath')} value={value.exportPath} onChange={set('exportPath')} placeholder={protocol === 'mcp-sse' ? '/sse' : '/mcp'}
          hint={t('endpoint.exportPathHint', { path: protocol === 'mcp-sse' ? '/sse' : '/mcp' })} error={error('endpoint.exportPath')}
        />
      )}
      {protocol === 'stdio' && <p className="muted small">{t('endpoint.stdio')}</p>}
    </fieldset>
  );
}

/** An endpoint in a few words. */
export function describeEndpoint(e: Endpoint, t: TFunction): string {
  switch (e.type) {
    case 'service':
      return t('endpoint.describeService', { name: `${e.group === 'DEFAULT_GROUP' ? '' : `${e.group}/`}${e.service}` });
    case 'direct':
      return `${e.address}:${e.port}`;
    case 'url':
      return e.url;
    default:
      return t('endpoint.describeNone');
  }
}
