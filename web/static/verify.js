// The verify page (/verify, /verify#XXXX-XXXX-XXXX-XXXX): looks up a verification code or checks an
// uploaded PDF through the public API, and shows the answer in Chinese with English beside it. Requests
// carry no credentials: the page always shows what anyone may see (names masked).
'use strict';
(function () {
  const $ = (id) => document.getElementById(id);
  const RESULTS = {
    intact: ['文件完好：与本平台封存的协议逐字节一致，电子印章有效。',
      'Intact: byte for byte the sealed agreement, and its electronic seal is valid.'],
    altered: ['文件已被改动或印章无效，不能作为封存协议使用。',
      'Altered: this file is not the sealed agreement as sealed, or its seal is not valid.'],
    unknown: ['未找到：这不是本平台封存的协议。', 'Unknown: this is not an agreement sealed by this service.'],
    on_record: ['已登记：该验证码对应一份已封存的协议。请核对您文件的 SHA-256，或上传文件核验。',
      'On record: this code belongs to a sealed agreement. Compare your file\'s SHA-256 or upload it.'],
  };
  const PROBLEMS = {
    not_on_record: ['本平台没有封存过该文件', 'no agreement sealed here has this file\'s hash or code'],
    file_changed: ['文件内容与封存时不一致', 'the file differs from the one sealed'],
    seal_missing: ['文件没有电子印章', 'the file has no seal'],
    extra_signatures: ['文件含有额外的签名', 'the file carries additional signatures'],
    seal_broken: ['电子印章与文件内容不符', 'the seal does not match the file\'s content'],
    seal_untrusted: ['电子印章不是本平台的', 'the seal is not the service\'s'],
    changed_after_sealing: ['封存后文件被追加修改', 'the file was changed after sealing'],
    document_hash_mismatch: ['附带的协议原件与签署时的文件不一致', 'the attached agreement is not the one signed'],
  };
  const ROLES = {
    worker: ['劳动者', 'Worker'], employer: ['用人单位', 'Employer'], agent: ['委托代理人', 'Agent'],
    mediator: ['调解员', 'Mediator'], organisation_seal: ['调解组织电子印章', 'Organisation\'s seal'],
  };
  const METHODS = {
    one_time_code: ['短信验证码', 'One-time code'], in_session: ['调解员当场核验', 'Checked in session'],
    account: ['账户登录', 'Signed-in account'],
  };
  const ERRORS = {
    malformed_code: ['验证码格式不对：应为16位字母和数字。', 'A code is 16 letters and digits.'],
    unknown_code: ['没有与该验证码对应的封存协议。', 'No sealed agreement has this code.'],
    rate_limited: ['查询太频繁，请一分钟后再试。', 'Too many requests; try again in a minute.'],
    unsupported_media_type: ['只能核验 PDF 文件。', 'Only PDF files can be checked.'],
    truncated_pdf: ['PDF 文件不完整。', 'The PDF is incomplete.'],
    empty_file: ['文件是空的。', 'The file is empty.'],
    payload_too_large: ['文件太大。', 'The file is too large.'],
  };
  const pair = (table, key) => (table[key] ? table[key][0] + ' ' + table[key][1] : key);
  const when = (iso) => new Date(iso).toLocaleString('zh-CN', {timeZone: 'Asia/Shanghai', hour12: false});

  function clear(node) { while (node.firstChild) { node.removeChild(node.firstChild); } }
  function row(list, name, value) {
    const dt = document.createElement('dt'); dt.textContent = name;
    const dd = document.createElement('dd'); dd.textContent = value;
    list.append(dt, dd);
  }
  function verdict(kind, text) {
    const box = $('verdict');
    box.className = 'verdict ' + kind;
    box.textContent = text;
    $('result').hidden = false;
  }
  function fail(code, message) {
    clear($('problems')); clear($('details')); $('signers-box').hidden = true;
    verdict('error', ERRORS[code] ? pair(ERRORS, code) : (message || '请求失败 Request failed'));
  }
  function show(answer) {
    verdict(answer.result, pair(RESULTS, answer.result));
    const problems = $('problems'); clear(problems);
    for (const problem of answer.problems) {
      const item = document.createElement('li'); item.textContent = pair(PROBLEMS, problem); problems.append(item);
    }
    const details = $('details'); clear(details);
    const sealed = answer.sealed;
    if (answer.code_matches === false) { row(details, '验证码 Code', '文件不是该验证码对应的协议 The file is not the document of this code'); }
    if (sealed) {
      row(details, '验证码 Code', sealed.code);
      row(details, '协议版本 Version', '第' + sealed.version_number + '版 Version ' + sealed.version_number
        + (sealed.version_current ? '' : '（已被新版本取代 superseded by a later version）'));
      if (sealed.case) { row(details, '案号 Case', sealed.case.case_number + ' · ' + sealed.case.court_name); }
      row(details, '生效时间 Effective', when(sealed.effective_at));
      row(details, '封存时间 Sealed', when(sealed.sealed_at));
      row(details, '协议 SHA-256 Agreement', sealed.document_sha256);
      row(details, '封存文件 SHA-256 Sealed file', sealed.sealed_sha256);
    }
    if (answer.file) { row(details, '您的文件 SHA-256 Your file', answer.file.sha256); }
    const tbody = $('signers'); clear(tbody);
    $('signers-box').hidden = !sealed;
    if (sealed) {
      for (const signer of sealed.signers) {
        const tr = document.createElement('tr');
        for (const text of [signer.name, pair(ROLES, signer.role), when(signer.signed_at), pair(METHODS, signer.auth_method)]) {
          const td = document.createElement('td'); td.textContent = text; tr.append(td);
        }
        tbody.append(tr);
      }
      $('masked-note').hidden = !sealed.names_masked;
    }
  }
  async function ask(url, options) {
    try {
      const response = await fetch(url, Object.assign({credentials: 'omit'}, options));
      const data = await response.json();
      if (!response.ok) { fail(data.error && data.error.code, data.error && data.error.message); return; }
      show(data);
    } catch (error) {
      fail(null, '网络错误 Network error');
    }
  }
  function lookUp() {
    const code = $('code').value.trim();
    if (!code) { return; }
    ask('/api/v1/verify/' + encodeURIComponent(code), {method: 'GET'});
  }
  document.addEventListener('DOMContentLoaded', () => {
    $('code-form').addEventListener('submit', (event) => { event.preventDefault(); lookUp(); });
    $('file-form').addEventListener('submit', (event) => {
      event.preventDefault();
      const file = $('file').files[0];
      if (!file) { return; }
      const form = new FormData();
      form.append('file', file, file.name);
      const code = $('code').value.trim();
      ask('/api/v1/verify' + (code ? '?code=' + encodeURIComponent(code) : ''), {method: 'POST', body: form});
    });
    const fromLink = decodeURIComponent((location.hash || '').slice(1));
    if (fromLink) { $('code').value = fromLink; lookUp(); }
  });
})();
