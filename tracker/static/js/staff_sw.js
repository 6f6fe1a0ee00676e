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

function networkFirst(request) {
  return fetch(request).then(function (response) {
    if (response.ok && !response.redirected) {
      var copy = response.clone();
      caches.open(CACHE).then(function (cache) { cache.put(request, copy); });
    }
    return response;
  }, function () {
    // The copy kept for this address, whatever the cookies were then: the session cookie
    // changes under the page (a CSRF token stored, a message shown), and Flask's
    // "Vary: Cookie" would otherwise turn a kept page into a miss.
    return caches.match(request, { ignoreSearch: false, ignoreVary: true }).then(function (hit) {
      return hit || caches.match(CONFIG.precache[0]);
    }).then(function (hit) { return hit || Response.error(); });
  });
}

function cacheFirst(request) {
  return caches.match(request).then(function (hit) {
    return hit || fetch(request).then(function (response) {
      if (response.ok) {
        var copy = response.clone();
        caches.open(CACHE).then(function (cache) { cache.put(request, copy); });
      }
      return response;
    });
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") return;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  var page = request.mode === "navigate" || (request.headers.get("Accept") || "").indexOf("text/html") === 0;
  if (page && url.pathname.indexOf(PAGES) === 0) {
    event.respondWith(networkFirst(request));
  } else if (url.pathname.indexOf("/static/") === 0 || url.pathname.indexOf("/vendor/") === 0) {
    event.respondWith(cacheFirst(request));
  }
  // Everything else (JSON, photos, the API) goes to the network as usual.
});
