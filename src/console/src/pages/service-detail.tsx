import { useState } from 'react';
import { api, enc } from '../api.js';
import type { Instance, Service } from '../api.js';
import { useSession } from '../app.js';
import { Link, navigate, path } from '../router.js';
import { ago, Badge, Confirm, DataTable, fieldErrors, Form, FormActions, Load, SelectField, TextField, useAction, useInterval, useLoad, useNotify } from '../ui.js';

type ServiceWithInstances = Service & { instances: Instance[] };

export function ServiceDetailPage({ ns, group, name }: { ns: string; group: string; name: string }) {
  const { can } = useSession();
  const notify = useNotify();
  const base = `/namespaces/${enc(ns)}/services/${enc(group)}/${enc(name)}`;
  const state = useLoad(() => api<ServiceWithInstances>('GET', base), [base]);
  const [deleting, setDeleting] = useState(false);
  const editor = can(ns, 'editor');
  // Health changes on its own: refresh every 5 s.
  useInterval(state.reload, 5000);

  return (
    <section>
      <p className="crumbs">
        <Link to={path('ns', ns, 'services')}>Services</Link> / {group}
      </p>
      <div className="page-head">
        <h1>{name}</h1>
        {editor && (
          <button type="button" className="danger-outline" onClick={() => setDeleting(true)}>
            Delete service
          </button>
        )}
      </div>
      <Load state={state}>
        {(s) => (
          <>
            <h2>Instances</h2>
            <DataTable
              columns={['Address', 'Cluster', 'Weight', 'Health', 'Enabled', 'Kind', 'Last beat / check']}
              actions={editor}
              items={s.instances}
              empty="No instance. Register one below, or from the service itself (Nacos API)."
              className="instances"
              row={(i) => <InstanceRow key={i.id} ns={ns} instance={i} editor={editor} onChanged={state.reload} />}
            />
            {editor && <RegisterInstance ns={ns} group={group} name={name} hasEphemeral={s.instances.some((i) => i.ephemeral)} onDone={state.reload} />}
          </>
        )}
      </Load>
      <Confirm
        open={deleting}
        title="Delete service"
        message={<p>Delete the service <strong>{name}</strong>? Only a service with no instances can be deleted.</p>}
        confirmLabel="Delete"
        onClose={() => setDeleting(false)}
        onConfirm={async () => {
          await api('DELETE', base);
          notify(`Service ${name} deleted`);
          navigate(path('ns', ns, 'services'));
        }}
      />
    </section>
  );
}

function InstanceRow({ ns, instance: i, editor, onChanged }: { ns: string; instance: Instance; editor: boolean; onChanged: () => void }) {
  const notify = useNotify();
  const [weight, setWeight] = useState(String(i.weight));
  const [removing, setRemoving] = useState(false);
  const patch = useAction(async (body: { weight?: number; enabled?: boolean }) => {
    await api('PATCH', `/namespaces/${enc(ns)}/instances/${enc(i.id)}`, body);
    notify(body.enabled !== undefined ? `${i.ip}:${i.port} ${body.enabled ? 'enabled' : 'disabled'}` : `Weight of ${i.ip}:${i.port} set to ${body.weight}`);
    onChanged();
  });
  const hc = i.healthCheck;
  return (
    <tr>
      <td>
        <code>
          {i.ip}:{i.port}
        </code>
        {patch.error && <div className="field-error">{patch.error.message}</div>}
      </td>
      <td>{i.cluster}</td>
      <td>
        {editor ? (
          <Form className="inline-form" onSubmit={() => patch.run({ weight: Number(weight) })}>
            <label className="sr-only" htmlFor={`w-${i.id}`}>
              Weight of {i.ip}:{i.port}
            </label>
            <input id={`w-${i.id}`} className="narrow" type="number" min={0} max={10000} step="any" value={weight} onChange={(e) => setWeight(e.target.value)} />
            <button type="submit" disabled={patch.busy || weight === String(i.weight) || weight === ''}>
              Set
            </button>
          </Form>
        ) : (
          i.weight
        )}
      </td>
      <td>
        <Badge kind={i.healthy ? 'ok' : 'bad'}>{i.healthy ? 'healthy' : 'unhealthy'}</Badge>
        {hc && <div className="muted small">{hc.type === 'none' ? 'no check' : `${hc.type}${hc.type === 'http' ? ` ${hc.path}` : ''} every ${hc.intervalMs / 1000} s`}</div>}
      </td>
      <td>
        <Badge kind={i.enabled ? 'ok' : 'muted'}>{i.enabled ? 'enabled' : 'disabled'}</Badge>
      </td>
      <td>{i.ephemeral ? 'ephemeral' : 'persistent'}</td>
      <td title={i.lastBeat ? new Date(i.lastBeat).toLocaleString() : undefined}>{ago(i.lastBeat)}</td>
      {editor && (
        <td className="row-actions">
          <button type="button" disabled={patch.busy} onClick={() => void patch.run({ enabled: !i.enabled })}>
            {i.enabled ? 'Disable' : 'Enable'}
          </button>
          <button type="button" className="danger-outline" onClick={() => setRemoving(true)}>
            Deregister
          </button>
          <Confirm
            open={removing}
            title="Deregister instance"
            message={<p>Remove <code>{i.ip}:{i.port}</code> from the service? Agents' calls stop going there at once.</p>}
            confirmLabel="Deregister"
            onClose={() => setRemoving(false)}
            onConfirm={async () => {
              await api('DELETE', `/namespaces/${enc(ns)}/instances/${enc(i.id)}`);
              setRemoving(false);
              notify(`${i.ip}:${i.port} deregistered`);
              onChanged();
            }}
          />
        </td>
      )}
    </tr>
  );
}

function RegisterInstance({ ns, group, name, hasEphemeral, onDone }: { ns: string; group: string; name: string; hasEphemeral: boolean; onDone: () => void }) {
  const notify = useNotify();
  const [f, setF] = useState({
    ip: '', port: '', weight: '1', cluster: 'DEFAULT', type: 'tcp', hcPath: '/', hcPort: '0', intervalMs: '5000', timeoutMs: '3000', healthy: '1', unhealthy: '2',
  });
  const set = (k: keyof typeof f) => (e: { target: { value: string } }) => setF({ ...f, [k]: e.target.value });
  const register = useAction(async () => {
    await api('POST', `/namespaces/${enc(ns)}/services/${enc(group)}/${enc(name)}/instances`, {
      ip: f.ip.trim(), port: Number(f.port), weight: Number(f.weight), cluster: f.cluster.trim() || 'DEFAULT', ephemeral: false,
      healthCheck: {
        type: f.type, ...(f.type === 'http' ? { path: f.hcPath } : {}), port: Number(f.hcPort) || 0, intervalMs: Number(f.intervalMs),
        timeoutMs: Number(f.timeoutMs), healthyThreshold: Number(f.healthy), unhealthyThreshold: Number(f.unhealthy),
      },
    });
    notify(`Instance ${f.ip}:${f.port} registered`);
    setF({ ...f, ip: '', port: '' });
    onDone();
  });
  const fieldError = fieldErrors(register.error);
  return (
    <div className="panel">
      <h2>Register a persistent instance</h2>
      <p className="muted small">
        The registry checks a persistent instance itself (TCP connect, HTTP GET or none); it stays until deregistered.
        {hasEphemeral && ' This service holds ephemeral instances: it cannot also hold persistent ones.'}
      </p>
      <Form className="grid-form" onSubmit={() => register.run()}>
        <TextField label="IP or host" required value={f.ip} onChange={set('ip')} error={fieldError('ip')} placeholder="10.0.0.12" />
        <TextField label="Port" type="number" required min={1} max={65535} value={f.port} onChange={set('port')} error={fieldError('port')} />
        <TextField label="Weight" type="number" min={0} max={10000} step="any" value={f.weight} onChange={set('weight')} error={fieldError('weight')} />
        <TextField label="Cluster" value={f.cluster} onChange={set('cluster')} />
        <SelectField label="Health check" value={f.type} onChange={set('type')}>
          <option value="tcp">TCP connect</option>
          <option value="http">HTTP GET</option>
          <option value="none">none (always healthy)</option>
        </SelectField>
        {f.type === 'http' && <TextField label="Check path" value={f.hcPath} onChange={set('hcPath')} error={fieldError('healthCheck')} />}
        {f.type !== 'none' && (
          <>
            <TextField label="Check port" type="number" min={0} max={65535} value={f.hcPort} onChange={set('hcPort')} hint="0: the instance's port" />
            <TextField label="Interval (ms)" type="number" min={1} value={f.intervalMs} onChange={set('intervalMs')} />
            <TextField label="Timeout (ms)" type="number" min={1} value={f.timeoutMs} onChange={set('timeoutMs')} />
            <TextField label="Healthy after (successes)" type="number" min={1} value={f.healthy} onChange={set('healthy')} />
            <TextField label="Unhealthy after (failures)" type="number" min={1} value={f.unhealthy} onChange={set('unhealthy')} />
          </>
        )}
        <div className="grid-full">
          <FormActions action={register} label="Register instance" busyLabel="Registering…" disabled={!f.ip.trim() || !f.port} />
        </div>
      </Form>
    </div>
  );
}
