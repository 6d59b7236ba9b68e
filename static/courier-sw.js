// Buuta courier service worker, version __VERSION__.
// Keeps the courier app's shell (the page, its versioned scripts and styles, the
// manifest) so the page opens with no network. The API is never cached here: the
// page keeps its own copy of the route and its outbox of actions in IndexedDB.
'use strict';

const VERSION = '__VERSION__';
const FILES = __FILES__;
const PREFIX = 'buuta-courier-';
const CACHE = PREFIX + VERSION;
const SHELL = '/courier';
const MANIFEST = '/courier/manifest.webmanifest';
/** How long a navigation waits for the network before the cached shell is shown. */
const NAV_TIMEOUT_MS = 4000;

self.addEventListener('install', (event) => {
  event.waitUntil(
    caches.open(CACHE)
      .then((cache) => cache.addAll([SHELL, MANIFEST].concat(FILES).map((u) => new Request(u, { cache: 'reload' }))))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith(PREFIX) && k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

/** `/courier`, `/courier/` and `/courier?…` are the app's page. */
function isShell(url) {
  return url.pathname === SHELL || url.pathname === SHELL + '/';
}

function fromCache(request) {
  return caches.open(CACHE).then((cache) => cache.match(request));
}

/** Network first (bounded by a timeout), then the shell of this version. */
function navigate(request) {
  const cachedShell = () => fromCache(SHELL);
  return new Promise((resolve) => {
    let settled = false;
    const fallback = () => cachedShell().then((res) => {
      if (settled) return;
      if (res) { settled = true; resolve(res); }
    });
    const timer = setTimeout(fallback, NAV_TIMEOUT_MS);
    fetch(request).then((res) => {
      clearTimeout(timer);
      if (settled) return;
      if (res.ok) { settled = true; resolve(res); return; }
      // A server error: the cached shell is better than an error page.
      cachedShell().then((c) => { if (!settled) { settled = true; resolve(c || res); } });
    }).catch(() => {
      clearTimeout(timer);
      cachedShell().then((c) => {
        if (settled) return;
        settled = true;
        resolve(c || new Response('<!doctype html><meta charset="utf-8"><title>Bưu tá</title>' +
          '<p>Không có mạng và chưa lưu ứng dụng trên máy. Hãy mở lại khi có mạng.</p>',
        { status: 503, headers: { 'Content-Type': 'text/html; charset=utf-8' } }));
      });
    });
  });
}

/** Versioned files never change: cache first, network (and keep) otherwise. */
function staticFile(request) {
  return fromCache(request).then((hit) => hit || fetch(request).then((res) => {
    const url = new URL(request.url);
    if (res.ok && url.searchParams.get('v') === VERSION) {
      const copy = res.clone();
      caches.open(CACHE).then((cache) => cache.put(request, copy));
    }
    return res;
  }));
}

/** The manifest: network first, cache when offline. */
function networkThenCache(request) {
  return fetch(request).catch(() => fromCache(request).then((hit) => hit || Response.error()));
}

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === 'navigate' && isShell(url)) {
    event.respondWith(navigate(request));
  } else if (url.pathname.startsWith('/static/')) {
    event.respondWith(staticFile(request));
  } else if (url.pathname === MANIFEST) {
    event.respondWith(networkThenCache(request));
  }
  // Everything else (the API above all) goes to the network untouched.
});

self.addEventListener('message', (event) => {
  if (event.data === 'version' && event.source) event.source.postMessage({ version: VERSION });
});
