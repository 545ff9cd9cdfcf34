/*
 * The text of the search entries, fetched in chunks (kb/search_docs.py): what search-ko.js needs
 * to draw a result's teaser, and nothing else needs.
 *
 * search-ko.js finds (search-ko-find.js) and ranks (search-ko-rank.js) the results from the index
 * split by term and the entries' locations and titles (search/kb/docs.json). The text, nine tenths of what results show (7.5 MB
 * at 520 pages), is written apart in chunks of TEXT_ENTRIES consecutive entries
 * (search/kb/text/<k>.json: {first, text: [...]}). search-ko.js asks for the chunks of the
 * sections Material draws first (`need`), shows the answer when they are here, then has the rest
 * fetched in the background (`all`, a few at a time: a chunk a later query needs goes ahead of
 * them). An entry's text is set on its entry object (`doc.text`) when its chunk arrives; an entry
 * without a `text` key has none yet (`has`).
 *
 * window.kbSearchKoText.create(fetchJSON, folder, docs) makes the store of one list of entries
 * (search-ko-engine.js calls it). This file must load before search-ko-engine.js (overrides/main.html
 * does that).
 */
(function () {
  "use strict";

  var TEXT_ENTRIES = 32; // kb/search_docs.py TEXT_ENTRIES
  var AT_ONCE = 4; // chunks fetched at a time in the background

  function create(fetchJSON, folder, docs) {
    var chunks = Math.ceil(docs.length / TEXT_ENTRIES);
    var fetching = []; // chunk -> promise of its arrival
    var queue = null, active = 0, every = null;

    function has(d) {
      return !!docs[d] && "text" in docs[d];
    }

    function complete(k) {
      for (var d = k * TEXT_ENTRIES; d < Math.min(docs.length, (k + 1) * TEXT_ENTRIES); d++)
        if (!has(d)) return false;
      return true;
    }

    function chunk(k) {
      if (fetching[k]) return fetching[k];
      if (complete(k)) return (fetching[k] = Promise.resolve());
      fetching[k] = fetchJSON(folder + k + ".json").then(function (got) {
        var first = k * TEXT_ENTRIES;
        if (!got || got.first !== first || !Array.isArray(got.text))
          throw new Error(folder + k + ".json: not the chunk of entry " + first);
        got.text.forEach(function (text, i) {
          if (first + i < docs.length && !has(first + i)) docs[first + i].text = text;
        });
      });
      fetching[k].catch(function () { fetching[k] = null; }); // asked again, fetched again
      return fetching[k];
    }

    function chunksOf(entries) {
      var out = [];
      entries.forEach(function (d) {
        var k = Math.floor(d / TEXT_ENTRIES);
        if (!has(d) && out.indexOf(k) < 0) out.push(k);
      });
      return out;
    }

    // the text of these entries (numbers in docs); fails if a chunk cannot be had
    function need(entries) {
      return Promise.all(chunksOf(entries).map(chunk)).then(function () {});
    }

    // every chunk, AT_ONCE at a time; resolves when all have arrived (or failed: then it may be asked again)
    function all() {
      if (every) return every;
      queue = [];
      for (var k = 0; k < chunks; k++) if (!complete(k)) queue.push(k);
      var settled = [];
      every = new Promise(function (resolve) {
        function next() {
          while (active < AT_ONCE && queue.length) {
            var k = queue.shift();
            active += 1;
            settled.push(chunk(k).then(done, done));
          }
          if (!active && !queue.length) {
            Promise.all(settled).then(function () {
              var left = 0;
              for (var k = 0; k < chunks; k++) if (!complete(k)) left += 1;
              if (left) every = null;
              resolve(left === 0);
            });
          }
        }
        function done() { active -= 1; next(); }
        next();
      });
      return every;
    }

    // the text of entries from Material's index (every field), where its entries are these
    function fill(full) {
      if (!Array.isArray(full) || full.length !== docs.length) return;
      if (docs.some(function (doc, d) { return !full[d] || full[d].location !== doc.location; })) return;
      docs.forEach(function (doc, d) { if (!has(d) && "text" in full[d]) doc.text = full[d].text; });
    }

    return {
      has: has, need: need, all: all, fill: fill,
      done: function () { // whether every entry has its text
        for (var d = 0; d < docs.length; d++) if (!has(d)) return false;
        return true;
      }
    };
  }

  window.kbSearchKoText = { create: create, TEXT_ENTRIES: TEXT_ENTRIES };
})();
