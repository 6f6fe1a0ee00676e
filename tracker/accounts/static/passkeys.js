/* Passkeys: register one on /account/two-factor, sign in with one on /login (without a
 * password) or /login/verify (as the second factor).
 *
 * Each [data-passkey] block names its mode ("register", "passwordless", "second"), the
 * server's addresses, the CSRF token and the words to show; it stays hidden in a browser
 * without WebAuthn. The server's options come as JSON with base64url strings, which the
 * browser's API wants as bytes, and the answer goes back the other way.
 */
(function () {
  "use strict";

  function toBytes(base64url) {
    var base64 = base64url.replace(/-/g, "+").replace(/_/g, "/");
    while (base64.length % 4) base64 += "=";
    var binary = atob(base64);
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return bytes.buffer;
  }

  function toBase64url(buffer) {
    var bytes = new Uint8Array(buffer);
    var binary = "";
    for (var i = 0; i < bytes.length; i++) binary += String.fromCharCode(bytes[i]);
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function withBytes(list) {
    return (list || []).map(function (item) {
      return Object.assign({}, item, { id: toBytes(item.id) });
    });
  }

  function creationOptions(json) {
    var options = Object.assign({}, json);
    options.challenge = toBytes(json.challenge);
    options.user = Object.assign({}, json.user, { id: toBytes(json.user.id) });
    options.excludeCredentials = withBytes(json.excludeCredentials);
    return options;
  }

  function requestOptions(json) {
    var options = Object.assign({}, json);
    options.challenge = toBytes(json.challenge);
    options.allowCredentials = withBytes(json.allowCredentials);
    return options;
  }

  function credentialJSON(credential) {
    var r = credential.response;
    var response = { clientDataJSON: toBase64url(r.clientDataJSON) };
    if (r.attestationObject) {
      response.attestationObject = toBase64url(r.attestationObject);
      if (r.getTransports) response.transports = r.getTransports();
    } else {
      response.authenticatorData = toBase64url(r.authenticatorData);
      response.signature = toBase64url(r.signature);
      if (r.userHandle) response.userHandle = toBase64url(r.userHandle);
    }
    return {
      id: credential.id,
      rawId: toBase64url(credential.rawId),
      type: credential.type,
      response: response,
      authenticatorAttachment: credential.authenticatorAttachment || undefined,
      clientExtensionResults: credential.getClientExtensionResults ? credential.getClientExtensionResults() : {},
    };
  }

  /* POST JSON; resolves to the answer's JSON, rejects with the server's words if refused. */
  function post(url, body, csrfToken) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { Accept: "application/json", "Content-Type": "application/json", "X-CSRFToken": csrfToken },
      body: JSON.stringify(body),
    }).then(function (answer) {
      return answer.json().catch(function () { return {}; }).then(function (data) {
        if (!answer.ok) {
          var error = new Error(data.error || "");
          error.fromServer = true;
          throw error;
        }
        return data;
      });
    });
  }

  function setUp(block) {
    var d = block.dataset;
    var button = block.querySelector("button[data-passkey-start]");
    var message = block.querySelector("[data-passkey-message]");
    var nameInput = block.querySelector("input[data-passkey-name]");
    block.hidden = false;

    function say(text) {
      message.textContent = text;
      message.hidden = !text;
    }

    function failed(error) {
      button.disabled = false;
      if (error && error.fromServer && error.message) say(error.message);
      else if (error && error.name === "NotAllowedError") say(d.msgCancelled);
      else if (error && error.name === "InvalidStateError") say(d.msgKnown);
      else say(d.msgFailed);
    }

    button.addEventListener("click", function () {
      button.disabled = true;
      say("");
      var run;
      if (d.passkey === "register") {
        run = post(d.optionsUrl, {}, d.csrf)
          .then(function (json) { return navigator.credentials.create({ publicKey: creationOptions(json) }); })
          .then(function (credential) {
            return post(d.url, { credential: credentialJSON(credential), name: nameInput ? nameInput.value : "" }, d.csrf);
          });
      } else {
        run = post(d.optionsUrl, { mode: d.passkey }, d.csrf)
          .then(function (json) { return navigator.credentials.get({ publicKey: requestOptions(json) }); })
          .then(function (credential) {
            return post(d.url, { mode: d.passkey, credential: credentialJSON(credential), next: d.next || "" }, d.csrf);
          });
      }
      run.then(function (data) { window.location.assign(data.next); }, failed);
    });
  }

  if (!window.PublicKeyCredential || !navigator.credentials) return;
  Array.prototype.forEach.call(document.querySelectorAll("[data-passkey]"), setUp);
})();
