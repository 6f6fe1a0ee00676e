/* The update form: sends through the outbox (staff_queue.js), so an update made
   without signal is kept on the phone and sent when the connection returns. */
(function () {
  "use strict";

  var form = document.getElementById("update-form");
  if (!form || !window.AsoOutbox) return;
  var text = form.dataset;
  var message = document.getElementById("form-message");
  var range = document.getElementById("progress-range");
  var number = document.getElementById("progress");
  var endField = document.getElementById("actual-end-field");
  var withPosition = document.getElementById("with-position");
  var positionStatus = document.getElementById("position-status");
  var history = document.getElementById("history");
  var statuses = JSON.parse(history.dataset.statuses);
  var submitButton = form.querySelector("button[type=submit]");

  function show(kind, words) {
    message.hidden = false;
    message.className = "flash " + kind;
    message.textContent = words;
    message.scrollIntoView({ block: "nearest" });
  }

  range.addEventListener("input", function () { number.value = range.value; });
  number.addEventListener("input", function () { range.value = number.value; });

  function chosenStatus() {
    var checked = form.querySelector("input[name=status]:checked");
    return checked ? checked.value : null;
  }
  function syncStatus() {
    var status = chosenStatus();
    endField.hidden = status !== "completed";
    if (status === "completed") {
      number.value = range.value = 100;
    }
  }
  form.querySelectorAll("input[name=status]").forEach(function (r) { r.addEventListener("change", syncStatus); });
  syncStatus();

  var photoNames = document.getElementById("photo-names");
  function photoFiles() {
    var files = [];
    form.querySelectorAll("input[type=file]").forEach(function (input) {
      Array.prototype.forEach.call(input.files, function (f) { files.push(f); });
    });
    return files;
  }
  form.querySelectorAll("input[type=file]").forEach(function (input) {
    input.addEventListener("change", function () {
      photoNames.textContent = "";
      photoFiles().forEach(function (f) {
        var li = document.createElement("li");
        li.textContent = f.name + "（" + (f.size / 1024 / 1024).toFixed(1) + " MB）";
        photoNames.appendChild(li);
      });
    });
  });

  // Asked when ticked, not at submit, so that sending never waits for a GPS fix.
  withPosition.addEventListener("change", function () {
    form.lat.value = form.lon.value = "";
    positionStatus.textContent = "";
    if (!withPosition.checked) return;
    if (!navigator.geolocation) { positionStatus.textContent = text.noPosition; return; }
    positionStatus.textContent = text.locating;
    navigator.geolocation.getCurrentPosition(function (pos) {
      if (!withPosition.checked) return;
      form.lat.value = pos.coords.latitude.toFixed(6);
      form.lon.value = pos.coords.longitude.toFixed(6);
      positionStatus.textContent = text.located.replace("{m}", Math.round(pos.coords.accuracy));
    }, function () {
      withPosition.checked = false;
      positionStatus.textContent = text.noPosition;
    }, { enableHighAccuracy: true, timeout: 20000, maximumAge: 60000 });
  });

  function addToHistory(update) {
    var li = document.createElement("li");
    li.className = "just-sent";
    var when = document.createElement("span");
    when.className = "when";
    var d = new Date(update.recorded_at);
    // Swedish order is ISO-like (2026-11-29 09:05), the format the server writes.
    when.textContent = d.toLocaleString("sv-SE", { timeZone: "Asia/Tokyo", year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit" });
    li.appendChild(when);
    var what = document.createElement("span");
    what.className = "what";
    var change = update.previous_status && update.previous_status !== update.status ? statuses[update.previous_status] + " → " : "";
    what.textContent = change + statuses[update.status] + " " + update.progress + "%";
    li.appendChild(what);
    if (update.author) {
      var who = document.createElement("span");
      who.className = "who";
      who.textContent = update.author.name;
      li.appendChild(who);
    }
    if (update.note) {
      var note = document.createElement("p");
      note.className = "note";
      note.textContent = update.note;
      li.appendChild(note);
    }
    if (update.photos && update.photos.length) {
      var thumbs = document.createElement("p");
      thumbs.className = "thumbs";
      update.photos.forEach(function (photo) {
        var a = document.createElement("a");
        a.href = photo.display_url;
        var img = document.createElement("img");
        img.src = photo.thumb_url;
        img.alt = "";
        a.appendChild(img);
        thumbs.appendChild(a);
      });
      li.appendChild(thumbs);
    }
    history.insertBefore(li, history.firstChild);
  }

  // Updates sent later from the outbox appear here too, if they belong to this project.
  window.addEventListener("aso:sent", function (event) {
    if (String(event.detail.item.project_id) !== text.projectId) return;
    addToHistory(event.detail.update);
    settle(event.detail.update);
    // The copy the service worker keeps for offline use shows the new update too.
    window.AsoOutbox.keepPage();
  });

  // The recorded update is the project's state now: the form starts from it next time.
  function settle(update) {
    form.querySelectorAll("input[name=status]").forEach(function (r) {
      r.defaultChecked = r.value === update.status;
    });
    number.defaultValue = range.defaultValue = String(update.progress);
    var now = document.getElementById("now-status");
    now.className = "status status-" + update.status;
    now.textContent = statuses[update.status];
    document.getElementById("now-progress").textContent = update.progress + "%";
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var status = chosenStatus();
    var checkedLabel = form.querySelector("input[name=status]:checked");
    var fields = {
      status: status,
      status_label: status ? statuses[status] : "",
      progress: number.value,
      note: form.note.value,
      actual_end: status === "completed" ? form.actual_end.value : "",
      lat: form.lat.value,
      lon: form.lon.value
    };
    if (!checkedLabel || number.value === "") { form.reportValidity(); return; }
    submitButton.disabled = true;
    window.AsoOutbox.submit(form.dataset.api, text.projectId, text.projectName, fields, photoFiles())
      .then(function (result) {
        if (result.state === "failed") {
          // Refused by a rule: the form keeps what was typed so it can be fixed and sent again.
          show("bad", (result.error || "").replace(/^[a-z_]+: /, ""));
          return;
        }
        if (result.state === "sent") show("ok", text.sent);
        else if (result.state === "login") show("bad", text.login);
        else show("queued", text.queued);
        form.reset();
        photoNames.textContent = "";
        withPosition.checked = false;
        positionStatus.textContent = "";
        syncStatus();
      })
      .catch(function (error) { show("bad", String(error)); })
      .then(function () { submitButton.disabled = false; });
  });
})();
