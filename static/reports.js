// Buuta: the reports page (/reports) for dispatchers and admins. Filters kept in the URL,
// the summary figures, overdue complaints, the three server-drawn SVG charts (fetched with
// the token and shown from blob: URLs, never inserted as markup) and the CSV download.
//
// Selectors for end-to-end tests:
//   #filters                      the filter form (submit = #apply)
//   #from, #to                    period, <input type=date> (YYYY-MM-DD, Vietnam dates, `to` inclusive),
//                                 shown and typed as dd/mm/yyyy in #from-text, #to-text (app.js)
//   #post-office                  <select>: post office id, or "all" (admins, users without a post office)
//   #agency                       <select>: agency id, or "" for all agencies
//   #apply                        "Xem báo cáo" (applies the filters, updates the URL query)
//   #download-csv                 "Tải CSV" (saves ho-so-YYYY-MM-DD.csv)
//   #report-loading               loading indicator (hidden when idle); #summary gets [aria-busy=true] meanwhile
//   #report-error                 error box (role=alert; hidden when there is none), #retry inside it
//   #summary                      all figures; [data-state=loading|ready|error]
//   #period                       the period shown ("… – …, N hồ sơ"), [data-dossiers]
//   #by-status tr[data-status]    one row per status, [data-count]
//   #rate-pickup, #rate-handover, #rate-return   on-time tiles: [data-rate] (0–1 or ""), [data-on-time], [data-late]
//   #lead-times tr[data-phase]    pickup|handover|processing|return|total, [data-count]
//   #failed-attempts tr[data-reason]  [data-count]; an .empty paragraph when none
//   #complaints-summary           complaint counts (dd[data-key=total|open|answered|overdue|answered_late])
//   #overdue-complaints           <ul>; li[data-complaint-id] with .code, .due, .status
//   #load-spread                  under #by-courier: [data-days], [data-mean-ratio] (busiest / least busy courier per day)
//   #by-agency, #by-post-office, #by-courier, #by-day   grouping tables (tbody tr[data-key]); each in a
//                                 card #block-agency, #block-post-office, #block-courier, #block-day
//   #charts                       figure[data-chart=dossiers-per-day|on-time-per-week|lead-time-distribution]
//                                 [data-state=loading|ready|error] > .chart-box > img (src blob:…, alt) once
//                                 loaded; figcaption > .chart-title, .chart-note
//   #cash                         cash reconciliation card (đối soát thu hộ); [data-state=loading|ready|error|too-long]
//   #cash-totals dd[data-key=expected_vnd|collected_vnd|handed_over_vnd|pending_vnd]  [data-value] (đồng)
//   #cash-lines tbody tr[data-courier-id][data-day][data-status=pending|matched|short|over]
//                                 cells .expected, .collected, .handed, .gap [data-value]; button.record-handover
//                                 on a pending day ("Ghi nhận nộp tiền")
//   #cash-csv                     "Tải CSV đối soát" (saves doi-soat-thu-ho-FROM-TO.csv)
//   #handover-dialog              <dialog> (form #handover-form): #handover-amount (prefilled with what the
//                                 courier recorded), #handover-cashier, #handover-note, #handover-save,
//                                 #handover-cancel; field errors as .field-error; 409 shown in #handover-conflict
// URL query: ?from=YYYY-MM-DD&to=YYYY-MM-DD&post_office_id=<id|all>&agency_id=<id>
(function () {
  'use strict';

  const B = window.Buuta;
  const h = B.h;
  const ROLES = ['dispatcher', 'admin'];
  const CHARTS = [
    { name: 'dossiers-per-day', caption: 'Số hồ sơ tiếp nhận mỗi ngày' },
    { name: 'on-time-per-week', caption: 'Tỷ lệ đúng hạn theo tuần (gộp lấy hồ sơ, nộp cơ quan và trả kết quả)' },
    { name: 'lead-time-distribution', caption: 'Phân bố thời gian từ tiếp nhận đến hoàn thành hồ sơ' },
  ];
  const RATES = [
    { key: 'pickup', label: 'Lấy hồ sơ đúng khung giờ hẹn', hint: 'Lần lấy cuối trước khi hết khung giờ; hồ sơ còn chờ đã quá khung giờ tính là trễ.' },
    { key: 'handover', label: 'Nộp cơ quan đúng hạn', hint: 'Mỗi lần lấy được nộp tại cơ quan trong 8 giờ làm việc.' },
    { key: 'return', label: 'Trả kết quả đúng hạn', hint: 'Giao tận nhà trước 17:00 ngày làm việc kế tiếp sau khi có kết quả.' },
  ];
  const PHASES = [
    { key: 'pickup', label: 'Tiếp nhận → lấy hồ sơ' },
    { key: 'handover', label: 'Lấy hồ sơ → nộp cơ quan' },
    { key: 'processing', label: 'Cơ quan xử lý (nộp → có kết quả)' },
    { key: 'return', label: 'Có kết quả → giao tận nhà' },
    { key: 'total', label: 'Toàn bộ (tiếp nhận → hoàn thành)' },
  ];
  const STATUS_ORDER = Object.keys(B.STATUS);

  // ---------- small helpers ----------

  const num = (n) => (n === null || n === undefined ? '—' : Number(n).toLocaleString('vi-VN'));
  const fmt1 = (x) => Number(x).toLocaleString('vi-VN', { maximumFractionDigits: 1 });
  const pct = (r) => (r === null || r === undefined ? '—' : `${fmt1(r * 100)}%`);

  /** Hours as Vietnamese text: "35 phút", "6,5 giờ", "4 ngày 19 giờ". */
  function fmtHours(hours) {
    if (hours === null || hours === undefined) return '—';
    if (hours < 1) {
      const m = Math.round(hours * 60);
      return m < 1 ? 'dưới 1 phút' : `${m} phút`;
    }
    if (hours < 24) return `${fmt1(hours)} giờ`;
    const whole = Math.round(hours);
    const d = Math.floor(whole / 24);
    const r = whole % 24;
    return r ? `${d} ngày ${r} giờ` : `${d} ngày`;
  }

  const dmy = B.dmy;
  /** `YYYY-MM-DD` plus `n` days. */
  function addDays(day, n) {
    const t = new Date(`${day}T00:00:00Z`);
    t.setUTCDate(t.getUTCDate() + n);
    return t.toISOString().slice(0, 10);
  }
  const isDay = (s) => /^\d{4}-\d{2}-\d{2}$/.test(s) && !Number.isNaN(new Date(`${s}T00:00:00Z`).getTime());

  function rateClass(r) {
    if (r === null || r === undefined) return 'none';
    if (r >= 0.95) return 'ok';
    if (r >= 0.8) return 'warn';
    return 'bad';
  }

  /** A rate as "60,9% (28/46)" for the grouping tables. */
  function rateCell(rate) {
    const due = rate.on_time + rate.late;
    if (!due) return h('td', { class: 'num muted', title: 'Chưa có hồ sơ đến hạn' }, '—');
    return h('td', { class: ['num', 'rate-' + rateClass(rate.rate)], title: `${rate.on_time} đúng hạn, ${rate.late} trễ` },
      pct(rate.rate), h('span', { class: 'frac' }, `${rate.on_time}/${due}`));
  }

  class AuthLost extends Error {}

  /** GET with the Bearer token, for non-JSON answers (SVG, CSV). Refreshes the token once. */
  async function authFetch(url) {
    const go = () => {
      const s = B.session();
      const headers = {};
      if (s && s.access_token) headers.Authorization = `Bearer ${s.access_token}`;
      return fetch(url, { headers }).catch(() => { throw new B.NetworkError(); });
    };
    let res = await go();
    if (res.status === 401) {
      // B.api refreshes the token pair, or logs out and shows the login form.
      try { await B.api('GET', '/api/v1/me'); } catch (_) { /* judged below */ }
      if (!B.session()) throw new AuthLost();
      res = await go();
      if (res.status === 401) {
        B.saveSession(null);
        B.requireLogin(ROLES, render);
        throw new AuthLost();
      }
    }
    if (!res.ok) {
      const type = res.headers.get('Content-Type') || '';
      const problem = type.includes('json') ? await res.json().catch(() => null) : null;
      throw new B.ApiError(res.status, problem);
    }
    return res;
  }

  /** A Vietnamese sentence for an error of the report API. */
  function errorText(err) {
    if (err && err.offline) return 'Không kết nối được máy chủ. Kiểm tra mạng rồi thử lại.';
    const status = err && err.status;
    const detail = err && err.problem && err.problem.detail;
    if (status === 400 || status === 422) {
      return 'Khoảng thời gian hoặc bộ lọc không hợp lệ: ngày phải đúng dạng ngày/tháng/năm và ngày bắt đầu không được sau ngày kết thúc.' +
        (detail ? ` (Máy chủ: ${detail})` : '');
    }
    if (status === 403) return 'Tài khoản của bạn không có quyền xem báo cáo này.';
    if (status === 404) return 'Không tìm thấy dữ liệu báo cáo được yêu cầu.';
    if (status >= 500) return 'Máy chủ gặp lỗi khi lập báo cáo. Vui lòng thử lại sau ít phút.';
    return (err && err.message) || 'Đã có lỗi xảy ra.';
  }

  const { allPages } = B;

  // ---------- state ----------

  let me = null;
  let generation = 0; // bumped on every load; stale answers are dropped
  let objectUrls = [];
  let refs = null; // {agencies: Map, postOffices: Map, couriers: Map}
  let els = {};

  function revokeAll() {
    objectUrls.forEach((u) => URL.revokeObjectURL(u));
    objectUrls = [];
  }

  /** The filters: from the URL, with defaults. */
  function filtersFromUrl() {
    const q = new URLSearchParams(location.search);
    const today = B.today();
    const f = {
      from: q.get('from') || addDays(today, -29),
      to: q.get('to') || today,
      postOffice: q.get('post_office_id') || '',
      agency: q.get('agency_id') || '',
    };
    const canAll = me.role === 'admin' || !me.post_office_id;
    if (!f.postOffice || (f.postOffice === 'all' && !canAll)) {
      f.postOffice = me.post_office_id ? String(me.post_office_id) : 'all';
    }
    return f;
  }

  function filtersToQuery(f, forApi) {
    const q = new URLSearchParams();
    q.set('from', f.from);
    q.set('to', f.to);
    if (forApi) {
      if (f.postOffice && f.postOffice !== 'all') q.set('post_office_id', f.postOffice);
    } else {
      q.set('post_office_id', f.postOffice || 'all');
    }
    if (f.agency) q.set('agency_id', f.agency);
    return q.toString();
  }

  function filtersFromForm() {
    return {
      from: els.from.value,
      to: els.to.value,
      postOffice: els.postOffice.value,
      agency: els.agency.value,
    };
  }

  function fillForm(f) {
    els.from.value = isDay(f.from) ? f.from : '';
    els.to.value = isDay(f.to) ? f.to : '';
    ensureOption(els.postOffice, f.postOffice, `Bưu cục số ${f.postOffice}`);
    els.postOffice.value = f.postOffice;
    ensureOption(els.agency, f.agency, `Cơ quan số ${f.agency}`);
    els.agency.value = f.agency;
  }

  function ensureOption(select, value, label) {
    if (!value || B.$$('option', select).some((o) => o.value === value)) return;
    select.append(h('option', { value }, label));
  }

  // ---------- reference data ----------

  async function loadRefs() {
    if (refs) return refs;
    const [agencies, postOffices, couriers] = await Promise.all([
      allPages('/api/v1/agencies').catch(() => []),
      allPages('/api/v1/post-offices').catch(() => []),
      B.api('GET', '/api/v1/couriers').catch(() => []),
    ]);
    const loaded = {
      agencies: new Map(agencies.map((a) => [a.id, a.name])),
      postOffices: new Map(postOffices.map((p) => [p.id, p.name])),
      couriers: new Map((Array.isArray(couriers) ? couriers : []).map((c) => [c.id, c.full_name])),
    };
    if (agencies.length || postOffices.length) refs = loaded; // retry next time if everything failed
    return loaded;
  }

  function fillSelects(r) {
    const f = filtersFromForm();
    const canAll = me.role === 'admin' || !me.post_office_id;
    const po = [];
    if (canAll) po.push(h('option', { value: 'all' }, 'Tất cả bưu cục'));
    for (const [id, name] of r.postOffices) {
      po.push(h('option', { value: String(id) }, id === me.post_office_id ? `${name} (của tôi)` : name));
    }
    if (po.length) B.mount(els.postOffice, po);
    const ag = [h('option', { value: '' }, 'Tất cả cơ quan')];
    for (const [id, name] of r.agencies) ag.push(h('option', { value: String(id) }, name));
    B.mount(els.agency, ag);
    fillForm(f);
  }

  // ---------- page ----------

  function field(id, label, input, hint) {
    input.dataset.field = id;
    return h('div', { class: 'field' },
      h('label', { for: id }, label), input, hint ? h('p', { class: 'hint' }, hint) : null);
  }

  function render(who) {
    me = who;
    revokeAll();
    generation++;
    const canAll = me.role === 'admin' || !me.post_office_id;
    els = {
      from: h('input', { id: 'from', name: 'from', type: 'date', required: true, max: B.today() }),
      to: h('input', { id: 'to', name: 'to', type: 'date', required: true }),
      postOffice: h('select', { id: 'post-office', name: 'post_office_id' },
        canAll ? h('option', { value: 'all' }, 'Tất cả bưu cục') : null,
        me.post_office_id ? h('option', { value: String(me.post_office_id) }, 'Bưu cục của tôi') : null),
      agency: h('select', { id: 'agency', name: 'agency_id' }, h('option', { value: '' }, 'Tất cả cơ quan')),
      apply: h('button', { id: 'apply', type: 'submit', class: 'primary' }, 'Xem báo cáo'),
      csv: h('button', { id: 'download-csv', type: 'button', onclick: downloadCsv }, 'Tải CSV'),
      loading: h('p', { id: 'report-loading', class: 'report-loading', role: 'status', hidden: true }, 'Đang tải báo cáo…'),
      error: h('div', { id: 'report-error', class: 'report-error', role: 'alert', hidden: true }),
      summary: h('div', { id: 'summary', class: 'summary', dataset: { state: 'loading' } }),
      charts: h('section', { id: 'charts', class: 'charts', 'aria-labelledby': 'charts-title' }),
      cash: h('section', { id: 'cash', class: 'card block cash', 'aria-labelledby': 'cash-title', dataset: { state: 'loading' } }),
    };
    els.form = h('form', { id: 'filters', class: 'card filters', novalidate: true, onsubmit: onApply },
      h('div', { class: 'filter-fields' },
        field('from', 'Từ ngày', els.from),
        field('to', 'Đến ngày', els.to),
        field('post-office', 'Bưu cục', els.postOffice),
        field('agency', 'Cơ quan tiếp nhận', els.agency)),
      h('div', { class: 'filter-actions' }, els.apply, els.csv));

    B.mount(els.charts, h('h2', { id: 'charts-title' }, 'Biểu đồ'),
      h('p', { class: 'hint chart-swipe' }, 'Màn hình hẹp: vuốt ngang trên biểu đồ để xem hết.'),
      CHARTS.map((c) => h('figure', { class: 'card chart', dataset: { chart: c.name, state: 'loading' } },
        h('div', { class: 'chart-box', tabindex: 0, role: 'region', 'aria-label': c.caption },
          h('p', { class: 'chart-placeholder muted' }, 'Đang tải biểu đồ…')),
        h('figcaption', {}, h('span', { class: 'chart-title' }, c.caption), h('span', { class: 'chart-note' })))));

    B.mount(B.app(),
      h('h1', {}, 'Báo cáo dịch vụ'),
      els.form, els.loading, els.error,
      h('div', { class: 'report-grid' }, els.summary, els.charts, els.cash));

    const f = filtersFromUrl();
    fillForm(f);
    // Keep the full filters in the address, so a shared link shows the same period.
    history.replaceState(null, '', `${location.pathname}?${filtersToQuery(f, false)}`);
    loadRefs().then((r) => { fillSelects(r); }).catch(() => {});
    load(f);
  }

  window.addEventListener('popstate', () => {
    if (!me || !els.form || !document.body.contains(els.form)) return;
    const f = filtersFromUrl();
    fillForm(f);
    load(f);
  });

  /** Checks the form; returns the filters or null (messages shown next to the fields). */
  function validForm() {
    B.clearFieldErrors(els.form);
    const f = filtersFromForm();
    const errors = [];
    if (!isDay(f.from)) errors.push({ field: 'from', message: 'Chọn ngày bắt đầu.' });
    if (!isDay(f.to)) errors.push({ field: 'to', message: 'Chọn ngày kết thúc.' });
    if (!errors.length && f.from > f.to) errors.push({ field: 'to', message: 'Ngày kết thúc không được trước ngày bắt đầu.' });
    if (errors.length) {
      B.showFieldErrors(els.form, { problem: { errors } });
      return null;
    }
    return f;
  }

  function onApply(e) {
    e.preventDefault();
    const f = validForm();
    if (!f) return;
    const query = '?' + filtersToQuery(f, false);
    if (query !== location.search) history.pushState(null, '', location.pathname + query);
    load(f);
  }

  function showError(err) {
    B.mount(els.error,
      h('p', {}, errorText(err)),
      h('button', { id: 'retry', type: 'button', onclick: () => load(filtersFromUrl()) }, 'Thử lại'));
    els.error.hidden = false;
  }

  function setBusy(busy) {
    els.loading.hidden = !busy;
    els.apply.disabled = busy;
    els.summary.setAttribute('aria-busy', busy ? 'true' : 'false');
    els.summary.classList.toggle('is-loading', busy);
  }

  async function load(f) {
    const gen = ++generation;
    const query = filtersToQuery(f, true);
    els.error.hidden = true;
    setBusy(true);
    els.summary.dataset.state = 'loading';
    if (!B.$('#period', els.summary)) {
      B.mount(els.summary, h('div', { class: 'summary-main' }, h('p', { class: 'muted' }, 'Đang tải số liệu…')));
    }
    loadCharts(f, query, gen);
    loadCash(f, gen);
    try {
      const [summary, r, overdueList] = await Promise.all([
        B.api('GET', `/api/v1/reports/summary?${query}`),
        loadRefs().catch(() => ({ agencies: new Map(), postOffices: new Map(), couriers: new Map() })),
        B.api('GET', '/api/v1/complaints?overdue=true&limit=500').catch(() => null),
      ]);
      if (gen !== generation) return;
      renderSummary(f, summary, r, overdueList ? overdueList.items || [] : null);
      els.summary.dataset.state = 'ready';
    } catch (err) {
      if (gen !== generation || err instanceof AuthLost || !B.session()) return;
      els.summary.dataset.state = 'error';
      B.mount(els.summary, h('div', { class: 'summary-main' }, h('p', { class: 'muted' }, 'Chưa có số liệu.')));
      showError(err);
      if (err.status === 400 || err.status === 422) validForm(); // point at the bad field, if the form shows it
    } finally {
      if (gen === generation) setBusy(false);
    }
  }

  // ---------- summary ----------

  function card(title, id, ...body) {
    return h('section', { id: `block-${id}`, class: 'card block', 'aria-labelledby': `${id}-title` },
      h('h2', { id: `${id}-title` }, title), body);
  }

  /** A compact table; `head` is a list of column titles, or a ready <thead>. */
  function table(id, caption, head, rows, empty) {
    if (!rows.length) return h('p', { id, class: 'muted empty' }, empty);
    const thead = head instanceof Node ? head
      : h('thead', {}, h('tr', {}, head.map((c, i) => h('th', { scope: 'col', class: i ? 'num' : null }, c))));
    return h('div', { class: 'table-wrap', tabindex: 0, role: 'region', 'aria-label': caption },
      h('table', { id, class: 'compact' }, h('caption', { class: 'sr-only' }, caption), thead, h('tbody', {}, rows)));
  }

  function renderSummary(f, s, r, overdueList) {
    const statusRows = [];
    const known = STATUS_ORDER.concat(Object.keys(s.by_status || {}).filter((k) => !STATUS_ORDER.includes(k)));
    const max = Math.max(1, ...Object.values(s.by_status || {}));
    for (const st of known) {
      const n = (s.by_status || {})[st] || 0;
      statusRows.push(h('tr', { dataset: { status: st, count: String(n) }, class: n ? null : 'zero' },
        h('th', { scope: 'row' }, B.statusLabel(st)),
        h('td', { class: 'num' }, num(n)),
        h('td', { class: 'bar-cell', 'aria-hidden': 'true' },
          B.svg('svg', { class: 'bar', viewBox: '0 0 100 10', preserveAspectRatio: 'none', focusable: 'false' },
            B.svg('rect', { x: 0, y: 0, width: (100 * n) / max, height: 10, rx: 2 })))));
    }

    const rates = h('div', { class: 'rates' }, RATES.map((x) => {
      const rate = (s.on_time && s.on_time[x.key]) || { on_time: 0, late: 0, rate: null };
      const due = rate.on_time + rate.late;
      return h('div', {
        id: `rate-${x.key}`, class: ['rate', 'rate-' + rateClass(rate.rate)],
        dataset: { rate: rate.rate === null ? '' : String(rate.rate), onTime: String(rate.on_time), late: String(rate.late) },
      },
      h('p', { class: 'rate-label' }, x.label),
      h('p', { class: 'rate-value' }, pct(rate.rate)),
      h('p', { class: 'rate-detail' }, due
        ? `${num(rate.on_time)}/${num(due)} đúng hạn · ${num(rate.late)} trễ`
        : 'Chưa có hồ sơ đến hạn'),
      h('p', { class: 'hint' }, x.hint));
    }));

    const lead = table('lead-times', 'Thời gian xử lý theo giai đoạn',
      ['Giai đoạn', 'Số lần', 'Trung bình', 'P90'],
      PHASES.map((p) => {
        const t = (s.lead_times && s.lead_times[p.key]) || { count: 0, mean_hours: null, p90_hours: null };
        return h('tr', { dataset: { phase: p.key, count: String(t.count) } },
          h('th', { scope: 'row' }, p.label),
          h('td', { class: 'num', dataset: { label: 'Số lần' } }, num(t.count)),
          h('td', { class: 'num', dataset: { label: 'Trung bình' }, title: t.mean_hours === null ? null : `${fmt1(t.mean_hours)} giờ` }, fmtHours(t.mean_hours)),
          h('td', { class: 'num', dataset: { label: 'P90' }, title: t.p90_hours === null ? null : `${fmt1(t.p90_hours)} giờ` }, fmtHours(t.p90_hours)));
      }), '');

    const failures = Object.entries(s.failed_attempts || {}).sort((a, b) => b[1] - a[1]);
    const failedTotal = failures.reduce((a, [, n]) => a + n, 0);
    const failedTable = table('failed-attempts', 'Lần thất bại theo lý do', ['Lý do', 'Số lần'],
      failures.map(([reason, n]) => h('tr', { dataset: { reason, count: String(n) } },
        h('th', { scope: 'row' }, B.FAIL_REASON[reason] || reason), h('td', { class: 'num' }, num(n)))),
      'Không có lần lấy hoặc giao nào thất bại trong kỳ.');

    const nameOf = (map, id, what) => map.get(id) || `${what} số ${id}`;
    const groupRows = (list, label) => (list || []).map((g) => h('tr', { dataset: { key: String(g.key) } },
      h('th', { scope: 'row' }, label(g.key)),
      h('td', { class: 'num' }, num(g.dossiers)),
      h('td', { class: 'num' }, num(g.completed)),
      rateCell(g.on_time.pickup), rateCell(g.on_time.handover), rateCell(g.on_time.return)));
    const groupHead = (first) => h('thead', {},
      h('tr', {},
        h('th', { scope: 'col', rowspan: 2 }, first),
        h('th', { scope: 'col', rowspan: 2, class: 'num' }, 'Hồ sơ'),
        h('th', { scope: 'col', rowspan: 2, class: 'num' }, 'Hoàn thành'),
        h('th', { scope: 'colgroup', colspan: 3, class: 'center' }, 'Tỷ lệ đúng hạn')),
      h('tr', {},
        h('th', { scope: 'col', class: 'num', title: 'Lấy hồ sơ đúng khung giờ' }, 'Lấy hồ sơ'),
        h('th', { scope: 'col', class: 'num', title: 'Nộp cơ quan đúng hạn' }, 'Nộp cơ quan'),
        h('th', { scope: 'col', class: 'num', title: 'Trả kết quả đúng hạn' }, 'Trả kết quả')));

    const byAgency = table('by-agency', 'Theo cơ quan tiếp nhận', groupHead('Cơ quan'),
      groupRows(s.by_agency, (k) => nameOf(r.agencies, k, 'Cơ quan')), 'Không có hồ sơ.');
    const byPostOffice = table('by-post-office', 'Theo bưu cục', groupHead('Bưu cục'),
      groupRows(s.by_post_office, (k) => nameOf(r.postOffices, k, 'Bưu cục')), 'Chưa có hồ sơ nào được bưu tá nhận.');
    const byCourier = table('by-courier', 'Theo bưu tá', ['Bưu tá', 'Lấy hồ sơ', 'Giao kết quả', 'Thất bại'],
      (s.by_courier || []).map((c) => h('tr', { dataset: { key: String(c.courier_id) } },
        h('th', { scope: 'row' }, nameOf(r.couriers, c.courier_id, 'Bưu tá')),
        h('td', { class: 'num' }, num(c.pickups)),
        h('td', { class: 'num' }, num(c.deliveries)),
        h('td', { class: ['num', c.failed_attempts ? 'rate-bad' : null] }, num(c.failed_attempts)))),
      'Chưa có bưu tá nào làm việc với hồ sơ của kỳ này.');
    const byDay = table('by-day', 'Theo ngày tiếp nhận', groupHead('Ngày'),
      groupRows(s.by_day, (k) => dmy(k)), 'Không có hồ sơ.');

    B.mount(els.summary, h('div', { class: 'summary-main' },
      h('p', { id: 'period', class: 'period', dataset: { dossiers: String(s.dossiers) } },
        h('strong', { class: 'period-total' }, `${num(s.dossiers)} hồ sơ`),
        h('span', {}, ` tiếp nhận từ ${dmy(f.from)} đến ${dmy(f.to)}`),
        h('span', { class: 'period-scope' }, scopeText(f, r))),
      card('Tỷ lệ đúng hạn', 'rates', rates),
      card('Hồ sơ theo trạng thái', 'status',
        table('by-status', 'Số hồ sơ theo trạng thái', ['Trạng thái', 'Số hồ sơ', ''], statusRows, ''),
        f.postOffice !== 'all'
          ? h('p', { class: 'hint' }, 'Khi lọc theo bưu cục, chỉ tính hồ sơ đã giao cho bưu tá của bưu cục đó.')
          : null),
      card('Thời gian xử lý', 'lead', lead,
        h('p', { class: 'hint' }, 'P90: 90% số lần xong trong khoảng thời gian này hoặc nhanh hơn.')),
      card(`Lần thất bại theo lý do${failedTotal ? ` (${num(failedTotal)})` : ''}`, 'failed', failedTable)),
    h('div', { class: 'summary-side' }, renderComplaints(s.complaints || {}, overdueList)),
    h('div', { class: 'summary-groups' },
      card('Theo cơ quan tiếp nhận', 'agency', byAgency),
      card('Theo bưu cục', 'post-office', byPostOffice),
      card('Theo bưu tá', 'courier', byCourier, spreadNote(s.load_spread)),
      card('Theo ngày tiếp nhận', 'day', byDay)));
    captionCharts(f, s);
  }

  /** How evenly work spread between couriers, day by day. */
  function spreadNote(sp) {
    if (!sp || !sp.days) {
      return h('p', { id: 'load-spread', class: 'hint', dataset: { days: '0' } },
        'Chênh lệch khối lượng giữa bưu tá: chưa có ngày nào có từ hai bưu tá cùng làm việc.');
    }
    const w = sp.worst;
    return h('p', { id: 'load-spread', class: ['load-spread', sp.mean_ratio > 2 ? 'warn' : null],
      dataset: { days: String(sp.days), meanRatio: String(sp.mean_ratio) } },
    h('strong', {}, `Chênh lệch khối lượng giữa bưu tá: trung bình ${fmt1(sp.mean_ratio)} lần`),
    ` (số việc của người nhiều nhất so với người ít nhất trong ngày, ${num(sp.days)} ngày). `,
    w ? `Ngày lệch nhất ${dmy(w.day)}: ${num(w.max_tasks)} và ${num(w.min_tasks)} việc, ${num(w.couriers)} bưu tá.` : '');
  }

  function scopeText(f, r) {
    const po = f.postOffice === 'all' ? 'Tất cả bưu cục'
      : r.postOffices.get(Number(f.postOffice)) || `Bưu cục số ${f.postOffice}`;
    const ag = f.agency ? r.agencies.get(Number(f.agency)) || `Cơ quan số ${f.agency}` : 'tất cả cơ quan';
    return `${po} · ${ag}`;
  }

  function renderComplaints(c, overdueList) {
    const stat = (key, label, cls) => h('div', { class: 'stat' },
      h('dt', {}, label), h('dd', { dataset: { key }, class: cls || null }, num(c[key] || 0)));
    const byId = new Map((overdueList || []).map((x) => [x.id, x]));
    const now = Date.now();
    const items = (c.overdue_items || []).slice().sort((a, b) => (a.due_at < b.due_at ? -1 : 1)).map((o) => {
      const full = byId.get(o.id);
      const code = full ? full.tracking_code : '';
      const days = Math.floor((now - new Date(o.due_at).getTime()) / 86400e3);
      const status = full && full.status === 'answered' ? 'Đã trả lời' : 'Chưa trả lời';
      return h('li', { dataset: { complaintId: String(o.id) } },
        h('div', { class: 'complaint-head' },
          code
            ? h('a', { class: 'code', href: `/track/${encodeURIComponent(code)}` }, code)
            : h('span', { class: 'code' }, `Hồ sơ số ${o.dossier_id}`),
          h('span', { class: 'badge bad status' }, `${status} · quá hạn ${days >= 1 ? `${days} ngày` : 'dưới 1 ngày'}`)),
        h('p', { class: 'due' }, 'Hạn trả lời: ', h('time', { datetime: o.due_at }, B.fmtDateTime(o.due_at))),
        full && full.content ? h('p', { class: 'complaint-text muted' }, full.content) : null);
    });
    return card(`Khiếu nại${c.overdue ? ` · ${num(c.overdue)} quá hạn` : ''}`, 'complaints',
      h('dl', { id: 'complaints-summary', class: 'stats' },
        stat('total', 'Nhận trong kỳ'), stat('open', 'Chưa trả lời'), stat('answered', 'Đã trả lời'),
        stat('overdue', 'Quá hạn chưa trả lời', c.overdue ? 'bad' : null),
        stat('answered_late', 'Trả lời trễ hạn', c.answered_late ? 'warn' : null)),
      h('h3', {}, 'Khiếu nại quá hạn chưa trả lời'),
      items.length
        ? h('ul', { id: 'overdue-complaints', class: 'list overdue' }, items)
        : h('ul', { id: 'overdue-complaints', class: 'list overdue empty' },
          h('li', { class: 'muted' }, 'Không có khiếu nại nào quá hạn.')));
  }

  // ---------- charts ----------

  function chartFigure(name) {
    return B.$(`figure[data-chart="${name}"]`, els.charts);
  }

  /** Alt texts and caption notes from the summary (the chart itself is an image). */
  function captionCharts(f, s) {
    const period = `từ ${dmy(f.from)} đến ${dmy(f.to)}`;
    const days = s.by_day || [];
    let busiest = null;
    for (const d of days) if (!busiest || d.dossiers > busiest.dossiers) busiest = d;
    const t = s.on_time || {};
    let on = 0; let due = 0;
    for (const k of ['pickup', 'handover', 'return']) if (t[k]) { on += t[k].on_time; due += t[k].on_time + t[k].late; }
    const total = (s.lead_times && s.lead_times.total) || {};
    const notes = {
      'dossiers-per-day': s.dossiers
        ? `Tổng ${num(s.dossiers)} hồ sơ trong ${num(days.length)} ngày có hồ sơ; nhiều nhất ${num(busiest.dossiers)} hồ sơ ngày ${dmy(busiest.key)}. Ngày không có hồ sơ không hiện trên biểu đồ.`
        : 'Không có hồ sơ nào trong kỳ.',
      'on-time-per-week': due
        ? `Cả kỳ: ${pct(on / due)} (${num(on)}/${num(due)} việc đúng hạn).`
        : 'Chưa có việc nào đến hạn trong kỳ.',
      'lead-time-distribution': total.count
        ? `${num(total.count)} hồ sơ đã hoàn thành; trung bình ${fmtHours(total.mean_hours)}, P90 ${fmtHours(total.p90_hours)}.`
        : 'Chưa có hồ sơ nào hoàn thành trong kỳ.',
    };
    for (const c of CHARTS) {
      const fig = chartFigure(c.name);
      if (!fig) continue;
      fig.dataset.alt = `Biểu đồ cột: ${c.caption.charAt(0).toLowerCase()}${c.caption.slice(1)} ${period}. ${notes[c.name]}`;
      B.$('.chart-note', fig).textContent = notes[c.name];
      const img = B.$('img', fig);
      if (img) img.alt = fig.dataset.alt;
    }
  }

  function loadCharts(f, query, gen) {
    for (const c of CHARTS) {
      const fig = chartFigure(c.name);
      if (!fig) continue;
      fig.dataset.state = 'loading';
      fig.classList.add('is-loading');
      delete fig.dataset.alt;
      const box = B.$('.chart-box', fig);
      if (!B.$('img', box)) B.mount(box, h('p', { class: 'chart-placeholder muted' }, 'Đang tải biểu đồ…'));
      authFetch(`/api/v1/reports/charts/${c.name}.svg?${query}`)
        .then((res) => res.blob())
        .then((blob) => {
          if (gen !== generation) return;
          const url = URL.createObjectURL(new Blob([blob], { type: 'image/svg+xml' }));
          const box = B.$('.chart-box', fig);
          const old = B.$('img', box);
          const img = h('img', {
            src: url, width: 720, height: 320, decoding: 'async',
            alt: fig.dataset.alt || `Biểu đồ cột: ${c.caption.charAt(0).toLowerCase()}${c.caption.slice(1)} từ ${dmy(f.from)} đến ${dmy(f.to)}`,
          });
          const swap = () => {
            if (gen !== generation) { URL.revokeObjectURL(url); return; }
            if (fig.dataset.alt) img.alt = fig.dataset.alt;
            B.mount(box, img);
            fig.dataset.state = 'ready';
            fig.classList.remove('is-loading');
            if (old) URL.revokeObjectURL(old.getAttribute('src'));
            objectUrls = objectUrls.filter((u) => u !== (old && old.getAttribute('src')));
          };
          objectUrls.push(url);
          img.addEventListener('load', swap, { once: true });
          img.addEventListener('error', () => {
            if (gen !== generation) return;
            chartError(fig, 'Không hiển thị được biểu đồ.');
          }, { once: true });
        })
        .catch((err) => {
          if (gen !== generation || err instanceof AuthLost) return;
          chartError(fig, err && err.offline ? 'Không kết nối được máy chủ.'
            : `Không tải được biểu đồ${err && err.status ? ` (lỗi ${err.status})` : ''}.`);
        });
    }
  }

  function chartError(fig, message) {
    const box = B.$('.chart-box', fig);
    const old = B.$('img', box);
    if (old) {
      URL.revokeObjectURL(old.getAttribute('src'));
      objectUrls = objectUrls.filter((u) => u !== old.getAttribute('src'));
    }
    B.mount(box, h('p', { class: 'chart-placeholder error' }, message));
    fig.dataset.state = 'error';
    fig.classList.remove('is-loading');
  }

  // ---------- cash reconciliation (đối soát thu hộ) ----------

  const CASH_MAX_DAYS = 92;
  const CASH_STATUS_CLASS = { pending: 'warn', matched: 'ok', short: 'bad', over: 'info' };
  let cashFilters = null;

  function cashQuery(f) {
    const q = new URLSearchParams({ from: f.from, to: f.to });
    if (f.postOffice && f.postOffice !== 'all') q.set('post_office_id', f.postOffice);
    return q.toString();
  }

  function daysBetween(from, to) {
    return Math.round((new Date(`${to}T00:00:00Z`) - new Date(`${from}T00:00:00Z`)) / 86400e3) + 1;
  }

  /** A signed amount as "+5.000 ₫" / "−10.000 ₫" / "0 ₫". */
  const signedMoney = (v) => (v === null || v === undefined ? '—'
    : `${v > 0 ? '+' : v < 0 ? '−' : ''}${B.money(Math.abs(v))}`);

  function cashHead(...rest) {
    return [h('h2', { id: 'cash-title' }, 'Đối soát thu hộ'),
      h('p', { class: 'hint' }, 'Cước bưu chính và lệ phí thu hộ cơ quan mà bưu tá phải thu theo từng ngày, số bưu tá ghi đã thu tại nhà dân và số thủ quỹ bưu cục nhận khi bưu tá nộp tiền cuối ca.'),
      ...rest];
  }

  async function loadCash(f, gen) {
    cashFilters = f;
    const csv = h('button', { id: 'cash-csv', type: 'button', onclick: () => downloadCashCsv(f) }, 'Tải CSV đối soát');
    if (daysBetween(f.from, f.to) > CASH_MAX_DAYS) {
      els.cash.dataset.state = 'too-long';
      B.mount(els.cash, cashHead(h('p', { class: 'muted empty' },
        `Đối soát tối đa ${CASH_MAX_DAYS} ngày mỗi lần. Chọn khoảng thời gian ngắn hơn để xem.`)));
      return;
    }
    els.cash.dataset.state = 'loading';
    els.cash.classList.add('is-loading');
    if (!B.$('#cash-lines', els.cash)) B.mount(els.cash, cashHead(h('p', { class: 'muted' }, 'Đang tải số liệu đối soát…')));
    try {
      const [report, r] = await Promise.all([
        B.api('GET', `/api/v1/reports/cash?${cashQuery(f)}`),
        loadRefs().catch(() => ({ agencies: new Map(), postOffices: new Map(), couriers: new Map() })),
      ]);
      if (gen !== generation) return;
      renderCash(f, report, r, csv);
      els.cash.dataset.state = 'ready';
    } catch (err) {
      if (gen !== generation || err instanceof AuthLost || !B.session()) return;
      els.cash.dataset.state = 'error';
      B.mount(els.cash, cashHead(h('p', { class: 'report-error', role: 'alert' }, `Không tải được số liệu đối soát. ${errorText(err)}`),
        h('button', { type: 'button', onclick: () => loadCash(f, generation) }, 'Thử lại')));
    } finally {
      els.cash.classList.remove('is-loading');
    }
  }

  function renderCash(f, report, r, csv) {
    const t = report.totals || {};
    const stat = (key, label, cls) => h('div', { class: 'stat' },
      h('dt', {}, label), h('dd', { dataset: { key, value: String(t[key] || 0) }, class: cls || null }, B.money(t[key] || 0)));
    const today = B.today();
    const rows = (report.items || []).map((l) => {
      const hv = l.handover;
      const name = l.courier_name || r.couriers.get(l.courier_id) || `Bưu tá số ${l.courier_id}`;
      const gap = l.handover_gap_vnd;
      return h('tr', { dataset: { courierId: String(l.courier_id), day: l.day, status: l.status } },
        h('th', { scope: 'row' }, h('span', { class: 'cash-day' }, dmy(l.day)), h('span', { class: 'cash-courier' }, name)),
        h('td', { class: 'num', dataset: { label: 'Lượt thu' } }, num(l.collections)),
        h('td', { class: 'num expected', dataset: { label: 'Phải thu', value: String(l.expected_vnd) },
          title: `Cước ${B.money(l.expected_postal_vnd)} · lệ phí thu hộ ${B.money(l.expected_agency_vnd)}` }, B.money(l.expected_vnd)),
        h('td', { class: ['num', 'collected', l.collection_gap_vnd ? 'rate-warn' : null], dataset: { label: 'Bưu tá ghi đã thu', value: String(l.collected_vnd) },
          title: l.collection_gap_vnd ? `Lệch so với phải thu: ${signedMoney(l.collection_gap_vnd)}` : null }, B.money(l.collected_vnd)),
        h('td', { class: 'num handed', dataset: { label: 'Thủ quỹ nhận', value: hv ? String(hv.amount_vnd) : '' },
          title: hv ? `Thủ quỹ ${hv.cashier_name}, lúc ${B.fmtDateTime(hv.recorded_at)}${hv.note ? ` · ${hv.note}` : ''}` : null },
        hv ? B.money(hv.amount_vnd) : '—',
        hv ? h('span', { class: 'frac' }, hv.cashier_name) : null),
        h('td', { class: ['num', 'gap', gap ? 'rate-bad' : null], dataset: { label: 'Chênh lệch', value: gap === null || gap === undefined ? '' : String(gap) } },
          signedMoney(gap)),
        h('td', { class: 'cash-status', dataset: { label: 'Trạng thái' } },
          h('span', { class: ['badge', CASH_STATUS_CLASS[l.status] || null] }, l.status_label || l.status),
          !hv && l.day <= today
            ? h('button', { type: 'button', class: 'record-handover', onclick: () => openHandover(l, name) }, 'Ghi nhận nộp tiền')
            : null));
    });
    const head = ['Ngày · bưu tá', 'Lượt thu', 'Phải thu', 'Bưu tá ghi đã thu', 'Thủ quỹ nhận', 'Chênh lệch', 'Trạng thái'];
    B.mount(els.cash, cashHead(
      h('dl', { id: 'cash-totals', class: 'stats' },
        stat('expected_vnd', 'Phải thu'),
        stat('collected_vnd', 'Bưu tá ghi đã thu', t.collected_vnd !== t.expected_vnd ? 'warn' : null),
        stat('handed_over_vnd', 'Thủ quỹ đã nhận'),
        stat('pending_vnd', 'Chưa nộp', t.pending_vnd ? 'warn' : null)),
      h('p', { class: 'cash-count' }, `${num(t.lines || 0)} ngày công: ${num(t.matched || 0)} khớp, ${num(t.short || 0)} thiếu, ${num(t.over || 0)} thừa, ${num(t.pending || 0)} chưa nộp.`),
      table('cash-lines', 'Đối soát thu hộ theo bưu tá và ngày', head, rows,
        `Không có khoản thu nào từ ${dmy(f.from)} đến ${dmy(f.to)}.`),
      h('div', { class: 'filter-actions' }, csv)));
  }

  /** The hand-over form for one courier's day, in a modal dialog. */
  function openHandover(line, name) {
    const key = B.uuid(); // one key per opening: a retried save is not recorded twice
    const amount = h('input', { id: 'handover-amount', name: 'amount_vnd', type: 'number', inputmode: 'numeric', min: 0, step: 1, required: true, value: String(line.collected_vnd) });
    const cashier = h('input', { id: 'handover-cashier', name: 'cashier_name', type: 'text', required: true, maxlength: 100, autocomplete: 'name' });
    const note = h('textarea', { id: 'handover-note', name: 'note', rows: 2, maxlength: 500 });
    const conflict = h('p', { id: 'handover-conflict', class: 'report-error', role: 'alert', hidden: true });
    const save = h('button', { id: 'handover-save', type: 'submit', class: 'primary' }, 'Lưu');
    const cancel = h('button', { id: 'handover-cancel', type: 'button', onclick: () => dialog.close() }, 'Huỷ');
    const diff = h('p', { class: 'hint', 'aria-live': 'polite' });
    const showDiff = () => {
      const v = Number(amount.value);
      if (amount.value === '' || !Number.isFinite(v)) { diff.textContent = ''; return; }
      const g = v - line.expected_vnd;
      diff.textContent = g ? `Chênh lệch so với phải thu: ${signedMoney(g)} (${g < 0 ? 'thiếu' : 'thừa'}).` : 'Khớp với số phải thu.';
      diff.className = g ? 'hint warn' : 'hint ok';
    };
    amount.addEventListener('input', showDiff);
    // A field's old error goes as soon as the user changes it.
    const clearOwn = (e) => {
      const box = e.target.closest('.field');
      if (!box) return;
      B.$$('.field-error', box).forEach((x) => x.remove());
      e.target.classList.remove('invalid');
      e.target.removeAttribute('aria-invalid');
    };
    const form = h('form', { id: 'handover-form', method: 'dialog', novalidate: true, onsubmit: onSave, oninput: clearOwn },
      h('h2', {}, 'Ghi nhận nộp tiền cuối ca'),
      h('p', {}, h('strong', {}, name), ` · ngày ${dmy(line.day)}`),
      h('p', { class: 'hint' }, `Phải thu ${B.money(line.expected_vnd)} (cước ${B.money(line.expected_postal_vnd)}, lệ phí thu hộ ${B.money(line.expected_agency_vnd)}); bưu tá ghi đã thu ${B.money(line.collected_vnd)}.`),
      conflict,
      field('handover-amount', 'Số tiền thủ quỹ đếm được (đồng)', amount, null), diff,
      field('handover-cashier', 'Họ tên thủ quỹ', cashier, null),
      field('handover-note', 'Ghi chú (không bắt buộc)', note, 'Ví dụ: lý do chênh lệch.'),
      h('div', { class: 'filter-actions' }, save, cancel));
    amount.dataset.field = 'amount_vnd';
    cashier.dataset.field = 'cashier_name';
    note.dataset.field = 'note';
    const dialog = h('dialog', { id: 'handover-dialog', class: 'handover-dialog', 'aria-labelledby': 'handover-title' }, form);
    B.$('h2', form).id = 'handover-title';
    dialog.addEventListener('close', () => dialog.remove());
    document.body.append(dialog);
    dialog.showModal();
    showDiff();
    cashier.focus();

    async function onSave(e) {
      e.preventDefault();
      B.clearFieldErrors(form);
      conflict.hidden = true;
      const errors = [];
      const v = amount.value.trim();
      if (!/^\d+$/.test(v)) errors.push({ field: 'amount_vnd', message: 'Nhập số tiền bằng số nguyên đồng, không âm.' });
      if (!cashier.value.trim()) errors.push({ field: 'cashier_name', message: 'Nhập họ tên thủ quỹ nhận tiền.' });
      if (errors.length) { B.showFieldErrors(form, { problem: { errors } }); return; }
      save.disabled = true;
      save.textContent = 'Đang lưu…';
      const body = { courier_id: line.courier_id, day: line.day, amount_vnd: Number(v), cashier_name: cashier.value.trim() };
      if (note.value.trim()) body.note = note.value.trim();
      try {
        const done = await B.api('POST', '/api/v1/reports/cash/handovers', body, { idempotencyKey: key });
        dialog.close();
        const g = done.handover_gap_vnd;
        B.toast(g ? `Đã ghi nhận ${B.money(body.amount_vnd)} của ${name}; chênh lệch ${signedMoney(g)}.`
          : `Đã ghi nhận ${B.money(body.amount_vnd)} của ${name}, khớp số phải thu.`, g ? 'warn' : 'ok');
        loadCash(cashFilters, generation);
      } catch (err) {
        if (err instanceof AuthLost || !B.session()) return;
        if (err.status === 409) {
          conflict.textContent = (err.problem && err.problem.detail) || 'Ngày này đã được ghi nhận nộp tiền.';
          conflict.hidden = false;
          loadCash(cashFilters, generation);
        } else if (err.status === 422) {
          B.showFieldErrors(form, err);
        } else {
          conflict.textContent = `Chưa lưu được. ${errorText(err)}`;
          conflict.hidden = false;
        }
      } finally {
        save.disabled = false;
        save.textContent = 'Lưu';
      }
    }
  }

  async function downloadCashCsv(f) {
    const btn = B.$('#cash-csv', els.cash);
    if (btn) { btn.disabled = true; btn.textContent = 'Đang tải CSV…'; }
    try {
      const res = await authFetch(`/api/v1/reports/cash.csv?${cashQuery(f)}`);
      const blob = await res.blob();
      saveBlob(blob, `doi-soat-thu-ho-${f.from}-${f.to}.csv`);
      B.toast('Đã tải tệp CSV đối soát thu hộ.', 'ok');
    } catch (err) {
      if (err instanceof AuthLost || !B.session()) return;
      B.toast(`Không tải được CSV đối soát. ${errorText(err)}`, 'error');
    } finally {
      if (btn) { btn.disabled = false; btn.textContent = 'Tải CSV đối soát'; }
    }
  }

  /** Saves a downloaded blob under `name`. */
  function saveBlob(blob, name) {
    const url = URL.createObjectURL(new Blob([blob], { type: 'text/csv;charset=utf-8' }));
    const a = h('a', { href: url, download: name, class: 'sr-only' }, name);
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 30000);
  }

  // ---------- CSV ----------

  async function downloadCsv() {
    const f = validForm();
    if (!f) return;
    els.csv.disabled = true;
    const label = els.csv.textContent;
    els.csv.textContent = 'Đang tải CSV…';
    try {
      const res = await authFetch(`/api/v1/reports/dossiers.csv?${filtersToQuery(f, true)}`);
      saveBlob(await res.blob(), `ho-so-${B.today()}.csv`);
      B.toast('Đã tải tệp CSV danh sách hồ sơ.', 'ok');
    } catch (err) {
      if (err instanceof AuthLost || !B.session()) return;
      B.toast(`Không tải được CSV. ${errorText(err)}`, 'error');
    } finally {
      els.csv.disabled = false;
      els.csv.textContent = label;
    }
  }

  B.requireLogin(ROLES, render);
})();
