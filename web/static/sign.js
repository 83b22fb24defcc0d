'use strict';
// The party's signing page (/sign#<token>): reads the token from the fragment and calls the party API
// (/sign/api, docs/agreements.md) with it as a bearer token. Steps: the round; the exact PDF (the browser's
// viewer from a blob: URL, its SHA-256 checked here); the identity (a one-time code by SMS, or the mediator's
// check in the live session); the signature drawn on the pad (signature_pad.js); submit. Or a refusal with a
// reason, after a confirmation. Every error code of the API has its sentence (web/sign_messages.py).
(function () {
  const T = JSON.parse(document.getElementById('strings').textContent);
  const lang = document.documentElement.lang;
  const $ = (id) => document.getElementById(id);
  const token = (function () {
    try { return decodeURIComponent((location.hash || '').slice(1)); } catch (error) { return ''; }
  })();
  const CLOSING = {
    already_signed: true, signing_closed: true, version_superseded: true, case_not_awaiting_signatures: true,
    not_your_turn: true, illegal_transition: true, document_hash_mismatch: true,
  };
  const LINK = {link_malformed: true, link_invalid: true, link_expired: true, link_revoked: true,
    unauthenticated: true, not_found: true, unknown_round: true};
  const state = {round: null, doc: null, pad: null, timer: null, busy: false, sealed: null};

  function t(key, values) {
    let text = Object.prototype.hasOwnProperty.call(T, key) ? T[key] : key;
    Object.keys(values || {}).forEach((name) => { text = text.split('{' + name + '}').join(String(values[name])); });
    return text;
  }
  const say = (text) => { $('status').textContent = text; $('status').hidden = !text; };
  const when = (iso) => new Date(iso).toLocaleString(lang === 'en' ? 'en-GB' : 'zh-CN', {
    timeZone: 'Asia/Shanghai', dateStyle: 'medium', timeStyle: 'short',
  });
  const clock = (iso) => new Date(iso).toLocaleTimeString(lang === 'en' ? 'en-GB' : 'zh-CN', {
    timeZone: 'Asia/Shanghai', hour: '2-digit', minute: '2-digit',
  });

  // --- talking to /sign/api ---------------------------------------------------------------------------

  async function api(method, path, body) {
    const headers = {Authorization: 'Bearer ' + token, Accept: 'application/json, application/pdf'};
    const init = {method: method, headers: headers, cache: 'no-store', credentials: 'omit', referrerPolicy: 'no-referrer'};
    if (body !== undefined) { headers['Content-Type'] = 'application/json'; init.body = JSON.stringify(body); }
    let response;
    try { response = await fetch('/sign/api' + path, init); } catch (error) {
      return {ok: false, status: 0, error: {code: 'network'}, headers: new Headers()};
    }
    if (response.ok && (response.headers.get('Content-Type') || '').startsWith('application/pdf')) {
      return {ok: true, status: response.status, blob: await response.blob(), headers: response.headers};
    }
    const data = await response.json().catch(() => ({}));
    if (response.ok) { return {ok: true, status: response.status, data: data, headers: response.headers}; }
    return {ok: false, status: response.status, error: (data && data.error) || {code: 'error'}, headers: response.headers};
  }

  function explain(reply) {
    const error = reply.error || {};
    const code = error.code || 'error';
    if (code === 'otp_wrong') {
      return error.attempts_left > 0 ? t('err.otp_wrong', {attempts: error.attempts_left}) : t('err.otp_wrong_last');
    }
    if (code === 'otp_rate_limited') {
      return t('err.otp_rate_limited', {seconds: waitOf(reply)});
    }
    return Object.prototype.hasOwnProperty.call(T, 'err.' + code) ? t('err.' + code) : t('error');
  }

  function waitOf(reply) {
    const header = Number(reply.headers.get('Retry-After'));
    const given = Number((reply.error || {}).retry_after);
    return Math.max(1, Math.ceil(header || given || 60));
  }

  // --- screens ----------------------------------------------------------------------------------------

  function showOnly(which) {
    ['closed', 'done', 'sign-form'].forEach((id) => { $(id).hidden = id !== which; });
  }

  function closed(text, withDetails) {
    say('');
    $('details').hidden = !withDetails;
    $('closed-text').textContent = text;
    $('refuse').hidden = true;
    $('refresh-box').hidden = true;
    showOnly('closed');
    $('title').focus();
  }

  function roleName(signer) {
    return t('role.' + signer.role);
  }

  function fillDetails(round) {
    $('details').hidden = false;
    $('case-number').textContent = round.case_number;
    $('court-name').textContent = round.court_name;
    $('organisation-name').textContent = round.organisation_name;
    $('version-number').textContent = t('version.number', {number: round.version_number});
    $('me').textContent = round.me.name + (lang === 'en' ? ' (' + roleName(round.me) + ')' : '（' + roleName(round.me) + '）');
    $('order').textContent = t('order.' + round.order);
    $('signers').replaceChildren(...round.signers.map((signer) => {
      const li = document.createElement('li');
      li.dataset.status = signer.status;
      li.dataset.signer = signer.id;
      const who = document.createElement('span');
      who.className = 'who';
      who.textContent = signer.name + ' · ' + roleName(signer) + (signer.required ? '' : ' ' + t('signer.optional'));
      if (signer.id === round.me.id) { who.textContent += ' · ' + t('signer.me'); }
      const status = document.createElement('span');
      status.className = 'state ' + signer.status;
      status.textContent = t('status.' + signer.status)
        + (signer.signed_at ? ' · ' + t('signer.signed_at', {time: when(signer.signed_at)}) : '')
        + (signer.status === 'pending' && signer.may_sign_now && round.status === 'open' ? ' · ' + t('signer.now') : '');
      li.append(who, status);
      return li;
    }));
    $('doc-hash').textContent = round.document_sha256;
    $('doc-size').textContent = t('doc.size', {kb: Math.max(1, Math.round(round.document_size / 1024))});
  }

  function render(round) {
    state.round = round;
    fillDetails(round);
    const me = round.me;
    say('');
    $('refresh-box').hidden = true;
    if (round.status === 'void') { closed(t('closed.void'), true); return; }
    if (round.status === 'refused') {
      closed(me.status === 'refused' ? t('closed.refused_me') : t('closed.refused'), true);
      return;
    }
    if (me.status === 'signed' || round.status === 'effective') {
      showDone(round);
      return;
    }
    showOnly('sign-form');
    $('refuse').hidden = !(me.kind === 'party' && me.required);
    const mayNow = me.may_sign_now;
    const before = round.signers.filter((s) => s.required && s.may_sign_now && s.id !== me.id).map((s) => s.name);
    $('turn').hidden = mayNow;
    $('turn').textContent = mayNow ? '' : t('turn.wait', {names: before.join('、')});
    $('refresh-box').hidden = mayNow;
    const methods = round.auth_methods;
    $('id-methods').hidden = !methods.includes('in_session');
    $('method-code').disabled = !methods.includes('one_time_code');
    if (!methods.includes('one_time_code') && methods.includes('in_session')) { $('method-session').checked = true; }
    $('no-phone').hidden = methods.length > 0;
    if (!state.timer) { $('code-send').textContent = t('id.send', {phone: round.phone_masked || ''}); }
    showMethod();
    $('code-send').disabled = !mayNow || !methods.includes('one_time_code') || !!state.timer;
    $('sign-submit').disabled = !mayNow || methods.length === 0;
  }

  function showDone(round) {
    const me = round.me;
    showOnly('done');
    $('refuse').hidden = true;
    if (me.status === 'signed') {
      $('done-text').textContent = round.status === 'effective' ? t('done.signed') + ' ' + t('done.effective') : t('done.signed');
      $('done-time').textContent = me.signed_at ? t('done.signed_at', {time: when(me.signed_at)}) : '';
    } else {
      $('done-text').textContent = t('done.effective');
      $('done-time').textContent = '';
    }
    const effective = round.status === 'effective';
    $('done-next').textContent = !effective ? t('done.waiting') : round.sealed ? t('done.sealed_ready') : t('done.sealed_later');
    $('sealed-box').hidden = !(effective && round.sealed);
    $('refresh-box').hidden = effective && round.sealed;
    $('title').focus();
  }

  function method() {
    const chosen = document.querySelector('input[name="method"]:checked');
    return chosen && !$('id-methods').hidden ? chosen.value : (state.round.auth_methods[0] || 'one_time_code');
  }

  function showMethod() {
    $('code-box').hidden = method() !== 'one_time_code' || !state.round.auth_methods.includes('one_time_code');
  }

  async function load() {
    say(t('loading'));
    const reply = await api('GET', '/round');
    if (!reply.ok) {
      if (LINK[reply.error.code]) { closed(explain(reply), false); } else { say(explain(reply)); $('refresh-box').hidden = false; }
      return;
    }
    render(reply.data);
  }

  // --- 1. the document --------------------------------------------------------------------------------

  async function sha256(blob) {
    if (!(window.crypto && crypto.subtle && crypto.subtle.digest)) { return null; }
    const digest = await crypto.subtle.digest('SHA-256', await blob.arrayBuffer());
    return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
  }

  async function fetchDocument() {
    const reply = await api('GET', '/document');
    if (!reply.ok) { return reply; }
    if (state.doc) { URL.revokeObjectURL(state.doc.url); }
    const blob = new Blob([reply.blob], {type: 'application/pdf'});
    const hash = await sha256(blob);
    state.doc = {url: URL.createObjectURL(blob), hash: hash, header: reply.headers.get('X-Content-SHA256')};
    return reply;
  }

  function documentName() {
    return 'agreement-' + state.round.case_number.replace(/[^\w\u4e00-\u9fff-]+/g, '_') + '-v' + state.round.version_number + '.pdf';
  }

  async function openDocument() {
    const button = $('doc-open');
    button.disabled = true;
    say(t('doc.loading'));
    const reply = await fetchDocument();
    button.disabled = false;
    if (!reply.ok) { say(''); showError(reply); return; }
    say('');
    const doc = state.doc;
    const frame = $('doc-frame');
    const inline = navigator.pdfViewerEnabled !== false;
    frame.hidden = !inline;
    $('doc-no-viewer').hidden = inline;
    if (inline) { frame.src = doc.url; }
    $('doc-tab').href = doc.url;
    $('doc-download').href = doc.url;
    $('doc-download').setAttribute('download', documentName());
    $('doc-view').hidden = false;
    const expected = state.round.document_sha256;
    const check = $('doc-check');
    const good = doc.hash === null ? doc.header === expected : doc.hash === expected;
    check.className = doc.hash === null ? 'muted-text' : good ? 'message ok' : 'message';
    check.textContent = doc.hash === null ? t('doc.hash_unchecked') : good ? t('doc.hash_ok') : t('doc.hash_bad');
    $('doc-read').disabled = !good;
    if (!good) { $('doc-read').checked = false; }
  }

  // --- 2. the one-time code ---------------------------------------------------------------------------

  function countdown(seconds) {
    window.clearInterval(state.timer);
    let left = seconds;
    const button = $('code-send');
    const tick = () => {
      if (left <= 0) {
        window.clearInterval(state.timer);
        state.timer = null;
        button.textContent = t('id.resend');
        button.disabled = !(state.round && state.round.me.may_sign_now);
        return;
      }
      button.disabled = true;
      button.textContent = t('id.wait', {seconds: left});
      left -= 1;
    };
    state.timer = window.setInterval(tick, 1000);
    tick();
  }

  async function sendCode() {
    $('code-error').textContent = '';
    $('code-send').disabled = true;
    const reply = await api('POST', '/code');
    if (!reply.ok) {
      $('code-error').textContent = explain(reply);
      if (reply.error.code === 'otp_rate_limited') { countdown(waitOf(reply)); } else { $('code-send').disabled = false; }
      if (CLOSING[reply.error.code] || LINK[reply.error.code]) { await reload(reply); }
      return;
    }
    const sent = reply.data;
    $('code-sent').textContent = t('id.sent', {phone: sent.sent_to, time: clock(sent.expires_at), attempts: sent.attempts_allowed});
    // The server's clock says when the next code may go; a browser clock far off it is not trusted.
    const wait = Math.ceil((Date.parse(sent.next_code_after) - Date.now()) / 1000);
    if (wait > 0 && wait <= 3600) { countdown(wait); } else { $('code-send').disabled = false; $('code-send').textContent = t('id.resend'); }
    $('code').focus();
  }

  // --- submitting -------------------------------------------------------------------------------------

  function showError(reply) {
    const code = (reply.error || {}).code || '';
    const text = explain(reply);
    if (code.startsWith('otp_') || code === 'in_session_not_verified') {
      $('code-error').textContent = text;
      if (code !== 'otp_wrong' || reply.error.attempts_left === 0) { $('code').value = ''; }
      if (code === 'in_session_not_verified') { $('method-code').checked = true; showMethod(); }
      $('code').focus();
      return;
    }
    $('sign-error').textContent = text;
    if (code === 'document_not_viewed') { $('doc-read').checked = false; $('doc-open').focus(); }
    if (code === 'malformed_signature' || code === 'payload_too_large') { state.pad.clear(); }
  }

  async function reload(reply) {
    const again = await api('GET', '/round');
    if (!again.ok && LINK[again.error.code]) { closed(explain(again), false); return; }
    if (again.ok) { render(again.data); }
    if (!$('sign-form').hidden) { $('sign-error').textContent = explain(reply); } else { say(explain(reply)); }
  }

  function problem() {
    if (!state.doc) { return ['sign.need_document', 'doc-open']; }
    if (!$('doc-read').checked) { return ['sign.need_read', 'doc-read']; }
    if (method() === 'one_time_code' && !/^[0-9]{6}$/.test($('code').value.trim())) { return ['sign.need_code', 'code']; }
    if (state.pad.full) { return ['pad.full', 'pad']; }
    if (state.pad.isEmpty()) { return ['pad.empty', 'pad']; }
    return null;
  }

  async function submit(event) {
    event.preventDefault();
    if (state.busy) { return; }
    $('sign-error').textContent = '';
    $('code-error').textContent = '';
    const missing = problem();
    if (missing) {
      const target = missing[1] === 'code' ? 'code-error' : 'sign-error';
      $(target).textContent = t(missing[0]);
      $(missing[1]).focus();
      return;
    }
    const chosen = method();
    const auth = chosen === 'one_time_code' ? {method: chosen, code: $('code').value.trim()} : {method: chosen};
    state.busy = true;
    $('sign-submit').disabled = true;
    say(t('sign.sending'));
    const reply = await api('POST', '/signature', {
      document_sha256: state.doc.hash || state.round.document_sha256,
      auth: auth,
      signature: state.pad.toJSON(),
    });
    state.busy = false;
    say('');
    $('sign-submit').disabled = false;
    if (reply.ok) { render(reply.data); return; }
    const code = reply.error.code;
    if (LINK[code]) { closed(explain(reply), false); return; }
    if (CLOSING[code]) { await reload(reply); return; }
    showError(reply);
  }

  // --- refusing ---------------------------------------------------------------------------------------

  function askRefusal() {
    $('refuse-error').textContent = '';
    if (!$('refuse-reason').value.trim()) {
      $('refuse-error').textContent = t('err.reason_required');
      $('refuse-reason').focus();
      return;
    }
    const dialog = $('refuse-dialog');
    if (typeof dialog.showModal === 'function') { dialog.showModal(); $('refuse-cancel').focus(); } else if (window.confirm(t('refuse.confirm.title'))) { refuse(); }
  }

  async function refuse() {
    const dialog = $('refuse-dialog');
    if (dialog.open) { dialog.close(); }
    $('refuse-open').disabled = true;
    say(t('refuse.sending'));
    const reply = await api('POST', '/refusal', {reason: $('refuse-reason').value.trim()});
    $('refuse-open').disabled = false;
    say('');
    if (reply.ok) { render(reply.data); return; }
    if (LINK[reply.error.code]) { closed(explain(reply), false); return; }
    $('refuse-error').textContent = explain(reply);
    if (CLOSING[reply.error.code]) { await reload(reply); }
  }

  // --- after signing: the document again ---------------------------------------------------------------

  async function downloadSigned() {
    $('done-document').disabled = true;
    const reply = state.doc ? {ok: true} : await fetchDocument();
    $('done-document').disabled = false;
    if (!reply.ok) { say(explain(reply)); return; }
    $('done-download').href = state.doc.url;
    $('done-download').setAttribute('download', documentName());
    $('done-links').hidden = false;
    $('done-download').click();
  }

  async function downloadSealed() {
    $('done-sealed').disabled = true;
    const reply = await api('GET', '/sealed');
    $('done-sealed').disabled = false;
    if (!reply.ok) { say(explain(reply)); return; }
    if (state.sealed) { URL.revokeObjectURL(state.sealed); }
    state.sealed = URL.createObjectURL(new Blob([reply.blob], {type: 'application/pdf'}));
    $('sealed-download').href = state.sealed;
    $('sealed-download').setAttribute('download', documentName().replace(/\.pdf$/, '-sealed.pdf'));
    $('sealed-links').hidden = false;
    $('sealed-download').click();
  }

  document.addEventListener('DOMContentLoaded', () => {
    const switcher = $('lang-switch');
    if (switcher && location.hash) { switcher.href = switcher.getAttribute('href') + location.hash; }
    // Another link opened in this tab (a newer SMS): start again with its token.
    window.addEventListener('hashchange', () => location.reload());
    if (!token) { closed(t('no_token'), false); return; }
    state.pad = window.TiaojieSignaturePad($('pad'), {
      onchange: (pad) => {
        $('pad-undo').disabled = pad.strokes() === 0;
        $('pad-clear').disabled = pad.strokes() === 0;
        if (pad.full) { $('sign-error').textContent = t('pad.full'); }
      },
    });
    $('pad-undo').addEventListener('click', () => state.pad.undo());
    $('pad-clear').addEventListener('click', () => state.pad.clear());
    $('doc-open').addEventListener('click', openDocument);
    $('code-send').addEventListener('click', sendCode);
    $('code').addEventListener('input', () => { $('code-error').textContent = ''; });
    document.querySelectorAll('input[name="method"]').forEach((input) => input.addEventListener('change', showMethod));
    $('sign-form').addEventListener('submit', submit);
    $('refuse-open').addEventListener('click', askRefusal);
    $('refuse-cancel').addEventListener('click', () => $('refuse-dialog').close());
    $('refuse-confirm').addEventListener('click', refuse);
    $('refresh').addEventListener('click', load);
    $('done-document').addEventListener('click', downloadSigned);
    $('done-sealed').addEventListener('click', downloadSealed);
    load();
  });
})();
