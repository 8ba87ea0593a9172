/* Live figures: poll a page's JSON status and update its [data-count] figures. Shared by the
   batch page (while it processes) and the stream page. No dependencies. */
window.leadexLive = (function () {
  "use strict";

  function format(n) { return Number(n || 0).toLocaleString("en-US"); }

  function showCounts(counts) {
    Object.keys(counts).forEach(function (key) {
      var el = document.querySelector('[data-count="' + key + '"]');
      if (el) {
        el.textContent = format(counts[key]);
        el.classList.toggle("is-zero", !counts[key]);
      }
    });
  }

  /* Fetch ``url`` every ``every`` ms and hand the JSON to ``show``, which returns false to stop
     (say, when it reloads the page). */
  function poll(url, show, every) {
    var failures = 0;
    function tick() {
      fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin", cache: "no-store" })
        .then(function (response) {
          if (!response.ok) { throw new Error("status " + response.status); }
          return response.json();
        })
        .then(function (data) {
          failures = 0;
          if (show(data)) { window.setTimeout(tick, every); }
        })
        .catch(function () {
          // A blip (deploy, lost network): keep trying, more slowly after repeated failures.
          failures += 1;
          window.setTimeout(tick, failures > 5 ? 10000 : every);
        });
    }
    window.setTimeout(tick, every);
  }

  return { format: format, showCounts: showCounts, poll: poll };
})();
