/* Bulk actions on /needs: show only the input the chosen action needs, tick every row of the page at once,
   count the ticked rows. Without this script the form works as it is: every input shows, and the server
   reads the action's own input. */
(function () {
  "use strict";

  function start() {
    var form = document.getElementById("bulk");
    if (!form) { return; }
    var action = document.getElementById("bulk-action");
    var page = document.getElementById("bulk-page");
    var count = document.getElementById("bulk-count");
    var submit = document.getElementById("bulk-submit");
    var matching = document.getElementById("bulk-matching");
    var scopes = form.querySelectorAll("input[name=scope]");
    var rows = document.querySelectorAll("input[type=checkbox][name=ref][form=bulk]");

    function ticked() {
      return Array.prototype.filter.call(rows, function (box) { return box.checked; }).length;
    }

    function showInputs() {
      form.querySelectorAll("[data-action]").forEach(function (label) {
        label.hidden = label.getAttribute("data-action") !== action.value;
      });
    }

    function update() {
      var n = ticked();
      count.textContent = (n === 1 ? count.dataset.one : count.dataset.many).replace("{n}", String(n));
      page.checked = n > 0 && n === rows.length;
      page.indeterminate = n > 0 && n < rows.length;
      rows.forEach(function (box) { box.closest("tr").classList.toggle("selected", box.checked); });
      submit.disabled = !matching.checked && n === 0;
    }

    page.hidden = false;
    page.addEventListener("change", function () {
      rows.forEach(function (box) { box.checked = page.checked; });
      update();
    });
    rows.forEach(function (box) {
      box.addEventListener("change", function () {
        if (box.checked && matching.checked) { scopes[0].checked = true; }
        update();
      });
    });
    scopes.forEach(function (scope) { scope.addEventListener("change", update); });
    action.addEventListener("change", showInputs);
    showInputs();
    update();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
