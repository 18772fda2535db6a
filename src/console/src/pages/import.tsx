import { useState } from 'react';
import { Trans, useTranslation } from 'react-i18next';
import { api, enc } from '../api.js';
import type { ImportPreview, ServerView } from '../api.js';
import { humanField } from '../field-names.js';
import { navigate, path } from '../router.js';
import { useSession } from '../session.js';
import { Badge, DataTable, ErrorBox, fieldErrors, Form, FormActions, PageHeading, SelectField, TextArea, TextField, useAction, useNotify, WarningList } from '../ui.js';
import { describeEndpoint } from './endpoint.js';

/** The formats the registry imports. */
export type ImportFormat = 'higress' | 'nacos' | 'openapi' | 'server-json';
const FORMATS: readonly ImportFormat[] = ['higress', 'nacos', 'openapi', 'server-json'];
/** Formats the registry can fetch by URL. */
const BY_URL: ReadonlySet<ImportFormat> = new Set(['openapi', 'server-json']);

/**
 * The format of a pasted document: OpenAPI by its `openapi` (or `swagger`) key, a server.json by
 * its schema or its `remotes`/`packages`, Nacos MCP JSON by its specifications; else Higress.
 */
export function detectFormat(content: string): ImportFormat {
  const t = content.trim();
  if (/^\s*["']?(openapi|swagger)["']?\s*:/m.test(t.slice(0, 4000))) return 'openapi';
  if (t.startsWith('{') && /"(serverSpecification|toolSpecification|toolSpec|versionDetail|toolsMeta)"/.test(t)) return 'nacos';
  if (t.startsWith('{') && (/server\.schema\.json/.test(t) || /"(remotes|packages)"\s*:\s*\[/.test(t))) return 'server-json';
  return 'higress';
}

export function ImportPage({ ns }: { ns: string }) {
  const { t } = useTranslation();
  const { can } = useSession();
  const notify = useNotify();
  const [format, setFormat] = useState<ImportFormat>('higress');
  const [content, setContent] = useState('');
  const [url, setUrl] = useState('');
  const [name, setName] = useState('');
  const [version, setVersion] = useState('');
  const [fileName, setFileName] = useState<string>();
  const [preview, setPreview] = useState<ImportPreview>();
  const byUrl = BY_URL.has(format) && url.trim() !== '';
  const body = () => ({
    format, ...(byUrl ? { url: url.trim() } : { content }), ...(name.trim() ? { name: name.trim() } : {}), ...(version.trim() ? { version: version.trim() } : {}),
    ...(!byUrl && fileName ? { file: fileName } : {}),
  });
  const check = useAction(async () => {
    setPreview(undefined);
    setPreview(await api<ImportPreview>('POST', `/namespaces/${enc(ns)}/mcp-servers/import/preview`, body()));
  });
  const doImport = useAction(async () => {
    const s = await api<ServerView>('POST', `/namespaces/${enc(ns)}/mcp-servers/import`, { ...body(), publish: false });
    notify(t('import.done', { name: s.name, version: s.latestVersion ?? '' }));
    navigate(path('ns', ns, 'servers', s.name));
  });
  const onFile = async (file: File | undefined) => {
    if (!file) return;
    const text = await file.text();
    setFileName(file.name);
    setContent(text);
    const detected = detectFormat(text);
    setFormat(/\.ya?ml$/i.test(file.name) && detected !== 'openapi' ? 'higress' : detected);
    setPreview(undefined);
  };
  if (!can(ns, 'editor')) {
    return (
      <section>
        <PageHeading title={t('import.title')} />
        <ErrorBox title={t('errors.forbidden')} error={new Error(t('import.needsEditor', { namespace: ns }))} />
      </section>
    );
  }
  const fe = fieldErrors(check.error);
  return (
    <section>
      <PageHeading title={t('import.title')} />
      <p className="muted">
        <Trans i18nKey="import.intro" values={{ namespace: ns }} components={{ code: <code /> }} />
      </p>
      <div className="import-layout">
        <Form onSubmit={() => check.run()} label={t('import.title')}>
          <div className="panel">
            <div className="row">
              <SelectField label={t('import.format')} value={format} onChange={(e) => { setFormat(e.target.value as ImportFormat); setPreview(undefined); }}>
                {FORMATS.map((f) => <option key={f} value={f}>{t(`import.formats.${f}`)}</option>)}
              </SelectField>
              <div className="field">
                <label htmlFor="import-file">{t('import.upload')}</label>
                <input id="import-file" type="file" accept=".yaml,.yml,.json,application/json,text/yaml" onChange={(e) => void onFile(e.target.files?.[0])} />
                {fileName && <div className="hint">{t('import.loaded', { name: fileName })}</div>}
              </div>
            </div>
            <TextArea
              label={t('import.definition')}
              className="code"
              rows={14}
              value={content}
              onChange={(e) => {
                setContent(e.target.value);
                setPreview(undefined);
                const detected = detectFormat(e.target.value);
                if (e.target.value.trim().startsWith('{') || detected === 'openapi') setFormat(detected);
              }}
              placeholder={'server:\n  name: weather\ntools:\n  - name: get_weather\n    …'}
              error={fe('content')}
              disabled={byUrl}
            />
            {BY_URL.has(format) && (
              <TextField label={t('import.url')} value={url} onChange={(e) => { setUrl(e.target.value); setPreview(undefined); }} hint={t('import.urlHint')} error={fe('url')} inputMode="url" />
            )}
            <div className="row">
              <TextField label={t('import.name')} value={name} onChange={(e) => setName(e.target.value)} hint={t('import.nameHint')} error={fe('name')} />
              <TextField label={t('import.version')} value={version} onChange={(e) => setVersion(e.target.value)} hint={t('import.versionHint')} error={fe('version')} />
            </div>
            <FormActions action={check} label={t('import.preview')} busyLabel={t('import.reading')} disabled={!byUrl && !content.trim()} errorTitle={t('import.noConvert')} fieldShown={!!(fe('content') || fe('url') || fe('name') || fe('version'))} />
          </div>
        </Form>
        {preview && (
          <div className="panel" data-testid="import-preview">
            <h2>
              {t('import.previewOf', { name: preview.server.name ?? t('import.noName') })} <Badge kind="warn">{t('import.draftBadge', { version: preview.spec.version })}</Badge>
            </h2>
            {preview.server.description && <p>{preview.server.description}</p>}
            <p className="muted small">
              {preview.server.protocol ? `${preview.server.protocol} · ` : ''}
              {preview.server.endpoint ? `${t('import.backend', { endpoint: describeEndpoint(preview.server.endpoint, t) })} · ` : ''}
              {t('import.toolCount', { count: preview.tools.length })}
            </p>
            {preview.exists && <p className="notice-inline">{t('import.exists', { name: preview.server.name, namespace: ns, version: preview.spec.version })}</p>}
            {preview.warnings && preview.warnings.length > 0 && <WarningList title={t('import.warnings', { count: preview.warnings.length })} warnings={preview.warnings} testId="import-warnings" />}
            {preview.error && (
              <div className="error-box" role="alert">
                <strong>{t('import.wouldNot')}</strong>
                {preview.error.field && <p className="error-field">{humanField(preview.error.field, t)}</p>}
                <p className="error-message">{preview.error.message}</p>
              </div>
            )}
            <DataTable
              caption={t('import.previewTools')}
              columns={[t('tools.tool'), t('tools.description'), t('tools.request')]}
              items={preview.tools}
              row={(x) => (
                <tr key={x.name}>
                  <td>
                    <code>{x.name}</code> {!x.enabled && <Badge kind="muted">{t('common.disabled')}</Badge>}
                  </td>
                  <td className="clamp-cell">{x.description}</td>
                  <td>{x.request ? <code className="break">{x.request.method} {x.request.url}</code> : <span className="muted">{t('tools.direct')}</span>}</td>
                </tr>
              )}
            />
            <ErrorBox error={doImport.error} title={t('import.failed')} />
            <div className="actions">
              <button type="button" className="primary" disabled={doImport.busy || !preview.valid} onClick={() => void doImport.run()}>
                {doImport.busy ? t('import.importing') : t('import.asDraft')}
              </button>
            </div>
          </div>
        )}
      </div>
    </section>
  );
}
