// Kesu: toasts, photo previews and focus after an error swap. Keep it tiny; everything else is
// htmx attributes on the server's HTML.
(function () {
  "use strict";
  function region() { return document.getElementById("toasts"); }
  function fade(el) { setTimeout(function () { el.classList.add("toast-out"); setTimeout(function () { el.remove(); }, 400); }, 4000); }
  function show(message, level) {
    var r = region(); if (!r) return;
    var el = document.createElement("div");
    el.className = "toast toast-" + (level || "ok");
    el.setAttribute("role", level === "error" ? "alert" : "status");
    el.textContent = message;  // text, never HTML
    r.appendChild(el); fade(el);
  }
  document.addEventListener("DOMContentLoaded", function () {
    var r = region(); if (r) Array.prototype.forEach.call(r.children, fade);
    // A row of tabs wider than a phone scrolls sideways: bring the current tab into view.
    Array.prototype.forEach.call(document.querySelectorAll(".tabs, .subnav"), function (nav) {
      var on = nav.querySelector("[aria-current=page]");
      if (!on || nav.scrollWidth <= nav.clientWidth) return;
      var left = on.getBoundingClientRect().left - nav.getBoundingClientRect().left + nav.scrollLeft;
      nav.scrollLeft = left - (nav.clientWidth - on.offsetWidth) / 2;
    });
  });
  document.addEventListener("toast", function (e) { show(e.detail.message, e.detail.level); });
  // The tab comes back into view (a phone unlocked, a window raised): parts that keep
  // themselves fresh (the bell) listen for "kesu:visible" and ask the server again.
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") document.dispatchEvent(new CustomEvent("kesu:visible"));
  });
  // Photos: each pick becomes a preview holding its own (hidden) file input, and a fresh empty
  // input takes its place, so the camera can be used several times for one complaint.
  document.addEventListener("change", function (e) {
    var input = e.target;
    if (!input.matches || !input.matches("input[type=file][data-multi]") || !input.files.length) return;
    var box = document.getElementById("previews"); if (!box) return;
    var fresh = input.cloneNode(); fresh.value = "";
    input.parentNode.insertBefore(fresh, input);
    var item = document.createElement("div"); item.className = "preview";
    Array.prototype.forEach.call(input.files, function (file, i) {
      if (i > 0) return;
      if (/^image\//.test(file.type)) {
        var img = document.createElement("img"); img.alt = file.name;
        img.src = URL.createObjectURL(file); item.appendChild(img);
      } else {
        var span = document.createElement("span"); span.className = "file-name"; span.textContent = file.name; item.appendChild(span);
      }
    });
    if (input.files.length > 1) {
      var more = document.createElement("span"); more.className = "file-name";
      more.textContent = "+" + (input.files.length - 1); item.appendChild(more);
    }
    var remove = document.createElement("button"); remove.type = "button"; remove.className = "preview-remove";
    remove.textContent = box.getAttribute("data-remove-label") || "×";
    remove.addEventListener("click", function () { item.remove(); });
    item.appendChild(remove);
    item.appendChild(input);
    box.appendChild(item);
  });
  // Intake: words in "what happened" that suggest a safety issue (the list is the server's, in
  // data-words) show a hint next to the safety box until it is ticked. A hint only.
  function safetyHint() {
    var hint = document.getElementById("safety-hint"), content = document.querySelector("textarea[name=content]");
    if (!hint || !content) return;
    var text = content.value, box = document.querySelector("input[name=safety]");
    var found = hint.getAttribute("data-words").split("|").filter(function (w) { return w && text.indexOf(w) >= 0; });
    found = found.filter(function (w) { return !found.some(function (o) { return o !== w && o.indexOf(w) >= 0; }); });
    hint.querySelector(".safety-found").textContent = found.join("、");
    hint.hidden = !found.length || (box && box.checked);
  }
  ["input", "change"].forEach(function (kind) {
    document.addEventListener(kind, function (e) { if (e.target.name === "content" || e.target.name === "safety") safetyHint(); });
  });
  // After a form comes back with messages (422), bring the first one into view.
  document.addEventListener("htmx:afterSwap", function (e) {
    if (!e.detail.xhr || e.detail.xhr.status !== 422) return;
    var bad = document.querySelector("[aria-invalid=true], .has-error input, .has-error");
    if (bad) { bad.scrollIntoView({block: "center"}); if (bad.focus) bad.focus({preventScroll: true}); }
  });
  // Nothing is lost silently: a request that never reached the server says so.
  document.addEventListener("htmx:sendError", function () {
    show(document.documentElement.lang === "en" ? "No connection: nothing was saved. Please try again."
                                                 : "网络不通，没有保存，请检查网络后重试。", "error");
  });
})();
