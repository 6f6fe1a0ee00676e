/*
 * The /near page's map and "use my location" button.
 *
 * The page works without this script: the place list and the radius are a
 * plain GET form and the results are rendered on the server. This script only
 * adds ways to pick the point (the browser's location, a tap on the map) and
 * draws the chosen circle, the numbered results and the shelters. Names reach
 * the page as data and are shown with textContent / Leaflet tooltips of text
 * nodes, never as HTML.
 */
(function () {
  "use strict";

  var configNode = document.getElementById("near-config");
  if (!configNode) return;
  var config = JSON.parse(configNode.textContent);
  var form = document.querySelector(".near-form");
  var status = document.getElementById("near-status");

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
  var locate = document.getElementById("near-locate");
  if (locate && "geolocation" in navigator) {
    locate.hidden = false;
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

  if (typeof L === "undefined") return;
  var wrap = document.getElementById("near-map-wrap");
  wrap.hidden = false;

  var map = L.map("near-map", { maxZoom: config.maxZoom, tap: true });
  L.tileLayer(config.tiles, { attribution: config.attribution, maxZoom: config.maxZoom }).addTo(map);
  L.control.scale({ imperial: false }).addTo(map);

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

  // Works are drawn from the vector tiles in the city map's colours and shapes; a tap on the
  // map still means "search here", and a numbered pin matches each listed work to the list.
  if (window.AsoProjects && L.vectorGrid) {
    AsoProjects.addTo(map, L.extend({ legend: false, kindSwitches: false, interactive: false },
      config.layer));
  }

  // Restrictions: red dashes over a dark casing for the section, green dots for the detour,
  // as on the city map.
  (config.restrictions || []).forEach(function (r) {
    if (r.detour) {
      L.geoJSON(r.detour, { style: function () { return { color: "#00796b", weight: 5, dashArray: "2 8", className: "near-detour" }; }, interactive: false }).addTo(map);
    }
    if (r.section) {
      L.geoJSON(r.section, { style: function () { return { color: "#4d0010", weight: 11, opacity: 0.9 }; }, interactive: false }).addTo(map);
      L.geoJSON(r.section, { style: function () { return { color: "#d7191c", weight: 7, dashArray: "12 8", className: "near-section" }; }, interactive: false }).addTo(map);
    }
  });

  function pin(className, lat, lon, glyph, text) {
    var icon = L.divIcon({ className: className, iconSize: [26, 26], html: "" });
    var marker = L.marker([lat, lon], { icon: icon, keyboard: false }).addTo(map);
    marker.getElement().textContent = glyph;
    label(marker, text);
    return marker;
  }

  config.pins.forEach(function (p) {
    pin("near-pin", p.lat, p.lon, String(p.n), p.n + ". " + p.name);
  });

  config.shelters.forEach(function (shelter) {
    pin("near-shelter-pin", shelter.lat, shelter.lon, config.text.shelterGlyph,
      config.text.shelter + ": " + shelter.name);
  });

  map.on("click", function (event) {
    goTo(event.latlng.lat, event.latlng.lng);
  });
  window.asoNearReady = true;
})();
