import { useState } from 'react';
import { api, enc } from '../api.js';
import type { McpServerSpec, ServerView, VersionSummary, VersionView } from '../api.js';
import { useSession } from '../app.js';
import { Link, navigate, path } from '../router.js';
import {
  Badge, Check, Confirm, ConfirmItem, DataTable, Dialog, ErrorBox, fieldErrors, Form, FormActions, Load, parseJson, pretty, SelectField, TextArea, TextField,
  useAction, useLoad, useNotify,
} from '../ui.js';
import { EndpointFields, endpointDraft, endpointOf } from './endpoint.js';

/** The draft being worked on: the latest draft version, if any. */
export function workingDraft(versions: VersionSummary[], latest: string | null): VersionSummary | undefined {
  const drafts = versions.filter((v) => v.status === 'draft');
  return drafts.find((v) => v.version === latest) ?? drafts.sort((a, b) => b.createdAt - a.createdAt)[0];
}

/** The next patch version after the highest `x.y.z` one (or `<latest>-next`). */
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

export function ServerDetailPage({ ns, name }: { ns: string; name: string }) {
  const { can } = useSession();
  const notify = useNotify();
  const base = serverBase(ns, name);
  const state = useLoad(() => api<ServerView>('GET', base), [base]);
  const [deleting, setDeleting] = useState(false);
  const editor = can(ns, 'editor');
  const toggle = useAction(async (enabled: boolean) => {
    const s = await api<ServerView>('PATCH', base, { enabled });
    state.setData(s);
    notify(`${name} ${enabled ? 'enabled' : 'disabled'}`);
  });

  return (
    <section>
      <p className="crumbs">
        <Link to={path('ns', ns, 'servers')}>MCP servers</Link>
      </p>
      <Load state={state}>
        {(s) => {
          const draft = workingDraft(s.versions, s.latestVersion);
          return (
            <>
              <div className="page-head">
                <h1>
                  {s.name}{' '}
                  <Badge kind={s.enabled ? 'ok' : 'muted'}>{s.enabled ? 'enabled' : 'disabled'}</Badge>{' '}
                  {s.publishedVersion ? <Badge kind="info">published {s.publishedVersion}</Badge> : <Badge kind="warn">not published</Badge>}
                </h1>
                <div className="head-actions">
                  <Link className="button" to={path('ns', ns, 'servers', name, 'versions')}>
                    Versions
                  </Link>
                  {editor && (
                    <>
                      <button type="button" disabled={toggle.busy} onClick={() => void toggle.run(!s.enabled)}>
                        {s.enabled ? 'Disable' : 'Enable'}
                      </button>
                      <button type="button" className="danger-outline" onClick={() => setDeleting(true)}>
                        Delete
                      </button>
                    </>
                  )}
                </div>
              </div>
              <ErrorBox error={toggle.error} />
              <p className="muted">
                Agents connect to <code>/mcp/{ns}/{s.name}</code> on the gateway (legacy SSE: <code>/mcp/{ns}/{s.name}/sse</code>).
              </p>
              <ToolsSection ns={ns} server={s} draft={draft} editor={editor} onChanged={state.reload} />
              {draft && editor && <DraftSettings ns={ns} server={s} draft={draft.version} onSaved={state.reload} />}
              <ServerSettings ns={ns} server={s} editor={editor} onSaved={(v) => state.setData(v)} />
            </>
          );
        }}
      </Load>
      <Confirm
        open={deleting}
        title="Delete MCP server"
        message={
          <p>
            Delete <strong>{name}</strong> with all its versions? Agents lose its tools at once. This cannot be undone.
          </p>
        }
        confirmLabel="Delete server"
        onClose={() => setDeleting(false)}
        onConfirm={async () => {
          await api('DELETE', base);
          notify(`MCP server ${name} deleted`);
          navigate(path('ns', ns, 'servers'));
        }}
      />
    </section>
  );
}

function ToolsSection({ ns, server, draft, editor, onChanged }: { ns: string; server: ServerView; draft: VersionSummary | undefined; editor: boolean; onChanged: () => void }) {
  const notify = useNotify();
  const shown = draft?.version ?? server.publishedVersion ?? server.latestVersion;
  const base = serverBase(ns, server.name);
  const version = useLoad(() => (shown ? api<VersionView>('GET', `${base}/versions/${enc(shown)}`) : Promise.resolve(null)), [base, shown, draft?.createdAt, server.updatedAt]);
  const [newDraft, setNewDraft] = useState(false);
  const [removing, setRemoving] = useState<string>();
  return (
    <div className="panel">
      <div className="panel-head">
        <h2>
          Tools {shown && <span className="muted">of {draft ? 'draft' : 'version'} {shown}</span>}
        </h2>
        {editor && (
          <div className="head-actions">
            {draft ? (
              <Link className="button primary" to={path('ns', ns, 'servers', server.name, 'versions', draft.version, 'new-tool')}>
                Add tool
              </Link>
            ) : (
              <button type="button" className="primary" onClick={() => setNewDraft(true)}>
                New draft version
              </button>
            )}
          </div>
        )}
      </div>
      {!draft && editor && (
        <p className="muted small">Published versions cannot change: start a new draft (a copy of {server.publishedVersion ?? server.latestVersion ?? 'nothing'}) to edit tools.</p>
      )}
      <Load state={version}>
        {(v) => (
          <DataTable
            columns={['Tool', 'Description (what the model reads)', 'Request', 'State']}
            actions={!!draft && editor}
            items={v?.spec.tools ?? []}
            empty={<>No tool yet.{draft && editor ? ' Add one: map arguments to a REST request of the backend.' : ''}</>}
            row={(t) => (
              <tr key={t.name}>
                <td>
                  <Link to={path('ns', ns, 'servers', server.name, 'versions', v?.version ?? '', 'tools', t.name)}>{t.name}</Link>
                  {t.title && <div className="muted small">{t.title}</div>}
                </td>
                <td className="clamp-cell">{t.description || <span className="muted">no description</span>}</td>
                <td>
                  {t.template?.request ? (
                    <code className="break">
                      {t.template.request.method} {t.template.request.url}
                    </code>
                  ) : t.template ? (
                    <span className="muted">direct response</span>
                  ) : (
                    <span className="muted">no template</span>
                  )}
                </td>
                <td>
                  <Badge kind={t.enabled ? 'ok' : 'muted'}>{t.enabled ? 'enabled' : 'disabled'}</Badge>
                </td>
                {draft && editor && (
                  <td className="row-actions">
                    <button type="button" className="danger-outline" onClick={() => setRemoving(t.name)}>
                      Remove
                    </button>
                  </td>
                )}
              </tr>
            )}
          />
        )}
      </Load>
      <NewDraftDialog ns={ns} server={server} open={newDraft} onClose={() => setNewDraft(false)} onCreated={onChanged} />
      <ConfirmItem
        item={removing}
        title="Remove tool"
        message={(tool) => <p>Remove <strong>{tool}</strong> from draft {draft?.version}? Nothing changes for agents until the draft is published.</p>}
        confirmLabel="Remove tool"
        onClose={() => setRemoving(undefined)}
        onConfirm={async (tool) => {
          if (!draft) return;
          const current = await api<VersionView>('GET', `${base}/versions/${enc(draft.version)}`);
          const spec: McpServerSpec = { ...current.spec, tools: current.spec.tools.filter((t) => t.name !== tool) };
          await api('PUT', `${base}/versions/${enc(draft.version)}`, { spec });
          notify(`Tool ${tool} removed from draft ${draft.version}`);
          version.reload();
          onChanged();
        }}
      />
    </div>
  );
}

export function NewDraftDialog({ ns, server, open, onClose, onCreated, from }: { ns: string; server: ServerView; open: boolean; onClose: () => void; onCreated: () => void; from?: string }) {
  const notify = useNotify();
  const source = from ?? server.publishedVersion ?? server.latestVersion ?? undefined;
  const [version, setVersion] = useState(nextVersion(server.versions));
  const base = serverBase(ns, server.name);
  const create = useAction(async () => {
    const v = version.trim();
    const spec = source ? (await api<VersionView>('GET', `${base}/versions/${enc(source)}`)).spec : { description: '', tools: [] };
    await api('PUT', `${base}/versions/${enc(v)}`, { spec: { ...spec, version: v } });
    notify(`Draft ${v} created${source ? ` from ${source}` : ''}`);
    onClose();
    onCreated();
  });
  const err = create.error as { field?: string; message: string } | undefined;
  return (
    <Dialog open={open} title="New draft version" onClose={onClose}>
      <Form onSubmit={() => create.run()}>
        <p className="muted">{source ? `A copy of version ${source}, editable until published.` : 'An empty draft.'}</p>
        <TextField label="Version" autoFocus required value={version} onChange={(e) => setVersion(e.target.value)} error={err?.field === 'version' ? err.message : undefined} />
        <FormActions action={create} label="Create draft" busyLabel="Creating…" disabled={!version.trim()} onCancel={onClose} />
      </Form>
    </Dialog>
  );
}

/** Server-level fields: description, protocols, endpoint, enabled, credential passthrough (PATCH, no new version). */
function ServerSettings({ ns, server, editor, onSaved }: { ns: string; server: ServerView; editor: boolean; onSaved: (s: ServerView) => void }) {
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
    notify('Server settings saved');
    onSaved(s);
  });
  const fe = fieldErrors(save.error);
  return (
    <div className="panel">
      <h2>Server settings</h2>
      <p className="muted small">These apply at once to the published version too (no new version needed).</p>
      <Form onSubmit={() => save.run()}>
        <fieldset disabled={!editor} className="plain">
          <TextArea label="Server description" rows={2} value={f.description} onChange={(e) => setF({ ...f, description: e.target.value })} />
          <div className="row">
            <SelectField label="Backend protocol" value={f.protocol} onChange={(e) => setF({ ...f, protocol: e.target.value as typeof f.protocol })} error={fe('protocol')}>
              {['http', 'https', 'mcp-streamable', 'mcp-sse', 'stdio'].map((p) => <option key={p} value={p}>{p}</option>)}
            </SelectField>
            <SelectField label="Front protocol" value={f.frontProtocol} onChange={(e) => setF({ ...f, frontProtocol: e.target.value as typeof f.frontProtocol })}>
              <option value="mcp-streamable">mcp-streamable</option>
              <option value="mcp-sse">mcp-sse</option>
            </SelectField>
          </div>
          <EndpointFields ns={ns} value={endpoint} onChange={setEndpoint} error={fe('endpoint')} />
          <fieldset className="fieldset">
            <legend>Credential passthrough</legend>
            <p className="muted small">What the gateway copies from the agent's request to the backend request. Nothing else is forwarded.</p>
            <TextField label="Headers to forward" value={f.headers} onChange={(e) => setF({ ...f, headers: e.target.value })} placeholder="authorization, x-tenant" error={fe('passthrough.headers')} hint="Comma-separated header names." />
            <TextField label="Cookies to forward" value={f.cookies} onChange={(e) => setF({ ...f, cookies: e.target.value })} placeholder="session" error={fe('passthrough.cookies')} hint="Comma-separated cookie names." />
          </fieldset>
          <Check label="Enabled (served to agents)" checked={f.enabled} onChange={(e) => setF({ ...f, enabled: e.target.checked })} />
          <ErrorBox error={save.error} />
          {editor && (
            <div className="actions">
              <button type="submit" className="primary" disabled={save.busy}>
                {save.busy ? 'Saving…' : 'Save settings'}
              </button>
            </div>
          )}
        </fieldset>
      </Form>
    </div>
  );
}

/** Version-level settings of the draft: description, config (template `.config`), security schemes. */
function DraftSettings({ ns, server, draft, onSaved }: { ns: string; server: ServerView; draft: string; onSaved: () => void }) {
  const base = serverBase(ns, server.name);
  const state = useLoad(() => api<VersionView>('GET', `${base}/versions/${enc(draft)}`), [base, draft]);
  return (
    <div className="panel">
      <h2>
        Draft {draft}: configuration <span className="muted small">(saved with the draft, served once published)</span>
      </h2>
      <Load state={state}>{(v) => <DraftSettingsForm key={v.version} base={base} version={v} onSaved={onSaved} />}</Load>
    </div>
  );
}

function DraftSettingsForm({ base, version, onSaved }: { base: string; version: VersionView; onSaved: () => void }) {
  const notify = useNotify();
  const [description, setDescription] = useState(version.spec.description);
  const [config, setConfig] = useState(pretty(version.spec.config));
  const [schemes, setSchemes] = useState(pretty(version.spec.securitySchemes));
  const configParsed = parseJson(config);
  const schemesParsed = parseJson(schemes);
  const save = useAction(async () => {
    if (!configParsed.ok || !schemesParsed.ok) throw new Error('Fix the JSON first.');
    const current = await api<VersionView>('GET', `${base}/versions/${enc(version.version)}`);
    await api('PUT', `${base}/versions/${enc(version.version)}`, {
      spec: { ...current.spec, description, config: configParsed.value, securitySchemes: schemesParsed.value },
    });
    notify(`Draft ${version.version} saved`);
    onSaved();
  });
  const err = save.error as { field?: string; message: string } | undefined;
  return (
    <Form onSubmit={() => save.run()}>
      <TextArea label="Version description" rows={2} value={description} onChange={(e) => setDescription(e.target.value)} />
      <div className="row">
        <TextArea
          label="Config (JSON, templates read it as .config)"
          className="code"
          rows={6}
          value={config}
          onChange={(e) => setConfig(e.target.value)}
          error={!configParsed.ok ? configParsed.message : err?.field === 'config' ? err.message : undefined}
          hint='e.g. {"apiKey": "…", "allowMetadataAddresses": false}'
        />
        <TextArea
          label="Security schemes (JSON)"
          className="code"
          rows={6}
          value={schemes}
          onChange={(e) => setSchemes(e.target.value)}
          error={!schemesParsed.ok ? schemesParsed.message : err?.field?.startsWith('securitySchemes') ? err.message : undefined}
          hint='e.g. [{"id": "key", "type": "apiKey", "in": "header", "name": "X-Key"}]'
        />
      </div>
      <FormActions action={save} label="Save draft configuration" busyLabel="Saving…" disabled={!configParsed.ok || !schemesParsed.ok} />
    </Form>
  );
}
