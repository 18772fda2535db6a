import { useEffect, useMemo, useState } from 'react';
import { Trans, useTranslation } from 'react-i18next';
import { api, enc, versionChanged } from '../api.js';
import type { ConsoleSettings, Consumer, McpServerSpec, PublishHistory, ServerView, Tool, VersionSummary, VersionView } from '../api.js';
import { agentUrl, clientConfigs, CLIENTS } from '../client-configs.js';
import type { ClientKind } from '../client-configs.js';
import { formatNumber } from '../i18n.js';
import { Link, navigate, path } from '../router.js';
import { useSession } from '../session.js';
import type { Loaded, SortState } from '../ui.js';
import {
  ago, Badge, Check, Confirm, ConfirmItem, CopyButton, DataTable, Dialog, ErrorBox, Expandable, fieldErrors, Form, FormActions, Load, PageHeading, parseJson,
  pretty, SelectField, Tabs, TextArea, TextField, useAction, useLoad, useNotify, when,
} from '../ui.js';
import { EndpointFields, endpointDraft, endpointOf } from './endpoint.js';
import { VirtualSection } from './virtual-editor.js';
import { AuthorizationForm } from './authorization.js';
import { ImportToolsDialog, UPSTREAM_PROTOCOLS } from './import-tools.js';

/** The draft being worked on: the latest draft version, if any. */
export function workingDraft(versions: VersionSummary[], latest: string | null): VersionSummary | undefined {
  const drafts = versions.filter((v) => v.status === 'draft');
  return drafts.find((v) => v.version === latest) ?? drafts.sort((a, b) => b.createdAt - a.createdAt)[0];
}

/** The next patch version after the highest `x.y.z` one (or `1.0.0`). */
export function nextVersion(versions: VersionSummary[]): string {
  let best: number[] | undefined;
  for (const v of versions) {
    const m = /^(\d+)\.(\d+)\.(\d+)$/.exec(v.version);
    if (!m) continue;
    const n = [Number(m[1]), Number(m[2]), Number(m[3])];
    if (!best || n[0]! > best[0]! || (n[0] === best[0] && (n[1]! > best[1]! || (n[1] === best[1] && n[2]! > best[2]!)))) best = n;
  }
  return best ? `${best[0]}.${best[1]}.${best[2]! + 1}` : '1.0.0';
}

export function serverBase(ns: string, name: string): string {
  return `/namespaces/${enc(ns)}/mcp-servers/${enc(name)}`;
}

/** A server page's data: the server (`state`) and its publish history, reloaded as the server's published version or update time changes. */
export function useServerWithHistory(ns: string, name: string): { base: string; state: Loaded<ServerView>; history: Loaded<PublishHistory> } {
  const base = serverBase(ns, name);
  const state = useLoad(() => api<ServerView>('GET', base), [base]);
  const history = useLoad(() => api<PublishHistory>('GET', `${base}/history`), [base, state.data?.publishedVersion, state.data?.updatedAt]);
  return { base, state, history };
}

/** Create draft `version` as a copy of `from` (or empty); answers its name. */
export async function createDraft(ns: string, server: string, version: string, from: string | undefined): Promise<string> {
  const base = serverBase(ns, server);
  const spec = from ? (await api<VersionView>('GET', `${base}/versions/${enc(from)}`)).spec : { description: '', tools: [] };
  await api('PUT', `${base}/versions/${enc(version)}`, { spec: { ...spec, version } });
  return version;
}

/**
 * Roll a server back to the version it served before (named in the button and the message),
 * with an optional note for the publish history.
 */
export function RollbackDialog({ ns, server, target, open, onClose, onDone }: { ns: string; server: ServerView; target: string; open: boolean; onClose: () => void; onDone: (s: ServerView) => void }) {
  const { t } = useTranslation();
  const notify = useNotify();
  const [note, setNote] = useState('');
  const published = server.versions.find((v) => v.version === target)?.publishedAt ?? null;
  return (
    <Confirm
      open={open}
      danger={false}
      title={t('rollback.title', { version: target })}
      message={
        <>
          <p><Trans i18nKey="rollback.message" values={{ target, current: server.publishedVersion ?? '—' }} components={{ strong: <strong /> }} /></p>
          {published !== null && <p className="muted small">{t('rollback.firstPublished', { version: target, when: when(published) })}</p>}
        </>
      }
      extra={<TextField label={t('publish.note')} value={note} onChange={(e) => setNote(e.target.value)} hint={t('publish.noteHint')} />}
      confirmLabel={t('rollback.button', { version: target })}
      onClose={onClose}
      onConfirm={async () => {
        const s = await api<ServerView>('POST', `${serverBase(ns, server.name)}/rollback`, { version: target, ...(note.trim() ? { note: note.trim() } : {}) });
        notify(t('rollback.done', { version: target }));
        setNote('');
        onClose();
        onDone(s);
      }}
    />
  );
}

export function ServerDetailPage({ ns, name }: { ns: string; name: string }) {
  const { t } = useTranslation();
  const { can } = useSession();
  const notify = useNotify();
  const { base, state, history } = useServerWithHistory(ns, name);
  const [deleting, setDeleting] = useState(false);
  const [rollingBack, setRollingBack] = useState(false);
  const editor = can(ns, 'editor');
  const toggle = useAction(async (enabled: boolean) => {
    const s = await api<ServerView>('PATCH', base, { enabled });
    state.setData(s);
    notify(t(enabled ? 'server.enabledNotice' : 'server.disabledNotice', { name }));
  });

  return (
    <section>
      <nav className="crumbs" aria-label={t('common.breadcrumbs')}>
        <Link to={path('ns', ns, 'servers')}>{t('servers.title')}</Link>
      </nav>
      <Load state={state}>
        {(s) => {
          const draft = workingDraft(s.versions, s.latestVersion);
          const last = history.data?.items[0];
          return (
            <>
              <div className="page-head">
                <PageHeading title={t('server.title', { name: s.name })}>
                  {s.name}{' '}
                  <Badge kind={s.enabled ? 'ok' : 'muted'}>{s.enabled ? t('common.enabled') : t('common.disabled')}</Badge>{' '}
                  {s.publishedVersion ? <Badge kind="info">{t('server.publishedBadge', { version: s.publishedVersion })}</Badge> : <Badge kind="warn">{t('server.notPublished')}</Badge>}
                  {draft && <Badge kind="warn">{t('servers.draftPending', { version: draft.version })}</Badge>}
                </PageHeading>
                <div className="head-actions">
                  <Link className="button" to={path('ns', ns, 'servers', name, 'versions')}>
                    {t('server.versions')}
                  </Link>
                  <Link className="button" to={path('ns', ns, 'activity', name)} data-testid="server-activity-link">
                    {t('server.activity')}
                  </Link>
                  {editor && s.rollbackTarget && (
                    <button type="button" onClick={() => setRollingBack(true)}>
                      {t('rollback.button', { version: s.rollbackTarget })}
                    </button>
                  )}
                  {editor && (
                    <>
                      <button type="button" disabled={toggle.busy} onClick={() => void toggle.run(!s.enabled)}>
                        {s.enabled ? t('common.disable') : t('common.enable')}
                      </button>
                      <button type="button" className="danger-outline" onClick={() => setDeleting(true)}>
                        {t('common.delete')}
                      </button>
                    </>
                  )}
                </div>
              </div>
              <ErrorBox error={toggle.error} />
              {last && (
                <p className="muted small" data-testid="last-publish">
                  {t(last.action === 'rollback' ? 'history.lastRollback' : 'history.lastPublish', { version: last.version, actor: last.actor, ago: ago(last.at) })}
                  {last.note ? ` — “${last.note}”` : ''}
                </p>
              )}
              <ConnectPanel ns={ns} server={s} />
              <WorkingVersion ns={ns} server={s} draft={draft} editor={editor} onChanged={state.reload} />
              <ServerSettings ns={ns} server={s} editor={editor} onSaved={(v) => state.setData(v)} />
              {s.rollbackTarget && <RollbackDialog ns={ns} server={s} target={s.rollbackTarget} open={rollingBack} onClose={() => setRollingBack(false)} onDone={(v) => state.setData(v)} />}
            </>
          );
        }}
      </Load>
      <Confirm
        open={deleting}
        title={t('server.deleteTitle')}
        message={<p><Trans i18nKey="server.deleteMessage" values={{ name }} components={{ strong: <strong /> }} /></p>}
        confirmLabel={t('server.deleteConfirm')}
        onClose={() => setDeleting(false)}
        onConfirm={async () => {
          await api('DELETE', base);
          notify(t('server.deleted', { name }));
          setDeleting(false);
          navigate(path('ns', ns, 'servers'));
        }}
      />
    </section>
  );
}

/** The full agent URL and ready-to-paste client configurations. */
function ConnectPanel({ ns, server }: { ns: string; server: ServerView }) {
  const { t } = useTranslation();
  const settings = useLoad(() => api<ConsoleSettings>('GET', '/console/settings'), []);
  const keys = useLoad(() => api<{ items: Consumer[] }>('GET', `/namespaces/${enc(ns)}/consumers`).catch(() => ({ items: [] as Consumer[] })), [ns]);
  const [client, setClient] = useState<ClientKind>('cursor');
  const gateway = settings.data?.publicGatewayUrl ?? `${window.location.protocol}//${window.location.hostname}:${settings.data?.gatewayPort ?? 8080}`;
  const url = agentUrl(gateway, ns, server.name);
  const needsKey = (keys.data?.items.length ?? 0) > 0;
  const configs = clientConfigs(server.name, url, needsKey);
  const shown = configs.find((c) => c.kind === client) ?? configs[0]!;
  return (
    <div className="panel" data-testid="connect">
      <h2>{t('connect.title')}</h2>
      <div className="url-row">
        <code data-testid="agent-url" className="break">{url}</code>
        <CopyButton text={url} label={t('connect.copyUrl')} />
      </div>
      <p className="muted small">
        {t('connect.sse', { url: `${url}/sse` })} {needsKey ? t('connect.keyNeeded') : t('connect.open')}
      </p>
      <Tabs tabs={CLIENTS.map((k) => ({ key: k, label: t(`connect.clients.${k}`) }))} selected={client} select={setClient} label={t('connect.clientsLabel')} idPrefix="client" />
      <div role="tabpanel" id={`client-panel-${client}`} aria-labelledby={`client-tab-${client}`} className="tab-panel">
        <p className="small">{shown.file ? t('connect.pasteInto', { file: shown.file }) : shown.format === 'shell' ? t('connect.run') : t(`connect.howto.${client}`)}</p>
        <pre className="code-block" tabIndex={0} data-testid="client-config">{shown.text}</pre>
        <CopyButton text={shown.text} />
      </div>
    </div>
  );
}

type ToolSort = SortState<'name' | 'state'>;

/**
 * The version the page works on (the draft, else the published or latest one), read once for
 * its tools and the draft's configuration: every change to the draft is made on it as read and
 * sent with its entity-tag (If-Match), so that a change someone else made meanwhile is never
 * overwritten (412: said, with a reload).
 */
function WorkingVersion({ ns, server, draft, editor, onChanged }: { ns: string; server: ServerView; draft: VersionSummary | undefined; editor: boolean; onChanged: () => void }) {
  const shownVersion = draft?.version ?? server.publishedVersion ?? server.latestVersion;
  const base = serverBase(ns, server.name);
  const version = useLoad(() => (shownVersion ? api<VersionView>('GET', `${base}/versions/${enc(shownVersion)}`) : Promise.resolve(null)), [base, shownVersion, draft?.createdAt, server.updatedAt]);
  return (
    <>
      {server.protocol === 'virtual'
        ? <VirtualSection ns={ns} server={server} draft={draft?.version} editor={editor} version={version} onChanged={onChanged} />
        : <ToolsSection ns={ns} server={server} draft={draft} editor={editor} version={version} shownVersion={shownVersion} onChanged={onChanged} />}
      {draft && editor && <DraftSettings base={base} draft={draft.version} protocol={server.protocol} version={version} onSaved={onChanged} />}
      {draft && editor && <AuthorizationOverride base={base} draft={draft.version} version={version} onSaved={onChanged} />}
    </>
  );
}

function ToolsSection({ ns, server, draft, editor, version, shownVersion, onChanged }: {
  ns: string; server: ServerView; draft: VersionSummary | undefined; editor: boolean; version: Loaded<VersionView | null>; shownVersion: string | null; onChanged: () => void;
}) {
  const { t } = useTranslation();
  const notify = useNotify();
  const base = serverBase(ns, server.name);
  const [newDraft, setNewDraft] = useState(false);
  const [importing, setImporting] = useState(false);
  const [removing, setRemoving] = useState<string>();
  const [search, setSearch] = useState('');
  const [sort, setSort] = useState<ToolSort>({ key: 'name', desc: false });
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const canEdit = !!draft && editor;
  const tools = version.data?.spec.tools ?? [];
  const visible = useMemo(() => {
    const q = search.trim().toLowerCase();
    const list = tools.filter((x) => !q || x.name.toLowerCase().includes(q) || x.description.toLowerCase().includes(q) || (x.title ?? '').toLowerCase().includes(q));
    list.sort((a, b) => (sort.key === 'state' ? Number(b.enabled) - Number(a.enabled) || a.name.localeCompare(b.name) : a.name.localeCompare(b.name)));
    if (sort.desc) list.reverse();
    return list;
  }, [tools, search, sort]);
  const setEnabled = useAction(async (names: string[], enabled: boolean) => {
    const read = version.data;
    if (!draft || !read) return;
    const wanted = new Set(names);
    const spec: McpServerSpec = { ...read.spec, tools: read.spec.tools.map((x) => (wanted.has(x.name) ? { ...x, enabled } : x)) };
    // Shown at once; the draft's saved state replaces it. When saving fails, the draft as read
    // comes back (changed by someone else: they are told, with a reload); else the list reloads.
    version.setData({ ...read, spec });
    let saved: VersionView;
    try {
      saved = await api<VersionView>('PUT', `${base}/versions/${enc(draft.version)}`, { spec }, { ifMatch: read.etag });
    } catch (e) {
      if (versionChanged(e)) version.setData(read);
      else version.reload();
      throw e;
    }
    version.setData(saved);
    notify(t(enabled ? 'tools.enabledNotice' : 'tools.disabledNotice', { count: names.length, version: draft.version }));
    setSelected(new Set());
  });
  const allVisibleSelected = visible.length > 0 && visible.every((x) => selected.has(x.name));
  return (
    <div className="panel">
      <div className="panel-head">
        <h2>
          {t('tools.title')} {shownVersion && <span className="muted">{t(draft ? 'tools.ofDraft' : 'tools.ofVersion', { version: shownVersion })}</span>}
        </h2>
        {editor && (
          <div className="head-actions">
            {UPSTREAM_PROTOCOLS.has(server.protocol) && (
              <button type="button" onClick={() => setImporting(true)}>
                {t('importTools.button')}
              </button>
            )}
            {draft ? (
              <Link className="button primary" to={path('ns', ns, 'servers', server.name, 'versions', draft.version, 'new-tool')}>
                {t('tools.add')}
              </Link>
            ) : (
              <button type="button" className="primary" onClick={() => setNewDraft(true)}>
                {t('tools.newDraft')}
              </button>
            )}
          </div>
        )}
      </div>
      {editor && UPSTREAM_PROTOCOLS.has(server.protocol) && (
        <ImportToolsDialog
          ns={ns} server={server} draft={draft} suggested={nextVersion(server.versions)} open={importing}
          onClose={() => setImporting(false)}
          onDone={() => {
            version.reload();
            onChanged();
          }}
        />
      )}
      {!draft && editor && <p className="muted small">{t('tools.publishedImmutable', { version: server.publishedVersion ?? server.latestVersion ?? '—' })}</p>}
      <Load state={version}>
        {(v) => (
          <>
            <div className="toolbar tools-toolbar">
              <TextField label={t('tools.search')} type="search" value={search} onChange={(e) => setSearch(e.target.value)} placeholder={t('tools.searchPlaceholder')} />
              <p className="muted small tool-count" data-testid="tool-count" aria-live="polite">
                {search.trim() ? t('tools.countFiltered', { shown: formatNumber(visible.length), count: tools.length, total: formatNumber(tools.length) }) : t('tools.count', { count: tools.length, total: formatNumber(tools.length) })}
              </p>
              {canEdit && (
                <div className="bulk" role="group" aria-label={t('tools.bulk')}>
                  <button type="button" disabled={selected.size === 0 || setEnabled.busy} onClick={() => void setEnabled.run([...selected], true)}>
                    {t('tools.enableSelected', { count: selected.size })}
                  </button>
                  <button type="button" disabled={selected.size === 0 || setEnabled.busy} onClick={() => void setEnabled.run([...selected], false)}>
                    {t('tools.disableSelected', { count: selected.size })}
                  </button>
                </div>
              )}
            </div>
            <ErrorBox
              error={setEnabled.error}
              onReload={() => {
                setEnabled.clear();
                version.reload();
              }}
            />
            <DataTable
              caption={t('tools.title')}
              columns={[
                ...(canEdit ? [
                  <input
                    key="all" type="checkbox" aria-label={t('tools.selectAll')} checked={allVisibleSelected}
                    onChange={(e) => setSelected(e.target.checked ? new Set(visible.map((x) => x.name)) : new Set())}
                  />,
                ] : []),
                { label: t('tools.tool'), sortKey: 'name' as const }, t('tools.description'), t('tools.request'), { label: t('tools.state'), sortKey: 'state' as const },
              ]}
              sort={sort}
              onSort={setSort}
              actions={canEdit}
              items={visible}
              testId="tools"
              empty={tools.length === 0 ? <>{t('tools.none')}{canEdit ? ` ${t('tools.noneHint')}` : ''}</> : t('tools.noMatch')}
              row={(x: Tool) => (
                <tr key={x.name}>
                  {canEdit && (
                    <td>
                      <input
                        type="checkbox" aria-label={t('tools.select', { name: x.name })} checked={selected.has(x.name)}
                        onChange={(e) => setSelected((s) => { const n = new Set(s); if (e.target.checked) n.add(x.name); else n.delete(x.name); return n; })}
                      />
                    </td>
                  )}
                  <td>
                    <Link to={path('ns', ns, 'servers', server.name, 'versions', v?.version ?? '', 'tools', x.name)}>{x.name}</Link>
                    {x.title && <div className="muted small">{x.title}</div>}
                  </td>
                  <td className="desc-cell"><Expandable text={x.description} empty={<span className="muted">{t('tools.noDescription')}</span>} /></td>
                  <td>
                    {x.template?.request ? (
                      <code className="break">
                        {x.template.request.method} {x.template.request.url}
                      </code>
                    ) : x.template ? (
                      <span className="muted">{t('tools.direct')}</span>
                    ) : (
                      <span className="muted">{t('tools.noTemplate')}</span>
                    )}
                  </td>
                  <td>
                    {canEdit ? (
                      <label className="switch">
                        <input type="checkbox" role="switch" checked={x.enabled} disabled={setEnabled.busy} onChange={(e) => void setEnabled.run([x.name], e.target.checked)} aria-label={t('tools.enabledToggle', { name: x.name })} />
                        <span>{x.enabled ? t('common.enabled') : t('common.disabled')}</span>
                      </label>
                    ) : (
                      <Badge kind={x.enabled ? 'ok' : 'muted'}>{x.enabled ? t('common.enabled') : t('common.disabled')}</Badge>
                    )}
                  </td>
                  {canEdit && (
                    <td className="row-actions">
                      <button type="button" className="danger-outline" onClick={() => setRemoving(x.name)} aria-label={t('tools.removeOne', { name: x.name })}>
                        {t('tools.remove')}
                      </button>
                    </td>
                  )}
                </tr>
              )}
            />
          </>
        )}
      </Load>
      <NewDraftDialog ns={ns} server={server} open={newDraft} onClose={() => setNewDraft(false)} onCreated={onChanged} />
      <ConfirmItem
        item={removing}
        title={t('tools.removeTitle')}
        message={(tool) => <p><Trans i18nKey="tools.removeMessage" values={{ tool, version: draft?.version }} components={{ strong: <strong /> }} /></p>}
        confirmLabel={t('tools.removeTitle')}
        onClose={() => setRemoving(undefined)}
        onReload={() => {
          setRemoving(undefined);
          version.reload();
        }}
        onConfirm={async (tool) => {
          const read = version.data;
          if (!draft || !read) return;
          const spec: McpServerSpec = { ...read.spec, tools: read.spec.tools.filter((x) => x.name !== tool) };
          version.setData(await api<VersionView>('PUT', `${base}/versions/${enc(draft.version)}`, { spec }, { ifMatch: read.etag }));
          notify(t('tools.removed', { tool, version: draft.version }));
          onChanged();
        }}
      />
    </div>
  );
}

export function NewDraftDialog({ ns, server, open, onClose, onCreated, from }: { ns: string; server: ServerView; open: boolean; onClose: () => void; onCreated: () => void; from?: string }) {
  const { t } = useTranslation();
  const notify = useNotify();
  const source = from ?? server.publishedVersion ?? server.latestVersion ?? undefined;
  const [version, setVersion] = useState(nextVersion(server.versions));
  const create = useAction(async () => {
    const v = await createDraft(ns, server.name, version.trim(), source);
    notify(source ? t('draft.createdFrom', { version: v, from: source }) : t('draft.created', { version: v }));
    onClose();
    onCreated();
  });
  const fe = fieldErrors(create.error);
  return (
    <Dialog open={open} title={t('draft.title')} onClose={onClose}>
      <Form onSubmit={() => create.run()}>
        <p className="muted">{source ? t('draft.copyOf', { version: source }) : t('draft.empty')}</p>
        <TextField label={t('draft.version')} required value={version} onChange={(e) => setVersion(e.target.value)} error={fe('version') ?? fe('spec.version')} />
        <FormActions action={create} label={t('draft.create')} busyLabel={t('common.creating')} disabled={!version.trim()} onCancel={onClose} fieldShown={!!(fe('version') ?? fe('spec.version'))} />
      </Form>
    </Dialog>
  );
}

const PROTOCOLS = ['http', 'https', 'mcp-streamable', 'mcp-sse', 'stdio', 'virtual'] as const;

/** Server-level fields: description, protocols, endpoint, enabled, credential passthrough (PATCH, no new version). */
function ServerSettings({ ns, server, editor, onSaved }: { ns: string; server: ServerView; editor: boolean; onSaved: (s: ServerView) => void }) {
  const { t } = useTranslation();
  const notify = useNotify();
  const [f, setF] = useState({
    description: server.description, protocol: server.protocol, frontProtocol: server.frontProtocol, enabled: server.enabled,
    headers: server.passthrough.headers.join(', '), cookies: server.passthrough.cookies.join(', '),
  });
  const [endpoint, setEndpoint] = useState(endpointDraft(server.endpoint));
  const list = (s: string) => s.split(',').map((x) => x.trim()).filter(Boolean);
  const save = useAction(async () => {
    const s = await api<ServerView>('PATCH', serverBase(ns, server.name), {
      description: f.description, protocol: f.protocol, frontProtocol: f.frontProtocol, enabled: f.enabled, endpoint: endpointOf(ns, endpoint),
      passthrough: { headers: list(f.headers), cookies: list(f.cookies) },
    });
    notify(t('settings.saved'));
    onSaved(s);
  });
  const fe = fieldErrors(save.error);
  const shown = ['protocol', 'endpoint', 'passthrough'].some((k) => fe(k));
  return (
    <div className="panel">
      <h2>{t('settings.title')}</h2>
      <p className="muted small">{t('settings.intro')}</p>
      <Form onSubmit={() => save.run()}>
        <fieldset disabled={!editor} className="plain">
          <TextArea label={t('settings.description')} rows={2} value={f.description} onChange={(e) => setF({ ...f, description: e.target.value })} />
          <div className="row">
            <SelectField label={t('servers.backendProtocol')} value={f.protocol} onChange={(e) => setF({ ...f, protocol: e.target.value as typeof f.protocol })} error={fe('protocol')}>
              {PROTOCOLS.map((p) => <option key={p} value={p}>{p}</option>)}
            </SelectField>
            <SelectField label={t('settings.frontProtocol')} value={f.frontProtocol} onChange={(e) => setF({ ...f, frontProtocol: e.target.value as typeof f.frontProtocol })}>
              <option value="mcp-streamable">mcp-streamable</option>
              <option value="mcp-sse">mcp-sse</option>
            </SelectField>
          </div>
          <EndpointFields ns={ns} value={endpoint} onChange={setEndpoint} error={fe} protocol={f.protocol} />
          <fieldset className="fieldset">
            <legend>{t('settings.passthrough')}</legend>
            <p className="muted small">{t('settings.passthroughIntro')}</p>
            <TextField label={t('settings.headers')} value={f.headers} onChange={(e) => setF({ ...f, headers: e.target.value })} placeholder="authorization, x-tenant" error={fe('passthrough.headers')} hint={t('settings.headersHint')} />
            <TextField label={t('settings.cookies')} value={f.cookies} onChange={(e) => setF({ ...f, cookies: e.target.value })} placeholder="session" error={fe('passthrough.cookies')} hint={t('settings.cookiesHint')} />
          </fieldset>
          <Check label={t('settings.enabled')} checked={f.enabled} onChange={(e) => setF({ ...f, enabled: e.target.checked })} />
          {editor && <FormActions action={save} label={t('settings.save')} busyLabel={t('common.saving')} fieldShown={shown} />}
        </fieldset>
      </Form>
    </div>
  );
}

/** Version-level settings of the draft: description, config (template `.config`), security schemes. */
function DraftSettings({ base, draft, protocol, version, onSaved }: { base: string; draft: string; protocol: string; version: Loaded<VersionView | null>; onSaved: () => void }) {
  const { t } = useTranslation();
  return (
    <div className="panel">
      <h2>
        {t('draftSettings.title', { version: draft })} <span className="muted small">{t('draftSettings.subtitle')}</span>
      </h2>
      <Load state={version}>
        {(v) => v && (
          <DraftSettingsForm
            key={v.version} base={base} version={v} protocol={protocol} onReload={version.reload}
            onSaved={(saved) => {
              version.setData(saved);
              onSaved();
            }}
          />
        )}
      </Load>
    </div>
  );
}

/** The draft's override of its namespace's MCP authorization and rate limits (`spec.authorization`). */
function AuthorizationOverride({ base, draft, version, onSaved }: { base: string; draft: string; version: Loaded<VersionView | null>; onSaved: () => void }) {
  const { t } = useTranslation();
  const notify = useNotify();
  return (
    <div className="panel" data-testid="authorization-override">
      <h2>{t('authz.overrideTitle', { version: draft })}</h2>
      <Load state={version}>
        {(v) => v && (
          <AuthorizationForm
            key={v.version} settings={v.spec.authorization ?? {}} override saveLabel={t('authz.overrideSave')}
            onSave={async (next) => {
              const { authorization: _old, ...rest } = v.spec;
              const saved = await api<VersionView>('PUT', `${base}/versions/${enc(v.version)}`, {
                spec: { ...rest, ...(Object.keys(next).length > 0 ? { authorization: next } : {}) },
              }, { ifMatch: v.etag });
              version.setData(saved);
              notify(t('authz.overrideSaved', { version: v.version }));
              onSaved();
            }}
          />
        )}
      </Load>
    </div>
  );
}

function DraftSettingsForm({ base, version, protocol, onSaved, onReload }: { base: string; version: VersionView; protocol: string; onSaved: (v: VersionView) => void; onReload: () => void }) {
  const { t } = useTranslation();
  const notify = useNotify();
  const [description, setDescription] = useState(version.spec.description);
  const [config, setConfig] = useState(pretty(version.spec.config));
  const [schemes, setSchemes] = useState(pretty(version.spec.securitySchemes));
  const [dirty, setDirty] = useState(false);
  // While not being edited, the fields follow the draft as last read (a reload shows someone else's change).
  useEffect(() => {
    if (dirty) return;
    setDescription(version.spec.description);
    setConfig(pretty(version.spec.config));
    setSchemes(pretty(version.spec.securitySchemes));
  }, [version.etag]);
  const edit = (set: (v: string) => void) => (e: { target: { value: string } }) => {
    set(e.target.value);
    setDirty(true);
  };
  const configParsed = parseJson(config);
  const schemesParsed = parseJson(schemes);
  const save = useAction(async () => {
    if (!configParsed.ok || !schemesParsed.ok) throw new Error(t('draftSettings.fixJson'));
    const saved = await api<VersionView>('PUT', `${base}/versions/${enc(version.version)}`, {
      spec: { ...version.spec, description, config: configParsed.value, securitySchemes: schemesParsed.value },
    }, { ifMatch: version.etag });
    setDirty(false);
    notify(t('draftSettings.saved', { version: version.version }));
    onSaved(saved);
  });
  const fe = fieldErrors(save.error);
  const configError = !configParsed.ok ? configParsed.message : fe('config') ?? fe('spec.config');
  const schemesError = !schemesParsed.ok ? schemesParsed.message : fe('securitySchemes') ?? fe('spec.securitySchemes');
  return (
    <Form onSubmit={() => save.run()}>
      <TextArea label={t('draftSettings.description')} rows={2} value={description} onChange={edit(setDescription)} />
      {protocol === 'stdio' && (
        <StdioLaunchFields
          config={configParsed.ok ? configParsed.value : undefined} error={fe}
          onChange={(next) => {
            setConfig(pretty(next));
            setDirty(true);
          }}
        />
      )}
      <div className="row">
        <TextArea label={t('draftSettings.config')} className="code" rows={6} value={config} onChange={edit(setConfig)} error={configError} hint={t('draftSettings.configHint')} />
        <TextArea label={t('draftSettings.schemes')} className="code" rows={6} value={schemes} onChange={edit(setSchemes)} error={schemesError} hint={t('draftSettings.schemesHint')} />
      </div>
      <FormActions
        action={save} label={t('draftSettings.save')} busyLabel={t('common.saving')} disabled={!configParsed.ok || !schemesParsed.ok} fieldShown={!!(configError || schemesError)}
        onReload={() => {
          setDirty(false);
          save.clear();
          onReload();
        }}
      />
    </Form>
  );
}

/** Where a stdio launch sits in a config: at the top, or (Nacos localServerConfig, desktop clients) under mcpServers' only entry. */
function launchOf(config: Record<string, unknown>): { at: string | undefined; launch: Record<string, unknown> } {
  const servers = config.mcpServers;
  if (config.command === undefined && typeof servers === 'object' && servers !== null && !Array.isArray(servers)) {
    const entries = Object.entries(servers as Record<string, unknown>);
    const [name, launch] = entries[0] ?? [];
    if (entries.length === 1 && name && typeof launch === 'object' && launch !== null) return { at: name, launch: launch as Record<string, unknown> };
  }
  return { at: undefined, launch: config };
}

/** KEY=value lines ⇄ an environment object. */
function envText(env: unknown): string {
  if (typeof env !== 'object' || env === null) return '';
  return Object.entries(env as Record<string, unknown>).map(([k, v]) => `${k}=${String(v)}`).join('\n');
}
function envObject(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const eq = line.indexOf('=');
    if (eq < 0) env[line.trim()] = '';
    else env[line.slice(0, eq).trim()] = line.slice(eq + 1);
  }
  return env;
}

/**
 * The stdio launch of the draft (command, arguments one per line, environment KEY=value per
 * line), edited in place in the draft's config JSON (which the field below shows as it changes).
 */
function StdioLaunchFields({ config, onChange, error }: { config: unknown; onChange: (config: Record<string, unknown>) => void; error: (field: string) => string | undefined }) {
  const { t } = useTranslation();
  const base = typeof config === 'object' && config !== null && !Array.isArray(config) ? config as Record<string, unknown> : undefined;
  const { at, launch } = launchOf(base ?? {});
  const field = (k: string) => (at ? `config.mcpServers.${at}.${k}` : `config.${k}`);
  const set = (k: 'command' | 'args' | 'env', value: unknown) => {
    if (!base) return;
    const next = { ...launch, [k]: value };
    if (k !== 'command' && (Array.isArray(value) ? value.length === 0 : Object.keys(value as object).length === 0)) delete next[k];
    onChange(at ? { ...base, mcpServers: { [at]: next } } : next);
  };
  const [args, setArgs] = useState(Array.isArray(launch.args) ? (launch.args as unknown[]).map(String).join('\n') : '');
  const [env, setEnv] = useState(envText(launch.env));
  const disabled = !base;
  return (
    <fieldset className="fieldset" data-testid="stdio-launch">
      <legend>{t('stdio.legend')}</legend>
      <p className="muted small">{disabled ? t('stdio.fixJson') : t('stdio.intro')}</p>
      <TextField label={t('stdio.command')} value={typeof launch.command === 'string' ? launch.command : ''} disabled={disabled} placeholder="npx" onChange={(e) => set('command', e.target.value)} error={error(field('command'))} />
      <div className="row">
        <TextArea
          label={t('stdio.args')} className="code" rows={3} value={args} disabled={disabled} placeholder={'-y\n@modelcontextprotocol/server-everything'} hint={t('stdio.argsHint')} error={error(field('args'))}
          onChange={(e) => {
            setArgs(e.target.value);
            set('args', e.target.value.split('\n').filter((a) => a !== ''));
          }}
        />
        <TextArea
          label={t('stdio.env')} className="code" rows={3} value={env} disabled={disabled} placeholder="API_KEY=…" hint={t('stdio.envHint')} error={error(field('env'))}
          onChange={(e) => {
            setEnv(e.target.value);
            set('env', envObject(e.target.value));
          }}
        />
      </div>
    </fieldset>
  );
}
