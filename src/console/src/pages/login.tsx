import { useState } from 'react';
import { api, setToken } from '../api.js';
import { ErrorBox, Form, TextField, useAction } from '../ui.js';

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
          <ErrorBox error={login.error} title="Login failed" />
          <div className="actions">
            <button type="submit" className="primary" disabled={login.busy || !username || !password}>
              {login.busy ? 'Logging in…' : 'Log in'}
            </button>
          </div>
        </Form>
      </div>
    </main>
  );
}
