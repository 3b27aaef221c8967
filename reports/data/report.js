(function () {
  "use strict";
  // The report's only script. Its SHA-256 is in the page's Content-Security-Policy.
  //
  // The summary is static HTML; this script toggles it with the filters (`hidden`, through
  // `data-*` attributes). Every answer (failing first; passing ones collapsed; identical samples
  // of a case grouped), the case stability tables and the matrix of cases across targets come
  // from one gzip-compressed JSON block, decompressed here with DecompressionStream and rendered
  // a page at a time. Filters run over the data (every answer), not over DOM nodes, and live in
  // the URL's fragment (#status=failed&code=...): restored on load and on back/forward.
  //
  // Every string from the data (model answers, customer messages, policy text) is untrusted: it
  // only ever becomes text (textContent, createTextNode, attribute values), never markup.
  var PAGE_SIZE = 50;
  var STABILITY_ROWS = 500;
  // Printing shows every matching answer up to this many (a page at a time beyond it).
  var PRINT_ALL = 1000;
  var MATRIX_ROWS = 200;
  var SEVERITY_LABEL = { error: "provider error" };

  var panel = document.getElementById("filters");
  if (!panel) { return; }
  var selects = panel.querySelectorAll("select[data-filter]");
  var caseBox = document.getElementById("filter-case");
  var count = document.getElementById("filter-count");
  var list = document.getElementById("failing-list");
  var status = document.getElementById("answers-status");
  var pager = document.getElementById("pager");
  var pageBox = document.getElementById("page-number");
  var pageInfo = document.getElementById("page-info");
  var data = null;
  var matching = [];
  var page = 0;
  var caseIds = {};
  var broken = false;
  var matrixHolder = document.getElementById("matrix-table");
  var matrixLimit = MATRIX_ROWS;
  // the fragment this script wrote last: its hashchange is not a navigation to restore
  var written = null;

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }

  function add(parent, child) { parent.appendChild(child); return child; }

  function wanted() {
    var want = {};
    for (var i = 0; i < selects.length; i++) {
      if (selects[i].value) { want[selects[i].getAttribute("data-filter")] = selects[i].value; }
    }
    return want;
  }

  // --- the static summary: a few elements, shown or hidden ---------------------------------

  function matchesStatic(node, want) {
    for (var key in want) {
      var have = node.getAttribute("data-" + key);
      if (have === null) { continue; }
      if (have.split(" ").indexOf(want[key]) < 0) { return false; }
    }
    return true;
  }

  function applyStatic(want) {
    var items = document.querySelectorAll("[data-filterable]");
    for (var i = 0; i < items.length; i++) {
      if (matchesStatic(items[i], want)) {
        items[i].removeAttribute("hidden");
      } else {
        items[i].setAttribute("hidden", "");
      }
    }
  }

  // --- the failing answers: filtered on the data, rendered a page at a time -----------------

  function hasCode(a, code, src) {
    for (var i = 0; i < a.findings.length; i++) {
      if (src.strings[a.findings[i][1]] === code) { return true; }
    }
    return false;
  }

  function matchesCase(caseId, needle, exact) {
    if (!needle) { return true; }
    if (exact) { return caseId === needle; }
    return caseId.toLowerCase().indexOf(needle.toLowerCase()) >= 0;
  }

  function matchesAnswer(a, want, needle, exact) {
    if (want.status && (want.status === "passed") !== a.passed) { return false; }
    if (want.code && !hasCode(a, want.code, data)) { return false; }
    if (want.target && a.target !== want.target) { return false; }
    if (want.intent && a.intent !== want.intent) { return false; }
    if (want.language && a.language !== want.language) { return false; }
    if (want.severity && a.severities.indexOf(want.severity) < 0) { return false; }
    if (want.decision && a.decision && a.decision !== want.decision) { return false; }
    return matchesCase(a.case, needle, exact);
  }

  function badge(kind, value, label) {
    return el("span", "badge " + kind + "-" + value, label);
  }

  function severityBadge(severity) {
    return badge("s", severity, SEVERITY_LABEL[severity] || severity);
  }

  function finding(raw, src) {
    var text = src.strings;
    return {
      severity: raw[0],
      code: text[raw[1]],
      message: text[raw[2]],
      said: raw[3],
      where: raw[4],
      checked: text[raw[5]],
      source: text[raw[6]],
      note: text[raw[7]]
    };
  }

  function findingLabel(f) {
    return f.severity + " " + f.code + ": " + f.message;
  }

  function conversation(parent, c) {
    if (!c) {
      add(parent, el("p", "muted", "The case is not in the run plan."));
      return;
    }
    var ol = add(parent, el("ol", "conversation"));
    for (var i = 0; i < c.messages.length; i++) {
      var li = add(ol, el("li", "msg"));
      add(li, el("span", "role", c.messages[i][0]));
      li.appendChild(document.createTextNode(c.messages[i][1]));
    }
    if (c.facts.length) {
      var details = add(parent, el("details"));
      add(details, el("summary", null, "case facts"));
      var dl = add(details, el("dl", "meta"));
      for (var j = 0; j < c.facts.length; j++) {
        add(dl, el("dt", null, c.facts[j][0]));
        add(dl, el("dd", null, c.facts[j][1]));
      }
    }
  }

  function answerText(parent, a, anchor, src) {
    var box = add(parent, el("div", "answer"));
    for (var i = 0; i < a.pieces.length; i++) {
      var piece = a.pieces[i];
      if (typeof piece === "string") {
        box.appendChild(document.createTextNode(piece));
        continue;
      }
      var mark = add(box, el("mark", "m-" + piece[1], piece[0]));
      var refs = [];
      var labels = [];
      for (var j = 0; j < piece[2].length; j++) {
        refs.push(anchor + "-f" + piece[2][j]);
        labels.push(findingLabel(finding(a.findings[piece[2][j]], src)));
      }
      mark.setAttribute("data-findings", refs.join(" "));
      mark.title = labels.join("; ");
    }
  }

  function findingItem(f, ref) {
    var li = el("li");
    li.id = ref;
    li.appendChild(severityBadge(f.severity));
    li.appendChild(document.createTextNode(" "));
    add(li, el("code", null, f.code));
    li.appendChild(document.createTextNode(" " + f.message));
    var dl = add(li, el("dl"));
    if (f.said !== null) {
      add(dl, el("dt", null, "said"));
      var said = add(dl, el("dd"));
      add(said, el("q", "said", f.said));
      said.appendChild(document.createTextNode(" "));
      add(said, el("span", "muted", "(" + f.where + ")"));
    }
    if (f.checked) {
      add(dl, el("dt", null, "checked against"));
      add(add(dl, el("dd")), el("blockquote", null, f.checked));
    }
    if (f.source) {
      add(dl, el("dt", null, "source"));
      add(add(dl, el("dd")), el("code", null, f.source));
    }
    if (f.note) {
      add(dl, el("dt", null, "note"));
      add(dl, el("dd", null, f.note));
    }
    if (!(f.checked || f.source || f.note)) {
      add(dl, el("dt", null, "checked against"));
      add(dl, el("dd", "muted", "nothing recorded"));
    }
    return li;
  }

  function article(a, index, src) {
    var anchor = "answer-" + index;
    var c = src.cases[a.case];
    var node = el("article", (a.passed ? "passing" : "failing w-" + a.worst));
    node.id = anchor;
    node.setAttribute("data-case", a.case);
    node.setAttribute("data-target", a.target);
    node.setAttribute("data-status", a.passed ? "passed" : "failed");
    var h3 = add(node, el("h3"));
    h3.appendChild(a.passed ? badge("v", "pass", "passed") : badge("v", "fail", "failed"));
    h3.appendChild(document.createTextNode(" "));
    add(h3, el("code", null, a.case));
    h3.appendChild(document.createTextNode(" "));
    var sub = add(h3, el("span", "muted", "target "));
    add(sub, el("code", null, a.target));
    sub.appendChild(document.createTextNode(
      (a.samples.length > 1 ? ", samples " : ", sample ") + a.samples.join(", ")));
    if (a.samples.length > 1) {
      var times = add(h3, el("span", "times", "×" + a.samples.length));
      times.title = "the same answer in " + a.samples.length + " samples";
    }
    // a passing answer is collapsed: open it to spot-check what passed
    var body = node;
    if (a.passed) {
      body = add(node, el("details", "spot"));
      add(body, el("summary", null, "show the conversation and the answer"));
    }
    var context = add(body, el("p", null, c
      ? [c.intent, c.language, c.kind, c.risk + " risk", c.channel].join(" · ") + " "
      : "unknown case "));
    if (a.decision) {
      context.appendChild(badge("d", a.decision, src.outcomes[a.decision] || a.decision));
    }
    add(body, el("h4", null, "Conversation"));
    conversation(body, c);
    add(body, el("h4", null, "Answer"));
    if (a.error !== null) {
      add(body, el("p", "error",
        "Provider error (after " + a.attempts + " attempts): " + a.error));
    }
    if (a.pieces.length) {
      answerText(body, a, anchor, src);
    } else if (a.error === null) {
      add(body, el("p", "muted", "(empty answer)"));
    }
    add(body, el("p", "muted", a.details));
    if (a.findings.length) {
      add(body, el("h4", null, "Findings"));
      var ol = add(body, el("ol", "findings"));
      for (var i = 0; i < a.findings.length; i++) {
        ol.appendChild(findingItem(finding(a.findings[i], src), anchor + "-f" + i));
      }
    }
    return node;
  }

  function pages() { return Math.max(1, Math.ceil(matching.length / PAGE_SIZE)); }

  function renderPage(all) {
    page = Math.min(Math.max(page, 0), pages() - 1);
    var first = all ? 0 : page * PAGE_SIZE;
    var last = all ? matching.length : Math.min(first + PAGE_SIZE, matching.length);
    var frag = document.createDocumentFragment();
    for (var i = first; i < last; i++) {
      frag.appendChild(article(data.answers[matching[i]], matching[i], data));
    }
    list.replaceChildren(frag);
    pageBox.value = String(page + 1);
    pageBox.max = String(pages());
    pageInfo.textContent = !matching.length ? "no answer matches the filters"
      : all ? "all " + matching.length + " matching answers"
        : "answers " + (first + 1) + "-" + last + " of " + matching.length + ", page " +
          (page + 1) + " of " + pages();
    pager.removeAttribute("hidden");
  }

  function apply(matrixLater) {
    var want = wanted();
    applyStatic(want);
    if (!data) { return; }
    var needle = caseBox.value.trim();
    var exact = Object.prototype.hasOwnProperty.call(caseIds, needle);
    matching = [];
    var shown = 0;
    var failing = 0;
    var total = 0;
    for (var i = 0; i < data.answers.length; i++) {
      var a = data.answers[i];
      total += a.samples.length;
      if (matchesAnswer(a, want, needle, exact)) {
        matching.push(i);
        shown += a.samples.length;
        if (!a.passed) { failing += a.samples.length; }
      }
    }
    count.textContent = shown + " of " + total + " answers match (" + failing + " failing)";
    page = 0;
    renderPage();
    if (!matrixLater) { refreshMatrix(); }
  }

  function refreshMatrix() {
    var needle = caseBox.value.trim();
    matrixLimit = MATRIX_ROWS;
    renderMatrix(wanted(), needle, Object.prototype.hasOwnProperty.call(caseIds, needle));
  }

  // the sticky filter bar's height, so that scrolling to an answer leaves it below the bar
  function measureBar() {
    var sticky = window.getComputedStyle(panel).position === "sticky";
    document.documentElement.style.setProperty(
      "--bar", (sticky ? panel.offsetHeight : 0) + "px");
  }

  // bring the first matching answer into view (below the bar) when it is above it
  function reveal(always) {
    measureBar();
    if (always || list.getBoundingClientRect().top < panel.getBoundingClientRect().bottom) {
      list.scrollIntoView();
    }
  }

  function gotoPage(n) {
    page = n;
    renderPage();
    reveal(true);
  }

  // --- the filters in the URL's fragment -----------------------------------------------------

  function fragment() {
    var params = new URLSearchParams();
    for (var i = 0; i < selects.length; i++) {
      if (selects[i].value) { params.set(selects[i].getAttribute("data-filter"), selects[i].value); }
    }
    if (caseBox.value.trim()) { params.set("case", caseBox.value.trim()); }
    return params.toString();
  }

  function current() { return window.location.hash.replace(/^#/, ""); }

  // a fragment without "=" is an anchor (#matrix), not filters: it leaves them as they are
  function readFragment() {
    var text = current();
    if (text && text.indexOf("=") < 0) { return false; }
    var params = new URLSearchParams(text);
    for (var i = 0; i < selects.length; i++) {
      var value = params.get(selects[i].getAttribute("data-filter")) || "";
      selects[i].value = value;
      if (selects[i].value !== value) { selects[i].value = ""; }  // not an option here
    }
    caseBox.value = params.get("case") || "";
    return true;
  }

  // a new history entry per filter change (back undoes it); typing replaces the entry
  function saveFragment(replace) {
    var next = fragment();
    if (next === current()) { return; }
    written = next;
    if (replace) {
      window.location.replace("#" + next);
    } else {
      window.location.hash = next;
    }
  }

  function changed(replace) {
    apply();
    saveFragment(replace);
    if (data) { reveal(false); }
  }

  function gotoCase(target, caseId) {
    for (var i = 0; i < selects.length; i++) {
      selects[i].value = selects[i].getAttribute("data-filter") === "target" ? target : "";
    }
    caseBox.value = caseId;
    apply();
    saveFragment(false);
    reveal(true);
  }

  // --- the matrix: each case across the targets ----------------------------------------------

  function cellState(cell) {
    if (cell[0] === cell[1]) { return "pass"; }
    return cell[0] === 0 ? "fail" : "mixed";
  }

  function matrixRowMatches(row, want, needle, exact) {
    if (want.intent && row[1] !== want.intent) { return false; }
    if (want.language && row[2] !== want.language) { return false; }
    if (want.status) {
      var any = false;
      for (var i = 0; i < row[3].length; i++) {
        var cell = row[3][i];
        if (!cell) { continue; }
        if (want.status === "failed" ? cell[0] < cell[1] : cell[0] > 0) { any = true; }
      }
      if (!any) { return false; }
    }
    return matchesCase(row[0], needle, exact);
  }

  function renderMatrix(want, needle, exact) {
    if (!matrixHolder || !data || !data.matrix.targets.length) { return; }
    var targets = data.matrix.targets;
    var rows = [];
    for (var r = 0; r < data.matrix.rows.length; r++) {
      if (matrixRowMatches(data.matrix.rows[r], want, needle, exact)) {
        rows.push(data.matrix.rows[r]);
      }
    }
    var table = el("table", "matrix");
    var head = add(table, el("tr"));
    var names = ["case", "intent", "language"].concat(targets);
    for (var h = 0; h < names.length; h++) {
      var th = add(head, el("th", h > 2 ? "target" : null, names[h]));
      if (h > 2) { th.setAttribute("data-target", names[h]); }
    }
    var limit = Math.min(rows.length, matrixLimit);
    for (var i = 0; i < limit; i++) {
      var row = rows[i];
      var tr = add(table, el("tr"));
      tr.setAttribute("data-case", row[0]);
      add(add(tr, el("td")), el("code", null, row[0]));
      add(tr, el("td", null, row[1]));
      add(tr, el("td", null, row[2]));
      for (var t = 0; t < targets.length; t++) {
        var cell = row[3][t];
        var td = add(tr, el("td", "num"));
        td.setAttribute("data-target", targets[t]);
        if (!cell) {
          td.appendChild(el("span", "muted", "not run"));
          continue;
        }
        var state = cellState(cell);
        var button = add(td, el("button", "cell c-" + state,
          cell[0] + "/" + cell[1] + (cell[2] ? " (" + cell[2] + " errors)" : "")));
        button.type = "button";
        button.setAttribute("data-goto-target", targets[t]);
        button.setAttribute("data-goto-case", row[0]);
        button.title = "target " + targets[t] + ", case " + row[0] + ": " + cell[0] + " of " +
          cell[1] + " samples passed; show these answers";
      }
    }
    var parts = [table];
    var note = el("p", "muted", rows.length === data.matrix.rows.length
      ? rows.length + " cases"
      : rows.length + " of " + data.matrix.rows.length + " cases match the filters");
    parts.unshift(note);
    if (limit < rows.length) {
      var more = el("button", null, "show " + Math.min(MATRIX_ROWS, rows.length - limit) +
        " more of " + (rows.length - limit));
      more.type = "button";
      more.addEventListener("click", function () {
        var needle = caseBox.value.trim();
        matrixLimit += MATRIX_ROWS;
        renderMatrix(wanted(), needle, Object.prototype.hasOwnProperty.call(caseIds, needle));
      });
      parts.push(more);
    }
    matrixHolder.replaceChildren.apply(matrixHolder, parts);
  }

  // --- case stability tables, rendered when their section is opened ------------------------

  function stabilityTable(holder) {
    if (!data || holder.getAttribute("data-rendered")) { return; }
    holder.setAttribute("data-rendered", "");
    var group = data.stability[Number(holder.getAttribute("data-stability"))];
    var rows = group.rows;
    var limit = holder.hasAttribute("data-all") ? rows.length : Math.min(rows.length, STABILITY_ROWS);
    var table = el("table");
    var head = add(table, el("tr"));
    var names = ["case", "language", "passed", "errors", "stability"];
    for (var h = 0; h < names.length; h++) { add(head, el("th", null, names[h])); }
    for (var i = 0; i < limit; i++) {
      var r = rows[i];
      var tr = add(table, el("tr"));
      tr.setAttribute("data-filterable", "");
      tr.setAttribute("data-language", r[1]);
      var cell = add(tr, el("td"));
      if (r[6]) {
        var link = add(cell, el("a"));
        link.href = "#failing";
        link.setAttribute("data-goto-target", group.target);
        link.setAttribute("data-goto-case", r[0]);
        add(link, el("code", null, r[0]));
      } else {
        add(cell, el("code", null, r[0]));
      }
      add(tr, el("td", null, r[1]));
      add(tr, el("td", "num", r[2] + "/" + r[3]));
      add(tr, el("td", "num", r[4]));
      add(tr, el("td", null, r[5]));
    }
    holder.replaceChildren(table);
    if (limit < rows.length) {
      var more = add(holder, el("button", null, "show all " + rows.length + " cases"));
      more.type = "button";
      more.addEventListener("click", function () {
        holder.setAttribute("data-all", "");
        holder.removeAttribute("data-rendered");
        stabilityTable(holder);
      });
    }
    applyStatic(wanted());
  }

  function openStability(details) {
    var holder = details.querySelector("[data-stability]");
    if (holder && details.open) { stabilityTable(holder); }
  }

  // --- wiring --------------------------------------------------------------------------------

  for (var i = 0; i < selects.length; i++) {
    selects[i].addEventListener("change", function () { changed(false); });
  }
  caseBox.addEventListener("input", function () { changed(true); });
  document.getElementById("filter-reset").addEventListener("click", function () {
    for (var i = 0; i < selects.length; i++) { selects[i].value = ""; }
    caseBox.value = "";
    changed(false);
  });
  window.addEventListener("hashchange", function () {
    if (written !== null && current() === written) { written = null; return; }
    written = null;
    if (readFragment()) {
      apply();
      if (data) { reveal(true); }
    }
  });
  window.addEventListener("resize", measureBar);
  document.getElementById("page-first").addEventListener("click", function () { gotoPage(0); });
  document.getElementById("page-prev").addEventListener("click", function () {
    gotoPage(page - 1);
  });
  document.getElementById("page-next").addEventListener("click", function () {
    gotoPage(page + 1);
  });
  document.getElementById("page-last").addEventListener("click", function () {
    gotoPage(pages() - 1);
  });
  pageBox.addEventListener("change", function () {
    var n = parseInt(pageBox.value, 10);
    if (!isNaN(n)) { gotoPage(n - 1); }
  });
  document.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest("[data-goto-case]") : null;
    if (!link) { return; }
    event.preventDefault();
    gotoCase(link.getAttribute("data-goto-target"), link.getAttribute("data-goto-case"));
  });
  var sections = document.querySelectorAll("details[data-stability-section]");
  for (var s = 0; s < sections.length; s++) {
    sections[s].addEventListener("toggle", function (event) { openStability(event.target); });
  }
  window.addEventListener("beforeprint", function () {
    var closed = document.querySelectorAll("details:not([open])");
    for (var i = 0; i < closed.length; i++) { closed[i].setAttribute("open", ""); }
    for (var j = 0; j < sections.length; j++) { openStability(sections[j]); }
    if (data && matching.length <= PRINT_ALL) { renderPage(true); }
  });
  window.addEventListener("afterprint", function () {
    if (data) { renderPage(false); }
  });
  var filtered = readFragment() && current() !== "";
  panel.removeAttribute("hidden");
  measureBar();
  applyStatic(wanted());

  function failed(message) {
    broken = true;
    status.textContent = message;
    count.textContent = "";
    list.replaceChildren();
  }

  // the data leaves out fields at their usual value (most answers pass, with no finding)
  function complete(src) {
    for (var i = 0; i < src.answers.length; i++) {
      var a = src.answers[i];
      if (a.findings === undefined) { a.findings = []; }
      if (a.severities === undefined) { a.severities = []; }
      if (a.error === undefined) { a.error = null; }
      if (a.decision === undefined) { a.decision = null; }
      if (a.attempts === undefined) { a.attempts = 1; }
      if (a.details === undefined) { a.details = ""; }
      if (a.worst === undefined) { a.worst = "minor"; }
    }
    return src;
  }

  function loaded(text) {
    data = complete(JSON.parse(text));
    for (var id in data.cases) { caseIds[id] = true; }
    for (var i = 0; i < data.answers.length; i++) { caseIds[data.answers[i].case] = true; }
    status.textContent = "";
    for (var s = 0; s < sections.length; s++) { openStability(sections[s]); }
    apply(true);
    if (filtered) { reveal(true); }  // a link to a filtered view opens on its answers
    list.removeAttribute("data-preview");
    list.setAttribute("data-ready", "");
    if (window.performance && performance.mark) { performance.mark("supportgate-answers-ready"); }
    // the matrix right after: the answers (what a reader came for) are on screen first
    window.setTimeout(function () {
      refreshMatrix();
      if (matrixHolder) { matrixHolder.setAttribute("data-ready", ""); }
    }, 0);
  }

  function decode(block) {
    var binary = atob(block.textContent.trim());
    var bytes = new Uint8Array(binary.length);
    for (var b = 0; b < binary.length; b++) { bytes[b] = binary.charCodeAt(b); }
    var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
    return new Response(stream).text();
  }

  // The first page alone, on screen while every answer is decoded (a few seconds at 50,000).
  function preview(text) {
    if (data || broken) { return; }
    var head = complete(JSON.parse(text));
    var frag = document.createDocumentFragment();
    for (var i = 0; i < head.answers.length; i++) {
      frag.appendChild(article(head.answers[i], i, head));
    }
    list.replaceChildren(frag);
    list.setAttribute("data-preview", "");
    if (window.performance && performance.mark) { performance.mark("supportgate-first-answers"); }
  }

  var block = document.getElementById("answers-data");
  var first = document.getElementById("answers-first");
  if (!block) { return; }
  if (typeof DecompressionStream === "undefined") {
    failed("This browser cannot decompress the answers (it lacks " +
      "DecompressionStream): open the report in a current browser, or read report.md.");
    return;
  }
  count.textContent = "loading the answers…";
  try {
    // a damaged first page is no loss: every answer follows
    if (first) { decode(first).then(preview).catch(function () { return null; }); }
  } catch (ignored) { /* as above */ }
  try {
    decode(block).then(loaded).catch(function (error) {
      failed("The answers could not be read: " + error);
    });
  } catch (error) {
    failed("The answers could not be read: " + error);
  }
})();
