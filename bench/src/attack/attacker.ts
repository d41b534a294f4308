// The attacker process: runs one attack when the harness says so (over IPC), tells it the moment
// the attack proper ends ("stopped"), and sends back what the attack achieved ("done").
import { runAttack } from './attacks.ts';
import type { AttackRequest } from './types.ts';

if (process.send === undefined) {
  console.error('attacker.ts runs as a child of the attack harness (bench/src/attack/cli.ts)');
  process.exit(2);
}
const send = (event: Record<string, unknown>) => process.send?.(event);

process.on('message', (msg: { cmd: 'run'; request: AttackRequest }) => {
  if (msg.cmd !== 'run') return;
  let stopped = false;
  const stop = () => {
    if (!stopped) send({ event: 'stopped' });
    stopped = true;
  };
  runAttack(msg.request, stop).then(
    (outcome) => send({ event: 'done', outcome }),
    (err: unknown) => {
      stop();
      send({ event: 'done', error: (err as Error).stack ?? String(err) });
    },
  );
});
// The harness went away: so does the attack.
process.on('disconnect', () => process.exit(0));
send({ event: 'ready' });
