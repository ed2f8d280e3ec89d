// pubgate web UI: the passkey ceremonies. Served from the gate itself (no CDN); the page's CSP
// allows only same-origin scripts. SimpleWebAuthnBrowser comes from /ui/assets/webauthn.js.
/* global SimpleWebAuthnBrowser */
(function () {
  'use strict';
  const { startAuthentication, startRegistration } = SimpleWebAuthnBrowser;
  const csrfMeta = document.querySelector('meta[name="csrf-token"]');
  const csrf = csrfMeta ? csrfMeta.getAttribute('content') : '';
  const status = document.getElementById('status');

  function show(text, code) {
    if (!status) return;
    status.textContent = text;
    status.setAttribute('data-code', code || 'OK');
  }

  async function post(url, body) {
    const response = await fetch(url, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'content-type': 'application/json', 'x-csrf-token': csrf || '' },
      body: JSON.stringify(body || {}),
    });
    const json = await response.json().catch(() => ({}));
    if (!response.ok) {
      const error = new Error(json.error || 'request failed (' + response.status + ')');
      error.code = json.code || 'ERR_HTTP_' + response.status;
      throw error;
    }
    return json;
  }

  const actions = {
    async login() {
      const options = await post('/ui/api/login/options');
      const response = await startAuthentication({ optionsJSON: options });
      await post('/ui/api/login/verify', { response });
      const next = new URLSearchParams(location.search).get('next');
      location.assign(next && next.startsWith('/ui/') ? next : '/ui/releases');
    },
    async enrol(el) {
      const token = el.getAttribute('data-token');
      const name = document.getElementById('name').value.trim();
      const options = await post('/ui/api/enroll/' + encodeURIComponent(token) + '/options', { name });
      const response = await startRegistration({ optionsJSON: options });
      await post('/ui/api/enroll/' + encodeURIComponent(token) + '/verify', {
        response,
        label: 'first passkey',
      });
      location.assign('/ui/releases');
    },
    async approve(el) {
      const id = el.getAttribute('data-release');
      const options = await post('/ui/api/releases/' + id + '/options', { decision: 'approve' });
      const response = await startAuthentication({ optionsJSON: options });
      const result = await post('/ui/api/releases/' + id + '/decide', { response });
      show(
        'Approved. ' +
          result.approvals +
          ' of ' +
          result.required +
          ' approvals; release is ' +
          result.state +
          '.',
        'OK',
      );
      setTimeout(() => location.reload(), 800);
    },
    async reject(el) {
      const id = el.getAttribute('data-release');
      const reason = (document.getElementById('reason') || { value: '' }).value;
      const options = await post('/ui/api/releases/' + id + '/options', { decision: 'reject' });
      const response = await startAuthentication({ optionsJSON: options });
      await post('/ui/api/releases/' + id + '/decide', { response, reason });
      show('Rejected.', 'OK');
      setTimeout(() => location.reload(), 800);
    },
    async request(el) {
      const id = el.getAttribute('data-release');
      const options = await post('/ui/api/releases/' + id + '/request/options');
      const response = await startAuthentication({ optionsJSON: options });
      await post('/ui/api/releases/' + id + '/request/verify', { response });
      show(
        'Your request is authenticated. npm finishes when the approvers have approved and the package is published.',
        'OK',
      );
      setTimeout(() => location.reload(), 800);
    },
    async 'add-passkey'() {
      const options = await post('/ui/api/passkeys/options');
      const response = await startRegistration({ optionsJSON: options });
      await post('/ui/api/passkeys/verify', {
        response,
        label: (document.getElementById('label') || { value: '' }).value,
      });
      location.reload();
    },
    async 'remove-passkey'(el) {
      const id = el.getAttribute('data-passkey');
      const options = await post('/ui/api/passkeys/remove/options', { id });
      const response = await startAuthentication({ optionsJSON: options });
      await post('/ui/api/passkeys/remove/verify', { id, response });
      location.reload();
    },
    async invite() {
      const roles = Array.from(document.querySelectorAll('input[name="role"]:checked')).map((i) => i.value);
      const groups = document
        .getElementById('groups')
        .value.split(',')
        .map((g) => g.trim())
        .filter(Boolean);
      const result = await post('/ui/api/invitations', { roles, groups });
      show('Invitation link (works once, expires ' + result.expiresAt + '): ' + result.url, 'OK');
      const out = document.getElementById('invitation');
      if (out) out.textContent = result.url;
    },
    async 'set-roles'(el) {
      const id = el.getAttribute('data-person');
      const split = (v) =>
        v
          .split(',')
          .map((x) => x.trim())
          .filter(Boolean);
      const body = {
        roles: split(document.getElementById('roles-' + id).value),
        groups: split(document.getElementById('groups-' + id).value),
      };
      const options = await post('/ui/api/people/' + id + '/roles/options', body);
      const response = await startAuthentication({ optionsJSON: options });
      await post('/ui/api/people/' + id + '/roles/verify', { response });
      location.reload();
    },
    async admin(el, payloadOverride) {
      const action = el.getAttribute('data-admin-action');
      const payload = payloadOverride || JSON.parse(el.getAttribute('data-payload') || '{}');
      const options = await post('/ui/api/admin/options', { action, payload });
      const response = await startAuthentication({ optionsJSON: options });
      await post('/ui/api/admin/verify', { action, payload, response });
      location.reload();
    },
    async 'add-publisher'(el) {
      let publisher;
      try {
        publisher = JSON.parse(document.getElementById('publisher').value);
      } catch (error) {
        throw Object.assign(new Error('the publisher is not valid JSON'), { code: 'ERR_CLIENT_JSON' });
      }
      el.setAttribute('data-admin-action', 'add-publisher');
      return actions.admin(el, { publisher });
    },
    async lockdown(el) {
      el.setAttribute('data-admin-action', 'lockdown');
      return actions.admin(el, {
        target: document.getElementById('lock-target').value.trim(),
        reason: document.getElementById('lock-reason').value.trim(),
      });
    },
    async logout() {
      await post('/ui/api/logout');
      location.assign('/ui/login');
    },
  };

  document.addEventListener('click', (event) => {
    const el = event.target.closest('[data-action]');
    if (!el) return;
    event.preventDefault();
    const action = actions[el.getAttribute('data-action')];
    if (!action) return;
    el.disabled = true;
    show('Working…', 'PENDING');
    action(el).catch((error) => {
      show(error.message, error.code || 'ERR_CLIENT');
      el.disabled = false;
    });
  });
})();
