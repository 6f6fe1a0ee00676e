/* Find the project to update: nearest to the phone first, or by name. */
(function () {
  "use strict";

  var button = document.getElementById("near-me");
  var status = document.getElementById("near-status");
  var list = document.getElementById("project-list");
  var search = document.getElementById("search");
  if (!button || !list) return;
  var url = button.dataset.nearbyUrl;
  var words = status.dataset;
  var here = null;

  function say(key) { status.textContent = words[key] || ""; }

  function distanceText(metres) {
    if (metres === null || metres === undefined) return "";
    return metres >= 1000 ? (metres / 1000).toFixed(1) + " " + list.dataset.km : metres + " " + list.dataset.m;
  }

  function show(projects) {
    list.textContent = "";
    projects.forEach(function (p) {
      var li = document.createElement("li");
      var a = document.createElement("a");
      a.href = p.url;
      var name = document.createElement("span");
      name.className = "name";
      name.textContent = p.name;
      a.appendChild(name);
      var meta = document.createElement("span");
      meta.className = "meta";
      meta.textContent = [distanceText(p.distance_m), p.kind_label, p.status_label + " " + p.progress + "%"]
        .filter(Boolean).join(" · ");
      a.appendChild(meta);
      li.appendChild(a);
      list.appendChild(li);
    });
  }

  function load(params) {
    var query = new URLSearchParams(params);
    return fetch(url + "?" + query.toString(), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) {
        if (!r.ok) throw new Error(String(r.status));
        return r.json();
      })
      .then(function (data) { return data.projects; });
  }

  button.addEventListener("click", function () {
    if (!navigator.geolocation) { say("denied"); return; }
    say("locating");
    button.disabled = true;
    navigator.geolocation.getCurrentPosition(function (pos) {
      here = { lat: pos.coords.latitude.toFixed(6), lon: pos.coords.longitude.toFixed(6) };
      load(here).then(function (projects) {
        show(projects);
        say(projects.length ? "found" : "none");
      }, function () { say(navigator.onLine ? "denied" : "offline"); })
        .then(function () { button.disabled = false; });
    }, function () {
      button.disabled = false;
      say("denied");
    }, { enableHighAccuracy: true, timeout: 20000, maximumAge: 60000 });
  });

  search.addEventListener("submit", function (event) {
    var q = search.q.value.trim();
    if (!q) { event.preventDefault(); return; }
    event.preventDefault();
    // With a known position the matches come nearest first.
    var params = here ? { q: q, lat: here.lat, lon: here.lon } : { q: q };
    load(params).then(function (projects) {
      show(projects);
      status.textContent = projects.length ? "" : "「" + q + "」: 0";
    }, function () { search.submit(); });
  });
})();
