// The printed sheet's "印刷" button: shown only where a script can press print for you.
(function () {
  "use strict";
  var button = document.getElementById("print-now");
  if (!button || !window.print) return;
  button.hidden = false;
  button.addEventListener("click", function () { window.print(); });
})();
