/* Querschnitt UI: as-you-type suggestions for the search field (ARIA 1.2 combobox with a listbox).
   Loaded as a file with `defer`: no inline script, no inline handlers (the pages' CSP forbids them).
   Results are inserted with textContent only, never as HTML. Without JavaScript the form still works. */
(function () {
  "use strict";

  var input = document.querySelector("input[data-suggest-url]");
  if (!input || !window.fetch) {
    return;
  }
  var list = document.getElementById(input.getAttribute("aria-controls"));
  var status = document.getElementById("q-status");
  var url = input.getAttribute("data-suggest-url");
  var base = input.getAttribute("data-base-iri") || "";
  var types = {};
  try {
    types = JSON.parse(input.getAttribute("data-types") || "{}");
  } catch (error) {
    types = {};
  }
  var countText = input.getAttribute("data-count-text") || "{n}";
  var SDG = "http://metadata.un.org/sdg/";
  var timer = null;
  var sequence = 0;
  var active = -1;
  var items = [];

  function pageFor(iri) {
    if (typeof iri !== "string") {
      return null;
    }
    if (base && iri.indexOf(base) === 0) {
      return "/page/" + iri.slice(base.length);
    }
    if (iri.indexOf(SDG) === 0) {
      return "/page/sdg/" + iri.slice(SDG.length);
    }
    return null;
  }

  // The search engine's answer may be a list, or an object holding one; items may be strings or objects.
  function normalise(data) {
    var found = Array.isArray(data) ? data : (data && (data.suggestions || data.results || data.items || data.hits)) || [];
    var out = [];
    for (var i = 0; i < found.length && out.length < 8; i += 1) {
      var x = found[i];
      if (typeof x === "string") {
        out.push({ label: x, url: null, type: "" });
      } else if (x && typeof x === "object") {
        var label = x.label || x.title || x.name || x.text || x.value || "";
        var href = x.url || x.href || x.page || pageFor(x.iri || x.id);
        if (typeof href === "string" && href.charAt(0) !== "/") {
          href = pageFor(href);  // only links on this site
        }
        if (label) {
          out.push({ label: String(label), url: href || null, type: String(x.type || x.kind || "") });
        }
      }
    }
    return out;
  }

  function close() {
    items = [];
    active = -1;
    list.textContent = "";
    list.hidden = true;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
  }

  function choose(index) {
    var item = items[index];
    if (!item) {
      return;
    }
    if (item.url) {
      window.location.assign(item.url);
    } else {
      input.value = item.label;
      close();
      input.form.submit();
    }
  }

  function show() {
    list.textContent = "";
    items.forEach(function (item, index) {
      var option = document.createElement("li");
      option.id = "q-option-" + index;
      option.setAttribute("role", "option");
      option.setAttribute("aria-selected", index === active ? "true" : "false");
      var label = document.createElement("span");
      label.textContent = item.label;
      option.appendChild(label);
      if (item.type) {
        var type = document.createElement("span");
        type.className = "type";
        type.textContent = types[item.type] || item.type;
        option.appendChild(type);
      }
      option.addEventListener("mousedown", function (event) {
        event.preventDefault();  // keep the focus in the field
        choose(index);
      });
      list.appendChild(option);
    });
    list.hidden = items.length === 0;
    input.setAttribute("aria-expanded", items.length ? "true" : "false");
    if (active >= 0) {
      input.setAttribute("aria-activedescendant", "q-option-" + active);
    } else {
      input.removeAttribute("aria-activedescendant");
    }
    if (status) {
      status.textContent = items.length ? countText.replace("{n}", String(items.length)) : "";
    }
  }

  function fetchSuggestions() {
    var text = input.value.trim();
    var mine = ++sequence;
    if (text.length < 2) {
      close();
      return;
    }
    var target = url + (url.indexOf("?") >= 0 ? "&" : "?") + "q=" + encodeURIComponent(text);
    fetch(target, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        return response.ok ? response.json() : [];
      })
      .then(function (data) {
        if (mine !== sequence) {
          return;  // a later keystroke has its own request
        }
        items = normalise(data);
        active = -1;
        show();
      })
      .catch(function () {
        close();
      });
  }

  input.addEventListener("input", function () {
    window.clearTimeout(timer);
    timer = window.setTimeout(fetchSuggestions, 150);
  });

  input.addEventListener("keydown", function (event) {
    if (event.key === "ArrowDown" && items.length) {
      event.preventDefault();
      active = (active + 1) % items.length;
      show();
    } else if (event.key === "ArrowUp" && items.length) {
      event.preventDefault();
      active = active <= 0 ? items.length - 1 : active - 1;
      show();
    } else if (event.key === "Enter" && active >= 0) {
      event.preventDefault();
      choose(active);
    } else if (event.key === "Escape" && !list.hidden) {
      event.preventDefault();
      close();
    }
  });

  input.addEventListener("blur", function () {
    window.setTimeout(close, 150);
  });
})();
