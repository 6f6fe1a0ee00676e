// The printed sheet's "印刷" button: shown only where a script can press print for you (a
// script file, not an onclick attribute, so that the page's security policy needs no inline code).
(function () {
  "use strict";
  var button = document.getElementById("print-now");
  if (!button || !window.print) return;
  button.hidden = false;
  button.addEventListener("click", function () { window.print(); });
})();
