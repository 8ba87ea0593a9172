/* Stream page: poll the stream's counts every 2 seconds while the page is open; reload when its
   status or plan mode changes (the history and the plan panel change with them). */
(function () {
  "use strict";
  var root = document.querySelector("[data-status-url]");
  if (!root || !window.fetch) { return; }
  var url = root.getAttribute("data-status-url");
  var status = root.getAttribute("data-status");
  var mode = root.getAttribute("data-mode");
  var failures = 0;

  function format(n) { return Number(n || 0).toLocaleString("en-US"); }

  function show(stream) {
    if (stream.status !== status || stream.inspection.mode !== mode) {
      window.location.reload();
      return false;
    }
    Object.keys(stream.counts).forEach(function (key) {
      var el = document.querySelector('[data-count="' + key + '"]');
      if (el) {
        el.textContent = format(stream.counts[key]);
        el.classList.toggle("is-zero", !stream.counts[key]);
      }
    });
    var run = document.querySelector('[data-plan="conforming_run"]');
    if (run) { run.textContent = String(stream.inspection.conforming_run); }
    var meter = document.querySelector(".stream-plan .progress");
    if (meter) {
      var clearance = stream.inspection.clearance_number || 1;
      var percent = Math.min(100, Math.floor(100 * stream.inspection.conforming_run / clearance));
      meter.setAttribute("aria-valuenow", String(stream.inspection.conforming_run));
      meter.querySelector(".progress-bar").style.width = percent + "%";
    }
    return true;
  }

  function poll() {
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        if (!response.ok) { throw new Error("status " + response.status); }
        return response.json();
      })
      .then(function (stream) {
        failures = 0;
        if (show(stream)) { window.setTimeout(poll, 2000); }
      })
      .catch(function () {
        failures += 1;
        window.setTimeout(poll, failures > 5 ? 10000 : 2000);
      });
  }

  window.setTimeout(poll, 2000);
})();
