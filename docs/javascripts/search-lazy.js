/*
 * The search index is downloaded when search is first used, not on every page load.
 *
 * Material's bundle requests search/search_index.json (XMLHttpRequest) as soon as a page
 * loads, to set up its search worker; the index holds the text of every page, so every page
 * view paid for the whole archive. This script holds that one request back until the reader
 * opens search (focus in the search form, or the search toggle, which Material's keyboard
 * shortcuts and the header's search button also use), then sends it unchanged. A page opened
 * from a search result (?h=...) needs the index to highlight the terms: sent at once.
 *
 * Nothing else changes: the request, its response and Material's handling are its own.
 *
 * search-ko.js answers queries from the index split by term (search/kb/, kb/search_split.py:
 * the entries' locations and titles, the shards of what is typed, and the text of the results
 * drawn), fetched when search is first used too. It calls keep(): the request is then held until a query needs Material's
 * worker (lunr syntax), or search-ko.js cannot answer without it, and release() is called.
 * A page view fetches none of it.
 * This file must load before Material's bundle (overrides/main.html does that).
 * window.kbSearchLazy.loaded tells tests whether the index was requested.
 */
(function () {
  "use strict";

  var INDEX = /(^|\/)search\/search_index\.json([?#]|$)/;
  var held = [];
  var released = /[?&]h=/.test(location.search);
  var kept = false; // search-ko.js answers without this index: sent when it calls release()
  var open = XMLHttpRequest.prototype.open;
  var send = XMLHttpRequest.prototype.send;

  XMLHttpRequest.prototype.open = function (method, url) {
    this.kbSearchIndex = INDEX.test(String(url));
    return open.apply(this, arguments);
  };

  XMLHttpRequest.prototype.send = function () {
    if (this.kbSearchIndex && !released) {
      held.push([this, arguments]);
      return undefined;
    }
    return send.apply(this, arguments);
  };

  function release() {
    if (released) return;
    released = true;
    held.splice(0).forEach(function (request) { send.apply(request[0], request[1]); });
  }

  document.addEventListener("focusin", function (event) {
    var target = event.target;
    if (!kept && target && target.closest && target.closest("form[name=search]")) release();
  }, true);
  document.addEventListener("change", function (event) {
    if (!kept && event.target && event.target.id === "__search" && event.target.checked) release();
  }, true);

  window.kbSearchLazy = {
    release: release,
    keep: function () { kept = true; },
    get loaded() { return released; }
  };
})();
