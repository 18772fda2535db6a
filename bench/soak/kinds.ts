/**
 * The abuser kinds of the soak benchmark, shared by the driver and the abusers' process: those
 * the issue names (the targets apply beside them) and the other findings the soak also exercises.
 */
export const ISSUE_KINDS = ['abandoned-streams', 'slow-readers', 'oversized-inits', 'batches'] as const;
/** Every kind abusers.ts knows. */
export const ALL_KINDS = [...ISSUE_KINDS, 'abandoned-calls', 'slowloris', 'deep-json'] as const;
