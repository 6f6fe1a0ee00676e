/* Hazard zones as overlays in the map's layer control, one per hazard, off until switched on.
 * Each is fetched from its own GeoJSON URL the first time it is shown; a tiled source can
 * take the URL's place without the control changing. */
(function () {
  "use strict";

  var COLOURS = {
    steep_slope: "#b35806",
    debris_flow: "#7f3b08",
    landslide: "#c51b7d",
    flood: "#2166ac"
  };

  function escapeHtml(text) {
    var div = document.createElement("div");
    div.textContent = text;
    return div.innerHTML;
  }

  function popup(feature, label) {
    var props = feature.properties || {};
    var box = document.createElement("div");
    var title = document.createElement("strong");
    title.textContent = label;
    box.appendChild(title);
    [props.zone_class, props.name].forEach(function (text) {
      if (!text) return;
      var line = document.createElement("div");
      line.textContent = text;
      box.appendChild(line);
    });
    return box;
  }

  function addTo(map, options) {
    var control = options.layerControl; // folium hands keys over in camelCase
    // Below the projects (overlayPane is 400), above the tiles.
    if (!map.getPane("asoHazards")) map.createPane("asoHazards").style.zIndex = 350;
    (options.layers || []).forEach(function (spec) {
      var colour = COLOURS[spec.hazard] || "#d62728";
      var layer = L.geoJSON(null, {
        pane: "asoHazards",
        attribution: spec.attribution,
        style: { color: colour, weight: 1, fillColor: colour, fillOpacity: 0.3 },
        onEachFeature: function (feature, shape) {
          shape.bindPopup(function () { return popup(feature, spec.label); });
        }
      });
      var requested = false;
      layer.on("add", function () {
        if (requested) return;
        requested = true;
        fetch(spec.url, { credentials: "same-origin" })
          .then(function (response) {
            if (!response.ok) throw new Error("HTTP " + response.status);
            // Not kept for offline use (staff_sw.js): the page says it is missing.
            if (response.headers.get("X-Aso-Offline")) {
              window.dispatchEvent(new CustomEvent("aso:offline-missing", { detail: { url: spec.url } }));
            }
            return response.json();
          })
          .then(function (collection) {
            layer.addData(collection);
            map.getContainer().setAttribute("data-hazard-" + spec.hazard, String(collection.features.length));
          })
          .catch(function (error) {
            requested = false;
            if (window.console) console.error("AsoHazards:", error);
          });
      });
      control.addOverlay(layer, escapeHtml(spec.label)); // the control inserts names as HTML
    });
  }

  window.AsoHazards = { addTo: addTo };
})();
