// facility_log guard tablet service worker, version {{ version }}.
// Keeps the tablet page and its scripts so they open with no network. It never touches the
// API: what the guard enters waits in the page's IndexedDB outbox, not in this worker.
"use strict";
const CACHE = "facility_log-tablet-{{ version }}";
const PRECACHE = {{ precache|safe }};
const TABLET_URL = {{ tablet_url|safe }};

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(CACHE)
      .then((cache) => cache.addAll(PRECACHE.map((url) => new Request(url, { credentials: "same-origin" }))))
      .then(() => self.skipWaiting())
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((names) => Promise.all(
        names.filter((name) => name.startsWith("facility_log-tablet-") && name !== CACHE)
          .map((name) => caches.delete(name))
      ))
      .then(() => self.clients.claim())
  );
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
  return cached || fetch(request);
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

// Sign-out from a page: forget the cached page, which holds the guard's site data.
self.addEventListener("message", (event) => {
  if (event.data === "forget") {
    event.waitUntil(caches.delete(CACHE));
  }
});
