import { useState } from 'react';
import { api, enc } from '../api.js';
import type { ServerView, SpecChange, VersionSummary } from '../api.js';
import { useSession } from '../app.js';
import { Link, path } from '../router.js';
import { Badge, Confirm, DataTable, ErrorBox, Form, Load, SelectField, Spinner, useAction, useLoad, useNotify, when } from '../ui.js';
import { NewDraftDialog, serverBase } from './server-detail.js';

function statusKind(s: VersionSummary['status']) {
  return s === 'published' ? 'info' : s === 'draft' ? 'warn' : 'muted';
}

export function VersionsPage({ ns, name }: { ns: string; name: string }) {
  const { can } = useSession();
  const notify = useNotify();
  const base = serverBase(ns, name);
  const state = useLoad(() => api<ServerView>('GET', base), [base]);
  const editor = can(ns, 'editor');
  const [pending, setPending] = useState<{ kind: 'publish' | 'rollback' | 'delete'; version?: string }>();
  const [draftFrom, setDraftFrom] = useState<string>();

  const act = async () => {
    if (!pending) return;
    if (pending.kind === 'publish') {
      state.setData(await api<ServerView>('POST', `${base}/versions/${enc(pending.version ?? '')}/publish`));
      notify(`Version ${pending.version} published: agents see it now`);
    } else if (pending.kind === 'rollback') {
      state.setData(await api<ServerView>('POST', `${base}/rollback`, pending.version ? { version: pending.version } : {}));
      notify(`Rolled back${pending.version ? ` to ${pending.version}` : ''}`);
    } else {
      await api('DELETE', `${base}/versions/${enc(pending.version ?? '')}`);
      notify(`Version ${pending.version} deleted`);
      state.reload();
    }
    setPending(undefined);
  };

  return (
    <section>
      <p className="crumbs">
        <Link to={path('ns', ns, 'servers')}>MCP servers</Link> / <Link to={path('ns', ns, 'servers', name)}>{name}</Link>
      </p>
      <Load state={state}>
        {(s) => {
          const versions = [...s.versions].sort((a, b) => b.createdAt - a.createdAt);
          const canRollBack = versions.some((v) => v.status === 'archived' && v.publishedAt !== null);
          return (
            <>
              <div className="page-head">
                <h1>Versions of {name}</h1>
                {editor && (
                  <div className="head-actions">
                    <button type="button" disabled={!canRollBack} onClick={() => setPending({ kind: 'rollback' })} title={canRollBack ? 'Republish the version published before this one' : 'No earlier published version'}>
                      Roll back
                    </button>
                  </div>
                )}
              </div>
              <p className="muted">
                Agents are served {s.publishedVersion ? <>version <strong>{s.publishedVersion}</strong></> : 'nothing yet (no version is published)'}. Published and archived versions never change; drafts do.
              </p>
              <DataTable
                columns={['Version', 'Status', 'Tools', 'Created', 'Published']}
                actions={editor}
                items={versions}
                row={(v) => (
                  <tr key={v.version}>
                    <td><strong>{v.version}</strong></td>
                    <td><Badge kind={statusKind(v.status)}>{v.status}</Badge></td>
                    <td>{v.toolCount}</td>
                    <td>{when(v.createdAt)}</td>
                    <td>{when(v.publishedAt)}</td>
                    {editor && (
                      <td className="row-actions">
                        {v.status === 'draft' && (
                          <button type="button" className="primary" onClick={() => setPending({ kind: 'publish', version: v.version })}>
                            Publish {v.version}
                          </button>
                        )}
                        {v.status === 'archived' && v.publishedAt !== null && (
                          <button type="button" onClick={() => setPending({ kind: 'rollback', version: v.version })}>
                            Roll back to {v.version}
                          </button>
                        )}
                        <button type="button" onClick={() => setDraftFrom(v.version)}>
                          New draft from {v.version}
                        </button>
                        {v.status !== 'published' && (
                          <button type="button" className="danger-outline" onClick={() => setPending({ kind: 'delete', version: v.version })}>
                            Delete
                          </button>
                        )}
                      </td>
                    )}
                  </tr>
                )}
              />
              {versions.length >= 2 && <DiffView base={base} versions={versions} published={s.publishedVersion} />}
              {draftFrom && <NewDraftDialog key={draftFrom} ns={ns} server={s} from={draftFrom} open onClose={() => setDraftFrom(undefined)} onCreated={state.reload} />}
            </>
          );
        }}
      </Load>
      <Confirm
        open={pending !== undefined}
        danger={pending?.kind === 'delete'}
        title={pending?.kind === 'publish' ? 'Publish version' : pending?.kind === 'rollback' ? 'Roll back' : 'Delete version'}
        message={
          pending?.kind === 'publish' ? (
            <p>Publish <strong>{pending.version}</strong>? Agents get its tools at once; the version published now is archived.</p>
          ) : pending?.kind === 'rollback' ? (
            <p>Republish {pending.version ? <strong>{pending.version}</strong> : 'the version published before the current one'}? Agents get its tools at once.</p>
          ) : (
            <p>Delete version <strong>{pending?.version}</strong>? Deleting the only version deletes the server.</p>
          )
        }
        confirmLabel={pending?.kind === 'publish' ? 'Publish' : pending?.kind === 'rollback' ? 'Roll back' : 'Delete'}
        onClose={() => setPending(undefined)}
        onConfirm={act}
      />
    </section>
  );
}

function fmt(v: unknown): string {
  if (v === undefined) return '';
  const s = typeof v === 'string' ? v : JSON.stringify(v, null, 2);
  return s.length > 2000 ? `${s.slice(0, 2000)}…` : s;
}

function DiffView({ base, versions, published }: { base: string; versions: VersionSummary[]; published: string | null }) {
  const older = versions.find((v) => v.version !== (versions[0]?.version ?? '')) ?? versions[1];
  const [from, setFrom] = useState(published && published !== versions[0]?.version ? published : older?.version ?? '');
  const [to, setTo] = useState(versions[0]?.version ?? '');
  const compare = useAction(async (a: string, b: string) => api<{ changes: SpecChange[] }>('GET', `${base}/diff?from=${enc(a)}&to=${enc(b)}`));
  const [shown, setShown] = useState<{ from: string; to: string; changes: SpecChange[] }>();
  const go = async () => {
    const r = await compare.run(from, to);
    if (r) setShown({ from, to, changes: r.changes });
  };
  return (
    <div className="panel">
      <h2>Compare versions</h2>
      <Form className="toolbar" onSubmit={go}>
        <SelectField label="From" value={from} onChange={(e) => setFrom(e.target.value)}>
          {versions.map((v) => <option key={v.version} value={v.version}>{v.version} ({v.status})</option>)}
        </SelectField>
        <SelectField label="To" value={to} onChange={(e) => setTo(e.target.value)}>
          {versions.map((v) => <option key={v.version} value={v.version}>{v.version} ({v.status})</option>)}
        </SelectField>
        <button type="submit" disabled={compare.busy || !from || !to}>Compare</button>
      </Form>
      <ErrorBox error={compare.error} />
      {compare.busy && <Spinner label="Comparing…" />}
      {shown && !compare.busy && (
        <DataTable
          columns={['Where', 'Change', shown.from, shown.to]}
          items={shown.changes}
          empty={<>{shown.from} and {shown.to} have the same content.</>}
          caption={<>Changes from {shown.from} to {shown.to}</>}
          className="diff"
          testId="diff"
          row={(c, i) => (
            <tr key={i} className={`diff-${c.kind}`}>
              <td><code className="break">{c.path}</code></td>
              <td><Badge kind={c.kind === 'added' ? 'ok' : c.kind === 'removed' ? 'bad' : 'warn'}>{c.kind}</Badge></td>
              <td><pre className="diff-old">{fmt(c.from)}</pre></td>
              <td><pre className="diff-new">{fmt(c.to)}</pre></td>
            </tr>
          )}
        />
      )}
    </div>
  );
}
