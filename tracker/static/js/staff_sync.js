/* The sync report: what this phone sent (and when it was seen on site), what was refused
   (the outbox above lists those with "fix and resend"), and the works in the kept offline
   areas that changed on the server since the oldest entry sent. */
(function () {
  "use strict";

  var box = document.getElementById("sync-report");
  if (!box) return;
  var text = box.dataset;

  function log() {
    try { return JSON.parse(localStorage.getItem("aso-sync-log")) || []; } catch (e) { return []; }
  }
  function areas() {
    try { return JSON.parse(localStorage.getItem("aso-offline-areas")) || []; } catch (e) { return []; }
  }
  function line(list, parts, href) {
    var li = document.createElement("li");
    var target = li;
    if (href) { target = document.createElement("a"); target.href = href; li.appendChild(target); }
    target.textContent = parts.filter(Boolean).join(" · ");
    list.appendChild(li);
    return li;
  }

  function showSent(entries) {
    var list = document.getElementById("sync-sent");
    list.textContent = "";
    if (!entries.length) { line(list, [text.noneSent]); return; }
    entries.forEach(function (e) {
      var li = line(list, [
        e.state === "sent" ? text.sent : text.refused,
        e.kind === "create" ? text.created : text.update,
        e.name, e.what,
        e.observed_at ? text.observed.replace("{at}", window.AsoOutbox.localTime(e.observed_at)) : "",
        e.error
      ], e.state === "sent" ? e.url : null);
      li.className = "sync-" + e.state + " sync-" + e.kind;
    });
  }

  function showChanged(entries) {
    var list = document.getElementById("sync-changed");
    if (!navigator.onLine) { line(list, [text.offline]); return; }
    var since = entries.length ? entries[0].at : new Date(Date.now() - 86400000).toISOString();
    var params = new URLSearchParams({ since: since });
    areas().forEach(function (a) { params.append("bbox", [a.west, a.south, a.east, a.north].join(",")); });
    fetch(text.changesUrl + "?" + params.toString(), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : { works: [] }; })
      .then(function (data) {
        list.textContent = "";
        // This phone's own sends are listed above; here only what others changed since:
        // a work whose version is still the one this phone's last send produced is left out.
        var mine = {};
        entries.forEach(function (e) { if (e.state === "sent" && e.version) mine[e.project_id] = e.version; });
        data.works = data.works.filter(function (w) { return mine[w.id] !== w.version; });
        if (!data.works.length) { line(list, [text.noneChanged]); return; }
        data.works.forEach(function (w) {
          line(list, [w.name, w.status_label + " " + w.progress + "%", window.AsoOutbox.localTime(w.updated_at)], w.url);
        });
      }, function () { line(list, [text.offline]); });
  }

  function render() {
    var entries = log();
    showSent(entries);
    showChanged(entries);
  }
  window.addEventListener("aso:sent", render);
  render();
})();
