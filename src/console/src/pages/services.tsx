import { useState } from 'react';
import { api, enc } from '../api.js';
import type { Page, ServiceRow } from '../api.js';
import { useSession } from '../app.js';
import { Link, navigate, path } from '../router.js';
import { Badge, DataTable, Dialog, Form, FormActions, Load, TextField, useAction, useLoad, useNotify } from '../ui.js';

export function ServicesPage({ ns }: { ns: string }) {
  const { can } = useSession();
  const [search, setSearch] = useState('');
  const [query, setQuery] = useState('');
  const [creating, setCreating] = useState(false);
  const state = useLoad(
    () => api<Page<ServiceRow>>('GET', `/namespaces/${enc(ns)}/services?pageSize=500${query ? `&search=${enc(query)}` : ''}`),
    [ns, query],
  );
  return (
    <section>
      <div className="page-head">
        <h1>Services</h1>
        {can(ns, 'editor') && (
          <button type="button" className="primary" onClick={() => setCreating(true)}>
            New service
          </button>
        )}
      </div>
      <p className="muted">Backends registered in <code>{ns}</code>: their instances, health and weights. MCP servers reference them by name.</p>
      <Form className="toolbar" onSubmit={() => setQuery(search.trim())}>
        <TextField label="Search services" type="search" value={search} onChange={(e) => setSearch(e.target.value)} placeholder="name contains…" />
        <button type="submit">Search</button>
      </Form>
      <Load state={state}>
        {(page) => (
          <DataTable
            columns={['Name', 'Group', 'Instances', 'Healthy', 'Kind']}
            items={page.items}
            empty={query ? 'No service matches.' : 'No service yet. Register one, or let your services register themselves through the Nacos API.'}
            footer={<p className="muted small">{page.total} service(s)</p>}
            row={(s) => (
              <tr key={s.id}>
                <td>
                  <Link to={path('ns', ns, 'services', s.group, s.name)}>{s.name}</Link>
                </td>
                <td>{s.group}</td>
                <td>{s.instanceCount}</td>
                <td>
                  {s.instanceCount === 0 ? (
                    <Badge kind="muted">none</Badge>
                  ) : (
                    <Badge kind={s.healthyCount === 0 ? 'bad' : s.healthyCount < s.instanceCount ? 'warn' : 'ok'}>
                      {s.healthyCount}/{s.instanceCount} healthy
                    </Badge>
                  )}
                </td>
                <td>{s.ephemeral === null ? '—' : s.ephemeral ? 'ephemeral' : 'persistent'}</td>
              </tr>
            )}
          />
        )}
      </Load>
      <CreateServiceDialog ns={ns} open={creating} onClose={() => setCreating(false)} />
    </section>
  );
}

function CreateServiceDialog({ ns, open, onClose }: { ns: string; open: boolean; onClose: () => void }) {
  const notify = useNotify();
  const [name, setName] = useState('');
  const [group, setGroup] = useState('DEFAULT_GROUP');
  const [threshold, setThreshold] = useState('0');
  const create = useAction(async () => {
    await api('POST', `/namespaces/${enc(ns)}/services`, { name: name.trim(), group: group.trim() || 'DEFAULT_GROUP', protectThreshold: Number(threshold) || 0 });
    notify(`Service ${name} created`);
    onClose();
    navigate(path('ns', ns, 'services', group.trim() || 'DEFAULT_GROUP', name.trim()));
  });
  const err = create.error as { field?: string; message: string } | undefined;
  return (
    <Dialog open={open} title="New service" onClose={onClose}>
      <Form onSubmit={() => create.run()}>
        <TextField label="Service name" required autoFocus value={name} onChange={(e) => setName(e.target.value)} error={err?.field === 'name' ? err.message : undefined} />
        <TextField label="Group" value={group} onChange={(e) => setGroup(e.target.value)} />
        <TextField label="Protect threshold" type="number" min={0} max={1} step={0.05} value={threshold} onChange={(e) => setThreshold(e.target.value)} hint="0 to 1; above 0, unhealthy instances are still used when fewer than this share are healthy." />
        <FormActions action={create} label="Create service" busyLabel="Creating…" disabled={!name.trim()} onCancel={onClose} />
      </Form>
    </Dialog>
  );
}
