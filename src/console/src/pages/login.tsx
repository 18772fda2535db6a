import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, setToken } from '../api.js';
import { currentLanguage, LANGUAGES, setLanguage } from '../i18n.js';
import type { Language } from '../i18n.js';
import { Form, FormActions, TextField, useAction, usePageTitle } from '../ui.js';

export function LoginPage({ onLoggedIn, notice }: { onLoggedIn: () => Promise<void>; notice?: string }) {
  const { t } = useTranslation();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  usePageTitle(t('login.title'));
  const login = useAction(async () => {
    const r = await api<{ accessToken: string }>('POST', '/auth/login', { username, password }, { quiet401: true });
    setToken(r.accessToken);
    await onLoggedIn();
  });
  return (
    <main className="login-page">
      <div className="login-card">
        <h1>
          <span className="logo" aria-hidden="true">M</span> {t('login.heading')}
        </h1>
        <p className="muted">{t('login.intro')}</p>
        {notice && <p className="notice-inline" role="status">{notice}</p>}
        <Form onSubmit={() => login.run()}>
          <TextField label={t('login.username')} name="username" autoComplete="username" autoFocus required value={username} onChange={(e) => setUsername(e.target.value)} />
          <TextField label={t('login.password')} name="password" type="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
          <FormActions action={login} label={t('login.submit')} busyLabel={t('login.busy')} disabled={!username || !password} errorTitle={t('login.failed')} />
        </Form>
        <div className="login-lang">
          <label htmlFor="login-lang">{t('shell.language')}</label>
          <select id="login-lang" value={currentLanguage()} onChange={(e) => setLanguage(e.target.value as Language)}>
            {LANGUAGES.map((l) => <option key={l.code} value={l.code} lang={l.code}>{l.name}</option>)}
          </select>
        </div>
      </div>
    </main>
  );
}
