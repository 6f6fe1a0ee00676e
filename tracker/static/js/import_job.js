// The import job's page: ask how far the job has come every second, show it, and reload the
// page (which then shows the result) once the job has finished. Without this script the page
// reloads itself every few seconds (a <noscript> meta refresh) and has a reload link.
(function () {
  "use strict";
  var section = document.getElementById("import-progress");
  if (!section || !window.fetch) return;
  var url = section.getAttribute("data-progress-url");
  var words = document.getElementById("import-progress-words");
  var bar = document.getElementById("import-progress-bar");

  function show(job) {
    words.textContent = job.words;
    if (job.rows_total) {
      bar.max = job.rows_total;
      bar.value = job.rows_done;
    }
  }

  function ask() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) throw new Error(String(response.status));
        return response.json();
      })
      .then(function (job) {
        if (job.finished) {
          window.location.reload();
          return;
        }
        show(job);
        window.setTimeout(ask, 1000);
      })
      .catch(function () {
        // The server may be restarting: try again a little later.
        window.setTimeout(ask, 5000);
      });
  }

  window.setTimeout(ask, 1000);
})();
