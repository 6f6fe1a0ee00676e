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
  var staleNotice = document.getElementById("stale-notice");
  var resendNotice = document.getElementById("resend-notice");
  // The refused update from the outbox being corrected here, if the page was opened for that.
  var resending = new URLSearchParams(location.search).get("resend");

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

  var localTime = window.AsoOutbox.localTime;

  // As the server's history says it: the status when it changed, else the progress.
  function changeText(update) {
    if (update.previous_status && update.previous_status !== update.status) {
      return statuses[update.previous_status] + " → " + statuses[update.status] + " " + update.progress + "%";
    }
    if (update.previous_progress !== null && update.previous_progress !== undefined &&
        update.previous_progress !== update.progress) {
      return history.dataset.progressChange.replace("{old}", update.previous_progress).replace("{new}", update.progress);
    }
    return statuses[update.status] + " " + update.progress + "%";
  }

  // The app's own notes (登録, … から取込) in the page's language, as the page's own entries
  // say them; a note a person wrote stays as written, marked as Japanese.
  function shownNote(text) {
    if (text === "登録") return { text: history.dataset.registeredNote, lang: "" };
    var imported = /^(.+) から取込$/.exec(text);
    if (imported) return { text: history.dataset.importedNote.replace("{source}", imported[1]), lang: "" };
    return { text: text, lang: "ja" };
  }

  function addToHistory(update) {
    var li = document.createElement("li");
    li.className = "just-sent";
    var when = document.createElement("span");
    when.className = "when";
    when.textContent = localTime(update.observed_at);
    var late = new Date(update.recorded_at) - new Date(update.observed_at) > 60000;
    if (late) {
      var received = document.createElement("span");
      received.className = "received";
      received.textContent = " " + history.dataset.received.replace("{at}", localTime(update.recorded_at));
      when.appendChild(received);
    }
    li.appendChild(when);
    var what = document.createElement("span");
    what.className = "what";
    what.textContent = changeText(update);
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
      var shown = shownNote(update.note);
      note.textContent = shown.text;
      if (shown.lang) note.lang = shown.lang;
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
    showState(update.project || { status: update.status, progress: update.progress });
  }

  // Show a state of the project as current: the line above the form, the choices the
  // transition table allows from it, the values the form starts from, and its version.
  function showState(state) {
    var shown = Array.prototype.map.call(form.querySelectorAll("input[name=status]"), function (r) { return r.value; });
    var allowed = (state.allowed || []).map(function (choice) { return choice.code; });
    if (state.allowed && shown.join() !== allowed.join()) {
      var fieldset = form.querySelector(".status-choice");
      var template = fieldset.querySelector("label.choice");
      fieldset.querySelectorAll("label.choice").forEach(function (label) { label.remove(); });
      state.allowed.forEach(function (choice) {
        var label = template.cloneNode(true);
        var input = label.querySelector("input");
        input.value = choice.code;
        input.checked = input.defaultChecked = choice.code === state.status;
        label.querySelector(".status-dot").className = "status-dot status-" + choice.code;
        label.lastChild.textContent = choice.label;
        input.addEventListener("change", syncStatus);
        fieldset.appendChild(label);
      });
    } else {
      form.querySelectorAll("input[name=status]").forEach(function (r) {
        r.defaultChecked = r.value === state.status;
      });
    }
    number.defaultValue = range.defaultValue = String(state.progress);
    var now = document.getElementById("now-status");
    now.className = "status status-" + state.status;
    now.textContent = state.status_label || statuses[state.status];
    document.getElementById("now-progress").textContent = state.progress + "%";
    if (state.version) form.base_version.value = form.base_version.defaultValue = String(state.version);
  }

  // Someone else recorded meanwhile: say who and what, show the values stored now and the
  // entries recorded meanwhile, and let the person decide again. What they typed (status,
  // progress, note) and the photos they chose stay as they were.
  function showStale(stale) {
    var list = staleNotice.querySelector(".stale-changes");
    list.textContent = "";
    (stale.changes || []).forEach(function (sentence) {
      var li = document.createElement("li");
      li.textContent = sentence;
      list.appendChild(li);
    });
    if (stale.current) {
      var typedStatus = chosenStatus();
      var typedProgress = number.value;
      showState(stale.current);
      var still = form.querySelector("input[name=status][value='" + typedStatus + "']");
      form.querySelectorAll("input[name=status]").forEach(function (r) {
        r.checked = still ? r === still : r.defaultChecked;
      });
      number.value = range.value = typedProgress;
      syncStatus();
      var stored = document.getElementById("stale-current-values");
      stored.textContent = (stale.current.status_label || statuses[stale.current.status]) + " " +
        stale.current.progress + "%";
    }
    if (stale.recent && stale.recent.length) {
      history.textContent = "";
      stale.recent.forEach(addToHistory);
      Array.prototype.forEach.call(history.children, function (li) { li.classList.remove("just-sent"); });
    }
    message.hidden = true;
    staleNotice.hidden = false;
    staleNotice.scrollIntoView({ block: "nearest" });
  }

  // Opened from 送れなかった更新: the refused update's values fill the form; sending corrects
  // that entry (same client_id, same time on site, same photos) rather than making another.
  if (resending) {
    window.AsoOutbox.get(resending).then(function (item) {
      if (!item || String(item.project_id) !== text.projectId) { resending = null; return; }
      var fields = item.fields;
      form.querySelectorAll("input[name=status]").forEach(function (r) { r.checked = r.value === fields.status; });
      number.value = range.value = fields.progress;
      form.note.value = fields.note || "";
      if (fields.actual_end) form.actual_end.value = fields.actual_end;
      syncStatus();
      var at = fields.observed_at ? localTime(fields.observed_at) : "";
      resendNotice.textContent = resendNotice.dataset.text.replace("{at}", at).replace("{n}", (item.photos || []).length);
      resendNotice.hidden = false;
      if (item.error) show("bad", item.error);
      if (item.stale) showStale({ changes: item.stale.changes });
    });
  }

  function formFields() {
    var status = chosenStatus();
    // The time on site is the phone's clock when the person first pressed 記録する; a retry
    // after a refusal keeps it.
    if (!form.observed_at.value) form.observed_at.value = new Date().toISOString();
    return {
      status: status,
      status_label: status ? statuses[status] : "",
      progress: number.value,
      note: form.note.value,
      actual_end: status === "completed" ? form.actual_end.value : "",
      lat: form.lat.value,
      lon: form.lon.value,
      observed_at: form.observed_at.value,
      base_version: form.base_version.value
    };
  }

  function cleared() {
    form.reset();
    form.observed_at.value = "";
    photoNames.textContent = "";
    withPosition.checked = false;
    positionStatus.textContent = "";
    staleNotice.hidden = true;
    syncStatus();
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var checkedLabel = form.querySelector("input[name=status]:checked");
    if (!checkedLabel || number.value === "") { form.reportValidity(); return; }
    var fields = formFields();
    submitButton.disabled = true;
    var sending;
    if (resending) {
      var changes = {};
      ["status", "status_label", "progress", "note", "actual_end", "base_version"].forEach(function (name) {
        changes[name] = fields[name];
      });
      sending = window.AsoOutbox.resubmit(resending, changes);
    } else {
      sending = window.AsoOutbox.submit(form.dataset.api, text.projectId, text.projectName, fields, photoFiles());
    }
    sending
      .then(function (result) {
        if (result.state === "failed") {
          // Refused: the form keeps what was typed so it can be fixed and sent again.
          if (result.stale) showStale(result.stale);
          else show("bad", result.error || "");
          return;
        }
        if (result.state === "sent") show("ok", resending ? text.resent : text.sent);
        else if (result.state === "login") show("bad", text.login);
        else if (result.unavailable) show("queued", result.error);
        else show("queued", text.queued);
        if (resending) {
          resending = null;
          resendNotice.hidden = true;
          window.history.replaceState(null, "", location.pathname);
        }
        cleared();
      })
      .catch(function (error) { show("bad", String(error)); })
      .then(function () { submitButton.disabled = false; });
  });
})();
