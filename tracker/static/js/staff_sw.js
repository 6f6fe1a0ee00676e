/* Service worker for /staff/: keeps the staff pages and their assets on the phone,
   so the update form opens and queues updates without signal. The server prepends
   self.ASO_SW = {version, precache}. Updates themselves are POSTs and never touched
   here: the page's outbox (IndexedDB) owns them.

   Which scripts and styles a page needs is read from the page itself (its <script src>
   and <link href>), each time a page is kept: no list to keep in step by hand.
   Offline map areas (staff_areas.js) keep their tiles and data in caches of their own,
   named "aso-area-…"; without signal, any other request is answered from those. */
"use strict";

var CONFIG = self.ASO_SW;
var CACHE = "aso-staff-" + CONFIG.version;
var PAGES = new URL("./", self.location).pathname; // "/staff/"

// The addresses of the same-site scripts and styles a page's HTML names.
function assetUrls(html, base) {
  var found = {};
  var tag = /<(script|link)\b[^>]*>/gi;
  var match;
  while ((match = tag.exec(html))) {
    var attr = /\b(?:src|href)="([^"]+)"/i.exec(match[0]);
    if (!attr) continue;
    if (match[1].toLowerCase() === "link" && !/\brel="(?:stylesheet|preload|modulepreload|icon)"/i.test(match[0])) continue;
    var url = new URL(attr[1].replace(/&amp;/g, "&"), new URL(base, self.location));
    if (url.origin !== self.location.origin || url.pathname.indexOf(PAGES) === 0) continue;
    found[url.href] = true;
  }
  return Object.keys(found);
}

// The same-site images a stylesheet names (Leaflet's layer and marker icons).
function cssUrls(css, base) {
  var found = {};
  var ref = /url\(\s*["']?([^"')]+)["']?\s*\)/g;
  var match;
  while ((match = ref.exec(css))) {
    if (match[1].indexOf("data:") === 0) continue;
    var url = new URL(match[1], base);
    if (url.origin === self.location.origin) found[url.href] = true;
  }
  return Object.keys(found);
}

// Keep one asset unless already kept; resolves to its response (or null) for a look inside.
function keepAsset(cache, asset) {
  return cache.match(asset).then(function (hit) {
    if (hit) return hit;
    return fetch(asset, { credentials: "same-origin" }).then(function (r) {
      if (!r.ok) return null;
      return cache.put(asset, r.clone()).then(function () { return r; });
    }, function () { return null; });
  });
}

// Keep a page's response and every script and style it names, with the images those
// styles name; one missing asset does not stop the others.
function keepPageAndAssets(cache, url, response) {
  return response.clone().text().then(function (html) {
    return cache.put(url, response).then(function () {
      return Promise.all(assetUrls(html, url).map(function (asset) {
        return keepAsset(cache, asset).then(function (r) {
          if (!r || !/\.css(\?|$)/.test(asset)) return null;
          return r.clone().text().then(function (css) {
            return Promise.all(cssUrls(css, asset).map(function (image) { return keepAsset(cache, image); }));
          });
        });
      }));
    });
  });
}

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(CACHE).then(function (cache) {
    var home = CONFIG.precache[0];
    var assets = CONFIG.precache.slice(1);
    return cache.addAll(assets).then(function () {
      // The home page only when signed in: never keep a login page under its name.
      return fetch(home, { credentials: "same-origin" }).then(function (response) {
        if (response.ok && !response.redirected) return keepPageAndAssets(cache, home, response);
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

function keepPageOf(event, request, response) {
  var copy = response.clone();
  event.waitUntil(caches.open(CACHE).then(function (cache) {
    return keepPageAndAssets(cache, request.url, copy);
  }));
}

function networkFirst(event) {
  var request = event.request;
  return fetch(request).then(function (response) {
    if (response.ok && !response.redirected) keepPageOf(event, request, response);
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
  return caches.match(request.url, { ignoreVary: true }).then(function (hit) {
    return hit || fetch(request).then(function (response) {
      if (response.ok) keep(event, request, response);
      return response;
    });
  });
}

// A transparent 1×1 PNG: where no base map tile was kept, the map shows its background.
var EMPTY_PNG = Uint8Array.from(atob(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII="
), function (c) { return c.charCodeAt(0); });

// What the map gets for a tile or a layer that was not kept: an empty one, marked
// X-Aso-Offline: missing, so that the map says what is missing instead of failing.
function missing(request, url) {
  var headers = { "X-Aso-Offline": "missing", "Cache-Control": "no-store" };
  if (request.destination === "image") {
    headers["Content-Type"] = "image/png";
    return new Response(EMPTY_PNG, { status: 200, headers: headers });
  }
  if (url.pathname.indexOf("/tiles/") !== -1) {
    headers["Content-Type"] = "application/vnd.mapbox-vector-tile";
    return new Response(new Uint8Array(0), { status: 200, headers: headers });
  }
  if (/^\/map\/.*\.geojson$/.test(url.pathname)) {
    headers["Content-Type"] = "application/geo+json";
    return new Response(JSON.stringify({ type: "FeatureCollection", features: [] }), { status: 200, headers: headers });
  }
  headers["Content-Type"] = "application/json";
  return new Response(JSON.stringify({ error: "offline", message: "not kept for offline use" }), { status: 503, headers: headers });
}

// Data (map tiles, the works' tiles, overlays): from the network while there is signal;
// without it, the copy an offline map area kept, or else missing().
function dataNetworkFirst(event) {
  var request = event.request;
  return fetch(request).catch(function () {
    return caches.match(request.url, { ignoreVary: true }).then(function (hit) {
      return hit || missing(request, new URL(request.url));
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
      return caches.open(CACHE).then(function (cache) { return keepPageAndAssets(cache, url.href, response); })
        .then(function () { return true; });
    }, function () { return false; })
    .then(function (kept) {
      if (kept && event.source) event.source.postMessage({ kept: path, ask: event.data.ask });
    }));
});

// What a map draws: the works' vector tiles, the overlays, a work's own data for its popup.
function isMapData(url) {
  return url.pathname.indexOf("/tiles/") !== -1 || /^\/map\/.*\.geojson$/.test(url.pathname) ||
    /^\/api\/projects\/\d+$/.test(url.pathname);
}

function isAsset(url) {
  return url.pathname.indexOf("/static/") !== -1 || url.pathname.indexOf("/vendor/") === 0;
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") return;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) {
    // Base map tiles from the tile source: an offline area may hold them.
    if (request.destination === "image") event.respondWith(dataNetworkFirst(event));
    return;
  }
  var page = request.mode === "navigate" || (request.headers.get("Accept") || "").indexOf("text/html") === 0;
  if (page && url.pathname.indexOf(PAGES) === 0) {
    event.respondWith(networkFirst(event));
  } else if (isAsset(url)) {
    event.respondWith(cacheFirst(event));
  } else if (isMapData(url)) {
    event.respondWith(dataNetworkFirst(event));
  }
  // Everything else (the outbox's posts, the API, sign-in) goes to the network as usual.
});
