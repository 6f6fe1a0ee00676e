/*
 * The /near page's map, "use my location" button and "hide finished works" toggle.
 *
 * The page works without this script: the place list and the radius are a
 * plain GET form, the results are rendered on the server and the toggle is a
 * small form. This script adds ways to pick the point (the browser's location,
 * a tap on the map), draws the chosen circle, the numbered results in their
 * status's colour and the shelters, and applies the toggle without a reload.
 * Names reach the page as data and are shown with textContent / Leaflet
 * tooltips of text nodes, never as HTML.
 *
 * The pin drawing (statusPin, shelterPin) and the spreading of overlapping pins
 * (spreadPins) are separate functions of markers and a map, so that they can be
 * moved onto another layer type unchanged.
 */
(function () {
  "use strict";

  var configNode = document.getElementById("near-config");
  if (!configNode) return;
  var config = JSON.parse(configNode.textContent);
  var form = document.querySelector(".near-form");
  var status = document.getElementById("near-status");

  // Pins are 32 px; their centres are kept at least this far apart across or up and down, so
  // every pin keeps a tap target of its own (WCAG 2.5.8: 24 px with spacing).
  var PIN_SIZE = 32;
  var MIN_GAP = PIN_SIZE + 4;

  function radius() {
    var checked = form.querySelector("input[name=radius]:checked");
    return checked ? checked.value : "1000";
  }

  function goTo(lat, lon) {
    var params = new URLSearchParams();
    params.set("lat", lat.toFixed(5));
    params.set("lon", lon.toFixed(5));
    params.set("radius", radius());
    window.location.assign(config.pageUrl + "?" + params.toString());
  }

  function say(message) {
    status.textContent = message;
  }

  // Use my location: only offered where the browser can do it.
  // The button is there from the first paint (no shift); hidden only where it cannot work.
  var locate = document.getElementById("near-locate");
  if (locate && !("geolocation" in navigator)) locate.hidden = true;
  if (locate && "geolocation" in navigator) {
    locate.addEventListener("click", function () {
      say(config.text.locating);
      navigator.geolocation.getCurrentPosition(
        function (position) {
          goTo(position.coords.latitude, position.coords.longitude);
        },
        function () {
          say(config.text.noLocation);
        },
        { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 }
      );
    });
  }

  var wrap = document.getElementById("near-map-wrap");
  if (typeof L === "undefined") {
    wrap.hidden = true; // the map's scripts did not arrive: no empty box
    return;
  }

  var map = L.map("near-map", { maxZoom: config.maxZoom, tap: true, zoomControl: false });
  L.control.zoom(config.zoom).addTo(map);
  L.tileLayer(config.tiles, { attribution: config.attribution, maxZoom: config.maxZoom }).addTo(map);
  L.control.scale({ imperial: false }).addTo(map);
  map.attributionControl.setPrefix(config.attributionPrefix);

  function label(layer, text) {
    // A text node: Leaflet inserts nodes as they are, so names cannot become markup.
    layer.bindTooltip(document.createTextNode(text));
  }

  // The view comes first: Leaflet draws a layer, and creates its element, only once the map has one.
  var center = L.latLng(config.center[0], config.center[1]);
  if (config.radius) {
    map.fitBounds(center.toBounds(config.radius * 2), { padding: [8, 8] });
  } else {
    map.setView(center, 11);
  }
  if (config.radius) {
    L.circle(center, {
      radius: config.radius, color: "#0b3d66", weight: 2, fillOpacity: 0.06, interactive: false
    }).addTo(map);
    var here = L.circleMarker(center, {
      radius: 8, color: "#fff", weight: 3, fillColor: "#c2185b", fillOpacity: 1
    }).addTo(map);
    label(here, config.text.here);
  }

  // Before a place is chosen, the works are drawn from the vector tiles in the city map's
  // colours and shapes (a tap still means "search here"). Once one is, only the numbered
  // pins of the results are drawn, so each work shows once and the toggle hides it whole.
  // They are added in a task after this one (the map, its view and base tiles), which on a
  // phone's slow processor would otherwise hold the page still for a long moment.
  var worksLayer = config.layer && window.AsoProjects && L.vectorGrid;
  setTimeout(function () {
    if (worksLayer) {
      AsoProjects.addTo(map, L.extend({ legend: false, kindSwitches: false, interactive: false },
        config.layer));
    }
    window.asoNearReady = true;
  }, 0);

  // Restrictions: red dashes over a dark casing for the section, green dots for the detour,
  // as on the city map; every detour after every section, so that none is hidden under red.
  (config.restrictions || []).forEach(function (r) {
    if (r.section) {
      L.geoJSON(r.section, { style: function () { return { color: "#4d0010", weight: 11, opacity: 0.9 }; }, interactive: false }).addTo(map);
      L.geoJSON(r.section, { style: function () { return { color: "#d7191c", weight: 7, dashArray: "12 8", className: "near-section" }; }, interactive: false }).addTo(map);
    }
  });
  (config.restrictions || []).forEach(function (r) {
    if (r.detour) {
      L.geoJSON(r.detour, { style: function () { return { color: "#00796b", weight: 5, dashArray: "2 8", className: "near-detour" }; }, interactive: false }).addTo(map);
    }
  });

  // A div icon whose glyph is set as text (every time Leaflet makes its element), never HTML.
  var GlyphIcon = L.DivIcon.extend({
    createIcon: function (oldIcon) {
      var div = L.DivIcon.prototype.createIcon.call(this, oldIcon);
      div.textContent = this.options.glyph;
      return div;
    }
  });

  // A pin: its colour comes from a CSS class; `home` keeps its true place while it is moved.
  function pin(className, lat, lon, glyph, text) {
    var icon = new GlyphIcon({ className: className, iconSize: [PIN_SIZE, PIN_SIZE], glyph: glyph });
    var marker = L.marker([lat, lon], { icon: icon, keyboard: false, title: text, alt: text });
    marker.home = L.latLng(lat, lon);
    marker.addTo(map);
    label(marker, text);
    return marker;
  }

  // A work's pin: its number, in its status's colour (near.css, the map legend's palette).
  function statusPin(p) {
    var marker = pin("near-pin near-pin--" + p.status, p.lat, p.lon, String(p.n),
      p.n + ". " + p.name + " (" + p.statusLabel + ")");
    marker.old = p.old;
    marker.on("click", function () {
      var item = document.getElementById("result-" + p.id);
      if (item && !item.hidden) item.scrollIntoView({ behavior: "smooth", block: "center" });
    });
    return marker;
  }

  function shelterPin(shelter) {
    return pin("near-shelter-pin", shelter.lat, shelter.lon, config.text.shelterGlyph,
      config.text.shelter + ": " + shelter.name);
  }

  var leaders = L.layerGroup().addTo(map);

  // Moves pins that would cover another's tap target: each pin, in order, takes the first
  // free spot on a spiral around its true place, and a thin line leads back to that place.
  // Run again after every zoom, since pins keep their size while the ground scales.
  function spreadPins(map, markers, minGap, leaderLayer) {
    leaderLayer.clearLayers();
    var placed = [];
    markers.forEach(function (marker) {
      if (!map.hasLayer(marker)) return;
      var home = map.latLngToLayerPoint(marker.home);
      var spot = home;
      for (var step = 0; step < 200 && collides(spot, placed, minGap); step += 1) {
        var angle = step * 2.4; // the golden angle in radians: an even spiral
        var distance = minGap * (0.6 + 0.25 * Math.sqrt(step));
        spot = home.add(L.point(Math.cos(angle) * distance, Math.sin(angle) * distance));
      }
      placed.push(spot);
      marker.setLatLng(map.layerPointToLatLng(spot));
      if (!spot.equals(home)) {
        L.polyline([marker.home, marker.getLatLng()], {
          color: "#222", weight: 1.5, opacity: 0.8, interactive: false
        }).addTo(leaderLayer);
      }
    });
  }

  // Pins are squares to a finger: apart means apart across or apart up and down.
  function collides(spot, placed, minGap) {
    return placed.some(function (other) {
      return Math.max(Math.abs(other.x - spot.x), Math.abs(other.y - spot.y)) < minGap;
    });
  }

  var works = config.pins.map(statusPin);
  var shelters = config.shelters.map(shelterPin);
  var allPins = works.concat(shelters);

  function respread() {
    spreadPins(map, allPins, MIN_GAP, leaders);
  }

  // "Hide works finished over a year ago": applied at once to the list and the map.
  var toggle = document.getElementById("hide-old");
  var note = document.getElementById("hidden-note");
  function applyToggle() {
    var hide = Boolean(toggle && toggle.checked);
    var items = document.querySelectorAll(".results [data-old-work]");
    Array.prototype.forEach.call(items, function (item) { item.hidden = hide; });
    works.forEach(function (marker) {
      if (!marker.old) return;
      if (hide) map.removeLayer(marker);
      else if (!map.hasLayer(marker)) marker.addTo(map);
    });
    if (note) note.textContent = hide ? config.text.hiddenOld.replace("{n}", items.length) : "";
    respread();
  }
  if (toggle) {
    toggle.addEventListener("change", applyToggle);
  }
  applyToggle();
  map.on("zoomend viewreset", respread);

  map.on("click", function (event) {
    goTo(event.latlng.lat, event.latlng.lng);
  });
  // What the map draws, for checks: vector tile layers and numbered work pins shown.
  function drawn() {
    var counts = { tileLayers: 0, workPins: 0 };
    map.eachLayer(function (layer) {
      if (L.VectorGrid && layer instanceof L.VectorGrid) counts.tileLayers += 1;
    });
    counts.workPins = works.filter(function (marker) { return map.hasLayer(marker); }).length;
    return counts;
  }
  window.AsoNear = { map: map, spreadPins: spreadPins, drawn: drawn };
})();
