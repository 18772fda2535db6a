/**
 * The stdio transport to an upstream MCP server: a child process speaking newline-delimited
 * JSON-RPC on its stdin and stdout.
 *
 * Ours rather than the SDK's `StdioClientTransport` because a gateway must leave nothing
 * behind: each child leads its own process group (so `npx` wrappers and their grandchildren
 * go with it), every live group is killed when the gateway exits, lines the child writes to
 * stderr go to the gateway's log (bounded), and lines on stdout that are not JSON-RPC are
 * reported as protocol errors instead of skipped in silence.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { deserializeMessage } from '@modelcontextprotocol/client';
import type { JSONRPCMessage, Transport } from '@modelcontextprotocol/client';
import type { Logger } from '../../lib/logger.js';
import type { StdioLaunch } from './config.js';

/** Variables of the gateway's environment a child gets (the SDK's defaults); nothing else of it. */
const INHERITED = ['HOME', 'LOGNAME', 'PATH', 'SHELL', 'TERM', 'USER'] as const;
/** Largest line a child may write on stdout (a JSON-RPC message), bytes. */
const MAX_LINE_BYTES = 16 * 1024 * 1024;
/** Longest stderr line logged; the rest is cut. */
const MAX_LOG_LINE = 2000;
/** stderr bytes logged per child per minute; the rest is counted and dropped. */
const LOG_BUDGET_PER_MINUTE = 64 * 1024;
/** How long a child gets to exit after its stdin closes, then SIGTERM, then SIGKILL. */
const EXIT_GRACE_MS = 1000;

/** A line on stdout that is not a JSON-RPC message. */
export class StdioProtocolError extends Error {
  override readonly name = 'StdioProtocolError';
}

/**
 * The watchdog: a `sh` in a session of its own that holds the read end of a pipe from this
 * process and the list of live child groups (`+ pid` / `- pid` lines). When this process dies,
 * however (kill -9, OOM), the pipe ends and the watchdog kills every group still listed, at once:
 * what PR_SET_PDEATHSIG does for a direct child, for the whole process group, in portable
 * shell (Node cannot set PDEATHSIG, and a wrapper such as `setpriv --pdeathsig` would end the
 * leader only, not an `npx` wrapper's grandchildren). The record file below remains for what
 * even the watchdog misses (it was killed too).
 */
const WATCHDOG = `trap '' INT TERM HUP
pids=' '
while IFS=' ' read -r op pid; do
  case "$op" in
    +) pids="$pids$pid " ;;
    -) case "$pids" in *" $pid "*) pids="\${pids%% $pid *} \${pids#* $pid }" ;; esac ;;
  esac
done
for p in $pids; do kill -9 "-$p" 2>/dev/null; done`;

let watchdog: ChildProcess | undefined;

/** Tell the watchdog about a group (+) or its end (-); starts it on first use. */
function tellWatchdog(op: '+' | '-', pid: number): void {
  if (process.platform === 'win32') return;
  if (!watchdog && op === '+') {
    try {
      watchdog = spawn('/bin/sh', ['-c', WATCHDOG], { detached: true, stdio: ['pipe', 'ignore', 'ignore'] });
      watchdog.on('error', () => { watchdog = undefined; });
      watchdog.stdin?.on('error', () => undefined);
      watchdog.unref();
      (watchdog.stdin as unknown as { unref?: () => void } | null)?.unref?.();
    } catch {
      watchdog = undefined;
    }
  }
  try { watchdog?.stdin?.write(`${op} ${pid}\n`); } catch { /* the exit hook and the record file still apply */ }
}

/** The watchdog's process id (tests), once a child was started. */
export function watchdogPid(): number | undefined {
  return watchdog?.pid;
}

/** Every child process group this process started and has not seen exit, with its start time (for the record file). */
const liveGroups = new Map<number, string>();
let exitHookInstalled = false;
/** Where the live children are recorded, so that the next start can end those a crash left behind. */
let recordFile: string | undefined;

/** A process's start time (clock ticks since boot, /proc/PID/stat field 22): tells a pid reused by another process apart. */
function startTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

function writeRecord(): void {
  if (!recordFile) return;
  try {
    writeFileSync(`${recordFile}.tmp`, JSON.stringify([...liveGroups].map(([pid, start]) => ({ pid, start }))));
    renameSync(`${recordFile}.tmp`, recordFile);
  } catch { /* best effort: the exit hook still ends the children */ }
}

/**
 * Record the live stdio children in `file` from now on, after ending the children a previous
 * gateway process recorded there and left behind (killed with SIGKILL, it ran no exit hook):
 * each recorded process group whose leader still runs with the recorded start time is killed.
 * Answers how many were. Linux only (elsewhere nothing is recorded or killed).
 */
export function reapAndRecordChildren(file: string): number {
  if (process.platform !== 'linux') return 0;
  let reaped = 0;
  try {
    const left = JSON.parse(readFileSync(file, 'utf8')) as { pid?: unknown; start?: unknown }[];
    for (const { pid, start } of Array.isArray(left) ? left : []) {
      if (typeof pid !== 'number' || !Number.isInteger(pid) || pid <= 1 || typeof start !== 'string') continue;
      if (startTime(pid) !== start) continue;
      try { process.kill(-pid, 'SIGKILL'); reaped++; } catch { /* gone */ }
    }
  } catch { /* no record: nothing left behind */ }
  recordFile = file;
  writeRecord();
  return reaped;
}

/** Kill every live child group at once (the gateway exits: nothing may be orphaned). */
export function killAllChildren(signal: NodeJS.Signals = 'SIGKILL'): void {
  for (const pid of liveGroups.keys()) {
    try { process.kill(-pid, signal); } catch { /* already gone */ }
  }
  liveGroups.clear();
  writeRecord();
}

/** How many stdio child processes are running. */
export function liveChildCount(): number {
  return liveGroups.size;
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // 'exit' handlers run synchronously on process.exit(), a normal end and an uncaught exception.
  process.once('exit', () => killAllChildren());
}

/** The child's environment: the few inherited variables, then the configured ones. */
export function childEnvironment(configured: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const k of INHERITED) {
    const v = process.env[k];
    if (v !== undefined && !v.startsWith('()')) env[k] = v;
  }
  return { ...env, ...configured };
}

/** Options of a stdio transport. */
export interface StdioTransportOptions {
  launch: StdioLaunch;
  logger: Logger;
  /** Called when the child exits (code or signal), after `onclose`. */
  onExit?: (code: number | null, signal: NodeJS.Signals | null) => void;
}

/** An MCP client transport over a child process's stdio. */
export class ChildStdioTransport implements Transport {
  onclose?: (() => void) | undefined;
  onerror?: ((error: Error) => void) | undefined;
  onmessage?: (<T extends JSONRPCMessage>(message: T) => void) | undefined;

  private child: ChildProcess | undefined;
  private buffer: Buffer | undefined;
  private closed = false;
  private logBudget = LOG_BUDGET_PER_MINUTE;
  private logWindow = Date.now();
  private dropped = 0;
  private stderrRest = '';

  constructor(private readonly opts: StdioTransportOptions) {}

  /** The child's process id (after start). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  start(): Promise<void> {
    if (this.child) throw new Error('stdio transport already started');
    installExitHook();
    const { launch } = this.opts;
    return new Promise((resolve, reject) => {
      const child = spawn(launch.command, launch.args, {
        env: childEnvironment(launch.env), cwd: launch.cwd, stdio: ['pipe', 'pipe', 'pipe'], shell: false, detached: true, windowsHide: true,
      });
      this.child = child;
      child.once('error', (err) => {
        if (child.pid === undefined) reject(err);
        else this.onerror?.(err);
      });
      child.once('spawn', () => {
        if (child.pid !== undefined) {
          liveGroups.set(child.pid, startTime(child.pid) ?? '');
          writeRecord();
          tellWatchdog('+', child.pid);
        }
        resolve();
      });
      child.once('exit', (code, signal) => {
        if (child.pid !== undefined) {
          // The child is gone; its group may still hold descendants: end them too.
          try { process.kill(-child.pid, 'SIGKILL'); } catch { /* none left */ }
          liveGroups.delete(child.pid);
          writeRecord();
          tellWatchdog('-', child.pid);
        }
        this.finish();
        this.opts.onExit?.(code, signal);
      });
      child.stdin?.on('error', (err) => this.onerror?.(err));
      child.stdout?.on('data', (chunk: Buffer) => this.read(chunk));
      child.stdout?.on('error', (err) => this.onerror?.(err));
      child.stderr?.setEncoding('utf8');
      child.stderr?.on('data', (text: string) => this.logStderr(text));
    });
  }

  private read(chunk: Buffer): void {
    this.buffer = this.buffer ? Buffer.concat([this.buffer, chunk]) : chunk;
    for (;;) {
      const buffer: Buffer | undefined = this.buffer;
      if (!buffer) return;
      const nl: number = buffer.indexOf(0x0a);
      if (nl < 0) {
        if (buffer.length > MAX_LINE_BYTES) {
          this.buffer = undefined;
          this.onerror?.(new StdioProtocolError(`the server wrote a line over ${MAX_LINE_BYTES} bytes on stdout`));
        }
        return;
      }
      const line = buffer.toString('utf8', 0, nl).replace(/\r$/, '');
      this.buffer = nl + 1 < buffer.length ? buffer.subarray(nl + 1) : undefined;
      if (line.trim() === '') continue;
      let message: JSONRPCMessage;
      try {
        message = deserializeMessage(line);
      } catch (err) {
        const what = err instanceof SyntaxError ? 'not JSON' : 'not a JSON-RPC message';
        this.onerror?.(new StdioProtocolError(`the server wrote a line on stdout that is ${what}: ${line.slice(0, 200)}`));
        continue;
      }
      this.onmessage?.(message);
    }
  }

  private logStderr(text: string): void {
    const now = Date.now();
    if (now - this.logWindow >= 60_000) {
      if (this.dropped > 0) this.opts.logger.warn({ droppedBytes: this.dropped }, 'stdio server stderr: output over the log budget was dropped');
      this.logWindow = now;
      this.logBudget = LOG_BUDGET_PER_MINUTE;
      this.dropped = 0;
    }
    const lines = (this.stderrRest + text).split('\n');
    this.stderrRest = (lines.pop() ?? '').slice(0, MAX_LOG_LINE);
    for (const line of lines) {
      if (line.trim() === '') continue;
      if (this.logBudget <= 0) {
        this.dropped += line.length;
        continue;
      }
      this.logBudget -= line.length;
      this.opts.logger.info({ pid: this.child?.pid, stderr: line.length > MAX_LOG_LINE ? `${line.slice(0, MAX_LOG_LINE)}…` : line }, 'stdio server stderr');
    }
  }

  send(message: JSONRPCMessage): Promise<void> {
    const stdin = this.child?.stdin;
    if (!stdin || this.closed || !stdin.writable) return Promise.reject(new Error('the stdio server is not running'));
    return new Promise((resolve, reject) => {
      stdin.write(`${JSON.stringify(message)}\n`, (err) => (err ? reject(err) : resolve()));
    });
  }

  private finish(): void {
    if (this.closed) return;
    this.closed = true;
    this.buffer = undefined;
    this.onclose?.();
  }

  /** Close stdin, then SIGTERM the group, then SIGKILL it; resolves when the child has exited. */
  async close(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) {
      this.finish();
      return;
    }
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const wait = (ms: number) => Promise.race([exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms).unref())]);
    try { child.stdin?.end(); } catch { /* closed */ }
    if (await wait(EXIT_GRACE_MS)) return;
    const group = child.pid;
    try { if (group !== undefined) process.kill(-group, 'SIGTERM'); } catch { /* gone */ }
    if (await wait(EXIT_GRACE_MS)) return;
    try { if (group !== undefined) process.kill(-group, 'SIGKILL'); } catch { /* gone */ }
    await exited;
  }
}
