/* Progressive enhancement only: every feature works without this file. */
(function () {
  "use strict";
  // What only works with JavaScript is hidden in the page and shown here.
  Array.prototype.forEach.call(document.querySelectorAll("[data-js-only]"), function (el) {
    el.hidden = false;
  });
  var link = document.querySelector("[data-quick-exit]");
  if (link) {
    var leave = function () {
      try { window.sessionStorage.clear(); window.localStorage.clear(); } catch (e) { /* storage may be off */ }
      // replace(): this page's entry in the history is replaced, so Back does not return to it.
      window.location.replace(link.href);
    };
    link.addEventListener("click", function (ev) { ev.preventDefault(); leave(); });
    // Escape pressed three times within 2 seconds: only where the quick exit is offered (never in
    // the back office, where it would sign an agent out and lose what they typed).
    var presses = [];
    document.addEventListener("keydown", function (ev) {
      if (ev.key !== "Escape") { return; }
      var now = Date.now();
      presses = presses.filter(function (t) { return now - t < 2000; });
      presses.push(now);
      if (presses.length >= 3) { leave(); }
    });
  }
  // Move focus to the error summary when a form comes back with errors.
  var summary = document.querySelector(".error-summary");
  if (summary) { summary.focus(); }
})();
/* Conditional questions: shown in place when the answer they depend on is chosen. */
(function () {
  "use strict";
  var blocks = document.querySelectorAll("[data-shown-when]");
  Array.prototype.forEach.call(blocks, function (block) {
    var rule = block.getAttribute("data-shown-when").split("=");
    var form = block.closest("form");
    if (!form) { return; }
    function update() {
      var chosen = form.querySelector("[name='" + rule[0] + "']:checked, select[name='" + rule[0] + "']");
      var on = !!chosen && chosen.value === rule[1];
      block.hidden = !on;
      var seen = block.querySelector("input[name='revealed']");
      if (seen) { seen.disabled = !on; }
    }
    form.addEventListener("change", function (ev) { if (ev.target.name === rule[0]) { update(); } });
    update();
  });
})();
