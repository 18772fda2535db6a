import { useEffect, useId, useMemo, useRef, useState } from 'react';
import { api, ApiError, enc } from '../api.js';
import type { ServerView, Tool, VersionView } from '../api.js';
import { useSession } from '../app.js';
import { Link, navigate, path } from '../router.js';
import { Badge, Check, ErrorBox, Form, Load, SelectField, TextArea, TextField, useAction, useLoad, useNotify } from '../ui.js';
import {
  ARG_TYPES, buildTool, draftFromTool, draftSchema, emptyDraft, fieldTarget, formLimitation, listEntry, newArg, parseJsonText, POSITIONS,
  rowsToSchema, schemaExtras, schemaProperties, schemaToRows,
} from '../tool-model.js';
import type { ArgRow, FieldTarget, ToolDraft } from '../tool-model.js';
import { serverBase } from './server-detail.js';
import { TryPanel } from './try-it.js';

export function ToolEditorPage({ ns, name, version, tool }: { ns: string; name: string; version: string; tool?: string }) {
  const base = serverBase(ns, name);
  const state = useLoad(async () => {
    const [server, v] = await Promise.all([api<ServerView>('GET', base), api<VersionView>('GET', `${base}/versions/${enc(version)}`)]);
    return { server, version: v };
  }, [base, version, tool]);
  return (
    <section>
      <p className="crumbs">
        <Link to={path('ns', ns, 'servers')}>MCP servers</Link> / <Link to={path('ns', ns, 'servers', name)}>{name}</Link> / version {version}
      </p>
      <Load state={state}>
        {({ server, version: v }) => {
          const existing = tool !== undefined ? v.spec.tools.find((t) => t.name === tool) : undefined;
          if (tool !== undefined && !existing) {
            return <ErrorBox title="Tool not found" error={new Error(`Version ${version} of ${name} has no tool '${tool}'.`)} />;
          }
          return <ToolEditor key={`${version}/${tool ?? ''}`} ns={ns} server={server} version={v} existing={existing} />;
        }}
      </Load>
    </section>
  );
}

function ToolEditor({ ns, server, version, existing }: { ns: string; server: ServerView; version: VersionView; existing: Tool | undefined }) {
  const { can } = useSession();
  const notify = useNotify();
  const editable = version.status === 'draft' && can(ns, 'editor');
  const [d, setD] = useState<ToolDraft>(() => (existing ? draftFromTool(existing) : emptyDraft()));
  const [serverError, setServerError] = useState<(FieldTarget & { code: string; message: string }) | undefined>();
  const [checking, setChecking] = useState(false);
  const [dirty, setDirty] = useState(false);
  // The draft's entity-tag as this editor last read or wrote it: saves send it as If-Match.
  const [etag, setEtag] = useState(version.etag);
  const base = serverBase(ns, server.name);
  const update = (patch: Partial<ToolDraft>) => {
    setD((x) => ({ ...x, ...patch }));
    setDirty(true);
  };
  const built = useMemo(() => buildTool(d), [d]);
  const schemeOptions = version.spec.securitySchemes.map((s) => (
    <option key={s.id} value={s.id}>{s.id} ({s.type}{s.scheme ? ` ${s.scheme}` : ''}{s.in ? ` in ${s.in} ${s.name ?? ''}` : ''})</option>
  ));
  const schema = useMemo(() => draftSchema(d), [d]);
  const props = schema.ok ? schemaProperties(schema.value) : [];

  // Check the tool as saving would (schemas, templates), a moment after each change.
  const tool = built.tool;
  const toolJson = tool ? JSON.stringify(tool) : '';
  useEffect(() => {
    if (!toolJson) return;
    let live = true;
    const t = setTimeout(() => {
      setChecking(true);
      const spec = { version: 'draft', config: version.spec.config, securitySchemes: version.spec.securitySchemes, tools: [JSON.parse(toolJson) as Tool] };
      api('POST', `/namespaces/${enc(ns)}/mcp-servers/validate`, { spec }).then(
        () => { if (live) setServerError(undefined); },
        (e: unknown) => {
          if (!live) return;
          if (e instanceof ApiError && e.status === 400) setServerError({ ...fieldTarget(e.field, e.message), code: e.code, message: e.message });
        },
      ).finally(() => { if (live) setChecking(false); });
    }, 500);
    return () => {
      live = false;
      clearTimeout(t);
    };
  }, [toolJson, ns, version.spec.config, version.spec.securitySchemes]);

  const save = useAction(async () => {
    if (!built.tool) throw new Error('Fix the problems marked below first.');
    const current = await api<VersionView>('GET', `${base}/versions/${enc(version.version)}`);
    const t = built.tool;
    const original = existing?.name;
    if (original === undefined && current.spec.tools.some((x) => x.name === t.name)) throw new ApiError(400, 'VALIDATION_FAILED', `name: version ${version.version} already has a tool '${t.name}'`, 'definition.name');
    if (original !== undefined && original !== t.name && current.spec.tools.some((x) => x.name === t.name)) throw new ApiError(400, 'VALIDATION_FAILED', `name: version ${version.version} already has a tool '${t.name}'`, 'definition.name');
    const tools = original !== undefined && current.spec.tools.some((x) => x.name === original)
      ? current.spec.tools.map((x) => (x.name === original ? t : x))
      : [...current.spec.tools, t];
    try {
      const saved = await api<VersionView>('PUT', `${base}/versions/${enc(version.version)}`, { spec: { ...current.spec, tools } }, { headers: { 'if-match': etag } });
      setEtag(saved.etag);
    } catch (e) {
      if (e instanceof ApiError && e.status === 412) {
        throw new ApiError(412, e.code, `Draft ${version.version} was changed by someone else since you opened it. Reload the page to see their changes, then apply yours again: nothing was saved.`, e.field);
      }
      if (e instanceof ApiError) setServerError({ ...fieldTarget(e.field, e.message), code: e.code, message: e.message });
      throw e;
    }
    setServerError(undefined);
    setDirty(false);
    notify(`Tool ${t.name} saved in draft ${version.version}`);
    if (original !== t.name) navigate(path('ns', ns, 'servers', server.name, 'versions', version.version, 'tools', t.name), { replace: true });
  });

  const errorFor = (key: string): FieldTarget | undefined => {
    const local = built.problems[key];
    if (local) return { key, detail: local };
    if (serverError?.key === key) return serverError;
    return undefined;
  };
  const text = (key: string) => {
    const e = errorFor(key);
    return e ? (e.line ? `line ${e.line}, column ${e.column}: ${e.detail}` : e.detail) : undefined;
  };
  const generalError = serverError && (serverError.key === 'general' || serverError.key.startsWith('try-')) ? serverError : undefined;
  const problemCount = Object.keys(built.problems).length + (serverError ? 1 : 0);

  return (
    <>
      <div className="page-head">
        <h1>
          {existing ? <>Tool {existing.name}</> : 'New tool'}{' '}
          <Badge kind={version.status === 'draft' ? 'warn' : version.status === 'published' ? 'info' : 'muted'}>
            {version.status} {version.version}
          </Badge>
        </h1>
        {editable && (
          <div className="head-actions">
            <span className="muted small" aria-live="polite">
              {checking ? 'Checking…' : problemCount > 0 ? `${problemCount} problem(s)` : tool ? 'Valid' : ''}
              {dirty ? ' · unsaved changes' : ''}
            </span>
            <button type="button" className="primary" disabled={save.busy} onClick={() => void save.run()}>
              {save.busy ? 'Saving…' : 'Save to draft'}
            </button>
          </div>
        )}
      </div>
      {!editable && (
        <p className="notice-inline">
          {version.status === 'draft' ? 'You may read this draft but not change it.' : `Version ${version.version} is ${version.status}: it cannot change. Start a new draft on the server page to edit its tools.`} You can still try the tool.
        </p>
      )}
      {save.error && !(save.error instanceof ApiError && serverError) && (
        <ErrorBox error={save.error} title={save.error instanceof ApiError && save.error.status === 412 ? 'Changed by someone else: reload' : 'Not saved'} />
      )}
      {serverError && (
        <div className="error-box" role="alert">
          <strong>{serverError.code === 'INVALID_TEMPLATE' ? 'Template error' : serverError.code === 'INVALID_SCHEMA' ? 'Schema error' : 'Invalid tool'}</strong>
          <p className="error-message">{serverError.message}</p>
          {generalError ? null : (
            <button type="button" className="link" onClick={goToInvalidField}>
              Go to the field
            </button>
          )}
        </div>
      )}
      <div className="editor-layout">
        <div className="editor-main">
          <Form onSubmit={() => save.run()}>
            <fieldset className="plain" disabled={!editable}>
              <div className="panel">
                <h2>What the model reads</h2>
                <div className="row">
                  <TextField label="Tool name" required value={d.name} onChange={(e) => update({ name: e.target.value })} error={text('name')} hint="Letters, digits, _ - . (at most 128)" />
                  <TextField label="Title" value={d.title} onChange={(e) => update({ title: e.target.value })} error={text('title')} hint="Optional display name" />
                </div>
                <TextArea label="Tool description" rows={4} value={d.description} onChange={(e) => update({ description: e.target.value })} error={text('description')} hint="What the tool does and when to use it: the agent decides from this." />
                <Check label="Enabled (listed and callable)" checked={d.enabled} onChange={(e) => update({ enabled: e.target.checked })} />
              </div>

              <SchemaEditor d={d} update={update} setD={setD} error={text('inputSchema')} rowError={(id) => built.problems[`arg-${id}`]} />

              <div className="panel">
                <h2>Request to the backend</h2>
                <Check label="Direct response (no backend request: the response template is the answer)" checked={d.direct} onChange={(e) => update({ direct: e.target.checked, ...(e.target.checked ? { responseMode: 'body' } : {}) })} />
                {!d.direct && (
                  <>
                    <div className="row method-url">
                      <SelectField label="Method" value={d.method} onChange={(e) => update({ method: e.target.value })} error={text('method')}>
                        {['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'].map((m) => <option key={m}>{m}</option>)}
                      </SelectField>
                      <TemplateField label="URL template" rows={1} value={d.url} onChange={(v) => update({ url: v })} error={errorFor('url')} hint="Relative to the server's endpoint (/weather/{{.args.city}}) or absolute (https://…). {{ }} is a Go template over .args and .config." />
                    </div>
                    <HeadersEditor d={d} update={update} errorFor={errorFor} />
                    {props.length > 0 && (
                      <fieldset className="fieldset">
                        <legend>Where each argument goes</legend>
                        <div className="positions">
                          {props.map((p) => (
                            <SelectField key={p.name} label={`Argument ${p.name}`} value={d.positions[p.name] ?? ''} onChange={(e) => update({ positions: { ...d.positions, [p.name]: e.target.value as ToolDraft['positions'][string] } })} error={text(`position-${p.name}`)}>
                              <option value="">(by the mode below / template only)</option>
                              {POSITIONS.map((pos) => <option key={pos} value={pos}>{pos}</option>)}
                            </SelectField>
                          ))}
                        </div>
                      </fieldset>
                    )}
                    <SelectField label="Arguments without a position" value={d.argsTo} onChange={(e) => update({ argsTo: e.target.value as ToolDraft['argsTo'] })} error={text('argsTo')}>
                      <option value="none">only where the templates put them</option>
                      <option value="url">all to the query string (argsToUrlParam)</option>
                      <option value="json">all to a JSON body (argsToJsonBody)</option>
                      <option value="form">all to a form body (argsToFormBody)</option>
                    </SelectField>
                    <TemplateField label="Body template" rows={4} value={d.body} onChange={(v) => update({ body: v })} error={errorFor('body')} hint='Optional, e.g. {"q": "{{ .args.city }}"}; a JSON-looking body is sent as application/json.' />
                    {version.spec.securitySchemes.length > 0 && (
                      <div className="row">
                        <SelectField label="Backend credential scheme" value={d.securityId} onChange={(e) => update({ securityId: e.target.value })} error={text('security')}>
                          <option value="">none</option>
                          {schemeOptions}
                        </SelectField>
                        <SelectField label="Agent credential scheme" value={d.securityClientId} onChange={(e) => update({ securityClientId: e.target.value })} hint="Taken from the agent's request and never forwarded otherwise.">
                          <option value="">none</option>
                          {schemeOptions}
                        </SelectField>
                        {(d.securityId || d.securityClientId) && (
                          <Check label="Forward the agent's credential to the backend (passthrough)" checked={d.securityPassthrough} onChange={(e) => update({ securityPassthrough: e.target.checked })} />
                        )}
                        {d.securityId && (
                          <TextField label="Backend credential" value={d.securityCredential} onChange={(e) => update({ securityCredential: e.target.value })} hint="Optional; else the scheme's default credential. Passthrough wins over both." />
                        )}
                      </div>
                    )}
                  </>
                )}
                <TextField label="Timeout (ms)" type="number" min={1} value={d.timeoutMs} onChange={(e) => update({ timeoutMs: e.target.value })} error={text('timeoutMs')} hint="Default 30000" />
              </div>

              <div className="panel">
                <h2>Response</h2>
                <SelectField label="Result text" value={d.responseMode} onChange={(e) => update({ responseMode: e.target.value as ToolDraft['responseMode'] })} error={text('responseMode')}>
                  {!d.direct && <option value="raw">the backend's body as is</option>}
                  <option value="body">rendered by a template (.field paths into the backend's JSON)</option>
                  {!d.direct && <option value="wrap">the backend's body with text before and after</option>}
                </SelectField>
                {d.responseMode === 'body' && <TemplateField label="Response template" rows={4} value={d.responseBody} onChange={(v) => update({ responseBody: v })} error={errorFor('responseBody')} hint="e.g. {{ .city }}: {{ .temp }} °C" />}
                {d.responseMode === 'wrap' && (
                  <div className="row">
                    <TemplateField label="Before the body (prependBody)" rows={3} value={d.prependBody} onChange={(v) => update({ prependBody: v })} error={errorFor('prependBody')} />
                    <TemplateField label="After the body (appendBody)" rows={3} value={d.appendBody} onChange={(v) => update({ appendBody: v })} error={errorFor('appendBody')} />
                  </div>
                )}
                {!d.direct && <TemplateField label="Error template (non-2xx answers)" rows={3} value={d.errorTemplate} onChange={(v) => update({ errorTemplate: v })} error={errorFor('errorTemplate')} hint="Over the error body's JSON; ._headers holds the answer's headers, including :status." />}
                <JsonArea label="Output schema (JSON, optional)" rows={5} value={d.outputSchemaText} onChange={(v) => update({ outputSchemaText: v })} error={errorFor('outputSchema')} hint="With an output schema, a JSON object answer is also returned as structuredContent." />
              </div>
            </fieldset>
            {editable && (
              <div className="actions sticky-actions">
                {dirty && <span className="muted small">Unsaved changes</span>}
                <button type="submit" className="primary" disabled={save.busy}>
                  {save.busy ? 'Saving…' : 'Save to draft'}
                </button>
              </div>
            )}
          </Form>
        </div>
        <aside className="editor-side">
          <Preview tool={tool} problems={built.problems} />
          {can(ns, 'editor') && <TryPanel ns={ns} server={server} version={version.version} tool={tool} schema={schema.ok ? schema.value : undefined} onFieldError={(e) => setServerError(e)} dirty={dirty} />}
        </aside>
      </div>
    </>
  );
}

/** Focus the first field the editor marks invalid (after a failed save or check). */
function goToInvalidField(): void {
  const el = document.querySelector<HTMLElement>('.editor-main [aria-invalid="true"]');
  if (!el) return;
  el.scrollIntoView({ block: 'center' });
  el.focus();
}

// ------------------------------------------------------------ pieces

function Preview({ tool, problems }: { tool: Tool | undefined; problems: Record<string, string> }) {
  const [raw, setRaw] = useState(false);
  return (
    <div className="panel preview" aria-live="polite">
      <div className="panel-head">
        <h2>What an agent sees</h2>
        <button type="button" className="link" onClick={() => setRaw((r) => !r)} aria-pressed={raw}>
          {raw ? 'Card' : 'tools/list JSON'}
        </button>
      </div>
      {!tool ? (
        <p className="muted">Fix {Object.keys(problems).length} problem(s) to see the preview.</p>
      ) : raw ? (
        <pre className="code-block" data-testid="tools-list-entry">{JSON.stringify(listEntry(tool), null, 2)}</pre>
      ) : (
        <div className="tool-card" data-testid="tool-card">
          <div className="tool-card-name">
            <code>{tool.name}</code> {tool.title && <span className="muted">— {tool.title}</span>}
            {!tool.enabled && <Badge kind="muted">disabled: not listed</Badge>}
          </div>
          <p className="tool-card-desc">{tool.description || <em className="muted">no description: the model will have to guess</em>}</p>
          <ul className="tool-card-args">
            {schemaProperties(tool.inputSchema).map((p) => (
              <li key={p.name}>
                <code>{p.name}</code>
                <span className="muted"> {String(p.schema.type ?? 'any')}{p.required ? ', required' : ''}</span>
                {typeof p.schema.description === 'string' && p.schema.description && <> — {p.schema.description}</>}
              </li>
            ))}
          </ul>
        </div>
      )}
    </div>
  );
}

/** A template textarea whose error shows the line and column, the line itself and a caret. */
function TemplateField({ label, value, onChange, error, hint, rows }: { label: string; value: string; onChange: (v: string) => void; error: FieldTarget | undefined; hint?: string; rows: number }) {
  const ref = useRef<HTMLTextAreaElement>(null);
  const id = useId();
  const lineText = error?.line ? value.split('\n')[error.line - 1] : undefined;
  const goTo = () => {
    const t = ref.current;
    if (!t || !error?.line) return;
    const lines = value.split('\n');
    let offset = 0;
    for (let i = 0; i < error.line - 1 && i < lines.length; i++) offset += (lines[i]?.length ?? 0) + 1;
    offset += (error.column ?? 1) - 1;
    t.focus();
    t.setSelectionRange(offset, Math.min(offset + 1, value.length));
  };
  return (
    <div className={error ? 'field has-error template-field' : 'field template-field'}>
      <label htmlFor={id}>{label}</label>
      <textarea
        id={id}
        ref={ref}
        className="code"
        rows={Math.max(rows, Math.min(12, value.split('\n').length))}
        spellCheck={false}
        value={value}
        onChange={(e) => onChange(e.target.value)}
        aria-invalid={error ? true : undefined}
        aria-describedby={error ? `${id}-error` : hint ? `${id}-hint` : undefined}
      />
      {hint && !error && <div id={`${id}-hint`} className="hint">{hint}</div>}
      {error && (
        <div id={`${id}-error`} className="field-error template-error" role="alert">
          {error.line ? (
            <>
              <div>
                <strong>
                  Line {error.line}, column {error.column}:
                </strong>{' '}
                {error.detail}{' '}
                <button type="button" className="link" onClick={goTo}>
                  Show
                </button>
              </div>
              {lineText !== undefined && (
                <pre className="error-snippet" aria-hidden="true">
                  {lineText}
                  {'\n'}
                  {' '.repeat(Math.max(0, (error.column ?? 1) - 1))}^
                </pre>
              )}
            </>
          ) : (
            error.detail
          )}
        </div>
      )}
    </div>
  );
}

function JsonArea({ label, value, onChange, error, hint, rows }: { label: string; value: string; onChange: (v: string) => void; error: FieldTarget | undefined; hint?: string; rows: number }) {
  return (
    <TextArea label={label} className="code" rows={rows} value={value} onChange={(e) => onChange(e.target.value)} error={error?.detail} hint={hint} />
  );
}

function HeadersEditor({ d, update, errorFor }: { d: ToolDraft; update: (p: Partial<ToolDraft>) => void; errorFor: (k: string) => FieldTarget | undefined }) {
  const set = (i: number, patch: Partial<{ key: string; value: string }>) => update({ headers: d.headers.map((h, j) => (j === i ? { ...h, ...patch } : h)) });
  return (
    <fieldset className="fieldset">
      <legend>Headers</legend>
      {d.headers.length === 0 && <p className="muted small">No header. Values are templates too (Authorization: Bearer {'{{ .config.token }}'}).</p>}
      {d.headers.map((h, i) => {
        const e = errorFor(`header-${i}`);
        return (
          <div key={i} className="header-row">
            <TextField label={`Header ${i + 1} name`} value={h.key} onChange={(ev) => set(i, { key: ev.target.value })} />
            <TemplateField label={`Header ${i + 1} value`} rows={1} value={h.value} onChange={(v) => set(i, { value: v })} error={e} />
            <button type="button" className="icon" aria-label={`Remove header ${i + 1}`} onClick={() => update({ headers: d.headers.filter((_, j) => j !== i) })}>
              ×
            </button>
          </div>
        );
      })}
      <button type="button" onClick={() => update({ headers: [...d.headers, { key: '', value: '' }] })}>
        Add header
      </button>
    </fieldset>
  );
}

function SchemaEditor({ d, update, setD, error, rowError }: { d: ToolDraft; update: (p: Partial<ToolDraft>) => void; setD: (f: (x: ToolDraft) => ToolDraft) => void; error: string | undefined; rowError: (id: number) => string | undefined }) {
  const [formProblem, setFormProblem] = useState<string>();
  const toJson = () => {
    setFormProblem(undefined);
    update({ schemaMode: 'json', schemaText: JSON.stringify(rowsToSchema(d.rows, d.extras), null, 2) });
  };
  const toForm = () => {
    const p = parseJsonText(d.schemaText);
    if (!p.ok) return setFormProblem(`Fix the JSON first (${p.message}).`);
    const why = formLimitation(p.value);
    if (why) return setFormProblem(`The form cannot show this schema: ${why}. Keep editing it as JSON.`);
    setFormProblem(undefined);
    const value = p.value as Record<string, unknown>;
    update({ schemaMode: 'form', rows: schemaToRows(value), extras: schemaExtras(value) });
  };
  const setRow = (id: number, patch: Partial<ArgRow>) => {
    setD((x) => {
      const old = x.rows.find((r) => r.id === id);
      const positions = { ...x.positions };
      if (old && patch.name !== undefined && patch.name !== old.name && positions[old.name] !== undefined) {
        positions[patch.name] = positions[old.name] as ToolDraft['positions'][string];
        delete positions[old.name];
      }
      return { ...x, positions, rows: x.rows.map((r) => (r.id === id ? { ...r, ...patch } : r)) };
    });
  };
  return (
    <div className="panel">
      <div className="panel-head">
        <h2 id="schema-heading">Input schema</h2>
        <div className="segmented" role="group" aria-labelledby="schema-heading">
          <button type="button" aria-pressed={d.schemaMode === 'form'} onClick={toForm}>
            Form
          </button>
          <button type="button" aria-pressed={d.schemaMode === 'json'} onClick={toJson}>
            JSON
          </button>
        </div>
      </div>
      {formProblem && <p className="field-error" role="alert">{formProblem}</p>}
      {d.schemaMode === 'json' ? (
        <TextArea label="Input schema (JSON Schema)" className="code" rows={12} value={d.schemaText} onChange={(e) => update({ schemaText: e.target.value })} error={error} hint="An object schema (2020-12, or draft-07 with $schema). Checked as you type." />
      ) : (
        <>
          {error && <p className="field-error" role="alert">{error}</p>}
          {d.rows.length === 0 && <p className="muted small">No argument. Add the ones the agent must or may pass.</p>}
          {d.rows.map((r, i) => (
            <fieldset key={r.id} className="arg-row">
              <legend>Argument {i + 1}</legend>
              <TextField label="Name" value={r.name} onChange={(e) => setRow(r.id, { name: e.target.value })} error={rowError(r.id)} />
              <SelectField label="Type" value={r.type} onChange={(e) => setRow(r.id, { type: e.target.value as ArgRow['type'] })}>
                {ARG_TYPES.map((t) => <option key={t} value={t}>{t}</option>)}
              </SelectField>
              {r.type === 'array' && (
                <SelectField label="Items" value={r.itemType} onChange={(e) => setRow(r.id, { itemType: e.target.value as ArgRow['itemType'] })}>
                  {['string', 'number', 'integer', 'boolean'].map((t) => <option key={t} value={t}>{t}</option>)}
                </SelectField>
              )}
              <TextField className="wide-input" label="Description" value={r.description} onChange={(e) => setRow(r.id, { description: e.target.value })} />
              {(r.type === 'string' || r.type === 'number' || r.type === 'integer') && (
                <TextField label="Allowed values" value={r.enumText} onChange={(e) => setRow(r.id, { enumText: e.target.value })} placeholder="a, b, c" />
              )}
              <TextField label="Default" value={r.defaultText} onChange={(e) => setRow(r.id, { defaultText: e.target.value })} />
              <Check label="Required" checked={r.required} onChange={(e) => setRow(r.id, { required: e.target.checked })} />
              <button type="button" className="icon" aria-label={`Remove argument ${r.name || i + 1}`} onClick={() => update({ rows: d.rows.filter((x) => x.id !== r.id) })}>
                ×
              </button>
            </fieldset>
          ))}
          <button type="button" onClick={() => update({ rows: [...d.rows, newArg()] })}>
            Add argument
          </button>
        </>
      )}
    </div>
  );
}
