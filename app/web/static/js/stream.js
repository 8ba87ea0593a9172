/* Stream page: poll the stream's counts every 2 seconds while the page is open; reload when its
   status or plan mode changes (the history and the plan panel change with them). Needs live.js. */
(function () {
  "use strict";
  var root = document.querySelector("[data-status-url]");
  if (!root || !window.fetch || !window.leadexLive) { return; }
  var live = window.leadexLive;
  var status = root.getAttribute("data-status");
  var mode = root.getAttribute("data-mode");

  function show(stream) {
    if (stream.status !== status || stream.inspection.mode !== mode) {
      window.location.reload();
      return false;
    }
    live.showCounts(stream.counts);
    var plan = stream.inspection;
    var run = document.querySelector('[data-plan="conforming_run"]');
    if (run) { run.textContent = String(plan.conforming_run); }
    var meter = document.querySelector(".stream-plan .progress");
    if (meter) {
      var percent = Math.min(100, Math.floor(100 * plan.conforming_run / (plan.clearance_number || 1)));
      meter.setAttribute("aria-valuenow", String(plan.conforming_run));
      meter.querySelector(".progress-bar").style.width = percent + "%";
    }
    return true;
  }

  live.poll(root.getAttribute("data-status-url"), show, 2000);
})();
