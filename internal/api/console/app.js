// medguard web console. No inline script: the Content Security Policy
// allows only this file. The session lives in an HttpOnly __Host- cookie;
// state-changing requests send the session's CSRF token.
'use strict';

const $ = (id) => document.getElementById(id);
let csrf = sessionStorage.getItem('csrf') || '';
let retry = null; // a request to repeat after re-authentication
let perms = new Set(); // what the user's role grants (GET /v1/console/pages)
let leave = null; // the open page's clean-up (e.g. closing its live stream)

// may reports whether the user's role grants permission p: the console
// offers only what the role may do; the server refuses the rest anyway.
function may(p) { return perms.has(p); }

function leavePage() {
  if (leave) { const l = leave; leave = null; l(); }
}

function show(id) {
  for (const s of ['login', 'setup', 'reauth', 'page']) $(s).hidden = s !== id;
}

function message(text, ok) {
  const m = $('message');
  m.textContent = text || '';
  m.hidden = !text;
  m.className = ok ? 'ok' : '';
}

async function call(method, path, body) {
  const opt = { method, credentials: 'same-origin', headers: {} };
  if (body !== undefined) {
    opt.headers['Content-Type'] = 'application/json';
    opt.body = JSON.stringify(body);
  }
  if (method !== 'GET' && csrf) opt.headers['X-CSRF-Token'] = csrf;
  const r = await fetch(path, opt);
  const data = r.status === 204 ? {} : await r.json().catch(() => ({}));
  if (!r.ok) {
    const e = new Error((data.error && data.error.message) || r.statusText);
    e.code = data.error && data.error.code;
    e.status = r.status;
    throw e;
  }
  return data;
}

function cell(tr, text, cls) {
  const td = document.createElement('td');
  td.textContent = text === undefined || text === null ? '' : String(text);
  if (cls) td.className = cls;
  tr.appendChild(td);
  return td;
}

function table(rows, cols, actions) {
  const t = document.createElement('table');
  const h = document.createElement('tr');
  for (const c of cols) { const th = document.createElement('th'); th.textContent = c; h.appendChild(th); }
  if (actions) h.appendChild(document.createElement('th'));
  t.appendChild(h);
  for (const r of rows) {
    const tr = document.createElement('tr');
    for (const c of cols) cell(tr, typeof r[c] === 'object' ? JSON.stringify(r[c]) : r[c]);
    if (actions) { const td = cell(tr, ''); actions(r, td); }
    t.appendChild(tr);
  }
  return t;
}

function button(label, fn) {
  const b = document.createElement('button');
  b.type = 'button';
  b.textContent = label;
  b.addEventListener('click', () => guarded(fn));
  return b;
}

// guarded runs fn and handles the answers that need the user.
async function guarded(fn) {
  try {
    message('');
    await fn();
  } catch (e) {
    if (e.code === 'reauth_required') { retry = fn; show('reauth'); return; }
    if (e.status === 401) { csrf = ''; sessionStorage.removeItem('csrf'); await start(); message(e.message); return; }
    message(e.message);
  }
}

const renderers = {
  async status(body) {
    const s = await call('GET', '/v1/status');
    const p = document.createElement('p');
    p.textContent = `${s.device}: `;
    const st = document.createElement('span');
    st.className = 'state-' + s.state;
    st.textContent = s.state;
    p.appendChild(st);
    if (s.cause) p.append(` (${s.cause})`);
    body.appendChild(p);
    body.appendChild(table(s.warnings || [], ['severity', 'title', 'cause', 'action', 'since']));
    if (s.boot && Array.isArray(s.boot.checks)) {
      const h = document.createElement('h3');
      h.textContent = `Boot report (boot ${s.boot.boot_id || ''})`;
      const t = table(s.boot.checks, ['name', 'result', 'detail', 'duration_ms']);
      t.id = 'boot-report';
      t.querySelectorAll('tr').forEach((tr, i) => {
        if (i > 0 && s.boot.checks[i - 1].result === 'failed') tr.children[1].className = 'sev-critical';
      });
      body.append(h, t);
    } else if (s.boot) {
      const pre = document.createElement('pre');
      pre.textContent = JSON.stringify(s.boot, null, 2);
      body.appendChild(pre);
    }
  },
  async users(body, tools) {
    const { users } = await call('GET', '/v1/users');
    const manage = may('users.manage');
    body.appendChild(table(users, ['name', 'role', 'disabled', 'suspended', 'failed_logins', 'last_login'], manage && ((u, td) => {
      td.append(button(u.disabled || u.suspended ? 'Enable' : 'Disable', async () => {
        await call('PATCH', '/v1/users/' + encodeURIComponent(u.name), { disabled: !(u.disabled || u.suspended) });
        await open('users');
      }));
      const role = document.createElement('select');
      role.setAttribute('aria-label', 'role of ' + u.name);
      for (const r of ['clinician', 'technician', 'admin', 'service']) {
        const o = document.createElement('option');
        o.textContent = r;
        o.selected = r === u.role;
        role.appendChild(o);
      }
      td.append(role, button('Change role', async () => {
        await call('PATCH', '/v1/users/' + encodeURIComponent(u.name), { role: role.value });
        message(`${u.name} is now ${role.value}; their sessions were ended.`, true);
        await open('users');
      }));
      td.append(button('Delete', async () => {
        if (!confirm('Delete ' + u.name + '?')) return;
        await call('DELETE', '/v1/users/' + encodeURIComponent(u.name));
        await open('users');
      }));
    })));
    if (!manage) return;
    const f = document.createElement('form');
    f.method = 'post';
    f.innerHTML = '<h3>New user</h3><label>Name <input name="name" required></label>' +
      '<label>Role <select name="role"><option>clinician</option><option>technician</option><option>admin</option><option>service</option></select></label>' +
      '<label>Password <input name="password" type="password" autocomplete="new-password" required></label><button>Create</button>';
    f.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const d = Object.fromEntries(new FormData(f));
      guarded(async () => { await call('POST', '/v1/users', d); message('User ' + d.name + ' created.', true); await open('users'); });
    });
    tools.appendChild(f);
  },
  async sessions(body) {
    const { sessions } = await call('GET', '/v1/sessions');
    body.appendChild(table(sessions, ['id', 'user', 'kind', 'source', 'created', 'last_seen'], (s, td) => {
      td.append(button('End', async () => { await call('DELETE', '/v1/sessions/' + s.id); await open('sessions'); }));
    }));
  },
  // software: whether the signed software verified, every finding since,
  // the continuous re-hash and the supervised programs (GET /v1/software).
  async software(body) {
    const s = await call('GET', '/v1/software');
    const p = document.createElement('p');
    const st = document.createElement('span');
    st.id = 'software-verdict';
    const bad = !s.verified || (s.findings || []).length > 0;
    st.className = bad ? 'state-not-suitable' : 'state-operational';
    st.textContent = !s.verified ? 'did not verify at boot' : bad ? 'changed since boot' : 'verified';
    p.append(`Software root ${s.root}: `, st);
    body.appendChild(p);
    const h = (text) => { const e = document.createElement('h3'); e.textContent = text; body.appendChild(e); };
    h('Findings');
    const findings = table(s.findings || [], ['kind', 'path', 'file_kind', 'detail', 'via', 'detected']);
    findings.id = 'software-findings';
    body.appendChild(findings);
    if (s.rehash) {
      h('Continuous check');
      body.appendChild(table([s.rehash], ['passes', 'last_pass', 'busy', 'bytes']));
    }
    h('Programs');
    body.appendChild(table(s.programs || [], ['name', 'running', 'pid', 'starts', 'since', 'last_exit', 'gave_up']));
  },
  // logs: the Security Event Log, newest first, filtered and paged by the
  // server (GET /v1/logs); "Older" follows the page's cursor.
  async logs(body, tools) {
    const sevNames = ['emergency', 'alert', 'critical', 'error', 'warning', 'notice', 'info', 'debug'];
    const cats = ['auth', 'access', 'software', 'integrity', 'config', 'network', 'health', 'system', 'log'];
    const f = document.createElement('form');
    f.id = 'log-filter';
    f.className = 'filter';
    f.innerHTML = '<label>Category <select name="category"><option value="">any</option>' +
      cats.map((c) => `<option>${c}</option>`).join('') + '</select></label>' +
      '<label>Severity at least <select name="severity"><option value="">any</option>' +
      sevNames.map((s) => `<option>${s}</option>`).join('') + '</select></label>' +
      '<label>Actor <input name="actor" maxlength="256"></label><button>Show</button>';
    tools.appendChild(f);
    const list = document.createElement('div');
    const more = button('Older', () => load(true));
    more.id = 'log-older';
    body.append(list, more);
    let next = '';
    let rows = [];
    const load = async (older) => {
      const q = new URLSearchParams({ limit: '50' });
      for (const [k, v] of new FormData(f)) if (v) q.set(k, v);
      if (older && next) q.set('cursor', next);
      const p = await call('GET', '/v1/logs?' + q);
      const page = (p.records || []).map((r) => ({
        seq: r.seq,
        time: (r.time || '').replace('T', ' ').replace('Z', ' UTC'),
        severity: sevNames[r.sev] || r.sev,
        category: r.cat,
        code: r.code,
        who: [r.actor, r.src].filter(Boolean).join(' from '),
        message: r.msg,
        cause: r.cause,
        action: r.action,
        details: Object.entries(r.fields || {}).map(([k, v]) => `${k}=${v}`).join(' '),
      }));
      rows = older ? rows.concat(page) : page;
      next = p.next || '';
      const t = table(rows, ['seq', 'time', 'severity', 'category', 'code', 'who', 'message', 'cause', 'action', 'details']);
      t.id = 'log-table';
      list.replaceChildren(t);
      more.hidden = !next;
    };
    f.addEventListener('submit', (ev) => { ev.preventDefault(); guarded(() => load(false)); });
    await load(false);
  },
  // notifications: the admin inbox, kept current by the live stream
  // (Server-Sent Events). The browser reconnects by itself and sends the
  // last id it saw, so what was missed meanwhile is replayed.
  async notifications(body, tools) {
    const all = new Map(); // id -> notification, as last sent
    const { notifications } = await call('GET', '/v1/notifications/');
    for (const n of notifications) all.set(n.id, n);
    const live = document.createElement('p');
    live.className = 'hint';
    live.id = 'stream-state';
    tools.appendChild(live);
    const list = document.createElement('div');
    body.appendChild(list);
    const draw = () => {
      // A comment being typed survives a redraw by the live stream.
      const typed = new Map();
      for (const f of list.querySelectorAll('form.ack')) {
        const tr = f.closest('tr');
        if (f.comment.value) typed.set(tr.id, f.comment.value);
        if (f.contains(document.activeElement)) typed.set('focus', tr.id);
      }
      const rows = [...all.values()].sort((a, b) => b.id - a.id).map((n) => ({
        id: n.id,
        time: (n.time || '').replace('T', ' ').replace(/\.\d+/, '').replace('Z', ' UTC'),
        severity: n.severity,
        title: n.title,
        cause: n.cause,
        action: n.action,
        who: [n.event.actor, n.event.source].filter(Boolean).join(' from '),
        changes: (n.changes || []).map((c) => `${c.what}: ${c.old} → ${c.new}`).join('; '),
        state: (n.active ? 'active' : 'resolved') + (n.ack ? `, acknowledged by ${n.ack.by}: ${n.ack.comment}` : ''),
        n,
      }));
      const t = table(rows, ['id', 'time', 'severity', 'title', 'cause', 'action', 'who', 'changes', 'state'], (r, td) => {
        if (r.n.ack || !may('notifications.manage')) return;
        const f = document.createElement('form');
        f.className = 'ack';
        f.innerHTML = '<input name="comment" required maxlength="1000" placeholder="comment"><button>Acknowledge</button>';
        f.addEventListener('submit', (ev) => {
          ev.preventDefault();
          const comment = new FormData(f).get('comment');
          guarded(async () => {
            const n = await call('POST', `/v1/notifications/${r.id}/ack`, { comment });
            all.set(n.id, n);
            draw();
          });
        });
        td.appendChild(f);
      });
      const trs = t.querySelectorAll('tr');
      rows.forEach((r, i) => {
        const tr = trs[i + 1]; // after the header
        tr.id = 'notification-' + r.id;
        if (['emergency', 'alert', 'critical'].includes(r.severity)) tr.children[2].className = 'sev-critical';
      });
      t.id = 'inbox';
      list.replaceChildren(t);
      for (const f of list.querySelectorAll('form.ack')) {
        const id = f.closest('tr').id;
        if (typed.has(id)) f.comment.value = typed.get(id);
        if (typed.get('focus') === id) f.comment.focus();
      }
    };
    draw();
    const es = new EventSource('/v1/notifications/stream');
    es.addEventListener('open', () => { live.textContent = 'Live: new notifications appear here as they happen.'; });
    es.addEventListener('error', () => { live.textContent = 'Live stream interrupted; reconnecting…'; });
    es.addEventListener('notification', (ev) => {
      const n = JSON.parse(ev.data);
      all.set(n.id, n);
      draw();
    });
    return () => es.close();
  },
  async account(body) {
    const s = await call('GET', '/v1/session');
    body.appendChild(table([s], ['user', 'role', 'session', 'authenticated_at']));
    const f = document.createElement('form');
    f.method = 'post';
    f.innerHTML = '<h3>Change password</h3><label>Current password <input name="current" type="password" autocomplete="current-password" required></label>' +
      '<label>New password <input name="new" type="password" autocomplete="new-password" required></label><button>Change</button>';
    f.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const d = Object.fromEntries(new FormData(f));
      guarded(async () => { const a = await call('POST', '/v1/password', d); setCSRF(a.csrf_token); message('Password changed; other sessions were ended.', true); });
    });
    body.appendChild(f);
  },
};

let pages = [];

async function open(id) {
  const pg = pages.find((p) => p.id === id) || pages[0];
  if (!pg) return;
  leavePage();
  $('page-title').textContent = pg.title;
  $('page-body').replaceChildren();
  $('page-tools').replaceChildren();
  show('page');
  const r = renderers[pg.id];
  if (r) {
    const done = await r($('page-body'), $('page-tools'));
    if (typeof done === 'function') leave = done;
    return;
  }
  // A page of a later feature: show its endpoint's JSON.
  const data = await call('GET', pg.endpoint);
  const pre = document.createElement('pre');
  pre.textContent = JSON.stringify(data, null, 2);
  $('page-body').appendChild(pre);
}

function setCSRF(t) { csrf = t || ''; sessionStorage.setItem('csrf', csrf); }

async function loggedIn() {
  const info = await call('GET', '/v1/console/pages');
  pages = info.pages;
  perms = new Set(info.permissions || []);
  $('who').textContent = `${info.user} (${info.role})`;
  $('logout').hidden = false;
  const nav = $('nav');
  nav.replaceChildren();
  for (const p of pages) {
    const a = document.createElement('a');
    a.href = '#' + p.id;
    a.textContent = p.title;
    nav.appendChild(a);
  }
  nav.hidden = false;
  await open(location.hash.slice(1) || 'status');
}

async function start() {
  leavePage();
  perms = new Set();
  $('nav').hidden = true;
  $('logout').hidden = true;
  $('who').textContent = '';
  const st = await call('GET', '/v1/status');
  if (!st.provisioned) {
    const p = await call('GET', '/v1/policy');
    $('policy').textContent = `At least ${p.min_length} characters; ${p.rules}.`;
    show('setup');
    return;
  }
  if (!csrf) { show('login'); return; } // no session in this tab
  try {
    const s = await call('GET', '/v1/session');
    setCSRF(s.csrf_token);
    await loggedIn();
  } catch (e) {
    show('login');
  }
}

function formJSON(f) { return Object.fromEntries(new FormData(f)); }

document.addEventListener('DOMContentLoaded', () => {
  $('login-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    guarded(async () => {
      const a = await call('POST', '/v1/login', { ...formJSON(ev.target), kind: 'cookie' });
      ev.target.reset();
      setCSRF(a.csrf_token);
      await loggedIn();
    });
  });
  $('setup-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    guarded(async () => {
      const a = await call('POST', '/v1/setup', { ...formJSON(ev.target), kind: 'cookie' });
      ev.target.reset();
      setCSRF(a.csrf_token);
      await loggedIn();
    });
  });
  $('reauth-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    guarded(async () => {
      await call('POST', '/v1/session/reauth', formJSON(ev.target));
      ev.target.reset();
      show('page');
      if (retry) { const r = retry; retry = null; await guarded(r); }
    });
  });
  $('logout').addEventListener('click', () => guarded(async () => {
    await call('POST', '/v1/logout');
    setCSRF('');
    await start();
  }));
  window.addEventListener('hashchange', () => guarded(() => open(location.hash.slice(1))));
  guarded(start);
});
