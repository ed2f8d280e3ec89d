import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { publisherFromConfig, publisherFromWorkload } from './provenance.ts';

describe('trusted publishers in the terms of a provenance certificate', () => {
  it('reads a GitHub publisher: repository and workflow from workflow_ref, its ref pattern, hosted runners by default', () => {
    const p = publisherFromConfig({
      packages: ['@acme/*'],
      provider: 'github',
      issuer: 'https://token.actions.githubusercontent.com',
      audience: 'npm:registry.example',
      claims: {
        repository_id: 1234,
        repository_owner_id: '99',
        workflow_ref: 'acme/widget/.github/workflows/release.yml@refs/tags/v*',
        environment: 'release',
      },
    });
    assert.deepEqual(p, {
      uncheckable: [],
      publisher: {
        issuer: 'https://token.actions.githubusercontent.com',
        repository: 'https://github.com/acme/widget',
        repositoryId: '1234',
        repositoryOwnerId: '99',
        workflowPath: '.github/workflows/release.yml',
        refs: ['refs/tags/v*'],
        environment: 'release',
        runnerEnvironment: 'github-hosted',
      },
    });
  });

  it('lets an explicit ref claim win, and pins no runner when self-hosted runners are allowed', () => {
    const { publisher: p } = publisherFromConfig({
      packages: ['x'],
      provider: 'github',
      issuer: 'https://ghe.example/_services/token',
      audience: 'a',
      allowSelfHosted: true,
      claims: {
        repository_id: '1',
        repository: 'org/x',
        ref: 'refs/heads/main',
        workflow_ref: 'org/x/.github/workflows/r.yml@*',
      },
    });
    assert.equal(p.repository, 'https://ghe.example/org/x');
    assert.deepEqual(p.refs, ['refs/heads/main']);
    assert.equal(p.runnerEnvironment, undefined);
  });

  it('reads a GitLab publisher: project path, ids, the CI file and ref from ci_config_ref_uri, hosted runners by default', () => {
    const p = publisherFromConfig({
      packages: ['x'],
      provider: 'gitlab',
      issuer: 'https://gitlab.com',
      audience: 'a',
      claims: {
        project_id: 42,
        namespace_id: 7,
        project_path: 'group/x',
        ref: 'v*',
        ref_type: 'tag',
        ci_config_ref_uri: 'gitlab.com/group/x//.gitlab-ci.yml@refs/tags/v*',
      },
    });
    assert.deepEqual(p, {
      uncheckable: [],
      publisher: {
        issuer: 'https://gitlab.com',
        repository: 'https://gitlab.com/group/x',
        repositoryId: '42',
        repositoryOwnerId: '7',
        buildConfigUri: 'https://gitlab.com/group/x//.gitlab-ci.yml@refs/tags/v*',
        refs: ['refs/tags/v*'],
        refPrefix: 'refs/tags/',
        runnerEnvironment: 'gitlab-hosted',
      },
    });
  });

  it('maps job_workflow_ref, event_name, ref_type and repository_owner; names claims a certificate cannot show', () => {
    const { publisher, uncheckable } = publisherFromConfig({
      packages: ['x'],
      provider: 'github',
      issuer: 'https://token.actions.githubusercontent.com/acme-enterprise',
      audience: 'a',
      claims: {
        repository_id: '1',
        repository_owner: 'acme',
        job_workflow_ref: 'acme/shared/.github/workflows/publish.yml@refs/heads/main',
        event_name: 'release',
        ref_type: 'tag',
        repository_visibility: 'private',
      },
    });
    assert.equal(publisher.repositoryPrefix, 'https://github.com/acme/');
    assert.equal(
      publisher.buildSignerUri,
      'https://github.com/acme/shared/.github/workflows/publish.yml@refs/heads/main',
    );
    assert.equal(publisher.trigger, 'release');
    assert.equal(publisher.refPrefix, 'refs/tags/');
    assert.deepEqual(uncheckable, ['repository_visibility']);
  });

  it('pins the exact run of a workload, including its commit', () => {
    const p = publisherFromWorkload({
      provider: 'github',
      issuer: 'https://token.actions.githubusercontent.com',
      repository: 'acme/widget',
      repository_id: '1234',
      owner_id: '99',
      workflow_ref: 'acme/widget/.github/workflows/release.yml@refs/tags/v1.2.3',
      ref: 'refs/tags/v1.2.3',
      runner_environment: 'github-hosted',
      sha: 'c'.repeat(40),
      actor: 'alice',
    });
    assert.deepEqual(p, {
      issuer: 'https://token.actions.githubusercontent.com',
      repository: 'https://github.com/acme/widget',
      repositoryId: '1234',
      repositoryOwnerId: '99',
      workflowPath: '.github/workflows/release.yml',
      refs: ['refs/tags/v1.2.3'],
      runnerEnvironment: 'github-hosted',
      commit: 'c'.repeat(40),
    });
  });
});
