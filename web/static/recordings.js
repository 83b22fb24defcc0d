'use strict';
// The parties' recordings page (/pr#<token>): reads the token from the fragment, posts it to /pr/api/view
// (which also sets the cookie the playback requests carry) and lists the recordings with their players.
(function () {
  const T = JSON.parse(document.getElementById('strings').textContent);
  const lang = document.documentElement.lang;
  const $ = (id) => document.getElementById(id);
  const token = decodeURIComponent((location.hash || '').slice(1));
  const say = (text) => { $('status').textContent = text; };

  function when(iso) {
    return new Date(iso).toLocaleString(lang === 'en' ? 'en-GB' : 'zh-CN', {dateStyle: 'medium', timeStyle: 'short'});
  }

  function duration(ms) {
    if (ms == null) { return ''; }
    const s = Math.round(ms / 1000);
    const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
    const two = (n) => String(n).padStart(2, '0');
    return (h ? h + ':' + two(m) : String(m)) + ':' + two(r);
  }

  function item(rec) {
    const li = document.createElement('li');
    li.className = 'recording';
    const title = document.createElement('h2');
    title.textContent = (rec.part === 'main' ? T.main : T.caucus + ' · ' + rec.label)
      + (rec.session_title ? ' · ' + rec.session_title : '');
    li.appendChild(title);
    const meta = document.createElement('p');
    meta.className = 'meta';
    meta.textContent = when(rec.started_at) + ' · ' + T.duration + ' ' + duration(rec.duration_ms);
    li.appendChild(meta);
    if (rec.interrupted) {
      const note = document.createElement('p');
      note.className = 'meta';
      note.textContent = T.interrupted;
      li.appendChild(note);
    }
    if (rec.playback === 'ready' && rec.url) {
      const video = document.createElement('video');
      video.controls = true;
      video.preload = 'metadata';
      video.setAttribute('playsinline', '');
      video.src = rec.url;
      video.setAttribute('aria-label', title.textContent);
      li.appendChild(video);
      const link = document.createElement('a');
      link.className = 'download';
      link.href = rec.url + '?download=1';
      link.textContent = T.download;
      li.appendChild(link);
    } else {
      const wait = document.createElement('p');
      wait.className = 'banner';
      wait.textContent = rec.playback === 'preparing' ? T.preparing : T.unavailable;
      li.appendChild(wait);
    }
    return li;
  }

  async function load() {
    say(T.loading);
    let response;
    try {
      response = await fetch('/pr/api/view', {
        method: 'POST', headers: {'Content-Type': 'application/json'}, body: JSON.stringify({token: token}),
        credentials: 'same-origin',
      });
    } catch (error) { say(T.error); return; }
    const data = await response.json().catch(() => ({}));
    if (!response.ok) {
      const code = data.error && data.error.code;
      say(T[code] || T.error);
      return;
    }
    $('details').hidden = false;
    $('case-number').textContent = data.case_number;
    $('court-name').textContent = data.court_name;
    $('party-name').textContent = data.party_name;
    $('expires').textContent = when(data.expires_at);
    const list = $('recordings');
    list.replaceChildren(...data.recordings.map(item));
    $('none').hidden = data.recordings.length > 0;
    say('');
  }

  document.addEventListener('DOMContentLoaded', () => {
    // Keep the token when switching language (the fragment is not sent to the server).
    const switcher = $('lang-switch');
    if (switcher && location.hash) { switcher.href = switcher.getAttribute('href') + location.hash; }
    $('refresh').addEventListener('click', load);
    if (!token) { say(T.no_token); return; }
    load();
  });
})();
