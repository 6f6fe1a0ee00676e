// The follow page's "copy the address" button: offered only where the browser can copy.
(function () {
  "use strict";
  var button = document.getElementById("copy-feed-url");
  var input = document.getElementById("feed-url");
  var status = document.getElementById("copy-status");
  if (!button || !input || !(navigator.clipboard && navigator.clipboard.writeText)) return;
  button.hidden = false;
  button.addEventListener("click", function () {
    navigator.clipboard.writeText(input.value).then(
      function () { status.textContent = button.getAttribute("data-copied"); },
      function () {
        input.select();
        status.textContent = button.getAttribute("data-failed");
      }
    );
  });
})();
