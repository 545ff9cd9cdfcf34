/*
 * The worker's answer to a rewritten query, made from the engine (search-ko-engine.js): the sections
 * the worker would find, in its result message's shape (see "finding the results").
 *
 * Loads after search-ko-rank.js (overrides/main.html); defines only window.kbSearchKoFind.
 */
(function () {
  "use strict";

  var W = window.kbSearchKoWords, RW = window.kbSearchKoRewrite, E = window.kbSearchKoEngine;
  var R = window.kbSearchKoRank;
  var SEPARATOR = W.SEPARATOR, clauses = RW.clauses, tokens = E.tokens, lowerBound = E.lowerBound;
  var K1 = R.K1, entryOf = R.entryOf;

  // ---- finding the results -----------------------------------------------------------
  //
  // Material's worker (lunr) finds every section with a token that starts with a query term,
  // in its title, text, tags or the two fields kb/search_index.py adds, highlights all of them
  // and sends them back; Material then draws ten pages of results at a time. At 500 pages that
  // was half the time from keyup to results (55 of 110 ms, measured in Chromium), and the
  // highlighting was done for hundreds of pages nobody sees. The same match is made here, from
  // an inverted index of the same fields of the copy of the index this script holds for ranking,
  // and only the sections Material draws are highlighted (search-ko-rank.js `later`). The answer has the
  // worker's shape ({items: one array per page, suggest}) and reaches Material as the worker's
  // message would. Queries in lunr's syntax (+, -, field:, ~, ^, *, quotes) and the unordered
  // benchmark mode still go to the worker, which is then sent Material's index (search-lazy.js);
  // the engine is made from the index split by term (search-ko-engine.js), and Material is told
  // its worker is ready as soon as the engine is (search-ko.js `attach`).

  // calls fn(section, weighted count) for every token of the index that starts with `term`
  function eachPosting(term, fn) {
    var engine = E.engine, list = engine.sections.tokens;
    for (var i = lowerBound(list, term); i < list.length && list[i].lastIndexOf(term, 0) === 0; i++) {
      var p = engine.sections.postings.get(list[i]);
      for (var j = 0; j < p.length; j += 2) fn(p[j], p[j + 1]);
    }
  }

  function answerable(rewrite) {
    return !!(E.engine && rewrite.concept && !window.kbSearchKoPlainRanking &&
      clauses(rewrite.query).length && !/(^|\s)[+-]/.test(rewrite.query));
  }

  /**
   * The worker's answer to a rewritten query, from this script's index: sections that match a
   * query term, grouped by page (each page with its own entry, as the worker sends them),
   * scored by every form of each typed word (its best form counts), highest first.
   */
  function find(rewrite) {
    var engine = E.engine, terms = clauses(rewrite.query), hits = new Map();
    terms.forEach(function (term) {
      eachPosting(term, function (d) {
        var hit = hits.get(d);
        if (!hit) hits.set(d, hit = { matched: {}, best: {} });
        hit.matched[term] = true;
      });
    });
    var count = engine.sections.docs.length;
    Object.keys(rewrite.concept).forEach(function (form) {
      if (SEPARATOR.test(form)) return; // scored by its parts
      var tf = new Map();
      eachPosting(form, function (d, n) { tf.set(d, (tf.get(d) || 0) + n); });
      var idf = Math.log(1 + (count - tf.size + 0.5) / (tf.size + 0.5)), c = rewrite.concept[form];
      tf.forEach(function (n, d) {
        var hit = hits.get(d);
        if (hit) hit.best[c] = Math.max(hit.best[c] || 0, idf * n * (K1 + 1) / (n + K1));
      });
    });
    var groups = new Map();
    hits.forEach(function (hit, d) {
      var doc = engine.sections.docs[d], path = doc.location.split("#")[0];
      var item = section(d, 0, {}), matched = 0;
      terms.forEach(function (t) { item.terms[t] = !!hit.matched[t]; matched += item.terms[t] ? 1 : 0; });
      Object.keys(hit.best).forEach(function (c) { item.score += hit.best[c]; });
      // the worker's boost: a page's own entry, and one that has every term, first (Material
      // shows the sections scored below a page's best one under "more", and the page's teaser
      // only when it is the best)
      var boost = (doc.location.indexOf("#") < 0 ? 1 : 0) + matched / terms.length;
      item.score *= 1 + boost * boost;
      (groups.get(path) || groups.set(path, []).get(path)).push(item);
    });
    var items = [];
    groups.forEach(function (group, path) {
      group.sort(function (a, b) { return b.score - a.score; });
      var own = engine.sections.articles.get(path);
      if (!group.some(function (item) { return item.location === path; }) && own !== undefined)
        group.push(section(own, 0, {}));
      items.push(group);
    });
    items.sort(function (a, b) { return b[0].score - a[0].score; });
    return { items: items, suggest: suggest(items, terms) };
  }

  // entry d as the worker sends it; its text, if its chunk has not come, is read when it is drawn
  function section(d, score, terms) {
    var doc = E.engine.sections.docs[d];
    var item = { location: doc.location, title: doc.title, text: doc.text, score: score, terms: terms };
    if (doc.tags) item.tags = doc.tags.slice();
    entryOf.set(item, d);
    return item;
  }

  // search.suggest: the worker completes the last word from the best section whose title holds
  // every query term; so does this.
  function suggest(items, terms) {
    var best = null;
    items.forEach(function (group) {
      group.forEach(function (item) {
        if (best && best.score >= item.score) return;
        var title = tokens(item.title);
        if (terms.every(function (t) { return title.some(function (w) { return w.lastIndexOf(t, 0) === 0; }); }))
          best = { score: item.score, title: title };
      });
    });
    if (!best) return [];
    return terms.map(function (t) {
      return best.title.filter(function (w) { return w.lastIndexOf(t, 0) === 0; })[0];
    });
  }

  window.kbSearchKoFind = { find: find, answerable: answerable };
})();
