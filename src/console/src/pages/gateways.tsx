import { api } from '../api.js';
import type { GatewayRow } from '../api.js';
import { ago, Badge, DataTable, Load, useInterval, useLoad } from '../ui.js';

export function GatewaysPage() {
  const state = useLoad(() => api<{ registryRevision: number; items: GatewayRow[] }>('GET', '/gateways'), []);
  const { reload } = state;
  useInterval(reload, 5000);
  return (
    <section>
      <div className="page-head">
        <h1>Gateways</h1>
        <button type="button" onClick={reload}>Refresh</button>
      </div>
      <p className="muted">
        The gateway replicas following this registry: the snapshot revision each one serves and what it holds open. A replica reports itself on its watch
        connection and by heartbeat; the one inside <code>mcpgate serve</code> is always listed.
      </p>
      <Load state={state}>
        {(d) => (
          <>
            <p>
              Registry revision <strong data-testid="registry-revision">{d.registryRevision}</strong>
            </p>
            <DataTable
              columns={['Gateway', 'State', 'Snapshot revision', 'Open sessions', 'Open streams', 'Source', 'Last seen']}
              items={d.items}
              empty="No gateway has reported to this registry node yet."
              testId="gateways"
              row={(g) => (
                <tr key={`${g.kind}:${g.id}`}>
                  <td>
                    <strong className="break">{g.id}</strong>
                    <div className="muted small">
                      {g.kind}
                      {g.address ? ` · ${g.address}` : ''}
                      {g.remoteAddress && g.kind === 'remote' ? ` · from ${g.remoteAddress}` : ''}
                      {g.version ? ` · v${g.version}` : ''}
                    </div>
                  </td>
                  <td>
                    <Badge kind={g.state === 'stale' ? 'bad' : 'ok'}>{g.state}</Badge>
                    {g.watchConnections > 0 && <div className="muted small">{g.watchConnections} watch connection(s)</div>}
                  </td>
                  <td>
                    {g.revision}{' '}
                    {g.lag === 0 ? <Badge kind="ok">current</Badge> : <Badge kind="warn">{g.lag} behind</Badge>}
                  </td>
                  <td>{g.sessions ?? '—'}</td>
                  <td>{g.streams ?? '—'}</td>
                  <td className="break">{g.source ?? '—'}</td>
                  <td>{g.kind === 'in-process' ? 'now' : ago(g.lastSeen)}</td>
                </tr>
              )}
            />
          </>
        )}
      </Load>
    </section>
  );
}
