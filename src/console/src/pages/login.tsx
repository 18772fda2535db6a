import { useState } from 'react';
import { api, setToken } from '../api.js';
import { Form, FormActions, TextField, useAction } from '../ui.js';

export function LoginPage({ onLoggedIn, notice }: { onLoggedIn: () => Promise<void>; notice?: string }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const login = useAction(async () => {
    const r = await api<{ accessToken: string }>('POST', '/auth/login', { username, password }, { quiet401: true });
    setToken(r.accessToken);
    await onLoggedIn();
  });
  return (
    <main className="login-page">
      <div className="login-card">
        <h1>
          <span className="logo" aria-hidden="true">M</span> mcpgate console
        </h1>
        <p className="muted">Log in with your registry account.</p>
        {notice && <p className="notice-inline" role="status">{notice}</p>}
        <Form onSubmit={() => login.run()}>
          <TextField label="Username" name="username" autoComplete="username" autoFocus required value={username} onChange={(e) => setUsername(e.target.value)} />
          <TextField label="Password" name="password" type="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
          <FormActions action={login} label="Log in" busyLabel="Logging in…" disabled={!username || !password} errorTitle="Login failed" />
        </Form>
      </div>
    </main>
  );
}
