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

    // An element with data-refresh="ms" is replaced by its newer self from the same page, fetched again,
    // for as long as the server keeps rendering the attribute (while anything it shows is still active).
    // Nothing is swapped when nothing changed, so focus and selection stay where they are.
    function refreshLoop() {
        const live = document.querySelector("[data-refresh]");
        if (!live) {
            return;
        }
        const delay = Math.max(500, parseInt(live.getAttribute("data-refresh"), 10) || 2000);
        setTimeout(async function () {
            try {
                const response = await fetch(window.location.href, { headers: { "Accept": "text/html" }, credentials: "same-origin" });
                if (response.ok && !response.redirected) {
                    const fresh = new DOMParser().parseFromString(await response.text(), "text/html");
                    document.querySelectorAll("[data-live]").forEach(function (old) {
                        const next = fresh.getElementById(old.id);
                        if (next && next.innerHTML !== old.innerHTML) {
                            localTimes(next);
                            old.replaceWith(next);
                            document.dispatchEvent(new CustomEvent("runway:refreshed", { detail: next }));
                        }
                    });
                }
            } catch (e) {
                // Offline for a moment: try again at the next tick.
            }
            refreshLoop();
        }, delay);
    }

    // Buttons with data-copy="element id" copy that element's text.
    function copyButtons(root) {
        root.querySelectorAll("button[data-copy]").forEach(function (button) {
            button.hidden = false;
            button.addEventListener("click", async function () {
                const source = document.getElementById(button.getAttribute("data-copy"));
                if (!source) {
                    return;
                }
                try {
                    await navigator.clipboard.writeText(source.value !== undefined ? source.value : source.textContent);
                    button.textContent = "Copied";
                } catch (e) {
                    button.textContent = "Select and copy";
                }
                setTimeout(function () { button.textContent = "Copy"; }, 2000);
            });
        });
    }

    window.Runway = { localTimes: localTimes };
    document.addEventListener("DOMContentLoaded", function () {
        localTimes(document);
        copyButtons(document);
        refreshLoop();
    });
})();
