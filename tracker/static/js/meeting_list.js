// The list beside the meeting map: "地図で見る" brings a listed project into view on the map.
(function () {
  "use strict";
  var buttons = document.querySelectorAll("#project-list [data-show]");
  // Without the map script the buttons stay hidden: the links still work.
  if (!window.AsoProjects) return;
  Array.prototype.forEach.call(buttons, function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      var id = Number(button.getAttribute("data-show"));
      if (!window.AsoProjects.show(id)) button.disabled = true;
    });
  });
})();
