/**
 * What the room's views share for moderation: the connection (roles, mutes, bans) and one way to
 * open the moderation dialog, given by the room to everything inside it (member list, messages,
 * moderation lines) so the components between them need not pass it on.
 */
import type { User } from '@parley/protocol';
import { createContext } from 'svelte';
import type { PersonAction } from './moderation.ts';
import type { RoomConnection } from './room-connection.svelte.ts';

export interface ModerationTools {
  readonly connection: RoomConnection;
  /**
   * Opens the dialog of an action against a person (a duration, a reason or a confirmation).
   *
   * @param opener Where the focus goes back to when the dialog closes.
   */
  open: (action: PersonAction, user: User, opener: HTMLElement | null) => void;
}

export const [getModerationTools, setModerationTools] = createContext<ModerationTools>();
