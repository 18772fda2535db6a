/**
 * A version-to-version diff as people read it: grouped by tool (matched by name), each change
 * with a human place name and, for texts, the changed words marked. No DOM: unit-tested under Node.
 */
import { diffWords } from 'diff';
import type { SpecChange } from '../../model/model.js';

export type { SpecChange };

/** One run of text in a word diff: kept, removed or added. */
export interface WordPart {
  text: string;
  kind: 'same' | 'removed' | 'added';
}

/** The value as the diff shows it: text as is, anything else as indented JSON. */
export function shownValue(v: unknown): string {
  if (v === undefined) return '';
  return typeof v === 'string' ? v : JSON.stringify(v, null, 2);
}

/** Word-level differences between two values (texts, or JSON for anything else). */
export function wordDiff(from: unknown, to: unknown): WordPart[] {
  return diffWords(shownValue(from), shownValue(to)).map((p) => ({ text: p.value, kind: p.added ? 'added' : p.removed ? 'removed' : 'same' }));
}

/** The changes of one tool (or of the version itself: `tool` undefined). */
export interface ChangeGroup {
  tool: string | undefined;
  /** The tool was added or removed as a whole. */
  whole?: 'added' | 'removed';
  changes: SpecChange[];
}

/** Changes grouped by tool, the version's own changes first; the `version` field itself is left out. */
export function groupChanges(changes: readonly SpecChange[]): ChangeGroup[] {
  const own: SpecChange[] = [];
  const byTool = new Map<string, SpecChange[]>();
  for (const c of changes) {
    if (c.path === 'version') continue;
    const tool = c.tool ?? /^tools\[([^\]]+)\]/.exec(c.path)?.[1];
    if (tool === undefined) own.push(c);
    else byTool.set(tool, [...(byTool.get(tool) ?? []), c]);
  }
  const groups: ChangeGroup[] = own.length ? [{ tool: undefined, changes: own }] : [];
  for (const [tool, list] of [...byTool].sort(([a], [b]) => a.localeCompare(b))) {
    const whole = list.length === 1 && list[0]!.path === `tools[${tool}]` && list[0]!.kind !== 'changed' ? (list[0]!.kind as 'added' | 'removed') : undefined;
    groups.push({ tool, ...(whole ? { whole } : {}), changes: list });
  }
  return groups;
}

/** The place of a change inside its tool (`description`, `template.request.url`), '' for the whole tool. */
export function placeInTool(c: SpecChange): string {
  return c.path.replace(/^tools\[[^\]]+\]\.?/, '');
}
