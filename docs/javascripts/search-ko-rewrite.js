/*
 * A query rewritten for the search (normalize), and what Material's worker is sent (workerQuery).
 *
 * The query's words as meant (search-ko-words.js `expand`) are rewritten: particles and endings
 * stripped, question words dropped (뭐야, 무엇인가요), known compounds split and joined (교차검증 <->
 * 교차 검증); English and code terms (nn.Module, add_module) pass through unchanged. Synonyms (BN ->
 * 배치 정규화, BatchNorm) are not searched: the index carries them (each entry's "syn" field holds
 * the other names of the concepts it names: kb/search_ko.py), and they count when the results are
 * put in order (search-ko-rank.js). The terms the rewriting added are listed, so that a result does
 * not claim the user typed a word they did not. The search box keeps what the user typed.
 *
 * Loads after search-ko-words.js (overrides/main.html); defines only window.kbSearchKoRewrite.
 */
(function () {
  "use strict";

  var W = window.kbSearchKoWords;
  var HANGUL = W.HANGUL, SEPARATOR = W.SEPARATOR, FILLERS = W.FILLERS, words = W.words;
  var groups = W.groups, synonymOf = W.synonymOf, key = W.key;
  var stripSuffix = W.stripSuffix, splitKnown = W.splitKnown, expand = W.expand;

  var HANGUL_TAIL = /^(.*[^\uac00-\ud7a3])([\uac00-\ud7a3]+)$/;
  var SYNTAX = /[":^~*]/; // lunr query syntax: leave such queries alone

  // Words that say little about which page is meant: dropped when the query has others.
  // (With prefix matching, 수 finds 수식 and 수렴, and 방법 is on every page.)
  var WEAK = new Set([
    "방법", "이유", "차이", "차이점", "뜻", "의미", "개념", "설명", "정리", "예시", "예제",
    "사용법", "하는", "하다", "되는", "있는", "없는", "경우", "대해", "대한", "관련", "관해"
  ]);
  function isWeak(term) {
    return WEAK.has(term) || /^[\uac00-\ud7a3]$/.test(term);
  }

  // English or code: kept, with two fixes for how the worker splits words.
  function normalizeLatin(word) {
    // the worker splits k-fold into k and fold, and k alone prefix-matches nearly everything
    if (/-/.test(word)) {
      var long = word.split("-").filter(function (part) { return part.length > 1; });
      return long.length ? [long.join("-")] : [word];
    }
    // VGG16 is written VGG-16 as often, which the index holds as vgg and 16
    var sized = /^([A-Za-z]{2,})(\d+)$/.exec(word);
    return sized ? [word, sized[1], sized[2]] : [word];
  }

  // One word of the query -> the terms to search for (none to drop it).
  function normalizeWord(word) {
    var sign = /^[+-]/.test(word) ? word[0] : "";
    word = word.slice(sign.length).replace(/^[?!.,'"“”‘’()[\]{}<>]+|[?!.,'"“”‘’\[\]{}<>]+$/g, "");
    if (!word)
      return [];
    var terms;
    var mixed = HANGUL_TAIL.exec(word); // Adagrad의, nn.Module의, BN이란, modules()는
    if (!HANGUL.test(word))
      terms = normalizeLatin(word);
    else if (mixed && !HANGUL.test(mixed[1])) {
      var tail = mixed[2];
      terms = stripSuffix("가나다" + tail) === "가나다" || FILLERS.has(tail)
        ? normalizeLatin(mixed[1].replace(/[()]+$/, ""))
        : [word];
    } else if (FILLERS.has(word) && !sign)
      terms = [];
    else
      terms = [stripSuffix(word)];
    return sign ? terms.slice(0, 1).map(function (t) { return sign + t; }) : terms;
  }

  /**
   * Rewrite a query for the search worker.
   *
   * Returns { query, added, concept }: the rewritten query (typed words and compound forms,
   * without terms another term of it already matches as a prefix), the terms (lowercase) that
   * the rewriting added to what was typed (compounds split or joined, synonyms), and every
   * form counted in ranking -> its typed word. Synonyms are in `concept` and `added` but not
   * in `query`: the index holds them (kb/search_ko.py).
   */
  function normalize(query) {
    if (typeof query !== "string" || !query.trim() || SYNTAX.test(query))
      return { query: query, added: [] };
    var all = [], pieces = expand(query);
    pieces.forEach(function (w) { all.push.apply(all, normalizeWord(w)); });
    if (!all.length)
      return { query: query, added: [] };
    var typed = all.filter(function (t) { return !isWeak(t); });
    if (!typed.length)
      typed = all;

    var terms = [];
    var seen = new Set();
    var concept = {}; // term (lowercase) -> index of the typed word it stands for
    var current = 0;
    function add(term) {
      var k = term.toLowerCase();
      if (!seen.has(k)) { seen.add(k); terms.push(term); concept[k] = current; }
    }
    typed.forEach(function (t, i) { current = i; add(t); });
    var typedCount = terms.length;
    // the worker splits cross-validation into cross and validation: those were typed too
    typed.forEach(function (t) {
      t.split(/[\s\-]+/).forEach(function (part) { seen.add(part.toLowerCase()); });
    });

    // compounds: split a known one, join two typed words that make one (층 정규화)
    function unsigned(t) { return !/^[+-]/.test(t); }
    function conceptOf(t) {
      var c = concept[t.toLowerCase()];
      return c === undefined ? typedCount : c;
    }
    typed.filter(unsigned).forEach(function (t) {
      var parts = HANGUL.test(t) ? splitKnown(t) : null;
      current = conceptOf(t);
      if (parts) parts.filter(function (p) { return !isWeak(p); }).forEach(add);
    });
    var plain = all.filter(unsigned);
    for (var i = 0; i + 1 < plain.length; i++)
      if (words.has(plain[i] + plain[i + 1])) {
        current = conceptOf(plain[i]);
        add(plain[i] + plain[i + 1]);
      }

    // synonyms: of a word, or of two typed words together (batch normalization); for ranking only
    var searched = terms.length;
    var base = terms.filter(function (t) { return !/^[+-]/.test(t); });
    var lookups = base.concat(pieces); // as typed too: k-fold, not only fold
    for (var j = 0; j + 1 < plain.length; j++)
      lookups.push(plain[j] + " " + plain[j + 1]);
    lookups.forEach(function (t) {
      var g = synonymOf.get(key(t));
      if (g === undefined)
        return;
      current = conceptOf(t.split(/\s+/)[0]);
      groups[g].forEach(function (name) {
        name.split(/[\s\-]+/).forEach(function (part) {
          // a one-letter part (the k of k-fold) would prefix-match nearly every page
          if (part.length < 2 || seen.has(part.toLowerCase()))
            return;
          add(part);
        });
      });
    });
    var added = terms.slice(typedCount).map(function (t) { return t.toLowerCase(); });
    // the worker splits terms as the index does (nn.Module -> nn, module): map the parts too
    Object.keys(concept).forEach(function (t) {
      t.split(SEPARATOR).forEach(function (part) {
        if (part && concept[part] === undefined) {
          concept[part] = concept[t];
          if (added.indexOf(t) >= 0) added.push(part);
        }
      });
    });
    return { query: covered(terms.slice(0, searched)).join(" "), added: added, concept: concept };
  }

  // The worker matches every term as a prefix, so a term that starts with another term of the
  // query (batchnorm after batch, 배치정규화 after 배치) finds nothing more; sending it only makes
  // the worker slower. Ranking still counts every form (`concept`).
  function covered(terms) {
    var plain = terms.filter(function (t) { return /^[^+-]/.test(t) && !SEPARATOR.test(t); })
      .map(function (t) { return t.toLowerCase(); });
    return terms.filter(function (t) {
      var low = t.toLowerCase();
      return /^[+-]/.test(t) || SEPARATOR.test(t) || !plain.some(function (p) {
        return p !== low && low.lastIndexOf(p, 0) === 0;
      });
    });
  }

  // The terms the worker would search: the query's words split as the index splits them.
  function clauses(query) {
    var out = [];
    String(query || "").toLowerCase().split(/\s+/).forEach(function (word) {
      word.split(SEPARATOR).forEach(function (t) { if (t && out.indexOf(t) < 0) out.push(t); });
    });
    return out;
  }

  // What the worker is sent. lunr reads a hyphen inside a word as "without" (cross-validation:
  // sections with cross and without validation, which drops the page that answers), so a rewritten
  // query's inner hyphens become spaces, as the index splits such words. Lunr syntax is left alone.
  function workerQuery(rewrite) {
    return rewrite.concept ? String(rewrite.query).replace(/([^\s-])-(?=[^\s-])/g, "$1 ") : rewrite.query;
  }

  window.kbSearchKoRewrite = { normalize: normalize, clauses: clauses, workerQuery: workerQuery };
})();
