import { Command, Option } from 'commander';
import { ConfigError, OPTIONS, loadConfig } from '../config/config.js';
import type { Config, RoleName } from '../config/config.js';
import { AppError } from '../lib/errors.js';
import { createLogger } from '../lib/logger.js';
import type { Logger } from '../lib/logger.js';
import { addBackupCommands, importBackupFile } from './backup.js';
import { addImportCommands } from './import-catalogue.js';
import { isDefinitionPath, startGateway, startRegistry, startServe } from './roles.js';
import type { Running } from './roles.js';
import { isWorker, leaveCluster, runPrimary, workerCount } from './workers.js';

const ROLE_OPTIONS: Record<RoleName, string[]> = {
  serve: ['host', 'registryPort', 'grpcPort', 'gatewayPort', 'dataDir', 'db', 'logLevel', 'auth.enabled', 'auth.adminUsername', 'allowedOrigins', 'allowedHosts', 'trustedProxies', 'redis', 'redisPrefix', 'tlsCert', 'tlsKey', 'otlpEndpoint', 'accessLog'],
  registry: ['host', 'registryPort', 'grpcPort', 'dataDir', 'db', 'logLevel', 'auth.enabled', 'auth.adminUsername', 'allowedOrigins', 'allowedHosts', 'trustedProxies', 'tlsCert', 'tlsKey'],
  gateway: ['host', 'gatewayPort', 'dataDir', 'logLevel', 'registries', 'gatewayConfig', 'redis', 'redisPrefix', 'allowedOrigins', 'allowedHosts', 'tlsCert', 'tlsKey', 'workers', 'otlpEndpoint', 'accessLog'],
};

const DESCRIPTIONS: Record<RoleName, string> = {
  serve: 'Run registry, gateway and console in one process (SQLite in ./data, sessions in memory).',
  registry: 'Run the control plane: registry APIs, console and health checking (SQLite, PostgreSQL or MySQL).',
  gateway: 'Run the data plane: MCP endpoints for agents, configured from registries or a file.',
};

async function startRole(role: RoleName, config: Config, logger: Logger): Promise<Running> {
  switch (role) {
    case 'serve':
      return startServe(config, logger);
    case 'registry':
      return startRegistry(config, logger);
    case 'gateway':
      return startGateway(config, logger);
  }
}

function addRoleCommand(program: Command, role: RoleName, run: (role: RoleName, flags: Record<string, unknown>, configFile?: string) => Promise<void>): void {
  const cmd = program.command(role, { isDefault: role === 'serve' }).description(DESCRIPTIONS[role]);
  cmd.option('-c, --config <file>', role === 'gateway'
    ? 'mcpgate YAML configuration file (Higress server definitions: --definitions)'
    : 'mcpgate YAML configuration file');
  const attributes = new Map<string, string>();
  for (const key of ROLE_OPTIONS[role]) {
    const opt = OPTIONS.find((o) => o.key === key);
    if (!opt?.flag) continue;
    const option = new Option(opt.flag, `${opt.doc} [env ${opt.env}]`);
    attributes.set(option.attributeName(), key);
    cmd.addOption(option);
  }
  cmd.action(async (opts: Record<string, unknown>) => {
    const flags: Record<string, unknown> = {};
    for (const [attribute, key] of attributes) if (opts[attribute] !== undefined) flags[key] = opts[attribute];
    await run(role, flags, opts.config as string | undefined);
  });
}

/**
 * A promise rejection nobody handles is a bug (every one the roles make is handled): it is logged
 * at error level with its stack, instead of Node's default of ending the process, which would drop
 * every client's sessions and streams for one bug. (Tests fail on any: node:test reports them.)
 */
function logUnhandledRejections(logger: Logger): void {
  process.on('unhandledRejection', (reason) => {
    logger.error({ err: reason }, 'unhandled promise rejection (a bug: please report it); the process goes on');
  });
}

/** Run the CLI; resolves with the exit code once the process should exit (or never, while serving). */
export async function main(argv: string[]): Promise<number> {
  let exitCode = 0;
  const program = new Command('mcpgate')
    .description('mcpgate: an on-premises MCP gateway and registry')
    .version('0.1.0')
    .showHelpAfterError();
  const run = async (role: RoleName, flags: Record<string, unknown>, configFile?: string) => {
    let config: Config;
    let workers = 1;
    try {
      // `--config` takes an mcpgate configuration file and nothing else: Higress definitions given
      // to it (as Higress users may try) are refused with the option that takes them.
      if (role === 'gateway' && configFile && isDefinitionPath(configFile)) {
        throw new ConfigError(`${configFile} holds Higress server definitions, not an mcpgate configuration file: serve them with --definitions ${configFile}`);
      }
      config = loadConfig(role, flags, process.env, configFile);
      workers = workerCount(config);
    } catch (err) {
      if (err instanceof ConfigError || err instanceof AppError) {
        process.stderr.write(`mcpgate: ${err.message}\n`);
        exitCode = 2;
        return;
      }
      throw err;
    }
    const logger = createLogger(config.logLevel);
    logUnhandledRejections(logger);
    // `gateway --workers N`: this process only runs the workers (src/cli/workers.ts).
    if (workers > 1 && !isWorker()) {
      exitCode = await runPrimary(workers, logger);
      return;
    }
    let running: Running;
    try {
      running = await startRole(role, config, logger);
    } catch (err) {
      logger.fatal({ err }, `${role} failed to start`);
      process.stderr.write(`mcpgate: ${role} failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
      exitCode = 1;
      return;
    }
    // The first SIGTERM or SIGINT stops gracefully (a gateway drains: docs/operations.md#graceful-shutdown);
    // a second one stops at once.
    await new Promise<void>((resolve) => {
      let stoppingSince: number | undefined;
      const stop = (signal: string) => {
        // A signal sent twice at once (to the process group and by a --workers primary) is one.
        if (stoppingSince !== undefined && Date.now() - stoppingSince < 1000) return;
        const stopping = stoppingSince !== undefined;
        logger.info({ signal, graceful: !stopping && running.drain !== undefined }, stopping ? 'second signal: stopping at once' : 'shutting down');
        const done = stopping || !running.drain ? running.close() : running.drain();
        stoppingSince = Date.now();
        done.catch((err: unknown) => logger.error({ err }, 'shutdown failed')).finally(resolve);
      };
      process.on('SIGINT', () => stop('SIGINT'));
      process.on('SIGTERM', () => stop('SIGTERM'));
    });
    leaveCluster();
  };
  for (const role of ['serve', 'registry', 'gateway'] as const) addRoleCommand(program, role, run);
  addBackupCommands(program, (code) => { exitCode = code; });
  addImportCommands(program, (code) => { exitCode = code; }, { backup: importBackupFile });
  await program.parseAsync(argv, { from: 'user' });
  return exitCode;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (err: unknown) => { console.error(err); process.exit(1); });
}
