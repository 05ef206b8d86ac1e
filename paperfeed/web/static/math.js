/* Typeset the LaTeX in elements marked data-math (a paper's title and abstract) with the
   vendored KaTeX; paper.html loads this after katex.min.js and auto-render.min.js.

   Paper text is hostile. It reaches the page HTML-escaped, and this file only reads text nodes
   and lets KaTeX build DOM nodes: it never turns text into HTML. KaTeX runs in its safe mode:
   trust off (so no \href, \url, \includegraphics or \html... commands), no macro definitions,
   sizes and expansion bounded, and a formula that fails left as its source. Without
   JavaScript, or if anything here fails, the raw LaTeX stays as it was. */
(function () {
  "use strict";

  // An arXiv abstract is at most 1,920 characters; anything much longer is left as text, which
  // bounds the work one page can ask of KaTeX.
  const MAX_CHARS = 5000;
  // KaTeX adds a few elements per level of nesting, and Chromium's layout crashes the tab a
  // thousand or so levels down (\sqrt{\sqrt{...}} 200 deep is enough). Real formulas stay
  // under 50.
  const MAX_DEPTH = 200;
  const KATEX_OPTIONS = {
    trust: false,
    strict: "ignore",
    // A formula KaTeX cannot parse stays as its source text. (With throwOnError false it
    // would show in red, set by a style attribute that the policy blocks and reports.)
    throwOnError: true,
    maxSize: 10, // em, for \rule, \kern and friends
    maxExpand: 1000, // built-in macros only: see DEFINERS
  };
  const DELIMITERS = [
    { left: "$$", right: "$$", display: true },
    { left: "\\[", right: "\\]", display: true },
    { left: "\\(", right: "\\)", display: false },
    { left: "$", right: "$", display: false }, // after "$$", so "$$" is never two "$"
  ];

  // Paper text defines no macros: within maxExpand, a few nested definitions in a formula of
  // a few hundred characters still expand to millions of symbols and hang the page. Each
  // definer fails as a parse error instead, so the formula stays as its source text.
  const DEFINERS = ["\\def", "\\gdef", "\\edef", "\\xdef", "\\let", "\\futurelet",
    "\\newcommand", "\\renewcommand", "\\providecommand"];
  function refuseDefinition() {
    throw new window.katex.ParseError("macro definitions are off");
  }
  function katexOptions() {
    const macros = {};
    DEFINERS.forEach(function (name) {
      macros[name] = refuseDefinition;
    });
    return Object.assign({}, KATEX_OPTIONS, { macros: macros });
  }

  function isDeeperThan(node, levels) {
    if (levels < 0) return true;
    for (let child = node.firstElementChild; child; child = child.nextElementSibling) {
      if (isDeeperThan(child, levels - 1)) return true;
    }
    return false;
  }

  // auto-render's hook before each formula: typeset it off the page first, and refuse it (as
  // a parse error, so it stays as text) if it nests too deep to lay out.
  function refuseDeepFormula(math) {
    const trial = document.createElement("span");
    window.katex.render(math, trial, katexOptions());
    if (isDeeperThan(trial, MAX_DEPTH)) {
      throw new window.katex.ParseError("formula nested too deeply");
    }
    return math;
  }

  // Whether the "$" at i can open or close inline math. As in Pandoc, an opening "$" comes
  // before a non-space and a closing one after a non-space and not before a digit, so prices
  // ("from $5 to $10") stay text.
  function canOpen(text, i) {
    return i + 1 < text.length && !/\s/.test(text[i + 1]);
  }
  function canClose(text, i) {
    return !/\s/.test(text[i - 1]) && !/[0-9]/.test(text[i + 1] || "");
  }

  // The positions of the "$" (or the "\" of "\$") that are plain text, scanning as
  // auto-render does, so that everything else pairs up the same way it will.
  function findLiteralDollars(text) {
    const literal = [];
    let open = -1; // where the "$" that opened the math being read is
    let depth = 0;
    let i = 0;
    while (i < text.length || open >= 0) {
      if (i >= text.length) {
        // nothing ends the math that "$" opened, so it was text: read on from just after it
        literal.push(open);
        i = open + 1;
        open = -1;
        continue;
      }
      const c = text[i];
      const next = text[i + 1];
      if (open >= 0) {
        // inside $...$: look for its end the way auto-render does
        if (c === "\\") i++;
        else if (c === "{") depth++;
        else if (c === "}") depth--;
        else if (c === "$" && depth <= 0) {
          if (!canClose(text, i)) {
            literal.push(open);
            i = open;
          }
          open = -1;
        }
      } else if (c === "\\" && next === "$") {
        literal.push(i++);
      } else if (c === "\\" && (next === "(" || next === "[")) {
        const end = text.indexOf(next === "(" ? "\\)" : "\\]", i + 2);
        if (end < 0) break; // auto-render stops at an unclosed delimiter too
        i = end + 1;
      } else if (c === "\\") {
        i++;
      } else if (c === "$" && next === "$") {
        const end = text.indexOf("$$", i + 2);
        if (end < 0) break;
        i = end + 1;
      } else if (c === "$") {
        if (canOpen(text, i)) {
          open = i;
          depth = 0;
        } else {
          literal.push(i);
        }
      }
      i++;
    }
    return literal.sort((a, b) => a - b);
  }

  // Put each literal "$" in a span of its own: auto-render neither pairs it nor joins the text
  // on either side of it. "\$" shows as "$", as LaTeX prints it.
  function isolateLiteralDollars(node) {
    const text = node.nodeValue;
    const literal = findLiteralDollars(text);
    for (let k = literal.length - 1; k >= 0; k--) {
      const at = literal[k];
      const rest = node.splitText(at);
      rest.nodeValue = rest.nodeValue.slice(text[at] === "\\" ? 2 : 1);
      const dollar = document.createElement("span");
      dollar.textContent = "$";
      rest.parentNode.insertBefore(dollar, rest);
    }
  }

  function typeset(element) {
    if (element.textContent.length > MAX_CHARS) return;
    element.normalize();
    const walker = document.createTreeWalker(element, NodeFilter.SHOW_TEXT);
    const nodes = [];
    while (walker.nextNode()) nodes.push(walker.currentNode);
    nodes.forEach(isolateLiteralDollars);
    window.renderMathInElement(
      element,
      Object.assign(katexOptions(), {
        delimiters: DELIMITERS,
        preProcess: refuseDeepFormula,
        errorCallback: function () {}, // the console is no place for paper text
      })
    );
  }

  if (!window.katex || !window.renderMathInElement) return;
  document.querySelectorAll("[data-math]").forEach(function (element) {
    try {
      typeset(element);
    } catch (error) {
      // leave this element's text as it is
    }
  });
})();
