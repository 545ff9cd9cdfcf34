/*
 * Korean queries for Material's search, without replacing its UI.
 *
 * Material sends the text of the search box to its search worker (lunr), which matches every word
 * as a prefix. A Korean word carries its particle or ending ("모멘텀이란", "정규화가", "검증에서"),
 * so the word as typed matches nothing. This script wraps the search worker, which Material creates
 * with `new Worker(url)`; the parts it uses are in the files loaded before it:
 *
 * - each query (a string message) is first read as meant when typed in a hurry (search-ko-words.js,
 *   with search-ko-query.js), then rewritten (search-ko-rewrite.js);
 * - the rewritten query is answered here, from this script's copy of the index (search-ko-engine.js),
 *   with the sections the worker would find (search-ko-find.js), and the answer reaches Material as
 *   the worker's result message would; lunr syntax, and queries typed before the copy is ready, go
 *   to the worker;
 * - results are put in order by page (search-ko-rank.js), their text fetched in chunks
 *   (search-ko-text.js).
 *
 * This file holds the wrapping, the search box's listeners and window.kbSearchKo. It must load
 * last of them, before Material's bundle (overrides/main.html does that).
 * window.kbSearchKo (normalize, find, rank, teaser, markNames, workerQuery) is exposed for tests.
 */
(function () {
  "use strict";

  var W = window.kbSearchKoWords, RW = window.kbSearchKoRewrite, E = window.kbSearchKoEngine;
  var R = window.kbSearchKoRank, F = window.kbSearchKoFind;
  var normalize = RW.normalize, workerQuery = RW.workerQuery, split = E.split;
  var needIndex = E.needIndex, receiveDocs = E.receiveDocs, whenEngine = E.whenEngine;
  var withShards = E.withShards, missing = E.missing, prefetch = E.prefetch, load = E.load;
  var fetchShards = E.fetchShards, fetchJSON = E.fetchJSON;
  var rank = R.rank, firstEntries = R.firstEntries, find = F.find, answerable = F.answerable;

  // ---- the search worker -------------------------------------------------------------

  function isQuery(message) {
    return message && typeof message === "object" && typeof message.data === "string" &&
      "type" in message;
  }

  function isResult(message) {
    return message && typeof message === "object" && message.data &&
      Array.isArray(message.data.items);
  }

  // Material's message types (src/templates/assets/javascripts/integrations/search/worker/message)
  var SETUP = 0, READY = 1;
  var HOLD_MS = 1000;

  function attach(worker) {
    var pending = []; // {rewrite, seq} of each query sent to the worker, in order
    var seq = 0, answeredSeq = 0, answers = new WeakSet(), ready = false;
    var post = worker.postMessage;
    // Material's setup message (the whole index) is held until the first answer is shown, a query
    // goes to the worker, or HOLD_MS have passed: copying it to the worker takes the page tens of
    // milliseconds at 500 pages, which the first answer need not wait for. A query for the worker
    // before Material has its index (search-lazy.js holds it for this script) waits for the setup.
    var held = null, setup = false, queued = [];
    function release() {
      if (!held) return;
      var args = held;
      held = null;
      post.apply(worker, args);
      queued.splice(0).forEach(function (waiting) { post.apply(worker, waiting); });
    }

    function show(answer) {
      answers.add(answer);
      worker.dispatchEvent(new MessageEvent("message", { data: answer }));
      setTimeout(release, 0);
    }
    function toWorker(args, rewrite, at) {
      release();
      pending.push({ rewrite: rewrite, seq: at });
      args[0] = Object.assign({}, args[0], { data: workerQuery(rewrite) });
      if (setup) return post.apply(worker, args);
      queued.push(args);
      needIndex();
      return undefined;
    }
    // Material sends no query before its worker says it is ready, which at 500 pages is seconds of
    // lunr building its index, and this script's engine does not need that index
    function sayReady() {
      if (ready) return;
      ready = true;
      worker.dispatchEvent(new MessageEvent("message", { data: { type: READY } }));
    }
    whenEngine(function () { Promise.resolve().then(sayReady); });

    worker.postMessage = function (message) {
      var args = Array.prototype.slice.call(arguments);
      if (message && message.type === SETUP && message.data && Array.isArray(message.data.docs) && !setup) {
        setup = true;
        held = args;
        receiveDocs(message.data.docs, true);
        if (queued.length) release();
        else setTimeout(release, HOLD_MS);
        return undefined;
      }
      if (!isQuery(message)) {
        release();
        return post.apply(worker, args);
      }
      var result = normalize(message.data), mine = ++seq;
      if (E.engine && !message.data.trim()) { // an empty box: no results, as the worker answers it
        answeredSeq = mine;
        var none = { type: message.type + 1, data: { items: [] } };
        Promise.resolve().then(function () { show(none); });
        return undefined;
      }
      if (!answerable(result)) {
        if (E.engine && result.concept) withShards(result, function () {}); // for ranking the worker's answer
        return toWorker(args, result, mine);
      }
      // again: shown again, now that the text of what was drawn has come (search-ko-rank.js `textOf`)
      function answer(again) {
        if (mine !== seq || (again && answeredSeq !== mine)) return; // a later query was sent meanwhile
        var found = find(result), items = rank(found.items, result, true), first = firstEntries(items);
        if (first.length) split.texts.need(first).catch(function () {});
        answeredSeq = mine;
        if (!again) window.kbSearchKo.answered += 1;
        R.drawn = { missing: [], again: function () { answer(true); } };
        var data = { type: message.type + 1, data: { items: items, suggest: found.suggest } };
        // after this call returns, as the worker's message would arrive
        Promise.resolve().then(function () { show(data); if (split.texts) split.texts.all(); });
      }
      withShards(result, function () { answer(false); }, function () { if (mine === seq) toWorker(args, result, mine); });
      return undefined;
    };
    // registered before Material's own listener, so it sees results first
    worker.addEventListener("message", function (ev) {
      if (ev.data && ev.data.type === READY) ready = true;
      if (!isResult(ev.data) || answers.has(ev.data))
        return;
      var sent = pending.shift();
      if (sent && sent.seq < answeredSeq) { // a later query was answered here already: drop this one
        ev.stopImmediatePropagation();
        return;
      }
      var rewrite = sent && sent.rewrite;
      if (!rewrite || !rewrite.concept)
        return;
      if (window.kbSearchKoPlainRanking) { // for kb/bench_search_quality.py: lunr's order
        ev.data.data.items.forEach(function (group) {
          group.forEach(function (item) {
            Object.keys(item.terms || {}).forEach(function (term) {
              if (rewrite.added.indexOf(term) >= 0 && !item.terms[term]) delete item.terms[term];
            });
          });
        });
        return;
      }
      if (!missing(E.engine, rewrite).length) {
        ev.data.data.items = rank(ev.data.data.items, rewrite);
        return;
      }
      // the ranking needs the shards of the query's terms: shown once they are loaded
      ev.stopImmediatePropagation();
      var answer = ev.data;
      withShards(rewrite, function () {
        if (sent.seq < answeredSeq) return;
        answer.data.items = rank(answer.data.items, rewrite);
        show(answer);
      }, function () { if (sent.seq >= answeredSeq) show(answer); });
    });
  }

  // kb-words.json (search-ko-words.js) is fetched when the search box is first used
  document.addEventListener("focusin", function (ev) {
    if (ev.target && ev.target.matches && ev.target.matches("input.md-search__input")) W.loadWords();
  });

  // Material searches on keyup; text pasted or composed by an IME fires only `input`.
  // (A keyup of our own after a key's input is harmless: Material searches only when the
  // box's value has changed since its last search.)
  document.addEventListener("input", function (ev) {
    var el = ev.target;
    if (el && el.matches && el.matches("input.md-search__input") && !ev.isComposing)
      el.dispatchEvent(new KeyboardEvent("keyup", { bubbles: true }));
  }, true);
  document.addEventListener("keyup", function (ev) {
    if (ev.target && ev.target.matches && ev.target.matches("input.md-search__input")) prefetch();
  }, true);
  document.addEventListener("compositionend", function (ev) {
    var el = ev.target;
    if (el && el.matches && el.matches("input.md-search__input"))
      el.dispatchEvent(new KeyboardEvent("keyup", { bubbles: true }));
  }, true);

  // Material's index is fetched when its worker is needed, not on first use (search-lazy.js)
  if (window.kbSearchLazy && window.kbSearchLazy.keep) window.kbSearchLazy.keep();
  var NativeWorker = window.Worker;
  if (typeof NativeWorker === "function") {
    var KbWorker = function (url, options) {
      var worker = arguments.length > 1 ? new NativeWorker(url, options) : new NativeWorker(url);
      if (/\/workers\/search\.[^/]*\.js/.test(String(url)))
        attach(worker);
      return worker;
    };
    KbWorker.prototype = NativeWorker.prototype;
    window.Worker = KbWorker;
  }

  // the split index's base is fetched when the search box is first used (as Material's index is)
  document.addEventListener("focusin", function (ev) {
    if (ev.target && ev.target.matches && ev.target.matches("input.md-search__input")) load();
  });
  window.kbSearchKo = {
    normalize: normalize,
    expand: W.expand, // the query's words as meant (hurried queries, issue #29)
    rank: rank,
    teaser: R.teaser,
    markNames: R.markNames,
    // whether every shard and text is loaded (asking starts loading them): tests and benchmarks then call find
    ready: function () { var shards = E.complete(); return shards && W.loaded(); }, // and kb-words.json
    find: function (q) {
      var rewrite = normalize(q);
      return E.engine && !missing(E.engine, rewrite).length ? find(rewrite) : null;
    },
    workerQuery: function (q) { return workerQuery(normalize(q)); },
    answered: 0, // queries answered here, not by the worker (for tests)
    split: { // tests/test_search_split.py: the engine from the split index against buildEngine's
      engine: function () { return E.engine; },
      fresh: function () { return split.base && split.docs ? E.splitEngine(split.docs, split.base) : null; },
      built: function () { // from the whole index, every field
        return fetchJSON("search/search_index.json").then(function (index) {
          return new Promise(function (resolve) { E.buildEngine(index, resolve); });
        });
      },
      load: function (e, q) { return Promise.all([fetchShards(e, missing(e, normalize(q))), split.texts.all()]); },
      loadAll: function (e) { return fetchShards(e, e.shards.map(function (_, k) { return k; })); },
      answer: function (e, q) {
        var saved = E.engine, rewrite = normalize(q);
        E.engine = e;
        try {
          if (!answerable(rewrite)) return null;
          if (missing(e, rewrite).length) throw new Error("search-ko.js: shards of '" + q + "' not loaded");
          var found = find(rewrite);
          return JSON.parse(JSON.stringify({ items: rank(found.items, rewrite, true), suggest: found.suggest }));
        } finally { E.engine = saved; }
      }
    },
  };
})();
