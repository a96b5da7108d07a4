/* The intake form: as CS types a title or description, ask /needs/similar (after a pause in typing) and list
   the open needs most like it, each with "attach to this one", which files the need linked to that need (its
   tracker issue). Without this script the form works as it is: nothing is suggested. */
(function () {
  "use strict";

  var WAIT_MS = 300;

  function start() {
    var box = document.getElementById("similar");
    var title = document.getElementById("title");
    var description = document.getElementById("description");
    var category = document.getElementById("category");
    var linked = document.getElementById("linked_to");
    if (!box || !title || !linked) { return; }
    var list = box.querySelector(".similar-list");
    var timer = null;
    var asked = "";
    var latest = 0;

    function text(tag, className, value) {
      var node = document.createElement(tag);
      if (className) { node.className = className; }
      node.textContent = value;
      return node;
    }

    function show(suggestions) {
      list.textContent = "";
      suggestions.forEach(function (item) {
        var row = document.createElement("li");
        row.className = "similar-item";
        row.dataset.ref = item.ref;
        var link = text("a", "ref", item.ref);
        link.href = item.url;
        link.target = "_blank";
        row.appendChild(link);
        row.appendChild(document.createTextNode(" "));
        row.appendChild(text("span", "similar-title", item.title));
        var facts = [item.status_name, item.issue_key || box.dataset.noIssue, item.customers.join(", "),
                     box.dataset.score + " " + item.score.toFixed(2)];
        row.appendChild(text("span", "muted small", " · " + facts.join(" · ")));
        var attach = text("button", "button small attach", box.dataset.attach);
        attach.type = "button";
        attach.addEventListener("click", function () {
          linked.value = item.ref;
          var form = linked.form;
          if (form.requestSubmit) { form.requestSubmit(); } else { form.submit(); }
        });
        row.appendChild(attach);
        list.appendChild(row);
      });
      box.hidden = suggestions.length === 0;
    }

    function ask() {
      var query = new URLSearchParams({
        title: title.value, description: description ? description.value : "",
        category: category ? category.value : ""
      }).toString();
      if (query === asked) { return; }
      asked = query;
      var mine = ++latest;
      if (!title.value.trim() && !(description && description.value.trim())) { show([]); return; }
      fetch(box.dataset.url + "?" + query, {credentials: "same-origin", headers: {"Accept": "application/json"}})
        .then(function (response) { return response.ok ? response.json() : {suggestions: []}; })
        .then(function (data) { if (mine === latest) { show(data.suggestions || []); } })
        .catch(function () { /* suggestions are a help: the form works without them */ });
    }

    function later() {
      window.clearTimeout(timer);
      timer = window.setTimeout(ask, WAIT_MS);
    }

    [title, description, category].forEach(function (input) {
      if (input) { input.addEventListener("input", later); input.addEventListener("change", later); }
    });
    if (title.value) { ask(); }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
}());
