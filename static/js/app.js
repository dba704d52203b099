// Progressive enhancement only: every page works without this file.
(function () {
  "use strict";
  document.documentElement.classList.add("has-js");

  // document job page: poll the job's status; reload when it finishes (the page holds the result)
  document.querySelectorAll("[data-poll][data-status-url]").forEach(function (card) {
    var url = card.getAttribute("data-status-url");
    var delay = 1000;
    function poll() {
      fetch(url, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (s) {
          if (!s) { return; }
          var badge = card.querySelector(".job-state");
          if (badge && badge.getAttribute("data-state") !== s.state) { window.location.reload(); return; }
          if (s.finished) { window.location.reload(); return; }
          delay = Math.min(delay * 1.5, 5000);
          window.setTimeout(poll, delay);
        })
        .catch(function () { window.setTimeout(poll, 5000); });
    }
    window.setTimeout(poll, delay);
  });

  // language switch: submit on change, hide the button
  document.querySelectorAll("select.js-autosubmit").forEach(function (sel) {
    var form = sel.form;
    form.querySelectorAll(".js-hide-when-autosubmit").forEach(function (b) { b.classList.add("visually-hidden"); });
    sel.addEventListener("change", function () { form.submit(); });
  });

  // confirm before destructive actions: <form data-confirm="…">
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (ev) {
      if (!window.confirm(form.getAttribute("data-confirm"))) { ev.preventDefault(); }
    });
  });

  // CPV picker: <input data-cpv-picker> gets suggestions from /cpv/search.json
  document.querySelectorAll("input[data-cpv-picker]").forEach(function (input) {
    var list = document.createElement("ul");
    list.className = "cpv-suggestions";
    list.hidden = true;
    list.id = input.id + "-suggestions";
    list.setAttribute("role", "listbox");
    input.setAttribute("aria-controls", list.id);
    input.setAttribute("autocomplete", "off");
    input.insertAdjacentElement("afterend", list);
    var timer = null;
    function currentTerm() {
      var parts = input.value.split(/[,;\s]+/);
      return parts[parts.length - 1] || "";
    }
    input.addEventListener("input", function () {
      clearTimeout(timer);
      var term = input.hasAttribute("data-cpv-multi") ? currentTerm() : input.value;
      if (term.length < 2) { list.hidden = true; return; }
      timer = setTimeout(function () {
        fetch(input.getAttribute("data-cpv-picker") + "?q=" + encodeURIComponent(term), { headers: { Accept: "application/json" } })
          .then(function (r) { return r.json(); })
          .then(function (rows) {
            list.innerHTML = "";
            rows.forEach(function (row) {
              var li = document.createElement("li");
              var b = document.createElement("button");
              b.type = "button";
              b.textContent = row.code + " " + row.label;
              b.addEventListener("click", function () {
                if (input.hasAttribute("data-cpv-multi")) {
                  var parts = input.value.split(/[,;\s]+/).filter(Boolean);
                  parts[parts.length ? parts.length - 1 : 0] = row.code;
                  input.value = parts.join(", ") + ", ";
                } else { input.value = row.code; }
                list.hidden = true;
                input.focus();
              });
              li.appendChild(b);
              list.appendChild(li);
            });
            list.hidden = rows.length === 0;
          })
          .catch(function () { list.hidden = true; });
      }, 200);
    });
    input.addEventListener("keydown", function (ev) { if (ev.key === "Escape") { list.hidden = true; } });
  });

  // pages that wait for a background job: <meta name="srpp-poll" content="seconds">
  var poll = document.querySelector('meta[name="srpp-poll"]');
  if (poll) { setTimeout(function () { window.location.reload(); }, 1000 * parseInt(poll.content, 10)); }
})();
