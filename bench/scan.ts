/**
 * `npm run bench:scan` — pubgate's scanner against secretlint (recommended preset) and ripgrep with
 * the same token formats, on a corpus of real third-party text (the installed node_modules) with
 * secrets and decoys planted at recorded places. Prints MB/s, recall, precision and peak RSS.
 *
 *   npm run bench:scan                     # >= 200 MB corpus, all three tools
 *   npm run bench:scan -- --secretlint-mb 40   # secretlint on a 40 MB slice (it is slow); 0 = whole corpus
 *   npm run bench:scan -- --big            # one 2 GB file: pubgate throughput and peak RSS
 *   npm run bench:scan -- --git            # 10,000-commit repository: pubgate --git vs git log -p --all | rg
 *
 * The corpus lives in bench/.corpus (git-ignored). No planted value is ever printed.
 */
import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
  createWriteStream,
} from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { once } from 'node:events';
import { BUILTIN_RULES } from '../src/scan/rules.ts';
import { badChecksum, plantedSecrets, randomBase62 } from '../test/fixtures/scan/secrets.ts';

const root = new URL('..', import.meta.url).pathname;
const corpusDir = join(root, 'bench', '.corpus');
const args = process.argv.slice(2);
const flag = (name: string): boolean => args.includes(name);
const option = (name: string, fallback: number): number => {
  const i = args.indexOf(name);
  return i === -1 ? fallback : Number(args[i + 1]);
};
const TEXT =
  /\.(?:js|mjs|cjs|ts|mts|cts|json|md|markdown|txt|yml|yaml|map|d\.ts|html|css|flow|jsx|tsx|lock|cfg|ini)$/i;

interface Planted {
  readonly file: string;
  readonly line: number;
  readonly secret: boolean;
}

function hasRg(): boolean {
  return spawnSync('rg', ['--version']).status === 0;
}

/** Runs a command under GNU time; returns wall seconds, peak RSS (MB) and stdout. */
function measure(
  cmd: string,
  argv: string[],
  options: { cwd?: string; shell?: boolean } = {},
): { seconds: number; rssMb: number; stdout: string; stderr: string; status: number } {
  const rssFile = join(corpusDir, `rss-${process.pid}.txt`);
  const started = performance.now();
  const result = spawnSync('/usr/bin/time', ['-f', '%M', '-o', rssFile, cmd, ...argv], {
    cwd: options.cwd ?? root,
    encoding: 'utf8',
    maxBuffer: 1024 * 1024 * 1024,
    env: { ...process.env, NO_COLOR: '1' },
  });
  const seconds = (performance.now() - started) / 1000;
  const rssKb = Number(readFileSync(rssFile, 'utf8').trim().split('\n').pop());
  rmSync(rssFile, { force: true });
  return {
    seconds,
    rssMb: rssKb / 1024,
    stdout: result.stdout ?? '',
    stderr: result.stderr ?? '',
    status: result.status ?? -1,
  };
}

/** ripgrep versions of the rules' regexes (no look-around, no back-references, line-oriented). */
function ripgrepPatterns(): string[] {
  const override: Record<string, string> = {
    'private-key': '-----BEGIN[ A-Z0-9]{0,20}PRIVATE KEY( BLOCK)?-----',
    'putty-private-key': 'PuTTY-User-Key-File-\\d: ',
    'kubernetes-secret': 'kind: *["\']?Secret',
  };
  return BUILTIN_RULES.map((rule) => {
    if (override[rule.id] !== undefined) return override[rule.id]!;
    const source = rule
      .pattern!.source.replace('\\k<q>(?![^\\s,;)\\]}])', '')
      .replace(/\(\?<[!=](?:[^()[]|\[[^\]]*\]|\([^()]*\))*\)/g, '')
      .replace(/\(\?[!=](?:[^()[]|\[[^\]]*\]|\([^()]*\))*\)/g, '')
      .replace(/\(\?<([a-z]+)>/g, '(?:')
      .replace(/\\\//g, '/')
      .split('<>[\\]')
      .join('<>\\[\\]')
      .replace(/\\s/g, '[ \\t]');
    return (rule.pattern!.flags.includes('i') ? '(?i)' : '') + source;
  });
}

function listTextFiles(dir: string, out: string[]): string[] {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== '.corpus' && entry.name !== '.bin') listTextFiles(path, out);
    } else if (entry.isFile() && TEXT.test(entry.name)) {
      const size = statSync(path).size;
      if (size > 0 && size < 4 * 1024 * 1024) out.push(path);
    }
  }
  return out;
}

/** One-line planted secrets (the formats every tool is asked about) and decoys. */
function secretLines(): string[] {
  return plantedSecrets()
    .filter(
      (item) =>
        item.path === undefined && item.text.trim().split('\n').length === 1 && item.secret.length > 0,
    )
    .map((item) => item.text.trim());
}

function decoyLines(): string[] {
  const j = (...parts: string[]): string => parts.join('');
  return [
    `token = "${badChecksum(j('npm', '_'))}"`,
    `auth: "${badChecksum(j('gh', 'p_'))}"`,
    `//registry.npmjs.org/:_authToken=\${NPM_TOKEN}`,
    `NPM_TOKEN: \${{ secrets.NPM_TOKEN }}`,
    `api_key = "<YOUR_API_KEY>"`,
    j('aws_access_key_id = AKIA', 'IOSFODNN7', 'EXAMPLE'),
    j('value: gl', 'pat-', 'x'.repeat(20)),
    `"integrity": "sha512-${Buffer.from(randomBase62(64)).toString('base64')}"`,
    `client_secret = "${'0123abcd'}-1234-4abc-8def-${'0123456789ab'}"`,
    j('value: AI', 'za', 'x'.repeat(35)),
    `password: "\${DB_PASSWORD}"`,
    `https://user:password@registry.internal/`,
  ];
}

function buildCorpus(targetMb: number): { dir: string; planted: Planted[]; bytes: number } {
  const dir = join(corpusDir, 'tree');
  const manifest = join(corpusDir, 'planted.json');
  if (existsSync(manifest) && !flag('--fresh')) {
    const saved = JSON.parse(readFileSync(manifest, 'utf8')) as {
      planted: Planted[];
      bytes: number;
      targetMb: number;
    };
    if (saved.targetMb === targetMb) return { dir, planted: saved.planted, bytes: saved.bytes };
  }
  rmSync(dir, { recursive: true, force: true });
  const sources = listTextFiles(join(root, 'node_modules'), []);
  let bytes = 0;
  const copies: string[] = [];
  for (let round = 0; bytes < targetMb * 1e6; round++) {
    for (const source of sources) {
      const target = join(dir, `copy${round}`, relative(join(root, 'node_modules'), source));
      mkdirSync(dirname(target), { recursive: true });
      copyFileSync(source, target);
      copies.push(target);
      bytes += statSync(source).size;
      if (bytes >= targetMb * 1e6) break;
    }
  }
  // Plant secrets and decoys on lines of their own, in files picked at random, and record where.
  const planted: Planted[] = [];
  const secrets = secretLines();
  const decoys = decoyLines();
  const plant = (line: string, secret: boolean): void => {
    const file = copies[Math.floor(Math.random() * copies.length)]!;
    const lines = readFileSync(file, 'latin1').split('\n');
    const at = Math.floor(Math.random() * lines.length);
    lines.splice(at, 0, line);
    // Earlier plants in the same file below `at` move down by one.
    for (const p of planted)
      if (p.file === relative(dir, file) && p.line >= at + 1) (p as { line: number }).line++;
    writeFileSync(file, lines.join('\n'), 'latin1');
    planted.push({ file: relative(dir, file), line: at + 1, secret });
  };
  for (let i = 0; i < 8; i++) {
    for (const line of secretLines()) plant(line, true);
    for (const line of decoyLines()) plant(line, false);
  }
  void secrets;
  void decoys;
  writeFileSync(manifest, JSON.stringify({ planted, bytes, targetMb }));
  return { dir, planted, bytes };
}

interface Score {
  readonly recall: number;
  readonly precision: number;
  readonly background: number;
}

function score(
  reported: Iterable<string>,
  planted: readonly Planted[],
  scope?: (file: string) => boolean,
): Score {
  const hits = new Set(reported);
  const considered = planted.filter((p) => scope === undefined || scope(p.file));
  const secrets = considered.filter((p) => p.secret);
  const tp = secrets.filter((p) => hits.has(`${p.file}:${p.line}`)).length;
  const fp = considered.filter((p) => !p.secret && hits.has(`${p.file}:${p.line}`)).length;
  const plantedKeys = new Set(considered.map((p) => `${p.file}:${p.line}`));
  const background = [...hits].filter((k) => !plantedKeys.has(k)).length;
  return {
    recall: secrets.length === 0 ? 1 : tp / secrets.length,
    precision: tp + fp === 0 ? 1 : tp / (tp + fp),
    background,
  };
}

function row(
  name: string,
  mb: number,
  seconds: number,
  rssMb: number,
  s: Score | undefined,
  note = '',
): string {
  const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;
  return [
    name.padEnd(22),
    `${(mb / seconds).toFixed(1).padStart(8)} MB/s`,
    `${seconds.toFixed(1).padStart(7)} s`,
    `${rssMb.toFixed(0).padStart(6)} MB RSS`,
    s === undefined
      ? ''
      : `recall ${pct(s.recall).padStart(6)}  precision ${pct(s.precision).padStart(6)}  other hits ${s.background}`,
    note,
  ].join('  ');
}

function runPubgate(
  target: string,
  extra: string[] = [],
): { seconds: number; rssMb: number; findings: Array<{ path: string; line: number; ruleId: string }> } {
  const run = measure(process.execPath, [
    join(root, 'bin', 'pubgate.js'),
    'scan',
    target,
    '--no-ignore',
    '--format',
    'json',
    '--no-progress',
    ...extra,
  ]);
  if (run.status !== 0 && run.status !== 1) throw new Error(`pubgate exited with ${run.status}`);
  const report = JSON.parse(run.stdout) as {
    findings: Array<{ path: string; line: number; ruleId: string }>;
  };
  return { seconds: run.seconds, rssMb: run.rssMb, findings: report.findings };
}

function benchCorpus(): void {
  const targetMb = option('--mb', 200);
  console.log(`Building corpus (>= ${targetMb} MB of node_modules text) in ${relative(root, corpusDir)}/ …`);
  const { dir, planted, bytes } = buildCorpus(targetMb);
  const mb = bytes / 1e6;
  console.log(
    `Corpus: ${mb.toFixed(0)} MB, ${planted.filter((p) => p.secret).length} planted secrets, ${planted.filter((p) => !p.secret).length} decoys, ${availableParallelism()} cores.\n`,
  );
  const lines: string[] = [];

  const pub = runPubgate(dir);
  const pubScore = score(
    pub.findings.map((f) => `${relative(dir, f.path)}:${f.line}`),
    planted,
  );
  lines.push(row('pubgate', mb, pub.seconds, pub.rssMb, pubScore));

  if (hasRg()) {
    const patterns = join(corpusDir, 'rg-patterns.txt');
    writeFileSync(patterns, `${ripgrepPatterns().join('\n')}\n`);
    const rg = measure('rg', ['-uuu', '-n', '--no-heading', '--no-messages', '-f', patterns, '.'], {
      cwd: dir,
    });
    const hits = rg.stdout.split('\n').flatMap((line) => {
      const m = /^(?:\.\/)?(.+?):(\d+):/.exec(line);
      return m === null ? [] : [`${m[1]}:${m[2]}`];
    });
    lines.push(row('ripgrep (same formats)', mb, rg.seconds, rg.rssMb, score(hits, planted)));
  } else {
    lines.push('ripgrep: not installed (apt-get install -y ripgrep); skipped');
  }

  // secretlint is slow: by default it runs on a slice of the corpus (whole copies of packages) and
  // its throughput and recall are measured on that slice.
  const sliceMb = option('--secretlint-mb', 40);
  const rc = join(corpusDir, '.secretlintrc.json');
  writeFileSync(rc, JSON.stringify({ rules: [{ id: '@secretlint/secretlint-rule-preset-recommend' }] }));
  const sliceDirs: string[] = [];
  let sliceBytes = 0;
  const top = join(dir, 'copy0');
  for (const name of readdirSync(top).sort()) {
    if (sliceMb > 0 && sliceBytes >= sliceMb * 1e6) break;
    const size = dirBytes(join(top, name));
    sliceDirs.push(name);
    sliceBytes += size;
  }
  const inSlice = (file: string): boolean =>
    sliceMb === 0 || sliceDirs.some((d) => file.startsWith(`copy0/${d}/`));
  const slOut = join(corpusDir, 'secretlint.json');
  // Relative globs from inside the corpus: secretlint's globbing skips dot-folders such as .corpus.
  const globs =
    sliceMb === 0
      ? ['**/*']
      : sliceDirs.map((d) => (statSync(join(top, d)).isDirectory() ? `copy0/${d}/**/*` : `copy0/${d}`));
  const sl = measure(
    process.execPath,
    [
      join(root, 'node_modules', 'secretlint', 'bin', 'secretlint.js'),
      ...globs,
      '--secretlintrc',
      rc,
      '--format',
      'json',
      '--no-color',
      '--output',
      slOut,
    ],
    { cwd: dir },
  );
  let slHits: string[] = [];
  try {
    const results = JSON.parse(readFileSync(slOut, 'utf8')) as Array<{
      filePath: string;
      messages: Array<{ loc: { start: { line: number } } }>;
    }>;
    slHits = results.flatMap((r) =>
      r.messages.map((m) => `${relative(dir, r.filePath)}:${m.loc.start.line}`),
    );
  } catch {
    lines.push(`secretlint: could not parse its output (exit ${sl.status}): ${sl.stderr.slice(0, 300)}`);
  }
  const slMb = sliceMb === 0 ? mb : sliceBytes / 1e6;
  lines.push(
    row(
      'secretlint (recommend)',
      slMb,
      sl.seconds,
      sl.rssMb,
      score(slHits, planted, inSlice),
      sliceMb === 0 ? '' : `(on a ${slMb.toFixed(0)} MB slice)`,
    ),
  );
  const pubSlice = score(
    pub.findings.map((f) => `${relative(dir, f.path)}:${f.line}`),
    planted,
    inSlice,
  );
  lines.push(
    `${''.padEnd(22)}  pubgate on the same slice: recall ${(pubSlice.recall * 100).toFixed(1)}%  precision ${(pubSlice.precision * 100).toFixed(1)}%`,
  );
  console.log(lines.join('\n'));
  console.log(
    '\n"other hits": matches outside the planted lines (real text of node_modules that looks like a secret).',
  );
}

function dirBytes(path: string): number {
  const info = statSync(path);
  if (!info.isDirectory()) return info.size;
  return readdirSync(path).reduce((sum, name) => sum + dirBytes(join(path, name)), 0);
}

async function benchBig(): Promise<void> {
  const sizeMb = option('--big-mb', 2048);
  const file = join(corpusDir, 'big.txt');
  const planted: Planted[] = [];
  const text = Buffer.from(
    listTextFiles(join(root, 'node_modules', 'typescript', 'lib'), [])
      .slice(0, 20)
      .map((f) => readFileSync(f, 'latin1'))
      .join('\n'),
    'latin1',
  );
  const linesPerBlock = text.toString('latin1').split('\n').length - 1;
  mkdirSync(corpusDir, { recursive: true });
  console.log(`Writing one ${sizeMb} MB file to ${relative(root, file)} …`);
  const out = createWriteStream(file);
  let written = 0;
  let line = 1;
  let block = 0;
  const secrets = secretLines();
  while (written < sizeMb * 1024 * 1024) {
    if (!out.write(text)) await once(out, 'drain');
    written += text.length;
    line += linesPerBlock;
    const secret = secrets[block++ % secrets.length]!;
    out.write(`\n${secret}\n`);
    written += secret.length + 2;
    planted.push({ file: 'big.txt', line: line + 1, secret: true });
    line += 2;
  }
  out.end();
  await once(out, 'finish');
  const mb = statSync(file).size / 1e6;
  const pub = runPubgate(file);
  const s = score(
    pub.findings.map((f) => `big.txt:${f.line}`),
    planted,
  );
  console.log(row('pubgate (one file)', mb, pub.seconds, pub.rssMb, s));
  console.log(`Target: peak RSS under 300 MB — ${pub.rssMb < 300 ? 'met' : 'NOT met'}.`);
  if (!flag('--keep')) rmSync(file, { force: true });
}

function benchGit(): void {
  const commits = option('--commits', 10_000);
  const repo = join(corpusDir, 'git-repo');
  if (!existsSync(join(repo, '.git')) || flag('--fresh')) {
    rmSync(repo, { recursive: true, force: true });
    mkdirSync(repo, { recursive: true });
    spawnSync('git', ['init', '-q', '-b', 'main'], { cwd: repo });
    console.log(`Generating a repository with ${commits} commits (git fast-import) …`);
    // Each commit rewrites a slice of real text in one of 200 files; some commits add a secret that
    // a later commit deletes.
    const sources = listTextFiles(join(root, 'node_modules'), [])
      .filter((f) => statSync(f).size < 64_000)
      .slice(0, 2000);
    const secrets = secretLines();
    let stream = '';
    const chunks: string[] = [];
    for (let i = 0; i < commits; i++) {
      const path = `src/file${i % 200}.txt`;
      let body = readFileSync(sources[i % sources.length]!, 'latin1').slice(0, 8000);
      if (i % 97 === 5) body += `\n${secrets[i % secrets.length]}\n`;
      const data = Buffer.byteLength(body, 'latin1');
      stream += `commit refs/heads/main\nmark :${i + 1}\ncommitter Bench <b@b> ${1_600_000_000 + i} +0000\ndata 6\nc${String(i).padStart(4, '0')}\n${i > 0 ? `from :${i}\n` : ''}M 100644 inline ${path}\ndata ${data}\n${body}\n`;
      if (stream.length > 4_000_000) {
        chunks.push(stream);
        stream = '';
      }
    }
    chunks.push(stream);
    const result = spawnSync('git', ['fast-import', '--quiet'], {
      cwd: repo,
      input: Buffer.from(chunks.join(''), 'latin1'),
      maxBuffer: 1 << 30,
    });
    if (result.status !== 0) throw new Error(`git fast-import failed: ${String(result.stderr)}`);
    spawnSync('git', ['checkout', '-q', 'main'], { cwd: repo });
  }
  const pub = measure(process.execPath, [
    join(root, 'bin', 'pubgate.js'),
    'scan',
    '--git',
    repo,
    '--format',
    'json',
    '--no-progress',
  ]);
  const found = (JSON.parse(pub.stdout) as { findings: unknown[] }).findings.length;
  console.log(
    row('pubgate --git', 0, pub.seconds, pub.rssMb, undefined, `${found} findings`).replace(
      /\s+\S+ MB\/s/,
      '',
    ),
  );
  if (hasRg()) {
    const patterns = join(corpusDir, 'rg-patterns.txt');
    writeFileSync(patterns, `${ripgrepPatterns().join('\n')}\n`);
    const rg = measure('bash', ['-c', `git -C '${repo}' log -p --all | rg -c -f '${patterns}'`]);
    console.log(
      row(
        'git log -p --all | rg',
        0,
        rg.seconds,
        rg.rssMb,
        undefined,
        `${rg.stdout.trim()} matching lines`,
      ).replace(/\s+\S+ MB\/s/, ''),
    );
    console.log(
      `pubgate --git is ${(rg.seconds / pub.seconds).toFixed(2)}x the speed of the git log | rg pipeline.`,
    );
  } else {
    console.log('ripgrep: not installed (apt-get install -y ripgrep); comparison skipped');
  }
}

if (spawnSync('/usr/bin/time', ['true']).status !== 0) {
  console.error('bench:scan needs GNU time (/usr/bin/time) to measure peak RSS');
  process.exit(2);
}
mkdirSync(corpusDir, { recursive: true });
if (flag('--big')) await benchBig();
else if (flag('--git')) benchGit();
else benchCorpus();
