/* The print sheet's button opens the browser's print dialog (a script file, not an
   onclick attribute, so that the page's security policy needs no inline code). */
(function () {
  "use strict";
  var button = document.getElementById("print-button");
  if (button) button.addEventListener("click", function () { window.print(); });
})();
