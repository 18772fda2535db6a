/** The shell: session (login, who am I, visible namespaces), navigation, language and the page routes. */
import { useCallback, useEffect, useMemo, useState } from 'react';
import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { api, hasToken, onUnauthorized, setToken } from './api.js';
import type { Me, Namespace } from './api.js';
import { currentLanguage, LANGUAGES, setLanguage } from './i18n.js';
import type { Language } from './i18n.js';
import { answerLeave, Link, match, navigate, path, useLocation, usePendingLeave } from './router.js';
import { holds, SessionContext, useSession } from './session.js';
import type { Session } from './session.js';
import { Announcer, Boundary, Confirm, ErrorBox, NoticeProvider, PageHeading, Spinner } from './ui.js';
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
import { AuditPage } from './pages/audit.js';
import { ActivityPage, ServerActivityPage, ToolActivityPage } from './pages/activity.js';
import { NamespacesPage } from './pages/namespaces.js';

const LAST_NS = 'mcpgate.console.namespace';

export function App() {
  return (
    <NoticeProvider>
      <Root />
    </NoticeProvider>
  );
}

function Root() {
  const { t } = useTranslation();
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
        navigate('/login', { force: true });
      },
      can: (ns, role) => holds(me, ns, role),
    };
  }, [me, namespaces]);

  if (startError) {
    return (
      <main className="center-page">
        <ErrorBox error={startError} title={t('shell.noRegistry')} onRetry={() => void loadSession()} />
      </main>
    );
  }
  if (me === undefined) return <main className="center-page"><Spinner label={t('shell.connecting')} /></main>;
  if (me === null || !session) {
    return (
      <LoginPage
        notice={expired ? t('login.expired') : undefined}
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
  { pattern: '/ns/:ns/activity', render: (p) => <ActivityPage ns={p.ns!} /> },
  { pattern: '/ns/:ns/activity/:server', render: (p) => <ServerActivityPage ns={p.ns!} server={p.server!} /> },
  { pattern: '/ns/:ns/activity/:server/:tool', render: (p) => <ToolActivityPage ns={p.ns!} server={p.server!} tool={p.tool!} /> },
];

const GLOBAL_ROUTES: RouteDef[] = [
  { pattern: '/namespaces', render: () => <NamespacesPage /> },
  { pattern: '/gateways', render: () => <GatewaysPage /> },
];

/** The page for a path the console does not have. */
function NotFoundPage({ pathname }: { pathname: string }) {
  const { t } = useTranslation();
  return (
    <section className="not-found">
      <PageHeading title={t('notFound.title')} />
      <p>{t('notFound.body', { path: pathname })}</p>
      <ul>
        <li><Link to="/">{t('notFound.home')}</Link></li>
        <li><Link to="/namespaces">{t('nav.namespaces')}</Link></li>
      </ul>
    </section>
  );
}

function NamespaceMissing({ ns }: { ns: string }) {
  const { t } = useTranslation();
  return (
    <section>
      <PageHeading title={t('shell.nsMissingTitle')} />
      <p>{t('shell.nsMissing', { namespace: ns })}</p>
      <p><Link to="/namespaces">{t('nav.namespaces')}</Link></p>
    </section>
  );
}

/** Asks before the app leaves a page with unsaved work (see `useLeaveGuard`). */
function LeaveGuard() {
  const { t } = useTranslation();
  const pending = usePendingLeave();
  return (
    <Confirm
      open={pending !== undefined}
      title={t('leave.title')}
      message={<p>{t('leave.message')}</p>}
      confirmLabel={t('leave.confirm')}
      onConfirm={() => answerLeave(true)}
      onClose={() => answerLeave(false)}
    />
  );
}

function LanguageSwitch() {
  const { t, i18n } = useTranslation();
  const lang = currentLanguage();
  return (
    <div className="lang-switch">
      <label htmlFor="lang-select">{t('shell.language')}</label>
      <select id="lang-select" value={lang} data-lang={i18n.language} onChange={(e) => setLanguage(e.target.value as Language)}>
        {LANGUAGES.map((l) => <option key={l.code} value={l.code} lang={l.code}>{l.name}</option>)}
      </select>
    </div>
  );
}

function Shell() {
  const { t } = useTranslation();
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
      navigate(ns ? path('ns', ns, 'servers') : '/namespaces', { replace: true, force: true });
    }
  }, [pathname, ns]);
  if (!known && pathname !== '/' && pathname !== '/login') page = <NotFoundPage pathname={pathname} />;
  const nsKnown = ns !== undefined && session.namespaces.some((n) => n.id === ns);
  if (nsFromPath && !nsKnown) page = <NamespaceMissing ns={nsFromPath} />;

  const section = pathname.split('/')[3] ?? pathname.split('/')[1] ?? '';
  const nav: { to: string; label: string; key: string; show: boolean }[] = ns
    ? [
        { to: path('ns', ns, 'services'), label: t('nav.services'), key: 'services', show: true },
        { to: path('ns', ns, 'servers'), label: t('nav.servers'), key: 'servers', show: true },
        { to: path('ns', ns, 'import'), label: t('nav.import'), key: 'import', show: session.can(ns, 'editor') },
        { to: path('ns', ns, 'activity'), label: t('nav.activity'), key: 'activity', show: true },
        { to: '/gateways', label: t('nav.gateways'), key: 'gateways', show: true },
        { to: '/namespaces', label: t('nav.namespaces'), key: 'namespaces', show: true },
        { to: path('ns', ns, 'admin'), label: t('nav.admin'), key: 'admin', show: true },
        { to: path('ns', ns, 'audit'), label: t('nav.audit'), key: 'audit', show: session.can(ns, 'admin') },
      ]
    : [
        { to: '/namespaces', label: t('nav.namespaces'), key: 'namespaces', show: true },
        { to: '/gateways', label: t('nav.gateways'), key: 'gateways', show: true },
      ];

  return (
    <div className="shell">
      <a className="skip" href="#main">
        {t('shell.skip')}
      </a>
      <header className="topbar">
        <Link to="/" className="brand">
          <span className="logo" aria-hidden="true">M</span> mcpgate
        </Link>
        <button type="button" className="menu-toggle" aria-expanded={menuOpen} aria-controls="nav" onClick={() => setMenuOpen((o) => !o)}>
          {t('shell.menu')}
        </button>
        <div className="ns-switch">
          <label htmlFor="ns-select">{t('shell.namespace')}</label>
          <select
            id="ns-select"
            value={ns ?? ''}
            onChange={(e) => {
              const next = e.target.value;
              const rest = nsFromPath ? pathname.split('/')[3] ?? 'servers' : 'servers';
              navigate(path('ns', next, ['services', 'servers', 'import', 'activity', 'admin', 'audit'].includes(rest) ? rest : 'servers'));
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
        <LanguageSwitch />
        <div className="user">
          <span className="user-name" title={session.me.roles.map((r) => t('shell.roleOn', { role: t(`roles.${r.role}`), namespace: r.namespace })).join(', ')}>
            {session.me.username}
          </span>
          {session.me.username !== 'anonymous' && (
            <button type="button" onClick={session.logout}>
              {t('shell.logout')}
            </button>
          )}
        </div>
      </header>
      <nav id="nav" className={menuOpen ? 'sidenav open' : 'sidenav'} aria-label={t('nav.label')}>
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
      <LeaveGuard />
      <Announcer />
    </div>
  );
}
