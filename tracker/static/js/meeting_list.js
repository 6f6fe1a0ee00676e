// The list beside the meeting map: "地図で見る" brings a listed project into view on the map.
(function () {
  "use strict";
  var list = document.getElementById("project-list");
  // Without the map script the buttons stay hidden: the links still work.
  if (!list || !window.AsoProjects) return;
  Array.prototype.forEach.call(list.querySelectorAll("[data-show]"), function (button) {
    button.hidden = false;
  });
  // One listener for the list's hundreds of buttons.
  list.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-show]");
    if (!button || button.disabled) return;
    var id = Number(button.getAttribute("data-show"));
    if (!window.AsoProjects.show(id)) button.disabled = true;
  });
})();
