// Buuta: the script every page shares. API calls with the staff session (tokens
// refreshed once at a time, across tabs), login, DOM building that escapes by
// construction, Vietnamese labels and formats. No framework, no other host.
(function () {
  'use strict';

  const B = {};
  window.Buuta = B;
  // Script errors and blocked content, kept for support staff (and the browser tests).
  window.__errors = [];
  window.addEventListener('error', (e) => window.__errors.push(String(e.message || e)));
  window.addEventListener('unhandledrejection', (e) => window.__errors.push(String(e.reason)));
  document.addEventListener('securitypolicyviolation', (e) =>
    window.__errors.push(`CSP blocked ${e.blockedURI || 'inline'} (${e.violatedDirective})`));
  B.page = document.body.dataset.page || '';
  const SESSION_KEY = 'buuta.session';

  // ---------- DOM ----------

  /** Sets attributes/properties/handlers of `el` from `attrs`, appends children. */
  function fill(el, attrs, children) {
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === 'class') el.setAttribute('class', Array.isArray(v) ? v.filter(Boolean).join(' ') : v);
      else if (k === 'text') el.textContent = v;
      else if (k === 'dataset') Object.assign(el.dataset, v);
      else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
      else if (k === 'value' || k === 'checked' || k === 'selected' || k === 'disabled') el[k] = v;
      else el.setAttribute(k, v === true ? '' : String(v));
    }
    for (const c of children.flat(Infinity)) {
      if (c === null || c === undefined || c === false) continue;
      el.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return el;
  }

  /** `h('button', {class: 'primary', onclick: f}, 'Lưu')`: text is never parsed as HTML. */
  B.h = (tag, attrs, ...children) => fill(document.createElement(tag), attrs, children);
  /** The same for SVG elements. */
  B.svg = (tag, attrs, ...children) =>
    fill(document.createElementNS('http://www.w3.org/2000/svg', tag), attrs, children);
  /** Replaces the children of `el`. */
  B.mount = (el, ...children) => { el.replaceChildren(); fill(el, {}, children); return el; };
  B.$ = (sel, root) => (root || document).querySelector(sel);
  B.$$ = (sel, root) => Array.from((root || document).querySelectorAll(sel));
  B.app = () => document.getElementById('app');

  let toastTimer = null;
  /** A short message at the bottom of the screen; kind: 'ok' | 'error' | 'info'. */
  B.toast = (message, kind) => {
    const t = document.getElementById('toast');
    if (!t) return;
    t.textContent = message;
    t.className = 'toast show ' + (kind || 'info');
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { t.className = 'toast'; }, kind === 'error' ? 6000 : 3500);
  };

  // ---------- ids, dates, money ----------

  /** A random UUID v4 (also where crypto.randomUUID is missing: plain http). */
  B.uuid = () => {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    const b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
    const x = Array.from(b, (v) => v.toString(16).padStart(2, '0')).join('');
    return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
  };

  const TZ = 'Asia/Ho_Chi_Minh';
  const parts = (d, opts) => new Intl.DateTimeFormat('vi-VN', Object.assign({ timeZone: TZ }, opts)).format(d);
  /** Today's date in Vietnam, `YYYY-MM-DD`. */
  B.today = () => new Intl.DateTimeFormat('en-CA', { timeZone: TZ }).format(new Date());
  const pad2 = (n) => String(n).padStart(2, '0');
  /** `YYYY-MM-DD` plus `n` days. */
  B.addDays = (day, n) => {
    const [y, m, d] = day.split('-').map(Number);
    const t = new Date(Date.UTC(y, m - 1, d + n));
    return `${t.getUTCFullYear()}-${pad2(t.getUTCMonth() + 1)}-${pad2(t.getUTCDate())}`;
  };
  /** Day of the week of `YYYY-MM-DD`, 0 = Sunday. */
  B.weekday = (day) => { const [y, m, d] = day.split('-').map(Number); return new Date(Date.UTC(y, m - 1, d)).getUTCDay(); };
  /** Not a Saturday, a Sunday or one of `holidays` (a Set of `YYYY-MM-DD`). */
  B.isWorkingDay = (day, holidays) => B.weekday(day) !== 0 && B.weekday(day) !== 6 && !holidays.has(day);
  /** RFC 3339 of `date` (a Date) in +07:00. */
  B.isoVN = (date) => {
    const t = new Date(date.getTime() + 7 * 3600e3).toISOString().slice(0, 19);
    return t + '+07:00';
  };
  /** `YYYY-MM-DD` + `HH:MM` (Vietnam time) → RFC 3339. */
  B.localToIso = (day, hhmm) => `${day}T${hhmm}:00+07:00`;
  B.fmtTime = (iso) => (iso ? parts(new Date(iso), { hour: '2-digit', minute: '2-digit', hour12: false }) : '');
  B.fmtDate = (iso) => (iso ? parts(new Date(iso), { day: '2-digit', month: '2-digit', year: 'numeric' }) : '');
  B.fmtDateTime = (iso) => (iso ? `${B.fmtTime(iso)} ${B.fmtDate(iso)}` : '');
  B.fmtWindow = (w) => (w && w.from ? `${B.fmtTime(w.from)}–${B.fmtTime(w.to)} ${B.fmtDate(w.from)}` : '');
  B.money = (vnd) => (vnd === null || vnd === undefined ? '' : `${Number(vnd).toLocaleString('vi-VN')} ₫`);
  B.km = (m) => (m === null || m === undefined ? '' : `${(m / 1000).toLocaleString('vi-VN', { maximumFractionDigits: 1 })} km`);

  // ---------- labels ----------

  B.STATUS = {
    requested: 'Đã tiếp nhận yêu cầu', scheduled: 'Đã lên lịch lấy hồ sơ', picked_up: 'Đã lấy hồ sơ',
    in_transit: 'Đang vận chuyển', at_agency: 'Đã nộp tại cơ quan', supplement_required: 'Cần bổ sung hồ sơ',
    result_ready: 'Đã có kết quả', out_for_delivery: 'Đang giao kết quả', completed: 'Hoàn thành', cancelled: 'Đã hủy',
  };
  B.TASK_KIND = { pickup: 'Lấy hồ sơ', dropoff: 'Nộp tại cơ quan', collect: 'Nhận kết quả', deliver: 'Giao kết quả' };
  B.TASK_STATUS = {
    unassigned: 'Chưa phân công', assigned: 'Đã phân công', in_progress: 'Đang làm',
    done: 'Xong', failed: 'Không thành công', cancelled: 'Đã hủy',
  };
  B.FAIL_REASON = {
    not_home: 'Không có người ở nhà', wrong_address: 'Sai địa chỉ', refused: 'Người dân từ chối',
    incomplete_documents: 'Thiếu giấy tờ', other: 'Lý do khác',
  };
  B.ROLE = { admin: 'Quản trị', dispatcher: 'Điều phối viên', operator: 'Tổng đài viên', courier: 'Bưu tá', clerk: 'Cán bộ một cửa' };
  B.statusLabel = (s) => B.STATUS[s] || s;

  // ---------- session and API ----------

  B.ApiError = class extends Error {
    constructor(status, problem) {
      super((problem && (problem.detail || problem.title)) || `Lỗi ${status}`);
      this.status = status;
      this.problem = problem || {};
    }
  };
  B.NetworkError = class extends Error {
    constructor() { super('Không kết nối được máy chủ'); this.offline = true; }
  };

  B.session = () => {
    try { return JSON.parse(localStorage.getItem(SESSION_KEY)) || null; } catch (_) { return null; }
  };
  B.saveSession = (s) => {
    if (s) localStorage.setItem(SESSION_KEY, JSON.stringify(s)); else localStorage.removeItem(SESSION_KEY);
  };

  const withLock = (name, fn) =>
    navigator.locks && navigator.locks.request ? navigator.locks.request(name, fn) : fn();

  let refreshing = null;
  /** Trades the refresh token for a new pair, once at a time across tabs. */
  async function refresh(staleAccess) {
    if (!refreshing) {
      refreshing = withLock('buuta-refresh', async () => {
        const s = B.session();
        if (!s) return false;
        if (s.access_token !== staleAccess) return true; // another tab already did it
        let res;
        try {
          res = await fetch('/api/v1/auth/refresh', {
            method: 'POST', headers: { 'Content-Type': 'application/json' },
            body: JSON.stringify({ refresh_token: s.refresh_token }),
          });
        } catch (_) { throw new B.NetworkError(); }
        if (!res.ok) { B.saveSession(null); return false; }
        const pair = await res.json();
        B.saveSession(Object.assign({}, s, pair));
        return true;
      }).finally(() => { refreshing = null; });
    }
    return refreshing;
  }

  /**
   * Calls the API. `body` is sent as JSON; `opts.idempotencyKey` sets Idempotency-Key;
   * `opts.anonymous` sends no token. Resolves to the JSON answer (null for 204);
   * rejects with B.ApiError (with `.problem`) or B.NetworkError.
   */
  B.api = async (method, path, body, opts) => {
    opts = opts || {};
    const send = async () => {
      const headers = { Accept: 'application/json' };
      const s = B.session();
      if (s && !opts.anonymous) headers.Authorization = `Bearer ${s.access_token}`;
      if (body !== undefined) headers['Content-Type'] = 'application/json';
      if (opts.idempotencyKey) headers['Idempotency-Key'] = opts.idempotencyKey;
      // The version of what the user saw: the server refuses (409) if it moved since.
      if (opts.ifMatch !== undefined && opts.ifMatch !== null) headers['If-Match'] = `"${opts.ifMatch}"`;
      try {
        return [await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) }), s];
      } catch (_) { throw new B.NetworkError(); }
    };
    let [res, s] = await send();
    if (res.status === 401 && s && !opts.anonymous && await refresh(s.access_token)) {
      [res] = await send();
    }
    if (res.status === 401 && !opts.anonymous) { B.saveSession(null); B.onLoggedOut(); }
    if (res.status === 204) return null;
    const type = res.headers.get('Content-Type') || '';
    const data = type.includes('json') ? await res.json().catch(() => null) : null;
    if (!res.ok) throw new B.ApiError(res.status, data);
    return data;
  };

  /** Every item of a cursor-paged list (`{items, next_cursor}`; a plain array is
   *  returned as it is), 500 a page, 40 pages at most. */
  B.allPages = async (path) => {
    const out = [];
    let cursor = null;
    for (let i = 0; i < 40; i++) {
      const sep = path.includes('?') ? '&' : '?';
      const page = await B.api('GET', `${path}${sep}limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      if (Array.isArray(page)) return page;
      out.push(...(page.items || []));
      cursor = page.next_cursor;
      if (!cursor) break;
    }
    return out;
  };

  /** Shows `problem.errors[]` next to the form's fields (matched by `data-field`). */
  B.showFieldErrors = (form, err) => {
    B.clearFieldErrors(form);
    const errors = (err && err.problem && err.problem.errors) || [];
    let first = null;
    for (const fe of errors) {
      const field = form.querySelector(`[data-field="${CSS.escape(fe.field)}"]`) ||
        form.querySelector(`[data-field="${CSS.escape(fe.field.split(/[.[]/)[0])}"]`);
      const target = field || form;
      const msg = B.h('p', { class: 'field-error', role: 'alert' }, fe.message);
      if (field) {
        field.classList.add('invalid');
        field.setAttribute('aria-invalid', 'true');
        (field.closest('.field') || field.parentElement).append(msg);
        first = first || field;
      } else {
        target.prepend(msg);
      }
    }
    if (!errors.length && err) form.prepend(B.h('p', { class: 'field-error', role: 'alert' }, err.message));
    if (first && first.focus) first.focus();
  };
  B.clearFieldErrors = (form) => {
    B.$$('.field-error', form).forEach((e) => e.remove());
    B.$$('.invalid', form).forEach((e) => { e.classList.remove('invalid'); e.removeAttribute('aria-invalid'); });
  };

  B.onLoggedOut = () => { if (B._roles) renderLogin(B._roles, B._ready); };

  B.logout = async () => {
    const s = B.session();
    if (s) await B.api('POST', '/api/v1/auth/logout', { refresh_token: s.refresh_token }).catch(() => {});
    B.saveSession(null);
    B.onLoggedOut();
  };

  function renderWho(me) {
    const who = document.getElementById('who');
    if (!who) return;
    if (!me) { who.replaceChildren(); return; }
    B.mount(who,
      B.h('span', { class: 'who-name' }, `${me.full_name} · ${B.ROLE[me.role] || me.role}`),
      B.h('button', { type: 'button', class: 'link', onclick: () => B.logout() }, 'Đăng xuất'));
  }

  function renderLogin(roles, ready, message) {
    renderWho(null);
    const user = B.h('input', { id: 'login-user', name: 'username', autocomplete: 'username', required: true, autocapitalize: 'none' });
    const pass = B.h('input', { id: 'login-pass', name: 'password', type: 'password', autocomplete: 'current-password', required: true });
    const err = B.h('p', { class: 'field-error', role: 'alert', hidden: !message }, message || '');
    const btn = B.h('button', { type: 'submit', class: 'primary' }, 'Đăng nhập');
    const form = B.h('form', { class: 'card login', onsubmit: async (e) => {
      e.preventDefault();
      btn.disabled = true; err.hidden = true;
      try {
        const pair = await B.api('POST', '/api/v1/auth/login', { username: user.value.trim(), password: pass.value }, { anonymous: true });
        B.saveSession(pair);
        await start(roles, ready);
      } catch (ex) {
        err.textContent = ex.message; err.hidden = false; btn.disabled = false;
      }
    } },
    B.h('h1', {}, 'Đăng nhập'),
    B.h('div', { class: 'field' }, B.h('label', { for: 'login-user' }, 'Tên đăng nhập'), user),
    B.h('div', { class: 'field' }, B.h('label', { for: 'login-pass' }, 'Mật khẩu'), pass),
    err, btn);
    B.mount(B.app(), form);
    user.focus();
  }

  async function start(roles, ready) {
    const s = B.session();
    if (!s) return renderLogin(roles, ready);
    let me = s.me;
    if (!me) {
      try {
        me = await B.api('GET', '/api/v1/me');
      } catch (ex) {
        if (ex.offline) { B.mount(B.app(), B.h('p', { class: 'error' }, ex.message)); return; }
        return renderLogin(roles, ready);
      }
      B.saveSession(Object.assign({}, B.session(), { me }));
    }
    if (!roles.includes(me.role)) {
      B.saveSession(null);
      return renderLogin(roles, ready, `Tài khoản ${me.username} (${B.ROLE[me.role] || me.role}) không dùng trang này.`);
    }
    renderWho(me);
    ready(me);
  }

  /** Runs `ready(me)` once someone with one of `roles` is logged in (else shows the login form). */
  B.requireLogin = (roles, ready) => {
    B._roles = roles; B._ready = ready;
    return start(roles, ready);
  };

  // ---------- dates typed and shown as dd/mm/yyyy ----------
  // A native date field shows the browser's locale (mm/dd/yyyy on an English browser).
  // Every <input type=date> a page adds gets a text field in front of it that reads
  // and takes dd/mm/yyyy, and a calendar button opening the native picker; the native
  // input stays in the page, visually hidden, and keeps the value (YYYY-MM-DD) and the
  // events pages listen to. Its `value` setter updates the text too.

  /** `YYYY-MM-DD` → `DD/MM/YYYY` ('' for anything else). */
  B.dmy = (iso) => (/^\d{4}-\d{2}-\d{2}$/.test(iso || '') ? iso.split('-').reverse().join('/') : '');
  /** `D/M/YYYY` (also with `.` or `-`, or 8 digits) → `YYYY-MM-DD`, or null if no such day. */
  B.parseDmy = (text) => {
    const m = /^\s*(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})\s*$/.exec(text || '') || /^\s*(\d{2})(\d{2})(\d{4})\s*$/.exec(text || '');
    if (!m) return null;
    const [d, mo, y] = [Number(m[1]), Number(m[2]), Number(m[3])];
    const t = new Date(Date.UTC(y, mo - 1, d));
    if (t.getUTCFullYear() !== y || t.getUTCMonth() !== mo - 1 || t.getUTCDate() !== d) return null;
    return `${y}-${pad2(mo)}-${pad2(d)}`;
  };

  const VALUE = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value');
  const fire = (el, type) => el.dispatchEvent(new Event(type, { bubbles: true }));

  function upgradeDate(native) {
    if (native.dataset.dmy) return;
    native.dataset.dmy = '1';
    const id = native.id || `date-${B.uuid().slice(0, 8)}`;
    native.id = id;
    const text = B.h('input', {
      type: 'text', id: `${id}-text`, class: 'date-text', inputmode: 'numeric', autocomplete: 'off',
      placeholder: 'dd/mm/yyyy', maxlength: 10, title: 'Ngày/tháng/năm, ví dụ 08/12/2026', required: native.required,
    });
    text.value = B.dmy(VALUE.get.call(native));
    Object.defineProperty(native, 'value', {
      configurable: true,
      get() { return VALUE.get.call(this); },
      set(v) { VALUE.set.call(this, v); text.value = B.dmy(VALUE.get.call(this)); },
    });
    native.focus = () => text.focus();
    const pick = B.h('button', {
      type: 'button', class: 'date-pick', 'aria-label': 'Chọn ngày trên lịch', title: 'Chọn ngày trên lịch',
      onclick: () => { try { native.showPicker(); } catch (_) { text.focus(); } },
    }, B.svg('svg', { viewBox: '0 0 24 24', width: 20, height: 20, 'aria-hidden': 'true', focusable: 'false' },
      B.svg('rect', { x: 3, y: 5, width: 18, height: 16, rx: 2, fill: 'none', stroke: 'currentColor', 'stroke-width': 2 }),
      B.svg('path', { d: 'M3 10h18M8 3v4M16 3v4', stroke: 'currentColor', 'stroke-width': 2, fill: 'none' })));
    const wrap = B.h('span', { class: 'date-field' });
    native.replaceWith(wrap);
    native.classList.add('date-native');
    native.tabIndex = -1;
    native.setAttribute('aria-hidden', 'true');
    wrap.append(text, pick, native);
    // The browser cannot point at a hidden field's min/max: the pages check dates themselves.
    const form = wrap.closest('form');
    if (form) form.noValidate = true;
    B.$$(`label[for="${CSS.escape(id)}"]`).forEach((l) => { l.htmlFor = text.id; });

    const set = (iso) => {
      if (iso === VALUE.get.call(native)) return;
      VALUE.set.call(native, iso);
      fire(native, 'input');
      fire(native, 'change');
    };
    text.addEventListener('input', (e) => {
      // Slashes come by themselves after the day and the month.
      if (e.inputType === 'insertText' && /^\d{2}$|^\d{1,2}\/\d{2}$/.test(text.value)) text.value += '/';
      const iso = B.parseDmy(text.value);
      if (iso) set(iso);
    });
    text.addEventListener('change', () => {
      const iso = B.parseDmy(text.value);
      set(iso || '');
      if (iso) text.value = B.dmy(iso);
    });
    native.addEventListener('change', () => { text.value = B.dmy(VALUE.get.call(native)); });
  }

  new MutationObserver((records) => {
    for (const r of records) {
      for (const n of r.addedNodes) {
        if (n.nodeType !== 1) continue;
        if (n.matches('input[type=date]')) upgradeDate(n);
        else n.querySelectorAll('input[type=date]:not([data-dmy])').forEach(upgradeDate);
      }
    }
  }).observe(document.documentElement, { childList: true, subtree: true });

  // ---------- network indicator ----------
  function showNet() {
    const n = document.getElementById('net');
    if (n) n.hidden = navigator.onLine;
  }
  window.addEventListener('online', showNet);
  window.addEventListener('offline', showNet);
  showNet();
})();
