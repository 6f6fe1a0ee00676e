/* Keeps the restriction form's drawing map and its two line boxes (the closed or narrowed
 * section, and the detour) in step. Called once per page by the map's script:
 * AsoRestrictionEditor.attach(map, drawnItems, options). Reads pasted GeoJSON as the
 * project form does (project_editor.js, loaded before it). */
(function () {
  "use strict";

  // As the city map draws them: red dashes for the section, green dots for the detour.
  var STYLES = {
    section: { color: "#d7191c", weight: 6, opacity: 1, dashArray: "12 8" },
    detour: { color: "#00796b", weight: 5, opacity: 0.95, dashArray: "2 8" }
  };

  function attach(map, drawnItems, options) {
    var boxes = { section: document.getElementById(options.section), detour: document.getElementById(options.detour) };
    var status = document.getElementById("restriction-map-status");

    function target() {
      var checked = document.querySelector('input[name="' + options.target + '"]:checked');
      return checked ? checked.value : "section";
    }

    function layersOf(which) {
      var found = [];
      drawnItems.eachLayer(function (layer) { if (layer.asoTarget === which) found.push(layer); });
      return found;
    }

    function lineOf(which) {
      var parts = [];
      layersOf(which).forEach(function (layer) {
        var g = layer.toGeoJSON().geometry;
        if (g.type === "LineString") parts.push(g.coordinates);
        else if (g.type === "MultiLineString") parts = parts.concat(g.coordinates);
      });
      if (!parts.length) return null;
      if (parts.length === 1) return { type: "LineString", coordinates: parts[0] };
      return { type: "MultiLineString", coordinates: parts };
    }

    function add(geometry, which) {
      if (!geometry) return;
      L.geoJSON(geometry).eachLayer(function (layer) {
        layer.asoTarget = which;
        layer.setStyle(STYLES[which]);
        drawnItems.addLayer(layer);
      });
    }

    function writeBack(which) {
      var geometry = lineOf(which);
      boxes[which].value = geometry ? JSON.stringify(geometry) : "";
      if (status) status.textContent = boxes[which].dataset.drawn || "";
    }

    function fit() {
      var bounds = drawnItems.getBounds();
      if (work) bounds = bounds.isValid() ? bounds.extend(work.getBounds()) : work.getBounds();
      if (bounds.isValid()) map.fitBounds(bounds, { maxZoom: 17 });
    }

    // The work itself, thin and grey, to draw along.
    var work = options.project ? L.geoJSON(options.project, {
      style: { color: "#555", weight: 3, opacity: 0.8 },
      pointToLayer: function (f, latlng) { return L.circleMarker(latlng, { radius: 6, color: "#555" }); },
      interactive: false
    }).addTo(map) : null;
    add(options.sectionGeometry, "section");
    add(options.detourGeometry, "detour");
    fit();

    map.on("draw:created", function (event) {
      var which = target();
      window.setTimeout(function () {
        event.layer.asoTarget = which;
        event.layer.setStyle(STYLES[which]);
        writeBack(which);
      }, 0);
    });
    map.on("draw:edited draw:deleted", function () {
      window.setTimeout(function () { writeBack("section"); writeBack("detour"); }, 0);
    });

    Object.keys(boxes).forEach(function (which) {
      boxes[which].addEventListener("change", function () {
        layersOf(which).forEach(function (layer) { drawnItems.removeLayer(layer); });
        add(window.AsoEditor.parseGeoJSON(boxes[which].value), which);
        fit();
      });
      var clear = document.getElementById(which + "-clear");
      if (clear) clear.addEventListener("click", function () {
        layersOf(which).forEach(function (layer) { drawnItems.removeLayer(layer); });
        writeBack(which);
      });
    });
    window.asoRestrictionEditorReady = true;
  }

  window.AsoRestrictionEditor = { attach: attach };
})();
