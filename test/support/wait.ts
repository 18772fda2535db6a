/**
 * Poll `check` until it returns a value (anything but undefined: `false` and `0` are answers
 * too, unlike `waitFor` in gateway.ts) or `ms` passes. For the Nacos client tests, whose checks
 * read state a real client changes on its own schedule.
 */
export async function until<T>(what: string, ms: number, check: () => Promise<T | undefined> | T | undefined, everyMs = 100): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
