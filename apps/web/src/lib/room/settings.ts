/**
 * A room's settings as the client holds them (the owner's: topic, slow mode, read-only, unlisted,
 * invite-only), what a change of them says in the log, and what they mean for the reader's
 * composer. Pure: apply-frame.ts applies these, the views show them.
 */
import { DEFAULT_ROOM_SETTINGS, type Role, type RoomSettings, type SettingsFrame } from '@parley/protocol';

/** The settings in the order the log and the dialog list them. */
const FIELDS = ['topic', 'slowModeSeconds', 'readOnly', 'unlisted', 'inviteOnly'] as const;

/** One setting that changed, as a line of the log says it. */
export type SettingChange =
  /** The new topic; '' when it was removed. */
  | { setting: 'topic'; topic: string }
  /** Slow mode's new interval (0: off), and the one before (turned on, or changed). */
  | { setting: 'slowModeSeconds'; seconds: number; before: number }
  | { setting: 'readOnly' | 'unlisted' | 'inviteOnly'; on: boolean }
  /**
   * A change whose state before is not known here (the first a welcome without `since` lists:
   * the settings before it are older than anything the welcome holds), so not what changed but
   * the settings after it.
   */
  | { setting: 'settings'; settings: RoomSettings };

/** The settings a `settings` frame (or a welcome's) carries, without who changed them. */
export function settingsOf(frame: RoomSettings | SettingsFrame | undefined): RoomSettings {
  if (frame === undefined) return DEFAULT_ROOM_SETTINGS;
  const { topic, unlisted, inviteOnly, slowModeSeconds, readOnly } = frame;
  return { topic, unlisted, inviteOnly, slowModeSeconds, readOnly };
}

/** Whether two settings are the same in every field. */
export function sameSettings(a: RoomSettings, b: RoomSettings): boolean {
  return FIELDS.every((field) => a[field] === b[field]);
}

/** The fields of `wanted` that differ from `current`: what a `settings` frame needs to send. */
export function changedSettings(current: RoomSettings, wanted: RoomSettings): Partial<RoomSettings> {
  const changed: Partial<RoomSettings> = {};
  for (const field of FIELDS) if (wanted[field] !== current[field]) Object.assign(changed, { [field]: wanted[field] });
  return changed;
}

/**
 * What changed from `before` to `after`, one entry per setting, in the log's order. With `before`
 * unknown (undefined), one entry with the settings after the change: comparing them with any
 * settings held here (the defaults of a fresh page, or the settings now) would say things that
 * did not happen.
 */
export function settingsChanges(before: RoomSettings | undefined, after: RoomSettings): SettingChange[] {
  if (before === undefined) return [{ setting: 'settings', settings: after }];
  const changes: SettingChange[] = [];
  if (after.topic !== before.topic) changes.push({ setting: 'topic', topic: after.topic });
  if (after.slowModeSeconds !== before.slowModeSeconds)
    changes.push({ setting: 'slowModeSeconds', seconds: after.slowModeSeconds, before: before.slowModeSeconds });
  for (const setting of ['readOnly', 'unlisted', 'inviteOnly'] as const)
    if (after[setting] !== before[setting]) changes.push({ setting, on: after[setting] });
  return changes;
}

/** An interval of slow mode, short: "5 s", "1 min", "1 h", "90 s". */
export function slowModeInterval(seconds: number): string {
  if (seconds >= 3600 && seconds % 3600 === 0) return `${seconds / 3600} h`;
  if (seconds >= 60 && seconds % 60 === 0) return `${seconds / 60} min`;
  return `${seconds} s`;
}

/** The choices of the settings dialog, in seconds (0: off). */
export const SLOW_MODE_CHOICES: readonly number[] = [0, 5, 10, 30, 60, 300, 3600];

/** How the dialog names a choice of slow mode. */
export function slowModeChoiceLabel(seconds: number): string {
  return seconds === 0 ? 'Off' : slowModeInterval(seconds);
}

/** "Slow mode: one message every 30 s": what the composer of a member says while it is on. */
export function slowModeText(seconds: number): string {
  return `Slow mode: one message every ${slowModeInterval(seconds)}`;
}

/**
 * What a line of the log says after the name of who changed it: "set the topic: …",
 * "turned on slow mode: one message every 30 s", "made the room read-only".
 */
export function settingWords(change: SettingChange): string {
  switch (change.setting) {
    case 'topic':
      return change.topic === '' ? 'removed the topic' : `set the topic: ${change.topic}`;
    case 'slowModeSeconds':
      if (change.seconds === 0) return 'turned off slow mode';
      return `${change.before === 0 ? 'turned on' : 'changed'} slow mode: one message every ${slowModeInterval(change.seconds)}`;
    case 'readOnly':
      return change.on ? 'made the room read-only' : 'turned off read-only: everyone can post again';
    case 'unlisted':
      return change.on ? 'hid the room from the room list' : 'showed the room in the room list again';
    case 'inviteOnly':
      return change.on ? 'made the room invite-only' : 'opened the room to everyone';
    case 'settings':
      return `changed the room’s settings, now: ${settingsSummary(change.settings)}`;
  }
}

/**
 * The settings as a line says them, the topic and slow mode always, the others when on:
 * "topic “Quiet, please”; slow mode: one message every 30 s; read-only".
 */
export function settingsSummary(settings: RoomSettings): string {
  const parts = [
    settings.topic === '' ? 'no topic' : `topic “${settings.topic}”`,
    settings.slowModeSeconds === 0
      ? 'no slow mode'
      : `slow mode: one message every ${slowModeInterval(settings.slowModeSeconds)}`,
  ];
  if (settings.readOnly) parts.push('read-only');
  if (settings.unlisted) parts.push('hidden from the room list');
  if (settings.inviteOnly) parts.push('invite-only');
  return parts.join('; ');
}

/** The whole line as text, for screen readers and tests: "Olga made the room read-only". */
export function settingText(by: { name: string }, change: SettingChange): string {
  return `${by.name} ${settingWords(change)}`;
}

/**
 * How long the reader must still wait before posting (ms; 0: they may post): what is left of the
 * wait a `slow_mode` refusal gave, while slow mode is on and they are a member.
 *
 * @param until When the wait the server gave ends (ms since the epoch), or `null`.
 */
export function slowModeWait(settings: RoomSettings, role: Role, until: number | null, now: number): number {
  if (role !== 'member' || settings.slowModeSeconds === 0 || until === null) return 0;
  return Math.max(0, until - now);
}

/** A wait, rounded up to the second: "23 s", "4 min 10 s". */
export function waitText(ms: number): string {
  const seconds = Math.ceil(ms / 1000);
  if (seconds < 60) return `${seconds} s`;
  const rest = seconds % 60;
  return `${Math.floor(seconds / 60)} min${rest === 0 ? '' : ` ${rest} s`}`;
}

/** Whether the reader's composer is closed by a read-only room (the owner and moderators post). */
export function readOnlyFor(settings: RoomSettings, role: Role): boolean {
  return settings.readOnly && role === 'member';
}
