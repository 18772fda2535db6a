// Runs `node --test` (the runner of scripts/run-tests.mjs and scripts/test-node24.mjs) and ends any
// test file's process that runs too long.
//
// Not `--test-force-exit`: it ends each file's process the moment its last test ends, before the
// report of its last tests has reached the runner, so with files running side by side the runner
// counts fewer tests than ran, at exit code 0, and loses the names and errors of failures among them
// (nodejs/node#64833; measured here on Node 24: 2,193 of 2,308 tests reported, a different count
// each run; without the flag, 2,308).
//
// What the flag was for stays: a file whose tests left a handle open (a server, a client, a timer)
// must end as failed, not hold the whole run until CI's time limit. So every 10 s the runner's child
// processes are listed (Linux /proc; elsewhere nothing is watched) and one that has run longer
// than MCPGATE_TEST_FILE_TIMEOUT_S (default 900 s: the longest file takes about a minute) is named
// and killed; the runner reports that file as failed.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { clearInterval, setInterval } from 'node:timers';

const LIMIT_S = Number(process.env.MCPGATE_TEST_FILE_TIMEOUT_S ?? 900);

/** The child processes of `parent`, with their command lines. */
function childrenOf(parent) {
  const out = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // Field 4 (ppid) comes after the command name in parentheses, which may hold spaces.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === parent) out.push({ pid: Number(name), cmdline: readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').filter(Boolean) });
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** Spawn the runner with `args`, inheriting stdio; resolves to its exit code (1 when it was signalled). */
export function runTestFiles(node, args, options = {}) {
  return new Promise((resolve) => {
    const runner = spawn(node, args, { stdio: 'inherit', ...options });
    const firstSeen = new Map();
    const watch = existsSync('/proc') ? setInterval(() => {
      const now = Date.now();
      for (const { pid, cmdline } of childrenOf(runner.pid)) {
        const seen = firstSeen.get(pid) ?? now;
        firstSeen.set(pid, seen);
        if (now - seen < LIMIT_S * 1000) continue;
        const file = cmdline.find((a) => /\.test\.[cm]?[jt]s$/.test(a)) ?? cmdline.join(' ');
        process.stderr.write(`\n${file}: still running after ${LIMIT_S} s (a test left a handle open, or hangs): killed\n`);
        try { process.kill(pid, 'SIGKILL'); } catch { /* ended meanwhile */ }
      }
    }, 10_000) : undefined;
    watch?.unref();
    runner.on('exit', (code, signal) => {
      if (watch) clearInterval(watch);
      resolve(code ?? (signal ? 1 : 0));
    });
  });
}
