/* Service worker for /staff/: keeps the staff pages and their assets on the phone,
   so the update form opens and queues updates without signal. The server prepends
   self.ASO_SW = {version, precache}. Updates themselves are POSTs and never touched
   here: the page's outbox (IndexedDB) owns them. */
"use strict";

var CONFIG = self.ASO_SW;
var CACHE = "aso-staff-" + CONFIG.version;
var PAGES = new URL("./", self.location).pathname; // "/staff/"

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(CACHE).then(function (cache) {
    var home = CONFIG.precache[0];
    var assets = CONFIG.precache.slice(1);
    return cache.addAll(assets).then(function () {
      // The home page only when signed in: never keep a login page under its name.
      return fetch(home, { credentials: "same-origin" }).then(function (response) {
        if (response.ok && !response.redirected) return cache.put(home, response);
      }, function () {});
    });
  }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (key) {
      return key.indexOf("aso-staff-") === 0 && key !== CACHE;
    }).map(function (key) { return caches["delete"](key); }));
  }).then(function () { return self.clients.claim(); }));
});

// Keep one copy per address, whatever request headers fetched it (a navigation, a reload
// and the page's own fetch differ), and keep the worker alive until it is stored: a worker
// stopped half-way through the write would lose it.
function keep(event, request, response) {
  var copy = response.clone();
  event.waitUntil(caches.open(CACHE).then(function (cache) { return cache.put(request.url, copy); }));
}

function networkFirst(event) {
  var request = event.request;
  return fetch(request).then(function (response) {
    if (response.ok && !response.redirected) keep(event, request, response);
    return response;
  }, function () {
    // The copy of this page; the staff home only when this page was never kept.
    return caches.match(request.url, { ignoreVary: true }).then(function (hit) {
      return hit || caches.match(CONFIG.precache[0], { ignoreVary: true });
    }).then(function (hit) { return hit || Response.error(); });
  });
}

function cacheFirst(event) {
  var request = event.request;
  return caches.match(request).then(function (hit) {
    return hit || fetch(request).then(function (response) {
      if (response.ok) keep(event, request, response);
      return response;
    });
  });
}

// A staff page asks to be kept for offline use: the page may have loaded before this worker
// took control (the first visit), so its own requests never passed through here. Kept
// by fetching it afresh, then answered with {kept: path, ask} (ask numbers the page's asks).
self.addEventListener("message", function (event) {
  var path = event.data && event.data.keep;
  if (typeof path !== "string") return;
  var url = new URL(path, self.location);
  if (url.origin !== self.location.origin || url.pathname.indexOf(PAGES) !== 0) return;
  event.waitUntil(fetch(url.href, { credentials: "same-origin", headers: { Accept: "text/html" } })
    .then(function (response) {
      if (!response.ok || response.redirected) return false;
      return caches.open(CACHE).then(function (cache) { return cache.put(url.href, response); })
        .then(function () { return true; });
    }, function () { return false; })
    .then(function (kept) {
      if (kept && event.source) event.source.postMessage({ kept: path, ask: event.data.ask });
    }));
});

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") return;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  var page = request.mode === "navigate" || (request.headers.get("Accept") || "").indexOf("text/html") === 0;
  if (page && url.pathname.indexOf(PAGES) === 0) {
    event.respondWith(networkFirst(event));
  } else if (url.pathname.indexOf("/static/") === 0 || url.pathname.indexOf("/vendor/") === 0) {
    event.respondWith(cacheFirst(event));
  }
  // Everything else (JSON, photos, the API) goes to the network as usual.
});
