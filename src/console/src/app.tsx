/** The shell: session (login, who am I, visible namespaces), navigation and the page routes. */
import { createContext, useCallback, useContext, useEffect, useMemo, useState } from 'react';
import type { ReactNode } from 'react';
import { api, hasToken, onUnauthorized, setToken } from './api.js';
import type { Me, Namespace } from './api.js';
import { Link, match, navigate, path, useLocation } from './router.js';
import { Boundary, ErrorBox, NoticeProvider, Spinner } from './ui.js';
import { LoginPage } from './pages/login.js';
import { ServicesPage } from './pages/services.js';
import { ServiceDetailPage } from './pages/service-detail.js';
import { ServersPage } from './pages/servers.js';
import { ServerDetailPage } from './pages/server-detail.js';
import { ToolEditorPage } from './pages/tool-editor.js';
import { VersionsPage } from './pages/versions.js';
import { ImportPage } from './pages/import.js';
import { GatewaysPage } from './pages/gateways.js';
import { AdminPage } from './pages/admin.js';
import { NamespacesPage } from './pages/namespaces.js';
import { AuditPage } from './pages/audit.js';

const LAST_NS = 'mcpgate.console.namespace';

export interface Session {
  me: Me;
  namespaces: Namespace[];
  reloadNamespaces: () => Promise<void>;
  logout: () => void;
  /** Roles: may the user write (editor) or administer (admin) the namespace? */
  can: (ns: string, role: 'viewer' | 'editor' | 'admin') => boolean;
}

const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const s = useContext(SessionContext);
  if (!s) throw new Error('no session');
  return s;
}

const RANK = { viewer: 1, gateway: 1, editor: 2, admin: 3 } as const;

export function App() {
  return (
    <NoticeProvider>
      <Root />
    </NoticeProvider>
  );
}

function Root() {
  const [me, setMe] = useState<Me | null | undefined>(undefined);
  const [namespaces, setNamespaces] = useState<Namespace[]>([]);
  const [startError, setStartError] = useState<Error>();
  const [expired, setExpired] = useState<string>();
  const location = useLocation();

  const loadSession = useCallback(async () => {
    setStartError(undefined);
    try {
      const who = await api<Me>('GET', '/auth/me', undefined, { quiet401: true });
      const list = await api<{ items: Namespace[] }>('GET', '/namespaces');
      setNamespaces(list.items);
      setMe(who);
    } catch (e) {
      const status = (e as { status?: number }).status;
      if (status === 401) {
        setToken(null);
        setMe(null);
      } else {
        setStartError(e as Error);
      }
    }
  }, []);

  useEffect(() => {
    void loadSession();
    return onUnauthorized((message) => {
      setExpired(hasToken() ? undefined : message);
      setMe(null);
    });
  }, [loadSession]);

  const session = useMemo<Session | null>(() => {
    if (!me) return null;
    return {
      me, namespaces,
      reloadNamespaces: async () => {
        const list = await api<{ items: Namespace[] }>('GET', '/namespaces');
        setNamespaces(list.items);
      },
      logout: () => {
        setToken(null);
        setExpired(undefined);
        setMe(null);
        navigate('/login');
      },
      can: (ns, role) => me.roles.some((r) => (r.namespace === ns || r.namespace === '*') && RANK[r.role] >= RANK[role]),
    };
  }, [me, namespaces]);

  if (startError) {
    return (
      <main className="center-page">
        <ErrorBox error={startError} title="The registry did not answer" onRetry={() => void loadSession()} />
      </main>
    );
  }
  if (me === undefined) return <main className="center-page"><Spinner label="Connecting to the registry…" /></main>;
  if (me === null || !session) {
    return (
      <LoginPage
        notice={expired ? 'Your session ended: log in again.' : undefined}
        onLoggedIn={async () => {
          setExpired(undefined);
          await loadSession();
          if (location.pathname === '/login') navigate('/', { replace: true });
        }}
      />
    );
  }
  return (
    <SessionContext.Provider value={session}>
      <Shell />
    </SessionContext.Provider>
  );
}

function defaultNamespace(namespaces: Namespace[]): string | undefined {
  const last = sessionStorage.getItem(LAST_NS);
  if (last && namespaces.some((n) => n.id === last)) return last;
  return namespaces.find((n) => n.id === 'public')?.id ?? namespaces[0]?.id;
}

interface RouteDef {
  pattern: string;
  render: (p: Record<string, string>) => ReactNode;
}

const NS_ROUTES: RouteDef[] = [
  { pattern: '/ns/:ns/services', render: (p) => <ServicesPage ns={p.ns!} /> },
  { pattern: '/ns/:ns/services/:group/:name', render: (p) => <ServiceDetailPage ns={p.ns!} group={p.group!} name={p.name!} /> },
  { pattern: '/ns/:ns/servers', render: (p) => <ServersPage ns={p.ns!} /> },
  { pattern: '/ns/:ns/servers/:name', render: (p) => <ServerDetailPage ns={p.ns!} name={p.name!} /> },
  { pattern: '/ns/:ns/servers/:name/versions', render: (p) => <VersionsPage ns={p.ns!} name={p.name!} /> },
  { pattern: '/ns/:ns/servers/:name/versions/:version/tools/:tool', render: (p) => <ToolEditorPage ns={p.ns!} name={p.name!} version={p.version!} tool={p.tool!} /> },
  { pattern: '/ns/:ns/servers/:name/versions/:version/new-tool', render: (p) => <ToolEditorPage ns={p.ns!} name={p.name!} version={p.version!} /> },
  { pattern: '/ns/:ns/import', render: (p) => <ImportPage ns={p.ns!} /> },
  { pattern: '/ns/:ns/admin', render: (p) => <AdminPage ns={p.ns!} /> },
  { pattern: '/ns/:ns/audit', render: (p) => <AuditPage ns={p.ns!} /> },
];

const GLOBAL_ROUTES: RouteDef[] = [
  { pattern: '/namespaces', render: () => <NamespacesPage /> },
  { pattern: '/gateways', render: () => <GatewaysPage /> },
];

function Shell() {
  const session = useSession();
  const { pathname } = useLocation();
  const nsFromPath = match('/ns/:ns', pathname.split('/').slice(0, 3).join('/'))?.ns;
  const ns = nsFromPath ?? defaultNamespace(session.namespaces);
  const [menuOpen, setMenuOpen] = useState(false);

  useEffect(() => {
    if (nsFromPath) sessionStorage.setItem(LAST_NS, nsFromPath);
  }, [nsFromPath]);
  useEffect(() => setMenuOpen(false), [pathname]);

  let page: ReactNode = null;
  let known = false;
  for (const r of [...NS_ROUTES, ...GLOBAL_ROUTES]) {
    const p = match(r.pattern, pathname);
    if (p) {
      page = r.render(p);
      known = true;
      break;
    }
  }
  useEffect(() => {
    if (pathname === '/' || pathname === '/login') {
      navigate(ns ? path('ns', ns, 'servers') : '/namespaces', { replace: true });
    }
  }, [pathname, ns]);
  if (!known && pathname !== '/' && pathname !== '/login') {
    page = (
      <section>
        <h1>Page not found</h1>
        <p>
          There is no console page at <code>{pathname}</code>. <Link to="/">Go to the start page</Link>.
        </p>
      </section>
    );
  }
  const nsKnown = ns !== undefined && session.namespaces.some((n) => n.id === ns);
  if (nsFromPath && !nsKnown) {
    page = (
      <ErrorBox
        title="Namespace not found"
        error={new Error(`The namespace '${nsFromPath}' does not exist or you hold no role in it.`)}
      />
    );
  }

  const section = pathname.split('/')[3] ?? pathname.split('/')[1] ?? '';
  const nav: { to: string; label: string; key: string; show: boolean }[] = ns
    ? [
        { to: path('ns', ns, 'services'), label: 'Services', key: 'services', show: true },
        { to: path('ns', ns, 'servers'), label: 'MCP servers', key: 'servers', show: true },
        { to: path('ns', ns, 'import'), label: 'Import', key: 'import', show: session.can(ns, 'editor') },
        { to: '/gateways', label: 'Gateways', key: 'gateways', show: true },
        { to: '/namespaces', label: 'Namespaces', key: 'namespaces', show: true },
        { to: path('ns', ns, 'admin'), label: 'Admin', key: 'admin', show: true },
        { to: path('ns', ns, 'audit'), label: 'Audit', key: 'audit', show: session.can(ns, 'admin') },
      ]
    : [
        { to: '/namespaces', label: 'Namespaces', key: 'namespaces', show: true },
        { to: '/gateways', label: 'Gateways', key: 'gateways', show: true },
      ];

  return (
    <div className="shell">
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <Link to="/" className="brand" aria-label="mcpgate console home">
          <span className="logo" aria-hidden="true">M</span> mcpgate
        </Link>
        <button type="button" className="menu-toggle" aria-expanded={menuOpen} aria-controls="nav" onClick={() => setMenuOpen((o) => !o)}>
          Menu
        </button>
        <div className="ns-switch">
          <label htmlFor="ns-select">Namespace</label>
          <select
            id="ns-select"
            value={ns ?? ''}
            onChange={(e) => {
              const next = e.target.value;
              const rest = nsFromPath ? pathname.split('/')[3] ?? 'servers' : 'servers';
              navigate(path('ns', next, ['services', 'servers', 'import', 'admin', 'audit'].includes(rest) ? rest : 'servers'));
            }}
          >
            {!nsKnown && <option value="">—</option>}
            {session.namespaces.map((n) => (
              <option key={n.id} value={n.id}>
                {n.name && n.name !== n.id ? `${n.name} (${n.id})` : n.id}
              </option>
            ))}
          </select>
        </div>
        <div className="user">
          <span className="user-name" title={session.me.roles.map((r) => `${r.role} on ${r.namespace}`).join(', ')}>
            {session.me.username}
          </span>
          {session.me.username !== 'anonymous' && (
            <button type="button" onClick={session.logout}>
              Log out
            </button>
          )}
        </div>
      </header>
      <nav id="nav" className={menuOpen ? 'sidenav open' : 'sidenav'} aria-label="Sections">
        <ul>
          {nav.filter((n) => n.show).map((n) => (
            <li key={n.key}>
              <Link to={n.to} aria-current={section === n.key ? 'page' : undefined}>
                {n.label}
              </Link>
            </li>
          ))}
        </ul>
      </nav>
      <main id="main" className="content" tabIndex={-1}>
        <Boundary resetKey={pathname}>{page ?? <Spinner />}</Boundary>
      </main>
    </div>
  );
}
