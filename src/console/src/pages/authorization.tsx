import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, enc } from '../api.js';
import type { AuthorizationFormState, AuthorizationSettings, IssuerRow } from '../authorization-form.js';
import { EMPTY_ISSUER, fromForm, toForm } from '../authorization-form.js';
import { useLeaveGuard } from '../router.js';
import { useSession } from '../session.js';
import { Check, Form, FormActions, Load, TextArea, TextField, useAction, useLoad, useNotify } from '../ui.js';

/** The namespace's MCP authorization and rate-limit settings (Admin → Authorization). */
export function NamespaceAuthorization({ ns }: { ns: string }) {
  const { t } = useTranslation();
  const notify = useNotify();
  const { can } = useSession();
  const url = `/namespaces/${enc(ns)}/authorization`;
  const state = useLoad(() => api<AuthorizationSettings>('GET', url), [url]);
  return (
    <div className="panel">
      <h2>{t('authz.namespaceTitle', { namespace: ns })}</h2>
      <p className="muted">{t('authz.namespaceIntro')}</p>
      <Load state={state}>
        {(settings) => (
          <AuthorizationForm
            settings={settings} readOnly={!can(ns, 'admin')} saveLabel={t('authz.save')}
            onSave={async (next) => {
              state.setData(await api<AuthorizationSettings>('PUT', url, next));
              notify(t('authz.saved', { namespace: ns }));
            }}
          />
        )}
      </Load>
    </div>
  );
}

/**
 * The settings form, for a namespace or a server's override (`override`: fields left empty take
 * the namespace's). Client secrets are shown as the registry answers them (`******`: kept when
 * saved back) in password fields.
 */
export function AuthorizationForm({ settings, onSave, saveLabel, readOnly = false, override = false }: {
  settings: AuthorizationSettings; onSave: (next: AuthorizationSettings) => Promise<void>; saveLabel: string; readOnly?: boolean; override?: boolean;
}) {
  const { t } = useTranslation();
  const [form, setForm] = useState<AuthorizationFormState>(() => toForm(settings));
  const [dirty, setDirty] = useState(false);
  useLeaveGuard(dirty);
  useEffect(() => {
    if (!dirty) setForm(toForm(settings));
  }, [settings]);
  const set = <K extends keyof AuthorizationFormState>(k: K, v: AuthorizationFormState[K]) => {
    setForm((f) => ({ ...f, [k]: v }));
    setDirty(true);
  };
  const text = (k: { [P in keyof AuthorizationFormState]: AuthorizationFormState[P] extends string ? P : never }[keyof AuthorizationFormState]) => ({
    value: form[k], disabled: readOnly, onChange: (e: { target: { value: string } }) => set(k, e.target.value),
  });
  const setIssuer = (i: number, k: keyof IssuerRow, v: string) => set('issuers', form.issuers.map((row, j) => (j === i ? { ...row, [k]: v } : row)));
  const save = useAction(async () => {
    await onSave(fromForm(form));
    setDirty(false);
  });
  const err = save.error;
  const field = (err as (Error & { field?: string }) | undefined)?.field;
  // The field at fault, or one under it (`authorization.requiredScopes[1]` shows under the scopes).
  const fe = (k: string) => (field !== undefined && (field === k || field.startsWith(`${k}.`) || field.startsWith(`${k}[`)) ? err?.message : undefined);
  const secret = { type: 'password', autoComplete: 'off' } as const;
  return (
    <Form onSubmit={() => save.run()} label={saveLabel}>
      {override && <p className="muted small">{t('authz.overrideIntro')}</p>}
      <Check label={t('authz.enabled')} checked={form.enabled} disabled={readOnly} onChange={(e) => set('enabled', e.target.checked)} hint={t('authz.enabledHint')} />
      <fieldset className="fieldset">
        <legend>{t('authz.issuers')}</legend>
        {form.issuers.length === 0 && <p className="muted small">{t('authz.noIssuer')}</p>}
        {form.issuers.map((row, i) => (
          <div key={i} className="issuer-row" data-testid={`issuer-${i}`}>
            <div className="row">
              <TextField label={t('authz.issuer', { n: i + 1 })} value={row.issuer} disabled={readOnly} required inputMode="url" placeholder="https://login.example.com/realms/acme"
                onChange={(e) => setIssuer(i, 'issuer', e.target.value)} error={fe(`authorization.issuers[${i}].issuer`) ?? fe(`authorization.issuers[${i}]`)} hint={t('authz.issuerHint')} />
              <TextField label={t('authz.jwksUri', { n: i + 1 })} value={row.jwksUri} disabled={readOnly} inputMode="url"
                onChange={(e) => setIssuer(i, 'jwksUri', e.target.value)} error={fe(`authorization.issuers[${i}].jwksUri`)} />
            </div>
            <div className="row">
              <TextField label={t('authz.introspection', { n: i + 1 })} value={row.introspectionEndpoint} disabled={readOnly} inputMode="url"
                onChange={(e) => setIssuer(i, 'introspectionEndpoint', e.target.value)} error={fe(`authorization.issuers[${i}].introspection.endpoint`)} hint={t('authz.introspectionHint')} />
              <TextField label={t('authz.clientId', { n: i + 1 })} value={row.clientId} disabled={readOnly}
                onChange={(e) => setIssuer(i, 'clientId', e.target.value)} error={fe(`authorization.issuers[${i}].introspection.clientId`)} />
              <TextField label={t('authz.clientSecret', { n: i + 1 })} value={row.clientSecret} disabled={readOnly} {...secret}
                onChange={(e) => setIssuer(i, 'clientSecret', e.target.value)} error={fe(`authorization.issuers[${i}].introspection.clientSecret`)} hint={t('authz.secretHint')} />
            </div>
            {!readOnly && (
              <button type="button" className="danger-outline" onClick={() => set('issuers', form.issuers.filter((_, j) => j !== i))}>
                {t('authz.removeIssuer', { n: i + 1 })}
              </button>
            )}
          </div>
        ))}
        {fe('authorization.issuers') && !form.issuers.some((_, i) => fe(`authorization.issuers[${i}]`)) && <div className="field-error" role="alert">{fe('authorization.issuers')}</div>}
        {!readOnly && (
          <button type="button" onClick={() => set('issuers', [...form.issuers, { ...EMPTY_ISSUER }])}>
            {t('authz.addIssuer')}
          </button>
        )}
      </fieldset>
      <div className="row">
        <TextField label={t('authz.requiredScopes')} {...text('requiredScopes')} error={fe('authorization.requiredScopes')} hint={t('authz.requiredScopesHint')} />
        <TextField label={t('authz.audiences')} {...text('audiences')} error={fe('authorization.audiences')} hint={t('authz.audiencesHint')} />
        <TextField label={t('authz.clockSkew')} {...text('clockSkewSeconds')} inputMode="numeric" error={fe('authorization.clockSkewSeconds')} hint={t('authz.clockSkewHint')} />
      </div>
      <TextArea label={t('authz.scopeGrants')} className="code" rows={4} {...text('scopeGrants')} error={fe('authorization.scopeGrants')} hint={t('authz.scopeGrantsHint')} />
      <Check label={t('authz.grantAll')} checked={form.grantAllWithoutToolScopes} disabled={readOnly} onChange={(e) => set('grantAllWithoutToolScopes', e.target.checked)} />
      <Check label={t('authz.acceptKeys')} checked={form.acceptConsumerKeys} disabled={readOnly} onChange={(e) => set('acceptConsumerKeys', e.target.checked)} />
      <fieldset className="fieldset">
        <legend>{t('authz.exchange')}</legend>
        <p className="muted small">{t('authz.exchangeIntro')}</p>
        <div className="row">
          <TextField label={t('authz.exchangeEndpoint')} {...text('exchangeEndpoint')} inputMode="url" error={fe('authorization.tokenExchange.tokenEndpoint') ?? fe('authorization.tokenExchange')} />
          <TextField label={t('authz.exchangeClientId')} {...text('exchangeClientId')} error={fe('authorization.tokenExchange.clientId')} />
          <TextField label={t('authz.exchangeClientSecret')} {...text('exchangeClientSecret')} {...secret} error={fe('authorization.tokenExchange.clientSecret')} hint={t('authz.secretHint')} />
        </div>
        <div className="row">
          <TextField label={t('authz.exchangeAudience')} {...text('exchangeAudience')} error={fe('authorization.tokenExchange.audience')} />
          <TextField label={t('authz.exchangeResource')} {...text('exchangeResource')} error={fe('authorization.tokenExchange.resource')} />
          <TextField label={t('authz.exchangeScope')} {...text('exchangeScope')} error={fe('authorization.tokenExchange.scope')} />
        </div>
      </fieldset>
      <fieldset className="fieldset">
        <legend>{t('authz.rateLimits')}</legend>
        <p className="muted small">{t('authz.rateLimitsIntro')}</p>
        <div className="row">
          <TextField label={t('authz.perCallerRate')} {...text('perCallerRate')} inputMode="decimal" error={fe('authorization.rateLimits.perCaller.ratePerSecond') ?? fe('authorization.rateLimits.perCaller')} />
          <TextField label={t('authz.perCallerBurst')} {...text('perCallerBurst')} inputMode="numeric" error={fe('authorization.rateLimits.perCaller.burst')} />
          <TextField label={t('authz.perToolRate')} {...text('perToolRate')} inputMode="decimal" error={fe('authorization.rateLimits.perTool.ratePerSecond') ?? fe('authorization.rateLimits.perTool')} />
          <TextField label={t('authz.perToolBurst')} {...text('perToolBurst')} inputMode="numeric" error={fe('authorization.rateLimits.perTool.burst')} />
        </div>
        <TextArea label={t('authz.toolLimits')} className="code" rows={3} {...text('toolLimits')} error={fe('authorization.rateLimits.tools')} hint={t('authz.toolLimitsHint')} />
      </fieldset>
      {!readOnly && <FormActions action={save} label={saveLabel} busyLabel={t('common.saving')} fieldShown={field?.startsWith('authorization.') === true} />}
    </Form>
  );
}
