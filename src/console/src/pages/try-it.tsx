/** Try a tool from the draft, through the gateway's real executor, before anything is published. */
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, ApiError, enc } from '../api.js';
import type { ServerView, Tool, TryResult } from '../api.js';
import { Badge, ErrorBox, Form, SelectField, TextArea, TextField, useAction } from '../ui.js';
import { fieldTarget, parseJsonText, schemaProperties } from '../tool-model.js';
import type { FieldTarget } from '../tool-model.js';
import { serverBase } from './server-detail.js';

type Values = Record<string, string>;

/** The problem of a number argument that is not one (translated where shown). */
export const NOT_A_NUMBER = 'not a number';

/** The arguments the form's text values describe, typed by the schema; `problems` by argument. */
export function argsFromForm(schema: Record<string, unknown>, values: Values): { args: Record<string, unknown>; problems: Record<string, string> } {
  const args: Record<string, unknown> = {};
  const problems: Record<string, string> = {};
  for (const p of schemaProperties(schema)) {
    const raw = values[p.name];
    if (raw === undefined || raw === '') continue;
    const type = p.schema.type;
    if (type === 'number' || type === 'integer') {
      const n = Number(raw);
      if (!Number.isFinite(n)) problems[p.name] = NOT_A_NUMBER;
      else args[p.name] = n;
    } else if (type === 'boolean') args[p.name] = raw === 'true';
    else if (type === 'string' || (type === undefined && !/^\s*[[{]/.test(raw))) args[p.name] = raw;
    else {
      const j = parseJsonText(raw);
      if (!j.ok) problems[p.name] = j.message;
      else args[p.name] = j.value;
    }
  }
  return { args, problems };
}

function headersFrom(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const i = line.indexOf(':');
    if (i > 0) out[line.slice(0, i).trim()] = line.slice(i + 1).trim();
  }
  return out;
}

export function TryPanel({
  ns, server, version, tool, schema, onFieldError, dirty,
}: { ns: string; server: ServerView; version: string; tool: Tool | undefined; schema: Record<string, unknown> | undefined; onFieldError: (e: FieldTarget & { code: string; message: string }) => void; dirty: boolean }) {
  const { t } = useTranslation();
  const [values, setValues] = useState<Values>({});
  const [headers, setHeaders] = useState('');
  const [argError, setArgError] = useState<{ name: string; message: string }>();
  const [result, setResult] = useState<TryResult>();
  const props = schema ? schemaProperties(schema) : [];
  const form = schema ? argsFromForm(schema, values) : { args: {}, problems: {} };
  const run = useAction(async () => {
    if (!tool) throw new Error(t('tryIt.fixFirst'));
    setArgError(undefined);
    try {
      const r = await api<TryResult>('POST', `${serverBase(ns, server.name)}/versions/${enc(version)}/try`, {
        tool: tool.name, arguments: form.args, headers: headersFrom(headers), definition: tool,
      });
      setResult({ ...r, unsaved: dirty } as TryResult & { unsaved: boolean });
    } catch (e) {
      if (e instanceof ApiError && e.field?.startsWith('arguments.')) setArgError({ name: e.field.slice('arguments.'.length), message: e.message });
      else if (e instanceof ApiError && e.status === 400) onFieldError({ ...fieldTarget(e.field, e.message), code: e.code, message: e.message });
      throw e;
    }
  });
  const blocked = !tool || Object.keys(form.problems).length > 0;
  return (
    <div className="panel try-panel">
      <h2>{t('tryIt.title')}</h2>
      <p className="muted small">{t('tryIt.intro', { version })}</p>
      {dirty && <p className="notice-inline" data-testid="try-unsaved">{t('tryIt.unsaved')}</p>}
      <Form onSubmit={() => run.run()} label={t('tryIt.title')}>
        {props.length === 0 && <p className="muted small">{t('tryIt.noArgs')}</p>}
        {props.map((p) => {
          const type = p.schema.type;
          const label = `${p.name}${p.required ? ' *' : ''}`;
          const local = form.problems[p.name];
          const error = (local === NOT_A_NUMBER ? t('tryIt.notANumber') : local) ?? (argError?.name === p.name || argError?.name.startsWith(`${p.name}.`) ? argError.message : undefined);
          const hint = typeof p.schema.description === 'string' ? p.schema.description : undefined;
          const set = (v: string) => setValues({ ...values, [p.name]: v });
          if (Array.isArray(p.schema.enum)) {
            return (
              <SelectField key={p.name} label={label} value={values[p.name] ?? ''} onChange={(e) => set(e.target.value)} error={error} hint={hint}>
                <option value="">{t('tryIt.notSet')}</option>
                {p.schema.enum.map((v) => <option key={String(v)} value={String(v)}>{String(v)}</option>)}
              </SelectField>
            );
          }
          if (type === 'boolean') {
            return (
              <SelectField key={p.name} label={label} value={values[p.name] ?? ''} onChange={(e) => set(e.target.value)} error={error} hint={hint}>
                <option value="">{t('tryIt.notSet')}</option>
                <option value="true">true</option>
                <option value="false">false</option>
              </SelectField>
            );
          }
          if (type === 'array' || type === 'object') {
            return <TextArea key={p.name} label={`${label} (JSON)`} className="code" rows={3} value={values[p.name] ?? ''} onChange={(e) => set(e.target.value)} error={error} hint={hint} />;
          }
          return (
            <TextField
              key={p.name}
              label={label}
              type={type === 'number' || type === 'integer' ? 'number' : 'text'}
              step={type === 'integer' ? 1 : 'any'}
              value={values[p.name] ?? ''}
              onChange={(e) => set(e.target.value)}
              error={error}
              hint={hint}
            />
          );
        })}
        <details className="small-details">
          <summary>{t('tryIt.headers')}</summary>
          <TextArea label={t('tryIt.headersLabel')} className="code" rows={3} value={headers} onChange={(e) => setHeaders(e.target.value)} placeholder="Authorization: Bearer …" />
        </details>
        {run.error && !argError && <ErrorBox error={run.error} title={t('tryIt.failed')} />}
        {argError && !props.some((p) => argError.name === p.name || argError.name.startsWith(`${p.name}.`)) && <p className="field-error" role="alert">{argError.message}</p>}
        <div className="actions">
          <button type="submit" className="primary" disabled={run.busy || blocked}>
            {run.busy ? t('tryIt.running') : dirty ? t('tryIt.runUnsaved') : t('tryIt.run')}
          </button>
        </div>
      </Form>
      {result && <TryOutcome result={result} />}
    </div>
  );
}

function TryOutcome({ result }: { result: TryResult & { unsaved?: boolean } }) {
  const { t } = useTranslation();
  const status = result.response?.status;
  return (
    <div className="try-result" data-testid="try-result">
      <h3>
        {result.unsaved ? t('tryIt.resultUnsaved') : t('tryIt.result')}{' '}
        {result.gatewayError ? (
          <Badge kind="bad">HTTP {result.gatewayError.status}</Badge>
        ) : result.result?.isError ? (
          <Badge kind="bad">isError</Badge>
        ) : (
          <Badge kind="ok">ok</Badge>
        )}{' '}
        <span className="muted small">{t('tryIt.ms', { ms: result.durationMs })}</span>
      </h3>
      {result.gatewayError && (
        <p className="field-error">
          {t('tryIt.gatewayWould', { code: result.gatewayError.code, status: result.gatewayError.status, message: result.gatewayError.message })}
        </p>
      )}
      {result.result && (
        <>
          <h4>{t('tryIt.mcpResult')}</h4>
          <pre className="code-block" tabIndex={0} data-testid="try-mcp-result">{JSON.stringify(result.result, null, 2)}</pre>
        </>
      )}
      {result.request ? (
        <>
          <h4>{t('tryIt.backendRequest')}{result.attempts.length > 1 ? ` ${t('tryIt.attempt', { n: result.attempts.length, of: result.attempts.length })}` : ''}</h4>
          <pre className="code-block" tabIndex={0} data-testid="try-request">
            {result.request.method} {result.request.url}
            {'\n'}
            {Object.entries(result.request.headers).map(([k, v]) => `${k}: ${v}\n`).join('')}
            {result.request.body !== null ? `\n${result.request.body}` : ''}
          </pre>
          <h4>
            {t('tryIt.backendResponse')}{' '}
            {status !== undefined && <Badge kind={status >= 200 && status < 300 ? 'ok' : 'bad'}>{status}</Badge>}
          </h4>
          {result.backendError && <p className="field-error">{result.backendError}</p>}
          {result.response && (
            <>
              <details>
                <summary>{t('tryIt.responseHeaders')}</summary>
                <pre className="code-block" tabIndex={0}>{Object.entries(result.response.headers).map(([k, v]) => `${k}: ${v}`).join('\n')}</pre>
              </details>
              <pre className="code-block" tabIndex={0} data-testid="try-response-body">{result.response.body || t('tryIt.emptyBody')}</pre>
              {result.response.truncated && <p className="muted small">{t('tryIt.truncated', { shown: result.response.body.length, total: result.response.bodyBytes })}</p>}
            </>
          )}
        </>
      ) : (
        !result.gatewayError && <p className="muted small">{t('tryIt.noRequest')}</p>
      )}
    </div>
  );
}
