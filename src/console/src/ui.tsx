/** Shared building blocks: data loading, error and loading states, dialogs, fields, tables, paging, notices. */
import { Component, createContext, useCallback, useContext, useEffect, useId, useRef, useState } from 'react';
import type { ErrorInfo, FormEvent, InputHTMLAttributes, KeyboardEvent, ReactNode, SelectHTMLAttributes, TextareaHTMLAttributes } from 'react';
import { useTranslation } from 'react-i18next';
import { ApiError, versionChanged } from './api.js';
import { humanField } from './field-names.js';
import { formatAgo, formatDateTime, formatNumber, i18n } from './i18n.js';
import { parseJsonAt } from './json-text.js';
import { takeHeadingFocus } from './router.js';

// ------------------------------------------------------------ data loading

export interface Loaded<T> {
  data: T | undefined;
  error: Error | undefined;
  loading: boolean;
  reload: () => void;
  setData: (d: T) => void;
}

/** Load data when `deps` change; keeps the previous data while reloading. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): Loaded<T> {
  const [data, setData] = useState<T>();
  const [error, setError] = useState<Error>();
  const [loading, setLoading] = useState(true);
  const [tick, setTick] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;
  useEffect(() => {
    let live = true;
    setLoading(true);
    setError(undefined);
    loadRef.current().then(
      (d) => {
        if (!live) return;
        setData(d);
        setLoading(false);
      },
      (e: unknown) => {
        if (!live) return;
        setError(e instanceof Error ? e : new Error(String(e)));
        setLoading(false);
      },
    );
    return () => {
      live = false;
    };
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { data, error, loading, reload, setData };
}

/** Call `fn` every `ms` milliseconds while mounted (pass a stable function, such as a `reload`). */
export function useInterval(fn: () => void, ms: number): void {
  useEffect(() => {
    const t = setInterval(fn, ms);
    return () => clearInterval(t);
  }, [fn, ms]);
}

/** `value`, once it stopped changing for `ms` (for searching as one types). */
export function useDebounced<T>(value: T, ms = 300): T {
  const [v, setV] = useState(value);
  useEffect(() => {
    const t = setTimeout(() => setV(value), ms);
    return () => clearTimeout(t);
  }, [value, ms]);
  return v;
}

/** Run an action, tracking busy and error state; the error stays until the next run. */
export function useAction<A extends unknown[], R>(fn: (...args: A) => Promise<R>): {
  run: (...args: A) => Promise<R | undefined>;
  busy: boolean;
  error: ApiError | Error | undefined;
  clear: () => void;
} {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Error>();
  const fnRef = useRef(fn);
  fnRef.current = fn;
  const run = useCallback(async (...args: A) => {
    setBusy(true);
    setError(undefined);
    try {
      return await fnRef.current(...args);
    } catch (e) {
      setError(e instanceof Error ? e : new Error(String(e)));
      return undefined;
    } finally {
      setBusy(false);
    }
  }, []);
  return { run, busy, error, clear: () => setError(undefined) };
}

// ------------------------------------------------------------ page heading, title, announcements

const announceListeners = new Set<(text: string) => void>();

/** Say something to screen readers (a polite live region in the shell). */
export function announce(text: string): void {
  for (const l of announceListeners) l(text);
}

/** The shell's live region for page changes and other announcements. */
export function Announcer() {
  const [text, setText] = useState('');
  useEffect(() => {
    const l = (t: string) => {
      setText('');
      // A new text in a fresh tick, so that the same page announced twice is read twice.
      setTimeout(() => setText(t), 50);
    };
    announceListeners.add(l);
    return () => {
      announceListeners.delete(l);
    };
  }, []);
  return <div className="sr-only" role="status" aria-live="polite" aria-atomic="true" data-testid="announcer">{text}</div>;
}

/** Set the tab's title: `<title> · mcpgate`. */
export function usePageTitle(title: string): void {
  useEffect(() => {
    document.title = `${title} · mcpgate`;
  }, [title]);
}

/**
 * A page's `<h1>`: names the tab (`title`, default the text of `children`) and, after an in-app
 * navigation, takes the focus and announces the page.
 */
export function PageHeading({ title, children, className }: { title: string; children?: ReactNode; className?: string }) {
  const ref = useRef<HTMLHeadingElement>(null);
  usePageTitle(title);
  useEffect(() => {
    if (!takeHeadingFocus()) return;
    ref.current?.focus({ preventScroll: true });
    announce(title);
  }, []);
  return (
    <h1 ref={ref} tabIndex={-1} className={className}>
      {children ?? title}
    </h1>
  );
}

// ------------------------------------------------------------ states

export function Spinner({ label }: { label?: string }) {
  const { t } = useTranslation();
  return (
    <div className="loading" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" /> {label ?? t('common.loading')}
    </div>
  );
}

/**
 * An error with its code and, when the API named one, the field by its human name. A draft
 * changed by someone else since it was read (412 VERSION_CHANGED) says so in the language
 * shown, with `onReload` (to read it again) as its action.
 */
export function ErrorBox({ error, onRetry, onReload, title }: { error: Error | undefined; onRetry?: () => void; onReload?: () => void; title?: string }) {
  const { t } = useTranslation();
  if (!error) return null;
  if (versionChanged(error)) {
    return (
      <div className="error-box" role="alert" data-testid="version-changed">
        <strong>{t('errors.versionChanged')}</strong>
        <p className="error-message">{t('errors.versionChangedMessage')}</p>
        <p className="muted small">{error.code} · HTTP {error.status}</p>
        {onReload && (
          <button type="button" onClick={onReload}>
            {t('errors.reload')}
          </button>
        )}
      </div>
    );
  }
  const api = error instanceof ApiError ? error : undefined;
  const heading = title ?? (api?.status === 403 ? t('errors.forbidden') : api?.status === 404 ? t('errors.notFound') : api?.status === 0 ? t('errors.network') : t('errors.generic'));
  return (
    <div className="error-box" role="alert">
      <strong>{heading}</strong>
      {api?.field && <p className="error-field">{humanField(api.field, t)}</p>}
      <p className="error-message">{error.message}</p>
      {api && (
        <p className="muted small">
          {api.code}
          {api.status ? <> · HTTP {api.status}</> : null}
        </p>
      )}
      {onRetry && (
        <button type="button" onClick={onRetry}>
          {t('common.retry')}
        </button>
      )}
    </div>
  );
}

/** Loading, error or content for one loaded resource. */
export function Load<T>({ state, children, label }: { state: Loaded<T>; children: (data: T) => ReactNode; label?: string }) {
  const { t } = useTranslation();
  if (state.error && state.data === undefined) return <ErrorBox error={state.error} onRetry={state.reload} />;
  if (state.data === undefined) return <Spinner label={label} />;
  return (
    <>
      {state.error && <ErrorBox error={state.error} onRetry={state.reload} title={t('errors.refresh')} />}
      {children(state.data)}
    </>
  );
}

/** Catches render errors so that a page never goes blank. */
export class Boundary extends Component<{ children: ReactNode; resetKey?: string }, { error: Error | undefined; key: string | undefined }> {
  override state = { error: undefined as Error | undefined, key: this.props.resetKey };

  static getDerivedStateFromError(error: Error) {
    return { error };
  }

  static getDerivedStateFromProps(props: { resetKey?: string }, state: { error: Error | undefined; key: string | undefined }) {
    return props.resetKey !== state.key ? { error: undefined, key: props.resetKey } : null;
  }

  override componentDidCatch(error: Error, info: ErrorInfo) {
    console.error('console page failed', error, info.componentStack);
  }

  override render() {
    if (this.state.error) {
      return <ErrorBox error={this.state.error} title={i18n.t('errors.render')} onRetry={() => this.setState({ error: undefined })} />;
    }
    return this.props.children;
  }
}

// ------------------------------------------------------------ notices

interface Notice {
  id: number;
  text: string;
  kind: 'ok' | 'error';
}

const NoticeContext = createContext<(text: string, kind?: 'ok' | 'error') => void>(() => undefined);

export function NoticeProvider({ children }: { children: ReactNode }) {
  const [notices, setNotices] = useState<Notice[]>([]);
  const next = useRef(1);
  const notify = useCallback((text: string, kind: 'ok' | 'error' = 'ok') => {
    const id = next.current++;
    setNotices((n) => [...n.slice(-3), { id, text, kind }]);
    setTimeout(() => setNotices((n) => n.filter((x) => x.id !== id)), 5000);
  }, []);
  return (
    <NoticeContext.Provider value={notify}>
      {children}
      <div className="notices" aria-live="polite" role="status">
        {notices.map((n) => (
          <div key={n.id} className={`notice notice-${n.kind}`}>
            {n.text}
          </div>
        ))}
      </div>
    </NoticeContext.Provider>
  );
}

export function useNotify() {
  return useContext(NoticeContext);
}

// ------------------------------------------------------------ dialogs

const FIRST_FIELD = 'input:not([type=hidden]):not([disabled]), select:not([disabled]), textarea:not([disabled])';

/**
 * A modal dialog (native <dialog>: focus stays inside, Esc closes). Once open, the element marked
 * `data-autofocus` takes the focus, else the first field, else the submit button, so that Enter
 * does what the dialog is for. On closing, the focus goes back to what opened it, or (when that
 * is gone) to the page's heading.
 */
export function Dialog({ open, title, onClose, children, wide }: { open: boolean; title: string; onClose: () => void; children: ReactNode; wide?: boolean }) {
  const { t } = useTranslation();
  const ref = useRef<HTMLDialogElement>(null);
  const opener = useRef<Element | null>(null);
  const titleId = useId();
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (open && !d.open) {
      opener.current = document.activeElement;
      d.showModal();
      const target = d.querySelector<HTMLElement>('[data-autofocus]') ?? d.querySelector<HTMLElement>(`.dialog-body ${FIRST_FIELD.split(', ').join(', .dialog-body ')}`)
        ?? d.querySelector<HTMLElement>('.dialog-body button[type=submit]');
      target?.focus();
    }
    if (!open && d.open) d.close();
    if (!open && opener.current) {
      const back = opener.current;
      opener.current = null;
      if (back instanceof HTMLElement && back.isConnected) back.focus();
      else document.querySelector<HTMLElement>('main h1')?.focus();
    }
  }, [open]);
  useEffect(() => () => {
    // Unmounted while open (the page moved on): give the focus back all the same.
    const back = opener.current;
    if (back instanceof HTMLElement && back.isConnected) back.focus();
  }, []);
  return (
    <dialog
      ref={ref}
      className={wide ? 'dialog wide' : 'dialog'}
      aria-labelledby={titleId}
      onCancel={(e) => {
        e.preventDefault();
        onClose();
      }}
    >
      {open && (
        <>
          <header className="dialog-head">
            <h2 id={titleId}>{title}</h2>
            <button type="button" className="icon" aria-label={t('common.close')} onClick={onClose}>
              ×
            </button>
          </header>
          <div className="dialog-body">{children}</div>
        </>
      )}
    </dialog>
  );
}

interface ConfirmProps {
  open: boolean;
  title: string;
  message: ReactNode;
  confirmLabel: string;
  onConfirm: () => Promise<void> | void;
  onClose: () => void;
  danger?: boolean;
  /** Fields or details between the message and the buttons (focus stays on the confirm button). */
  extra?: ReactNode;
  /** When what it changes was changed by someone else meanwhile (412): read it again (and close). */
  onReload?: () => void;
}

/** Ask before something that matters; the confirm button has the focus, so Enter confirms. */
export function Confirm({ open, title, message, confirmLabel, onConfirm, onClose, danger = true, extra, onReload }: ConfirmProps) {
  const { t } = useTranslation();
  const action = useAction(async () => {
    await onConfirm();
  });
  const { clear } = action;
  // Opened again: without the last time's error.
  useEffect(() => {
    if (open) clear();
  }, [open]);
  return (
    <Dialog open={open} title={title} onClose={onClose} wide={extra !== undefined}>
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          await action.run();
        }}
      >
        <div className="confirm-message">{message}</div>
        {extra}
        <ErrorBox error={action.error} onReload={onReload} />
        <div className="actions">
          <button type="button" onClick={onClose}>
            {t('common.cancel')}
          </button>
          <button type="submit" className={danger ? 'danger' : 'primary'} disabled={action.busy} data-autofocus>
            {action.busy ? t('common.working') : confirmLabel}
          </button>
        </div>
      </form>
    </Dialog>
  );
}

/**
 * Ask before something irreversible is done to one item (a row): open while `item` is set. Once
 * `onConfirm` has succeeded it closes through `onClose`, unless `onConfirm` closed it already (or it
 * has moved on to another item meanwhile); when it fails, it stays open with the error.
 */
export function ConfirmItem<T>({
  item, message, onConfirm, onClose, ...rest
}: Omit<ConfirmProps, 'open' | 'message' | 'onConfirm'> & { item: T | undefined; message: (item: T) => ReactNode; onConfirm: (item: T) => Promise<void> | void }) {
  const shown = useRef(item);
  shown.current = item;
  return (
    <Confirm
      {...rest}
      open={item !== undefined}
      message={item !== undefined && message(item)}
      onClose={onClose}
      onConfirm={async () => {
        if (item === undefined) return;
        await onConfirm(item);
        if (shown.current === item) onClose();
      }}
    />
  );
}

// ------------------------------------------------------------ fields

interface FieldProps {
  label: string;
  hint?: ReactNode;
  error?: string | undefined;
}

function describedBy(id: string, hint: unknown, error: unknown): string | undefined {
  const ids = [hint ? `${id}-hint` : '', error ? `${id}-error` : ''].filter(Boolean).join(' ');
  return ids || undefined;
}

export function TextField({ label, hint, error, ...input }: FieldProps & InputHTMLAttributes<HTMLInputElement>) {
  const id = useId();
  return (
    <div className={error ? 'field has-error' : 'field'}>
      <label htmlFor={id}>{label}</label>
      <input id={id} aria-invalid={error ? true : undefined} aria-describedby={describedBy(id, hint, error)} {...input} />
      {hint && <div id={`${id}-hint`} className="hint">{hint}</div>}
      {error && <div id={`${id}-error`} className="field-error">{error}</div>}
    </div>
  );
}

export function SelectField({ label, hint, error, children, ...select }: FieldProps & SelectHTMLAttributes<HTMLSelectElement> & { children: ReactNode }) {
  const id = useId();
  return (
    <div className={error ? 'field has-error' : 'field'}>
      <label htmlFor={id}>{label}</label>
      <select id={id} aria-invalid={error ? true : undefined} aria-describedby={describedBy(id, hint, error)} {...select}>
        {children}
      </select>
      {hint && <div id={`${id}-hint`} className="hint">{hint}</div>}
      {error && <div id={`${id}-error`} className="field-error">{error}</div>}
    </div>
  );
}

export function TextArea({ label, hint, error, ...area }: FieldProps & TextareaHTMLAttributes<HTMLTextAreaElement>) {
  const id = useId();
  return (
    <div className={error ? 'field has-error' : 'field'}>
      <label htmlFor={id}>{label}</label>
      <textarea id={id} spellCheck={false} aria-invalid={error ? true : undefined} aria-describedby={describedBy(id, hint, error)} {...area} />
      {hint && <div id={`${id}-hint`} className="hint">{hint}</div>}
      {error && <div id={`${id}-error`} className="field-error">{error}</div>}
    </div>
  );
}

export function Check({ label, hint, ...input }: { label: string; hint?: ReactNode } & InputHTMLAttributes<HTMLInputElement>) {
  const id = useId();
  return (
    <div className="check">
      <input id={id} type="checkbox" {...input} />
      <label htmlFor={id}>{label}</label>
      {hint && <span className="hint">{hint}</span>}
    </div>
  );
}

/** A form whose Enter submits and whose failure keeps the input (the caller's state is untouched). */
export function Form({ onSubmit, children, className, label }: { onSubmit: () => void | Promise<void>; children: ReactNode; className?: string; label?: string }) {
  return (
    <form
      className={className}
      noValidate
      aria-label={label}
      onSubmit={(e: FormEvent) => {
        e.preventDefault();
        void onSubmit();
      }}
    >
      {children}
    </form>
  );
}

/** For a form's fields: the message of the action's API error when it is about field `k` or a field under it (`k.…`). */
export function fieldErrors(error: Error | undefined): (k: string) => string | undefined {
  const err = error as (Error & { field?: string }) | undefined;
  return (k) => (err?.field === k || err?.field?.startsWith(`${k}.`) ? err.message : undefined);
}

/**
 * The end of a form: the error of its action (unless a field shows it: `fieldShown`), then its
 * buttons: Cancel (with `onCancel`) and the primary submit, disabled while the action runs or
 * when `disabled`, reading `busyLabel` (if any) meanwhile.
 */
export function FormActions({
  action, label, busyLabel, disabled = false, onCancel, errorTitle, fieldShown = false, onReload,
}: {
  action: { busy: boolean; error: Error | undefined };
  /** What the form changes was changed by someone else meanwhile (412): read it again. */
  onReload?: () => void;
  label: string;
  busyLabel?: string;
  disabled?: boolean;
  onCancel?: () => void;
  errorTitle?: string;
  fieldShown?: boolean;
}) {
  const { t } = useTranslation();
  return (
    <>
      {!fieldShown && <ErrorBox error={action.error} title={errorTitle} onReload={onReload} />}
      <div className="actions">
        {onCancel && <button type="button" onClick={onCancel}>{t('common.cancel')}</button>}
        <button type="submit" className="primary" disabled={action.busy || disabled}>
          {action.busy && busyLabel !== undefined ? busyLabel : label}
        </button>
      </div>
    </>
  );
}

/** A button that copies `text`, saying so. */
export function CopyButton({ text, label }: { text: string; label?: string }) {
  const { t } = useTranslation();
  const [copied, setCopied] = useState(false);
  return (
    <button
      type="button"
      onClick={() => {
        void navigator.clipboard?.writeText(text).then(() => {
          setCopied(true);
          announce(t('common.copied'));
          setTimeout(() => setCopied(false), 2000);
        }, () => setCopied(false));
      }}
    >
      {copied ? t('common.copied') : label ?? t('common.copy')}
    </button>
  );
}

/** Tabs with arrow keys, Home and End (WAI-ARIA tabs); `select` moves to a tab. */
export function Tabs<K extends string>({ tabs, selected, select, label, idPrefix }: { tabs: readonly { key: K; label: string }[]; selected: K; select: (k: K) => void; label: string; idPrefix: string }) {
  const refs = useRef<Record<string, HTMLButtonElement | null>>({});
  const onKey = (e: KeyboardEvent<HTMLButtonElement>) => {
    const i = tabs.findIndex((x) => x.key === selected);
    const next = e.key === 'ArrowRight' ? (i + 1) % tabs.length : e.key === 'ArrowLeft' ? (i - 1 + tabs.length) % tabs.length : e.key === 'Home' ? 0 : e.key === 'End' ? tabs.length - 1 : -1;
    if (next < 0) return;
    e.preventDefault();
    const k = tabs[next]!.key;
    select(k);
    refs.current[k]?.focus();
  };
  return (
    <div className="tabs" role="tablist" aria-label={label}>
      {tabs.map((x) => (
        <button
          key={x.key}
          ref={(el) => { refs.current[x.key] = el; }}
          type="button"
          role="tab"
          id={`${idPrefix}-tab-${x.key}`}
          aria-selected={selected === x.key}
          aria-controls={`${idPrefix}-panel-${x.key}`}
          tabIndex={selected === x.key ? 0 : -1}
          onClick={() => select(x.key)}
          onKeyDown={onKey}
        >
          {x.label}
        </button>
      ))}
    </div>
  );
}

// ------------------------------------------------------------ tables and paging

/** The sort of a list: a key and a direction. */
export interface SortState<K extends string> {
  key: K;
  desc: boolean;
}

/** A column header that sorts its table (`aria-sort` says how). */
export function SortHeader<K extends string>({ label, sortKey, sort, onSort }: { label: string; sortKey: K; sort: SortState<K>; onSort: (s: SortState<K>) => void }) {
  const { t } = useTranslation();
  const active = sort.key === sortKey;
  return (
    <button type="button" className="sort" onClick={() => onSort({ key: sortKey, desc: active ? !sort.desc : false })} aria-label={t('common.sortBy', { label })}>
      {label} <span aria-hidden="true">{active ? (sort.desc ? '▼' : '▲') : '↕'}</span>
    </button>
  );
}

/**
 * A table in its scrolling wrapper (`.table-wrap`, focusable so that it scrolls by keyboard): a
 * header row of `columns` and one row an item. With `empty`, a list without items shows that text
 * (`.empty`) instead of a table. A column can sort the list (`sortKey` with `sort`).
 */
export function DataTable<T, K extends string = string>({
  columns, items, row, actions = false, empty, caption, className, testId, footer, sort, onSort,
}: {
  /** The header cells, in order (a column with `sortKey` sorts). */
  columns: readonly (ReactNode | { label: string; sortKey: K })[];
  items: readonly T[];
  /** The `<tr>` of one item, with its key. */
  row: (item: T, index: number) => ReactNode;
  /** A last column of row actions. */
  actions?: boolean;
  empty?: ReactNode;
  /** The table's name (shown to screen readers only). */
  caption: string;
  className?: string;
  testId?: string;
  /** Below the table, inside the wrapper (such as a count). */
  footer?: ReactNode;
  sort?: SortState<K>;
  onSort?: (s: SortState<K>) => void;
}) {
  const { t } = useTranslation();
  const captionId = useId();
  if (empty !== undefined && items.length === 0) return <p className="empty">{empty}</p>;
  return (
    <div className="table-wrap" role="region" aria-labelledby={captionId} tabIndex={0}>
      <table className={className} data-testid={testId}>
        <caption id={captionId} className="sr-only">{caption}</caption>
        <thead>
          <tr>
            {columns.map((c, i) => {
              if (typeof c === 'object' && c !== null && 'sortKey' in c) {
                const active = sort?.key === c.sortKey;
                return (
                  <th key={i} scope="col" aria-sort={active ? (sort?.desc ? 'descending' : 'ascending') : undefined}>
                    {sort && onSort ? <SortHeader label={c.label} sortKey={c.sortKey} sort={sort} onSort={onSort} /> : c.label}
                  </th>
                );
              }
              return <th key={i} scope="col">{c as ReactNode}</th>;
            })}
            {actions && <th scope="col"><span className="sr-only">{t('common.actions')}</span></th>}
          </tr>
        </thead>
        <tbody>{items.map((item, i) => row(item, i))}</tbody>
      </table>
      {footer}
    </div>
  );
}

/** Page controls of a paged list: previous, next, where we are, page size. */
export function Pager({ total, pageNo, pageSize, onPage, onPageSize }: { total: number; pageNo: number; pageSize: number; onPage: (n: number) => void; onPageSize?: (n: number) => void }) {
  const { t } = useTranslation();
  const pages = Math.max(1, Math.ceil(total / pageSize));
  const from = total === 0 ? 0 : (pageNo - 1) * pageSize + 1;
  const to = Math.min(total, pageNo * pageSize);
  return (
    <nav className="pager" aria-label={t('pager.label')}>
      <span className="muted small" data-testid="pager-range">{t('pager.range', { from: formatNumber(from), to: formatNumber(to), total: formatNumber(total) })}</span>
      <button type="button" disabled={pageNo <= 1} onClick={() => onPage(pageNo - 1)}>{t('pager.previous')}</button>
      <span className="small">{t('pager.page', { n: formatNumber(pageNo), of: formatNumber(pages) })}</span>
      <button type="button" disabled={pageNo >= pages} onClick={() => onPage(pageNo + 1)}>{t('pager.next')}</button>
      {onPageSize && (
        <label className="small pager-size">
          {t('pager.size')}{' '}
          <select value={pageSize} onChange={(e) => onPageSize(Number(e.target.value))}>
            {[20, 50, 100].map((n) => <option key={n} value={n}>{n}</option>)}
          </select>
        </label>
      )}
    </nav>
  );
}

/** A long text cut to two lines, with a button to show all of it. */
export function Expandable({ text, empty }: { text: string; empty?: ReactNode }) {
  const { t } = useTranslation();
  const [open, setOpen] = useState(false);
  if (!text) return <>{empty}</>;
  const long = text.length > 140 || text.includes('\n');
  return (
    <div className="expandable">
      <div className={open ? 'expand-text' : 'expand-text clamp'}>{text}</div>
      {long && (
        <button type="button" className="link small" aria-expanded={open} onClick={() => setOpen((o) => !o)}>
          {open ? t('common.less') : t('common.more')}
        </button>
      )}
    </div>
  );
}

// ------------------------------------------------------------ formatting

export function ago(ms: number | null | undefined): string {
  return formatAgo(ms);
}

export function when(ms: number | null | undefined): string {
  return formatDateTime(ms);
}

/** Warnings of a spec (accepted as Higress accepts it though not as written): each with its file, tool and field. */
export function WarningList({ title, warnings, testId }: { title: string; warnings: readonly { field: string; tool?: string; message: string; file?: string }[]; testId?: string }) {
  return (
    <div className="notice-inline" role="status" data-testid={testId}>
      <strong>{title}</strong>
      <ul className="problem-list">
        {warnings.map((w, i) => (
          <li key={i}>
            <span className="error-field">{[w.file, w.tool, w.field].filter(Boolean).join(' · ')}</span>: {w.message}
          </li>
        ))}
      </ul>
    </div>
  );
}

export function Badge({ kind, children }: { kind: 'ok' | 'warn' | 'bad' | 'info' | 'muted'; children: ReactNode }) {
  return <span className={`badge badge-${kind}`}>{children}</span>;
}

/** Parse JSON text; answers the value or the problem with its line and column. */
export function parseJson(text: string): { ok: true; value: unknown } | { ok: false; message: string; line?: number; column?: number } {
  const p = parseJsonAt(text);
  if (p.ok || p.line === undefined) return p.ok ? p : { ok: false, message: p.message };
  return { ok: false, message: i18n.t('json.at', { line: p.line, column: p.column, detail: p.detail }), line: p.line, column: p.column };
}

export function pretty(v: unknown): string {
  return JSON.stringify(v, null, 2);
}
