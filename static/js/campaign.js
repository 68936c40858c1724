// Progressive enhancement only: every page works without this file.
(function () {
  "use strict";

  // Keep the signature count live by polling the cacheable count.json.
  function liveCount(box) {
    var url = box.getAttribute("data-count-url");
    var number = box.querySelector("[data-count]");
    var words = box.querySelector("[data-count-words]");
    var lang = document.documentElement.lang;
    var plurals = window.Intl && Intl.PluralRules && new Intl.PluralRules(lang);
    var bar = box.querySelector("progress");
    if (!url || !number) return;
    function refresh(cache) {
      fetch(url, { credentials: "omit", cache: cache || "default" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) {
          if (!data) return;
          // The server writes it in the page's digits (Chromium has no Pashto).
          number.textContent = data.count_text || data.count.toLocaleString(lang);
          // The page carries both forms of the words after the count.
          if (words && plurals) {
            var form = plurals.select(data.count) === "one" ? "data-one" : "data-other";
            words.textContent = words.getAttribute(form);
          }
          // A stepping goal may have moved on (campaign/petition/goals.py).
          if (bar) { bar.max = data.goal; bar.value = Math.min(data.count, data.goal); }
        })
        .catch(function () {});
    }
    // A cached page may be seconds old: bring the count up to date at once,
    // asking past the browser's own copy of count.json, which may be older
    // than the page (a conditional request: a 304 while nothing moved).
    refresh("no-cache");
    setInterval(refresh, 15000);
  }

  // A cached donate page is the same for everyone, so each view of it gets
  // its own Stripe idempotency key here (without JavaScript the server tells
  // donors apart by address too: campaign/donate/services.py).
  function freshAttempt(input) {
    if (!window.crypto || !crypto.getRandomValues) return;
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    input.value = Array.prototype.map.call(bytes, function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
  }

  // A "copy" button beside the share link, named by the field's label (or
  // by data-copy): every word comes from the page, translated there.
  function copyButton(input) {
    if (!navigator.clipboard) return;
    var button = document.createElement("button");
    button.type = "button";
    button.textContent = input.labels.length
      ? input.labels[0].textContent
      : input.getAttribute("data-copy");
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(input.value).then(function () {
        button.textContent = "\u2713 " + button.textContent.replace(/^\u2713 /, "");
      });
    });
    input.insertAdjacentElement("afterend", button);
  }

  // A broadcast's progress, live while it is being sent.
  function liveProgress(box) {
    var url = box.getAttribute("data-progress-url");
    var bar = box.querySelector("progress");
    function refresh() {
      fetch(url, { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) {
          if (!data) return;
          box.querySelectorAll("[data-field]").forEach(function (el) {
            var value = data[el.getAttribute("data-field")];
            // Numbers in the page's language, as the server wrote them.
            el.textContent = typeof value === "number"
              ? value.toLocaleString(document.documentElement.lang)
              : value;
          });
          if (bar) bar.value = data.percent;
          if (data.state === "sending") setTimeout(refresh, 2000);
        })
        .catch(function () { setTimeout(refresh, 5000); });
    }
    refresh();
  }

  // After a refused form, start at the list of what to fix (autofocus does
  // this without JavaScript in most browsers); its links focus their field.
  function errorSummary(box) {
    box.focus();
  }

  // A link to a form field (the error summary's, "Sign the petition") puts
  // the cursor in it, not only the field in view.
  function focusFieldLink(link) {
    link.addEventListener("click", function () {
      var target = document.getElementById(link.getAttribute("href").slice(1));
      if (target && /^(INPUT|SELECT|TEXTAREA)$/.test(target.tagName)) {
        setTimeout(function () { target.focus(); }, 0);
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-error-summary]").forEach(errorSummary);
    document.querySelectorAll('.error-summary a[href^="#"], .jump a[href^="#"]')
      .forEach(focusFieldLink);
    document.querySelectorAll("[data-progress-url]").forEach(liveProgress);
    document.querySelectorAll("[data-count-url]").forEach(liveCount);
    document.querySelectorAll("[data-copy]").forEach(copyButton);
    document.querySelectorAll('input[name="attempt"]').forEach(freshAttempt);
  });
})();
