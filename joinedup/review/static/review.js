// Keyboard actions of the review UI. The keys press the page's own buttons and links, so a key does exactly
// what a click does (a form post carrying the CSRF token), and nothing happens twice while a page loads.
(function () {
  "use strict";
  var body = document.body;
  var page = body.dataset.page;
  var busy = false;

  function go(url) {
    if (url && !busy) { busy = true; window.location.assign(url); }
  }
  function submit(id) {
    var form = document.getElementById(id);
    var button = form && form.querySelector("button");
    if (!form || busy || (button && button.disabled)) { return; }
    busy = true;
    form.requestSubmit ? form.requestSubmit() : form.submit();
  }

  document.addEventListener("keydown", function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey || e.isComposing) { return; }
    var t = e.target;
    if (t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName))) { return; }
    var k = e.key;
    if (page === "queue") {
      if (k === "Enter" || k === "j" || k === "ArrowRight") { go(body.dataset.first); e.preventDefault(); }
      else if (k === "u") { submit("form-undo"); e.preventDefault(); }
      return;
    }
    if (page !== "item") { return; }
    var handled = true;
    if (k === "a") { submit("form-accept"); }
    else if (k === "r") { submit("form-reject"); }
    else if (k === "u") { submit("form-undo"); }
    else if (k === "s" || k === "j" || k === "ArrowRight") { go(body.dataset.next || body.dataset.queue); }
    else if (k === "k" || k === "ArrowLeft") { go(body.dataset.prev); }
    else if (k === "q") { go(body.dataset.queue); }
    else { handled = false; }
    if (handled) { e.preventDefault(); }
  });
  window.addEventListener("pageshow", function () { busy = false; });
}());
