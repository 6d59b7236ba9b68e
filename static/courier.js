// Buuta: the courier page. Today's route with distances, one stop at a time with
// its actions (arrived, picked up, failed, handed over, collected, delivered) and
// their proof, GPS sent in batches. Built to work offline: the service worker keeps
// the page, IndexedDB keeps the last route and an outbox of actions, and the page
// sends the outbox in order, each action with the Idempotency-Key made when it was
// recorded, so a replay after a lost answer changes nothing on the server.
(function () {
  'use strict';

  const B = window.Buuta;
  const h = B.h;

  // ---------- constants ----------

  const FLUSH_EVERY_MS = 15000;
  const POSITIONS_EVERY_MS = 30000;
  const ROUTE_EVERY_MS = 120000;
  const MAX_FIXES = 300;
  const MAX_BATCH = 500;
  /** A fix is queued when this much time passed since the last one… */
  const FIX_GAP_MS = 30000;
  /** …or when the courier moved this far (and a few seconds passed). */
  const FIX_MOVE_M = 30;
  /** Fixes older than this are not accepted by the server (2 days), so not sent. */
  const FIX_MAX_AGE_MS = 47 * 3600e3;
  /** A GPS fix older than this is not attached to an action. */
  const FIX_FRESH_MS = 5 * 60e3;
  /** Base64 of a photo stays under this (the server takes 700 000, a body 1 MiB). */
  const PHOTO_MAX_CHARS = 450000;
  const BODY_MAX_CHARS = 900000;

  const COMPLETE = { pickup: 'picked_up', dropoff: 'handed_over', collect: 'collected', deliver: 'delivered' };
  const ACTION = {
    arrived: 'Đã đến nơi', picked_up: 'Đã lấy hồ sơ', failed: 'Không thành công',
    handed_over: 'Đã nộp cho cơ quan', collected: 'Đã nhận kết quả', delivered: 'Đã giao kết quả',
  };
  /** The dossier status a completed action leads to (for the partner stop). */
  const DOSSIER_AFTER = { picked_up: 'picked_up', handed_over: 'at_agency', collected: 'out_for_delivery', delivered: 'completed' };
  /** Dossier statuses in which a stop of this kind can be worked. */
  const READY_IN = {
    pickup: null, // always (the server is the judge)
    dropoff: ['picked_up', 'in_transit', 'at_agency'],
    collect: ['result_ready'],
    deliver: ['out_for_delivery'],
  };
  const NOT_READY_HINT = {
    dropoff: 'Chưa lấy hồ sơ ở nhà người dân: hãy làm điểm “Lấy hồ sơ” của hồ sơ này trước.',
    collect: 'Cơ quan chưa báo có kết quả cho hồ sơ này.',
    deliver: 'Chưa nhận kết quả tại cơ quan: hãy làm điểm “Nhận kết quả” của hồ sơ này trước.',
  };
  /** What a refusal means for the courier, by HTTP status; the server's detail follows. */
  const REFUSAL = {
    400: 'Yêu cầu không hợp lệ.',
    403: 'Điểm dừng này không còn được giao cho bạn.',
    404: 'Máy chủ không còn nhiệm vụ này.',
    409: 'Trên máy chủ, điểm dừng đã ở trạng thái khác: hồ sơ có thể đã bị hủy, được giao cho người khác hoặc đã được ghi nhận từ máy khác.',
    413: 'Dữ liệu quá lớn (ảnh chụp).',
    422: 'Dữ liệu gửi lên không hợp lệ.',
  };
  const STATUS_BADGE = { assigned: 'info', in_progress: 'warn', done: 'ok', failed: 'bad', cancelled: 'bad', unassigned: '' };

  /** Shown when something other than our API answered (a Wi-Fi login page, a proxy). */
  const NOT_OUR_ANSWER = 'Mạng trả lời lạ (có thể Wi-Fi cần đăng nhập), sẽ gửi lại sau';

  const inVietnam = (lat, lon) => lat >= 8 && lat <= 23.5 && lon >= 102 && lon <= 117.5;

  // ---------- storage: IndexedDB (localStorage when it is missing) ----------

  const store = (() => {
    const NAME = 'buuta-courier';
    let dbp = null;
    function open() {
      if (!dbp) {
        dbp = new Promise((resolve, reject) => {
          if (!window.indexedDB) { reject(new Error('no IndexedDB')); return; }
          const req = indexedDB.open(NAME, 1);
          req.onupgradeneeded = () => {
            const db = req.result;
            if (!db.objectStoreNames.contains('outbox')) db.createObjectStore('outbox', { keyPath: 'seq', autoIncrement: true });
            if (!db.objectStoreNames.contains('kv')) db.createObjectStore('kv');
          };
          req.onsuccess = () => resolve(req.result);
          req.onerror = () => reject(req.error);
          req.onblocked = () => reject(new Error('IndexedDB blocked'));
        });
      }
      return dbp;
    }
    function run(name, mode, fn) {
      return open().then((db) => new Promise((resolve, reject) => {
        const tx = db.transaction(name, mode);
        const req = fn(tx.objectStore(name));
        let out;
        if (req) req.onsuccess = () => { out = req.result; };
        tx.oncomplete = () => resolve(out);
        tx.onerror = () => reject(tx.error);
        tx.onabort = () => reject(tx.error || new Error('aborted'));
      }));
    }
    // The fallback: the same interface over localStorage.
    const LS = 'buuta.courier.';
    const lsGet = (k, d) => { try { const v = localStorage.getItem(LS + k); return v === null ? d : JSON.parse(v); } catch (_) { return d; } };
    const lsSet = (k, v) => { try { localStorage.setItem(LS + k, JSON.stringify(v)); } catch (_) { /* full */ } };
    const fallback = {
      add: (rec) => { const seq = lsGet('seq', 0) + 1; lsSet('seq', seq); const all = lsGet('outbox', []); all.push(Object.assign({}, rec, { seq })); lsSet('outbox', all); return seq; },
      put: (rec) => { lsSet('outbox', lsGet('outbox', []).map((r) => (r.seq === rec.seq ? rec : r))); },
      del: (seq) => { lsSet('outbox', lsGet('outbox', []).filter((r) => r.seq !== seq)); },
      all: () => lsGet('outbox', []),
      get: (k) => lsGet('kv.' + k, undefined),
      set: (k, v) => lsSet('kv.' + k, v),
    };
    let useFallback = false;
    const either = (idb, ls) => (...args) => {
      if (useFallback) return Promise.resolve(ls(...args));
      return idb(...args).catch((e) => {
        if (!useFallback) console.warn('IndexedDB không dùng được, chuyển sang localStorage', e);
        useFallback = true;
        return ls(...args);
      });
    };
    return {
      add: either((rec) => run('outbox', 'readwrite', (s) => s.add(rec)), fallback.add),
      put: either((rec) => run('outbox', 'readwrite', (s) => s.put(rec)), fallback.put),
      del: either((seq) => run('outbox', 'readwrite', (s) => s.delete(seq)), fallback.del),
      all: either(() => run('outbox', 'readonly', (s) => s.getAll()).then((a) => (a || []).sort((x, y) => x.seq - y.seq)), fallback.all),
      get: either((k) => run('kv', 'readonly', (s) => s.get(k)), fallback.get),
      set: either((k, v) => run('kv', 'readwrite', (s) => s.put(v, k)), fallback.set),
    };
  })();

  // ---------- state ----------

  const S = {
    me: null,
    date: B.today(),
    routes: {}, // date → {stops, fetched_at}
    outbox: [], // this user's records, by seq
    inflight: [], // recorded, in the journal, not yet in IndexedDB
    dossiers: {}, // tracking code → {fees, note, agency_id, procedure_code, status, fetched}
    ref: { post_office: null, agencies: [], wards: {}, procedures: {}, fetched: 0 },
    done: [], // stops finished and sent: {task_id, kind, code, name, type, at}
    fix: null, // last GPS fix {lat, lon, acc, t}
    fixes: [], // queued for the server {lat, lon, at, accuracy_m, t}
    lastQueued: null, // the last fix queued (also once sent)
    gps: 'off',
    netError: null, // message of the last failed request, cleared by the next success
    loading: false,
    form: null, // {taskId, type} while an action form is open
    confirmDiscard: null, // seq of the conflict whose discard waits for confirmation
    epoch: 0, // bumps on every record the server accepted
    timers: [],
    watchId: null,
    listScroll: 0,
    failures: {}, // task id → {at, window_from}: attempts this phone saw fail, to tell a new booking apart
    receipt: null, // the pickup just recorded, shown to the citizen before the next stop
  };
  const uid = () => (S.me ? S.me.id : 0);

  // ---------- small helpers ----------

  const tomorrow = () => {
    const t = new Date(`${B.today()}T12:00:00+07:00`).getTime() + 24 * 3600e3;
    return new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Ho_Chi_Minh' }).format(new Date(t));
  };
  const dayLabel = (d) => {
    const [y, m, dd] = d.split('-');
    return `${dd}/${m}/${y}`;
  };
  const clockOf = (ms) => B.fmtTime(new Date(ms).toISOString());

  /** Metres between two points on the sphere. */
  function haversine(a, b) {
    const R = 6371008.8;
    const rad = Math.PI / 180;
    const dLat = (b.lat - a.lat) * rad;
    const dLon = (b.lon - a.lon) * rad;
    const s = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
    return 2 * R * Math.asin(Math.min(1, Math.sqrt(s)));
  }
  const hasPoint = (p) => p && typeof p.lat === 'number' && typeof p.lon === 'number';

  const phoneText = (p) => (p && /^0\d{9}$/.test(p) ? `${p.slice(0, 4)} ${p.slice(4, 7)} ${p.slice(7)}` : p || '');
  const wardName = (code) => S.ref.wards[code] || '';
  const addressText = (stop) => {
    const a = stop.address || {};
    return [a.street, wardName(a.ward_code)].filter(Boolean).join(', ');
  };
  const agencyOf = (stop) => {
    const info = S.dossiers[stop.tracking_code];
    const list = S.ref.agencies || [];
    let a = info && list.find((x) => x.id === info.agency_id);
    if (!a && hasPoint(stop)) a = list.find((x) => hasPoint(x) && haversine(x, stop) < 30);
    return a || null;
  };
  const atAgency = (stop) => stop.kind === 'dropoff' || stop.kind === 'collect';

  /** For work started in the background: log, never leave a rejection unhandled. */
  function quiet(e) {
    console.warn(e);
  }

  function toastError(e) {
    B.toast(e && e.message ? e.message : 'Có lỗi xảy ra', 'error');
  }

  // ---------- the outbox overlay: what the courier sees before the server knows ----------

  /** Stored records and those still being written (already in the journal). */
  const allRecords = () => S.outbox.concat(S.inflight);
  function recordsOf(taskId) {
    return allRecords().filter((r) => r.task_id === taskId);
  }
  const pendingCount = () => allRecords().filter((r) => r.state !== 'conflict').length;
  const conflicts = () => S.outbox.filter((r) => r.state === 'conflict');

  function localNext(status, type) {
    if (type === 'arrived') return 'in_progress';
    if (type === 'failed') return 'failed';
    return 'done';
  }

  /** A stop as shown: its status after this phone's unsent actions, and their state. */
  function effective(stop) {
    let status = stop.status;
    const pending = [];
    const conflict = [];
    let held = false;
    for (const r of recordsOf(stop.id)) {
      if (r.state === 'conflict') { conflict.push(r); continue; }
      if (conflict.length) held = true;
      pending.push(r);
      status = localNext(status, r.type);
    }
    // The server puts a failed stop back on the same courier for the next try; until a
    // new time is booked (its window moves) it waits, and says so.
    const seen = S.failures[stop.id];
    const rebooked = !!seen && !!stop.window && stop.window.from !== seen.window_from;
    const waiting = status === 'failed' || (status === 'assigned' && stop.attempts > 0 && !rebooked);
    return { stop, status, pending, conflict, held, waiting, rebooked: rebooked && status === 'assigned' };
  }

  /** A drop-off whose pickup on the same route failed has nothing to carry: off the list. */
  function visibleStops(stops) {
    const waitingPickups = new Set(stops.filter((s) => s.kind === 'pickup' && effective(s).waiting).map((s) => s.tracking_code));
    return {
      shown: stops.filter((s) => !(s.kind === 'dropoff' && waitingPickups.has(s.tracking_code))),
      hidden: stops.filter((s) => s.kind === 'dropoff' && waitingPickups.has(s.tracking_code)).length,
    };
  }

  /** The dossier status after this phone's unsent actions on any of its stops. */
  function dossierStatus(stop) {
    let status = stop.dossier_status;
    for (const r of allRecords()) {
      if (r.state !== 'conflict' && r.tracking_code === stop.tracking_code && DOSSIER_AFTER[r.type]) status = DOSSIER_AFTER[r.type];
    }
    return status;
  }

  function isReady(stop) {
    const need = READY_IN[stop.kind];
    return !need || need.includes(dossierStatus(stop));
  }

  function allowedActions(stop, status) {
    if (status === 'assigned') return ['arrived', COMPLETE[stop.kind], 'failed'];
    if (status === 'in_progress') return [COMPLETE[stop.kind], 'failed'];
    return [];
  }

  // ---------- loading and saving ----------

  async function loadOutbox() {
    const all = await store.all();
    S.outbox = all.filter((r) => r.user_id === uid());
    return S.outbox;
  }

  async function loadLocal() {
    await recoverJournal().catch(quiet);
    const id = uid();
    const [today, next, ref, dossiers, done, gps, failures] = await Promise.all([
      store.get(`route:${id}:${B.today()}`), store.get(`route:${id}:${tomorrow()}`), store.get(`ref:${id}`),
      store.get(`dossiers:${id}`), store.get(`done:${id}`), store.get(`gps:${id}`), store.get(`failures:${id}`), loadOutbox(),
    ]);
    if (failures) S.failures = failures;
    if (today) S.routes[B.today()] = today;
    if (next) S.routes[tomorrow()] = next;
    if (ref) S.ref = ref;
    if (dossiers) S.dossiers = dossiers;
    if (done) S.done = done.filter((d) => d.at && d.at.slice(0, 10) >= B.today());
    if (gps) {
      S.fixes = (gps.fixes || []).filter((f) => Date.now() - f.t < FIX_MAX_AGE_MS);
      S.fix = gps.fix || null;
    }
  }

  const saveRoute = (date) => store.set(`route:${uid()}:${date}`, S.routes[date]).catch(() => {});
  const saveDossiers = () => store.set(`dossiers:${uid()}`, S.dossiers).catch(() => {});
  const saveDone = () => store.set(`done:${uid()}`, S.done).catch(() => {});
  const saveFailures = () => store.set(`failures:${uid()}`, S.failures).catch(() => {});
  let gpsSaveTimer = null;
  const saveGps = () => {
    clearTimeout(gpsSaveTimer);
    gpsSaveTimer = setTimeout(() => store.set(`gps:${uid()}`, { fixes: S.fixes, fix: S.fix }).catch(() => {}), 500);
  };

  function noteNetwork(e) {
    if (e && e.offline) S.netError = e.message;
  }
  function noteOnline() {
    S.netError = null;
  }

  /** Post office, agencies, ward names, procedures: looked up once a day. */
  async function loadRef() {
    if (S.ref.fetched && Date.now() - S.ref.fetched < 12 * 3600e3) return;
    try {
      const ref = { post_office: null, agencies: [], wards: {}, procedures: {}, fetched: Date.now() };
      if (S.me.post_office_id) ref.post_office = await B.api('GET', `/api/v1/post-offices/${S.me.post_office_id}`);
      const agencies = await B.api('GET', '/api/v1/agencies?limit=500');
      ref.agencies = (agencies.items || []).map((a) => ({ id: a.id, name: a.name, address: a.address, lat: a.lat, lon: a.lon, opening_hours: a.opening_hours }));
      const province = ref.post_office && ref.post_office.province_code;
      if (province) {
        for (const w of await B.api('GET', `/api/v1/admin-units/provinces/${encodeURIComponent(province)}/wards`)) ref.wards[w.code] = w.name;
      }
      for (const p of await B.api('GET', '/api/v1/procedures')) ref.procedures[p.code] = p.name;
      S.ref = ref;
      noteOnline();
      await store.set(`ref:${uid()}`, ref).catch(() => {});
      render();
    } catch (e) {
      noteNetwork(e);
    }
  }

  let routeInFlight = null;
  /** Fetches the route of `date`; keeps it for offline use. */
  function refreshRoute(date) {
    date = date || S.date;
    if (routeInFlight && routeInFlight.date === date) return routeInFlight.p;
    const p = (async () => {
      S.loading = true;
      renderBar();
      for (let tries = 0; tries < 3; tries++) {
        const epoch = S.epoch;
        try {
          const r = await B.api('GET', `/api/v1/me/route?date=${encodeURIComponent(date)}`);
          if (!r || !Array.isArray(r.stops)) { S.netError = NOT_OUR_ANSWER; break; }
          noteOnline();
          if (S.epoch !== epoch) continue; // an action reached the server meanwhile: ask again
          S.routes[date] = { stops: r.stops || [], fetched_at: Date.now() };
          await saveRoute(date);
          break;
        } catch (e) {
          noteNetwork(e);
          if (!e.offline && S.me) B.toast(`Không tải được tuyến: ${e.message}`, 'error');
          break;
        }
      }
      S.loading = false;
      render();
      loadDossierInfo(date).catch(quiet);
    })().catch(quiet).finally(() => { routeInFlight = null; });
    routeInFlight = { date, p };
    return p;
  }

  let infoRunning = false;
  /** Fees, note and agency of each dossier on the route (for the forms), kept offline. */
  async function loadDossierInfo(date) {
    if (infoRunning || !S.me) return;
    infoRunning = true;
    let changed = false;
    try {
      const route = S.routes[date];
      const codes = [...new Set(((route && route.stops) || []).map((s) => s.tracking_code))];
      for (const code of codes) {
        const stop = route.stops.find((s) => s.tracking_code === code);
        const have = S.dossiers[code];
        if (have && have.status === stop.dossier_status && Date.now() - have.fetched < 30 * 60e3) continue;
        try {
          const d = await B.api('GET', `/api/v1/dossiers/${encodeURIComponent(code)}`);
          S.dossiers[code] = {
            fees: d.fees || null, note: d.note || null, agency_id: d.agency_id, procedure_code: d.procedure_code,
            status: d.status, service: d.service, fetched: Date.now(),
          };
          changed = true;
        } catch (e) {
          if (e.offline) { noteNetwork(e); break; }
        }
      }
      // Forget dossiers no longer on any kept route.
      const keep = new Set(Object.values(S.routes).flatMap((r) => (r.stops || []).map((s) => s.tracking_code)));
      for (const code of Object.keys(S.dossiers)) if (!keep.has(code)) { delete S.dossiers[code]; changed = true; }
      if (changed) { await saveDossiers(); render(); }
    } finally {
      infoRunning = false;
    }
  }

  // ---------- the outbox: record first, send in order ----------

  // The journal: an action is written to localStorage synchronously when the courier
  // confirms it (so it is counted at once and survives the app being closed right
  // away), then moved into the IndexedDB outbox. A journal entry found at start that
  // the outbox lacks (same key) is added then.
  const JOURNAL = 'buuta.courier.journal';
  const readJournal = () => { try { return JSON.parse(localStorage.getItem(JOURNAL)) || []; } catch (_) { return []; } };
  const writeJournal = (list) => {
    try {
      if (list.length) localStorage.setItem(JOURNAL, JSON.stringify(list));
      else localStorage.removeItem(JOURNAL);
    } catch (_) { /* full: IndexedDB alone then */ }
  };

  async function recoverJournal() {
    const list = readJournal();
    if (!list.length) return;
    const keys = new Set((await store.all()).map((r) => r.key));
    for (const rec of list) {
      if (keys.has(rec.key)) continue;
      const copy = Object.assign({}, rec);
      delete copy.seq;
      await store.add(copy);
    }
    const left = readJournal().filter((r) => !list.some((x) => x.key === r.key));
    writeJournal(left);
  }

  /**
   * Records one action of the courier: on the phone first (synchronously in the
   * journal, then in IndexedDB), shown as pending at once, then sent in order.
   */
  function record(stop, type, fields, tappedAt) {
    const body = Object.assign({ type, at: B.isoVN(tappedAt || new Date()) }, fields);
    const fix = S.fix;
    if (fix && Date.now() - fix.t < FIX_FRESH_MS && inVietnam(fix.lat, fix.lon)) {
      body.lat = Math.round(fix.lat * 1e6) / 1e6;
      body.lon = Math.round(fix.lon * 1e6) / 1e6;
    }
    const text = JSON.stringify(body);
    if (text.length > BODY_MAX_CHARS) throw new Error('Dữ liệu quá lớn: hãy chụp lại ảnh hoặc bỏ ảnh.');
    const rec = {
      user_id: uid(), task_id: stop.id, tracking_code: stop.tracking_code, kind: stop.kind,
      name: stop.citizen_first_name || '', type, body, key: B.uuid(), created_at: Date.now(), state: 'pending',
    };
    writeJournal(readJournal().concat([rec]));
    S.inflight.push(rec);
    render();
    store.add(Object.assign({}, rec)).then((seq) => {
      rec.seq = seq;
      writeJournal(readJournal().filter((r) => r.key !== rec.key));
      S.inflight = S.inflight.filter((r) => r !== rec);
      if (rec.user_id === uid()) {
        S.outbox.push(rec);
        S.outbox.sort((a, b) => a.seq - b.seq);
      }
      render();
      flush();
    }).catch((e) => {
      // Kept in the journal: it is added to the outbox at the next start.
      console.warn(e);
      B.toast('Không ghi được vào bộ nhớ máy; thao tác được giữ tạm, hãy mở lại ứng dụng.', 'error');
    });
    return rec;
  }

  /**
   * Whether a failed send should simply be tried again later: no network, a server
   * error, or an answer that is not our API's (a Wi-Fi login page or a proxy: our
   * server always answers errors as problem+json with a `code`).
   */
  function retryable(e) {
    if (e.offline || !e.status || e.status >= 500 || e.status === 401 || e.status === 408 || e.status === 429) return true;
    return !(e.problem && e.problem.code);
  }

  /** The server took `rec` and answered `res` ({task, dossier}): update the kept route now. */
  function applyAnswer(rec, res) {
    S.epoch++;
    const task = res && res.task;
    const dossier = res && res.dossier;
    for (const [date, route] of Object.entries(S.routes)) {
      if (!route || !route.stops) continue;
      let changed = false;
      route.stops = route.stops.filter((s) => {
        if (dossier && s.tracking_code === rec.tracking_code && dossier.status) { s.dossier_status = dossier.status; changed = true; }
        if (task && s.id === task.id) {
          changed = true;
          if (task.status !== 'assigned' && task.status !== 'in_progress') return false; // done or cancelled: off the route
          s.status = task.status;
          s.attempts = task.attempts;
        }
        return true;
      });
      if (changed) saveRoute(date);
    }
    if (task && task.status === 'done') {
      S.done = S.done.filter((d) => d.task_id !== rec.task_id);
      S.done.push({ task_id: rec.task_id, kind: rec.kind, code: rec.tracking_code, name: rec.name, type: rec.type, at: rec.body.at });
      saveDone();
    }
  }

  let flushing = null;
  let flushAgain = false;
  /** Sends the outbox in seq order; one run at a time (across tabs too). */
  function flush() {
    if (flushing) { flushAgain = true; return flushing; }
    flushing = (async () => {
      do {
        flushAgain = false;
        if (navigator.locks && navigator.locks.request) {
          await navigator.locks.request('buuta-courier-outbox', { ifAvailable: true }, (lock) => (lock ? flushOnce() : null));
        } else {
          await flushOnce();
        }
      } while (flushAgain && S.me);
    })().catch(quiet).finally(() => { flushing = null; });
    return flushing;
  }

  async function flushOnce() {
    if (!S.me) return;
    const me = uid();
    const records = await loadOutbox();
    const blocked = new Set();
    let sent = 0;
    for (const rec of records) {
      if (!S.me || uid() !== me) return;
      if (rec.state === 'conflict') { blocked.add(rec.task_id); continue; }
      // A later action of a stop whose earlier one was refused waits for the courier's decision.
      if (blocked.has(rec.task_id)) continue;
      let res;
      try {
        res = await B.api('POST', `/api/v1/tasks/${rec.task_id}/events`, rec.body, { idempotencyKey: rec.key });
      } catch (e) {
        if (retryable(e)) {
          noteNetwork(e);
          if (!e.offline && e.status) S.netError = `Máy chủ chưa nhận (${e.status}), sẽ gửi lại sau`;
          if (S.warnIfUnsent) {
            S.warnIfUnsent = false;
            B.toast('Chưa gửi được lên máy chủ: thao tác vẫn lưu trên máy, sẽ tự gửi khi có mạng.', 'warn');
          }
          break; // strictly in order: nothing after it goes first
        }
        rec.state = 'conflict';
        rec.error = {
          status: e.status, code: (e.problem && e.problem.code) || null, detail: e.message,
          errors: ((e.problem && e.problem.errors) || []).map((x) => x.message).filter(Boolean),
          at: Date.now(),
        };
        await store.put(rec);
        blocked.add(rec.task_id);
        B.toast(`Máy chủ từ chối “${ACTION[rec.type] || rec.type}” (${rec.tracking_code}): ${e.message}`, 'error');
        continue;
      }
      if (!res || !res.task) {
        S.netError = NOT_OUR_ANSWER; // not the API's answer: keep the record
        break;
      }
      noteOnline();
      S.warnIfUnsent = false;
      await store.del(rec.seq);
      S.outbox = S.outbox.filter((r) => r.seq !== rec.seq);
      applyAnswer(rec, res);
      sent++;
      render();
    }
    await loadOutbox();
    render();
    if (sent) {
      B.toast(sent === 1 ? 'Đã gửi 1 thao tác lên máy chủ' : `Đã gửi ${sent} thao tác lên máy chủ`, 'ok');
      refreshRoute(S.date);
    }
  }

  async function discard(seq) {
    await store.del(seq);
    S.confirmDiscard = null;
    await loadOutbox();
    render();
    flush();
  }

  async function retryConflict(seq) {
    const rec = S.outbox.find((r) => r.seq === seq);
    if (!rec) return;
    rec.state = 'pending';
    delete rec.error;
    await store.put(rec);
    render();
    flush();
  }

  // ---------- GPS ----------

  function startGps() {
    if (!('geolocation' in navigator)) { S.gps = 'unsupported'; renderBar(); return; }
    if (S.watchId !== null) return;
    S.gps = 'waiting';
    try {
      S.watchId = navigator.geolocation.watchPosition(onFix, onGpsError, { enableHighAccuracy: true, maximumAge: 10000, timeout: 60000 });
    } catch (e) {
      S.gps = 'unavailable';
    }
    renderBar();
  }

  function stopGps() {
    if (S.watchId !== null && navigator.geolocation) navigator.geolocation.clearWatch(S.watchId);
    S.watchId = null;
  }

  function onGpsError(err) {
    if (err && err.code === 1) {
      S.gps = 'denied';
      stopGps();
    } else if (S.gps !== 'ok') {
      S.gps = 'unavailable';
    }
    renderBar();
  }

  let lastListRender = 0;
  let lastListFix = null;
  function onFix(pos) {
    const c = pos.coords;
    const t = pos.timestamp || Date.now();
    const fix = { lat: c.latitude, lon: c.longitude, acc: c.accuracy, t };
    const firstFix = S.gps !== 'ok';
    S.fix = fix;
    S.gps = 'ok';
    if (inVietnam(fix.lat, fix.lon) && !(c.accuracy > 2000)) {
      const last = S.fixes[S.fixes.length - 1] || S.lastQueued;
      const gap = last ? t - last.t : Infinity;
      const moved = last ? haversine(last, fix) : Infinity;
      const at = B.isoVN(new Date(t));
      if ((gap >= FIX_GAP_MS || (gap >= 5000 && moved >= FIX_MOVE_M)) && (!last || at > last.at)) {
        const q = {
          lat: Math.round(fix.lat * 1e6) / 1e6, lon: Math.round(fix.lon * 1e6) / 1e6, at, t,
          accuracy_m: Number.isFinite(c.accuracy) ? Math.min(10000, Math.max(0, Math.round(c.accuracy * 10) / 10)) : null,
        };
        S.fixes.push(q);
        S.lastQueued = q;
        if (S.fixes.length > MAX_FIXES) S.fixes.splice(0, S.fixes.length - MAX_FIXES);
      }
    }
    saveGps();
    renderBar();
    // Distances on the list: redraw when the courier moved, not on every fix.
    const movedSinceDraw = !lastListFix || haversine(lastListFix, fix) > 50;
    if (!S.form && (firstFix || (movedSinceDraw && Date.now() - lastListRender > 20000))) {
      lastListFix = fix;
      lastListRender = Date.now();
      renderView();
    }
  }

  let sendingFixes = false;
  let positionsRefused = false;
  async function sendFixes() {
    if (sendingFixes || positionsRefused || !S.me) return;
    S.fixes = S.fixes.filter((f) => Date.now() - f.t < FIX_MAX_AGE_MS);
    if (!S.fixes.length) return;
    sendingFixes = true;
    const batch = S.fixes.slice(0, MAX_BATCH);
    const last = batch[batch.length - 1];
    try {
      const res = await B.api('POST', '/api/v1/me/positions', batch.map((f) => {
        const o = { lat: f.lat, lon: f.lon, at: f.at };
        if (f.accuracy_m !== null && f.accuracy_m !== undefined) o.accuracy_m = f.accuracy_m;
        return o;
      }));
      if (!res || typeof res.accepted !== 'number') { S.netError = NOT_OUR_ANSWER; return; }
      noteOnline();
      S.fixes = S.fixes.filter((f) => f.t > last.t);
    } catch (e) {
      if (retryable(e)) {
        noteNetwork(e);
      } else if (e.status === 403) {
        positionsRefused = true; // not linked to a courier record: keep nothing
        S.fixes = [];
      } else {
        console.warn('Máy chủ không nhận lô vị trí, bỏ lô này', e);
        S.fixes = S.fixes.filter((f) => f.t > last.t);
      }
    } finally {
      sendingFixes = false;
      saveGps();
      renderBar();
    }
  }

  // ---------- the page skeleton ----------

  function sameAttributes(a, b) {
    if (a.attributes.length !== b.attributes.length) return false;
    for (const attr of a.attributes) if (b.getAttribute(attr.name) !== attr.value) return false;
    return true;
  }

  /** Makes `parent`'s children look like `nodes`, keeping every node whose markup is unchanged. */
  function patch(parent, nodes, depth) {
    const old = Array.from(parent.childNodes);
    const n = Math.max(old.length, nodes.length);
    for (let i = 0; i < n; i++) {
      const o = old[i];
      const x = nodes[i];
      if (!x) { o.remove(); continue; }
      if (!o) { parent.append(x); continue; }
      if (o.nodeType !== x.nodeType || o.nodeName !== x.nodeName) { parent.replaceChild(x, o); continue; }
      if (o.nodeType !== 1) {
        if (o.nodeValue !== x.nodeValue) o.nodeValue = x.nodeValue;
        continue;
      }
      if (o.outerHTML === x.outerHTML) continue;
      if (depth > 0 && sameAttributes(o, x)) patch(o, Array.from(x.childNodes), depth - 1);
      else parent.replaceChild(x, o);
    }
  }

  /**
   * Draws `children` into `el`, replacing only what changed: answers and timers that
   * arrive while the courier taps do not swap the button under the finger.
   */
  function mountIfChanged(el, ...children) {
    const next = document.createElement('div');
    B.mount(next, ...children);
    patch(el, Array.from(next.childNodes), 3);
  }

  let els = null;

  function buildShell() {
    const count = h('span', { id: 'outbox-count', class: 'count', 'aria-live': 'polite' }, '0');
    const conn = h('span', { class: 'conn', id: 'conn' });
    const sync = h('button', { type: 'button', id: 'sync-now', class: 'small', onclick: () => { flush(); sendFixes(); refreshRoute(S.date); } }, 'Gửi ngay');
    const gps = h('span', { class: 'gps', id: 'gps-state' });
    const gpsHint = h('details', { class: 'hint gps-hint', id: 'gps-hint', hidden: true },
      h('summary', {}, 'Cách bật vị trí'),
      h('p', {}, 'Chạm biểu tượng ổ khóa cạnh địa chỉ trang → Quyền → Vị trí → Cho phép, rồi tải lại trang. Không có GPS bạn vẫn làm việc được, chỉ không có khoảng cách tới điểm dừng.'));
    const info = h('p', { class: 'sync-info', id: 'sync-info' });
    const bar = h('section', { class: 'syncbar', id: 'syncbar', 'aria-label': 'Trạng thái đồng bộ' },
      h('div', { class: 'syncrow' }, conn,
        h('span', { class: 'pending-count' }, 'Chờ gửi: ', count),
        sync),
      h('div', { class: 'syncrow' }, gps, info),
      gpsHint);
    const conflictsEl = h('section', { id: 'conflicts', class: 'conflicts', hidden: true, 'aria-live': 'polite', 'aria-labelledby': 'conflicts-title' });
    const view = h('div', { id: 'view', 'aria-live': 'off' });
    B.mount(B.app(), bar, conflictsEl, view);
    els = { bar, count, conn, sync, gps, gpsHint, info, conflicts: conflictsEl, view };
  }

  function render() {
    if (!els || !S.me) return;
    renderBar();
    renderConflicts();
    renderView();
  }

  function renderBar() {
    if (!els) return;
    const offline = !navigator.onLine || !!S.netError;
    const n = pendingCount();
    els.count.textContent = String(n);
    els.count.className = n ? 'count has' : 'count';
    els.sync.disabled = !navigator.onLine;
    els.conn.textContent = offline ? (navigator.onLine ? 'Không tới được máy chủ' : 'Ngoại tuyến') : 'Trực tuyến';
    els.conn.dataset.state = offline ? 'offline' : 'online';
    const route = S.routes[S.date];
    let info = '';
    if (S.loading) info = 'Đang tải tuyến…';
    else if (route && route.fetched_at) info = `${offline ? 'Dữ liệu lưu lúc' : 'Cập nhật lúc'} ${clockOf(route.fetched_at)}`;
    if (offline && n) info += (info ? ' · ' : '') + 'thao tác được lưu trên máy, tự gửi khi có mạng';
    els.info.textContent = info;
    const gpsText = {
      off: 'GPS: tắt', waiting: 'GPS: đang tìm vị trí…', ok: 'GPS: đang bật', denied: 'GPS: chưa được phép',
      unavailable: 'GPS: chưa có tín hiệu', unsupported: 'GPS: máy không hỗ trợ',
    }[S.gps] || '';
    const queued = S.fixes.length ? ` · ${S.fixes.length} vị trí chờ gửi` : '';
    els.gps.textContent = gpsText + (S.gps === 'ok' && S.fix && S.fix.acc ? ` (±${Math.round(S.fix.acc)} m)` : '') + queued;
    els.gps.dataset.state = S.gps;
    if (S.gps === 'denied') {
      els.gpsHint.hidden = false;
    } else {
      els.gpsHint.hidden = true;
    }
  }

  function renderConflicts() {
    const list = conflicts();
    const el = els.conflicts;
    if (!list.length) { el.hidden = true; el.replaceChildren(); return; }
    el.hidden = false;
    mountIfChanged(el,
      h('h2', { id: 'conflicts-title' }, `Xung đột (${list.length})`),
      h('p', { class: 'hint' }, 'Máy chủ đã từ chối các thao tác dưới đây. Hãy kiểm tra, gọi điều phối nếu cần, rồi bỏ thao tác. Các thao tác sau đó của cùng điểm dừng đang được giữ lại.'),
      h('ul', { class: 'list conflict-list' }, list.map((r) => h('li', { class: 'conflict', dataset: { seq: r.seq, conflictTaskId: r.task_id } },
        h('div', { class: 'conflict-head' },
          h('strong', {}, ACTION[r.type] || r.type), ' · ', B.TASK_KIND[r.kind] || r.kind, ' · ',
          h('span', { class: 'code' }, r.tracking_code), r.name ? ` · ${r.name}` : ''),
        h('div', { class: 'muted small-text' }, `Ghi lúc ${B.fmtDateTime(r.body.at)}`),
        h('p', { class: 'conflict-why' }, (r.error && REFUSAL[r.error.status]) || `Máy chủ từ chối (mã ${(r.error && r.error.status) || '?'}).`),
        h('p', { class: 'error conflict-detail' }, `Máy chủ trả lời: ${(r.error && r.error.detail) || 'bị từ chối'}`),
        r.error && r.error.errors && r.error.errors.length ? h('ul', { class: 'conflict-errors' }, r.error.errors.map((m) => h('li', {}, m))) : null,
        S.confirmDiscard === r.seq
          ? h('div', { class: 'actions' },
            h('button', { type: 'button', class: 'danger', 'data-discard-confirm': String(r.seq), onclick: () => discard(r.seq).catch(toastError) }, 'Chắc chắn bỏ'),
            h('button', { type: 'button', onclick: () => { S.confirmDiscard = null; renderConflicts(); } }, 'Không'))
          : h('div', { class: 'actions' },
            h('button', { type: 'button', class: 'danger', 'data-discard': String(r.seq), onclick: () => { S.confirmDiscard = r.seq; renderConflicts(); } }, 'Bỏ thao tác này'),
            h('button', { type: 'button', 'data-retry': String(r.seq), onclick: () => retryConflict(r.seq).catch(toastError) }, 'Gửi lại'))))));
  }

  // ---------- the list ----------

  function currentStopId() {
    const m = /^#\/stop\/(\d+)$/.exec(location.hash);
    return m ? Number(m[1]) : null;
  }

  function renderView() {
    if (!els || !S.me) return;
    if (S.receipt) { renderReceipt(); return; }
    const id = currentStopId();
    if (id !== null) renderDetail(id);
    else renderList();
  }

  function startPoint() {
    const po = S.ref.post_office;
    return hasPoint(po) ? { lat: po.lat, lon: po.lon, label: 'bưu cục' } : null;
  }

  function statusBadges(ev) {
    const out = [];
    if (ev.waiting) {
      const n = Math.max(ev.stop.attempts || 0, 1);
      out.push(h('span', { class: 'badge status bad', dataset: { status: 'failed' } }, `Không thành công${n > 1 ? ` (${n} lần)` : ''} · chờ hẹn lại`));
    } else if (ev.rebooked) {
      out.push(h('span', { class: 'badge status info', dataset: { status: 'rebooked' } }, 'Đã hẹn lại'));
    } else {
      const label = B.TASK_STATUS[ev.status] || ev.status;
      out.push(h('span', { class: ['badge', 'status', STATUS_BADGE[ev.status]], dataset: { status: ev.status } }, label));
    }
    if (ev.pending.length) out.push(h('span', { class: 'badge pending', title: 'Đã lưu trên máy, chưa gửi lên máy chủ' }, ev.held ? 'chờ gửi (đang giữ)' : 'chờ gửi'));
    if (ev.conflict.length) out.push(h('span', { class: 'badge bad conflict' }, 'xung đột'));
    return out;
  }

  function renderList() {
    const date = S.date;
    const route = S.routes[date];
    const { shown: stops, hidden: hiddenDropoffs } = visibleStops((route && route.stops) || []);
    const today = B.today();
    const next = tomorrow();
    const dayBtn = (d, label) => h('button', {
      type: 'button', class: d === date ? 'primary' : '', 'aria-pressed': d === date ? 'true' : 'false', dataset: { date: d },
      onclick: () => { if (S.date !== d) { S.date = d; render(); refreshRoute(d); } },
    }, `${label} ${dayLabel(d).slice(0, 5)}`);

    // Legs: from the post office (or the GPS fix) to stop 1, then stop to stop.
    const start = startPoint();
    let prev = start;
    let total = 0;
    const legs = stops.map((s) => {
      const leg = hasPoint(s) && prev ? haversine(prev, s) : null;
      if (leg !== null) total += leg;
      const from = prev && prev.label ? prev.label : 'điểm trước';
      if (hasPoint(s)) prev = s;
      return { leg, from };
    });
    const fix = S.fix && Date.now() - S.fix.t < 10 * 60e3 ? S.fix : null;

    const items = stops.map((s, i) => {
      const ev = effective(s);
      const agency = atAgency(s) ? agencyOf(s) : null;
      const who = agency ? agency.name : (s.citizen_first_name || '—');
      const meta = [];
      if (s.window && s.window.from) meta.push(h('span', { class: 'win' }, `Khung giờ ${B.fmtTime(s.window.from)}–${B.fmtTime(s.window.to)}`));
      if (s.eta) meta.push(h('span', { class: 'eta' }, `Dự kiến ${B.fmtTime(s.eta)}`));
      const dist = [];
      if (legs[i].leg !== null) dist.push(h('span', { class: 'leg' }, `${B.km(legs[i].leg)} từ ${legs[i].from}`));
      if (fix && hasPoint(s)) dist.push(h('span', { class: 'from-me' }, `cách bạn ${B.km(haversine(fix, s))}`));
      return h('li', { class: ['stop', `kind-${s.kind}`, `st-${ev.waiting ? 'failed' : ev.status}`], dataset: { taskId: s.id, status: ev.waiting ? 'failed' : ev.status, kind: s.kind } },
        h('a', {
          class: 'stop-link', href: `#/stop/${s.id}`,
          'aria-label': [`Điểm ${i + 1}: ${B.TASK_KIND[s.kind] || s.kind}`, who, agency ? agency.address : addressText(s),
            B.TASK_STATUS[ev.status] || ev.status, ev.pending.length ? 'chờ gửi' : '', ev.conflict.length ? 'xung đột' : '',
            s.window && s.window.from ? `khung giờ ${B.fmtTime(s.window.from)} đến ${B.fmtTime(s.window.to)}` : ''].filter(Boolean).join(', '),
        },
          h('div', { class: 'stop-head' },
            h('span', { class: 'stop-no', 'aria-hidden': 'true' }, String(i + 1)),
            h('span', { class: 'badge kind' }, B.TASK_KIND[s.kind] || s.kind),
            statusBadges(ev)),
          h('div', { class: 'stop-who' }, h('strong', {}, who), ' ', h('span', { class: 'code' }, s.tracking_code)),
          h('div', { class: 'stop-addr' }, agency ? agency.address : addressText(s)),
          meta.length ? h('div', { class: 'stop-meta' }, meta) : null,
          dist.length ? h('div', { class: 'stop-dist' }, dist) : null),
        !agency && s.phone ? h('a', { class: 'button call', href: `tel:${s.phone}`, 'aria-label': `Gọi ${s.citizen_first_name || 'người dân'} ${phoneText(s.phone)}` }, 'Gọi') : null);
    });

    const doneToday = date === today ? S.done.filter((d) => d.at.slice(0, 10) === today) : [];
    const summary = stops.length
      ? `${stops.length} điểm dừng · tổng ≈ ${B.km(total)} (đường chim bay${start ? ', từ bưu cục' : ''})`
      : '';
    let empty = null;
    if (!stops.length) {
      if (!route) empty = h('p', { class: 'muted empty' }, navigator.onLine ? 'Đang tải tuyến…' : 'Chưa có dữ liệu tuyến của ngày này trên máy. Hãy mở lại khi có mạng.');
      else empty = h('p', { class: 'muted empty' }, 'Không có điểm dừng nào trong ngày này.');
    }
    const doneOpen = !!els.view.querySelector('details.done-list[open]');
    mountIfChanged(els.view,
      h('div', { class: 'day-switch', role: 'group', 'aria-label': 'Chọn ngày' }, dayBtn(today, 'Hôm nay'), dayBtn(next, 'Ngày mai'),
        h('button', { type: 'button', class: 'reload', 'aria-label': 'Tải lại tuyến', onclick: () => { refreshRoute(S.date); loadRef(); } }, '↻')),
      h('h1', { class: 'route-title' }, `Tuyến ngày ${dayLabel(date)}`),
      summary ? h('p', { class: 'route-summary', id: 'route-summary' }, summary) : null,
      hiddenDropoffs ? h('p', { class: 'hint', id: 'hidden-dropoffs' }, `${hiddenDropoffs} điểm nộp cơ quan tạm ẩn: chưa lấy được hồ sơ.`) : null,
      empty,
      stops.length ? h('ol', { class: 'stops', id: 'stops' }, items) : null,
      doneToday.length ? h('details', { class: 'done-list', open: doneOpen },
        h('summary', {}, `Đã xong hôm nay (${doneToday.length})`),
        h('ul', { class: 'list' }, doneToday.map((d) => h('li', { dataset: { doneTaskId: d.task_id } },
          h('strong', {}, ACTION[d.type] || d.type), ` · ${B.TASK_KIND[d.kind] || d.kind} · `, h('span', { class: 'code' }, d.code),
          d.name ? ` · ${d.name}` : '', ` · ${B.fmtTime(d.at)}`)))) : null);
  }

  // ---------- one stop ----------

  function findStop(id) {
    for (const d of [S.date, ...Object.keys(S.routes)]) {
      const r = S.routes[d];
      const s = r && r.stops && r.stops.find((x) => x.id === id);
      if (s) return s;
    }
    return null;
  }

  function mapLinks(stop) {
    if (!hasPoint(stop)) return null;
    const { lat, lon } = stop;
    return h('div', { class: 'maps', role: 'group', 'aria-label': 'Mở bản đồ' },
      h('a', { class: 'button', href: `geo:${lat},${lon}?q=${lat},${lon}`, 'data-map': 'geo' }, 'Ứng dụng bản đồ'),
      h('a', { class: 'button', href: `https://www.google.com/maps/search/?api=1&query=${lat},${lon}`, target: '_blank', rel: 'noopener', 'data-map': 'google' }, 'Google Maps'),
      h('a', { class: 'button', href: `https://www.openstreetmap.org/?mlat=${lat}&mlon=${lon}#map=17/${lat}/${lon}`, target: '_blank', rel: 'noopener', 'data-map': 'osm' }, 'OpenStreetMap'));
  }

  function renderDetail(id) {
    const stop = findStop(id);
    if (!stop && !Object.keys(S.routes).length) {
      B.mount(els.view, h('p', { class: 'loading' }, 'Đang tải…'));
      return;
    }
    if (!stop) {
      S.form = null;
      const done = S.done.find((d) => d.task_id === id);
      B.mount(els.view,
        h('button', { type: 'button', class: 'back', onclick: goList }, '← Danh sách'),
        h('p', { class: 'muted' }, done ? `Điểm dừng này đã xong (${ACTION[done.type] || done.type} lúc ${B.fmtTime(done.at)}).` : 'Điểm dừng này không còn trên tuyến của bạn.'));
      return;
    }
    const ev = effective(stop);
    const existing = els.view.querySelector(`.stop-detail[data-task-id="${id}"]`);
    if (S.form && existing) {
      // A form is open: keep what the courier typed, refresh only the status line.
      const line = existing.querySelector('.detail-status');
      if (line) B.mount(line, statusBadges(ev));
      return;
    }
    const info = S.dossiers[stop.tracking_code] || null;
    const agency = atAgency(stop) ? agencyOf(stop) : null;
    const fix = S.fix && Date.now() - S.fix.t < 10 * 60e3 ? S.fix : null;
    // Up top: who, where, when; then the actions; the rest below.
    const when = [];
    if (stop.window && stop.window.from) when.push(h('span', { class: 'win' }, `Khung giờ ${B.fmtTime(stop.window.from)}–${B.fmtTime(stop.window.to)}`));
    if (stop.eta) when.push(h('span', {}, `Dự kiến ${B.fmtTime(stop.eta)}`));
    if (fix && hasPoint(stop)) when.push(h('span', {}, `cách bạn ${B.km(haversine(fix, stop))}`));
    const top = h('div', { class: 'stop-top' },
      agency ? h('div', { class: 'agency' }, h('strong', {}, agency.name), h('div', {}, agency.address || ''),
        agency.opening_hours ? h('div', { class: 'muted small-text' }, agency.opening_hours) : null) : null,
      h('div', { class: 'who-row' },
        h('div', {}, h('div', { class: 'muted small-text' }, 'Người dân'), h('strong', { class: 'citizen' }, stop.citizen_name || stop.citizen_first_name || '—'),
          stop.phone ? h('div', {}, h('a', { href: `tel:${stop.phone}`, class: 'tel' }, phoneText(stop.phone))) : null),
        stop.phone ? h('a', { class: 'button call-big', href: `tel:${stop.phone}`, 'aria-label': `Gọi ${stop.citizen_first_name || 'người dân'} ${phoneText(stop.phone)}` }, 'Gọi') : null),
      h('div', { class: 'addr' }, agency ? h('span', { class: 'muted small-text' }, 'Địa chỉ người dân: ') : null, addressText(stop) || '—'),
      when.length ? h('div', { class: 'stop-meta' }, when) : null,
      info && info.note ? h('p', { class: 'stop-note' }, h('strong', {}, 'Ghi chú: '), info.note) : null);
    const facts = [];
    const fact = (k, ...v) => facts.push(h('dt', {}, k), h('dd', {}, ...v));
    if (stop.window && stop.window.from) fact('Khung giờ', B.fmtWindow(stop.window));
    if (info && info.procedure_code) fact('Thủ tục', S.ref.procedures[info.procedure_code] || info.procedure_code);
    if (stop.kind === 'pickup' && info && info.fees) fact('Phí cần thu', B.money(info.fees.total_vnd), h('div', { class: 'muted small-text' }, `cước ${B.money(info.fees.postal_fee_vnd)} + lệ phí ${B.money(info.fees.agency_fee_vnd)}`));
    if (stop.attempts) fact('Lần thất bại trước', String(stop.attempts));
    const waitNote = ev.waiting && !ev.pending.length
      ? h('p', { class: 'notice warn', id: 'failed-note' }, 'Lần trước không thành công. Tổng đài sẽ hẹn lại với người dân; chỉ làm lại khi có giờ hẹn mới hoặc người dân gọi lại.')
      : null;
    fact('Trạng thái hồ sơ', B.statusLabel(dossierStatus(stop)));

    const docs = stop.required_documents || [];
    const actions = allowedActions(stop, ev.status);
    const ready = isReady(stop);
    let actionArea;
    if (ev.conflict.length) {
      actionArea = h('p', { class: 'error' }, 'Một thao tác trước của điểm này bị máy chủ từ chối. Xem mục “Xung đột” ở đầu trang.');
    } else if (!actions.length) {
      actionArea = h('p', { class: 'muted' }, ev.status === 'done' ? 'Điểm dừng này đã xong.' : ev.status === 'failed' ? 'Đã ghi nhận không thành công.' : 'Không có thao tác nào cho điểm này.');
    } else {
      actionArea = h('div', {},
        ready ? null : h('p', { class: 'hint warn-text' }, NOT_READY_HINT[stop.kind] || 'Chưa thể làm điểm này.'),
        h('div', { class: 'actions action-buttons' }, actions.map((a) => h('button', {
          type: 'button', dataset: { action: a }, disabled: !ready,
          class: a === 'failed' ? 'danger' : a === 'arrived' ? '' : 'primary',
          'aria-expanded': S.form && S.form.type === a ? 'true' : 'false',
          onclick: () => openForm(findStop(stop.id) || stop, a),
        }, ACTION[a]))));
    }
    const article = h('article', { class: 'stop-detail', dataset: { taskId: stop.id, status: ev.status, kind: stop.kind } },
      h('button', { type: 'button', class: 'back', onclick: goList }, '← Danh sách'),
      h('h1', {}, `${B.TASK_KIND[stop.kind] || stop.kind} · `, h('span', { class: 'code' }, stop.tracking_code)),
      h('div', { class: 'detail-status' }, statusBadges(ev)),
      top,
      waitNote,
      h('section', { class: 'stop-actions', 'aria-label': 'Thao tác' }, actionArea,
        h('div', { id: 'form-slot' })),
      mapLinks(stop),
      stop.kind === 'pickup' && docs.length ? h('section', { class: 'docs' },
        h('h2', {}, 'Giấy tờ cần nhận'),
        h('ul', { class: 'doc-list' }, docs.map((d) => h('li', {}, d)))) : null,
      h('dl', { class: 'facts' }, facts));
    mountIfChanged(els.view, article);
    if (S.form && S.form.taskId === stop.id && actions.includes(S.form.type) && ready && !ev.conflict.length) {
      openForm(stop, S.form.type);
    } else {
      S.form = null;
    }
  }

  /** After a pickup: what the courier took, to show (or read) to the citizen at the door. */
  function renderReceipt() {
    const r = S.receipt;
    if (!r) return;
    const unsent = recordsOf(r.task_id).some((x) => x.type === 'picked_up' && x.state !== 'conflict');
    mountIfChanged(els.view, h('article', { class: 'receipt', id: 'pickup-receipt', dataset: { trackingCode: r.code } },
      h('h1', {}, 'Biên nhận lấy hồ sơ'),
      unsent ? h('span', { class: 'badge pending' }, 'chờ gửi') : h('span', { class: 'badge ok' }, 'Đã gửi lên máy chủ'),
      h('p', {}, 'Cho người dân xem màn hình này (hoặc đọc to) trước khi đi.'),
      h('dl', { class: 'facts' },
        h('dt', {}, 'Mã tra cứu'), h('dd', { class: 'code receipt-code' }, r.code),
        h('dt', {}, 'Người gửi'), h('dd', {}, r.name),
        h('dt', {}, 'Lúc'), h('dd', {}, B.fmtDateTime(r.at)),
        h('dt', {}, 'Số niêm phong'), h('dd', { id: 'receipt-seal' }, r.seal),
        h('dt', {}, 'Đã thu'), h('dd', { id: 'receipt-fees' }, r.fees !== undefined ? B.money(r.fees) : '—')),
      h('h2', {}, `Giấy tờ đã nhận (${r.docs.length})`),
      h('ul', { class: 'doc-list', id: 'receipt-docs' }, r.docs.map((d) => h('li', {}, d))),
      r.missing.length ? h('p', { class: 'notice warn' }, `Còn thiếu, người dân cần bổ sung: ${r.missing.join('; ')}`) : null,
      h('p', { class: 'hint' }, `Người dân tra cứu tại trang /track bằng mã ${r.code}; tin nhắn xác nhận được gửi khi máy chủ nhận.`),
      h('button', { type: 'button', class: 'primary big', id: 'receipt-done', onclick: () => { S.receipt = null; goList(); } }, 'Xong, sang điểm tiếp')));
  }

  /** Back to the list: the browser's back when the stop was opened from it. */
  function goList() {
    S.form = null;
    if (currentStopId() === null) { renderView(); return; }
    if (cameFromList) {
      cameFromList = false;
      history.back(); // hashchange draws the list
    } else {
      history.replaceState(null, '', location.pathname + location.search);
      renderView();
      window.scrollTo(0, S.listScroll || 0);
    }
  }

  // ---------- action forms ----------

  function field(id, label, input, hint) {
    return h('div', { class: 'field', dataset: { field: input.name || id } },
      h('label', { for: id }, label), input, hint ? h('p', { class: 'hint', id: `${id}-hint` }, hint) : null);
  }

  function noteField(required) {
    return field('note', required ? 'Ghi chú (bắt buộc với “Lý do khác”)' : 'Ghi chú (không bắt buộc)',
      h('textarea', { id: 'note', name: 'note', maxlength: 500, rows: 2 }));
  }

  /** A signature pad on a canvas, drawn with the finger (pointer events). */
  function signaturePad() {
    const canvas = h('canvas', { id: 'signature', class: 'signature', role: 'img', 'aria-label': 'Khung ký tên: người dân ký bằng ngón tay vào đây', tabindex: '0' });
    let ctx = null;
    let ink = false;
    let drawing = false;
    let last = null;
    const size = () => {
      const ratio = Math.min(window.devicePixelRatio || 1, 2);
      const w = Math.max(200, Math.round(canvas.clientWidth || 320));
      const hgt = Math.round(canvas.clientHeight || 160);
      canvas.width = Math.round(w * ratio);
      canvas.height = Math.round(hgt * ratio);
      ctx = canvas.getContext('2d');
      ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
      ctx.lineWidth = 2.6;
      ctx.lineCap = 'round';
      ctx.lineJoin = 'round';
      ctx.strokeStyle = '#111';
      ink = false;
    };
    const point = (e) => {
      const r = canvas.getBoundingClientRect();
      return { x: e.clientX - r.left, y: e.clientY - r.top };
    };
    canvas.addEventListener('pointerdown', (e) => {
      if (!ctx) size();
      e.preventDefault();
      drawing = true;
      last = point(e);
      try { canvas.setPointerCapture(e.pointerId); } catch (_) { /* synthetic */ }
      ctx.beginPath();
      ctx.arc(last.x, last.y, 1.2, 0, Math.PI * 2);
      ctx.fillStyle = '#111';
      ctx.fill();
      ink = true;
    });
    canvas.addEventListener('pointermove', (e) => {
      if (!drawing) return;
      e.preventDefault();
      const events = e.getCoalescedEvents ? e.getCoalescedEvents() : [e];
      ctx.beginPath();
      ctx.moveTo(last.x, last.y);
      for (const ce of (events.length ? events : [e])) {
        const p = point(ce);
        ctx.lineTo(p.x, p.y);
        last = p;
      }
      ctx.stroke();
      ink = true;
    });
    const end = () => { drawing = false; last = null; };
    canvas.addEventListener('pointerup', end);
    canvas.addEventListener('pointercancel', end);
    canvas.addEventListener('lostpointercapture', end);
    const clear = h('button', { type: 'button', id: 'signature-clear', class: 'small', onclick: () => { size(); } }, 'Xóa');
    return {
      el: h('div', { class: 'field signature-field', dataset: { field: 'proof.signature_png' } },
        h('div', { class: 'label-row' }, h('span', { class: 'label', id: 'signature-label' }, 'Chữ ký người dân'), clear),
        canvas,
        h('p', { class: 'hint' }, 'Ký trong khung. Nhấn “Xóa” để ký lại.')),
      init: size,
      hasInk: () => ink,
      /** PNG base64 without the `data:` prefix, at most 600 px wide, on white. */
      png: () => {
        if (!ink) return null;
        const scale = Math.min(1, 600 / canvas.width);
        const out = document.createElement('canvas');
        out.width = Math.round(canvas.width * scale);
        out.height = Math.round(canvas.height * scale);
        const o = out.getContext('2d');
        o.fillStyle = '#fff';
        o.fillRect(0, 0, out.width, out.height);
        o.drawImage(canvas, 0, 0, out.width, out.height);
        return out.toDataURL('image/png').split(',')[1];
      },
    };
  }

  /** Reads a camera photo and makes a JPEG of at most 1024 px (base64, no prefix). */
  async function downscale(file) {
    const url = URL.createObjectURL(file);
    try {
      const img = await new Promise((resolve, reject) => {
        const i = new Image();
        i.onload = () => resolve(i);
        i.onerror = () => reject(new Error('Không đọc được ảnh'));
        i.src = url;
      });
      const w0 = img.naturalWidth;
      const h0 = img.naturalHeight;
      if (!w0 || !h0) throw new Error('Không đọc được ảnh');
      for (const [max, q] of [[1024, 0.72], [1024, 0.55], [800, 0.5], [640, 0.45]]) {
        const k = Math.min(1, max / Math.max(w0, h0));
        const c = document.createElement('canvas');
        c.width = Math.round(w0 * k);
        c.height = Math.round(h0 * k);
        const g = c.getContext('2d');
        g.fillStyle = '#fff';
        g.fillRect(0, 0, c.width, c.height);
        g.drawImage(img, 0, 0, c.width, c.height);
        const data = c.toDataURL('image/jpeg', q).split(',')[1] || '';
        if (data.length <= PHOTO_MAX_CHARS) return { data, width: c.width, height: c.height };
      }
      throw new Error('Ảnh quá lớn, hãy chụp lại');
    } finally {
      URL.revokeObjectURL(url);
    }
  }

  function photoField() {
    let photo = null;
    const preview = h('div', { class: 'photo-preview', id: 'photo-preview' });
    const input = h('input', { id: 'photo', name: 'photo', type: 'file', accept: 'image/*', capture: 'environment' });
    const status = h('p', { class: 'hint', id: 'photo-status', 'aria-live': 'polite' }, 'Không bắt buộc. Ảnh được thu nhỏ trước khi lưu.');
    let busy = null;
    input.addEventListener('change', () => {
      const file = input.files && input.files[0];
      photo = null;
      preview.replaceChildren();
      if (!file) return;
      status.textContent = 'Đang xử lý ảnh…';
      busy = downscale(file).then((p) => {
        photo = p;
        status.textContent = `Ảnh ${p.width}×${p.height}, khoảng ${Math.round(p.data.length * 0.75 / 1024)} KB.`;
        B.mount(preview,
          h('img', { src: `data:image/jpeg;base64,${p.data}`, alt: 'Ảnh vừa chụp' }),
          h('button', { type: 'button', class: 'small', id: 'photo-remove', onclick: () => { photo = null; input.value = ''; preview.replaceChildren(); status.textContent = 'Đã bỏ ảnh.'; } }, 'Bỏ ảnh'));
      }).catch((e) => {
        input.value = '';
        status.textContent = e.message;
      }).finally(() => { busy = null; });
    });
    return {
      el: h('div', { class: 'field', dataset: { field: 'proof.photo' } }, h('label', { for: 'photo' }, 'Ảnh chụp (máy ảnh)'), input, status, preview),
      busy: () => busy,
      value: () => photo,
    };
  }

  /** The code the server texts to the citizen: a button to send it, a box for what
   * the citizen reads out. */
  function otpField(stop) {
    const status = h('p', { class: 'hint', id: 'otp-status', role: 'status', 'aria-live': 'polite' });
    const send = h('button', { type: 'button', id: 'otp-send', class: 'small' }, 'Gửi mã OTP');
    send.addEventListener('click', async () => {
      if (!navigator.onLine) { status.textContent = 'Cần có mạng để gửi mã OTP cho người dân.'; return; }
      send.disabled = true;
      status.textContent = 'Đang gửi mã…';
      try {
        const r = await B.api('POST', `/api/v1/tasks/${stop.id}/otp`);
        status.textContent = `${r.message}. Mời người dân đọc mã 6 chữ số vừa nhận.`;
        send.textContent = 'Gửi lại mã';
      } catch (e) {
        status.textContent = e.message || 'Không gửi được mã OTP';
      } finally {
        send.disabled = false;
      }
    });
    const el = field('otp', 'Mã OTP người dân đọc',
      h('input', { id: 'otp', name: 'proof.otp', inputmode: 'numeric', autocomplete: 'one-time-code', maxlength: 8, pattern: '[0-9]{4,8}', required: true, 'aria-describedby': 'otp-hint otp-status' }),
      'Bấm “Gửi mã OTP”: máy chủ nhắn mã tới số điện thoại của hồ sơ; chỉ nhập mã khi người dân đang ở trước mặt bạn.');
    el.querySelector('label').after(send);
    el.append(status);
    return el;
  }

  function openForm(stop, type) {
    const slot = els.view.querySelector('#form-slot');
    if (!slot) return;
    S.form = { taskId: stop.id, type };
    B.$$('[data-action]', els.view).forEach((b) => b.setAttribute('aria-expanded', b.dataset.action === type ? 'true' : 'false'));
    const info = S.dossiers[stop.tracking_code] || null;
    const parts = [];
    let pad = null;
    let photo = null;
    const collect = []; // functions adding to the body; each may throw a field error

    const fieldError = (fieldName, message) => {
      const err = new B.ApiError(422, { errors: [{ field: fieldName, message }] });
      err.message = message;
      return err;
    };
    // The "fees collected" field, prefilled with what the dossier says is due.
    const feesField = () => {
      const fees = info && info.fees ? info.fees.total_vnd : null;
      const known = fees !== null && fees !== undefined;
      return field('fees-collected', 'Số tiền đã thu (đồng)',
        h('input', { id: 'fees-collected', name: 'proof.fees_collected_vnd', inputmode: 'numeric', required: true, autocomplete: 'off', value: known ? String(fees) : '' }),
        known ? `Theo hồ sơ: ${B.money(fees)}. Sửa nếu thu khác.` : 'Nhập số tiền đã thu của người dân, 0 nếu không thu.');
    };
    // The amount typed in the fees field, in đồng.
    const feesOf = (form) => {
      const raw = form.querySelector('#fees-collected').value.replace(/[\s.,₫đ]/g, '');
      if (!/^\d{1,9}$/.test(raw) || Number(raw) > 100000000) throw fieldError('proof.fees_collected_vnd', 'Nhập số tiền bằng chữ số, từ 0 đến 100.000.000');
      return Number(raw);
    };

    if (type === 'arrived') {
      parts.push(h('p', {}, `Xác nhận bạn đã đến ${atAgency(stop) ? 'cơ quan' : 'nhà người dân'}. Thời điểm được ghi là lúc bấm nút.`));
      parts.push(noteField(false));
    } else if (type === 'picked_up') {
      const docs = stop.required_documents || [];
      const boxes = docs.map((d, i) => h('label', { class: 'check', for: `doc-${i}` },
        h('input', { type: 'checkbox', id: `doc-${i}`, name: 'checked-docs', value: d }), d));
      const other = h('input', { id: 'doc-other', name: 'doc_other', maxlength: 200, placeholder: 'Giấy tờ khác (nếu có)' });
      parts.push(h('fieldset', { class: 'field checklist', id: 'proof-docs', dataset: { field: 'proof.checked_documents' } },
        h('legend', {}, 'Giấy tờ đã kiểm đếm (đủ các giấy tờ của thủ tục)'), boxes,
        h('label', { for: 'doc-other', class: 'sr-only' }, 'Giấy tờ khác'), other));
      // Documents the procedure asks for and the citizen lacks: named, and taken only
      // when the courier marks the dossier incomplete and has guided the citizen.
      const missingNote = h('p', { class: 'hint warn', id: 'docs-missing', role: 'status', 'aria-live': 'polite' });
      const shortBox = h('div', { class: 'field incomplete', id: 'incomplete-box', hidden: true, dataset: { field: 'proof.incomplete' } },
        missingNote,
        h('label', { class: 'check', for: 'citizen-guided' }, h('input', { type: 'checkbox', id: 'citizen-guided', name: 'proof.citizen_guided' }), 'Đã hướng dẫn người dân bổ sung giấy tờ còn thiếu'),
        h('label', { class: 'check', for: 'incomplete' }, h('input', { type: 'checkbox', id: 'incomplete', name: 'proof.incomplete' }), 'Vẫn nhận hồ sơ chưa đủ giấy tờ'));
      parts.push(shortBox);
      const missingOf = (form) => {
        const checked = new Set(B.$$('input[name=checked-docs]:checked', form).map((x) => x.value));
        return docs.filter((d) => !checked.has(d));
      };
      const showMissing = (form) => {
        const missing = missingOf(form);
        shortBox.hidden = !missing.length;
        missingNote.textContent = missing.length ? `Còn thiếu: ${missing.join('; ')}.` : '';
      };
      boxes.forEach((b) => b.querySelector('input').addEventListener('change', (e) => showMissing(e.target.form)));
      parts.push(field('seal-number', 'Số niêm phong túi hồ sơ',
        h('input', { id: 'seal-number', name: 'proof.seal_number', required: true, maxlength: 50, autocapitalize: 'characters', autocomplete: 'off' })));
      parts.push(feesField());
      collect.push((body, form) => {
        const checked = B.$$('input[name=checked-docs]:checked', form).map((x) => x.value);
        const extra = form.querySelector('#doc-other').value.trim();
        if (extra) checked.push(extra);
        if (!checked.length) throw fieldError('proof.checked_documents', 'Đánh dấu ít nhất một giấy tờ đã nhận');
        const missing = missingOf(form);
        const guided = form.querySelector('#citizen-guided').checked;
        const incomplete = form.querySelector('#incomplete').checked;
        if (missing.length && !(guided && incomplete)) {
          throw fieldError('proof.incomplete', `Còn thiếu: ${missing.join('; ')}. Hướng dẫn người dân bổ sung; nếu vẫn nhận, đánh dấu cả hai ô bên dưới.`);
        }
        const seal = form.querySelector('#seal-number').value.trim();
        if (!seal) throw fieldError('proof.seal_number', 'Cần số niêm phong');
        if (new TextEncoder().encode(seal).length > 50) throw fieldError('proof.seal_number', 'Số niêm phong quá dài');
        body.proof = Object.assign(body.proof || {}, { checked_documents: checked, seal_number: seal, fees_collected_vnd: feesOf(form) });
        if (missing.length) Object.assign(body.proof, { incomplete: true, citizen_guided: true });
      });
    } else if (type === 'delivered') {
      parts.push(field('receiver-name', 'Họ tên người nhận',
        h('input', { id: 'receiver-name', name: 'proof.receiver_name', required: true, maxlength: 100, autocomplete: 'off' })));
      parts.push(h('p', { class: 'hint' }, `Chỉ giao cho ${stop.citizen_name || 'người đứng tên hồ sơ'} hoặc người được ủy quyền có giấy tờ hợp lệ.`));
      parts.push(field('receiver-id', 'Số định danh (căn cước) người nhận',
        h('input', { id: 'receiver-id', name: 'proof.receiver_id_number', required: true, maxlength: 12, inputmode: 'numeric', autocomplete: 'off', 'aria-describedby': 'receiver-id-hint' }),
        'Ít nhất 4 chữ số cuối trên căn cước của người nhận, hoặc đủ 12 chữ số.'));
      // A return-only dossier is paid for at the door when its result arrives.
      const paysNow = Boolean(info && info.service === 'return');
      if (paysNow) parts.push(feesField());
      collect.push((body, form) => {
        if (paysNow) body.proof = Object.assign(body.proof || {}, { fees_collected_vnd: feesOf(form) });
        const name = form.querySelector('#receiver-name').value.trim();
        if (!name) throw fieldError('proof.receiver_name', 'Cần họ tên người nhận');
        const idn = form.querySelector('#receiver-id').value.replace(/\s/g, '');
        if (!/^\d{4,12}$/.test(idn)) throw fieldError('proof.receiver_id_number', 'Nhập ít nhất 4 chữ số cuối (hoặc đủ 12 chữ số) của số định danh người nhận');
        body.proof = Object.assign(body.proof || {}, { receiver_name: name, receiver_id_number: idn });
      });
    } else if (type === 'failed') {
      parts.push(field('fail-reason', 'Lý do không thành công',
        h('select', { id: 'fail-reason', name: 'reason', required: true },
          h('option', { value: '' }, '— Chọn lý do —'),
          Object.entries(B.FAIL_REASON).map(([v, l]) => h('option', { value: v }, l)))));
      parts.push(noteField(true));
      collect.push((body, form) => {
        const reason = form.querySelector('#fail-reason').value;
        if (!reason) throw fieldError('reason', 'Chọn lý do');
        body.reason = reason;
        if (reason === 'other' && !form.querySelector('#note').value.trim()) throw fieldError('note', 'Ghi rõ lý do trong ghi chú');
      });
    } else {
      const what = type === 'handed_over' ? 'đã nộp hồ sơ cho bộ phận một cửa của cơ quan' : 'đã nhận kết quả tại cơ quan';
      parts.push(h('p', {}, `Xác nhận bạn ${what}. Thời điểm được ghi là lúc bấm nút.`));
      parts.push(noteField(false));
    }

    if (type === 'picked_up' || type === 'delivered') {
      pad = signaturePad();
      photo = photoField();
      const byOtp = stop.evidence === 'otp';
      parts.push(h('fieldset', { class: 'field evidence', dataset: { field: 'proof' } },
        h('legend', {}, byOtp ? 'Xác nhận của người dân: mã OTP qua SMS' : 'Xác nhận của người dân: chữ ký'),
        byOtp ? otpField(stop) : null, pad.el));
      parts.push(photo.el);
      collect.push((body, form) => {
        const box = form.querySelector('#otp');
        const otp = box ? box.value.trim() : '';
        if (byOtp && !/^\d{4,8}$/.test(otp)) throw fieldError('proof.otp', 'Nhập mã OTP (6 chữ số) người dân nhận qua SMS');
        const sig = pad.png();
        if (!byOtp && !sig) throw fieldError('proof.signature_png', 'Cần chữ ký của người dân');
        body.proof = body.proof || {};
        if (otp) body.proof.otp = otp;
        if (sig) body.proof.signature_png = sig;
        const p = photo.value();
        if (p) body.proof.photo = p.data;
      });
    }

    collect.push((body, form) => {
      const note = form.querySelector('#note');
      const v = note ? note.value.trim() : '';
      if (v) body.note = v.replace(/[\u0000-\u001f\u007f-\u009f]+/g, ' ').slice(0, 500);
    });
    if (type === 'picked_up' || type === 'delivered') parts.push(noteField(false));

    const submit = h('button', { type: 'submit', id: 'submit-action', class: type === 'failed' ? 'danger-solid' : 'primary' }, `Xác nhận: ${ACTION[type]}`);
    const form = h('form', { id: 'action-form', class: 'card action-form', dataset: { type }, novalidate: true, 'aria-labelledby': 'action-form-title' },
      h('h2', { id: 'action-form-title' }, ACTION[type]),
      parts,
      h('div', { class: 'actions' }, submit,
        h('button', { type: 'button', id: 'cancel-action', onclick: () => { S.form = null; slot.replaceChildren(); B.$$('[data-action]', els.view).forEach((b) => b.setAttribute('aria-expanded', 'false')); } }, 'Hủy')));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      if (submit.disabled) return;
      const tappedAt = new Date();
      B.clearFieldErrors(form);
      submit.disabled = true;
      try {
        if (photo && photo.busy()) await photo.busy(); // a photo still being shrunk
        const body = {};
        for (const step of collect) step(body, form);
        const fields = {};
        for (const k of ['note', 'reason', 'proof']) if (body[k] !== undefined) fields[k] = body[k];
        S.warnIfUnsent = true;
        record(stop, type, fields, tappedAt);
        S.form = null;
        if (type === 'failed') {
          S.failures[stop.id] = { at: tappedAt.toISOString(), window_from: stop.window ? stop.window.from : null };
          saveFailures();
        }
        // Kept on the phone only is not a success yet: say so in the warning colour.
        const offline = !navigator.onLine || !!S.netError;
        const sent = offline ? 'chưa gửi được — sẽ tự gửi khi có mạng.' : 'đang gửi…';
        B.toast(`Đã lưu “${ACTION[type]}” trên máy, ${sent}`, offline ? 'warn' : 'ok');
        if (type === 'arrived') {
          renderView();
        } else if (type === 'picked_up') {
          const p = fields.proof || {};
          S.receipt = {
            task_id: stop.id, code: stop.tracking_code, name: stop.citizen_name || stop.citizen_first_name || '',
            docs: p.checked_documents || [], missing: p.incomplete ? (stop.required_documents || []).filter((d) => !(p.checked_documents || []).includes(d)) : [],
            seal: p.seal_number || '', fees: p.fees_collected_vnd, at: tappedAt.toISOString(),
          };
          renderReceipt();
        } else {
          goList();
        }
      } catch (ex) {
        submit.disabled = false;
        if (ex instanceof B.ApiError) B.showFieldErrors(form, ex);
        else toastError(ex);
      }
    });
    B.mount(slot, form);
    if (pad) pad.init();
    const first = form.querySelector('input:not([type=checkbox]):not([type=file]), select, textarea');
    if (type === 'picked_up') {
      const box = form.querySelector('input[type=checkbox]');
      if (box) box.focus({ preventScroll: true });
    } else if (first && type !== 'arrived' && type !== 'handed_over' && type !== 'collected') {
      first.focus({ preventScroll: true });
    }
    form.scrollIntoView({ block: 'start', behavior: 'smooth' });
  }

  // ---------- start and stop ----------

  function stop() {
    for (const t of S.timers) clearInterval(t);
    S.timers = [];
    stopGps();
    S.me = null;
    S.form = null;
    els = null;
  }

  async function begin(me) {
    if (S.me) stop();
    S.me = me;
    S.date = B.today();
    S.routes = {};
    S.outbox = [];
    S.inflight = [];
    S.dossiers = {};
    S.ref = { post_office: null, agencies: [], wards: {}, procedures: {}, fetched: 0 };
    S.done = [];
    S.fixes = [];
    S.fix = null;
    S.lastQueued = null;
    S.gps = 'off';
    positionsRefused = false;
    buildShell();
    try {
      await loadLocal();
    } catch (e) {
      console.warn('Không đọc được dữ liệu đã lưu', e);
    }
    if (!S.me) return;
    render();
    startGps();
    flush();
    sendFixes();
    refreshRoute(S.date);
    loadRef();
    if (navigator.storage && navigator.storage.persist) navigator.storage.persist().catch(() => {});
    S.timers.push(setInterval(() => { if (pendingCount()) flush(); }, FLUSH_EVERY_MS));
    S.timers.push(setInterval(sendFixes, POSITIONS_EVERY_MS));
    S.timers.push(setInterval(() => {
      if (document.visibilityState === 'visible' && navigator.onLine) refreshRoute(S.date);
      if (S.date < B.today()) { S.date = B.today(); render(); }
    }, ROUTE_EVERY_MS));
  }

  window.addEventListener('online', () => {
    if (!S.me) return;
    S.netError = null;
    renderBar();
    flush();
    sendFixes();
    refreshRoute(S.date);
  });
  window.addEventListener('offline', () => { if (S.me) { renderBar(); renderView(); } });
  document.addEventListener('visibilitychange', () => {
    if (!S.me || document.visibilityState !== 'visible') return;
    flush();
    sendFixes();
    const r = S.routes[S.date];
    if (!r || Date.now() - r.fetched_at > 60000) refreshRoute(S.date);
  });
  let cameFromList = false;
  let shownId = currentStopId();
  window.addEventListener('hashchange', () => {
    const id = currentStopId();
    if (id !== null && shownId === null) cameFromList = true;
    if (id === null) cameFromList = false;
    shownId = id;
    if (!S.me) return;
    if (id === null) {
      S.form = null;
      renderView();
      window.scrollTo(0, S.listScroll || 0);
    } else {
      if (S.form && S.form.taskId !== id) S.form = null;
      renderView();
      window.scrollTo(0, 0);
    }
  });
  window.addEventListener('scroll', () => { if (currentStopId() === null) S.listScroll = window.scrollY; }, { passive: true });

  // Logging out stops GPS and timers; warn first when actions are not sent yet.
  const loggedOut = B.onLoggedOut;
  B.onLoggedOut = () => { stop(); loggedOut(); };
  const logout = B.logout;
  B.logout = async () => {
    const n = pendingCount() + conflicts().length;
    if (n && !window.confirm(`Còn ${n} thao tác chưa gửi được lên máy chủ. Chúng vẫn được giữ trên máy này và sẽ gửi khi bạn đăng nhập lại. Vẫn đăng xuất?`)) return;
    await logout();
  };

  // ---------- the service worker ----------

  if ('serviceWorker' in navigator) {
    const hadController = !!navigator.serviceWorker.controller;
    navigator.serviceWorker.register('/courier/sw.js', { scope: '/courier' }).catch((e) => console.warn('Không đăng ký được service worker', e));
    navigator.serviceWorker.addEventListener('controllerchange', () => {
      if (hadController) B.toast('Ứng dụng đã có bản mới: tải lại trang khi rảnh tay để dùng.', 'info');
    });
  }

  B.requireLogin(['courier'], (me) => { begin(me).catch(toastError); });
})();
