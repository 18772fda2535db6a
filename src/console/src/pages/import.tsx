import { useState } from 'react';
import { api, enc } from '../api.js';
import type { ImportPreview, ServerView } from '../api.js';
import { useSession } from '../app.js';
import { navigate, path } from '../router.js';
import { Badge, DataTable, ErrorBox, Form, FormActions, SelectField, TextArea, TextField, useAction, useNotify } from '../ui.js';
import { describeEndpoint } from './endpoint.js';

/** Nacos MCP JSON has its specifications; anything else is taken as a Higress definition (YAML or JSON). */
export function detectFormat(content: string): 'higress' | 'nacos' {
  const t = content.trim();
  if (t.startsWith('{') && /"(serverSpecification|toolSpecification|toolSpec|versionDetail|toolsMeta)"/.test(t)) return 'nacos';
  return 'higress';
}

export function ImportPage({ ns }: { ns: string }) {
  const { can } = useSession();
  const notify = useNotify();
  const [format, setFormat] = useState<'higress' | 'nacos'>('higress');
  const [content, setContent] = useState('');
  const [name, setName] = useState('');
  const [version, setVersion] = useState('');
  const [fileName, setFileName] = useState<string>();
  const [preview, setPreview] = useState<ImportPreview>();
  const body = () => ({ format, content, ...(name.trim() ? { name: name.trim() } : {}), ...(version.trim() ? { version: version.trim() } : {}) });
  const check = useAction(async () => {
    setPreview(undefined);
    setPreview(await api<ImportPreview>('POST', `/namespaces/${enc(ns)}/mcp-servers/import/preview`, body()));
  });
  const doImport = useAction(async () => {
    const s = await api<ServerView>('POST', `/namespaces/${enc(ns)}/mcp-servers/import`, { ...body(), publish: false });
    notify(`Imported ${s.name} as draft ${s.latestVersion ?? ''}`);
    navigate(path('ns', ns, 'servers', s.name));
  });
  const onFile = async (file: File | undefined) => {
    if (!file) return;
    const text = await file.text();
    setFileName(file.name);
    setContent(text);
    setFormat(/\.ya?ml$/i.test(file.name) ? 'higress' : detectFormat(text));
    setPreview(undefined);
  };
  if (!can(ns, 'editor')) {
    return (
      <section>
        <h1>Import</h1>
        <ErrorBox title="Not allowed" error={new Error(`Importing needs the editor role in ${ns}.`)} />
      </section>
    );
  }
  return (
    <section>
      <h1>Import an MCP server</h1>
      <p className="muted">
        Paste or upload a Higress MCP server definition (YAML, or JSON with <code>server</code> and <code>tools</code>) or a Nacos MCP server JSON
        (<code>serverSpecification</code>, <code>toolSpecification</code>). Preview it, then import it as a draft into <code>{ns}</code>.
      </p>
      <div className="import-layout">
        <Form onSubmit={() => check.run()}>
          <div className="panel">
            <div className="row">
              <SelectField label="Format" value={format} onChange={(e) => { setFormat(e.target.value as 'higress' | 'nacos'); setPreview(undefined); }}>
                <option value="higress">Higress (YAML or JSON)</option>
                <option value="nacos">Nacos MCP JSON</option>
              </SelectField>
              <div className="field">
                <label htmlFor="import-file">Upload a file</label>
                <input id="import-file" type="file" accept=".yaml,.yml,.json,application/json,text/yaml" onChange={(e) => void onFile(e.target.files?.[0])} />
                {fileName && <div className="hint">Loaded {fileName}</div>}
              </div>
            </div>
            <TextArea
              label="Definition"
              className="code"
              rows={14}
              value={content}
              onChange={(e) => {
                setContent(e.target.value);
                setPreview(undefined);
                if (e.target.value.trim().startsWith('{')) setFormat(detectFormat(e.target.value));
              }}
              placeholder={'server:\n  name: weather\ntools:\n  - name: get_weather\n    …'}
              error={(check.error as { field?: string } | undefined)?.field === 'content' ? check.error?.message : undefined}
            />
            <div className="row">
              <TextField label="Server name (optional)" value={name} onChange={(e) => setName(e.target.value)} hint="Overrides the name in the definition" />
              <TextField label="Version (optional)" value={version} onChange={(e) => setVersion(e.target.value)} hint="Overrides the version in the definition" />
            </div>
            <FormActions action={check} label="Preview" busyLabel="Reading…" disabled={!content.trim()} errorTitle="The definition does not convert" />
          </div>
        </Form>
        {preview && (
          <div className="panel" data-testid="import-preview">
            <h2>
              Preview: {preview.server.name ?? '(no name)'} <Badge kind="warn">draft {preview.spec.version}</Badge>
            </h2>
            {preview.server.description && <p>{preview.server.description}</p>}
            <p className="muted small">
              {preview.server.protocol ? `${preview.server.protocol} · ` : ''}
              {preview.server.endpoint ? `backend ${describeEndpoint(preview.server.endpoint)} · ` : ''}
              {preview.tools.length} tool(s)
            </p>
            {preview.exists && (
              <p className="notice-inline">A server named {preview.server.name} exists in {ns}: this is added to it as draft version {preview.spec.version}.</p>
            )}
            {preview.error && (
              <div className="error-box" role="alert">
                <strong>It would not import as is</strong>
                <p className="error-message">{preview.error.message}</p>
              </div>
            )}
            <DataTable
              columns={['Tool', 'Description', 'Request']}
              items={preview.tools}
              row={(t) => (
                <tr key={t.name}>
                  <td>
                    <code>{t.name}</code> {!t.enabled && <Badge kind="muted">disabled</Badge>}
                  </td>
                  <td className="clamp-cell">{t.description}</td>
                  <td>{t.request ? <code className="break">{t.request.method} {t.request.url}</code> : <span className="muted">direct response</span>}</td>
                </tr>
              )}
            />
            <ErrorBox error={doImport.error} title="Import failed" />
            <div className="actions">
              <button type="button" className="primary" disabled={doImport.busy || !preview.valid} onClick={() => void doImport.run()}>
                {doImport.busy ? 'Importing…' : 'Import as draft'}
              </button>
            </div>
          </div>
        )}
      </div>
    </section>
  );
}
