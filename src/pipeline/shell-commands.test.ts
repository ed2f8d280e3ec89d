import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { lexShell } from './shell-lexer.ts';
import { classifyCommand, unwrapCommand, type CommandIntent } from './shell-commands.ts';

function intents(text: string, scripts: string[] = []): CommandIntent[] {
  const cmd = lexShell(text)[0];
  const view = cmd === undefined ? undefined : unwrapCommand(cmd.words);
  return view === undefined ? [] : classifyCommand(view, () => new Set(scripts));
}

function publish(
  text: string,
  scripts: string[] = [],
): Extract<CommandIntent, { kind: 'publish' }> | undefined {
  return intents(text, scripts).find(
    (i): i is Extract<CommandIntent, { kind: 'publish' }> => i.kind === 'publish',
  );
}

describe('shell commands', () => {
  it('recognises the publish commands of every client', () => {
    for (const [text, ecosystem] of [
      ['npm publish --access public', 'npm'],
      ['pnpm -r publish --no-git-checks', 'npm'],
      ['yarn npm publish --tolerate-republish', 'npm'],
      ['npx changeset publish', 'npm'],
      ['pnpm changeset publish', 'npm'],
      ['npx --yes semantic-release@24', 'npm'],
      ['python3 -m twine upload dist/*', 'pypi'],
      ['uv publish', 'pypi'],
      ['poetry publish --build', 'pypi'],
      ['gem push pkg/acme-1.0.0.gem', 'rubygems'],
      ['bundle exec rake release', 'rubygems'],
      ['cargo publish -p acme', 'crates'],
      ['sudo -E env FOO=1 npm publish', 'npm'],
    ] as const) {
      assert.equal(publish(text)?.ecosystem, ecosystem, text);
    }
  });

  it('reads --registry, --repository-url and --host', () => {
    assert.equal(
      publish('npm publish --registry=https://gate.test/npm/')?.registryFlag,
      'https://gate.test/npm/',
    );
    assert.equal(
      publish('twine upload --repository-url https://up.test/ dist/*')?.registryFlag,
      'https://up.test/',
    );
    assert.equal(publish('twine upload -r testpypi dist/*')?.registryName, 'testpypi');
    assert.equal(publish('gem push --host https://gems.test x.gem')?.registryFlag, 'https://gems.test');
  });

  it('knows dry runs, tarballs and provenance', () => {
    assert.equal(publish('npm publish --dry-run')?.dryRun, true);
    assert.equal(publish('npm publish ./pkg-1.0.0.tgz')?.tarball, true);
    assert.deepEqual(publish('npm publish ./pkg-1.0.0.tgz')?.hooks, []);
    assert.ok(publish('npm publish')?.hooks.includes('prepublishOnly'));
    assert.equal(publish('npm publish --provenance')?.provenance, true);
    assert.equal(publish('npm publish --provenance=false')?.provenance, false);
  });

  it('does not take look-alikes for publishes', () => {
    for (const text of [
      'npx pkg-pr-new publish',
      'echo npm publish',
      'npm pack',
      'twine check dist/*',
      'changeset version',
      'git push --tags',
      'docker push x',
    ]) {
      assert.equal(publish(text), undefined, text);
    }
  });

  it('tells installs with lifecycle scripts from installs without', () => {
    assert.deepEqual(
      intents('npm ci').map((i) => i.kind === 'install' && i.runsScripts),
      [true],
    );
    assert.deepEqual(
      intents('npm ci --ignore-scripts').map((i) => i.kind === 'install' && i.runsScripts),
      [false],
    );
    assert.deepEqual(intents('npm install -g npm@latest'), []);
    assert.deepEqual(intents('pip install build twine'), []);
    assert.equal(intents('pip install -r requirements.txt')[0]?.kind, 'install');
  });

  it('classifies scripts, make targets and script files', () => {
    assert.deepEqual(
      intents('npm run build').map((i) => i.kind),
      ['build', 'run-script'],
    );
    assert.deepEqual(
      intents('pnpm release', ['release']).map((i) => i.kind),
      ['run-script'],
    );
    assert.deepEqual(intents('make -C tools publish')[0], {
      kind: 'make',
      dir: 'tools',
      file: undefined,
      targets: ['publish'],
    });
    assert.deepEqual(intents('./scripts/release.sh --yes')[0], {
      kind: 'script-file',
      path: './scripts/release.sh',
      language: 'shell',
    });
    assert.deepEqual(intents('node scripts/publish.mjs')[0], {
      kind: 'script-file',
      path: 'scripts/publish.mjs',
      language: 'node',
    });
  });

  it('finds where curl and wget write', () => {
    assert.deepEqual(intents('curl -fsSLo installer.sh https://x.test/i.sh')[0], {
      kind: 'download',
      output: 'installer.sh',
    });
    assert.deepEqual(intents('wget -qO- https://x.test/i.sh')[0], { kind: 'download', output: undefined });
    assert.deepEqual(intents('wget -q https://x.test/tool.tgz')[0], { kind: 'download', output: 'tool.tgz' });
  });
});
