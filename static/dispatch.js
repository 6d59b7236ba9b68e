// Buuta: the dispatcher board (/dispatch). A map drawn as SVG from our own data
// (zones, post offices, agencies, today's stops, couriers' positions, planned routes),
// the unassigned tasks and each courier's route, manual reassignment, auto-assignment
// and route planning, late / at-risk stops, live refresh.
//
// Selectors for end-to-end tests:
//   #post-office            select of the post office (admins only; dispatchers see #post-office-name)
//   #date                   the day shown (input type=date, default today)
//   #auto-assign            "Tự động phân công" (busy: disabled + "Đang xử lý…")
//   #plan-routes            "Lập tuyến" (busy: disabled + "Đang xử lý…")
//   #refresh                reload now
//   #updated-at             "Cập nhật lúc HH:MM:SS"
//   #stats                  counts ([data-stat=total|unassigned|late|risk|done])
//   #map                    the SVG map; markers: [data-map-task-id="<task id>"],
//                           [data-map-courier-id="<courier id>"] (positions),
//                           [data-map-office-id], [data-map-zone-id], [data-map-route="<courier id>"]
//   #zoom-in, #zoom-out, #zoom-fit   map controls
//   #unassigned             list of unassigned tasks (li rows)
//   #couriers               the courier sections: section[data-courier-id="<id>"] each with
//                           ol.tasks of rows and [data-plan] (distance/duration after planning)
//   [data-task-id="<id>"]   a task row (li) in #unassigned or a courier list; attributes
//                           data-kind, data-status, data-risk="late|risk|" ; class "selected"
//                           when selected; its button .task-main selects it; draggable onto
//                           a courier section
//   .risk-badge             "Trễ" (.bad) / "Có nguy cơ trễ" (.warn) inside rows and the panel
//   #selection              panel of the selected task (hidden when none) with #clear-selection,
//                           #assign-courier (select), #assign-btn, #assign-error (409 detail etc.),
//                           #dossier-detail (deadlines of the dossier)
//   #auto-result            result of the last auto-assignment: [data-assigned="<n>"], reasons as
//                           li[data-reason-task-id="<task id>"]
//   #plan-summary           totals per courier of the last route planning: tr[data-plan-courier-id]
//   Risk rule: "Trễ" when the window's end has passed and the task is not done/cancelled;
//   "Có nguy cơ trễ" when the ETA is after the window's end, or the task is unassigned with
//   under an hour of its window left.
(function () {
  'use strict';

  const B = window.Buuta;
  const { h } = B;
  const S = B.svg;

  const TILE = 256;
  const MIN_Z = 3;
  const MAX_Z = 19;
  const POLL_DATA_MS = 15000;
  const POLL_POS_MS = 10000;
  const PALETTE = ['#1f6fd1', '#2a9d3a', '#8e44ad', '#e67e22', '#00897b', '#c2185b',
    '#6d4c41', '#3949ab', '#7cb342', '#0097a7', '#f4511e', '#5e35b1'];
  const GREY = '#6b6b6b';
  const KIND_ORDER = { pickup: 0, dropoff: 1, collect: 2, deliver: 3 };
  const OPEN = ['unassigned', 'assigned', 'in_progress'];
  const FINISHED = ['done', 'cancelled'];
  const STATUS_BADGE = { unassigned: 'pending', assigned: 'info', in_progress: 'info', done: 'ok', failed: 'bad', cancelled: '' };
  const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
  const DEADLINES = [
    ['pickup_by', 'pickup', 'Hạn lấy hồ sơ'],
    ['handover_by', 'handover', 'Hạn nộp cơ quan'],
    ['agency_appointment', null, 'Ngày hẹn trả của cơ quan'],
    ['return_by', 'return', 'Hạn trả kết quả'],
  ];

  /** Everything the board knows; one instance per login. */
  let st = null;

  // ---------- small helpers ----------

  const clamp = (x, a, b) => Math.max(a, Math.min(b, x));
  const isDesktop = () => window.matchMedia('(min-width: 64rem)').matches;
  const hhmmss = (d) => new Intl.DateTimeFormat('vi-VN', {
    timeZone: 'Asia/Ho_Chi_Minh', hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false,
  }).format(d);
  const dayOf = (iso) => (iso ? new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Ho_Chi_Minh' }).format(new Date(iso)) : null);
  const fmtDuration = (s) => {
    if (s === null || s === undefined) return '';
    const m = Math.round(s / 60);
    const hh = Math.floor(m / 60);
    return hh ? `${hh} giờ ${String(m % 60).padStart(2, '0')} phút` : `${m} phút`;
  };
  const problemText = (err) => {
    if (!err) return '';
    const p = err.problem;
    if (p && p.errors && p.errors.length) return p.errors.map((e) => e.message).join('; ');
    if (p && p.detail) return p.detail;
    return err.message || 'Đã có lỗi';
  };

  /** Web Mercator, world pixels at zoom 0 (256 px wide). */
  function project(lon, lat) {
    const s = Math.sin(clamp(lat, -85, 85) * Math.PI / 180);
    return [(lon + 180) / 360 * TILE, (0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI)) * TILE];
  }

  function courierColor(id) {
    const i = st.couriers.findIndex((k) => k.id === id);
    return i < 0 ? GREY : PALETTE[i % PALETTE.length];
  }
  function courierName(k) {
    if (!k) return 'Bưu tá khác';
    const nameOf = (c) => c.full_name || st.userNames[c.user_id];
    const name = nameOf(k);
    if (!name) return `Bưu tá #${k.id}`;
    const twin = st.couriers.some((o) => o.id !== k.id && nameOf(o) === name);
    return twin ? `${name} (#${k.id})` : name;
  }
  const courierById = (id) => st.couriers.find((k) => k.id === id);
  const taskById = (id) => st.tasks.find((t) => t.id === id);
  const officeById = (id) => st.offices.find((o) => o.id === id);

  function offToday(k) {
    const days = k.days_off || [];
    const wd = WEEKDAYS[new Date(`${st.date}T12:00:00Z`).getUTCDay()];
    return days.includes(wd) || days.includes(st.date);
  }

  /** Late ("Trễ") or at risk ("Có nguy cơ trễ") from the window, ETA and status. */
  function riskOf(t) {
    if (FINISHED.includes(t.status) || !t.window || !t.window.to) return null;
    const end = Date.parse(t.window.to);
    const now = Date.now();
    if (now > end) return { level: 'late', label: 'Trễ', why: 'Đã quá khung giờ hẹn mà chưa xong' };
    if (t.eta && Date.parse(t.eta) > end) return { level: 'risk', label: 'Có nguy cơ trễ', why: 'Giờ dự kiến đến sau khung giờ hẹn' };
    if (!t.courier_id && end - now < 3600e3) return { level: 'risk', label: 'Có nguy cơ trễ', why: 'Chưa phân công, còn dưới 1 giờ đến hết khung giờ' };
    return null;
  }

  function windowText(w) {
    if (!w || !w.from) return 'Không hẹn giờ';
    return dayOf(w.from) === st.date ? `${B.fmtTime(w.from)}–${B.fmtTime(w.to)}` : B.fmtWindow(w);
  }

  function riskBadge(r) {
    return r ? h('span', { class: ['badge', 'risk-badge', r.level === 'late' ? 'bad' : 'warn'], title: r.why }, r.label) : null;
  }
  function statusBadge(s) {
    return h('span', { class: ['badge', 'status-badge-sm', STATUS_BADGE[s] || ''] }, B.TASK_STATUS[s] || s);
  }

  // ---------- data loading ----------

  const fetchAll = B.allPages;

  /** Reference data: post offices, zones, agencies, courier names (admins). */
  async function loadReference() {
    const [offices, zones, agencies] = await Promise.all([
      fetchAll('/api/v1/post-offices'),
      B.api('GET', '/api/v1/zones'),
      fetchAll('/api/v1/agencies').catch(() => []),
    ]);
    st.offices = offices;
    st.zones = zones || [];
    st.agencies = agencies;
    if (st.me.role === 'admin') {
      try {
        const users = await fetchAll('/api/v1/users?role=courier');
        for (const u of users) st.userNames[u.id] = u.full_name;
      } catch (_) { /* names are a nicety */ }
    }
  }

  /**
   * The day's stops. The server lists windowless stops (drop-offs at the agency) under
   * every date; keep one on the day of its dossier's windowed stop, of its ETA, or, when
   * still open with nothing else dated, on today (work carried over).
   */
  function tasksOfDay(items, open) {
    const here = new Set(items.filter((t) => t.window && t.window.from).map((t) => t.tracking_code));
    const elsewhere = new Set(open.filter((t) => t.window && t.window.from && dayOf(t.window.from) !== st.date)
      .map((t) => t.tracking_code));
    return items.filter((t) => {
      if (t.window && t.window.from) return true;
      if (here.has(t.tracking_code)) return true;
      if (elsewhere.has(t.tracking_code)) return false;
      if (t.eta && dayOf(t.eta) === st.date) return true;
      return OPEN.includes(t.status) && st.date === B.today();
    });
  }

  /** Tasks, couriers and their routes; positions too. Keeps the selection. */
  async function refreshData() {
    if (!st.office) return;
    const gen = ++st.gen;
    const office = st.office;
    const date = st.date;
    try {
      const [items, couriers, openU, openA] = await Promise.all([
        fetchAll(`/api/v1/tasks?date=${date}&post_office_id=${office}`),
        B.api('GET', `/api/v1/couriers?post_office_id=${office}`),
        fetchAll(`/api/v1/tasks?status=unassigned&post_office_id=${office}`),
        fetchAll(`/api/v1/tasks?status=assigned&post_office_id=${office}`),
      ]);
      const list = (couriers || []).slice().sort((a, b) => a.id - b.id);
      const routes = {};
      await Promise.all(list.map(async (k) => {
        try {
          const r = await B.api('GET', `/api/v1/couriers/${k.id}/route?date=${date}`);
          routes[k.id] = (r && r.stops) || [];
        } catch (_) { routes[k.id] = null; }
      }));
      const positions = await loadPositionsRaw(office).catch(() => st.positions);
      if (gen !== st.gen || !alive()) return;
      st.tasks = tasksOfDay(items, openU.concat(openA));
      for (const t of items.concat(openU, openA)) st.known.set(t.id, t);
      st.couriers = list;
      st.routes = routes;
      st.positions = positions;
      st.lastUpdate = new Date();
      st.stale = false;
      if (st.selected && !taskById(st.selected)) {
        st.selected = null;
        st.assignError = '';
      }
      if (!st.fitted) { fitView(); st.fitted = true; }
      renderAll();
      if (st.selected) loadDossier(false);
    } catch (ex) {
      if (gen !== st.gen || !alive()) return;
      st.stale = true;
      renderUpdated(ex);
      if (!st.lastUpdate) B.toast(problemText(ex), 'error');
    }
  }

  async function loadPositionsRaw(office) {
    return (await B.api('GET', `/api/v1/couriers/positions?post_office_id=${office}`)) || [];
  }

  async function refreshPositions() {
    if (!st.office) return;
    const office = st.office;
    try {
      const p = await loadPositionsRaw(office);
      if (office !== st.office || !alive()) return;
      const sig = JSON.stringify(p);
      if (sig === JSON.stringify(st.positions)) return;
      st.positions = p;
      renderCouriers();
      drawMap();
    } catch (_) { /* the data poll reports trouble */ }
  }

  async function loadDossier(force) {
    const t = taskById(st.selected);
    if (!t) return;
    const code = t.tracking_code;
    const cached = st.dossiers.get(code);
    if (cached && !force && Date.now() - cached.at < 10000) return;
    try {
      const d = await B.api('GET', `/api/v1/dossiers/${encodeURIComponent(code)}`);
      st.dossiers.set(code, { data: d, at: Date.now() });
    } catch (ex) {
      st.dossiers.set(code, { error: problemText(ex), at: Date.now() });
    }
    const now = taskById(st.selected);
    if (now && now.tracking_code === code) renderSelection();
  }

  // ---------- polling ----------

  function alive() {
    return st && st.root && document.body.contains(st.root) && B.session();
  }

  function startPolling() {
    stopPolling();
    const loop = (key, ms, fn) => {
      st.timers[key] = setTimeout(async () => {
        if (!alive()) return;
        if (!document.hidden && !st.dragging && !st.busy) await fn();
        if (alive()) loop(key, ms, fn);
      }, ms);
    };
    loop('data', POLL_DATA_MS, refreshData);
    loop('pos', POLL_POS_MS, refreshPositions);
  }
  function stopPolling() {
    if (!st) return;
    Object.values(st.timers).forEach(clearTimeout);
    st.timers = {};
  }
  document.addEventListener('visibilitychange', () => {
    if (!document.hidden && alive() && st.lastUpdate && Date.now() - st.lastUpdate > POLL_POS_MS) refreshData();
  });

  // ---------- page ----------

  function render(me) {
    if (st) stopPolling();
    const tileUrl = (B.app().dataset.tileUrl || '').trim();
    st = {
      me, root: null, tileUrl,
      office: null, date: B.today(),
      offices: [], zones: [], agencies: [], couriers: [], userNames: {}, tasks: [], routes: {}, positions: [],
      known: new Map(), selected: null, reveal: null, assignChoice: '', assignError: '', dossiers: new Map(),
      autoResult: null, plan: null,
      view: { cx: 0, cy: 0, z: 12 }, fitted: false,
      gen: 0, timers: {}, busy: false, dragging: false, stale: false, lastUpdate: null,
      els: {}, sections: new Map(), tiles: new Map(),
    };
    const app = B.app();
    app.classList.add('dispatch');
    st.root = buildShell();
    B.mount(app, st.root);
    start().catch((ex) => B.toast(problemText(ex), 'error'));
  }

  async function start() {
    await loadReference();
    if (!alive()) return;
    const own = st.me.role === 'dispatcher' && st.me.post_office_id;
    let office = own || Number(localStorage.getItem('buuta.dispatch.office')) || null;
    if (!officeById(office)) office = st.offices.length ? st.offices[0].id : null;
    setOfficeControl(office);
    if (!office) {
      B.mount(st.els.couriers, h('p', { class: 'error' }, 'Chưa có bưu cục nào.'));
      return;
    }
    selectOffice(office);
    startPolling();
  }

  function setOfficeControl(office) {
    const wrap = st.els.officeWrap;
    const own = st.me.role === 'dispatcher' && st.me.post_office_id;
    if (own) {
      const o = officeById(own);
      B.mount(wrap,
        h('span', { class: 'label-like' }, 'Bưu cục'),
        h('strong', { id: 'post-office-name', dataset: { officeId: String(own) } }, o ? o.name : `Bưu cục #${own}`));
      return;
    }
    const sel = h('select', { id: 'post-office', onchange: () => selectOffice(Number(sel.value)) },
      st.offices.map((o) => h('option', { value: String(o.id), selected: o.id === office }, o.name)));
    B.mount(wrap, h('label', { for: 'post-office' }, 'Bưu cục'), sel);
  }

  function selectOffice(id) {
    st.office = id;
    localStorage.setItem('buuta.dispatch.office', String(id));
    resetDay();
    st.fitted = false;
    st.tasks = []; st.couriers = []; st.routes = {}; st.positions = [];
    st.sections.forEach((s) => s.el.remove());
    st.sections.clear();
    renderAll();
    refreshData();
  }

  function resetDay() {
    st.selected = null;
    st.assignError = '';
    st.autoResult = null;
    st.plan = loadPlan();
  }

  function buildShell() {
    const els = st.els;
    els.officeWrap = h('div', { class: 'field office-field' });
    els.date = h('input', {
      id: 'date', type: 'date', value: st.date, required: true,
      onchange: () => {
        if (!els.date.value) { els.date.value = st.date; return; }
        st.date = els.date.value;
        resetDay();
        renderAll();
        refreshData();
      },
    });
    els.auto = h('button', { id: 'auto-assign', type: 'button', class: 'primary', onclick: autoAssign }, 'Tự động phân công');
    els.plan = h('button', { id: 'plan-routes', type: 'button', class: 'ok', onclick: planRoutes }, 'Lập tuyến');
    els.refresh = h('button', { id: 'refresh', type: 'button', title: 'Tải lại ngay', onclick: () => refreshData() }, 'Tải lại');
    els.updated = h('span', { id: 'updated-at', class: 'updated muted', 'aria-live': 'polite' }, 'Đang tải…');
    const toolbar = h('div', { class: 'toolbar' },
      els.officeWrap,
      h('div', { class: 'field date-field' }, h('label', { for: 'date' }, 'Ngày'), els.date),
      els.refresh,
      h('div', { class: 'toolbar-actions' }, els.auto, els.plan),
      h('a', { id: 'reports-link', class: 'button', href: '/reports' }, 'Báo cáo'),
      els.updated);

    // map
    els.map = S('svg', {
      id: 'map', role: 'group', tabindex: '0', xmlns: 'http://www.w3.org/2000/svg',
      'aria-label': 'Bản đồ điều phối: kéo để di chuyển, cuộn hoặc phím + và − để phóng to, thu nhỏ; phím mũi tên để di chuyển',
    });
    els.tileLayer = S('g', { class: 'tiles' });
    els.dataLayer = S('g', { class: 'data' });
    els.map.append(els.tileLayer, els.dataLayer);
    const ctl = h('div', { class: 'map-controls' },
      h('button', { id: 'zoom-in', type: 'button', 'aria-label': 'Phóng to', title: 'Phóng to', onclick: () => zoomBy(1) }, '+'),
      h('button', { id: 'zoom-out', type: 'button', 'aria-label': 'Thu nhỏ', title: 'Thu nhỏ', onclick: () => zoomBy(-1) }, '−'),
      h('button', { id: 'zoom-fit', type: 'button', title: 'Xem toàn bộ', onclick: () => { fitView(); drawMap(); } }, 'Vừa khung'));
    const legend = h('details', { class: 'legend' },
      h('summary', {}, 'Chú giải'),
      h('ul', {},
        legendItem(S('circle', { cx: 8, cy: 8, r: 6, fill: PALETTE[0], stroke: '#fff', 'stroke-width': 1.5 }), 'Lấy / giao tại nhà dân'),
        legendItem(S('path', { d: 'M8 1 L15 8 L8 15 L1 8 Z', fill: PALETTE[0], stroke: '#fff', 'stroke-width': 1.5 }), 'Nộp / nhận tại cơ quan'),
        legendItem(S('circle', { cx: 8, cy: 8, r: 6, fill: '#fff', stroke: GREY, 'stroke-width': 2, 'stroke-dasharray': '3 2' }), 'Chưa phân công'),
        legendItem(S('circle', { cx: 8, cy: 8, r: 6, fill: 'none', stroke: '#c40000', 'stroke-width': 3 }), 'Trễ'),
        legendItem(S('circle', { cx: 8, cy: 8, r: 6, fill: 'none', stroke: '#e0a000', 'stroke-width': 3 }), 'Có nguy cơ trễ'),
        legendItem(S('rect', { x: 2, y: 2, width: 12, height: 12, rx: 2, fill: '#b30000' }), 'Bưu cục'),
        legendItem(S('rect', { x: 2, y: 2, width: 12, height: 12, rx: 2, fill: '#0b4f9c' }), 'Cơ quan tiếp nhận'),
        legendItem(S('circle', { cx: 8, cy: 8, r: 6, fill: PALETTE[1], stroke: '#111', 'stroke-width': 2 }), 'Vị trí bưu tá')));
    els.mapWrap = h('div', { class: 'map-wrap' }, els.map, ctl, legend);
    setupMapInteraction();

    // side
    els.stats = h('div', { id: 'stats', class: 'stats' });
    els.selection = h('section', { id: 'selection', class: 'card selection', hidden: true, 'aria-label': 'Nhiệm vụ đã chọn' });
    els.autoResult = h('section', { id: 'auto-result', class: 'card result', hidden: true, 'aria-live': 'polite' });
    els.planSummary = h('section', { id: 'plan-summary', class: 'card result', hidden: true });
    els.unassignedTitle = h('h2', {}, 'Chưa phân công');
    els.unassigned = h('ul', { id: 'unassigned', class: 'tasks', 'aria-label': 'Nhiệm vụ chưa phân công' });
    els.unassignedEmpty = h('p', { class: 'muted empty', hidden: true }, 'Không có nhiệm vụ nào chưa phân công.');
    els.couriers = h('div', { id: 'couriers' });
    els.side = h('div', { class: 'side', id: 'side' },
      els.stats, els.selection, els.autoResult, els.planSummary,
      h('section', { class: 'card unassigned-card' }, els.unassignedTitle, els.unassigned, els.unassignedEmpty),
      h('h2', { class: 'couriers-title' }, 'Tuyến của bưu tá'),
      els.couriers);

    const root = h('div', { class: 'dispatch-board' }, toolbar, h('div', { class: 'board' }, els.mapWrap, els.side));
    root.addEventListener('keydown', (e) => {
      if (e.key === 'Escape' && st.selected && !e.target.closest('select')) select(null);
    });
    if (window.ResizeObserver) new ResizeObserver(() => drawMap()).observe(els.mapWrap);
    return root;
  }

  function legendItem(icon, text) {
    return h('li', {}, S('svg', { width: 16, height: 16, viewBox: '0 0 16 16', 'aria-hidden': 'true' }, icon), ' ', text);
  }

  // ---------- rendering: lists ----------

  function renderAll() {
    const focusKey = document.activeElement && document.activeElement.dataset
      ? document.activeElement.dataset.focusKey : null;
    renderUpdated();
    renderStats();
    renderUnassigned();
    renderCouriers();
    renderSelection();
    renderAutoResult();
    renderPlanSummary();
    applySelection();
    drawMap();
    if (focusKey && (!document.activeElement || document.activeElement === document.body)) {
      const el = st.root.querySelector(`[data-focus-key="${CSS.escape(focusKey)}"]`);
      if (el) el.focus({ preventScroll: true });
    }
  }

  function renderUpdated(err) {
    const u = st.els.updated;
    if (!st.lastUpdate) { u.textContent = err ? 'Không tải được dữ liệu' : 'Đang tải…'; return; }
    u.textContent = `Cập nhật lúc ${hhmmss(st.lastUpdate)}` + (st.stale ? ' · mất kết nối, đang thử lại' : '');
    u.classList.toggle('stale', !!st.stale);
  }

  function renderStats() {
    const open = st.tasks.filter((t) => t.status !== 'cancelled');
    const risks = open.map(riskOf);
    const n = {
      total: open.length,
      unassigned: open.filter((t) => t.status === 'unassigned').length,
      late: risks.filter((r) => r && r.level === 'late').length,
      risk: risks.filter((r) => r && r.level === 'risk').length,
      done: open.filter((t) => t.status === 'done').length,
    };
    const sig = JSON.stringify(n);
    if (st.els.stats._sig === sig) return;
    st.els.stats._sig = sig;
    const item = (key, label, cls) => h('span', { class: ['stat', cls], dataset: { stat: key } },
      h('strong', {}, String(n[key])), ' ', label);
    B.mount(st.els.stats,
      item('total', 'nhiệm vụ', ''),
      item('unassigned', 'chưa phân công', n.unassigned ? 'pending' : ''),
      item('late', 'trễ', n.late ? 'bad' : ''),
      item('risk', 'có nguy cơ trễ', n.risk ? 'warn' : ''),
      item('done', 'đã xong', n.done ? 'ok' : ''));
  }

  const byWindow = (a, b) => {
    const wa = a.window && a.window.from ? Date.parse(a.window.from) : Infinity;
    const wb = b.window && b.window.from ? Date.parse(b.window.from) : Infinity;
    return wa - wb;
  };

  function renderUnassigned() {
    const list = st.tasks.filter((t) => t.status === 'unassigned' || (!t.courier_id && OPEN.includes(t.status)));
    // Keep a dossier's stops together, in the order of its first window.
    const first = {};
    for (const t of list) {
      const w = t.window && t.window.from ? Date.parse(t.window.from) : Infinity;
      first[t.tracking_code] = Math.min(first[t.tracking_code] ?? Infinity, w);
    }
    list.sort((a, b) => (first[a.tracking_code] - first[b.tracking_code]) ||
      a.tracking_code.localeCompare(b.tracking_code) || (KIND_ORDER[a.kind] - KIND_ORDER[b.kind]) || a.id - b.id);
    st.els.unassignedTitle.textContent = `Chưa phân công (${list.length})`;
    st.els.unassignedEmpty.hidden = list.length > 0;
    reconcile(st.els.unassigned, list.map((t) => rowItem(t, false)));
  }

  /** The stops of a courier: their route (open, in order) then finished ones of the day. */
  function stopsOf(k) {
    const mine = st.tasks.filter((t) => t.courier_id === k.id);
    const route = st.routes[k.id];
    const out = [];
    const seen = new Set();
    if (route) {
      for (const s of route) {
        const t = taskById(s.id); // stops of other days stay out
        if (!t || t.courier_id !== k.id) continue;
        out.push(t); seen.add(t.id);
      }
    }
    const rest = mine.filter((t) => !seen.has(t.id));
    rest.sort((a, b) => (OPEN.includes(b.status) - OPEN.includes(a.status)) ||
      ((a.seq ?? 1e9) - (b.seq ?? 1e9)) || byWindow(a, b) || a.id - b.id);
    return out.concat(rest);
  }

  function renderCouriers() {
    const wrap = st.els.couriers;
    const known = new Set(st.couriers.map((k) => k.id));
    const orphans = st.tasks.filter((t) => t.courier_id && !known.has(t.courier_id));
    const groups = st.couriers.map((k) => ({ key: String(k.id), k, stops: stopsOf(k) }));
    if (orphans.length) groups.push({ key: 'other', k: null, stops: orphans });
    const want = new Set(groups.map((g) => g.key));
    for (const [key, sec] of st.sections) {
      if (!want.has(key)) { sec.el.remove(); st.sections.delete(key); }
    }
    groups.forEach((g, i) => {
      let sec = st.sections.get(g.key);
      if (!sec) { sec = courierSection(g.k); st.sections.set(g.key, sec); }
      if (wrap.children[i] !== sec.el) wrap.insertBefore(sec.el, wrap.children[i] || null);
      fillCourierHead(sec, g.k, g.stops);
      reconcile(sec.list, g.stops.map((t) => rowItem(t, true)));
      sec.empty.hidden = g.stops.length > 0;
    });
    if (!groups.length) {
      if (!wrap.querySelector('.no-couriers')) wrap.append(h('p', { class: 'muted no-couriers' }, 'Bưu cục chưa có bưu tá.'));
    } else {
      const p = wrap.querySelector('.no-couriers');
      if (p) p.remove();
    }
  }

  function courierSection(k) {
    const head = h('header', { class: 'courier-head' });
    const list = h('ol', { class: 'tasks', 'aria-label': k ? `Tuyến của ${courierName(k)}` : 'Nhiệm vụ của bưu tá khác' });
    const empty = h('p', { class: 'muted empty' }, 'Chưa có điểm dừng trong ngày.');
    const el = h('section', { class: 'card courier', dataset: k ? { courierId: String(k.id) } : { courierOther: '1' } }, head, list, empty);
    if (k) {
      el.addEventListener('dragover', (e) => {
        if (!st.dragTask) return;
        e.preventDefault();
        e.dataTransfer.dropEffect = 'move';
        el.classList.add('drop-target');
      });
      el.addEventListener('dragleave', (e) => { if (!el.contains(e.relatedTarget)) el.classList.remove('drop-target'); });
      el.addEventListener('drop', (e) => {
        e.preventDefault();
        el.classList.remove('drop-target');
        const id = Number(e.dataTransfer.getData('text/plain')) || st.dragTask;
        st.dragTask = null;
        if (!id) return;
        const t = taskById(id);
        if (t && t.courier_id === k.id) return;
        select(id, { scroll: false });
        st.assignChoice = String(k.id);
        assign(id, k.id);
      });
    }
    return { el, head, list, empty };
  }

  /**
   * Open stops on courier `id`'s route of the day as the server has them now: after a
   * reassignment or a cancellation the stored plan's counts are out of date, the route
   * is not (the server renumbers and re-times it at once).
   */
  function routeCount(id) {
    const route = st.routes[id];
    if (!route) return null;
    return route.filter((s) => { const t = taskById(s.id); return t && t.courier_id === id; }).length;
  }

  function fillCourierHead(sec, k, stops) {
    const pos = k && st.positions.find((p) => p.courier_id === k.id);
    const planned = k && st.plan && st.plan.routes[k.id];
    const plan = planned && Object.assign({}, planned, { stops: routeCount(k.id) ?? planned.stops });
    const open = stops.filter((t) => OPEN.includes(t.status)).length;
    const late = stops.filter((t) => { const r = riskOf(t); return r && r.level === 'late'; }).length;
    const risk = stops.filter((t) => { const r = riskOf(t); return r && r.level === 'risk'; }).length;
    const posOld = pos && Date.now() - Date.parse(pos.at) > 15 * 60e3;
    const off = k && offToday(k);
    const sig = JSON.stringify([k && courierName(k), k && courierColor(k.id), k && [k.vehicle, k.shift_start, k.shift_end, k.capacity],
      off, open, stops.length, late, risk, pos && pos.at, posOld, plan]);
    if (sec.head._sig === sig) return;
    sec.head._sig = sig;
    if (!k) {
      B.mount(sec.head, h('h3', {}, 'Bưu tá bưu cục khác'));
      return;
    }
    const color = courierColor(k.id);
    B.mount(sec.head,
      h('div', { class: 'courier-title' },
        S('svg', { class: 'swatch', width: 18, height: 18, viewBox: '0 0 18 18', 'aria-hidden': 'true' },
          S('circle', { cx: 9, cy: 9, r: 8, fill: color })),
        h('h3', {}, courierName(k)),
        off ? h('span', { class: 'badge warn' }, 'Nghỉ hôm nay') : null,
        late ? h('span', { class: 'badge bad', title: 'Số điểm dừng trễ' }, `${late} trễ`) : null,
        risk ? h('span', { class: 'badge warn', title: 'Số điểm dừng có nguy cơ trễ' }, `${risk} nguy cơ`) : null),
      h('p', { class: 'courier-meta muted' },
        [k.vehicle, `Ca ${k.shift_start}–${k.shift_end}`, `${open} điểm chưa xong / ${stops.length}`,
          `Sức chứa ${k.capacity}`].filter(Boolean).join(' · ')),
      h('p', { class: 'courier-meta muted' },
        pos ? `Vị trí lúc ${B.fmtTime(pos.at)}${posOld ? ' (đã cũ)' : ''}` : 'Chưa có vị trí (ngoài ca hoặc chưa gửi)'),
      plan ? h('p', { class: 'courier-plan', dataset: { plan: '1' } },
        `Tuyến đã lập: ${plan.stops} điểm · ${B.km(plan.distance_m)} · ${fmtDuration(plan.duration_s)}`) : null);
  }

  /** A list row of a task (keyed, rebuilt only when what it shows changes). */
  function rowItem(t, inRoute) {
    const r = riskOf(t);
    const reason = st.autoResult && st.autoResult.reasons[t.id];
    const color = t.courier_id ? courierColor(t.courier_id) : GREY;
    const sig = JSON.stringify([inRoute, t.seq, t.kind, t.status, t.tracking_code, t.window, t.eta, t.courier_id,
      color, r && r.level, reason, t.outside_zone, t.attempts, st.date]);
    return { key: String(t.id), sig, build: () => buildRow(t, r, reason, color, inRoute) };
  }

  function buildRow(t, r, reason, color, inRoute) {
    const seq = S('svg', { class: 'seq', width: 26, height: 26, viewBox: '0 0 26 26', 'aria-hidden': 'true' },
      t.kind === 'dropoff' || t.kind === 'collect'
        ? S('path', { d: 'M13 1 L25 13 L13 25 L1 13 Z', fill: t.courier_id ? color : '#fff', stroke: t.courier_id ? color : GREY, 'stroke-width': 2 })
        : S('circle', { cx: 13, cy: 13, r: 11, fill: t.courier_id ? color : '#fff', stroke: t.courier_id ? color : GREY, 'stroke-width': 2 }),
      S('text', { x: 13, y: 17.5, 'text-anchor': 'middle', fill: t.courier_id ? '#fff' : '#333' }, t.seq != null ? String(t.seq) : '–'));
    const when = [t.window && t.window.from ? `Khung ${windowText(t.window)}` : 'Không hẹn giờ'];
    if (t.eta) when.push(`Dự kiến ${B.fmtTime(t.eta)}`);
    if (t.attempts) when.push(`${t.attempts} lần thử`);
    const label = `${t.seq != null ? `Điểm ${t.seq}: ` : ''}${B.TASK_KIND[t.kind] || t.kind} ${t.tracking_code}`;
    const btn = h('button', {
      type: 'button', class: 'task-main', 'aria-pressed': 'false', title: 'Chọn nhiệm vụ',
      'aria-label': `${label}, ${when.join(', ')}, ${B.TASK_STATUS[t.status] || t.status}${r ? `, ${r.label}` : ''}`,
      dataset: { focusKey: `task-${t.id}` },
      onclick: () => select(st.selected === t.id ? null : t.id, { pan: true, fromList: true }),
    },
    seq,
    h('span', { class: 'task-body' },
      h('span', { class: 'line1' },
        h('span', { class: 'code' }, t.tracking_code),
        h('span', { class: 'kind' }, B.TASK_KIND[t.kind] || t.kind),
        riskBadge(r),
        t.status !== (inRoute ? 'assigned' : 'unassigned') ? statusBadge(t.status) : null,
        t.outside_zone ? h('span', { class: 'badge info', title: 'Địa chỉ nằm ngoài mọi khu vực, đã gán khu vực gần nhất' }, 'Ngoài vùng') : null),
      h('span', { class: 'line2 muted' }, when.join(' · ')),
      reason ? h('span', { class: 'reason' }, `Chưa phân công được: ${reason}`) : null));
    const li = h('li', {
      class: ['task', t.status, FINISHED.includes(t.status) ? 'finished' : ''],
      dataset: { taskId: String(t.id), kind: t.kind, status: t.status, risk: r ? r.level : '' },
      draggable: FINISHED.includes(t.status) ? 'false' : 'true',
    }, btn);
    li.addEventListener('dragstart', (e) => {
      st.dragTask = t.id; st.dragging = true;
      e.dataTransfer.setData('text/plain', String(t.id));
      e.dataTransfer.effectAllowed = 'move';
      li.classList.add('dragging');
    });
    li.addEventListener('dragend', () => {
      st.dragging = false; st.dragTask = null;
      li.classList.remove('dragging');
      B.$$('.drop-target', st.root).forEach((x) => x.classList.remove('drop-target'));
    });
    if (st.selected === t.id) { li.classList.add('selected'); btn.setAttribute('aria-pressed', 'true'); }
    return li;
  }

  /** Makes `parent`'s children the built items, reusing unchanged ones by key. */
  function reconcile(parent, items) {
    const existing = new Map();
    for (const el of Array.from(parent.children)) existing.set(el.dataset.key, el);
    const used = new Set();
    items.forEach((it, i) => {
      let el = existing.get(it.key);
      if (!el || el._sig !== it.sig) {
        const fresh = it.build();
        fresh.dataset.key = it.key;
        fresh._sig = it.sig;
        if (el) el.replaceWith(fresh);
        el = fresh;
      }
      const at = parent.children[i];
      if (at !== el) parent.insertBefore(el, at || null);
      used.add(el);
    });
    for (const el of Array.from(parent.children)) if (!used.has(el)) el.remove();
  }

  function applySelection() {
    for (const li of B.$$('li[data-task-id]', st.root)) {
      const on = Number(li.dataset.taskId) === st.selected;
      li.classList.toggle('selected', on);
      const b = li.querySelector('.task-main');
      if (b) b.setAttribute('aria-pressed', on ? 'true' : 'false');
    }
  }

  // ---------- selection and assignment ----------

  function select(id, opts) {
    opts = opts || {};
    if (st.selected !== id) { st.assignError = ''; st.assignChoice = ''; }
    st.selected = id;
    applySelection();
    renderSelection();
    drawMap();
    if (id && opts.pan) panToTask(id);
    const li = id && st.root.querySelector(`li[data-task-id="${id}"]`);
    st.reveal = li && opts.scroll && isDesktop() ? id : null;
    revealRow();
    // On a phone the panel covers the lower half: bring the tapped row above it.
    if (li && opts.fromList && !isDesktop()) li.scrollIntoView({ block: 'start', behavior: 'smooth' });
    if (id) loadDossier(false).then(() => { revealRow(); st.reveal = null; });
  }

  /** Scrolls the side panel so the selected row shows below the sticky task panel. */
  function revealRow() {
    if (!st.reveal || st.reveal !== st.selected) return;
    const li = st.root.querySelector(`li[data-task-id="${st.reveal}"]`);
    if (!li) return;
    const side = st.els.side;
    const sr = side.getBoundingClientRect();
    const pr = st.els.selection.getBoundingClientRect();
    const lr = li.getBoundingClientRect();
    const top = st.els.selection.hidden ? sr.top : Math.max(sr.top, pr.bottom) + 8;
    if (lr.top < top) side.scrollTop -= top - lr.top;
    else if (lr.bottom > sr.bottom) side.scrollTop += lr.bottom - sr.bottom + 8;
  }

  function renderSelection() {
    const box = st.els.selection;
    const t = st.selected ? taskById(st.selected) : null;
    document.body.classList.toggle('has-selection', !!t);
    if (!t) {
      box.hidden = true;
      box._sig = null;
      box.replaceChildren();
      return;
    }
    const r = riskOf(t);
    const cached = st.dossiers.get(t.tracking_code);
    const sig = JSON.stringify([t, r && r.level, st.couriers.map((k) => [k.id, courierName(k), offToday(k)]), st.assignError,
      st.assigning, cached && (cached.data || cached.error), st.date]);
    if (box._sig === sig) return;
    box._sig = sig;
    box.hidden = false;
    const k = courierById(t.courier_id);

    const choice = st.assignChoice || (t.courier_id ? String(t.courier_id) : '');
    const sel = h('select', {
      id: 'assign-courier', required: true,
      onchange: () => { st.assignChoice = sel.value; btn.disabled = !canAssign(); },
    },
    h('option', { value: '' }, '— Chọn bưu tá —'),
    st.couriers.map((c) => h('option', { value: String(c.id), selected: String(c.id) === choice },
      `${courierName(c)}${c.id === t.courier_id ? ' (đang giữ)' : ''}${offToday(c) ? ' — nghỉ hôm nay' : ''}`)));
    const canAssign = () => sel.value && Number(sel.value) !== t.courier_id && !st.assigning &&
      !FINISHED.includes(t.status);
    const btn = h('button', { id: 'assign-btn', type: 'submit', class: 'primary' },
      st.assigning ? 'Đang xử lý…' : (t.courier_id ? 'Chuyển bưu tá' : 'Phân công'));
    btn.disabled = !canAssign();
    const form = h('form', {
      class: 'assign-form',
      onsubmit: (e) => { e.preventDefault(); if (canAssign()) assign(t.id, Number(sel.value)); },
    },
    h('div', { class: 'field' }, h('label', { for: 'assign-courier' }, t.courier_id ? 'Chuyển cho bưu tá' : 'Giao cho bưu tá'), sel),
    btn);
    const err = h('p', { id: 'assign-error', class: 'assign-error', role: 'alert', hidden: !st.assignError }, st.assignError || '');

    const facts = h('dl', { class: 'facts compact two' },
      h('dt', {}, 'Khung giờ'), h('dd', {}, windowText(t.window)),
      h('dt', {}, 'Dự kiến'), h('dd', {}, t.eta ? B.fmtTime(t.eta) : 'Chưa có'),
      h('dt', {}, 'Bưu tá'), h('dd', {}, t.courier_id ? courierName(k) : 'Chưa phân công'),
      t.seq != null ? [h('dt', {}, 'Thứ tự'), h('dd', {}, String(t.seq))] : null);

    B.mount(box,
      h('div', { class: 'selection-head' },
        h('h2', {}, h('span', { class: 'code' }, t.tracking_code), ' · ', B.TASK_KIND[t.kind] || t.kind),
        h('button', { id: 'clear-selection', type: 'button', class: 'link', onclick: () => select(null) }, 'Bỏ chọn')),
      h('p', { class: 'badges' }, statusBadge(t.status), riskBadge(r), r ? h('span', { class: 'muted small' }, r.why) : null),
      facts,
      FINISHED.includes(t.status) ? h('p', { class: 'muted' }, 'Nhiệm vụ đã kết thúc, không thể phân công lại.') : form,
      err,
      dossierDetail(t, cached));
  }

  function dossierDetail(t, cached) {
    const box = h('div', { id: 'dossier-detail', class: 'dossier-detail' });
    if (!cached) return fillBox(box, h('p', { class: 'loading' }, 'Đang tải hồ sơ…'));
    if (cached.error) return fillBox(box, h('p', { class: 'error' }, `Không tải được hồ sơ: ${cached.error}`));
    const d = cached.data;
    const late = new Set((d.deadlines && d.deadlines.late) || []);
    const rows = [];
    for (const [field, flag, label] of DEADLINES) {
      const v = d.deadlines && d.deadlines[field];
      if (!v) continue;
      const text = field === 'agency_appointment' ? B.fmtDate(`${v}T00:00:00+07:00`) : B.fmtDateTime(v);
      rows.push(h('dt', {}, label), h('dd', { dataset: { deadline: field } }, text, ' ',
        flag && late.has(flag) ? h('span', { class: 'badge bad risk-badge' }, 'Trễ') : null));
    }
    return fillBox(box,
      h('h3', {}, 'Hồ sơ'),
      h('dl', { class: 'facts compact' },
        h('dt', {}, 'Trạng thái'), h('dd', {}, d.status_label || B.statusLabel(d.status)),
        h('dt', {}, 'Người dân'), h('dd', {}, d.citizen ? `${d.citizen.full_name} · ${d.citizen.phone}` : ''),
        h('dt', {}, 'Địa chỉ'), h('dd', {}, d.address ? d.address.street : '', d.location_approximate ? h('span', { class: 'badge warn' }, ' Vị trí ước lượng') : null),
        h('dt', {}, 'Thủ tục'), h('dd', {}, d.procedure_code),
        h('dt', {}, 'Thu hộ'), h('dd', {}, d.fees ? B.money(d.fees.total_vnd) : ''),
        rows),
      late.size ? h('p', { class: 'error' }, 'Hồ sơ đã trễ hạn.') : null,
      h('a', { href: `/track/${encodeURIComponent(d.tracking_code)}`, target: '_blank', rel: 'noopener' }, 'Xem trang theo dõi'));
  }
  const fillBox = (box, ...c) => B.mount(box, ...c);

  async function assign(taskId, courierId) {
    const t = taskById(taskId);
    const k = courierById(courierId);
    st.assigning = true;
    st.assignError = '';
    renderSelection();
    try {
      await B.api('POST', `/api/v1/tasks/${taskId}/assign`, { courier_id: courierId }, { idempotencyKey: B.uuid() });
      B.toast(`Đã giao ${t ? `${B.TASK_KIND[t.kind] || ''} ${t.tracking_code}` : 'nhiệm vụ'} cho ${courierName(k)}.`, 'ok');
      st.assignChoice = '';
      st.dossiers.delete(t && t.tracking_code);
    } catch (ex) {
      const msg = problemText(ex);
      st.assignError = ex.status === 409 ? `Không phân công được: ${msg}` : msg;
      B.toast(st.assignError, 'error');
    } finally {
      st.assigning = false;
    }
    renderSelection();
    await refreshData();
    const errEl = document.getElementById('assign-error');
    if (st.assignError && errEl && !isDesktop()) errEl.scrollIntoView({ block: 'nearest' });
  }

  // ---------- auto-assign and planning ----------

  function setBusy(btn, on) {
    st.busy = on;
    for (const b of [st.els.auto, st.els.plan]) {
      b.disabled = on;
      if (!b.dataset.label) b.dataset.label = b.textContent;
      b.textContent = on && b === btn ? 'Đang xử lý…' : b.dataset.label;
      if (on && b === btn) b.setAttribute('aria-busy', 'true'); else b.removeAttribute('aria-busy');
    }
  }

  async function autoAssign() {
    if (st.busy || !st.office) return;
    setBusy(st.els.auto, true);
    try {
      const res = await B.api('POST', '/api/v1/dispatch/auto-assign', { post_office_id: st.office, date: st.date }, { idempotencyKey: B.uuid() });
      const assigned = (res.assignments || []).length;
      const left = res.unassigned || [];
      const reasons = {};
      for (const u of left) reasons[u.task_id] = u.reason;
      st.autoResult = { assigned, left, reasons, at: new Date() };
      let msg = assigned ? `Đã phân công ${assigned} nhiệm vụ.` : 'Không có nhiệm vụ nào được phân công.';
      if (left.length) msg += ` ${left.length} nhiệm vụ chưa phân công được.`;
      B.toast(msg, left.length && !assigned ? 'error' : 'ok');
    } catch (ex) {
      B.toast(`Tự động phân công thất bại: ${problemText(ex)}`, 'error');
    } finally {
      setBusy(st.els.auto, false);
    }
    await refreshData();
  }

  function planKey() { return `buuta.dispatch.plan.${st.office}.${st.date}`; }
  function loadPlan() {
    try { return JSON.parse(sessionStorage.getItem(planKey())) || null; } catch (_) { return null; }
  }

  async function planRoutes() {
    if (st.busy || !st.office) return;
    setBusy(st.els.plan, true);
    try {
      const res = await B.api('POST', '/api/v1/dispatch/plan', { post_office_id: st.office, date: st.date }, { idempotencyKey: B.uuid() });
      const routes = {};
      let dist = 0; let dur = 0;
      for (const r of res.routes || []) {
        routes[r.courier_id] = { distance_m: r.distance_m, duration_s: r.duration_s, stops: (r.stops || []).length };
        dist += r.distance_m || 0; dur += r.duration_s || 0;
      }
      const left = res.unassigned || [];
      st.plan = { at: new Date().toISOString(), routes, distance_m: dist, duration_s: dur, unassigned: left };
      try { sessionStorage.setItem(planKey(), JSON.stringify(st.plan)); } catch (_) { /* private mode */ }
      const n = Object.keys(routes).length;
      let msg = n ? `Đã lập tuyến cho ${n} bưu tá: tổng ${B.km(dist)}, ${fmtDuration(dur)}.` : 'Không có tuyến nào cần lập.';
      if (left.length) msg += ` ${left.length} nhiệm vụ không xếp được.`;
      B.toast(msg, 'ok');
    } catch (ex) {
      B.toast(`Lập tuyến thất bại: ${problemText(ex)}`, 'error');
    } finally {
      setBusy(st.els.plan, false);
    }
    await refreshData();
  }

  function codeOf(taskId) {
    const t = taskById(taskId) || st.known.get(taskId);
    if (!t) return `Nhiệm vụ #${taskId}`;
    const dated = t.window && t.window.from ? t
      : Array.from(st.known.values()).find((x) => x.tracking_code === t.tracking_code && x.window && x.window.from);
    const day = dated && dayOf(dated.window.from) !== st.date ? `, ngày ${B.fmtDate(dated.window.from)}` : '';
    return `${t.tracking_code} (${B.TASK_KIND[t.kind] || t.kind}${day})`;
  }

  function reasonList(items) {
    return h('ul', { class: 'reasons' }, items.map((u) => h('li', { dataset: { reasonTaskId: String(u.task_id) } },
      taskById(u.task_id)
        ? h('button', { type: 'button', class: 'link', onclick: () => select(u.task_id, { scroll: true, pan: true }) }, codeOf(u.task_id))
        : h('span', { class: 'code', title: 'Không thuộc ngày đang xem' }, codeOf(u.task_id)),
      `: ${u.reason}`)));
  }

  function renderAutoResult() {
    const box = st.els.autoResult;
    const r = st.autoResult;
    const sig = JSON.stringify(r && [r.assigned, r.left, st.tasks.length]);
    if (box._sig === sig) return;
    box._sig = sig;
    if (!r) { box.hidden = true; box.replaceChildren(); return; }
    box.hidden = false;
    B.mount(box,
      h('div', { class: 'result-head' },
        h('h2', {}, 'Kết quả tự động phân công'),
        h('button', { type: 'button', class: 'link', onclick: () => { st.autoResult = null; renderAll(); } }, 'Đóng')),
      h('p', {}, h('strong', { dataset: { assigned: String(r.assigned) } }, `Đã phân công ${r.assigned} nhiệm vụ`),
        r.left.length ? `; ${r.left.length} nhiệm vụ chưa phân công được:` : '.'),
      r.left.length ? reasonList(r.left) : null);
  }

  function renderPlanSummary() {
    const box = st.els.planSummary;
    const p = st.plan;
    const sig = JSON.stringify([p, st.couriers.map((k) => courierName(k)), st.tasks.length,
      p && Object.keys(p.routes).map((id) => routeCount(Number(id)))]);
    if (box._sig === sig) return;
    box._sig = sig;
    if (!p) { box.hidden = true; box.replaceChildren(); return; }
    box.hidden = false;
    const ids = Object.keys(p.routes).map(Number).sort((a, b) => a - b);
    const count = (id) => routeCount(id) ?? p.routes[id].stops;
    B.mount(box,
      h('div', { class: 'result-head' },
        h('h2', {}, `Tuyến đã lập lúc ${B.fmtTime(p.at)}`),
        h('button', { type: 'button', class: 'link', onclick: () => { st.plan = null; sessionStorage.removeItem(planKey()); renderAll(); } }, 'Ẩn')),
      h('div', { class: 'table-wrap' }, h('table', {},
        h('thead', {}, h('tr', {}, h('th', {}, 'Bưu tá'), h('th', {}, 'Điểm'), h('th', {}, 'Quãng đường'), h('th', {}, 'Thời gian'))),
        h('tbody', {}, ids.map((id) => {
          const r = p.routes[id];
          return h('tr', { dataset: { planCourierId: String(id) } },
            h('td', {}, S('svg', { class: 'swatch', width: 12, height: 12, viewBox: '0 0 12 12', 'aria-hidden': 'true' },
              S('circle', { cx: 6, cy: 6, r: 6, fill: courierColor(id) })), ' ', courierName(courierById(id) || { id, user_id: -1 })),
            h('td', {}, String(count(id))), h('td', {}, B.km(r.distance_m)), h('td', {}, fmtDuration(r.duration_s)));
        })),
        h('tfoot', {}, h('tr', {}, h('th', {}, 'Tổng'), h('th', {}, String(ids.reduce((s, id) => s + count(id), 0))),
          h('th', {}, B.km(p.distance_m)), h('th', {}, fmtDuration(p.duration_s)))))),
      p.unassigned && p.unassigned.length ? [h('p', {}, `${p.unassigned.length} nhiệm vụ không xếp được vào tuyến:`), reasonList(p.unassigned)] : null);
  }

  // ---------- map ----------

  function mapSize() {
    const r = st.els.map.getBoundingClientRect();
    return [r.width, r.height];
  }

  function pointsForFit() {
    const pts = [];
    const office = officeById(st.office);
    if (office) pts.push([office.lon, office.lat]);
    for (const z of st.zones.filter((x) => x.post_office_id === st.office)) {
      for (const ring of rings(z.area)) for (const c of ring) pts.push(c);
    }
    for (const t of st.tasks) pts.push([t.lon, t.lat]);
    for (const p of st.positions) pts.push([p.lon, p.lat]);
    if (!pts.length) for (const o of st.offices) pts.push([o.lon, o.lat]);
    return pts.filter((p) => Number.isFinite(p[0]) && Number.isFinite(p[1]));
  }

  function fitView() {
    const [W, H] = mapSize();
    const pts = pointsForFit();
    if (!pts.length) { const [x, y] = project(106, 16); st.view = { cx: x, cy: y, z: 5 }; return; }
    let x0 = Infinity; let y0 = Infinity; let x1 = -Infinity; let y1 = -Infinity;
    for (const [lon, lat] of pts) {
      const [x, y] = project(lon, lat);
      x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y);
    }
    const pad = 40;
    const zx = Math.log2(Math.max(1, (W || 600) - 2 * pad) / Math.max(x1 - x0, 1e-9));
    const zy = Math.log2(Math.max(1, (H || 400) - 2 * pad) / Math.max(y1 - y0, 1e-9));
    st.view = { cx: (x0 + x1) / 2, cy: (y0 + y1) / 2, z: clamp(Math.min(zx, zy, 16), MIN_Z, MAX_Z) };
  }

  function zoomAt(sx, sy, z) {
    const [W, H] = mapSize();
    const v = st.view;
    z = clamp(z, MIN_Z, MAX_Z);
    const k0 = 2 ** v.z; const k1 = 2 ** z;
    const wx = v.cx + (sx - W / 2) / k0;
    const wy = v.cy + (sy - H / 2) / k0;
    st.view = { cx: wx - (sx - W / 2) / k1, cy: wy - (sy - H / 2) / k1, z };
    scheduleDraw();
  }
  function zoomBy(dz) {
    const [W, H] = mapSize();
    zoomAt(W / 2, H / 2, st.view.z + dz);
  }
  function panBy(dx, dy) {
    const k = 2 ** st.view.z;
    st.view.cx -= dx / k;
    st.view.cy -= dy / k;
    scheduleDraw();
  }
  function panToTask(id) {
    const t = taskById(id);
    if (!t) return;
    const [W, H] = mapSize();
    const [sx, sy] = toScreen(t.lat, t.lon, W, H);
    const m = 30;
    if (sx < m || sy < m || sx > W - m || sy > H - m) {
      const [x, y] = project(t.lon, t.lat);
      st.view.cx = x; st.view.cy = y;
      scheduleDraw();
    }
  }

  let drawPending = false;
  function scheduleDraw() {
    if (drawPending) return;
    drawPending = true;
    requestAnimationFrame(() => { drawPending = false; drawMap(); });
  }

  function toScreen(lat, lon, W, H) {
    const [x, y] = project(lon, lat);
    const k = 2 ** st.view.z;
    return [(x - st.view.cx) * k + W / 2, (y - st.view.cy) * k + H / 2];
  }

  function rings(area) {
    if (!area || !area.coordinates) return [];
    if (area.type === 'Polygon') return area.coordinates;
    if (area.type === 'MultiPolygon') return area.coordinates.flat();
    return [];
  }
  function polygons(area) {
    if (!area || !area.coordinates) return [];
    if (area.type === 'Polygon') return [area.coordinates];
    if (area.type === 'MultiPolygon') return area.coordinates;
    return [];
  }

  const f1 = (x) => Math.round(x * 10) / 10;

  function setupMapInteraction() {
    const svg = st.els.map;
    const pointers = new Map();
    let down = null; // {x, y, target, moved}
    let pinch = null;
    svg.addEventListener('pointerdown', (e) => {
      if (e.button !== undefined && e.button !== 0 && e.pointerType === 'mouse') return;
      pointers.set(e.pointerId, { x: e.clientX, y: e.clientY });
      try { svg.setPointerCapture(e.pointerId); } catch (_) { /* ignore */ }
      if (pointers.size === 1) {
        const hit = e.target.closest && e.target.closest('[data-map-task-id],[data-map-courier-id]');
        down = { x: e.clientX, y: e.clientY, lx: e.clientX, ly: e.clientY, moved: false,
          task: hit && hit.dataset.mapTaskId ? Number(hit.dataset.mapTaskId) : null,
          courier: hit && hit.dataset.mapCourierId ? Number(hit.dataset.mapCourierId) : null };
      } else if (pointers.size === 2) {
        const [a, b] = Array.from(pointers.values());
        pinch = { d: Math.hypot(a.x - b.x, a.y - b.y), z: st.view.z };
        if (down) down.moved = true;
      }
    });
    svg.addEventListener('pointermove', (e) => {
      if (!pointers.has(e.pointerId)) return;
      pointers.set(e.pointerId, { x: e.clientX, y: e.clientY });
      if (pointers.size === 2 && pinch) {
        const [a, b] = Array.from(pointers.values());
        const d = Math.hypot(a.x - b.x, a.y - b.y);
        const rect = svg.getBoundingClientRect();
        if (pinch.d > 0 && d > 0) zoomAt((a.x + b.x) / 2 - rect.left, (a.y + b.y) / 2 - rect.top, pinch.z + Math.log2(d / pinch.d));
        return;
      }
      if (!down) return;
      if (!down.moved && Math.hypot(e.clientX - down.x, e.clientY - down.y) > 5) {
        down.moved = true;
        svg.classList.add('panning');
      }
      if (down.moved) {
        panBy(e.clientX - down.lx, e.clientY - down.ly);
        down.lx = e.clientX; down.ly = e.clientY;
      }
    });
    const end = (e) => {
      pointers.delete(e.pointerId);
      if (pointers.size < 2) pinch = null;
      if (pointers.size > 0) { if (down) { const p = Array.from(pointers.values())[0]; down.lx = p.x; down.ly = p.y; } return; }
      svg.classList.remove('panning');
      if (down && !down.moved && e.type === 'pointerup') {
        if (down.task) select(st.selected === down.task ? null : down.task, { scroll: true });
        else if (down.courier) {
          const sec = st.sections.get(String(down.courier));
          if (sec) {
            sec.el.classList.add('flash');
            setTimeout(() => sec.el.classList.remove('flash'), 1200);
            if (isDesktop()) sec.el.scrollIntoView({ block: 'nearest', behavior: 'smooth' });
          }
        }
      }
      down = null;
    };
    svg.addEventListener('pointerup', end);
    svg.addEventListener('pointercancel', end);
    svg.addEventListener('wheel', (e) => {
      e.preventDefault();
      const rect = svg.getBoundingClientRect();
      const dz = clamp(-e.deltaY * (e.deltaMode === 1 ? 0.05 : 0.0025), -1, 1);
      zoomAt(e.clientX - rect.left, e.clientY - rect.top, st.view.z + dz);
    }, { passive: false });
    svg.addEventListener('dblclick', (e) => {
      const rect = svg.getBoundingClientRect();
      zoomAt(e.clientX - rect.left, e.clientY - rect.top, st.view.z + 1);
    });
    svg.addEventListener('keydown', (e) => {
      const step = 60;
      const keys = {
        ArrowLeft: () => panBy(step, 0), ArrowRight: () => panBy(-step, 0),
        ArrowUp: () => panBy(0, step), ArrowDown: () => panBy(0, -step),
        '+': () => zoomBy(1), '=': () => zoomBy(1), '-': () => zoomBy(-1), _: () => zoomBy(-1),
        0: () => { fitView(); drawMap(); },
      };
      const f = keys[e.key];
      if (f) { e.preventDefault(); f(); }
    });
  }

  function drawTiles(W, H) {
    const layer = st.els.tileLayer;
    if (!st.tileUrl || !st.fitted) return; // no tiles for the provisional view
    const v = st.view;
    const zi = clamp(Math.round(v.z), 0, MAX_Z);
    const n = 2 ** zi;
    const k = 2 ** v.z;
    const size = TILE * k / n;
    const tx0 = Math.floor((v.cx - W / 2 / k) * n / TILE);
    const tx1 = Math.floor((v.cx + W / 2 / k) * n / TILE);
    const ty0 = Math.max(0, Math.floor((v.cy - H / 2 / k) * n / TILE));
    const ty1 = Math.min(n - 1, Math.floor((v.cy + H / 2 / k) * n / TILE));
    const want = new Set();
    for (let x = tx0; x <= tx1; x++) {
      for (let y = ty0; y <= ty1; y++) {
        const key = `${zi}/${x}/${y}`;
        want.add(key);
        let img = st.tiles.get(key);
        if (!img) {
          const xw = ((x % n) + n) % n;
          const url = st.tileUrl.replace('{z}', zi).replace('{x}', xw).replace('{y}', y)
            .replace('{s}', 'abc'[(xw + y) % 3]).replace('{r}', '');
          img = S('image', { href: url, preserveAspectRatio: 'none', class: 'tile' });
          st.tiles.set(key, img);
          layer.append(img);
        }
        img.setAttribute('x', f1((x * TILE / n - v.cx) * k + W / 2));
        img.setAttribute('y', f1((y * TILE / n - v.cy) * k + H / 2));
        img.setAttribute('width', f1(size + 0.6));
        img.setAttribute('height', f1(size + 0.6));
      }
    }
    for (const [key, img] of st.tiles) {
      if (!want.has(key)) { img.remove(); st.tiles.delete(key); }
    }
  }

  function drawMap() {
    if (!st || !st.els.map) return;
    const [W, H] = mapSize();
    if (!W || !H) return;
    st.els.map.setAttribute('viewBox', `0 0 ${f1(W)} ${f1(H)}`);
    drawTiles(W, H);
    const P = (lat, lon) => toScreen(lat, lon, W, H);
    const out = [];

    // zones
    const zoneG = S('g', { class: 'zones' });
    for (const z of st.zones) {
      const mine = z.post_office_id === st.office;
      let best = null; let bestArea = -1;
      for (const poly of polygons(z.area)) {
        const d = poly.map((ring) => 'M' + ring.map(([lon, lat]) => P(lat, lon).map(f1).join(' ')).join('L') + 'Z').join('');
        zoneG.append(S('path', {
          d, class: ['zone', mine ? 'mine' : 'other'], 'fill-rule': 'evenodd', dataset: { mapZoneId: String(z.id) },
        }, S('title', {}, `Khu vực ${z.name}`)));
        const pts = (poly[0] || []).map(([lon, lat]) => P(lat, lon));
        const xs = pts.map((p) => p[0]); const ys = pts.map((p) => p[1]);
        const a = (Math.max(...xs) - Math.min(...xs)) * (Math.max(...ys) - Math.min(...ys));
        if (a > bestArea) { bestArea = a; best = [(Math.max(...xs) + Math.min(...xs)) / 2, (Math.max(...ys) + Math.min(...ys)) / 2, Math.max(...xs) - Math.min(...xs)]; }
      }
      if (best && best[2] > 90) {
        zoneG.append(S('text', { x: f1(best[0]), y: f1(best[1]), class: ['zone-label', mine ? 'mine' : 'other'], 'text-anchor': 'middle' }, z.name));
      }
    }
    out.push(zoneG);

    // planned routes: post office → stops by seq → post office
    const office = officeById(st.office);
    const routeG = S('g', { class: 'routes' });
    for (const k of st.couriers) {
      const stops = st.tasks.filter((t) => t.courier_id === k.id && t.seq != null && t.status !== 'cancelled')
        .sort((a, b) => a.seq - b.seq);
      if (!stops.length) continue;
      const pts = stops.map((t) => P(t.lat, t.lon));
      if (office) { const o = P(office.lat, office.lon); pts.unshift(o); pts.push(o); }
      const dim = st.selected && taskById(st.selected) && taskById(st.selected).courier_id !== k.id;
      routeG.append(S('polyline', {
        points: pts.map((p) => p.map(f1).join(',')).join(' '), fill: 'none', stroke: courierColor(k.id),
        class: ['route', dim ? 'dim' : ''], dataset: { mapRoute: String(k.id) },
      }, S('title', {}, `Tuyến của ${courierName(k)}`)));
    }
    out.push(routeG);

    // agencies and post offices
    const placeG = S('g', { class: 'places' });
    for (const a of st.agencies) {
      const [x, y] = P(a.lat, a.lon);
      if (x < -50 || y < -50 || x > W + 50 || y > H + 50) continue;
      placeG.append(S('g', { class: 'agency', transform: `translate(${f1(x)} ${f1(y)})`, dataset: { mapAgencyId: String(a.id) } },
        S('title', {}, `${a.name} — ${a.address || ''}`),
        S('rect', { x: -9, y: -9, width: 18, height: 18, rx: 3, fill: '#0b4f9c', stroke: '#fff', 'stroke-width': 1.5 }),
        S('text', { y: 3.5, 'text-anchor': 'middle', class: 'place-text' }, 'CQ')));
    }
    for (const o of st.offices) {
      const [x, y] = P(o.lat, o.lon);
      if (x < -50 || y < -50 || x > W + 50 || y > H + 50) continue;
      const mine = o.id === st.office;
      placeG.append(S('g', { class: ['office', mine ? 'mine' : ''], transform: `translate(${f1(x)} ${f1(y)})`, dataset: { mapOfficeId: String(o.id) } },
        S('title', {}, `${o.name} — ${o.address || ''}`),
        S('rect', { x: -11, y: -11, width: 22, height: 22, rx: 3, fill: mine ? '#b30000' : '#8a6d6d', stroke: '#fff', 'stroke-width': 2 }),
        S('text', { y: 4, 'text-anchor': 'middle', class: 'place-text' }, 'BC')));
    }
    out.push(placeG);

    // stops: fanned out where several share a point
    const taskG = S('g', { class: 'stops' });
    const groups = new Map();
    for (const t of st.tasks) {
      if (t.status === 'cancelled' || !Number.isFinite(t.lat)) continue;
      const key = `${t.lat.toFixed(5)},${t.lon.toFixed(5)}`;
      if (!groups.has(key)) groups.set(key, []);
      groups.get(key).push(t);
    }
    let selectedMarker = null;
    for (const list of groups.values()) {
      const [x0, y0] = P(list[0].lat, list[0].lon);
      if (x0 < -80 || y0 < -80 || x0 > W + 80 || y0 > H + 80) continue;
      list.sort((a, b) => (a.courier_id || 0) - (b.courier_id || 0) || (a.seq ?? 1e9) - (b.seq ?? 1e9) || a.id - b.id);
      const n = list.length;
      const rad = n > 1 ? 9 + 3.2 * n : 0;
      list.forEach((t, i) => {
        const ang = -Math.PI / 2 + (2 * Math.PI * i) / n;
        const x = x0 + rad * Math.cos(ang);
        const y = y0 + rad * Math.sin(ang);
        if (n > 1) taskG.append(S('line', { x1: f1(x0), y1: f1(y0), x2: f1(x), y2: f1(y), class: 'fan' }));
        const m = stopMarker(t, x, y);
        if (t.id === st.selected) selectedMarker = m; else taskG.append(m);
      });
      if (n > 1) taskG.append(S('circle', { cx: f1(x0), cy: f1(y0), r: 2.5, class: 'fan-hub' }));
    }
    if (selectedMarker) taskG.append(selectedMarker);
    out.push(taskG);

    // couriers' last positions
    const posG = S('g', { class: 'positions' });
    for (const p of st.positions) {
      const k = courierById(p.courier_id);
      const [x, y] = P(p.lat, p.lon);
      const old = Date.now() - Date.parse(p.at) > 15 * 60e3;
      posG.append(S('g', {
        class: ['courier-pos', old ? 'old' : ''], transform: `translate(${f1(x)} ${f1(y)})`,
        dataset: { mapCourierId: String(p.courier_id) },
      },
      S('title', {}, `${courierName(k)} — vị trí lúc ${B.fmtTime(p.at)}${p.accuracy_m ? ` (±${Math.round(p.accuracy_m)} m)` : ''}${old ? ', đã cũ' : ''}`),
      S('circle', { r: 13, fill: courierColor(p.courier_id), stroke: '#111', 'stroke-width': 2 }),
      S('path', { d: 'M-6 3 L0 -7 L6 3 L0 0 Z', fill: '#fff' }),
      S('text', { y: 25, 'text-anchor': 'middle', class: 'pos-label' }, `BT ${p.courier_id}`)));
    }
    out.push(posG);

    B.mount(st.els.dataLayer, ...out);
  }

  function stopMarker(t, x, y) {
    const assigned = !!t.courier_id;
    const color = assigned ? courierColor(t.courier_id) : GREY;
    const agencyStop = t.kind === 'dropoff' || t.kind === 'collect';
    const r = riskOf(t);
    const sel = t.id === st.selected;
    const shape = agencyStop
      ? S('path', { d: 'M0 -11 L11 0 L0 11 L-11 0 Z', class: 'shape' })
      : S('circle', { r: 9.5, class: 'shape' });
    shape.setAttribute('fill', assigned ? color : '#fff');
    shape.setAttribute('stroke', assigned ? '#fff' : GREY);
    shape.setAttribute('stroke-width', assigned ? '1.5' : '2');
    if (!assigned) shape.setAttribute('stroke-dasharray', '3 2');
    const title = [t.tracking_code, B.TASK_KIND[t.kind] || t.kind, t.window && t.window.from ? `Khung ${windowText(t.window)}` : 'Không hẹn giờ',
      t.eta ? `Dự kiến ${B.fmtTime(t.eta)}` : null, assigned ? courierName(courierById(t.courier_id)) : 'Chưa phân công',
      B.TASK_STATUS[t.status] || t.status, r ? r.label : null].filter(Boolean).join(' · ');
    return S('g', {
      class: ['stop', t.status, FINISHED.includes(t.status) ? 'finished' : '', sel ? 'selected' : '', r ? `risk-${r.level}` : ''],
      transform: `translate(${f1(x)} ${f1(y)})`,
      dataset: { mapTaskId: String(t.id) },
    },
    S('title', {}, title),
    sel ? S('circle', { r: 19, class: 'sel-ring' }) : null,
    r ? S('circle', { r: 14, fill: 'none', stroke: r.level === 'late' ? '#c40000' : '#e0a000', 'stroke-width': 3.5, class: 'risk-ring' }) : null,
    shape,
    S('text', { y: 3.8, 'text-anchor': 'middle', class: ['stop-text', assigned ? '' : 'dark'] }, t.seq != null ? String(t.seq) : ''));
  }

  B.requireLogin(['dispatcher', 'admin'], render);
})();
