/*
 * Draw Aso City's recovery projects on a Leaflet map.
 *
 * AsoProjects.addTo(map, {tiles, featureUrl, projectUrl, layerControl, labels, ...}) draws
 * the projects from vector tiles (Leaflet.VectorGrid on canvas): the page holds only what is
 * in view, so it stays light however many projects there are. Zoomed out, small works of a
 * kind that share a tile cell arrive as one counted point, drawn like a marker cluster.
 * A popup reads the project from the JSON API when it opens. Data only ever reaches the page
 * through textContent / properties, never as HTML.
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
    positiononly: "位置のみ（線はまだ描かれていません）",
    details: "詳細を見る",
    loading: "読み込み中…",
    count: "事業 {n} 件",
    failed: "事業データを読み込めませんでした",
    unknown: "不明",
    other: "その他"
  };

  var DEFAULTS = {
    tiles: null,                     // vector tile URL template, {z}/{y}/{x}
    featureUrl: "/api/projects/{id}", // one project as GeoJSON, for popups and show()
    projectUrl: "/projects/{id}",    // popup link; {id} is replaced
    layerControl: null,              // L.control.layers to add one switch per kind to
    layerName: "projects",           // the layer inside the tiles
    count: null,                     // how many projects the tiles hold, for the legend
    detailZoom: 16,                  // from here on every work is drawn on its own
    legend: true,
    kindSwitches: true,              // a switch per kind in the layer control
    interactive: true,               // popups on click; off where a tap means something else
    labels: null                     // {text, statuses, kinds, glyphs}: words in the page's language
  };

  // Work symbols grow on wide screens (a projector in a meeting room), where 24 px pins and
  // 6 px lines read as specks from across the room; the stylesheet (map.css) grows the
  // legend's samples at the same width.
  var PROJECTOR_WIDTH = 1600;
  var SIZE = window.matchMedia && window.matchMedia("(min-width: " + PROJECTOR_WIDTH + "px)").matches ? 1.6 : 1;
  // The works' own pane: above the base tiles and the shelters (map_overlays.js, 250),
  // under the hazard zones and the restrictions drawn over them.
  var WORKS_PANE = "asoWorks";

  // Leaflet 1.8 dropped the helper VectorGrid's canvas tiles call when a feature is clicked.
  if (!L.DomEvent.fakeStop) {
    L.DomEvent.fakeStop = function (e) { e._stopped = true; };
  }

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

  // 12,345: both of the page's languages group digits so; toLocaleString would load the
  // browser's locale data on the page's busiest moment.
  function grouped(n) {
    return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  }

  function kindOf(code) {
    return Object.prototype.hasOwnProperty.call(KINDS, code) ? KINDS[code] : OTHER_KIND;
  }

  function popupContent(props, projectUrl) {
    var kind = kindOf(props.kind);
    var status = STATUSES[props.status] || UNKNOWN_STATUS;
    var root = el("div", "aso-popup");
    el("strong", "aso-popup__name", root).textContent = props.name ? String(props.name) : TEXT.unnamed;
    if (props.sample) el("span", "aso-popup__sample", root).textContent = TEXT.sample;
    if (props.position_only) el("p", "aso-popup__position-only", root).textContent = TEXT.positiononly;
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

  // --- Drawing on the tiles' canvases --------------------------------------------------

  var firstDrawn = false;
  function noteDrawn() {
    if (firstDrawn) return;
    firstDrawn = true;
    // For measurements: when the first project reached the screen, from navigation start.
    window.asoFirstProjectDrawnMs = performance.now();
  }

  function roundedRect(ctx, x, y, w, h, r) {
    ctx.beginPath();
    ctx.moveTo(x + r, y);
    ctx.arcTo(x + w, y, x + w, y + h, r);
    ctx.arcTo(x + w, y + h, x, y + h, r);
    ctx.arcTo(x, y + h, x, y, r);
    ctx.arcTo(x, y, x + w, y, r);
    ctx.closePath();
  }

  // A pin as the legend shows it: status colour, kind glyph and outline; or a cluster's
  // dark pill with the kind's glyph and how many works it holds.
  function drawPin(ctx, p, pin) {
    var h = pin.height, w = pin.width;
    ctx.save();
    ctx.globalAlpha = 1;
    ctx.setLineDash([]);
    ctx.shadowColor = "rgba(0, 0, 0, 0.5)";
    ctx.shadowBlur = 3;
    ctx.shadowOffsetY = 1;
    roundedRect(ctx, p.x - w / 2, p.y - h / 2, w, h, pin.shape === "square" ? 3 : h / 2);
    ctx.fillStyle = "#222222";
    ctx.fill();
    ctx.shadowColor = "transparent";
    var ring = Math.round(2 * SIZE);
    roundedRect(ctx, p.x - w / 2 + 1, p.y - h / 2 + 1, w - 2, h - 2, pin.shape === "square" ? 2 : h / 2 - 1);
    ctx.fillStyle = "#ffffff";
    ctx.fill();
    roundedRect(ctx, p.x - w / 2 + 1 + ring, p.y - h / 2 + 1 + ring, w - 2 - 2 * ring, h - 2 - 2 * ring,
      pin.shape === "square" ? 1 : h / 2 - 1 - ring);
    if (pin.hollow) {
      // Position only (a line kind known by a point): a ring of the status colour, white inside.
      ctx.lineWidth = 3;
      ctx.setLineDash([4, 2]);
      ctx.strokeStyle = pin.fill;
      ctx.stroke();
      ctx.setLineDash([]);
    } else {
      ctx.fillStyle = pin.fill;
      ctx.fill();
    }
    ctx.fillStyle = pin.hollow ? "#222222" : pin.ink;
    ctx.font = "bold " + pin.font + "px sans-serif";
    ctx.textAlign = "center";
    ctx.textBaseline = "middle";
    ctx.fillText(pin.text, p.x, p.y + 1);
    ctx.restore();
  }

  var TileRenderer = L.Canvas.Tile.extend({
    _updateCircle: function (layer) {
      var pin = layer.options.pin;
      if (!pin) {
        L.Canvas.Tile.prototype._updateCircle.call(this, layer);
        return;
      }
      if (!this._drawing || layer._empty()) return;
      drawPin(this._ctx, layer._point, pin);
      noteDrawn();
    },
    _updatePoly: function (layer, closed) {
      L.Canvas.Tile.prototype._updatePoly.call(this, layer, closed);
      if (this._drawing && layer._parts && layer._parts.length) noteDrawn();
    },
    // Leaflet leaves a canvas's clicks to its renderer, and VectorGrid's drops those that
    // hit no work: hand them to the map, as Leaflet's own canvas does, so that what lies
    // under the works (the shelters, map_overlays.js) and the map's own clicks get them.
    _onClick: function (e) {
      var point = this._map.mouseEventToLayerPoint(e).subtract(this.getOffset());
      for (var id in this._layers) {
        var layer = this._layers[id];
        if (layer.options.interactive && layer._containsPoint(point) && !this._map._draggableMoved(layer)) {
          L.Canvas.Tile.prototype._onClick.call(this, e);
          return;
        }
      }
      if (e.type === "click") this._map._fireDOMEvent(e, "click");
    }
  });

  function tileRenderer(coords, tileSize, options) {
    return new TileRenderer(coords, tileSize, options);
  }

  var pinCache = {};
  function pinFor(kind, status, hollow) {
    var key = kind.glyph + status.color + (hollow ? "hollow" : "");
    if (!pinCache[key]) {
      pinCache[key] = { text: kind.glyph, fill: status.color, ink: status.ink, shape: kind.shape || "circle",
        width: Math.round(24 * SIZE), height: Math.round(24 * SIZE), font: Math.round(12 * SIZE), hollow: !!hollow };
    }
    return pinCache[key];
  }

  // A group's pill: the kind's glyph and the count, or (kinds mixed) the count alone on grey.
  // It stays narrower than a tile cell (64 px), so pills on the cell grid never touch; on a
  // projector it grows less than a work's pin for that reason.
  var PILL = Math.min(SIZE, 1.2);
  function clusterPin(kind, count) {
    var number = count > 999 ? "999+" : String(count);
    var text = kind ? kind.glyph + " " + number : number;
    var width = 14 + Array.prototype.reduce.call(text, function (sum, ch) {
      return sum + (ch.charCodeAt(0) > 0x2e80 ? 12 : 7.5);
    }, 0);
    return { text: text, fill: kind ? "#333333" : "#5a5a5a", ink: "#ffffff", shape: "pill",
      width: Math.min(62, Math.ceil(width * PILL)), height: Math.round(26 * PILL), font: Math.round(12 * PILL) };
  }

  // A group's kinds and counts ("bridge:3,road:2"), less the kinds switched off.
  function shownKinds(props, hidden) {
    return String(props.kinds || "").split(",").map(function (part) {
      var pair = part.split(":");
      var code = Object.prototype.hasOwnProperty.call(KINDS, pair[0]) ? pair[0] : "other";
      return { kind: pair[0], code: code, n: Number(pair[1]) };
    }).filter(function (k) { return k.n > 0 && !hidden[k.code]; });
  }

  // Each feature gets the options of its kind and status; points are drawn as pins by the
  // renderer above, lines and areas by Leaflet with these path options.
  function styleFor(hidden) {
    return function (props) {
      if (props.count) {
        var kinds = shownKinds(props, hidden);
        var total = kinds.reduce(function (sum, k) { return sum + k.n; }, 0);
        if (!total) return [];
        var pill = clusterPin(kinds.length === 1 ? kindOf(kinds[0].kind) : null, total);
        return { pin: pill, radius: pill.width / 2, fill: true, stroke: false };
      }
      var code = Object.prototype.hasOwnProperty.call(KINDS, props.kind) ? props.kind : "other";
      if (hidden[code]) return [];
      var kind = kindOf(props.kind);
      var status = STATUSES[props.status] || UNKNOWN_STATUS;
      var main = L.extend(
        { pin: pinFor(kind, status, props.position_only), radius: 12 * SIZE, color: status.color, opacity: 0.95,
          fillColor: status.color, fillOpacity: 0.3, fill: true },
        kind.line,
        { weight: kind.line.weight * SIZE }
      );
      if (!kind.casing) return main;
      // Drawn first, wider and dark: reads as a double line around the status colour.
      return [{ color: kind.casing, weight: (kind.line.weight + 6) * SIZE, opacity: 0.95, fill: false,
        interactive: false }, main];
    };
  }

  // A switch in the layer control: on the map or not, it shows or hides one kind.
  var KindSwitch = L.Layer.extend({
    initialize: function (code, onChange) {
      this._code = code;
      this._onChange = onChange;
    },
    onAdd: function () { this._onChange(this._code, true); },
    onRemove: function () { this._onChange(this._code, false); }
  });

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
      var hollow = el("p", "aso-legend__position-only", details);
      el("span", "aso-pin aso-pin--hollow aso-legend__pin", hollow).textContent = KINDS.road.glyph;
      el("span", null, hollow).textContent = TEXT.positiononly;
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
    var glyphs = labels.glyphs || {};
    Object.keys(KINDS).forEach(function (key) {
      if (glyphs[key]) KINDS[key].glyph = String(glyphs[key]);
    });
    if (glyphs.other) OTHER_KIND.glyph = String(glyphs.other);
    OTHER_KIND.label = TEXT.other;
    UNKNOWN_STATUS.label = TEXT.unknown;
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

  function fetchFeature(opts, id) {
    var url = opts.featureUrl.replace("{id}", encodeURIComponent(String(id)));
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/geo+json" } })
      .then(function (response) {
        // 404, or without signal a work not kept for offline use (staff_sw.js).
        if (response.status === 404 || response.headers.get("X-Aso-Offline")) return null;
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      });
  }

  // Where a popup for the feature opens: the point itself, or the middle of its shape.
  function anchorOf(feature) {
    var layer = L.geoJSON(feature);
    var bounds = layer.getBounds();
    var g = feature.geometry;
    if (g.type === "Point") return { latlng: L.latLng(g.coordinates[1], g.coordinates[0]), bounds: bounds };
    var coords = g.type === "LineString" ? g.coordinates
      : g.type === "MultiLineString" || g.type === "Polygon" ? g.coordinates[0] : null;
    var middle = coords ? coords[Math.floor(coords.length / 2)] : null;
    return { latlng: middle ? L.latLng(middle[1], middle[0]) : bounds.getCenter(), bounds: bounds };
  }

  // The works' tiles, a few added per task: each tile makes a canvas and asks for its data,
  // and the dozen or more that a view needs, made at once, held a phone's page still. The
  // tiles nearest the middle come first (Leaflet sorts them so); the grid's "load" waits
  // for the tiles still to be added.
  var TILES_PER_TASK = 3;
  var ProjectGrid = L.VectorGrid.Protobuf.extend({
    _update: function (center) {
      this._tilesThisTask = 0;
      L.VectorGrid.Protobuf.prototype._update.call(this, center);
    },
    _addTile: function (coords, container) {
      if (this._tilesThisTask >= TILES_PER_TASK) {
        this._addRestLater();
        return;
      }
      this._tilesThisTask += 1;
      L.VectorGrid.Protobuf.prototype._addTile.call(this, coords, container);
    },
    _addRestLater: function () {
      if (this._restLater) return;
      var grid = this;
      this._restLater = setTimeout(function () {
        grid._restLater = null;
        var map = grid._map;
        // A zoom under way adds its own tiles once it ends (Leaflet's moveend).
        if (!map || map._animatingZoom) return;
        grid._update();
        // The tiles added earlier may all have loaded meanwhile, with none left to add.
        if (!grid._restLater && grid._loading && grid._noTilesToLoad()) grid._tileReadyAll();
      }, 0);
    },
    _noTilesToLoad: function () {
      return !this._restLater && L.VectorGrid.Protobuf.prototype._noTilesToLoad.call(this);
    },
    _tileReadyAll: function () {
      this._loading = false;
      this.fire("load");
      L.Util.requestAnimFrame(this._pruneTiles, this);
    }
  });

  // The map drawn last, so that a list beside it can point at one of its projects.
  var shown = null;

  function addTo(map, options) {
    var opts = L.extend({}, DEFAULTS, options);
    useLabels(opts.labels);
    usePalette();
    var hidden = {};
    var styles = {};
    styles[opts.layerName] = styleFor(hidden);
    if (!map.getPane(WORKS_PANE)) map.createPane(WORKS_PANE).style.zIndex = 300;
    var grid = new ProjectGrid(opts.tiles, {
      pane: WORKS_PANE,
      rendererFactory: tileRenderer,
      vectorTileLayerStyles: styles,
      interactive: opts.interactive,
      // Ids let a test see which projects the loaded tiles hold.
      getFeatureId: function (feature) { return feature.properties.id || ("c" + L.stamp(feature)); },
      fetchOptions: { credentials: "same-origin" },
      maxZoom: map.getMaxZoom(),
      // A tile of the zoom above is kept while the next loads: no blank flash when zooming.
      updateWhenZooming: false,
      keepBuffer: 1
    }).addTo(map);
    var popup = L.popup({ maxWidth: 280 });
    shown = { map: map, opts: opts, popup: popup, grid: grid };

    var redraw = null;
    function setKind(code, visible) {
      if (!hidden[code] === visible) return;
      if (visible) delete hidden[code]; else hidden[code] = true;
      // Several switches may change at once; the tiles are drawn again once, from the cache.
      if (!redraw) redraw = setTimeout(function () { redraw = null; grid.redraw(); }, 0);
    }
    var control = !opts.kindSwitches ? null
      : opts.layerControl || L.control.layers(null, null, { collapsed: false }).addTo(map);
    if (control) {
      Object.keys(KINDS).concat(["other"]).forEach(function (code) {
        var label = code === "other" ? OTHER_KIND.label : KINDS[code].label;
        var toggle = new KindSwitch(code, setKind).addTo(map);
        // The control inserts names as HTML. Its addOverlay rebuilds the whole list each
        // time: the switches go in together, and the list is built once.
        control._addLayer(toggle, escapeHtml(label), true);
      });
      if (control._map) control._update();
    }

    grid.on("click", function (event) {
      var props = (event.layer && event.layer.properties) || {};
      if (event.originalEvent) event.originalEvent._asoHandled = true;
      if (props.count) {
        // A cluster: come closer, as a marker cluster would.
        map.setView(event.latlng, Math.min(map.getZoom() + 2, opts.detailZoom));
        return;
      }
      openPopup(props.id, event.latlng);
    });

    var legend = opts.legend ? legendControl().addTo(map) : null;
    // Collapsed is the phone-friendly default; on a wide map show the kinds at once.
    if (control && map.getSize().x >= 600) control.expand();

    var count = opts.count === null ? null : Number(opts.count);
    var ready = false;
    grid.on("load", function () {
      if (ready) return;
      ready = true;
      if (legend) {
        legend.status.textContent = count === null ? "" : TEXT.count.replace("{n}", grouped(count));
      }
      map.getContainer().setAttribute("data-features-drawn", String(count));
      window.asoFeatureCount = count;
      window.asoMapReady = true;
      map.fire("aso:projectsdrawn", { count: count });
    });
    grid.on("tileerror", function (event) {
      window.asoMapError = String(event.error || "tile error");
      if (legend) legend.status.textContent = TEXT.failed;
    });
    return grid;
  }

  // Open the popup of one project, read from the API as it stands now.
  function openPopup(id, latlng) {
    if (!shown || id === undefined || id === null) return Promise.resolve(false);
    var opts = shown.opts;
    shown.popup.setLatLng(latlng).setContent(el("p", "aso-popup__loading")).openOn(shown.map);
    shown.popup.getContent().textContent = TEXT.loading;
    return fetchFeature(opts, id).then(function (feature) {
      if (!feature) {
        shown.map.closePopup(shown.popup);
        return false;
      }
      var props = L.extend({ id: feature.id }, feature.properties);
      shown.popup.setContent(popupContent(props, opts.projectUrl));
      return true;
    });
  }

  // Bring one project into view and open its popup; false if it cannot be seen.
  function show(id) {
    if (!shown) return Promise.resolve(false);
    var map = shown.map, opts = shown.opts;
    return fetchFeature(opts, id).then(function (feature) {
      if (!feature || !feature.geometry) return false;
      var anchor = anchorOf(feature);
      map.stop(); // a zoom still under way would swallow this one
      if (feature.geometry.type === "Point") {
        map.setView(anchor.latlng, Math.max(map.getZoom(), opts.detailZoom), { animate: false });
      } else {
        map.fitBounds(anchor.bounds, { maxZoom: opts.detailZoom, animate: false });
      }
      var props = L.extend({ id: feature.id }, feature.properties);
      shown.popup.setLatLng(anchor.latlng).setContent(popupContent(props, opts.projectUrl)).openOn(map);
      return true;
    });
  }

  // The project ids in the tiles loaded now (clusters hold none).
  function drawnIds() {
    var ids = {};
    var tiles = (shown && shown.grid._vectorTiles) || {};
    Object.keys(tiles).forEach(function (key) {
      Object.keys(tiles[key]._features || {}).forEach(function (id) {
        if (id.charAt(0) !== "c") ids[id] = true;
      });
    });
    return Object.keys(ids).map(Number).sort(function (a, b) { return a - b; });
  }

  // The boxes of the pins drawn now, in map pixels (a pin in two tiles' edges counts once).
  function drawnPins() {
    var boxes = {};
    var tiles = (shown && shown.grid._vectorTiles) || {};
    Object.keys(tiles).forEach(function (key) {
      var tile = tiles[key];
      var origin = tile._tileCoord.scaleBy(shown.grid.getTileSize());
      Object.keys(tile._features || {}).forEach(function (id) {
        var layer = tile._features[id].feature;
        var pin = layer && layer.options && layer.options.pin;
        if (!pin || !layer._point || layer._empty()) return;
        var x = origin.x + layer._point.x, y = origin.y + layer._point.y;
        boxes[Math.round(x) + "," + Math.round(y)] = {
          x: x - pin.width / 2, y: y - pin.height / 2, width: pin.width, height: pin.height,
          text: pin.text, group: Boolean(layer.properties && layer.properties.count)
        };
      });
    });
    return Object.keys(boxes).map(function (k) { return boxes[k]; });
  }

  window.AsoProjects = {
    addTo: addTo, show: show, drawnIds: drawnIds, drawnPins: drawnPins,
    currentMap: function () { return shown ? shown.map : null; },
    sizeFactor: SIZE,
    STATUSES: STATUSES, KINDS: KINDS, TEXT: TEXT
  };
})();
