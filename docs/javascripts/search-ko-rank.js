/*
 * The results put in order by page (see "ordering the results"), and what each result shows: its
 * "missing terms" list without the terms the rewriting added and the result lacks (Material lists
 * the query's unmatched terms under each result), names marked, a teaser cut from its text; done
 * when Material first reads the result.
 *
 * Loads after search-ko-engine.js (overrides/main.html); defines only window.kbSearchKoRank
 * (`drawn`, the answer shown last, is set by search-ko.js).
 */
(function () {
  "use strict";

  var W = window.kbSearchKoWords, RW = window.kbSearchKoRewrite, E = window.kbSearchKoEngine;
  var SEPARATOR = W.SEPARATOR, clauses = RW.clauses, lowerBound = E.lowerBound, split = E.split;

  // ---- ordering the results -----------------------------------------------------------
  //
  // lunr scores each section of a page on its own, with every query word OR'ed and the
  // title and tags boosted a thousand- and a million-fold, so one common word in a long
  // question title, or a query word that is also a tag, outranks the page that answers
  // the question. The results are put in order again here, per page, by BM25 over the whole
  // page (title, section titles, text, tags and the morpheme field of the same
  // search_index.json), with each typed word counted once however many forms of it
  // (compound parts, synonyms) were searched, and pages that list or define words rather
  // than answer (tags, glossary, section indexes, meeting notes) weighted down.

  var HEAD_BONUS = 1.5; // a word of the page's title or tags: what the page is about
  var KIND_WEIGHT = [1, 0.8, 0.6, 0.35]; // answer, meeting notes, section index, tags/glossary
  var K1 = 1.2, B = 0.75;

  function pageKind(path) {
    if (/^(tags|glossary)\//.test(path)) return 3;
    if (/^(meetings|qna|papers|lectures|notebooks)\/$/.test(path) || path === "") return 2;
    if (/^meetings\//.test(path)) return 1;
    return 0;
  }

  // weighted count of the page's tokens that start with `term` (the prefix match lunr does)
  function prefixCount(list, counts, term) {
    var sum = 0;
    for (var i = lowerBound(list, term); i < list.length && list[i].lastIndexOf(term, 0) === 0; i++) sum += counts.get(list[i]);
    return sum;
  }

  function termFrequency(page, term) {
    return prefixCount(page.sorted, page.tf, term);
  }

  function documentFrequency(term) {
    var engine = E.engine;
    if (!engine.df.has(term)) {
      var n = 0;
      Object.keys(engine.pages).forEach(function (p) { if (termFrequency(engine.pages[p], term)) n++; });
      engine.df.set(term, n);
    }
    return engine.df.get(term);
  }

  /** BM25 of one page for a rewritten query: each typed word scores by its best form. */
  function pageScore(path, rewrite) {
    var engine = E.engine, page = engine.pages[path];
    if (!page) return 0;
    var best = {};
    Object.keys(rewrite.concept).forEach(function (term) {
      if (SEPARATOR.test(term)) return; // scored by its parts
      var tf = termFrequency(page, term);
      if (!tf) return;
      var df = documentFrequency(term);
      var idf = Math.log(1 + (engine.count - df + 0.5) / (df + 0.5));
      var norm = tf * (K1 + 1) / (tf + K1 * (1 - B + B * page.length / engine.avgLength));
      if (prefixCount(page.headSorted, page.head, term)) norm += HEAD_BONUS;
      var c = rewrite.concept[term];
      best[c] = Math.max(best[c] || 0, idf * norm);
    });
    var score = 0;
    Object.keys(best).forEach(function (c) { score += best[c]; });
    return score * KIND_WEIGHT[pageKind(path)];
  }

  // Missing words Material lists under a result: not those the page matches in another form.
  // `hidden`: the page's other sections, not shown (bestSections), whose matches count too.
  function dropFoundTerms(group, rewrite, path, hidden) {
    var found = new Set();
    var engine = E.engine, page = engine && engine.pages[path];
    var all = hidden ? group.concat(hidden) : group;
    Object.keys(rewrite.concept).forEach(function (term) {
      if (all.some(function (item) { return item.terms && item.terms[term]; }) ||
          (page && !SEPARATOR.test(term) && termFrequency(page, term)))
        found.add(rewrite.concept[term]);
    });
    group.forEach(function (item) {
      Object.keys(item.terms || {}).forEach(function (term) {
        var c = rewrite.concept[term];
        if (!item.terms[term] && (c === undefined || found.has(c) || rewrite.added.indexOf(term) >= 0))
          delete item.terms[term];
      });
    });
  }

  // Sections shown under a page in the results (Material lists every matching one, most hidden
  // under "N more on this page"). The rewritten query matches more forms of each word, so more
  // sections match; drawing them all made the results' DOM 1.8 times stock Material's and the
  // time from keystroke to results twice as long. The best ones by lunr's score are kept.
  var MAX_SECTIONS = 4;

  function bestSections(group) {
    var head = group[0].location.indexOf("#") < 0 ? [group[0]] : [];
    var sections = group.slice(head.length);
    if (sections.length <= MAX_SECTIONS) return group;
    var best = sections.slice().sort(function (a, b) { return (b.score || 0) - (a.score || 0); })
      .slice(0, MAX_SECTIONS);
    return head.concat(sections.filter(function (item) { return best.indexOf(item) >= 0; }));
  }

  // A section's text in the results: the part around its first highlighted word, not the whole
  // section (Material draws all of it; a long section filled the screen and its drawing was most
  // of the time from keystroke to results). Cuts fall between tags and entities, never in them;
  // an element left open is closed by the HTML parser, so no markup can be made.
  var TEASER = 320, BEFORE = 80;

  function safeCut(text, at, forward) {
    var open = text.lastIndexOf("<", at), close = text.lastIndexOf(">", at);
    if (open > close) at = forward ? text.indexOf(">", at) + 1 || text.length : open; // inside a tag
    var amp = text.lastIndexOf("&", at), semi = text.lastIndexOf(";", at);
    if (amp > semi && at - amp < 10) at = forward ? text.indexOf(";", at) + 1 || text.length : amp;
    return at;
  }

  function teaser(text) {
    if (typeof text !== "string" || text.length <= TEASER) return text;
    var mark = text.indexOf("<mark");
    var start = mark > BEFORE ? text.lastIndexOf(" ", mark - BEFORE) + 1 : 0;
    start = start > 0 ? safeCut(text, start, true) : 0;
    var end = safeCut(text, Math.min(text.length, start + TEASER), false);
    return (start > 0 ? "… " : "") + text.slice(start, end) + (end < text.length ? " …" : "");
  }

  // Material highlights the terms it was sent. Synonyms are not sent (the index holds them), so
  // a section found by another name (Adagrad, searched as 아다그라드) would show no highlight and
  // no reason why it was found. Those names are marked here, at the start of a word, in text
  // only: never inside a tag, an entity or a mark Material made.
  function unsentNames(rewrite) {
    var sent = String(rewrite.query || "").toLowerCase().split(/\s+/).filter(Boolean);
    return Object.keys(rewrite.concept || {}).filter(function (name) {
      return name.length >= 2 && !SEPARATOR.test(name) && !/^[+-]/.test(name) &&
        !sent.some(function (t) { return name.lastIndexOf(t, 0) === 0; });
    });
  }

  function namePattern(names) {
    return names.length ? new RegExp("(^|[^0-9a-z_\\uac00-\\ud7a3])(" + names.map(function (n) {
      return n.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    }).join("|") + ")", "gi") : null;
  }

  function allNames(rewrite) {
    var sent = clauses(rewrite.query);
    return sent.concat(Object.keys(rewrite.concept || {}).filter(function (name) {
      return name.length >= 2 && !SEPARATOR.test(name) && sent.indexOf(name) < 0;
    }));
  }

  function markNames(text, names) {
    return markPattern(text, namePattern(names));
  }

  function markPattern(text, pattern) {
    if (typeof text !== "string" || !pattern) return text;
    var inMark = false;
    return text.split(/(<[^>]*>|&#?[0-9a-z]+;)/i).map(function (part, i) {
      if (i % 2) { // a tag or an entity
        if (/^<mark\b/i.test(part)) inMark = true;
        else if (/^<\/mark>/i.test(part)) inMark = false;
        return part;
      }
      return inMark ? part : part.replace(pattern, "$1<mark>$2</mark>");
    }).join("");
  }

  // A query can match hundreds of pages, and Material draws ten at a time (more on scrolling).
  // What only the drawing needs (missing words, marks, teasers: most of the time of ordering
  // 300 pages) is done for a page's results when Material first reads one of them.
  var LAZY = ["title", "text", "terms"];

  function later(group, prepare) {
    var raw = group.map(function (item) {
      var copy = {};
      Object.keys(item).forEach(function (key) { copy[key] = item[key]; });
      return copy;
    });
    var done = false;
    group.forEach(function (item, i) {
      LAZY.forEach(function (key) {
        Object.defineProperty(item, key, {
          configurable: true, enumerable: true,
          get: function () {
            if (!done) { done = true; prepare(raw); }
            return raw[i][key];
          },
          set: function (value) { raw[i][key] = value; }
        });
      });
    });
  }

  // An answer made from the engine (search-ko-find.js) is found and ranked without the entries' text (search-ko-text.js) and shown
  // at once: a section drawn before its text came shows none, and the answer is shown again, the
  // same, when the text of what was drawn has come. The text of the sections Material draws first
  // (FIRST_PAGES pages) is asked for before the answer is shown, the rest after.
  var FIRST_PAGES = 10; // Material draws ten pages at once (the next four only if the ten leave room)
  var entryOf = new WeakMap(); // result item made by search-ko-find.js -> its entry's number
  var drawn = null; // the answer shown last: {missing: entries drawn without their text, again}

  function textOf(item) {
    var d = entryOf.get(item), doc = d === undefined ? null : E.engine.sections.docs[d];
    if (!doc || "text" in doc) return doc ? doc.text : undefined;
    var shown = drawn;
    if (shown && !shown.missing.length) setTimeout(function () { // once Material has drawn them all
      split.texts.need(shown.missing).then(shown.again, function () {});
    }, 0);
    if (shown) shown.missing.push(d);
    return "";
  }

  // entries (numbers) of the sections of the first FIRST_PAGES pages of `items` without their text
  function firstEntries(items) {
    var texts = split.texts, entries = [];
    items.slice(0, FIRST_PAGES).forEach(function (group) {
      group.forEach(function (item) {
        var d = entryOf.get(item);
        if (texts && d !== undefined && !texts.has(d)) entries.push(d);
      });
    });
    return entries;
  }

  /** Result groups (one per page) in order of :func:`pageScore`, lunr's order breaking ties. */
  function rank(items, rewrite, own) {
    // the worker highlights what it was sent; an answer made from the engine (`own`) is highlighted here, all of it
    var pattern = namePattern(own ? allNames(rewrite) : unsentNames(rewrite));
    var keyed = items.map(function (group, order) {
      var path = String(group[0].location).split("#")[0];
      var shown = bestSections(group);
      var hidden = group.filter(function (item) { return shown.indexOf(item) < 0; });
      later(shown, function (raw) {
        raw.forEach(function (item, i) { if (item.text === undefined) item.text = textOf(shown[i]); });
        dropFoundTerms(raw, rewrite, path, hidden);
        raw.forEach(function (item) {
          item.title = markPattern(item.title, pattern);
          item.text = teaser(markPattern(item.text, pattern));
        });
      });
      return { group: shown, score: E.engine ? pageScore(path, rewrite) : -order, order: order };
    });
    keyed.sort(function (a, b) { return (b.score - a.score) || (a.order - b.order); });
    return keyed.map(function (k) { return k.group; });
  }

  var ns = {
    K1: K1, entryOf: entryOf,
    rank: rank, teaser: teaser, markNames: markNames, firstEntries: firstEntries
  };
  Object.defineProperty(ns, "drawn", {
    enumerable: true, get: function () { return drawn; }, set: function (d) { drawn = d; }
  });
  window.kbSearchKoRank = ns;
})();
