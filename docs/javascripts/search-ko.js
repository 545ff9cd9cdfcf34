/*
 * Korean queries for Material's search, without replacing its UI.
 *
 * Material sends the text of the search box to its search worker (lunr), which matches
 * every word as a prefix. A Korean word carries its particle or ending ("모멘텀이란",
 * "정규화가", "검증에서"), so the word as typed matches nothing. This script wraps the
 * search worker, which Material creates with `new Worker(url)`:
 *
 * - query messages (a string) are rewritten before they reach the worker: particles and
 *   endings are stripped, question words dropped (뭐야, 무엇인가요), known compounds split
 *   and joined (교차검증 <-> 교차 검증), and synonyms added (BN -> 배치 정규화, BatchNorm);
 *   English and code terms (nn.Module, add_module) pass through unchanged;
 * - result messages drop, from each result's "missing terms" list, the terms that the
 *   rewriting added and the result lacks, so a result does not claim the user typed a
 *   word they did not (Material lists the query's unmatched terms under each result).
 *
 * The search box keeps what the user typed. The vocabulary (known words, compounds,
 * synonyms) comes from kb/search_ko.py through javascripts/search-ko-data.js, and the
 * index side (the "morph" field of search_index.json) is written by the same module.
 *
 * This file must load before Material's bundle (overrides/main.html does that).
 * window.kbSearchKo.normalize(query) is exposed for tests.
 */
(function () {
  "use strict";

  var data = window.kbSearchKoData || { words: [], compounds: {}, synonyms: [] };
  var HANGUL = /[\uac00-\ud7a3]/;
  var HANGUL_TAIL = /^(.*[^\uac00-\ud7a3])([\uac00-\ud7a3]+)$/;
  var SYNTAX = /[":^~*]/; // lunr query syntax: leave such queries alone

  // Particles and endings that a query word may end with. A one-syllable suffix is cut
  // only from a word of three syllables or more (차이, 회의, 강의 stay whole).
  var SUFFIXES = [
    // particles
    "이란", "란", "이라는", "라는", "이라고", "라고", "이나", "이랑", "랑",
    "에서는", "에서의", "에서도", "에서", "에게는", "에게", "에는", "에도", "에선", "에의",
    "으로는", "으로의", "으로", "로는", "로의", "와는", "과는", "와의", "과의", "와도", "과도",
    "까지", "부터", "보다", "처럼", "만큼", "하고", "마다",
    "들은", "들이", "들을", "들의", "들에", "들",
    "이", "가", "은", "는", "을", "를", "의", "에", "와", "과", "도", "로", "만", "나", "야", "요",
    // copula and common endings of a question
    "이에요", "예요", "이야", "인가요", "인가", "인지", "이죠", "이다", "입니다", "인데",
    "가요", "나요", "까요", "죠",
    "하는", "하기", "하다", "하면", "해서", "한다", "했다", "하나요", "할까", "하려면",
    "되는", "된다", "되나요", "되면", "시키는", "적인", "적으로"
  ].sort(function (a, b) { return b.length - a.length; });

  // Whole words that only make a question (뭐야, 무엇인가요) and would match any page.
  var FILLERS = new Set([
    "뭐", "뭐야", "뭐예요", "뭐에요", "뭔가요", "뭔지", "뭐지", "뭐임", "뭐가", "뭘",
    "무엇", "무엇인가요", "무엇인지", "무엇이", "무엇을", "무엇이고", "무엇으로",
    "어떻게", "어떤", "왜", "언제", "어디", "어디에", "어디서",
    "알려줘", "알려주세요", "설명해줘", "설명해주세요", "좀", "것", "거",
    "이란", "란", "은", "는", "이", "가", "을", "를", "의", "에", "에서"
  ]);

  // Words that say little about which page is meant: dropped when the query has others.
  // (With prefix matching, 수 finds 수식 and 수렴, and 방법 is on every page.)
  var WEAK = new Set([
    "방법", "이유", "차이", "차이점", "뜻", "의미", "개념", "설명", "정리", "예시", "예제",
    "사용법", "하는", "하다", "되는", "있는", "없는", "경우", "대해", "대한", "관련", "관해"
  ]);
  function isWeak(term) {
    return WEAK.has(term) || /^[\uac00-\ud7a3]$/.test(term);
  }

  var words = new Set(data.words);
  var compounds = data.compounds || {};
  Object.keys(compounds).forEach(function (w) { words.add(w); });

  // synonym key (lowercase, no spaces or hyphens) -> index of its group
  function key(text) {
    return text.toLowerCase().replace(/[\s\-]+/g, "");
  }
  var groups = data.synonyms || [];
  var synonymOf = new Map();
  groups.forEach(function (group, i) {
    group.forEach(function (name) { synonymOf.set(key(name), i); });
  });

  function stripSuffix(word) {
    for (var round = 0; round < 2 && !words.has(word); round++) {
      var cut = null;
      for (var i = 0; i < SUFFIXES.length; i++) {
        var s = SUFFIXES[i];
        var rest = word.length - s.length;
        if (word.endsWith(s) && rest >= (s.length === 1 ? 2 : 1)) {
          cut = word.slice(0, rest);
          break;
        }
      }
      if (cut === null)
        break;
      word = cut;
    }
    return word;
  }

  // Greedy split of a long Hangul word into known words, or null (배치정규화 -> 배치, 정규화).
  function splitKnown(word) {
    if (compounds[word])
      return compounds[word].slice();
    if (word.length < 4)
      return null;
    var parts = [];
    for (var at = 0; at < word.length;) {
      var found = 0;
      for (var end = word.length; end > at + 1; end--)
        if (words.has(word.slice(at, end))) { found = end; break; }
      if (!found)
        return null;
      parts.push(word.slice(at, found));
      at = found;
    }
    return parts.length > 1 ? parts : null;
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
   * Returns { query, added }: the rewritten query and the terms (lowercase) that the
   * rewriting added (compounds split or joined, synonyms) to what was typed.
   */
  function normalize(query) {
    if (typeof query !== "string" || !query.trim() || SYNTAX.test(query))
      return { query: query, added: [] };
    var all = [];
    query.trim().split(/\s+/).forEach(function (w) { all.push.apply(all, normalizeWord(w)); });
    if (!all.length)
      return { query: query, added: [] };
    var typed = all.filter(function (t) { return !isWeak(t); });
    if (!typed.length)
      typed = all;

    var terms = [];
    var seen = new Set();
    function add(term) {
      var k = term.toLowerCase();
      if (!seen.has(k)) { seen.add(k); terms.push(term); }
    }
    typed.forEach(add);
    var typedCount = terms.length;
    // the worker splits cross-validation into cross and validation: those were typed too
    typed.forEach(function (t) {
      t.split(/[\s\-]+/).forEach(function (part) { seen.add(part.toLowerCase()); });
    });

    // compounds: split a known one, join two typed words that make one (층 정규화)
    function unsigned(t) { return !/^[+-]/.test(t); }
    typed.filter(unsigned).forEach(function (t) {
      var parts = HANGUL.test(t) ? splitKnown(t) : null;
      if (parts) parts.filter(function (p) { return !isWeak(p); }).forEach(add);
    });
    var plain = all.filter(unsigned);
    for (var i = 0; i + 1 < plain.length; i++)
      if (words.has(plain[i] + plain[i + 1]))
        add(plain[i] + plain[i + 1]);

    // synonyms: of a word, or of two typed words together (batch normalization)
    var base = terms.filter(function (t) { return !/^[+-]/.test(t); });
    var lookups = base.concat(query.trim().split(/\s+/)); // as typed too: k-fold, not only fold
    for (var j = 0; j + 1 < plain.length; j++)
      lookups.push(plain[j] + " " + plain[j + 1]);
    lookups.forEach(function (t) {
      var g = synonymOf.get(key(t));
      if (g === undefined)
        return;
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
    return { query: terms.join(" "), added: added };
  }

  // ---- the search worker -------------------------------------------------------------

  function isQuery(message) {
    return message && typeof message === "object" && typeof message.data === "string" &&
      "type" in message;
  }

  function isResult(message) {
    return message && typeof message === "object" && message.data &&
      Array.isArray(message.data.items);
  }

  function attach(worker) {
    var pending = []; // terms added to each query in flight, in order
    var post = worker.postMessage;
    worker.postMessage = function (message) {
      var args = Array.prototype.slice.call(arguments);
      if (isQuery(message)) {
        var result = normalize(message.data);
        pending.push(new Set(result.added));
        args[0] = Object.assign({}, message, { data: result.query });
      }
      return post.apply(worker, args);
    };
    // registered before Material's own listener, so it sees results first
    worker.addEventListener("message", function (ev) {
      if (!isResult(ev.data))
        return;
      var added = pending.shift();
      if (!added || !added.size)
        return;
      ev.data.data.items.forEach(function (group) {
        group.forEach(function (item) {
          if (!item.terms)
            return;
          Object.keys(item.terms).forEach(function (term) {
            if (added.has(term) && !item.terms[term])
              delete item.terms[term];
          });
        });
      });
    });
  }

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

  window.kbSearchKo = { normalize: normalize };
})();
