import { useState } from 'react';
import { Trans, useTranslation } from 'react-i18next';
import { api, enc } from '../api.js';
import type { Namespace } from '../api.js';
import { Link, navigate, path } from '../router.js';
import { useSession } from '../session.js';
import { ConfirmItem, DataTable, Dialog, fieldErrors, Form, FormActions, Load, PageHeading, TextField, useAction, useLoad, useNotify, when } from '../ui.js';

export function NamespacesPage() {
  const { t } = useTranslation();
  const session = useSession();
  const notify = useNotify();
  const state = useLoad(() => api<{ items: Namespace[] }>('GET', '/namespaces'), []);
  const [creating, setCreating] = useState(false);
  const [editing, setEditing] = useState<Namespace>();
  const [deleting, setDeleting] = useState<Namespace>();
  const refresh = async () => {
    state.reload();
    await session.reloadNamespaces();
  };
  return (
    <section>
      <div className="page-head">
        <PageHeading title={t('namespaces.title')} />
        {session.me.globalAdmin && (
          <button type="button" className="primary" onClick={() => setCreating(true)}>
            {t('namespaces.new')}
          </button>
        )}
      </div>
      <p className="muted">{t('namespaces.intro')}</p>
      <Load state={state}>
        {(d) => (
          <DataTable
            caption={t('namespaces.title')}
            columns={[t('namespaces.id'), t('namespaces.name'), t('namespaces.description'), t('common.created')]}
            actions
            items={d.items}
            row={(n) => (
              <tr key={n.id}>
                <td>
                  <Link to={path('ns', n.id, 'servers')}>{n.id}</Link>
                </td>
                <td>{n.name}</td>
                <td className="clamp-cell">{n.description}</td>
                <td>{when(n.createdAt)}</td>
                <td className="row-actions">
                  {session.can(n.id, 'admin') && (
                    <button type="button" onClick={() => setEditing(n)} aria-label={t('namespaces.editOne', { id: n.id })}>
                      {t('common.edit')}
                    </button>
                  )}
                  {session.me.globalAdmin && n.id !== 'public' && (
                    <button type="button" className="danger-outline" onClick={() => setDeleting(n)} aria-label={t('namespaces.deleteOne', { id: n.id })}>
                      {t('common.delete')}
                    </button>
                  )}
                </td>
              </tr>
            )}
          />
        )}
      </Load>
      {creating && <NamespaceDialog onClose={() => setCreating(false)} onSaved={refresh} />}
      {editing && <NamespaceDialog existing={editing} onClose={() => setEditing(undefined)} onSaved={refresh} />}
      <ConfirmItem
        item={deleting}
        title={t('namespaces.deleteTitle')}
        message={(n) => <p><Trans i18nKey="namespaces.deleteMessage" values={{ id: n.id }} components={{ strong: <strong /> }} /></p>}
        confirmLabel={t('namespaces.deleteConfirm')}
        onClose={() => setDeleting(undefined)}
        onConfirm={async (n) => {
          await api('DELETE', `/namespaces/${enc(n.id)}`);
          notify(t('namespaces.deleted', { id: n.id }));
          setDeleting(undefined); // close before the lists reload
          await refresh();
        }}
      />
    </section>
  );
}

function NamespaceDialog({ existing, onClose, onSaved }: { existing?: Namespace; onClose: () => void; onSaved: () => Promise<void> }) {
  const { t } = useTranslation();
  const notify = useNotify();
  const [id, setId] = useState(existing?.id ?? '');
  const [name, setName] = useState(existing?.name ?? '');
  const [description, setDescription] = useState(existing?.description ?? '');
  const save = useAction(async () => {
    if (existing) {
      await api('PUT', `/namespaces/${enc(existing.id)}`, { name, description });
      notify(t('namespaces.saved', { id: existing.id }));
    } else {
      await api('POST', '/namespaces', { id: id.trim(), ...(name.trim() ? { name: name.trim() } : {}), description });
      notify(t('namespaces.created', { id }));
    }
    await onSaved();
    onClose();
    if (!existing) navigate(path('ns', id.trim(), 'services'));
  });
  const fe = fieldErrors(save.error);
  return (
    <Dialog open title={existing ? t('namespaces.editTitle', { id: existing.id }) : t('namespaces.new')} onClose={onClose}>
      <Form onSubmit={() => save.run()}>
        {!existing && <TextField label={t('namespaces.idLabel')} required value={id} onChange={(e) => setId(e.target.value)} error={fe('id')} hint={t('namespaces.idHint')} />}
        <TextField label={t('namespaces.displayName')} value={name} onChange={(e) => setName(e.target.value)} error={fe('name')} />
        <TextField label={t('namespaces.description')} value={description} onChange={(e) => setDescription(e.target.value)} />
        <FormActions action={save} label={existing ? t('common.save') : t('namespaces.create')} busyLabel={t('common.saving')} disabled={!existing && !id.trim()} onCancel={onClose} fieldShown={!!fe('id') || !!fe('name')} />
      </Form>
    </Dialog>
  );
}
