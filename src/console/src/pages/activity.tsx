/**
 * Activity: tool calls over the last hour or day as every gateway replica reported them (the
 * registry adds the reports up). Servers and tools that fail most come first, so an operator
 * sees at a glance which tool breaks; a server's and a tool's page show their last errors
 * (request and answer redacted by the gateway and the registry) and the agents calling.
 */
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { ActivityFigures, ServerActivity, ToolActivity } from '../../../model/activity.js';
import { api, enc } from '../api.js';
import { formatDateTime, formatNumber } from '../i18n.js';
import { Link, path } from '../router.js';
import { ago, Badge, DataTable, Load, PageHeading, useInterval, useLoad } from '../ui.js';

type Window = '1h' | '24h';

type Figures = ActivityFigures;
type ToolFigures = ToolActivity;
type ServerFigures = ServerActivity;
interface ErrorSample {
  namespace: string; server: string; tool: string; at: number; kind: string; message: string;
  agent: { name: string; version: string }; request: string; answer: string; gateway?: string;
}
interface NamespaceView { window: Window; stepMs: number; totals: Figures; servers: ServerFigures[] }
interface ServerView extends ServerFigures { window: Window; stepMs: number; lastErrors: ErrorSample[] }
interface ToolView extends ToolFigures { server: string; window: Window; stepMs: number; lastErrors: ErrorSample[] }

/** The window picker, kept in the page's query string (`?window=24h`). */
function useWindow(): [Window, (w: Window) => void] {
  const initial = new URLSearchParams(window.location.search).get('window') === '24h' ? '24h' : '1h';
  const [w, setW] = useState<Window>(initial);
  const set = (next: Window) => {
    setW(next);
    const url = new URL(window.location.href);
    url.searchParams.set('window', next);
    window.history.replaceState(null, '', url.pathname + url.search);
  };
  return [w, set];
}

function WindowPicker({ value, onChange }: { value: Window; onChange: (w: Window) => void }) {
  const { t } = useTranslation();
  return (
    <div className="segmented" role="group" aria-label={t('activity.window')}>
      {(['1h', '24h'] as const).map((w) => (
        <button key={w} type="button" aria-pressed={value === w} className={value === w ? 'primary' : ''} onClick={() => onChange(w)} data-testid={`window-${w}`}>
          {t(`activity.windows.${w}`)}
        </button>
      ))}
    </div>
  );
}

function rate(r: number): string {
  return `${(r * 100).toFixed(r > 0 && r < 0.1 ? 1 : 0)} %`;
}

function ms(v: number | null): string {
  if (v === null) return '—';
  return v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${Math.round(v)} ms`;
}

/** The error rate as a badge: red from 5 %, amber above 0. */
function RateBadge({ f }: { f: Figures }) {
  if (f.calls === 0) return <span className="muted">—</span>;
  return <Badge kind={f.errorRate >= 0.05 ? 'bad' : f.errorRate > 0 ? 'warn' : 'ok'}>{rate(f.errorRate)}</Badge>;
}

/** Calls per slot as bars, the failed part of each in red. */
function Bars({ series, label, large }: { series: Figures['series']; label: string; large?: boolean }) {
  const max = Math.max(1, ...series.map((p) => p.calls));
  const w = large ? 6 : 2;
  const gap = large ? 2 : 1;
  const h = large ? 80 : 24;
  return (
    <svg className="bars" width={series.length * (w + gap)} height={h + 1} role="img" aria-label={label} viewBox={`0 0 ${series.length * (w + gap)} ${h + 1}`}>
      <line x1={0} x2={series.length * (w + gap)} y1={h + 0.5} y2={h + 0.5} className="bar-axis" />
      {series.map((p, i) => {
        const total = (p.calls / max) * h;
        const bad = (p.errors / max) * h;
        return (
          <g key={p.at}>
            <title>{`${formatDateTime(p.at)}: ${formatNumber(p.calls)} / ${formatNumber(p.errors)}`}</title>
            {p.calls > 0 && <rect x={i * (w + gap)} y={h - total} width={w} height={Math.max(1, total - bad)} className="bar-ok" />}
            {p.errors > 0 && <rect x={i * (w + gap)} y={h - bad} width={w} height={Math.max(1, bad)} className="bar-bad" />}
          </g>
        );
      })}
    </svg>
  );
}

function Summary({ f, testId }: { f: Figures; testId: string }) {
  const { t } = useTranslation();
  return (
    <dl className="stats" data-testid={testId}>
      <div><dt>{t('activity.calls')}</dt><dd>{formatNumber(f.calls)}</dd></div>
      <div><dt>{t('activity.errors')}</dt><dd>{formatNumber(f.errors)}</dd></div>
      <div><dt>{t('activity.errorRate')}</dt><dd><RateBadge f={f} /></dd></div>
      <div><dt>{t('activity.p50')}</dt><dd>{ms(f.p50Ms)}</dd></div>
      <div><dt>{t('activity.p95')}</dt><dd>{ms(f.p95Ms)}</dd></div>
    </dl>
  );
}

function Agents({ agents }: { agents: Figures['agents'] }) {
  const { t } = useTranslation();
  return (
    <DataTable
      caption={t('activity.agents')} columns={[t('activity.agent'), t('activity.version'), t('activity.calls')]} items={agents} empty={t('activity.noAgents')} testId="activity-agents"
      row={(a) => <tr key={`${a.name}\n${a.version}`}><td>{a.name}</td><td>{a.version || '—'}</td><td>{formatNumber(a.calls)}</td></tr>}
    />
  );
}

function Kinds({ kinds }: { kinds: Figures['kinds'] }) {
  const { t } = useTranslation();
  if (kinds.length === 0) return null;
  return (
    <p className="small" data-testid="activity-kinds">
      {t('activity.kinds')}{' '}
      {kinds.map((k) => <span key={k.kind}><Badge kind="bad">{k.kind}</Badge> {formatNumber(k.count)} </span>)}
    </p>
  );
}

/** A JSON text shown pretty when it parses. */
function JsonText({ text }: { text: string }) {
  let shown = text;
  try {
    shown = JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    // cut or not JSON: shown as it came
  }
  return <pre className="code-block">{shown}</pre>;
}

function LastErrors({ errors, showTool }: { errors: ErrorSample[]; showTool: boolean }) {
  const { t } = useTranslation();
  if (errors.length === 0) return <p className="empty">{t('activity.noErrors')}</p>;
  return (
    <ul className="error-samples" data-testid="activity-errors">
      {errors.map((e, i) => (
        <li key={`${e.at}-${i}`}>
          <details open={i === 0}>
            <summary>
              <Badge kind="bad">{e.kind}</Badge>{' '}
              {showTool && <strong>{e.tool} · </strong>}
              <span className="break">{e.message || '—'}</span>{' '}
              <span className="muted small">{ago(e.at)} · {e.agent.name}{e.agent.version ? ` ${e.agent.version}` : ''}{e.gateway ? ` · ${e.gateway}` : ''}</span>
            </summary>
            <div className="sample-grid">
              <div><h4>{t('activity.request')}</h4><JsonText text={e.request} /></div>
              <div><h4>{t('activity.answer')}</h4><JsonText text={e.answer} /></div>
            </div>
          </details>
        </li>
      ))}
    </ul>
  );
}

function Heading({ title, window: w, setWindow, reload }: { title: string; window: Window; setWindow: (w: Window) => void; reload: () => void }) {
  const { t } = useTranslation();
  return (
    <div className="page-head">
      <PageHeading title={title} />
      <div className="head-actions">
        <WindowPicker value={w} onChange={setWindow} />
        <button type="button" onClick={reload}>{t('common.refresh')}</button>
      </div>
    </div>
  );
}

/** `/ns/{ns}/activity`: every server and tool with calls in the window, the most failing first. */
export function ActivityPage({ ns }: { ns: string }) {
  const { t } = useTranslation();
  const [w, setW] = useWindow();
  const state = useLoad(() => api<NamespaceView>('GET', `/namespaces/${enc(ns)}/activity?window=${w}`), [ns, w]);
  useInterval(state.reload, 15_000);
  return (
    <section>
      <Heading title={t('activity.title')} window={w} setWindow={setW} reload={state.reload} />
      <p className="muted">{t('activity.intro')}</p>
      <Load state={state}>
        {(d) => (
          <>
            <Summary f={d.totals} testId="activity-totals" />
            {d.servers.length === 0 ? <p className="empty">{t('activity.empty')}</p> : d.servers.map((s) => (
              <div key={s.server} className="panel activity-server" data-testid="activity-server">
                <div className="page-head">
                  <h3><Link to={`${path('ns', ns, 'activity', s.server)}?window=${w}`}>{s.server}</Link></h3>
                  <span>{formatNumber(s.calls)} {t('activity.callsShort')} · <RateBadge f={s} /> · p95 {ms(s.p95Ms)}</span>
                </div>
                <ToolTable ns={ns} server={s.server} tools={s.tools} window={w} />
              </div>
            ))}
          </>
        )}
      </Load>
    </section>
  );
}

function ToolTable({ ns, server, tools, window: w }: { ns: string; server: string; tools: ToolFigures[]; window: Window }) {
  const { t } = useTranslation();
  return (
    <DataTable
      caption={t('activity.toolsOf', { server })}
      columns={[t('activity.tool'), t('activity.calls'), t('activity.errorRate'), t('activity.p50'), t('activity.p95'), t('activity.series'), t('activity.topAgent')]}
      items={tools} testId="activity-tools"
      row={(tool) => (
        <tr key={tool.tool} className={tool.errorRate >= 0.05 ? 'row-bad' : undefined}>
          <td><Link to={`${path('ns', ns, 'activity', server, tool.tool)}?window=${w}`}>{tool.tool}</Link>{tool.kinds[0] && <div className="muted small">{tool.kinds[0].kind}</div>}</td>
          <td>{formatNumber(tool.calls)}</td>
          <td><RateBadge f={tool} /> <span className="muted small">{formatNumber(tool.errors)}</span></td>
          <td>{ms(tool.p50Ms)}</td>
          <td>{ms(tool.p95Ms)}</td>
          <td><Bars series={tool.series} label={t('activity.seriesLabel', { calls: tool.calls, errors: tool.errors })} /></td>
          <td>{tool.agents[0] ? `${tool.agents[0].name}${tool.agents.length > 1 ? ` +${tool.agents.length - 1}` : ''}` : '—'}</td>
        </tr>
      )}
    />
  );
}

/** `/ns/{ns}/activity/{server}`: the server's tools, agents and last errors. */
export function ServerActivityPage({ ns, server }: { ns: string; server: string }) {
  const { t } = useTranslation();
  const [w, setW] = useWindow();
  const state = useLoad(() => api<ServerView>('GET', `/namespaces/${enc(ns)}/activity/servers/${enc(server)}?window=${w}`), [ns, server, w]);
  useInterval(state.reload, 15_000);
  return (
    <section>
      <p className="crumbs small"><Link to={`${path('ns', ns, 'activity')}?window=${w}`}>{t('activity.title')}</Link> › <Link to={path('ns', ns, 'servers', server)}>{server}</Link></p>
      <Heading title={t('activity.serverTitle', { server })} window={w} setWindow={setW} reload={state.reload} />
      <Load state={state}>
        {(d) => (
          <>
            <Summary f={d} testId="activity-totals" />
            <Bars series={d.series} large label={t('activity.seriesLabel', { calls: d.calls, errors: d.errors })} />
            <Kinds kinds={d.kinds} />
            <h3>{t('activity.tools')}</h3>
            {d.tools.length === 0 ? <p className="empty">{t('activity.empty')}</p> : <ToolTable ns={ns} server={server} tools={d.tools} window={w} />}
            <h3>{t('activity.lastErrors')}</h3>
            <LastErrors errors={d.lastErrors} showTool />
            <h3>{t('activity.agents')}</h3>
            <Agents agents={d.agents} />
          </>
        )}
      </Load>
    </section>
  );
}

/** `/ns/{ns}/activity/{server}/{tool}`: one tool's calls, error kinds, agents and last errors. */
export function ToolActivityPage({ ns, server, tool }: { ns: string; server: string; tool: string }) {
  const { t } = useTranslation();
  const [w, setW] = useWindow();
  const state = useLoad(() => api<ToolView>('GET', `/namespaces/${enc(ns)}/activity/servers/${enc(server)}/tools/${enc(tool)}?window=${w}`), [ns, server, tool, w]);
  useInterval(state.reload, 15_000);
  return (
    <section>
      <p className="crumbs small">
        <Link to={`${path('ns', ns, 'activity')}?window=${w}`}>{t('activity.title')}</Link> › <Link to={`${path('ns', ns, 'activity', server)}?window=${w}`}>{server}</Link>
      </p>
      <Heading title={t('activity.toolTitle', { server, tool })} window={w} setWindow={setW} reload={state.reload} />
      <Load state={state}>
        {(d) => (
          <>
            <Summary f={d} testId="activity-totals" />
            <Bars series={d.series} large label={t('activity.seriesLabel', { calls: d.calls, errors: d.errors })} />
            <Kinds kinds={d.kinds} />
            <h3>{t('activity.lastErrors')}</h3>
            <LastErrors errors={d.lastErrors} showTool={false} />
            <h3>{t('activity.agents')}</h3>
            <Agents agents={d.agents} />
          </>
        )}
      </Load>
    </section>
  );
}
