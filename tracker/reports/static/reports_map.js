/* Draws reports as dots in their state's traffic-light colour on the list, report and
   staff pages. The pages work without it: the list below the map says everything. Names
   reach the page as data and are shown as text nodes, never as HTML. */
(function () {
  "use strict";
  var node = document.getElementById("reports-config");
  var box = document.getElementById("reports-map");
  if (!node || !box || typeof L === "undefined") return;
  var config = JSON.parse(node.textContent);
  var points = (config.points || []).filter(function (p) { return p.lat !== undefined && p.lon !== undefined; });
  box.hidden = false;
  var map = L.map(box, { maxZoom: config.maxZoom, zoomControl: false });
  L.control.zoom(config.zoom).addTo(map);
  L.tileLayer(config.tiles, { attribution: config.attribution, maxZoom: config.maxZoom }).addTo(map);
  map.attributionControl.setPrefix(config.attributionPrefix);
  var layer = L.featureGroup().addTo(map);
  points.forEach(function (p) {
    var icon = L.divIcon({ className: "", html: "", iconSize: [20, 20] });
    var marker = L.marker([p.lat, p.lon], { icon: icon, keyboard: false, title: p.category + " " + p.stateLabel });
    marker.on("add", function () {
      var el = marker.getElement();
      if (!el) return;
      var dot = document.createElement("span");
      dot.className = "report-marker";
      dot.style.display = "block";
      dot.style.background = (config.colours || {})[p.state] || p.colour;
      el.appendChild(dot);
      el.setAttribute("aria-hidden", "true");
    });
    var tip = document.createElement("span");
    tip.textContent = "#" + p.id + " " + p.category + " · " + p.stateLabel;
    marker.bindTooltip(tip);
    if (p.url) marker.on("click", function () { window.location.assign(p.url); });
    layer.addLayer(marker);
  });
  if (config.center && points.length === 1) {
    map.setView([points[0].lat, points[0].lon], 16);
  } else if (points.length) {
    map.fitBounds(layer.getBounds().pad(0.2), { maxZoom: 16 });
  } else {
    map.setView(config.center, 11);
  }
  // The staff queue: "nearest to me" fills the form's point from the phone's location.
  var locate = document.getElementById("queue-locate");
  if (locate && "geolocation" in navigator) {
    locate.hidden = false;
    locate.addEventListener("click", function () {
      navigator.geolocation.getCurrentPosition(function (pos) {
        var form = locate.form;
        form.elements.lat.value = pos.coords.latitude.toFixed(6);
        form.elements.lon.value = pos.coords.longitude.toFixed(6);
        form.elements.place.value = "";
        form.submit();
      });
    });
  }
})();
