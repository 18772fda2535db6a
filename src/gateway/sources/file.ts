/**
 * Configuration for a standalone gateway (`mcpgate gateway --config PATH`): Higress-format
 * server definitions in one file or a directory of them, reloaded when they change.
 */
import { createHash } from 'node:crypto';
import { watch } from 'node:fs';
import type { FSWatcher, Stats } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { AppError, invalid } from '../../lib/errors.js';
import type { Logger } from '../../lib/logger.js';
import { fromHigress } from '../../model/convert/higress.js';
import type { McpServer, McpServerSpec } from '../../model/model.js';
import type { SpecWarning } from '../../model/spec-validation.js';
import { PUBLIC_NAMESPACE } from '../../model/model.js';
import { SERVER_NAME } from '../../model/names.js';
import type { RegistrySnapshot } from '../../model/snapshot.js';
import { checkSpec } from '../../tools/compile.js';
import type { ConfigSource } from './config-source.js';

/** Options of `FileSource`. */
export interface FileSourceOptions {
  /** A Higress-format definition file (YAML or JSON), or a directory of them (`*.yaml`, `*.yml`, `*.json`, one server each). */
  path: string;
  logger: Logger;
  /** Quiet time after a file-system event before reloading, ms. Default 200. */
  debounceMs?: number;
  /** How often modification times are checked, in case file-system events are lost, ms. Default 2000. */
  pollMs?: number;
  /** Use file-system events (default true); false relies on polling alone. */
  watch?: boolean;
}

const DEFINITION_EXTENSIONS = new Set(['.yaml', '.yml', '.json']);

interface Definition {
  name: string;
  spec: McpServerSpec;
  mtimeMs: number;
}

interface FileState {
  mtimeMs: number;
  size: number;
  ino: number;
  hash: string;
  /** The last version that loaded; kept while the file is broken. */
  good: Definition | undefined;
}

/**
 * Reads and checks one definition as the registry would on publish (schemas, templates, name),
 * with what it accepted as Higress accepts it though not as written.
 */
export function loadDefinition(text: string): { name: string; spec: McpServerSpec; warnings: SpecWarning[] } {
  const { name, spec, warnings } = fromHigress(text);
  if (!SERVER_NAME.test(name)) throw invalid('server.name', `'${name}' is not a valid MCP server name`);
  return { name, spec, warnings: [...warnings, ...checkSpec(spec)] };
}

/** The stable server id of a definition file. */
function serverId(file: string): string {
  return `file:${basename(file)}`;
}

function isDefinitionFile(name: string): boolean {
  return !name.startsWith('.') && !name.startsWith('#') && DEFINITION_EXTENSIONS.has(extname(name).toLowerCase());
}

/**
 * Serves the definitions under `path` in namespace `public`, one MCP server per file. A file
 * that does not load is logged (file and field) and its last good version stays served.
 * Reloads follow file-system events (debounced) and a modification-time poll; each reload that
 * changes what is served delivers a snapshot with the next revision.
 */
export class FileSource implements ConfigSource {
  private readonly path: string;
  private readonly log: Logger;
  private readonly debounceMs: number;
  private readonly pollMs: number;
  private directory = false;
  private onSnapshot: ((snapshot: RegistrySnapshot) => void) | undefined;
  private readonly files = new Map<string, FileState>();
  private revision = 0;
  private servedKey = '';
  private watcher: FSWatcher | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private debounceTimer: NodeJS.Timeout | undefined;
  private reloading: Promise<void> | undefined;
  private reloadAgain: { force: boolean } | undefined;
  private stopped = false;
  private missingReported = false;

  constructor(private readonly options: FileSourceOptions) {
    this.path = resolve(options.path);
    this.log = options.logger.child({ component: 'file-source' });
    this.debounceMs = options.debounceMs ?? 200;
    this.pollMs = options.pollMs ?? 2000;
  }

  async start(onSnapshot: (snapshot: RegistrySnapshot) => void): Promise<void> {
    if (this.onSnapshot) throw new Error('FileSource: already started');
    this.onSnapshot = onSnapshot;
    let info: Stats;
    try {
      info = await stat(this.path);
    } catch (err) {
      throw new Error(`cannot read the gateway configuration ${this.path}: ${(err as Error).message}`, { cause: err });
    }
    this.directory = info.isDirectory();
    // Watch before the first read: a change made during it then causes a reload.
    if (this.options.watch !== false) this.startWatching();
    this.schedule(true);
    await this.reloading;
    this.pollTimer = setInterval(() => this.schedule(false), this.pollMs);
    this.pollTimer.unref();
    if (this.revision === 0) this.deliver();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.watcher?.close();
    this.watcher = undefined;
    clearInterval(this.pollTimer);
    clearTimeout(this.debounceTimer);
    await this.reloading;
  }

  describe(): string {
    return `${this.directory ? 'directory' : 'file'} ${this.path}`;
  }

  private startWatching(): void {
    // A single file is watched through its directory: editors and Kubernetes ConfigMaps replace files by renaming.
    const target = this.directory ? this.path : dirname(this.path);
    try {
      this.watcher = watch(target, { persistent: false }, () => {
        clearTimeout(this.debounceTimer);
        this.debounceTimer = setTimeout(() => this.schedule(true), this.debounceMs);
        this.debounceTimer.unref();
      });
      this.watcher.on('error', (err) => {
        this.log.warn({ err, path: target }, 'file-system events failed; relying on polling');
        this.watcher?.close();
        this.watcher = undefined;
      });
    } catch (err) {
      this.log.warn({ err, path: target }, 'cannot watch for file-system events; relying on polling');
    }
  }

  /** Reload now, or once more after the reload in progress; `force` re-reads files whose stat looks unchanged. */
  private schedule(force: boolean): void {
    if (this.stopped) return;
    if (this.reloading) {
      this.reloadAgain = { force: force || (this.reloadAgain?.force ?? false) };
      return;
    }
    this.reloading = (async () => {
      let next: { force: boolean } | undefined = { force };
      while (next && !this.stopped) {
        this.reloadAgain = undefined;
        try {
          await this.reload(next.force);
        } catch (err) {
          this.log.error({ err, path: this.path }, 'reloading the gateway configuration failed');
        }
        next = this.reloadAgain;
      }
      this.reloading = undefined;
    })();
  }

  private async listFiles(): Promise<string[]> {
    if (!this.directory) return [this.path];
    const names = await readdir(this.path);
    return names.filter(isDefinitionFile).sort().map((name) => join(this.path, name));
  }

  private async reload(force: boolean): Promise<void> {
    let files: string[];
    try {
      files = await this.listFiles();
    } catch (err) {
      this.log.error({ err, path: this.path }, 'cannot list the gateway configuration directory; serving the last good configuration');
      return;
    }
    const seen = new Set<string>();
    let changed = false;
    for (const file of files) {
      let info: Stats;
      try {
        info = await stat(file);
      } catch (err) {
        // Only a single file is reported here: in a directory, a file listed then gone was just removed.
        if (!this.directory && !this.missingReported) {
          this.missingReported = true;
          this.log.error({ err, file }, 'cannot read the definition file; serving its last good version');
        }
        continue;
      }
      this.missingReported = false;
      if (!info.isFile()) continue;
      seen.add(file);
      const previous = this.files.get(file);
      if (!force && previous && previous.mtimeMs === info.mtimeMs && previous.size === info.size && previous.ino === info.ino) continue;
      const state: FileState = { mtimeMs: info.mtimeMs, size: info.size, ino: info.ino, hash: '', good: previous?.good };
      this.files.set(file, state);
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch (err) {
        this.log.error({ err, file }, 'cannot read the definition file; serving its last good version');
        continue;
      }
      state.hash = createHash('sha256').update(text).digest('hex');
      if (previous?.hash === state.hash) continue;
      try {
        const { name, spec, warnings } = loadDefinition(text);
        state.good = { name, spec, mtimeMs: Math.round(info.mtimeMs) };
        changed = true;
        this.log.info({ file, server: name, version: spec.version }, 'loaded server definition');
        for (const w of warnings) {
          this.log.warn({ file, server: name, tool: w.tool, field: w.field }, `${file}: ${w.field}: ${w.message} (accepted as Higress accepts it)`);
        }
      } catch (err) {
        const field = err instanceof AppError ? err.field : undefined;
        const message = err instanceof Error ? err.message : String(err);
        this.log.error({ file, field, code: err instanceof AppError ? err.code : undefined, err: message },
          `${file}: ${message}${state.good ? '; serving its last good version' : '; the server is not served'}`);
      }
    }
    // A single file that disappears keeps its last good version (editors save by delete and rename).
    if (this.directory) {
      for (const file of this.files.keys()) {
        if (!seen.has(file)) {
          changed ||= this.files.get(file)?.good !== undefined;
          this.files.delete(file);
          this.log.info({ file }, 'definition file removed');
        }
      }
    }
    if (changed || this.revision === 0) this.deliver();
  }

  /** Build the snapshot of what loads and deliver it when it differs from the one served. */
  private deliver(): void {
    if (this.stopped) return;
    const byName = new Map<string, { file: string; definition: Definition }>();
    for (const [file, state] of [...this.files].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      if (!state.good) continue;
      const other = byName.get(state.good.name);
      if (other) {
        this.log.error({ file, field: 'server.name', otherFile: other.file },
          `${file}: server.name '${state.good.name}' is already defined by ${other.file}; this file is not served`);
        continue;
      }
      byName.set(state.good.name, { file, definition: state.good });
    }
    const entries = [...byName.values()];
    const key = JSON.stringify(entries.map(({ file, definition }) => [file, definition.name, definition.spec]));
    if (this.revision > 0 && key === this.servedKey) return;
    this.servedKey = key;
    this.revision++;
    const mcpServers: RegistrySnapshot['mcpServers'] = entries.map(({ file, definition: { name, spec, mtimeMs } }) => {
      const server: McpServer = {
        id: serverId(file), namespace: PUBLIC_NAMESPACE, name, description: spec.description,
        protocol: 'http', frontProtocol: 'mcp-streamable', endpoint: { type: 'none' }, enabled: true,
        passthrough: { headers: [], cookies: [] },
        publishedVersion: spec.version, latestVersion: spec.version, createdAt: mtimeMs, updatedAt: mtimeMs,
      };
      return { server, spec };
    });
    const snapshot: RegistrySnapshot = { revision: this.revision, namespaces: [PUBLIC_NAMESPACE], services: [], mcpServers, consumers: [] };
    if (mcpServers.length === 0) this.log.warn({ path: this.path }, 'no server definition loaded: the gateway serves no MCP server');
    this.log.info({ revision: this.revision, servers: mcpServers.map((s) => s.server.name) }, 'gateway configuration loaded');
    try {
      this.onSnapshot?.(snapshot);
    } catch (err) {
      this.log.error({ err, revision: this.revision }, 'the gateway refused the configuration');
    }
  }
}
