/** The logged-in user's session, shared by the shell and the pages (a module of its own: no import cycle). */
import { createContext, useContext } from 'react';
import type { Me, Namespace } from './api.js';

/** Who is logged in, what they see, and what they may do. */
export interface Session {
  me: Me;
  namespaces: Namespace[];
  reloadNamespaces: () => Promise<void>;
  logout: () => void;
  /** Roles: may the user read (viewer), write (editor) or administer (admin) the namespace? */
  can: (ns: string, role: 'viewer' | 'editor' | 'admin') => boolean;
}

/** Provided by the shell once the user is logged in. */
export const SessionContext = createContext<Session | null>(null);

/** The current session (inside the shell only). */
export function useSession(): Session {
  const s = useContext(SessionContext);
  if (!s) throw new Error('no session');
  return s;
}

const RANK = { viewer: 1, gateway: 1, editor: 2, admin: 3 } as const;

/** Whether `me` holds `role` (or more) in `ns`, directly or on every namespace (`*`). */
export function holds(me: Me, ns: string, role: 'viewer' | 'editor' | 'admin'): boolean {
  return me.roles.some((r) => (r.namespace === ns || r.namespace === '*') && RANK[r.role] >= RANK[role]);
}
