/*
 * Korean queries for Material's search, without replacing its UI.
 *
 * Material sends the text of the search box to its search worker (lunr), which matches
 * every word as a prefix. A Korean word carries its particle or ending ("모멘텀이란",
 * "정규화가", "검증에서"), so the word as typed matches nothing. This script wraps the
 * search worker, which Material creates with `new Worker(url)`:
 *
 * - each query (a string message) is first read as meant when typed in a hurry (see "hurried
 *   queries": unspaced Korean split, other spellings of names, one wrong Korean letter; the pieces
 *   are in search-ko-query.js), then rewritten: particles and endings are stripped, question
 *   words dropped (뭐야, 무엇인가요), known compounds split and joined (교차검증 <-> 교차 검증);
 *   English and code terms (nn.Module, add_module) pass through unchanged. Synonyms (BN ->
 *   배치 정규화, BatchNorm) are not added: the index carries them (each entry's "syn" field
 *   holds the other names of the concepts it names: kb/search_ko.py), and they count when
 *   the results are put in order (see "ordering the results");
 * - the rewritten query is answered here, from this script's copy of the index, with the
 *   sections the worker would find, and the answer reaches Material as the worker's result
 *   message would (see "finding the results"); lunr syntax, and queries typed before the copy
 *   is ready, go to the worker;
 * - results are put in order by page, and each result's "missing terms" list drops the terms
 *   that the rewriting added and the result lacks, so a result does not claim the user typed
 *   a word they did not (Material lists the query's unmatched terms under each result).
 *
 * The search box keeps what the user typed. The vocabulary (known words, compounds,
 * synonyms) comes from kb/search_words.py through javascripts/search-ko-data.js, and the
 * index side (the "morph" and "syn" fields of search_index.json) is written by the same module.
 *
 * This file must load before Material's bundle, after search-ko-query.js (overrides/main.html does that).
 * window.kbSearchKo (normalize, find, rank, teaser, markNames, workerQuery) is exposed for tests.
 */
(function () {
  "use strict";

  var data = window.kbSearchKoData || { words: [], compounds: {}, synonyms: [] };
  var HANGUL = /[\uac00-\ud7a3]/;
  var HANGUL_TAIL = /^(.*[^\uac00-\ud7a3])([\uac00-\ud7a3]+)$/;
  var SYNTAX = /[":^~*]/; // lunr query syntax: leave such queries alone
  // how the index splits words (mkdocs.yml plugins.search.separator, without the entities)
  var SEPARATOR = /[\s\-,;:!?=\[\](){}<>"“”‘’\/·…「」『』]+|\.(?!\d)/;

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
    "이란", "란", "은", "는", "이", "가", "을", "를", "의", "에", "에서",
    // adverbs and verbs that only carry the question (쓰면 어떻게 돼요, 왜 써요, 뭘로 해요)
    "그냥", "대신", "다시", "점점", "많이", "무슨", "미리", "같은", "같아요", "때", "때랑", "때는",
    "뭘로", "뭐로", "해요", "해도", "하면", "했어", "했어요", "할", "할때", "해야", "하나", "돼", "돼요",
    "되나요", "되면", "되려면", "되는지", "써", "써요", "쓰는", "쓰면", "쓰나요", "오는", "나와", "나와요",
    "나서", "끝나고", "넣어", "넣어요", "있어요", "있나요", "없어요", "거예요", "건가요", "건지", "얘기", "같이"
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
  var joinedOf = new Map(); // kfold -> k-fold, batchnorm -> batch norm (kb-words.json, see "hurried queries")

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

  // ---- hurried queries (issue #29) ----------------------------------------------------
  //
  // Before the words above are read, the query is split as a member meant it: a Hangul run typed
  // without spaces (드롭아웃과배치정규화) into the words the index knows, with particles and endings
  // between them; Latin and Hangul glued together (kfold하고나서, bn을) apart; a letter typed apart
  // from its name (k fold) joined; a name spelled in Hangul (에이다그래드, 엔엘피) read as the Latin
  // name the pages write; a word one Korean letter off the index's words (모맨텀) corrected. Words
  // the index knows as typed are left alone, so careful queries read as before. The pieces are
  // in search-ko-query.js; "knows" is: a word of the query vocabulary, or the start of a word of
  // the index (search/kb-words.json, kb/search_variants.py: the index's words, fetched when the
  // search box is first used; the search matches words by their start).

  var Q = window.kbSearchKoQuery || null;
  var WORDS = "search/kb-words.json";
  var indexWords = { list: null, done: false }; // sorted; done once fetched or failed
  var sounds = {}; // consonant skeleton -> Latin names, "|"-separated

  // kb-words.json (kb/search_variants.py): the index's words, and the glossary's names as members
  // spell them (sounds; joined: k-fold, batch norm; spaced: 교차 엔트로피), fetched with the index
  // rather than with every page
  function useWords(got) {
    if (!got || got.format !== 2 || typeof got.words !== "string") return;
    var list = [], prev = "";
    got.words.split(" ").forEach(function (entry) { // front-coded: letters shared with the word before, the rest
      prev = prev.slice(0, +entry[0]) + entry.slice(1);
      list.push(prev);
    });
    indexWords.list = list;
    sounds = got.sounds || {};
    (got.joined || []).forEach(function (name) { joinedOf.set(key(name), name); });
    (got.spaced || []).forEach(function (name) {
      var parts = name.split(" "), joined = parts.join("");
      if (!compounds[joined]) { compounds[joined] = parts; words.add(joined); }
    });
  }

  function loadWords() {
    if (indexWords.started) return;
    indexWords.started = true;
    var config = JSON.parse((document.getElementById("__config") || {}).textContent || "{}");
    var base = new URL(config.base || ".", location.href).href.replace(/\/?$/, "/");
    fetch(new URL(WORDS, base)).then(function (r) { return r.ok ? r.json() : null; })
      .then(useWords)
      .catch(function () {})
      .then(function () { indexWords.done = true; });
  }
  document.addEventListener("focusin", function (ev) {
    if (ev.target && ev.target.matches && ev.target.matches("input.md-search__input")) loadWords();
  });
  var ENDINGS = new Set(["에요", "이에요", "예요", "해요", "돼요", "와요", "써요", "줘요", "봐요", "임", "함", "요",
                         "하고", "하고나서", "나서", "어요", "아요", "져요", "여요"]);
  var SUFFIX_SET = new Set(SUFFIXES);

  function indexTokens() { // sorted, lowercase; null until loaded
    return indexWords.list;
  }
  function startsSome(list, s) {
    var lo = 0, hi = list.length;
    while (lo < hi) { var mid = (lo + hi) >> 1; if (list[mid] < s) lo = mid + 1; else hi = mid; }
    return lo < list.length && list[lo].lastIndexOf(s, 0) === 0;
  }
  function knows(s) {
    var list = indexTokens(), low = s.toLowerCase();
    return words.has(s) || (list ? startsSome(list, low) : false);
  }
  var look = {
    particle: function (s) { return SUFFIX_SET.has(s) || FILLERS.has(s) || ENDINGS.has(s); },
    known: knows,
    sound: function (s) { // Latin names this Hangul spells, that the index has (not 드롭아웃이: a word)
      if (knows(stripSuffix(s))) return [];
      var list = indexTokens(), found = Q.letters(s).filter(function (l) { return list && startsSome(list, l); });
      if (!found.length && s.length >= 3 && sounds[Q.skeleton(s)])
        found = sounds[Q.skeleton(s)].split("|").filter(function (name) {
          return !list || name.split(/[\s\-]+/).every(function (w) { return w.length < 2 || startsSome(list, w); });
        });
      return found.length === 1 ? found : []; // two names of one sound: neither is meant for sure
    }
  };

  // the index's words and the vocabulary, cut to `length` syllables (typo candidates), per index
  var cut = { list: undefined, byLength: {} };
  function wordsOfLength(length) {
    var list = indexTokens();
    if (cut.list !== list) cut = { list: list, byLength: {} };
    if (!cut.byLength[length]) {
      var set = new Set(), hangul = new RegExp("^[\\uac00-\\ud7a3]{" + length + "}");
      (list || []).concat(Array.from(words)).forEach(function (t) {
        var m = hangul.exec(t);
        if (m) set.add(m[0]);
      });
      cut.byLength[length] = Array.from(set);
    }
    return cut.byLength[length];
  }

  // A word of the index one Korean letter from `word`, or null: for words of three syllables or
  // more (a two-syllable word is one letter from too many others: 폴드, 홀드).
  var TYPO_SYLLABLES = 3;
  function correct(word) {
    if (!Q || word.length < TYPO_SYLLABLES) return null;
    var found = Q.closest(word, wordsOfLength(word.length), function (w) { return words.has(w); });
    return found.length ? found[0] : null;
  }

  // A Hangul run the index does not know -> the words it stands for: known pieces, names, and
  // corrected words; a leftover syllable is dropped. Nothing known in it: the run as typed.
  function hangulPieces(run) {
    if (!Q) return [run];
    var out = [], found = false, changed = false, left = false;
    Q.segment(run, look).forEach(function (p) {
      var fixed = p.kind === "sound" ? p.names[0] : p.kind === "unknown" ? correct(p.text) : p.text;
      if (p.kind === "particle") return;
      if (!fixed && p.text.length < 2) { left = true; return; }
      found = found || !!fixed;
      changed = changed || (!!fixed && p.kind !== "known");
      out.push.apply(out, (fixed || p.text).split(/\s+/));
    });
    if (!out.length && !left) return []; // endings only (어디서와요)
    // nothing known, or one known word and a syllable nothing knows (나눠서): the run as typed
    return changed || (found && !(left && out.length === 1)) ? out : [run];
  }

  function hangulWord(word) {
    if (FILLERS.has(word) || knows(word) || knows(stripSuffix(word))) return [word];
    var names = Q && word.length >= 3 ? look.sound(word) : []; // 네스테롭: Nesterov, not 네스테로
    if (names.length) return names[0].split(/\s+/);
    var fixed = correct(word); // one wrong letter in a word the index knows whole (앙상불, 배치졍규화)
    return fixed ? [fixed] : hangulPieces(word);
  }

  function latinWord(word) { // kfold -> k-fold, unless the index has kfold
    var name = joinedOf.get(key(word));
    return name && !knows(word) ? [name] : [word];
  }

  // One space-separated word -> words as if typed apart.
  function expandWord(word) {
    if (HANGUL.test(word) && synonymOf.has(key(word))) return [word]; // a name of the synonym groups (k겹)
    if (!HANGUL.test(word)) return latinWord(word);
    if (/^[+-]/.test(word) || knows(word)) return [word];
    var runs = word.match(/[\uac00-\ud7a3]+|[^\uac00-\ud7a3]+/g);
    if (runs.length === 1) return hangulWord(word);
    var tail = runs[runs.length - 1];
    if (runs.length === 2 && !HANGUL.test(runs[0]) && (look.particle(tail) || stripSuffix("가나다" + tail) === "가나다"))
      return [word]; // Adagrad의, nn.Module의: normalizeWord reads these
    var out = [];
    runs.forEach(function (r) {
      if (/^[a-z]$/i.test(r)) return; // the k of k겹 alone would find nearly every page
      if (!HANGUL.test(r)) { out.push.apply(out, latinWord(r)); return; }
      var pieces = hangulPieces(r);
      if (!(pieces.length === 1 && pieces[0] === r && look.particle(r))) out.push.apply(out, pieces);
    });
    return out;
  }

  /** The query's words as a member meant them (see above); each is then read by normalizeWord. */
  function expand(query) {
    var raw = query.trim().split(/\s+/), out = [];
    if (window.kbSearchKoPlainQuery) return raw; // benchmarks/bench_search_quality.py: words as typed
    for (var i = 0; i < raw.length; i++) {
      var name = i + 1 < raw.length && /^[a-z]$/i.test(raw[i]) ? joinedOf.get(key(raw[i] + raw[i + 1])) : null;
      if (name) { out.push(name); i++; continue; } // k fold -> k-fold
      out.push.apply(out, expandWord(raw[i]));
    }
    return out;
  }

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

  var FIELD_WEIGHT = { title: 2, text: 1, morph: 1 }; // section titles, text, morphemes
  var HEAD_BONUS = 1.5; // a word of the page's title or tags: what the page is about
  var KIND_WEIGHT = [1, 0.8, 0.6, 0.35]; // answer, meeting notes, section index, tags/glossary
  var K1 = 1.2, B = 0.75;
  var engine = null; // {pages: {path: page}, count, avgLength}, built from the index on first use
  var loading = null;

  function pageKind(path) {
    if (/^(tags|glossary)\//.test(path)) return 3;
    if (/^(meetings|qna|papers|lectures|notebooks)\/$/.test(path) || path === "") return 2;
    if (/^meetings\//.test(path)) return 1;
    return 0;
  }

  function tokens(text) {
    return String(text || "").replace(/<[^>]*>/g, " ").replace(/&[a-z]+;|&#\d+;/g, " ")
      .toLowerCase().split(SEPARATOR).filter(Boolean);
  }

  // The engine is built in slices of about SLICE_MS, so that the page stays responsive while
  // the index is read (at 500 pages about two seconds of work in one piece): queries typed
  // meanwhile go to the worker. Each field of each entry is split into tokens once, for both
  // the page ranking (pages) and the answers made here (sections).
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
  // and for each query the few shards its terms fall in (see "finding the results"); nothing is split
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
    if (!engine.df.has(term)) {
      var n = 0;
      Object.keys(engine.pages).forEach(function (p) { if (termFrequency(engine.pages[p], term)) n++; });
      engine.df.set(term, n);
    }
    return engine.df.get(term);
  }

  /** BM25 of one page for a rewritten query: each typed word scores by its best form. */
  function pageScore(path, rewrite) {
    var page = engine.pages[path];
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
    var page = engine && engine.pages[path];
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

  // An answer made here is found and ranked without the entries' text (search-ko-text.js) and shown
  // at once: a section drawn before its text came shows none, and the answer is shown again, the
  // same, when the text of what was drawn has come. The text of the sections Material draws first
  // (FIRST_PAGES pages) is asked for before the answer is shown, the rest after.
  var FIRST_PAGES = 10; // Material draws ten pages at once (the next four only if the ten leave room)
  var entryOf = new WeakMap(); // result item made here -> its entry's number
  var drawn = null; // the answer shown last: {missing: entries drawn without their text, again}

  function textOf(item) {
    var d = entryOf.get(item), doc = d === undefined ? null : engine.sections.docs[d];
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
    // the worker highlights what it was sent; an answer made here is highlighted here, all of it
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
      return { group: shown, score: engine ? pageScore(path, rewrite) : -order, order: order };
    });
    keyed.sort(function (a, b) { return (b.score - a.score) || (a.order - b.order); });
    return keyed.map(function (k) { return k.group; });
  }

  // ---- finding the results -----------------------------------------------------------
  //
  // Material's worker (lunr) finds every section with a token that starts with a query term,
  // in its title, text, tags or the two fields kb/search_index.py adds, highlights all of them
  // and sends them back; Material then draws ten pages of results at a time. At 500 pages that
  // was half the time from keyup to results (55 of 110 ms, measured in Chromium), and the
  // highlighting was done for hundreds of pages nobody sees. The same match is made here, from
  // an inverted index of the same fields of the copy of the index this script holds for ranking,
  // and only the sections Material draws are highlighted (see `later`). The answer has the
  // worker's shape ({items: one array per page, suggest}) and reaches Material as the worker's
  // message would. Queries in lunr's syntax (+, -, field:, ~, ^, *, quotes) and the unordered
  // benchmark mode still go to the worker, which is then sent Material's index (search-lazy.js);
  // the engine is made from the index split by term (see "the engine from the split index"), and
  // Material is told its worker is ready as soon as the engine is (see `attach`).

  // calls fn(section, weighted count) for every token of the index that starts with `term`
  function eachPosting(term, fn) {
    var list = engine.sections.tokens;
    for (var i = lowerBound(list, term); i < list.length && list[i].lastIndexOf(term, 0) === 0; i++) {
      var p = engine.sections.postings.get(list[i]);
      for (var j = 0; j < p.length; j += 2) fn(p[j], p[j + 1]);
    }
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

  function answerable(rewrite) {
    return !!(engine && rewrite.concept && !window.kbSearchKoPlainRanking &&
      clauses(rewrite.query).length && !/(^|\s)[+-]/.test(rewrite.query));
  }

  /**
   * The worker's answer to a rewritten query, from this script's index: sections that match a
   * query term, grouped by page (each page with its own entry, as the worker sends them),
   * scored by every form of each typed word (its best form counts), highest first.
   */
  function find(rewrite) {
    var terms = clauses(rewrite.query), hits = new Map();
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
    var doc = engine.sections.docs[d];
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
      if (engine && !message.data.trim()) { // an empty box: no results, as the worker answers it
        answeredSeq = mine;
        var none = { type: message.type + 1, data: { items: [] } };
        Promise.resolve().then(function () { show(none); });
        return undefined;
      }
      if (!answerable(result)) {
        if (engine && result.concept) withShards(result, function () {}); // for ranking the worker's answer
        return toWorker(args, result, mine);
      }
      // again: shown again, now that the text of what was drawn has come (see "textOf")
      function answer(again) {
        if (mine !== seq || (again && answeredSeq !== mine)) return; // a later query was sent meanwhile
        var found = find(result), items = rank(found.items, result, true), first = firstEntries(items);
        if (first.length) split.texts.need(first).catch(function () {});
        answeredSeq = mine;
        if (!again) window.kbSearchKo.answered += 1;
        drawn = { missing: [], again: function () { answer(true); } };
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
      if (!missing(engine, rewrite).length) {
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
    expand: expand, // the query's words as meant (hurried queries, issue #29)
    rank: rank,
    teaser: teaser,
    markNames: markNames,
    // whether every shard and text is loaded (asking starts loading them): tests and benchmarks then call find
    ready: function () { var shards = complete(); return shards && indexWords.done; }, // and kb-words.json
    find: function (q) {
      var rewrite = normalize(q);
      return engine && !missing(engine, rewrite).length ? find(rewrite) : null;
    },
    workerQuery: function (q) { return workerQuery(normalize(q)); },
    answered: 0, // queries answered here, not by the worker (for tests)
    split: { // tests/test_search_split.py: the engine from the split index against buildEngine's
      engine: function () { return engine; },
      fresh: function () { return split.base && split.docs ? splitEngine(split.docs, split.base) : null; },
      built: function () { // from the whole index, every field
        return fetchJSON("search/search_index.json").then(function (index) {
          return new Promise(function (resolve) { buildEngine(index, resolve); });
        });
      },
      load: function (e, q) { return Promise.all([fetchShards(e, missing(e, normalize(q))), split.texts.all()]); },
      loadAll: function (e) { return fetchShards(e, e.shards.map(function (_, k) { return k; })); },
      answer: function (e, q) {
        var saved = engine, rewrite = normalize(q);
        engine = e;
        try {
          if (!answerable(rewrite)) return null;
          if (missing(e, rewrite).length) throw new Error("search-ko.js: shards of '" + q + "' not loaded");
          var found = find(rewrite);
          return JSON.parse(JSON.stringify({ items: rank(found.items, rewrite, true), suggest: found.suggest }));
        } finally { engine = saved; }
      }
    },
  };
})();
