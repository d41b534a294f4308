/**
 * Consecutive join and leave frames, summed up as one line of the log: "Alice joined", "Alice
 * and Bob joined", "Alice, Bob, Carol and 9 others joined, Dave left". A flood of thousands of
 * arrivals stays one line of bounded size, and each frame costs O(1) to add (the line shows at
 * most {@link SHOWN_NAMES} names; everyone else is a count).
 */
import type { User } from '@parley/protocol';

/** How many names a presence line shows; the rest are counted. */
export const SHOWN_NAMES = 3;

/**
 * What happened to one person during the run, from their first and last frame in it. Someone who
 * came and went ("joined and left") is told apart from someone who is here now.
 */
export type PresenceChange = 'joined' | 'left' | 'joined and left' | 'left and came back';

/** The changes in the order a line lists them. */
export const PRESENCE_CHANGES: readonly PresenceChange[] = ['joined', 'left', 'joined and left', 'left and came back'];

/** The people with one change: a few by name, the others as a number. */
export interface PresencePart {
  change: PresenceChange;
  /** Named people, in the order they first appeared in the run. */
  named: readonly User[];
  /** How many more people made this change. */
  others: number;
}

/** A summary of a run, as a line of the log shows it. */
export interface PresenceSummary {
  /** At least one part; one per change someone made, in {@link PRESENCE_CHANGES} order. */
  parts: readonly PresencePart[];
  /** When the latest frame of the run happened (server time, ms). */
  ts: number;
  /** Distinct people in the run. */
  people: number;
}

interface Person {
  user: User;
  first: 'join' | 'leave';
  last: 'join' | 'leave';
}

function changeOf(person: Person): PresenceChange {
  if (person.first === 'join') return person.last === 'join' ? 'joined' : 'joined and left';
  return person.last === 'leave' ? 'left' : 'left and came back';
}

/** The frames of one run. Mutable; {@link summary} gives an immutable picture of it. */
export class PresenceRun {
  readonly #people = new Map<string, Person>();
  readonly #counts: Record<PresenceChange, number> = {
    joined: 0,
    left: 0,
    'joined and left': 0,
    'left and came back': 0,
  };
  /** The first few people of the run: the only ones ever named. */
  readonly #named: Person[] = [];
  #ts = 0;

  /**
   * Adds a frame: O(1).
   *
   * @param action `join` or `leave`.
   * @param user Who (a known id with a new name takes the new name).
   * @param ts The frame's time.
   */
  add(action: 'join' | 'leave', user: User, ts: number): void {
    this.#ts = Math.max(this.#ts, ts);
    const known = this.#people.get(user.id);
    if (known === undefined) {
      const person: Person = { user, first: action, last: action };
      this.#people.set(user.id, person);
      this.#counts[changeOf(person)] += 1;
      if (this.#named.length < SHOWN_NAMES) this.#named.push(person);
      return;
    }
    this.#counts[changeOf(known)] -= 1;
    known.last = action;
    known.user = user;
    this.#counts[changeOf(known)] += 1;
  }

  /** The run as a line shows it: O({@link SHOWN_NAMES}). */
  summary(): PresenceSummary {
    const parts: PresencePart[] = [];
    for (const change of PRESENCE_CHANGES) {
      const count = this.#counts[change];
      if (count === 0) continue;
      const named = this.#named.filter((p) => changeOf(p) === change).map((p) => p.user);
      parts.push({ change, named, others: count - named.length });
    }
    return { parts, ts: this.#ts, people: this.#people.size };
  }
}

/** A piece of a presence line: a person's name (a view may style or shorten it) or plain words. */
export type PresenceSegment = { kind: 'name'; text: string; userId: string } | { kind: 'words'; text: string };

/**
 * The line in pieces: "Alice", "Alice and Bob", "Alice, Bob and 3 others", "12 people", each
 * followed by what they did, the parts separated by commas.
 */
export function presenceSegments(summary: PresenceSummary): PresenceSegment[] {
  const segments: PresenceSegment[] = [];
  const words = (text: string) => segments.push({ kind: 'words', text });
  summary.parts.forEach((part, p) => {
    if (p > 0) words(', ');
    const items: PresenceSegment[] = part.named.map((user) => ({ kind: 'name', text: user.name, userId: user.id }));
    if (part.others > 0) {
      const noun =
        part.named.length === 0 ? (part.others === 1 ? 'person' : 'people') : part.others === 1 ? 'other' : 'others';
      items.push({ kind: 'words', text: `${part.others} ${noun}` });
    }
    items.forEach((item, i) => {
      if (i > 0) words(i === items.length - 1 ? ' and ' : ', ');
      segments.push(item);
    });
    words(` ${part.change}`);
  });
  return segments;
}

/** The whole line as text: "Alice, Bob and 3 others joined, Carol left". */
export function presenceText(summary: PresenceSummary): string {
  return presenceSegments(summary)
    .map((segment) => segment.text)
    .join('');
}
