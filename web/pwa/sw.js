// penpen's service worker: lets the installed app open from its own cache
// when the web server cannot be reached (the messages come from IndexedDB).
//
// - The page is network-first: online, every load gets the current release.
// - Hashed assets (trunk names them <name>-<hash>.<ext>) are cache-first:
//   a name never changes content.
// - A release is the set of hashed assets the page names; its cache is
//   named after them, filled completely before it replaces the old one.
// - Other same-origin files (penpen.json, the manifest, icons) are
//   network-first with the last copy kept for offline use.
// - Nothing from another origin (the server's ports, stored files) and no
//   URL carrying a credential (?token=, ?ticket=) is ever cached.
'use strict';

const RELEASE_PREFIX = 'penpen-release-';
const FILES = 'penpen-files';
const HASHED = /-[0-9a-f]{6,16}(?:_bg)?\.(?:js|wasm|css|svg|png|woff2?)$/;
const CREDENTIAL = /[?&](?:token|ticket)=/i;

const scopeUrl = (path) => new URL(path, self.registration.scope).href;
// The page is kept under one key, without the query of the link that opened it.
const pageKey = () => scopeUrl('./');

// The same-origin hashed assets a release's page names.
function assetsOf(html) {
  const found = new Set();
  for (const match of html.matchAll(/["']([^"'\s<>]+)["']/g)) {
    let url;
    try {
      url = new URL(match[1], self.registration.scope);
    } catch (notUrl) {
      continue;
    }
    if (url.origin === self.location.origin && HASHED.test(url.pathname)) {
      found.add(url.pathname);
    }
  }
  return [...found].sort();
}

// A release's name: FNV-1a over its asset names.
function releaseOf(assets) {
  let hash = 0x811c9dc5;
  for (const char of assets.join('\n')) {
    hash ^= char.codePointAt(0);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return RELEASE_PREFIX + hash.toString(16);
}

// Keeps `response` (the page) with every asset it names, then drops older
// releases. A release whose assets cannot all be fetched is not used.
async function keepRelease(response) {
  const html = await response.clone().text();
  const assets = assetsOf(html);
  const name = releaseOf(assets);
  const cache = await caches.open(name);
  if (!(await cache.match(pageKey()))) {
    await cache.addAll(assets);
  }
  await cache.put(pageKey(), response);
  for (const key of await caches.keys()) {
    if (key.startsWith(RELEASE_PREFIX) && key !== name) {
      await caches.delete(key);
    }
  }
}

// The newest complete release's page.
async function cachedPage() {
  const releases = (await caches.keys()).filter((key) => key.startsWith(RELEASE_PREFIX));
  for (const key of releases.reverse()) {
    const page = await (await caches.open(key)).match(pageKey());
    if (page) {
      return page;
    }
  }
  return undefined;
}

async function fetchPage() {
  const response = await fetch(pageKey(), { cache: 'no-store' });
  if (response.ok) {
    await keepRelease(response);
  }
}

self.addEventListener('install', (event) => {
  self.skipWaiting();
  // Offline at install time: the next online load keeps the release.
  event.waitUntil(fetchPage().catch(() => undefined));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(self.clients.claim());
});

async function page(event) {
  try {
    const response = await fetch(event.request);
    const type = response.headers.get('content-type') || '';
    if (response.ok && type.includes('html')) {
      event.waitUntil(keepRelease(response.clone()).catch(() => undefined));
    }
    return response;
  } catch (offline) {
    return (await cachedPage()) || Response.error();
  }
}

async function hashed(request) {
  const cached = await caches.match(request, { ignoreSearch: true });
  return cached || fetch(request);
}

async function file(request) {
  const cache = await caches.open(FILES);
  const key = new URL(request.url);
  key.search = '';
  try {
    const response = await fetch(request);
    if (response.ok) {
      await cache.put(key.href, response.clone());
    }
    return response;
  } catch (offline) {
    return (await cache.match(key.href)) || Response.error();
  }
}

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET') {
    return;
  }
  const url = new URL(request.url);
  if (url.origin !== self.location.origin || CREDENTIAL.test(url.search)) {
    return;
  }
  if (request.mode === 'navigate') {
    event.respondWith(page(event));
  } else if (HASHED.test(url.pathname)) {
    event.respondWith(hashed(request));
  } else if (url.href !== scopeUrl('sw.js')) {
    event.respondWith(file(request));
  }
});

// A click on a message notification brings the app to the front.
self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  event.waitUntil(
    self.clients.matchAll({ type: 'window', includeUncontrolled: true }).then((windows) => {
      const open = windows.find((client) => 'focus' in client);
      return open ? open.focus() : self.clients.openWindow(scopeUrl('./'));
    }),
  );
});
