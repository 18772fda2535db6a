import { useState } from 'react';
import { Trans, useTranslation } from 'react-i18next';
import { api, ApiError, enc, setToken } from '../api.js';
import type { ApiToken, Consumer, Page, Role, ServerView, ServerRow, User } from '../api.js';
import { decodeAllow, encodeAllow } from '../allow-list.js';
import type { Grant } from '../allow-list.js';
import { navigate, path, useLocation } from '../router.js';
import { NamespaceAuthorization } from './authorization.js';
import { useSession } from '../session.js';
import {
  ago, Badge, ConfirmItem, CopyButton, DataTable, Dialog, ErrorBox, fieldErrors, Form, FormActions, Load, PageHeading, SelectField, Spinner, Tabs, TextField, useAction, useLoad,
  useNotify, when,
} from '../ui.js';

const TABS = ['users', 'tokens', 'consumers', 'authorization'] as const;
type Tab = (typeof TABS)[number];

export function AdminPage({ ns }: { ns: string }) {
  const { t } = useTranslation();
  const { search } = useLocation();
  const tab = TABS.find((x) => x === search.get('tab')) ?? 'users';
  return (
    <section>
      <PageHeading title={t('admin.title')} />
      <Tabs
        tabs={TABS.map((k) => ({ key: k, label: t(`admin.tabs.${k}`) }))}
        selected={tab}
        select={(k: Tab) => navigate(`${path('ns', ns, 'admin')}?tab=${k}`, { replace: true })}
        label={t('admin.sections')}
        idPrefix="admin"
      />
      <div role="tabpanel" id={`admin-panel-${tab}`} aria-labelledby={`admin-tab-${tab}`}>
        {tab === 'users' && <Users />}
        {tab === 'tokens' && <Tokens />}
        {tab === 'consumers' && <Consumers ns={ns} />}
        {tab === 'authorization' && <NamespaceAuthorization ns={ns} />}
      </div>
    </section>
  );
}

/** A secret shown once, with a copy button. */
function SecretOnce({ label, value }: { label: string; value: string }) {
  const { t } = useTranslation();
  return (
    <div className="secret" role="status">
      <p>
        <strong>{label}</strong> {t('admin.shownOnce')}
      </p>
      <div className="secret-row">
        <code data-testid="secret">{value}</code>
        <CopyButton text={value} />
      </div>
    </div>
  );
}

// ------------------------------------------------------------ users

type RoleRow = { namespace: string; role: Role };

function RolesEditor({ roles, onChange }: { roles: RoleRow[]; onChange: (r: RoleRow[]) => void }) {
  const { t } = useTranslation();
  const { namespaces } = useSession();
  return (
    <fieldset className="fieldset">
      <legend>{t('admin.roles')}</legend>
      {roles.length === 0 && <p className="muted small">{t('admin.noRole')}</p>}
      {roles.map((r, i) => (
        <div className="row role-row" key={i}>
          <SelectField label={t('admin.roleNamespace', { n: i + 1 })} value={r.namespace} onChange={(e) => onChange(roles.map((x, j) => (j === i ? { ...x, namespace: e.target.value } : x)))}>
            <option value="*">{t('admin.everyNamespace')}</option>
            {namespaces.map((n) => <option key={n.id} value={n.id}>{n.id}</option>)}
            {r.namespace !== '*' && !namespaces.some((n) => n.id === r.namespace) && <option value={r.namespace}>{r.namespace}</option>}
          </SelectField>
          <SelectField label={t('admin.roleN', { n: i + 1 })} value={r.role} onChange={(e) => onChange(roles.map((x, j) => (j === i ? { ...x, role: e.target.value as Role } : x)))}>
            <option value="viewer">{t('admin.viewer')}</option>
            <option value="editor">{t('admin.editor')}</option>
            <option value="admin">{t('admin.admin')}</option>
            <option value="gateway">{t('admin.gateway')}</option>
          </SelectField>
          <button type="button" className="icon" aria-label={t('admin.removeRole', { n: i + 1 })} onClick={() => onChange(roles.filter((_, j) => j !== i))}>
            ×
          </button>
        </div>
      ))}
      <button type="button" onClick={() => onChange([...roles, { namespace: namespaces[0]?.id ?? 'public', role: 'viewer' }])}>
        {t('admin.addRole')}
      </button>
    </fieldset>
  );
}

function Users() {
  const { t } = useTranslation();
  const { me } = useSession();
  const notify = useNotify();
  const state = useLoad(() => (me.globalAdmin ? api<{ items: User[] }>('GET', '/users') : Promise.resolve({ items: [] as User[] })), [me.globalAdmin]);
  const [editing, setEditing] = useState<User | 'new'>();
  const [deleting, setDeleting] = useState<User>();
  const [password, setPassword] = useState(false);
  const roleText = (r: { namespace: string; role: Role }) => t('shell.roleOn', { role: t(`roles.${r.role}`), namespace: r.namespace });
  return (
    <div className="panel">
      <div className="panel-head">
        <h2>{t('admin.tabs.users')}</h2>
        <div className="head-actions">
          {me.username !== 'anonymous' && <button type="button" onClick={() => setPassword(true)}>{t('admin.changePassword')}</button>}
          {me.globalAdmin && <button type="button" className="primary" onClick={() => setEditing('new')}>{t('admin.newUser')}</button>}
        </div>
      </div>
      {!me.globalAdmin ? (
        <p className="muted">{t('admin.onlyGlobal', { user: me.username, roles: me.roles.map(roleText).join(', ') || t('admin.noRoleShort') })}</p>
      ) : (
        <Load state={state}>
          {(d) => (
            <DataTable
              caption={t('admin.tabs.users')}
              columns={[t('admin.user'), t('admin.roles'), t('common.created')]}
              actions
              items={d.items}
              row={(u) => (
                <tr key={u.username}>
                  <td><strong>{u.username}</strong></td>
                  <td>{u.roles.map((r) => <Badge key={`${r.namespace}:${r.role}`} kind={r.namespace === '*' ? 'info' : 'muted'}>{roleText(r)}</Badge>)}</td>
                  <td>{when(u.createdAt)}</td>
                  <td className="row-actions">
                    <button type="button" onClick={() => setEditing(u)} aria-label={t('admin.editUser', { name: u.username })}>{t('common.edit')}</button>
                    {u.username !== me.username && <button type="button" className="danger-outline" onClick={() => setDeleting(u)} aria-label={t('admin.deleteUserOne', { name: u.username })}>{t('common.delete')}</button>}
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
        title={t('admin.deleteUser')}
        message={(u) => <p><Trans i18nKey="admin.deleteUserMessage" values={{ name: u.username }} components={{ strong: <strong /> }} /></p>}
        confirmLabel={t('admin.deleteUser')}
        onClose={() => setDeleting(undefined)}
        onConfirm={async (u) => {
          await api('DELETE', `/users/${enc(u.username)}`);
          notify(t('admin.userDeleted', { name: u.username }));
          state.reload();
        }}
      />
    </div>
  );
}

function UserDialog({ user, onClose, onSaved }: { user?: User; onClose: () => void; onSaved: () => void }) {
  const { me } = useSession();
  const { t } = useTranslation();
  const notify = useNotify();
  const [username, setUsername] = useState(user?.username ?? '');
  const [password, setPassword] = useState('');
  const [roles, setRoles] = useState<RoleRow[]>(user?.roles.map((r) => ({ ...r })) ?? []);
  const save = useAction(async () => {
    if (user) await api('PUT', `/users/${enc(user.username)}`, { roles, ...(password ? { password } : {}) });
    else await api('POST', '/users', { username: username.trim(), password, roles });
    notify(user ? t('admin.userSaved', { name: user.username }) : t('admin.userCreated', { name: username }));
    onSaved();
    onClose();
  });
  const fe = fieldErrors(save.error);
  return (
    <Dialog open title={user ? t('admin.editUser', { name: user.username }) : t('admin.newUser')} onClose={onClose} wide>
      <Form onSubmit={() => save.run()}>
        {!user && <TextField label={t('admin.username')} required value={username} onChange={(e) => setUsername(e.target.value)} error={fe('username')} />}
        {/* One's own password changes with the current one, in its own dialog. */}
        {user?.username !== me.username && (
          <TextField label={user ? t('admin.newPasswordKeep') : t('admin.password')} type="password" autoComplete="new-password" required={!user} value={password} onChange={(e) => setPassword(e.target.value)} error={fe('password')} />
        )}
        <RolesEditor roles={roles} onChange={setRoles} />
        <FormActions action={save} label={user ? t('admin.saveUser') : t('admin.createUser')} busyLabel={t('common.saving')} disabled={!user && (!username.trim() || !password)} onCancel={onClose} fieldShown={!!(fe('username') || fe('password'))} />
      </Form>
    </Dialog>
  );
}

function PasswordDialog({ onClose }: { onClose: () => void }) {
  const { t } = useTranslation();
  const { me } = useSession();
  const notify = useNotify();
  const [current, setCurrent] = useState('');
  const [password, setPassword] = useState('');
  const [again, setAgain] = useState('');
  const [mismatch, setMismatch] = useState(false);
  const save = useAction(async () => {
    if (password !== again) {
      setMismatch(true);
      return;
    }
    setMismatch(false);
    // The change revokes every token of the user, this session's too: the answer carries a fresh one.
    const r = await api<{ accessToken?: string }>('PUT', `/users/${enc(me.username)}`, { currentPassword: current, password });
    if (r.accessToken) setToken(r.accessToken);
    notify(t('admin.passwordChanged'));
    onClose();
  });
  const fe = fieldErrors(save.error);
  const wrongCurrent = save.error instanceof ApiError && save.error.code === 'WRONG_CURRENT_PASSWORD' ? t('admin.wrongCurrentPassword') : undefined;
  return (
    <Dialog open title={t('admin.changePassword')} onClose={onClose}>
      <Form onSubmit={() => save.run()}>
        <TextField label={t('admin.currentPassword')} type="password" autoComplete="current-password" value={current} onChange={(e) => setCurrent(e.target.value)} error={wrongCurrent ?? fe('currentPassword')} />
        <TextField label={t('admin.newPassword')} type="password" autoComplete="new-password" value={password} onChange={(e) => setPassword(e.target.value)} error={fe('password')} />
        <TextField label={t('admin.newPasswordAgain')} type="password" autoComplete="new-password" value={again} onChange={(e) => setAgain(e.target.value)} error={mismatch ? t('admin.passwordsDiffer') : undefined} />
        <FormActions action={save} label={t('admin.changePassword')} disabled={!current || !password} onCancel={onClose} fieldShown={!!fe('password') || !!fe('currentPassword')} />
      </Form>
    </Dialog>
  );
}

// ------------------------------------------------------------ tokens

function Tokens() {
  const { t } = useTranslation();
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
    notify(t('admin.tokenCreated', { name: r.name }));
    state.reload();
  });
  const fe = fieldErrors(create.error);
  return (
    <div className="panel">
      <h2>{t('admin.tabs.tokens')}</h2>
      <p className="muted small">
        <Trans i18nKey="admin.tokensIntro" components={{ code: <code /> }} /> {me.globalAdmin ? t('admin.tokensAll') : ''}
      </p>
      {created && <SecretOnce label={t('admin.newToken')} value={created} />}
      {me.username === 'anonymous' ? (
        <p className="muted">{t('admin.tokensNoAuth')}</p>
      ) : (
        <Form className="toolbar" onSubmit={() => create.run()} label={t('admin.createToken')}>
          <TextField label={t('admin.tokenName')} value={name} onChange={(e) => setName(e.target.value)} placeholder="ci-deploy" error={fe('name')} />
          <TextField label={t('admin.tokenTtl')} type="number" min={1} value={ttl} onChange={(e) => setTtl(e.target.value)} placeholder={t('admin.never')} error={fe('ttlDays')} />
          <button type="submit" className="primary" disabled={create.busy || !name.trim()}>{t('admin.createToken')}</button>
        </Form>
      )}
      {!(fe('name') || fe('ttlDays')) && <ErrorBox error={create.error} />}
      <Load state={state}>
        {(d) => (
          <DataTable
            caption={t('admin.tabs.tokens')}
            columns={[t('admin.tokenName'), t('admin.user'), t('common.created'), t('admin.expires'), t('admin.lastUsed')]}
            actions
            items={d.items}
            empty={t('admin.noToken')}
            row={(x) => (
              <tr key={x.id}>
                <td>{x.name}</td>
                <td>{x.username}</td>
                <td>{when(x.createdAt)}</td>
                <td>{x.expiresAt ? when(x.expiresAt) : t('admin.never')}</td>
                <td>{x.lastUsedAt ? ago(x.lastUsedAt) : t('admin.neverUsed')}</td>
                <td className="row-actions">
                  <button type="button" className="danger-outline" onClick={() => setRevoking(x)} aria-label={t('admin.revokeOne', { name: x.name })}>{t('admin.revoke')}</button>
                </td>
              </tr>
            )}
          />
        )}
      </Load>
      <ConfirmItem
        item={revoking}
        title={t('admin.revokeTitle')}
        message={(x) => <p><Trans i18nKey="admin.revokeMessage" values={{ name: x.name, user: x.username }} components={{ strong: <strong /> }} /></p>}
        confirmLabel={t('admin.revoke')}
        onClose={() => setRevoking(undefined)}
        onConfirm={async (x) => {
          await api('DELETE', `/tokens/${enc(x.id)}`);
          notify(t('admin.tokenRevoked', { name: x.name }));
          state.reload();
        }}
      />
    </div>
  );
}

// ------------------------------------------------------------ consumers

/** Grants as people read them: `weather`, `weather › get_weather`. */
function grantText(g: Grant): string {
  return g.tool === undefined ? g.server : `${g.server} › ${g.tool}`;
}

/**
 * The servers and tools a key may use, picked from those that exist (no typing): every server,
 * or some servers, or some tools of a server.
 */
function AllowPicker({ ns, value, onChange, limited, setLimited }: { ns: string; value: Grant[]; onChange: (g: Grant[]) => void; limited: boolean; setLimited: (l: boolean) => void }) {
  const { t } = useTranslation();
  const servers = useLoad(() => api<Page<ServerRow>>('GET', `/namespaces/${enc(ns)}/mcp-servers?pageSize=1000`), [ns]);
  const [open, setOpen] = useState<string>();
  const hasServer = (s: string) => value.some((g) => g.server === s && g.tool === undefined);
  const toolsOf = (s: string) => value.filter((g) => g.server === s && g.tool !== undefined).map((g) => g.tool as string);
  const setServer = (s: string, on: boolean) => onChange(on ? [...value.filter((g) => g.server !== s), { server: s }] : value.filter((g) => g.server !== s));
  const setTool = (s: string, tool: string, on: boolean) => {
    const rest = value.filter((g) => !(g.server === s && (g.tool === tool || g.tool === undefined)));
    onChange(on ? [...rest, { server: s, tool }] : rest);
  };
  return (
    <fieldset className="fieldset allow-picker">
      <legend>{t('consumers.allowed')}</legend>
      <div className="check">
        <input id="allow-all" type="radio" name="allow-mode" checked={!limited} onChange={() => { setLimited(false); onChange([]); }} />
        <label htmlFor="allow-all">{t('consumers.allowAll')}</label>
      </div>
      <div className="check">
        <input id="allow-some" type="radio" name="allow-mode" checked={limited} onChange={() => setLimited(true)} />
        <label htmlFor="allow-some">{t('consumers.allowSome')}</label>
      </div>
      {limited && (
        <Load state={servers}>
          {(page) => page.items.length === 0 ? <p className="muted small">{t('consumers.noServers')}</p> : (
            <ul className="allow-list" data-testid="allow-picker">
              {page.items.map((s) => {
                const picked = toolsOf(s.name);
                return (
                  <li key={s.id}>
                    <div className="check">
                      <input id={`allow-${s.id}`} type="checkbox" checked={hasServer(s.name)} onChange={(e) => setServer(s.name, e.target.checked)} />
                      <label htmlFor={`allow-${s.id}`}>{s.name} <span className="muted small">{t('consumers.wholeServer')}</span></label>
                    </div>
                    {!hasServer(s.name) && (
                      <button type="button" className="link small" aria-expanded={open === s.name} onClick={() => setOpen(open === s.name ? undefined : s.name)}>
                        {picked.length > 0 ? t('consumers.toolsPicked', { count: picked.length, server: s.name }) : t('consumers.pickTools', { server: s.name })}
                      </button>
                    )}
                    {open === s.name && !hasServer(s.name) && <ToolPicks ns={ns} server={s.name} picked={picked} onPick={(tool, on) => setTool(s.name, tool, on)} />}
                  </li>
                );
              })}
            </ul>
          )}
        </Load>
      )}
      {limited && value.length === 0 && <p className="field-error">{t('consumers.pickSomething')}</p>}
    </fieldset>
  );
}

function ToolPicks({ ns, server, picked, onPick }: { ns: string; server: string; picked: string[]; onPick: (tool: string, on: boolean) => void }) {
  const { t } = useTranslation();
  const state = useLoad(() => api<ServerView>('GET', `/namespaces/${enc(ns)}/mcp-servers/${enc(server)}`), [ns, server]);
  if (!state.data) return state.error ? <ErrorBox error={state.error} /> : <Spinner />;
  const tools = state.data.spec?.tools ?? [];
  if (tools.length === 0) return <p className="muted small">{t('consumers.noPublishedTools')}</p>;
  return (
    <ul className="allow-tools">
      {tools.map((x) => (
        <li key={x.name} className="check">
          <input id={`allow-${server}-${x.name}`} type="checkbox" checked={picked.includes(x.name)} onChange={(e) => onPick(x.name, e.target.checked)} />
          <label htmlFor={`allow-${server}-${x.name}`}>{x.name}</label>
        </li>
      ))}
    </ul>
  );
}

function Consumers({ ns }: { ns: string }) {
  const { t } = useTranslation();
  const { can } = useSession();
  const notify = useNotify();
  const admin = can(ns, 'admin');
  const state = useLoad(() => api<{ items: Consumer[] }>('GET', `/namespaces/${enc(ns)}/consumers`), [ns]);
  const [creating, setCreating] = useState(false);
  const [created, setCreated] = useState<string>();
  const [editing, setEditing] = useState<Consumer>();
  const [deleting, setDeleting] = useState<Consumer>();
  const open = state.data !== undefined && state.data.items.length === 0;
  return (
    <div className="panel">
      <div className="panel-head">
        <h2>{t('consumers.title', { namespace: ns })}</h2>
        {admin && <button type="button" className="primary" onClick={() => setCreating(true)}>{t('consumers.new')}</button>}
      </div>
      <p className="muted small">
        <Trans i18nKey="consumers.intro" components={{ code: <code /> }} />
      </p>
      {open && <p className="notice-inline" data-testid="open-namespace">{t('consumers.openNow', { namespace: ns })}</p>}
      {created && <SecretOnce label={t('consumers.newKey')} value={created} />}
      <Load state={state}>
        {(d) => (
          <DataTable
            caption={t('consumers.title', { namespace: ns })}
            columns={[t('consumers.name'), t('consumers.key'), t('consumers.allowed'), t('common.created'), t('consumers.lastUsed')]}
            actions={admin}
            items={d.items}
            testId="consumers"
            empty={t('consumers.none', { namespace: ns })}
            row={(c) => (
              <tr key={c.id}>
                <td>{c.name}</td>
                <td><code>{c.keyPrefix}…</code></td>
                <td>{c.allow ? decodeAllow(c.allow).map((g) => <Badge key={grantText(g)} kind="muted">{grantText(g)}</Badge>) : <span className="muted">{t('consumers.everyServer')}</span>}</td>
                <td>{when(c.createdAt)}</td>
                <td data-testid="last-used" title={c.lastUsedAt ? when(c.lastUsedAt) : undefined}>{c.lastUsedAt ? ago(c.lastUsedAt) : t('consumers.neverUsed')}</td>
                {admin && (
                  <td className="row-actions">
                    <button type="button" onClick={() => setEditing(c)} aria-label={t('consumers.editOne', { name: c.name })}>{t('common.edit')}</button>
                    <button type="button" className="danger-outline" onClick={() => setDeleting(c)} aria-label={t('consumers.deleteOne', { name: c.name })}>{t('common.delete')}</button>
                  </td>
                )}
              </tr>
            )}
          />
        )}
      </Load>
      {creating && (
        <ConsumerDialog
          ns={ns} first={open} onClose={() => setCreating(false)}
          onSaved={(key) => { setCreated(key); state.reload(); }}
        />
      )}
      {editing && <ConsumerDialog ns={ns} consumer={editing} first={false} onClose={() => setEditing(undefined)} onSaved={state.reload} />}
      <ConfirmItem
        item={deleting}
        title={t('consumers.deleteTitle')}
        message={(c) => <p><Trans i18nKey={d1(state.data?.items.length)} values={{ name: c.name, namespace: ns }} components={{ strong: <strong /> }} /></p>}
        confirmLabel={t('consumers.deleteConfirm')}
        onClose={() => setDeleting(undefined)}
        onConfirm={async (c) => {
          await api('DELETE', `/namespaces/${enc(ns)}/consumers/${enc(c.id)}`);
          notify(t('consumers.deleted', { name: c.name }));
          state.reload();
        }}
      />
    </div>
  );
}

/** Deleting the last key opens the namespace: the message says so. */
function d1(count: number | undefined): string {
  return count === 1 ? 'consumers.deleteLastMessage' : 'consumers.deleteMessage';
}

function ConsumerDialog({ ns, consumer, first, onClose, onSaved }: { ns: string; consumer?: Consumer; first: boolean; onClose: () => void; onSaved: (key?: string) => void }) {
  const { t } = useTranslation();
  const notify = useNotify();
  const [name, setName] = useState(consumer?.name ?? '');
  const [grants, setGrants] = useState<Grant[]>(decodeAllow(consumer?.allow));
  const [limited, setLimited] = useState(grants.length > 0);
  const save = useAction(async () => {
    const allow = encodeAllow(grants);
    if (consumer) {
      await api('PUT', `/namespaces/${enc(ns)}/consumers/${enc(consumer.id)}`, { allow });
      notify(t('consumers.saved', { name: consumer.name }));
      onSaved();
    } else {
      const r = await api<Consumer & { key: string }>('POST', `/namespaces/${enc(ns)}/consumers`, { name: name.trim(), allow });
      notify(t('consumers.created', { name: r.name }));
      onSaved(r.key);
    }
    onClose();
  });
  const fe = fieldErrors(save.error);
  return (
    <Dialog open title={consumer ? t('consumers.editOne', { name: consumer.name }) : t('consumers.new')} onClose={onClose} wide>
      <Form onSubmit={() => save.run()}>
        {!consumer && <TextField label={t('consumers.nameLabel')} value={name} onChange={(e) => setName(e.target.value)} placeholder="cursor-team-a" error={fe('name')} />}
        <AllowPicker ns={ns} value={grants} onChange={setGrants} limited={limited} setLimited={setLimited} />
        {fe('allow') && <p className="field-error">{fe('allow')}</p>}
        {first && <p className="notice-inline" role="note" data-testid="closes-namespace">{t('consumers.closesNamespace', { namespace: ns })}</p>}
        <FormActions
          action={save}
          label={consumer ? t('common.save') : first ? t('consumers.createAndClose', { namespace: ns }) : t('consumers.create')}
          busyLabel={t('common.saving')}
          disabled={(!consumer && !name.trim()) || (limited && grants.length === 0)}
          onCancel={onClose}
          fieldShown={!!(fe('name') || fe('allow'))}
        />
      </Form>
    </Dialog>
  );
}
