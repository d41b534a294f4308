/**
 * The README's bot, run as it is written (its code block, with the server's address and the
 * package's source put in) against a real server: it answers "!ping" with "pong" as a reply, and
 * after a restart it is the same person, thanks to the token it kept.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, test, type TestContext } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { MessageFrame } from '@parley/protocol';
import { ParleyRoom } from '../../src/index.ts';
import { startServer, type ServerProcess } from '../helpers/processes.ts';
import { until } from '../helpers/sockets.ts';

const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The README's bot example: the first js code block after "## A bot". */
function readmeBot(): string {
  const readme = readFileSync(join(packageDir, 'README.md'), 'utf8');
  const block = /## A bot[\s\S]*?```js\n([\s\S]*?)```/.exec(readme)?.[1];
  if (block === undefined) throw new Error('no bot example in the README');
  return block;
}

let server: ServerProcess;
const workDir = mkdtempSync(join(tmpdir(), 'parley-bot-'));

before(async () => {
  server = await startServer({});
});

after(async () => {
  await server?.stop();
  rmSync(workDir, { recursive: true, force: true });
});

/** Starts the bot in its own process, in `workDir` (where it keeps bot.token). */
async function startBot(t: TestContext): Promise<ChildProcess> {
  const source = readmeBot()
    .replace("'http://localhost:3000'", `'${server.httpUrl}'`)
    .replace("'@parley/client'", `'${pathToFileURL(join(packageDir, 'src', 'index.ts')).href}'`);
  const file = join(workDir, 'bot.mjs');
  writeFileSync(file, source);
  // tsx by its own address: the bot runs outside the package, where `tsx` alone does not resolve.
  const bot = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), file], {
    cwd: workDir,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  t.after(() => bot.kill('SIGKILL'));
  let output = '';
  bot.stdout?.on('data', (data) => (output += String(data)));
  await until(() => output.includes('in lobby as PingBot'), 'the bot to say it is in', 20_000);
  return bot;
}

/** Sends "!ping" as a person and returns the bot's reply to it. */
async function ping(t: TestContext): Promise<MessageFrame> {
  const person = new ParleyRoom({ server: server.httpUrl, room: 'lobby', name: 'Ann' });
  t.after(() => person.close());
  const replies: MessageFrame[] = [];
  person.on('message', (message) => {
    if (message.text === 'pong') replies.push(message);
  });
  await person.connect();
  const { id } = await person.send('!ping');
  await until(() => replies.some((m) => m.replyTo?.id === id), 'the pong', 10_000);
  return replies.find((m) => m.replyTo?.id === id)!;
}

test("the README's bot answers !ping with pong, and stays the same person after a restart", async (t) => {
  const bot = await startBot(t);
  const first = await ping(t);
  assert.equal(first.user.name, 'PingBot');
  // The bot writes its token without waiting (writeFile on the 'token' event): on a busy
  // machine the pong can come before the file is whole.
  const tokenFile = join(workDir, 'bot.token');
  await until(
    () => existsSync(tokenFile) && readFileSync(tokenFile, 'utf8').startsWith(`${first.user.id}.`),
    'the bot to keep its token',
    10_000,
  );
  bot.kill('SIGKILL');

  await startBot(t);
  const second = await ping(t);
  assert.equal(second.user.id, first.user.id);
});
