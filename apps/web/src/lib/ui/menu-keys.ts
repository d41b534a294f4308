/**
 * Where a key moves the focus in a menu of `count` items whose item `at` has it (-1: none yet):
 * ArrowDown and ArrowUp step, round from one end to the other; Home and End go to the ends.
 * Undefined for any other key (or an empty menu): the key is not the menu's to handle.
 */
export function menuKeyTarget(key: string, at: number, count: number): number | undefined {
  if (count === 0) return undefined;
  switch (key) {
    case 'ArrowDown':
      return at < 0 ? 0 : (at + 1) % count;
    case 'ArrowUp':
      return at <= 0 ? count - 1 : at - 1;
    case 'Home':
      return 0;
    case 'End':
      return count - 1;
    default:
      return undefined;
  }
}
