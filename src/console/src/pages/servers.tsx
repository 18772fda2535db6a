import { useState } from 'react';
import { api, enc } from '../api.js';
import type { McpServer, Page } from '../api.js';
import { useSession } from '../app.js';
import { Link, navigate, path } from '../router.js';
import { Badge, DataTable, Dialog, fieldErrors, Form, FormActions, Load, SelectField, TextArea, TextField, useAction, useLoad, useNotify } from '../ui.js';
import { describeEndpoint, EndpointFields, endpointDraft, endpointOf } from './endpoint.js';

const PROTOCOLS = ['http', 'https', 'mcp-streamable', 'mcp-sse', 'stdio'] as const;

export function ServersPage({ ns }: { ns: string }) {
  const { can } = useSession();
  const [search, setSearch] = useState('');
  const [protocol, setProtocol] = useState('');
  const [enabled, setEnabled] = useState('');
  const [applied, setApplied] = useState({ search: '', protocol: '', enabled: '' });
  const [creating, setCreating] = useState(false);
  const q = new URLSearchParams({ pageSize: '500' });
  if (applied.search) q.set('search', applied.search);
  if (applied.protocol) q.set('protocol', applied.protocol);
  if (applied.enabled) q.set('enabled', applied.enabled);
  const state = useLoad(() => api<Page<McpServer>>('GET', `/namespaces/${enc(ns)}/mcp-servers?${q.toString()}`), [ns, q.toString()]);
  const filtered = applied.search || applied.protocol || applied.enabled;
  return (
    <section>
      <div className="page-head">
        <h1>MCP servers</h1>
        {can(ns, 'editor') && (
          <button type="button" className="primary" onClick={() => setCreating(true)}>
            New MCP server
          </button>
        )}
      </div>
      <p className="muted">
        What agents connect to: <code>/mcp/{ns}/&lt;server&gt;</code> on the gateway. Only the published version of an enabled server is served.
      </p>
      <Form className="toolbar" onSubmit={() => setApplied({ search: search.trim(), protocol, enabled })}>
        <TextField label="Search" type="search" value={search} onChange={(e) => setSearch(e.target.value)} placeholder="name contains…" />
        <SelectField label="Protocol" value={protocol} onChange={(e) => { setProtocol(e.target.value); setApplied({ search: search.trim(), protocol: e.target.value, enabled }); }}>
          <option value="">any</option>
          {PROTOCOLS.map((p) => <option key={p} value={p}>{p}</option>)}
        </SelectField>
        <SelectField label="State" value={enabled} onChange={(e) => { setEnabled(e.target.value); setApplied({ search: search.trim(), protocol, enabled: e.target.value }); }}>
          <option value="">any</option>
          <option value="true">enabled</option>
          <option value="false">disabled</option>
        </SelectField>
        <button type="submit">Search</button>
      </Form>
      <Load state={state}>
        {(page) => (
          <DataTable
            columns={['Name', 'Protocol', 'Backend', 'State', 'Published', 'Latest']}
            items={page.items}
            empty={filtered ? 'No MCP server matches.' : 'No MCP server yet. Create one, or import a Higress or Nacos definition.'}
            footer={<p className="muted small">{page.total} server(s)</p>}
            row={(s) => (
              <tr key={s.id}>
                <td>
                  <Link to={path('ns', ns, 'servers', s.name)}>{s.name}</Link>
                  {s.description && <div className="muted small clamp">{s.description}</div>}
                </td>
                <td>{s.protocol}</td>
                <td className="break">{describeEndpoint(s.endpoint)}</td>
                <td>
                  <Badge kind={s.enabled ? 'ok' : 'muted'}>{s.enabled ? 'enabled' : 'disabled'}</Badge>
                </td>
                <td>{s.publishedVersion ? <Badge kind="info">{s.publishedVersion}</Badge> : <Badge kind="warn">not published</Badge>}</td>
                <td>{s.latestVersion ?? '—'}</td>
              </tr>
            )}
          />
        )}
      </Load>
      <CreateServerDialog ns={ns} open={creating} onClose={() => setCreating(false)} />
    </section>
  );
}

function CreateServerDialog({ ns, open, onClose }: { ns: string; open: boolean; onClose: () => void }) {
  const notify = useNotify();
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [protocol, setProtocol] = useState<(typeof PROTOCOLS)[number]>('http');
  const [version, setVersion] = useState('1.0.0');
  const [endpoint, setEndpoint] = useState(endpointDraft(undefined));
  const create = useAction(async () => {
    await api('POST', `/namespaces/${enc(ns)}/mcp-servers`, {
      name: name.trim(), description, protocol, endpoint: endpointOf(ns, endpoint), publish: false,
      spec: { version: version.trim() || '1.0.0', description, tools: [] },
    });
    notify(`MCP server ${name} created with draft ${version}`);
    onClose();
    navigate(path('ns', ns, 'servers', name.trim()));
  });
  const fe = fieldErrors(create.error);
  return (
    <Dialog open={open} title="New MCP server" onClose={onClose} wide>
      <Form onSubmit={() => create.run()}>
        <div className="row">
          <TextField label="Server name" required autoFocus value={name} onChange={(e) => setName(e.target.value)} error={fe('name')} hint="Part of the agents' URL: letters, digits, _ . -" />
          <TextField label="First version" value={version} onChange={(e) => setVersion(e.target.value)} error={fe('version')} hint="Created as a draft: add tools, try them, then publish." />
        </div>
        <TextArea label="Description" rows={2} value={description} onChange={(e) => setDescription(e.target.value)} />
        <SelectField label="Backend protocol" value={protocol} onChange={(e) => setProtocol(e.target.value as typeof protocol)} hint="http / https: REST tools defined by templates.">
          {PROTOCOLS.map((p) => <option key={p} value={p}>{p}</option>)}
        </SelectField>
        <EndpointFields ns={ns} value={endpoint} onChange={setEndpoint} error={fe('endpoint')} />
        <FormActions action={create} label="Create MCP server" busyLabel="Creating…" disabled={!name.trim()} onCancel={onClose} />
      </Form>
    </Dialog>
  );
}
