// Warns before a sign-in ends for lack of use, and keeps it going when asked.
// The server ends a sign-in after data-idle-seconds without a request; some minutes
// before, a notice offers "continue", which asks /account/ping (a request like any other).
(function () {
  "use strict";
  var script = document.currentScript;
  // What is left of the idle time when the page was made (the server counts from the last
  // use it wrote down); after "continue", the whole idle time the server answers with.
  var left = Number(script.dataset.idleSeconds);
  if (!left) return;
  var notice = null;
  var timers = [];

  function clearTimers() {
    timers.forEach(clearTimeout);
    timers = [];
  }

  function show(text, withButton) {
    if (!notice) {
      notice = document.createElement("div");
      notice.className = "idle-warning";
      notice.setAttribute("role", "alert");
      var style = notice.style;
      style.position = "fixed";
      style.left = "1rem";
      style.right = "1rem";
      style.bottom = "1rem";
      style.maxWidth = "30rem";
      style.margin = "0 auto";
      style.padding = ".75rem 1rem";
      style.background = "#fff8e1";
      style.color = "#1a1a1a";
      style.border = "2px solid #8a5a00";
      style.borderRadius = "6px";
      style.zIndex = "10000";
      style.boxShadow = "0 2px 8px rgba(0,0,0,.3)";
      document.body.appendChild(notice);
    }
    notice.textContent = "";
    var message = document.createElement("p");
    message.style.margin = "0 0 .5rem";
    message.textContent = text;
    notice.appendChild(message);
    if (withButton) {
      var button = document.createElement("button");
      button.type = "button";
      button.textContent = script.dataset.continueText;
      button.style.minHeight = "44px";
      button.style.padding = ".4rem 1.25rem";
      button.style.font = "inherit";
      button.addEventListener("click", keepGoing);
      notice.appendChild(button);
    } else {
      var link = document.createElement("a");
      link.href = script.dataset.loginUrl;
      link.textContent = script.dataset.loginText;
      notice.appendChild(link);
    }
  }

  function hide() {
    if (notice) notice.remove();
    notice = null;
  }

  function ended() {
    clearTimers();
    show(script.dataset.endedText, false);
  }

  function keepGoing() {
    // The asking has begun: the old countdown must not end the sign-in meanwhile.
    clearTimers();
    fetch(script.dataset.pingUrl, { credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        if (response.status === 204) {
          hide();
          start(Number(response.headers.get("X-Idle-Seconds")) || left);
        } else {
          ended();
        }
      })
      .catch(function () {
        // No network (a staff phone on site): the sign-in may still be alive; try again later.
        show(script.dataset.offlineText, true);
      });
  }

  // The server counts from the moment it wrote the last use down, a little before this page
  // heard of it, and timers may fire a little early: the page says the sign-in ended only
  // once the server has surely ended it ("continue" pressed in that second is answered that
  // it has).
  var END_GRACE_MS = 1000;

  function start(seconds) {
    clearTimers();
    // Five minutes before the end, or at half of a shorter time.
    var warnBefore = Math.min(300, seconds / 2);
    timers.push(setTimeout(function () {
      show(script.dataset.warningText, true);
    }, (seconds - warnBefore) * 1000));
    timers.push(setTimeout(ended, seconds * 1000 + END_GRACE_MS));
  }

  start(left);
})();
