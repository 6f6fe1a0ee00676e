/* The /report page's map, "use my location", the nearby-duplicate check, and the outbox.
 *
 * The page works without this script: a named place and a plain form. With it, the place
 * is a marker (the phone's location, a tap, or the named place) that can be moved, and a
 * report is kept in IndexedDB (photos as Blobs) with the time it was made and a client_id
 * until the server has it: made without signal, it is sent when the signal returns, and
 * the server records one client_id once, so a resend never makes two reports.
 */
(function () {
  "use strict";

  var DB_NAME = "aso-reports";
  var STORE = "outbox";
  var RETRY_MS = 15000;
  var node = document.getElementById("report-config");
  var form = document.getElementById("report-form");
  if (!node || !form) return;
  var config = JSON.parse(node.textContent);
  var text = config.text;
  var outboxBox = document.getElementById("report-outbox");
  var dbPromise = null;
  var flushing = null;

  function openDb() {
    if (!dbPromise) {
      dbPromise = new Promise(function (resolve, reject) {
        var request = indexedDB.open(DB_NAME, 1);
        request.onupgradeneeded = function () {
          request.result.createObjectStore(STORE, { keyPath: "client_id" });
        };
        request.onsuccess = function () { resolve(request.result); };
        request.onerror = function () { reject(request.error); };
      });
    }
    return dbPromise;
  }

  function withStore(mode, work) {
    return openDb().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(STORE, mode);
        var result = work(tx.objectStore(STORE));
        tx.oncomplete = function () { resolve(result && "result" in result ? result.result : undefined); };
        tx.onerror = function () { reject(tx.error); };
        tx.onabort = function () { reject(tx.error); };
      });
    });
  }

  function put(item) { return withStore("readwrite", function (s) { s.put(item); }); }
  function remove(id) { return withStore("readwrite", function (s) { s["delete"](id); }); }
  function list() { return withStore("readonly", function (s) { return s.getAll(); }); }

  function newId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 15) | 64; b[8] = (b[8] & 63) | 128;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }

  function say(message, isError) {
    outboxBox.hidden = !message;
    outboxBox.textContent = message || "";
    outboxBox.setAttribute("role", isError ? "alert" : "status");
  }

  function showWaiting() {
    return list().then(function (items) {
      if (items.length) say(text.waiting + items.length);
      return items;
    });
  }

  // Sends every waiting report once; a report the server refuses (400) is dropped with its
  // words shown, one refused for the limits (429) or unsent (no signal) waits.
  function flush() {
    if (flushing) return flushing;
    flushing = list().then(function (items) {
      return items.reduce(function (chain, item) {
        return chain.then(function () { return sendOne(item); });
      }, Promise.resolve());
    }).then(function () {
      flushing = null;
      return showWaiting();
    }, function () { flushing = null; });
    return flushing;
  }

  function sendOne(item) {
    var body = new FormData();
    item.fields.forEach(function (pair) { body.append(pair[0], pair[1]); });
    item.photos.forEach(function (p) { body.append("photos", p.blob, p.name); });
    return fetch(config.sendUrl, { method: "POST", body: body, credentials: "same-origin",
      headers: { Accept: "application/json" } }).then(function (response) {
      return response.json().then(function (data) {
        if (response.status === 201) {
          return remove(item.client_id).then(function () {
            if (item.here) { window.location.assign(data.url); return; }
            say(text.sent + data.id);
          });
        }
        if (response.status === 429) { say(data.error, true); return; }
        return remove(item.client_id).then(function () { say(data.error, true); });
      });
    }, function () {
      say(text.queued);
    });
  }

  form.addEventListener("submit", function (event) {
    if (!window.indexedDB || !window.fetch) return; // the plain form posts as it is
    event.preventDefault();
    var clientId = newId();
    form.elements.client_id.value = clientId;
    form.elements.made_at.value = new Date().toISOString();
    var fields = [];
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.type === "file" || el.type === "submit" || el.disabled) return;
      if ((el.type === "radio" || el.type === "checkbox") && !el.checked) return;
      fields.push([el.name, el.value]);
    });
    if (event.submitter && event.submitter.name) fields.push([event.submitter.name, event.submitter.value]);
    var photos = Array.prototype.map.call(form.elements.photos.files, function (f) {
      return { blob: f, name: f.name };
    });
    put({ client_id: clientId, fields: fields, photos: photos, here: true }).then(function () {
      if (!navigator.onLine) { say(text.queued); return; }
      return flush();
    });
  });

  // The page itself opens without signal once a visit has kept it.
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register(config.serviceWorker, { scope: config.scope }).then(function () {}, function () {});
  }

  window.addEventListener("online", flush);
  setInterval(function () { if (navigator.onLine) flush(); }, RETRY_MS);
  showWaiting().then(function (items) { if (items.length && navigator.onLine) flush(); });

  // The map: a marker to move, set by the phone's location, a tap or the named place.
  var tools = document.getElementById("report-map-tools");
  if (typeof L === "undefined" || !tools) return;
  tools.hidden = false;
  var map = L.map("report-map", { maxZoom: config.maxZoom, zoomControl: false });
  L.control.zoom(config.zoom).addTo(map);
  L.tileLayer(config.tiles, { attribution: config.attribution, maxZoom: config.maxZoom }).addTo(map);
  map.attributionControl.setPrefix(config.attributionPrefix);
  map.setView(config.center, 12);
  var marker = null;
  var where = document.getElementById("report-where");
  var similarBox = document.getElementById("report-similar-live");

  function place(lat, lon, zoom) {
    form.elements.lat.value = lat.toFixed(6);
    form.elements.lon.value = lon.toFixed(6);
    if (!marker) {
      marker = L.marker([lat, lon], { draggable: true, autoPan: true, title: where.textContent }).addTo(map);
      marker.on("dragend", function () {
        var p = marker.getLatLng();
        place(p.lat, p.lng);
      });
    } else {
      marker.setLatLng([lat, lon]);
    }
    if (zoom) map.setView([lat, lon], zoom);
    where.textContent = lat.toFixed(5) + ", " + lon.toFixed(5);
    checkSimilar();
  }

  map.on("click", function (e) { place(e.latlng.lat, e.latlng.lng); });
  var select = form.elements.place;
  select.addEventListener("change", function () {
    var option = select.options[select.selectedIndex];
    if (option && option.dataset.lat) place(parseFloat(option.dataset.lat), parseFloat(option.dataset.lon), 16);
  });
  if (form.elements.lat.value && form.elements.lon.value) {
    place(parseFloat(form.elements.lat.value), parseFloat(form.elements.lon.value), 16);
  }
  var locate = document.getElementById("report-locate");
  if ("geolocation" in navigator) {
    locate.addEventListener("click", function () {
      where.textContent = text.locating;
      navigator.geolocation.getCurrentPosition(function (pos) {
        place(pos.coords.latitude, pos.coords.longitude, 17);
      }, function () { where.textContent = text.noLocation; },
      { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
    });
  } else {
    locate.hidden = true;
  }
  Array.prototype.forEach.call(form.querySelectorAll("input[name=category]"), function (el) {
    el.addEventListener("change", checkSimilar);
  });

  // Before sending: reports of the same category within 50 m, with "the same thing".
  function checkSimilar() {
    var category = form.querySelector("input[name=category]:checked");
    if (!category || !form.elements.lat.value || !navigator.onLine) return;
    var params = new URLSearchParams({ category: category.value, lat: form.elements.lat.value, lon: form.elements.lon.value });
    fetch(config.similarUrl + "?" + params.toString(), { headers: { Accept: "application/json" } })
      .then(function (r) { return r.json(); })
      .then(function (found) {
        similarBox.textContent = "";
        similarBox.hidden = !found.length;
        if (!found.length) return;
        var p = document.createElement("p");
        p.textContent = text.nearby;
        similarBox.appendChild(p);
        found.forEach(function (r) {
          var row = document.createElement("p");
          row.textContent = "#" + r.id + " " + r.category + " · " + r.stateLabel + " · " + r.received + " ";
          var button = document.createElement("button");
          button.type = "submit";
          button.name = "same_as";
          button.value = r.id;
          button.className = "secondary";
          button.textContent = text.same;
          row.appendChild(button);
          similarBox.appendChild(row);
        });
      }, function () {});
  }
})();
