// Buuta: the operator page — the hotline intake console, built for speed during a call.
//
// Selectors for end-to-end tests (all inside <main id="app">):
//   form#intake-form                 the intake form (data-idempotency-key = key of this call)
//   #phone                           caller's phone; blur/Enter looks the citizen up
//   #citizen-status                  lookup result (data-state = idle|loading|found|new|invalid|error)
//   #addresses .address-choice       one-click earlier addresses (data-ward-code, data-street)
//   #previous-dossiers li            the caller's earlier dossiers (data-tracking-code)
//   #full_name, #id_number           citizen
//   #province                        province select (default: the agencies' province, 82)
//   #ward  + #ward-list [role=option] ward combobox (data-ward-code on #ward once chosen; option data-code)
//   #street                          street line
//   #pin-details                     <details> with the pin map; #pin-map (svg), #lat, #lon,
//                                    #clear-pin ("Dùng vị trí ước tính"), #pin-zoom-in, #pin-zoom-out
//   #procedure + #procedure-list [role=option] procedure combobox (data-code on #procedure once chosen)
//   #procedure-info, #required-docs li   fee, processing days, required documents
//   #agency                          agency select (value = agency id)
//   #service                         send | return | both
//   #return_method                   home | counter
//   #pickup-window                   group; #pickup-date, #pickup-from, #pickup-to,
//                                    .slot[data-slot=morning|afternoon] preset buttons (aria-pressed)
//   #note
//   #quote                           live quote ("Tạm tính"): #fee-postal, #fee-agency, #fee-total (data-vnd)
//   #submit                          create (also Ctrl+Enter anywhere on the page)
//   .field-error                     error messages, next to [data-field="citizen.phone" | "citizen.full_name" |
//                                    "citizen.id_number" | "address.ward_code" | "address.street" | "address.lat" |
//                                    "address.lon" | "procedure_code" | "agency_id" | "service" | "return_method" |
//                                    "pickup_window" | "note"]
//   #result                          after success: #tracking-code (text = code), #result-fees, #result-window,
//                                    #print-receipt, #receipt-download (a[download], once fetched), #new-call
//   #recent-list li                  today's latest requests (data-tracking-code); #recent-refresh
(function () {
  'use strict';

  const B = window.Buuta;
  const h = B.h;

  const FALLBACK_PROVINCE = '82';
  // Mirrors the server defaults (BUUTA_FEE_SEND_VND / BUUTA_FEE_RETURN_VND); the server's
  // own figure on the created dossier is the one that counts, so the page says "Tạm tính".
  const TARIFF = { send: 15000, ret: 10000 };
  const SLOTS = [
    { id: 'morning', label: 'Sáng', from: '08:00', to: '11:00' },
    { id: 'afternoon', label: 'Chiều', from: '13:30', to: '17:00' },
  ];
  const SERVICES = [
    ['both', 'Lấy hồ sơ và trả kết quả'],
    ['send', 'Chỉ lấy hồ sơ đi nộp'],
    ['return', 'Chỉ nhận và trả kết quả'],
  ];
  const RETURN_METHODS = [['home', 'Trả kết quả tại nhà'], ['counter', 'Nhận kết quả tại quầy']];
  const LEVEL = { province: 'cấp tỉnh', commune: 'cấp xã' };
  const MAX_OPTIONS = 50;

  // Reference data, loaded once per page.
  const ref = {
    provinces: [],
    wardIndex: new Map(), // code → ward, for every province list loaded
    wardLists: new Map(), // province code → Promise<ward[]>
    wardSearch: new Map(), // `${province}|${q}` → Promise<ward[]>
    agencies: [],
    postOffices: [],
    zones: [],
    procedures: null, // Promise<procedure[]> (all, for the empty query)
    holidays: new Set(),
    defaultProvince: FALLBACK_PROVINCE,
  };

  // ---------- small helpers ----------

  /** Lower case, no diacritics, single spaces: "Cao Lãnh" → "cao lanh". */
  const fold = (s) => String(s || '').normalize('NFD').replace(/[\u0300-\u036f]/g, '')
    .replace(/đ/g, 'd').replace(/Đ/g, 'd').toLowerCase().replace(/\s+/g, ' ').trim();

  /** Vietnamese phone in national form (as the server normalises it), or null. */
  function normPhone(raw) {
    const s = String(raw || '').trim();
    if (!s) return null;
    const plus = s.startsWith('+');
    const rest = plus ? s.slice(1) : s;
    if (/[^0-9 .()-]/.test(rest)) return null;
    const d = rest.replace(/[^0-9]/g, '');
    let nsn;
    if (!plus && d.startsWith('0')) nsn = d.slice(1);
    else if (d.startsWith('84')) nsn = d.slice(2).replace(/^0/, '');
    else return null;
    const national = '0' + nsn;
    if (/^[35789]/.test(nsn)) return national.length === 10 ? national : null;
    if (/^2/.test(nsn)) return national.length === 11 ? national : null;
    return null;
  }

  const { addDays, weekday } = B;
  const WEEKDAY = ['Chủ nhật', 'Thứ Hai', 'Thứ Ba', 'Thứ Tư', 'Thứ Năm', 'Thứ Sáu', 'Thứ Bảy'];
  const isWorkingDay = (day) => B.isWorkingDay(day, ref.holidays);
  const fmtDay = (day) => { const [y, m, d] = day.split('-'); return `${WEEKDAY[weekday(day)]}, ${d}/${m}/${y}`; };
  const minutes = (hhmm) => { const [a, b] = hhmm.split(':').map(Number); return a * 60 + b; };

  /** The next working-day slot starting at least 30 minutes from now. */
  function nextSlot() {
    let day = B.today();
    for (let i = 0; i < 60; i++, day = addDays(day, 1)) {
      if (!isWorkingDay(day)) continue;
      for (const s of SLOTS) {
        if (Date.parse(B.localToIso(day, s.from)) - Date.now() >= 30 * 60e3) return { day, slot: s };
      }
    }
    return { day: addDays(B.today(), 1), slot: SLOTS[0] };
  }

  const debounce = (fn, ms) => {
    let t;
    const run = (...a) => { clearTimeout(t); t = setTimeout(() => fn(...a), ms); };
    run.cancel = () => clearTimeout(t);
    return run;
  };

  function field(id, label, input, ...extra) {
    return h('div', { class: 'field' }, h('label', { for: id }, label), input, ...extra);
  }

  function select(id, options, attrs) {
    return h('select', Object.assign({ id, name: id }, attrs || {}),
      options.map(([v, t]) => h('option', { value: v }, t)));
  }

  // ---------- reference data ----------

  function wardsOf(province) {
    if (!ref.wardLists.has(province)) {
      const p = B.api('GET', `/api/v1/admin-units/provinces/${encodeURIComponent(province)}/wards`).then((rows) => {
        rows.forEach((w) => ref.wardIndex.set(w.code, w));
        return rows;
      });
      p.catch(() => ref.wardLists.delete(province));
      ref.wardLists.set(province, p);
    }
    return ref.wardLists.get(province);
  }

  function searchWards(province, q) {
    const key = `${province}|${fold(q)}`;
    if (!ref.wardSearch.has(key)) {
      const p = B.api('GET', `/api/v1/admin-units/provinces/${encodeURIComponent(province)}/wards?q=${encodeURIComponent(q.trim())}`)
        .then((rows) => { rows.forEach((w) => ref.wardIndex.set(w.code, w)); return rows; });
      p.catch(() => ref.wardSearch.delete(key));
      ref.wardSearch.set(key, p);
    }
    return ref.wardSearch.get(key);
  }

  function searchProcedures(q) {
    if (!fold(q)) {
      if (!ref.procedures) {
        ref.procedures = B.api('GET', '/api/v1/procedures');
        ref.procedures.catch(() => { ref.procedures = null; });
      }
      return ref.procedures;
    }
    return B.api('GET', `/api/v1/procedures?q=${encodeURIComponent(q.trim())}`);
  }

  const listAll = B.allPages;

  async function loadReference() {
    const soft = (p, dflt) => p.catch(() => dflt);
    const [provinces, agencies, postOffices, zones, holidays] = await Promise.all([
      B.api('GET', '/api/v1/admin-units/provinces'),
      listAll('/api/v1/agencies'),
      soft(listAll('/api/v1/post-offices'), []),
      soft(B.api('GET', '/api/v1/zones'), []),
      soft(B.api('GET', '/api/v1/holidays'), []),
    ]);
    ref.provinces = provinces;
    ref.agencies = agencies;
    ref.postOffices = postOffices;
    ref.zones = Array.isArray(zones) ? zones : (zones.items || []);
    ref.holidays = new Set((holidays || []).map((x) => x.date));
    // The province most agencies are in (the demo's is 82, Đồng Tháp).
    const count = new Map();
    agencies.forEach((a) => count.set(a.province_code, (count.get(a.province_code) || 0) + 1));
    const best = [...count.entries()].sort((a, b) => b[1] - a[1])[0];
    ref.defaultProvince = best ? best[0] : FALLBACK_PROVINCE;
    wardsOf(ref.defaultProvince).catch(() => {});
  }

  // ---------- combobox (ARIA 1.2 pattern: input + listbox) ----------

  function combobox(o) {
    const input = h('input', {
      id: o.id, name: o.id, type: 'text', role: 'combobox', 'aria-autocomplete': 'list', 'aria-expanded': 'false',
      'aria-controls': o.listId, autocomplete: 'off', spellcheck: 'false', placeholder: o.placeholder || '',
      dataset: { field: o.field },
    });
    const list = h('ul', { id: o.listId, role: 'listbox', class: 'cb-list', hidden: true, 'aria-label': o.label });
    const more = h('p', { class: 'hint cb-more', hidden: true });
    const wrap = h('div', { class: 'cb' }, input, list);
    let items = [];
    let active = -1;
    let selected = null;
    let seq = 0;

    const isOpen = () => !list.hidden;
    function close() {
      list.hidden = true;
      input.setAttribute('aria-expanded', 'false');
      input.removeAttribute('aria-activedescendant');
    }
    function setActive(i) {
      active = i;
      B.$$('[role=option]', list).forEach((li, j) => li.setAttribute('aria-selected', String(j === i)));
      const li = list.children[i];
      if (li) {
        input.setAttribute('aria-activedescendant', li.id);
        li.scrollIntoView({ block: 'nearest' });
      } else {
        input.removeAttribute('aria-activedescendant');
      }
    }
    function render(total) {
      B.mount(list, items.length ? items.map((it, i) => h('li', {
        id: `${o.listId}-${i}`, role: 'option', 'aria-selected': 'false', dataset: { code: o.key(it) },
        onmousedown: (e) => e.preventDefault(), // keep the focus in the input
        onclick: () => choose(it),
      }, o.optionContent(it))) : h('li', { class: 'cb-empty', role: 'presentation' }, o.emptyText || 'Không tìm thấy'));
      list.hidden = false;
      input.setAttribute('aria-expanded', 'true');
      // Nothing highlighted yet: ↓ goes to the first option, Enter alone takes the first.
      setActive(-1);
      more.hidden = total <= items.length;
      more.textContent = `Hiển thị ${items.length}/${total} kết quả — gõ thêm để thu hẹp.`;
    }
    async function run(q) {
      const my = ++seq;
      let rows;
      try { rows = await o.search(q); } catch (ex) {
        if (my !== seq) return;
        items = [];
        B.mount(list, h('li', { class: 'cb-empty', role: 'presentation' }, `Lỗi tải danh sách: ${ex.message}`));
        list.hidden = false;
        input.setAttribute('aria-expanded', 'true');
        return;
      }
      // A choice made meanwhile (Enter, a click) wins over a late answer.
      if (my !== seq || document.activeElement !== input || (selected && q !== '')) return;
      items = rows.slice(0, MAX_OPTIONS);
      render(rows.length);
    }
    const runSoon = debounce(run, 120);
    function choose(it, quiet) {
      seq++; // answers still on their way are for the text before the choice
      runSoon.cancel();
      selected = it;
      input.value = o.inputText(it);
      input.dataset[o.dataKey] = o.key(it);
      close();
      more.hidden = true;
      if (!quiet) o.onSelect(it);
    }
    function clear(quiet) {
      const had = selected;
      selected = null;
      delete input.dataset[o.dataKey];
      if (had && !quiet) o.onSelect(null);
    }
    input.addEventListener('input', () => { clear(); runSoon(input.value); });
    input.addEventListener('focus', () => { if (!selected && input.value.trim()) runSoon(input.value); });
    input.addEventListener('keydown', (e) => {
      if (e.ctrlKey || e.metaKey || e.altKey) return;
      if (e.key === 'ArrowDown') {
        e.preventDefault();
        if (!isOpen()) { runSoon.cancel(); run(selected ? '' : input.value); }
        else if (items.length) setActive((active + 1) % items.length);
      } else if (e.key === 'ArrowUp') {
        e.preventDefault();
        if (isOpen() && items.length) setActive(active <= 0 ? items.length - 1 : active - 1);
      } else if (e.key === 'Enter') {
        if (isOpen()) {
          e.preventDefault();
          if (active >= 0) choose(items[active]);
          else if (items.length) choose(items[0]);
        } else if (!selected && input.value.trim()) {
          e.preventDefault();
          run(input.value);
        }
      } else if (e.key === 'Escape') {
        if (isOpen()) { e.preventDefault(); close(); }
      } else if (e.key === 'Tab' && isOpen()) {
        close();
      }
    });
    input.addEventListener('blur', () => {
      setTimeout(() => {
        if (document.activeElement === input) return;
        close();
        // A typed name that is exactly one option counts as choosing it.
        if (!selected && input.value.trim()) {
          const exact = items.filter((it) => fold(o.inputText(it)) === fold(input.value) || fold(o.key(it)) === fold(input.value));
          if (exact.length === 1) choose(exact[0]);
        }
      }, 150);
    });
    return {
      input, list, more,
      node: h('div', { class: 'field' }, h('label', { for: o.id }, o.label), wrap, more, o.hint ? h('p', { class: 'hint' }, o.hint) : null),
      get selected() { return selected; },
      set: (it) => (it ? choose(it, true) : (clear(true), input.value = '')),
    };
  }

  // ---------- the pin map (SVG, no tiles) ----------

  const MAP_W = 480;
  const MAP_H = 300;

  function pinMap(getContext, onPick) {
    const svg = B.svg('svg', {
      id: 'pin-map', class: 'pin-map', viewBox: `0 0 ${MAP_W} ${MAP_H}`, tabindex: '0', role: 'application',
      'aria-label': 'Bản đồ ghim vị trí: bấm để đặt ghim, phím mũi tên để dịch ghim',
    });
    const caption = h('p', { class: 'hint', id: 'pin-caption' });
    let span = 0.1; // degrees of longitude across the canvas
    let centre = null;
    let pin = null;

    const proj = () => {
      const kx = MAP_W / span;
      const ky = kx / Math.cos((centre[0] * Math.PI) / 180);
      return {
        x: (lon) => MAP_W / 2 + (lon - centre[1]) * kx,
        y: (lat) => MAP_H / 2 - (lat - centre[0]) * ky,
        lon: (x) => centre[1] + (x - MAP_W / 2) / kx,
        lat: (y) => centre[0] - (y - MAP_H / 2) / ky,
      };
    };

    function draw() {
      const ctx = getContext();
      if (!centre || ctx.recentre) centre = pin || ctx.centre;
      const p = proj();
      const kids = [B.svg('rect', { x: 0, y: 0, width: MAP_W, height: MAP_H, class: 'map-bg' })];
      for (const z of ctx.zones) {
        const polys = z.area && z.area.type === 'MultiPolygon' ? z.area.coordinates : z.area && z.area.type === 'Polygon' ? [z.area.coordinates] : [];
        for (const poly of polys) {
          const ring = poly[0] || [];
          kids.push(B.svg('polygon', { class: 'map-zone', points: ring.map(([lon, lat]) => `${p.x(lon).toFixed(1)},${p.y(lat).toFixed(1)}`).join(' ') },
            B.svg('title', {}, `Vùng ${z.name}`)));
        }
      }
      for (const o of ctx.postOffices) {
        kids.push(B.svg('rect', { class: 'map-po', x: (p.x(o.lon) - 5).toFixed(1), y: (p.y(o.lat) - 5).toFixed(1), width: 10, height: 10 },
          B.svg('title', {}, o.name)));
      }
      for (const a of ctx.agencies) {
        kids.push(B.svg('circle', { class: a.chosen ? 'map-agency chosen' : 'map-agency', cx: p.x(a.lon).toFixed(1), cy: p.y(a.lat).toFixed(1), r: a.chosen ? 7 : 5 },
          B.svg('title', {}, a.name)));
      }
      if (ctx.wardCentre) {
        kids.push(B.svg('circle', { class: 'map-ward', cx: p.x(ctx.wardCentre[1]).toFixed(1), cy: p.y(ctx.wardCentre[0]).toFixed(1), r: 4 },
          B.svg('title', {}, 'Tâm xã/phường')));
      }
      if (pin) {
        const x = p.x(pin[1]);
        const y = p.y(pin[0]);
        kids.push(B.svg('path', { class: 'map-pin', d: `M${x.toFixed(1)},${y.toFixed(1)} l-8,-16 a9,9 0 1,1 16,0 z` }));
        kids.push(B.svg('circle', { class: 'map-pin-dot', cx: x.toFixed(1), cy: (y - 19).toFixed(1), r: 3.2 }));
      }
      // Scale bar: 1 km.
      const km = MAP_W / span / (111.32 * Math.cos((centre[0] * Math.PI) / 180));
      kids.push(B.svg('line', { class: 'map-scale', x1: 12, y1: MAP_H - 14, x2: (12 + km).toFixed(1), y2: MAP_H - 14 }));
      kids.push(B.svg('text', { class: 'map-label', x: 12, y: MAP_H - 20 }, '1 km'));
      B.mount(svg, kids);
      caption.textContent = pin
        ? `Ghim: ${pin[0].toFixed(5)}, ${pin[1].toFixed(5)}`
        : 'Chưa ghim: hệ thống sẽ ước tính vị trí (địa chỉ cũ, tâm xã/phường hoặc cơ quan).';
      if (ctx.onState) ctx.onState(pin);
    }

    function place(lat, lon) {
      pin = [Math.round(lat * 1e6) / 1e6, Math.round(lon * 1e6) / 1e6];
      onPick(pin);
      draw();
    }

    svg.addEventListener('click', (e) => {
      const pt = svg.createSVGPoint();
      pt.x = e.clientX; pt.y = e.clientY;
      const m = svg.getScreenCTM();
      if (!m) return;
      const q = pt.matrixTransform(m.inverse());
      const p = proj();
      place(p.lat(q.y), p.lon(q.x));
    });
    svg.addEventListener('keydown', (e) => {
      const step = span / 40;
      const moves = { ArrowUp: [step, 0], ArrowDown: [-step, 0], ArrowLeft: [0, -step], ArrowRight: [0, step] };
      if (moves[e.key]) {
        e.preventDefault();
        const base = pin || centre;
        place(base[0] + moves[e.key][0], base[1] + moves[e.key][1]);
      } else if (e.key === '+' || e.key === '=') { e.preventDefault(); zoom(0.5); }
      else if (e.key === '-') { e.preventDefault(); zoom(2); }
    });
    function zoom(f) {
      span = Math.min(2, Math.max(0.005, span * f));
      if (pin) centre = pin;
      draw();
    }
    return {
      svg, caption, draw, zoom,
      setPin(p) { pin = p; if (p) centre = p; draw(); },
      recentre() { centre = null; draw(); },
    };
  }

  // ---------- the page ----------

  let me = null;
  let view = null; // the current call's state and elements

  function render(user) {
    me = user;
    B.mount(B.app(), h('p', { class: 'loading' }, 'Đang tải danh mục…'));
    loadReference().then(startCall, (ex) => {
      B.mount(B.app(), h('div', { class: 'card' },
        h('p', { class: 'error' }, `Không tải được danh mục: ${ex.message}`),
        h('button', { type: 'button', class: 'primary', onclick: () => render(me) }, 'Thử lại')));
    });
  }

  document.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey) && view && !view.done) {
      e.preventDefault();
      submit();
    }
  });

  function startCall() {
    const v = {
      key: B.uuid(), done: false, citizen: null, lastLookup: null, autoName: '', autoId: '',
      procedure: null, submitting: false,
    };
    view = v;

    // -- caller --
    v.phone = h('input', { id: 'phone', name: 'phone', type: 'tel', inputmode: 'tel', autocomplete: 'off', dataset: { field: 'citizen.phone' }, placeholder: '09xx xxx xxx' });
    v.citizenStatus = h('p', { id: 'citizen-status', class: 'hint', 'aria-live': 'polite', dataset: { state: 'idle' } }, 'Nhập số rồi bấm Enter để tìm người gọi quen.');
    v.fullName = h('input', { id: 'full_name', name: 'full_name', autocomplete: 'off', dataset: { field: 'citizen.full_name' } });
    v.idNumber = h('input', { id: 'id_number', name: 'id_number', inputmode: 'numeric', maxlength: '12', autocomplete: 'off', dataset: { field: 'citizen.id_number' }, placeholder: '12 chữ số' });
    v.addresses = h('div', { id: 'addresses', class: 'addresses', hidden: true });
    v.previous = h('div', { id: 'previous-dossiers', class: 'previous', hidden: true });
    v.phone.addEventListener('blur', () => lookup());
    v.phone.addEventListener('keydown', (e) => { if (e.key === 'Enter' && !e.ctrlKey && !e.metaKey) lookup(); });
    v.phone.addEventListener('input', () => {
      if (v.citizen && normPhone(v.phone.value) !== v.lastLookup) setStatus('idle', 'Số đã đổi: bấm Enter để tìm lại.');
    });

    // -- address --
    v.province = select('province', ref.provinces.map((p) => [p.code, p.name]), { value: ref.defaultProvince });
    v.province.value = ref.defaultProvince;
    v.province.addEventListener('change', () => {
      v.ward.set(null);
      wardsOf(v.province.value).catch(() => {});
      refreshAgencies();
      v.map.recentre();
    });
    v.ward = combobox({
      id: 'ward', listId: 'ward-list', label: 'Xã/phường/đặc khu', field: 'address.ward_code', dataKey: 'wardCode',
      placeholder: 'VD: cao lanh',
      search: (q) => searchWards(v.province.value, q),
      key: (w) => w.code, inputText: (w) => w.name,
      optionContent: (w) => [h('span', { class: 'opt-main' }, w.name), h('span', { class: 'opt-sub' }, w.code)],
      emptyText: 'Không có xã/phường nào khớp trong tỉnh này',
      onSelect: () => { refreshAgencies(); v.map.recentre(); },
    });
    v.street = h('input', { id: 'street', name: 'street', autocomplete: 'off', dataset: { field: 'address.street' }, placeholder: 'Số nhà, đường, ấp/khóm' });
    v.lat = h('input', { id: 'lat', name: 'lat', type: 'number', step: 'any', min: '8', max: '23.5', inputmode: 'decimal', dataset: { field: 'address.lat' } });
    v.lon = h('input', { id: 'lon', name: 'lon', type: 'number', step: 'any', min: '102', max: '117.5', inputmode: 'decimal', dataset: { field: 'address.lon' } });
    v.map = pinMap(mapContext, ([lat, lon]) => { v.lat.value = String(lat); v.lon.value = String(lon); refreshAgencies(true); });
    const pinFromInputs = () => {
      const lat = parseFloat(v.lat.value);
      const lon = parseFloat(v.lon.value);
      v.map.setPin(Number.isFinite(lat) && Number.isFinite(lon) ? [lat, lon] : null);
      refreshAgencies(true);
    };
    v.lat.addEventListener('change', pinFromInputs);
    v.lon.addEventListener('change', pinFromInputs);
    const clearPin = () => { v.lat.value = ''; v.lon.value = ''; v.map.setPin(null); v.map.recentre(); refreshAgencies(true); };
    v.pinSummary = h('span', { class: 'pin-state', id: 'pin-state' });
    v.pinDetails = h('details', { id: 'pin-details', class: 'pin-details' },
      h('summary', {}, 'Ghim vị trí (không bắt buộc)', v.pinSummary),
      h('div', { class: 'row latlon' }, field('lat', 'Vĩ độ', v.lat), field('lon', 'Kinh độ', v.lon)),
      h('div', { class: 'map-wrap' }, v.map.svg),
      v.map.caption,
      h('div', { class: 'map-tools' },
        h('button', { type: 'button', id: 'clear-pin', onclick: clearPin }, 'Dùng vị trí ước tính'),
        h('button', { type: 'button', id: 'pin-zoom-in', 'aria-label': 'Phóng to bản đồ', onclick: () => v.map.zoom(0.5) }, '+'),
        h('button', { type: 'button', id: 'pin-zoom-out', 'aria-label': 'Thu nhỏ bản đồ', onclick: () => v.map.zoom(2) }, '−')),
      h('p', { class: 'hint map-legend' },
        h('span', { class: 'lg lg-agency' }), ' Cơ quan  ', h('span', { class: 'lg lg-po' }), ' Bưu cục  ', h('span', { class: 'lg lg-zone' }), ' Vùng phục vụ'));
    v.pinDetails.addEventListener('toggle', () => { if (v.pinDetails.open) v.map.draw(); });

    // -- procedure and agency --
    v.proc = combobox({
      id: 'procedure', listId: 'procedure-list', label: 'Thủ tục hành chính', field: 'procedure_code', dataKey: 'code',
      placeholder: 'Gõ tên hoặc mã thủ tục: khai sinh',
      search: searchProcedures,
      key: (p) => p.code, inputText: (p) => p.name,
      optionContent: (p) => [h('span', { class: 'opt-main' }, p.name),
        h('span', { class: 'opt-sub' }, `${p.code} · ${LEVEL[p.agency_level] || p.agency_level} · lệ phí ${p.agency_fee_vnd ? B.money(p.agency_fee_vnd) : 'không'} · ${p.processing_days} ngày`)],
      emptyText: 'Không có thủ tục nào khớp',
      hint: 'Mũi tên xuống để xem danh sách, Enter để chọn.',
      onSelect: (p) => { v.procedure = p; showProcedure(); refreshAgencies(); updateQuote(); },
    });
    v.procInfo = h('div', { id: 'procedure-info', class: 'proc-info', hidden: true, 'aria-live': 'polite' });
    v.agency = h('select', { id: 'agency', name: 'agency', dataset: { field: 'agency_id' } });
    v.agencyHint = h('p', { class: 'hint', id: 'agency-hint' });
    v.agency.addEventListener('change', () => { v.agencyTouched = true; v.map.draw(); });

    // -- service and window --
    v.service = select('service', SERVICES, { dataset: { field: 'service' } });
    v.returnMethod = select('return_method', RETURN_METHODS, { dataset: { field: 'return_method' } });
    v.returnHint = h('p', { class: 'hint', id: 'return-hint' });
    v.service.addEventListener('change', onServiceChange);
    v.returnMethod.addEventListener('change', updateQuote);
    const slot = nextSlot();
    v.date = h('input', { id: 'pickup-date', name: 'pickup-date', type: 'date', min: B.today(), max: addDays(B.today(), 60), value: slot.day, dataset: { field: 'pickup_window' } });
    v.from = h('input', { id: 'pickup-from', name: 'pickup-from', type: 'time', step: '300', value: slot.slot.from });
    v.to = h('input', { id: 'pickup-to', name: 'pickup-to', type: 'time', step: '300', value: slot.slot.to });
    v.dayHint = h('p', { class: 'hint', id: 'pickup-day-hint', 'aria-live': 'polite' });
    v.slots = SLOTS.map((s) => h('button', {
      type: 'button', class: 'slot', dataset: { slot: s.id }, 'aria-pressed': 'false',
      onclick: () => { v.from.value = s.from; v.to.value = s.to; syncWindow(); },
    }, `${s.label} ${s.from}–${s.to}`));
    const nextBtn = h('button', { type: 'button', class: 'slot', id: 'next-slot', onclick: () => {
      const n = nextSlot(); v.date.value = n.day; v.from.value = n.slot.from; v.to.value = n.slot.to; syncWindow();
    } }, 'Ca gần nhất');
    [v.date, v.from, v.to].forEach((el) => el.addEventListener('change', syncWindow));
    v.windowGroup = h('div', { class: 'field window-group', id: 'pickup-window' },
      h('label', { for: 'pickup-date' }, 'Ngày lấy hồ sơ'),
      v.date, v.dayHint,
      h('div', { class: 'slots', role: 'group', 'aria-label': 'Ca lấy hồ sơ' }, v.slots, nextBtn),
      h('div', { class: 'row times' },
        h('div', { class: 'sub' }, h('label', { for: 'pickup-from' }, 'Từ giờ'), v.from),
        h('div', { class: 'sub' }, h('label', { for: 'pickup-to' }, 'Đến giờ'), v.to)));
    v.note = h('textarea', { id: 'note', name: 'note', rows: '2', maxlength: '500', dataset: { field: 'note' }, placeholder: 'VD: Gọi trước khi đến' });

    // -- quote and submit --
    v.fee = {
      postal: h('dd', { id: 'fee-postal' }), agency: h('dd', { id: 'fee-agency' }), total: h('dd', { id: 'fee-total' }),
      legs: h('p', { class: 'hint', id: 'fee-legs' }),
    };
    v.submit = h('button', { type: 'submit', id: 'submit', class: 'primary big' }, 'Tạo yêu cầu');
    v.formError = h('div', { class: 'form-error', 'aria-live': 'assertive' });

    v.recentList = h('ul', { id: 'recent-list', class: 'list recent-list' });
    v.recentCard = h('section', { class: 'card', id: 'recent', 'aria-labelledby': 'h-recent' },
      h('div', { class: 'side-head' },
        h('h2', { id: 'h-recent' }, 'Yêu cầu hôm nay'),
        h('button', { type: 'button', class: 'link', id: 'recent-refresh', onclick: loadRecent }, 'Làm mới')),
      v.recentList);

    v.form = h('form', {
      id: 'intake-form', class: 'op-form', novalidate: true, dataset: { idempotencyKey: v.key },
      onsubmit: (e) => { e.preventDefault(); submit(); },
      onkeydown: enterMovesOn,
      oninput: clearErrorOf,
      onchange: clearErrorOf,
    },
    h('div', { class: 'op-col' },
      h('section', { class: 'card', id: 'card-caller', 'aria-labelledby': 'h-caller' },
        h('h2', { id: 'h-caller' }, '1. Người gọi'),
        field('phone', 'Số điện thoại', v.phone, v.citizenStatus),
        h('div', { class: 'row' },
          field('full_name', 'Họ và tên', v.fullName),
          field('id_number', 'Số căn cước (không bắt buộc)', v.idNumber)),
        v.previous),
      h('section', { class: 'card', id: 'card-address', 'aria-labelledby': 'h-address' },
        v.addressTitle = h('h2', { id: 'h-address' }, '2. Địa chỉ lấy hồ sơ'),
        v.addresses,
        h('div', { class: 'row' }, field('province', 'Tỉnh/thành phố', v.province), v.ward.node),
        field('street', 'Số nhà, đường', v.street),
        v.pinDetails)),
    h('div', { class: 'op-col' },
      h('section', { class: 'card', id: 'card-procedure', 'aria-labelledby': 'h-procedure' },
        h('h2', { id: 'h-procedure' }, '3. Thủ tục và nơi nộp'),
        v.proc.node, v.procInfo,
        field('agency', 'Cơ quan tiếp nhận', v.agency, v.agencyHint)),
      h('section', { class: 'card', id: 'card-service', 'aria-labelledby': 'h-service' },
        h('h2', { id: 'h-service' }, '4. Dịch vụ và lịch hẹn'),
        field('service', 'Dịch vụ', v.service),
        field('return_method', 'Trả kết quả', v.returnMethod, v.returnHint),
        v.windowGroup,
        field('note', 'Ghi chú cho bưu tá', v.note))),
    h('div', { class: 'op-col op-side' },
      h('section', { class: 'card quote-card', id: 'quote', 'aria-labelledby': 'h-quote', 'aria-live': 'polite' },
        h('h2', { id: 'h-quote' }, 'Phí ', h('span', { class: 'badge info' }, 'Tạm tính')),
        h('dl', { class: 'fees' },
          h('dt', {}, 'Cước bưu chính'), v.fee.postal,
          h('dt', {}, 'Lệ phí (thu hộ)'), v.fee.agency,
          h('dt', { class: 'total' }, 'Tổng cộng'), v.fee.total),
        v.fee.legs,
        v.formError,
        v.submit,
        h('p', { class: 'hint kbd-hint' }, 'Ctrl+Enter: tạo yêu cầu · Enter: sang ô tiếp theo')),
      v.recentCard));

    v.findCard = findCard();
    v.main = h('div', { class: 'op-main' }, v.findCard, v.form);
    B.mount(B.app(), v.main);
    onServiceChange();
    syncWindow();
    refreshAgencies();
    v.map.draw();
    loadRecent();
    v.phone.focus();
  }

  /** An edited field's old error goes at once: only what is still wrong stays red. */
  function clearErrorOf(e) {
    const t = e.target;
    if (!(t instanceof HTMLElement) || !t.dataset.field) return;
    const box = t.closest('.field') || t.parentElement;
    B.$$('.field-error', box).forEach((x) => x.remove());
    t.classList.remove('invalid');
    t.removeAttribute('aria-invalid');
    const left = B.$$('.field-error', view.form).filter((x) => !view.formError.contains(x)).length;
    if (!left) view.formError.replaceChildren();
  }

  /** Enter in a one-line field moves to the next field (never submits by accident). */
  function enterMovesOn(e) {
    if (e.key !== 'Enter' || e.ctrlKey || e.metaKey || e.defaultPrevented) return;
    const t = e.target;
    if (!(t instanceof HTMLInputElement || t instanceof HTMLSelectElement)) return;
    e.preventDefault();
    const all = B.$$('input, select, textarea, button', view.form)
      .filter((el) => !el.disabled && el.tabIndex >= 0 && el.offsetParent !== null && !el.closest('[hidden]') && !el.closest('details:not([open])'));
    const next = all[all.indexOf(t) + 1];
    if (next) next.focus();
  }

  function setStatus(state, text) {
    view.citizenStatus.dataset.state = state;
    view.citizenStatus.textContent = text;
  }

  async function lookup() {
    const v = view;
    const phone = normPhone(v.phone.value);
    if (!v.phone.value.trim()) { setStatus('idle', 'Nhập số rồi bấm Enter để tìm người gọi quen.'); return; }
    if (!phone) { setStatus('invalid', 'Số chưa đúng dạng: di động 10 số (03/05/07/08/09…), cố định 11 số (02…).'); return; }
    if (phone === v.lastLookup) return;
    v.lastLookup = phone;
    setStatus('loading', 'Đang tìm…');
    let c = null;
    try {
      c = await B.api('GET', `/api/v1/citizens?phone=${encodeURIComponent(phone)}`);
    } catch (ex) {
      if (v !== view || phone !== v.lastLookup) return;
      if (ex.status === 404) {
        v.citizen = null;
        showAddresses([]);
        showPrevious([]);
        if (v.fullName.value === v.autoName) v.fullName.value = '';
        if (v.idNumber.value === v.autoId) v.idNumber.value = '';
        v.autoName = ''; v.autoId = '';
        setStatus('new', 'Số mới: người gọi lần đầu, nhập thông tin bên dưới.');
      } else {
        v.lastLookup = null;
        setStatus('error', `Không tra được: ${ex.message}`);
      }
      return;
    }
    if (v !== view || phone !== v.lastLookup) return;
    v.citizen = c;
    if (!v.fullName.value.trim() || v.fullName.value === v.autoName) { v.fullName.value = c.full_name || ''; v.autoName = v.fullName.value; }
    if (!v.idNumber.value.trim() || v.idNumber.value === v.autoId) { v.idNumber.value = c.id_number || ''; v.autoId = v.idNumber.value; }
    setStatus('found', `Người gọi quen: ${c.full_name}. Đã điền họ tên${c.id_number ? ', số căn cước' : ''}.`);
    const addrs = (c.addresses || []).slice().sort((a, b) => String(b.updated_at).localeCompare(String(a.updated_at))).slice(0, 5);
    // Ward names of the addresses (most are in the default province).
    await Promise.all([...new Set([ref.defaultProvince, v.province.value])].map((p) => wardsOf(p).catch(() => [])));
    if (v !== view) return;
    showAddresses(addrs);
    B.api('GET', `/api/v1/pickup-requests?phone=${encodeURIComponent(phone)}&limit=500`)
      .then((page) => { if (v === view && v.lastLookup === phone) showPrevious((page.items || []).slice(-3).reverse()); })
      .catch(() => {});
  }

  function showAddresses(addrs) {
    const v = view;
    v.addresses.hidden = !addrs.length;
    if (!addrs.length) { v.addresses.replaceChildren(); return; }
    B.mount(v.addresses,
      h('p', { class: 'addresses-title', id: 'addresses-title' }, 'Địa chỉ đã dùng — chọn để điền:'),
      h('div', { class: 'address-choices', role: 'group', 'aria-labelledby': 'addresses-title' },
        addrs.map((a) => {
          const ward = ref.wardIndex.get(a.ward_code);
          return h('button', {
            type: 'button', class: 'address-choice', 'aria-pressed': 'false',
            dataset: { wardCode: a.ward_code, street: a.street },
            onclick: (e) => useAddress(a, e.currentTarget),
          }, h('span', { class: 'opt-main' }, a.street),
          h('span', { class: 'opt-sub' }, `${ward ? ward.name : `Mã xã ${a.ward_code}`}${a.lat != null ? (a.from_gps ? ' · vị trí GPS' : ' · có ghim') : ''}`));
        })));
  }

  function showPrevious(items) {
    const v = view;
    v.previous.hidden = !items.length;
    if (!items.length) { v.previous.replaceChildren(); return; }
    B.mount(v.previous, h('p', { class: 'addresses-title' }, 'Hồ sơ gần đây của người gọi:'),
      h('ul', { class: 'prev-list' }, items.map((d) => h('li', { dataset: { trackingCode: d.tracking_code } },
        h('span', { class: 'mono' }, d.tracking_code), ' ',
        h('span', { class: `badge ${badgeClass(d.status)}` }, d.status_label || B.statusLabel(d.status)),
        h('span', { class: 'muted' }, ` ${B.fmtDate(d.created_at)}`)))));
  }

  function useAddress(a, btn) {
    const v = view;
    B.$$('.address-choice', v.addresses).forEach((b) => b.setAttribute('aria-pressed', String(b === btn)));
    const ward = ref.wardIndex.get(a.ward_code);
    if (ward) {
      if (v.province.value !== ward.province_code) v.province.value = ward.province_code;
      v.ward.set(ward);
    } else {
      v.ward.set({ code: a.ward_code, name: `Mã xã ${a.ward_code}`, province_code: v.province.value });
    }
    v.street.value = a.street;
    if (a.lat != null && a.lon != null) {
      v.lat.value = String(a.lat); v.lon.value = String(a.lon);
      v.map.setPin([a.lat, a.lon]);
    } else {
      v.lat.value = ''; v.lon.value = '';
      v.map.setPin(null);
      v.map.recentre();
    }
    refreshAgencies();
    B.toast('Đã điền địa chỉ cũ', 'info');
  }

  function showProcedure() {
    const v = view;
    const p = v.procedure;
    v.procInfo.hidden = !p;
    if (!p) { v.procInfo.replaceChildren(); return; }
    const docs = p.required_documents || [];
    B.mount(v.procInfo,
      h('dl', { class: 'facts proc-facts' },
        h('dt', {}, 'Mã'), h('dd', { id: 'procedure-code' }, p.code),
        h('dt', {}, 'Lệ phí'), h('dd', { id: 'procedure-fee', dataset: { vnd: String(p.agency_fee_vnd) } }, p.agency_fee_vnd ? B.money(p.agency_fee_vnd) : 'Không thu'),
        h('dt', {}, 'Thời hạn'), h('dd', { id: 'procedure-days' }, `${p.processing_days} ngày làm việc`),
        h('dt', {}, 'Cấp giải quyết'), h('dd', {}, LEVEL[p.agency_level] || p.agency_level)),
      h('p', { class: 'addresses-title' }, 'Giấy tờ cần chuẩn bị (dặn người dân):'),
      docs.length ? h('ol', { id: 'required-docs', class: 'docs' }, docs.map((d) => h('li', {}, d)))
        : h('p', { class: 'muted', id: 'required-docs' }, 'Không có danh sách giấy tờ.'));
  }

  const dist2 = (a, lat, lon) => {
    const dx = (a.lon - lon) * Math.cos((lat * Math.PI) / 180);
    const dy = a.lat - lat;
    return dx * dx + dy * dy;
  };

  /** A point to reason about distance with: the pin, else the ward's centre. */
  function referencePoint() {
    const v = view;
    const lat = parseFloat(v.lat.value);
    const lon = parseFloat(v.lon.value);
    if (Number.isFinite(lat) && Number.isFinite(lon)) return [lat, lon];
    const w = v.ward.selected;
    if (w && w.centre_lat != null) return [w.centre_lat, w.centre_lon];
    // Else a known place in the ward: an agency or a post office there.
    const here = w && (ref.agencies.find((a) => a.ward_code === w.code) || ref.postOffices.find((o) => o.ward_code === w.code));
    return here ? [here.lat, here.lon] : null;
  }

  /** Agencies of the chosen province and the procedure's level, the likeliest first. */
  function refreshAgencies(keepChoice) {
    const v = view;
    const prov = v.province.value;
    const level = v.procedure && v.procedure.agency_level;
    const ward = v.ward.selected;
    const pt = referencePoint();
    let list = ref.agencies.filter((a) => a.province_code === prov && (!level || a.level === level));
    list = list.map((a) => ({ a, sameWard: ward && a.ward_code === ward.code, d: pt ? dist2(a, pt[0], pt[1]) : 0 }))
      .sort((x, y) => (y.sameWard - x.sameWard) || (x.d - y.d) || (x.a.level === y.a.level ? 0 : x.a.level === 'province' ? -1 : 1) || x.a.id - y.a.id)
      .map((x) => x.a);
    const before = v.agency.value;
    const opts = [h('option', { value: '' }, list.length ? '— Chọn cơ quan —' : 'Không có cơ quan phù hợp')];
    for (const a of list) {
      let label = a.name;
      if (!level) label += ` (${LEVEL[a.level] || a.level})`;
      if (pt) label += ` — ${B.km(Math.sqrt(dist2(a, pt[0], pt[1])) * 111320)}`;
      opts.push(h('option', { value: String(a.id) }, label));
    }
    B.mount(v.agency, opts);
    const stillThere = list.some((a) => String(a.id) === before);
    if (before && stillThere && (keepChoice || v.agencyTouched)) v.agency.value = before;
    else if (list.length && (level || list.length === 1)) { v.agency.value = String(list[0].id); v.agencyTouched = false; }
    else v.agency.value = '';
    v.agencyHint.textContent = !level
      ? 'Chọn thủ tục trước để lọc cơ quan đúng cấp.'
      : list.length
        ? `Cơ quan ${LEVEL[level]} trong tỉnh (Nghị định 118/2025: nộp ở đâu trong tỉnh cũng được). Gần nhất xếp trước.`
        : `Tỉnh này chưa có cơ quan ${LEVEL[level]} trong hệ thống.`;
    if (v.map) v.map.draw();
  }

  function mapContext() {
    const v = view;
    const prov = v.province.value;
    const ward = v.ward.selected;
    const chosen = v.agency.value;
    const agencies = ref.agencies.filter((a) => a.province_code === prov).map((a) => Object.assign({}, a, { chosen: String(a.id) === chosen }));
    const offices = ref.postOffices.filter((o) => o.province_code === prov);
    const wardCentre = ward && ward.centre_lat != null ? [ward.centre_lat, ward.centre_lon] : null;
    const inWard = ward && (agencies.find((a) => a.ward_code === ward.code) || offices.find((o) => o.ward_code === ward.code));
    const sel = agencies.find((a) => a.chosen);
    const any = agencies[0] || offices[0];
    const c = wardCentre || (inWard && [inWard.lat, inWard.lon]) || (sel && [sel.lat, sel.lon]) || (any && [any.lat, any.lon]) || [10.46, 105.63];
    const onState = (pin) => { v.pinSummary.textContent = pin ? ` — đã ghim ${pin[0].toFixed(4)}, ${pin[1].toFixed(4)}` : ' — đang dùng vị trí ước tính'; };
    return { centre: c, zones: ref.zones, postOffices: offices, agencies, wardCentre, onState };
  }

  function onServiceChange() {
    const v = view;
    const s = v.service.value;
    if (s === 'return') {
      v.returnMethod.value = 'home';
      v.returnMethod.disabled = true;
      v.returnHint.textContent = 'Chỉ trả kết quả: luôn trả tại nhà.';
    } else if (s === 'send') {
      v.returnMethod.value = 'counter';
      v.returnMethod.disabled = true;
      v.returnHint.textContent = 'Chỉ lấy hồ sơ: người dân tự nhận kết quả tại quầy.';
    } else {
      v.returnMethod.disabled = false;
      v.returnHint.textContent = '';
    }
    v.windowGroup.hidden = s === 'return';
    if (v.addressTitle) {
      v.addressTitle.textContent = {
        both: '2. Địa chỉ lấy hồ sơ và trả kết quả', send: '2. Địa chỉ lấy hồ sơ', return: '2. Địa chỉ trả kết quả',
      }[s] || '2. Địa chỉ';
    }
    updateQuote();
  }

  function syncWindow() {
    const v = view;
    B.clearFieldErrors(v.windowGroup);
    v.slots.forEach((b) => {
      const s = SLOTS.find((x) => x.id === b.dataset.slot);
      b.setAttribute('aria-pressed', String(v.from.value === s.from && v.to.value === s.to));
    });
    const day = v.date.value;
    if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) { v.dayHint.textContent = ''; return; }
    if (day < B.today()) {
      v.dayHint.textContent = `${fmtDay(day)} — ngày đã qua, chọn từ hôm nay trở đi`;
      v.dayHint.classList.add('warn');
      v.dayHint.dataset.state = 'past';
      return;
    }
    delete v.dayHint.dataset.state;
    let note = fmtDay(day);
    if (day === B.today()) note += ' (hôm nay)';
    else if (day === addDays(B.today(), 1)) note += ' (ngày mai)';
    if (!isWorkingDay(day)) note += ref.holidays.has(day) ? ' — ngày lễ, bưu tá có thể không làm việc' : ' — cuối tuần';
    v.dayHint.textContent = note;
    v.dayHint.classList.toggle('warn', !isWorkingDay(day));
  }

  function quote() {
    const v = view;
    const s = v.service.value;
    const send = s !== 'return';
    const ret = s !== 'send' && v.returnMethod.value === 'home';
    const postal = (send ? TARIFF.send : 0) + (ret ? TARIFF.ret : 0);
    const agency = send && v.procedure ? v.procedure.agency_fee_vnd : 0;
    return { send, ret, postal, agency, total: postal + agency };
  }

  function updateQuote() {
    const v = view;
    const q = quote();
    const put = (el, n) => { el.textContent = B.money(n); el.dataset.vnd = String(n); };
    put(v.fee.postal, q.postal);
    put(v.fee.agency, q.agency);
    put(v.fee.total, q.total);
    const legs = [];
    if (q.send) legs.push(`lấy hồ sơ ${B.money(TARIFF.send)}`);
    if (q.ret) legs.push(`trả kết quả ${B.money(TARIFF.ret)}`);
    let text = `Cước: ${legs.join(' + ')}.`;
    if (!v.procedure && q.send) text += ' Chưa chọn thủ tục: lệ phí chưa tính.';
    if (!q.send) text += ' Lệ phí đã nộp khi nộp hồ sơ.';
    v.fee.legs.textContent = text + ' Số chính thức do hệ thống tính khi tạo.';
  }

  // ---------- submit ----------

  const VN_BOX = { latMin: 8, latMax: 23.5, lonMin: 102, lonMax: 117.5 };

  function body() {
    const v = view;
    const num = (el) => (el.value.trim() === '' ? undefined : Number(el.value));
    const b = {
      citizen: { full_name: v.fullName.value.trim(), phone: v.phone.value.trim(), id_number: v.idNumber.value.replace(/\s/g, '') || undefined },
      address: { ward_code: v.ward.selected ? v.ward.selected.code : '', street: v.street.value.trim(), lat: num(v.lat), lon: num(v.lon) },
      procedure_code: v.proc.selected ? v.proc.selected.code : '',
      agency_id: v.agency.value ? Number(v.agency.value) : 0,
      service: v.service.value,
      return_method: v.returnMethod.value,
      note: v.note.value.trim() || undefined,
    };
    if (v.service.value !== 'return') {
      b.pickup_window = { from: B.localToIso(v.date.value, v.from.value), to: B.localToIso(v.date.value, v.to.value) };
    }
    return b;
  }

  function clientErrors(b) {
    const v = view;
    const e = [];
    const add = (f, m) => e.push({ field: f, code: 'validation_failed', message: m });
    if (!b.citizen.phone) add('citizen.phone', 'Nhập số điện thoại người gọi');
    else if (!normPhone(b.citizen.phone)) add('citizen.phone', 'Số điện thoại Việt Nam không hợp lệ: di động 10 số (03/05/07/08/09…), cố định 11 số (02…)');
    if (!b.citizen.full_name) add('citizen.full_name', 'Nhập họ và tên người dân');
    if (b.citizen.id_number && !/^\d{12}$/.test(b.citizen.id_number)) add('citizen.id_number', 'Số căn cước phải gồm 12 chữ số');
    if (!b.address.ward_code) add('address.ward_code', v.ward.input.value.trim() ? 'Chọn xã/phường trong danh sách gợi ý' : 'Chọn xã/phường');
    if (!b.address.street) add('address.street', 'Nhập số nhà, đường');
    const hasLat = b.address.lat !== undefined;
    const hasLon = b.address.lon !== undefined;
    if (hasLat !== hasLon) add(hasLat ? 'address.lon' : 'address.lat', 'Cần cả vĩ độ và kinh độ, hoặc bỏ trống cả hai');
    else if (hasLat && !(b.address.lat >= VN_BOX.latMin && b.address.lat <= VN_BOX.latMax && b.address.lon >= VN_BOX.lonMin && b.address.lon <= VN_BOX.lonMax)) {
      add('address.lat', 'Vị trí phải nằm trong lãnh thổ Việt Nam');
    }
    if (!b.procedure_code) add('procedure_code', v.proc.input.value.trim() ? 'Chọn thủ tục trong danh sách gợi ý' : 'Chọn thủ tục');
    if (!b.agency_id) add('agency_id', 'Chọn cơ quan tiếp nhận');
    if (b.pickup_window) {
      if (!v.date.value || !v.from.value || !v.to.value) add('pickup_window', 'Chọn ngày và giờ lấy hồ sơ');
      else {
        const len = minutes(v.to.value) - minutes(v.from.value);
        if (len <= 0) add('pickup_window', 'Giờ kết thúc phải sau giờ bắt đầu');
        else if (len < 30) add('pickup_window', 'Khung giờ phải dài ít nhất 30 phút');
        else if (v.date.value < B.today()) add('pickup_window', 'Ngày lấy hồ sơ đã qua, chọn từ hôm nay trở đi');
        else if (Date.parse(b.pickup_window.to) <= Date.now()) add('pickup_window', 'Khung giờ đã qua, chọn ca khác');
      }
    }
    return e;
  }

  /** Server messages, in Vietnamese only (some carry English details in parentheses). */
  function vietnamese(errors) {
    return errors.map((fe) => {
      let m = fe.message || '';
      if (fe.field === 'citizen.phone') m = 'Số điện thoại Việt Nam không hợp lệ: di động 10 số (03/05/07/08/09…), cố định 11 số (02…)';
      else if (fe.field === 'pickup_window' && m.startsWith('Khung giờ không hợp lệ')) m = 'Khung giờ không hợp lệ: từ 30 phút đến 12 giờ, giờ kết thúc sau giờ bắt đầu';
      else if (fe.code === 'outside_vietnam') m = 'Vị trí phải nằm trong lãnh thổ Việt Nam';
      else if (/[a-z]{3,} [a-z]{3,} [a-z]{3,}/.test(m) && !/[à-ỹđ]/i.test(m)) m = 'Giá trị không hợp lệ';
      return Object.assign({}, fe, { message: m });
    });
  }

  async function submit() {
    const v = view;
    if (!v || v.done || v.submitting) return;
    B.clearFieldErrors(v.form);
    v.formError.replaceChildren();
    const b = body();
    const local = clientErrors(b);
    if (local.length) {
      if (local.some((fe) => fe.field === 'citizen.phone')) setStatus('invalid', '');
      B.showFieldErrors(v.form, { problem: { errors: local } });
      v.formError.append(h('p', { class: 'field-error' }, `Còn ${local.length} ô cần sửa.`));
      return;
    }
    v.submitting = true;
    v.submit.disabled = true;
    v.submit.textContent = 'Đang gửi…';
    try {
      const d = await B.api('POST', '/api/v1/pickup-requests', b, { idempotencyKey: v.key });
      if (v !== view) return;
      showResult(d);
    } catch (ex) {
      if (v !== view) return;
      if (ex.offline) {
        v.formError.append(h('p', { class: 'field-error', role: 'alert' }, 'Mất kết nối máy chủ. Bấm "Tạo yêu cầu" lần nữa: hệ thống không tạo trùng.'));
      } else if (ex.status === 422 && ex.problem && ex.problem.code === 'idempotency_key_reused') {
        // The first try with this key went through but its answer never arrived.
        v.key = B.uuid();
        v.form.dataset.idempotencyKey = v.key;
        v.formError.append(h('p', { class: 'field-error', role: 'alert' },
          'Một yêu cầu đã được tạo ở lần gửi trước (xem "Yêu cầu hôm nay"). Nếu vẫn cần tạo thêm, bấm "Tạo yêu cầu" lần nữa.'));
        loadRecent();
      } else if (ex.problem && ex.problem.errors && ex.problem.errors.length) {
        B.showFieldErrors(v.form, { problem: { errors: vietnamese(ex.problem.errors) } });
        v.formError.append(h('p', { class: 'field-error' }, `Chưa tạo được: ${ex.problem.errors.length} ô cần sửa.`));
      } else {
        v.formError.append(h('p', { class: 'field-error', role: 'alert' }, `Chưa tạo được: ${ex.message}`));
      }
    } finally {
      v.submitting = false;
      v.submit.disabled = false;
      v.submit.textContent = 'Tạo yêu cầu';
    }
  }

  // ---------- after success ----------

  /** "HS000000178VN" → "HS 0000 0017 8 VN", easier to read over the phone. */
  const spoken = (code) => (/^[A-Z]{2}\d{9}[A-Z]{2}$/.test(code)
    ? `${code.slice(0, 2)} ${code.slice(2, 6)} ${code.slice(6, 10)} ${code.slice(10, 11)} ${code.slice(11)}` : code);

  async function fetchReceipt(code) {
    const path = `/api/v1/dossiers/${encodeURIComponent(code)}/receipt.pdf`;
    const get = () => {
      const s = B.session();
      return fetch(path, { headers: s ? { Authorization: `Bearer ${s.access_token}` } : {} });
    };
    let res = await get();
    if (res.status === 401) {
      await B.api('GET', '/api/v1/me').catch(() => {}); // refreshes the token when it can
      res = await get();
    }
    if (!res.ok) throw new Error(`Không tải được biên nhận (lỗi ${res.status})`);
    return res.blob();
  }

  function showResult(d) {
    const v = view;
    v.done = true;
    const fees = d.fees || {};
    const code = d.tracking_code;
    let receiptUrl = null;
    const download = h('a', { id: 'receipt-download', class: 'button', hidden: true, download: `bien-nhan-${code}.pdf` }, 'Tải biên nhận (PDF)');
    const receiptState = h('p', { class: 'hint', id: 'receipt-state' });
    v.objectUrls = [];
    const receipt = fetchReceipt(code).then((blob) => {
      receiptUrl = URL.createObjectURL(blob);
      v.objectUrls.push(receiptUrl);
      download.href = receiptUrl;
      download.hidden = false;
      return receiptUrl;
    });
    receipt.catch((ex) => { receiptState.textContent = ex.message; });
    const print = h('button', { type: 'button', id: 'print-receipt', class: 'primary', onclick: async () => {
      if (receiptUrl) { window.open(receiptUrl, '_blank'); return; }
      // Open the tab inside the click (no popup blocker), fill it when the PDF arrives.
      const w = window.open('', '_blank');
      receiptState.textContent = 'Đang tải biên nhận…';
      try {
        const url = await receipt;
        receiptState.textContent = '';
        if (w) w.location.href = url; else window.open(url, '_blank');
      } catch (ex) {
        if (w) w.close();
        receiptState.textContent = ex.message;
      }
    } }, 'In biên nhận');
    const again = h('button', { type: 'button', id: 'new-call', onclick: newCall }, 'Tiếp nhận cuộc gọi mới');
    const procName = v.procedure ? v.procedure.name : d.procedure_code;
    const agency = ref.agencies.find((a) => a.id === d.agency_id);
    const addr = d.address || {};
    const ward = ref.wardIndex.get(addr.ward_code);
    const province = ref.provinces.find((p) => p.code === addr.province_code);
    const place = [addr.street, ward ? ward.name : addr.ward_code, province ? province.name : ''].filter(Boolean).join(', ');
    const docs = (v.procedure && v.procedure.required_documents) || [];
    const toPrepare = d.service === 'return'
      ? [h('li', {}, 'Căn cước của người nhận kết quả')]
      : docs.map((x) => h('li', {}, x));
    const result = h('section', { id: 'result', class: 'card result-card', 'aria-labelledby': 'h-result', tabindex: '-1' },
      h('h2', { id: 'h-result' }, 'Đã tạo yêu cầu — đọc mã cho người gọi'),
      h('p', { class: 'big-code', id: 'tracking-code' }, code),
      h('p', { class: 'spoken', id: 'tracking-code-spoken' }, `Đọc: ${spoken(code)}`),
      h('dl', { class: 'facts' },
        h('dt', {}, 'Người dân'), h('dd', {}, `${d.citizen ? d.citizen.full_name : ''} · ${d.citizen ? d.citizen.phone : ''}`),
        h('dt', {}, 'Thủ tục'), h('dd', {}, procName),
        h('dt', {}, 'Nơi nộp'), h('dd', {}, agency ? agency.name : `#${d.agency_id}`),
        h('dt', {}, d.service === 'return' ? 'Địa chỉ trả kết quả' : 'Địa chỉ lấy hồ sơ'), h('dd', { id: 'result-address' }, place),
        h('dt', {}, 'Lấy hồ sơ'), h('dd', { id: 'result-window' }, d.pickup_window ? B.fmtWindow(d.pickup_window) : 'Không (chỉ trả kết quả)'),
        h('dt', {}, 'Trả kết quả'), h('dd', {}, d.return_method === 'home' && d.service !== 'send' ? 'Tại nhà' : 'Tại quầy'),
        h('dt', {}, 'Phí'), h('dd', { id: 'result-fees', dataset: { totalVnd: String(fees.total_vnd) } },
          `Cước ${B.money(fees.postal_fee_vnd)} + lệ phí ${B.money(fees.agency_fee_vnd)} = ${B.money(fees.total_vnd)}`)),
      d.location_approximate ? h('p', { class: 'hint' }, 'Vị trí được ước tính; bưu tá sẽ cập nhật khi đến nơi.') : null,
      toPrepare.length ? h('div', { id: 'result-documents', class: 'result-docs' },
        h('h3', {}, d.service === 'return' ? 'Nhắc người dân chuẩn bị khi nhận kết quả' : 'Nhắc người dân chuẩn bị sẵn giấy tờ'),
        h('ul', {}, toPrepare)) : null,
      h('div', { class: 'actions' }, print, download, again),
      receiptState);
    v.main.replaceChildren(v.findCard, h('div', { class: 'result-layout' }, result, v.recentCard));
    v.result = result;
    window.scrollTo(0, 0);
    print.focus({ preventScroll: true });
    B.toast(`Đã tạo ${code}`, 'ok');
    loadRecent();
  }

  function newCall() {
    if (view && view.objectUrls) view.objectUrls.forEach((u) => setTimeout(() => URL.revokeObjectURL(u), 60e3));
    startCall();
  }

  // ---------- find a dossier by code or phone; cancel, reschedule, rebook ----------

  const CODE_RE = /^[A-Z]{2}\d{9}[A-Z]{2}$/;

  function findCard() {
    const q = h('input', {
      id: 'find-q', name: 'find-q', type: 'search', autocomplete: 'off', spellcheck: 'false',
      placeholder: 'Mã hồ sơ (HS…VN) hoặc số điện thoại',
    });
    const out = h('div', { id: 'find-result', 'aria-live': 'polite' });
    const form = h('form', {
      id: 'find-form', class: 'find-form', role: 'search',
      onsubmit: (e) => { e.preventDefault(); find(q.value, out); },
    },
    h('label', { for: 'find-q' }, 'Tìm hồ sơ đã tạo'),
    h('div', { class: 'find-row' }, q, h('button', { type: 'submit', id: 'find-go' }, 'Tìm')));
    return h('section', { class: 'card find-card', id: 'find', 'aria-label': 'Tìm hồ sơ' }, form, out);
  }

  async function find(raw, out) {
    const text = String(raw || '').replace(/[\s.-]+/g, '').toUpperCase();
    if (!text) { out.replaceChildren(); return; }
    B.mount(out, h('p', { class: 'hint' }, 'Đang tìm…'));
    try {
      if (CODE_RE.test(text)) {
        showFound(await B.api('GET', `/api/v1/dossiers/${encodeURIComponent(text)}`), out);
        return;
      }
      const phone = normPhone(text);
      if (!phone) {
        B.mount(out, h('p', { class: 'field-error', role: 'alert' }, 'Nhập mã hồ sơ (ví dụ HS000000178VN) hoặc số điện thoại của người dân.'));
        return;
      }
      const items = await listAll(`/api/v1/pickup-requests?phone=${encodeURIComponent(phone)}`);
      if (!items.length) { B.mount(out, h('p', { class: 'hint', id: 'find-none' }, 'Không có hồ sơ nào của số này.')); return; }
      if (items.length === 1) { showFound(await B.api('GET', `/api/v1/dossiers/${encodeURIComponent(items[0].tracking_code)}`), out); return; }
      B.mount(out, h('ul', { class: 'list found-list' }, items.slice().reverse().map((d) => h('li', {},
        h('button', {
          type: 'button', class: 'link mono', dataset: { trackingCode: d.tracking_code },
          onclick: () => B.api('GET', `/api/v1/dossiers/${encodeURIComponent(d.tracking_code)}`)
            .then((full) => showFound(full, out), (ex) => B.toast(ex.message, 'error')),
        }, d.tracking_code),
        ' ', h('span', { class: `badge ${badgeClass(d.status)}` }, d.status_label || B.statusLabel(d.status)),
        ' ', h('span', { class: 'muted' }, B.fmtDate(d.created_at))))));
    } catch (ex) {
      B.mount(out, h('p', { class: 'field-error', role: 'alert' },
        ex.status === 404 ? `Không tìm thấy hồ sơ ${text}.` : `Không tìm được: ${ex.message}`));
    }
  }

  /** The last failed pickup, unless the dossier moved on since (a new time, a pickup). */
  function openPickupFailure(d) {
    const evs = d.events || [];
    let i = evs.length - 1;
    while (i >= 0 && (evs[i].type === 'assigned' || evs[i].type === 'unassigned')) i--;
    const e = evs[i];
    if (!e || e.type !== 'failed' || !e.data || e.data.task !== 'pickup') return null;
    return e;
  }

  function showFound(d, out) {
    const goesOut = d.service !== 'return';
    const before = ['requested', 'scheduled', 'supplement_required'].includes(d.status);
    const cancellable = goesOut
      ? ['requested', 'scheduled'].includes(d.status)
      : ['requested', 'at_agency', 'supplement_required', 'result_ready'].includes(d.status);
    const failure = openPickupFailure(d);
    const addr = d.address || {};
    const ward = ref.wardIndex.get(addr.ward_code);
    const reload = async () => showFound(await B.api('GET', `/api/v1/dossiers/${encodeURIComponent(d.tracking_code)}`), out);
    const act = async (path, payload, done, btn, msgEl) => {
      btn.disabled = true;
      msgEl.replaceChildren();
      try {
        await B.api('POST', `/api/v1/dossiers/${encodeURIComponent(d.tracking_code)}/${path}`, payload,
          { idempotencyKey: B.uuid(), ifMatch: d.version });
        B.toast(done, 'ok');
        await reload();
      } catch (ex) {
        btn.disabled = false;
        const text = ex.status === 409 && ex.problem && ex.problem.code === 'conflict'
          ? 'Hồ sơ vừa thay đổi: đã tải lại, xem rồi làm lại.' : ex.message;
        msgEl.append(h('p', { class: 'field-error', role: 'alert' }, text));
        if (ex.status === 409) reload().catch(() => {});
      }
    };

    const parts = [
      h('div', { class: 'found-head' },
        h('strong', { class: 'mono', id: 'found-code' }, d.tracking_code), ' ',
        h('span', { class: `badge ${badgeClass(d.status)}`, id: 'found-status', dataset: { status: d.status } }, d.status_label || B.statusLabel(d.status))),
      h('dl', { class: 'facts' },
        h('dt', {}, 'Người dân'), h('dd', {}, `${d.citizen.full_name} · ${d.citizen.phone}`),
        h('dt', {}, 'Địa chỉ'), h('dd', {}, [addr.street, ward ? ward.name : addr.ward_code].filter(Boolean).join(', ')),
        d.pickup_window ? [h('dt', {}, 'Hẹn lấy'), h('dd', { id: 'found-window' }, B.fmtWindow(d.pickup_window))] : null),
    ];
    if (failure) {
      parts.push(h('p', { class: 'notice warn', id: 'found-failure' },
        `Lần lấy hồ sơ lúc ${B.fmtDateTime(failure.at)} không thành công: ${B.FAIL_REASON[failure.data.reason] || failure.data.reason}`,
        failure.note ? ` — ${failure.note}` : '', '. Hẹn lại giờ với người dân bên dưới.'));
    }
    if (goesOut && before) {
      const slot = nextSlot();
      const date = h('input', { id: 'resched-date', type: 'date', min: B.today(), max: addDays(B.today(), 60), value: slot.day });
      const from = h('input', { id: 'resched-from', type: 'time', step: '300', value: slot.slot.from });
      const to = h('input', { id: 'resched-to', type: 'time', step: '300', value: slot.slot.to });
      const msg = h('div', {});
      const btn = h('button', { type: 'submit', id: 'reschedule', class: 'primary' }, failure ? 'Hẹn lại lần lấy mới' : 'Hẹn lại giờ lấy');
      parts.push(h('form', {
        class: 'found-action', id: 'reschedule-form',
        onsubmit: (e) => {
          e.preventDefault();
          if (!date.value || date.value < B.today()) { B.mount(msg, h('p', { class: 'field-error', role: 'alert' }, 'Chọn ngày từ hôm nay trở đi')); return; }
          if (minutes(to.value) - minutes(from.value) < 30) { B.mount(msg, h('p', { class: 'field-error', role: 'alert' }, 'Khung giờ phải dài ít nhất 30 phút')); return; }
          act('reschedule', { pickup_window: { from: B.localToIso(date.value, from.value), to: B.localToIso(date.value, to.value) } },
            `Đã hẹn lại ${d.tracking_code}`, btn, msg);
        },
      },
      h('h3', {}, failure ? 'Hẹn lại sau lần không thành công' : 'Hẹn lại giờ lấy hồ sơ'),
      h('div', { class: 'row times' },
        h('div', { class: 'sub' }, h('label', { for: 'resched-date' }, 'Ngày'), date),
        h('div', { class: 'sub' }, h('label', { for: 'resched-from' }, 'Từ'), from),
        h('div', { class: 'sub' }, h('label', { for: 'resched-to' }, 'Đến'), to)),
      h('div', { class: 'slots' }, SLOTS.map((s) => h('button', {
        type: 'button', class: 'slot', onclick: () => { from.value = s.from; to.value = s.to; },
      }, `${s.label} ${s.from}–${s.to}`))),
      btn, msg));
    }
    if (cancellable) {
      const reason = h('input', { id: 'cancel-reason', maxlength: '500', autocomplete: 'off', placeholder: 'VD: Người dân đã tự nộp' });
      const msg = h('div', {});
      const btn = h('button', { type: 'submit', id: 'cancel-dossier', class: 'danger' }, 'Hủy hồ sơ');
      let armed = false;
      parts.push(h('form', {
        class: 'found-action', id: 'cancel-form',
        onsubmit: (e) => {
          e.preventDefault();
          if (!reason.value.trim()) { B.mount(msg, h('p', { class: 'field-error', role: 'alert' }, 'Nhập lý do hủy')); reason.focus(); return; }
          if (!armed) {
            armed = true;
            btn.textContent = 'Bấm lần nữa để xác nhận hủy';
            return;
          }
          act('cancel', { reason: reason.value.trim() }, `Đã hủy ${d.tracking_code}`, btn, msg);
        },
      },
      h('h3', {}, 'Hủy yêu cầu'),
      h('div', { class: 'field' }, h('label', { for: 'cancel-reason' }, 'Lý do hủy'), reason),
      btn, msg));
    }
    if (!(goesOut && before) && !cancellable) {
      parts.push(h('p', { class: 'hint' }, 'Hồ sơ đã qua bước có thể hẹn lại hoặc hủy từ tổng đài.'));
    }
    B.mount(out, h('div', { class: 'found', id: 'found', dataset: { trackingCode: d.tracking_code } }, parts));
  }

  // ---------- today's requests ----------

  function badgeClass(s) {
    if (s === 'completed') return 'ok';
    if (s === 'cancelled' || s === 'supplement_required') return 'bad';
    if (s === 'requested') return 'pending';
    return 'info';
  }

  async function loadRecent() {
    const v = view;
    if (!v) return;
    try {
      const items = await listAll(`/api/v1/pickup-requests?from=${B.today()}`);
      if (v !== view) return;
      const last = items.slice(-8).reverse();
      B.mount(v.recentList, last.length ? last.map((d) => h('li', { dataset: { trackingCode: d.tracking_code } },
        h('div', { class: 'recent-top' },
          h('a', { class: 'mono', href: `/track/${encodeURIComponent(d.tracking_code)}`, target: '_blank', rel: 'noopener' }, d.tracking_code),
          h('span', { class: 'muted' }, B.fmtTime(d.created_at))),
        h('div', {}, d.citizen_name),
        h('span', { class: `badge ${badgeClass(d.status)}` }, d.status_label || B.statusLabel(d.status))))
        : h('li', { class: 'muted empty' }, 'Chưa có yêu cầu nào hôm nay.'));
    } catch (ex) {
      if (v === view) B.mount(v.recentList, h('li', { class: 'error' }, `Không tải được: ${ex.message}`));
    }
  }

  B.requireLogin(['operator', 'admin'], render);
})();
