/** JSON typed into the console: parsed, or why not and where (no browser APIs: unit-tested under Node). */

/** The parsed value, or the engine's message, cleaned of its position, with the 1-based line and column when it names one. */
export function parseJsonAt(text: string): { ok: true; value: unknown } | { ok: false; message: string; detail: string; line?: number; column?: number } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (e) {
    const message = (e as Error).message;
    const pos = /position (\d+)/.exec(message);
    if (!pos) return { ok: false, message, detail: message };
    const offset = Number(pos[1]);
    let line = 1;
    let start = 0;
    for (let i = 0; i < offset && i < text.length; i++) {
      if (text[i] === '\n') {
        line++;
        start = i + 1;
      }
    }
    const detail = message.replace(/ in JSON at position \d+.*$/s, '').replace(/\s*\(line \d+ column \d+\)$/, '').replace(/^JSON\.parse: /, '');
    return { ok: false, message, detail, line, column: offset - start + 1 };
  }
}
