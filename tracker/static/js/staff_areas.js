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

  // The bounds chosen: the map's view, or a district's centre and a radius.
  function chosenBounds() {
    var choice = document.getElementById("area-choice").value;
    if (choice === "view") {
      var map = theMap();
      if (!map) return null;
      var b = map.getBounds();
      return { west: b.getWest(), east: b.getEast(), south: b.getSouth(), north: b.getNorth() };
    }
    var key = choice.split(":")[1];
    var d = sources.districts.filter(function (x) { return x.key === key; })[0];
    var km = Math.max(0.5, Math.min(10, Number(document.getElementById("area-radius").value) || 2));
    var dLat = km / 111.32;
    var dLon = km / (111.32 * Math.cos(d.lat * Math.PI / 180));
    return { west: d.lon - dLon, east: d.lon + dLon, south: d.lat - dLat, north: d.lat + dLat };
  }

  function estimate() {
    var bounds = chosenBounds();
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

  function keepArea(area) {
    var status = document.getElementById("area-size");
    var urls = urlsOf(area);
    var all = urls.base.concat(urls.works, urls.layers);
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
  if (document.readyState === "complete") start();
  else window.addEventListener("load", start);
})();
