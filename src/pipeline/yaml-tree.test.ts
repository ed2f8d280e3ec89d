import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { getValue, parseYamlFile, sourceOffsetOf, type ScalarNode } from './yaml-tree.ts';
import { isPubgateError } from '../errors/index.ts';

describe('yaml tree', () => {
  it('maps an offset inside a literal block back to its line and column', () => {
    const text = 'steps:\n  - run: |\n      echo one\n      echo ${{ github.head_ref }}\n';
    const file = parseYamlFile('w.yml', text);
    const steps = getValue(file.root, 'steps');
    const run = getValue(steps?.kind === 'seq' ? steps.items[0] : undefined, 'run') as ScalarNode;
    const offset = String(run.value).indexOf('${{');
    assert.deepEqual(file.positionAt(sourceOffsetOf(file, run, offset)), { line: 4, column: 12 });
  });

  it('maps offsets in single-line double-quoted and folded scalars', () => {
    const text = 'a: "x ${{ secrets.T }}"\nb: >\n  first line\n  second ${{ secrets.U }}\n';
    const file = parseYamlFile('w.yml', text);
    const a = getValue(file.root, 'a') as ScalarNode;
    assert.deepEqual(file.positionAt(sourceOffsetOf(file, a, 2, '${{ secrets.T }}')), { line: 1, column: 7 });
    const b = getValue(file.root, 'b') as ScalarNode;
    const at = String(b.value).indexOf('${{');
    assert.deepEqual(file.positionAt(sourceOffsetOf(file, b, at, '${{ secrets.U }}')), {
      line: 4,
      column: 10,
    });
  });

  it('splices merge keys, own keys winning', () => {
    const file = parseYamlFile('w.yml', 'base: &b {x: 1, y: 2}\njob:\n  <<: *b\n  y: 3\n');
    const job = getValue(file.root, 'job');
    assert.equal((getValue(job, 'x') as ScalarNode).value, 1);
    assert.equal((getValue(job, 'y') as ScalarNode).value, 3);
  });

  it('refuses malformed YAML with ERR_AUDIT_YAML_INVALID and a position', () => {
    assert.throws(
      () => parseYamlFile('bad.yml', 'a: [1, 2\nb: }\n'),
      (e: unknown) => isPubgateError(e, 'ERR_AUDIT_YAML_INVALID') && typeof e.details?.line === 'number',
    );
  });

  it('refuses alias cycles and bombs', () => {
    const bomb = [
      'a: &a [x, x, x, x, x, x, x, x, x, x]',
      ...'bcdefg'.split('').map((k, i) => `${k}: &${k} [${Array(10).fill(`*${'abcdefg'[i]}`).join(', ')}]`),
    ].join('\n');
    assert.throws(
      () => parseYamlFile('bomb.yml', bomb, { maxNodes: 10_000 }),
      (e: unknown) => isPubgateError(e, 'ERR_AUDIT_YAML_ALIAS_LIMIT'),
    );
    let deep = 'x';
    for (let i = 0; i < 300; i++) deep = `[${deep}]`;
    assert.throws(
      () => parseYamlFile('deep.yml', `a: ${deep}\n`),
      (e: unknown) =>
        isPubgateError(e, 'ERR_AUDIT_YAML_TOO_DEEP') || isPubgateError(e, 'ERR_AUDIT_YAML_INVALID'),
    );
  });

  it('keeps GitLab !reference tags on sequences', () => {
    const file = parseYamlFile('.gitlab-ci.yml', 'job:\n  script:\n    - !reference [.setup, script]\n');
    const script = getValue(getValue(file.root, 'job'), 'script');
    const first = script?.kind === 'seq' ? script.items[0] : undefined;
    assert.equal(first?.kind === 'seq' ? first.tag : undefined, '!reference');
  });
});
