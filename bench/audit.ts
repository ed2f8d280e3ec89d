/**
 * `npm run bench:audit`: files per second of `pubgate audit` over a generated tree of 5,000
 * workflow and script files (100 repositories: GitHub workflows, composite actions, GitLab CI,
 * package.json, Makefiles, shell and JS release scripts), written to a temp folder and removed after.
 * Peer: a parse-only baseline that reads every file and parses the YAML/JSON ones with the `yaml`
 * package (what any YAML-aware linter must at least do); the ratio is auditor time / baseline time.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { LineCounter, parseDocument } from 'yaml';
import { auditRepository, discoverAuditedFiles, DEFAULT_AUDIT_CONFIG } from '../src/pipeline/index.ts';

const TOTAL_FILES = 5000;
const REPOS = 100;
const RUNS = 3;

const workflows: ((i: number) => string)[] = [
  (i) => `name: Release ${i}
on:
  push:
    tags: ['v*']
jobs:
  publish:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-node@v4
        with:
          node-version: 20
          registry-url: https://registry.npmjs.org
          cache: npm
      - run: npm ci
      - run: npm test
      - run: npm publish --access public
        env:
          NODE_AUTH_TOKEN: \${{ secrets.NPM_TOKEN }}
`,
  (i) => `name: CI ${i}
on:
  push:
    branches: [main]
  pull_request:
permissions:
  contents: read
jobs:
  test:
    strategy:
      matrix:
        node: [18, 20, 22]
        os: [ubuntu-latest, windows-latest]
    runs-on: \${{ matrix.os }}
    steps:
      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2
      - uses: actions/setup-node@39370e3970a6d050c480ffad4ff0ed4d3fdee5af # v4.1.0
        with:
          node-version: \${{ matrix.node }}
          cache: npm
      - run: npm ci
      - run: npm run lint
      - run: npm test -- --coverage
      - uses: codecov/codecov-action@v4
        with:
          token: \${{ secrets.CODECOV_TOKEN }}
`,
  (i) => `name: Triage ${i}
on:
  pull_request_target:
    types: [opened, synchronize]
  issues:
    types: [opened]
jobs:
  triage:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
        with:
          ref: \${{ github.event.pull_request.head.sha }}
      - run: |
          echo "\${{ github.event.issue.title }}"
          curl -fsSL https://tool.example.com/install.sh | bash
          make triage
`,
  (i) => `name: Release please ${i}
on:
  push:
    branches: [main]
permissions:
  contents: write
  pull-requests: write
  id-token: write
jobs:
  release-please:
    runs-on: ubuntu-latest
    outputs:
      released: \${{ steps.rp.outputs.release_created }}
    steps:
      - uses: googleapis/release-please-action@v4
        id: rp
  publish:
    needs: release-please
    if: \${{ needs.release-please.outputs.released }}
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: pnpm/action-setup@v4
      - run: pnpm install --frozen-lockfile
      - uses: changesets/action@v1
        with:
          publish: pnpm release
        env:
          NPM_TOKEN: \${{ secrets.NPM_TOKEN }}
`,
  (i) => `name: Gated ${i}
on:
  push:
    tags: ['v*']
permissions: {}
jobs:
  build:
    runs-on: ubuntu-latest
    permissions:
      contents: read
    steps:
      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683
      - run: npm ci && npm test && npm pack
      - uses: actions/upload-artifact@6f51ac03b9356f520e9adb1b1b7802705f340c2b
        with:
          name: package
          path: '*.tgz'
  publish:
    needs: build
    runs-on: ubuntu-latest
    permissions:
      contents: read
      id-token: write
    steps:
      - uses: actions/download-artifact@fa0a91b85d4f404e444e00e005971372dc801d16
        with:
          name: package
      - run: npm stage publish ./*.tgz --registry https://gate.example.com/npm/
`,
  (i) => `name: PyPI ${i}
on:
  release:
    types: [published]
jobs:
  deploy:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with:
          python-version: '3.12'
          cache: pip
      - run: |
          python -m pip install --upgrade pip
          pip install -r requirements.txt
          python -m build
      - uses: pypa/gh-action-pypi-publish@release/v1
        with:
          password: \${{ secrets.PYPI_API_TOKEN }}
`,
];

const scripts: ((i: number) => [string, string])[] = [
  (i) => [
    'scripts/release.sh',
    `#!/usr/bin/env bash\nset -euo pipefail\n# release ${i}\nnpm ci\nnpm run build\necho "//registry.npmjs.org/:_authToken=\${NPM_TOKEN}" > ~/.npmrc\nnpm publish --tag latest\n`,
  ],
  (i) => [
    'Makefile',
    `VERSION ?= 1.${i}.0\nNPM ?= npm\n\n.PHONY: build test publish\n\nbuild:\n\tnpm ci\n\tnpm run build\n\ntest: build\n\tnpm test\n\npublish: test\n\t$(NPM) publish --registry https://gate.example.com/npm/\n`,
  ],
  (i) => [
    'scripts/publish.mjs',
    `#!/usr/bin/env node\nimport { execSync } from 'node:child_process';\nconst tag = process.env.TAG ?? 'latest';\nconsole.log('publishing ${i}');\nexecSync(\`npm publish --tag \${tag}\`, { stdio: 'inherit' });\n`,
  ],
  (i) => [
    'scripts/bootstrap.sh',
    `#!/bin/sh\n# bootstrap ${i}\ncurl -fsSLo tool.tgz https://tools.example.com/tool-${i}.tgz\necho "0000000000000000000000000000000000000000000000000000000000000000  tool.tgz" | sha256sum -c -\ntar xzf tool.tgz\n`,
  ],
];

function gitlab(i: number): string {
  return `include:
  - local: /ci/common.yml
  - project: platform/ci
    ref: main
    file: /node.yml
stages: [test, publish]
default:
  image: node:20
test:
  stage: test
  script:
    - npm ci
    - npm test
publish-${i}:
  stage: publish
  script:
    - echo "//registry.npmjs.org/:_authToken=\${NPM_TOKEN}" > .npmrc
    - npm publish
`;
}

function packageJson(i: number): string {
  return `${JSON.stringify(
    {
      name: `@bench/pkg-${i}`,
      version: `1.${i}.0`,
      scripts: {
        build: 'tsc -p .',
        test: 'node --test',
        release: 'npm run build && npm publish',
        prepublishOnly: 'npm run build',
        postinstall: 'node -e "console.log(1)"',
      },
      devDependencies: { typescript: '^5.6.0' },
    },
    null,
    2,
  )}\n`;
}

/** Writes the tree and returns the number of files written. */
function generate(root: string): number {
  let count = 0;
  const write = (rel: string, text: string): void => {
    const full = join(root, rel);
    mkdirSync(dirname(full), { recursive: true });
    writeFileSync(full, text);
    count++;
  };
  const perRepo = TOTAL_FILES / REPOS;
  for (let r = 0; r < REPOS; r++) {
    const base = `repo-${String(r).padStart(3, '0')}`;
    let inRepo = 0;
    const put = (rel: string, text: string): void => {
      if (inRepo >= perRepo) return;
      write(`${base}/${rel}`, text);
      inRepo++;
    };
    put('package.json', packageJson(r));
    for (const s of scripts) {
      const [rel, text] = s(r);
      put(rel, text);
    }
    put('.gitlab-ci.yml', gitlab(r));
    put('ci/common.yml', `.common:\n  before_script:\n    - npm ci\n  cache:\n    paths: [node_modules/]\n`);
    put(
      '.github/actions/setup/action.yml',
      `name: setup\nruns:\n  using: composite\n  steps:\n    - uses: actions/setup-node@v4\n    - run: npm ci\n      shell: bash\n`,
    );
    for (let w = 0; inRepo < perRepo; w++) {
      const template = workflows[w % workflows.length];
      if (template !== undefined) put(`.github/workflows/wf-${w}.yml`, template(r * 100 + w));
    }
  }
  return count;
}

function parseOnlyBaseline(root: string, files: readonly string[]): void {
  for (const rel of files) {
    const text = readFileSync(join(root, rel), 'utf8');
    if (/\.(ya?ml|json)$/.test(rel)) parseDocument(text, { lineCounter: new LineCounter() });
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

const root = mkdtempSync(join(tmpdir(), 'pubgate-bench-audit-'));
try {
  const written = generate(root);
  const files = discoverAuditedFiles(root, DEFAULT_AUDIT_CONFIG).map((f) => f.path);
  // Warm-up (JIT, file cache), then the median of RUNS.
  auditRepository(root);
  parseOnlyBaseline(root, files);
  const auditTimes: number[] = [];
  const baseTimes: number[] = [];
  let findings = 0;
  let scanned = 0;
  for (let i = 0; i < RUNS; i++) {
    let t = performance.now();
    const report = auditRepository(root);
    auditTimes.push(performance.now() - t);
    findings = report.findings.length;
    scanned = report.filesScanned;
    t = performance.now();
    parseOnlyBaseline(root, files);
    baseTimes.push(performance.now() - t);
  }
  const auditMs = median(auditTimes);
  const baseMs = median(baseTimes);
  const rate = (scanned / auditMs) * 1000;
  const baseRate = (files.length / baseMs) * 1000;
  process.stdout.write(
    [
      `generated ${written} files in ${REPOS} repositories (${tmpdir()})`,
      `pubgate audit:        ${scanned} files in ${auditMs.toFixed(0)} ms → ${rate.toFixed(0)} files/s (${findings} findings, median of ${RUNS})`,
      `parse-only baseline:  ${files.length} files in ${baseMs.toFixed(0)} ms → ${baseRate.toFixed(0)} files/s (read + yaml.parseDocument)`,
      `ratio: audit takes ${(auditMs / baseMs).toFixed(2)}× the parse-only baseline`,
      '',
    ].join('\n'),
  );
} finally {
  rmSync(root, { recursive: true, force: true });
}
