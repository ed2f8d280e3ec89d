import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { toSarifLog } from './index.ts';
import { sarifSchemaErrors } from '../../test/support/sarif-schema.ts';

describe('sarif', () => {
  it('builds a log that validates against the SARIF 2.1.0 schema', () => {
    const log = toSarifLog({
      toolName: 'pubgate',
      toolVersion: '0.1.0',
      rules: [{ id: 'r1', name: 'RuleOne', shortDescription: 'one', level: 'error', securitySeverity: 8 }],
      results: [
        { ruleId: 'r1', level: 'error', message: 'found', uri: 'a dir/b.txt', startLine: 3, startColumn: 2 },
      ],
    });
    assert.deepEqual(sarifSchemaErrors(log), []);
    assert.equal(
      log.runs[0]?.results?.[0]?.locations?.[0]?.physicalLocation?.artifactLocation?.uri,
      'a%20dir/b.txt',
    );
  });

  it('reports schema errors for a broken log', () => {
    assert.notDeepEqual(sarifSchemaErrors({ version: '2.1.0', runs: [{ tool: {} }] }), []);
  });
});
