/*
 * Filters for the Q&A index (the table that `<!-- kb:qna-index -->` generates).
 *
 * Without JavaScript the whole table shows. With it, a status select and a tag select
 * appear above the table and hide the rows that do not match; the choice is kept in the
 * address (?status=open&tag=옵티마이저), so a narrowed list can be linked, and a tag in a
 * row narrows the list when clicked.
 *
 * It reads the table as kb/render.py writes it: the status is the class of
 * `span.kb-status` in the second cell (kb-status--answered / kb-status--open) and the tags
 * are the `<code>` elements of the third cell.
 */
(function () {
  "use strict";

  var STATUS_LABEL = { answered: "답변 완료", open: "답변 대기" };

  function rowData(row) {
    var cells = row.cells;
    var status = "";
    var span = cells.length > 1 ? cells[1].querySelector(".kb-status") : null;
    if (span) {
      var m = /\bkb-status--([a-z]+)\b/.exec(span.className);
      status = m ? m[1] : "";
    }
    var tags = cells.length > 2
      ? Array.prototype.map.call(cells[2].querySelectorAll("code"), function (c) {
        return c.textContent.trim();
      })
      : [];
    return { row: row, status: status, tags: tags, tagCells: cells.length > 2 ? cells[2] : null };
  }

  function option(value, label) {
    var o = document.createElement("option");
    o.value = value;
    o.textContent = label;
    return o;
  }

  function labelled(text, control) {
    var label = document.createElement("label");
    label.className = "kb-qna-filter__field";
    var span = document.createElement("span");
    span.textContent = text;
    label.appendChild(span);
    label.appendChild(control);
    return label;
  }

  function enhance(container) {
    var table = container.tagName === "TABLE" ? container : container.querySelector("table");
    if (!table || !table.tBodies.length || table.dataset.kbFilter)
      return;
    table.dataset.kbFilter = "on";
    var rows = Array.prototype.map.call(table.tBodies[0].rows, rowData);

    var statuses = Object.keys(STATUS_LABEL); // both, even when no row is open yet
    var tags = [];
    rows.forEach(function (r) {
      if (r.status && statuses.indexOf(r.status) < 0) statuses.push(r.status);
      r.tags.forEach(function (t) { if (tags.indexOf(t) < 0) tags.push(t); });
    });
    tags.sort(function (a, b) { return a.localeCompare(b, "ko"); });

    var form = document.createElement("form");
    form.className = "kb-qna-filter";
    form.setAttribute("role", "search");
    form.setAttribute("aria-label", "Q&A 목록 필터");

    var status = document.createElement("select");
    status.name = "status";
    status.appendChild(option("", "전체"));
    statuses.forEach(function (s) {
      var n = rows.filter(function (r) { return r.status === s; }).length;
      status.appendChild(option(s, (STATUS_LABEL[s] || s) + " (" + n + ")"));
    });

    var tag = document.createElement("select");
    tag.name = "tag";
    tag.appendChild(option("", "전체"));
    tags.forEach(function (t) {
      var n = rows.filter(function (r) { return r.tags.indexOf(t) >= 0; }).length;
      tag.appendChild(option(t, t + " (" + n + ")"));
    });

    var reset = document.createElement("button");
    reset.type = "reset";
    reset.className = "md-button kb-qna-filter__reset";
    reset.textContent = "필터 지우기";

    var count = document.createElement("output");
    count.className = "kb-qna-filter__count";
    count.setAttribute("aria-live", "polite");

    var empty = document.createElement("p");
    empty.className = "kb-qna-filter__empty";
    empty.textContent = "조건에 맞는 질문이 없습니다.";
    empty.hidden = true;

    form.appendChild(labelled("상태", status));
    form.appendChild(labelled("태그", tag));
    form.appendChild(reset);
    form.appendChild(count);
    container.parentNode.insertBefore(form, container);
    container.parentNode.insertBefore(empty, container.nextSibling);

    function apply(updateUrl) {
      var shown = 0;
      rows.forEach(function (r) {
        var ok = (!status.value || r.status === status.value) &&
          (!tag.value || r.tags.indexOf(tag.value) >= 0);
        r.row.hidden = !ok;
        if (ok) shown++;
      });
      count.textContent = rows.length + "개 중 " + shown + "개";
      empty.hidden = shown > 0;
      if (updateUrl) {
        var url = new URL(location.href);
        [["status", status.value], ["tag", tag.value]].forEach(function (p) {
          if (p[1]) url.searchParams.set(p[0], p[1]); else url.searchParams.delete(p[0]);
        });
        history.replaceState(history.state, "", url.toString());
      }
    }

    // start from the address, ignoring values the table does not have
    var params = new URL(location.href).searchParams;
    if (statuses.indexOf(params.get("status")) >= 0) status.value = params.get("status");
    if (tags.indexOf(params.get("tag")) >= 0) tag.value = params.get("tag");

    form.addEventListener("change", function () { apply(true); });
    form.addEventListener("submit", function (ev) { ev.preventDefault(); });
    form.addEventListener("reset", function () {
      setTimeout(function () { apply(true); }, 0); // after the form has reset its controls
    });

    // a tag in a row narrows the list to that tag
    rows.forEach(function (r) {
      if (!r.tagCells) return;
      Array.prototype.forEach.call(r.tagCells.querySelectorAll("code"), function (code) {
        var button = document.createElement("button");
        button.type = "button";
        button.className = "kb-qna-filter__tag";
        button.title = "이 태그로 거르기";
        code.parentNode.insertBefore(button, code);
        button.appendChild(code);
        button.addEventListener("click", function () {
          tag.value = code.textContent.trim();
          apply(true);
        });
      });
    });

    apply(false);
  }

  function init() {
    Array.prototype.forEach.call(document.querySelectorAll(".kb-qna-index"), enhance);
  }

  // Material re-runs scripts' work on `document$` when instant navigation is on
  if (window.document$ && typeof window.document$.subscribe === "function")
    window.document$.subscribe(init);
  else if (document.readyState === "loading")
    document.addEventListener("DOMContentLoaded", init);
  else
    init();
})();
