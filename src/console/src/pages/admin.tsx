import { useState } from 'react';
import { api, enc, setToken } from '../api.js';
import type { AllowEntry, ApiToken, Consumer, Role, User } from '../api.js';
import { useSession } from '../app.js';
import { navigate, path, useLocation } from '../router.js';
import {
  ago, Badge, ConfirmItem, DataTable, Dialog, ErrorBox, Form, FormActions, Load, SelectField, TextField, useAction, useLoad, useNotify, when,
} from '../ui.js';

const TABS = [
  { key: 'users', label: 'Users and roles' },
  { key: 'tokens', label: 'API tokens' },
  { key: 'consumers', label: 'Consumer keys' },
] as const;

export function AdminPage({ ns }: { ns: string }) {
  const { search } = useLocation();
  const tab = TABS.find((t) => t.key === search.get('tab'))?.key ?? 'users';
  return (
    <section>
      <h1>Admin</h1>
      <div className="tabs" role="tablist" aria-label="Admin sections">
        {TABS.map((t) => (
          <button
            key={t.key}
            type="button"
            role="tab"
            id={`tab-${t.key}`}
            aria-selected={tab === t.key}
            aria-controls={`panel-${t.key}`}
            onClick={() => navigate(`${path('ns', ns, 'admin')}?tab=${t.key}`)}
          >
            {t.label}
          </button>
        ))}
      </div>
      <div role="tabpanel" id={`panel-${tab}`} aria-labelledby={`tab-${tab}`}>
        {tab === 'users' && <Users />}
        {tab === 'tokens' && <Tokens />}
        {tab === 'consumers' && <Consumers ns={ns} />}
      </div>
    </section>
  );
}

/** A secret shown once, with a copy button. */
function SecretOnce({ label, value }: { label: string; value: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <div className="secret" role="status">
      <p>
        <strong>{label}</strong> It is shown only now: copy it.
      </p>
      <div className="secret-row">
        <code data-testid="secret">{value}</code>
        <button
          type="button"
          onClick={() => {
            void navigator.clipboard?.writeText(value).then(() => setCopied(true), () => setCopied(false));
          }}
        >
          {copied ? 'Copied' : 'Copy'}
        </button>
      </div>
    </div>
  );
}

// ------------------------------------------------------------ users

type RoleRow = { namespace: string; role: Role };

function RolesEditor({ roles, onChange }: { roles: RoleRow[]; onChange: (r: RoleRow[]) => void }) {
  const { namespaces } = useSession();
  return (
    <fieldset className="fieldset">
      <legend>Roles</legend>
      {roles.length === 0 && <p className="muted small">No role: the user can log in but sees nothing.</p>}
      {roles.map((r, i) => (
        <div className="row role-row" key={i}>
          <SelectField label={`Namespace ${i + 1}`} value={r.namespace} onChange={(e) => onChange(roles.map((x, j) => (j === i ? { ...x, namespace: e.target.value } : x)))}>
            <option value="*">* (every namespace)</option>
            {namespaces.map((n) => <option key={n.id} value={n.id}>{n.id}</option>)}
            {r.namespace !== '*' && !namespaces.some((n) => n.id === r.namespace) && <option value={r.namespace}>{r.namespace}</option>}
          </SelectField>
          <SelectField label={`Role ${i + 1}`} value={r.role} onChange={(e) => onChange(roles.map((x, j) => (j === i ? { ...x, role: e.target.value as Role } : x)))}>
            <option value="viewer">viewer (read)</option>
            <option value="editor">editor (read and write)</option>
            <option value="admin">admin (and manage)</option>
            <option value="gateway">gateway (read, with secrets: for gateway tokens)</option>
          </SelectField>
          <button type="button" className="icon" aria-label={`Remove role ${i + 1}`} onClick={() => onChange(roles.filter((_, j) => j !== i))}>
            ×
          </button>
        </div>
      ))}
      <button type="button" onClick={() => onChange([...roles, { namespace: namespaces[0]?.id ?? 'public', role: 'viewer' }])}>
        Add role
      </button>
    </fieldset>
  );
}

function Users() {
  const { me } = useSession();
  const notify = useNotify();
  const state = useLoad(() => (me.globalAdmin ? api<{ items: User[] }>('GET', '/users') : Promise.resolve({ items: [] as User[] })), [me.globalAdmin]);
  const [editing, setEditing] = useState<User | 'new'>();
  const [deleting, setDeleting] = useState<User>();
  const [password, setPassword] = useState(false);
  return (
    <div className="panel">
      <div className="panel-head">
        <h2>Users and roles</h2>
        <div className="head-actions">
          {me.username !== 'anonymous' && <button type="button" onClick={() => setPassword(true)}>Change my password</button>}
          {me.globalAdmin && <button type="button" className="primary" onClick={() => setEditing('new')}>New user</button>}
        </div>
      </div>
      {!me.globalAdmin ? (
        <p className="muted">Only a global admin (admin on *) manages users. You are {me.username}: {me.roles.map((r) => `${r.role} on ${r.namespace}`).join(', ') || 'no role'}.</p>
      ) : (
        <Load state={state}>
          {(d) => (
            <DataTable
              columns={['User', 'Roles', 'Created']}
              actions
              items={d.items}
              row={(u) => (
                <tr key={u.username}>
                  <td><strong>{u.username}</strong></td>
                  <td>{u.roles.map((r) => <Badge key={`${r.namespace}:${r.role}`} kind={r.namespace === '*' ? 'info' : 'muted'}>{r.role} on {r.namespace}</Badge>)}</td>
                  <td>{when(u.createdAt)}</td>
                  <td className="row-actions">
                    <button type="button" onClick={() => setEditing(u)}>Edit</button>
                    {u.username !== me.username && <button type="button" className="danger-outline" onClick={() => setDeleting(u)}>Delete</button>}
                  </td>
                </tr>
              )}
            />
          )}
        </Load>
      )}
      {editing && <UserDialog user={editing === 'new' ? undefined : editing} onClose={() => setEditing(undefined)} onSaved={state.reload} />}
      {password && <PasswordDialog onClose={() => setPassword(false)} />}
      <ConfirmItem
        item={deleting}
        title="Delete user"
        message={(u) => <p>Delete <strong>{u.username}</strong>? Their tokens stop working within 5 seconds.</p>}
        confirmLabel="Delete user"
        onClose={() => setDeleting(undefined)}
        onConfirm={async (u) => {
          await api('DELETE', `/users/${enc(u.username)}`);
          notify(`User ${u.username} deleted`);
          state.reload();
        }}
      />
    </div>
  );
}

function UserDialog({ user, onClose, onSaved }: { user?: User; onClose: () => void; onSaved: () => void }) {
  const { me } = useSession();
  const notify = useNotify();
  // Your own password is changed with "Change my password", which asks for the current one.
  const self = user?.username === me.username;
  const [username, setUsername] = useState(user?.username ?? '');
  const [password, setPassword] = useState('');
  const [roles, setRoles] = useState<RoleRow[]>(user?.roles.map((r) => ({ ...r })) ?? []);
  const save = useAction(async () => {
    if (user) await api('PUT', `/users/${enc(user.username)}`, { roles, ...(password ? { password } : {}) });
    else await api('POST', '/users', { username: username.trim(), password, roles });
    notify(user ? `User ${user.username} saved` : `User ${username} created`);
    onSaved();
    onClose();
  });
  const err = save.error as { field?: string; message: string } | undefined;
  return (
    <Dialog open title={user ? `Edit ${user.username}` : 'New user'} onClose={onClose} wide>
      <Form onSubmit={() => save.run()}>
        {!user && <TextField label="Username" required autoFocus value={username} onChange={(e) => setUsername(e.target.value)} error={err?.field === 'username' ? err.message : undefined} />}
        {!self && <TextField label={user ? 'New password (leave empty to keep)' : 'Password'} type="password" autoComplete="new-password" required={!user} value={password} onChange={(e) => setPassword(e.target.value)} error={err?.field === 'password' ? err.message : undefined} />}
        <RolesEditor roles={roles} onChange={setRoles} />
        <FormActions action={save} label={user ? 'Save user' : 'Create user'} busyLabel="Saving…" disabled={!user && (!username.trim() || !password)} onCancel={onClose} />
      </Form>
    </Dialog>
  );
}

function PasswordDialog({ onClose }: { onClose: () => void }) {
  const { me } = useSession();
  const notify = useNotify();
  const [current, setCurrent] = useState('');
  const [password, setPassword] = useState('');
  const [again, setAgain] = useState('');
  const save = useAction(async () => {
    if (password !== again) throw new Error('The two passwords differ.');
    // The change revokes every token of the user, this session's too: the answer carries a fresh one.
    const r = await api<{ accessToken?: string }>('PUT', `/users/${enc(me.username)}`, { currentPassword: current, password });
    if (r.accessToken) setToken(r.accessToken);
    notify('Password changed; your other sessions are logged out');
    onClose();
  });
  const err = save.error as { field?: string; message: string } | undefined;
  return (
    <Dialog open title="Change my password" onClose={onClose}>
      <Form onSubmit={() => save.run()}>
        <TextField label="Current password" type="password" autoComplete="current-password" autoFocus value={current} onChange={(e) => setCurrent(e.target.value)} error={err?.field === 'currentPassword' ? err.message : undefined} />
        <TextField label="New password" type="password" autoComplete="new-password" value={password} onChange={(e) => setPassword(e.target.value)} error={err?.field === 'password' ? err.message : undefined} />
        <TextField label="New password again" type="password" autoComplete="new-password" value={again} onChange={(e) => setAgain(e.target.value)} />
        <FormActions action={save} label="Change password" disabled={!current || !password} onCancel={onClose} />
      </Form>
    </Dialog>
  );
}

// ------------------------------------------------------------ tokens

function Tokens() {
  const { me } = useSession();
  const notify = useNotify();
  const state = useLoad(() => api<{ items: ApiToken[] }>('GET', '/tokens'), []);
  const [name, setName] = useState('');
  const [ttl, setTtl] = useState('');
  const [created, setCreated] = useState<string>();
  const [revoking, setRevoking] = useState<ApiToken>();
  const create = useAction(async () => {
    const r = await api<ApiToken & { token: string }>('POST', '/tokens', { name: name.trim(), ...(ttl ? { ttlDays: Number(ttl) } : {}) });
    setCreated(r.token);
    setName('');
    notify(`Token ${r.name} created`);
    state.reload();
  });
  return (
    <div className="panel">
      <h2>API tokens</h2>
      <p className="muted small">Long-lived credentials for automation and gateways (<code>MCPGATE_REGISTRY_TOKEN</code>), acting as their user. {me.globalAdmin ? 'You see every user\'s tokens.' : ''}</p>
      {created && <SecretOnce label="New API token." value={created} />}
      {me.username === 'anonymous' ? (
        <p className="muted">Registry auth is off: API tokens belong to users, so turn auth on to create them.</p>
      ) : (
        <Form className="toolbar" onSubmit={() => create.run()}>
          <TextField label="Token name" value={name} onChange={(e) => setName(e.target.value)} placeholder="ci-deploy" />
          <TextField label="Expires after (days)" type="number" min={1} value={ttl} onChange={(e) => setTtl(e.target.value)} placeholder="never" />
          <button type="submit" className="primary" disabled={create.busy || !name.trim()}>Create token</button>
        </Form>
      )}
      <ErrorBox error={create.error} />
      <Load state={state}>
        {(d) => (
          <DataTable
            columns={['Name', 'User', 'Created', 'Expires', 'Last used']}
            actions
            items={d.items}
            empty="No API token."
            row={(t) => (
              <tr key={t.id}>
                <td>{t.name}</td>
                <td>{t.username}</td>
                <td>{when(t.createdAt)}</td>
                <td>{t.expiresAt ? when(t.expiresAt) : 'never'}</td>
                <td>{ago(t.lastUsedAt)}</td>
                <td className="row-actions">
                  <button type="button" className="danger-outline" onClick={() => setRevoking(t)}>Revoke</button>
                </td>
              </tr>
            )}
          />
        )}
      </Load>
      <ConfirmItem
        item={revoking}
        title="Revoke token"
        message={(t) => <p>Revoke <strong>{t.name}</strong> of {t.username}? What uses it is refused within 5 seconds.</p>}
        confirmLabel="Revoke"
        onClose={() => setRevoking(undefined)}
        onConfirm={async (t) => {
          await api('DELETE', `/tokens/${enc(t.id)}`);
          notify(`Token ${t.name} revoked`);
          state.reload();
        }}
      />
    </div>
  );
}

// ------------------------------------------------------------ consumers

/**
 * An allow-list as the console writes it: entries separated by `;`, each a server name (the whole
 * server) or `server: tool, tool` (neither server nor tool names hold `:` or `;`, while server
 * names may hold `/`). Empty: every server.
 */
function allowList(text: string): AllowEntry[] | null {
  const items = text.split(';').map((s) => s.trim()).filter(Boolean).map((item): AllowEntry => {
    const colon = item.indexOf(':');
    if (colon < 0) return { server: item };
    return { server: item.slice(0, colon).trim(), tools: item.slice(colon + 1).split(',').map((t) => t.trim()).filter(Boolean) };
  });
  return items.length ? items : null;
}

function allowText(allow: AllowEntry[] | null): string {
  return (allow ?? []).map((a) => (a.tools ? `${a.server}: ${a.tools.join(', ')}` : a.server)).join('; ');
}

const ALLOW_HINT = 'Servers separated by ";", each whole (weather) or some of its tools (io.acme/maps: route, geocode). Empty: every server of the namespace.';

function Consumers({ ns }: { ns: string }) {
  const { can } = useSession();
  const notify = useNotify();
  const admin = can(ns, 'admin');
  const state = useLoad(() => api<{ items: Consumer[] }>('GET', `/namespaces/${enc(ns)}/consumers`), [ns]);
  const [name, setName] = useState('');
  const [allow, setAllow] = useState('');
  const [created, setCreated] = useState<string>();
  const [editing, setEditing] = useState<Consumer>();
  const [deleting, setDeleting] = useState<Consumer>();
  const create = useAction(async () => {
    const r = await api<Consumer & { key: string }>('POST', `/namespaces/${enc(ns)}/consumers`, { name: name.trim(), allow: allowList(allow) });
    setCreated(r.key);
    setName('');
    setAllow('');
    notify(`Consumer key ${r.name} created`);
    state.reload();
  });
  return (
    <div className="panel">
      <h2>Consumer keys of {ns}</h2>
      <p className="muted small">
        Gateway API keys for agents (<code>Authorization: Bearer mgk_…</code> or <code>X-API-Key</code>). A namespace with no key is open to anyone who reaches the gateway.
      </p>
      {created && <SecretOnce label="New consumer key." value={created} />}
      {admin && (
        <Form className="toolbar" onSubmit={() => create.run()}>
          <TextField label="Consumer name" value={name} onChange={(e) => setName(e.target.value)} placeholder="cursor-team-a" />
          <TextField label="Allowed servers or tools" value={allow} onChange={(e) => setAllow(e.target.value)} placeholder="all (or: weather; maps: route)" title={ALLOW_HINT} />
          <button type="submit" className="primary" disabled={create.busy || !name.trim()}>Create key</button>
        </Form>
      )}
      <ErrorBox error={create.error} />
      <Load state={state}>
        {(d) => (
          <DataTable
            columns={['Name', 'Key', 'Allowed', 'Created']}
            actions={admin}
            items={d.items}
            empty={<>No consumer key: the MCP servers of {ns} are open.</>}
            row={(c) => (
              <tr key={c.id}>
                <td>{c.name}</td>
                <td><code>{c.keyPrefix}…</code></td>
                <td>{c.allow ? allowText(c.allow) : <span className="muted">every server</span>}</td>
                <td>{when(c.createdAt)}</td>
                {admin && (
                  <td className="row-actions">
                    <button type="button" onClick={() => setEditing(c)}>Edit</button>
                    <button type="button" className="danger-outline" onClick={() => setDeleting(c)}>Delete</button>
                  </td>
                )}
              </tr>
            )}
          />
        )}
      </Load>
      {editing && <ConsumerDialog ns={ns} consumer={editing} onClose={() => setEditing(undefined)} onSaved={state.reload} />}
      <ConfirmItem
        item={deleting}
        title="Delete consumer key"
        message={(c) => <p>Delete the key <strong>{c.name}</strong>? Agents using it are refused at once.</p>}
        confirmLabel="Delete key"
        onClose={() => setDeleting(undefined)}
        onConfirm={async (c) => {
          await api('DELETE', `/namespaces/${enc(ns)}/consumers/${enc(c.id)}`);
          notify(`Consumer key ${c.name} deleted`);
          state.reload();
        }}
      />
    </div>
  );
}

function ConsumerDialog({ ns, consumer, onClose, onSaved }: { ns: string; consumer: Consumer; onClose: () => void; onSaved: () => void }) {
  const [allow, setAllow] = useState(allowText(consumer.allow));
  const save = useAction(async () => {
    await api('PUT', `/namespaces/${enc(ns)}/consumers/${enc(consumer.id)}`, { allow: allowList(allow) });
    onSaved();
    onClose();
  });
  return (
    <Dialog open title={`Edit ${consumer.name}`} onClose={onClose}>
      <Form onSubmit={() => save.run()}>
        <TextField label="Allowed servers or tools" autoFocus value={allow} onChange={(e) => setAllow(e.target.value)} hint={ALLOW_HINT} />
        <FormActions action={save} label="Save" onCancel={onClose} />
      </Form>
    </Dialog>
  );
}
