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
    return post(item, token).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (response.status === 201) {
          loginNeeded = false;
          return remove(item.client_id).then(function () {
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
        if (response.status >= 500 || response.status === 408 || response.status === 429) {
          return { state: "offline", error: data.error };
        }
        // The server refused it (a rule, a bad photo): resending cannot help; a person decides.
        item.state = "failed";
        item.error = data.error || String(response.status);
        return put(item).then(function () { return { state: "failed", error: item.error }; });
      });
    }, function () {
      return { state: "offline" };
    });
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

  /* Send every waiting entry, oldest first; one pass at a time. */
  function flush() {
    if (flushing) return flushing;
    flushing = list().then(function (items) {
      var pending = items.filter(function (i) { return i.state !== "failed"; });
      if (!pending.length) return items;
      return freshToken().then(function (token) {
        return pending.reduce(function (chain, item) {
          return chain.then(function (stop) {
            if (stop) return true;
            return send(item, token).then(function (r) { return r.state === "offline" || r.state === "login"; });
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

  function render(items) {
    var box = document.getElementById("outbox");
    if (!box) return;
    var ul = box.querySelector(".outbox-list");
    var text = labels();
    ul.textContent = "";
    items.forEach(function (item) {
      var li = document.createElement("li");
      li.className = "outbox-item outbox-" + item.state;
      var badge = document.createElement("span");
      badge.className = "outbox-state";
      badge.textContent = item.state === "failed" ? text.failed : text.pending;
      li.appendChild(badge);
      var what = document.createElement("span");
      what.className = "outbox-what";
      what.textContent = item.project_name + " — " + (item.fields.status_label || item.fields.status) +
        " " + item.fields.progress + "%" + (item.photos && item.photos.length ? " 📷" + item.photos.length : "");
      li.appendChild(what);
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
        var discard = document.createElement("button");
        discard.type = "button";
        discard.className = "button";
        discard.textContent = text.discard;
        discard.addEventListener("click", function () { remove(item.client_id); });
        li.appendChild(discard);
      }
      ul.appendChild(li);
    });
    var login = box.querySelector(".outbox-login");
    if (login) login.hidden = !loginNeeded || !items.some(function (i) { return i.state !== "failed"; });
    box.hidden = items.length === 0;
  }

  function registerWorker() {
    if (!meta || !("serviceWorker" in navigator)) return;
    navigator.serviceWorker.register(meta.dataset.sw, { scope: meta.dataset.scope }).catch(function () {
      /* Without a worker the outbox still works while the page stays open. */
    });
  }

  window.AsoOutbox = {
    submit: submit,
    flush: flush,
    list: list,
    remove: remove,
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
