// The proof-of-work widget (static/vendor/altcha, its CSP build: no inline
// styles, no workers from blob: URLs): register its SHA worker, from this
// site, give it the page's words, then start the calculation.
// Runs after altcha.min.js (module scripts run in order).
for (const words of document.querySelectorAll("[data-needs-script]")) {
  words.hidden = true;  // scripts run: the widget does the work
}
const widgets = document.querySelectorAll("altcha-widget");
for (const widget of widgets) {
  const worker = widget.getAttribute("data-worker");
  for (const algorithm of ["SHA-256", "SHA-384", "SHA-512"]) {
    globalThis.$altcha.algorithms.set(algorithm, () => new Worker(worker));
  }
  // Lower case: the widget looks its words up by the lower-cased tag.
  const language = (widget.getAttribute("language") || "en").toLowerCase();
  const words = JSON.parse(widget.getAttribute("data-strings") || "{}");
  globalThis.$altcha.i18n.set(language, {
    ...globalThis.$altcha.i18n.get("en"),
    ...words,
  });
  widget.configure({ hideFooter: true, hideLogo: true, language: language });
  widget.verify();
}
