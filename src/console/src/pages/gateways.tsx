import { useTranslation } from 'react-i18next';
import { api } from '../api.js';
import type { GatewayRow } from '../api.js';
import { formatNumber } from '../i18n.js';
import { ago, Badge, DataTable, Load, PageHeading, useInterval, useLoad } from '../ui.js';

export function GatewaysPage() {
  const { t } = useTranslation();
  const state = useLoad(() => api<{ registryRevision: number; items: GatewayRow[] }>('GET', '/gateways'), []);
  const { reload } = state;
  useInterval(reload, 5000);
  return (
    <section>
      <div className="page-head">
        <PageHeading title={t('gateways.title')} />
        <button type="button" onClick={reload}>{t('common.refresh')}</button>
      </div>
      <p className="muted">{t('gateways.intro')}</p>
      <Load state={state}>
        {(d) => (
          <>
            <p>
              {t('gateways.registryRevision')} <strong data-testid="registry-revision">{d.registryRevision}</strong>
            </p>
            <DataTable
              caption={t('gateways.title')}
              columns={[t('gateways.gateway'), t('gateways.state'), t('gateways.revision'), t('gateways.sessions'), t('gateways.streams'), t('gateways.source'), t('gateways.lastSeen')]}
              items={d.items}
              empty={t('gateways.empty')}
              testId="gateways"
              row={(g) => (
                <tr key={`${g.kind}:${g.id}`}>
                  <td>
                    <strong className="break">{g.id}</strong>
                    <div className="muted small">
                      {t(`gateways.kind.${g.kind}`)}
                      {g.address ? ` · ${g.address}` : ''}
                      {g.remoteAddress && g.kind === 'remote' ? ` · ${t('gateways.from', { address: g.remoteAddress })}` : ''}
                      {g.version ? ` · v${g.version}` : ''}
                    </div>
                  </td>
                  <td>
                    <Badge kind={g.state === 'stale' ? 'bad' : 'ok'}>{t(`gateways.states.${g.state}`)}</Badge>
                    <div className="muted small" data-testid="gateway-node">{t('gateways.via', { node: g.nodeAddress ?? g.node })}</div>
                    {g.watchConnections > 0 && <div className="muted small">{t('gateways.watchConnections', { count: g.watchConnections })}</div>}
                    {(g.virtualMembers ?? []).map((m) => (
                      <div key={`${m.server}:${m.member}:${m.state}`} className="small" data-testid="virtual-member-down">
                        <Badge kind={m.state === 'down' ? 'bad' : 'warn'}>{t(`gateways.member.${m.state}`)}</Badge>{' '}
                        {t('gateways.memberOf', { member: m.member, server: m.server })}{m.error ? <span className="muted"> · {m.error}</span> : null}
                      </div>
                    ))}
                  </td>
                  <td>
                    {g.revision}{' '}
                    {g.lag === 0 ? <Badge kind="ok">{t('gateways.current')}</Badge> : <Badge kind="warn">{t('gateways.behind', { count: g.lag })}</Badge>}
                  </td>
                  <td>{g.sessions !== undefined ? formatNumber(g.sessions) : '—'}</td>
                  <td>{g.streams !== undefined ? formatNumber(g.streams) : '—'}</td>
                  <td className="break">{g.source ?? '—'}</td>
                  <td>{g.kind === 'in-process' ? t('gateways.now') : ago(g.lastSeen)}</td>
                </tr>
              )}
            />
          </>
        )}
      </Load>
    </section>
  );
}
