import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { evaluatePolicy, policyVersionOf, type PolicyConfig } from './index.ts';

const policy: PolicyConfig = {
  approvers: 1,
  group: 'approvers',
  installScripts: 'require-extra',
  adminsMayApprove: false,
  rules: [
    {
      packages: ['@acme/*'],
      approvers: 2,
      group: 'acme-release',
      exposure: [
        { weeklyDownloadsAbove: 10_000, approvers: 3 },
        { weeklyDownloadsAbove: 1_000_000, approvers: 4 },
      ],
    },
    { packages: ['blocked-scripts'], installScripts: 'block', exposure: [] },
  ],
  weeklyDownloads: { '@acme/popular': 50_000 },
};

describe('policy', () => {
  it('requires build provenance where a rule or the default says so', () => {
    const strict: PolicyConfig = {
      ...policy,
      rules: [{ packages: ['@acme/strict'], provenance: 'require', exposure: [] }, ...policy.rules],
    };
    const input = { weeklyDownloads: undefined, installScriptsChanged: false };
    assert.equal(evaluatePolicy(strict, { ...input, package: '@acme/strict' }).provenance, 'require');
    assert.equal(evaluatePolicy(strict, { ...input, package: '@acme/tool' }).provenance, 'optional');
    assert.equal(
      evaluatePolicy({ ...strict, provenance: 'require' }, { ...input, package: 'left-pad' }).provenance,
      'require',
    );
  });
  it('applies the default to packages no rule covers', () => {
    const d = evaluatePolicy(policy, {
      package: 'left-pad',
      weeklyDownloads: undefined,
      installScriptsChanged: false,
    });
    assert.deepEqual([d.allow, d.requiredApprovals, d.group, d.rule], [true, 1, 'approvers', 'default']);
  });
  it('applies the first matching rule', () => {
    const d = evaluatePolicy(policy, {
      package: '@acme/tool',
      weeklyDownloads: 10,
      installScriptsChanged: false,
    });
    assert.deepEqual([d.requiredApprovals, d.group, d.rule, d.exposureTier], [2, 'acme-release', 0, 'base']);
  });
  it('raises M by the highest exposure tier exceeded, from the registry or from config', () => {
    assert.equal(
      evaluatePolicy(policy, {
        package: '@acme/tool',
        weeklyDownloads: 2_000_000,
        installScriptsChanged: false,
      }).requiredApprovals,
      4,
    );
    const fromConfig = evaluatePolicy(policy, {
      package: '@acme/popular',
      weeklyDownloads: undefined,
      installScriptsChanged: false,
    });
    assert.deepEqual([fromConfig.requiredApprovals, fromConfig.exposureTier], [3, '>10000/week']);
  });
  it('asks one more approver when install scripts change, or blocks where the rule says so', () => {
    assert.equal(
      evaluatePolicy(policy, { package: '@acme/tool', weeklyDownloads: 0, installScriptsChanged: true })
        .requiredApprovals,
      3,
    );
    const blocked = evaluatePolicy(policy, {
      package: 'blocked-scripts',
      weeklyDownloads: 0,
      installScriptsChanged: true,
    });
    assert.equal(blocked.allow, false);
    assert.match(blocked.reasons.join(' '), /blocked by policy/);
  });
  it('versions the policy by its content', () => {
    assert.equal(policyVersionOf(policy), policyVersionOf({ ...policy }));
    assert.notEqual(policyVersionOf(policy), policyVersionOf({ ...policy, approvers: 2 }));
  });
});
