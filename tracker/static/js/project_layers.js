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
  // The page's stylesheet (site.css, --status-<code>) is the palette's home; these are the
  // same colours, for a page without it.
  var STATUSES = {
    planned: { color: "#7a7a7a", ink: "#000" },
    design: { color: "#0072b2", ink: "#fff" },
    construction: { color: "#e69f00", ink: "#000" },
    completed: { color: "#009e73", ink: "#000" },
    suspended: { color: "#b2182b", ink: "#fff" }
  };
  var UNKNOWN_STATUS = { label: "不明", color: "#444444", ink: "#fff" };

  // Kind is shown by shape (glyph and outline), status by colour, so the two never compete.
  // geom only picks the legend sample; any kind is drawn by its real geometry. The glyphs
  // are the page's (labels.glyphs): a kanji in Japanese, letters in English.
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
    failed: "事業データを読み込めませんでした",
    unknown_status: "不明",
    other_kind: "その他"
  };

  var ICON_GAP = 8; // px between map icons that would otherwise touch

  var DEFAULTS = {
    url: null,                  // GeoJSON FeatureCollection of projects
    projectUrl: "/projects/{id}", // popup link; {id} is replaced
    layerControl: null,         // L.control.layers to add one overlay per kind to
    kindControl: true,          // false: no per-kind switches (the page filters kinds itself)
    disableClusteringAtZoom: 16,
    // Clusters of a phone's map stay this far apart (px): their icons never overlap.
    maxClusterRadius: 70,
    legend: true,
    labels: null                // {text, statuses, kinds, glyphs}: words in the page's language
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

  // One cluster for every kind, so clusters of different kinds never pile up on one spot:
  // it shows how many works it holds, and the kind's glyph when they are all of one kind.
  function clusterIcon(cluster) {
    var kinds = {};
    cluster.getAllChildMarkers().forEach(function (marker) { kinds[marker.kindGlyph] = true; });
    var glyphs = Object.keys(kinds);
    var count = String(cluster.getChildCount());
    var text = glyphs.length === 1 ? glyphs[0] + " " + count : count;
    return new TextIcon({
      className: "aso-cluster",
      iconSize: [Math.max(30, 14 + 8 * text.length), 30],
      text: text,
      fill: "#333333",
      ink: "#ffffff"
    });
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

      el("h2", null, details).textContent = TEXT.status;
      var statuses = el("ul", null, details);
      Object.keys(STATUSES).forEach(function (key) {
        var item = el("li", null, statuses);
        el("span", "aso-legend__swatch", item).style.backgroundColor = STATUSES[key].color;
        el("span", null, item).textContent = STATUSES[key].label;
      });

      el("h2", null, details).textContent = TEXT.kind;
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

  // Markercluster keeps clusters a radius apart where it groups them, but draws each at the
  // mean of its markers, so two icons can still meet. Once the icons are drawn, any that
  // would cover another (a cluster, a pin) is nudged aside (CSS translate, which leaves
  // Leaflet's own transform alone): every icon stays whole and tappable.
  function separateIcons(map, gap) {
    var icons = Array.prototype.slice.call(
      map.getPane("markerPane").querySelectorAll(".aso-cluster, .aso-pin")
    );
    icons.forEach(function (icon) { icon.style.translate = ""; });
    var items = icons.map(function (icon) { return { icon: icon, box: icon.getBoundingClientRect() }; });
    // The biggest stay where they are; smaller ones make way.
    items.sort(function (a, b) { return b.box.width * b.box.height - a.box.width * a.box.height; });
    var placed = [];
    items.forEach(function (item) {
      var box = item.box;
      var dx = 0;
      var dy = 0;
      for (var step = 0; step < 200 && placed.some(meets); step += 1) {
        var angle = step * 2.4; // the golden angle in radians: an even spiral
        var distance = gap * (1 + 0.3 * Math.sqrt(step));
        dx = Math.round(Math.cos(angle) * distance);
        dy = Math.round(Math.sin(angle) * distance);
      }
      if (dx || dy) item.icon.style.translate = dx + "px " + dy + "px";
      placed.push({ left: box.left + dx, top: box.top + dy, right: box.right + dx, bottom: box.bottom + dy });

      function meets(other) {
        return box.left + dx < other.right + gap / 4 && other.left < box.right + dx + gap / 4 &&
          box.top + dy < other.bottom + gap / 4 && other.top < box.bottom + dy + gap / 4;
      }
    });
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
    var glyphs = labels.glyphs || {};
    Object.keys(KINDS).forEach(function (key) {
      if (glyphs[key]) KINDS[key].glyph = String(glyphs[key]);
    });
    if (glyphs.other) OTHER_KIND.glyph = String(glyphs.other);
    OTHER_KIND.label = TEXT.other_kind;
    UNKNOWN_STATUS.label = TEXT.unknown_status;
  }

  // The status colours from the page's stylesheet, where the palette is defined once.
  function usePalette() {
    var style = window.getComputedStyle(document.documentElement);
    Object.keys(STATUSES).forEach(function (key) {
      var color = style.getPropertyValue("--status-" + key).trim();
      var ink = style.getPropertyValue("--status-" + key + "-ink").trim();
      if (color) STATUSES[key].color = color;
      if (ink) STATUSES[key].ink = ink;
    });
  }

  function addTo(map, options) {
    var opts = L.extend({}, DEFAULTS, options);
    useLabels(opts.labels);
    usePalette();
    var control = null;
    if (opts.kindControl) {
      control = opts.layerControl || L.control.layers(null, null, { collapsed: false }).addTo(map);
    }
    // One canvas for every project line: far cheaper than an SVG node per line.
    var renderer = L.canvas({ padding: 0.5 });
    var cluster = L.markerClusterGroup({
      disableClusteringAtZoom: opts.disableClusteringAtZoom,
      maxClusterRadius: opts.maxClusterRadius,
      // Animated splits ignore moves for a moment after each zoom, which left markers
      // missing when the view jumped twice in a row (show() from the meeting list).
      animate: false,
      chunkedLoading: true,
      showCoverageOnHover: false,
      spiderfyOnMaxZoom: false,
      iconCreateFunction: clusterIcon
    }).addTo(map);
    var groups = {}; // kind -> {kind, vectors, overlay, markers, pending}
    var layersById = {}; // project id -> {layer, group}, for show()
    var legend = null;
    shown = { map: map, layersById: layersById, zoom: opts.disableClusteringAtZoom, cluster: cluster };

    // A kind's switch puts its lines on the map and its markers into the shared cluster.
    function groupFor(key) {
      var known = Object.prototype.hasOwnProperty.call(KINDS, key);
      var name = known ? key : "other";
      if (!groups[name]) {
        var kind = known ? KINDS[key] : OTHER_KIND;
        var vectors = L.featureGroup();
        var overlay = L.layerGroup([vectors]).addTo(map);
        var group = { kind: kind, vectors: vectors, overlay: overlay, markers: [], pending: [] };
        overlay.on("add", function () { cluster.addLayers(group.markers); });
        overlay.on("remove", function () { cluster.removeLayers(group.markers); });
        if (control) control.addOverlay(overlay, escapeHtml(kind.label)); // the control inserts names as HTML
        groups[name] = group;
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
          marker.kindGlyph = kind.glyph;
          marker.bindPopup(popup);
          group.markers.push(marker);
          group.pending.push(marker);
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
    function addMarkers() {
      var markers = [];
      Object.keys(groups).forEach(function (name) {
        var group = groups[name];
        // A kind switched off meanwhile gets its markers when it is switched on.
        if (map.hasLayer(group.overlay)) markers = markers.concat(group.pending);
        group.pending = [];
      });
      return new Promise(function (resolve) {
        if (markers.length === 0) {
          resolve();
          return;
        }
        cluster.options.chunkProgress = function (done, total) {
          if (done === total) resolve();
        };
        cluster.addLayers(markers);
      });
    }

    function draw(collection) {
      var drawn = 0;
      ((collection && collection.features) || []).forEach(function (feature) {
        if (!feature || !feature.geometry) return;
        drawFeature(feature);
        drawn += 1;
      });
      return addMarkers().then(function () { return drawn; });
    }

    function finish(count, message) {
      separateIcons(map, ICON_GAP);
      map.on("moveend", function () { separateIcons(map, ICON_GAP); });
      if (legend) legend.status.textContent = message;
      map.getContainer().setAttribute("data-features-drawn", String(count));
      window.asoFeatureCount = count;
      window.asoMapReady = true;
      map.fire("aso:projectsdrawn", { count: count });
    }

    Object.keys(KINDS).forEach(groupFor); // every kind in the control, even when empty
    legend = opts.legend ? legendControl().addTo(map) : null;
    // Collapsed is the phone-friendly default; on a wide map show the kinds at once.
    if (control && opts.layerControl && map.getSize().x >= 600) opts.layerControl.expand();

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
    if (!map.hasLayer(entry.group.overlay)) map.addLayer(entry.group.overlay);
    if (layer.getLatLng) {
      // At this zoom markers stand on their own; the cluster puts the marker on the map
      // once the move has ended, and only then can its popup open.
      map.setView(layer.getLatLng(), Math.max(map.getZoom(), shown.zoom));
      openWhenOnMap(layer, 120);
    } else {
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
