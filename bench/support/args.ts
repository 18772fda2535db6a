/** The command-line options of a benchmark: `--name value` pairs and `--flag`s after the script. */

const argv = process.argv.slice(2);

/** A positive number option (`--seconds 10`); with `integer`, a whole one. */
export function numberOption(name: string, fallback: number, integer = false): number {
  const i = argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(argv[i + 1]) : fallback;
  if (!(integer ? Number.isInteger(v) : Number.isFinite(v)) || v <= 0) throw new Error(`--${name} needs a positive ${integer ? 'integer' : 'number'}`);
  return v;
}

/** A text option (`--loader wrk`). */
export function textOption(name: string, fallback: string): string {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? String(argv[i + 1]) : fallback;
}

/** Whether a flag (`--no-docs`) is given. */
export function flag(name: string): boolean {
  return argv.includes(`--${name}`);
}
