/**
 * "Import tools" of an MCP server that fronts an upstream MCP server (mcp-streamable, mcp-sse,
 * stdio): the registry connects to the running server as the gateway does, lists its tools and
 * saves them as a draft version (the draft being worked on, or a new one), keeping the registry's
 * descriptions of tools it already lists unless asked to overwrite them. The dialog then shows
 * what was imported, added and removed.
 */
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, enc } from '../api.js';
import type { ServerView, VersionSummary } from '../api.js';
import { Check, Dialog, Form, FormActions, TextField, fieldErrors, useAction, useNotify } from '../ui.js';

/** The protocols whose servers have a running upstream to import from. */
export const UPSTREAM_PROTOCOLS: ReadonlySet<string> = new Set(['mcp-streamable', 'mcp-sse', 'stdio']);

interface ImportResult { version: string; imported: string[]; added: string[]; removed: string[] }

export function ImportToolsDialog({ ns, server, draft, suggested, open, onClose, onDone }: {
  ns: string; server: ServerView; draft: VersionSummary | undefined; suggested: string; open: boolean; onClose: () => void; onDone: () => void;
}) {
  const { t } = useTranslation();
  const notify = useNotify();
  const [version, setVersion] = useState(draft?.version ?? suggested);
  const [overwrite, setOverwrite] = useState(false);
  const [result, setResult] = useState<ImportResult>();
  // Each time it opens: into the draft being worked on, else a new one.
  useEffect(() => {
    if (!open) return;
    setVersion(draft?.version ?? suggested);
    setOverwrite(false);
  }, [open]);
  const run = useAction(async () => {
    const v = version.trim();
    // Into the draft being worked on: based on it (its edits kept); a new draft: based on the published version.
    const r = await api<ImportResult>('POST', `/namespaces/${enc(ns)}/mcp-servers/${enc(server.name)}/versions/${enc(v)}/import-tools`, {
      ...(draft?.version === v ? { from: v } : {}), overwrite,
    });
    setResult(r);
    notify(t('importTools.done', { count: r.imported.length, version: r.version }));
    onDone();
  });
  const fe = fieldErrors(run.error);
  const close = () => {
    setResult(undefined);
    run.clear();
    onClose();
  };
  return (
    <Dialog open={open} title={t('importTools.title', { name: server.name })} onClose={close} wide>
      {result ? (
        <div data-testid="import-result">
          <p>{t('importTools.summary', { count: result.imported.length, version: result.version })}</p>
          <ul className="import-list">
            {result.imported.map((name) => (
              <li key={name}>
                <code>{name}</code>
                {result.added.includes(name) && <span className="muted small"> {t('importTools.new')}</span>}
              </li>
            ))}
          </ul>
          {result.removed.length > 0 && <p className="muted small">{t('importTools.removed', { names: result.removed.join(', ') })}</p>}
          <p className="muted small">{t('importTools.next', { version: result.version })}</p>
          <div className="form-actions">
            <button type="button" className="primary" onClick={close}>{t('importTools.close')}</button>
          </div>
        </div>
      ) : (
        <Form onSubmit={() => run.run()}>
          <p className="muted small">{t(server.protocol === 'stdio' ? 'importTools.introStdio' : 'importTools.intro')}</p>
          <TextField label={t('importTools.version')} required value={version} onChange={(e) => setVersion(e.target.value)} error={fe('version')} hint={draft?.version === version.trim() ? t('importTools.intoDraft') : t('importTools.newDraft')} />
          <Check label={t('importTools.overwrite')} checked={overwrite} onChange={(e) => setOverwrite(e.target.checked)} hint={t('importTools.overwriteHint')} />
          <FormActions action={run} label={t('importTools.run')} busyLabel={t('importTools.running')} disabled={!version.trim()} onCancel={close} fieldShown={!!fe('version')} />
        </Form>
      )}
    </Dialog>
  );
}
