import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, enc } from '../api.js';
import type { Page, ServerRow } from '../api.js';
import { formatNumber } from '../i18n.js';
import { Link, navigate, path } from '../router.js';
import { useSession } from '../session.js';
import type { SortState } from '../ui.js';
import {
  Badge, DataTable, Dialog, Expandable, fieldErrors, Form, FormActions, Load, PageHeading, Pager, SelectField, TextArea, TextField, useAction, useDebounced, useLoad, useNotify,
} from '../ui.js';
import { describeEndpoint, EndpointFields, endpointDraft, endpointOf } from './endpoint.js';

const PROTOCOLS = ['http', 'https', 'mcp-streamable', 'mcp-sse', 'stdio', 'virtual'] as const;

/** Backend health of a list row, as a badge. */
function HealthBadge({ health }: { health: ServerRow['health'] }) {
  const { t } = useTranslation();
  if (!health) return <span className="muted small">{t('servers.notChecked')}</span>;
  if (health.total === 0) return <Badge kind="bad">{t('servers.noInstance')}</Badge>;
  return (
    <Badge kind={health.healthy === 0 ? 'bad' : health.healthy < health.total ? 'warn' : 'ok'}>
      {t('services.healthyOf', { healthy: health.healthy, total: health.total })}
    </Badge>
  );
}

export function ServersPage({ ns }: { ns: string }) {
  const { t } = useTranslation();
  const { can } = useSession();
  const [search, setSearch] = useState('');
  const query = useDebounced(search.trim());
  const [protocol, setProtocol] = useState('');
  const [enabled, setEnabled] = useState('');
  const [sort, setSort] = useState<SortState<'name' | 'updatedAt'>>({ key: 'name', desc: false });
  const [pageNo, setPageNo] = useState(1);
  const [pageSize, setPageSize] = useState(50);
  const [creating, setCreating] = useState(false);
  useEffect(() => setPageNo(1), [query, protocol, enabled, ns, pageSize, sort.key, sort.desc]);
  const q = new URLSearchParams({ pageNo: String(pageNo), pageSize: String(pageSize), sort: `${sort.desc ? '-' : ''}${sort.key}` });
  if (query) q.set('search', query);
  if (protocol) q.set('protocol', protocol);
  if (enabled) q.set('enabled', enabled);
  const state = useLoad(() => api<Page<ServerRow>>('GET', `/namespaces/${enc(ns)}/mcp-servers?${q.toString()}`), [ns, q.toString()]);
  const filtered = query || protocol || enabled;
  return (
    <section>
      <div className="page-head">
        <PageHeading title={t('servers.title')} />
        {can(ns, 'editor') && (
          <button type="button" className="primary" onClick={() => setCreating(true)}>
            {t('servers.new')}
          </button>
        )}
      </div>
      <p className="muted">{t('servers.intro', { namespace: ns })}</p>
      <Form className="toolbar" onSubmit={() => undefined} label={t('servers.filters')}>
        <TextField label={t('common.search')} type="search" value={search} onChange={(e) => setSearch(e.target.value)} placeholder={t('common.nameContains')} />
        <SelectField label={t('servers.protocol')} value={protocol} onChange={(e) => setProtocol(e.target.value)}>
          <option value="">{t('common.any')}</option>
          {PROTOCOLS.map((p) => <option key={p} value={p}>{p}</option>)}
        </SelectField>
        <SelectField label={t('servers.state')} value={enabled} onChange={(e) => setEnabled(e.target.value)}>
          <option value="">{t('common.any')}</option>
          <option value="true">{t('common.enabled')}</option>
          <option value="false">{t('common.disabled')}</option>
        </SelectField>
        <SelectField label={t('servers.sort')} value={`${sort.desc ? '-' : ''}${sort.key}`} onChange={(e) => setSort({ key: e.target.value.replace('-', '') as 'name' | 'updatedAt', desc: e.target.value.startsWith('-') })}>
          <option value="name">{t('servers.sortName')}</option>
          <option value="-name">{t('servers.sortNameDesc')}</option>
          <option value="-updatedAt">{t('servers.sortRecent')}</option>
          <option value="updatedAt">{t('servers.sortOldest')}</option>
        </SelectField>
      </Form>
      <Load state={state}>
        {(page) => (
          <>
            <DataTable
              caption={t('servers.title')}
              columns={[{ label: t('servers.name'), sortKey: 'name' }, t('servers.protocol'), t('servers.backend'), t('servers.tools'), t('servers.state'), t('servers.published'), t('servers.draft')]}
              sort={sort}
              onSort={setSort}
              items={page.items}
              testId="servers"
              empty={filtered ? t('servers.noMatch') : t('servers.none')}
              row={(s) => (
                <tr key={s.id}>
                  <td>
                    <Link to={path('ns', ns, 'servers', s.name)}>{s.name}</Link>
                    {s.description && <div className="muted small"><Expandable text={s.description} /></div>}
                  </td>
                  <td>{s.protocol}</td>
                  <td>
                    <div className="break small">{describeEndpoint(s.endpoint, t)}</div>
                    <HealthBadge health={s.health} />
                  </td>
                  <td>{formatNumber(s.toolCount)}</td>
                  <td>
                    <Badge kind={s.enabled ? 'ok' : 'muted'}>{s.enabled ? t('common.enabled') : t('common.disabled')}</Badge>
                  </td>
                  <td>{s.publishedVersion ? <Badge kind="info">{s.publishedVersion}</Badge> : <Badge kind="warn">{t('server.notPublished')}</Badge>}</td>
                  <td>{s.draftVersion ? <Badge kind="warn">{t('servers.draftPending', { version: s.draftVersion })}</Badge> : <span className="muted">—</span>}</td>
                </tr>
              )}
            />
            <Pager total={page.total} pageNo={pageNo} pageSize={pageSize} onPage={setPageNo} onPageSize={setPageSize} />
          </>
        )}
      </Load>
      <CreateServerDialog ns={ns} open={creating} onClose={() => setCreating(false)} />
    </section>
  );
}

function CreateServerDialog({ ns, open, onClose }: { ns: string; open: boolean; onClose: () => void }) {
  const { t } = useTranslation();
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
    notify(t('servers.created', { name, version }));
    onClose();
    navigate(path('ns', ns, 'servers', name.trim()));
  });
  const fe = fieldErrors(create.error);
  const shown = ['name', 'version', 'protocol', 'endpoint'].some((k) => fe(k));
  return (
    <Dialog open={open} title={t('servers.new')} onClose={onClose} wide>
      <Form onSubmit={() => create.run()}>
        <div className="row">
          <TextField label={t('servers.nameLabel')} required value={name} onChange={(e) => setName(e.target.value)} error={fe('name')} hint={t('servers.nameHint')} />
          <TextField label={t('servers.firstVersion')} value={version} onChange={(e) => setVersion(e.target.value)} error={fe('version')} hint={t('servers.firstVersionHint')} />
        </div>
        <TextArea label={t('servers.description')} rows={2} value={description} onChange={(e) => setDescription(e.target.value)} />
        <SelectField label={t('servers.backendProtocol')} value={protocol} onChange={(e) => setProtocol(e.target.value as typeof protocol)} hint={t('servers.backendProtocolHint')} error={fe('protocol')}>
          {PROTOCOLS.map((p) => <option key={p} value={p}>{p}</option>)}
        </SelectField>
        <EndpointFields ns={ns} value={endpoint} onChange={setEndpoint} error={fe} protocol={protocol} />
        <FormActions action={create} label={t('servers.create')} busyLabel={t('common.creating')} disabled={!name.trim()} onCancel={onClose} fieldShown={shown} />
      </Form>
    </Dialog>
  );
}
