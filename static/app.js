// Kesu: toasts only. Keep it tiny; everything else is htmx attributes on the server's HTML.
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
  });
  document.addEventListener("toast", function (e) { show(e.detail.message, e.detail.level); });
  // Nothing is lost silently: a request that never reached the server says so.
  document.addEventListener("htmx:sendError", function () {
    show(document.documentElement.lang === "en" ? "No connection: nothing was saved. Please try again."
                                                 : "网络不通，没有保存，请检查网络后重试。", "error");
  });
})();
