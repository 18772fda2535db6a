import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, enc } from '../api.js';
import type { Page, ServiceRow } from '../api.js';
import { formatNumber } from '../i18n.js';
import { Link, navigate, path } from '../router.js';
import { useSession } from '../session.js';
import type { SortState } from '../ui.js';
import { Badge, DataTable, Dialog, fieldErrors, Form, FormActions, Load, PageHeading, Pager, TextField, useAction, useDebounced, useLoad, useNotify } from '../ui.js';

export function ServicesPage({ ns }: { ns: string }) {
  const { t } = useTranslation();
  const { can } = useSession();
  const [search, setSearch] = useState('');
  const query = useDebounced(search.trim());
  const [sort, setSort] = useState<SortState<'name'>>({ key: 'name', desc: false });
  const [pageNo, setPageNo] = useState(1);
  const [pageSize, setPageSize] = useState(50);
  const [creating, setCreating] = useState(false);
  useEffect(() => setPageNo(1), [query, ns, pageSize]);
  const q = new URLSearchParams({ pageNo: String(pageNo), pageSize: String(pageSize), sort: sort.desc ? '-name' : 'name' });
  if (query) q.set('search', query);
  const state = useLoad(() => api<Page<ServiceRow>>('GET', `/namespaces/${enc(ns)}/services?${q.toString()}`), [ns, q.toString()]);
  return (
    <section>
      <div className="page-head">
        <PageHeading title={t('services.title')} />
        {can(ns, 'editor') && (
          <button type="button" className="primary" onClick={() => setCreating(true)}>
            {t('services.new')}
          </button>
        )}
      </div>
      <p className="muted">{t('services.intro', { namespace: ns })}</p>
      <Form className="toolbar" onSubmit={() => undefined} label={t('services.searchForm')}>
        <TextField label={t('services.search')} type="search" value={search} onChange={(e) => setSearch(e.target.value)} placeholder={t('common.nameContains')} />
      </Form>
      <Load state={state}>
        {(page) => (
          <>
            <DataTable
              caption={t('services.title')}
              columns={[{ label: t('services.name'), sortKey: 'name' }, t('services.group'), t('services.instances'), t('services.healthy'), t('services.kind')]}
              sort={sort}
              onSort={setSort}
              items={page.items}
              empty={query ? t('services.noMatch') : t('services.none')}
              row={(s) => (
                <tr key={s.id}>
                  <td>
                    <Link to={path('ns', ns, 'services', s.group, s.name)}>{s.name}</Link>
                  </td>
                  <td>{s.group}</td>
                  <td>{formatNumber(s.instanceCount)}</td>
                  <td>
                    {s.instanceCount === 0 ? (
                      <Badge kind="muted">{t('services.noInstance')}</Badge>
                    ) : (
                      <Badge kind={s.healthyCount === 0 ? 'bad' : s.healthyCount < s.instanceCount ? 'warn' : 'ok'}>
                        {t('services.healthyOf', { healthy: s.healthyCount, total: s.instanceCount })}
                      </Badge>
                    )}
                  </td>
                  <td>{s.ephemeral === null ? '—' : s.ephemeral ? t('services.ephemeral') : t('services.persistent')}</td>
                </tr>
              )}
            />
            <Pager total={page.total} pageNo={pageNo} pageSize={pageSize} onPage={setPageNo} onPageSize={setPageSize} />
          </>
        )}
      </Load>
      <CreateServiceDialog ns={ns} open={creating} onClose={() => setCreating(false)} />
    </section>
  );
}

function CreateServiceDialog({ ns, open, onClose }: { ns: string; open: boolean; onClose: () => void }) {
  const { t } = useTranslation();
  const notify = useNotify();
  const [name, setName] = useState('');
  const [group, setGroup] = useState('DEFAULT_GROUP');
  const [threshold, setThreshold] = useState('0');
  const create = useAction(async () => {
    await api('POST', `/namespaces/${enc(ns)}/services`, { name: name.trim(), group: group.trim() || 'DEFAULT_GROUP', protectThreshold: Number(threshold) || 0 });
    notify(t('services.created', { name }));
    onClose();
    navigate(path('ns', ns, 'services', group.trim() || 'DEFAULT_GROUP', name.trim()));
  });
  const fe = fieldErrors(create.error);
  return (
    <Dialog open={open} title={t('services.new')} onClose={onClose}>
      <Form onSubmit={() => create.run()}>
        <TextField label={t('services.nameLabel')} required value={name} onChange={(e) => setName(e.target.value)} error={fe('name')} />
        <TextField label={t('services.group')} value={group} onChange={(e) => setGroup(e.target.value)} error={fe('group')} />
        <TextField label={t('services.threshold')} type="number" min={0} max={1} step={0.05} value={threshold} onChange={(e) => setThreshold(e.target.value)} hint={t('services.thresholdHint')} error={fe('protectThreshold')} />
        <FormActions action={create} label={t('services.create')} busyLabel={t('common.creating')} disabled={!name.trim()} onCancel={onClose} fieldShown={!!(fe('name') || fe('group') || fe('protectThreshold'))} />
      </Form>
    </Dialog>
  );
}
