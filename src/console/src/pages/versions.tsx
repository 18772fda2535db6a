import { useState } from 'react';
import { Trans, useTranslation } from 'react-i18next';
import { api, enc } from '../api.js';
import type { PublishEntry, PublishHistory, VersionSummary } from '../api.js';
import { Link, path } from '../router.js';
import { useSession } from '../session.js';
import type { Loaded } from '../ui.js';
import { ago, Badge, Confirm, DataTable, Load, PageHeading, SelectField, useNotify, when } from '../ui.js';
import { PublishDialog, VersionDiff } from './publish.js';
import { NewDraftDialog, RollbackDialog, useServerWithHistory, workingDraft } from './server-detail.js';

function statusKind(s: VersionSummary['status']) {
  return s === 'published' ? 'info' : s === 'draft' ? 'warn' : 'muted';
}

export function VersionsPage({ ns, name }: { ns: string; name: string }) {
  const { t } = useTranslation();
  const { can } = useSession();
  const notify = useNotify();
  const { base, state, history } = useServerWithHistory(ns, name);
  const editor = can(ns, 'editor');
  const [publishing, setPublishing] = useState<string>();
  const [rollingBack, setRollingBack] = useState(false);
  const [deleting, setDeleting] = useState<string>();
  const [draftFrom, setDraftFrom] = useState<string>();

  return (
    <section>
      <nav className="crumbs" aria-label={t('common.breadcrumbs')}>
        <Link to={path('ns', ns, 'servers')}>{t('servers.title')}</Link> / <Link to={path('ns', ns, 'servers', name)}>{name}</Link>
      </nav>
      <div className="page-head">
        <PageHeading title={t('versions.title', { name })} />
        {editor && state.data?.rollbackTarget && (
          <div className="head-actions">
            <button type="button" onClick={() => setRollingBack(true)}>
              {t('rollback.button', { version: state.data.rollbackTarget })}
            </button>
          </div>
        )}
      </div>
      <Load state={state}>
        {(s) => {
          const versions = [...s.versions].sort((a, b) => b.createdAt - a.createdAt);
          const draft = workingDraft(s.versions, s.latestVersion);
          return (
            <>
              <p className="muted">
                {s.publishedVersion ? <Trans i18nKey="versions.served" values={{ version: s.publishedVersion }} components={{ strong: <strong /> }} /> : t('versions.nothingServed')}{' '}
                {t('versions.immutable')}
                {!s.rollbackTarget && s.publishedVersion && ` ${t('rollback.none')}`}
              </p>
              <DataTable
                caption={t('versions.table')}
                columns={[t('versions.version'), t('versions.status'), t('versions.tools'), t('common.created'), t('versions.firstPublished')]}
                actions={editor}
                items={versions}
                row={(v) => (
                  <tr key={v.version}>
                    <td><strong>{v.version}</strong></td>
                    <td><Badge kind={statusKind(v.status)}>{t(`versions.statuses.${v.status}`)}</Badge></td>
                    <td>{v.toolCount}</td>
                    <td>{when(v.createdAt)}</td>
                    <td>{when(v.publishedAt)}</td>
                    {editor && (
                      <td className="row-actions">
                        {v.status === 'draft' && (
                          <button type="button" className="primary" onClick={() => setPublishing(v.version)}>
                            {t('publish.button', { version: v.version })}
                          </button>
                        )}
                        <button type="button" onClick={() => setDraftFrom(v.version)}>
                          {t('versions.draftFrom', { version: v.version })}
                        </button>
                        {v.status !== 'published' && (
                          <button type="button" className="danger-outline" onClick={() => setDeleting(v.version)} aria-label={t('versions.deleteOne', { version: v.version })}>
                            {t('common.delete')}
                          </button>
                        )}
                      </td>
                    )}
                  </tr>
                )}
              />
              <DiffPanel base={base} versions={versions} published={s.publishedVersion} draft={draft?.version} earlier={earlierRevisions(history.data?.items ?? [], versions)} />
              <HistoryPanel history={history} />
              {draftFrom && <NewDraftDialog key={draftFrom} ns={ns} server={s} from={draftFrom} open onClose={() => setDraftFrom(undefined)} onCreated={state.reload} />}
              {publishing && (
                <PublishDialog
                  base={base} server={s} version={publishing} etag={s.versions.find((v) => v.version === publishing)?.etag} open
                  onClose={() => setPublishing(undefined)} onDone={(v) => state.setData(v)}
                  onReload={() => {
                    setPublishing(undefined);
                    state.reload();
                  }}
                />
              )}
              {s.rollbackTarget && <RollbackDialog ns={ns} server={s} target={s.rollbackTarget} open={rollingBack} onClose={() => setRollingBack(false)} onDone={(v) => state.setData(v)} />}
            </>
          );
        }}
      </Load>
      <Confirm
        open={deleting !== undefined}
        title={t('versions.deleteTitle')}
        message={<p><Trans i18nKey="versions.deleteMessage" values={{ version: deleting }} components={{ strong: <strong /> }} /></p>}
        confirmLabel={t('common.delete')}
        onClose={() => setDeleting(undefined)}
        onReload={() => {
          setDeleting(undefined);
          state.reload();
        }}
        onConfirm={async () => {
          // The version as this page read it: if someone else changed it since, nothing is deleted (412).
          const etag = state.data?.versions.find((v) => v.version === deleting)?.etag;
          await api('DELETE', `${base}/versions/${enc(deleting ?? '')}`, undefined, etag === undefined ? {} : { ifMatch: etag });
          notify(t('versions.deleted', { version: deleting }));
          setDeleting(undefined);
          state.reload();
        }}
      />
    </section>
  );
}

/** The publish history: who published which version, when, from which, and why. */
function HistoryPanel({ history }: { history: Loaded<PublishHistory> }) {
  const { t } = useTranslation();
  return (
    <div className="panel">
      <h2>{t('history.title')}</h2>
      <Load state={history}>
        {(h) => (
          <DataTable
            caption={t('history.title')}
            columns={[t('history.when'), t('history.action'), t('history.version'), t('history.from'), t('history.who'), t('history.note')]}
            items={h.items}
            testId="history"
            empty={t('history.none')}
            row={(e) => (
              <tr key={e.seq}>
                <td title={when(e.at)}>{when(e.at)} <span className="muted small">({ago(e.at)})</span></td>
                <td><Badge kind={e.action === 'rollback' ? 'warn' : 'info'}>{t(`history.actions.${e.action}`)}</Badge></td>
                <td><strong>{e.version}</strong>{e.revision !== undefined && e.revision > 1 && <span className="muted small"> · {t('history.revision', { revision: e.revision })}</span>}</td>
                <td>{e.previousVersion ?? '—'}{e.previousRevision !== undefined && e.previousRevision > 1 && <span className="muted small"> · {t('history.revision', { revision: e.previousRevision })}</span>}</td>
                <td>{e.actor}</td>
                <td className="clamp-cell">{e.note || <span className="muted">—</span>}</td>
              </tr>
            )}
          />
        )}
      </Load>
    </div>
  );
}

/**
 * The earlier contents of versions overwritten the Nacos way, as the diff names them
 * (`version@revision`), from the publish history: every content that was served.
 */
function earlierRevisions(items: readonly PublishEntry[], versions: readonly VersionSummary[]): string[] {
  const current = new Map(versions.map((v) => [v.version, v.revision ?? 1]));
  const refs = new Set<string>();
  for (const e of items) {
    for (const [version, revision] of [[e.version, e.revision ?? 1], [e.previousVersion, e.previousRevision ?? 1]] as const) {
      if (version !== null && current.has(version) && current.get(version) !== revision) refs.add(`${version}@${revision}`);
    }
  }
  return [...refs].sort();
}

/** Two versions compared, shown at once: by default what publishing the draft would change (else the last change). */
function DiffPanel({ base, versions, published, draft, earlier }: { base: string; versions: VersionSummary[]; published: string | null; draft: string | undefined; earlier: string[] }) {
  const { t } = useTranslation();
  const newest = versions[0]?.version ?? '';
  const defaultTo = draft ?? published ?? newest;
  const defaultFrom = draft && published ? published : versions.find((v) => v.version !== defaultTo && v.publishedAt !== null)?.version ?? versions.find((v) => v.version !== defaultTo)?.version ?? '';
  const [from, setFrom] = useState(defaultFrom);
  const [to, setTo] = useState(defaultTo);
  if (versions.length + earlier.length < 2) return null;
  return (
    <div className="panel">
      <h2>{t('diff.title')}</h2>
      <div className="toolbar">
        <SelectField label={t('diff.from')} value={from} onChange={(e) => setFrom(e.target.value)}>
          {versions.map((v) => <option key={v.version} value={v.version}>{v.version} ({t(`versions.statuses.${v.status}`)})</option>)}
          {earlier.map((ref) => <option key={ref} value={ref}>{ref}</option>)}
        </SelectField>
        <SelectField label={t('diff.to')} value={to} onChange={(e) => setTo(e.target.value)}>
          {versions.map((v) => <option key={v.version} value={v.version}>{v.version} ({t(`versions.statuses.${v.status}`)})</option>)}
          {earlier.map((ref) => <option key={ref} value={ref}>{ref}</option>)}
        </SelectField>
      </div>
      {from && to && <VersionDiff base={base} from={from} to={to} />}
    </div>
  );
}
