/**
 * `mcpgate export FILE` and `mcpgate import FILE`: a registry (or one namespace) to one file and
 * back (src/registry/domain/backup.ts), run against the registry's database with the registry's
 * configuration (`--config`, `--db`, `MCPGATE_DB`…), while the registries run or not: writes go
 * through the domain services, so running registries and their gateways see an import at once.
 *
 * `mcpgate import` (src/cli/import-catalogue.ts) dispatches on its first argument: `openapi` and
 * `server-json` are its importers; anything else is a backup file or a Nacos MCP export, imported
 * by `importBackupFile` here.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { ConfigError, loadConfig } from '../config/config.js';
import type { Config } from '../config/config.js';
import { AppError } from '../lib/errors.js';
import { checkJsonDepth } from '../lib/json-depth.js';
import { exportRegistry, importBackup, importNacosMcp, nacosMcpItems } from '../registry/domain/backup.js';
import type { RegistryServices } from '../registry/services.js';

/** Largest backup file read, bytes. */
const MAX_BACKUP_BYTES = 256 * 1024 * 1024;

/** The passphrase: `--passphrase-file`, else MCPGATE_BACKUP_PASSPHRASE(_FILE); never a flag with the value (it would show in `ps`). */
function passphrase(file: string | undefined, env: NodeJS.ProcessEnv): string | undefined {
  const path = file ?? env.MCPGATE_BACKUP_PASSPHRASE_FILE;
  if (path) {
    try {
      return readFileSync(path, 'utf8').replace(/\r?\n$/, '');
    } catch (err) {
      throw new ConfigError(`cannot read the passphrase file ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  }
  return env.MCPGATE_BACKUP_PASSPHRASE || undefined;
}

async function withServices<T>(config: Config, run: (services: RegistryServices) => Promise<T>): Promise<T> {
  const [{ openStore }, { createRegistryServices }] = await Promise.all([import('../registry/store/open.js'), import('../registry/services.js')]);
  const store = await openStore(config.db);
  try {
    const services = createRegistryServices(store, config.auth.tokenTtlSeconds);
    await services.naming.ensurePublicNamespace();
    return await run(services);
  } finally {
    await store.close();
  }
}

interface BackupFlags { config?: string; db?: string; dataDir?: string; namespace?: string; passphraseFile?: string; checkIssuers?: boolean }

function configOf(flags: BackupFlags): Config {
  return loadConfig('registry', { ...(flags.db ? { db: flags.db } : {}), ...(flags.dataDir ? { dataDir: flags.dataDir } : {}) }, process.env, flags.config);
}

/** Report a failure as the CLI does: a message on stderr, exit 2 for the caller's mistakes, 1 otherwise. */
function fail(err: unknown): number {
  if (err instanceof ConfigError || err instanceof AppError) {
    process.stderr.write(`mcpgate: ${err.message}\n`);
    return err instanceof AppError && err.status >= 500 ? 1 : 2;
  }
  process.stderr.write(`mcpgate: ${err instanceof Error ? err.message : String(err)}\n`);
  return 1;
}

/** Add `export` to the CLI; `setExit` receives the exit code. */
export function addBackupCommands(program: Command, setExit: (code: number) => void): void {
  const common = (cmd: Command) => cmd
    .option('-c, --config <file>', 'mcpgate YAML configuration file (the registry\'s)')
    .option('--db <url>', 'registry database URL [env MCPGATE_DB]')
    .option('--data-dir <path>', 'data directory (the default SQLite database) [env MCPGATE_DATA_DIR]')
    .option('--passphrase-file <path>', 'file holding the passphrase that encrypts the secrets [env MCPGATE_BACKUP_PASSPHRASE(_FILE)]');

  common(program.command('export').argument('<file>', 'where to write the backup (- for standard output)')
    .description('Write the registry (or one namespace) to one file: namespaces, services, MCP servers with every version, consumer keys; secrets encrypted with a passphrase.')
    .option('-n, --namespace <id>', 'export this namespace only'))
    .action(async (file: string, flags: BackupFlags) => {
      try {
        const config = configOf(flags);
        const doc = await withServices(config, (services) => exportRegistry(services, {
          ...(flags.namespace ? { namespace: flags.namespace } : {}), ...(passphrase(flags.passphraseFile, process.env) ? { passphrase: passphrase(flags.passphraseFile, process.env) as string } : {}),
        }));
        const text = `${JSON.stringify(doc, null, 2)}\n`;
        if (file === '-') process.stdout.write(text);
        else writeFileSync(file, text, { mode: 0o600 });
        process.stderr.write(`mcpgate: exported ${doc.namespaces.length} namespace(s), ${doc.services.length} service(s), ${doc.mcpServers.length} MCP server(s), ${doc.consumers.length} consumer(s)${doc.secrets ? ', secrets encrypted' : ''}\n`);
        setExit(0);
      } catch (err) {
        setExit(fail(err));
      }
    });

}

/**
 * `mcpgate import FILE [flags]`: the backup import, run by the `import` command of
 * import-catalogue.ts for any first argument other than its importers' names.
 */
export async function importBackupFile(file: string, argv: string[]): Promise<number> {
  const { Command } = await import('commander');
  const cmd = new Command('mcpgate import').exitOverride()
    .option('-c, --config <file>').option('--db <url>').option('--data-dir <path>').option('--passphrase-file <path>').option('-n, --namespace <id>')
    .option('--no-check-issuers', 'restore authorization settings without fetching their issuers\' metadata (authorization servers unreachable)');
  let flags: BackupFlags;
  try {
    flags = cmd.parse(argv, { from: 'user' }).opts<BackupFlags>();
  } catch (err) {
    process.stderr.write(`mcpgate: ${err instanceof Error ? err.message : String(err)}\n`);
    return 2;
  }
  try {
    const config = configOf(flags);
    let text: string;
    try {
      text = readFileSync(file === '-' ? 0 : file, 'utf8');
    } catch (err) {
      throw new ConfigError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    if (text.length > MAX_BACKUP_BYTES) throw new ConfigError(`${file} is larger than ${MAX_BACKUP_BYTES} bytes`);
    let doc: unknown;
    try {
      checkJsonDepth(text, 'backup');
      doc = JSON.parse(text);
    } catch (err) {
      throw err instanceof AppError ? err : new ConfigError(`${file} is not valid JSON: ${(err as Error).message}`);
    }
    const pass = passphrase(flags.passphraseFile, process.env);
    const nacos = (doc as { format?: unknown } | null)?.format === undefined ? nacosMcpItems(doc) : undefined;
    const report = await withServices(config, (services) => (nacos
      ? importNacosMcp(services, nacos, flags.namespace ?? 'public')
      : importBackup(services, doc, { ...(pass ? { passphrase: pass } : {}), checkIssuers: flags.checkIssuers !== false })));
    process.stdout.write(`${JSON.stringify(report)}\n`);
    for (const c of report.conflicts) process.stderr.write(`mcpgate: kept: ${c}\n`);
    return 0;
  } catch (err) {
    return fail(err);
  }
}
