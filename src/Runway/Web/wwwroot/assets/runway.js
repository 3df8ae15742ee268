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

    // The run page's log: while the run is active, stream it (GET …/log?follow=true) into the fixed-height
    // box, staying at the bottom if the reader is there; the stdout/stderr switch changes stream in place.
    function followLog() {
        const pre = document.getElementById("log");
        if (!pre || !pre.hasAttribute("data-follow")) {
            return;
        }
        const status = document.getElementById("log-status");
        const maxChars = 512 * 1024;
        let controller = null;
        async function follow(stream) {
            if (controller) {
                controller.abort();
            }
            controller = new AbortController();
            const mine = controller;
            const url = "/api/v1/runs/" + encodeURIComponent(pre.getAttribute("data-run")) + "/log?follow=true&stream=" + stream;
            try {
                const response = await fetch(url, { signal: mine.signal, credentials: "same-origin" });
                if (!response.ok || !response.body) {
                    return;
                }
                const reader = response.body.getReader();
                const decoder = new TextDecoder();
                pre.textContent = "";
                for (;;) {
                    const chunk = await reader.read();
                    if (chunk.done) {
                        break;
                    }
                    const atBottom = pre.scrollHeight - pre.scrollTop - pre.clientHeight < 24;
                    let text = pre.textContent + decoder.decode(chunk.value, { stream: true });
                    if (text.length > maxChars) {
                        text = text.slice(text.length - maxChars);
                    }
                    pre.textContent = text;
                    if (atBottom) {
                        pre.scrollTop = pre.scrollHeight;
                    }
                }
                if (controller === mine && status) {
                    status.textContent = "The run has ended: this is its whole " + stream + ".";
                }
            } catch (e) {
                // Aborted by the switch, or the page is going away.
            }
        }
        document.querySelectorAll("a[data-stream]").forEach(function (link) {
            link.addEventListener("click", function (event) {
                event.preventDefault();
                const stream = link.getAttribute("data-stream");
                document.querySelectorAll("a[data-stream]").forEach(function (l) {
                    if (l === link) { l.setAttribute("aria-current", "page"); } else { l.removeAttribute("aria-current"); }
                });
                pre.setAttribute("data-stream", stream);
                history.replaceState(null, "", "?stream=" + stream);
                follow(stream);
            });
        });
        follow(pre.getAttribute("data-stream") || "stdout");
    }

    // The JSON tab: say as the user types whether the text is a JSON object, and where it is broken.
    function jsonChecks() {
        document.querySelectorAll("textarea[data-json-check]").forEach(function (area) {
            const status = document.getElementById(area.getAttribute("data-json-check"));
            function check() {
                let message = "Valid JSON";
                let ok = true;
                try {
                    const value = JSON.parse(area.value.trim() === "" ? "{}" : area.value);
                    if (value === null || typeof value !== "object" || Array.isArray(value)) {
                        ok = false;
                        message = "Must be a JSON object of parameter values, such as {\"min_length\": 3}";
                    }
                } catch (e) {
                    ok = false;
                    message = "Not valid JSON: " + e.message;
                }
                status.textContent = message;
                status.className = "json-status " + (ok ? "ok" : "bad");
                if (ok) { area.removeAttribute("aria-invalid"); } else { area.setAttribute("aria-invalid", "true"); }
                commands(ok ? JSON.parse(area.value.trim() === "" ? "{}" : area.value) : null, area.form);
            }
            area.addEventListener("input", check);
        });
    }

    // The form's values as the API's params, converted as the server converts them (RunForm.ToParams).
    function formParams(form) {
        const params = {};
        form.querySelectorAll("[data-param]").forEach(function (field) {
            const name = field.getAttribute("data-param");
            const type = field.getAttribute("data-type");
            const text = (field.value || "").trim();
            if (type === "boolean") {
                params[name] = field.checked;
            } else if (type === "file") {
                const upload = form.querySelector("input[data-upload='" + name + "']");
                if (upload && upload.files && upload.files.length > 0) {
                    params[name] = "@" + upload.files[0].name;
                } else if (text !== "") {
                    params[name] = text;
                }
            } else if (text === "") {
                // absent: the default applies
            } else if (type === "integer" && /^[+-]?\d+$/.test(text)) {
                params[name] = parseInt(text, 10);
            } else if (type === "number" && text !== "" && isFinite(Number(text))) {
                params[name] = Number(text);
            } else {
                params[name] = text;
            }
        });
        return params;
    }

    function quote(word) {
        return /^[A-Za-z0-9_\-.\/=:,@+]+$/.test(word) ? word : "'" + word.replace(/'/g, "'\\''") + "'";
    }

    // The curl and runway commands, rebuilt as Commands.cs builds them.
    function commands(params, form) {
        const curl = document.getElementById("cmd-curl");
        const runway = document.getElementById("cmd-runway");
        if (!curl || !runway || !params || !form) {
            return;
        }
        const pipeline = document.querySelector("form[data-pipeline]").getAttribute("data-pipeline");
        // An earlier version the page shows (?version=); absent for the default.
        const version = document.querySelector("form[data-pipeline]").getAttribute("data-pipeline-version");
        const nameField = form.querySelector("[data-run-name]");
        const name = nameField ? nameField.value : "";
        const apiParams = {};
        const words = ["runway", "submit", quote(pipeline)];
        if (version) {
            words.push("--pipeline-version", quote(version));
        }
        Object.keys(params).forEach(function (key) {
            const value = params[key];
            const local = typeof value === "string" && value.startsWith("@");
            apiParams[key] = local ? "f_…" : value;
            words.push(quote(key + "=" + (typeof value === "string" ? value : JSON.stringify(value))));
        });
        const body = version ? { pipeline: pipeline, pipeline_version: version, params: apiParams } : { pipeline: pipeline, params: apiParams };
        if (name) {
            body.name = name;
            words.push("--name", quote(name));
        }
        curl.textContent = "curl -H \"Authorization: Bearer $RUNWAY_TOKEN\" -H 'Content-Type: application/json' \\\n  -d "
            + quote(JSON.stringify(body)) + " \\\n  " + curl.getAttribute("data-server") + "/api/v1/runs";
        runway.textContent = words.join(" ");
    }

    // Form and JSON tabs switch in place, carrying the values across.
    function submitTabs() {
        const form = document.querySelector("form[data-pipeline]");
        const area = document.getElementById("json");
        if (!form || !area) {
            return;
        }
        form.addEventListener("input", function () { commands(formParams(form), form); });
        form.addEventListener("change", function () { commands(formParams(form), form); });
        document.querySelectorAll(".tabs [role=tab]").forEach(function (tab) {
            tab.addEventListener("click", function (event) {
                event.preventDefault();
                const json = tab.id === "tab-json";
                if (json) {
                    const params = formParams(form);
                    Object.keys(params).forEach(function (k) { if (typeof params[k] === "string" && params[k].startsWith("@")) { delete params[k]; } });
                    area.value = JSON.stringify(params, null, 2);
                    area.dispatchEvent(new Event("input"));
                }
                document.getElementById("panel-form").hidden = json;
                document.getElementById("panel-json").hidden = !json;
                document.getElementById("tab-form").setAttribute("aria-selected", json ? "false" : "true");
                document.getElementById("tab-json").setAttribute("aria-selected", json ? "true" : "false");
                history.replaceState(null, "", "?tab=" + (json ? "json" : "form"));
            });
        });
    }

    // A form with data-upload-progress="element id" is sent by XMLHttpRequest, whose upload events drive a
    // progress bar; the server's answer (the page after its redirect, or the page with the error) then
    // replaces this one, as the plain form post would have.
    function uploadProgress(root) {
        root.querySelectorAll("form[data-upload-progress]").forEach(function (form) {
            const box = document.getElementById(form.getAttribute("data-upload-progress"));
            if (!box) {
                return;
            }
            const bar = box.querySelector("progress");
            const text = box.querySelector("[aria-live]");
            form.addEventListener("submit", function (event) {
                const input = form.querySelector("input[type=file]");
                if (!input || !input.files || input.files.length === 0) {
                    return; // the browser says the field is required
                }
                event.preventDefault();
                const total = input.files[0].size;
                const button = form.querySelector("button[type=submit]");
                const xhr = new XMLHttpRequest();
                box.hidden = false;
                bar.value = 0;
                text.textContent = "Starting…";
                if (button) { button.disabled = true; }
                xhr.upload.addEventListener("progress", function (e) {
                    const sent = e.lengthComputable ? e.loaded / e.total : 0;
                    bar.value = Math.round(sent * 100);
                    text.textContent = Math.round(sent * 100) + "% of " + size(total);
                });
                xhr.upload.addEventListener("load", function () {
                    bar.value = 100;
                    text.textContent = "Sent; checking…";
                });
                xhr.addEventListener("load", function () {
                    if (xhr.status < 400 && xhr.responseURL && xhr.responseURL !== window.location.href) {
                        window.location.assign(xhr.responseURL);
                        return;
                    }
                    const fresh = new DOMParser().parseFromString(xhr.responseText, "text/html").querySelector("main");
                    if (fresh) {
                        document.querySelector("main").replaceWith(fresh);
                        localTimes(fresh);
                        uploadProgress(fresh);
                        copyButtons(fresh);
                    }
                });
                xhr.addEventListener("error", function () {
                    text.textContent = "The upload failed: the connection was lost. Try again.";
                    if (button) { button.disabled = false; }
                });
                xhr.open("POST", form.getAttribute("action") || window.location.pathname + window.location.search);
                xhr.send(new FormData(form));
            });
        });
    }

    function size(bytes) {
        const units = ["B", "KB", "MB", "GB", "TB"]; // as Display.Size and the CLI show sizes
        let value = bytes;
        let unit = 0;
        while (value >= 1024 && unit < units.length - 1) {
            value /= 1024;
            unit++;
        }
        return (unit === 0 ? value : value.toFixed(1)) + " " + units[unit];
    }

    window.Runway = { localTimes: localTimes };
    document.addEventListener("DOMContentLoaded", function () {
        localTimes(document);
        copyButtons(document);
        refreshLoop();
        followLog();
        jsonChecks();
        submitTabs();
        uploadProgress(document);
    });
})();
