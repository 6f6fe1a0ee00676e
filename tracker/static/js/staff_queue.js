/* The outbox: every update is kept in IndexedDB (photos as Blobs) until the server
   has recorded it, so no signal, a closed tab or a flat battery loses nothing.
   Each entry carries a client_id; the server records an id once, so resending is safe. */
(function () {
  "use strict";

  var DB_NAME = "aso-staff";
  var STORE = "outbox";
  var RETRY_MS = 15000;
  var meta = document.querySelector('meta[name="aso-staff"]');
  var listeners = [];
  var flushing = null;
  var dbPromise = null;
  // Set when the server asked to sign in again; the outbox then says so, with a link.
  var loginNeeded = false;

  function openDb() {
    if (!dbPromise) {
      dbPromise = new Promise(function (resolve, reject) {
        var request = indexedDB.open(DB_NAME, 1);
        request.onupgradeneeded = function () {
          request.result.createObjectStore(STORE, { keyPath: "client_id" });
        };
        request.onsuccess = function () { resolve(request.result); };
        request.onerror = function () { reject(request.error); };
      });
    }
    return dbPromise;
  }

  function withStore(mode, work) {
    return openDb().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(STORE, mode);
        var result = work(tx.objectStore(STORE));
        tx.oncomplete = function () { resolve(result && "result" in result ? result.result : undefined); };
        tx.onerror = function () { reject(tx.error); };
        tx.onabort = function () { reject(tx.error); };
      });
    });
  }

  function put(item) { return withStore("readwrite", function (s) { s.put(item); }).then(changed); }
  function get(clientId) {
    return withStore("readonly", function (s) { return s.get(clientId); });
  }
  function remove(clientId) {
    return withStore("readwrite", function (s) { s["delete"](clientId); }).then(changed);
  }
  function list() {
    return withStore("readonly", function (s) { return s.getAll(); }).then(function (items) {
      return (items || []).sort(function (a, b) { return a.created_at < b.created_at ? -1 : 1; });
    });
  }

  function changed() {
    return list().then(function (items) {
      render(items);
      listeners.forEach(function (fn) { fn(items); });
      return items;
    });
  }

  function newClientId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    var hex = Array.prototype.map.call(b, function (x) { return (x + 0x100).toString(16).slice(1); }).join("");
    return hex.slice(0, 8) + "-" + hex.slice(8, 12) + "-" + hex.slice(12, 16) + "-" + hex.slice(16, 20) + "-" + hex.slice(20);
  }

  function pageToken() {
    var tag = document.querySelector('meta[name="csrf-token"]');
    return tag ? tag.getAttribute("content") : null;
  }

  function freshToken() {
    // A queued update may go out hours later, after the page's token has expired.
    var url = meta && meta.dataset.csrfUrl;
    if (!url) return Promise.resolve(pageToken());
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : {}; })
      .then(function (data) { return data.csrf_token || pageToken(); })
      .catch(function () { return pageToken(); });
  }

  function post(item, token) {
    var body = new FormData();
    Object.keys(item.fields).forEach(function (name) {
      if (item.fields[name] !== null && item.fields[name] !== undefined) body.append(name, item.fields[name]);
    });
    body.append("client_id", item.client_id);
    (item.photos || []).forEach(function (photo) { body.append("photos", photo.blob, photo.name); });
    var headers = { Accept: "application/json" };
    if (token) headers["X-CSRFToken"] = token;
    return fetch(item.url, { method: "POST", body: body, credentials: "same-origin", headers: headers });
  }

  // Entries being sent right now: a retry pass must not send them a second time
  // (the server would record them once, but the page would show them twice).
  var inFlight = {};

  /* Send one entry. Resolves to {state: "sent"|"offline"|"login"|"failed", update?, error?}. */
  function send(item, token) {
    if (inFlight[item.client_id]) return Promise.resolve({ state: "busy" });
    inFlight[item.client_id] = true;
    return sendNow(item, token).then(function (result) {
      delete inFlight[item.client_id];
      return result;
    }, function (error) {
      delete inFlight[item.client_id];
      throw error;
    });
  }

  function sendNow(item, token) {
    // An update of a work made offline waits until that work has been created.
    if (!item.url) return Promise.resolve({ state: "waiting" });
    if (navigator.onLine === false) return Promise.resolve({ state: "offline" });
    return post(item, token).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (response.status === 201 || (item.kind === "create" && response.status === 200)) {
          loginNeeded = false;
          return remove(item.client_id).then(function () {
            if (item.kind === "create") return adopt(item, data.project);
            return rebase(item, data.project && data.project.version);
          }).then(function () {
            logSync(item, "sent", null, data.project);
            window.dispatchEvent(new CustomEvent("aso:sent", { detail: { item: item, update: data } }));
            return { state: "sent", update: data };
          });
        }
        if (response.status === 400 && data.code === "csrf_failed") {
          if (!item.retriedToken) {
            item.retriedToken = true;
            return freshToken().then(function (t) { return sendNow(item, t); });
          }
          // No token works without a sign-in (signed out, or the session ran out):
          // nothing is wrong with the update itself, so it waits for the next sign-in.
          return askToSignIn();
        }
        if (response.status === 401) return askToSignIn();
        if (response.status === 503) {
          // Maintenance or an outage: the update waits here, saying so, and the next try
          // comes when the server said it would be back (Retry-After), not before.
          item.error = labels().unavailable || data.message || data.error || "503";
          item.retry_at = Date.now() + retryDelay(response);
          wakeAt(item.retry_at);
          return put(item).then(function () {
            return { state: "offline", error: item.error, unavailable: true };
          });
        }
        if (response.status >= 500 || response.status === 408 || response.status === 429) {
          return { state: "offline", error: data.error };
        }
        // The server refused it (a rule, a bad photo, someone else's newer record): resending
        // as it is cannot help; a person reads why, then fixes and resends it or discards it.
        item.state = "failed";
        item.error = data.message || data.error || String(response.status);
        item.stale = response.status === 409 ? { changes: data.changes || [], current: data.current, recent: data.recent || [] } : null;
        logSync(item, "failed", item.error, null);
        return put(item).then(function () {
          return { state: "failed", error: item.error, stale: item.stale };
        });
      });
    }, function () {
      return { state: "offline" };
    });
  }

  /* How long to wait after a 503: its Retry-After (seconds, or an HTTP date) when it has
     one, and never less than the usual RETRY_MS. */
  function retryDelay(response) {
    var header = (response.headers.get("Retry-After") || "").trim();
    var ms = 0;
    if (/^\d+$/.test(header)) ms = Number(header) * 1000;
    else if (header) ms = Date.parse(header) - Date.now();
    return isFinite(ms) && ms > RETRY_MS ? ms : RETRY_MS;
  }

  // One timer for the earliest time a waiting entry may be sent again.
  var wakeTimer = null;
  var wakeTime = 0;
  function wakeAt(time) {
    if (wakeTimer && wakeTime <= time) return;
    clearTimeout(wakeTimer);
    wakeTime = time;
    wakeTimer = setTimeout(function () {
      wakeTimer = null;
      if (navigator.onLine) flush();
    }, Math.max(0, time - Date.now()));
  }

  function askToSignIn() {
    loginNeeded = true;
    return changed().then(function () { return { state: "login" }; });
  }

  /* Keep an update on the device first, then try to send it at once. */
  function submit(url, projectId, projectName, fields, files) {
    var item = {
      client_id: newClientId(),
      url: url,
      project_id: projectId,
      project_name: projectName,
      form_url: location.pathname,
      created_at: new Date().toISOString(),
      state: "pending",
      fields: fields,
      photos: files.map(function (f) { return { name: f.name, type: f.type, blob: f }; })
    };
    return put(item).then(function () { return send(item, pageToken()); }).then(function (result) {
      // Refused at once: the form still holds what was typed, so the copy here can go.
      if (result.state !== "failed") return result;
      return remove(item.client_id).then(function () { return result; });
    });
  }

  /* Updates queued on this phone after one that has now been recorded were made knowing it:
     they now stand on the version it produced, not on the one the form showed. */
  function rebase(sent, version) {
    if (!version || !sent.fields) return Promise.resolve();
    return list().then(function (items) {
      var later = items.filter(function (i) {
        return i.state !== "failed" && String(i.project_id) === String(sent.project_id) &&
          i.fields && i.fields.base_version === sent.fields.base_version;
      });
      return Promise.all(later.map(function (i) {
        i.fields.base_version = String(version);
        return withStore("readwrite", function (s) { s.put(i); });
      }));
    });
  }

  /* A work made offline now exists: the updates queued for its temporary number go to
     the real work, on the version its creation produced. */
  function adopt(created, project) {
    if (!project) return Promise.resolve();
    return list().then(function (items) {
      var following = items.filter(function (i) { return i.project_id === created.project_id && i.kind !== "create"; });
      return Promise.all(following.map(function (i) {
        i.project_id = project.id;
        i.url = project.api;
        i.form_url = project.url;
        i.fields.base_version = String(project.version);
        return withStore("readwrite", function (s) { s.put(i); });
      }));
    });
  }

  /* Keep a new work made on site, then try to send it. It has a temporary number
     ("仮-…") until the server creates it; updates can be queued for that number. */
  function create(url, fields, files) {
    var clientId = newClientId();
    var item = {
      client_id: clientId,
      kind: "create",
      url: url,
      project_id: "仮-" + clientId.slice(0, 6),
      project_name: fields.name,
      form_url: location.pathname,
      created_at: new Date().toISOString(),
      state: "pending",
      fields: fields,
      photos: files.map(function (f) { return { name: f.name, type: f.type, blob: f }; })
    };
    return put(item).then(function () { return item; });
  }

  /* Queue an update of a work made offline (a temporary number): sent after its creation. */
  function updateNew(tempId, projectName, fields) {
    var item = {
      client_id: newClientId(),
      url: null,
      project_id: tempId,
      project_name: projectName,
      form_url: location.pathname,
      created_at: new Date().toISOString(),
      state: "pending",
      fields: fields,
      photos: []
    };
    return put(item).then(function () { return item; });
  }

  // What was sent or refused, kept on the phone for the sync report (staff_sync.js).
  var SYNC_LOG = "aso-sync-log";
  function logSync(item, state, error, project) {
    var log;
    try { log = JSON.parse(localStorage.getItem(SYNC_LOG)) || []; } catch (e) { log = []; }
    log = log.filter(function (e) { return e.client_id !== item.client_id; });
    log.push({
      client_id: item.client_id, kind: item.kind || "update", name: item.project_name,
      state: state, error: error, at: new Date().toISOString(),
      observed_at: item.fields && item.fields.observed_at,
      project_id: project && project.id ? project.id : item.project_id,
      version: project ? project.version : null,
      url: project && project.url ? project.url : item.form_url,
      what: (item.fields.status_label || item.fields.status || "") + " " + (item.fields.progress || 0) + "%"
    });
    localStorage.setItem(SYNC_LOG, JSON.stringify(log.slice(-200)));
  }

  /* Send a refused entry again with what the person corrected. Its time on site and its
     photos stay as they were; it stays in the list of refused ones if refused again. */
  function resubmit(clientId, changes) {
    return get(clientId).then(function (item) {
      if (!item) return { state: "gone" };
      Object.keys(changes).forEach(function (name) { item.fields[name] = changes[name]; });
      item.state = "pending";
      item.error = null;
      item.stale = null;
      item.retry_at = null;
      return put(item).then(function () { return send(item, pageToken()); });
    });
  }

  /* Send every waiting entry, oldest first; one pass at a time. */
  function flush() {
    if (flushing) return flushing;
    // Without signal, sending can only fail: the entries wait for the "online" event.
    if (navigator.onLine === false) return changed();
    flushing = list().then(function (items) {
      var pending = items.filter(function (i) { return i.state !== "failed"; });
      if (!pending.length) return items;
      return freshToken().then(function (token) {
        return pending.reduce(function (chain, item) {
          return chain.then(function (stop) {
            if (stop) return true;
            // Read again: an entry sent just before may have moved this one's base version.
            return get(item.client_id).then(function (fresh) {
              if (!fresh || fresh.state === "failed") return false;
              // The server asked to wait: this one and those after it (kept in order) wait.
              if (fresh.retry_at && fresh.retry_at > Date.now()) {
                wakeAt(fresh.retry_at);
                return true;
              }
              return send(fresh, token).then(function (r) {
                // "waiting" (its work not created yet) holds that entry alone.
                return r.state === "offline" || r.state === "login";
              });
            });
          });
        }, Promise.resolve(false));
      });
    }).then(changed, changed).then(function (items) {
      flushing = null;
      return items;
    });
    return flushing;
  }

  function labels() {
    var t = document.getElementById("outbox-labels");
    return t ? t.dataset : {};
  }

  function formUrl(item, text) {
    return item.form_url || (text.formUrl || "").replace("{id}", encodeURIComponent(String(item.project_id)));
  }

  // A time as the server writes it, in Japan: Swedish order is ISO-like (2026-11-29 09:05).
  function localTime(iso) {
    return new Date(iso).toLocaleString("sv-SE", { timeZone: "Asia/Tokyo", year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit" });
  }

  function observedText(item, text) {
    var at = item.fields && item.fields.observed_at;
    return at ? (text.observed || "{at}").replace("{at}", localTime(at)) : "";
  }

  function itemLine(item, text) {
    var li = document.createElement("li");
    li.className = "outbox-item outbox-" + item.state;
    li.setAttribute("data-client-id", item.client_id);
    var badge = document.createElement("span");
    badge.className = "outbox-state";
    badge.textContent = item.state === "failed" ? text.failed : text.pending;
    li.appendChild(badge);
    var what = document.createElement("span");
    what.className = "outbox-what";
    what.textContent = (item.kind === "create" ? (text.created || "") + " " : "") + item.project_name +
      " [" + item.project_id + "]" + " — " + (item.fields.status_label || item.fields.status) +
      " " + item.fields.progress + "%" + (item.photos && item.photos.length ? " 📷" + item.photos.length : "");
    li.appendChild(what);
    var when = observedText(item, text);
    if (when) {
      var observed = document.createElement("span");
      observed.className = "outbox-observed";
      observed.textContent = when;
      li.appendChild(observed);
    }
    if (item.fields.note) {
      var note = document.createElement("span");
      note.className = "outbox-note";
      note.textContent = item.fields.note;
      li.appendChild(note);
    }
    if (item.error) {
      var error = document.createElement("span");
      error.className = "outbox-error";
      error.textContent = item.error;
      li.appendChild(error);
    }
    if (item.state === "failed") {
      var edit = document.createElement("a");
      edit.className = "button outbox-edit";
      edit.href = formUrl(item, text) + "?resend=" + encodeURIComponent(item.client_id);
      edit.textContent = text.edit;
      li.appendChild(edit);
      var discard = document.createElement("button");
      discard.type = "button";
      discard.className = "button outbox-discard";
      discard.textContent = text.discard;
      discard.addEventListener("click", function () { remove(item.client_id); });
      li.appendChild(discard);
    }
    return li;
  }

  // Waiting entries under 送信待ち; refused ones apart, under 送れなかった更新, since
  // they will not go by themselves.
  function render(items) {
    var text = labels();
    var waiting = items.filter(function (i) { return i.state !== "failed"; });
    var refused = items.filter(function (i) { return i.state === "failed"; });
    var box = document.getElementById("outbox");
    if (box) {
      var ul = box.querySelector(".outbox-list");
      ul.textContent = "";
      waiting.forEach(function (item) { ul.appendChild(itemLine(item, text)); });
      var login = box.querySelector(".outbox-login");
      if (login) login.hidden = !loginNeeded || !waiting.length;
      box.hidden = waiting.length === 0;
    }
    var failedBox = document.getElementById("outbox-failed");
    if (failedBox) {
      var failedList = failedBox.querySelector(".outbox-list");
      failedList.textContent = "";
      refused.forEach(function (item) { failedList.appendChild(itemLine(item, text)); });
      failedBox.hidden = refused.length === 0;
    }
  }

  function registerWorker() {
    if (!meta || !("serviceWorker" in navigator)) return;
    navigator.serviceWorker.register(meta.dataset.sw, { scope: meta.dataset.scope }).catch(function () {
      /* Without a worker the outbox still works while the page stays open. */
    });
  }

  window.AsoOutbox = {
    submit: submit,
    create: create,
    updateNew: updateNew,
    resubmit: resubmit,
    flush: flush,
    list: list,
    get: get,
    remove: remove,
    localTime: localTime,
    keepPage: keepPage,
    onChange: function (fn) { listeners.push(fn); }
  };

  window.addEventListener("online", flush);
  setInterval(function () { if (navigator.onLine) flush(); }, RETRY_MS);
  var keepRequests = 0;

  /* Ask the service worker to keep this page (as it is now) for offline use. Resolves
     once it is kept; the page also gets the attribute data-offline-copy="kept". */
  function keepPage() {
    if (!("serviceWorker" in navigator)) return Promise.resolve(false);
    var path = location.pathname + location.search;
    var ask = ++keepRequests; // an answer to an earlier ask may hold an older copy
    return navigator.serviceWorker.ready.then(function (registration) {
      return new Promise(function (resolve) {
        function answered(event) {
          if (!event.data || event.data.kept !== path || event.data.ask !== ask) return;
          navigator.serviceWorker.removeEventListener("message", answered);
          document.documentElement.setAttribute("data-offline-copy", "kept");
          resolve(true);
        }
        navigator.serviceWorker.addEventListener("message", answered);
        document.documentElement.setAttribute("data-offline-copy", "saving");
        registration.active.postMessage({ keep: path, ask: ask });
      });
    });
  }

  function start() {
    registerWorker();
    // Kept even when this page loaded before the worker took control (a first visit),
    // whose own requests the worker never saw.
    if (navigator.onLine) keepPage();
    flush();
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
