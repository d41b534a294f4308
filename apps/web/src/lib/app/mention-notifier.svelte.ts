/**
 * Browser notifications for messages that mention the reader, while the tab is hidden. Off until
 * the browser's permission is granted; the reader can turn them off again (remembered).
 */
import { userTag, type MessageFrame } from '@parley/protocol';
import { mentions } from '../ui/attention.ts';
import type { ClientStorage } from './client-storage.ts';

/**
 * - `unsupported`: no Notification API (e.g. an iPhone browser outside the home screen).
 * - `blocked`: the reader refused the permission; only the browser's settings can change it.
 * - `off`: not asked yet, or turned off here.
 * - `on`: mentions notify.
 */
export type NotifyState = 'unsupported' | 'blocked' | 'off' | 'on';

type Permission = NotificationPermission | 'unsupported';

function currentPermission(): Permission {
  return typeof Notification === 'undefined' ? 'unsupported' : Notification.permission;
}

export class MentionNotifier {
  #permission = $state<Permission>(currentPermission());
  /** The reader's own choice; with the permission granted and no choice made, they are on. */
  #wanted = $state<boolean | null>(null);
  readonly #storage: ClientStorage;

  constructor(storage: ClientStorage) {
    this.#storage = storage;
    this.#wanted = storage.notifyMentions();
  }

  readonly state: NotifyState = $derived.by(() => {
    if (this.#permission === 'unsupported') return 'unsupported';
    if (this.#permission === 'denied') return 'blocked';
    return this.#permission === 'granted' && this.#wanted !== false ? 'on' : 'off';
  });

  /** Turns notifications on (asking the browser's permission the first time) or off. */
  async toggle(): Promise<void> {
    // Decided on what the reader saw when clicking, before looking at the permission again.
    if (this.state === 'on') {
      this.#choose(false);
      return;
    }
    this.#permission = currentPermission();
    if (this.#permission === 'default') this.#permission = await Notification.requestPermission();
    if (this.#permission === 'granted') this.#choose(true);
  }

  /**
   * Notifies about a message from someone else, if it mentions the reader and they are not
   * looking.
   *
   * @param message A new message (not history).
   * @param me The reader's display name.
   * @param hidden Whether the tab is hidden.
   */
  consider(message: MessageFrame, me: string, hidden: boolean): void {
    // The permission may have been changed in the browser's settings since.
    this.#permission = currentPermission();
    // A deleted message has no text, and so no mention.
    if (!hidden || this.state !== 'on' || message.text === undefined || !mentions(message.text, me)) return;
    // The sender's tag too: a notification is read without the room's member list beside it.
    const notification = new Notification(`${message.user.name} #${userTag(message.user.id)} in ${message.room}`, {
      body: message.text,
      // One notification per room: a newer mention replaces the older one.
      tag: `parley:${message.room}`,
    });
    notification.onclick = () => {
      window.focus();
      notification.close();
    };
  }

  #choose(on: boolean): void {
    this.#wanted = on;
    this.#storage.setNotifyMentions(on);
  }
}
