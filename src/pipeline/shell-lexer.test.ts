import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { lexShell } from './shell-lexer.ts';

const words = (text: string): string[][] => lexShell(text).map((c) => c.words.map((w) => w.value));

describe('shell lexer', () => {
  it('splits on newlines, ;, && and || and strips quotes', () => {
    assert.deepEqual(words(`npm ci && npm test; echo "a b" || 'c d'\nmake publish`), [
      ['npm', 'ci'],
      ['npm', 'test'],
      ['echo', 'a b'],
      ['c d'],
      ['make', 'publish'],
    ]);
  });

  it('joins backslash-continued lines and skips comments', () => {
    assert.deepEqual(words('npm publish \\\n  --access public # not a word\n# whole line'), [
      ['npm', 'publish', '--access', 'public'],
    ]);
  });

  it('marks pipes and keeps word offsets', () => {
    const [curl, sh] = lexShell('curl -fsSL https://x.test/i.sh | sudo sh');
    assert.equal(curl?.pipesTo, true);
    assert.equal(sh?.pipedFrom, true);
    assert.equal(curl?.words[2]?.start, 11);
  });

  it('records redirections, not as words', () => {
    const [cmd] = lexShell('echo "K=$V" >> "$GITHUB_ENV" 2>&1');
    assert.deepEqual(
      cmd?.words.map((w) => w.value),
      ['echo', 'K=$V'],
    );
    assert.deepEqual(
      cmd?.redirects.map((r) => [r.op, r.target?.value]),
      [['>>', '$GITHUB_ENV']],
    );
  });

  it('keeps ${{ }} expressions with spaces inside one word', () => {
    assert.deepEqual(words('npm version ${{ inputs.bump }} --no-git'), [
      ['npm', 'version', '${{ inputs.bump }}', '--no-git'],
    ]);
  });

  it('lexes command and process substitutions as commands too', () => {
    const cmds = lexShell('bash <(curl -s https://x.test/a) && id=$(npm stage publish --registry r)');
    const nested = cmds.filter((c) => c.substituted).map((c) => c.words[0]?.value);
    assert.deepEqual(nested.sort(), ['curl', 'npm']);
  });

  it('attaches here-document bodies to their command', () => {
    const [cat, next] = lexShell(
      'cat <<EOF > ~/.npmrc\n//registry.npmjs.org/:_authToken=${NPM_TOKEN}\nEOF\nnpm publish\n',
    );
    assert.match(cat?.heredocs[0]?.text ?? '', /_authToken=\$\{NPM_TOKEN\}/);
    assert.deepEqual(
      next?.words.map((w) => w.value),
      ['npm', 'publish'],
    );
  });

  it('survives unbalanced quotes and parentheses', () => {
    assert.doesNotThrow(() => lexShell('echo "unterminated $(curl x | sh'));
    assert.doesNotThrow(() => lexShell("'"));
  });
});
