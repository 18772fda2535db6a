/** Where an MCP server's backend is: a service of the namespace, a direct address, or a URL. */
import { api, enc } from '../api.js';
import type { Endpoint, Page, ServiceRow } from '../api.js';
import { SelectField, TextField, useLoad } from '../ui.js';

export interface EndpointDraft {
  type: Endpoint['type'];
  service: string;
  address: string;
  port: string;
  url: string;
}

export function endpointDraft(e: Endpoint | undefined): EndpointDraft {
  const d: EndpointDraft = { type: e?.type ?? 'service', service: '', address: '', port: '', url: '' };
  if (e?.type === 'service') d.service = `${e.group}@@${e.service}`;
  if (e?.type === 'direct') {
    d.address = e.address;
    d.port = String(e.port);
  }
  if (e?.type === 'url') d.url = e.url;
  return d;
}

export function endpointOf(ns: string, d: EndpointDraft): Endpoint {
  switch (d.type) {
    case 'service': {
      const [group, service] = d.service.includes('@@') ? d.service.split('@@') : ['DEFAULT_GROUP', d.service];
      return { type: 'service', namespace: ns, group: group ?? 'DEFAULT_GROUP', service: service ?? '' };
    }
    case 'direct':
      return { type: 'direct', address: d.address.trim(), port: Number(d.port) };
    case 'url':
      return { type: 'url', url: d.url.trim() };
    default:
      return { type: 'none' };
  }
}

export function EndpointFields({ ns, value, onChange, error }: { ns: string; value: EndpointDraft; onChange: (d: EndpointDraft) => void; error?: string }) {
  const services = useLoad(() => api<Page<ServiceRow>>('GET', `/namespaces/${enc(ns)}/services?pageSize=1000`), [ns]);
  const set = (k: keyof EndpointDraft) => (e: { target: { value: string } }) => onChange({ ...value, [k]: e.target.value });
  return (
    <fieldset className="fieldset">
      <legend>Backend endpoint</legend>
      <SelectField label="Endpoint type" value={value.type} onChange={set('type')}>
        <option value="service">Service reference (instances of a registered service)</option>
        <option value="direct">Direct address (host and port)</option>
        <option value="url">URL (base URL)</option>
        <option value="none">None (absolute URLs in templates)</option>
      </SelectField>
      {value.type === 'service' && (
        <SelectField
          label="Service"
          value={value.service}
          onChange={set('service')}
          error={error}
          hint={services.error ? `Could not list services: ${services.error.message}` : services.loading && !services.data ? 'Loading services…' : undefined}
        >
          <option value="">Choose a service…</option>
          {services.data?.items.map((s) => (
            <option key={s.id} value={`${s.group}@@${s.name}`}>
              {s.group === 'DEFAULT_GROUP' ? s.name : `${s.group} / ${s.name}`} ({s.healthyCount}/{s.instanceCount} healthy)
            </option>
          ))}
          {value.service && !services.data?.items.some((s) => `${s.group}@@${s.name}` === value.service) && <option value={value.service}>{value.service.replace('@@', ' / ')}</option>}
        </SelectField>
      )}
      {value.type === 'direct' && (
        <div className="row">
          <TextField label="Address" value={value.address} onChange={set('address')} placeholder="10.0.0.5" error={error} />
          <TextField label="Port" type="number" min={1} max={65535} value={value.port} onChange={set('port')} />
        </div>
      )}
      {value.type === 'url' && <TextField label="Base URL" type="url" value={value.url} onChange={set('url')} placeholder="https://api.example.com/v1" error={error} />}
    </fieldset>
  );
}

export function describeEndpoint(e: Endpoint): string {
  switch (e.type) {
    case 'service':
      return `service ${e.group === 'DEFAULT_GROUP' ? '' : `${e.group}/`}${e.service}`;
    case 'direct':
      return `${e.address}:${e.port}`;
    case 'url':
      return e.url;
    default:
      return 'none';
  }
}
