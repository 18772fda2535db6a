import { useState } from 'react';
import type { TFunction } from 'i18next';
import { Trans, useTranslation } from 'react-i18next';
import { api, enc } from '../api.js';
import type { Instance, ServiceDetail } from '../api.js';
import { Link, navigate, path } from '../router.js';
import { useSession } from '../session.js';
import { ago, Badge, Confirm, DataTable, fieldErrors, Form, FormActions, Load, PageHeading, SelectField, TextField, useAction, useInterval, useLoad, useNotify, when } from '../ui.js';

export function ServiceDetailPage({ ns, group, name }: { ns: string; group: string; name: string }) {
  const { t } = useTranslation();
  const { can } = useSession();
  const notify = useNotify();
  const base = `/namespaces/${enc(ns)}/services/${enc(group)}/${enc(name)}`;
  const state = useLoad(() => api<ServiceDetail>('GET', base), [base]);
  const [deleting, setDeleting] = useState(false);
  const editor = can(ns, 'editor');
  // Health changes on its own: refresh every 5 s.
  useInterval(state.reload, 5000);

  return (
    <section>
      <nav className="crumbs" aria-label={t('common.breadcrumbs')}>
        <Link to={path('ns', ns, 'services')}>{t('services.title')}</Link> / {group}
      </nav>
      <div className="page-head">
        <PageHeading title={t('service.title', { name })}>{name}</PageHeading>
        {editor && (
          <button type="button" className="danger-outline" onClick={() => setDeleting(true)}>
            {t('service.delete')}
          </button>
        )}
      </div>
      <Load state={state}>
        {(s) => (
          <>
            {Object.keys(s.metadata).length > 0 && (
              <p className="muted small">{t('service.metadata')}: {Object.entries(s.metadata).map(([k, v]) => <code key={k} className="meta">{k}={v}</code>)}</p>
            )}
            <h2>{t('service.instances')}</h2>
            <DataTable
              caption={t('service.instances')}
              columns={[t('service.address'), t('service.cluster'), t('service.weight'), t('service.health'), t('service.enabled'), t('service.kind'), t('service.lastBeat')]}
              actions={editor}
              items={s.instances}
              empty={t('service.noInstance')}
              className="instances"
              row={(i) => <InstanceRow key={i.id} ns={ns} instance={i} editor={editor} onChanged={state.reload} />}
            />
            <UsedBy ns={ns} usedBy={s.usedBy} />
            {editor && <RegisterInstance ns={ns} group={group} name={name} hasEphemeral={s.instances.some((i) => i.ephemeral)} onDone={state.reload} />}
          </>
        )}
      </Load>
      <Confirm
        open={deleting}
        title={t('service.delete')}
        message={<p><Trans i18nKey="service.deleteMessage" values={{ name }} components={{ strong: <strong /> }} /></p>}
        confirmLabel={t('common.delete')}
        onClose={() => setDeleting(false)}
        onConfirm={async () => {
          await api('DELETE', base);
          notify(t('service.deleted', { name }));
          setDeleting(false);
          navigate(path('ns', ns, 'services'));
        }}
      />
    </section>
  );
}

function UsedBy({ ns, usedBy }: { ns: string; usedBy: ServiceDetail['usedBy'] }) {
  const { t } = useTranslation();
  return (
    <div className="panel" data-testid="used-by">
      <h2>{t('service.usedBy')}</h2>
      {usedBy.length === 0 ? (
        <p className="muted">{t('service.usedByNone')}</p>
      ) : (
        <ul className="plain-list">
          {usedBy.map((m) => (
            <li key={m.name}>
              <Link to={path('ns', ns, 'servers', m.name)}>{m.name}</Link>{' '}
              {m.publishedVersion ? <Badge kind="info">{t('server.publishedBadge', { version: m.publishedVersion })}</Badge> : <Badge kind="warn">{t('server.notPublished')}</Badge>}
              {!m.enabled && <Badge kind="muted">{t('common.disabled')}</Badge>}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

/** Why an instance is unhealthy, in words. */
function healthReason(i: Instance, t: TFunction): string | undefined {
  if (i.healthy) return undefined;
  if (i.ephemeral) return t('service.noHeartbeat', { since: ago(i.lastBeat) });
  if (i.healthDetail) return i.healthDetail;
  return t('service.checkFailing');
}

function InstanceRow({ ns, instance: i, editor, onChanged }: { ns: string; instance: Instance; editor: boolean; onChanged: () => void }) {
  const { t } = useTranslation();
  const notify = useNotify();
  const [weight, setWeight] = useState(String(i.weight));
  const [removing, setRemoving] = useState(false);
  const address = `${i.ip}:${i.port}`;
  const patch = useAction(async (body: { weight?: number; enabled?: boolean }) => {
    await api('PATCH', `/namespaces/${enc(ns)}/instances/${enc(i.id)}`, body);
    notify(body.enabled !== undefined ? t(body.enabled ? 'service.enabledOne' : 'service.disabledOne', { address }) : t('service.weightSet', { address, weight: body.weight }));
    onChanged();
  });
  const hc = i.healthCheck;
  const reason = healthReason(i, t);
  const meta = Object.entries(i.metadata);
  return (
    <tr>
      <td>
        <code>{address}</code>
        {patch.error && <div className="field-error">{patch.error.message}</div>}
        {meta.length > 0 && (
          <details className="meta-details">
            <summary>{t('service.metadataCount', { count: meta.length })}</summary>
            <dl className="meta-list">
              {meta.map(([k, v]) => (
                <div key={k}><dt>{k}</dt><dd>{v}</dd></div>
              ))}
            </dl>
          </details>
        )}
      </td>
      <td>{i.cluster}</td>
      <td>
        {editor ? (
          <Form className="inline-form" onSubmit={() => patch.run({ weight: Number(weight) })}>
            <label className="sr-only" htmlFor={`w-${i.id}`}>
              {t('service.weightOf', { address })}
            </label>
            <input id={`w-${i.id}`} className="narrow" type="number" min={0} max={10000} step="any" value={weight} onChange={(e) => setWeight(e.target.value)} />
            <button type="submit" disabled={patch.busy || weight === String(i.weight) || weight === ''}>
              {t('service.set')}
            </button>
          </Form>
        ) : (
          i.weight
        )}
      </td>
      <td>
        <Badge kind={i.healthy ? 'ok' : 'bad'}>{i.healthy ? t('service.healthy') : t('service.unhealthy')}</Badge>
        {reason && <div className="health-reason small" data-testid="health-reason">{reason}</div>}
        {hc && <div className="muted small">{hc.type === 'none' ? t('service.noCheck') : t('service.checkEvery', { type: hc.type === 'http' ? `HTTP ${hc.path}` : 'TCP', seconds: hc.intervalMs / 1000 })}</div>}
      </td>
      <td>
        <Badge kind={i.enabled ? 'ok' : 'muted'}>{i.enabled ? t('common.enabled') : t('common.disabled')}</Badge>
      </td>
      <td>{i.ephemeral ? t('services.ephemeral') : t('services.persistent')}</td>
      <td title={when(i.lastBeat)}>{ago(i.lastBeat)}</td>
      {editor && (
        <td className="row-actions">
          <button type="button" disabled={patch.busy} onClick={() => void patch.run({ enabled: !i.enabled })}>
            {i.enabled ? t('common.disable') : t('common.enable')}
          </button>
          <button type="button" className="danger-outline" onClick={() => setRemoving(true)}>
            {t('service.deregister')}
          </button>
          <Confirm
            open={removing}
            title={t('service.deregisterTitle')}
            message={<p><Trans i18nKey="service.deregisterMessage" values={{ address }} components={{ code: <code /> }} /></p>}
            confirmLabel={t('service.deregister')}
            onClose={() => setRemoving(false)}
            onConfirm={async () => {
              await api('DELETE', `/namespaces/${enc(ns)}/instances/${enc(i.id)}`);
              setRemoving(false);
              notify(t('service.deregistered', { address }));
              onChanged();
            }}
          />
        </td>
      )}
    </tr>
  );
}

function RegisterInstance({ ns, group, name, hasEphemeral, onDone }: { ns: string; group: string; name: string; hasEphemeral: boolean; onDone: () => void }) {
  const { t } = useTranslation();
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
    notify(t('service.registered', { address: `${f.ip}:${f.port}` }));
    setF({ ...f, ip: '', port: '' });
    onDone();
  });
  const fe = fieldErrors(register.error);
  const shown = ['ip', 'port', 'weight', 'healthCheck'].some((k) => fe(k));
  return (
    <div className="panel">
      <h2>{t('service.registerTitle')}</h2>
      <p className="muted small">
        {t('service.registerIntro')}
        {hasEphemeral && ` ${t('service.hasEphemeral')}`}
      </p>
      <Form className="grid-form" onSubmit={() => register.run()}>
        <TextField label={t('service.ip')} required value={f.ip} onChange={set('ip')} error={fe('ip')} placeholder="10.0.0.12" />
        <TextField label={t('service.port')} type="number" required min={1} max={65535} value={f.port} onChange={set('port')} error={fe('port')} />
        <TextField label={t('service.weight')} type="number" min={0} max={10000} step="any" value={f.weight} onChange={set('weight')} error={fe('weight')} />
        <TextField label={t('service.cluster')} value={f.cluster} onChange={set('cluster')} />
        <SelectField label={t('service.checkType')} value={f.type} onChange={set('type')}>
          <option value="tcp">{t('service.checkTcp')}</option>
          <option value="http">{t('service.checkHttp')}</option>
          <option value="none">{t('service.checkNone')}</option>
        </SelectField>
        {f.type === 'http' && <TextField label={t('service.checkPath')} value={f.hcPath} onChange={set('hcPath')} error={fe('healthCheck')} />}
        {f.type !== 'none' && (
          <>
            <TextField label={t('service.checkPort')} type="number" min={0} max={65535} value={f.hcPort} onChange={set('hcPort')} hint={t('service.checkPortHint')} />
            <TextField label={t('service.interval')} type="number" min={1} value={f.intervalMs} onChange={set('intervalMs')} />
            <TextField label={t('service.timeout')} type="number" min={1} value={f.timeoutMs} onChange={set('timeoutMs')} />
            <TextField label={t('service.healthyAfter')} type="number" min={1} value={f.healthy} onChange={set('healthy')} />
            <TextField label={t('service.unhealthyAfter')} type="number" min={1} value={f.unhealthy} onChange={set('unhealthy')} />
          </>
        )}
        <div className="grid-full">
          <FormActions action={register} label={t('service.register')} busyLabel={t('service.registering')} disabled={!f.ip.trim() || !f.port} fieldShown={shown} />
        </div>
      </Form>
    </div>
  );
}
