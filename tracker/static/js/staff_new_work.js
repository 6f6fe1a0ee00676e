/* A new work from the site: kind, name, department, a place (GPS point, a tap, a line traced
   by walking or tapped), first status, note and photos. Kept in the outbox first (a
   temporary number), sent at once when there is signal, otherwise when it returns. */
(function () {
  "use strict";

  var form = document.getElementById("new-work");
  if (!form || !window.AsoOutbox) return;
  var words = form.dataset;
  var lineKinds = JSON.parse(words.lineKinds);
  var message = document.getElementById("form-message");
  var status = document.getElementById("shape-status");
  var WALK_STEP_M = 5; // a new point every few metres of walking
  var points = []; // [lat, lon]
  var watchId = null;
  var resendId = new URLSearchParams(location.search).get("resend");

  // Taps place points here, so two quick taps must not zoom the map.
  var map = L.map("work-map", { zoomControl: true, doubleClickZoom: false }).setView([32.95, 131.12], 12);
  L.tileLayer(words.tiles, { attribution: words.attribution, maxZoom: 18 }).addTo(map);
  var drawn = L.layerGroup().addTo(map);

  function isLine() { return lineKinds.indexOf(form.kind.value) !== -1; }
  function say(text, bad) {
    message.textContent = text;
    message.className = "flash" + (bad ? " bad" : " ok");
    message.hidden = !text;
  }

  function geometry() {
    if (!points.length) return "";
    var coords = points.map(function (p) { return [Number(p[1].toFixed(7)), Number(p[0].toFixed(7))]; });
    if (isLine()) return coords.length > 1 ? JSON.stringify({ type: "LineString", coordinates: coords }) : "";
    return JSON.stringify({ type: "Point", coordinates: coords[coords.length - 1] });
  }

  function redraw() {
    drawn.clearLayers();
    if (!points.length) { status.textContent = ""; return; }
    if (isLine() && points.length > 1) L.polyline(points, { color: "#0072b2", weight: 5 }).addTo(drawn);
    else L.circleMarker(points[points.length - 1], { radius: 8 }).addTo(drawn);
    status.textContent = words.points.replace("{n}", points.length);
    form.geometry.value = geometry();
  }

  function addPoint(lat, lon) {
    if (!isLine()) points = [];
    points.push([lat, lon]);
    redraw();
  }

  map.on("click", function (e) { addPoint(e.latlng.lat, e.latlng.lng); });

  document.getElementById("use-gps").addEventListener("click", function () {
    navigator.geolocation.getCurrentPosition(function (pos) {
      addPoint(pos.coords.latitude, pos.coords.longitude);
      map.setView([pos.coords.latitude, pos.coords.longitude], 17);
    }, function () { status.textContent = words.noPosition; }, { enableHighAccuracy: true, timeout: 20000 });
  });

  // Walking: a point each time the phone has moved a few metres from the last one.
  document.getElementById("walk-start").addEventListener("click", function () {
    points = [];
    document.getElementById("walk-start").hidden = true;
    document.getElementById("walk-stop").hidden = false;
    watchId = navigator.geolocation.watchPosition(function (pos) {
      var here = L.latLng(pos.coords.latitude, pos.coords.longitude);
      var last = points.length ? L.latLng(points[points.length - 1]) : null;
      if (!last || last.distanceTo(here) >= WALK_STEP_M) {
        points.push([here.lat, here.lng]);
        redraw();
        map.setView(here, Math.max(map.getZoom(), 16));
      }
      status.textContent = words.walking.replace("{n}", points.length);
    }, function () { status.textContent = words.noPosition; }, { enableHighAccuracy: true, maximumAge: 0 });
  });
  document.getElementById("walk-stop").addEventListener("click", function () {
    if (watchId !== null) navigator.geolocation.clearWatch(watchId);
    watchId = null;
    document.getElementById("walk-start").hidden = false;
    document.getElementById("walk-stop").hidden = true;
    redraw();
  });
  document.getElementById("shape-clear").addEventListener("click", function () { points = []; redraw(); });
  // Only the chosen kind's own fields are shown and sent.
  function detailsBox() { return form.querySelector('.kind-details[data-kind="' + form.kind.value + '"]'); }
  function showDetails() {
    Array.prototype.forEach.call(form.querySelectorAll(".kind-details"), function (box) {
      box.hidden = box.getAttribute("data-kind") !== form.kind.value;
    });
  }
  function details() {
    var values = {};
    var box = detailsBox();
    if (box) {
      Array.prototype.forEach.call(box.querySelectorAll("[data-detail]"), function (input) {
        if (input.value.trim()) values[input.getAttribute("data-detail")] = input.value.trim();
      });
    }
    return JSON.stringify(values);
  }
  form.kind.addEventListener("change", function () { showDetails(); redraw(); });
  showDetails();

  function fields() {
    var kindOption = form.kind.options[form.kind.selectedIndex];
    var statusOption = form.status.options[form.status.selectedIndex];
    return {
      kind: form.kind.value, kind_label: kindOption.text, name: form.name.value.trim(),
      department: form.department.value, geometry: geometry(), details: details(),
      status: form.status.value, status_label: statusOption.text,
      progress: form.progress.value || "0", note: form.note.value,
      observed_at: new Date().toISOString()
    };
  }

  var made = null; // the work kept last: its update follows it
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (isLine() && points.length < 2) { say(words.needLine, true); return; }
    var sent = fields();
    var files = Array.prototype.slice.call(document.getElementById("work-photos").files || []);
    if (resendId) {
      // Fixing a refused one: the time on site and the photos stay those of the first try.
      delete sent.observed_at;
      AsoOutbox.resubmit(resendId, sent).then(function (r) {
        say(r.state === "failed" ? r.error : words.resent, r.state === "failed");
      });
      return;
    }
    AsoOutbox.create(form.action, sent, files).then(function (item) {
      made = item;
      say(words.queued.replace("{id}", item.project_id));
      var next = document.getElementById("new-work-update");
      next.hidden = false;
      document.getElementById("new-work-id").textContent = "[" + item.project_id + "]";
      form.setAttribute("data-kept", item.project_id);
      return AsoOutbox.flush();
    });
  });

  document.getElementById("new-work-update").addEventListener("submit", function (event) {
    event.preventDefault();
    if (!made) return;
    var select = document.getElementById("next-status");
    var update = {
      status: select.value, status_label: select.options[select.selectedIndex].text,
      progress: document.getElementById("next-progress").value || "0",
      note: document.getElementById("next-note").value,
      observed_at: new Date().toISOString()
    };
    AsoOutbox.updateNew(made.project_id, made.project_name, update).then(function () {
      say(document.getElementById("new-work-update").dataset.queued);
      return AsoOutbox.flush();
    });
  });

  // "Fix and resend" from the outbox: the refused work comes back into the form.
  if (resendId) {
    AsoOutbox.get(resendId).then(function (item) {
      if (!item) return;
      var f = item.fields;
      form.kind.value = f.kind; form.name.value = f.name; form.department.value = f.department;
      form.status.value = f.status; form.progress.value = f.progress; form.note.value = f.note || "";
      showDetails();
      var kept = JSON.parse(f.details || "{}");
      var box = detailsBox();
      Object.keys(kept).forEach(function (name) {
        var input = box && box.querySelector('[data-detail="' + name + '"]');
        if (input) input.value = kept[name];
      });
      try {
        var g = JSON.parse(f.geometry);
        var coords = g.type === "Point" ? [g.coordinates] : g.coordinates;
        points = coords.map(function (c) { return [c[1], c[0]]; });
        redraw();
        map.fitBounds(L.latLngBounds(points).pad(0.5), { maxZoom: 17 });
      } catch (e) { /* no usable place: draw it again */ }
      say(item.error, true);
    });
  }
})();
