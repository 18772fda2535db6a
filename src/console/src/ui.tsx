/** Shared building blocks: data loading, error and loading states, dialogs, fields, notices. */
import { Component, createContext, useCallback, useContext, useEffect, useId, useRef, useState } from 'react';
import type { ErrorInfo, FormEvent, InputHTMLAttributes, ReactNode, SelectHTMLAttributes, TextareaHTMLAttributes } from 'react';
import { ApiError } from './api.js';
import { parseJsonAt } from './json-text.js';

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

// ------------------------------------------------------------ states

export function Spinner({ label = 'Loading…' }: { label?: string }) {
  return (
    <div className="loading" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" /> {label}
    </div>
  );
}

/** An error with its code and, when the API named one, the field. */
export function ErrorBox({ error, onRetry, title }: { error: Error | undefined; onRetry?: () => void; title?: string }) {
  if (!error) return null;
  const api = error instanceof ApiError ? error : undefined;
  return (
    <div className="error-box" role="alert">
      <strong>{title ?? (api?.status === 403 ? 'Not allowed' : api?.status === 404 ? 'Not found' : 'Something went wrong')}</strong>
      <p className="error-message">{error.message}</p>
      {api && (
        <p className="muted small">
          {api.code}
          {api.field ? <> · field <code>{api.field}</code></> : null}
          {api.status ? <> · HTTP {api.status}</> : null}
        </p>
      )}
      {onRetry && (
        <button type="button" onClick={onRetry}>
          Try again
        </button>
      )}
    </div>
  );
}

/** Loading, error or content for one loaded resource. */
export function Load<T>({ state, children, label }: { state: Loaded<T>; children: (data: T) => ReactNode; label?: string }) {
  if (state.error && state.data === undefined) return <ErrorBox error={state.error} onRetry={state.reload} />;
  if (state.data === undefined) return <Spinner label={label} />;
  return (
    <>
      {state.error && <ErrorBox error={state.error} onRetry={state.reload} title="Could not refresh" />}
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
      return (
        <ErrorBox error={this.state.error} title="This page failed to render" onRetry={() => this.setState({ error: undefined })} />
      );
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

/** A modal dialog (native <dialog>: focus stays inside, Esc closes). */
export function Dialog({ open, title, onClose, children, wide }: { open: boolean; title: string; onClose: () => void; children: ReactNode; wide?: boolean }) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (open && !d.open) d.showModal();
    if (!open && d.open) d.close();
  }, [open]);
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
            <button type="button" className="icon" aria-label="Close" onClick={onClose}>
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
}

/** Ask before something irreversible. */
export function Confirm({ open, title, message, confirmLabel, onConfirm, onClose, danger = true }: ConfirmProps) {
  const action = useAction(async () => {
    await onConfirm();
  });
  return (
    <Dialog open={open} title={title} onClose={onClose}>
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          await action.run();
        }}
      >
        <div className="confirm-message">{message}</div>
        <ErrorBox error={action.error} />
        <div className="actions">
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className={danger ? 'danger' : 'primary'} disabled={action.busy} autoFocus>
            {action.busy ? 'Working…' : confirmLabel}
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
export function Form({ onSubmit, children, className }: { onSubmit: () => void | Promise<void>; children: ReactNode; className?: string }) {
  return (
    <form
      className={className}
      noValidate
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
 * The end of a form: the error of its action, then its buttons: Cancel (with `onCancel`) and the
 * primary submit, disabled while the action runs or when `disabled`, reading `busyLabel` (if any) meanwhile.
 */
export function FormActions({
  action, label, busyLabel, disabled = false, onCancel, errorTitle,
}: {
  action: { busy: boolean; error: Error | undefined };
  label: string;
  busyLabel?: string;
  disabled?: boolean;
  onCancel?: () => void;
  errorTitle?: string;
}) {
  return (
    <>
      <ErrorBox error={action.error} title={errorTitle} />
      <div className="actions">
        {onCancel && <button type="button" onClick={onCancel}>Cancel</button>}
        <button type="submit" className="primary" disabled={action.busy || disabled}>
          {action.busy && busyLabel !== undefined ? busyLabel : label}
        </button>
      </div>
    </>
  );
}

// ------------------------------------------------------------ tables

/**
 * A table in its scrolling wrapper (`.table-wrap`): a header row of `columns` and one row an item.
 * With `empty`, a list without items shows that text (`.empty`) instead of a table.
 */
export function DataTable<T>({
  columns, items, row, actions = false, empty, caption, className, testId, footer,
}: {
  /** The header cells, in order. */
  columns: readonly ReactNode[];
  items: readonly T[];
  /** The `<tr>` of one item, with its key. */
  row: (item: T, index: number) => ReactNode;
  /** A last column of row actions (its header is for screen readers only). */
  actions?: boolean;
  empty?: ReactNode;
  /** A caption for screen readers only. */
  caption?: ReactNode;
  className?: string;
  testId?: string;
  /** Below the table, inside the wrapper (such as a count). */
  footer?: ReactNode;
}) {
  if (empty !== undefined && items.length === 0) return <p className="empty">{empty}</p>;
  return (
    <div className="table-wrap">
      <table className={className} data-testid={testId}>
        {caption !== undefined && <caption className="sr-only">{caption}</caption>}
        <thead>
          <tr>
            {columns.map((c, i) => <th key={i}>{c}</th>)}
            {actions && <th><span className="sr-only">Actions</span></th>}
          </tr>
        </thead>
        <tbody>{items.map((item, i) => row(item, i))}</tbody>
      </table>
      {footer}
    </div>
  );
}

// ------------------------------------------------------------ formatting

export function ago(ms: number | null | undefined): string {
  if (!ms) return '—';
  const s = Math.round((Date.now() - ms) / 1000);
  if (s < 0) return 'just now';
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return new Date(ms).toLocaleDateString();
}

export function when(ms: number | null | undefined): string {
  return ms ? new Date(ms).toLocaleString() : '—';
}

export function Badge({ kind, children }: { kind: 'ok' | 'warn' | 'bad' | 'info' | 'muted'; children: ReactNode }) {
  return <span className={`badge badge-${kind}`}>{children}</span>;
}

/** Parse JSON text; answers the value or the problem with its line and column. */
export function parseJson(text: string): { ok: true; value: unknown } | { ok: false; message: string; line?: number; column?: number } {
  const p = parseJsonAt(text);
  if (p.ok || p.line === undefined) return p.ok ? p : { ok: false, message: p.message };
  return { ok: false, message: `line ${p.line}, column ${p.column}: ${p.detail}`, line: p.line, column: p.column };
}

export function pretty(v: unknown): string {
  return JSON.stringify(v, null, 2);
}
