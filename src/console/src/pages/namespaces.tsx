import { useState } from 'react';
import { api, enc } from '../api.js';
import type { Namespace } from '../api.js';
import { useSession } from '../app.js';
import { Link, navigate, path } from '../router.js';
import { ConfirmItem, DataTable, Dialog, Form, FormActions, Load, TextField, useAction, useLoad, useNotify, when } from '../ui.js';

export function NamespacesPage() {
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
        <h1>Namespaces</h1>
        {session.me.globalAdmin && (
          <button type="button" className="primary" onClick={() => setCreating(true)}>
            New namespace
          </button>
        )}
      </div>
      <p className="muted">Tenants: nothing crosses a namespace. You see the namespaces you hold a role in.</p>
      <Load state={state}>
        {(d) => (
          <DataTable
            columns={['Id', 'Name', 'Description', 'Created']}
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
                    <button type="button" onClick={() => setEditing(n)}>
                      Edit
                    </button>
                  )}
                  {session.me.globalAdmin && n.id !== 'public' && (
                    <button type="button" className="danger-outline" onClick={() => setDeleting(n)}>
                      Delete
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
        title="Delete namespace"
        message={(n) => <p>Delete the namespace <strong>{n.id}</strong>? Only an empty namespace (no service, no MCP server) can be deleted.</p>}
        confirmLabel="Delete namespace"
        onClose={() => setDeleting(undefined)}
        onConfirm={async (n) => {
          await api('DELETE', `/namespaces/${enc(n.id)}`);
          notify(`Namespace ${n.id} deleted`);
          setDeleting(undefined); // close before the lists reload
          await refresh();
        }}
      />
    </section>
  );
}

function NamespaceDialog({ existing, onClose, onSaved }: { existing?: Namespace; onClose: () => void; onSaved: () => Promise<void> }) {
  const notify = useNotify();
  const [id, setId] = useState(existing?.id ?? '');
  const [name, setName] = useState(existing?.name ?? '');
  const [description, setDescription] = useState(existing?.description ?? '');
  const save = useAction(async () => {
    if (existing) {
      await api('PUT', `/namespaces/${enc(existing.id)}`, { name, description });
      notify(`Namespace ${existing.id} saved`);
    } else {
      await api('POST', '/namespaces', { id: id.trim(), ...(name.trim() ? { name: name.trim() } : {}), description });
      notify(`Namespace ${id} created`);
    }
    await onSaved();
    onClose();
    if (!existing) navigate(path('ns', id.trim(), 'services'));
  });
  const err = save.error as { field?: string; message: string } | undefined;
  return (
    <Dialog open title={existing ? `Edit namespace ${existing.id}` : 'New namespace'} onClose={onClose}>
      <Form onSubmit={() => save.run()}>
        {!existing && <TextField label="Namespace id" required autoFocus value={id} onChange={(e) => setId(e.target.value)} error={err?.field === 'id' ? err.message : undefined} hint="Part of the agents' URLs: /mcp/<namespace>/<server>" />}
        <TextField label="Display name" autoFocus={!!existing} value={name} onChange={(e) => setName(e.target.value)} />
        <TextField label="Description" value={description} onChange={(e) => setDescription(e.target.value)} />
        <FormActions action={save} label={existing ? 'Save' : 'Create namespace'} busyLabel="Saving…" disabled={!existing && !id.trim()} onCancel={onClose} />
      </Form>
    </Dialog>
  );
}
