/**
 * A virtual server's members on its page: which servers of the namespace it gathers, which of
 * their tools (all, a list, a glob), renames, the naming rule and the mode, edited on the draft
 * (sent with its entity-tag), and the tools/list an agent will see, previewed by the registry
 * with the checks of a publish (conflicts, cycles, invalid names: shown with their field).
 */
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, enc, versionChanged } from '../api.js';
import type { McpServer, VersionView } from '../api.js';
import type { VirtualMember, VirtualServerSpec } from '../../../model/virtual.js';
import type { Loaded } from '../ui.js';
import { Badge, DataTable, ErrorBox, Load, SelectField, TextField, useAction, useLoad, useNotify } from '../ui.js';

/** A member as the form edits it (lists and renames as text). */
interface MemberRow {
  server: string;
  tools: string;
  pattern: string;
  prefix: string;
  rename: string;
}

interface Preview {
  tools: { name: string; member: string; tool: string; description: string }[];
  live: string[];
  /** What the gateways report of this virtual server now: members down, not heard from, or with tools left out for a name clash. */
  running?: { gateway: string; member: string; state: 'pending' | 'down' | 'clash'; error?: string }[];
}

function toRow(m: VirtualMember): MemberRow {
  return {
    server: m.server, tools: Array.isArray(m.tools) ? m.tools.join(', ') : '*', pattern: m.pattern ?? '', prefix: m.prefix ?? '',
    rename: Object.entries(m.rename ?? {}).map(([k, v]) => `${k}=${v}`).join(', '),
  };
}

function toMember(r: MemberRow, kept: VirtualMember | undefined): VirtualMember {
  const tools = r.tools.trim() === '' || r.tools.trim() === '*' ? undefined : r.tools.split(',').map((x) => x.trim()).filter(Boolean);
  const rename: Record<string, string> = {};
  for (const pair of r.rename.split(',')) {
    const at = pair.indexOf('=');
    if (at > 0) rename[pair.slice(0, at).trim()] = pair.slice(at + 1).trim();
  }
  return {
    server: r.server.trim(), ...(tools ? { tools } : {}), ...(r.pattern.trim() ? { pattern: r.pattern.trim() } : {}), ...(r.prefix.trim() ? { prefix: r.prefix.trim() } : {}),
    ...(Object.keys(rename).length > 0 ? { rename } : {}), ...(kept?.descriptions ? { descriptions: kept.descriptions } : {}),
  };
}

/** The members panel of a virtual server's page. */
export function VirtualSection({ ns, server, draft, editor, version, onChanged }: {
  ns: string; server: McpServer; draft: string | undefined; editor: boolean; version: Loaded<VersionView | null>; onChanged: () => void;
}) {
  const { t } = useTranslation();
  const notify = useNotify();
  const spec = version.data?.spec.virtual;
  const [rows, setRows] = useState<MemberRow[]>([]);
  const [naming, setNaming] = useState<'prefix' | 'none'>('prefix');
  const [separator, setSeparator] = useState('__');
  const [mode, setMode] = useState<'all' | 'search'>('all');
  useEffect(() => {
    setRows((spec?.members ?? []).map(toRow));
    setNaming(spec?.naming ?? 'prefix');
    setSeparator(spec?.separator ?? '__');
    setMode(spec?.mode ?? 'all');
  }, [spec]);
  const servers = useLoad(() => api<{ items: McpServer[] }>('GET', `/namespaces/${enc(ns)}/mcp-servers?pageSize=100`), [ns]);
  const canEdit = !!draft && editor;
  const virtual = (): VirtualServerSpec => ({
    ...spec, members: rows.map((r, i) => toMember(r, spec?.members[i])), naming, separator: separator.trim() || '__', mode,
  });
  const [preview, setPreview] = useState<Preview>();
  const previewing = useAction(async () => {
    setPreview(await api<Preview>('POST', `/namespaces/${enc(ns)}/virtual-preview`, { name: server.name, virtual: virtual() }));
  });
  const save = useAction(async () => {
    const read = version.data;
    if (!draft || !read) return;
    try {
      const saved = await api<VersionView>('PUT', `/namespaces/${enc(ns)}/mcp-servers/${enc(server.name)}/versions/${enc(draft)}`, { spec: { ...read.spec, virtual: virtual() } }, { ifMatch: read.etag });
      version.setData(saved);
    } catch (e) {
      if (versionChanged(e)) version.reload();
      throw e;
    }
    notify(t('virtual.saved', { version: draft }));
    onChanged();
  });
  const set = (i: number, patch: Partial<MemberRow>) => setRows((rs) => rs.map((r, k) => (k === i ? { ...r, ...patch } : r)));
  const others = (servers.data?.items ?? []).filter((s) => s.name !== server.name);
  return (
    <div className="panel" data-testid="virtual-members">
      <div className="panel-head"><h2>{t('virtual.title')}</h2></div>
      <p className="muted small">{t('virtual.intro')}</p>
      <Load state={version}>
        {() => (
          <>
            <DataTable
              caption={t('virtual.members')}
              columns={[t('virtual.server'), t('virtual.tools'), t('virtual.pattern'), t('virtual.prefix'), t('virtual.rename')]}
              actions={canEdit}
              items={rows}
              empty={t('virtual.none')}
              row={(r: MemberRow, i: number) => (
                <tr key={i}>
                  <td>
                    {canEdit ? (
                      <SelectField label={t('virtual.server')} value={r.server} onChange={(e) => set(i, { server: e.target.value })}>
                        <option value="">—</option>
                        {others.map((s) => <option key={s.name} value={s.name}>{s.name} ({s.protocol})</option>)}
                        {r.server && !others.some((s) => s.name === r.server) && <option value={r.server}>{r.server}</option>}
                      </SelectField>
                    ) : r.server}
                  </td>
                  <td>{canEdit ? <TextField label={t('virtual.tools')} value={r.tools} onChange={(e) => set(i, { tools: e.target.value })} /> : r.tools}</td>
                  <td>{canEdit ? <TextField label={t('virtual.pattern')} value={r.pattern} onChange={(e) => set(i, { pattern: e.target.value })} /> : r.pattern}</td>
                  <td>{canEdit ? <TextField label={t('virtual.prefix')} value={r.prefix} onChange={(e) => set(i, { prefix: e.target.value })} /> : r.prefix}</td>
                  <td>{canEdit ? <TextField label={t('virtual.rename')} value={r.rename} placeholder="tool=new_name" onChange={(e) => set(i, { rename: e.target.value })} /> : r.rename}</td>
                  {canEdit && <td><button type="button" onClick={() => setRows((rs) => rs.filter((_, k) => k !== i))}>{t('virtual.remove', { server: r.server || '—' })}</button></td>}
                </tr>
              )}
            />
            <div className="row">
              <SelectField label={t('virtual.naming')} value={naming} disabled={!canEdit} onChange={(e) => setNaming(e.target.value as 'prefix' | 'none')} hint={t('virtual.namingHint')}>
                <option value="prefix">{t('virtual.namingPrefix')}</option>
                <option value="none">{t('virtual.namingNone')}</option>
              </SelectField>
              <TextField label={t('virtual.separator')} value={separator} disabled={!canEdit} onChange={(e) => setSeparator(e.target.value)} />
              <SelectField label={t('virtual.mode')} value={mode} disabled={!canEdit} onChange={(e) => setMode(e.target.value as 'all' | 'search')} hint={t('virtual.modeHint')}>
                <option value="all">{t('virtual.modeAll')}</option>
                <option value="search">{t('virtual.modeSearch')}</option>
              </SelectField>
            </div>
            <div className="head-actions">
              {canEdit && <button type="button" onClick={() => setRows((rs) => [...rs, { server: '', tools: '*', pattern: '', prefix: '', rename: '' }])}>{t('virtual.add')}</button>}
              <button type="button" disabled={previewing.busy || rows.length === 0} onClick={() => void previewing.run()}>{t('virtual.preview')}</button>
              {canEdit && <button type="button" className="primary" disabled={save.busy} onClick={() => void save.run()}>{save.busy ? t('common.saving') : t('virtual.save')}</button>}
            </div>
            {!canEdit && editor && <p className="muted small">{t('virtual.draftNeeded')}</p>}
            <ErrorBox error={save.error ?? previewing.error} />
            {preview && (
              <>
                <h3>{t('virtual.previewTitle', { count: preview.tools.length })}</h3>
                <DataTable
                  caption={t('virtual.previewTitle', { count: preview.tools.length })}
                  columns={[t('virtual.agentName'), t('virtual.server'), t('virtual.memberTool'), t('tools.description')]}
                  items={preview.tools}
                  testId="virtual-preview"
                  empty={t('virtual.previewEmpty')}
                  row={(p) => <tr key={p.name}><td><code>{p.name}</code></td><td>{p.member}</td><td>{p.tool}</td><td>{p.description}</td></tr>}
                />
                {preview.live.length > 0 && <p className="muted small">{t('virtual.live', { servers: preview.live.join(', ') })}</p>}
                {(preview.running ?? []).map((r) => (
                  <p key={`${r.gateway}:${r.member}:${r.state}`} className="small" data-testid="virtual-running">
                    <Badge kind={r.state === 'down' ? 'bad' : 'warn'}>{t(`gateways.member.${r.state}`)}</Badge>{' '}
                    {t('virtual.running', { member: r.member, gateway: r.gateway })}{r.error ? <span className="muted"> · {r.error}</span> : null}
                  </p>
                ))}
              </>
            )}
          </>
        )}
      </Load>
    </div>
  );
}
