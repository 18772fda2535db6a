/** The audit log: who changed what in the registry, when and from where, with each change's before and after. */
import { Fragment, useState } from 'react';
import { api } from '../api.js';
import { useSession } from '../session.js';
import { Badge, DataTable, ErrorBox, Form, SelectField, Spinner, TextField, useAction, useLoad, when } from '../ui.js';

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
const ACTIONS = [
  'namespace.create', 'namespace.update', 'namespace.delete', 'service.create', 'service.update', 'service.delete',
  'instance.register', 'instance.update', 'instance.deregister', 'instance.expire', 'mcp_server.create', 'mcp_server.update', 'mcp_server.delete',
  'version.save', 'version.publish', 'version.rollback', 'version.delete', 'user.create', 'user.update', 'user.delete', 'token.create', 'token.revoke',
  'consumer.create', 'consumer.update', 'consumer.delete',
];
const ALL = '(all)';

function query(f: Filters, cursor?: string): string {
  const q = new URLSearchParams({ limit: '50' });
  if (f.scope !== ALL) q.set('namespace', f.scope);
  if (f.actor.trim()) q.set('actor', f.actor.trim());
  if (f.entityType) q.set('entityType', f.entityType);
  if (f.action.trim()) q.set('action', f.action.trim());
  if (f.entityName.trim()) q.set('entityName', f.entityName.trim());
  // datetime-local is the browser's local time: sent as an instant.
  if (f.since) q.set('since', new Date(f.since).toISOString());
  if (f.until) q.set('until', new Date(f.until).toISOString());
  if (cursor) q.set('cursor', cursor);
  return q.toString();
}

function fmt(v: unknown): string {
  if (v === undefined) return '';
  const s = typeof v === 'string' ? v : JSON.stringify(v, null, 2);
  return s.length > 2000 ? `${s.slice(0, 2000)}…` : s;
}

function actorLabel(a: AuditEntry['actor']): string {
  if (a.kind === 'token') return `${a.name} (API token)`;
  if (a.kind === 'system') return 'the registry';
  return a.name;
}

function verbKind(action: string): 'ok' | 'bad' | 'warn' | 'info' {
  const verb = action.slice(action.indexOf('.') + 1);
  if (['create', 'register'].includes(verb)) return 'ok';
  if (['delete', 'deregister', 'expire', 'revoke'].includes(verb)) return 'bad';
  if (['publish', 'rollback'].includes(verb)) return 'info';
  return 'warn';
}

/** The changes of one entry, in the table the version diff uses. */
function Changes({ entry }: { entry: AuditEntry }) {
  return (
    <div className="audit-detail" data-testid="audit-detail">
      {entry.secretsChanged.length > 0 && (
        <p className="muted small">
          Secrets changed (values hidden): {entry.secretsChanged.map((p) => <code key={p} className="break">{p} </code>)}
        </p>
      )}
      <DataTable
        columns={['Where', 'Change', 'Before', 'After']}
        items={entry.changes}
        empty="Nothing changed in the recorded fields."
        caption={`Changes of ${entry.action} ${entry.entityName}`}
        className="diff"
        testId="audit-changes"
        row={(c, i) => (
          <tr key={i} className={`diff-${c.kind}`}>
            <td><code className="break">{c.path || '(whole entry)'}</code></td>
            <td><Badge kind={c.kind === 'added' ? 'ok' : c.kind === 'removed' ? 'bad' : 'warn'}>{c.kind}</Badge></td>
            <td><pre className="diff-old">{fmt(c.from)}</pre></td>
            <td><pre className="diff-new">{fmt(c.to)}</pre></td>
          </tr>
        )}
      />
      <p className="muted small">
        Revision {entry.revision}
        {entry.route ? <> · <code>{entry.route}</code></> : null}
        {entry.actor.tokenId ? <> · token {entry.actor.tokenId}</> : null} · entity id <code className="break">{entry.entityId}</code>
      </p>
    </div>
  );
}

export function AuditPage({ ns }: { ns: string }) {
  const { me, can } = useSession();
  const empty: Filters = { scope: ns, actor: '', entityType: '', action: '', entityName: '', since: '', until: '' };
  const [draft, setDraft] = useState<Filters>(empty);
  const [applied, setApplied] = useState<Filters>(empty);
  const [more, setMore] = useState<AuditEntry[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [open, setOpen] = useState<string>();
  const state = useLoad(async () => {
    const page = await api<AuditPage>('GET', `/audit?${query(applied)}`);
    setMore([]);
    setCursor(page.nextCursor);
    return page;
  }, [applied]);
  const loadMore = useAction(async () => {
    if (!cursor) return;
    const page = await api<AuditPage>('GET', `/audit?${query(applied, cursor)}`);
    setMore((m) => [...m, ...page.items]);
    setCursor(page.nextCursor);
  });
  const set = (patch: Partial<Filters>) => setDraft((d) => ({ ...d, ...patch }));

  if (!can(ns, 'admin')) {
    return (
      <section>
        <h1>Audit log</h1>
        <ErrorBox title="Not allowed" error={new Error(`The audit log of '${ns}' needs the admin role in it.`)} />
      </section>
    );
  }
  const items = [...(state.data?.items ?? []), ...more];
  return (
    <section>
      <div className="page-head">
        <h1>Audit log</h1>
        <button type="button" onClick={state.reload}>Refresh</button>
      </div>
      <p className="muted">
        Every change to the registry, newest first: who made it, when, from which address, and what changed. Secrets show as <code>******</code>; a
        changed secret is listed without its values. Entries are kept for the configured retention (<code>auditRetentionDays</code>).
      </p>
      <Form className="toolbar audit-filters" onSubmit={() => setApplied({ ...draft })}>
        <SelectField label="Scope" value={draft.scope} onChange={(e) => set({ scope: e.target.value })}>
          <option value={ns}>namespace {ns}</option>
          {me.globalAdmin && <option value="*">users and tokens (*)</option>}
          {me.globalAdmin && <option value={ALL}>everything</option>}
        </SelectField>
        <TextField label="Actor" value={draft.actor} placeholder="user name" onChange={(e) => set({ actor: e.target.value })} />
        <SelectField label="Entity type" value={draft.entityType} onChange={(e) => set({ entityType: e.target.value })}>
          <option value="">any</option>
          {ENTITY_TYPES.map((t) => <option key={t} value={t}>{t}</option>)}
        </SelectField>
        <TextField label="Action" value={draft.action} list="audit-actions" placeholder="version.publish" onChange={(e) => set({ action: e.target.value })} />
        <datalist id="audit-actions">{ACTIONS.map((a) => <option key={a} value={a} />)}</datalist>
        <TextField label="Entity name" value={draft.entityName} placeholder="part of a name" onChange={(e) => set({ entityName: e.target.value })} />
        <TextField label="Since" type="datetime-local" value={draft.since} onChange={(e) => set({ since: e.target.value })} />
        <TextField label="Until" type="datetime-local" value={draft.until} onChange={(e) => set({ until: e.target.value })} />
        <div className="actions">
          <button type="submit" className="primary">Apply filters</button>
          <button type="button" onClick={() => { setDraft(empty); setApplied(empty); }}>Clear</button>
        </div>
      </Form>
      <ErrorBox error={state.error} onRetry={state.reload} />
      {state.loading && state.data === undefined ? <Spinner label="Reading the audit log…" /> : (
        <DataTable
          caption="Audit log"
          columns={['When', 'Who', 'From', 'Action', 'Entity', 'Namespace']}
          actions
          items={items}
          empty="No change matches these filters."
          testId="audit"
          row={(e) => (
            <Fragment key={e.id}>
              <tr>
                <td>{when(e.at)}</td>
                <td>{actorLabel(e.actor)}</td>
                <td>{e.address ?? '—'}</td>
                <td><Badge kind={verbKind(e.action)}>{e.action}</Badge></td>
                <td className="break">{e.entityName}</td>
                <td>{e.namespace}</td>
                <td className="row-actions">
                  <button type="button" aria-expanded={open === e.id} onClick={() => setOpen(open === e.id ? undefined : e.id)}>
                    {open === e.id ? 'Hide changes' : 'Changes'}
                  </button>
                </td>
              </tr>
              {open === e.id && (
                <tr className="audit-detail-row">
                  <td colSpan={7}><Changes entry={e} /></td>
                </tr>
              )}
            </Fragment>
          )}
        />
      )}
      <ErrorBox error={loadMore.error} />
      {cursor && (
        <button type="button" disabled={loadMore.busy} onClick={() => void loadMore.run()}>
          {loadMore.busy ? 'Loading…' : 'Load older entries'}
        </button>
      )}
    </section>
  );
}
