/*
 * The engine: this script's copy of the search index, which search-ko-find.js answers queries from
 * and search-ko-rank.js orders results by. Made from the index split by term (kb/search_split.py,
 * fetched when the search box is first used), holding the shards of the terms queried so far; or,
 * without it, from the entries Material sends its worker (buildEngine).
 *
 * Loads after search-ko-rewrite.js and search-ko-text.js (overrides/main.html); defines only
 * window.kbSearchKoEngine: `engine` is the engine once made (null before; tests swap in their own),
 * `split` what was fetched of the split index.
 */
(function () {
  "use strict";

  var W = window.kbSearchKoWords, RW = window.kbSearchKoRewrite;
  var data = W.data, SEPARATOR = W.SEPARATOR, normalize = RW.normalize, clauses = RW.clauses;

  var FIELD_WEIGHT = { title: 2, text: 1, morph: 1 }; // section titles, text, morphemes
  var engine = null; // {pages: {path: page}, count, avgLength}, built from the index on first use
  var loading = null;

  function tokens(text) {
    return String(text || "").replace(/<[^>]*>/g, " ").replace(/&[a-z]+;|&#\d+;/g, " ")
      .toLowerCase().split(SEPARATOR).filter(Boolean);
  }

  // The engine is built in slices of about SLICE_MS, so that the page stays responsive while
  // the index is read (at 500 pages about two seconds of work in one piece): queries typed
  // meanwhile go to the worker. Each field of each entry is split into tokens once, for both
  // the page ranking (pages, search-ko-rank.js) and the answers made here (sections, search-ko-find.js).
  var SLICE_MS = 12;

  function buildEngine(index, done) {
    var docs = (index.docs || []).filter(function (doc) { return typeof doc.location === "string"; });
    var pages = {}, postings = new Map(), articles = new Map(), next = 0;

    function addEntry(doc, d) {
      var path = doc.location.split("#")[0];
      var page = pages[path] || (pages[path] = { tf: new Map(), length: 0, head: new Map() });
      var title = tokens(doc.title), text = tokens(doc.text), tags = tokens((doc.tags || []).join(" "));
      var morph = tokens(doc[data.field || "morph"]), names = tokens(doc[data.names || "syn"]);
      var code = tokens(doc.code); // the code kb/search_index.py moved out of the preview: searched as text
      if (doc.location.indexOf("#") < 0) { // the page's own entry: its title and tags
        title.concat(tags).forEach(function (t) { page.head.set(t, 1); });
        articles.set(doc.location, d);
      }
      var counts = new Map();
      function add(list, weight, toPage) {
        list.forEach(function (t) {
          counts.set(t, (counts.get(t) || 0) + weight);
          if (!toPage) return;
          page.tf.set(t, (page.tf.get(t) || 0) + weight);
          page.length += weight;
        });
      }
      add(title, FIELD_WEIGHT.title, true);
      add(text, FIELD_WEIGHT.text, true);
      add(code, FIELD_WEIGHT.text, true);
      add(morph, FIELD_WEIGHT.morph, true);
      add(tags, FIELD_WEIGHT.title, false);
      add(names, FIELD_WEIGHT.morph, false);
      counts.forEach(function (n, t) {
        var list = postings.get(t);
        if (!list) postings.set(t, list = []);
        list.push(d, n);
      });
    }

    function finish() {
      var paths = Object.keys(pages), total = 0;
      paths.forEach(function (p) {
        pages[p].sorted = Array.from(pages[p].tf.keys()).sort();
        pages[p].headSorted = Array.from(pages[p].head.keys()).sort();
        total += pages[p].length;
      });
      return { pages: pages, count: paths.length, avgLength: total / Math.max(paths.length, 1), df: new Map(),
               sections: { docs: docs, postings: postings, tokens: Array.from(postings.keys()).sort(),
                           articles: articles } };
    }

    (function slice() {
      var until = performance.now() + SLICE_MS;
      while (next < docs.length && performance.now() < until) { addEntry(docs[next], next); next++; }
      if (next < docs.length) setTimeout(slice, 0);
      else done(finish());
    })();
  }

  // The engine is made from the index split by term that kb/search_split.py writes beside it
  // (search/kb/), fetched when the search box is first used: base.json (pages, their lengths, where
  // each shard of the sorted terms starts), docs.json (each entry's location, title and tags; its
  // text, what else results show, comes in chunks for what is drawn: search-ko-text.js, kb/search_docs.py),
  // and for each query the few shards its terms fall in (see "finding the results" in search-ko-find.js); nothing is split
  // into tokens in the page. Material's
  // own index is then fetched only when its worker is needed (search-lazy.js). Without the split
  // index, the engine is built from the entries Material sends its worker (buildEngine), as before.
  var SPLIT = "search/kb/";
  var split = { base: null, docs: null, full: false, failed: false, waiting: [] };

  var siteBase = {}; // {at: the page's address, href: the site's} (a chunk of text is a fetch too)
  function siteURL(path) {
    if (siteBase.at !== location.href) {
      var config = JSON.parse((document.getElementById("__config") || {}).textContent || "{}");
      siteBase = { at: location.href, href: new URL(config.base || ".", location.href).href.replace(/\/?$/, "/") };
    }
    return new URL(path, siteBase.href);
  }

  function fetchJSON(path) {
    return fetch(siteURL(path)).then(function (r) {
      if (!r.ok) throw new Error(path + ": " + r.status);
      return r.json();
    });
  }

  function load() {
    if (loading) return loading;
    var base = fetchJSON(SPLIT + "base.json").then(function (got) { split.base = got; prefetch(); });
    var docs = fetchJSON(SPLIT + "docs.json").then(function (rows) {
      receiveDocs(rows.map(function (row) { // [location, title, tags]: a large archive's text comes in chunks
        var doc = { location: row[0], title: row[1] }, tags = row[2];
        if (!Array.isArray(tags) && row.length > 2) { doc.text = tags; tags = row[3]; } // [location, title, text, tags]
        if (tags) doc.tags = tags;
        return doc;
      }), false);
    });
    loading = Promise.all([base, docs]).catch(function () {
      split.failed = true;
      needIndex(); // Material's index: its entries make the engine (buildEngine), or finish it
    }).then(makeEngine);
    return loading;
  }

  function needIndex() {
    if (window.kbSearchLazy) window.kbSearchLazy.release();
  }

  // the entries: from docs.json, or (`full`, every field) from the worker's setup message (attach)
  function receiveDocs(docs, full) {
    if (engine && full && split.texts) split.texts.fill(docs); // their text, where a chunk has not come
    if (engine || (split.docs && (split.full || !full)) || !Array.isArray(docs)) return;
    split.docs = docs.filter(function (doc) { return doc && typeof doc.location === "string"; });
    split.full = full;
    split.texts = window.kbSearchKoText.create(fetchJSON, SPLIT + "text/", split.docs);
    makeEngine();
  }

  function makeEngine() {
    if (engine || !split.docs) return;
    var base = split.base;
    if (base && base.docs === split.docs.length && base.check[0] === split.docs[0].location &&
        base.check[1] === split.docs[split.docs.length - 1].location) {
      done(splitEngine(split.docs, base));
    } else if (split.failed && split.full && !split.building) { // no split index, or one from another build
      split.building = true;
      buildEngine({ docs: split.docs }, done);
    }
    function done(built) {
      engine = built;
      split.waiting.splice(0).forEach(function (fn) { fn(); });
    }
  }

  function whenEngine(fn) {
    if (engine) fn(); else split.waiting.push(fn);
  }

  // the first index of a sorted list whose item is not below `term`
  function lowerBound(list, term) {
    var lo = 0, hi = list.length;
    while (lo < hi) { var mid = (lo + hi) >> 1; if (list[mid] < term) lo = mid + 1; else hi = mid; }
    return lo;
  }

  // ---- the engine from the split index (kb/search_split.py) ---------------------------
  //
  // base.json gives the pages and their lengths; each shard, a run of the sorted terms with the
  // sections that have them (weighted counts), the part of those counts from the tags and names
  // (which a page's own counts leave out) and the pages whose title or tags have them. The engine
  // has the shape buildEngine gives it, holding the terms of the shards loaded so far: every term
  // that starts with a query term lies in the shards `shardsFor` names, so a query is answered as
  // the whole engine would answer it once those are loaded (`withShards`).

  function splitEngine(docs, base) {
    var pages = {}, pageOf = [], articles = new Map(), total = 0;
    base.pages.forEach(function (p) { pages[p[0]] = splitPage(p[1]); total += p[1]; });
    docs.forEach(function (doc, d) {
      pageOf.push(pages[doc.location.split("#")[0]]);
      if (doc.location.indexOf("#") < 0) articles.set(doc.location, d);
    });
    var e = { pages: pages, count: base.pages.length, avgLength: total / Math.max(base.pages.length, 1),
              df: new Map(), shards: base.shards, runs: [], loaded: 0, fetching: [], pageOf: pageOf,
              sections: { docs: docs, postings: new Map(), articles: articles } };
    Object.defineProperty(e.sections, "tokens", { get: function () { return e.joined || (e.joined = joined(e.runs)); } });
    return e;
  }

  // a page's sorted terms: its runs (one a shard) in shard order, joined when read
  function splitPage(length) {
    var page = { tf: new Map(), head: new Map(), length: length, runs: [], headRuns: [], joined: null, headJoined: null };
    Object.defineProperty(page, "sorted", { get: function () { return page.joined || (page.joined = joined(page.runs)); } });
    Object.defineProperty(page, "headSorted", { get: function () { return page.headJoined || (page.headJoined = joined(page.headRuns)); } });
    return page;
  }

  function joined(runs) {
    var out = [];
    runs.forEach(function (run) { for (var i = 0; i < run.length; i++) out.push(run[i]); });
    return out;
  }

  function undelta(list, step) {
    var out = list.slice();
    for (var i = step; i < out.length; i += step) out[i] += out[i - step];
    return out;
  }

  function addShard(e, k, entries) {
    if (e.runs[k]) return;
    var run = [];
    entries.forEach(function (entry) {
      var t = entry[0], post = undelta(entry[1], 2), x = undelta(entry[2] || [], 2), extra = new Map();
      run.push(t);
      e.sections.postings.set(t, post);
      for (var i = 0; i < x.length; i += 2) extra.set(x[i], x[i + 1]);
      for (var j = 0; j < post.length; j += 2) {
        var m = post[j + 1] - (extra.get(post[j]) || 0), page = e.pageOf[post[j]];
        if (m <= 0) continue;
        if (!page.tf.has(t)) { (page.runs[k] || (page.runs[k] = [])).push(t); page.joined = null; }
        page.tf.set(t, (page.tf.get(t) || 0) + m);
      }
      undelta(entry[3] || [], 1).forEach(function (d) {
        var page = e.pageOf[d];
        if (page.head.has(t)) return;
        (page.headRuns[k] || (page.headRuns[k] = [])).push(t);
        page.headJoined = null;
        page.head.set(t, 1);
      });
    });
    e.runs[k] = run;
    e.loaded += 1;
    e.joined = null;
  }

  // the shards that hold every term starting with `term`: the one `term` falls in, and those after
  // it whose first term starts with `term`
  function shardsFor(e, term) {
    var firsts = e.shards, at = lowerBound(firsts, term);
    var k = at < firsts.length && firsts[at] === term ? at : Math.max(0, at - 1), out = [k];
    for (var i = k + 1; i < firsts.length && firsts[i].lastIndexOf(term, 0) === 0; i++) out.push(i);
    return out;
  }

  // shards not loaded yet that a rewritten query needs: its clauses and every form counted in ranking
  function missing(e, rewrite) {
    if (!e || !e.shards) return [];
    var out = [];
    clauses(rewrite.query).concat(Object.keys(rewrite.concept || {})).forEach(function (term) {
      if (SEPARATOR.test(term)) return; // scored by its parts
      shardsFor(e, term).forEach(function (k) { if (!e.runs[k] && out.indexOf(k) < 0) out.push(k); });
    });
    return out;
  }

  function fetchShards(e, list) {
    return Promise.all(list.map(function (k) {
      return e.fetching[k] || (e.fetching[k] = shardData(k).then(
        function (entries) { addShard(e, k, entries); },
        function (err) { e.fetching[k] = null; throw err; }));
    }));
  }

  function shardData(k) {
    var raw = split.raw || (split.raw = []);
    return raw[k] || (raw[k] = fetchJSON(SPLIT + k + ".json").catch(function (err) { raw[k] = null; throw err; }));
  }

  // The shards of what is in the search box are fetched as it is typed, before Material sends the
  // query (it waits for its worker) and before the engine has the entries.
  function prefetch() {
    var box = document.querySelector("input.md-search__input");
    if (!split.base || !box || !box.value) return;
    var rewrite = normalize(box.value);
    if (rewrite.concept) missing({ shards: split.base.shards, runs: [] }, rewrite).forEach(shardData);
  }

  // fn() once the engine holds what `rewrite` needs: at once if it does; failed() if a shard cannot be had
  function withShards(rewrite, fn, failed) {
    var list = missing(engine, rewrite);
    if (!list.length) return fn();
    fetchShards(engine, list).then(fn, failed || function () {});
  }

  // every shard and every entry's text (tests and benchmarks, through kbSearchKo.ready)
  function complete() {
    if (!engine) return false;
    var texts = !split.texts || split.texts.done();
    if (!texts) split.texts.all();
    if (!engine.shards || engine.loaded === engine.shards.length) return texts;
    if (!engine.all) engine.all = fetchShards(engine, engine.shards.map(function (_, k) { return k; }))
      .catch(function () { engine.all = null; });
    return false;
  }

  var ns = {
    split: split, tokens: tokens, lowerBound: lowerBound, fetchJSON: fetchJSON,
    load: load, needIndex: needIndex, receiveDocs: receiveDocs, whenEngine: whenEngine,
    buildEngine: buildEngine, splitEngine: splitEngine,
    missing: missing, fetchShards: fetchShards, withShards: withShards, prefetch: prefetch, complete: complete
  };
  Object.defineProperty(ns, "engine", {
    enumerable: true, get: function () { return engine; }, set: function (e) { engine = e; }
  });
  window.kbSearchKoEngine = ns;
})();
