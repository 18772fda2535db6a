import { useEffect, useId, useMemo, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, ApiError, enc } from '../api.js';
import type { ServerView, SpecWarning, Tool, VersionView } from '../api.js';
import { humanField } from '../field-names.js';
import { Link, navigate, path, useLeaveGuard } from '../router.js';
import { useSession } from '../session.js';
import { Badge, Check, ErrorBox, Form, Load, PageHeading, SelectField, TextArea, TextField, useAction, useLoad, useNotify, WarningList } from '../ui.js';
import {
  ARG_TYPES, buildTool, draftFromTool, draftSchema, emptyDraft, fieldTarget, formLimitation, listEntry, newArg, parseJsonText, POSITIONS,
  rowsToSchema, schemaExtras, schemaProperties, schemaToRows,
} from '../tool-model.js';
import { UPSTREAM_PROTOCOLS } from './import-tools.js';
import type { ArgRow, FieldTarget, ToolDraft } from '../tool-model.js';
import { PublishDialog } from './publish.js';
import { createDraft, nextVersion, serverBase, workingDraft } from './server-detail.js';
import { TryPanel } from './try-it.js';

export function ToolEditorPage({ ns, name, version, tool }: { ns: string; name: string; version: string; tool?: string }) {
  const { t } = useTranslation();
  const base = serverBase(ns, name);
  const state = useLoad(async () => {
    const [server, v] = await Promise.all([api<ServerView>('GET', base), api<VersionView>('GET', `${base}/versions/${enc(version)}`)]);
    return { server, version: v };
  }, [base, version, tool]);
  return (
    <section>
      <nav className="crumbs" aria-label={t('common.breadcrumbs')}>
        <Link to={path('ns', ns, 'servers')}>{t('servers.title')}</Link> / <Link to={path('ns', ns, 'servers', name)}>{name}</Link> / {t('editor.versionCrumb', { version })}
      </nav>
      <Load state={state}>
        {({ server, version: v }) => {
          const existing = tool !== undefined ? v.spec.tools.find((x) => x.name === tool) : undefined;
          if (tool !== undefined && !existing) {
            return <ErrorBox title={t('editor.notFound')} error={new Error(t('editor.notFoundMessage', { version, name, tool }))} />;
          }
          // A new entity-tag read (a reload after someone else's change) starts the editor anew, with their change.
          return <ToolEditor key={`${version}/${tool ?? ''}/${v.etag}`} ns={ns} server={server} version={v} existing={existing} onPublished={state.reload} onReload={state.reload} />;
        }}
      </Load>
    </section>
  );
}

type ServerProblem = FieldTarget & { code: string; message: string; field?: string };

function ToolEditor({ ns, server, version, existing, onPublished, onReload }: {
  ns: string; server: ServerView; version: VersionView; existing: Tool | undefined; onPublished: () => void; onReload: () => void;
}) {
  const { t } = useTranslation();
  const { can } = useSession();
  const notify = useNotify();
  const editor = can(ns, 'editor');
  const editable = version.status === 'draft' && editor;
  const [d, setD] = useState<ToolDraft>(() => (existing ? draftFromTool(existing) : emptyDraft()));
  const [serverProblems, setServerProblems] = useState<ServerProblem[]>([]);
  const [warnings, setWarnings] = useState<SpecWarning[]>([]);
  const [check, setCheck] = useState<'idle' | 'checking' | 'failed'>('idle');
  const [dirty, setDirty] = useState(false);
  const [publishing, setPublishing] = useState(false);
  // The draft's entity-tag as this editor last read or wrote it: its saves and publish send it as If-Match.
  const [etag, setEtag] = useState(version.etag);
  const base = serverBase(ns, server.name);
  useLeaveGuard(dirty && editable);
  const update = (patch: Partial<ToolDraft>) => {
    setD((x) => ({ ...x, ...patch }));
    setDirty(true);
  };
  const setRows = (f: (x: ToolDraft) => ToolDraft) => {
    setD(f);
    setDirty(true);
  };
  // A tool of a server fronting an upstream MCP server has no template: calls go to the upstream.
  const upstream = UPSTREAM_PROTOCOLS.has(server.protocol) && (existing?.template ?? null) === null;
  const built = useMemo(() => buildTool(d, upstream), [d, upstream]);
  const schemeOptions = version.spec.securitySchemes.map((s) => (
    <option key={s.id} value={s.id}>{s.id} ({s.type}{s.scheme ? ` ${s.scheme}` : ''}{s.in ? ` ${s.in} ${s.name ?? ''}` : ''})</option>
  ));
  const schema = useMemo(() => draftSchema(d), [d]);
  const props = schema.ok ? schemaProperties(schema.value) : [];
  const toProblems = (list: { code: string; message: string; field?: string }[]): ServerProblem[] => list.map((p) => ({ ...fieldTarget(p.field, p.message), code: p.code, message: p.message, ...(p.field ? { field: p.field } : {}) }));

  // Check the tool as saving would (schemas, templates), every problem at once, a moment after each change.
  const tool = built.tool;
  const toolJson = tool ? JSON.stringify(tool) : '';
  useEffect(() => {
    if (!toolJson) return;
    let live = true;
    const timer = setTimeout(() => {
      setCheck('checking');
      const spec = { version: 'draft', config: version.spec.config, securitySchemes: version.spec.securitySchemes, tools: [JSON.parse(toolJson) as Tool] };
      api<{ valid: boolean; problems?: { code: string; message: string; field?: string }[]; warnings?: SpecWarning[] }>('POST', `/namespaces/${enc(ns)}/mcp-servers/validate`, { spec, all: true }).then(
        (r) => {
          if (!live) return;
          setServerProblems(toProblems(r.problems ?? []));
          setWarnings(r.warnings ?? []);
          setCheck('idle');
        },
        (e: unknown) => {
          if (!live) return;
          if (e instanceof ApiError && e.status === 400) {
            setServerProblems(toProblems([{ code: e.code, message: e.message, ...(e.field ? { field: e.field } : {}) }]));
            setCheck('idle');
          } else {
            setCheck('failed');
          }
        },
      );
    }, 400);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [toolJson, ns, version.spec.config, version.spec.securitySchemes]);

  const saveTool = async () => {
    if (!built.tool) throw new Error(t('editor.fixFirst'));
    const current = await api<VersionView>('GET', `${base}/versions/${enc(version.version)}`);
    const x = built.tool;
    const original = existing?.name;
    if ((original === undefined || original !== x.name) && current.spec.tools.some((y) => y.name === x.name)) {
      const e = new ApiError(400, 'VALIDATION_FAILED', t('editor.duplicate', { version: version.version, name: x.name }), 'definition.name');
      setServerProblems(toProblems([e]));
      throw e;
    }
    const tools = original !== undefined && current.spec.tools.some((y) => y.name === original)
      ? current.spec.tools.map((y) => (y.name === original ? x : y))
      : [...current.spec.tools, x];
    try {
      const saved = await api<VersionView>('PUT', `${base}/versions/${enc(version.version)}`, { spec: { ...current.spec, tools } }, { ifMatch: etag });
      setEtag(saved.etag);
    } catch (e) {
      if (e instanceof ApiError && e.status === 400) setServerProblems(toProblems([{ code: e.code, message: e.message, ...(e.field ? { field: e.field } : {}) }]));
      throw e;
    }
    setDirty(false);
    notify(t('editor.saved', { name: x.name, version: version.version }));
    if (original !== x.name) navigate(path('ns', ns, 'servers', server.name, 'versions', version.version, 'tools', x.name), { replace: true, force: true });
  };
  const save = useAction(saveTool);
  const preparePublish = useAction(async () => {
    if (dirty) await saveTool();
    setPublishing(true);
  });
  const editInDraft = useAction(async () => {
    const draft = workingDraft(server.versions, server.latestVersion);
    const target = draft?.version ?? await createDraft(ns, server.name, nextVersion(server.versions), version.version);
    if (!draft) notify(t('draft.createdFrom', { version: target, from: version.version }));
    navigate(path('ns', ns, 'servers', server.name, 'versions', target, 'tools', existing?.name ?? ''));
  });

  const fieldProblem = (key: string): FieldTarget | undefined => {
    const local = built.problems[key];
    if (local) return { key, detail: local };
    return serverProblems.find((p) => p.key === key);
  };
  const text = (key: string) => {
    const e = fieldProblem(key);
    return e ? (e.line ? t('editor.lineColumn', { line: e.line, column: e.column, detail: e.detail }) : e.detail) : undefined;
  };
  // Problems no field shows: listed at the top, by their human names.
  const FIELD_KEYS = new Set(['name', 'title', 'description', 'inputSchema', 'outputSchema', 'url', 'method', 'body', 'argsTo', 'security', 'responseBody', 'prependBody', 'appendBody', 'responseMode', 'errorTemplate', 'timeoutMs']);
  const shownAtField = (p: ServerProblem) => FIELD_KEYS.has(p.key) || /^header-\d+$/.test(p.key) || (p.key.startsWith('position-') && props.some((x) => `position-${x.name}` === p.key));
  const general = serverProblems.filter((p) => !shownAtField(p));
  const localCount = Object.keys(built.problems).length;
  const problemCount = localCount + serverProblems.length;
  const versionDraft = version.status === 'draft';
  const existingDraft = workingDraft(server.versions, server.latestVersion);
  const status = check === 'checking' ? t('editor.checking') : check === 'failed' ? t('editor.couldNotValidate') : problemCount > 0 ? t('editor.problems', { count: problemCount }) : tool ? t('editor.valid') : '';

  return (
    <>
      <div className="page-head">
        <PageHeading title={existing ? t('editor.titleTool', { name: existing.name }) : t('editor.titleNew')}>
          {existing ? t('editor.titleTool', { name: existing.name }) : t('editor.titleNew')}{' '}
          <Badge kind={versionDraft ? 'warn' : version.status === 'published' ? 'info' : 'muted'}>
            {t(`versions.statuses.${version.status}`)} {version.version}
          </Badge>
        </PageHeading>
        {editable && (
          <div className="head-actions">
            <span className={check === 'failed' ? 'check-status failed small' : 'muted small check-status'} data-testid="check-status">
              {status}
              {dirty ? ` · ${t('editor.unsaved')}` : ''}
            </span>
            <button type="button" disabled={save.busy} onClick={() => void save.run()}>
              {save.busy ? t('common.saving') : t('editor.save')}
            </button>
            <button type="button" className="primary" disabled={preparePublish.busy || !existing} onClick={() => void preparePublish.run()} title={existing ? undefined : t('editor.saveFirst')}>
              {t('editor.publish')}
            </button>
          </div>
        )}
        {!versionDraft && editor && existing && (
          <div className="head-actions">
            <button type="button" className="primary" disabled={editInDraft.busy} onClick={() => void editInDraft.run()}>
              {existingDraft ? t('editor.openInDraft', { version: existingDraft.version }) : t('editor.editInNewDraft')}
            </button>
          </div>
        )}
      </div>
      {!editable && (
        <p className="notice-inline">
          {versionDraft ? t('editor.readOnlyDraft') : t('editor.immutable', { version: version.version, status: t(`versions.statuses.${version.status}`) })} {t('editor.canTry')}
        </p>
      )}
      <ErrorBox error={editInDraft.error} />
      {save.error && !(save.error instanceof ApiError && save.error.status === 400) && <ErrorBox error={save.error} title={t('editor.notSaved')} onReload={onReload} />}
      {preparePublish.error && !(preparePublish.error instanceof ApiError && preparePublish.error.status === 400) && <ErrorBox error={preparePublish.error} title={t('editor.notSaved')} onReload={onReload} />}
      {check === 'failed' && (
        <p className="notice-inline" role="status">{t('editor.couldNotValidateLong')}</p>
      )}
      {warnings.length > 0 && <WarningList title={t('editor.warnings', { count: warnings.length })} warnings={warnings} testId="spec-warnings" />}
      {problemCount > 0 && (
        <div className="error-box" role="alert" data-testid="problems">
          <strong>{t('editor.problems', { count: problemCount })}</strong>
          {general.length > 0 && (
            <ul className="problem-list">
              {general.map((p, i) => <li key={i}>{p.field ? <span className="error-field">{humanField(p.field, t)}: </span> : null}{p.detail}</li>)}
            </ul>
          )}
          {problemCount > general.length && (
            <button type="button" className="link" onClick={goToInvalidField}>
              {t('editor.goToField')}
            </button>
          )}
        </div>
      )}
      <div className="editor-layout">
        <div className="editor-main">
          <Form onSubmit={() => save.run()} label={t('editor.formLabel')}>
            <fieldset className="plain" disabled={!editable}>
              <div className="panel">
                <h2>{t('editor.modelReads')}</h2>
                <div className="row">
                  <TextField label={t('editor.name')} required value={d.name} onChange={(e) => update({ name: e.target.value })} error={text('name')} hint={t('editor.nameHint')} />
                  <TextField label={t('editor.titleField')} value={d.title} onChange={(e) => update({ title: e.target.value })} error={text('title')} hint={t('editor.titleHint')} />
                </div>
                <TextArea label={t('editor.description')} rows={4} value={d.description} onChange={(e) => update({ description: e.target.value })} error={text('description')} hint={t('editor.descriptionHint')} />
                <Check label={t('editor.enabled')} checked={d.enabled} onChange={(e) => update({ enabled: e.target.checked })} />
              </div>

              <SchemaEditor d={d} update={update} setD={setRows} error={text('inputSchema')} rowError={(id) => built.problems[`arg-${id}`]} />

              {upstream ? (
                <div className="panel" data-testid="upstream-tool">
                  <h2>{t('editor.request')}</h2>
                  <p className="muted small">{t('editor.upstreamTool', { protocol: server.protocol })}</p>
                </div>
              ) : (
                <>
              <div className="panel">
                <h2>{t('editor.request')}</h2>
                <Check label={t('editor.direct')} checked={d.direct} onChange={(e) => update({ direct: e.target.checked, ...(e.target.checked ? { responseMode: 'body' } : {}) })} />
                {!d.direct && (
                  <>
                    <div className="row method-url">
                      <SelectField label={t('editor.method')} value={d.method} onChange={(e) => update({ method: e.target.value })} error={text('method')}>
                        {['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'].map((m) => <option key={m}>{m}</option>)}
                      </SelectField>
                      <TemplateField label={t('editor.url')} rows={1} value={d.url} onChange={(v) => update({ url: v })} error={fieldProblem('url')} hint={t('editor.urlHint', { relative: '/weather/{{.args.city}}', braces: '{{ }}' })} />
                    </div>
                    <HeadersEditor d={d} update={update} errorFor={fieldProblem} />
                    {props.length > 0 && (
                      <fieldset className="fieldset">
                        <legend>{t('editor.positions')}</legend>
                        <div className="positions">
                          {props.map((p) => (
                            <SelectField key={p.name} label={t('editor.argument', { name: p.name })} value={d.positions[p.name] ?? ''} onChange={(e) => update({ positions: { ...d.positions, [p.name]: e.target.value as ToolDraft['positions'][string] } })} error={text(`position-${p.name}`)}>
                              <option value="">{t('editor.positionDefault')}</option>
                              {POSITIONS.map((pos) => <option key={pos} value={pos}>{t(`editor.position.${pos}`)}</option>)}
                            </SelectField>
                          ))}
                        </div>
                      </fieldset>
                    )}
                    <SelectField label={t('editor.argsTo')} value={d.argsTo} onChange={(e) => update({ argsTo: e.target.value as ToolDraft['argsTo'] })} error={text('argsTo')}>
                      <option value="none">{t('editor.argsToNone')}</option>
                      <option value="url">{t('editor.argsToUrl')}</option>
                      <option value="json">{t('editor.argsToJson')}</option>
                      <option value="form">{t('editor.argsToForm')}</option>
                    </SelectField>
                    <TemplateField label={t('editor.body')} rows={4} value={d.body} onChange={(v) => update({ body: v })} error={fieldProblem('body')} hint={t('editor.bodyHint', { example: '{"q": "{{ .args.city }}"}' })} />
                    {version.spec.securitySchemes.length > 0 && (
                      <div className="row">
                        <SelectField label={t('editor.backendScheme')} value={d.securityId} onChange={(e) => update({ securityId: e.target.value })} error={text('security')}>
                          <option value="">{t('common.none')}</option>
                          {schemeOptions}
                        </SelectField>
                        <SelectField label={t('editor.agentScheme')} value={d.securityClientId} onChange={(e) => update({ securityClientId: e.target.value })} hint={t('editor.agentSchemeHint')}>
                          <option value="">{t('common.none')}</option>
                          {schemeOptions}
                        </SelectField>
                        {(d.securityId || d.securityClientId) && (
                          <Check label={t('editor.passthrough')} checked={d.securityPassthrough} onChange={(e) => update({ securityPassthrough: e.target.checked })} />
                        )}
                        {d.securityId && (
                          <TextField label={t('editor.credential')} value={d.securityCredential} onChange={(e) => update({ securityCredential: e.target.value })} hint={t('editor.credentialHint')} />
                        )}
                      </div>
                    )}
                  </>
                )}
                <TextField label={t('editor.timeout')} type="number" min={1} value={d.timeoutMs} onChange={(e) => update({ timeoutMs: e.target.value })} error={text('timeoutMs')} hint={t('editor.timeoutHint')} />
              </div>

              <div className="panel">
                <h2>{t('editor.response')}</h2>
                <SelectField label={t('editor.resultText')} value={d.responseMode} onChange={(e) => update({ responseMode: e.target.value as ToolDraft['responseMode'] })} error={text('responseMode')}>
                  {!d.direct && <option value="raw">{t('editor.responseRaw')}</option>}
                  <option value="body">{t('editor.responseBody')}</option>
                  {!d.direct && <option value="wrap">{t('editor.responseWrap')}</option>}
                </SelectField>
                {d.responseMode === 'body' && <TemplateField label={t('editor.responseTemplate')} rows={4} value={d.responseBody} onChange={(v) => update({ responseBody: v })} error={fieldProblem('responseBody')} hint={t('editor.responseTemplateHint', { example: '{{ .city }}: {{ .temp }} °C' })} />}
                {d.responseMode === 'wrap' && (
                  <div className="row">
                    <TemplateField label={t('editor.prepend')} rows={3} value={d.prependBody} onChange={(v) => update({ prependBody: v })} error={fieldProblem('prependBody')} />
                    <TemplateField label={t('editor.append')} rows={3} value={d.appendBody} onChange={(v) => update({ appendBody: v })} error={fieldProblem('appendBody')} />
                  </div>
                )}
                {!d.direct && <TemplateField label={t('editor.errorTemplate')} rows={3} value={d.errorTemplate} onChange={(v) => update({ errorTemplate: v })} error={fieldProblem('errorTemplate')} hint={t('editor.errorTemplateHint')} />}
                <TextArea label={t('editor.outputSchema')} className="code" rows={5} value={d.outputSchemaText} onChange={(e) => update({ outputSchemaText: e.target.value })} error={text('outputSchema')} hint={t('editor.outputSchemaHint')} />
              </div>
                </>
              )}
            </fieldset>
            {editable && (
              <div className="actions sticky-actions">
                {dirty && <span className="muted small">{t('editor.unsavedLong')}</span>}
                <button type="submit" disabled={save.busy}>
                  {save.busy ? t('common.saving') : t('editor.save')}
                </button>
              </div>
            )}
          </Form>
        </div>
        <aside className="editor-side" aria-label={t('editor.side')}>
          <Preview tool={tool} problems={built.problems} />
          {editor && <TryPanel ns={ns} server={server} version={version.version} tool={tool} schema={schema.ok ? schema.value : undefined} onFieldError={(e) => setServerProblems([e])} dirty={dirty} />}
        </aside>
      </div>
      {publishing && (
        <PublishDialog
          base={base} server={server} version={version.version} etag={etag} open
          onClose={() => setPublishing(false)}
          onReload={() => {
            setPublishing(false);
            onReload();
          }}
          onDone={() => {
            onPublished();
            navigate(path('ns', ns, 'servers', server.name), { force: true });
          }}
        />
      )}
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

/** What an agent sees (not a live region: it changes on every keystroke). */
function Preview({ tool, problems }: { tool: Tool | undefined; problems: Record<string, string> }) {
  const { t } = useTranslation();
  const [raw, setRaw] = useState(false);
  return (
    <div className="panel preview">
      <div className="panel-head">
        <h2>{t('editor.preview')}</h2>
        <button type="button" className="link" onClick={() => setRaw((r) => !r)} aria-pressed={raw}>
          {t('editor.previewJson')}
        </button>
      </div>
      {!tool ? (
        <p className="muted">{t('editor.previewBlocked', { count: Object.keys(problems).length })}</p>
      ) : raw ? (
        <pre className="code-block" tabIndex={0} data-testid="tools-list-entry">{JSON.stringify(listEntry(tool), null, 2)}</pre>
      ) : (
        <div className="tool-card" data-testid="tool-card">
          <div className="tool-card-name">
            <code>{tool.name}</code> {tool.title && <span className="muted">— {tool.title}</span>}
            {!tool.enabled && <Badge kind="muted">{t('editor.previewDisabled')}</Badge>}
          </div>
          <p className="tool-card-desc">{tool.description || <em className="muted">{t('editor.previewNoDescription')}</em>}</p>
          <ul className="tool-card-args">
            {schemaProperties(tool.inputSchema).map((p) => (
              <li key={p.name}>
                <code>{p.name}</code>
                <span className="muted"> {String(p.schema.type ?? 'any')}{p.required ? `, ${t('editor.required')}` : ''}</span>
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
  const { t } = useTranslation();
  const ref = useRef<HTMLTextAreaElement>(null);
  const id = useId();
  const lineText = error?.line ? value.split('\n')[error.line - 1] : undefined;
  const goTo = () => {
    const el = ref.current;
    if (!el || !error?.line) return;
    const lines = value.split('\n');
    let offset = 0;
    for (let i = 0; i < error.line - 1 && i < lines.length; i++) offset += (lines[i]?.length ?? 0) + 1;
    offset += (error.column ?? 1) - 1;
    el.focus();
    el.setSelectionRange(offset, Math.min(offset + 1, value.length));
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
        <div id={`${id}-error`} className="field-error template-error">
          {error.line ? (
            <>
              <div>
                <strong>{t('editor.lineColumnShort', { line: error.line, column: error.column })}</strong> {error.detail}{' '}
                <button type="button" className="link" onClick={goTo}>
                  {t('editor.show')}
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

function HeadersEditor({ d, update, errorFor }: { d: ToolDraft; update: (p: Partial<ToolDraft>) => void; errorFor: (k: string) => FieldTarget | undefined }) {
  const { t } = useTranslation();
  const set = (i: number, patch: Partial<{ key: string; value: string }>) => update({ headers: d.headers.map((h, j) => (j === i ? { ...h, ...patch } : h)) });
  return (
    <fieldset className="fieldset">
      <legend>{t('editor.headers')}</legend>
      {d.headers.length === 0 && <p className="muted small">{t('editor.noHeader', { example: 'Authorization: Bearer {{ .config.token }}' })}</p>}
      {d.headers.map((h, i) => {
        const e = errorFor(`header-${i}`);
        return (
          <div key={i} className="header-row">
            <TextField label={t('editor.headerName', { n: i + 1 })} value={h.key} onChange={(ev) => set(i, { key: ev.target.value })} />
            <TemplateField label={t('editor.headerValue', { n: i + 1 })} rows={1} value={h.value} onChange={(v) => set(i, { value: v })} error={e} />
            <button type="button" className="icon" aria-label={t('editor.removeHeader', { n: i + 1 })} onClick={() => update({ headers: d.headers.filter((_, j) => j !== i) })}>
              ×
            </button>
          </div>
        );
      })}
      <button type="button" onClick={() => update({ headers: [...d.headers, { key: '', value: '' }] })}>
        {t('editor.addHeader')}
      </button>
    </fieldset>
  );
}

function SchemaEditor({ d, update, setD, error, rowError }: { d: ToolDraft; update: (p: Partial<ToolDraft>) => void; setD: (f: (x: ToolDraft) => ToolDraft) => void; error: string | undefined; rowError: (id: number) => string | undefined }) {
  const { t } = useTranslation();
  const [formProblem, setFormProblem] = useState<string>();
  const headingId = useId();
  const toJson = () => {
    setFormProblem(undefined);
    update({ schemaMode: 'json', schemaText: JSON.stringify(rowsToSchema(d.rows, d.extras), null, 2) });
  };
  const toForm = () => {
    const p = parseJsonText(d.schemaText);
    if (!p.ok) return setFormProblem(t('editor.fixJsonFirst', { message: p.message }));
    const why = formLimitation(p.value);
    if (why) return setFormProblem(t('editor.formCannot', { why }));
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
        <h2 id={headingId}>{t('editor.inputSchema')}</h2>
        <div className="segmented" role="group" aria-labelledby={headingId}>
          <button type="button" aria-pressed={d.schemaMode === 'form'} onClick={toForm}>
            {t('editor.schemaForm')}
          </button>
          <button type="button" aria-pressed={d.schemaMode === 'json'} onClick={toJson}>
            JSON
          </button>
        </div>
      </div>
      {formProblem && <p className="field-error" role="alert">{formProblem}</p>}
      {d.schemaMode === 'json' ? (
        <TextArea label={t('editor.schemaJson')} className="code" rows={12} value={d.schemaText} onChange={(e) => update({ schemaText: e.target.value })} error={error} hint={t('editor.schemaJsonHint')} />
      ) : (
        <>
          {error && <p className="field-error" role="alert">{error}</p>}
          {d.rows.length === 0 && <p className="muted small">{t('editor.noArgument')}</p>}
          {d.rows.map((r, i) => (
            <fieldset key={r.id} className="arg-row">
              <legend>{t('editor.argumentN', { n: i + 1 })}</legend>
              <TextField label={t('editor.argName')} value={r.name} onChange={(e) => setRow(r.id, { name: e.target.value })} error={rowError(r.id)} />
              <SelectField label={t('editor.argType')} value={r.type} onChange={(e) => setRow(r.id, { type: e.target.value as ArgRow['type'] })}>
                {ARG_TYPES.map((x) => <option key={x} value={x}>{x}</option>)}
              </SelectField>
              {r.type === 'array' && (
                <SelectField label={t('editor.argItems')} value={r.itemType} onChange={(e) => setRow(r.id, { itemType: e.target.value as ArgRow['itemType'] })}>
                  {['string', 'number', 'integer', 'boolean'].map((x) => <option key={x} value={x}>{x}</option>)}
                </SelectField>
              )}
              <TextField className="wide-input" label={t('editor.argDescription')} value={r.description} onChange={(e) => setRow(r.id, { description: e.target.value })} />
              {(r.type === 'string' || r.type === 'number' || r.type === 'integer') && (
                <TextField label={t('editor.argEnum')} value={r.enumText} onChange={(e) => setRow(r.id, { enumText: e.target.value })} placeholder="a, b, c" />
              )}
              <TextField label={t('editor.argDefault')} value={r.defaultText} onChange={(e) => setRow(r.id, { defaultText: e.target.value })} />
              <Check label={t('editor.argRequired')} checked={r.required} onChange={(e) => setRow(r.id, { required: e.target.checked })} />
              <button type="button" className="icon" aria-label={t('editor.removeArgument', { name: r.name || i + 1 })} onClick={() => update({ rows: d.rows.filter((x) => x.id !== r.id) })}>
                ×
              </button>
            </fieldset>
          ))}
          <button type="button" onClick={() => update({ rows: [...d.rows, newArg()] })}>
            {t('editor.addArgument')}
          </button>
        </>
      )}
    </div>
  );
}
