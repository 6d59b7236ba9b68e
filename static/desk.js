// Buuta: the desk page — the agency's one-stop desk clerk receives dossiers from
// couriers, records the agency's code and appointment, flags missing documents,
// marks results ready and hands results over at the counter.
//
// Selectors for end-to-end tests (all inside <main id="app">):
//   #scan, #scan-open                tracking code input (a barcode scanner types the code + Enter) and its button
//   #scan-error                      bad code / not found / other agency message
//   #dossier                         the open dossier (data-tracking-code, data-status)
//   #dossier-status                  status badge (data-status)
//   #dossier-facts                   citizen, address, procedure, service, fees, window, deadlines
//   #required-docs li                the procedure's required documents
//   #timeline li                     events, newest first (data-type)
//   #action-error                    409/403/other refusals of an action, in Vietnamese
//   Receive:  form#receive-form; #checked-docs (fieldset) input[name=checked-docs] (value = document);
//             #check-all-docs; #agency-dossier-code; #appointment-date; button#receive
//   Supplement: form#supplement-form; #supplement-reason; #missing-docs input[name=missing-docs];
//             #missing-other (extra documents, one per line); button#supplement
//   Result:   form#result-form; input[name=outcome] (#outcome-approved / #outcome-rejected); #result-note; button#result-ready,
//             then #result-confirm (what will be recorded) with button#confirm-result-ready / #cancel-result-ready
//   Counter:  button#handed-over-at-counter
//   .field-error next to [data-field="agency_dossier_code" | "appointment_date" | "checked_documents" |
//             "reason" | "missing_documents" | "outcome" | "note"]
//   #with-courier-list li[data-tracking-code] button dossiers still with a courier (picked up, in transit)
//   #incoming-list li[data-tracking-code] button     dossiers at this desk (lodged, supplement asked, return-only)
//   #results-list li[data-tracking-code] button      results waiting (result_ready)
//   #lists-refresh                                   reloads both lists
(function () {
  'use strict';

  const B = window.Buuta;
  const h = B.h;

  const WITH_COURIER = ['picked_up', 'in_transit'];
  const AT_DESK = ['at_agency', 'supplement_required'];
  const ORDER = { picked_up: 1, in_transit: 2, requested: 3, at_agency: 4, supplement_required: 5 };
  const EVENT_LABEL = {
    assigned: 'Phân công bưu tá', unassigned: 'Bỏ phân công', arrived: 'Bưu tá đã đến nơi', picked_up: 'Bưu tá đã lấy hồ sơ',
    failed: 'Không thực hiện được', transferred: 'Chuyển tiếp qua bưu cục', handed_over: 'Bưu tá nộp hồ sơ tại cơ quan',
    received: 'Cơ quan tiếp nhận hồ sơ', supplement_required: 'Yêu cầu bổ sung hồ sơ', result_ready: 'Đã có kết quả',
    collected: 'Bưu tá nhận kết quả', delivered: 'Đã giao kết quả cho người dân', held_at_post_office: 'Kết quả giữ tại bưu cục',
    handed_over_at_counter: 'Trả kết quả tại quầy', cancelled: 'Đã hủy', rescheduled: 'Hẹn lại giờ lấy hồ sơ',
  };
  const ROLE = { courier: 'Bưu tá', clerk: 'Một cửa', operator: 'Tổng đài', dispatcher: 'Điều phối', admin: 'Quản trị', system: 'Hệ thống', integration: 'Hệ thống một cửa' };
  const SERVICE = { both: 'Lấy hồ sơ và trả kết quả', send: 'Chỉ lấy hồ sơ đi nộp', return: 'Chỉ trả kết quả' };
  const ACTION_LABEL = {
    receive: 'Tiếp nhận hồ sơ', 'supplement-required': 'Yêu cầu bổ sung', 'result-ready': 'Báo có kết quả',
    'handed-over-at-counter': 'Trả kết quả tại quầy',
  };
  const OUTCOME = { approved: 'Giải quyết (chấp thuận)', rejected: 'Từ chối giải quyết' };

  const cache = { procedures: new Map(), agencies: new Map(), wards: new Map(), holidays: new Set() };
  const keys = new Map(); // `${code}|${action}` → Idempotency-Key, kept until the action succeeds

  const procName = new Map(); // procedure code → name, for the lists
  let me = null;
  let ui = null;
  let current = null; // the open dossier

  // ---------- helpers ----------

  const { addDays } = B;
  const isWorkingDay = (day) => B.isWorkingDay(day, cache.holidays);
  /** `n` working days after `day` (weekends and holidays skipped). */
  function addWorkingDays(day, n) {
    let d = day;
    let left = n;
    while (left > 0) { d = addDays(d, 1); if (isWorkingDay(d)) left--; }
    while (!isWorkingDay(d)) d = addDays(d, 1);
    return d;
  }
  const fmtDay = (day) => (day ? day.split('-').reverse().join('/') : '');

  /** Upper case, no blanks; null unless a UPU S10 code with a right check digit. */
  function normCode(raw) {
    const c = String(raw || '').toUpperCase().replace(/[\s-]/g, '');
    if (!/^[A-Z]{2}\d{9}[A-Z]{2}$/.test(c)) return null;
    const w = [8, 6, 4, 2, 3, 5, 9, 7];
    const sum = w.reduce((s, x, i) => s + x * Number(c[2 + i]), 0);
    let check = 11 - (sum % 11);
    if (check === 10) check = 0;
    if (check === 11) check = 5;
    return Number(c[10]) === check ? c : null;
  }

  function badgeClass(s) {
    if (s === 'completed') return 'ok';
    if (s === 'cancelled' || s === 'supplement_required') return 'bad';
    if (s === 'result_ready') return 'ok';
    if (s === 'picked_up' || s === 'in_transit') return 'pending';
    return 'info';
  }
  const resultGoesHome = (d) => d.service !== 'send' && d.return_method === 'home';

  async function procedure(code) {
    if (!cache.procedures.has(code)) {
      const p = B.api('GET', `/api/v1/procedures/${encodeURIComponent(code)}`);
      p.catch(() => cache.procedures.delete(code));
      cache.procedures.set(code, p);
    }
    return cache.procedures.get(code);
  }
  async function agency(id) {
    if (!cache.agencies.has(id)) {
      const p = B.api('GET', `/api/v1/agencies/${id}`);
      p.catch(() => cache.agencies.delete(id));
      cache.agencies.set(id, p);
    }
    return cache.agencies.get(id);
  }
  async function wardName(province, code) {
    if (!cache.wards.has(province)) {
      const p = B.api('GET', `/api/v1/admin-units/provinces/${encodeURIComponent(province)}/wards`)
        .then((rows) => new Map(rows.map((w) => [w.code, w.name])));
      p.catch(() => cache.wards.delete(province));
      cache.wards.set(province, p);
    }
    try { return (await cache.wards.get(province)).get(code) || `mã ${code}`; } catch (_) { return `mã ${code}`; }
  }

  function field(id, label, input, ...extra) {
    return h('div', { class: 'field' }, h('label', { for: id }, label), input, ...extra);
  }

  // ---------- page ----------

  function render(user) {
    me = user;
    ui = {};
    ui.scan = h('input', {
      id: 'scan', name: 'scan', class: 'big-input', autocomplete: 'off', autocapitalize: 'characters', spellcheck: 'false',
      inputmode: 'text', placeholder: 'HS000000000VN', 'aria-describedby': 'scan-hint scan-error',
    });
    ui.scanError = h('p', { id: 'scan-error', class: 'scan-error', role: 'alert', hidden: true });
    ui.scanForm = h('form', { class: 'card scan-card', id: 'scan-form', onsubmit: (e) => { e.preventDefault(); openCode(ui.scan.value); } },
      h('label', { for: 'scan', class: 'scan-label' }, 'Quét hoặc gõ mã hồ sơ'),
      h('div', { class: 'scan-row' }, ui.scan, h('button', { type: 'submit', id: 'scan-open', class: 'primary' }, 'Mở')),
      h('p', { class: 'hint', id: 'scan-hint' }, 'Máy quét mã vạch gõ mã rồi Enter. Mã có dạng 2 chữ, 9 số, 2 chữ (VD: HS000000178VN).'),
      ui.scanError);
    ui.dossier = h('section', { id: 'dossier', class: 'dossier', 'aria-live': 'polite', hidden: true });
    ui.placeholder = h('p', { class: 'card desk-empty', id: 'desk-empty' }, 'Quét mã vạch trên phong bì hồ sơ, hoặc chọn một hồ sơ trong danh sách.');
    ui.withCourier = h('ul', { id: 'with-courier-list', class: 'list desk-list' });
    ui.withCourierCount = h('span', { class: 'badge pending', id: 'with-courier-count' }, '…');
    ui.incoming = h('ul', { id: 'incoming-list', class: 'list desk-list' });
    ui.results = h('ul', { id: 'results-list', class: 'list desk-list' });
    ui.incomingCount = h('span', { class: 'badge info', id: 'incoming-count' }, '…');
    ui.resultsCount = h('span', { class: 'badge ok', id: 'results-count' }, '…');
    ui.agencyName = h('p', { class: 'muted desk-agency', id: 'desk-agency' });
    const lists = h('aside', { class: 'desk-side', 'aria-label': 'Danh sách hồ sơ' },
      h('div', { class: 'side-head' },
        h('h2', {}, 'Hồ sơ của cơ quan'),
        h('button', { type: 'button', class: 'link', id: 'lists-refresh', onclick: loadLists }, 'Làm mới')),
      ui.agencyName,
      h('section', { class: 'card', 'aria-labelledby': 'h-incoming' },
        h('h3', { id: 'h-incoming' }, 'Tại quầy, đang xử lý ', ui.incomingCount), ui.incoming),
      h('section', { class: 'card', 'aria-labelledby': 'h-with-courier' },
        h('h3', { id: 'h-with-courier' }, 'Bưu tá đang mang đến ', ui.withCourierCount),
        h('p', { class: 'hint' }, 'Chưa tới quầy: tiếp nhận khi bưu tá nộp.'), ui.withCourier),
      h('section', { class: 'card', 'aria-labelledby': 'h-results' },
        h('h3', { id: 'h-results' }, 'Kết quả chờ trả ', ui.resultsCount), ui.results));
    ui.layout = h('div', { class: 'desk-layout idle' }, h('div', { class: 'desk-main' }, ui.scanForm, ui.placeholder, ui.dossier), lists);
    B.mount(B.app(), ui.layout);
    if (me.agency_id) agency(me.agency_id).then((a) => { ui.agencyName.textContent = a.name; }).catch(() => {});
    else ui.agencyName.textContent = me.role === 'admin' ? 'Quản trị: xem mọi cơ quan; thao tác cần tài khoản cán bộ một cửa.' : 'Tài khoản chưa gắn với cơ quan nào.';
    B.api('GET', '/api/v1/holidays').then((rows) => { cache.holidays = new Set(rows.map((x) => x.date)); }).catch(() => {});
    B.api('GET', '/api/v1/procedures').then((rows) => {
      rows.forEach((p) => procName.set(p.code, p.name));
      loadLists();
    }, () => loadLists());
    const fromHash = normCode(decodeURIComponent(location.hash.slice(1)));
    if (fromHash) openCode(fromHash); else ui.scan.focus();
  }

  function scanMessage(text) {
    ui.scanError.textContent = text || '';
    ui.scanError.hidden = !text;
    ui.scan.classList.toggle('invalid', !!text);
  }

  async function openCode(raw, opts) {
    opts = opts || {};
    const code = normCode(raw);
    if (!code) {
      scanMessage(String(raw || '').trim() ? 'Mã hồ sơ không hợp lệ (sai dạng hoặc sai số kiểm tra). Quét lại hoặc gõ lại.' : 'Nhập hoặc quét mã hồ sơ.');
      ui.scan.focus();
      ui.scan.select();
      return;
    }
    scanMessage('');
    ui.scan.value = code;
    let d;
    try {
      d = await B.api('GET', `/api/v1/dossiers/${encodeURIComponent(code)}`);
    } catch (ex) {
      if (ex.status === 404) scanMessage(`Không tìm thấy hồ sơ ${code}.`);
      else if (ex.status === 403) scanMessage(`Hồ sơ ${code} thuộc cơ quan khác, không xem được ở đây.`);
      else scanMessage(ex.message);
      ui.scan.select();
      return;
    }
    current = d;
    if (location.hash !== `#${code}`) history.replaceState(null, '', `#${code}`);
    await showDossier(d);
    if (!opts.keepFocus) {
      // Ready for the next scan, unless there is an obvious next step.
      const first = B.$('#receive-form input, #result-form input, #handed-over-at-counter', ui.dossier);
      if (opts.focusAction && first) first.focus(); else { ui.scan.focus(); ui.scan.select(); }
    }
    markOpen(code);
  }

  function markOpen(code) {
    B.$$('.desk-list li', B.app()).forEach((li) => li.classList.toggle('open', li.dataset.trackingCode === code));
  }

  // ---------- one dossier ----------

  async function showDossier(d) {
    const [proc, ward, ag] = await Promise.all([
      procedure(d.procedure_code).catch(() => null),
      wardName(d.address.province_code, d.address.ward_code),
      agency(d.agency_id).catch(() => null),
    ]);
    if (current !== d) return;
    const docs = (proc && proc.required_documents) || [];
    const counted = lastEvent(d, 'picked_up');
    const countedDocs = counted && counted.data && counted.data.proof && counted.data.proof.checked_documents;
    const late = (d.deadlines && d.deadlines.late) || [];
    const LATE = { pickup: 'trễ hẹn lấy hồ sơ', handover: 'trễ hạn nộp cơ quan', return: 'trễ hạn trả kết quả' };

    const facts = h('dl', { class: 'facts', id: 'dossier-facts' },
      h('dt', {}, 'Người dân'), h('dd', {}, d.citizen.full_name, h('br'), h('a', { href: `tel:${d.citizen.phone}` }, d.citizen.phone),
        d.citizen.id_number ? ` · CCCD ${d.citizen.id_number}` : ''),
      h('dt', {}, 'Địa chỉ'), h('dd', {}, `${d.address.street}, ${ward}`),
      h('dt', {}, 'Thủ tục'), h('dd', { id: 'dossier-procedure' }, proc ? proc.name : '', h('span', { class: 'muted' }, ` (${d.procedure_code})`)),
      h('dt', {}, 'Cơ quan'), h('dd', {}, ag ? ag.name : `#${d.agency_id}`),
      h('dt', {}, 'Dịch vụ'), h('dd', {}, `${SERVICE[d.service] || d.service} · ${resultGoesHome(d) ? 'trả kết quả tại nhà' : 'nhận kết quả tại quầy'}`),
      h('dt', {}, 'Phí'), h('dd', {}, `Cước ${B.money(d.fees.postal_fee_vnd)} · lệ phí thu hộ ${B.money(d.fees.agency_fee_vnd)}`),
      d.pickup_window ? [h('dt', {}, 'Hẹn lấy'), h('dd', {}, B.fmtWindow(d.pickup_window))] : null,
      d.agency_dossier_code ? [h('dt', {}, 'Mã hồ sơ cơ quan'), h('dd', { id: 'dossier-agency-code' }, d.agency_dossier_code)] : null,
      d.deadlines && d.deadlines.agency_appointment ? [h('dt', {}, 'Hẹn trả'), h('dd', { id: 'dossier-appointment' }, fmtDay(d.deadlines.agency_appointment))] : null,
      d.deadlines && d.deadlines.handover_by && ['picked_up', 'in_transit'].includes(d.status) ? [h('dt', {}, 'Hạn nộp cơ quan'), h('dd', {}, B.fmtDateTime(d.deadlines.handover_by))] : null,
      d.deadlines && d.deadlines.return_by && ['result_ready', 'out_for_delivery'].includes(d.status) ? [h('dt', {}, 'Hạn trả tại nhà'), h('dd', {}, B.fmtDateTime(d.deadlines.return_by))] : null,
      d.outcome ? [h('dt', {}, 'Kết quả'), h('dd', {}, OUTCOME[d.outcome] || d.outcome)] : null,
      d.note ? [h('dt', {}, 'Ghi chú'), h('dd', {}, d.note)] : null);

    const docsBlock = h('div', { class: 'docs-block' },
      h('h3', {}, 'Giấy tờ theo thủ tục'),
      docs.length ? h('ol', { id: 'required-docs', class: 'docs' }, docs.map((x) => h('li', {}, x))) : h('p', { class: 'muted', id: 'required-docs' }, 'Thủ tục không có danh sách giấy tờ.'),
      countedDocs ? h('p', { class: 'hint' }, `Bưu tá đã kiểm đếm khi lấy: ${countedDocs.join('; ')}${counted.data.proof.seal_number ? ` · niêm phong số ${counted.data.proof.seal_number}` : ''}.`) : null);

    const timeline = h('ol', { class: 'timeline', id: 'timeline' },
      d.events.slice().reverse().map((e) => h('li', { dataset: { type: e.type } },
        h('span', { class: 'label' }, eventLabel(e)),
        h('time', { datetime: e.at }, `${B.fmtDateTime(e.at)} · ${ROLE[e.actor_role] || e.actor_role || ''}`),
        eventDetail(e) ? h('span', { class: 'place' }, eventDetail(e)) : null)),
      h('li', { dataset: { type: 'requested' } }, h('span', { class: 'label' }, 'Tiếp nhận yêu cầu qua tổng đài'), h('time', { datetime: d.created_at }, B.fmtDateTime(d.created_at))));

    ui.actionError = h('div', { id: 'action-error', class: 'action-error', role: 'alert', hidden: true });
    B.mount(ui.dossier,
      h('div', { class: 'card dossier-head' },
        h('div', { class: 'head-row' },
          h('h2', { class: 'code-title', id: 'dossier-code' }, d.tracking_code),
          h('span', { class: 'status-badge', id: 'dossier-status', dataset: { status: d.status } }, d.status_label || B.statusLabel(d.status))),
        late.length ? h('p', { class: 'badge bad late' }, `Cảnh báo: ${late.map((x) => LATE[x] || x).join(', ')}`) : null,
        facts),
      h('div', { class: 'card actions-card', id: 'actions' }, h('h2', {}, 'Thao tác'), ui.actionError,
        h('div', { class: 'action-forms' }, actionsFor(d, docs, proc))),
      h('div', { class: 'dossier-cols' },
        h('div', { class: 'card' }, docsBlock),
        h('div', { class: 'card' }, h('h3', {}, 'Diễn biến'), timeline)));
    ui.dossier.hidden = false;
    ui.placeholder.hidden = true;
    ui.layout.classList.remove('idle');
    ui.dossier.dataset.trackingCode = d.tracking_code;
    ui.dossier.dataset.status = d.status;
  }

  const lastEvent = (d, type) => d.events.slice().reverse().find((e) => e.type === type);

  function eventLabel(e) {
    if (e.type === 'result_ready') {
      const o = e.data && (e.data.outcome || (e.data.proof && e.data.proof.outcome));
      return o ? `Đã có kết quả: ${OUTCOME[o] || o}` : EVENT_LABEL.result_ready;
    }
    if (e.type === 'failed') {
      const r = e.data && (e.data.reason || (e.data.proof && e.data.proof.reason));
      return r ? `Không thực hiện được: ${B.FAIL_REASON[r] || r}` : EVENT_LABEL.failed;
    }
    return EVENT_LABEL[e.type] || e.label || e.type;
  }

  function eventDetail(e) {
    const p = (e.data && e.data.proof) || {};
    const parts = [];
    if (e.type === 'received') {
      if (p.agency_dossier_code) parts.push(`mã ${p.agency_dossier_code}`);
      if (p.appointment_date) parts.push(`hẹn trả ${fmtDay(p.appointment_date)}`);
      if (Array.isArray(p.checked_documents)) parts.push(`${p.checked_documents.length} giấy tờ`);
    }
    if (e.type === 'supplement_required' && Array.isArray(p.missing_documents)) parts.push(`thiếu: ${p.missing_documents.join('; ')}`);
    if (e.note) parts.push(e.note);
    return parts.join(' · ');
  }

  function actionsFor(d, docs, proc) {
    const s = d.status;
    const sendLeg = d.service !== 'return'; // 'send' and 'both': a courier brings the dossier in
    const blocks = [];
    const canReceive = (['picked_up', 'in_transit'].includes(s) && sendLeg)
      || s === 'supplement_required'
      || (s === 'at_agency' && !d.agency_dossier_code)
      || (s === 'requested' && d.service === 'return');
    if (canReceive) blocks.push(receiveForm(d, docs, proc));
    if (s === 'at_agency') blocks.push(supplementForm(d, docs));
    if (['at_agency', 'supplement_required'].includes(s) || (s === 'requested' && d.service === 'return')) blocks.push(resultForm(d));
    if (s === 'result_ready') {
      if (resultGoesHome(d)) {
        blocks.push(h('p', { class: 'info-box' }, 'Kết quả sẽ được bưu tá đến nhận và giao tận nhà. Khi bưu tá đến, giao kết quả cho bưu tá (bưu tá ghi nhận trên ứng dụng).'));
      } else {
        blocks.push(counterBlock(d));
      }
    }
    if (!blocks.length) {
      const why = {
        requested: 'Hồ sơ chưa được lấy từ nhà người dân.', scheduled: 'Bưu tá chưa lấy hồ sơ.',
        out_for_delivery: 'Bưu tá đang giao kết quả cho người dân.', completed: 'Hồ sơ đã hoàn thành.', cancelled: 'Hồ sơ đã hủy.',
      };
      blocks.push(h('p', { class: 'muted', id: 'no-action' }, `${why[s] || ''} Không có thao tác nào ở bước này.`));
    }
    return blocks;
  }

  function receiveForm(d, docs, proc) {
    const boxes = docs.map((doc, i) => h('label', { class: 'check', for: `doc-${i}` },
      h('input', { type: 'checkbox', id: `doc-${i}`, name: 'checked-docs', value: doc }), doc));
    const all = h('button', { type: 'button', id: 'check-all-docs', class: 'link', onclick: () => {
      const on = boxes.some((b) => !b.firstChild.checked);
      boxes.forEach((b) => { b.firstChild.checked = on; });
    } }, 'Chọn/bỏ tất cả');
    const days = proc ? proc.processing_days : 0;
    const appt = addWorkingDays(B.today(), days);
    const code = h('input', { id: 'agency-dossier-code', name: 'agency_dossier_code', autocomplete: 'off', maxlength: '64', dataset: { field: 'agency_dossier_code' }, placeholder: 'Mã trên hệ thống một cửa' });
    const date = h('input', { id: 'appointment-date', name: 'appointment_date', type: 'date', min: B.today(), max: addDays(B.today(), 366), value: appt, dataset: { field: 'appointment_date' } });
    const form = h('form', { id: 'receive-form', class: 'action-form', novalidate: true, onsubmit: (e) => {
      e.preventDefault();
      const checked = B.$$('input[name=checked-docs]:checked', form).map((x) => x.value);
      const local = [];
      if (!code.value.trim()) local.push({ field: 'agency_dossier_code', message: 'Nhập mã hồ sơ của cơ quan' });
      if (!date.value) local.push({ field: 'appointment_date', message: 'Chọn ngày hẹn trả kết quả' });
      if (!checked.length) local.push({ field: 'checked_documents', message: 'Đánh dấu các giấy tờ đã kiểm đếm (ít nhất một)' });
      if (local.length) { B.showFieldErrors(form, { problem: { errors: local } }); return; }
      act(form, 'receive', { agency_dossier_code: code.value.trim(), appointment_date: date.value, checked_documents: checked },
        `Đã tiếp nhận ${d.tracking_code}`);
    } },
    h('h3', {}, d.status === 'supplement_required' ? 'Tiếp nhận hồ sơ đã bổ sung' : 'Tiếp nhận hồ sơ'),
    h('fieldset', { id: 'checked-docs', class: 'field checklist', dataset: { field: 'checked_documents' } },
      h('legend', {}, 'Kiểm đếm giấy tờ nhận được ', all),
      boxes.length ? boxes : h('p', { class: 'muted' }, 'Không có danh sách giấy tờ.')),
    h('div', { class: 'row' },
      field('agency-dossier-code', 'Mã hồ sơ của cơ quan', code),
      field('appointment-date', 'Ngày hẹn trả kết quả', date, h('p', { class: 'hint' }, `Gợi ý: ${days} ngày làm việc theo thủ tục.`))),
    h('button', { type: 'submit', id: 'receive', class: 'ok' }, 'Tiếp nhận hồ sơ'));
    return form;
  }

  function supplementForm(d, docs) {
    const boxes = docs.map((doc, i) => h('label', { class: 'check', for: `miss-${i}` },
      h('input', { type: 'checkbox', id: `miss-${i}`, name: 'missing-docs', value: doc }), doc));
    const other = h('textarea', { id: 'missing-other', name: 'missing_other', rows: '2', placeholder: 'Mỗi dòng một giấy tờ' });
    const reason = h('textarea', { id: 'supplement-reason', name: 'reason', rows: '2', maxlength: '500', dataset: { field: 'reason' } });
    const form = h('form', { id: 'supplement-form', class: 'action-form', novalidate: true, onsubmit: (e) => {
      e.preventDefault();
      const missing = B.$$('input[name=missing-docs]:checked', form).map((x) => x.value)
        .concat(other.value.split('\n').map((x) => x.trim()).filter(Boolean));
      const local = [];
      if (!reason.value.trim()) local.push({ field: 'reason', message: 'Nhập lý do cần bổ sung' });
      if (!missing.length) local.push({ field: 'missing_documents', message: 'Chọn hoặc nhập ít nhất một giấy tờ còn thiếu' });
      if (local.length) { B.showFieldErrors(form, { problem: { errors: local } }); return; }
      act(form, 'supplement-required', { reason: reason.value.trim(), missing_documents: missing }, `Đã yêu cầu bổ sung ${d.tracking_code}`);
    } },
    h('h3', {}, 'Yêu cầu bổ sung'),
    h('fieldset', { id: 'missing-docs', class: 'field checklist', dataset: { field: 'missing_documents' } },
      h('legend', {}, 'Giấy tờ còn thiếu'),
      boxes,
      field('missing-other', 'Giấy tờ khác', other)),
    field('supplement-reason', 'Lý do', reason),
    h('p', { class: 'hint' }, d.service === 'return' ? 'Người dân tự mang giấy tờ đến quầy.' : 'Bưu tá sẽ đến nhà người dân lấy giấy tờ bổ sung vào sáng ngày làm việc kế tiếp.'),
    h('button', { type: 'submit', id: 'supplement', class: 'danger' }, 'Yêu cầu bổ sung'));
    return form;
  }

  function resultForm(d) {
    const radio = (v, label) => h('label', { class: 'check', for: `outcome-${v}` },
      h('input', { type: 'radio', id: `outcome-${v}`, name: 'outcome', value: v, checked: v === 'approved', dataset: v === 'approved' ? { field: 'outcome' } : {} }), label);
    const note = h('textarea', { id: 'result-note', name: 'note', rows: '2', maxlength: '500', dataset: { field: 'note' } });
    const confirmBox = h('div', { id: 'result-confirm', class: 'confirm-box', hidden: true, role: 'alertdialog', 'aria-labelledby': 'result-confirm-title' });
    const submitBtn = () => B.$('#result-ready', form);
    const closeConfirm = () => { confirmBox.hidden = true; confirmBox.replaceChildren(); submitBtn().hidden = false; };
    const form = h('form', { id: 'result-form', class: 'action-form', novalidate: true, onsubmit: (e) => {
      e.preventDefault();
      const outcome = (B.$('input[name=outcome]:checked', form) || {}).value;
      if (outcome === 'rejected' && !note.value.trim()) {
        B.showFieldErrors(form, { problem: { errors: [{ field: 'note', message: 'Từ chối giải quyết: ghi lý do để người dân biết' }] } });
        return;
      }
      B.clearFieldErrors(form);
      // Say what will be recorded (and texted to the citizen) before it is.
      const refused = outcome === 'rejected';
      B.mount(confirmBox,
        h('p', { id: 'result-confirm-title' }, h('strong', {}, refused ? 'Xác nhận TỪ CHỐI giải quyết' : 'Xác nhận đã có kết quả (chấp thuận)'),
          ` cho hồ sơ ${d.tracking_code} của ${d.citizen.full_name}?`),
        refused ? h('p', {}, `Lý do: ${note.value.trim()}`) : null,
        h('p', { class: 'hint' }, `Người dân sẽ nhận tin nhắn báo kết quả; ${resultGoesHome(d) ? 'bưu tá sẽ đến nhận kết quả để giao tận nhà' : 'người dân đến quầy nhận kết quả'}. Không hoàn tác được.`),
        h('div', { class: 'actions' },
          h('button', { type: 'button', id: 'confirm-result-ready', class: refused ? 'danger-solid' : 'primary', onclick: () => {
            const btn = submitBtn();
            closeConfirm();
            btn.hidden = false;
            act(form, 'result-ready', { outcome, note: note.value.trim() || undefined }, refused ? `Đã báo từ chối giải quyết ${d.tracking_code}` : `Đã báo có kết quả ${d.tracking_code}`);
          } }, refused ? 'Xác nhận từ chối' : 'Xác nhận có kết quả'),
          h('button', { type: 'button', id: 'cancel-result-ready', onclick: () => { closeConfirm(); submitBtn().focus(); } }, 'Quay lại')));
      confirmBox.hidden = false;
      submitBtn().hidden = true;
      B.$('#confirm-result-ready', confirmBox).focus();
    } },
    h('h3', {}, 'Báo có kết quả'),
    h('fieldset', { class: 'field checklist outcome' }, h('legend', {}, 'Kết quả giải quyết'), radio('approved', OUTCOME.approved), radio('rejected', OUTCOME.rejected)),
    field('result-note', 'Ghi chú (không bắt buộc)', note),
    h('p', { class: 'hint' }, resultGoesHome(d) ? 'Kết quả sẽ được bưu tá đến nhận và trả tận nhà.' : 'Người dân nhận kết quả tại quầy.'),
    h('button', { type: 'submit', id: 'result-ready', class: 'primary' }, 'Báo có kết quả'),
    confirmBox);
    B.$$('input[name=outcome]', form).forEach((r) => r.addEventListener('change', closeConfirm));
    return form;
  }

  function counterBlock(d) {
    const form = h('form', { id: 'counter-form', class: 'action-form', onsubmit: (e) => {
      e.preventDefault();
      act(form, 'handed-over-at-counter', {}, `Đã trả kết quả ${d.tracking_code} tại quầy`);
    } },
    h('h3', {}, 'Trả kết quả tại quầy'),
    h('p', {}, `Đối chiếu giấy tờ tùy thân của ${d.citizen.full_name} trước khi trả.`),
    h('button', { type: 'submit', id: 'handed-over-at-counter', class: 'ok' }, 'Đã trả kết quả tại quầy'));
    return form;
  }

  async function act(form, action, body, okText) {
    const d = current;
    const k = `${d.tracking_code}|${action}`;
    if (!keys.has(k)) keys.set(k, B.uuid());
    const btn = B.$('button[type=submit]', form);
    B.clearFieldErrors(form);
    ui.actionError.hidden = true;
    btn.disabled = true;
    try {
      const fresh = await B.api('POST', `/api/v1/dossiers/${encodeURIComponent(d.tracking_code)}/${action}`, body, { idempotencyKey: keys.get(k), ifMatch: d.version });
      keys.delete(k);
      B.toast(okText, 'ok');
      current = fresh;
      await showDossier(fresh);
      ui.scan.focus();
      ui.scan.select();
      loadLists();
    } catch (ex) {
      btn.disabled = false;
      if (ex.offline) {
        showActionError('Mất kết nối máy chủ. Bấm lại: thao tác sẽ không bị ghi hai lần.');
      } else if (ex.status === 409 && ex.problem && ex.problem.code === 'document_shortfall') {
        // Fewer documents than the courier took: say which, and let the clerk confirm.
        keys.delete(k);
        const confirm = h('button', { type: 'button', id: 'accept-shortfall', class: 'danger', onclick: () => {
          ui.actionError.hidden = true;
          act(form, action, Object.assign({}, body, { accept_shortfall: true }), `${okText} (ghi nhận thiếu giấy tờ)`);
        } }, 'Vẫn tiếp nhận, ghi nhận thiếu giấy tờ');
        showActionError(null, false, () => [
          h('p', {}, h('strong', {}, 'Số giấy tờ ít hơn số bưu tá đã nhận. '), vietnameseDetail(ex.message)),
          h('p', {}, 'Kiểm tra lại túi hồ sơ và liên hệ bưu tá trước khi tiếp nhận.'), confirm]);
      } else if (ex.status === 409) {
        keys.delete(k);
        showActionError(null, true, (fresh) => [
          h('p', {}, `Không thể "${ACTION_LABEL[action]}": hồ sơ hiện ở trạng thái "${fresh ? fresh.status_label || B.statusLabel(fresh.status) : '?'}" — có thể vừa có người khác cập nhật. Đã tải lại hồ sơ, kiểm tra lại trước khi làm tiếp.`),
          h('p', { class: 'detail' }, vietnameseDetail(ex.message))]);
      } else if (ex.status === 403) {
        showActionError(`Không có quyền: ${ex.message}`);
      } else if (ex.status === 422 && ex.problem && ex.problem.errors && ex.problem.errors.length) {
        B.showFieldErrors(form, ex);
      } else if (ex.status === 422 && ex.problem && ex.problem.code === 'idempotency_key_reused') {
        keys.delete(k);
        showActionError('Thao tác trước đó đã được ghi nhận. Đã tải lại hồ sơ.', true);
      } else {
        showActionError(ex.message);
      }
    }
  }

  /** A server reason without its English developer note and raw identifiers. */
  function vietnameseDetail(msg) {
    return String(msg || '')
      .replace(/\s*\([^()]*`[^()]*\)/g, '')
      .replace(/'([a-z_]+)'/g, (_, x) => `"${EVENT_LABEL[x] || B.STATUS[x] || x}"`);
  }

  async function showActionError(text, reload, build) {
    if (reload && current) {
      const code = current.tracking_code;
      await openCode(code, { keepFocus: true });
      loadLists();
    }
    ui.actionError.replaceChildren(...(build ? build(current) : [h('p', {}, text)]));
    ui.actionError.hidden = false;
    ui.actionError.scrollIntoView({ block: 'nearest' });
  }

  // ---------- lists ----------

  async function search(status) {
    const q = new URLSearchParams({ status, limit: '500' });
    if (me.agency_id) q.set('agency_id', String(me.agency_id));
    const page = await B.api('GET', `/api/v1/pickup-requests?${q}`);
    return page.items || [];
  }

  function row(d) {
    return h('li', { dataset: { trackingCode: d.tracking_code, status: d.status }, class: current && current.tracking_code === d.tracking_code ? 'open' : null },
      h('button', { type: 'button', class: 'row-btn', onclick: () => openCode(d.tracking_code, { focusAction: true }) },
        h('span', { class: 'row-top' }, h('span', { class: 'mono' }, d.tracking_code),
          h('span', { class: `badge ${badgeClass(d.status)}` }, d.status_label || B.statusLabel(d.status))),
        h('span', { class: 'row-name' }, d.citizen_name),
        h('span', { class: 'muted row-sub' }, `${procName.get(d.procedure_code) || d.procedure_code} · ${d.service === 'return' ? 'chỉ trả kết quả' : d.service !== 'send' && d.return_method === 'home' ? 'trả tại nhà' : 'nhận tại quầy'}`)));
  }

  async function loadLists() {
    if (!ui) return;
    try {
      const [onWay, atDesk, req, res] = await Promise.all([
        Promise.all(WITH_COURIER.map(search)).then((xs) => xs.flat()),
        Promise.all(AT_DESK.map(search)).then((xs) => xs.flat()),
        search('requested').then((xs) => xs.filter((d) => d.service === 'return')),
        search('result_ready'),
      ]);
      const byOrder = (a, b) => (ORDER[a.status] - ORDER[b.status]) || (a.id - b.id);
      const withCourier = onWay.sort(byOrder);
      const incoming = atDesk.concat(req).sort(byOrder);
      B.mount(ui.withCourier, withCourier.length ? withCourier.map(row) : h('li', { class: 'muted empty' }, 'Không có hồ sơ nào đang trên đường.'));
      ui.withCourierCount.textContent = String(withCourier.length);
      B.mount(ui.incoming, incoming.length ? incoming.map(row) : h('li', { class: 'muted empty' }, 'Không có hồ sơ nào tại quầy.'));
      B.mount(ui.results, res.length ? res.map(row) : h('li', { class: 'muted empty' }, 'Không có kết quả nào chờ trả.'));
      ui.incomingCount.textContent = String(incoming.length);
      ui.resultsCount.textContent = String(res.length);
    } catch (ex) {
      B.mount(ui.incoming, h('li', { class: 'error' }, `Không tải được danh sách: ${ex.message}`));
    }
  }

  window.addEventListener('hashchange', () => {
    const c = normCode(decodeURIComponent(location.hash.slice(1)));
    if (ui && c && (!current || current.tracking_code !== c)) openCode(c);
  });

  B.requireLogin(['clerk', 'admin'], render);
})();
