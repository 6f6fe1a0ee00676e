/*
 * Layers drawn beside the works on the city maps: the designated shelters (places, not
 * works) and the traffic restrictions (closed or narrowed sections and their detours).
 *
 * AsoOverlays.addTo(map, {layerControl, facilities: {url, pageUrl, shown}, restrictions: {url},
 * labels}) adds each layer to the layer control, where it can be switched on and off, and
 * fetches its GeoJSON once, when it is first shown: the shelters only with `shown`. Text reaches the page only through textContent.
 */
(function () {
  "use strict";

  var TEXT = {
    facilities: "指定避難所",
    restrictions: "通行規制",
    detour: "迂回路",
    address: "所在地",
    period: "期間",
    hours: "時間",
    reason: "理由",
    contact: "問い合わせ",
    work: "工事",
    details: "詳細を見る",
    until: "当面の間"
  };

  // Restrictions: red and white dashes over a dark casing, unlike any work's line; the
  // detour a dashed blue-green line, so that the two are told apart without colour too.
  var SECTION_CASING = { color: "#4d0010", weight: 11, opacity: 0.9 };
  var SECTION = { color: "#d7191c", weight: 7, opacity: 1, dashArray: "12 8", lineCap: "butt", className: "aso-restriction" };
  var SECTION_GAP = { color: "#ffffff", weight: 7, opacity: 1, dashArray: "8 12", dashOffset: "12", lineCap: "butt" };
  var POINT = { radius: 10, color: "#d7191c", weight: 4, fillColor: "#ffffff", fillOpacity: 0.9, className: "aso-restriction" };
  var DETOUR = { color: "#00796b", weight: 5, opacity: 0.95, dashArray: "2 8", lineCap: "round", className: "aso-detour" };

  function el(tag, className, parent) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (parent) parent.appendChild(node);
    return node;
  }

  function escapeHtml(text) {
    var span = document.createElement("span");
    span.textContent = text;
    return span.innerHTML;
  }

  function facts(root, rows) {
    var list = el("dl", "aso-popup__facts", root);
    rows.forEach(function (row) {
      if (!row[1]) return;
      el("dt", null, list).textContent = row[0];
      el("dd", null, list).textContent = row[1];
    });
  }

  function link(root, href) {
    var a = el("a", "aso-popup__link", root);
    a.href = href;
    a.textContent = TEXT.details;
  }

  function fetchJson(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/geo+json, application/json" } })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        missingOffline(response, url);
        return response.json();
      });
  }

  // Without signal the staff pages' service worker answers a layer it did not keep with an
  // empty one marked X-Aso-Offline; the page says so (staff_areas.js) instead of failing.
  function missingOffline(response, url) {
    if (!response.headers.get("X-Aso-Offline")) return;
    window.dispatchEvent(new CustomEvent("aso:offline-missing", { detail: { url: url } }));
  }

  // Shelters are places beside the works, not the works: small pins in a pane under the
  // works' own (project_layers.js), gathered into counted circles while zoomed out.
  var SHELTER_PANE = "asoShelters";
  var SHELTER_PIN = 16;
  var CLUSTER_CELL = 56;      // px: shelters closer than this on screen share one circle
  var CLUSTER_UNTIL_ZOOM = 14; // from this zoom on every shelter is drawn on its own

  function shelterPopup(feature, options) {
    var props = feature.properties;
    var root = el("div", "aso-popup aso-popup--facility");
    el("strong", "aso-popup__name", root).textContent = String(props.name || "");
    el("span", "aso-popup__badge", root).textContent = (props.designation_labels || [TEXT.facilities]).join("・");
    facts(root, [[TEXT.address, props.address]]);
    if (options.pageUrl) link(root, options.pageUrl.replace("{id}", encodeURIComponent(String(props.id))));
    return root;
  }

  function shelterMarker(feature, latlng, options) {
    var name = String(feature.properties.name || "");
    var icon = L.divIcon({ className: "aso-facility-pin", iconSize: [SHELTER_PIN, SHELTER_PIN], html: "" });
    var marker = L.marker(latlng, { icon: icon, title: name, alt: name, keyboard: false, pane: SHELTER_PANE });
    marker.on("add", function () {
      var node = marker.getElement();
      if (!node) return;
      node.textContent = TEXT.glyph || "避";
      node._asoMarker = marker;
    });
    marker.bindPopup(function () { return shelterPopup(feature, options); });
    return marker;
  }

  function clusterMarker(map, members) {
    var lat = 0, lng = 0;
    members.forEach(function (m) { lat += m.latlng.lat; lng += m.latlng.lng; });
    var centre = L.latLng(lat / members.length, lng / members.length);
    var size = members.length < 10 ? 24 : 28;
    var icon = L.divIcon({ className: "aso-facility-cluster", iconSize: [size, size], html: "" });
    var label = TEXT.facilities + " " + members.length;
    var marker = L.marker(centre, { icon: icon, title: label, alt: label, keyboard: false, pane: SHELTER_PANE });
    marker.on("add", function () {
      var node = marker.getElement();
      if (!node) return;
      node.textContent = String(members.length);
      node._asoMarker = marker;
    });
    marker.on("click", function () {
      var bounds = L.latLngBounds(members.map(function (m) { return m.latlng; }));
      map.fitBounds(bounds.pad(0.3), { maxZoom: CLUSTER_UNTIL_ZOOM });
    });
    return marker;
  }

  // Group the shelters into screen cells of the current zoom: a cell of one keeps its pin.
  function drawShelters(map, group, shelters) {
    group.clearLayers();
    var zoom = map.getZoom();
    if (zoom >= CLUSTER_UNTIL_ZOOM) {
      shelters.forEach(function (s) { group.addLayer(s.marker); });
      return;
    }
    var cells = {};
    shelters.forEach(function (s) {
      var p = map.project(s.latlng, zoom);
      var key = Math.floor(p.x / CLUSTER_CELL) + ":" + Math.floor(p.y / CLUSTER_CELL);
      (cells[key] = cells[key] || []).push(s);
    });
    Object.keys(cells).forEach(function (key) {
      var members = cells[key];
      group.addLayer(members.length === 1 ? members[0].marker : clusterMarker(map, members));
    });
  }

  // The works' canvas lies over the shelters, so a click it does not use reaches the map:
  // pass it on to the shelter pin or circle under the pointer.
  function forwardClicks(map) {
    map.on("click", function (event) {
      var e = event.originalEvent;
      if (!e || e._asoHandled || !document.elementsFromPoint) return;
      var hits = document.elementsFromPoint(e.clientX, e.clientY);
      for (var i = 0; i < hits.length; i++) {
        if (hits[i]._asoMarker) {
          hits[i]._asoMarker.fire("click", { latlng: hits[i]._asoMarker.getLatLng(), originalEvent: e });
          return;
        }
      }
    });
  }

  function facilityLayer(map, options, control) {
    if (!map.getPane(SHELTER_PANE)) map.createPane(SHELTER_PANE).style.zIndex = 250;
    var group = L.featureGroup();
    control.addOverlay(group, escapeHtml(TEXT.facilities)); // the control inserts names as HTML
    var shelters = null;
    var loading = null;
    function load() {
      if (!loading) {
        loading = fetchJson(options.url).then(function (collection) {
          shelters = (collection.features || []).filter(function (f) {
            return f.geometry && f.geometry.type === "Point";
          }).map(function (feature) {
            var c = feature.geometry.coordinates;
            var latlng = L.latLng(c[1], c[0]);
            return { latlng: latlng, marker: shelterMarker(feature, latlng, options) };
          });
          map.getContainer().setAttribute("data-facilities-drawn", String(shelters.length));
          return shelters.length;
        });
      }
      return loading;
    }
    function redraw() {
      if (shelters && map.hasLayer(group)) drawShelters(map, group, shelters);
    }
    group.on("add", function () {
      load().then(redraw, function (error) { window.asoOverlaysError = String(error); });
    });
    map.on("zoomend", redraw);
    forwardClicks(map);
    // Off where the works are the subject; the layer control switches them on.
    if (options.shown) {
      group.addTo(map);
      return load();
    }
    return Promise.resolve(0);
  }

  function restrictionPopup(props, options) {
    var root = el("div", "aso-popup aso-popup--restriction");
    el("strong", "aso-popup__name", root).textContent = String(props.kind_label || props.kind || "");
    if (props.project_name) el("span", "aso-popup__work", root).textContent = TEXT.work + ": " + props.project_name;
    facts(root, [
      [TEXT.period, props.period_label],
      [TEXT.hours, props.hours_label],
      [TEXT.reason, props.reason],
      [TEXT.contact, props.contact]
    ]);
    if (props.description) el("p", "aso-popup__text", root).textContent = String(props.description);
    if (options.projectUrl && props.project_id) {
      link(root, options.projectUrl.replace("{id}", encodeURIComponent(String(props.project_id))));
    }
    return root;
  }

  function restrictionLayer(map, options, control) {
    var group = L.featureGroup().addTo(map);
    control.addOverlay(group, escapeHtml(TEXT.restrictions));
    return fetchJson(options.url).then(function (collection) {
      var count = 0;
      var detours = [];
      return inSlices(collection.features || [], function (feature) {
        var props = feature.properties || {};
        var popup = function () { return restrictionPopup(props, options); };
        if (props.detour) detours.push([props.detour, popup]);
        if (!feature.geometry) return;
        count += 1;
        if (!props.section_drawn) {
          // No section of its own: a red ring where its work is.
          L.geoJSON(feature.geometry, {
            pointToLayer: function (f, latlng) { return L.circleMarker(latlng, POINT); },
            style: function () { return SECTION; }
          }).bindPopup(popup).addTo(group);
          return;
        }
        L.geoJSON(feature.geometry, { style: function () { return SECTION_CASING; }, interactive: false }).addTo(group);
        L.geoJSON(feature.geometry, { style: function () { return SECTION; } }).bindPopup(popup).addTo(group);
        L.geoJSON(feature.geometry, { style: function () { return SECTION_GAP; }, interactive: false }).addTo(group);
      }).then(function () {
        // Detours last, over every section: a way round is never hidden under a red line.
        return inSlices(detours, function (d) {
          L.geoJSON(d[0], { style: function () { return DETOUR; } }).bindPopup(d[1]).addTo(group);
        });
      }).then(function () {
        map.getContainer().setAttribute("data-restrictions-drawn", String(count));
        return count;
      });
    });
  }

  // Call `each` on every item, a few at a time with a pause between, so that drawing many
  // restrictions never holds a phone's page still; resolves once all are done, in order.
  var SLICE = 8;
  function inSlices(items, each) {
    return new Promise(function (resolve) {
      var next = 0;
      (function slice() {
        var end = Math.min(next + SLICE, items.length);
        for (; next < end; next += 1) each(items[next]);
        if (next < items.length) setTimeout(slice, 0);
        else resolve();
      })();
    });
  }

  // Two more rows in the works' legend (project_layers.js), when the map has one.
  function addToLegend(map, options) {
    var details = map.getContainer().querySelector(".aso-legend details");
    if (!details) return;
    var list = el("ul", "aso-legend__overlays", details);
    if (options.restrictions) {
      var r = el("li", null, list);
      el("span", "aso-legend__line aso-legend__line--restriction", r);
      el("span", null, r).textContent = TEXT.restrictions;
      var d = el("li", null, list);
      el("span", "aso-legend__line aso-legend__line--detour", d);
      el("span", null, d).textContent = TEXT.detour;
    }
    if (options.facilities) {
      var f = el("li", null, list);
      el("span", "aso-facility-pin aso-legend__pin", f).textContent = TEXT.glyph || "避";
      el("span", null, f).textContent = TEXT.facilities;
    }
  }

  function addTo(map, options) {
    L.extend(TEXT, (options.labels || {}));
    var control = options.layerControl || L.control.layers(null, null, { collapsed: true }).addTo(map);
    var pending = [];
    if (options.restrictions) pending.push(restrictionLayer(map, options.restrictions, control));
    if (options.facilities) pending.push(facilityLayer(map, options.facilities, control));
    addToLegend(map, options);
    return Promise.all(pending).then(function () {
      window.asoOverlaysReady = true;
    }, function (error) {
      window.asoOverlaysError = String(error);
      if (window.console) console.error("AsoOverlays:", error);
    });
  }

  window.AsoOverlays = { addTo: addTo, styles: { section: SECTION, detour: DETOUR } };
})();
