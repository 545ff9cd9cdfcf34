/*
 * Hurried Korean queries (issue #29): the pieces search-ko-words.js uses to read a query typed without
 * spaces, with another spelling of a name, or with one wrong key. Pure functions, no state:
 *
 * - segment(run, look): a run of Hangul typed without spaces ("아다그라드학습률왜작아져요") split
 *   into the longest pieces the vocabulary knows (look.known: a word of the index, or a prefix of
 *   one, as the search matches words), particles and endings between them (look.particle), names
 *   spelled in Hangul (look.sound: 에이다그래드 -> adagrad, 엔엘피 -> nlp), and what is left over;
 * - letters(run): Latin letters spelled by their Korean names (엔엘피 -> nlp; 비 and 지 are read
 *   both ways: b/v, g/z);
 * - skeleton(word): the consonants of a Hangul spelling, in the classes kb/search_variants.py
 *   gives a Latin word (붓스트랩 and 부트스트랩 -> PTSTLP), so that the vowels, which members
 *   spell as they hear them (아다그라드, 에이다그래드), do not matter;
 * - jamo(word), jamoDistance(a, b, max): Korean letters (initial, vowel, final of each syllable)
 *   and the edit distance over them: 모맨텀 is one letter from 모멘텀, two syllables apart;
 * - closest(word, candidates): the candidates one Korean letter away, best first.
 *
 * The build side (kb/search_variants.py) writes the skeletons of the glossary's Latin names into
 * javascripts/search-ko-data.js; skeleton() here and there must agree (tests/test_search_hurried.py).
 */
(function () {
  "use strict";

  var FIRST = 0xac00, LAST = 0xd7a3;
  // consonant classes of the initial (19) and final (28, none first) letters of a syllable:
  // tense and aspirated fold into plain (ㄲ ㅋ -> K), a silent ㅇ is dropped, a final ㅇ is "ng" (G),
  // and a final ㅅ ㄷ ㅈ ㅊ ㅌ is the t of a loanword (붓 = boot)
  var INITIAL = ["K", "K", "N", "T", "T", "L", "M", "P", "P", "S", "S", "", "C", "C", "C", "K", "T", "P", "H"];
  var FINAL = ["", "K", "K", "K", "N", "N", "N", "T", "L", "L", "L", "L", "L", "L", "L", "L", "M", "P", "P",
               "T", "T", "G", "T", "T", "K", "T", "P", "T"];

  function isSyllable(code) { return code >= FIRST && code <= LAST; }

  /** The Korean letters of `word`, as numbers: initial 0-18, vowel 19-39, final 40-67; others as code + 100. */
  function jamo(word) {
    var out = [];
    for (var i = 0; i < word.length; i++) {
      var code = word.charCodeAt(i);
      if (!isSyllable(code)) { out.push(code + 100); continue; }
      var c = code - FIRST, fin = c % 28;
      out.push((c / 588) | 0, 19 + (((c % 588) / 28) | 0));
      if (fin) out.push(39 + fin);
    }
    return out;
  }

  /** Edit distance of two letter lists, or max + 1 once it is known to be more than `max`. */
  function jamoDistance(a, b, max) {
    if (Math.abs(a.length - b.length) > max) return max + 1;
    var prev = [], cur = [];
    for (var j = 0; j <= b.length; j++) prev[j] = j;
    for (var i = 1; i <= a.length; i++) {
      cur = [i];
      var low = i;
      for (j = 1; j <= b.length; j++) {
        cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
        if (cur[j] < low) low = cur[j];
      }
      if (low > max) return max + 1;
      prev = cur;
    }
    return prev[b.length];
  }

  /** The consonant classes of a Hangul word, repeats collapsed (모멘텀 -> MNTM); "" if not all Hangul. */
  function skeleton(word) {
    var out = "";
    for (var i = 0; i < word.length; i++) {
      var code = word.charCodeAt(i);
      if (!isSyllable(code)) return "";
      var c = code - FIRST, parts = [INITIAL[(c / 588) | 0], FINAL[c % 28]];
      parts.forEach(function (k) { if (k && out[out.length - 1] !== k) out += k; });
    }
    return out;
  }

  // Korean names of the Latin letters; 비 and 지 stand for two letters each, in that order
  var LETTERS = [
    ["더블유", "w"], ["에이치", "h"], ["에이", "a"], ["에프", "f"], ["에스", "s"], ["엑스", "x"], ["제이", "j"],
    ["케이", "k"], ["브이", "v"], ["와이", "y"], ["아이", "i"], ["제트", "z"], ["엘", "l"], ["엠", "m"],
    ["엔", "n"], ["알", "r"], ["씨", "c"], ["시", "c"], ["디", "d"], ["티", "t"], ["피", "p"], ["큐", "q"],
    ["유", "u"], ["오", "o"], ["이", "e"], ["비", "bv"], ["지", "gz"]
  ];

  /** The Latin readings of a run of letter names (브이지지 -> vgg, vgz, ...: at most 8), or []. */
  function letters(run) {
    var out = [""];
    for (var at = 0; at < run.length;) {
      var hit = null;
      for (var i = 0; i < LETTERS.length && !hit; i++)
        if (run.lastIndexOf(LETTERS[i][0], at) === at) hit = LETTERS[i];
      if (!hit) return [];
      var next = [];
      out.forEach(function (s) { hit[1].split("").forEach(function (ch) { next.push(s + ch); }); });
      out = next.slice(0, 8);
      at += hit[0].length;
    }
    return run.length >= 2 ? out : [];
  }

  /**
   * The candidates one Korean letter from `word` (same number of syllables), best first: those
   * `preferred` says are domain words, then in the order given. `candidates`: array of words.
   */
  var decomposed = new WeakMap(); // candidates -> their letters, made once per list

  function closest(word, candidates, preferred) {
    var letters0 = jamo(word), found = [], letters = decomposed.get(candidates);
    if (!letters) decomposed.set(candidates, letters = candidates.map(jamo));
    candidates.forEach(function (c, i) {
      if (c.length === word.length && c !== word && jamoDistance(letters0, letters[i], 1) === 1) found.push(c);
    });
    return found.sort(function (a, b) { return (preferred(b) ? 1 : 0) - (preferred(a) ? 1 : 0); });
  }

  var MAX_PIECE = 12; // syllables

  /**
   * Split a run of Hangul into pieces {text, kind}: kind "known" (look.known), "particle"
   * (look.particle), "sound" (look.sound(text) gives the Latin names it spells) or "unknown"
   * (a run of syllables nothing else covers). Fewest unknown syllables first, then fewest pieces;
   * a known or spelled piece is two syllables or more.
   */
  function segment(run, look) {
    var n = run.length, best = [{ unknown: 0, pieces: 0 }];
    for (var i = 0; i < n; i++) {
      if (!best[i]) continue;
      for (var j = i + 1; j <= Math.min(n, i + MAX_PIECE); j++) {
        var text = run.slice(i, j), kind = "unknown", names = null;
        if (look.particle(text)) kind = "particle";
        else if (j - i >= 2 && look.known(text)) kind = "known";
        else if (j - i >= 2 && (names = look.sound(text)) && names.length) kind = "sound";
        var unknown = best[i].unknown + (kind === "unknown" ? j - i : 0), pieces = best[i].pieces + 1;
        var old = best[j];
        if (!old || unknown < old.unknown || (unknown === old.unknown && pieces < old.pieces))
          best[j] = { unknown: unknown, pieces: pieces, from: i, kind: kind, names: names };
      }
    }
    var out = [];
    for (var at = n; at > 0; at = best[at].from)
      out.unshift({ text: run.slice(best[at].from, at), kind: best[at].kind, names: best[at].names });
    // neighbouring unknown pieces are one unknown word (모맨텀, not 모 + 맨텀)
    return out.reduce(function (acc, p) {
      var last = acc[acc.length - 1];
      if (last && last.kind === "unknown" && p.kind === "unknown") last.text += p.text;
      else acc.push(p);
      return acc;
    }, []);
  }

  window.kbSearchKoQuery = {
    jamo: jamo, jamoDistance: jamoDistance, skeleton: skeleton, letters: letters,
    closest: closest, segment: segment
  };
})();
