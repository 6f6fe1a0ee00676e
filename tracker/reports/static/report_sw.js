/* Service worker for /report: keeps the report page and its assets on the phone, so that
   the form opens without signal; the page's outbox (IndexedDB) keeps the reports made
   there until they are sent. The server prepends self.ASO_REPORT_SW = {version, page,
   precache}. Only the page itself and the static assets (content-hashed names) are
   answered here; everything else goes to the network. */
"use strict";

var CONFIG = self.ASO_REPORT_SW;
var CACHE = "aso-report-" + CONFIG.version;

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(CACHE).then(function (cache) {
    return cache.addAll([CONFIG.page].concat(CONFIG.precache));
  }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (key) {
      return key.indexOf("aso-report-") === 0 && key !== CACHE;
    }).map(function (key) { return caches["delete"](key); }));
  }).then(function () { return self.clients.claim(); }));
});

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") return;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === "navigate" && url.pathname === CONFIG.page) {
    // The network first (a fresh form), the kept copy without signal.
    event.respondWith(fetch(request).then(function (response) {
      if (response.ok && !response.redirected && !url.search) {
        var copy = response.clone();
        event.waitUntil(caches.open(CACHE).then(function (cache) { return cache.put(CONFIG.page, copy); }));
      }
      return response;
    }, function () {
      return caches.match(CONFIG.page, { ignoreVary: true }).then(function (hit) {
        return hit || Response.error();
      });
    }));
  } else if (CONFIG.precache.indexOf(url.pathname) !== -1) {
    event.respondWith(caches.match(request.url, { ignoreVary: true }).then(function (hit) {
      return hit || fetch(request);
    }));
  }
});
