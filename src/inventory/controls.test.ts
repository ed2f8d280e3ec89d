import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isPubgateError } from '../errors/index.ts';
import { assertValidControlMappings, CONTROLS, type Control } from './controls.ts';
import { FRAMEWORK_IDS, FRAMEWORKS, isValidControlId } from './frameworks.ts';
import { FINDING_CATALOG } from './findings.ts';

const mapped = (framework: string) =>
  new Set(CONTROLS.flatMap((c) => c.mappings.filter((m) => m.framework === framework).map((m) => m.id)));

function refusedCode(controls: readonly Control[]): string {
  try {
    assertValidControlMappings(controls);
    return 'accepted';
  } catch (error) {
    return isPubgateError(error) ? error.code : 'other';
  }
}

describe('control mapping table', () => {
  it('uses only exact identifiers from the fixed list of each framework', () => {
    for (const control of CONTROLS)
      for (const m of control.mappings)
        assert.ok(isValidControlId(m.framework, m.id), `${control.id}: ${m.framework} ${m.id}`);
    assert.doesNotThrow(() => assertValidControlMappings(CONTROLS));
  });

  describe('when a mapping names a made-up identifier', () => {
    const withMapping = (framework: Control['mappings'][number]['framework'], id: string): Control[] => [
      ...CONTROLS,
      { ...CONTROLS[0]!, id: 'PG-FAKE', mappings: [{ framework, id }] },
    ];
    it('refuses NHI11:2025 with ERR_INVENTORY_UNKNOWN_CONTROL_ID', () =>
      assert.equal(
        refusedCode(withMapping('owasp-nhi-2025', 'NHI11:2025')),
        'ERR_INVENTORY_UNKNOWN_CONTROL_ID',
      ));
    it("refuses CSF 1.1's PR.AC-4 (CSF 2.0 calls it PR.AA-05)", () =>
      assert.equal(refusedCode(withMapping('nist-csf-2.0', 'PR.AC-4')), 'ERR_INVENTORY_UNKNOWN_CONTROL_ID'));
    it('refuses an SSDF practice that does not exist', () =>
      assert.equal(refusedCode(withMapping('nist-ssdf-1.1', 'PS.9.9')), 'ERR_INVENTORY_UNKNOWN_CONTROL_ID'));
    it('refuses a SLSA level that does not exist', () =>
      assert.equal(refusedCode(withMapping('slsa-1.0', 'Build L4')), 'ERR_INVENTORY_UNKNOWN_CONTROL_ID'));
    it('refuses an identifier of another framework', () =>
      assert.equal(
        refusedCode(withMapping('nist-ai-rmf-1.0', 'PR.AA-01')),
        'ERR_INVENTORY_UNKNOWN_CONTROL_ID',
      ));
    it('refuses a near miss in spelling', () =>
      assert.equal(refusedCode(withMapping('owasp-nhi-2025', 'NHI1')), 'ERR_INVENTORY_UNKNOWN_CONTROL_ID'));
  });

  it('covers all ten OWASP NHI risks of 2025', () => {
    assert.deepEqual(
      [...mapped('owasp-nhi-2025')].sort(),
      Object.keys(FRAMEWORKS['owasp-nhi-2025'].identifiers).sort(),
    );
  });
  it('covers the CSF 2.0 subcategories of the issue', () => {
    for (const id of [
      'PR.AA-01',
      'PR.AA-02',
      'PR.AA-03',
      'PR.AA-05',
      'PR.PS-04',
      'PR.PS-06',
      'ID.RA-09',
      'DE.CM-03',
      'DE.CM-09',
      'RS.MI-01',
    ])
      assert.ok(mapped('nist-csf-2.0').has(id), id);
  });
  it('covers the SSDF practices of the issue', () => {
    for (const id of ['PO.5.1', 'PO.5.2', 'PS.1.1', 'PS.2.1', 'PS.3.1', 'PS.3.2'])
      assert.ok(mapped('nist-ssdf-1.1').has(id), id);
  });
  it('maps every framework, and autonomous release tooling to the AI RMF', () => {
    for (const f of FRAMEWORK_IDS) assert.ok(mapped(f).size > 0, f);
    assert.ok(
      CONTROLS.find((c) => c.id === 'PG-AUTONOMOUS-TOOLING')?.mappings.some(
        (m) => m.framework === 'nist-ai-rmf-1.0',
      ),
    );
  });
  it('breaks controls only with finding kinds that exist, and every finding kind breaks a control', () => {
    const broken = new Set(CONTROLS.flatMap((c) => c.brokenBy));
    for (const kind of broken) assert.ok(kind in FINDING_CATALOG, kind);
    for (const kind of Object.keys(FINDING_CATALOG))
      assert.ok(broken.has(kind as keyof typeof FINDING_CATALOG), kind);
  });
});
