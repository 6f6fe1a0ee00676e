/*
 * Draw Aso City's recovery projects on a Leaflet map.
 *
 * AsoProjects.addTo(map, {url, projectUrl, layerControl, labels, ...}) fetches one
 * GeoJSON FeatureCollection and draws it client-side, so the page stays light
 * however many projects there are. Data only ever reaches the page through
 * textContent / properties, never as HTML.
 */
(function () {
  "use strict";

  // Okabe–Ito based: distinguishable with the common colour-vision deficiencies;
  // orange and red also differ strongly in lightness. ink = readable text colour.
  var STATUSES = {
    planned: { color: "#7a7a7a", ink: "#000" },
    design: { color: "#0072b2", ink: "#fff" },
    construction: { color: "#e69f00", ink: "#000" },
    completed: { color: "#009e73", ink: "#000" },
    suspended: { color: "#b2182b", ink: "#fff" }
  };
  var UNKNOWN_STATUS = { label: "不明", color: "#444444", ink: "#fff" };

  // Kind is shown by shape (glyph and outline), status by colour, so the two never compete.
  // geom only picks the legend sample; any kind is drawn by its real geometry.
  var KINDS = {
    road: { glyph: "道", geom: "line", line: { weight: 6 } },
    bridge: { glyph: "橋", geom: "point", shape: "circle", line: { weight: 5 } },
    revetment: { glyph: "護", geom: "line", line: { weight: 4 }, casing: "#0b2e59" },
    sabo: { glyph: "砂", geom: "point", shape: "circle", line: { weight: 4 } },
    shelter: { glyph: "避", geom: "point", shape: "square", line: { weight: 4 } },
    pavement: { glyph: "舗", geom: "line", line: { weight: 5, dashArray: "10 6" } },
    seismic: { glyph: "耐", geom: "point", shape: "square", line: { weight: 4 } }
  };
  var OTHER_KIND = { label: "その他", glyph: "他", geom: "point", shape: "circle", line: { weight: 4 } };

  // The words of the popups and the legend; the page passes them translated as `labels.text`,
  // with `labels.statuses` and `labels.kinds` for the names above.
  var TEXT = {
    legend: "凡例",
    status: "状況",
    kind: "種別",
    progress: "進捗",
    planned: "予定",
    actual: "実績",
    undecided: "未定",
    unnamed: "（名称未設定）",
    sample: "サンプルデータ",
    details: "詳細を見る",
    loading: "読み込み中…",
    count: "事業 {n} 件",
    failed: "事業データを読み込めませんでした"
  };

  var DEFAULTS = {
    url: null,                  // GeoJSON FeatureCollection of projects
    projectUrl: "/projects/{id}", // popup link; {id} is replaced
    layerControl: null,         // L.control.layers to add one overlay per kind to
    disableClusteringAtZoom: 16,
    legend: true,
    labels: null                // {text, statuses, kinds}: words in the page's language
  };

  // A div icon whose text and colours are set through the DOM, never as HTML.
  var TextIcon = L.DivIcon.extend({
    createIcon: function (oldIcon) {
      var div = L.DivIcon.prototype.createIcon.call(this, oldIcon);
      div.textContent = this.options.text;
      div.style.backgroundColor = this.options.fill;
      div.style.color = this.options.ink;
      return div;
    }
  });

  function el(tag, className, parent) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (parent) parent.appendChild(node);
    return node;
  }

  function dateText(value) {
    return value ? String(value).slice(0, 10).replace(/-/g, "/") : TEXT.undecided;
  }

  function periodText(start, end) {
    return start || end ? dateText(start) + " 〜 " + dateText(end) : "—";
  }

  function progressText(value) {
    var n = Number(value);
    return value === null || value === undefined || value === "" || isNaN(n) ? "—" : Math.round(n) + "%";
  }

  function popupContent(props, kind, status, projectUrl) {
    var root = el("div", "aso-popup");
    el("strong", "aso-popup__name", root).textContent = props.name ? String(props.name) : TEXT.unnamed;
    if (props.sample) el("span", "aso-popup__sample", root).textContent = TEXT.sample;
    var facts = el("dl", "aso-popup__facts", root);
    [
      [TEXT.kind, kind.label],
      [TEXT.status, status.label],
      [TEXT.progress, progressText(props.progress)],
      [TEXT.planned, periodText(props.planned_start, props.planned_end)],
      [TEXT.actual, periodText(props.actual_start, props.actual_end)]
    ].forEach(function (row) {
      el("dt", null, facts).textContent = row[0];
      el("dd", null, facts).textContent = row[1];
    });
    if (projectUrl && props.id !== null && props.id !== undefined) {
      var link = el("a", "aso-popup__link", root);
      link.href = projectUrl.replace("{id}", encodeURIComponent(String(props.id)));
      link.textContent = TEXT.details;
    }
    return root;
  }

  var iconCache = {};
  function pinIcon(kind, status) {
    var key = kind.glyph + status.color;
    if (!iconCache[key]) {
      iconCache[key] = new TextIcon({
        className: "aso-pin aso-pin--" + kind.shape,
        iconSize: [24, 24],
        popupAnchor: [0, -10],
        text: kind.glyph,
        fill: status.color,
        ink: status.ink
      });
    }
    return iconCache[key];
  }

  function clusterIcon(kind) {
    return function (cluster) {
      var text = kind.glyph + " " + cluster.getChildCount();
      return new TextIcon({
        className: "aso-cluster",
        iconSize: [12 + 8 * text.length, 26],
        text: text,
        fill: "#333333",
        ink: "#ffffff"
      });
    };
  }

  function lineStyle(kind, status) {
    return L.extend({ color: status.color, opacity: 0.95, fillColor: status.color, fillOpacity: 0.3 }, kind.line);
  }

  function pointLatLngs(geometry) {
    if (geometry.type === "Point") return [L.GeoJSON.coordsToLatLng(geometry.coordinates)];
    if (geometry.type === "MultiPoint") {
      return geometry.coordinates.map(function (c) { return L.GeoJSON.coordsToLatLng(c); });
    }
    return null;
  }

  function legendControl() {
    var legend = L.control({ position: "bottomleft" });
    legend.onAdd = function (map) {
      var box = el("div", "leaflet-control aso-legend");
      L.DomEvent.disableClickPropagation(box);
      L.DomEvent.disableScrollPropagation(box);
      var details = el("details", null, box);
      // Open on wide screens only: on a phone it would cover the map.
      details.open = map.getSize().x >= 600;
      el("summary", "aso-legend__title", details).textContent = TEXT.legend;

      el("h3", null, details).textContent = TEXT.status;
      var statuses = el("ul", null, details);
      Object.keys(STATUSES).forEach(function (key) {
        var item = el("li", null, statuses);
        el("span", "aso-legend__swatch", item).style.backgroundColor = STATUSES[key].color;
        el("span", null, item).textContent = STATUSES[key].label;
      });

      el("h3", null, details).textContent = TEXT.kind;
      var kinds = el("ul", null, details);
      Object.keys(KINDS).forEach(function (key) {
        var kind = KINDS[key];
        var item = el("li", null, kinds);
        if (kind.geom === "point") {
          var pin = el("span", "aso-pin aso-pin--" + kind.shape + " aso-legend__pin", item);
          pin.textContent = kind.glyph;
        } else {
          var line = el("span", "aso-legend__line", item);
          // Neutral ink: colour means status; a light core makes the casing read as a double line.
          var ink = kind.casing ? "#bbbbbb" : "#333333";
          line.style.borderTop = kind.line.weight + "px " + (kind.line.dashArray ? "dashed" : "solid") + " " + ink;
          if (kind.casing) line.style.boxShadow = "0 0 0 3px " + kind.casing;
        }
        el("span", null, item).textContent = kind.label;
      });
      legend.status = el("p", "aso-legend__status", box);
      legend.status.setAttribute("role", "status");
      legend.status.textContent = TEXT.loading;
      return box;
    };
    return legend;
  }

  function escapeHtml(text) {
    var span = document.createElement("span");
    span.textContent = text;
    return span.innerHTML;
  }

  // One map per page, so the page's language can simply replace the default words. Status
  // and kind names come only from the page (the server's vocabulary); a code stands in for
  // a name the page did not give.
  function useLabels(labels) {
    labels = labels || {};
    L.extend(TEXT, labels.text);
    [[STATUSES, labels.statuses], [KINDS, labels.kinds]].forEach(function (pair) {
      Object.keys(pair[0]).forEach(function (key) {
        pair[0][key].label = String((pair[1] || {})[key] || key);
      });
    });
  }

  function addTo(map, options) {
    var opts = L.extend({}, DEFAULTS, options);
    useLabels(opts.labels);
    var control = opts.layerControl || L.control.layers(null, null, { collapsed: false }).addTo(map);
    // One canvas for every project line: far cheaper than an SVG node per line.
    var renderer = L.canvas({ padding: 0.5 });
    var groups = {}; // kind -> {kind, cluster, vectors, markers}
    var layersById = {}; // project id -> {layer, group}, for show()
    var legend = null;
    shown = { map: map, layersById: layersById, zoom: opts.disableClusteringAtZoom };

    function groupFor(key) {
      var known = Object.prototype.hasOwnProperty.call(KINDS, key);
      var name = known ? key : "other";
      if (!groups[name]) {
        var kind = known ? KINDS[key] : OTHER_KIND;
        var cluster = L.markerClusterGroup({
          disableClusteringAtZoom: opts.disableClusteringAtZoom,
          // Animated splits ignore moves for a moment after each zoom, which left markers
          // missing when the view jumped twice in a row (show() from the meeting list).
          animate: false,
          chunkedLoading: true,
          showCoverageOnHover: false,
          spiderfyOnMaxZoom: false,
          iconCreateFunction: clusterIcon(kind)
        });
        var vectors = L.featureGroup();
        var overlay = L.layerGroup([vectors, cluster]).addTo(map);
        control.addOverlay(overlay, escapeHtml(kind.label)); // the control inserts names as HTML
        groups[name] = { kind: kind, cluster: cluster, vectors: vectors, markers: [] };
      }
      return groups[name];
    }

    function drawFeature(feature) {
      var props = feature.properties || {};
      var group = groupFor(props.kind);
      var kind = group.kind;
      var status = STATUSES[props.status] || UNKNOWN_STATUS;
      var popup = function () { return popupContent(props, kind, status, opts.projectUrl); };
      var points = pointLatLngs(feature.geometry);
      if (points) {
        points.forEach(function (latlng) {
          var title = props.name ? String(props.name) : "";
          var marker = L.marker(latlng, { icon: pinIcon(kind, status), title: title, alt: title });
          marker.feature = feature;
          group.markers.push(marker.bindPopup(popup));
          if (!layersById[feature.id]) layersById[feature.id] = { layer: marker, group: group };
        });
        return;
      }
      if (kind.casing) {
        // Drawn first, wider and dark: reads as a double line around the status colour.
        L.GeoJSON.geometryToLayer(feature, {
          renderer: renderer, interactive: false, color: kind.casing, weight: kind.line.weight + 6
        }).addTo(group.vectors);
      }
      var options = L.extend({ renderer: renderer }, lineStyle(kind, status));
      var shape = L.GeoJSON.geometryToLayer(feature, options);
      shape.feature = feature;
      shape.bindPopup(popup).addTo(group.vectors);
      layersById[feature.id] = { layer: shape, group: group };
    }

    // Bulk add, so markercluster builds its tree once; on the map it works in chunks
    // between frames, and the promise settles when the last chunk is in.
    function addMarkers(group) {
      var markers = group.markers;
      group.markers = [];
      return new Promise(function (resolve) {
        if (!group.cluster._map) { // kind switched off meanwhile: added at once
          group.cluster.addLayers(markers);
          resolve();
          return;
        }
        group.cluster.options.chunkProgress = function (done, total) {
          if (done === total) resolve();
        };
        group.cluster.addLayers(markers);
      });
    }

    function draw(collection) {
      var drawn = 0;
      ((collection && collection.features) || []).forEach(function (feature) {
        if (!feature || !feature.geometry) return;
        drawFeature(feature);
        drawn += 1;
      });
      var pending = Object.keys(groups).map(function (name) { return addMarkers(groups[name]); });
      return Promise.all(pending).then(function () { return drawn; });
    }

    function finish(count, message) {
      if (legend) legend.status.textContent = message;
      map.getContainer().setAttribute("data-features-drawn", String(count));
      window.asoFeatureCount = count;
      window.asoMapReady = true;
      map.fire("aso:projectsdrawn", { count: count });
    }

    Object.keys(KINDS).forEach(groupFor); // every kind in the control, even when empty
    legend = opts.legend ? legendControl().addTo(map) : null;
    // Collapsed is the phone-friendly default; on a wide map show the kinds at once.
    if (opts.layerControl && map.getSize().x >= 600) opts.layerControl.expand();

    return fetch(opts.url, { credentials: "same-origin", headers: { Accept: "application/geo+json, application/json" } })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      })
      .then(draw)
      .then(function (count) {
        finish(count, TEXT.count.replace("{n}", count.toLocaleString()));
        return count;
      })
      .catch(function (error) {
        window.asoMapError = String(error);
        if (window.console) console.error("AsoProjects:", error);
        finish(0, TEXT.failed);
        return 0;
      });
  }

  // The map drawn last, so that a list beside it can point at one of its projects.
  var shown = null;

  // Bring one project into view and open its popup; false if it is not on the map.
  function show(id) {
    var entry = shown && shown.layersById[id];
    if (!entry) return false;
    var map = shown.map;
    var layer = entry.layer;
    map.stop(); // a zoom still under way would swallow this one
    if (layer.getLatLng) {
      if (!map.hasLayer(entry.group.cluster)) map.addLayer(entry.group.cluster);
      // At this zoom markers stand on their own; the cluster puts the marker on the map
      // once the move has ended, and only then can its popup open: a popup opened sooner
      // (the marker already showing) closes when the cluster redraws at the move's end.
      map.once("moveend", function () { openWhenOnMap(layer, 120); });
      map.setView(layer.getLatLng(), Math.max(map.getZoom(), shown.zoom));
    } else {
      if (!map.hasLayer(entry.group.vectors)) map.addLayer(entry.group.vectors);
      map.fitBounds(layer.getBounds(), { maxZoom: shown.zoom });
      layer.openPopup();
    }
    return true;
  }

  function openWhenOnMap(layer, framesLeft) {
    if (layer._map) layer.openPopup();
    else if (framesLeft > 0) requestAnimationFrame(function () { openWhenOnMap(layer, framesLeft - 1); });
  }

  window.AsoProjects = { addTo: addTo, show: show, STATUSES: STATUSES, KINDS: KINDS };
})();
