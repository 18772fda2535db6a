/** What a publish changes, and publishing: the diff of two versions (by tool, words marked) and the publish dialog. */
import { useState } from 'react';
import { Trans, useTranslation } from 'react-i18next';
import { api, enc } from '../api.js';
import type { ServerView, SpecChange } from '../api.js';
import { humanField } from '../field-names.js';
import { groupChanges, placeInTool, wordDiff } from '../spec-diff.js';
import { Badge, Confirm, Load, TextField, useLoad, useNotify } from '../ui.js';

/** The marked-up words of one change. */
function Words({ change }: { change: SpecChange }) {
  const parts = wordDiff(change.from, change.to);
  return (
    <pre className="word-diff" tabIndex={0}>
      {parts.map((p, i) => (p.kind === 'same' ? <span key={i}>{p.text}</span> : p.kind === 'added' ? <ins key={i}>{p.text}</ins> : <del key={i}>{p.text}</del>))}
    </pre>
  );
}

/** Changes grouped by tool, with human place names and the changed words marked. */
export function ChangeList({ changes, from, to }: { changes: SpecChange[]; from: string; to: string }) {
  const { t } = useTranslation();
  const groups = groupChanges(changes);
  if (groups.length === 0) return <p className="empty" data-testid="diff">{t('diff.same', { from, to })}</p>;
  return (
    <div className="diff-groups" data-testid="diff">
      <p className="sr-only">{t('diff.legend')}</p>
      {groups.map((g) => (
        <section key={g.tool ?? ''} className="diff-group" aria-label={g.tool ? t('fields.tool', { name: g.tool }) : t('diff.version')}>
          <h3>
            {g.tool ? <>{t('diff.tool')} <code>{g.tool}</code></> : t('diff.version')}{' '}
            {g.whole && <Badge kind={g.whole === 'added' ? 'ok' : 'bad'}>{t(`diff.kind.${g.whole}`)}</Badge>}
          </h3>
          {!g.whole && (
            <ul className="diff-changes">
              {g.changes.map((c) => (
                <li key={c.path}>
                  <div className="diff-place">
                    <span>{g.tool ? humanField(`tools[${g.tool}].${placeInTool(c)}`, t).split(' › ').slice(1).join(' › ') || placeInTool(c) : humanField(c.path, t)}</span>{' '}
                    <Badge kind={c.kind === 'added' ? 'ok' : c.kind === 'removed' ? 'bad' : 'warn'}>{t(`diff.kind.${c.kind}`)}</Badge>
                  </div>
                  <Words change={c} />
                </li>
              ))}
            </ul>
          )}
        </section>
      ))}
    </div>
  );
}

/** The diff of two versions of a server, loaded as soon as both are known. */
export function VersionDiff({ base, from, to }: { base: string; from: string; to: string }) {
  const state = useLoad(() => api<{ changes: SpecChange[] }>('GET', `${base}/diff?from=${enc(from)}&to=${enc(to)}`), [base, from, to]);
  return <Load state={state}>{(d) => <ChangeList changes={d.changes} from={from} to={to} />}</Load>;
}

/**
 * Publish `version` of a server: the confirm box says what changes for agents (the diff from the
 * version served now), with an optional note for the publish history. The confirm button has
 * the focus: Enter publishes. It publishes the version as last read (`etag`, sent as If-Match):
 * if someone else changed it since, nothing is published and `onReload` is offered.
 */
export function PublishDialog({ base, server, version, etag, open, onClose, onDone, onReload }: {
  base: string; server: ServerView; version: string; etag: string | undefined; open: boolean; onClose: () => void; onDone: (s: ServerView) => void; onReload: () => void;
}) {
  const { t } = useTranslation();
  const notify = useNotify();
  const [note, setNote] = useState('');
  const current = server.publishedVersion;
  return (
    <Confirm
      open={open}
      danger={false}
      title={t('publish.title', { version })}
      message={
        <>
          <p>
            {current ? <Trans i18nKey="publish.replaces" values={{ version, current }} components={{ strong: <strong /> }} /> : <Trans i18nKey="publish.first" values={{ version }} components={{ strong: <strong /> }} />}
          </p>
          {open && current && current !== version && (
            <>
              <h3 className="publish-summary">{t('publish.summary', { from: current, to: version })}</h3>
              <VersionDiff base={base} from={current} to={version} />
            </>
          )}
        </>
      }
      extra={<TextField label={t('publish.note')} value={note} onChange={(e) => setNote(e.target.value)} hint={t('publish.noteHint')} />}
      confirmLabel={t('publish.button', { version })}
      onClose={onClose}
      onReload={onReload}
      onConfirm={async () => {
        const s = await api<ServerView>('POST', `${base}/versions/${enc(version)}/publish`, note.trim() ? { note: note.trim() } : {}, etag === undefined ? {} : { ifMatch: etag });
        notify(t('publish.done', { version }));
        setNote('');
        onClose();
        onDone(s);
      }}
    />
  );
}

