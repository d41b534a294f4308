#!/usr/bin/env node
// The two quick-start commands, with nothing but Node 20+ and npm on the machine:
//   npm start  — install, build, and serve Parley (web app, API, WebSocket) on :3000
//   npm test   — install, build, and run every test suite; ends with "N passed, N failed"
// pnpm is taken at the version pinned in package.json (through npx when it is not installed).
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outputDir = join(root, '.test-output');
const pinned = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).packageManager; // "pnpm@x.y.z"

function log(message) {
  console.log(`\n▶ ${message}`);
}

/** Runs a command in the foreground; returns its exit code (or throws when `mustPass`). */
function run(command, args, { cwd = root, env = process.env, mustPass = true } = {}) {
  const result = spawnSync(command, args, { cwd, env, stdio: 'inherit' });
  const code = result.status ?? 1;
  if (mustPass && code !== 0) {
    console.error(`\n✖ ${command} ${args.join(' ')} failed (exit ${code})`);
    process.exit(code);
  }
  return code;
}

/**
 * Runs a test suite in its own process group, bounded in time: a suite that hangs (a test
 * waiting on something that never comes) is killed with everything it started, counted as
 * failed, and the other suites still run. Resolves with the exit code (124 on timeout).
 */
function runBounded(command, args, { cwd = root, timeoutMs, logFile }) {
  return new Promise((resolve) => {
    // With a log file, the output goes there (a suite running beside others), else to the terminal.
    const out = logFile === undefined ? 'inherit' : openSync(logFile, 'w');
    const child = spawn(command, args, { cwd, stdio: ['ignore', out, out], detached: true });
    if (typeof out === 'number') closeSync(out);
    // Its own group does not get the terminal's Ctrl-C: pass it on.
    const interrupt = () => {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } finally {
        process.exit(130);
      }
    };
    process.once('SIGINT', interrupt);
    const timer = setTimeout(() => {
      console.error(
        `\n✖ ${command} ${args.slice(0, 3).join(' ')} … still running after ${timeoutMs / 60_000} min: killed`,
      );
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
      resolve(124);
    }, timeoutMs);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      process.off('SIGINT', interrupt);
      // Whatever the suite left behind (a test's redis-server, a server process) goes with it.
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // nothing left
      }
      resolve(code ?? (signal ? 1 : 0));
    });
  });
}

function has(command, args = ['--version']) {
  return spawnSync(command, args, { stdio: 'ignore' }).status === 0;
}

/** The pinned pnpm: the installed one if it is that version, else through npx. */
function pnpm() {
  const version = pinned.split('@')[1];
  const installed = spawnSync('pnpm', ['--version'], { encoding: 'utf8' });
  if (installed.status === 0 && installed.stdout.trim() === version) return ['pnpm', []];
  return ['npx', ['--yes', pinned]];
}

function runPnpm(args, options) {
  const [command, prefix] = pnpm();
  return run(command, [...prefix, ...args], options);
}

function installAndBuild() {
  log(`Installing dependencies (${pinned})`);
  runPnpm(['install', '--frozen-lockfile']);
  log('Building the protocol package, the server and the web app');
  runPnpm(['run', 'build']);
}

/** Installs the system packages the tests need, or says exactly what to install. */
function ensureSystemPackages() {
  const missing = [];
  if (!has('redis-server')) missing.push('redis-server');
  // redis-cli creates the Redis Cluster of the cluster tests (redis-tools, which redis-server depends on).
  if (!has('redis-cli') && !missing.includes('redis-server')) missing.push('redis-tools');
  if (!existsSync('/usr/bin/chromium')) missing.push('chromium');
  if (missing.length === 0) return;
  const isRoot = process.getuid?.() === 0;
  if (isRoot && has('apt-get', ['--version'])) {
    log(`Installing ${missing.join(', ')} with apt-get`);
    run('apt-get', ['update', '-qq']);
    run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], {
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
    return;
  }
  console.error(
    `\n✖ The tests need ${missing.join(' and ')}. Install them and run again, e.g.:\n` +
      `    sudo apt-get install -y ${missing.join(' ')}\n` +
      '  (Chromium must be at /usr/bin/chromium; Playwright does not download browsers here.)',
  );
  process.exit(1);
}

/** Counts from a TAP stream written by node's test runner. */
function tapCounts(file) {
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const count = (name) => Number(text.match(new RegExp(`^# ${name} (\\d+)$`, 'm'))?.[1] ?? 0);
  return { passed: count('pass'), failed: count('fail') + count('cancelled') };
}

/**
 * Runs one package's node:test files (every `*.test.ts` under testDir, but for the subfolders
 * listed in `except`, which are suites of their own), showing spec output and keeping TAP for
 * the totals.
 */
async function nodeTestSuite(name, dir, testDir, except = [], timeoutMinutes = 15) {
  log(`Test suite: ${name}`);
  const cwd = join(root, dir);
  // Test files anywhere under testDir (a folder per concern may hold its own).
  const files = readdirSync(join(cwd, testDir), { recursive: true })
    .map(String)
    .filter((f) => f.endsWith('.test.ts') && !except.some((folder) => f.startsWith(`${folder}/`)))
    .sort()
    .map((f) => join(testDir, f));
  const tap = join(outputDir, `${name}.tap`);
  const code = await runBounded(
    'node',
    [
      '--import',
      'tsx',
      '--test',
      '--test-concurrency=1',
      // A test that hangs fails after 4 minutes instead of holding the suite. (Not
      // --test-force-exit: it ends the run before the TAP file the totals come from is written;
      // a file that never exits is ended with its suite, below.)
      '--test-timeout=240000',
      '--test-reporter=spec',
      '--test-reporter-destination=stdout',
      '--test-reporter=tap',
      `--test-reporter-destination=${tap}`,
      ...files,
    ],
    { cwd, timeoutMs: timeoutMinutes * 60_000 },
  );
  const counts = tapCounts(tap);
  // A crash before any test ran still has to count as a failure.
  if (code !== 0 && counts.failed === 0) counts.failed = 1;
  return { name, ...counts };
}

function commandSuite(name, command, args) {
  log(`Check: ${name}`);
  const code = run(command, args, { mustPass: false });
  return { name, passed: code === 0 ? 1 : 0, failed: code === 0 ? 0 : 1 };
}

/** The end-to-end suite; with `logFile`, its output goes there (it runs beside the other suites). */
async function e2eSuite(logFile) {
  log(
    `Test suite: end-to-end (Playwright, Debian Chromium)${logFile ? ', beside the others; its output follows theirs' : ''}`,
  );
  const report = join(outputDir, 'e2e.json');
  rmSync(report, { force: true });
  const [command, prefix] = pnpm();
  const code = await runBounded(command, [...prefix, 'exec', 'playwright', 'test'], {
    timeoutMs: 30 * 60_000,
    logFile,
  });
  let passed = 0;
  let failed = 0;
  if (existsSync(report)) {
    const stats = JSON.parse(readFileSync(report, 'utf8')).stats ?? {};
    passed = (stats.expected ?? 0) + (stats.flaky ?? 0);
    failed = (stats.unexpected ?? 0) + (stats.skipped ?? 0);
  }
  if (code !== 0 && failed === 0) failed = 1;
  return { name: 'e2e', passed, failed };
}

async function test() {
  ensureSystemPackages();
  installAndBuild();
  rmSync(outputDir, { recursive: true, force: true });
  mkdirSync(outputDir, { recursive: true });

  const results = [];
  // The end-to-end suite runs beside the others, which halves the wall time on two cores: it
  // mostly waits on the browser, its servers listen on fixed ports below the ephemeral range and
  // every other suite takes ports from the kernel. PARLEY_TEST_SERIAL=1 runs it last instead.
  const serial = process.env.PARLEY_TEST_SERIAL === '1';
  const e2eLog = join(outputDir, 'e2e.log');
  const e2eRun = serial ? undefined : e2eSuite(e2eLog);
  const [pnpmCommand, pnpmPrefix] = pnpm();
  results.push(commandSuite('typecheck', pnpmCommand, [...pnpmPrefix, '-r', 'run', 'typecheck']));
  results.push(commandSuite('lint', pnpmCommand, [...pnpmPrefix, 'run', 'lint']));
  results.push(await nodeTestSuite('protocol', 'packages/protocol', 'src'));
  results.push(await nodeTestSuite('client', 'packages/client', 'test'));
  results.push(await nodeTestSuite('web-unit', 'apps/web', 'src/lib'));
  results.push(await nodeTestSuite('server', 'apps/server', 'test', ['faults', 'abuse', 'cluster']));
  results.push(await nodeTestSuite('server-faults', 'apps/server', 'test/faults'));
  results.push(await nodeTestSuite('server-abuse', 'apps/server', 'test/abuse'));
  results.push(await nodeTestSuite('server-cluster', 'apps/server', 'test/cluster'));
  results.push(await nodeTestSuite('bench-smoke', 'bench', 'test'));
  results.push(commandSuite('docker-compose', 'bash', ['scripts/check-compose.sh']));
  if (e2eRun === undefined) results.push(await e2eSuite());
  else {
    const e2eResult = await e2eRun;
    log('End-to-end suite output');
    process.stdout.write(existsSync(e2eLog) ? readFileSync(e2eLog, 'utf8') : '(no output)\n');
    results.push(e2eResult);
  }

  console.log('\nSuite totals:');
  for (const r of results) console.log(`  ${r.name.padEnd(16)} ${r.passed} passed, ${r.failed} failed`);
  const passed = results.reduce((n, r) => n + r.passed, 0);
  const failed = results.reduce((n, r) => n + r.failed, 0);
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed === 0 && passed > 0 ? 0 : 1);
}

/** The Node flags of the server's own start script (`node <flags> dist/server.js`), so both start it alike. */
function serverNodeFlags() {
  const { scripts } = JSON.parse(readFileSync(join(root, 'apps/server/package.json'), 'utf8'));
  return scripts.start.split(/\s+/).filter((word) => word.startsWith('--'));
}

function start() {
  installAndBuild();
  const env = { ...process.env, WEB_DIST_DIR: process.env.WEB_DIST_DIR ?? join(root, 'apps/web/dist') };
  log(`Starting Parley on http://localhost:${env.PORT ?? 3000} (${env.REDIS_URL ? 'Redis engine' : 'memory engine'})`);
  const server = spawn('node', [...serverNodeFlags(), join(root, 'apps/server/dist/server.js')], {
    env,
    stdio: 'inherit',
  });
  // Pass Ctrl-C and SIGTERM on, so the server shuts down gracefully.
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => server.kill(signal));
  server.on('exit', (code) => process.exit(code ?? 0));
}

const command = process.argv[2];
if (command === 'start') start();
else if (command === 'test') await test();
else {
  console.error('usage: node scripts/quickstart.mjs start|test');
  process.exit(2);
}
