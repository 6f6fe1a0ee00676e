/* Offline map areas: a person keeps, for a chosen area and zoom levels, the base map tiles,
   the works' vector tiles and the overlays (restrictions, shelters, hazard zones) in a cache
   of the area's own ("aso-area-<id>"); the staff service worker answers from it without
   signal. The list of areas (name, bounds, zooms, size, date, expiry) is kept in
   localStorage; the size is shown before anything is downloaded. */
(function () {
  "use strict";

  var box = document.getElementById("offline-areas");
  if (!box || !window.caches) return;
  var text = box.dataset;
  var sources = JSON.parse(text.areas);
  var STORE = "aso-offline-areas";
  var MAX_TILES = 4000;
  var DAY_MS = 86400000;
  // Rough sizes of one tile, for the estimate shown before downloading.
  var BASE_TILE_BYTES = 25000;
  var WORK_TILE_BYTES = 3000;
  var LAYER_BYTES = 60000;
  var PARALLEL = 4;
  var pending = null; // the area estimated and not yet saved
  var missingLayers = {};

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (all, key) { return key in values ? values[key] : all; });
  }
  function mb(bytes) { return (bytes / 1048576).toFixed(1); }
  function el(tag, cls, parent) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (parent) parent.appendChild(e);
    return e;
  }

  function sizeText(bytes) {
    return bytes < 1048576 ? fill(text.sizeKb, { kb: Math.ceil(bytes / 1024) }) : fill(text.size, { mb: mb(bytes) });
  }

  function areas() {
    try { return JSON.parse(localStorage.getItem(STORE)) || []; } catch (e) { return []; }
  }
  function saveAreas(list) { localStorage.setItem(STORE, JSON.stringify(list)); }

  function theMap() { return window.AsoProjects && window.AsoProjects.currentMap(); }

  // Tile numbers of a longitude/latitude at zoom z (Web Mercator).
  function tileX(lon, z) { return Math.floor((lon + 180) / 360 * Math.pow(2, z)); }
  function tileY(lat, z) {
    var r = lat * Math.PI / 180;
    return Math.floor((1 - Math.log(Math.tan(r) + 1 / Math.cos(r)) / Math.PI) / 2 * Math.pow(2, z));
  }

  function tilesOf(area) {
    var tiles = [];
    for (var z = area.zmin; z <= area.zmax; z++) {
      var x0 = tileX(area.west, z), x1 = tileX(area.east, z);
      var y0 = tileY(area.north, z), y1 = tileY(area.south, z);
      for (var x = x0; x <= x1; x++) for (var y = y0; y <= y1; y++) tiles.push({ z: z, x: x, y: y });
    }
    return tiles;
  }

  function urlsOf(area) {
    var tiles = tilesOf(area);
    var base = tiles.map(function (t) { return fill(sources.base_tiles, t); });
    var works = tiles.map(function (t) { return new URL(fill(sources.work_tiles, t), location.href).href; });
    var layers = sources.overlays.map(function (u) { return new URL(u, location.href).href; });
    return { base: base, works: works, layers: layers };
  }

  // A box around [west, south, east, north] grown by the radius chosen.
  function around(box) {
    var km = Math.max(0.5, Math.min(10, Number(document.getElementById("area-radius").value) || 2));
    var dLat = km / 111.32;
    var dLon = km / (111.32 * Math.cos((box[1] + box[3]) / 2 * Math.PI / 180));
    return { west: box[0] - dLon, east: box[2] + dLon, south: box[1] - dLat, north: box[3] + dLat };
  }

  function boxOf(geometry) {
    var box = [180, 90, -180, -90];
    (function walk(c) {
      if (typeof c[0] === "number") {
        box = [Math.min(box[0], c[0]), Math.min(box[1], c[1]), Math.max(box[2], c[0]), Math.max(box[3], c[1])];
      } else c.forEach(walk);
    })(geometry.coordinates);
    return box;
  }

  // The bounds chosen: the map's view, a district's centre or a work, with a radius.
  function chosenBounds() {
    var choice = document.getElementById("area-choice").value;
    if (choice === "view") {
      var map = theMap();
      if (!map) return Promise.resolve(null);
      var b = map.getBounds();
      return Promise.resolve({ west: b.getWest(), east: b.getEast(), south: b.getSouth(), north: b.getNorth() });
    }
    var key = choice.split(":")[1];
    if (choice.indexOf("work:") === 0) {
      var url = sources.feature_url.replace("{id}", encodeURIComponent(key));
      return fetch(url, { credentials: "same-origin", headers: { Accept: "application/geo+json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (feature) { return feature && feature.geometry ? around(boxOf(feature.geometry)) : null; },
          function () { return null; });
    }
    var d = sources.districts.filter(function (x) { return x.key === key; })[0];
    return Promise.resolve(around([d.lon, d.lat, d.lon, d.lat]));
  }

  // The works found above (near the phone or by name) become choices of their own.
  function listWorks() {
    var group = document.getElementById("area-works");
    var links = document.querySelectorAll("#project-list a");
    var chosen = document.getElementById("area-choice").value;
    group.textContent = "";
    Array.prototype.forEach.call(links, function (a) {
      var id = (/\/staff\/projects\/(\d+)/.exec(a.getAttribute("href")) || [])[1];
      if (!id) return;
      var option = el("option", null, group);
      option.value = "work:" + id;
      option.textContent = (a.querySelector(".name") || a).textContent;
    });
    document.getElementById("area-choice").value = chosen;
    if (!document.getElementById("area-choice").value) document.getElementById("area-choice").value = "view";
  }

  function estimate() {
    return chosenBounds().then(estimateFor);
  }

  function estimateFor(bounds) {
    var size = document.getElementById("area-size");
    var save = document.getElementById("area-save");
    pending = null;
    save.disabled = true;
    if (!bounds) return;
    var zmin = Number(document.getElementById("area-zmin").value);
    var zmax = Number(document.getElementById("area-zmax").value);
    if (zmax < zmin) { var t = zmin; zmin = zmax; zmax = t; }
    var area = { west: bounds.west, east: bounds.east, south: bounds.south, north: bounds.north, zmin: zmin, zmax: zmax };
    var n = tilesOf(area).length;
    if (n > MAX_TILES) {
      size.textContent = fill(text.tooBig, { n: n, max: MAX_TILES });
      return;
    }
    var bytes = n * (BASE_TILE_BYTES + WORK_TILE_BYTES) + sources.overlays.length * LAYER_BYTES;
    size.textContent = fill(text.estimate, { base: n, works: n, layers: sources.overlays.length, mb: mb(bytes) });
    area.estimate = bytes;
    pending = area;
    save.disabled = false;
  }

  // Fetch each URL into the cache, a few at a time; resolves to {bytes, failed}.
  function download(cache, urls, progress) {
    var queue = urls.slice();
    var done = 0, bytes = 0, failed = 0;
    function next() {
      var url = queue.shift();
      if (!url) return Promise.resolve();
      var sameSite = new URL(url).origin === location.origin;
      return fetch(url, { credentials: sameSite ? "same-origin" : "omit", mode: "cors", cache: "no-store" })
        .then(function (r) {
          if (!r.ok) throw new Error(String(r.status));
          return r.blob().then(function (blob) {
            bytes += blob.size;
            var headers = new Headers(r.headers);
            return cache.put(url, new Response(blob, { status: 200, headers: headers }));
          });
        })
        .catch(function () { failed += 1; })
        .then(function () { done += 1; progress(done, urls.length); return next(); });
    }
    var workers = [];
    for (var i = 0; i < PARALLEL; i++) workers.push(next());
    return Promise.all(workers).then(function () { return { bytes: bytes, failed: failed }; });
  }

  // The works inside the area: their update forms (kept by the service worker, as pages)
  // and their data for the map's popups go with the area.
  function worksOf(area) {
    var params = new URLSearchParams({ since: "2000-01-01T00:00:00Z", bbox: [area.west, area.south, area.east, area.north].join(",") });
    return fetch(sources.changes_url + "?" + params.toString(), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : { works: [] }; })
      .then(function (data) { return data.works; }, function () { return []; });
  }

  function keepForms(works) {
    if (!navigator.serviceWorker || !navigator.serviceWorker.controller) return;
    works.forEach(function (w) { navigator.serviceWorker.controller.postMessage({ keep: w.url, ask: 0 }); });
  }

  function keepArea(area) {
    return worksOf(area).then(function (works) {
      keepForms(works);
      var data = works.map(function (w) { return new URL(sources.feature_url.replace("{id}", w.id), location.href).href; });
      return keepTiles(area, data);
    });
  }

  function keepTiles(area, extra) {
    var status = document.getElementById("area-size");
    var urls = urlsOf(area);
    var all = urls.base.concat(urls.works, urls.layers, extra);
    var name = "aso-area-" + area.id;
    // Refreshing starts from an empty cache: nothing stale stays behind.
    return caches["delete"](name).then(function () { return caches.open(name); }).then(function (cache) {
      return download(cache, all, function (done, total) {
        status.textContent = fill(text.saving, { done: done, total: total });
      });
    }).then(function (result) {
      var now = Date.now();
      area.bytes = result.bytes;
      area.failed = result.failed;
      area.saved_at = now;
      area.expires_at = now + sources.expiry_days * DAY_MS;
      var list = areas().filter(function (a) { return a.id !== area.id; });
      list.push(area);
      saveAreas(list);
      status.textContent = result.failed ? fill(text.failed, { n: result.failed }) : text.saved;
      render();
      return area;
    });
  }

  function save() {
    if (!pending) return;
    var area = pending;
    pending = null;
    document.getElementById("area-save").disabled = true;
    area.id = String(Date.now());
    var typed = document.getElementById("area-name").value.trim();
    area.name = typed || fill(text.viewName, { date: localDate(Date.now()) });
    return keepArea(area);
  }

  function removeArea(id) {
    return caches["delete"]("aso-area-" + id).then(function () {
      saveAreas(areas().filter(function (a) { return a.id !== id; }));
      render();
    });
  }

  function localDate(ms) {
    return new Date(ms).toLocaleDateString("sv-SE", { timeZone: "Asia/Tokyo" });
  }

  function render() {
    var list = document.getElementById("area-list");
    list.textContent = "";
    var now = Date.now();
    areas().forEach(function (area) {
      var li = el("li", "area-item", list);
      li.setAttribute("data-area-id", area.id);
      el("span", "area-name", li).textContent = area.name;
      el("span", "area-meta", li).textContent = [
        sizeText(area.bytes || 0),
        fill(text.savedOn, { at: localDate(area.saved_at) }),
        fill(text.expires, { at: localDate(area.expires_at) })
      ].join(" · ");
      if (area.expires_at <= now) {
        li.classList.add("area-expired");
        el("span", "area-warning", li).textContent = text.expired;
      }
      var refresh = el("button", "button area-refresh", li);
      refresh.type = "button";
      refresh.textContent = text.refresh;
      refresh.addEventListener("click", function () { keepArea(area); });
      var del = el("button", "button area-delete", li);
      del.type = "button";
      del.textContent = text["delete"];
      del.addEventListener("click", function () { removeArea(area.id); });
    });
    showStorage();
    drawAreas();
    sayOffline();
  }

  function showStorage() {
    var out = document.getElementById("area-storage");
    if (!navigator.storage || !navigator.storage.estimate) return;
    navigator.storage.estimate().then(function (e) {
      out.textContent = fill(text.storage, { used: mb(e.usage || 0), quota: mb(e.quota || 0) });
    });
  }

  // The kept areas outlined on the map, so a person sees where the map will work offline.
  var outlines = null;
  function drawAreas() {
    var map = theMap();
    if (!map || !window.L) return;
    if (outlines) outlines.remove();
    outlines = L.layerGroup(areas().map(function (a) {
      return L.rectangle([[a.south, a.west], [a.north, a.east]],
        { color: "#6a3d9a", weight: 2, dashArray: "6 4", fill: false, interactive: false });
    })).addTo(map);
  }

  function inside(area, b) {
    return b.getWest() >= area.west && b.getEast() <= area.east && b.getSouth() >= area.south && b.getNorth() <= area.north;
  }

  // Without signal, say plainly what the map can show and what is missing.
  function sayOffline() {
    var notice = document.getElementById("offline-notice");
    if (navigator.onLine) { notice.hidden = true; return; }
    var list = areas();
    var lines = [];
    if (!list.length) {
      lines.push(text.offlineNone);
    } else {
      lines.push(fill(text.offline, { names: list.map(function (a) { return a.name; }).join("、") }));
      var map = theMap();
      if (map && !list.some(function (a) { return inside(a, map.getBounds()); })) lines.push(text.outside);
    }
    var missing = Object.keys(missingLayers);
    if (missing.length) lines.push(fill(text.missingLayers, { names: missing.join("、") }));
    notice.textContent = lines.join(" ");
    notice.hidden = false;
  }

  window.addEventListener("aso:offline-missing", function (event) {
    var path = new URL(event.detail.url, location.href).pathname;
    missingLayers[path.split("/").pop().replace(".geojson", "")] = true;
    sayOffline();
  });
  window.addEventListener("online", sayOffline);
  window.addEventListener("offline", sayOffline);

  function start() {
    var map = theMap();
    var zmin = document.getElementById("area-zmin");
    var zmax = document.getElementById("area-zmax");
    var z = map ? map.getZoom() : 13;
    zmin.value = String(Math.max(6, Math.min(Math.round(z), sources.max_zoom)));
    zmax.value = String(Math.max(6, Math.min(Math.round(z) + 2, sources.max_zoom)));
    if (map) map.on("moveend", sayOffline);
    document.getElementById("area-estimate").addEventListener("click", estimate);
    listWorks();
    var projects = document.getElementById("project-list");
    if (projects && window.MutationObserver) new MutationObserver(listWorks).observe(projects, { childList: true });
    document.getElementById("area-save").addEventListener("click", save);
    ["area-choice", "area-radius", "area-zmin", "area-zmax"].forEach(function (id) {
      document.getElementById(id).addEventListener("change", function () {
        pending = null;
        document.getElementById("area-save").disabled = true;
        document.getElementById("area-size").textContent = "";
      });
    });
    render();
  }

  window.AsoAreas = { list: areas, estimate: estimate, save: save, remove: removeArea };
  // Once the map is built (its script says so), in a task of its own: building the map is the
  // page's busiest moment. Without Leaflet (its file failed to load) no map is built; the
  // list of areas still starts with the page.
  var started = false;
  function startOnce() {
    if (started) return;
    started = true;
    start();
  }
  if (window.asoMapBuilt) setTimeout(startOnce, 0);
  else window.addEventListener("aso:mapbuilt", function () { setTimeout(startOnce, 0); });
  window.addEventListener("load", function () { if (!window.L) startOnce(); });
})();
