// facility_log guard tablet service worker, version {{ version }}.
// Keeps the tablet page and its scripts so they open with no network. It never touches the
// API: what the guard enters waits in the page's IndexedDB outbox, not in this worker.
"use strict";
const CACHE = "facility_log-tablet-{{ version }}";
const PRECACHE = {{ precache|safe }};
const TABLET_URL = {{ tablet_url|safe }};

const ASSETS = PRECACHE.filter((url) => url !== TABLET_URL);

// The page is stored only when it is the real page: an ended session would otherwise store
// the login page (or its redirect) as the guard's screen.
async function storePage(cache) {
  try {
    const response = await fetch(TABLET_URL, { credentials: "same-origin", redirect: "manual" });
    if (response.ok) await cache.put(TABLET_URL, response);
  } catch (error) {
    // Offline while updating: the page is stored at the next visit.
  }
}

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(CACHE)
      .then((cache) => cache.addAll(ASSETS).then(() => storePage(cache)))
      .then(() => self.skipWaiting())
  );
});

// Old versions are dropped, but the last good page is carried over if this version could
// not store one (it installed while the network or the session was gone).
async function dropOldVersions() {
  const cache = await caches.open(CACHE);
  const names = (await caches.keys()).filter((n) => n.startsWith("facility_log-tablet-") && n !== CACHE);
  for (const name of names) {
    if (!(await cache.match(TABLET_URL))) {
      const old = await (await caches.open(name)).match(TABLET_URL);
      if (old) await cache.put(TABLET_URL, old);
    }
    await caches.delete(name);
  }
}

self.addEventListener("activate", (event) => {
  event.waitUntil(dropOldVersions().then(() => self.clients.claim()));
});

function isTabletPage(url) {
  return url.origin === self.location.origin && url.pathname === TABLET_URL;
}

// The page: network first, so an online guard always gets fresh site data; the last good
// copy when the network is gone.
async function tabletPage(request) {
  const cache = await caches.open(CACHE);
  try {
    const response = await fetch(request);
    // Only a real page is kept: not the login page a lapsed session is redirected to.
    if (response.ok && !response.redirected) {
      await cache.put(TABLET_URL, response.clone());
    }
    return response;
  } catch (error) {
    const cached = await cache.match(TABLET_URL);
    if (cached) return cached;
    throw error;
  }
}

// Scripts, styles and icons: the stored copy (the version in this file's name changes
// whenever any of them does).
async function shellAsset(request) {
  const cached = await caches.match(request, { ignoreSearch: true });
  if (cached) return cached;
  const response = await fetch(request);
  if (response.ok) {
    const cache = await caches.open(CACHE);
    await cache.put(request, response.clone());
  }
  return response;
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === "navigate" && isTabletPage(url)) {
    event.respondWith(tabletPage(request));
  } else if (PRECACHE.includes(url.pathname) && url.pathname !== TABLET_URL) {
    event.respondWith(shellAsset(request));
  }
});

// Sign-out from a page: forget the stored page, which holds the guard's site data. The
// scripts stay, so the next guard's tablet still opens with no network.
self.addEventListener("message", (event) => {
  if (event.data === "forget") {
    event.waitUntil(caches.open(CACHE).then((cache) => cache.delete(TABLET_URL)));
  }
});
