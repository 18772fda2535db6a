/** The audit log: who changed what in the registry, when and from where, with each change's before and after. */
import { useState } from 'react';
import type { TFunction } from 'i18next';
import { Trans, useTranslation } from 'react-i18next';
import { api } from '../api.js';
import { formatNumber } from '../i18n.js';
import { useSession } from '../session.js';
import { ago, Badge, DataTable, Dialog, ErrorBox, Form, Load, PageHeading, SelectField, TextField, useAction, useLoad, when } from '../ui.js';

/** One difference of an entry (the API computes them from before and after). */
interface AuditChange {
  path: string;
  kind: 'added' | 'removed' | 'changed';
  from?: unknown;
  to?: unknown;
}

/** An entry as `GET /api/v1/audit` answers it. */
interface AuditEntry {
  id: string;
  revision: number;
  at: number;
  namespace: string;
  actor: { kind: 'user' | 'token' | 'anonymous' | 'system'; name: string; tokenId?: string };
  address: string | null;
  route: string | null;
  action: string;
  entity: string;
  entityId: string;
  entityName: string;
  before: unknown;
  after: unknown;
  secretsChanged: string[];
  changes: AuditChange[];
}

interface AuditPage {
  items: AuditEntry[];
  nextCursor: string | null;
}

interface Filters {
  scope: string;
  actor: string;
  entityType: string;
  action: string;
  entityName: string;
  since: string;
  until: string;
}

const ENTITY_TYPES = ['namespace', 'service', 'instance', 'mcp_server', 'user', 'token', 'consumer'] as const;
/** The actions recorded (`<entity>.<verb>`), by entity. */
const VERBS: Record<string, readonly string[]> = {
  namespace: ['create', 'update', 'delete'], service: ['create', 'update', 'delete'], instance: ['register', 'update', 'deregister', 'expire'],
  mcp_server: ['create', 'update', 'delete'], version: ['save', 'publish', 'overwrite', 'rollback', 'delete'], user: ['create', 'update', 'delete'],
  token: ['create', 'revoke'], consumer: ['create', 'update', 'delete'],
};
const ACTIONS = Object.entries(VERBS).flatMap(([entity, verbs]) => verbs.map((v) => `${entity}.${v}`));
/** The scope of a global admin's "everything". */
const ALL = '(all)';

function query(f: Filters, cursor?: string): string {
  const q = new URLSearchParams({ limit: '50' });
  if (f.scope !== ALL) q.set('namespace', f.scope);
  if (f.actor.trim()) q.set('actor', f.actor.trim());
  if (f.entityType) q.set('entityType', f.entityType);
  if (f.action) q.set('action', f.action);
  if (f.entityName.trim()) q.set('entityName', f.entityName.trim());
  // datetime-local is the browser's local time: sent as an instant.
  if (f.since) q.set('since', new Date(f.since).toISOString());
  if (f.until) q.set('until', new Date(f.until).toISOString());
  if (cursor) q.set('cursor', cursor);
  return q.toString();
}

/** A recorded value as text (JSON), cut after 2,000 characters. */
function fmt(v: unknown): string {
  if (v === undefined) return '';
  const s = typeof v === 'string' ? v : JSON.stringify(v, null, 2);
  return s.length > 2000 ? `${s.slice(0, 2000)}…` : s;
}

/** An action in words of the language shown (the code itself when it has none). */
function actionLabel(action: string, t: TFunction): string {
  return t(`audit.actions.${action}`, { defaultValue: action });
}

function actorLabel(a: AuditEntry['actor'], t: TFunction): string {
  if (a.kind === 'token') return t('audit.actorToken', { name: a.name });
  if (a.kind === 'system') return t('audit.system');
  return a.name;
}

function verbKind(action: string): 'ok' | 'bad' | 'warn' | 'info' {
  const verb = action.slice(action.indexOf('.') + 1);
  if (['create', 'register'].includes(verb)) return 'ok';
  if (['delete', 'deregister', 'expire', 'revoke'].includes(verb)) return 'bad';
  if (['publish', 'rollback'].includes(verb)) return 'info';
  return 'warn';
}

/** One entry in full: where it came from, and what changed, in the table of differences. */
function EntryDetail({ entry }: { entry: AuditEntry }) {
  const { t } = useTranslation();
  return (
    <div data-testid="audit-detail">
      <dl className="facts">
        <div><dt>{t('audit.when')}</dt><dd>{when(entry.at)} <span className="muted small">({ago(entry.at)})</span></dd></div>
        <div><dt>{t('audit.who')}</dt><dd>{actorLabel(entry.actor, t)}{entry.actor.tokenId ? <> · <code className="break">{entry.actor.tokenId}</code></> : null}</dd></div>
        <div><dt>{t('audit.from')}</dt><dd>{entry.address ?? '—'}{entry.route ? <> · <code className="break">{entry.route}</code></> : null}</dd></div>
        <div><dt>{t('audit.entity')}</dt><dd>{t(`audit.entityTypes.${entry.entity}`, { defaultValue: entry.entity })} <code className="break">{entry.entityId}</code></dd></div>
        <div><dt>{t('audit.namespace')}</dt><dd>{entry.namespace}</dd></div>
        <div><dt>{t('audit.revision')}</dt><dd>{formatNumber(entry.revision)}</dd></div>
      </dl>
      {entry.secretsChanged.length > 0 && (
        <p className="notice-inline small">
          {t('audit.secretsChanged')} {entry.secretsChanged.map((p) => <code key={p} className="break">{p} </code>)}
        </p>
      )}
      <DataTable
        caption={t('audit.changesTable')}
        columns={[t('audit.where'), t('audit.change'), t('audit.before'), t('audit.after')]}
        items={entry.changes}
        empty={t('audit.nothingChanged')}
        className="diff audit-changes"
        testId="audit-changes"
        row={(c, i) => (
          <tr key={i}>
            <td><code className="break">{c.path || t('audit.wholeEntry')}</code></td>
            <td><Badge kind={c.kind === 'added' ? 'ok' : c.kind === 'removed' ? 'bad' : 'warn'}>{t(`diff.kind.${c.kind}`)}</Badge></td>
            <td><pre>{fmt(c.from)}</pre></td>
            <td><pre>{fmt(c.to)}</pre></td>
          </tr>
        )}
      />
    </div>
  );
}

export function AuditPage({ ns }: { ns: string }) {
  const { t } = useTranslation();
  const { me, can } = useSession();
  const empty: Filters = { scope: ns, actor: '', entityType: '', action: '', entityName: '', since: '', until: '' };
  const [draft, setDraft] = useState<Filters>(empty);
  const [applied, setApplied] = useState<Filters>(empty);
  const [more, setMore] = useState<AuditEntry[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [open, setOpen] = useState<AuditEntry>();
  const allowed = can(ns, 'admin');
  const state = useLoad(async () => {
    if (!allowed) return { items: [], nextCursor: null };
    const page = await api<AuditPage>('GET', `/audit?${query(applied)}`);
    setMore([]);
    setCursor(page.nextCursor);
    return page;
  }, [applied, allowed]);
  const loadMore = useAction(async () => {
    if (!cursor) return;
    const page = await api<AuditPage>('GET', `/audit?${query(applied, cursor)}`);
    setMore((m) => [...m, ...page.items]);
    setCursor(page.nextCursor);
  });
  const set = (patch: Partial<Filters>) => setDraft((d) => ({ ...d, ...patch }));

  if (!allowed) {
    return (
      <section>
        <PageHeading title={t('audit.title')} />
        <ErrorBox title={t('errors.forbidden')} error={new Error(t('audit.needsAdmin', { namespace: ns }))} />
      </section>
    );
  }
  return (
    <section>
      <div className="page-head">
        <PageHeading title={t('audit.title')} />
        <div className="head-actions">
          <button type="button" onClick={state.reload}>{t('common.refresh')}</button>
        </div>
      </div>
      <p className="muted"><Trans i18nKey="audit.intro" components={{ code: <code /> }} /></p>
      <Form className="toolbar" label={t('audit.filters')} onSubmit={() => setApplied({ ...draft })}>
        <SelectField label={t('audit.scope')} value={draft.scope} onChange={(e) => set({ scope: e.target.value })}>
          <option value={ns}>{t('audit.scopeNamespace', { namespace: ns })}</option>
          {me.globalAdmin && <option value="*">{t('audit.scopeUsers')}</option>}
          {me.globalAdmin && <option value={ALL}>{t('audit.scopeAll')}</option>}
        </SelectField>
        <TextField label={t('audit.actor')} value={draft.actor} placeholder={t('audit.actorPlaceholder')} onChange={(e) => set({ actor: e.target.value })} />
        <SelectField label={t('audit.entityType')} value={draft.entityType} onChange={(e) => set({ entityType: e.target.value })}>
          <option value="">{t('common.any')}</option>
          {ENTITY_TYPES.map((x) => <option key={x} value={x}>{t(`audit.entityTypes.${x}`)}</option>)}
        </SelectField>
        <SelectField label={t('audit.action')} value={draft.action} onChange={(e) => set({ action: e.target.value })}>
          <option value="">{t('common.any')}</option>
          {ACTIONS.map((a) => <option key={a} value={a}>{actionLabel(a, t)} ({a})</option>)}
        </SelectField>
        <TextField label={t('audit.entityName')} value={draft.entityName} placeholder={t('audit.entityNamePlaceholder')} onChange={(e) => set({ entityName: e.target.value })} />
        <TextField label={t('audit.since')} type="datetime-local" value={draft.since} onChange={(e) => set({ since: e.target.value })} />
        <TextField label={t('audit.until')} type="datetime-local" value={draft.until} onChange={(e) => set({ until: e.target.value })} />
        <div className="actions">
          <button type="submit" className="primary">{t('audit.apply')}</button>
          <button type="button" onClick={() => { setDraft(empty); setApplied(empty); }}>{t('audit.clear')}</button>
        </div>
      </Form>
      <Load state={state} label={t('audit.reading')}>
        {(page) => {
          const items = [...page.items, ...more];
          return (
            <>
              <DataTable
                caption={t('audit.table')}
                columns={[t('audit.when'), t('audit.who'), t('audit.from'), t('audit.action'), t('audit.entity'), t('audit.namespace')]}
                actions
                items={items}
                empty={t('audit.none')}
                className="audit-list"
                testId="audit"
                footer={<p className="muted small" data-testid="audit-count">{t('audit.shown', { count: items.length, n: formatNumber(items.length) })}</p>}
                row={(e) => (
                  <tr key={e.id}>
                    <td>{when(e.at)}</td>
                    <td>{actorLabel(e.actor, t)}</td>
                    <td>{e.address ?? '—'}</td>
                    <td>
                      <Badge kind={verbKind(e.action)}>{actionLabel(e.action, t)}</Badge>
                      <div><code className="small">{e.action}</code></div>
                    </td>
                    <td className="break">
                      {e.entityName}
                      <div className="muted small">{t(`audit.entityTypes.${e.entity}`, { defaultValue: e.entity })}</div>
                    </td>
                    <td>{e.namespace}</td>
                    <td className="row-actions">
                      <button type="button" onClick={() => setOpen(e)} aria-label={t('audit.changesOf', { action: actionLabel(e.action, t), name: e.entityName })}>
                        {t('audit.changes')}
                      </button>
                    </td>
                  </tr>
                )}
              />
              <ErrorBox error={loadMore.error} />
              {cursor && (
                <div className="actions">
                  <button type="button" disabled={loadMore.busy} onClick={() => void loadMore.run()}>
                    {loadMore.busy ? t('common.loading') : t('audit.older')}
                  </button>
                </div>
              )}
            </>
          );
        }}
      </Load>
      <Dialog open={open !== undefined} title={open ? t('audit.detailTitle', { action: actionLabel(open.action, t), name: open.entityName }) : ''} onClose={() => setOpen(undefined)} wide>
        {open && <EntryDetail entry={open} />}
      </Dialog>
    </section>
  );
}
