/* Keeps the project form's drawing map and its GeoJSON / WKT text box in step.
 * Called once per page by the map's script: AsoEditor.useDrawWords(words) before the drawing
 * toolbar is built, then AsoEditor.attach(map, drawnItems, options). */
(function () {
  "use strict";

  var MULTI = { Point: "MultiPoint", LineString: "MultiLineString", Polygon: "MultiPolygon" };

  function geometryOf(group) {
    var geometries = group.toGeoJSON().features.map(function (f) { return f.geometry; });
    if (geometries.length === 0) return null;
    if (geometries.length === 1) return geometries[0];
    var type = geometries[0].type;
    var same = geometries.every(function (g) { return g.type === type; });
    if (same && MULTI[type]) {
      return { type: MULTI[type], coordinates: geometries.map(function (g) { return g.coordinates; }) };
    }
    // Mixed shapes: the server says which type the kind needs.
    return { type: "GeometryCollection", geometries: geometries };
  }

  function parseGeoJSON(text) {
    var value = text.trim();
    if (value.charAt(0) !== "{") return null; // WKT is checked by the server on saving
    try {
      var data = JSON.parse(value);
      return data && data.type === "Feature" ? data.geometry : data;
    } catch (e) {
      return null;
    }
  }

  // Copies the page's words over Leaflet.draw's English ones, key by key.
  function merge(target, words) {
    Object.keys(words).forEach(function (key) {
      if (words[key] && typeof words[key] === "object") {
        target[key] = target[key] || {};
        merge(target[key], words[key]);
      } else {
        target[key] = words[key];
      }
    });
  }

  function useDrawWords(words) {
    merge(L.drawLocal, words);
  }

  function attach(map, drawnItems, options) {
    var text = options.text;
    var textarea = document.getElementById(options.textarea);
    var status = document.getElementById(options.textarea + "-map-status");

    function show(geometry, fit) {
      drawnItems.clearLayers();
      if (!geometry) return;
      L.geoJSON(geometry).eachLayer(function (layer) { drawnItems.addLayer(layer); });
      var bounds = drawnItems.getBounds();
      if (fit && bounds.isValid()) map.fitBounds(bounds, { maxZoom: 16 });
    }

    function say(text) {
      if (status) status.textContent = text;
    }

    function writeBack() {
      var geometry = geometryOf(drawnItems);
      textarea.value = geometry ? JSON.stringify(geometry) : "";
      say(geometry ? text.written : text.none);
    }

    show(options.geometry, true);
    if (options.repaired) {
      // The refused shape in red, the offered repair in orange dashes above it.
      drawnItems.eachLayer(function (layer) {
        if (layer.setStyle) layer.setStyle({ color: "#b2182b", weight: 2 });
      });
    }
    map.on("draw:created draw:edited draw:deleted", function () {
      // After Draw's own handler has added the new layer to the group.
      window.setTimeout(writeBack, 0);
    });

    textarea.addEventListener("change", function () {
      var geometry = parseGeoJSON(textarea.value);
      if (geometry) {
        show(geometry, true);
        say(text.pasted);
      } else if (textarea.value.trim()) {
        say(text.later);
      }
    });

    if (options.repaired) {
      var repairedLayer = L.geoJSON(options.repaired, {
        style: { color: "#e69f00", weight: 4, dashArray: "6 4", fillOpacity: 0.2 },
        interactive: false,
      }).addTo(map);
      var bounds = repairedLayer.getBounds();
      if (bounds.isValid()) map.fitBounds(bounds, { maxZoom: 16 });
      var button = document.getElementById("use-repaired");
      if (button) {
        button.addEventListener("click", function () {
          map.removeLayer(repairedLayer);
          textarea.value = JSON.stringify(options.repaired);
          show(options.repaired, true);
          say(text.repaired);
          button.disabled = true;
        });
      }
    }

    if (options.problemAt) markProblem(map, options.problemAt, text.problem);

    var clear = document.getElementById(options.textarea + "-clear");
    if (clear) {
      clear.addEventListener("click", function () {
        drawnItems.clearLayers();
        writeBack();
      });
    }
  }

  // A ring around the place a refused shape goes wrong, named in a tooltip that stays open.
  function markProblem(map, lonLat, label) {
    var at = L.latLng(lonLat[1], lonLat[0]);
    var ring = L.circleMarker(at, {
      radius: 14, color: "#b2182b", weight: 4, fill: false, interactive: false,
      className: "aso-problem-mark"
    }).addTo(map);
    ring.bindTooltip(document.createTextNode(label), { permanent: true, direction: "top", offset: [0, -14] });
    if (!map.getBounds().contains(at)) map.fitBounds(map.getBounds().extend(at));
  }

  // parseGeoJSON is shared with the restriction form's script.
  window.AsoEditor = { attach: attach, useDrawWords: useDrawWords, parseGeoJSON: parseGeoJSON };
})();
