// Runway's pages work without this file; it adds what needs a script: local times, live updates, copy buttons.
"use strict";
(function () {
    // Times are rendered in UTC with a datetime attribute; show them in the viewer's own time zone.
    function localTimes(root) {
        const format = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "medium" });
        root.querySelectorAll("time[datetime]").forEach(function (t) {
            const at = new Date(t.getAttribute("datetime"));
            if (!isNaN(at)) {
                t.textContent = format.format(at);
                t.title = t.getAttribute("datetime");
            }
        });
    }
    window.Runway = { localTimes: localTimes };
    document.addEventListener("DOMContentLoaded", function () { localTimes(document); });
})();
