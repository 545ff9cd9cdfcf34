// Reading aids that need the page's real size or a click:
// * a table or display formula wider than the column scrolls sideways (CSS); this marks it
//   (class kb-scroll--more: a shaded right edge) and puts a hint under it, kept up to date
//   when the window is resized;
// * figures (build-time figures of pages and notebook outputs) open enlarged on click in
//   GLightbox (docs/assets/glightbox, loaded by overrides/main.html on pages with images),
//   their alt text as the caption.
(function () {
  "use strict";

  var SCROLLERS = ".md-typeset .md-typeset__scrollwrap, .md-typeset .kb-math--block, .jupyter-wrapper .jp-RenderedHTMLCommon table";
  var HINT = { table: "표가 넓습니다. 옆으로 밀어 나머지 열을 보세요", math: "수식이 넓습니다. 옆으로 밀어 끝까지 보세요" };

  function hintFor(el) {
    var next = el.nextElementSibling;
    if (next && next.classList.contains("kb-scroll-hint")) return next;
    var hint = document.createElement("p");
    hint.className = "kb-scroll-hint";
    hint.setAttribute("aria-hidden", "true");
    hint.textContent = el.classList.contains("kb-math--block") ? HINT.math : HINT.table;
    el.insertAdjacentElement("afterend", hint);
    return hint;
  }

  function mark(el) {
    var more = el.scrollWidth - el.clientWidth > 1;
    el.classList.toggle("kb-scroll--more", more);
    if (more) hintFor(el);
  }

  function init() {
    var els = document.querySelectorAll(SCROLLERS);
    if (!els.length) return;
    var observer = "ResizeObserver" in window ? new ResizeObserver(function (entries) {
      entries.forEach(function (e) { mark(e.target); });
    }) : null;
    els.forEach(function (el) {
      if (el.tagName === "TABLE") {  // notebook tables: a scrolling wrapper, unless Material gave one
        if (el.closest(".md-typeset__scrollwrap")) return;
        var wrap = document.createElement("div");
        wrap.className = "md-typeset__scrollwrap kb-scrollwrap";
        el.parentNode.insertBefore(wrap, el);
        wrap.appendChild(el);
        el = wrap;
      }
      mark(el);
      if (observer) observer.observe(el);
    });
  }

  var FIGURES = ".md-typeset .kb-figure img, .jupyter-wrapper .jp-RenderedImage img";

  function escapeHtml(text) {
    return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
  }

  function zoomable() {
    var imgs = document.querySelectorAll(FIGURES);
    if (!imgs.length || typeof window.GLightbox !== "function") return;
    imgs.forEach(function (img) {
      if (img.closest("a")) return;
      var link = document.createElement("a");
      link.className = "kb-zoom";
      link.href = img.currentSrc || img.src;
      link.setAttribute("data-type", "image");
      // GLightbox writes the description as HTML: the alt text goes in as text
      link.setAttribute("data-description", escapeHtml(img.alt || ""));
      link.setAttribute("aria-label", "그림 크게 보기" + (img.alt ? ": " + img.alt : ""));
      img.parentNode.insertBefore(link, img);
      link.appendChild(img);
    });
    window.GLightbox({ selector: ".kb-zoom", touchNavigation: true, loop: false, zoomable: true,
                       openEffect: "zoom", closeEffect: "zoom" });
  }

  function start() { init(); zoomable(); }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
