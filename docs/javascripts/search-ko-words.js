/*
 * The query side's vocabulary, and each query read as meant when typed in a hurry (issue #29):
 * `expand` splits unspaced Korean, reads other spellings of names and corrects one wrong Korean
 * letter (see "hurried queries"; the pieces are in search-ko-query.js). search-ko-rewrite.js then
 * rewrites the words it gives.
 *
 * The vocabulary (known words, compounds, synonyms) comes from kb/search_words.py through
 * javascripts/search-ko-data.js, and the index side (the "morph" and "syn" fields of
 * search_index.json) is written by the same module; the index's own words and the names as members
 * spell them come from search/kb-words.json (kb/search_variants.py), fetched when the search box is
 * first used (loadWords, which search-ko.js calls).
 *
 * Loads after search-ko-data.js and search-ko-query.js (overrides/main.html); defines only
 * window.kbSearchKoWords, for the files after it.
 */
(function () {
  "use strict";

  var data = window.kbSearchKoData || { words: [], compounds: {}, synonyms: [] };
  var HANGUL = /[\uac00-\ud7a3]/;
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

  // ---- hurried queries (issue #29) ----------------------------------------------------
  //
  // Before its words are rewritten (search-ko-rewrite.js), the query is split as a member meant
  // it: a Hangul run typed without spaces (드롭아웃과배치정규화) into the words the index knows, with
  // particles and endings between them; Latin and Hangul glued together (kfold하고나서, bn을) apart;
  // a letter typed apart from its name (k fold) joined; a name spelled in Hangul (에이다그래드, 엔엘피)
  // read as the Latin name the pages write; a word one Korean letter off the index's words (모맨텀)
  // corrected. Words the index knows as typed are left alone, so careful queries read as before.
  // The pieces are in search-ko-query.js; "knows" is: a word of the query vocabulary, or the start
  // of a word of the index (search/kb-words.json, kb/search_variants.py: the index's words, fetched
  // when the search box is first used; the search matches words by their start).

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

  window.kbSearchKoWords = {
    data: data, HANGUL: HANGUL, SEPARATOR: SEPARATOR, FILLERS: FILLERS,
    words: words, compounds: compounds, groups: groups, synonymOf: synonymOf, key: key,
    stripSuffix: stripSuffix, splitKnown: splitKnown, expand: expand,
    loadWords: loadWords,
    loaded: function () { return indexWords.done; } // kb-words.json fetched, or failed
  };
})();
